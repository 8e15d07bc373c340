//! `coaps://` for the bundled server: [`DtlsSessions`], the
//! [`SessionHook`] that keeps one DTLS 1.2 server session per client
//! address between a socket and the core, and [`Credentials`], the PSKs
//! and certificate it accepts (from the bootstrap TOML, the command line,
//! PEM files) turned into the OpenSSL backend of `lwm2m::dtls`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use lwm2m_server::ServerConfig;
//! use lwm2m_server::driver::Driver;
//! use lwm2m_server::dtls::{Credentials, DtlsSessions};
//!
//! let mut creds = Credentials::new();
//! creds.add_psk(b"dev-1", &[0x01, 0x02, 0x03, 0x04])?;
//! let backend = creds.openssl_server()?;
//! let mut driver = Driver::bind("0.0.0.0:5683".parse()?, ServerConfig::dm(), 1)?;
//! driver.bind_secure("0.0.0.0:5684".parse()?, Box::new(DtlsSessions::new(Arc::new(backend))))?;
//! let handle = driver.spawn()?; // coap://…:5683 and coaps://…:5684, one server
//! # Ok(()) }
//! ```
//!
//! # Associations (RFC 6347 §4.2.8)
//!
//! - Only a ClientHello opens a session for an unknown address; any other
//!   datagram from one is dropped and counted. The backend answers the
//!   first ClientHello with a HelloVerifyRequest, so a spoofed address gets
//!   one small datagram and no handshake work.
//! - Half-open sessions (handshake not finished) are capped
//!   ([`DtlsLimits::max_half_open`]); beyond the cap a new ClientHello is
//!   dropped. Sessions fail and are removed when their handshake times out.
//! - At [`DtlsLimits::max_sessions`] the established session heard from
//!   least recently makes room (it is closed in order, so the client can
//!   still resume it).
//! - A new ClientHello from an address with an established session starts
//!   a second handshake beside it; the old association keeps carrying
//!   application data until the new one is established, then the new one
//!   replaces it. A forged ClientHello therefore cannot cut a client off.
//! - A failed handshake, a fatal alert or a `close_notify` removes the
//!   peer's session (after its last alert is sent); the next ClientHello
//!   starts afresh.
//!
//! What happens is reported to an optional observer as [`DtlsEvent`]s
//! (the command line prints them); keys never appear in them.

mod credentials;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use lwm2m_core::session::{
    PeerIdentity, ServerSessionFactory, Session, SessionError, SessionState, record,
};
use lwm2m_core::time::Instant;

use crate::driver::SessionHook;

pub use credentials::{CredentialError, Credentials, parse_psk_option};

/// Bounds of [`DtlsSessions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsLimits {
    /// Sessions kept, established or not; at the bound the least recently
    /// heard established one is closed to make room, or the ClientHello is
    /// dropped when every session is half-open.
    pub max_sessions: usize,
    /// Sessions whose handshake has not finished (including second
    /// handshakes beside an established association); a ClientHello beyond
    /// it is dropped.
    pub max_half_open: usize,
    /// Datagrams of removed sessions (their final alerts) waiting to be
    /// sent; beyond it they are dropped.
    pub max_outbox: usize,
}

impl Default for DtlsLimits {
    fn default() -> Self {
        DtlsLimits {
            max_sessions: 1024,
            max_half_open: 64,
            max_outbox: 64,
        }
    }
}

/// Who a client proved to be in its handshake.
#[derive(Clone, PartialEq, Eq)]
pub enum PeerId {
    /// A PSK identity (RFC 4279 §2), as sent.
    Psk(Vec<u8>),
    /// The client's end-entity certificate, DER.
    Certificate(Vec<u8>),
}

