// Invariant for the CoAP endpoint fed an arbitrary datagram stream, shared
// by the fuzz target `coap_endpoint` and the stable corpus replay test.
//
// The input is a sequence of records: one control byte (bits 0-1: what to
// do; bits 2-7: time to advance, in 100 ms units) followed, for a datagram,
// by a length byte and that many bytes. Whatever arrives, the endpoint never
// panics, every transmitted datagram is a well-formed message within the
// size limit, the number queued after one input is bounded, and the
// observation count stays within its limit.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::coap::endpoint::Received;
    use lwm2m_core::coap::{Code, Endpoint, Limits, Message, TransmissionParams};
    use lwm2m_core::time::{Duration, Instant};

    let mut limits = Limits::default();
    limits.dedup_entries = 4;
    limits.pending = 2;
    limits.observations = 2;
    limits.block1_max_body = 256;
    limits.block1_transfers = 1;
    limits.snapshots = 1;
    limits.snapshot_bytes = 512;
    limits.max_message_size = 256;
    let max_msg = limits.max_message_size;
    let queue_bound = limits.dedup_entries + limits.pending + 4;
    let mut ep = Endpoint::new(TransmissionParams::default(), limits, 0x5eed);
    let mut now = Instant::from_secs(1);
    let mut rest = data;
    let mut buf = [0u8; 1500];
    while let Some((&ctl, tail)) = rest.split_first() {
        rest = tail;
        now += Duration::from_millis(100 * u64::from(ctl >> 2));
        match ctl & 3 {
            0 | 1 => {
                let Some((&len, tail)) = rest.split_first() else {
                    break;
                };
                let len = usize::from(len).min(tail.len());
                let (dgram, tail) = tail.split_at(len);
                rest = tail;
                if let Received::Request(req) = ep.handle_datagram(now, dgram) {
                    let id = req.id;
                    if ctl & 1 == 1 {
                        let _ = ep.observe(&id);
                    }
                    if req.id.block1().is_some() {
                        let _ = ep.block1(now, &req, lwm2m_core::coap::Block1Mode::Assemble);
                    }
                    let big = ctl & 0x80 != 0;
                    let _ = ep.respond(now, &id, Code::CONTENT, |r| {
                        if big {
                            r.large_payload()?
                                .put(&[0x55; 300])
                                .map_err(lwm2m_core::coap::EmitError::from)
                        } else {
                            r.payload()?
                                .put(b"ok")
                                .map_err(lwm2m_core::coap::EmitError::from)
                        }
                    });
                }
            }
            2 => {
                let _ = ep.request(ctl & 4 != 0, Code::POST, |b| b.payload(b"x").map(|_| ()));
            }
            _ => {
                if let Some(at) = ep.poll_timeout() {
                    now = now.max(at);
                }
                ep.handle_timeout(now);
            }
        }
        let mut sent = 0;
        while let Some(n) = ep.poll_transmit(now, &mut buf) {
            sent += 1;
            assert!(n <= max_msg, "datagram within the size limit");
            assert!(
                Message::parse(&buf[..n]).is_ok(),
                "we only send well-formed messages"
            );
        }
        assert!(sent <= queue_bound, "bounded transmit queue");
        while ep.poll_event().is_some() {}
        assert!(ep.observation_count() <= 2);
    }
}
