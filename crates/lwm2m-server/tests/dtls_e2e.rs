//! Our client against our server over DTLS on real loopback UDP (issue 7):
//! PSK and certificates through the whole life of a registration (Register,
//! Read /3/0, a notification, De-register), session resumption on
//! reconnect, a fresh handshake after the server restarted, and the
//! handshake surviving 10 % loss.
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

use dtls_common::{Cert, TempDir};
use e2e_common::*;
use lwm2m::core::client::{Event, Failure};
use lwm2m::core::coap::reliability::TransmissionParams;
use lwm2m::core::dm::{Path, Value};
use lwm2m::core::objects::SecurityMode;
use lwm2m::dtls::OpenSslFactory;
use lwm2m_server::driver::{ObserveEvent, ServerHandle};
use lwm2m_server::dtls::{Credentials, DtlsEvent, PeerId};

const ID: &[u8] = b"dtls-e2e-client";
const KEY: &[u8] = &[
    0x3c, 0x1f, 0x8a, 0x02, 0x55, 0x90, 0xd1, 0x7e, 0x04, 0xab, 0x6d, 0x13, 0xe8, 0x21, 0x4f, 0xc7,
];

fn psk_credentials() -> Credentials {
    let mut c = Credentials::new();
    c.add_psk(ID, KEY).unwrap();
    c
}

/// Register → Read /3/0 → Observe /3/0/9 and one notification →
/// De-register, for a client that registered as `ep`.
fn life_cycle(server: &ServerHandle, client: TestClient, ep: &str) {
    let reg = server.wait_for_registration(ep, DEADLINE).unwrap();
    assert!(
        reg.objects.instances(3).any(|i| i == 0),
        "{:?}",
        reg.objects
    );

    let entries = server.read(ep, Path::instance(3, 0), None).unwrap();
    let manufacturer = entries
        .iter()
        .find(|e| e.path == Path::resource(3, 0, 0))
        .map(|e| e.value.clone());
    assert_eq!(manufacturer, Some(Value::str(MANUFACTURER)));

    let obs = server.observe(ep, Path::resource(3, 0, 9), None).unwrap();
    assert_eq!(obs.initial[0].value, Value::Integer(50));
    client.send(Cmd::Battery(42));
    let n = obs.notifications.recv_timeout(DEADLINE).unwrap();
    match n {
        ObserveEvent::Notify { entries, .. } => {
            assert_eq!(entries[0].value, Value::Integer(42));
        }
        other => panic!("expected a notification, got {other:?}"),
    }

    let (out, events) = client.stop();
    assert!(out.clean, "de-register did not finish: {events:?}");
    server.wait_for_deregistration(ep, DEADLINE).unwrap();
    assert!(
        events.contains(&Event::Deregistered { ssid: 1 }),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SessionFailed { .. })),
        "{events:?}"
    );
}

#[test]
fn psk_register_read_observe_deregister() {
    let mut server = TestServer::start(&psk_credentials());
    let account = Account::new(0, 1, &server.coaps_uri()).psk(ID, KEY);
    let mut client = TestClient::spawn(
        "dtls-psk-ep",
        vec![account],
        Arc::new(OpenSslFactory::new()),
        None,
    );
    client.wait_event("Registered", |e| *e == Event::Registered { ssid: 1 });
    let est = server.wait_dtls("handshake", |e| matches!(e, DtlsEvent::Established { .. }));
    let DtlsEvent::Established {
        peer,
        identity,
        resumed,
        ..
    } = est
    else {
        unreachable!()
    };
    assert_eq!(identity, Some(PeerId::Psk(ID.to_vec())));
    assert!(!resumed);
    let reg = server
        .handle
        .wait_for_registration("dtls-psk-ep", DEADLINE)
        .unwrap();
    assert_eq!(
        reg.peer, peer,
        "the registration came over the DTLS session"
    );
    life_cycle(&server.handle, client, "dtls-psk-ep");
}