impl PeerId {
    fn of(p: PeerIdentity<'_>) -> Option<PeerId> {
        Some(match p {
            PeerIdentity::Psk(id) => PeerId::Psk(id.to_vec()),
            PeerIdentity::Certificate(der) => PeerId::Certificate(der.to_vec()),
            _ => return None,
        })
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerId::Psk(id) => write!(f, "PSK identity \"{}\"", id.escape_ascii()),
            PeerId::Certificate(der) => write!(f, "certificate ({} bytes)", der.len()),
        }
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a datagram that would have opened a session was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// [`DtlsLimits::max_half_open`] handshakes are already running.
    TooManyHandshakes,
    /// [`DtlsLimits::max_sessions`] sessions, none of them established.
    TooManySessions,
    /// The backend could not make a session.
    Backend(SessionError),
}

/// What happened to a client's DTLS association.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// A handshake finished.
    Established {
        /// The client's address.
        peer: SocketAddr,
        /// Who it proved to be.
        identity: Option<PeerId>,
        /// Whether it resumed an earlier session (abbreviated handshake).
        resumed: bool,
        /// Whether it replaced an established association of the address.
        replaced: bool,
    },
    /// A handshake or an association failed (wrong PSK, unknown identity,
    /// rejected certificate, timeout, fatal alert).
    Failed {
        /// The client's address.
        peer: SocketAddr,
        /// Why.
        error: SessionError,
    },
    /// The client closed its association (`close_notify`).
    Closed {
        /// The client's address.
        peer: SocketAddr,
    },
    /// An established association was closed to make room for a new one.
    Evicted {
        /// The client's address.
        peer: SocketAddr,
    },
    /// A ClientHello was dropped.
    Refused {
        /// The client's address.
        peer: SocketAddr,
        /// Why.
        why: Refusal,
    },
}

impl DtlsEvent {
    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        match self {
            DtlsEvent::Established { peer, .. }
            | DtlsEvent::Failed { peer, .. }
            | DtlsEvent::Closed { peer }
            | DtlsEvent::Evicted { peer }
            | DtlsEvent::Refused { peer, .. } => *peer,
        }
    }
}

impl fmt::Display for DtlsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DtlsEvent::Established {
                peer,
                identity,
                resumed,
                replaced,
            } => {
                write!(f, "DTLS session with {peer} established")?;
                if let Some(id) = identity {
                    write!(f, ", {id}")?;
                }
                if *resumed {
                    f.write_str(", resumed")?;
                }
                if *replaced {
                    f.write_str(", replacing the previous one")?;
                }
                Ok(())
            }
            DtlsEvent::Failed { peer, error } => write!(f, "DTLS with {peer}: {error}"),
            DtlsEvent::Closed { peer } => {
                write!(f, "DTLS session with {peer} closed by the client")
            }
            DtlsEvent::Evicted { peer } => {
                write!(f, "DTLS session with {peer} closed to make room")
            }
            DtlsEvent::Refused { peer, why } => {
                write!(f, "DTLS ClientHello from {peer} dropped: ")?;
                match why {
                    Refusal::TooManyHandshakes => f.write_str("too many handshakes in progress"),
                    Refusal::TooManySessions => f.write_str("too many sessions"),
                    Refusal::Backend(e) => write!(f, "{e}"),
                }
            }
        }
    }
}

/// Counters of [`DtlsSessions`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsStats {
    /// Handshakes completed.
    pub established: u64,
    /// Of those, abbreviated (resumed).
    pub resumed: u64,
    /// Handshakes or associations that failed.
    pub failed: u64,
    /// Datagrams from addresses without a session that were not a
    /// ClientHello.
    pub unknown_peer: u64,
    /// ClientHellos dropped at a limit.
    pub refused: u64,
    /// Established sessions closed to make room.
    pub evicted: u64,
    /// Datagrams the sessions dropped: garbage, records that failed to
    /// authenticate, replays.
    pub dropped_records: u64,
}

/// Receives [`DtlsEvent`]s as they happen, on the driver's thread.
pub type Observer = Box<dyn FnMut(&DtlsEvent) + Send>;

