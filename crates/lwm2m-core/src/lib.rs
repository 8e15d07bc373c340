//! # lwm2m-core
//!
//! The sans-IO core of an OMA LwM2M client: CoAP, content formats, the data
//! model and the client state machines, with no clock, no socket and no
//! thread. Time enters as an [`time::Instant`] argument, datagrams as byte
//! slices; datagrams to send and the next deadline come out.
//!
//! ## Layers (each module only depends on the ones above it)
//!
//! | module | job |
//! |---|---|
//! | [`time`], [`rand`], [`buf`] | virtual time, seeded randomness, bounded output buffers |
//! | [`coap`] | RFC 7252 / 7959 / 7641; knows nothing of LwM2M |
//! | [`dm`] | paths, values, objects, transactions, access control, the operations |
//! | [`objects`] | built-in objects (Access Control) |
//! | [`content`] | payload formats: TLV, SenML, LwM2M CBOR, text, opaque, link format |
//! | [`error`] | the single mapping from errors to CoAP response codes |
//! | [`config`] | configuration and [`config::Limits`], every bound in one struct |
//! | [`session`] | the security-session seam (DTLS) the core drives per link |
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

pub mod buf;
pub mod client;
pub mod coap;
pub mod config;
pub mod content;
pub mod dm;
pub mod error;
pub mod objects;
pub mod rand;
pub mod session;
pub mod time;

pub use error::DmError;
