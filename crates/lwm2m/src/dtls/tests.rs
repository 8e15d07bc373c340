//! Our client session against our server session, in memory: no sockets.

use std::time::Duration;

use lwm2m_core::rand::Rng;
use lwm2m_core::session::{
    CertificateProblem, CertificateUsage, ClientParams, FailReason, HandshakeTimers, PeerIdentity,
    SecurityMode, Session, SessionError, SessionState,
};
use lwm2m_core::time::Instant;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

use super::*;

const IDENTITY: &[u8] = b"urn:imei:490154203237518";
const KEY: &[u8] = &[0x4C, 0x77, 0x4D, 0x32, 0x4D, 0x2D, 0x6B, 0x65, 0x79, 0x21];

fn psk_server(timers: HandshakeTimers) -> OpenSslServer {
    let mut config = ServerConfig::new().with_psk(|id| (id == IDENTITY).then(|| KEY.to_vec()));
    config.timers = timers;
    OpenSslServer::new(config).unwrap()
}

fn psk_client(key: &[u8], timers: HandshakeTimers) -> OpenSslSession {
    let mut p = ClientParams::psk(IDENTITY, key);
    p.timers = timers;
    p.server_name = Some("lwm2m.test");
    OpenSslFactory::new().client(&p).unwrap()
}

/// Moves every pending datagram from `from` to `to`; `drop` decides losses.
/// Returns how many were delivered and whether `to` produced application
/// data (the last one).
fn pump(
    now: Instant,
    from: &mut OpenSslSession,
    to: &mut OpenSslSession,
    drop: &mut dyn FnMut() -> bool,
) -> (usize, Option<Vec<u8>>) {
    let mut buf = [0u8; 2048];
    let mut out = [0u8; 2048];
    let mut moved = 0;
    let mut data = None;
    while let Some(n) = from.poll_transmit(now, &mut buf) {
        if drop() {
            continue;
        }
        moved += 1;
        if let Ok(Some(m)) = to.handle_datagram(now, &buf[..n], &mut out) {
            data = Some(out[..m].to_vec());
        }
    }
    (moved, data)
}

/// Runs the handshake without loss at one virtual instant.
fn connect(client: &mut OpenSslSession, server: &mut OpenSslSession) {
    let now = Instant::from_secs(1);
    client.start(now).unwrap();
    for _ in 0..20 {
        let (a, _) = pump(now, client, server, &mut || false);
        let (b, _) = pump(now, server, client, &mut || false);
        if a + b == 0 {
            break;
        }
    }
    assert_eq!(client.state(), SessionState::Established);
    assert_eq!(server.state(), SessionState::Established);
}

fn send(from: &mut OpenSslSession, to: &mut OpenSslSession, msg: &[u8]) -> Option<Vec<u8>> {
    let mut rec = [0u8; 2048];
    let n = from.encrypt(msg, &mut rec).unwrap();
    assert!(n > msg.len(), "a record carries a header and a tag");
    // A short message may occur in random ciphertext by chance (a single
    // byte in about one record in ten), so only long ones are checked.
    assert!(
        msg.len() < 4 || !rec[..n].windows(msg.len()).any(|w| w == msg),
        "sent in clear"
    );
    let mut out = [0u8; 2048];
    to.handle_datagram(Instant::from_secs(1), &rec[..n], &mut out)
        .unwrap()
        .map(|m| out[..m].to_vec())
}

#[test]
fn psk_handshake_carries_data_both_ways_with_ccm8() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut client = psk_client(KEY, HandshakeTimers::default());
    assert_eq!(
        client.encrypt(b"early", &mut [0u8; 100]),
        Err(SessionError::NotOpen)
    );
    connect(&mut client, &mut server);
    assert_eq!(client.cipher(), Some("PSK-AES128-CCM8"));
    assert_eq!(server.cipher(), Some("PSK-AES128-CCM8"));
    assert_eq!(server.server_name(), Some("lwm2m.test"));
    assert_eq!(server.peer_identity(), Some(PeerIdentity::Psk(IDENTITY)));
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(
        send(&mut client, &mut server, b"GET /3/0"),
        Some(b"GET /3/0".to_vec())
    );
    assert_eq!(
        send(&mut server, &mut client, b"2.05 Content"),
        Some(b"2.05 Content".to_vec())
    );
    // CCM_8: 13-byte header, 8-byte explicit nonce, 8-byte tag.
    let room = client.max_plaintext();
    assert_eq!(room, 1280 - 13 - 8 - 8);
    assert_eq!(
        client.encrypt(&vec![0u8; room + 1], &mut [0u8; 2048]),
        Err(SessionError::TooLarge)
    );
    let mut rec = [0u8; 2048];
    assert_eq!(client.encrypt(&vec![7u8; room], &mut rec), Ok(1280));
}

