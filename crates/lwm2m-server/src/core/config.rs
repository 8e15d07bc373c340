//! The server's configuration and every bound it enforces ([`ServerLimits`]).

use lwm2m_core::coap::{Limits as CoapLimits, TransmissionParams};
use lwm2m_core::content::DecodeLimits;
use lwm2m_core::time::Duration;

use super::bootstrap::BootstrapConfig;
use super::files::FileSource;

/// Every bound of a [`super::Server`]. Each field says what happens at the
/// bound; nothing a peer sends grows memory past these.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Peers (addresses) with CoAP state; a new one evicts the least
    /// recently heard peer that has no registration, session or request,
    /// or is dropped when there is none.
    pub max_peers: usize,
    /// Registrations; a Register beyond it gets 5.03 Service Unavailable.
    pub max_registrations: usize,
    /// Longest Endpoint Client Name, in bytes (longer: 4.00).
    pub max_endpoint_len: usize,
    /// Links in a Register / Update payload (more: 4.00).
    pub max_object_links: usize,
    /// Requests of ours to one client, in flight or queued (queue mode,
    /// NSTART); beyond it [`super::RequestError::QueueFull`].
    pub max_requests_per_client: usize,
    /// Requests in flight at once per client; the rest wait in its queue.
    pub max_in_flight_per_client: usize,
    /// Observations per client; beyond it an Observe fails with
    /// [`super::RequestError::QueueFull`].
    pub max_observations_per_client: usize,
    /// Largest request body we send (a Write payload, sent with Block1 when
    /// larger than a block); larger: [`super::RequestError::TooLarge`].
    pub max_request_body: usize,
    /// Largest response body reassembled from Block2 blocks; larger: the
    /// request fails with [`super::RequestError::TooLarge`].
    pub max_response_body: usize,
    /// Events held until polled; beyond it the oldest is dropped (counted in
    /// [`super::ServerStats::events_dropped`]).
    pub max_events: usize,
    /// Datagrams of our own (acknowledgements of notifications, file
    /// blocks) waiting for `poll_transmit`; beyond it they are dropped.
    pub max_direct_queue: usize,
    /// Concurrent bootstrap sessions; a Bootstrap-Request beyond it gets
    /// 5.03 Service Unavailable.
    pub max_bootstrap_sessions: usize,
    /// Largest file the file server loads.
    pub max_file_bytes: usize,
    /// Files kept in memory by the file server (least recently used out).
    pub max_cached_files: usize,
    /// Bounds for decoding payloads from clients.
    pub decode: DecodeLimits,
    /// Preferred block size exponent for our Block1 uploads and Block2
    /// downloads (2^(szx+4) bytes, 0..=6).
    pub block_szx: u8,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_peers: 4096,
            max_registrations: 1024,
            max_endpoint_len: 255,
            max_object_links: 1024,
            max_requests_per_client: 64,
            max_in_flight_per_client: 16,
            max_observations_per_client: 64,
            max_request_body: 16 * 1024 * 1024,
            max_response_body: 4 * 1024 * 1024,
            max_events: 4096,
            max_direct_queue: 1024,
            max_bootstrap_sessions: 64,
            max_file_bytes: 64 * 1024 * 1024,
            max_cached_files: 4,
            decode: DecodeLimits {
                max_entries: 4096,
                max_depth: 8,
                max_value_len: 16 * 1024 * 1024,
            },
            block_szx: 6,
        }
    }
}

/// The configuration of a [`super::Server`].
#[non_exhaustive]
pub struct ServerConfig {
    /// CoAP transmission parameters towards every peer (RFC 7252 §4.8).
    /// NSTART bounds how many of our requests are in flight per client.
    pub transmission: TransmissionParams,
    /// Bounds of each peer's CoAP endpoint (message size, Block1 body of a
    /// Register or Send, de-duplication cache).
    pub coap: CoapLimits,
    /// The server's own bounds.
    pub limits: ServerLimits,
    /// Serve the Registration interface (`/rd`) and Send (`/dp`): a DM server.
    pub dm: bool,
    /// Serve the Bootstrap interface (`/bs`) with this configuration: a
    /// Bootstrap Server. `None`: Bootstrap-Request gets 4.04.
    pub bootstrap: Option<BootstrapConfig>,
    /// Files served under `/<file_prefix>/<name>` with Block2.
    pub files: Option<Box<dyn FileSource>>,
    /// The first Uri-Path segment of the file server (`fw`).
    pub file_prefix: String,
    /// Refuse Register / Update parameters the TS does not define (4.00).
    pub strict_queries: bool,
    /// Extra time after a lifetime ends before the registration is removed
    /// (0: exactly at the lifetime, Core 1.1 §6.2.1).
    pub lifetime_grace: Duration,
    /// How long a queue-mode client is reachable after we last heard from
    /// it (Core 1.1, Queue Mode: the client stays awake for CoAP
    /// MAX_TRANSMIT_WAIT after its last message, 93 s by default).
    pub queue_awake: Duration,
    /// Send our requests Confirmable (true) or Non-confirmable.
    pub confirmable: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let transmission = TransmissionParams::default();
        let queue_awake = transmission.max_transmit_wait();
        let mut coap = CoapLimits::default();
        coap.pending = 32;
        coap.block1_max_body = 64 * 1024;
        ServerConfig {
            transmission,
            coap,
            limits: ServerLimits::default(),
            dm: true,
            bootstrap: None,
            files: None,
            file_prefix: "fw".to_string(),
            strict_queries: true,
            lifetime_grace: Duration::ZERO,
            queue_awake,
            confirmable: true,
        }
    }
}

impl ServerConfig {
    /// A DM server with the defaults.
    pub fn dm() -> Self {
        ServerConfig::default()
    }

    /// A Bootstrap Server only (no `/rd`), with `config`.
    pub fn bootstrap(config: BootstrapConfig) -> Self {
        ServerConfig {
            dm: false,
            bootstrap: Some(config),
            ..ServerConfig::default()
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("transmission", &self.transmission)
            .field("coap", &self.coap)
            .field("limits", &self.limits)
            .field("dm", &self.dm)
            .field("bootstrap", &self.bootstrap.is_some())
            .field("files", &self.files.is_some())
            .field("file_prefix", &self.file_prefix)
            .finish_non_exhaustive()
    }
}
