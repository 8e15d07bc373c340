//! DTLS failures seen from our client (issue 7, "Bad input"): a wrong PSK,
//! an unknown identity, an expired or mismatching server certificate, a
//! peer that answers with garbage, and the unsupported Raw Public Key mode
//! each end in a failed handshake with a clear, key-free reason
//! ([`Event::SessionFailed`] and [`Event::RegistrationFailed`]), retried
//! with back-off, while the client keeps serving a second, NoSec server.
#![cfg(feature = "dtls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../lwm2m/tests/dtls_common/mod.rs"]
mod dtls_common;
mod e2e_common;

use std::sync::Arc;
use std::time::Duration;

use dtls_common::Cert;
use e2e_common::*;
use lwm2m::core::client::{Event, Failure};
use lwm2m::core::dm::{Path, Value};
use lwm2m::core::objects::SecurityMode;
use lwm2m::core::session::{CertificateProblem, FailReason, HandshakeTimers, SessionError};
use lwm2m_server::driver::ServerHandle;
use lwm2m_server::dtls::Credentials;

const ID: &[u8] = b"failing-client";
const KEY: &[u8] = b"the-right-key-16";
const WRONG: &[u8] = &[0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04];

/// Handshakes that give up quickly when nothing sensible comes back.
fn quick() -> HandshakeTimers {
    HandshakeTimers::new(
        Duration::from_millis(200),
        Duration::from_millis(800),
        Duration::from_secs(3),
    )
}

/// A client with a NoSec server (SSID 1, a plain bundled server) and the
/// account `bad` (SSID 2). Waits until it registered with SSID 1 and
/// failed with SSID 2 for `reason`; checks the NoSec server still reads
/// from it; runs `then`; stops the client (it de-registers cleanly from
/// SSID 1). Returns the SessionFailed error and what the client reported.
fn fails_beside_a_nosec_server(
    ep: &str,
    bad: Account,
    reason: Failure,
    then: impl FnOnce(&mut TestClient, &ServerHandle),
) -> (SessionError, Outcome) {
    let plain = plain_server();
    let good = Account::new(0, 1, &format!("coap://{}", plain.local_addr()));
    let mut client = TestClient::spawn(ep, vec![good, bad], Arc::new(TimedFactory(quick())), None);
    let failed = client.wait_seen("SessionFailed for SSID 2", |e| {
        matches!(e, Event::SessionFailed { ssid: Some(2), .. })
    });
    client.wait_seen("RegistrationFailed for SSID 2", |e| {
        *e == Event::RegistrationFailed { ssid: 2, reason }
    });
    client.wait_seen("Registered with SSID 1", |e| {
        *e == Event::Registered { ssid: 1 }
    });
    let v = plain.read(ep, Path::resource(3, 0, 0), None).unwrap();
    assert_eq!(v[0].value, Value::str(MANUFACTURER));
    assert!(
        !client.seen().contains(&Event::Registered { ssid: 2 }),
        "{:?}",
        client.seen()
    );
    let Event::SessionFailed { error, .. } = failed else {
        unreachable!()
    };
    then(&mut client, &plain);
    let (out, events) = client.stop();
    assert!(out.clean, "{events:?}");
    let shown = format!("{error} {error:?}");
    for secret in [KEY, WRONG] {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&hex), "{shown}");
        assert!(
            !shown.contains(&String::from_utf8_lossy(secret).into_owned()),
            "{shown}"
        );
    }
    (error, out)
}

fn psk_server() -> TestServer {
    let mut c = Credentials::new().with_timers(quick());
    c.add_psk(ID, KEY).unwrap();
    TestServer::start(&c)
}

#[test]
fn wrong_psk_fails_with_bad_psk() {
    let server = psk_server();
    let bad = Account::new(1, 2, &server.coaps_uri()).psk(ID, WRONG);
    let (error, _) =
        fails_beside_a_nosec_server("wrong-psk-ep", bad, Failure::Handshake, |_, _| {});
    assert_eq!(error, SessionError::Failed(FailReason::BadPsk));
    assert_eq!(
        error.to_string(),
        "DTLS session failed: the pre-shared keys differ"
    );
}

