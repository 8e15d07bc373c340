//! State-machine tests of the client in virtual time, against a server
//! scripted with the CoAP codec: typed expectations on what the client
//! sends, exact instants for timers.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::coap::{Code, Message, MessageBuilder, MsgType, option};
use crate::dm::testutil::{self, Thing};
use crate::objects::{Security, SecurityInstance, Server, ServerInstance};
use crate::time::Duration;

struct Harness {
    client: Client,
    now: Instant,
    sent: Vec<(LinkId, Vec<u8>)>,
    events: Vec<Event>,
    mid: u16,
}

const T0: Instant = Instant::from_secs(100);

impl Harness {
    /// One DM server (SSID 101, coap://s1.example) plus test objects.
    fn new() -> Harness {
        Harness::with_lifetime(86400)
    }

    fn with_lifetime(lifetime: i64) -> Harness {
        Harness::with_server(ServerInstance::new(0, 101, lifetime))
    }

    fn with_server(srv: ServerInstance) -> Harness {
        let mut client = Client::new(Config::new("test-ep"), T0, 7).unwrap();
        let sec = Security::new(4).with(SecurityInstance::server(1, 101, "coap://s1.example"));
        client.add_object(sec).unwrap();
        let srv = Server::new(4).with(srv);
        client.add_object(srv).unwrap();
        let mut a0 = testutil::inst("a");
        a0.num = Some(1);
        a0.temp = 21.5;
        client
            .add_object(Thing::new(&testutil::THING_A).with(0, a0))
            .unwrap();
        Harness {
            client,
            now: T0,
            sent: Vec::new(),
            events: Vec::new(),
            mid: 0x100,
        }
    }

    fn drain(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
        let mut buf = [0u8; 2048];
        while let Some(t) = self.client.poll_transmit(&mut buf) {
            self.sent.push((t.link, buf[..t.len].to_vec()));
        }
    }

    /// Runs every timer due up to `self.now`.
    fn run(&mut self) {
        for _ in 0..100 {
            match self.client.poll_timeout() {
                Some(t) if t <= self.now => {
                    self.client.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.drain();
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.run();
    }

    /// Jumps to the next timer.
    fn next(&mut self) -> TimerReason {
        let (t, r) = self.client.next_timer().unwrap();
        self.now = self.now.max(t);
        self.run();
        r
    }

    fn take(&mut self) -> Vec<(LinkId, Vec<u8>)> {
        core::mem::take(&mut self.sent)
    }

    fn deliver(&mut self, link: LinkId, bytes: &[u8]) {
        self.client.handle_datagram(self.now, link, bytes);
        self.drain();
    }

    /// Answers the client's request `req` piggybacked.
    fn answer(
        &mut self,
        link: LinkId,
        req: &[u8],
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>),
    ) {
        let m = Message::parse(req).unwrap();
        let mut buf = [0u8; 512];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid(), m.token_bytes()).unwrap();
        build(&mut b);
        let n = b.finish();
        self.deliver(link, &buf[..n]);
    }

    /// Sends a request of the server to the client.
    fn request(
        &mut self,
        link: LinkId,
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> u16 {
        self.mid += 1;
        let mid = self.mid;
        let mut buf = [0u8; 1024];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Con, code, mid, &[0xaa, mid as u8]).unwrap();
        build(&mut b);
        let n = b.finish();
        self.deliver(link, &buf[..n]);
        mid
    }

    /// Registers and returns the link.
    fn register(&mut self) -> LinkId {
        self.run();
        let (link, reg) = self.take().pop().expect("a Register");
        self.answer(link, &reg, Code::CREATED, |b| {
            b.option(option::LOCATION_PATH, b"rd").unwrap();
            b.option(option::LOCATION_PATH, b"5a3f").unwrap();
        });
        assert!(self.client.is_registered(101));
        link
    }

    fn response_to(&mut self, mid: u16) -> Vec<u8> {
        let i = self
            .sent
            .iter()
            .position(|(_, b)| {
                Message::parse(b).is_ok_and(|m| m.mid() == mid && m.mtype() == MsgType::Ack)
            })
            .expect("a response");
        self.sent.remove(i).1
    }
}

fn queries(m: &Message<'_>) -> Vec<String> {
    m.uri_query()
        .map(|q| String::from_utf8(q.to_vec()).unwrap())
        .collect()
}

#[test]
fn registers_with_the_configured_server() {
    let mut h = Harness::new();
    h.run();
    let open = h.events.iter().find_map(|e| match e {
        Event::Open { link, uri } => Some((*link, uri.clone())),
        _ => None,
    });
    let (link, uri) = open.expect("Open");
    assert_eq!(
        (uri.host.as_str(), uri.port, uri.secure),
        ("s1.example", 5683, false)
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    let m = Message::parse(&sent[0].1).unwrap();
    assert_eq!((m.mtype(), m.code()), (MsgType::Con, Code::POST));
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"rd"[..]]);
    assert_eq!(queries(&m), ["ep=test-ep", "lt=86400", "lwm2m=1.1", "b=U"]);
    assert_eq!(m.content_format(), Some(40));
    let payload = core::str::from_utf8(m.payload()).unwrap();
    assert!(
        payload.contains("</1/0>") && payload.contains("</1000/0>"),
        "{payload}"
    );
    assert!(
        !payload.contains("</0"),
        "Security is never listed: {payload}"
    );
    h.answer(link, &sent[0].1, Code::CREATED, |b| {
        b.option(option::LOCATION_PATH, b"rd").unwrap();
        b.option(option::LOCATION_PATH, b"5a3f").unwrap();
    });
    assert!(h.events.contains(&Event::Registered { ssid: 101 }));
    // The Update is due MAX_TRANSMIT_WAIT (93 s) before the lifetime ends.
    assert_eq!(
        h.client.next_timer(),
        Some((
            T0 + Duration::from_secs(86400 - 93),
            TimerReason::Update(101)
        ))
    );
}