struct Peer {
    session: Box<dyn Session>,
    /// A second handshake from the same address, beside the established
    /// `session`; it replaces it once established.
    pending: Option<Box<dyn Session>>,
    last_heard: Instant,
}

impl Peer {
    fn half_open(&self) -> usize {
        usize::from(self.session.state() != SessionState::Established)
            + usize::from(self.pending.is_some())
    }
}

/// DTLS server sessions keyed by client address: the [`SessionHook`] of a
/// `coaps://` socket (see [`crate::driver::Driver::bind_secure`]). Generic
/// over the backend ([`ServerSessionFactory`]); [`Credentials`] builds the
/// OpenSSL one. See the [module documentation](self) for the rules.
pub struct DtlsSessions {
    factory: Arc<dyn ServerSessionFactory>,
    limits: DtlsLimits,
    peers: HashMap<SocketAddr, Peer>,
    /// Peers with a handshake in progress: the only ones with timers.
    handshaking: Vec<SocketAddr>,
    /// Peers that may have datagrams to send.
    dirty: Vec<SocketAddr>,
    /// Final datagrams of removed sessions.
    outbox: VecDeque<(SocketAddr, Vec<u8>)>,
    observer: Option<Observer>,
    stats: DtlsStats,
    scratch: Vec<u8>,
}

