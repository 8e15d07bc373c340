//! Built-in objects (OMA-TS-LightweightM2M_Core 1.1 Appendix E): each a
//! plain [`crate::dm::Object`] the application adds to its registry.
//!
//! | object | module | how it gets its values |
//! |---|---|---|
//! | Security (0) | [`security`] | factory configuration, Bootstrap-Server |
//! | Server (1) | [`server`] | factory configuration, Bootstrap-Server, DM servers |
//! | Access Control (2) | [`access_control`] | factory configuration, servers |
//! | Device (3) | [`device`] | the application's [`device::DeviceInfo`] |
//! | Connectivity Monitoring (4) | [`connectivity`] | the application's setters |
//! | Firmware Update (5) | [`firmware`] | the application's [`firmware::FirmwareApp`] steps; PULL by the engine |
//! | Location (6) | [`location`] | the application's setters |
//!
//! Executes and some writes become [`ObjectEvent`]s the engine drains with
//! [`crate::dm::Object::poll_event`] after each committed request
//! ([`events::EventQueue`] keeps them until then).
//!
//! The engine reads the server accounts through the `Object` trait, so any
//! implementation of objects 0 and 1 works with it:
//! [`security::endpoints`], [`server::accounts`], and
//! [`validate_configuration`] before Bootstrap-Finish.

pub mod access_control;
mod binding;
pub mod bootstrap_check;
pub mod connectivity;
mod convert;
pub mod device;
pub mod events;
pub mod firmware;
mod instances;
pub mod location;
pub mod security;
pub mod server;
pub mod uri;

#[cfg(test)]
pub(crate) mod testutil;

pub use access_control::{AccessControl, AclInstance};
pub use bootstrap_check::{ConfigProblem, validate_configuration};
pub use connectivity::ConnectivityMonitoring;
pub use device::{Device, DeviceInfo, StaticDeviceInfo};
pub use firmware::{Firmware, FirmwareApp};
pub use location::Location;
pub use security::{Security, SecurityInstance, SecurityMode};
pub use server::{Server, ServerInstance};

pub use crate::dm::object::ObjectEvent;
