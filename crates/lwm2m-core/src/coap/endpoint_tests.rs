//! State-machine tests of the endpoint in virtual time: messages in,
//! exact datagrams and instants out.

use super::*;
use crate::coap::option as o;
use crate::coap::{Code, MessageBuilder};
use crate::time::Duration;
use core::convert::Infallible;

pub(super) const T0: Instant = Instant::from_secs(1000);

pub(super) fn endpoint() -> Endpoint {
    Endpoint::new(TransmissionParams::default(), Limits::default(), 7)
}

/// Builds a datagram: options must be in order.
pub(super) fn dgram(
    mtype: MsgType,
    code: Code,
    mid: u16,
    token: &[u8],
    opts: &[(u16, &[u8])],
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut b = MessageBuilder::new(&mut buf, mtype, code, mid, token).unwrap();
    for (n, v) in opts {
        b.option(*n, v).unwrap();
    }
    b.payload(payload).unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

/// Everything the endpoint wants to send now.
pub(super) fn drain(ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    while let Some(n) = ep.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

pub(super) fn request_id(r: Received<'_>) -> RequestId {
    match r {
        Received::Request(req) => req.id,
        other => panic!("expected a request, got {other:?}"),
    }
}

pub(super) fn answer(ep: &mut Endpoint, now: Instant, id: &RequestId, code: Code, body: &[u8]) {
    ep.respond(now, id, code, |r| {
        r.payload()?.put(body).map_err(EmitError::from)?;
        Ok::<(), EmitError>(())
    })
    .unwrap();
}

use crate::coap::EmitError;

/// RFC 7252 Appendix A, Figure 16 (bytes also in msg_tests.rs).
const FIG16_REQUEST: &[u8] = &[
    0x40, 0x01, 0x7d, 0x34, 0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r', b'e',
];
const FIG16_RESPONSE: &[u8] = &[
    0x60, 0x45, 0x7d, 0x34, 0xff, b'2', b'2', b'.', b'3', b' ', b'C',
];

#[test]
fn piggybacked_response_is_rfc7252_figure16_byte_exact() {
    let mut ep = endpoint();
    let r = ep.handle_datagram(T0, FIG16_REQUEST);
    let Received::Request(req) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        req.msg.uri_path().collect::<Vec<_>>(),
        vec![&b"temperature"[..]]
    );
    answer(&mut ep, T0, &req.id, Code::CONTENT, b"22.3 C");
    assert_eq!(drain(&mut ep, T0), vec![FIG16_RESPONSE.to_vec()]);
    assert_eq!(
        ep.poll_timeout(),
        None,
        "a piggybacked ACK is never retransmitted"
    );
}

#[test]
fn duplicate_con_replays_the_identical_response_within_exchange_lifetime() {
    let mut ep = endpoint();
    let id = request_id(ep.handle_datagram(T0, FIG16_REQUEST));
    answer(&mut ep, T0, &id, Code::CONTENT, b"22.3 C");
    let first = drain(&mut ep, T0);
    // The same datagram again, just before EXCHANGE_LIFETIME (247 s) ends:
    // not a new request, the same bytes go out.
    let later = T0 + Duration::from_secs(246);
    assert!(matches!(
        ep.handle_datagram(later, FIG16_REQUEST),
        Received::Duplicate
    ));
    assert_eq!(drain(&mut ep, later), first);
    // After it, the message ID is new again.
    let after = T0 + Duration::from_secs(247);
    assert!(matches!(
        ep.handle_datagram(after, FIG16_REQUEST),
        Received::Request(_)
    ));
    assert_eq!(ep.stats().duplicates, 1);
}

#[test]
fn duplicate_non_replays_within_non_lifetime_and_in_progress_is_silent() {
    let mut ep = endpoint();
    let non = dgram(
        MsgType::Non,
        Code::GET,
        0x1111,
        &[9],
        &[(o::URI_PATH, b"x")],
        &[],
    );
    let id = request_id(ep.handle_datagram(T0, &non));
    // Not answered yet: a duplicate is ignored, nothing is sent.
    assert!(matches!(ep.handle_datagram(T0, &non), Received::Duplicate));
    assert!(drain(&mut ep, T0).is_empty());
    answer(&mut ep, T0, &id, Code::CONTENT, b"v");
    let first = drain(&mut ep, T0);
    let m = Message::parse(&first[0]).unwrap();
    assert_eq!((m.mtype(), m.token_bytes()), (MsgType::Non, &[9u8][..]));
    let t = T0 + Duration::from_secs(144);
    assert!(matches!(ep.handle_datagram(t, &non), Received::Duplicate));
    assert_eq!(drain(&mut ep, t), first);
    let t = T0 + Duration::from_secs(145);
    assert!(matches!(ep.handle_datagram(t, &non), Received::Request(_)));
}

#[test]
fn dedup_bound_evicts_the_oldest_and_counts_it() {
    let limits = Limits {
        dedup_entries: 2,
        ..Limits::default()
    };
    let mut ep = Endpoint::new(TransmissionParams::default(), limits, 1);
    for mid in 1..=3u16 {
        let d = dgram(MsgType::Con, Code::GET, mid, &[], &[], &[]);
        let id = request_id(ep.handle_datagram(T0, &d));
        answer(&mut ep, T0, &id, Code::CONTENT, b"");
    }
    drain(&mut ep, T0);
    assert_eq!(ep.stats().dedup_evictions, 1);
    // MID 1 was forgotten, MID 3 is still remembered.
    let d1 = dgram(MsgType::Con, Code::GET, 1, &[], &[], &[]);
    assert!(matches!(ep.handle_datagram(T0, &d1), Received::Request(_)));
    let d3 = dgram(MsgType::Con, Code::GET, 3, &[], &[], &[]);
    assert!(matches!(ep.handle_datagram(T0, &d3), Received::Duplicate));
}

#[test]
fn retransmission_schedule_has_exact_instants_then_gives_up() {
    let mut ep = endpoint();
    let token = ep
        .request(true, Code::POST, |b| {
            b.option(o::URI_PATH, b"rd")?;
            Ok::<(), EmitError>(())
        })
        .unwrap();
    let sent = drain(&mut ep, T0);
    assert_eq!(sent.len(), 1);
    let first = ep.poll_timeout().unwrap();
    assert_eq!(
        ep.next_timer(),
        Some((
            first,
            Timer::Retransmit {
                token,
                what: Outgoing::Request
            }
        ))
    );
    let t = first - T0;
    assert!(
        t >= Duration::from_secs(2) && t <= Duration::from_secs(3),
        "{t:?}"
    );
    // Retransmissions at T, 3T, 7T, 15T; give-up at 31T (RFC 7252 §4.2).
    let mut instants = Vec::new();
    while let Some(at) = ep.poll_timeout() {
        ep.handle_timeout(at);
        instants.push(at);
        let again = drain(&mut ep, at);
        if ep.poll_timeout().is_some() {
            assert_eq!(again, sent, "a retransmission is the same datagram");
        } else {
            assert!(again.is_empty());
        }
    }
    let multiples: Vec<u32> = [1, 3, 7, 15, 31].to_vec();
    let expected: Vec<Instant> = multiples.iter().map(|k| T0 + t * *k).collect();
    assert_eq!(instants, expected);
    assert_eq!(
        ep.poll_event(),
        Some(Event::GaveUp {
            token,
            what: Outgoing::Request
        })
    );
    assert_eq!(ep.stats().retransmissions, 4);
}

#[test]
fn nstart_queues_the_second_request_until_the_first_is_acknowledged() {
    let mut ep = endpoint();
    let mk = |ep: &mut Endpoint| {
        ep.request(true, Code::POST, |_| Ok::<(), Infallible>(()))
            .unwrap()
    };
    let t1 = mk(&mut ep);
    let t2 = mk(&mut ep);
    let sent = drain(&mut ep, T0);
    assert_eq!(sent.len(), 1, "NSTART = 1");
    let m1 = Message::parse(&sent[0]).unwrap();
    assert_eq!(m1.token(), t1);
    // Piggybacked response to the first: the second goes out.
    let ack = dgram(
        MsgType::Ack,
        Code::CHANGED,
        m1.mid(),
        t1.as_bytes(),
        &[],
        &[],
    );
    match ep.handle_datagram(T0, &ack) {
        Received::Response { token, msg } => {
            assert_eq!((token, msg.code()), (t1, Code::CHANGED));
        }
        other => panic!("{other:?}"),
    }
    let sent = drain(&mut ep, T0);
    assert_eq!(sent.len(), 1);
    assert_eq!(Message::parse(&sent[0]).unwrap().token(), t2);
    // Pending bound: Limits::pending requests at most.
    let mut ep = Endpoint::new(
        TransmissionParams::default(),
        Limits {
            pending: 1,
            ..Limits::default()
        },
        1,
    );
    mk(&mut ep);
    assert_eq!(
        ep.request(true, Code::GET, |_| Ok::<(), Infallible>(())),
        Err(RespondError::Full)
    );
}

#[test]
fn separate_response_to_our_request_is_acknowledged_and_deduplicated() {
    let mut ep = endpoint();
    let token = ep
        .request(true, Code::GET, |_| Ok::<(), Infallible>(()))
        .unwrap();
    let req = drain(&mut ep, T0).remove(0);
    let mid = Message::parse(&req).unwrap().mid();
    // Empty ACK: no more retransmissions, the exchange waits.
    let empty_ack = [0x60, 0, (mid >> 8) as u8, mid as u8];
    assert!(matches!(
        ep.handle_datagram(T0, &empty_ack),
        Received::Handled
    ));
    let deadline = ep.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + Duration::from_secs(247));
    // The separate CON response arrives with its own MID.
    let resp = dgram(
        MsgType::Con,
        Code::CONTENT,
        0x5555,
        token.as_bytes(),
        &[],
        b"late",
    );
    match ep.handle_datagram(T0 + Duration::from_secs(5), &resp) {
        Received::Response { token: t, msg } => {
            assert_eq!((t, msg.payload()), (token, &b"late"[..]));
        }
        other => panic!("{other:?}"),
    }
    let ack = vec![0x60, 0, 0x55, 0x55];
    assert_eq!(drain(&mut ep, T0), vec![ack.clone()]);
    // Its retransmission is acknowledged again but not reported twice.
    assert!(matches!(
        ep.handle_datagram(T0 + Duration::from_secs(7), &resp),
        Received::Duplicate
    ));
    assert_eq!(drain(&mut ep, T0), vec![ack]);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn separate_response_from_us_is_confirmable_and_retransmitted() {
    let mut ep = endpoint();
    let d = dgram(
        MsgType::Con,
        Code::POST,
        0x2222,
        &[1, 2],
        &[(o::URI_PATH, b"x")],
        &[],
    );
    let id = request_id(ep.handle_datagram(T0, &d));
    let later = ep.accept_later(T0, &id);
    assert_eq!(drain(&mut ep, T0), vec![vec![0x60, 0, 0x22, 0x22]]);
    // A retransmitted request gets the empty ACK again.
    assert!(matches!(ep.handle_datagram(T0, &d), Received::Duplicate));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x60, 0, 0x22, 0x22]]);
    let t1 = T0 + Duration::from_secs(1);
    answer(&mut ep, t1, &later, Code::CHANGED, b"ok");
    let sent = drain(&mut ep, t1);
    let m = Message::parse(&sent[0]).unwrap();
    assert_eq!(
        (m.mtype(), m.code(), m.token_bytes(), m.payload()),
        (MsgType::Con, Code::CHANGED, &[1u8, 2][..], &b"ok"[..])
    );
    assert_ne!(m.mid(), 0x2222);
    let at = ep.poll_timeout().unwrap();
    ep.handle_timeout(at);
    assert_eq!(drain(&mut ep, at), sent, "retransmitted until acknowledged");
    let ack = [0x60, 0, (m.mid() >> 8) as u8, m.mid() as u8];
    ep.handle_datagram(at, &ack);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn ping_is_answered_with_rst_and_rst_cancels_our_request() {
    let mut ep = endpoint();
    assert!(matches!(
        ep.handle_datagram(T0, &[0x40, 0, 0xab, 0xcd]),
        Received::Handled
    ));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x70, 0, 0xab, 0xcd]]);
    // An empty NON is ignored (§4.3).
    ep.handle_datagram(T0, &[0x50, 0, 0, 1]);
    assert!(drain(&mut ep, T0).is_empty());
    let token = ep
        .request(true, Code::GET, |_| Ok::<(), Infallible>(()))
        .unwrap();
    let mid = Message::parse(&drain(&mut ep, T0)[0]).unwrap().mid();
    let rst = [0x70, 0, (mid >> 8) as u8, mid as u8];
    match ep.handle_datagram(T0, &rst) {
        Received::Reset { token: t, what } => assert_eq!((t, what), (token, Outgoing::Request)),
        other => panic!("{other:?}"),
    }
    assert_eq!(ep.poll_timeout(), None);
}