#[test]
fn update_before_expiry_and_reregister_on_404() {
    let mut h = Harness::with_lifetime(60);
    let link = h.register();
    assert_eq!(h.next(), TimerReason::Update(101));
    assert_eq!(h.now, T0 + Duration::from_secs(30));
    let (_, upd) = h.take().pop().unwrap();
    let m = Message::parse(&upd).unwrap();
    assert_eq!(m.code(), Code::POST);
    assert_eq!(
        m.uri_path().collect::<Vec<_>>(),
        vec![&b"rd"[..], &b"5a3f"[..]]
    );
    assert!(
        m.payload().is_empty(),
        "no object list when nothing changed"
    );
    h.answer(link, &upd, Code::NOT_FOUND, |_| {});
    // §6.2.2: the server forgot us: Register again at once.
    let again = h.take();
    let m = Message::parse(&again.last().unwrap().1).unwrap();
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"rd"[..]]);
    assert!(queries(&m).contains(&"ep=test-ep".into()));
}

#[test]
fn unreachable_server_is_retried_with_backoff() {
    let mut h = Harness::new();
    h.run();
    // No answer: the CoAP layer retransmits and gives up (MAX_TRANSMIT_WAIT).
    for _ in 0..10 {
        if h.events
            .iter()
            .any(|e| matches!(e, Event::RegistrationFailed { .. }))
        {
            break;
        }
        h.next();
    }
    assert!(h.events.contains(&Event::RegistrationFailed {
        ssid: 101,
        reason: Failure::Timeout
    }));
    let failed_at = h.now;
    // Communication Retry Timer default 60 s for the first retry.
    assert_eq!(
        h.client.next_timer(),
        Some((
            failed_at + Duration::from_secs(60),
            TimerReason::Register(101)
        ))
    );
}

#[test]
fn read_is_answered_piggybacked_in_the_negotiated_format() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    let mid = h.request(link, Code::GET, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
    });
    let r = h.response_to(mid);
    let m = Message::parse(&r).unwrap();
    assert_eq!(
        (m.code(), m.content_format(), m.payload()),
        (Code::CONTENT, Some(0), &b"a"[..])
    );
    // Accept TLV on the instance.
    let mid = h.request(link, Code::GET, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.uint_option(option::ACCEPT, 11542).unwrap();
    });
    let m_bytes = h.response_to(mid);
    let m = Message::parse(&m_bytes).unwrap();
    assert_eq!((m.code(), m.content_format()), (Code::CONTENT, Some(11542)));
    // Accept a format that cannot carry an instance: 4.06.
    let mid = h.request(link, Code::GET, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.uint_option(option::ACCEPT, 0).unwrap();
    });
    let r = h.response_to(mid);
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_ACCEPTABLE);
    // A missing instance: 4.04.
    let mid = h.request(link, Code::GET, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.option(option::URI_PATH, b"9").unwrap();
    });
    let r = h.response_to(mid);
    assert_eq!(Message::parse(&r).unwrap().code(), Code::NOT_FOUND);
}

