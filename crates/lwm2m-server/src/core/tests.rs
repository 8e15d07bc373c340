//! The core in virtual time against a scripted CoAP client: exact request
//! bytes against the TS mapping, block-wise both ways, observations, Send,
//! bootstrap scripts, queue mode and bad input.

use std::net::SocketAddr;

use lwm2m_core::coap::{Block, Code, Message, MessageBuilder, MsgType, option};
use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{Path, Value};
use lwm2m_core::time::{Duration, Instant};

use super::*;

pub(crate) struct Harness {
    pub(crate) server: Server,
    pub(crate) now: Instant,
    pub(crate) client: SocketAddr,
    pub(crate) mid: u16,
}

/// A message built with `f` adding options and payload.
pub(crate) fn msg(
    mtype: MsgType,
    code: Code,
    mid: u16,
    token: &[u8],
    f: impl FnOnce(&mut MessageBuilder<'_>),
) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut b = MessageBuilder::new(&mut buf, mtype, code, mid, token).unwrap();
    f(&mut b);
    let n = b.finish();
    buf.truncate(n);
    buf
}

pub(crate) fn path_of(m: &Message<'_>) -> String {
    let segs: Vec<String> = m
        .uri_path()
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect();
    format!("/{}", segs.join("/"))
}

impl Harness {
    pub(crate) fn new(config: ServerConfig) -> Harness {
        Harness {
            server: Server::new(config, 7),
            now: Instant::from_secs(1000),
            client: "192.0.2.1:50000".parse().unwrap(),
            mid: 100,
        }
    }

    pub(crate) fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        self.mid
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let c = self.client;
        self.server.handle_datagram(self.now, c, bytes);
    }

    /// Everything the server sends now.
    pub(crate) fn out(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        let mut buf = [0u8; 1500];
        while let Some((to, n)) = self.server.poll_transmit(self.now, &mut buf) {
            assert_eq!(to, self.client);
            v.push(buf[..n].to_vec());
        }
        v
    }

    /// The one datagram the server sends now.
    pub(crate) fn one(&mut self) -> Vec<u8> {
        let mut o = self.out();
        assert_eq!(o.len(), 1, "expected one datagram, got {}", o.len());
        o.pop().unwrap()
    }

    pub(crate) fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    pub(crate) fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
    }

    /// Sends a Confirmable request and returns the piggybacked answer.
    pub(crate) fn call(
        &mut self,
        code: Code,
        path: &[&str],
        queries: &[&str],
        cf: Option<u16>,
        payload: &[u8],
    ) -> Vec<u8> {
        let mid = self.next_mid();
        let m = msg(MsgType::Con, code, mid, &[0xab, mid as u8], |b| {
            for p in path {
                b.option(option::URI_PATH, p.as_bytes()).unwrap();
            }
            if let Some(cf) = cf {
                b.uint_option(option::CONTENT_FORMAT, u32::from(cf))
                    .unwrap();
            }
            for q in queries {
                b.option(option::URI_QUERY, q.as_bytes()).unwrap();
            }
            b.payload(payload).unwrap();
        });
        self.feed(&m);
        let r = self.one();
        let rm = Message::parse(&r).unwrap();
        assert_eq!((rm.mtype(), rm.mid()), (MsgType::Ack, mid));
        assert_eq!(rm.token_bytes(), &[0xab, mid as u8]);
        r
    }

    /// Registers `ep` and returns the location.
    pub(crate) fn register(&mut self, ep: &str, extra: &[&str]) -> String {
        let q = format!("ep={ep}");
        let mut queries = vec![q.as_str()];
        queries.extend_from_slice(extra);
        let r = self.call(
            Code::POST,
            &["rd"],
            &queries,
            Some(40),
            b"</1/0>,</3/0>,</5/0>,</3303/0>",
        );
        let m = Message::parse(&r).unwrap();
        assert_eq!(m.code(), Code::CREATED);
        let loc: Vec<String> = m
            .location_path()
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .collect();
        assert_eq!(loc.len(), 2);
        assert_eq!(loc[0], "rd");
        loc[1].clone()
    }

    /// Answers the server's request `req` with `code`, built by `f`.
    pub(crate) fn answer(
        &mut self,
        req: &[u8],
        code: Code,
        f: impl FnOnce(&mut MessageBuilder<'_>),
    ) {
        let m = Message::parse(req).unwrap();
        assert_eq!(m.mtype(), MsgType::Con);
        let a = msg(MsgType::Ack, code, m.mid(), m.token_bytes(), f);
        self.feed(&a);
    }

    pub(crate) fn response(&mut self) -> (ReqId, Result<Response, RequestError>) {
        for e in self.events() {
            if let ServerEvent::Response {
                request, result, ..
            } = e
            {
                return (request, result);
            }
        }
        panic!("no response event");
    }
}

fn dm() -> Harness {
    Harness::new(ServerConfig::dm())
}

