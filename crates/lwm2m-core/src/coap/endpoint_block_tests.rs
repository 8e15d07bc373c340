//! Block-wise (RFC 7959) and Observe (RFC 7641) through the endpoint, in
//! virtual time.

use super::tests::{T0, answer, dgram, drain, endpoint, request_id};
use super::*;
use crate::coap::assembly::{Block1Mode, Block1Outcome};
use crate::coap::observe::Registered;
use crate::coap::option as o;
use crate::coap::{Block, Code, EmitError};
use crate::time::Duration;
use core::convert::Infallible;

fn with_limits(f: impl FnOnce(&mut Limits)) -> Endpoint {
    let mut l = Limits::default();
    f(&mut l);
    Endpoint::new(TransmissionParams::default(), l, 3)
}

/// A CON PUT /options with Block1 value `b1` (RFC 7959 figures use no
/// token): header 0x40 0x03 MID, Uri-Path "options" (0xb7), Block1
/// (delta 16: 0xd1 0x03, one byte), then the payload.
fn put_block(mid: u16, b1: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x40, 0x03, (mid >> 8) as u8, mid as u8, 0xb7];
    v.extend_from_slice(b"options");
    v.extend_from_slice(&[0xd1, 0x03, b1, 0xff]);
    v.extend_from_slice(payload);
    v
}

/// RFC 7959 §3.2 Figure 5, byte for byte on the server side: 2.31 Continue
/// echoing 1:0/1/128 and 1:1/1/128, then 2.04 Changed echoing 1:2/0/128.
#[test]
fn block1_put_follows_rfc7959_figure5_byte_exact() {
    let mut ep = endpoint();
    let body: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let steps: [(u16, u8, &[u8], u8); 3] = [
        (1234, 0x0b, &body[..128], 0x5f),    // 1:0/1/128 → 2.31
        (1235, 0x1b, &body[128..256], 0x5f), // 1:1/1/128 → 2.31
        (1236, 0x23, &body[256..], 0x44),    // 1:2/0/128 → 2.04
    ];
    for (mid, b1, chunk, code) in steps {
        let d = put_block(mid, b1, chunk);
        let Received::Request(req) = ep.handle_datagram(T0, &d) else {
            panic!()
        };
        let outcome = ep.block1(T0, &req, Block1Mode::Assemble).unwrap();
        let code = Code(code);
        match outcome {
            Block1Outcome::Continue => assert_eq!(code, Code::CONTINUE),
            Block1Outcome::Complete { len } => {
                assert_eq!(len, 300);
                assert_eq!(ep.block1_body(&req.id), Some(&body[..]));
            }
            other => panic!("{other:?}"),
        }
        ep.respond(T0, &req.id, code, |_| Ok::<(), Infallible>(()))
            .unwrap();
        // ACK, code, same MID, Block1 (delta 27: 0xd1 0x0e) echoing b1.
        let expected = vec![0x60, code.0, (mid >> 8) as u8, mid as u8, 0xd1, 0x0e, b1];
        assert_eq!(drain(&mut ep, T0), vec![expected]);
    }
    assert_eq!(
        ep.block1_body(&RequestId::of(
            &Message::parse(&put_block(1, 0x23, b"x")).unwrap()
        )),
        None
    );
}

/// RFC 7959 §3.2 Figure 6: the server asks for 32-byte blocks in its first
/// 2.31 (1:0/1/32); the client goes on with 1:4/1/32, 1:5/1/32, 1:6/0/32.
#[test]
fn block1_early_negotiation_follows_rfc7959_figure6() {
    let mut ep = with_limits(|l| l.block_szx = 1);
    let body: Vec<u8> = (0..=200u8).collect();
    let steps: [(u16, u8, &[u8], u8, u8); 4] = [
        (1234, 0x0b, &body[..128], 0x5f, 0x09),
        (1235, 0x49, &body[128..160], 0x5f, 0x49),
        (1236, 0x59, &body[160..192], 0x5f, 0x59),
        (1237, 0x61, &body[192..], 0x44, 0x61),
    ];
    for (mid, b1, chunk, code, echo) in steps {
        let dg = put_block(mid, b1, chunk);
        let Received::Request(req) = ep.handle_datagram(T0, &dg) else {
            panic!()
        };
        ep.block1(T0, &req, Block1Mode::Assemble).unwrap();
        ep.respond(T0, &req.id, Code(code), |_| Ok::<(), Infallible>(()))
            .unwrap();
        let expected = vec![0x60, code, (mid >> 8) as u8, mid as u8, 0xd1, 0x0e, echo];
        assert_eq!(drain(&mut ep, T0), vec![expected]);
    }
}