#[test]
fn write_of_the_lifetime_triggers_an_update_with_lt() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    let mid = h.request(link, Code::PUT, |b| {
        b.option(option::URI_PATH, b"1").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.option(option::URI_PATH, b"1").unwrap();
        b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
        b.payload(b"300").unwrap();
    });
    let r = h.response_to(mid);
    assert_eq!(Message::parse(&r).unwrap().code(), Code::CHANGED);
    assert!(h.events.contains(&Event::Persist));
    h.run();
    let (_, upd) = h.take().pop().expect("an Update");
    let m = Message::parse(&upd).unwrap();
    assert_eq!(
        m.uri_path().collect::<Vec<_>>(),
        vec![&b"rd"[..], &b"5a3f"[..]]
    );
    assert_eq!(queries(&m), ["lt=300"]);
}

#[test]
fn observation_honours_pmin_and_pmax_in_virtual_time() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    // pmin=10, pmax=60 on the temperature resource.
    let mid = h.request(link, Code::PUT, |b| {
        for s in [&b"1000"[..], b"0", b"3"] {
            b.option(option::URI_PATH, s).unwrap();
        }
        b.option(option::URI_QUERY, b"pmin=10").unwrap();
        b.option(option::URI_QUERY, b"pmax=60").unwrap();
    });
    assert_eq!(
        Message::parse(&h.response_to(mid)).unwrap().code(),
        Code::CHANGED
    );
    let mid = h.request(link, Code::GET, |b| {
        b.uint_option(option::OBSERVE, 0).unwrap();
        for s in [&b"1000"[..], b"0", b"3"] {
            b.option(option::URI_PATH, s).unwrap();
        }
    });
    let first = h.response_to(mid);
    let m = Message::parse(&first).unwrap();
    assert_eq!(m.code(), Code::CONTENT);
    assert!(m.observe().is_some());
    assert_eq!(h.client.observation_count(), 1);
    let registered_at = h.now;
    // A change at +1 s is held until pmin (+10 s).
    h.advance(Duration::from_secs(1));
    h.client.notify_changed(Path::resource(1000, 0, 3));
    h.run();
    assert!(h.take().is_empty(), "nothing before pmin");
    assert_eq!(h.next(), TimerReason::Notify(101));
    assert_eq!(h.now, registered_at + Duration::from_secs(10));
    let n = h.take();
    assert_eq!(n.len(), 1);
    let m = Message::parse(&n[0].1).unwrap();
    assert_eq!((m.mtype(), m.code()), (MsgType::Non, Code::CONTENT));
    assert_eq!(m.token_bytes().len(), 2);
    // No change: the next one goes out at pmax after the last.
    let notified_at = h.now;
    loop {
        let r = h.next();
        if r == TimerReason::Notify(101) {
            break;
        }
    }
    assert_eq!(h.now, notified_at + Duration::from_secs(60));
    assert_eq!(h.take().len(), 1);
}

#[test]
fn large_register_goes_block1_and_follows_a_smaller_block_size() {
    let mut h = Harness::new();
    let mut many = Thing::new(&testutil::THING_B);
    for i in 0..200 {
        many = many.with(i, testutil::inst("x"));
    }
    h.client.add_object(many).unwrap();
    h.run();
    let mut body = Vec::new();
    let mut expect_num = 0;
    let mut first = true;
    loop {
        let (link, req) = h.take().pop().expect("a block");
        let m = Message::parse(&req).unwrap();
        assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"rd"[..]]);
        assert!(
            queries(&m).contains(&"ep=test-ep".into()),
            "every block carries the options"
        );
        let b = m.block1().unwrap().unwrap();
        assert_eq!(b.num, expect_num);
        if first {
            assert_eq!(b.size(), 1024);
            assert!(m.size1().unwrap() > 1024);
        }
        body.extend_from_slice(m.payload());
        if !b.more {
            h.answer(link, &req, Code::CREATED, |r| {
                r.option(option::LOCATION_PATH, b"rd").unwrap();
                r.option(option::LOCATION_PATH, b"1").unwrap();
                r.block_option(option::BLOCK1, b).unwrap();
            });
            break;
        }
        // After the first block the server asks for 256-byte blocks
        // (RFC 7959 §2.5: the client continues at the same offset).
        let echo = if first {
            crate::coap::Block {
                num: 0,
                more: true,
                szx: 4,
            }
        } else {
            b
        };
        expect_num = if first { 4 } else { b.num + 1 };
        first = false;
        h.answer(link, &req, Code::CONTINUE, |r| {
            r.block_option(option::BLOCK1, echo).unwrap();
        });
    }
    assert!(h.client.is_registered(101));
    let text = core::str::from_utf8(&body).unwrap();
    assert!(
        text.contains("</1001/0>") && text.contains("</1001/199>"),
        "whole list: {}",
        text.len()
    );
}

