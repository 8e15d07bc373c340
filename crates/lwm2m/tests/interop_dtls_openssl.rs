//! Interop of the OpenSSL DTLS backend with the `openssl` command line
//! tool (`s_server`, `s_client`), a peer we did not write, over real UDP on
//! 127.0.0.1 (issue 7, item 4).
//!
//! - our client, PSK with TLS_PSK_WITH_AES_128_CCM_8, against `s_server`:
//!   data both ways, garbage and tampered records dropped, resumption;
//! - our client, certificates with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
//!   against `s_server` (which also verifies our certificate);
//! - wrong PSK, expired and mismatching certificates: failed handshakes;
//! - our server against `s_client`, with a HelloVerifyRequest.
#![cfg(feature = "dtls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod dtls_common;

use std::net::SocketAddr;
use std::time::Duration;

use dtls_common::{
    Cert, Link, Peer, TempDir, free_port, have, hex, is_hello_verify_request, path_str, timers,
};
use lwm2m::core::session::{
    CertificateProblem, CertificateUsage, ClientParams, FailReason, HandshakeTimers, PeerIdentity,
    Session, SessionState,
};
use lwm2m::dtls::{OpenSslFactory, OpenSslServer, OpenSslSession, ServerConfig};

const IDENTITY: &str = "lwm2m-rs-client";
const KEY: &[u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";
const WAIT: Duration = Duration::from_secs(20);

fn psk_s_server(port: u16, key: &[u8]) -> Peer {
    let accept = format!("127.0.0.1:{port}");
    let peer = Peer::spawn(
        "openssl",
        &[
            "s_server",
            "-dtls1_2",
            "-accept",
            &accept,
            "-psk",
            &hex(key),
            "-psk_identity",
            IDENTITY,
            "-cipher",
            "PSK-AES128-CCM8",
            "-nocert",
        ],
    );
    assert!(peer.wait_for("ACCEPT", WAIT), "{}", peer.describe());
    peer
}

fn psk_client(port: u16, key: &[u8], timers: HandshakeTimers) -> Link<OpenSslSession> {
    let mut p = ClientParams::psk(IDENTITY.as_bytes(), key);
    p.timers = timers;
    let session = OpenSslFactory::new().client(&p).unwrap();
    Link::client(session, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn psk_client_against_s_server_exchanges_data_and_resumes() {
    if !have("openssl") {
        return;
    }
    let port = free_port(false);
    let mut server = psk_s_server(port, KEY);
    let mut link = psk_client(port, KEY, timers());

    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        server.describe()
    );
    assert_eq!(link.session.cipher(), Some("PSK-AES128-CCM8"));
    assert!(!link.session.resumed());

    link.send(b"hello from lwm2m-rs\n");
    assert!(
        server.wait_for("hello from lwm2m-rs", WAIT),
        "{}",
        server.describe()
    );
    server.write_line("hello from s_server");
    assert_eq!(link.recv().as_deref(), Some(&b"hello from s_server\n"[..]));

    // Garbage is dropped and counted, the session lives on.
    assert_eq!(link.feed(b"\x17\xfe\xfd garbage that is no record"), None);
    assert_eq!(link.feed(&[0u8; 3]), None);
    assert_eq!(link.session.stats().malformed, 2);

    // A record from s_server with one bit flipped is dropped, never
    // returned; the genuine one still decrypts afterwards.
    server.write_line("second line");
    let genuine = loop {
        let d = link.recv_raw(WAIT).expect("a record from s_server");
        if d.first() == Some(&23) {
            break d;
        }
    };
    let mut tampered = genuine.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    assert_eq!(link.feed(&tampered), None);
    assert_eq!(link.session.stats().rejected, 1);
    assert_eq!(link.feed(&genuine).as_deref(), Some(&b"second line\n"[..]));
    assert_eq!(link.session.state(), SessionState::Established);

    // Reconnect: close_notify, then an abbreviated handshake on the kept
    // session (s_server keeps a session cache and goes back to listening).
    link.session.close();
    link.flush();
    assert!(server.wait_for("DONE", WAIT), "{}", server.describe());
    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        server.describe()
    );
    assert!(link.session.resumed(), "{}", server.describe());
    link.send(b"resumed\n");
    assert!(server.wait_for("resumed", WAIT), "{}", server.describe());
}

#[test]
fn wrong_psk_against_s_server_fails_with_bad_psk() {
    if !have("openssl") {
        return;
    }
    let port = free_port(false);
    let server = psk_s_server(port, KEY);
    let timers = HandshakeTimers::new(
        Duration::from_millis(200),
        Duration::from_millis(800),
        Duration::from_secs(4),
    );
    let mut link = psk_client(port, b"a different key!", timers);
    let state = link.handshake();
    assert_eq!(
        state,
        SessionState::Failed(FailReason::BadPsk),
        "{}",
        server.describe()
    );
    let err = link.session.encrypt(b"x", &mut [0u8; 64]).unwrap_err();
    assert!(!format!("{err} {err:?} {:?}", link.session).contains("different key"));
}

fn cert_s_server(dir: &TempDir, server: &Cert, client: &Cert, port: u16) -> Peer {
    let (cert, key) = server.write_pem(dir, &format!("server{port}"));
    let (client_pem, _) = client.write_pem(dir, &format!("client{port}"));
    let accept = format!("127.0.0.1:{port}");
    let peer = Peer::spawn(
        "openssl",
        &[
            "s_server",
            "-dtls1_2",
            "-accept",
            &accept,
            "-cert",
            path_str(&cert),
            "-key",
            path_str(&key),
            "-cipher",
            "ECDHE-ECDSA-AES128-CCM8",
            "-Verify",
            "1",
            "-CAfile",
            path_str(&client_pem),
        ],
    );
    assert!(peer.wait_for("ACCEPT", WAIT), "{}", peer.describe());
    peer
}

fn cert_client(
    own: &Cert,
    server_key: &[u8],
    usage: CertificateUsage,
    port: u16,
) -> Link<OpenSslSession> {
    let mut p = ClientParams::certificate(&own.der, &own.key_der, server_key);
    p.certificate_usage = usage;
    p.server_name = Some("lwm2m.test");
    p.timers = timers();
    let session = OpenSslFactory::new().client(&p).unwrap();
    Link::client(session, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn certificate_client_against_s_server_with_ecdhe_ecdsa_ccm8() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("dtls-cert");
    let client_cert = Cert::new("urn:dev:lwm2m-rs", -1, 30, None, false);

    // Usage 3: the server's own certificate pinned in /0/x/4.
    let server_cert = Cert::new("lwm2m.test", -1, 30, None, false);
    let port = free_port(false);
    let mut server = cert_s_server(&dir, &server_cert, &client_cert, port);
    let mut link = cert_client(
        &client_cert,
        &server_cert.der,
        CertificateUsage::DomainIssuedCertificate,
        port,
    );
    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        server.describe()
    );
    assert_eq!(link.session.cipher(), Some("ECDHE-ECDSA-AES128-CCM8"));
    assert_eq!(
        link.session.peer_identity(),
        Some(PeerIdentity::Certificate(&server_cert.der))
    );
    link.send(b"hello over ecdsa\n");
    assert!(
        server.wait_for("hello over ecdsa", WAIT),
        "{}",
        server.describe()
    );
    // s_server verified our certificate against its CA file.
    assert!(
        server.output().contains("verify return:1"),
        "{}",
        server.describe()
    );
    server.write_line("and back");
    assert_eq!(link.recv().as_deref(), Some(&b"and back\n"[..]));
    drop(server);

    // Usage 2: /0/x/4 is the CA that issued the server's certificate.
    let ca = Cert::new("LwM2M Test CA", -1, 30, None, true);
    let issued = Cert::new("lwm2m.test", -1, 30, Some(&ca), false);
    let port = free_port(false);
    let server = cert_s_server(&dir, &issued, &client_cert, port);
    let mut link = cert_client(
        &client_cert,
        &ca.der,
        CertificateUsage::TrustAnchorAssertion,
        port,
    );
    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        server.describe()
    );
    assert_eq!(link.session.cipher(), Some("ECDHE-ECDSA-AES128-CCM8"));
}