#[test]
fn register_answers_2_01_with_a_location_and_records_the_client() {
    let mut h = dm();
    // Core 1.1 §6.2.1 / Transport §6.4: POST /rd?ep=..&lt=..&lwm2m=..&b=..
    // with the object list as application/link-format.
    let r = h.call(
        Code::POST,
        &["rd"],
        &["ep=urn:dev:1", "lt=60", "lwm2m=1.1", "b=U"],
        Some(40),
        br#"</>;rt="oma.lwm2m";ct=11542,</1/0>,</3>;ver=1.1,</3/0>"#,
    );
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.code(), Code::CREATED);
    let loc: Vec<&[u8]> = m.location_path().collect();
    assert_eq!(loc[0], b"rd");
    assert_eq!(loc[1].len(), 8);
    let reg = h.server.registration("urn:dev:1").unwrap();
    assert_eq!(
        (reg.lifetime, reg.version, reg.binding.as_str(), reg.queue),
        (60, Version::V1_1, "U", false)
    );
    assert_eq!(reg.location.as_bytes(), loc[1]);
    assert_eq!(reg.objects.formats, vec![11542]);
    assert_eq!(reg.objects.objects[1].version.as_deref(), Some("1.1"));
    assert_eq!(reg.peer, h.client);
    assert!(
        matches!(&h.events()[..], [ServerEvent::Registered { endpoint, replaced: false, .. }] if endpoint == "urn:dev:1")
    );
}

#[test]
fn update_and_deregister_by_location() {
    let mut h = dm();
    let loc = h.register("dev", &["lt=60"]);
    h.events();
    h.advance(Duration::from_secs(50));
    let r = h.call(
        Code::POST,
        &["rd", &loc],
        &["lt=120"],
        Some(40),
        b"</1/0>,</3/0>,</32769/0>",
    );
    assert_eq!(Message::parse(&r).unwrap().code(), Code::CHANGED);
    let reg = h.server.registration("dev").unwrap();
    assert_eq!(reg.lifetime, 120);
    assert!(reg.objects.has_object(32769));
    assert!(matches!(
        &h.events()[..],
        [ServerEvent::Updated {
            objects_changed: true,
            ..
        }]
    ));
    // An Update without payload keeps the objects.
    let r = h.call(Code::POST, &["rd", &loc], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::CHANGED);
    assert!(
        h.server
            .registration("dev")
            .unwrap()
            .objects
            .has_object(32769)
    );
    // Unknown locations.
    let r = h.call(Code::POST, &["rd", "nope"], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
    let r = h.call(Code::DELETE, &["rd", "nope"], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
    let r = h.call(Code::DELETE, &["rd", &loc], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::DELETED);
    assert!(h.server.registration("dev").is_none());
    assert!(h.events().iter().any(|e| matches!(
        e,
        ServerEvent::Deregistered {
            reason: DeregisterReason::Client,
            ..
        }
    )));
    let r = h.call(Code::POST, &["rd", &loc], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
}

#[test]
fn lifetime_expiry_removes_the_registration_at_the_deadline() {
    let mut h = dm();
    h.register("dev", &["lt=30"]);
    h.events();
    let deadline = h.now + Duration::from_secs(30);
    assert_eq!(
        h.server.next_timer(),
        Some((deadline, ServerTimer::Lifetime))
    );
    h.advance(Duration::from_secs(29));
    assert!(h.server.registration("dev").is_some());
    h.advance(Duration::from_secs(1));
    assert!(h.server.registration("dev").is_none());
    assert_eq!(
        h.events(),
        vec![ServerEvent::Deregistered {
            endpoint: "dev".into(),
            reason: DeregisterReason::Expired
        }]
    );
    assert_eq!(h.server.poll_timeout(), None);
}

#[test]
fn re_registration_replaces_the_old_one() {
    let mut h = dm();
    let first = h.register("dev", &[]);
    let second = h.register("dev", &[]);
    assert_ne!(first, second);
    assert_eq!(h.server.registrations().count(), 1);
    let ev = h.events();
    assert!(matches!(
        &ev[1],
        ServerEvent::Registered { replaced: true, .. }
    ));
    let r = h.call(Code::POST, &["rd", &first], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
}

#[test]
fn malformed_register_queries_are_refused() {
    let mut h = dm();
    for (queries, code) in [
        (&["lt=60"][..], Code::BAD_REQUEST),
        (&["ep=a", "lt=abc"], Code::BAD_REQUEST),
        (&["ep=a", "lt=0"], Code::BAD_REQUEST),
        (&["ep=a", "b=X"], Code::BAD_REQUEST),
        (&["ep=a", "lwm2m=1.x"], Code::BAD_REQUEST),
        (&["ep=a", "lwm2m=2.0"], Code::PRECONDITION_FAILED),
        (&["ep=a", "ep=b"], Code::BAD_REQUEST),
        (&["ep=a", "what=1"], Code::BAD_REQUEST),
    ] {
        let r = h.call(Code::POST, &["rd"], queries, Some(40), b"</1/0>");
        assert_eq!(Message::parse(&r).unwrap().code(), code, "{queries:?}");
    }
    let r = h.call(Code::POST, &["rd"], &["ep=a"], Some(40), b"</1/0/0/0/0>");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::BAD_REQUEST);
    let r = h.call(Code::POST, &["rd"], &["ep=a"], Some(0), b"</1/0>");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::BAD_REQUEST);
    let r = h.call(Code::GET, &["rd"], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::METHOD_NOT_ALLOWED);
    let r = h.call(Code::POST, &["nothing"], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
    assert_eq!(h.server.registrations().count(), 0);
    assert!(
        h.events()
            .iter()
            .all(|e| matches!(e, ServerEvent::Rejected { .. }))
    );
}

#[test]
fn garbage_is_dropped_or_reset_and_peers_stay_bounded() {
    let mut cfg = ServerConfig::dm();
    cfg.limits.max_peers = 8;
    let mut h = Harness::new(cfg);
    // A Confirmable header with a bad token length: RST (RFC 7252 §4.2).
    h.feed(&[0x4f, 0x01, 0x12, 0x34]);
    let rst = h.one();
    let m = Message::parse(&rst).unwrap();
    assert_eq!((m.mtype(), m.mid()), (MsgType::Rst, 0x1234));
    let mut seed = 1u32;
    for i in 0..2000u32 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let len = (seed >> 24) as usize % 40;
        let bytes: Vec<u8> = (0..len)
            .map(|j| (seed >> (j % 24)) as u8 ^ j as u8)
            .collect();
        let from: SocketAddr = format!("10.0.{}.{}:{}", i % 7, i % 13, 1000 + i)
            .parse()
            .unwrap();
        h.server.handle_datagram(h.now, from, &bytes);
        let mut buf = [0u8; 1500];
        while h.server.poll_transmit(h.now, &mut buf).is_some() {}
    }
    assert!(h.server.peers.len() <= 8);
}

#[test]
fn read_request_bytes_and_typed_tlv_answer() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let id = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::instance(3, 0),
                accept: Some(Format::Tlv),
            },
        )
        .unwrap();
    let req = h.one();
    let m = Message::parse(&req).unwrap();
    assert_eq!(
        (m.mtype(), m.code(), path_of(&m), m.accept()),
        (MsgType::Con, Code::GET, "/3/0".into(), Some(11542))
    );
    // TLV: /3/0/0 "Open" and /3/0/9 battery 87 (Core 1.1 §7.4).
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::CONTENT_FORMAT, 11542).unwrap();
        b.payload(&[0xc4, 0x00, b'O', b'p', b'e', b'n', 0xc1, 0x09, 87])
            .unwrap();
    });
    let (rid, res) = h.response();
    assert_eq!(rid, id);
    let res = res.unwrap();
    assert_eq!(
        res.entries(),
        &[
            Entry::new(Path::resource(3, 0, 0), Value::str("Open")),
            Entry::new(Path::resource(3, 0, 9), Value::Integer(87)),
        ]
    );
    assert_eq!(h.server.pending_requests("dev"), 0);
}