#[test]
fn reconnect_resumes_the_session_and_falls_back_when_the_server_forgot_it() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut client = psk_client(KEY, HandshakeTimers::default());
    connect(&mut client, &mut server);
    assert!(!client.resumed());

    // Orderly close: close_notify reaches the server.
    client.close();
    assert_eq!(client.state(), SessionState::Closed);
    pump(Instant::from_secs(1), &mut client, &mut server, &mut || {
        false
    });
    assert_eq!(server.state(), SessionState::Closed);

    // Reconnect: abbreviated handshake (RFC 5246 §7.3).
    let mut server = server_cfg.session();
    connect(&mut client, &mut server);
    assert!(client.resumed());
    assert!(server.resumed());
    assert_eq!(
        send(&mut client, &mut server, b"again"),
        Some(b"again".to_vec())
    );

    // A restarted server has no cache: full handshake, still established.
    let mut fresh = psk_server(HandshakeTimers::default()).session();
    connect(&mut client, &mut fresh);
    assert!(!client.resumed());
    assert_eq!(send(&mut fresh, &mut client, b"hi"), Some(b"hi".to_vec()));
}

#[test]
fn server_session_restarts_on_a_new_client_hello() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut client = psk_client(KEY, HandshakeTimers::default());
    connect(&mut client, &mut server);
    // The client lost its state and starts over from the same address.
    let mut client = psk_client(KEY, HandshakeTimers::default());
    client.start(Instant::from_secs(2)).unwrap();
    let mut hello = [0u8; 2048];
    let n = client
        .poll_transmit(Instant::from_secs(2), &mut hello)
        .unwrap();
    assert!(lwm2m_core::session::record::is_client_hello(&hello[..n]));
    // What the bundled server does: a ClientHello on an established
    // association starts a new one (RFC 6347 §4.2.8).
    server.start(Instant::from_secs(2)).unwrap();
    assert_eq!(server.state(), SessionState::Idle);
    server
        .handle_datagram(Instant::from_secs(2), &hello[..n], &mut [0u8; 64])
        .unwrap();
    for _ in 0..20 {
        let now = Instant::from_secs(2);
        let (a, _) = pump(now, &mut server, &mut client, &mut || false);
        let (b, _) = pump(now, &mut client, &mut server, &mut || false);
        if a + b == 0 {
            break;
        }
    }
    assert_eq!(client.state(), SessionState::Established);
    assert_eq!(send(&mut client, &mut server, b"x"), Some(b"x".to_vec()));
}

/// Drives both sides in virtual time only: each step jumps to the next
/// deadline. OpenSSL's own retransmission timer runs on the real clock and
/// does not expire during the test, so only the handshake limit fires.
fn run_virtual(client: &mut OpenSslSession, server: &mut OpenSslSession, deliver: bool) -> Instant {
    let mut now = Instant::from_secs(10);
    client.start(now).unwrap();
    for _ in 0..1000 {
        if deliver {
            pump(now, client, server, &mut || false);
            pump(now, server, client, &mut || false);
        } else {
            while client.poll_transmit(now, &mut [0u8; 2048]).is_some() {}
        }
        if matches!(
            client.state(),
            SessionState::Failed(_) | SessionState::Established
        ) {
            return now;
        }
        let next = client
            .poll_timeout()
            .expect("a handshaking session has a timer");
        assert!(next >= now, "deadline in the past");
        now = next.max(now + Duration::from_millis(1));
        client.handle_timeout(now);
        server.handle_timeout(now);
    }
    panic!("no outcome");
}

#[test]
fn wrong_psk_fails_the_handshake_with_bad_psk() {
    let timers = HandshakeTimers::new(
        Duration::from_secs(1),
        Duration::from_secs(4),
        Duration::from_secs(20),
    );
    let server_cfg = psk_server(timers);
    let mut server = server_cfg.session();
    let mut client = psk_client(b"not the key", timers);
    let end = run_virtual(&mut client, &mut server, true);
    assert_eq!(client.state(), SessionState::Failed(FailReason::BadPsk));
    assert_eq!(
        client.encrypt(b"x", &mut [0u8; 64]),
        Err(SessionError::NotOpen)
    );
    // Either the server's alert ended it at once, or the limit did.
    assert!(end <= Instant::from_secs(31), "{end:?}");
    assert!(format!("{client:?}").find("not the key").is_none());
}