/// Encodes `entries` under `base` in SenML JSON.
fn senml(base: Path, entries: &[(Path, crate::dm::Value<'static>)]) -> Vec<u8> {
    use crate::content::{Encode, Encoder, Entry, Format};
    let mut buf = [0u8; 1024];
    let mut w = crate::buf::Writer::new(&mut buf);
    let mut e = Encoder::new(Format::SenmlJson, base).unwrap();
    e.begin(&mut w).unwrap();
    for (p, v) in entries {
        e.put(&mut w, &Entry::new(*p, v.clone())).unwrap();
    }
    e.end(&mut w).unwrap();
    w.written().to_vec()
}

fn bootstrap_harness() -> Harness {
    let mut client = Client::new(Config::new("test-ep"), T0, 9).unwrap();
    let sec = Security::new(4).with(SecurityInstance::bootstrap(0, "coap://bs.example"));
    client.add_object(sec).unwrap();
    client.add_object(Server::new(4)).unwrap();
    Harness {
        client,
        now: T0,
        sent: Vec::new(),
        events: Vec::new(),
        mid: 0x200,
    }
}

/// Runs Bootstrap-Request and the given writes; returns the link and the
/// answer to Bootstrap-Finish.
fn bootstrap_with(h: &mut Harness, server_ssid: i64) -> (LinkId, Code) {
    use crate::dm::Value;
    h.run();
    let (link, req) = h.take().pop().expect("Bootstrap-Request");
    let m = Message::parse(&req).unwrap();
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"bs"[..]]);
    assert_eq!(queries(&m), ["ep=test-ep", "pct=112"]);
    h.answer(link, &req, Code::CHANGED, |_| {});
    assert!(h.events.contains(&Event::BootstrapStarted));
    let sec = senml(
        Path::instance(0, 1),
        &[
            (Path::resource(0, 1, 0), Value::str("coap://s1.example")),
            (Path::resource(0, 1, 1), Value::Boolean(false)),
            (Path::resource(0, 1, 2), Value::Integer(3)),
            (Path::resource(0, 1, 10), Value::Integer(101)),
        ],
    );
    let mid = h.request(link, Code::PUT, |b| {
        b.option(option::URI_PATH, b"0").unwrap();
        b.option(option::URI_PATH, b"1").unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(&sec).unwrap();
    });
    assert_eq!(
        Message::parse(&h.response_to(mid)).unwrap().code(),
        Code::CHANGED
    );
    let srv = senml(
        Path::instance(1, 0),
        &[
            (Path::resource(1, 0, 0), Value::Integer(server_ssid)),
            (Path::resource(1, 0, 1), Value::Integer(300)),
            (Path::resource(1, 0, 7), Value::str("U")),
        ],
    );
    let mid = h.request(link, Code::PUT, |b| {
        b.option(option::URI_PATH, b"1").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(&srv).unwrap();
    });
    assert_eq!(
        Message::parse(&h.response_to(mid)).unwrap().code(),
        Code::CHANGED
    );
    let mid = h.request(link, Code::POST, |b| {
        b.option(option::URI_PATH, b"bs").unwrap();
    });
    let code = Message::parse(&h.response_to(mid)).unwrap().code();
    (link, code)
}

