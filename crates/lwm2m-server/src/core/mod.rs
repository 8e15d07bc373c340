//! The sans-IO server: datagrams and time in, datagrams, deadlines and
//! events out. No clock, no socket.
//!
//! # Call order
//!
//! The driver owns the socket and the clock and calls, in any interleaving:
//!
//! 1. [`Server::handle_datagram`] with each datagram and its source address;
//! 2. commands: [`Server::request`], [`Server::cancel_observation`],
//!    [`Server::start_bootstrap`], ... (each returns at once; results come
//!    back as events);
//! 3. after any call, [`Server::poll_transmit`] until `None`, sending each
//!    datagram to the address it names, and [`Server::poll_event`] until
//!    `None`;
//! 4. [`Server::poll_timeout`] gives the next deadline; when it passes, call
//!    [`Server::handle_timeout`], then poll again as in 3.
//!
//! One `lwm2m_core::coap::Endpoint` per peer address does de-duplication,
//! retransmission and Block1 reassembly of what clients send; our own
//! requests go through it as the CoAP client. Two kinds of datagram are
//! answered here instead, before the endpoint: notifications of our
//! observations (RFC 7641: Confirmable or Non-confirmable responses on an
//! observation's token, which the endpoint would reset as unexpected), and
//! file-server GETs (block-wise from an immutable file, where repeating a
//! duplicate GET is harmless, RFC 7252 §4.5).
//!
//! # DTLS seam
//!
//! Peers are keyed by address and the core sees plaintext CoAP only. A DTLS
//! layer (`coaps://`) sits between the socket and the core, keyed by the
//! same address: see [`crate::driver::SessionHook`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use lwm2m_core::coap::{Endpoint, Message, MsgType, Token, emit_empty};
use lwm2m_core::dm::Path;
use lwm2m_core::rand::Rng;
use lwm2m_core::time::Instant;

pub mod bootstrap;
pub mod config;
pub mod event;
pub mod files;
pub mod link;
pub mod model;
pub mod operation;
pub mod registration;
pub mod registry;

mod engine;
mod inbound;
mod notify;
mod wire;

pub use bootstrap::{
    AclInstance, BootstrapConfig, BootstrapError, ClientConfig, SecurityInstance, ServerInstance,
};
pub use config::{ServerConfig, ServerLimits};
pub use event::{DeregisterReason, ObservationEnd, ServerEvent, ServerStats};
pub use files::{FileSource, MemFiles};
pub use link::Link;
pub use operation::{
    AttributeError, Attributes, Body, Operation, RawRequest, ReqId, RequestError, Response,
};
pub use registration::{ObjectLink, ObjectList, Version};
pub use registry::Registration;

use engine::Op;
use notify::Observation;

/// `/3/0/1` (or `/` for the root).
pub fn fmt_path(p: &Path) -> String {
    if p.is_root() {
        return "/".to_string();
    }
    p.ids().iter().map(|i| format!("/{i}")).collect()
}

/// What a timer of the server is for ([`Server::next_timer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerTimer {
    /// A peer's CoAP endpoint: retransmission, response wait, transfer expiry.
    Coap(SocketAddr),
    /// A registration's lifetime ends.
    Lifetime,
}

/// State of one peer address.
pub(crate) struct Peer {
    pub(crate) coap: Endpoint,
    pub(crate) last_heard: Instant,
    /// The endpoint registered from this address, if any.
    pub(crate) endpoint: Option<String>,
    /// The endpoint bootstrapping from this address, if any.
    pub(crate) bootstrap: Option<String>,
}

/// The LwM2M server core. See the module documentation for the call order.
pub struct Server {
    pub(crate) config: ServerConfig,
    pub(crate) rng: Rng,
    pub(crate) peers: HashMap<SocketAddr, Peer>,
    pub(crate) registry: registry::Registry,
    pub(crate) ops: BTreeMap<u64, Op>,
    pub(crate) tokens: HashMap<(SocketAddr, Token), u64>,
    pub(crate) observations: BTreeMap<u64, Observation>,
    pub(crate) obs_tokens: HashMap<(SocketAddr, Token), u64>,
    pub(crate) sessions: HashMap<String, bootstrap::Session>,
    pub(crate) files: Option<files::Files>,
    pub(crate) direct: VecDeque<(SocketAddr, Vec<u8>)>,
    pub(crate) ready: VecDeque<SocketAddr>,
    pub(crate) events: VecDeque<ServerEvent>,
    pub(crate) stats: ServerStats,
    pub(crate) next_id: u64,
    pub(crate) next_mid: u16,
}