#[test]
fn error_answers_timeouts_and_unknown_endpoints() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    assert_eq!(
        h.server.request(
            h.now,
            "ghost",
            Operation::Delete {
                path: Path::instance(3, 0)
            }
        ),
        Err(RequestError::UnknownEndpoint)
    );
    h.server
        .request(
            h.now,
            "dev",
            Operation::Delete {
                path: Path::instance(3, 0),
            },
        )
        .unwrap();
    let req = h.one();
    assert_eq!(Message::parse(&req).unwrap().code(), Code::DELETE);
    h.answer(&req, Code::METHOD_NOT_ALLOWED, |_| {});
    assert_eq!(
        h.response().1,
        Err(RequestError::Code(Code::METHOD_NOT_ALLOWED))
    );
    // No answer at all: retransmissions, then a timeout (RFC 7252 §4.2).
    h.server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(3, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    let first = h.one();
    let mut copies = 1;
    for _ in 0..200 {
        h.advance(Duration::from_secs(1));
        for d in h.out() {
            assert_eq!(d, first);
            copies += 1;
        }
    }
    assert_eq!(copies, 5);
    assert_eq!(h.response().1, Err(RequestError::Timeout));
}

#[test]
fn block1_upload_of_one_mebibyte_to_the_firmware_package() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let image: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i * 7 + i / 1024) as u8)
        .collect();
    h.server
        .request(
            h.now,
            "dev",
            Operation::Write {
                path: Path::resource(5, 0, 0),
                replace: true,
                format: None,
                entries: vec![Entry::new(
                    Path::resource(5, 0, 0),
                    Value::Opaque(image.clone().into()),
                )],
            },
        )
        .unwrap();
    let mut got = Vec::new();
    let mut blocks = 0;
    loop {
        let req = h.one();
        let m = Message::parse(&req).unwrap();
        assert_eq!(
            (m.code(), path_of(&m), m.content_format()),
            (Code::PUT, "/5/0/0".into(), Some(42))
        );
        let b1 = m.block1().unwrap().unwrap();
        assert_eq!((b1.num, b1.szx), (blocks, 6));
        if b1.num == 0 {
            assert_eq!(m.size1(), Some(1024 * 1024));
        }
        got.extend_from_slice(m.payload());
        blocks += 1;
        if !b1.more {
            h.answer(&req, Code::CHANGED, |b| {
                b.block_option(option::BLOCK1, b1).unwrap();
            });
            break;
        }
        // RFC 7959 §2.3: 2.31 Continue echoing the block.
        h.answer(&req, Code::CONTINUE, |b| {
            b.block_option(option::BLOCK1, b1).unwrap();
        });
    }
    assert_eq!(blocks, 1024);
    assert!(got == image);
    assert_eq!(h.response().1.unwrap().code, Code::CHANGED);
}