#[test]
fn unknown_identity_fails_with_bad_psk_on_the_server() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut p = ClientParams::psk(b"someone-else", KEY);
    p.timers = HandshakeTimers::new(
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(5),
    );
    let mut client = OpenSslFactory::new().client(&p).unwrap();
    run_virtual(&mut client, &mut server, true);
    assert_eq!(server.state(), SessionState::Failed(FailReason::BadPsk));
    assert!(matches!(client.state(), SessionState::Failed(_)));

    // The failed server session starts over on the next ClientHello.
    let mut good = psk_client(KEY, HandshakeTimers::default());
    connect(&mut good, &mut server);
    assert_eq!(server.peer_identity(), Some(PeerIdentity::Psk(IDENTITY)));
}

#[test]
fn silent_peer_times_out_at_the_handshake_limit_in_virtual_time() {
    let timers = HandshakeTimers::new(
        Duration::from_secs(1),
        Duration::from_secs(60),
        Duration::from_secs(93),
    );
    let mut server = psk_server(timers).session();
    let mut client = psk_client(KEY, timers);
    let end = run_virtual(&mut client, &mut server, false);
    assert_eq!(client.state(), SessionState::Failed(FailReason::Timeout));
    assert_eq!(end, Instant::from_secs(10 + 93));
    assert_eq!(client.poll_timeout(), None);
}

/// Forged records with valid headers, of every content type, epoch and
/// length (short ones included: OpenSSL would end the association on a
/// protected record shorter than its nonce and tag), never end an
/// established association in either role.
#[test]
fn forged_records_never_end_an_association() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut client = psk_client(KEY, HandshakeTimers::default());
    connect(&mut client, &mut server);
    let now = Instant::from_secs(1);
    let mut rng = Rng::new(11);
    let mut out = [0u8; 2048];
    let mut forged = 0u64;
    for content_type in 20u8..=23 {
        for epoch in 0u8..=2 {
            for len in [0usize, 1, 2, 7, 8, 15, 16, 17, 24, 33, 64, 100] {
                let mut body = vec![0u8; len];
                rng.fill(&mut body);
                let [s0, s1] = (1000 + forged as u16).to_be_bytes();
                let mut rec = vec![content_type, 0xFE, 0xFD, 0, epoch, 0, 0, 0, 0, s0, s1, 0];
                rec.push(len as u8);
                rec.extend_from_slice(&body);
                for s in [&mut server, &mut client] {
                    assert_eq!(s.handle_datagram(now, &rec, &mut out), Ok(None));
                    assert_eq!(s.state(), SessionState::Established, "{rec:?}");
                }
                forged += 1;
            }
        }
    }
    assert!(server.stats().rejected > 0);
    assert_eq!(
        send(&mut client, &mut server, b"alive"),
        Some(b"alive".to_vec())
    );
    assert_eq!(
        send(&mut server, &mut client, b"too"),
        Some(b"too".to_vec())
    );
}

