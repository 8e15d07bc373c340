//! The engine's DTLS wiring in virtual time, with a scripted session
//! instead of a real backend: handshake failures reported and retried with
//! back-off beside a NoSec server, reconnection with the kept session after
//! a secure request timed out, refused records counted, no backend at all.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::coap::{Code, Message, MessageBuilder, MsgType};
use crate::objects::{Security, SecurityInstance, Server, ServerInstance};
use crate::session::{
    ClientParams, FailReason, SecurityMode, Session, SessionError, SessionFactory, SessionState,
    SessionStats,
};
use crate::time::Duration;

/// The peer's handshake answers, as the scripted session reads them.
const HELLO: &[u8] = b"\x16hello";
const ACCEPT: &[u8] = b"\x16accept";
const REJECT: &[u8] = b"\x15reject";

/// A "DTLS" session with a null cipher: `start` sends [`HELLO`],
/// [`ACCEPT`] establishes, [`REJECT`] fails with a wrong PSK; established,
/// CoAP passes through and anything else is refused and counted.
struct Scripted {
    state: SessionState,
    out: Vec<Vec<u8>>,
    deadline: Option<Instant>,
    stats: SessionStats,
    starts: Arc<AtomicU32>,
}

impl Session for Scripted {
    fn start(&mut self, now: Instant) -> Result<(), SessionError> {
        self.starts.fetch_add(1, Ordering::SeqCst);
        self.state = SessionState::Handshaking;
        self.out.push(HELLO.to_vec());
        self.deadline = Some(now + Duration::from_secs(10));
        Ok(())
    }

    fn handle_datagram(
        &mut self,
        _now: Instant,
        record: &[u8],
        plaintext_out: &mut [u8],
    ) -> Result<Option<usize>, SessionError> {
        match (self.state, record) {
            (SessionState::Handshaking, ACCEPT) => {
                self.state = SessionState::Established;
                self.deadline = None;
                Ok(None)
            }
            (SessionState::Handshaking, REJECT) => {
                self.state = SessionState::Failed(FailReason::BadPsk);
                self.deadline = None;
                Err(SessionError::Failed(FailReason::BadPsk))
            }
            (SessionState::Established, [0x40..=0x7f, ..]) => {
                let dst = plaintext_out
                    .get_mut(..record.len())
                    .ok_or(SessionError::BufferTooSmall)?;
                dst.copy_from_slice(record);
                Ok(Some(record.len()))
            }
            _ => {
                self.stats.rejected += 1;
                Ok(None)
            }
        }
    }

    fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, SessionError> {
        if self.state != SessionState::Established {
            return Err(SessionError::NotEstablished);
        }
        let dst = out
            .get_mut(..plaintext.len())
            .ok_or(SessionError::BufferTooSmall)?;
        dst.copy_from_slice(plaintext);
        Ok(plaintext.len())
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut [u8]) -> Option<usize> {
        if self.out.is_empty() {
            return None;
        }
        let d = self.out.remove(0);
        out.get_mut(..d.len())?.copy_from_slice(&d);
        Some(d.len())
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| d <= now) {
            self.state = SessionState::Failed(FailReason::Timeout);
            self.deadline = None;
        }
    }

    fn state(&self) -> SessionState {
        self.state
    }

    fn close(&mut self) {
        self.state = SessionState::Closed;
        self.deadline = None;
    }

    fn max_plaintext(&self) -> usize {
        1024
    }

    fn stats(&self) -> SessionStats {
        self.stats
    }
}

#[derive(Default)]
struct Factory {
    opened: AtomicU32,
    starts: Arc<AtomicU32>,
}

impl SessionFactory for Factory {
    fn open(&self, params: &ClientParams<'_>) -> Result<Box<dyn Session>, SessionError> {
        if params.mode != SecurityMode::Psk {
            return Err(SessionError::UnsupportedMode(params.mode));
        }
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(Scripted {
            state: SessionState::Idle,
            out: Vec::new(),
            deadline: None,
            stats: SessionStats::default(),
            starts: self.starts.clone(),
        }))
    }
}

