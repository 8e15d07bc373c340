//! # lwm2m-server
//!
//! The bundled LwM2M server: a Bootstrap Server and a Device Management
//! server over CoAP/UDP, for desks, tests and benchmarks.
//!
//! - [`core`]: the sans-IO [`core::Server`] (datagrams and time in,
//!   datagrams, deadlines and events out);
//! - [`driver`]: one UDP socket and a loop around the core, and a
//!   thread-safe [`driver::ServerHandle`] with blocking helpers (`read`,
//!   `write`, `observe`, `wait_for_registration`...);
//! - `dtls` (cargo feature `dtls`, off by default): `coaps://` (DTLS 1.2
//!   with PSK or certificates) beside `coap://`, through the OpenSSL
//!   backend of `lwm2m`; without it the server and its binary speak
//!   `coap://` only and build with nothing but Rust;
//! - [`config_file`]: the TOML bootstrap configuration.
//!
//! The binary `lwm2m-server` adds an interactive prompt and a JSON event
//! stream on top.

pub mod config_file;
pub mod core;
pub mod driver;
#[cfg(feature = "dtls")]
pub mod dtls;

pub use crate::core::{Server, ServerConfig, ServerEvent};
