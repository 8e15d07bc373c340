//! What the server reports ([`ServerEvent`]) and counts ([`ServerStats`]).

use std::net::SocketAddr;

use lwm2m_core::coap::Code;
use lwm2m_core::content::{Entry, Format};

use super::bootstrap::BootstrapError;
use super::operation::{ReqId, RequestError, Response};

/// Why a registration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeregisterReason {
    /// The client sent De-register (Core 1.1 §6.2.3).
    Client,
    /// The lifetime passed without an Update (Core 1.1 §6.2.1).
    Expired,
    /// The same endpoint registered again; the old registration is gone.
    Replaced,
}

/// Why an observation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObservationEnd {
    /// Cancelled by us (actively or passively).
    Cancelled,
    /// The client sent an error notification or reset it (RFC 7641 §3.2, §4.2).
    ByClient,
    /// The registration ended.
    Deregistered,
}

/// Something that happened; drained with [`super::Server::poll_event`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client registered (Core 1.1 §6.2.1).
    Registered {
        /// Endpoint Client Name.
        endpoint: String,
        /// Its registration location (`rd/<location>`).
        location: String,
        /// Where it registered from.
        peer: SocketAddr,
        /// Whether it replaced an earlier registration of the same name.
        replaced: bool,
    },
    /// A client updated its registration (Core 1.1 §6.2.2).
    Updated {
        /// Endpoint Client Name.
        endpoint: String,
        /// Where the Update came from (it may have moved).
        peer: SocketAddr,
        /// Whether the Update carried a new object list.
        objects_changed: bool,
    },
    /// A registration ended.
    Deregistered {
        /// Endpoint Client Name.
        endpoint: String,
        /// Why.
        reason: DeregisterReason,
    },
    /// A request of ours completed.
    Response {
        /// Endpoint Client Name.
        endpoint: String,
        /// The request.
        request: ReqId,
        /// The outcome.
        result: Result<Response, RequestError>,
    },
    /// A notification of an observation (RFC 7641; Core 1.1 §6.4 Notify).
    Notification {
        /// Endpoint Client Name.
        endpoint: String,
        /// The observation (the [`ReqId`] of its Observe).
        observation: ReqId,
        /// The Observe sequence number.
        seq: Option<u32>,
        /// The payload's format.
        format: Format,
        /// The values.
        entries: Vec<Entry<'static>>,
    },
    /// An observation ended.
    ObservationEnded {
        /// Endpoint Client Name.
        endpoint: String,
        /// The observation.
        observation: ReqId,
        /// Why.
        reason: ObservationEnd,
    },
    /// A client sent values with Send (Core 1.1 §6.4, `POST /dp`).
    Send {
        /// Endpoint Client Name.
        endpoint: String,
        /// The payload's format.
        format: Format,
        /// The values.
        entries: Vec<Entry<'static>>,
    },
    /// A client asked to be bootstrapped (Core 1.1 §6.1), or the operator
    /// started a server-initiated bootstrap.
    BootstrapStarted {
        /// Endpoint Client Name.
        endpoint: String,
        /// The client's address.
        peer: SocketAddr,
        /// Whether the client asked (false: server-initiated).
        requested: bool,
    },
    /// One step of a bootstrap session was answered.
    BootstrapStep {
        /// Endpoint Client Name.
        endpoint: String,
        /// The operation (`bootstrap-write /0/1`, ...).
        step: String,
        /// The response code, or the failure.
        result: Result<Code, RequestError>,
    },
    /// A bootstrap session ended.
    BootstrapFinished {
        /// Endpoint Client Name.
        endpoint: String,
        /// Success, or what failed (4.06 at Bootstrap-Finish included).
        result: Result<(), BootstrapError>,
    },
    /// Requests queued for a queue-mode client went out when it was heard from.
    QueueFlushed {
        /// Endpoint Client Name.
        endpoint: String,
        /// How many.
        count: usize,
    },
    /// The last block of a file went out.
    FileServed {
        /// The downloader.
        peer: SocketAddr,
        /// File name.
        name: String,
        /// File size.
        size: usize,
    },
    /// A request from a peer was refused (bad query, unknown location...).
    Rejected {
        /// The peer.
        peer: SocketAddr,
        /// What it asked (`POST /rd`).
        request: String,
        /// Our answer.
        code: Code,
        /// Why.
        reason: String,
    },
}

/// Counters of what the server did on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams handed to `poll_transmit` callers.
    pub datagrams_out: u64,
    /// Datagrams dropped: no room for a new peer, too large.
    pub dropped: u64,
    /// Events dropped because they were not polled.
    pub events_dropped: u64,
    /// Notifications received (including duplicates and stale ones).
    pub notifications: u64,
    /// Peers evicted to make room.
    pub peers_evicted: u64,
    /// Direct datagrams (ACKs, file blocks) dropped because the queue was full.
    pub direct_dropped: u64,
}