#[test]
fn client_initiated_bootstrap_then_register() {
    let mut h = bootstrap_harness();
    let (_, finish) = bootstrap_with(&mut h, 101);
    assert_eq!(finish, Code::CHANGED);
    assert!(h.events.contains(&Event::BootstrapFinished));
    assert!(h.events.contains(&Event::Persist));
    h.run();
    let reg = h.take();
    let m = Message::parse(&reg.last().expect("Register").1).unwrap();
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"rd"[..]]);
    assert!(queries(&m).contains(&"lt=300".into()));
}

#[test]
fn bootstrap_with_a_broken_configuration_rolls_back_exactly() {
    let mut h = bootstrap_harness();
    let before: Vec<_> = crate::objects::security::endpoints(h.client.registry())
        .map(|e| (e.iid, e.uri.into_owned(), e.bootstrap))
        .collect();
    // A Server instance whose SSID has no Security instance.
    let (_, finish) = bootstrap_with(&mut h, 102);
    assert_eq!(finish, Code::NOT_ACCEPTABLE);
    assert!(!h.client.in_bootstrap());
    let after: Vec<_> = crate::objects::security::endpoints(h.client.registry())
        .map(|e| (e.iid, e.uri.into_owned(), e.bootstrap))
        .collect();
    assert_eq!(before, after, "Security back to the bootstrap account only");
    assert_eq!(
        crate::objects::server::accounts(h.client.registry()).count(),
        0
    );
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, Event::BootstrapFailed { .. }))
    );
}

#[test]
fn dm_requests_during_bootstrap_get_503() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    // Open a session as a Bootstrap-Server request would, and knock from
    // the DM side (SPEC §1 guarantee 6: only the Bootstrap-Server is served).
    h.client.dm.begin_session().unwrap();
    h.client.bootstrap = bootstrap::BootstrapState::Session {
        deadline: h.now + Duration::from_secs(60),
        attempt: 0,
    };
    let mid = h.request(link, Code::GET, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
    });
    let r = h.response_to(mid);
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.code(), Code::SERVICE_UNAVAILABLE);
    assert!(m.max_age().is_some());
    // The session times out and rolls back; the DM server is served again.
    h.advance(Duration::from_secs(61));
    assert!(!h.client.in_bootstrap());
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::BootstrapFailed {
            reason: Failure::Timeout
        }
    )));
}

#[test]
fn send_goes_to_dp_and_completes() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    // Mute Send defaults to true when the resource is absent (E.2).
    assert_eq!(
        h.client.send(101, &[Path::resource(1000, 0, 3)]),
        Err(SendError::Muted)
    );
    // An absent optional resource is added by a partial update of its
    // instance (a Write to its own path would be 4.04).
    let body = senml(
        Path::instance(1, 0),
        &[(Path::resource(1, 0, 23), crate::dm::Value::Boolean(false))],
    );
    let mid = h.request(link, Code::POST, |b| {
        b.option(option::URI_PATH, b"1").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(&body).unwrap();
    });
    assert_eq!(
        Message::parse(&h.response_to(mid)).unwrap().code(),
        Code::CHANGED
    );
    h.run();
    h.take();
    let id = h.client.send(101, &[Path::resource(1000, 0, 3)]).unwrap();
    h.run();
    let (l, req) = h.take().pop().expect("Send");
    let m = Message::parse(&req).unwrap();
    assert_eq!((m.code(), m.content_format()), (Code::POST, Some(112)));
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"dp"[..]]);
    h.answer(l, &req, Code::CHANGED, |_| {});
    assert!(h.events.contains(&Event::SendDone { id, ok: true }));
    assert_eq!(h.client.send(7, &[]), Err(SendError::NotRegistered));
}

