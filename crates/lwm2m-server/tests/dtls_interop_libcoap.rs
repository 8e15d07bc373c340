//! libcoap's `coap-client-openssl` (package libcoap3-bin), a DTLS client
//! we did not write, registers with our bundled server over `coaps://`
//! with a PSK (issue 7, item 4). libcoap takes the PSK as a string (`-k`),
//! so the key here is printable.
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

use dtls_common::{Peer, have};
use e2e_common::*;
use lwm2m_server::dtls::{Credentials, DtlsEvent, PeerId};

const IDENTITY: &str = "libcoap-client";
const KEY: &str = "secretPSK-for-libcoap";

#[test]
fn coap_client_openssl_registers_over_dtls_psk() {
    if !have("coap-client-openssl") {
        return;
    }
    let mut creds = Credentials::new();
    creds.add_psk(IDENTITY.as_bytes(), KEY.as_bytes()).unwrap();
    let mut server = TestServer::start(&creds);
    let uri = format!(
        "coaps://{}/rd?ep=libcoap-ep&lt=120&lwm2m=1.1&b=U",
        server.handle.secure_addr().unwrap()
    );
    // Register (Core 1.1 §6.2.1): POST /rd with the object list, format 40.
    let mut client = Peer::spawn(
        "coap-client-openssl",
        &[
            "-m",
            "post",
            "-u",
            IDENTITY,
            "-k",
            KEY,
            "-t",
            "40",
            "-e",
            "</1/0>,</3/0>",
            "-B",
            "20",
            &uri,
        ],
    );
    let est = server.wait_dtls("handshake", |e| matches!(e, DtlsEvent::Established { .. }));
    assert!(
        matches!(
            &est,
            DtlsEvent::Established { identity: Some(PeerId::Psk(id)), .. } if id == IDENTITY.as_bytes()
        ),
        "{est:?}"
    );
    let reg = server
        .handle
        .wait_for_registration("libcoap-ep", DEADLINE)
        .unwrap_or_else(|e| panic!("{e}: {}", client.describe()));
    assert_eq!(reg.lifetime, 120);
    assert!(
        reg.objects.instances(3).any(|i| i == 0),
        "{:?}",
        reg.objects
    );
    let DtlsEvent::Established { peer, .. } = est else {
        unreachable!()
    };
    assert_eq!(reg.peer, peer);
    // coap-client prints nothing for an empty 2.01 and exits.
    assert!(client.wait_exit(DEADLINE), "{}", client.describe());
}

#[test]
fn coap_client_openssl_with_an_unknown_identity_does_not_register() {
    if !have("coap-client-openssl") {
        return;
    }
    let mut creds = Credentials::new();
    creds.add_psk(IDENTITY.as_bytes(), KEY.as_bytes()).unwrap();
    let mut server = TestServer::start(&creds);
    let uri = format!(
        "coaps://{}/rd?ep=libcoap-wrong&lt=120",
        server.handle.secure_addr().unwrap()
    );
    let _client = Peer::spawn(
        "coap-client-openssl",
        &[
            "-m", "post", "-u", "intruder", "-k", KEY, "-t", "40", "-e", "</3/0>", "-B", "10", &uri,
        ],
    );
    // An unknown identity is refused in the handshake (RFC 4279 §2:
    // unknown_psk_identity), before any CoAP reaches the core.
    server.wait_dtls("the handshake failing", |e| {
        matches!(e, DtlsEvent::Failed { .. })
    });
    assert!(
        server
            .handle
            .registration("libcoap-wrong")
            .unwrap()
            .is_none()
    );
}