#[test]
fn block1_gap_is_4_08_and_oversize_is_4_13_with_size1() {
    let mut ep = with_limits(|l| l.block1_max_body = 64);
    let p = [0u8; 16];
    // Block 0 (16-byte blocks: value 0x08), then block 2 (0x28): a gap.
    let dg = put_block(1, 0x08, &p);
    let Received::Request(r0) = ep.handle_datagram(T0, &dg) else {
        panic!()
    };
    ep.block1(T0, &r0, Block1Mode::Assemble).unwrap();
    ep.respond(T0, &r0.id, Code::CONTINUE, |_| Ok::<(), Infallible>(()))
        .unwrap();
    drain(&mut ep, T0);
    let dg = put_block(2, 0x28, &p);
    let Received::Request(r2) = ep.handle_datagram(T0, &dg) else {
        panic!()
    };
    let e = ep.block1(T0, &r2, Block1Mode::Assemble).unwrap_err();
    ep.respond(T0, &r2.id, e.code(), |_| Ok::<(), Infallible>(()))
        .unwrap();
    // 4.08, no Block1 echo on an error.
    assert_eq!(drain(&mut ep, T0), vec![vec![0x60, 0x88, 0, 2]]);
    // Size1 = 100 announced up front, above the 64-byte limit: 4.13 with
    // Size1 = 64 (option 60: delta 60 → 0xd1 0x2f, value 0x40).
    let mut d = dgram(
        MsgType::Con,
        Code::PUT,
        3,
        &[],
        &[
            (o::URI_PATH, b"options"),
            (o::BLOCK1, &[0x08]),
            (o::SIZE1, &[100]),
        ],
        &p,
    );
    let Received::Request(r) = ep.handle_datagram(T0, &d) else {
        panic!()
    };
    let e = ep.block1(T0, &r, Block1Mode::Assemble).unwrap_err();
    ep.respond(T0, &r.id, e.code(), |_| Ok::<(), Infallible>(()))
        .unwrap();
    assert_eq!(
        drain(&mut ep, T0),
        vec![vec![0x60, 0x8d, 0, 3, 0xd1, 0x2f, 0x40]]
    );
    // Still working: a fresh transfer completes.
    d = put_block(4, 0x00, b"short");
    let Received::Request(r) = ep.handle_datagram(T0, &d) else {
        panic!()
    };
    assert_eq!(
        ep.block1(T0, &r, Block1Mode::Assemble),
        Ok(Block1Outcome::Complete { len: 5 })
    );
}

#[test]
fn block1_stream_hands_chunks_over_and_reports_abandoned_transfers() {
    let mut ep = endpoint();
    let p = [5u8; 16];
    let dg = put_block(1, 0x08, &p);
    let Received::Request(r) = ep.handle_datagram(T0, &dg) else {
        panic!()
    };
    let transfer = r.id.transfer();
    assert_eq!(
        ep.block1(T0, &r, Block1Mode::Stream),
        Ok(Block1Outcome::Chunk {
            offset: 0,
            bytes: &p[..],
            last: false
        })
    );
    // Nobody continues: after EXCHANGE_LIFETIME the transfer is abandoned.
    let at = ep.poll_timeout().unwrap();
    assert_eq!(at, T0 + Duration::from_secs(247));
    ep.handle_timeout(at);
    assert_eq!(ep.poll_event(), Some(Event::TransferAbandoned { transfer }));
}

fn get_status(mid: u16, block2: Option<u8>) -> Vec<u8> {
    let b2 = block2.map(|v| [v]);
    let mut opts: Vec<(u16, &[u8])> = vec![(o::URI_PATH, b"status")];
    if let Some(v) = &b2 {
        opts.push((o::BLOCK2, v));
    }
    dgram(MsgType::Con, Code::GET, mid, &[], &opts, &[])
}

