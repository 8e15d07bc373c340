//! # lwm2m-core
//!
//! The sans-IO core of an OMA LwM2M client: CoAP, content formats, the data
//! model and the client state machines, with no clock, no socket and no
//! thread. Time enters as an [`time::Instant`] argument, datagrams as byte
//! slices; datagrams to send and the next deadline come out.
//!
//! ## The run loop, in prose
//!
//! An application builds a [`client::Client`] from a [`config::Config`]
//! (endpoint name, LwM2M version, bounds) and adds its objects: the
//! Security and Server objects that say which servers to talk to, and its
//! own (a struct, a `const` [`dm::ObjectDef`] and a `read`). From then on
//! the driver (the `lwm2m` crate's, or the application's own) repeats:
//! hand every received datagram to [`client::Client::handle_datagram`],
//! call [`client::Client::handle_timeout`] when
//! [`client::Client::poll_timeout`] has passed, then drain
//! [`client::Client::poll_event`] (open and close sockets, registration and
//! bootstrap outcomes, "persist now") and [`client::Client::poll_transmit`]
//! (datagrams to send). The client registers, keeps its registrations
//! alive, answers the servers' requests one transaction each, notifies
//! observers when [`client::Client::notify_changed`] recorded a change and
//! the attributes allow it, and never waits for anything: a block-wise
//! transfer, a handshake or a retransmission is state between two calls.
//!
//! ## Layers (each module only depends on the ones above it)
//!
//! | module | job |
//! |---|---|
//! | [`time`], [`rand`], [`buf`] | virtual time, seeded randomness, bounded output buffers |
//! | [`coap`] | RFC 7252 / 7959 / 7641; knows nothing of LwM2M |
//! | [`dm`] | paths, values, objects, transactions, access control, the operations |
//! | [`client`] | the LwM2M client engine: registration, bootstrap, DM dispatch, observations, Send |
//! | [`objects`] | built-in objects: Security, Server, Access Control, Device, Connectivity Monitoring, Location |
//! | [`content`] | payload formats: TLV, SenML, LwM2M CBOR, text, opaque, link format |
//! | [`error`] | the single mapping from errors to CoAP response codes |
//! | [`config`] | configuration and [`config::Limits`], every bound in one struct |
//! | [`session`] | the security-session seam (DTLS) the core drives per link |
//! | [`persist`] | what survives a restart, as a versioned byte format (no files) |
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
pub mod persist;
pub mod rand;
pub mod session;
pub mod time;

pub use error::DmError;