#[test]
fn garbage_and_tampered_records_are_dropped_and_counted() {
    let server_cfg = psk_server(HandshakeTimers::default());
    let mut server = server_cfg.session();
    let mut client = psk_client(KEY, HandshakeTimers::default());
    connect(&mut client, &mut server);
    let now = Instant::from_secs(1);
    let mut out = [0u8; 2048];

    let mut rng = Rng::new(7);
    for len in [0usize, 1, 12, 13, 40, 300] {
        let mut junk = vec![0u8; len];
        rng.fill(&mut junk);
        if let Some(b) = junk.first_mut() {
            *b = 0x99;
        }
        assert_eq!(server.handle_datagram(now, &junk, &mut out), Ok(None));
    }
    assert_eq!(server.stats().malformed, 6);

    let mut rec = [0u8; 2048];
    let n = client.encrypt(b"secret reading", &mut rec).unwrap();
    for at in [20, n - 1] {
        let mut bad = rec[..n].to_vec();
        bad[at] ^= 0x01;
        assert_eq!(server.handle_datagram(now, &bad, &mut out), Ok(None));
    }
    assert_eq!(server.stats().rejected, 2);
    // The untouched record still authenticates: the forgeries did not
    // advance the replay window.
    assert_eq!(
        server.handle_datagram(now, &rec[..n], &mut out),
        Ok(Some(14))
    );
    assert_eq!(&out[..14], b"secret reading");
    // A replay of it is dropped.
    assert_eq!(server.handle_datagram(now, &rec[..n], &mut out), Ok(None));
    assert_eq!(server.stats().rejected, 3);
    assert_eq!(server.state(), SessionState::Established);

    // A plaintext bigger than the caller's buffer is refused, not cut.
    let n = client.encrypt(&[5u8; 100], &mut rec).unwrap();
    assert_eq!(
        server.handle_datagram(now, &rec[..n], &mut [0u8; 10]),
        Err(SessionError::BufferTooSmall)
    );

    // Two records in one datagram: the first is returned, the second dropped
    // and counted, and it does not leak into the next call.
    let mut two = vec![0u8; 2048];
    let a = client.encrypt(b"first", &mut two).unwrap();
    let b = client.encrypt(b"second", &mut two[a..]).unwrap();
    assert_eq!(
        server.handle_datagram(now, &two[..a + b], &mut out),
        Ok(Some(5))
    );
    assert_eq!(&out[..5], b"first");
    assert_eq!(server.stats().coalesced, 1);
    assert_eq!(
        send(&mut client, &mut server, b"third"),
        Some(b"third".to_vec())
    );
}

#[test]
fn handshake_survives_ten_percent_loss() {
    // OpenSSL retransmits on the real clock, so this test lets real time
    // pass: retransmission timers of 30 ms doubling to 240 ms, a 30 s bound
    // per handshake (typically well under a second each).
    let timers = HandshakeTimers::new(
        Duration::from_millis(30),
        Duration::from_millis(240),
        Duration::from_secs(30),
    );
    let server_cfg = psk_server(timers);
    let mut total_lost = 0;
    for seed in 1..=6u64 {
        let mut rng = Rng::new(seed);
        let mut lost = 0;
        let mut lose = || {
            let l = rng.below(100) < 10;
            lost += usize::from(l);
            l
        };
        let origin = std::time::Instant::now();
        let clock = || Instant::from_micros(origin.elapsed().as_micros() as u64);
        let mut client = psk_client(KEY, timers);
        let mut server = server_cfg.session();
        client.start(clock()).unwrap();
        while clock() < Instant::from_secs(30) {
            let now = clock();
            pump(now, &mut client, &mut server, &mut lose);
            pump(now, &mut server, &mut client, &mut lose);
            if client.state() == SessionState::Established
                && server.state() == SessionState::Established
            {
                break;
            }
            assert!(
                !matches!(client.state(), SessionState::Failed(_)),
                "seed {seed}: {client:?}"
            );
            let next = [client.poll_timeout(), server.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + Duration::from_millis(5));
            let wait = next
                .saturating_duration_since(clock())
                .min(Duration::from_millis(250));
            std::thread::sleep(wait);
            let now = clock();
            client.handle_timeout(now);
            server.handle_timeout(now);
        }
        // A lost final flight of the server is recovered too: the client
        // retransmits its Finished, and the server answers with its flight.
        assert_eq!(client.state(), SessionState::Established, "seed {seed}");
        assert_eq!(server.state(), SessionState::Established, "seed {seed}");
        assert_eq!(
            send(&mut client, &mut server, b"ping"),
            Some(b"ping".to_vec())
        );
        total_lost += lost;
    }
    assert!(total_lost > 0, "the seeds must lose something");
}

struct Cert {
    der: Vec<u8>,
    key_der: Vec<u8>,
    x509: X509,
    key: PKey<Private>,
}

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// An ECDSA P-256 certificate for `cn` (also its DNS SAN), valid from
/// `from_days` to `to_days` relative to now, signed by `issuer` or itself.
fn make_cert(cn: &str, from_days: i64, to_days: i64, issuer: Option<&Cert>, ca: bool) -> Cert {
    let key = p256();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map_or(&name, |i| i.x509.subject_name()))
        .unwrap();
    b.set_pubkey(&key).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    b.set_not_before(&Asn1Time::from_unix(now + from_days * 86400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + to_days * 86400).unwrap())
        .unwrap();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
    } else {
        let san = SubjectAlternativeName::new()
            .dns(cn)
            .build(&b.x509v3_context(issuer.map(|i| &*i.x509), None))
            .unwrap();
        b.append_extension(san).unwrap();
    }
    b.sign(issuer.map_or(&key, |i| &i.key), MessageDigest::sha256())
        .unwrap();
    let x509 = b.build();
    Cert {
        der: x509.to_der().unwrap(),
        key_der: key.private_key_to_pkcs8().unwrap(),
        x509,
        key,
    }
}