#[test]
fn block1_follows_a_smaller_block_size_and_reports_4_13() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let body = vec![1u8; 3000];
    let write = |body: &Vec<u8>| Operation::Write {
        path: Path::resource(5, 0, 0),
        replace: true,
        format: None,
        entries: vec![Entry::new(
            Path::resource(5, 0, 0),
            Value::Opaque(body.clone().into()),
        )],
    };
    h.server.request(h.now, "dev", write(&body)).unwrap();
    let req = h.one();
    let b1 = Message::parse(&req).unwrap().block1().unwrap().unwrap();
    // RFC 7959 §2.5: the client asks for 512-byte blocks.
    h.answer(&req, Code::CONTINUE, |b| {
        b.block_option(option::BLOCK1, Block { szx: 5, ..b1 })
            .unwrap();
    });
    let req = h.one();
    let b = Message::parse(&req).unwrap().block1().unwrap().unwrap();
    assert_eq!((b.num, b.szx), (2, 5));
    h.answer(&req, Code::REQUEST_ENTITY_TOO_LARGE, |b| {
        b.uint_option(option::SIZE1, 1500).unwrap();
    });
    assert_eq!(h.response().1, Err(RequestError::TooLarge));
}

#[test]
fn block2_answer_is_reassembled() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    h.server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(5, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    let mut num = 0;
    loop {
        let req = h.one();
        let m = Message::parse(&req).unwrap();
        assert_eq!(path_of(&m), "/5/0/0");
        let want = m.block2().map(|b| b.unwrap());
        assert_eq!(want.map_or(0, |b| b.num), num);
        let off = num as usize * 512;
        let end = (off + 512).min(data.len());
        let more = end < data.len();
        h.answer(&req, Code::CONTENT, |b| {
            b.option(option::ETAG, &[1, 2, 3]).unwrap();
            b.uint_option(option::CONTENT_FORMAT, 42).unwrap();
            b.block_option(option::BLOCK2, Block { num, more, szx: 5 })
                .unwrap();
            b.payload(&data[off..end]).unwrap();
        });
        num += 1;
        if !more {
            break;
        }
    }
    let r = h.response().1.unwrap();
    assert_eq!(
        r.entries(),
        &[Entry::new(
            Path::resource(5, 0, 0),
            Value::Opaque(data.into())
        )]
    );
}

#[test]
fn observe_notify_duplicates_stale_and_cancel() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let p = Path::resource(3303, 0, 5700);
    let obs = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Observe {
                path: p,
                accept: None,
            },
        )
        .unwrap();
    let req = h.one();
    let m = Message::parse(&req).unwrap();
    assert_eq!(
        (m.code(), m.observe(), path_of(&m)),
        (Code::GET, Some(0), "/3303/0/5700".into())
    );
    let token = m.token_bytes().to_vec();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::OBSERVE, 10).unwrap();
        b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
        b.payload(b"21.5").unwrap();
    });
    let (rid, res) = h.response();
    assert_eq!(rid, obs);
    assert_eq!(res.unwrap().entries(), &[Entry::new(p, Value::Float(21.5))]);
    assert_eq!(h.server.observations_of("dev"), vec![(obs, vec![p])]);
    // A Confirmable notification: acknowledged and reported.
    let n = msg(MsgType::Con, Code::CONTENT, 500, &token, |b| {
        b.uint_option(option::OBSERVE, 11).unwrap();
        b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
        b.payload(b"22").unwrap();
    });
    h.feed(&n);
    let ack = h.one();
    let a = Message::parse(&ack).unwrap();
    assert_eq!(
        (a.mtype(), a.mid(), a.code()),
        (MsgType::Ack, 500, Code::EMPTY)
    );
    assert_eq!(
        h.events(),
        vec![ServerEvent::Notification {
            endpoint: "dev".into(),
            observation: obs,
            seq: Some(11),
            format: Format::Text,
            entries: vec![Entry::new(p, Value::Float(22.0))],
        }]
    );
    // The same message again: acknowledged, not reported twice.
    h.feed(&n);
    assert_eq!(h.out().len(), 1);
    assert!(h.events().is_empty());
    // An older sequence number (RFC 7641 §3.4): ignored.
    h.feed(&msg(MsgType::Non, Code::CONTENT, 501, &token, |b| {
        b.uint_option(option::OBSERVE, 9).unwrap();
        b.payload(b"1").unwrap();
    }));
    assert!(h.out().is_empty());
    assert!(h.events().is_empty());
    // Active cancel: GET with Observe=1 on the observation's token.
    let cancel = h
        .server
        .cancel_observation(h.now, obs, true)
        .unwrap()
        .unwrap();
    let req = h.one();
    let m = Message::parse(&req).unwrap();
    assert_eq!(
        (m.code(), m.observe(), m.token_bytes()),
        (Code::GET, Some(1), &token[..])
    );
    assert!(h.events().iter().any(|e| matches!(
        e,
        ServerEvent::ObservationEnded {
            reason: ObservationEnd::Cancelled,
            ..
        }
    )));
    h.answer(&req, Code::CONTENT, |b| {
        b.payload(b"22").unwrap();
    });
    assert_eq!(h.response().0, cancel);
    assert!(h.server.observations_of("dev").is_empty());
}