#[test]
fn queue_mode_stores_while_asleep_and_wakes_with_an_update() {
    let mut h = Harness::with_server(ServerInstance::new(0, 101, 86400).with_binding("UQ"));
    h.run();
    let (link, reg) = h.take().pop().unwrap();
    let m = Message::parse(&reg).unwrap();
    assert_eq!(
        queries(&m),
        ["ep=test-ep", "lt=86400", "lwm2m=1.1", "b=U", "Q"]
    );
    h.answer(link, &reg, Code::CREATED, |b| {
        b.option(option::LOCATION_PATH, b"rd").unwrap();
        b.option(option::LOCATION_PATH, b"q1").unwrap();
    });
    let mid = h.request(link, Code::GET, |b| {
        b.uint_option(option::OBSERVE, 0).unwrap();
        for s in [&b"1000"[..], b"0", b"3"] {
            b.option(option::URI_PATH, s).unwrap();
        }
    });
    h.response_to(mid);
    // Quiet for longer than the queue-mode window (93 s): asleep.
    h.advance(Duration::from_secs(100));
    h.take();
    h.client.notify_changed(Path::resource(1000, 0, 3));
    h.run();
    let sent = h.take();
    assert_eq!(
        sent.len(),
        1,
        "only the wake-up Update, the notification waits"
    );
    let m = Message::parse(&sent[0].1).unwrap();
    assert_eq!(
        m.uri_path().collect::<Vec<_>>(),
        vec![&b"rd"[..], &b"q1"[..]]
    );
    h.answer(link, &sent[0].1, Code::CHANGED, |_| {});
    let after = h.take();
    assert_eq!(after.len(), 1, "the stored notification follows the Update");
    let n = Message::parse(&after[0].1).unwrap();
    assert_eq!(n.code(), Code::CONTENT);
    assert!(n.observe().is_some());
}

fn observe(h: &mut Harness, link: LinkId, path: &[&[u8]]) -> Vec<u8> {
    let mid = h.request(link, Code::GET, |b| {
        b.uint_option(option::OBSERVE, 0).unwrap();
        for s in path {
            b.option(option::URI_PATH, s).unwrap();
        }
    });
    h.response_to(mid)
}

#[test]
fn deleting_an_observed_instance_sends_a_final_404() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    let first = observe(&mut h, link, &[b"1000", b"0", b"3"]);
    let token = Message::parse(&first).unwrap().token_bytes().to_vec();
    let mid = h.request(link, Code::DELETE, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
    });
    assert_eq!(
        Message::parse(&h.response_to(mid)).unwrap().code(),
        Code::DELETED
    );
    let mut n = h.take();
    let last = n
        .iter()
        .map(|(_, b)| Message::parse(b).unwrap())
        .find(|m| m.token_bytes() == token.as_slice())
        .expect("a final notification");
    assert_eq!(last.code(), Code::NOT_FOUND);
    assert_eq!(h.client.observation_count(), 0);
    // The object list changed: an Update with the new list follows.
    h.run();
    n.extend(h.take());
    let update = n
        .iter()
        .map(|(_, b)| Message::parse(b).unwrap())
        .find(|m| m.code() == Code::POST && m.uri_path().count() == 2)
        .expect("an Update");
    assert!(
        !core::str::from_utf8(update.payload())
            .unwrap()
            .contains("</1000/0>")
    );
}

#[test]
fn a_reset_notification_cancels_the_observation() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    observe(&mut h, link, &[b"1000", b"0", b"3"]);
    assert_eq!(h.client.observation_count(), 1);
    h.advance(Duration::from_secs(1));
    h.client.notify_changed(Path::resource(1000, 0, 3));
    h.run();
    let (_, n) = h.take().pop().expect("a notification");
    let m = Message::parse(&n).unwrap();
    let mut rst = [0u8; 4];
    let len = crate::coap::emit_empty(&mut rst, MsgType::Rst, m.mid()).unwrap();
    h.deliver(link, &rst[..len]);
    assert_eq!(h.client.observation_count(), 0);
    h.advance(Duration::from_secs(1));
    h.client.notify_changed(Path::resource(1000, 0, 3));
    h.run();
    assert!(h.take().is_empty(), "no notification after RST");
}

#[test]
fn lwm2m_1_0_registers_with_the_1_0_binding() {
    let mut client = Client::new(
        {
            let mut c = Config::new("old");
            c.version = crate::dm::Lwm2mVersion::V1_0;
            c
        },
        T0,
        1,
    )
    .unwrap();
    client
        .add_object(Security::new(2).with(SecurityInstance::server(1, 101, "coap://s1.example")))
        .unwrap();
    client
        .add_object(Server::new(2).with(ServerInstance::new(0, 101, 600).with_binding("UQ")))
        .unwrap();
    let mut h = Harness {
        client,
        now: T0,
        sent: Vec::new(),
        events: Vec::new(),
        mid: 1,
    };
    h.run();
    let (_, reg) = h.take().pop().unwrap();
    let m = Message::parse(&reg).unwrap();
    assert_eq!(queries(&m), ["ep=old", "lt=600", "lwm2m=1.0", "b=UQ"]);
}

