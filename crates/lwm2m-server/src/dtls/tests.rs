//! The hook with real OpenSSL client sessions, in memory: no sockets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use lwm2m::dtls::{OpenSslFactory, OpenSslSession};
use lwm2m_core::session::{ClientParams, FailReason, Session, SessionError, SessionState, record};
use lwm2m_core::time::Instant;

use super::*;

const ID: &[u8] = b"dev-1";
const KEY: &[u8] = b"0123456789abcdef";

fn hook(limits: DtlsLimits) -> (DtlsSessions, Arc<Mutex<Vec<DtlsEvent>>>) {
    let mut creds = Credentials::new();
    creds.add_psk(ID, KEY).unwrap();
    let server = creds.openssl_server().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let h = DtlsSessions::new(Arc::new(server))
        .with_limits(limits)
        .with_observer(move |e| sink.lock().unwrap().push(e.clone()));
    (h, events)
}

fn client(key: &[u8]) -> OpenSslSession {
    OpenSslFactory::new()
        .client(&ClientParams::psk(ID, key))
        .unwrap()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

const NOW: Instant = Instant::from_secs(5);

/// Runs both sides until neither has anything to send; returns the
/// application data the hook passed up.
fn pump(c: &mut OpenSslSession, h: &mut DtlsSessions, at: SocketAddr) -> Vec<Vec<u8>> {
    let mut up = Vec::new();
    let mut buf = [0u8; 2048];
    let mut out = [0u8; 2048];
    for _ in 0..50 {
        let mut moved = false;
        while let Some(n) = c.poll_transmit(NOW, &mut buf) {
            moved = true;
            if let Some(m) = h.inbound(NOW, at, &buf[..n], &mut out) {
                up.push(out[..m].to_vec());
            }
        }
        while let Some((to, n)) = h.poll_transmit(NOW, &mut buf) {
            assert_eq!(to, at);
            moved = true;
            let _ = c.handle_datagram(NOW, &buf[..n], &mut out);
        }
        if !moved {
            break;
        }
    }
    up
}

fn connect(h: &mut DtlsSessions, at: SocketAddr) -> OpenSslSession {
    let mut c = client(KEY);
    c.start(NOW).unwrap();
    pump(&mut c, h, at);
    assert_eq!(c.state(), SessionState::Established);
    c
}

fn send(
    c: &mut OpenSslSession,
    h: &mut DtlsSessions,
    at: SocketAddr,
    msg: &[u8],
) -> Option<Vec<u8>> {
    let mut rec = [0u8; 2048];
    let n = c.encrypt(msg, &mut rec).unwrap();
    let mut out = [0u8; 2048];
    h.inbound(NOW, at, &rec[..n], &mut out)
        .map(|m| out[..m].to_vec())
}

#[test]
fn psk_client_gets_through_and_the_answer_is_encrypted() {
    let (mut h, events) = hook(DtlsLimits::default());
    let a = addr(1);
    let mut c = connect(&mut h, a);
    assert_eq!(h.len(), 1);
    assert!(h.has_peer(a));
    assert!(!h.has_peer(addr(2)));
    assert_eq!(h.peer_identity(a), Some(PeerId::Psk(ID.to_vec())));
    assert_eq!(
        send(&mut c, &mut h, a, b"POST /rd"),
        Some(b"POST /rd".to_vec())
    );
    let mut rec = [0u8; 2048];
    let n = h.outbound(NOW, a, b"2.01 Created", &mut rec).unwrap();
    let mut out = [0u8; 2048];
    let m = c
        .handle_datagram(NOW, &rec[..n], &mut out)
        .unwrap()
        .unwrap();
    assert_eq!(&out[..m], b"2.01 Created");
    assert_eq!(h.poll_timeout(), None, "no timer once established");
    let ev = events.lock().unwrap().clone();
    assert_eq!(
        ev,
        vec![DtlsEvent::Established {
            peer: a,
            identity: Some(PeerId::Psk(ID.to_vec())),
            resumed: false,
            replaced: false
        }]
    );
    assert!(ev[0].to_string().contains("PSK identity \"dev-1\""));
}

#[test]
fn strangers_and_garbage_get_nothing() {
    let (mut h, _) = hook(DtlsLimits::default());
    let mut out = [0u8; 64];
    // Plain CoAP and an application-data record from an unknown address.
    assert_eq!(h.inbound(NOW, addr(1), &[0x40, 1, 0, 1], &mut out), None);
    let appdata = [23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0];
    assert_eq!(h.inbound(NOW, addr(1), &appdata, &mut out), None);
    assert_eq!(h.stats().unknown_peer, 2);
    assert!(h.is_empty());
    assert_eq!(h.poll_transmit(NOW, &mut out), None);

    // Garbage and forged records on an established association are dropped
    // and counted; the association keeps working.
    let a = addr(2);
    let mut c = connect(&mut h, a);
    assert_eq!(h.inbound(NOW, a, b"\xff\x00garbage", &mut out), None);
    assert_eq!(h.inbound(NOW, a, &appdata, &mut out), None);
    let mut rec = [0u8; 256];
    let n = c.encrypt(b"genuine", &mut rec).unwrap();
    let mut forged = rec[..n].to_vec();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(h.inbound(NOW, a, &forged, &mut out), None);
    assert_eq!(h.stats().dropped_records, 3);
    let mut out = [0u8; 256];
    assert_eq!(h.inbound(NOW, a, &rec[..n], &mut out), Some(7));
}

#[test]
fn half_open_handshakes_are_capped() {
    let limits = DtlsLimits {
        max_half_open: 2,
        ..DtlsLimits::default()
    };
    let (mut h, events) = hook(limits);
    let mut hello = [0u8; 512];
    let mut c = client(KEY);
    c.start(NOW).unwrap();
    let n = c.poll_transmit(NOW, &mut hello).unwrap();
    assert!(record::is_client_hello(&hello[..n]));
    let mut out = [0u8; 64];
    for port in 1..=3 {
        assert_eq!(h.inbound(NOW, addr(port), &hello[..n], &mut out), None);
    }
    assert_eq!(h.len(), 2);
    assert_eq!(h.stats().refused, 1);
    assert!(events.lock().unwrap().contains(&DtlsEvent::Refused {
        peer: addr(3),
        why: Refusal::TooManyHandshakes
    }));
    // Each got a HelloVerifyRequest, nothing more; the handshakes have a
    // deadline.
    let mut sent = 0;
    while h.poll_transmit(NOW, &mut [0u8; 512]).is_some() {
        sent += 1;
    }
    assert_eq!(sent, 2);
    let deadline = h.poll_timeout().unwrap();
    h.handle_timeout(deadline);
    let until = Instant::from_secs(1000);
    while let Some(t) = h.poll_timeout() {
        assert!(t < until, "half-open sessions never expire");
        h.handle_timeout(t);
    }
    assert!(h.is_empty(), "timed-out handshakes free their slots");
    assert!(events.lock().unwrap().iter().any(|e| matches!(
        e,
        DtlsEvent::Failed {
            error: SessionError::Failed(FailReason::Timeout),
            ..
        }
    )));
}

#[test]
fn a_new_hello_from_a_known_address_replaces_the_association_only_once_done() {
    let (mut h, events) = hook(DtlsLimits::default());
    let a = addr(7);
    let mut old = connect(&mut h, a);
    // A second handshake starts from the same address (the client lost its
    // state, or someone forged its address).
    let mut fresh = client(KEY);
    fresh.start(NOW).unwrap();
    let mut hello = [0u8; 512];
    let n = fresh.poll_transmit(NOW, &mut hello).unwrap();
    let mut out = [0u8; 64];
    assert_eq!(h.inbound(NOW, a, &hello[..n], &mut out), None);
    // Only a HelloVerifyRequest went out; the old association still works.
    assert_eq!(
        send(&mut old, &mut h, a, b"still here"),
        Some(b"still here".to_vec())
    );
    let mut hvr = [0u8; 512];
    let m = h.poll_transmit(NOW, &mut hvr).unwrap().1;
    let _ = fresh.handle_datagram(NOW, &hvr[..m], &mut out);
    pump(&mut fresh, &mut h, a);
    assert_eq!(fresh.state(), SessionState::Established);
    assert_eq!(
        send(&mut fresh, &mut h, a, b"new one"),
        Some(b"new one".to_vec())
    );
    assert_eq!(
        send(&mut old, &mut h, a, b"old one"),
        None,
        "the old keys are gone"
    );
    assert_eq!(h.len(), 1);
    let ev = events.lock().unwrap().clone();
    assert!(matches!(
        ev.last(),
        Some(DtlsEvent::Established { replaced: true, .. })
    ));
}

#[test]
fn wrong_psk_fails_the_handshake_and_frees_the_address() {
    let (mut h, events) = hook(DtlsLimits::default());
    let a = addr(9);
    let mut c = client(b"not the right key");
    c.start(NOW).unwrap();
    pump(&mut c, &mut h, a);
    assert_ne!(c.state(), SessionState::Established);
    // OpenSSL drops the Finished it cannot authenticate (RFC 6347
    // §4.1.2.7) and waits: the handshake times out.
    while let Some(t) = h.poll_timeout() {
        assert!(t < Instant::from_secs(1000));
        h.handle_timeout(t);
    }
    assert!(h.is_empty());
    let ev = events.lock().unwrap().clone();
    assert!(
        matches!(ev.as_slice(), [DtlsEvent::Failed { peer, .. }] if *peer == a),
        "{ev:?}"
    );
    assert!(!ev[0].to_string().contains("not the right key"));
    // The same address can try again, with the right key.
    connect(&mut h, a);
}

#[test]
fn the_least_recently_heard_session_makes_room() {
    let limits = DtlsLimits {
        max_sessions: 2,
        ..DtlsLimits::default()
    };
    let (mut h, events) = hook(limits);
    let _one = connect(&mut h, addr(1));
    let mut two = connect(&mut h, addr(2));
    // Peer 2 is heard from later than peer 1.
    let mut rec = [0u8; 256];
    let n = two.encrypt(b"x", &mut rec).unwrap();
    let later = Instant::from_secs(6);
    assert_eq!(
        h.inbound(later, addr(2), &rec[..n], &mut [0u8; 64]),
        Some(1)
    );
    let _three = connect(&mut h, addr(3));
    assert_eq!(h.len(), 2);
    assert!(!h.has_peer(addr(1)));
    assert!(h.has_peer(addr(2)));
    assert_eq!(h.stats().evicted, 1);
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&DtlsEvent::Evicted { peer: addr(1) })
    );
}

#[test]
fn close_notify_removes_the_session() {
    let (mut h, events) = hook(DtlsLimits::default());
    let a = addr(4);
    let mut c = connect(&mut h, a);
    c.close();
    pump(&mut c, &mut h, a);
    assert!(h.is_empty());
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&DtlsEvent::Closed { peer: a })
    );
}