fn cert_server(server: &Cert, client: &Cert) -> OpenSslSession {
    cert_server_mtu(server, client, 1280)
}

fn cert_server_mtu(server: &Cert, client: &Cert, mtu: u16) -> OpenSslSession {
    let mut config = ServerConfig::new()
        .with_certificate(&server.der, &server.key_der)
        .with_client_certificates(ClientCertificates::TrustAnchors(vec![client.der.clone()]));
    config.mtu = mtu;
    OpenSslServer::new(config).unwrap().session()
}

fn cert_client(
    own: &Cert,
    server_key: &[u8],
    usage: CertificateUsage,
    host: Option<&'static str>,
    mtu: u16,
) -> OpenSslSession {
    let mut p = ClientParams::certificate(&own.der, &own.key_der, server_key);
    p.certificate_usage = usage;
    p.server_name = host;
    p.mtu = mtu;
    OpenSslFactory::new().client(&p).unwrap()
}

fn try_connect(client: &mut OpenSslSession, server: &mut OpenSslSession) {
    let now = Instant::from_secs(1);
    client.start(now).unwrap();
    for _ in 0..20 {
        let (a, _) = pump(now, client, server, &mut || false);
        let (b, _) = pump(now, server, client, &mut || false);
        if a + b == 0 {
            break;
        }
    }
}

#[test]
fn certificates_pinned_and_anchored_with_ecdhe_ecdsa_ccm8() {
    let server_cert = make_cert("lwm2m.test", -1, 30, None, false);
    let client_cert = make_cert("urn:dev:client-1", -1, 30, None, false);

    // Usage 3: /0/x/4 is the server's own certificate.
    let mut client = cert_client(
        &client_cert,
        &server_cert.der,
        CertificateUsage::DomainIssuedCertificate,
        Some("lwm2m.test"),
        1280,
    );
    let mut server = cert_server(&server_cert, &client_cert);
    connect(&mut client, &mut server);
    assert_eq!(client.cipher(), Some("ECDHE-ECDSA-AES128-CCM8"));
    assert_eq!(
        server.peer_identity(),
        Some(PeerIdentity::Certificate(&client_cert.der))
    );
    assert_eq!(
        client.peer_identity(),
        Some(PeerIdentity::Certificate(&server_cert.der))
    );
    assert_eq!(
        send(&mut server, &mut client, b"cert"),
        Some(b"cert".to_vec())
    );

    // Usage 2: a CA in /0/x/4 that issued the server's certificate; a small
    // MTU makes the certificate flight fragment, never above the MTU.
    let ca = make_cert("LwM2M Test CA", -1, 30, None, true);
    let issued = make_cert("lwm2m.test", -1, 30, Some(&ca), false);
    let mut client = cert_client(
        &client_cert,
        &ca.der,
        CertificateUsage::TrustAnchorAssertion,
        Some("lwm2m.test"),
        300,
    );
    let mut server = cert_server_mtu(&issued, &client_cert, 300);
    let now = Instant::from_secs(1);
    client.start(now).unwrap();
    let mut sizes = Vec::new();
    for _ in 0..20 {
        let mut moved = 0;
        for dir in 0..2 {
            let (from, to) = if dir == 0 {
                (&mut client, &mut server)
            } else {
                (&mut server, &mut client)
            };
            let mut buf = [0u8; 2048];
            while let Some(n) = from.poll_transmit(now, &mut buf) {
                sizes.push((dir, n));
                moved += 1;
                let _ = to.handle_datagram(now, &buf[..n], &mut [0u8; 2048]);
            }
        }
        if moved == 0 {
            break;
        }
    }
    assert_eq!(client.state(), SessionState::Established);
    assert!(sizes.iter().all(|&(_, n)| n <= 300), "{sizes:?}");
    // Both certificate flights needed several datagrams.
    for side in 0..2 {
        let full = sizes.iter().filter(|&&(d, n)| d == side && n > 250).count();
        assert!(full >= 1, "{sizes:?}");
    }
}