#[test]
fn observations_and_stored_notifications_survive_a_restart() {
    let mut h = Harness::with_server({
        let mut s = ServerInstance::new(0, 101, 86400);
        s.notification_storing = true;
        s
    });
    let link = h.register();
    h.take();
    let first = observe(&mut h, link, &[b"1000", b"0", b"3"]);
    let first = Message::parse(&first).unwrap();
    let (token, seq0) = (first.token_bytes().to_vec(), first.observe().unwrap());
    // The server goes away: the Update gets no answer, the registration lapses.
    h.client.trigger_update(Some(101));
    for _ in 0..20 {
        if !h.client.is_registered(101) {
            break;
        }
        h.next();
    }
    assert!(!h.client.is_registered(101));
    h.client.notify_changed(Path::resource(1000, 0, 3));
    h.advance(Duration::from_secs(1));
    let observations = h.client.export_observations();
    let stored = h.client.export_stored();
    // A new process restores both and registers again.
    let mut h2 = Harness::new();
    assert_eq!(h2.client.import_observations(&observations), Ok(1));
    assert_eq!(h2.client.import_stored(&stored), Ok(1));
    let link2 = h2.register();
    let sent = h2.take();
    let n = sent
        .iter()
        .map(|(_, b)| Message::parse(b).unwrap())
        .find(|m| m.token_bytes() == token.as_slice())
        .expect("the stored notification, on the old token");
    assert!(
        n.observe().unwrap() > seq0,
        "sequence continues after the restart"
    );
    assert_eq!(h2.client.observation_count(), 1);
    // And the observation lives on: a new change notifies on the same token.
    h2.advance(Duration::from_secs(1));
    h2.client.notify_changed(Path::resource(1000, 0, 3));
    h2.run();
    let again = h2.take();
    assert!(
        again
            .iter()
            .any(|(l, b)| *l == link2
                && Message::parse(b).unwrap().token_bytes() == token.as_slice())
    );
}

#[test]
fn a_server_deleting_its_own_account_still_gets_its_answer() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    h.events.clear();
    let mid = h.request(link, Code::DELETE, |b| {
        b.option(option::URI_PATH, b"1").unwrap();
        b.option(option::URI_PATH, b"0").unwrap();
    });
    let r = h.response_to(mid);
    assert_eq!(Message::parse(&r).unwrap().code(), Code::DELETED);
    // The link closes after its last datagram.
    h.run();
    assert!(h.events.contains(&Event::Close { link }));
    assert!(!h.client.is_registered(101));
}

#[test]
fn deregister_during_register_waits_for_the_answer_then_deregisters() {
    let mut h = Harness::new();
    h.run();
    let (link, reg) = h.take().pop().expect("a Register");
    h.client.deregister();
    h.run();
    assert!(!h.client.is_stopped(), "the Register may be on the server");
    assert!(h.take().is_empty());
    h.answer(link, &reg, Code::CREATED, |b| {
        b.option(option::LOCATION_PATH, b"rd").unwrap();
        b.option(option::LOCATION_PATH, b"9").unwrap();
    });
    h.run();
    let (_, d) = h.take().pop().expect("a De-register");
    let m = Message::parse(&d).unwrap();
    assert_eq!(m.code(), Code::DELETE);
    h.answer(link, &d, Code::DELETED, |_| {});
    assert!(h.client.is_stopped());
    assert!(h.events.contains(&Event::Deregistered { ssid: 101 }));
}

#[test]
fn create_keeps_the_instance_id_of_the_tlv_header() {
    let mut h = Harness::new();
    let link = h.register();
    h.take();
    // An Object Instance TLV with id 7 holding the mandatory resource 0;
    // the id comes from the instance header.
    let mid = h.request(link, Code::POST, |b| {
        b.option(option::URI_PATH, b"1000").unwrap();
        b.uint_option(option::CONTENT_FORMAT, 11542).unwrap();
        b.payload(&[0x08, 0x07, 0x03, 0xc1, 0x00, b'x']).unwrap();
    });
    let r = h.response_to(mid);
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.code(), Code::CREATED);
    assert_eq!(
        m.location_path().collect::<Vec<_>>(),
        vec![&b"1000"[..], &b"7"[..]]
    );
}