impl fmt::Debug for DtlsSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsSessions")
            .field("limits", &self.limits)
            .field("peers", &self.peers.len())
            .field("handshaking", &self.handshaking.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl DtlsSessions {
    /// Sessions from `factory` with the default [`DtlsLimits`].
    pub fn new(factory: Arc<dyn ServerSessionFactory>) -> DtlsSessions {
        DtlsSessions {
            factory,
            limits: DtlsLimits::default(),
            peers: HashMap::new(),
            handshaking: Vec::new(),
            dirty: Vec::new(),
            outbox: VecDeque::new(),
            observer: None,
            stats: DtlsStats::default(),
            scratch: vec![0; 2048],
        }
    }

    /// With other limits.
    pub fn with_limits(mut self, limits: DtlsLimits) -> DtlsSessions {
        self.limits = limits;
        self
    }

    /// Calls `observer` with every [`DtlsEvent`].
    pub fn with_observer(mut self, observer: impl FnMut(&DtlsEvent) + Send + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Counters.
    pub fn stats(&self) -> DtlsStats {
        self.stats
    }

    /// Sessions kept now (established or not).
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Who the client at `peer` proved to be, once established.
    pub fn peer_identity(&self, peer: SocketAddr) -> Option<PeerId> {
        let p = self.peers.get(&peer)?;
        p.session.peer_identity().and_then(PeerId::of)
    }

    fn emit(&mut self, e: DtlsEvent) {
        if let Some(o) = self.observer.as_mut() {
            o(&e);
        }
    }

    fn mark(&mut self, addr: SocketAddr) {
        if !self.dirty.contains(&addr) {
            self.dirty.push(addr);
        }
    }

    fn half_open(&self) -> usize {
        self.peers.values().map(Peer::half_open).sum()
    }

    /// Moves what `session` still has to send to the outbox (bounded).
    fn flush_to_outbox(&mut self, now: Instant, addr: SocketAddr, session: &mut dyn Session) {
        while let Some(n) = session.poll_transmit(now, &mut self.scratch) {
            if self.outbox.len() < self.limits.max_outbox {
                let d = self.scratch.get(..n).unwrap_or(&[]).to_vec();
                self.outbox.push_back((addr, d));
            }
        }
    }

    /// Closes `session` in order (so it stays resumable in the backend's
    /// cache) and discards its `close_notify`: the address already speaks
    /// another association, or is gone.
    fn retire(&mut self, now: Instant, mut session: Box<dyn Session>) {
        session.close();
        while session.poll_transmit(now, &mut self.scratch).is_some() {}
    }

    fn remove(&mut self, now: Instant, addr: SocketAddr) {
        if let Some(mut p) = self.peers.remove(&addr) {
            self.flush_to_outbox(now, addr, p.session.as_mut());
            if let Some(mut q) = p.pending.take() {
                self.flush_to_outbox(now, addr, q.as_mut());
            }
        }
        self.handshaking.retain(|a| *a != addr);
    }

    /// Makes room for a new session by closing the established one heard
    /// from least recently; false when every session is half-open.
    fn evict_one(&mut self, now: Instant) -> bool {
        let victim = self
            .peers
            .iter()
            .filter(|(_, p)| p.half_open() == 0)
            .min_by_key(|(_, p)| p.last_heard)
            .map(|(a, _)| *a);
        let Some(addr) = victim else {
            return false;
        };
        if let Some(p) = self.peers.remove(&addr) {
            self.retire(now, p.session);
        }
        self.stats.evicted += 1;
        self.emit(DtlsEvent::Evicted { peer: addr });
        true
    }

    fn refuse(&mut self, peer: SocketAddr, why: Refusal) {
        self.stats.refused += 1;
        self.emit(DtlsEvent::Refused { peer, why });
    }

    /// A new session for `peer` from the backend, or `None` (reported).
    fn accept(&mut self, peer: SocketAddr) -> Option<Box<dyn Session>> {
        match self.factory.accept() {
            Ok(s) => Some(s),
            Err(e) => {
                self.refuse(peer, Refusal::Backend(e));
                None
            }
        }
    }

    /// After a session of `addr` handled input: report and act on what
    /// changed. `pending` says which of the peer's sessions it was.
    fn after(&mut self, now: Instant, addr: SocketAddr, before: SessionState, pending: bool) {
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        let session = if pending {
            p.pending.as_deref()
        } else {
            Some(p.session.as_ref())
        };
        let Some(after) = session.map(|s| s.state()) else {
            return;
        };
        if after == before {
            self.track(addr);
            return;
        }
        match after {
            SessionState::Established => {
                let mut replaced = false;
                if pending && let Some(newer) = p.pending.take() {
                    let old = std::mem::replace(&mut p.session, newer);
                    replaced = true;
                    self.retire(now, old);
                }
                let Some(p) = self.peers.get(&addr) else {
                    return;
                };
                let resumed = p.session.resumed();
                let identity = p.session.peer_identity().and_then(PeerId::of);
                self.stats.established += 1;
                self.stats.resumed += u64::from(resumed);
                self.emit(DtlsEvent::Established {
                    peer: addr,
                    identity,
                    resumed,
                    replaced,
                });
            }
            SessionState::Failed(reason) => {
                self.stats.failed += 1;
                self.emit(DtlsEvent::Failed {
                    peer: addr,
                    error: SessionError::Failed(reason),
                });
                if pending {
                    let q = self.peers.get_mut(&addr).and_then(|p| p.pending.take());
                    if let Some(mut q) = q {
                        self.flush_to_outbox(now, addr, q.as_mut());
                    }
                } else {
                    self.remove(now, addr);
                }
            }
            SessionState::Closed => {
                if pending {
                    p.pending = None;
                } else {
                    self.emit(DtlsEvent::Closed { peer: addr });
                    self.remove(now, addr);
                }
            }
            SessionState::Idle | SessionState::Handshaking => {}
        }
        self.track(addr);
    }

    /// Keeps `handshaking` in line with the peer's sessions.
    fn track(&mut self, addr: SocketAddr) {
        let busy = self.peers.get(&addr).is_some_and(|p| p.half_open() > 0);
        let listed = self.handshaking.contains(&addr);
        if busy && !listed {
            self.handshaking.push(addr);
        } else if !busy && listed {
            self.handshaking.retain(|a| *a != addr);
        }
    }
}

impl SessionHook for DtlsSessions {
    fn inbound(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let hello = record::is_client_hello(datagram);
        if !self.peers.contains_key(&peer) {
            if !hello {
                self.stats.unknown_peer += 1;
                return None;
            }
            if self.half_open() >= self.limits.max_half_open {
                self.refuse(peer, Refusal::TooManyHandshakes);
                return None;
            }
            if self.peers.len() >= self.limits.max_sessions && !self.evict_one(now) {
                self.refuse(peer, Refusal::TooManySessions);
                return None;
            }
            let session = self.accept(peer)?;
            self.peers.insert(
                peer,
                Peer {
                    session,
                    pending: None,
                    last_heard: now,
                },
            );
        }
        // A ClientHello beside an established association starts a second
        // handshake (RFC 6347 §4.2.8), bounded like any other.
        let second = hello
            && self.peers.get(&peer).is_some_and(|p| {
                p.pending.is_none() && p.session.state() == SessionState::Established
            });
        if second {
            if self.half_open() >= self.limits.max_half_open {
                self.refuse(peer, Refusal::TooManyHandshakes);
                return None;
            }
            let session = self.accept(peer)?;
            if let Some(p) = self.peers.get_mut(&peer) {
                p.pending = Some(session);
            }
        }
        let p = self.peers.get_mut(&peer)?;
        p.last_heard = now;
        // While a second handshake runs, application data still belongs to
        // the established association; everything else to the handshake.
        let to_pending = p.pending.is_some() && !record::has_application_data(datagram);
        let s: &mut dyn Session = match (&mut p.pending, to_pending) {
            (Some(q), true) => q.as_mut(),
            _ => p.session.as_mut(),
        };
        let before = s.state();
        let dropped = |s: &dyn Session| {
            let st = s.stats();
            st.malformed.saturating_add(st.rejected)
        };
        let dropped_before = dropped(s);
        let r = s.handle_datagram(now, datagram, out);
        let grew = dropped(s).saturating_sub(dropped_before);
        self.stats.dropped_records = self.stats.dropped_records.saturating_add(grew);
        self.mark(peer);
        self.after(now, peer, before, to_pending);
        match r {
            Ok(Some(n)) => Some(n),
            _ => None,
        }
    }

    fn outbound(
        &mut self,
        _now: Instant,
        peer: SocketAddr,
        message: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let p = self.peers.get_mut(&peer)?;
        p.session.encrypt(message, out).ok()
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        while let Some((addr, d)) = self.outbox.pop_front() {
            if let Some(dst) = out.get_mut(..d.len()) {
                dst.copy_from_slice(&d);
                return Some((addr, d.len()));
            }
        }
        while let Some(&addr) = self.dirty.last() {
            if let Some(p) = self.peers.get_mut(&addr) {
                if let Some(n) = p.pending.as_mut().and_then(|q| q.poll_transmit(now, out)) {
                    return Some((addr, n));
                }
                if let Some(n) = p.session.poll_transmit(now, out) {
                    return Some((addr, n));
                }
            }
            self.dirty.pop();
        }
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.handshaking
            .iter()
            .filter_map(|a| self.peers.get(a))
            .flat_map(|p| {
                [
                    p.session.poll_timeout(),
                    p.pending.as_ref().and_then(|q| q.poll_timeout()),
                ]
            })
            .flatten()
            .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        for addr in self.handshaking.clone() {
            for pending in [false, true] {
                let Some(p) = self.peers.get_mut(&addr) else {
                    break;
                };
                let s = if pending {
                    match p.pending.as_mut() {
                        Some(q) => q.as_mut(),
                        None => continue,
                    }
                } else {
                    p.session.as_mut()
                };
                if s.poll_timeout().is_none_or(|t| t > now) {
                    continue;
                }
                let before = s.state();
                s.handle_timeout(now);
                self.mark(addr);
                self.after(now, addr, before, pending);
            }
        }
    }

    fn has_peer(&self, peer: SocketAddr) -> bool {
        self.peers.contains_key(&peer)
    }
}

#[cfg(test)]
mod tests;