#[test]
fn unknown_identity_is_refused_and_retried_with_back_off() {
    let server = psk_server();
    let mut bad = Account::new(1, 2, &server.coaps_uri()).psk(b"nobody-knows-me", KEY);
    bad.server.communication_retry_timer = Some(1);
    // The attempt is retried (after 1 s, then 2 s): more failures come, and
    // the NoSec server is still served meanwhile.
    let retried = |client: &mut TestClient, plain: &ServerHandle| {
        let failures = |c: &mut TestClient| {
            c.seen()
                .iter()
                .filter(|e| matches!(e, Event::SessionFailed { ssid: Some(2), .. }))
                .count()
        };
        if failures(client) < 2 {
            client.wait_event("a second SessionFailed for SSID 2", |e| {
                matches!(e, Event::SessionFailed { ssid: Some(2), .. })
            });
        }
        assert!(failures(client) >= 2);
        assert!(
            plain
                .read("unknown-id-ep", Path::resource(3, 0, 0), None)
                .is_ok()
        );
    };
    let (error, _) = fails_beside_a_nosec_server("unknown-id-ep", bad, Failure::Handshake, retried);
    assert_eq!(error, SessionError::Failed(FailReason::BadPsk));
}

fn cert_server(server_cert: &Cert) -> TestServer {
    let mut c = Credentials::new().with_timers(quick());
    c.set_certificate_der(&server_cert.der, &server_cert.key_der);
    TestServer::start(&c)
}

fn cert_account(server: &TestServer, pinned: &[u8], usage: u8) -> Account {
    let me = Cert::new("failing-cert-client", -1, 30, None, false);
    let mut a = Account::new(1, 2, &server.coaps_uri());
    a.security = a
        .security
        .with_keys(SecurityMode::Certificate, &me.der, &me.key_der, pinned);
    a.security.certificate_usage = Some(usage);
    a
}

#[test]
fn expired_server_certificate_fails_with_expired() {
    let ca = Cert::new("Test Server CA", -60, 60, None, true);
    let expired = Cert::new("lwm2m.test", -30, -1, Some(&ca), false);
    let server = cert_server(&expired);
    // Certificate Usage 2: the CA in /0/x/4 is the trust anchor, and dates
    // are checked.
    let bad = cert_account(&server, &ca.der, 2);
    let (error, _) =
        fails_beside_a_nosec_server("expired-cert-ep", bad, Failure::Handshake, |_, _| {});
    assert_eq!(
        error,
        SessionError::Failed(FailReason::BadCertificate(CertificateProblem::Expired))
    );
}

#[test]
fn mismatching_server_certificate_fails_as_not_pinned() {
    let real = Cert::new("lwm2m.test", -1, 30, None, false);
    let other = Cert::new("lwm2m.test", -1, 30, None, false);
    let server = cert_server(&real);
    // Certificate Usage 3 (the default): /0/x/4 must be the server's
    // certificate byte for byte.
    let bad = cert_account(&server, &other.der, 3);
    let (error, _) =
        fails_beside_a_nosec_server("pinned-cert-ep", bad, Failure::Handshake, |_, _| {});
    assert_eq!(
        error,
        SessionError::Failed(FailReason::BadCertificate(CertificateProblem::NotPinned))
    );
}

#[test]
fn garbage_from_the_server_is_dropped_and_counted_then_the_handshake_times_out() {
    let garbage = GarbageServer::start();
    let bad = Account::new(1, 2, &format!("coaps://{}", garbage.addr)).psk(ID, KEY);
    let (error, out) =
        fails_beside_a_nosec_server("garbage-ep", bad, Failure::Handshake, |_, _| {});
    assert_eq!(error, SessionError::Failed(FailReason::Timeout));
    assert!(out.stats.dropped > 0, "{:?}", out.stats);
}

#[test]
fn raw_public_key_is_answered_unsupported() {
    let server = psk_server();
    let mut bad = Account::new(1, 2, &server.coaps_uri());
    bad.security = bad
        .security
        .with_keys(SecurityMode::RawPublicKey, b"pub", b"priv", b"srv");
    let (error, _) =
        fails_beside_a_nosec_server("rpk-ep", bad, Failure::BadConfiguration, |_, _| {});
    assert_eq!(
        error,
        SessionError::UnsupportedMode(lwm2m::core::session::SecurityMode::RawPublicKey)
    );
    assert!(error.to_string().contains("not supported"), "{error}");
}