#[test]
fn passive_cancel_resets_the_next_notification() {
    let mut h = dm();
    h.register("dev", &[]);
    let obs = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Observe {
                path: Path::resource(3, 0, 9),
                accept: None,
            },
        )
        .unwrap();
    let req = h.one();
    let token = Message::parse(&req).unwrap().token_bytes().to_vec();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::OBSERVE, 1).unwrap();
        b.payload(b"50").unwrap();
    });
    h.events();
    assert_eq!(h.server.cancel_observation(h.now, obs, false), Ok(None));
    assert!(h.out().is_empty());
    h.feed(&msg(MsgType::Non, Code::CONTENT, 900, &token, |b| {
        b.uint_option(option::OBSERVE, 2).unwrap();
        b.payload(b"49").unwrap();
    }));
    let rst = h.one();
    assert_eq!(Message::parse(&rst).unwrap().mtype(), MsgType::Rst);
    h.feed(&msg(MsgType::Con, Code::CONTENT, 901, &token, |b| {
        b.uint_option(option::OBSERVE, 3).unwrap();
        b.payload(b"48").unwrap();
    }));
    assert_eq!(Message::parse(&h.one()).unwrap().mtype(), MsgType::Rst);
    assert!(
        h.events()
            .iter()
            .all(|e| !matches!(e, ServerEvent::Notification { .. }))
    );
}

#[test]
fn deregistration_ends_observations_and_pending_requests() {
    let mut h = dm();
    let loc = h.register("dev", &[]);
    let obs = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Observe {
                path: Path::resource(3, 0, 9),
                accept: None,
            },
        )
        .unwrap();
    let req = h.one();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::OBSERVE, 1).unwrap();
        b.payload(b"50").unwrap();
    });
    let read = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(3, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    h.out();
    h.events();
    h.call(Code::DELETE, &["rd", &loc], &[], None, b"");
    let ev = h.events();
    assert!(ev.contains(&ServerEvent::Response {
        endpoint: "dev".into(),
        request: read,
        result: Err(RequestError::Cancelled)
    }));
    assert!(ev.contains(&ServerEvent::ObservationEnded {
        endpoint: "dev".into(),
        observation: obs,
        reason: ObservationEnd::Deregistered
    }));
}

#[test]
fn send_is_acknowledged_and_reported() {
    let mut h = dm();
    // Not registered yet: refused.
    let r = h.call(
        Code::POST,
        &["dp"],
        &[],
        Some(110),
        br#"[{"n":"/3/0/9","v":80}]"#,
    );
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
    h.register("dev", &[]);
    h.events();
    let r = h.call(
        Code::POST,
        &["dp"],
        &[],
        Some(110),
        br#"[{"bn":"/3303/0/","n":"5700","v":21.5,"t":1700000000}]"#,
    );
    assert_eq!(Message::parse(&r).unwrap().code(), Code::CHANGED);
    let ev = h.events();
    let ServerEvent::Send {
        endpoint,
        format,
        entries,
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!((endpoint.as_str(), *format), ("dev", Format::SenmlJson));
    assert_eq!(entries[0].path, Path::resource(3303, 0, 5700));
    assert_eq!(entries[0].value, Value::Float(21.5));
    assert_eq!(entries[0].time, Some(1_700_000_000.0));
    let r = h.call(Code::POST, &["dp"], &[], Some(11542), b"\xc1\x00\x01");
    assert_eq!(
        Message::parse(&r).unwrap().code(),
        Code::UNSUPPORTED_CONTENT_FORMAT
    );
    let r = h.call(Code::POST, &["dp"], &[], Some(110), b"[{");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::BAD_REQUEST);
}

fn bs_config() -> BootstrapConfig {
    let mut c = BootstrapConfig::default();
    let mut cc = ClientConfig::single_server("coap://192.0.2.9:5683", 1, 60);
    cc.discover = true;
    c.clients.insert("dev".into(), cc);
    c
}

/// Answers each bootstrap step; returns (method, path) of each.
fn run_bootstrap(h: &mut Harness, finish: Code) -> Vec<(Code, String)> {
    let mut seen = Vec::new();
    loop {
        let req = h.one();
        let m = Message::parse(&req).unwrap();
        seen.push((m.code(), path_of(&m)));
        let code = match m.code() {
            Code::GET => Code::CONTENT,
            Code::DELETE => Code::DELETED,
            Code::POST => finish,
            _ => Code::CHANGED,
        };
        let is_finish = m.code() == Code::POST;
        h.answer(&req, code, |b| {
            if code == Code::CONTENT {
                b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
                b.payload(br#"</0/0>,</1>,</3/0>"#).unwrap();
            }
        });
        if is_finish {
            return seen;
        }
    }
}

#[test]
fn bootstrap_request_runs_the_script_and_reports_4_06_at_finish() {
    let mut h = Harness::new(ServerConfig::bootstrap(bs_config()));
    // Core 1.1 §6.1: POST /bs?ep=.. answered 2.04, then the server writes.
    let mid = h.next_mid();
    h.feed(&msg(MsgType::Con, Code::POST, mid, &[1], |b| {
        b.option(option::URI_PATH, b"bs").unwrap();
        b.option(option::URI_QUERY, b"ep=dev").unwrap();
    }));
    let mut out = h.out();
    assert_eq!(out.len(), 2);
    let ack = Message::parse(&out[0]).unwrap();
    assert_eq!((ack.mtype(), ack.code()), (MsgType::Ack, Code::CHANGED));
    let first = out.remove(1);
    let m = Message::parse(&first).unwrap();
    assert_eq!(
        (m.code(), path_of(&m), m.accept()),
        (Code::GET, "/".into(), Some(40))
    );
    h.answer(&first, Code::CONTENT, |b| {
        b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
        b.payload(b"</0/0>;ssid=1").unwrap();
    });
    let steps = run_bootstrap(&mut h, Code::NOT_ACCEPTABLE);
    assert_eq!(
        steps,
        vec![
            (Code::DELETE, "/0".into()),
            (Code::DELETE, "/1".into()),
            (Code::PUT, "/0/1".into()),
            (Code::PUT, "/1/0".into()),
            (Code::POST, "/bs".into()),
        ]
    );
    let ev = h.events();
    assert!(matches!(
        &ev[0],
        ServerEvent::BootstrapStarted {
            requested: true,
            ..
        }
    ));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, ServerEvent::BootstrapStep { .. }))
            .count(),
        6
    );
    assert_eq!(
        ev.last(),
        Some(&ServerEvent::BootstrapFinished {
            endpoint: "dev".into(),
            result: Err(BootstrapError::FinishRejected(Code::NOT_ACCEPTABLE)),
        })
    );
}