impl Server {
    /// A server with `config`; `seed` seeds message IDs, tokens and
    /// registration locations (fixed seeds give reproducible runs).
    pub fn new(mut config: ServerConfig, seed: u64) -> Server {
        let mut rng = Rng::new(seed);
        let files = config.files.take().map(|src| {
            files::Files::new(
                src,
                config.limits.max_cached_files,
                config.limits.max_file_bytes,
            )
        });
        let next_mid = rng.next_u32() as u16;
        Server {
            config,
            rng,
            peers: HashMap::new(),
            registry: registry::Registry::default(),
            ops: BTreeMap::new(),
            tokens: HashMap::new(),
            observations: BTreeMap::new(),
            obs_tokens: HashMap::new(),
            sessions: HashMap::new(),
            files,
            direct: VecDeque::new(),
            ready: VecDeque::new(),
            events: VecDeque::new(),
            stats: ServerStats::default(),
            next_id: 1,
            next_mid,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// The registration of `endpoint`.
    pub fn registration(&self, endpoint: &str) -> Option<&Registration> {
        self.registry.get(endpoint)
    }

    /// Every registration (in no particular order).
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.registry.iter()
    }

    /// The observations of `endpoint`: handle and target paths.
    pub fn observations_of(&self, endpoint: &str) -> Vec<(ReqId, Vec<Path>)> {
        self.observations
            .values()
            .filter(|o| o.endpoint == endpoint)
            .map(|o| (o.id, o.paths.clone()))
            .collect()
    }

    /// Requests of ours not yet answered (in flight or queued) for `endpoint`.
    pub fn pending_requests(&self, endpoint: &str) -> usize {
        self.ops.values().filter(|o| o.endpoint == endpoint).count()
    }

    /// Replaces the bootstrap configuration (enables the Bootstrap interface).
    pub fn set_bootstrap_config(&mut self, config: BootstrapConfig) {
        self.config.bootstrap = Some(config);
    }

    /// Replaces the file source of the file server (enables it).
    pub fn set_file_source(&mut self, source: Box<dyn FileSource>) {
        self.files = Some(files::Files::new(
            source,
            self.config.limits.max_cached_files,
            self.config.limits.max_file_bytes,
        ));
    }

    pub(crate) fn event(&mut self, e: ServerEvent) {
        if self.events.len() >= self.config.limits.max_events {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    pub(crate) fn mark_ready(&mut self, peer: SocketAddr) {
        if !self.ready.contains(&peer) {
            self.ready.push_back(peer);
        }
    }

    pub(crate) fn direct(&mut self, peer: SocketAddr, bytes: Vec<u8>) {
        if self.direct.len() >= self.config.limits.max_direct_queue {
            self.stats.direct_dropped += 1;
        } else {
            self.direct.push_back((peer, bytes));
        }
    }

    pub(crate) fn direct_empty(&mut self, peer: SocketAddr, mtype: MsgType, mid: u16) {
        let mut b = [0u8; 4];
        if emit_empty(&mut b, mtype, mid).is_ok() {
            self.direct(peer, b.to_vec());
        }
    }

    pub(crate) fn fresh_id(&mut self) -> ReqId {
        let id = self.next_id;
        self.next_id += 1;
        ReqId(id)
    }

    /// The peer at `addr`, created if there is room (evicting an idle peer
    /// without state when the table is full).
    pub(crate) fn peer_mut(&mut self, now: Instant, addr: SocketAddr) -> Option<&mut Peer> {
        if !self.peers.contains_key(&addr) {
            if self.peers.len() >= self.config.limits.max_peers {
                let busy: std::collections::HashSet<SocketAddr> =
                    self.ops.values().map(|o| o.peer).collect();
                let victim = self
                    .peers
                    .iter()
                    .filter(|(a, p)| {
                        p.endpoint.is_none() && p.bootstrap.is_none() && !busy.contains(a)
                    })
                    .min_by_key(|(_, p)| p.last_heard)
                    .map(|(a, _)| *a);
                let victim = victim?;
                self.peers.remove(&victim);
                self.stats.peers_evicted += 1;
            }
            let seed = self.rng.next_u64();
            let coap = Endpoint::new(
                self.config.transmission.clone(),
                self.config.coap.clone(),
                seed,
            );
            self.peers.insert(
                addr,
                Peer {
                    coap,
                    last_heard: now,
                    endpoint: None,
                    bootstrap: None,
                },
            );
        }
        self.peers.get_mut(&addr)
    }

    /// Takes one datagram from `peer`.
    pub fn handle_datagram(&mut self, now: Instant, peer: SocketAddr, datagram: &[u8]) {
        self.stats.datagrams_in += 1;
        if datagram.len() > self.config.coap.max_message_size {
            self.stats.dropped += 1;
            return;
        }
        if self.peer_mut(now, peer).is_none() {
            self.stats.dropped += 1;
            return;
        }
        self.heard(now, peer);
        if let Ok(msg) = Message::parse(datagram)
            && self.intercept(now, peer, &msg)
        {
            // A notification also tells that a queue-mode client is awake.
            self.pump(now, peer);
            self.mark_ready(peer);
            return;
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let received = p.coap.handle_datagram(now, datagram);
        self.on_received(now, peer, received);
        self.drain_endpoint(now, peer);
        self.pump(now, peer);
        self.mark_ready(peer);
    }

    /// Handles what the endpoint does not: notifications of our
    /// observations and file GETs. Returns whether it did.
    fn intercept(&mut self, now: Instant, peer: SocketAddr, msg: &Message<'_>) -> bool {
        let con_or_non = matches!(msg.mtype(), MsgType::Con | MsgType::Non);
        if con_or_non && msg.code().is_response() {
            return self.on_notification(now, peer, msg);
        }
        if con_or_non
            && msg.code().is_request()
            && self.files.is_some()
            && msg.uri_path().next() == Some(self.config.file_prefix.as_bytes())
        {
            self.serve_file(peer, msg);
            return true;
        }
        false
    }

    fn serve_file(&mut self, peer: SocketAddr, msg: &Message<'_>) {
        let mid = self.next_mid;
        self.next_mid = mid.wrapping_add(1);
        let mut out = vec![0u8; self.config.coap.max_message_size];
        let szx = self.config.limits.block_szx;
        let Some(files) = self.files.as_mut() else {
            return;
        };
        match files.serve(msg, mid, szx, &mut out) {
            Ok(served) => {
                out.truncate(served.len);
                self.direct(peer, out);
                if let Some((name, size)) = served.done {
                    self.event(ServerEvent::FileServed { peer, name, size });
                }
            }
            Err(_) => self.stats.dropped += 1,
        }
    }

    /// Notes that `peer` was heard from: queue-mode clients become reachable.
    fn heard(&mut self, now: Instant, peer: SocketAddr) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.last_heard = now;
            if let Some(ep) = p.endpoint.clone()
                && let Some(r) = self.registry.get_mut(&ep)
                && r.peer == peer
            {
                r.last_heard = now;
            }
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(_, p)| p.coap.poll_timeout().is_some_and(|t| t <= now))
            .map(|(a, _)| *a)
            .collect();
        for addr in due {
            if let Some(p) = self.peers.get_mut(&addr) {
                p.coap.handle_timeout(now);
            }
            self.drain_endpoint(now, addr);
            self.pump(now, addr);
            self.mark_ready(addr);
        }
        let grace = self.config.lifetime_grace;
        for ep in self.registry.expired(now, grace) {
            self.end_registration(now, &ep, DeregisterReason::Expired);
        }
    }

    /// The next instant [`Server::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timer().map(|(t, _)| t)
    }

    /// The next timer and what it is for.
    pub fn next_timer(&self) -> Option<(Instant, ServerTimer)> {
        let coap = self
            .peers
            .iter()
            .filter_map(|(a, p)| p.coap.poll_timeout().map(|t| (t, ServerTimer::Coap(*a))))
            .min_by_key(|(t, _)| *t);
        let life = self
            .registry
            .next_expiry(self.config.lifetime_grace)
            .map(|t| (t, ServerTimer::Lifetime));
        match (coap, life) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Writes the next datagram into `buf` and returns its destination and
    /// length. `buf` should hold `ServerConfig::coap.max_message_size` bytes.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        while let Some((peer, bytes)) = self.direct.pop_front() {
            if let Some(dst) = buf.get_mut(..bytes.len()) {
                dst.copy_from_slice(&bytes);
                self.stats.datagrams_out += 1;
                return Some((peer, bytes.len()));
            }
            self.stats.dropped += 1;
        }
        while let Some(&addr) = self.ready.front() {
            if let Some(p) = self.peers.get_mut(&addr)
                && let Some(n) = p.coap.poll_transmit(now, buf)
            {
                self.stats.datagrams_out += 1;
                return Some((addr, n));
            }
            self.ready.pop_front();
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