/// Each malformed input gets what RFC 7252 prescribes, and the endpoint
/// keeps serving afterwards.
#[test]
fn malformed_input_is_answered_as_rfc7252_says_and_the_endpoint_keeps_working() {
    let mut ep = endpoint();
    type Case = (&'static str, Vec<u8>, Vec<Vec<u8>>);
    let cases: Vec<Case> = vec![
        // §3: shorter than a header, or not version 1: silently dropped.
        ("too short", vec![0x40, 1, 0], vec![]),
        ("version 2", vec![0x80, 1, 0, 1], vec![]),
        // §4.2: a CON whose header is readable but the rest is not: RST.
        (
            "tkl 9",
            vec![0x49, 1, 0x10, 0x01, 0],
            vec![vec![0x70, 0, 0x10, 0x01]],
        ),
        (
            "truncated option",
            vec![0x40, 1, 0x10, 0x02, 0xb5, b'a'],
            vec![vec![0x70, 0, 0x10, 0x02]],
        ),
        (
            "marker without payload",
            vec![0x40, 1, 0x10, 0x03, 0xff],
            vec![vec![0x70, 0, 0x10, 0x03]],
        ),
        // §4.3: a malformed NON is dropped.
        ("non tkl 9", vec![0x59, 1, 0x10, 0x04, 0], vec![]),
        // §4.1: a malformed ACK / RST is dropped.
        ("ack with token", vec![0x61, 0, 0x10, 0x05, 1], vec![]),
        // An ACK or RST that matches nothing of ours: dropped.
        ("stray ack", vec![0x60, 0, 0x10, 0x06], vec![]),
        ("stray rst", vec![0x70, 0, 0x10, 0x07], vec![]),
    ];
    for (what, input, expected) in cases {
        assert!(
            matches!(ep.handle_datagram(T0, &input), Received::Handled),
            "{what}"
        );
        assert_eq!(drain(&mut ep, T0), expected, "{what}");
    }
    // §5.4.1: an unrecognized critical option in a request: 4.02,
    // piggybacked (and cached like any response).
    let d = dgram(MsgType::Con, Code::GET, 0x2001, &[7], &[(2049, b"x")], &[]);
    assert!(matches!(ep.handle_datagram(T0, &d), Received::Handled));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x61, 0x82, 0x20, 0x01, 7]]);
    assert!(matches!(ep.handle_datagram(T0, &d), Received::Duplicate));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x61, 0x82, 0x20, 0x01, 7]]);
    // RFC 7959 §2.2: a reserved SZX (7) in Block2: 4.00.
    let d = dgram(
        MsgType::Con,
        Code::GET,
        0x2002,
        &[],
        &[(o::BLOCK2, &[0x07])],
        &[],
    );
    assert!(matches!(ep.handle_datagram(T0, &d), Received::Handled));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x60, 0x80, 0x20, 0x02]]);
    // A NON request with a bad option: a NON 4.02.
    let d = dgram(MsgType::Non, Code::GET, 0x2003, &[], &[(2049, b"x")], &[]);
    ep.handle_datagram(T0, &d);
    let m = drain(&mut ep, T0);
    let m = Message::parse(&m[0]).unwrap();
    assert_eq!((m.mtype(), m.code()), (MsgType::Non, Code::BAD_OPTION));
    // A CON response nobody asked for: RST (§5.3.2).
    let d = dgram(MsgType::Con, Code::CONTENT, 0x2004, &[1, 2, 3], &[], b"?");
    assert!(matches!(ep.handle_datagram(T0, &d), Received::Handled));
    assert_eq!(drain(&mut ep, T0), vec![vec![0x70, 0, 0x20, 0x04]]);
    // A datagram above the size limit is dropped.
    let big = dgram(MsgType::Con, Code::PUT, 0x2005, &[], &[], &[0; 1200]);
    assert!(matches!(ep.handle_datagram(T0, &big), Received::Handled));
    assert!(drain(&mut ep, T0).is_empty());
    // Still serving.
    let id = request_id(ep.handle_datagram(T0, FIG16_REQUEST));
    answer(&mut ep, T0, &id, Code::CONTENT, b"22.3 C");
    assert_eq!(drain(&mut ep, T0), vec![FIG16_RESPONSE.to_vec()]);
}

#[test]
fn serving_a_request_while_our_own_exchange_is_open() {
    // The LwM2M client registers (CON in flight) and meanwhile the server
    // reads a resource: nothing waits for anything.
    let mut ep = endpoint();
    let token = ep
        .request(true, Code::POST, |_| Ok::<(), Infallible>(()))
        .unwrap();
    let reg = drain(&mut ep, T0).remove(0);
    let id = request_id(ep.handle_datagram(T0, FIG16_REQUEST));
    answer(&mut ep, T0, &id, Code::CONTENT, b"22.3 C");
    assert_eq!(drain(&mut ep, T0), vec![FIG16_RESPONSE.to_vec()]);
    let mid = Message::parse(&reg).unwrap().mid();
    let ack = dgram(MsgType::Ack, Code::CREATED, mid, token.as_bytes(), &[], &[]);
    assert!(matches!(
        ep.handle_datagram(T0, &ack),
        Received::Response { .. }
    ));
}