fn render_large(ep: &mut Endpoint, id: &RequestId, body: &[u8]) {
    ep.respond(T0, id, Code::CONTENT, |r| {
        r.uint_option(o::CONTENT_FORMAT, 0)?;
        r.large_payload()?.put(body).map_err(EmitError::from)?;
        Ok::<(), EmitError>(())
    })
    .unwrap();
}

fn parse_one(out: &[Vec<u8>]) -> Message<'_> {
    assert_eq!(out.len(), 1);
    Message::parse(&out[0]).unwrap()
}

/// RFC 7959 §3.1 Figure 2 (2:0/1/128, 2:1/1/128, 2:2/0/128), plus the
/// consistency SPEC §1 guarantee 4 asks for: the resource changes after
/// block 0, yet blocks 1 and 2 come from the snapshot with the same ETag.
#[test]
fn block2_serves_later_blocks_from_the_snapshot_with_one_etag() {
    let mut ep = with_limits(|l| l.block_szx = 3);
    let v1: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let id = request_id(ep.handle_datagram(T0, &get_status(1234, None)));
    render_large(&mut ep, &id, &v1);
    let out = drain(&mut ep, T0);
    let m = parse_one(&out);
    let etag = m.etag().unwrap().to_vec();
    assert_eq!(
        (m.mtype(), m.mid(), m.code()),
        (MsgType::Ack, 1234, Code::CONTENT)
    );
    assert_eq!(
        m.block2(),
        Some(Ok(Block {
            num: 0,
            more: true,
            szx: 3
        }))
    );
    assert_eq!((m.size2(), m.content_format()), (Some(300), Some(0)));
    assert_eq!(m.payload(), &v1[..128]);
    // The resource changes now; the upper layer is not asked again.
    for (mid, b2, num, more, range) in [
        (1235u16, 0x13u8, 1u32, true, 128..256),
        (1236, 0x23, 2, false, 256..300),
    ] {
        let dg = get_status(mid, Some(b2));
        let r = ep.handle_datagram(T0, &dg);
        assert!(matches!(r, Received::Handled), "served from the snapshot");
        let out = drain(&mut ep, T0);
        let m = parse_one(&out);
        assert_eq!(m.mid(), mid);
        assert_eq!(m.block2(), Some(Ok(Block { num, more, szx: 3 })));
        assert_eq!(m.etag(), Some(&etag[..]));
        assert_eq!(m.content_format(), Some(0));
        assert_eq!(m.payload(), &v1[range]);
    }
}

#[test]
fn block2_of_an_expired_snapshot_is_rendered_again_with_a_new_etag() {
    let mut ep = with_limits(|l| l.block_szx = 3);
    let v1 = vec![1u8; 300];
    let id = request_id(ep.handle_datagram(T0, &get_status(1, None)));
    render_large(&mut ep, &id, &v1);
    let out = drain(&mut ep, T0);
    let etag1 = parse_one(&out).etag().unwrap().to_vec();
    let later = T0 + Duration::from_secs(300);
    let dg = get_status(2, Some(0x13));
    let r = ep.handle_datagram(later, &dg);
    let Received::Request(req) = r else {
        panic!("the snapshot expired: the caller renders again, got {r:?}")
    };
    assert_eq!(
        req.id.block2(),
        Some(Block {
            num: 1,
            more: false,
            szx: 3
        })
    );
    let v2 = vec![2u8; 300];
    render_large(&mut ep, &req.id, &v2);
    let out = drain(&mut ep, later);
    let m = parse_one(&out);
    assert_ne!(m.etag().unwrap(), &etag1[..], "the client must start over");
    assert_eq!(m.payload(), &v2[128..256]);
}