#[test]
fn certificate_register_read_observe_deregister() {
    // The server's certificate and key come from PEM files; the client pins
    // it (Certificate Usage 3, the default) and presents its own, which the
    // server accepts because it chains to the client CA it was given.
    let dir = TempDir::new("dtls-e2e-cert");
    let server_cert = Cert::new("lwm2m.test", -1, 30, None, false);
    let (cert_pem, key_pem) = server_cert.write_pem(&dir, "server");
    let client_ca = Cert::new("Test Device CA", -1, 30, None, true);
    let client_cert = Cert::new("dtls-cert-ep", -1, 30, Some(&client_ca), false);
    let (ca_pem, _) = client_ca.write_pem(&dir, "client-ca");

    let mut creds = Credentials::new();
    creds.load_certificate(&cert_pem, &key_pem).unwrap();
    creds.load_client_cas(&ca_pem).unwrap();
    let mut server = TestServer::start(&creds);

    let mut account = Account::new(0, 1, &server.coaps_uri());
    account.security = account.security.with_keys(
        SecurityMode::Certificate,
        &client_cert.der,
        &client_cert.key_der,
        &server_cert.der,
    );
    let mut client = TestClient::spawn(
        "dtls-cert-ep",
        vec![account],
        Arc::new(OpenSslFactory::new()),
        None,
    );
    client.wait_event("Registered", |e| *e == Event::Registered { ssid: 1 });
    let est = server.wait_dtls("handshake", |e| matches!(e, DtlsEvent::Established { .. }));
    assert!(
        matches!(
            &est,
            DtlsEvent::Established { identity: Some(PeerId::Certificate(der)), .. } if *der == client_cert.der
        ),
        "{est:?}"
    );
    life_cycle(&server.handle, client, "dtls-cert-ep");
}

#[test]
fn reconnect_resumes_and_a_restarted_server_gets_a_full_handshake() {
    let creds = psk_credentials();
    let mut server = TestServer::start(&creds);
    let (plain, secure) = (
        server.handle.local_addr(),
        server.handle.secure_addr().unwrap(),
    );
    let mut account = Account::new(0, 1, &server.coaps_uri()).psk(ID, KEY);
    account.server.disable_timeout = Some(1);
    // Short CoAP retransmissions: a server that lost the session is
    // noticed after about a second, not after MAX_TRANSMIT_WAIT.
    let mut transmission = TransmissionParams::default();
    transmission.ack_timeout = lwm2m::core::time::Duration::from_millis(300);
    transmission.max_retransmit = 1;
    let mut client = TestClient::spawn(
        "dtls-reconnect-ep",
        vec![account],
        Arc::new(OpenSslFactory::new()),
        Some(transmission),
    );
    client.wait_event("Registered", |e| *e == Event::Registered { ssid: 1 });
    server.wait_dtls("first handshake", |e| {
        matches!(e, DtlsEvent::Established { resumed: false, .. })
    });

    // Disable (Execute /1/0/4): the client de-registers, closes the link,
    // and comes back after the Disable Timeout on a new socket, offering
    // its session: the abbreviated handshake (RFC 5246 §7.3).
    // (The answer may lose the race with the De-register, which cancels
    // the server's pending requests to the client.)
    let _ = server
        .handle
        .execute("dtls-reconnect-ep", Path::resource(1, 0, 4), None);
    client.wait_event("Deregistered", |e| *e == Event::Deregistered { ssid: 1 });
    client.wait_event("Registered again", |e| *e == Event::Registered { ssid: 1 });
    server.wait_dtls("resumed handshake", |e| {
        matches!(e, DtlsEvent::Established { resumed: true, .. })
    });

    // The server restarts on the same ports and knows nothing: the
    // client's Update is dropped unanswered, the client reconnects, its
    // offer to resume is declined, a full handshake follows and it
    // registers again.
    server.handle.shutdown();
    let mut server = TestServer::start_at(plain, secure, &creds);
    client.send(Cmd::Update);
    client.wait_event("the Update failing", |e| {
        matches!(
            e,
            Event::RegistrationFailed {
                ssid: 1,
                reason: Failure::Timeout
            }
        )
    });
    client.wait_event("Registered with the new server", |e| {
        *e == Event::Registered { ssid: 1 }
    });
    server.wait_dtls("full handshake", |e| {
        matches!(e, DtlsEvent::Established { resumed: false, .. })
    });
    server
        .handle
        .wait_for_registration("dtls-reconnect-ep", DEADLINE)
        .unwrap();
    let (out, events) = client.stop();
    assert!(out.clean, "{events:?}");
}

