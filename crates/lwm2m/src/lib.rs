//! # lwm2m
//!
//! What applications depend on: the sans-IO core ([`lwm2m_core`], re-exported
//! as [`core`]) and a std driver around it.
//!
//! - [`Driver`] (module [`driver`]): SPEC §1's event-loop API over the core's
//!   [`Client`](lwm2m_core::client::Client): `sockets()`, `serve(socket)`,
//!   `sched_run()`, `time_to_next_job()`, `event_loop_run(max_wait)` and an
//!   [`Interrupt`] handle; one connected UDP socket per server link and the
//!   only clock of the workspace.
//! - `dtls` (cargo feature `dtls`, off by default): the OpenSSL DTLS
//!   backend of the core's [`Session`](lwm2m_core::session::Session) seam.
//!   Without it the driver speaks NoSec (`coap://`) only, and building
//!   needs nothing but Rust (no OpenSSL headers, no `pkg-config`).
//! - [`persist`]: the state file, written atomically, and the start-up
//!   fallback to the factory configuration.

pub use lwm2m_core as core;

mod clock;
pub mod driver;
#[cfg(feature = "dtls")]
pub mod dtls;
mod net;
pub mod persist;

pub use driver::{Driver, DriverStats, Error, Exit, Interrupt};

/// The README's code, compiled as a doctest so that it cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
