//! The OpenSSL DTLS 1.2 backend of [`lwm2m_core::session`]: client sessions
//! for the LwM2M client ([`OpenSslFactory`]) and server sessions for the
//! bundled server ([`OpenSslServer`]), both [`OpenSslSession`].
//!
//! Sans-IO: OpenSSL reads and writes an in-memory datagram pipe, never a
//! socket. Each session has its MTU set (`SSL_set_mtu`, MTU discovery off),
//! its retransmission schedule set from
//! [`HandshakeTimers`](lwm2m_core::session::HandshakeTimers), and reports
//! its timer to the core (see [`OpenSslSession`] for how OpenSSL's real-clock
//! timer maps onto the core's clock).
//!
//! | mode | role | suites (preferred first) | authentication |
//! |---|---|---|---|
//! | PSK (0) | client, server | [`PSK_CIPHERS`] | identity + key; server looks keys up by identity |
//! | Certificate (2) | client, server | [`CERTIFICATE_CIPHERS`] | Certificate Usage 0–3 against /0/x/4 (client); [`ClientCertificates`] (server) |
//! | RPK (1), Cert-EST (4) | — | — | [`SessionError::UnsupportedMode`](lwm2m_core::session::SessionError::UnsupportedMode) |
//!
//! The client sends SNI when the server URI names a host (never for an IP
//! address) and offers the previous session on reconnect, falling back to
//! a full handshake when the server forgot it. The server always uses
//! HelloVerifyRequest cookies.

mod client;
mod ffi;
mod pipe;
mod server;
mod session;

pub use client::{CERTIFICATE_CIPHERS, OpenSslFactory, PSK_CIPHERS};
pub use server::{ClientCertificates, OpenSslServer, PskLookup, ServerConfig};
pub use session::OpenSslSession;

#[cfg(test)]
mod tests;
