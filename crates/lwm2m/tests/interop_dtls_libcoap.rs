//! Interop of the OpenSSL DTLS backend with libcoap (package libcoap3-bin),
//! peers we did not write, over real UDP on 127.0.0.1 (issue 7, item 4):
//! a CoAP GET built with the core's `MessageBuilder` goes through our PSK
//! client session to `coap-server-openssl` and `coap-server-gnutls`, and
//! `coap-client-openssl` talks to our PSK server session. libcoap takes the
//! PSK as a string (`-k`), so the key here is printable.
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

use dtls_common::{Link, Peer, free_port, have, is_hello_verify_request, timers};
use lwm2m::core::coap::{Code, Message, MessageBuilder, MsgType};
use lwm2m::core::session::{ClientParams, PeerIdentity, Session, SessionState};
use lwm2m::dtls::{OpenSslFactory, OpenSslServer, OpenSslSession, ServerConfig};

const IDENTITY: &str = "lwm2m-rs-client";
const KEY: &str = "secretPSK-lwm2m-rs";

/// GET `/` through our PSK session to a libcoap server; returns the payload
/// of its 2.05 answer and the negotiated cipher.
fn get_root_from(program: &str) -> (String, Option<&'static str>) {
    let port = free_port(true);
    let port_s = port.to_string();
    let server = Peer::spawn(
        program,
        &[
            "-A",
            "127.0.0.1",
            "-p",
            &port_s,
            "-k",
            KEY,
            "-h",
            "lwm2m-rs-hint",
        ],
    );
    let mut p = ClientParams::psk(IDENTITY.as_bytes(), KEY.as_bytes());
    p.timers = timers();
    let session = OpenSslFactory::new().client(&p).unwrap();
    // coaps is served on port + 1; until it listens our ClientHello is
    // refused and retransmitted.
    let mut link = Link::client(session, SocketAddr::from(([127, 0, 0, 1], port + 1)));
    assert_eq!(
        link.handshake(),
        SessionState::Established,
        "{}",
        server.describe()
    );

    let mut req = [0u8; 64];
    let token = [0x4C, 0x57, 0x4D, 0x32];
    let b = MessageBuilder::new(&mut req, MsgType::Con, Code::GET, 0x1234, &token).unwrap();
    let n = b.finish();
    link.send(&req[..n]);
    let answer = link
        .recv()
        .unwrap_or_else(|| panic!("no answer: {}", server.describe()));
    let msg = Message::parse(&answer).unwrap();
    assert_eq!(msg.mtype(), MsgType::Ack);
    assert_eq!(msg.mid(), 0x1234);
    assert_eq!(msg.token_bytes(), &token);
    assert_eq!(msg.code(), Code::CONTENT);
    let payload = String::from_utf8_lossy(msg.payload()).into_owned();
    (payload, link.session.cipher())
}

#[test]
fn psk_client_gets_from_coap_server_openssl() {
    if !have("coap-server-openssl") {
        return;
    }
    let (payload, cipher) = get_root_from("coap-server-openssl");
    assert!(payload.contains("libcoap"), "{payload}");
    assert_eq!(cipher, Some("PSK-AES128-CCM8"));
}

#[test]
fn psk_client_gets_from_coap_server_gnutls() {
    if !have("coap-server-gnutls") {
        return;
    }
    let (payload, cipher) = get_root_from("coap-server-gnutls");
    assert!(payload.contains("libcoap"), "{payload}");
    assert_eq!(cipher, Some("PSK-AES128-CCM8"));
}

#[test]
fn coap_client_openssl_gets_from_our_psk_server() {
    if !have("coap-client-openssl") {
        return;
    }
    let port = free_port(false);
    let mut config = ServerConfig::new()
        .with_psk(|id| (id == IDENTITY.as_bytes()).then(|| KEY.as_bytes().to_vec()));
    config.timers = timers();
    let server = OpenSslServer::new(config).unwrap();
    let mut link: Link<OpenSslSession> = Link::server(server.session(), port);

    let uri = format!("coaps://127.0.0.1:{port}/3/0/0");
    let mut client = Peer::spawn(
        "coap-client-openssl",
        &["-m", "get", "-u", IDENTITY, "-k", KEY, "-B", "20", &uri],
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

    let request = link
        .recv()
        .unwrap_or_else(|| panic!("no request: {}", client.describe()));
    let msg = Message::parse(&request).unwrap();
    assert_eq!(msg.code(), Code::GET);
    let path: Vec<&[u8]> = msg.uri_path().collect();
    assert_eq!(path, [&b"3"[..], b"0", b"0"]);

    let mut resp = [0u8; 128];
    let mtype = if msg.mtype() == MsgType::Con {
        MsgType::Ack
    } else {
        MsgType::Non
    };
    let mut b = MessageBuilder::new(
        &mut resp,
        mtype,
        Code::CONTENT,
        msg.mid(),
        msg.token_bytes(),
    )
    .unwrap();
    b.payload(b"lwm2m-rs over DTLS").unwrap();
    let n = b.finish();
    link.send(&resp[..n]);

    assert!(
        client.wait_exit(Duration::from_secs(25)),
        "{}",
        client.describe()
    );
    assert!(
        client.output().contains("lwm2m-rs over DTLS"),
        "{}",
        client.describe()
    );
}