/// RFC 7959 §3.1 Figure 3: the client asks for 64-byte blocks up front
/// (2:0/0/64); a payload written normally is served in 64-byte blocks.
#[test]
fn block2_early_negotiation_cuts_a_normal_payload() {
    let mut ep = endpoint();
    let body: Vec<u8> = (0..150u8).collect();
    let id = request_id(ep.handle_datagram(T0, &get_status(1, Some(0x02))));
    answer(&mut ep, T0, &id, Code::CONTENT, &body);
    let out = drain(&mut ep, T0);
    let m = parse_one(&out);
    assert_eq!(
        m.block2(),
        Some(Ok(Block {
            num: 0,
            more: true,
            szx: 2
        }))
    );
    assert_eq!(m.payload(), &body[..64]);
    for (mid, b2, more, range) in [(2u16, 0x12u8, true, 64..128), (3, 0x22, false, 128..150)] {
        ep.handle_datagram(T0, &get_status(mid, Some(b2)));
        let out = drain(&mut ep, T0);
        let m = parse_one(&out);
        assert_eq!(m.block2().unwrap().unwrap().more, more);
        assert_eq!(m.payload(), &body[range]);
    }
    // Past the end: 4.02.
    ep.handle_datagram(T0, &get_status(4, Some(0x32)));
    let dg = get_status(5, Some(0x32));
    let r = ep.handle_datagram(T0, &dg);
    let Received::Request(req) = r else { panic!() };
    let e = ep.respond(T0, &req.id, Code::CONTENT, |r| {
        r.payload()?.put(b"tiny").map_err(EmitError::from)?;
        Ok::<(), EmitError>(())
    });
    assert_eq!(e, Err(RespondError::NoSuchBlock));
    let out = drain(&mut ep, T0);
    assert_eq!(parse_one(&out[out.len() - 1..]).code(), Code::BAD_OPTION);
}

fn observe_get(mid: u16, token: &[u8], value: u8) -> Vec<u8> {
    let v = [value];
    let obs: &[u8] = if value == 0 { &[] } else { &v };
    dgram(
        MsgType::Con,
        Code::GET,
        mid,
        token,
        &[(o::OBSERVE, obs), (o::URI_PATH, b"t")],
        &[],
    )
}

fn notify(ep: &mut Endpoint, token: Token, con: bool, body: &[u8]) {
    ep.notify(T0, token, Code::CONTENT, con, |r| {
        r.payload()?.put(body).map_err(EmitError::from)?;
        Ok::<(), EmitError>(())
    })
    .unwrap();
}

#[test]
fn observe_sequence_numbers_and_cancellation_by_get_observe_1() {
    let mut ep = endpoint();
    let tok = Token::new(&[0xaa]).unwrap();
    let id = request_id(ep.handle_datagram(T0, &observe_get(1, &[0xaa], 0)));
    assert_eq!(ep.observe(&id), Ok(Registered::New));
    answer(&mut ep, T0, &id, Code::CONTENT, b"20");
    let out = drain(&mut ep, T0);
    let first = parse_one(&out).observe().unwrap();
    let mut seqs = vec![first];
    for con in [false, true, false] {
        notify(&mut ep, tok, con, b"21");
        let out = drain(&mut ep, T0);
        let m = parse_one(&out);
        assert_eq!(m.token(), tok);
        assert_eq!(m.mtype(), if con { MsgType::Con } else { MsgType::Non });
        seqs.push(m.observe().unwrap());
        if con {
            let ack = [0x60, 0, (m.mid() >> 8) as u8, m.mid() as u8];
            ep.handle_datagram(T0, &ack);
        }
    }
    assert_eq!(seqs, vec![first, first + 1, first + 2, first + 3]);
    // Re-registration with the same token replaces, and keeps counting up.
    let id = request_id(ep.handle_datagram(T0, &observe_get(2, &[0xaa], 0)));
    assert_eq!(ep.observe(&id), Ok(Registered::Replaced));
    assert_eq!(ep.observation_count(), 1);
    answer(&mut ep, T0, &id, Code::CONTENT, b"22");
    let out = drain(&mut ep, T0);
    assert_eq!(parse_one(&out).observe(), Some(first + 4));
    // GET with Observe=1: the endpoint drops the registration and the
    // request still reaches the upper layer to be answered.
    let id = request_id(ep.handle_datagram(T0, &observe_get(3, &[0xaa], 1)));
    assert_eq!(id.observe(), Some(1));
    assert_eq!(ep.observation_count(), 0);
    assert_eq!(
        ep.notify(T0, tok, Code::CONTENT, false, |_| Ok::<(), Infallible>(())),
        Err(NotifyError::NotObserved)
    );
    answer(&mut ep, T0, &id, Code::CONTENT, b"20");
    let out = drain(&mut ep, T0);
    assert_eq!(parse_one(&out).observe(), None);
}