#[test]
fn bootstrap_write_payload_is_tlv_of_the_security_instance_and_finish_succeeds() {
    let mut h = Harness::new(ServerConfig::bootstrap(bs_config()));
    h.server.start_bootstrap(h.now, "dev", h.client).unwrap();
    let steps = {
        let mut seen = Vec::new();
        loop {
            let req = h.one();
            let m = Message::parse(&req).unwrap();
            if path_of(&m) == "/0/1" {
                assert_eq!(m.content_format(), Some(11542));
                let d = lwm2m_core::content::Decoder::new(
                    Format::Tlv,
                    m.payload(),
                    Path::instance(0, 1),
                    &model::KnownTypes,
                    Default::default(),
                )
                .unwrap();
                let entries: Vec<_> = d.map(Result::unwrap).collect();
                assert_eq!(entries[0].value, Value::str("coap://192.0.2.9:5683"));
                assert!(
                    entries
                        .iter()
                        .any(|e| e.path == Path::resource(0, 1, 2) && e.value == Value::Integer(3))
                );
                assert!(entries.iter().any(|e| e.path == Path::resource(0, 1, 10) && e.value == Value::Integer(1)));
            }
            seen.push(m.code());
            let is_finish = m.code() == Code::POST;
            let code = match m.code() {
                Code::GET => Code::CONTENT,
                Code::DELETE => Code::NOT_FOUND,
                _ => Code::CHANGED,
            };
            h.answer(&req, code, |_| {});
            if is_finish {
                break seen;
            }
        }
    };
    assert_eq!(steps.len(), 6);
    let ev = h.events();
    assert!(matches!(
        &ev[0],
        ServerEvent::BootstrapStarted {
            requested: false,
            ..
        }
    ));
    assert_eq!(
        ev.last(),
        Some(&ServerEvent::BootstrapFinished {
            endpoint: "dev".into(),
            result: Ok(())
        })
    );
}

#[test]
fn bootstrap_request_from_an_unknown_endpoint_is_4_00() {
    let mut h = Harness::new(ServerConfig::bootstrap(bs_config()));
    let r = h.call(Code::POST, &["bs"], &["ep=stranger"], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::BAD_REQUEST);
    // A bootstrap-only server has no /rd.
    let r = h.call(Code::POST, &["rd"], &["ep=dev"], Some(40), b"</1/0>");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
}

#[test]
fn queue_mode_holds_requests_until_the_client_is_heard() {
    let mut h = dm();
    let loc = h.register("dev", &["b=U", "Q", "lwm2m=1.1"]);
    assert!(h.server.registration("dev").unwrap().queue);
    h.events();
    h.advance(Duration::from_secs(100));
    let id = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(3, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    assert!(h.out().is_empty(), "a sleeping client gets nothing");
    // The client wakes up with an Update: answered, then the request.
    let mid = h.next_mid();
    h.feed(&msg(MsgType::Con, Code::POST, mid, &[3], |b| {
        b.option(option::URI_PATH, b"rd").unwrap();
        b.option(option::URI_PATH, loc.as_bytes()).unwrap();
    }));
    let out = h.out();
    assert_eq!(out.len(), 2);
    assert_eq!(Message::parse(&out[0]).unwrap().code(), Code::CHANGED);
    let req = &out[1];
    assert_eq!(Message::parse(req).unwrap().code(), Code::GET);
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, ServerEvent::QueueFlushed { count: 1, .. }))
    );
    h.answer(req, Code::CONTENT, |b| {
        b.payload(b"ACME").unwrap();
    });
    assert_eq!(h.response().0, id);
}

#[test]
fn requests_per_client_are_bounded() {
    let mut cfg = ServerConfig::dm();
    cfg.limits.max_requests_per_client = 3;
    let mut h = Harness::new(cfg);
    h.register("dev", &[]);
    let read = || Operation::Read {
        path: Path::resource(3, 0, 0),
        accept: None,
    };
    for _ in 0..3 {
        h.server.request(h.now, "dev", read()).unwrap();
    }
    assert_eq!(
        h.server.request(h.now, "dev", read()),
        Err(RequestError::QueueFull)
    );
}