const T0: Instant = Instant::from_secs(100);

struct H {
    client: Client,
    now: Instant,
    sent: Vec<(LinkId, Vec<u8>)>,
    events: Vec<Event>,
}

impl H {
    /// Accounts: (SSID, URI, PSK?) each with a Communication Retry Timer
    /// of 30 s.
    fn new(factory: Option<Arc<Factory>>, accounts: &[(u16, &str, bool)]) -> H {
        let mut config = Config::new("dtls-ep");
        config.sessions = factory.map(|f| f as Arc<dyn SessionFactory>);
        config.transmission.ack_timeout = Duration::from_secs(1);
        config.transmission.max_retransmit = 1;
        let mut client = Client::new(config, T0, 3).unwrap();
        let mut sec = Security::new(4);
        let mut srv = Server::new(4);
        for (i, (ssid, uri, psk)) in accounts.iter().enumerate() {
            let mut s = SecurityInstance::server(i as u16, *ssid, uri);
            if *psk {
                s = s.with_psk(b"id", b"key");
            }
            sec = sec.with(s);
            let mut a = ServerInstance::new(i as u16, *ssid, 3600);
            a.communication_retry_timer = Some(30);
            srv = srv.with(a);
        }
        client.add_object(sec).unwrap();
        client.add_object(srv).unwrap();
        H {
            client,
            now: T0,
            sent: Vec::new(),
            events: Vec::new(),
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

    fn deliver(&mut self, link: LinkId, bytes: &[u8]) {
        self.client.handle_datagram(self.now, link, bytes);
        self.drain();
    }

    fn link_of(&self, ssid: u16) -> LinkId {
        let want = if ssid == 1 {
            "coap://a.example"
        } else {
            "coaps://b.example"
        };
        self.client
            .links()
            .find(|(_, u)| want.contains(u.host.as_str()))
            .map(|(l, _)| l)
            .unwrap()
    }

    fn sent_on(&mut self, link: LinkId) -> Vec<Vec<u8>> {
        let (mine, rest) = core::mem::take(&mut self.sent)
            .into_iter()
            .partition(|(l, _)| *l == link);
        self.sent = rest;
        mine.into_iter().map(|(_, d)| d).collect()
    }

    fn created(&mut self, link: LinkId, req: &[u8]) {
        let m = Message::parse(req).unwrap();
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MsgType::Ack,
            Code::CREATED,
            m.mid(),
            m.token_bytes(),
        )
        .unwrap();
        b.option(crate::coap::option::LOCATION_PATH, b"rd").unwrap();
        b.option(crate::coap::option::LOCATION_PATH, b"x").unwrap();
        let n = b.finish();
        self.deliver(link, &buf[..n]);
    }

    fn count(&self, want: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| want(e)).count()
    }
}

fn is_register(d: &[u8]) -> bool {
    Message::parse(d).is_ok_and(|m| m.code() == Code::POST)
}