#[test]
fn rst_to_a_notification_cancels_the_observation() {
    let mut ep = endpoint();
    let tok = Token::new(&[1, 2]).unwrap();
    let id = request_id(ep.handle_datagram(T0, &observe_get(1, &[1, 2], 0)));
    ep.observe(&id).unwrap();
    answer(&mut ep, T0, &id, Code::CONTENT, b"1");
    drain(&mut ep, T0);
    for con in [false, true] {
        if con {
            let id = request_id(ep.handle_datagram(T0, &observe_get(2, &[1, 2], 0)));
            ep.observe(&id).unwrap();
            answer(&mut ep, T0, &id, Code::CONTENT, b"1");
            drain(&mut ep, T0);
        }
        notify(&mut ep, tok, con, b"2");
        let out = drain(&mut ep, T0);
        let mid = parse_one(&out).mid();
        let rst = [0x70, 0, (mid >> 8) as u8, mid as u8];
        match ep.handle_datagram(T0, &rst) {
            Received::Reset { token, what } => {
                assert_eq!((token, what), (tok, Outgoing::Notification));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ep.observation_count(), 0);
    }
    assert_eq!(ep.poll_timeout(), None, "the CON notification stopped");
}

#[test]
fn unacknowledged_con_notification_gives_up_and_ends_the_observation() {
    let mut ep = endpoint();
    let tok = Token::new(&[3]).unwrap();
    let id = request_id(ep.handle_datagram(T0, &observe_get(1, &[3], 0)));
    ep.observe(&id).unwrap();
    answer(&mut ep, T0, &id, Code::CONTENT, b"1");
    drain(&mut ep, T0);
    notify(&mut ep, tok, true, b"2");
    drain(&mut ep, T0);
    // A newer value while the first is in flight replaces it (RFC 7641
    // §4.5.2): one message in flight, carrying the new payload.
    notify(&mut ep, tok, true, b"3");
    let out = drain(&mut ep, T0);
    assert_eq!(parse_one(&out).payload(), b"3");
    while let Some(at) = ep.poll_timeout() {
        ep.handle_timeout(at);
        drain(&mut ep, at);
    }
    assert_eq!(
        ep.poll_event(),
        Some(Event::GaveUp {
            token: tok,
            what: Outgoing::Notification
        })
    );
    assert_eq!(ep.poll_event(), None);
    assert_eq!(ep.observation_count(), 0);
}

#[test]
fn full_observation_table_answers_without_observe() {
    let mut ep = with_limits(|l| l.observations = 1);
    let a = request_id(ep.handle_datagram(T0, &observe_get(1, &[1], 0)));
    ep.observe(&a).unwrap();
    let b = request_id(ep.handle_datagram(T0, &observe_get(2, &[2], 0)));
    assert!(ep.observe(&b).is_err());
    answer(&mut ep, T0, &b, Code::CONTENT, b"x");
    let out = drain(&mut ep, T0);
    assert_eq!(parse_one(&out).observe(), None);
}

#[test]
fn block_wise_notification_first_block_then_get_for_the_rest() {
    // RFC 7959 §2.6: a large notification carries block 0; the client
    // fetches the rest with GETs (without Observe) that hit the snapshot.
    let mut ep = with_limits(|l| l.block_szx = 2);
    let tok = Token::new(&[7]).unwrap();
    let id = request_id(ep.handle_datagram(T0, &observe_get(1, &[7], 0)));
    ep.observe(&id).unwrap();
    answer(&mut ep, T0, &id, Code::CONTENT, b"small");
    drain(&mut ep, T0);
    let body = vec![9u8; 100];
    ep.notify(T0, tok, Code::CONTENT, false, |r| {
        r.large_payload()?.put(&body).map_err(EmitError::from)?;
        Ok::<(), EmitError>(())
    })
    .unwrap();
    let out = drain(&mut ep, T0);
    let m = parse_one(&out);
    assert!(m.observe().is_some());
    assert_eq!(
        m.block2(),
        Some(Ok(Block {
            num: 0,
            more: true,
            szx: 2
        }))
    );
    let etag = m.etag().unwrap().to_vec();
    let get = dgram(
        MsgType::Con,
        Code::GET,
        9,
        &[8],
        &[(o::URI_PATH, b"t"), (o::BLOCK2, &[0x12])],
        &[],
    );
    assert!(matches!(ep.handle_datagram(T0, &get), Received::Handled));
    let out = drain(&mut ep, T0);
    let m = parse_one(&out);
    assert_eq!((m.etag(), m.payload().len()), (Some(&etag[..]), 36));
    assert_eq!(m.observe(), None);
}

/// Both roles end to end: a client endpoint uploads 300 bytes with
/// [`Block1Sender`] to a server endpoint that prefers 32-byte blocks (so
/// the upload switches size after block 0), then downloads them with
/// [`Block2Fetcher`] in 64-byte blocks.
#[test]
fn client_and_server_endpoints_do_block1_and_block2_end_to_end() {
    use crate::coap::{Block1Sender, Block1Step, Block2Fetcher};
    let mut client = endpoint();
    let mut server = with_limits(|l| l.block_szx = 1);
    let body: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
    let mut stored = Vec::new();

    // One request from the client, served by the server, answer back.
    fn round(
        client: &mut Endpoint,
        server: &mut Endpoint,
        stored: &mut Vec<u8>,
        token: Token,
    ) -> Vec<u8> {
        let req = drain(client, T0).remove(0);
        let r = match server.handle_datagram(T0, &req) {
            Received::Request(r) => r,
            // A later Block2 block, served from the snapshot.
            Received::Handled => return answer_back(client, server, token),
            other => panic!("{other:?}"),
        };
        if r.msg.code() == Code::PUT {
            match server.block1(T0, &r, Block1Mode::Assemble).unwrap() {
                Block1Outcome::Continue => {
                    server
                        .respond(T0, &r.id, Code::CONTINUE, |_| Ok::<(), Infallible>(()))
                        .unwrap();
                }
                Block1Outcome::Complete { .. } => {
                    *stored = server.block1_body(&r.id).unwrap().to_vec();
                    server
                        .respond(T0, &r.id, Code::CHANGED, |_| Ok::<(), Infallible>(()))
                        .unwrap();
                }
                other => panic!("{other:?}"),
            }
        } else {
            let data = stored.clone();
            server
                .respond(T0, &r.id, Code::CONTENT, |b| {
                    b.payload()?.put(&data).map_err(EmitError::from)?;
                    Ok::<(), EmitError>(())
                })
                .unwrap();
        }
        answer_back(client, server, token)
    }

    fn answer_back(client: &mut Endpoint, server: &mut Endpoint, token: Token) -> Vec<u8> {
        let resp = drain(server, T0).remove(0);
        match client.handle_datagram(T0, &resp) {
            Received::Response { token: t, .. } => assert_eq!(t, token),
            other => panic!("{other:?}"),
        }
        resp
    }

    let mut up = Block1Sender::new(body.len(), 3);
    let mut sizes = Vec::new();
    loop {
        let (blk, range) = up.next_block();
        sizes.push(blk.size());
        let chunk = &body[range];
        let token = client
            .request(true, Code::PUT, |b| {
                b.option(o::URI_PATH, b"fw")?;
                b.block_option(o::BLOCK1, blk)?;
                b.payload(chunk)?;
                Ok::<(), EmitError>(())
            })
            .unwrap();
        let resp = round(&mut client, &mut server, &mut stored, token);
        if up.on_response(&Message::parse(&resp).unwrap()).unwrap() == Block1Step::Done {
            break;
        }
    }
    assert_eq!(sizes, vec![128, 32, 32, 32, 32, 32, 32]);
    assert_eq!(stored, body);

    let mut down = Block2Fetcher::new(2, 1000);
    let mut got = Vec::new();
    loop {
        let blk = down.next_block();
        let token = client
            .request(true, Code::GET, |b| {
                b.option(o::URI_PATH, b"fw")?;
                b.block_option(o::BLOCK2, blk)?;
                Ok::<(), EmitError>(())
            })
            .unwrap();
        let resp = round(&mut client, &mut server, &mut stored, token);
        let chunk = down.on_response(&Message::parse(&resp).unwrap()).unwrap();
        got.extend_from_slice(chunk.bytes);
        if !chunk.more {
            break;
        }
    }
    assert_eq!(got, body);
}
