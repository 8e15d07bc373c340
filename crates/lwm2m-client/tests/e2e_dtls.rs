//! End to end over loopback UDP and DTLS 1.2 (issue 7): the demo client
//! with `--psk-identity/--psk-key` and with `--cert/--key/--server-cert`
//! registers with the bundled server's `coaps://` socket, is read, and
//! de-registers on SIGTERM; a wrong key is a clear, key-free log line.
#![cfg(feature = "dtls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "../../lwm2m/tests/dtls_common/mod.rs"]
mod dtls_common;

use std::sync::Arc;

use lwm2m_core::dm::{Path, Value};
use lwm2m_server::ServerConfig;
use lwm2m_server::driver::{Driver, ServerHandle};
use lwm2m_server::dtls::{Credentials, DtlsSessions};
use rustix::process::Signal;

use common::{Client, DEADLINE, localhost};
use dtls_common::Cert;

const KEY_HEX: &str = "8f3a0c55e1d94b2f6a7710c3de9b0a42";

fn key() -> Vec<u8> {
    (0..KEY_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).unwrap())
        .collect()
}

/// The bundled DM server with a `coaps://` socket for `creds`.
fn dtls_server(creds: &Credentials) -> ServerHandle {
    let mut d = Driver::bind(localhost(), ServerConfig::dm(), 5).unwrap();
    let backend = Arc::new(creds.openssl_server().unwrap());
    d.bind_secure(localhost(), Box::new(DtlsSessions::new(backend)))
        .unwrap();
    d.spawn().unwrap().with_timeout(DEADLINE)
}

fn coaps(s: &ServerHandle) -> String {
    format!("coaps://{}", s.secure_addr().unwrap())
}

/// Registered over DTLS, read, then SIGTERM de-registers with exit code 0.
fn read_then_stop(server: &ServerHandle, mut client: Client, ep: &str) {
    let reg = server
        .wait_for_registration(ep, DEADLINE)
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", client.log()));
    assert_eq!(reg.peer.ip(), server.secure_addr().unwrap().ip());
    client.wait_log("registered with server 1");
    let v = server.read(ep, Path::resource(3, 0, 0), None).unwrap();
    assert!(matches!(&v[0].value, Value::String(_)), "{v:?}");
    client.signal(Signal::TERM);
    assert!(client.wait_exit().success(), "log:\n{}", client.log());
    server.wait_for_deregistration(ep, DEADLINE).unwrap();
    assert!(
        !client.log().contains("DTLS with"),
        "log:\n{}",
        client.log()
    );
}

#[test]
fn psk_options_register_over_dtls() {
    let mut creds = Credentials::new();
    creds.add_psk(b"demo-psk", &key()).unwrap();
    let server = dtls_server(&creds);
    let uri = coaps(&server);
    let client = Client::start(&[
        "--endpoint",
        "e2e-dtls-psk",
        "--server",
        &uri,
        "--psk-identity",
        "demo-psk",
        "--psk-key",
        KEY_HEX,
    ]);
    read_then_stop(&server, client, "e2e-dtls-psk");
}

#[test]
fn certificate_options_register_over_dtls() {
    let tmp = dtls_common::TempDir::new("demo-dtls-cert");
    let server_cert = Cert::new("lwm2m.test", -1, 30, None, false);
    let me = Cert::new("e2e-dtls-cert", -1, 30, None, false);
    let (server_pem, _) = server_cert.write_pem(&tmp, "server");
    let (my_pem, my_key) = me.write_pem(&tmp, "client");
    let mut creds = Credentials::new();
    creds.set_certificate_der(&server_cert.der, &server_cert.key_der);
    let server = dtls_server(&creds);
    let uri = coaps(&server);
    let client = Client::start(&[
        "--endpoint",
        "e2e-dtls-cert",
        "--server",
        &uri,
        "--cert",
        my_pem.to_str().unwrap(),
        "--key",
        my_key.to_str().unwrap(),
        "--server-cert",
        server_pem.to_str().unwrap(),
    ]);
    read_then_stop(&server, client, "e2e-dtls-cert");
}

#[test]
fn a_wrong_key_is_logged_clearly_and_without_the_key() {
    let mut creds = Credentials::new();
    creds.add_psk(b"demo-psk", &key()).unwrap();
    let server = dtls_server(&creds);
    let uri = coaps(&server);
    let wrong = "00112233445566778899aabbccddeeff";
    let mut client = Client::start(&[
        "--endpoint",
        "e2e-dtls-wrong",
        "--server",
        &uri,
        "--psk-identity",
        "someone-else",
        "--psk-key",
        wrong,
    ]);
    let line = client.wait_log("DTLS with server 1");
    assert!(line.contains("pre-shared keys differ"), "{line}");
    client.wait_log("DTLS handshake failed");
    assert!(!client.log().contains(wrong), "log:\n{}", client.log());
    assert!(server.registration("e2e-dtls-wrong").unwrap().is_none());
    client.signal(Signal::TERM);
    assert!(client.wait_exit().success(), "log:\n{}", client.log());
}