#[test]
fn a_failed_handshake_is_reported_and_retried_with_back_off_beside_a_nosec_server() {
    let f = Arc::new(Factory::default());
    let mut h = H::new(
        Some(f.clone()),
        &[
            (1, "coap://a.example", false),
            (2, "coaps://b.example", true),
        ],
    );
    h.run();
    let (a, b) = (h.link_of(1), h.link_of(2));
    assert_eq!(h.sent_on(b), alloc::vec![HELLO.to_vec()]);
    let reg = h.sent_on(a);
    assert!(is_register(&reg[0]));

    h.deliver(b, REJECT);
    assert_eq!(
        h.count(|e| *e
            == Event::SessionFailed {
                ssid: Some(2),
                error: SessionError::Failed(FailReason::BadPsk)
            }),
        1
    );
    assert_eq!(
        h.count(|e| *e
            == Event::RegistrationFailed {
                ssid: 2,
                reason: Failure::Handshake
            }),
        1
    );
    // The NoSec server is unaffected.
    h.created(a, &reg[0]);
    assert!(h.client.is_registered(1));
    h.run();
    // Retried after the Communication Retry Timer (Core 1.1 §6.2.1.1),
    // not before, on a new link, with the session kept from the old one.
    assert_eq!(
        h.client.next_timer(),
        Some((h.now + Duration::from_secs(30), TimerReason::Register(2)))
    );
    h.advance(Duration::from_secs(29));
    assert!(h.sent.is_empty());
    h.advance(Duration::from_secs(1));
    let b2 = h.link_of(2);
    assert_ne!(b2, b);
    assert!(h.events.contains(&Event::Close { link: b }));
    assert_eq!(h.sent_on(b2), alloc::vec![HELLO.to_vec()]);
    assert_eq!(f.opened.load(Ordering::SeqCst), 1);
    assert_eq!(f.starts.load(Ordering::SeqCst), 2);
    h.deliver(b2, ACCEPT);
    let reg = h.sent_on(b2);
    assert!(is_register(&reg[0]), "Register once established");
    h.created(b2, &reg[0]);
    assert!(h.client.is_registered(2));
}

#[test]
fn a_timed_out_secure_update_reconnects_with_a_new_handshake() {
    let f = Arc::new(Factory::default());
    let mut h = H::new(Some(f.clone()), &[(2, "coaps://b.example", true)]);
    h.run();
    let b = h.link_of(2);
    h.sent_on(b);
    h.deliver(b, ACCEPT);
    let reg = h.sent_on(b);
    h.created(b, &reg[0]);
    assert!(h.client.is_registered(2));

    // The server restarted and drops our records: the Update times out.
    h.client.trigger_update(None);
    h.run();
    assert_eq!(h.sent_on(b).len(), 1);
    let timed_out = |h: &H| {
        h.count(|e| {
            *e == Event::RegistrationFailed {
                ssid: 2,
                reason: Failure::Timeout,
            }
        })
    };
    for _ in 0..60 {
        if timed_out(&h) > 0 {
            break;
        }
        h.advance(Duration::from_millis(500));
    }
    assert_eq!(
        h.count(|e| *e
            == Event::RegistrationFailed {
                ssid: 2,
                reason: Failure::Timeout
            }),
        1
    );
    let b2 = h.link_of(2);
    assert_ne!(b2, b, "a new link");
    assert!(h.events.contains(&Event::Close { link: b }));
    let out = h.sent_on(b2);
    assert!(out.contains(&HELLO.to_vec()), "a new handshake: {out:?}");
    assert_eq!(f.starts.load(Ordering::SeqCst), 2, "the kept session");
    h.deliver(b2, ACCEPT);
    let reg = h.sent_on(b2);
    assert!(is_register(&reg[0]));
}

#[test]
fn refused_records_are_counted_and_never_passed_up() {
    let f = Arc::new(Factory::default());
    let mut h = H::new(Some(f), &[(2, "coaps://b.example", true)]);
    h.run();
    let b = h.link_of(2);
    h.deliver(b, ACCEPT);
    h.sent.clear();
    let before = h.client.stats().dropped;
    h.deliver(b, b"\x17forged");
    h.deliver(b, b"\xffgarbage");
    assert_eq!(h.client.stats().dropped, before + 2);
    assert!(h.sent.is_empty());
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::SessionFailed { .. }))
    );
}

#[test]
fn without_a_backend_a_secure_server_is_a_clear_configuration_error() {
    let mut h = H::new(
        None,
        &[
            (1, "coap://a.example", false),
            (2, "coaps://b.example", true),
        ],
    );
    h.run();
    assert!(h.events.contains(&Event::SessionFailed {
        ssid: Some(2),
        error: SessionError::UnsupportedMode(SecurityMode::Psk)
    }));
    assert!(h.events.contains(&Event::RegistrationFailed {
        ssid: 2,
        reason: Failure::BadConfiguration
    }));
    let a = h.link_of(1);
    assert!(is_register(&h.sent_on(a)[0]));
}