#[test]
fn handshake_survives_ten_percent_loss() {
    let creds = psk_credentials().with_timers(fast_timers());
    let mut server = TestServer::start(&creds);
    // Seed 4 drops the second handshake datagram through the proxy (the
    // HelloVerifyRequest) and the sixth, so loss happens on every run; after
    // that 10 % of them, at random.
    let proxy = LossyProxy::start(server.handle.secure_addr().unwrap(), seeded_loss(4, 10));
    let account = Account::new(0, 1, &format!("coaps://{}", proxy.addr)).psk(ID, KEY);
    let mut client = TestClient::spawn(
        "dtls-lossy-ep",
        vec![account],
        Arc::new(TimedFactory(fast_timers())),
        None,
    );
    client.wait_event("Registered", |e| *e == Event::Registered { ssid: 1 });
    server.wait_dtls("handshake", |e| matches!(e, DtlsEvent::Established { .. }));
    let entries = server
        .handle
        .read("dtls-lossy-ep", Path::resource(3, 0, 0), None)
        .unwrap();
    assert_eq!(entries[0].value, Value::str(MANUFACTURER));
    let dropped = proxy.dropped.load(std::sync::atomic::Ordering::SeqCst);
    assert!(dropped >= 1, "the proxy dropped nothing");
    let (out, events) = client.stop();
    assert!(out.clean, "{events:?}");
}

#[test]
fn bootstrap_over_dtls_hands_out_the_psk_the_dm_server_accepts() {
    use lwm2m::core::objects::SecurityInstance;
    use lwm2m_server::ServerConfig;
    use lwm2m_server::config_file::parse_bootstrap_toml;
    use lwm2m_server::driver::Driver as ServerDriver;
    use lwm2m_server::dtls::DtlsSessions;

    // The DM server's coaps:// socket first: the bootstrap configuration
    // names it.
    let dm_plain = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dm_secure = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (dm_plain_addr, dm_secure_addr) = (
        dm_plain.local_addr().unwrap(),
        dm_secure.local_addr().unwrap(),
    );
    drop((dm_plain, dm_secure));
    let config = parse_bootstrap_toml(&format!(
        r#"
[[clients."dtls-bs-ep".security]]
id = 1
uri = "coaps://{dm_secure_addr}"
short_server_id = 9
mode = "psk"
identity = "handed-out-identity"
secret_key_hex = "0f0e0d0c0b0a09080706050403020100"
[[clients."dtls-bs-ep".server]]
id = 0
short_server_id = 9
lifetime = 300
"#
    ))
    .unwrap();

    // The DM server accepts what the bootstrap configuration hands out.
    let mut dm_creds = Credentials::new();
    assert_eq!(dm_creds.add_bootstrap_psks(&config).unwrap(), 1);
    let mut dm = TestServer::start_at(dm_plain_addr, dm_secure_addr, &dm_creds);

    // The Bootstrap-Server knows the client's factory bootstrap PSK.
    let mut bs_creds = Credentials::new();
    bs_creds.add_psk(b"factory-bootstrap", KEY).unwrap();
    let mut bs = ServerDriver::bind(
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::bootstrap(config),
        9,
    )
    .unwrap();
    let backend = Arc::new(bs_creds.openssl_server().unwrap());
    bs.bind_secure(
        "127.0.0.1:0".parse().unwrap(),
        Box::new(DtlsSessions::new(backend)),
    )
    .unwrap();
    let bs = bs.spawn().unwrap();

    let bootstrap_account =
        SecurityInstance::bootstrap(0, &format!("coaps://{}", bs.secure_addr().unwrap()))
            .with_psk(b"factory-bootstrap", KEY);
    let mut client = TestClient::spawn_bootstrap_only(
        "dtls-bs-ep",
        bootstrap_account,
        Arc::new(OpenSslFactory::new()),
    );
    client.wait_event("BootstrapFinished", |e| *e == Event::BootstrapFinished);
    client.wait_event("Registered with SSID 9", |e| {
        *e == Event::Registered { ssid: 9 }
    });
    let est = dm.wait_dtls("DM handshake", |e| {
        matches!(e, DtlsEvent::Established { .. })
    });
    assert!(
        matches!(&est, DtlsEvent::Established { identity: Some(PeerId::Psk(id)), .. } if id == b"handed-out-identity"),
        "{est:?}"
    );
    dm.handle
        .wait_for_registration("dtls-bs-ep", DEADLINE)
        .unwrap();
    let (out, events) = client.stop();
    assert!(out.clean, "{events:?}");
}
