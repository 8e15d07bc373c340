//! Configuration, and every bound of the core in one place ([`Limits`]).

use crate::content::DecodeLimits;
use crate::dm::DmLimits;

/// Every bound the core enforces. Exceeding one has a defined outcome (an
/// error code on the wire, a typed "full" result, or an evicted oldest
/// entry, as each field says); nothing grows without bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bounds of each CoAP endpoint (one per server link), including the
    /// largest datagram.
    pub coap: crate::coap::Limits,
    /// Bounds for payload decoders.
    pub decode: DecodeLimits,
    /// Bounds of the data model: attributes, Execute arguments, composite
    /// paths, link-format parsing.
    pub dm: DmLimits,
}

/// How the client behaves: who it is, which LwM2M version it speaks, its
/// timers and its bounds. Servers and credentials are not here: they live
/// in the Security (0) and Server (1) objects, as the TS prescribes.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The Endpoint Client Name (`ep=` in Register and Bootstrap-Request).
    pub endpoint: alloc::string::String,
    /// The LwM2M version announced and spoken (1.1 by default).
    pub version: crate::dm::Lwm2mVersion,
    /// Every bound.
    pub limits: Limits,
    /// CoAP transmission parameters (RFC 7252 §4.8).
    pub transmission: crate::coap::reliability::TransmissionParams,
    /// The DTLS backend for `coaps://` servers; `None` supports NoSec only.
    pub sessions: Option<alloc::sync::Arc<dyn crate::session::SessionFactory>>,
    /// How long a client in queue mode stays reachable after its last
    /// exchange (Core 1.1 §6.5: by default MAX_TRANSMIT_WAIT, 93 s).
    pub queue_mode_timeout: crate::time::Duration,
    /// How long a bootstrap session may stay open without a request from
    /// the Bootstrap-Server before it is rolled back (the Security object's
    /// Bootstrap-Server Account Timeout overrides it when set).
    pub bootstrap_timeout: crate::time::Duration,
    /// Whether notifications are Confirmable when the `con` attribute does
    /// not say.
    pub confirmable_notifications: bool,
    /// Most notifications stored per server while it is offline or asleep;
    /// beyond it the oldest is dropped (counted).
    pub max_stored_notifications: usize,
    /// Most concurrent observations over all servers; beyond it an Observe
    /// is answered as a plain Read.
    pub max_observations: usize,
}

impl Config {
    /// A configuration for endpoint `name` with every default.
    pub fn new(name: &str) -> Config {
        let mut limits = Limits::default();
        // A 64 KiB Block1 write must assemble (SPEC §1, guarantee 2's test).
        limits.coap.block1_max_body = 64 * 1024;
        limits.coap.snapshot_bytes = 64 * 1024;
        Config {
            endpoint: alloc::string::String::from(name),
            version: crate::dm::Lwm2mVersion::V1_1,
            limits,
            transmission: crate::coap::reliability::TransmissionParams::default(),
            sessions: None,
            queue_mode_timeout: crate::time::Duration::from_secs(93),
            bootstrap_timeout: crate::time::Duration::from_secs(247),
            confirmable_notifications: false,
            max_stored_notifications: 64,
            max_observations: 32,
        }
    }
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("version", &self.version)
            .field("limits", &self.limits)
            .field("transmission", &self.transmission)
            .field("sessions", &self.sessions.as_ref().map(|_| "<factory>"))
            .field("queue_mode_timeout", &self.queue_mode_timeout)
            .field("bootstrap_timeout", &self.bootstrap_timeout)
            .finish_non_exhaustive()
    }
}