#[test]
fn expired_or_mismatching_server_certificate_fails_the_handshake() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("dtls-badcert");
    let client_cert = Cert::new("urn:dev:lwm2m-rs", -1, 30, None, false);

    let expired = Cert::new("lwm2m.test", -30, -1, None, false);
    let port = free_port(false);
    let server = cert_s_server(&dir, &expired, &client_cert, port);
    let mut link = cert_client(
        &client_cert,
        &expired.der,
        CertificateUsage::TrustAnchorAssertion,
        port,
    );
    assert_eq!(
        link.handshake(),
        SessionState::Failed(FailReason::BadCertificate(CertificateProblem::Expired)),
        "{}",
        server.describe()
    );
    drop(server);

    let presented = Cert::new("lwm2m.test", -1, 30, None, false);
    let pinned = Cert::new("lwm2m.test", -1, 30, None, false);
    let port = free_port(false);
    let server = cert_s_server(&dir, &presented, &client_cert, port);
    let mut link = cert_client(
        &client_cert,
        &pinned.der,
        CertificateUsage::DomainIssuedCertificate,
        port,
    );
    assert_eq!(
        link.handshake(),
        SessionState::Failed(FailReason::BadCertificate(CertificateProblem::NotPinned)),
        "{}",
        server.describe()
    );
}

#[test]
fn our_psk_server_against_s_client_with_hello_verify_request() {
    if !have("openssl") {
        return;
    }
    let port = free_port(false);
    let mut config =
        ServerConfig::new().with_psk(|id| (id == IDENTITY.as_bytes()).then(|| KEY.to_vec()));
    config.timers = timers();
    let server = OpenSslServer::new(config).unwrap();
    let mut link = Link::server(server.session(), port);

    let connect = format!("127.0.0.1:{port}");
    let mut client = Peer::spawn(
        "openssl",
        &[
            "s_client",
            "-dtls1_2",
            "-connect",
            &connect,
            "-psk",
            &hex(KEY),
            "-psk_identity",
            IDENTITY,
            "-cipher",
            "PSK-AES128-CCM8",
        ],
    );
    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        client.describe()
    );
    assert!(
        link.sent
            .first()
            .is_some_and(|d| is_hello_verify_request(d)),
        "the first answer must be a HelloVerifyRequest"
    );
    assert_eq!(
        link.session.peer_identity(),
        Some(PeerIdentity::Psk(IDENTITY.as_bytes()))
    );
    assert_eq!(link.session.cipher(), Some("PSK-AES128-CCM8"));
    assert!(
        client.wait_for("Cipher is PSK-AES128-CCM8", WAIT),
        "{}",
        client.describe()
    );

    client.write_line("ping from s_client");
    assert_eq!(link.recv().as_deref(), Some(&b"ping from s_client\n"[..]));
    link.send(b"pong from lwm2m-rs\n");
    assert!(
        client.wait_for("pong from lwm2m-rs", WAIT),
        "{}",
        client.describe()
    );
}