#[test]
fn file_server_serves_blocks_with_etag() {
    let mut cfg = ServerConfig::dm();
    let mut files = MemFiles::default();
    files.insert("fw.bin", vec![7u8; 2500]);
    cfg.files = Some(Box::new(files));
    let mut h = Harness::new(cfg);
    let mut got = Vec::new();
    let mut etag: Option<Vec<u8>> = None;
    for num in 0..3u32 {
        let mid = h.next_mid();
        h.feed(&msg(MsgType::Con, Code::GET, mid, &[5], |b| {
            b.option(option::URI_PATH, b"fw").unwrap();
            b.option(option::URI_PATH, b"fw.bin").unwrap();
            b.block_option(
                option::BLOCK2,
                Block {
                    num,
                    more: false,
                    szx: 6,
                },
            )
            .unwrap();
        }));
        let r = h.one();
        let m = Message::parse(&r).unwrap();
        assert_eq!(
            (m.mtype(), m.mid(), m.code()),
            (MsgType::Ack, mid, Code::CONTENT)
        );
        if let Some(e) = &etag {
            assert_eq!(m.etag().unwrap(), &e[..]);
        }
        etag = Some(m.etag().unwrap().to_vec());
        got.extend_from_slice(m.payload());
    }
    assert_eq!(got, vec![7u8; 2500]);
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, ServerEvent::FileServed { size: 2500, .. }))
    );
}

#[test]
fn create_reports_the_location_and_discover_the_links() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    h.server
        .request(
            h.now,
            "dev",
            Operation::Create {
                path: Path::object(32769),
                format: Some(Format::Tlv),
                entries: vec![Entry::new(Path::resource(32769, 0, 1), Value::Integer(5))],
            },
        )
        .unwrap();
    let req = h.one();
    let m = Message::parse(&req).unwrap();
    assert_eq!((m.code(), path_of(&m)), (Code::POST, "/32769".into()));
    // Client-chosen id: bare resource TLVs (Core 1.1 §6.3).
    assert_eq!(m.payload(), &[0xc1, 0x01, 0x05]);
    h.answer(&req, Code::CREATED, |b| {
        b.option(option::LOCATION_PATH, b"32769").unwrap();
        b.option(option::LOCATION_PATH, b"3").unwrap();
    });
    assert_eq!(
        h.response().1.unwrap().body,
        Body::Created(Some(Path::instance(32769, 3)))
    );

    h.server
        .request(
            h.now,
            "dev",
            Operation::Discover {
                path: Path::instance(3, 0),
                depth: None,
            },
        )
        .unwrap();
    let req = h.one();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
        b.payload(b"</3/0>;pmax=60,</3/0/0>,</3/0/11>;dim=2")
            .unwrap();
    });
    let Body::Links(links) = h.response().1.unwrap().body else {
        panic!()
    };
    assert_eq!(links.len(), 3);
    assert_eq!(links[0].param("pmax"), Some(Some("60")));
    assert_eq!(links[2].target, "/3/0/11");
}

#[test]
fn read_composite_decodes_senml_from_the_root() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    h.server
        .request(
            h.now,
            "dev",
            Operation::ReadComposite {
                paths: vec![Path::resource(3, 0, 0), Path::resource(3303, 0, 5700)],
                request_format: Format::SenmlJson,
                accept: None,
            },
        )
        .unwrap();
    let req = h.one();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(br#"[{"n":"/3/0/0","vs":"ACME"},{"n":"/3303/0/5700","v":21.5}]"#)
            .unwrap();
    });
    let r = h.response().1.unwrap();
    assert_eq!(
        r.entries(),
        &[
            Entry::new(Path::resource(3, 0, 0), Value::str("ACME")),
            Entry::new(Path::resource(3303, 0, 5700), Value::Float(21.5)),
        ]
    );
}

