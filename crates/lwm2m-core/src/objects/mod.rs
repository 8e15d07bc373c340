//! Built-in objects (OMA-TS-LightweightM2M_Core 1.1 Appendix E): each a
//! plain [`crate::dm::Object`] the application adds to its registry.

pub mod access_control;

pub use access_control::{AccessControl, AclInstance};