#[test]
fn bad_certificates_fail_the_handshake_with_the_reason() {
    let client_cert = make_cert("urn:dev:client-1", -1, 30, None, false);
    let server_cert = make_cert("lwm2m.test", -1, 30, None, false);
    let other = make_cert("lwm2m.test", -1, 30, None, false);
    let expired = make_cert("lwm2m.test", -30, -1, None, false);
    type Case<'a> = (
        &'a Cert,
        &'a [u8],
        CertificateUsage,
        Option<&'static str>,
        CertificateProblem,
    );
    let cases: [Case<'_>; 4] = [
        // Pinned certificate differs from the one presented.
        (
            &server_cert,
            &other.der,
            CertificateUsage::DomainIssuedCertificate,
            None,
            CertificateProblem::NotPinned,
        ),
        // Expired, checked against itself as trust anchor.
        (
            &expired,
            &expired.der,
            CertificateUsage::TrustAnchorAssertion,
            Some("lwm2m.test"),
            CertificateProblem::Expired,
        ),
        // Valid, but for another host.
        (
            &server_cert,
            &server_cert.der,
            CertificateUsage::TrustAnchorAssertion,
            Some("other.test"),
            CertificateProblem::NameMismatch,
        ),
        // Not issued by the anchor.
        (
            &server_cert,
            &other.der,
            CertificateUsage::TrustAnchorAssertion,
            Some("lwm2m.test"),
            CertificateProblem::Untrusted,
        ),
    ];
    for (presented, pinned, usage, host, problem) in cases {
        let mut client = cert_client(&client_cert, pinned, usage, host, 1280);
        let mut server = cert_server(presented, &client_cert);
        try_connect(&mut client, &mut server);
        assert_eq!(
            client.state(),
            SessionState::Failed(FailReason::BadCertificate(problem)),
            "{usage:?} {host:?}"
        );
        // The server heard a fatal alert.
        assert!(matches!(
            server.state(),
            SessionState::Failed(FailReason::PeerAlert(_))
        ));
    }

    // The server rejects a client certificate from outside its anchors.
    let stranger = make_cert("urn:dev:stranger", -1, 30, None, false);
    let mut client = cert_client(
        &stranger,
        &server_cert.der,
        CertificateUsage::DomainIssuedCertificate,
        None,
        1280,
    );
    let mut server = cert_server(&server_cert, &client_cert);
    try_connect(&mut client, &mut server);
    assert_eq!(
        server.state(),
        SessionState::Failed(FailReason::BadCertificate(CertificateProblem::Untrusted))
    );
    assert!(matches!(
        client.state(),
        SessionState::Failed(FailReason::PeerAlert(_))
    ));
}

#[test]
fn unusable_parameters_and_modes_are_refused_without_secrets() {
    let f = OpenSslFactory::new();
    let open = |p: &ClientParams<'_>| f.client(p).map(|_| ()).unwrap_err();
    assert_eq!(
        open(&ClientParams::new(SecurityMode::RawPublicKey)),
        SessionError::UnsupportedMode(SecurityMode::RawPublicKey)
    );
    assert_eq!(
        open(&ClientParams::new(SecurityMode::NoSec)),
        SessionError::UnsupportedMode(SecurityMode::NoSec)
    );
    assert_eq!(
        open(&ClientParams::psk(b"", KEY)),
        SessionError::InvalidParam(lwm2m_core::session::Param::Identity)
    );
    assert_eq!(
        open(&ClientParams::psk(b"id", b"")),
        SessionError::InvalidParam(lwm2m_core::session::Param::SecretKey)
    );
    assert_eq!(
        open(&ClientParams::certificate(b"junk", b"junk", b"")),
        SessionError::InvalidParam(lwm2m_core::session::Param::Identity)
    );
    let c = make_cert("c", -1, 1, None, false);
    assert_eq!(
        open(&ClientParams::certificate(&c.der, &c.key_der, b"")),
        SessionError::InvalidParam(lwm2m_core::session::Param::ServerPublicKey)
    );
    let mut p = ClientParams::psk(b"id", KEY);
    p.mtu = 100;
    assert_eq!(
        open(&p),
        SessionError::InvalidParam(lwm2m_core::session::Param::Mtu)
    );
    assert!(OpenSslServer::new(ServerConfig::new()).is_err());
}