#[test]
fn observe_composite_and_a_block_wise_notification() {
    let mut h = dm();
    h.register("dev", &[]);
    h.events();
    let obs = h
        .server
        .request(
            h.now,
            "dev",
            Operation::ObserveComposite {
                paths: vec![Path::resource(3303, 0, 5700), Path::resource(3, 0, 9)],
                request_format: Format::SenmlJson,
                accept: None,
            },
        )
        .unwrap();
    let req = h.one();
    let m = Message::parse(&req).unwrap();
    assert_eq!(
        (m.code(), m.observe(), m.content_format()),
        (Code::FETCH, Some(0), Some(110))
    );
    let paths_payload = m.payload().to_vec();
    let token = m.token_bytes().to_vec();
    h.answer(&req, Code::CONTENT, |b| {
        b.uint_option(option::OBSERVE, 1).unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(br#"[{"n":"/3303/0/5700","v":1}]"#).unwrap();
    });
    assert!(h.response().1.is_ok());
    // A notification too large for one block: the first block rides on
    // the notification, the rest is fetched (RFC 7959 §2.6).
    let body = format!(
        r#"[{{"n":"/3/0/0","vs":"{}"}},{{"n":"/3/0/9","v":50}}]"#,
        "x".repeat(60)
    );
    let body = body.as_bytes();
    h.feed(&msg(MsgType::Con, Code::CONTENT, 42, &token, |b| {
        b.option(option::ETAG, &[9]).unwrap();
        b.uint_option(option::OBSERVE, 2).unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.block_option(
            option::BLOCK2,
            Block {
                num: 0,
                more: true,
                szx: 2,
            },
        )
        .unwrap();
        b.payload(&body[..64]).unwrap();
    }));
    let out = h.out();
    assert_eq!(out.len(), 2);
    assert_eq!(Message::parse(&out[0]).unwrap().mtype(), MsgType::Ack);
    let mut req = out[1].clone();
    let mut off = 64;
    loop {
        let m = Message::parse(&req).unwrap();
        // FETCH again, without Observe, with the same payload.
        assert_eq!(
            (m.code(), m.observe(), m.payload()),
            (Code::FETCH, None, &paths_payload[..])
        );
        let b2 = m.block2().unwrap().unwrap();
        assert_eq!(b2.offset(), off);
        let end = (off + 64).min(body.len());
        let more = end < body.len();
        h.answer(&req, Code::CONTENT, |b| {
            b.option(option::ETAG, &[9]).unwrap();
            b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
            b.block_option(
                option::BLOCK2,
                Block {
                    num: b2.num,
                    more,
                    szx: 2,
                },
            )
            .unwrap();
            b.payload(&body[off..end]).unwrap();
        });
        off = end;
        if !more {
            break;
        }
        req = h.one();
    }
    let ev = h.events();
    let Some(ServerEvent::Notification {
        observation,
        seq,
        entries,
        ..
    }) = ev.last()
    else {
        panic!("{ev:?}")
    };
    assert_eq!((*observation, *seq), (obs, Some(2)));
    assert_eq!(entries[0].value, Value::String("x".repeat(60).into()));
    assert_eq!(
        entries[1],
        Entry::new(Path::resource(3, 0, 9), Value::Integer(50))
    );
}

#[test]
fn register_with_a_block1_object_list() {
    let mut h = dm();
    let links: Vec<String> = (0..40).map(|i| format!("</32769/{i}>")).collect();
    let payload = links.join(",");
    let p = payload.as_bytes();
    let mut num = 0;
    let mut off = 0;
    let loc = loop {
        let end = (off + 64).min(p.len());
        let more = end < p.len();
        let mid = h.next_mid();
        h.feed(&msg(MsgType::Con, Code::POST, mid, &[num as u8], |b| {
            b.option(option::URI_PATH, b"rd").unwrap();
            b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
            b.option(option::URI_QUERY, b"ep=big").unwrap();
            b.block_option(option::BLOCK1, Block { num, more, szx: 2 })
                .unwrap();
            b.payload(&p[off..end]).unwrap();
        }));
        let r = h.one();
        let m = Message::parse(&r).unwrap();
        if more {
            assert_eq!(m.code(), Code::CONTINUE);
        } else {
            assert_eq!(m.code(), Code::CREATED);
            break m.location_path().nth(1).unwrap().to_vec();
        }
        off = end;
        num += 1;
    };
    let reg = h.server.registration("big").unwrap();
    assert_eq!(reg.location.as_bytes(), &loc[..]);
    assert_eq!(reg.objects.instances(32769).count(), 40);
}

#[test]
fn an_update_from_a_new_address_moves_the_client() {
    let mut h = dm();
    let loc = h.register("dev", &[]);
    h.events();
    h.client = "192.0.2.1:60000".parse().unwrap();
    let r = h.call(Code::POST, &["rd", &loc], &[], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::CHANGED);
    assert_eq!(h.server.registration("dev").unwrap().peer, h.client);
    h.server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(3, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    // `out` asserts that the request goes to the new address.
    assert_eq!(h.out().len(), 1);
}

#[test]
fn a_queue_mode_timeout_keeps_the_request_for_the_next_wake_up() {
    let mut h = dm();
    let loc = h.register("dev", &["b=UQ"]);
    h.events();
    let id = h
        .server
        .request(
            h.now,
            "dev",
            Operation::Read {
                path: Path::resource(3, 0, 0),
                accept: None,
            },
        )
        .unwrap();
    assert_eq!(h.out().len(), 1);
    // The client fell asleep: retransmissions go unanswered.
    for _ in 0..200 {
        h.advance(Duration::from_secs(1));
        h.out();
    }
    assert!(
        h.events()
            .iter()
            .all(|e| !matches!(e, ServerEvent::Response { .. }))
    );
    assert_eq!(h.server.pending_requests("dev"), 1);
    let mid = h.next_mid();
    h.feed(&msg(MsgType::Con, Code::POST, mid, &[3], |b| {
        b.option(option::URI_PATH, b"rd").unwrap();
        b.option(option::URI_PATH, loc.as_bytes()).unwrap();
    }));
    let out = h.out();
    assert_eq!(out.len(), 2);
    assert_eq!(Message::parse(&out[0]).unwrap().code(), Code::CHANGED);
    h.answer(&out[1], Code::CONTENT, |b| {
        b.payload(b"ACME").unwrap();
    });
    let (rid, res) = h.response();
    assert_eq!(rid, id);
    assert!(res.is_ok());
}

#[test]
fn bootstrap_pack_request_answers_the_whole_configuration() {
    let mut h = Harness::new(ServerConfig::bootstrap(bs_config()));
    let r = h.call(Code::GET, &["bspack"], &["ep=dev"], None, b"");
    let m = Message::parse(&r).unwrap();
    assert_eq!((m.code(), m.content_format()), (Code::CONTENT, Some(112)));
    let (_, entries) =
        wire::decode_entries(Some(112), m.payload(), Path::ROOT, Default::default()).unwrap();
    assert!(entries.contains(&Entry::new(
        Path::resource(0, 1, 0),
        Value::str("coap://192.0.2.9:5683")
    )));
    assert!(entries.contains(&Entry::new(Path::resource(1, 0, 1), Value::Integer(60))));
    let r = h.call(Code::GET, &["bspack"], &["ep=stranger"], None, b"");
    assert_eq!(Message::parse(&r).unwrap().code(), Code::BAD_REQUEST);
}
