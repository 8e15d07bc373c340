//! State-machine tests of the client in virtual time, against a server
//! scripted with the CoAP codec: typed expectations on what the client
//! sends, exact instants for timers.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::coap::{Code, Message, MessageBuilder, MsgType, option};
use crate::dm::testutil::{self, Servers, Thing};
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
        let mut client = Client::new(Config::new("test-ep"), T0, 7).unwrap();
        let mut sec = testutil::Security::default();
        sec.state
            .insert(1, ("coap://s1.example".into(), false, 101));
        client.add_object(sec).unwrap();
        let mut srv = Servers::default().with(0, 101);
        if let Some(s) = srv.state.get_mut(&0) {
            s.1 = lifetime;
        }
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
