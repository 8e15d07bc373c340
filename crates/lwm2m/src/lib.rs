//! # lwm2m
//!
//! What applications depend on: the sans-IO core ([`lwm2m_core`], re-exported
//! as [`core`]) and a std driver around it.

pub use lwm2m_core as core;
