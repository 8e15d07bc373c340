//! The registrations, by endpoint name and by location
//! (OMA-TS-LightweightM2M_Core 1.1 §6.2: a registration is soft state with a
//! lifetime; a new Register of the same endpoint replaces the old one).

use std::collections::HashMap;
use std::net::SocketAddr;

use lwm2m_core::time::{Duration, Instant};

use super::registration::{ObjectList, Version};

/// One registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Endpoint Client Name.
    pub endpoint: String,
    /// The location we gave it (`Location-Path: rd/<location>`).
    pub location: String,
    /// Its current address.
    pub peer: SocketAddr,
    /// Lifetime in seconds.
    pub lifetime: u32,
    /// LwM2M version.
    pub version: Version,
    /// Binding letters (`U`, `UQ` is `U` with `queue`).
    pub binding: String,
    /// Queue mode.
    pub queue: bool,
    /// MSISDN.
    pub sms: Option<String>,
    /// Objects and instances.
    pub objects: ObjectList,
    /// When it registered.
    pub registered_at: Instant,
    /// When it last registered or updated.
    pub updated_at: Instant,
    /// When we last heard anything from it.
    pub last_heard: Instant,
}

impl Registration {
    /// When the registration expires without an Update.
    pub fn expires_at(&self, grace: Duration) -> Instant {
        self.updated_at + Duration::from_secs(u64::from(self.lifetime)) + grace
    }
}

/// Registrations, bounded by the caller.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    by_ep: HashMap<String, Registration>,
    by_loc: HashMap<String, String>,
}

impl Registry {
    pub(crate) fn len(&self) -> usize {
        self.by_ep.len()
    }

    pub(crate) fn get(&self, ep: &str) -> Option<&Registration> {
        self.by_ep.get(ep)
    }

    pub(crate) fn get_mut(&mut self, ep: &str) -> Option<&mut Registration> {
        self.by_ep.get_mut(ep)
    }

    pub(crate) fn endpoint_at(&self, location: &str) -> Option<&str> {
        self.by_loc.get(location).map(String::as_str)
    }

    pub(crate) fn has_location(&self, location: &str) -> bool {
        self.by_loc.contains_key(location)
    }

    /// Inserts `reg`, returning the registration it replaced.
    pub(crate) fn insert(&mut self, reg: Registration) -> Option<Registration> {
        let old = self.remove(&reg.endpoint);
        self.by_loc
            .insert(reg.location.clone(), reg.endpoint.clone());
        self.by_ep.insert(reg.endpoint.clone(), reg);
        old
    }

    pub(crate) fn remove(&mut self, ep: &str) -> Option<Registration> {
        let old = self.by_ep.remove(ep)?;
        self.by_loc.remove(&old.location);
        Some(old)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Registration> {
        self.by_ep.values()
    }

    /// The earliest expiry.
    pub(crate) fn next_expiry(&self, grace: Duration) -> Option<Instant> {
        self.by_ep.values().map(|r| r.expires_at(grace)).min()
    }

    /// Endpoints whose lifetime passed at `now`.
    pub(crate) fn expired(&self, now: Instant, grace: Duration) -> Vec<String> {
        self.by_ep
            .values()
            .filter(|r| r.expires_at(grace) <= now)
            .map(|r| r.endpoint.clone())
            .collect()
    }
}
