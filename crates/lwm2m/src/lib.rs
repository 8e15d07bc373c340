//! # lwm2m
//!
//! What applications depend on: the sans-IO core ([`lwm2m_core`], re-exported
//! as [`core`]) and a std driver around it.
//!
//! - [`dtls`]: the OpenSSL DTLS backend of the core's
//!   [`Session`](lwm2m_core::session::Session) seam.

pub use lwm2m_core as core;

pub mod dtls;
