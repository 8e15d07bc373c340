//! The LwM2M client engine, sans-IO.
//!
//! A [`Client`] owns the data model (its objects), one CoAP endpoint per
//! server link, and every state machine of the protocol: Register / Update
//! / De-register (Core 1.1 §6.2), client- and server-initiated Bootstrap
//! (§6.1), the Device Management interface (§6.3), observations and
//! notifications (§6.4), Send (§6.4.6), queue mode (§6.5). It reads no clock
//! and touches no socket.
//!
//! # Call order
//!
//! The driver owns the sockets and the clock. In any interleaving:
//!
//! 1. [`Client::handle_datagram`] with each datagram received on a link;
//! 2. [`Client::handle_timeout`] when [`Client::poll_timeout`] has passed
//!    (the std driver's `sched_run`);
//! 3. after either, and after any command ([`Client::notify_changed`],
//!    [`Client::send`], [`Client::deregister`], ...), drain
//!    [`Client::poll_event`] (open / close sockets, registration events,
//!    persistence requests) and [`Client::poll_transmit`] (datagrams to send),
//!    then sleep until [`Client::poll_timeout`].
//!
//! Commands only record; sending happens on the next drain or timeout, so
//! nothing here ever waits. A block-wise transfer is state between two
//! datagrams: while one server's transfer on an object is open, another
//! server's request touching that object gets 5.03 with Max-Age, and
//! requests not touching it are served.

mod bootstrap;
mod dispatch;
mod download;
mod event;
mod link;
mod observe;
mod outgoing;
mod register;
mod respond;
mod saved;
mod send;
mod timers;
mod transfer;
pub mod uri;

#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub use download::DownloadPolicy;
pub use event::{Event, Failure, LinkId, ServerUri, Transmit};
pub use saved::SavedError;
pub use send::SendError;
pub use timers::TimerReason;

use crate::coap::Endpoint;
use crate::config::Config;
use crate::dm::{AttributeStore, Handle, Object, Path, Registry, RegistryError, Ssid};
use crate::rand::Rng;
use crate::time::Instant;
use bootstrap::BootstrapState;
use link::{Link, Role};
use observe::Observation;
use register::ServerState;

/// Why a configuration is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The endpoint name is empty or not usable in a Uri-Query.
    BadEndpointName,
    /// A limit is zero where it must not be.
    BadLimits,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConfigError::BadEndpointName => "endpoint name empty or not printable",
            ConfigError::BadLimits => "a limit is zero",
        })
    }
}

/// A block-wise transfer holding an object for one link.
#[derive(Clone, Copy, Debug)]
struct Lock {
    link: LinkId,
    oid: crate::dm::Oid,
    key: u64,
}

/// A streaming Block1 write (firmware package) between two datagrams.
struct Stream {
    link: LinkId,
    key: u64,
    txn: crate::dm::Suspended,
}

/// Counters of what the client did on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Datagrams for unknown or closed links, or that failed to decrypt.
    pub dropped: u64,
    /// Requests answered 5.03 because another server's transfer held the
    /// object, or a bootstrap session was open.
    pub busy: u64,
    /// Notifications sent.
    pub notifications: u64,
    /// Stored notifications dropped because the store was full.
    pub stored_dropped: u64,
    /// Events dropped because the application did not poll them.
    pub events_dropped: u64,
}

/// The LwM2M client. See the module documentation for the call order.
pub struct Client {
    config: Config,
    dm: Registry,
    attrs: AttributeStore,
    links: Vec<Link>,
    next_link: u16,
    servers: Vec<ServerState>,
    bootstrap: BootstrapState,
    /// The attributes before the open bootstrap session, restored if it
    /// rolls back (Bootstrap-Delete removes attributes with instances).
    bootstrap_attrs: Option<AttributeStore>,
    observations: Vec<Observation>,
    locks: Vec<Lock>,
    streams: Vec<Stream>,
    /// Firmware PULL (client/download.rs).
    downloads: download::Downloads,
    events: VecDeque<Event>,
    rng: Rng,
    now: Instant,
    started: bool,
    stopping: bool,
    /// Work due at once (a notification to evaluate, a changed object list).
    kick: bool,
    objects_changed: bool,
    /// The Security or Server object changed: re-read the accounts.
    servers_changed: bool,
    next_send_id: u32,
    /// Plaintext of a decrypted datagram / a datagram before encryption.
    scratch: Vec<u8>,
    /// Last datagrams of closed links, sent before their Close event.
    parting: VecDeque<(LinkId, Vec<u8>)>,
    /// Observations restored from a previous run, waiting for their server.
    saved_observations: Vec<saved::SavedObservation>,
    /// Notifications restored from a previous run, waiting for their server.
    saved_stored: Vec<(Ssid, register::Stored)>,
    stats: ClientStats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.config.endpoint)
            .field("links", &self.links)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

const MAX_EVENTS: usize = 256;

impl Client {
    /// A client that starts working on the first [`Client::handle_timeout`]
    /// (due at once): add its objects before that. `seed` feeds message
    /// IDs, tokens and jitter; take it from a real entropy source outside
    /// simulations.
    pub fn new(config: Config, now: Instant, seed: u64) -> Result<Client, ConfigError> {
        let name = config.endpoint.as_bytes();
        if name.is_empty()
            || name.len() > 255
            || name
                .iter()
                .any(|b| !b.is_ascii_graphic() || matches!(b, b'&' | b'='))
        {
            return Err(ConfigError::BadEndpointName);
        }
        if config.limits.coap.max_message_size < 64 || config.limits.coap.pending == 0 {
            return Err(ConfigError::BadLimits);
        }
        let attrs = AttributeStore::new(config.limits.dm.max_attributes);
        let scratch = alloc::vec![0u8; config.limits.coap.max_message_size];
        Ok(Client {
            dm: Registry::new(),
            attrs,
            links: Vec::new(),
            next_link: 0,
            servers: Vec::new(),
            bootstrap: BootstrapState::Idle,
            bootstrap_attrs: None,
            observations: Vec::new(),
            locks: Vec::new(),
            streams: Vec::new(),
            downloads: download::Downloads::default(),
            events: VecDeque::new(),
            rng: Rng::new(seed),
            now,
            started: false,
            stopping: false,
            kick: true,
            objects_changed: false,
            servers_changed: false,
            next_send_id: 1,
            scratch,
            parting: VecDeque::new(),
            saved_observations: Vec::new(),
            saved_stored: Vec::new(),
            stats: ClientStats::default(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Adds an object; a running client announces it to its servers with a
    /// Registration Update.
    pub fn add_object<T: Object>(&mut self, obj: T) -> Result<Handle<T>, RegistryError> {
        let h = self.dm.add_object(obj)?;
        self.objects_changed();
        Ok(h)
    }

    /// Removes an object (and announces it).
    pub fn remove_object<T: Object>(&mut self, h: Handle<T>) -> Option<T> {
        let obj = self.dm.remove(h)?;
        self.objects_changed();
        Some(obj)
    }

    /// The object behind `h`.
    pub fn object<T: Object>(&self, h: Handle<T>) -> Option<&T> {
        self.dm.object(h)
    }

    /// The object behind `h`, mutably (for the application to update its
    /// values; call [`Client::notify_changed`] afterwards).
    pub fn object_mut<T: Object>(&mut self, h: Handle<T>) -> Option<&mut T> {
        self.dm.object_mut(h)
    }

    /// The data model, read-only.
    pub fn registry(&self) -> &Registry {
        &self.dm
    }

    /// The data model, mutably, for setting up the factory configuration
    /// or restoring persisted state before the client starts.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.dm
    }

    /// The attribute store (persisted with the state).
    pub fn attributes(&self) -> &AttributeStore {
        &self.attrs
    }

    /// The attribute store, mutably (restoring persisted state).
    pub fn attributes_mut(&mut self) -> &mut AttributeStore {
        &mut self.attrs
    }

    /// Records that the value at `path` (or anything beneath it) changed.
    /// Only records: notifications go out on the next
    /// [`Client::handle_timeout`], which [`Client::poll_timeout`] asks for
    /// at once when a notification is due.
    pub fn notify_changed(&mut self, path: Path) {
        if self.mark_changed(&path) {
            self.kick = true;
        }
    }

    /// Records that instances of `oid` were created or deleted by the
    /// application: observers of the object are notified and the servers
    /// learn the new object list with an Update.
    pub fn notify_instances_changed(&mut self, oid: crate::dm::Oid) {
        self.mark_changed(&Path::object(oid));
        self.objects_changed();
    }

    fn objects_changed(&mut self) {
        self.objects_changed = true;
        self.kick = true;
    }

    /// Whether the client is registered with server `ssid`.
    pub fn is_registered(&self, ssid: Ssid) -> bool {
        self.servers
            .iter()
            .any(|s| s.ssid == ssid && s.is_registered())
    }

    /// The Short Server IDs of the servers currently registered with.
    pub fn registered_servers(&self) -> impl Iterator<Item = Ssid> + '_ {
        self.servers
            .iter()
            .filter(|s| s.is_registered())
            .map(|s| s.ssid)
    }

    /// Whether a bootstrap session is open.
    pub fn in_bootstrap(&self) -> bool {
        self.bootstrap.in_session()
    }

    /// Number of active observations, over all servers.
    pub fn observation_count(&self) -> usize {
        self.observations.len()
    }

    /// The open links and what they are for.
    pub fn links(&self) -> impl Iterator<Item = (LinkId, &ServerUri)> + '_ {
        self.links.iter().map(|l| (l.id, &l.uri))
    }

    /// Asks for a Registration Update with `ssid` now (all servers for
    /// `None`).
    pub fn trigger_update(&mut self, ssid: Option<Ssid>) {
        for s in &mut self.servers {
            if ssid.is_none_or(|x| x == s.ssid) {
                s.update.trigger = true;
            }
        }
        self.kick = true;
    }

    /// De-registers from every server (the std driver does this on
    /// shutdown); [`Event::Deregistered`] follows for each, and the client
    /// stays idle afterwards.
    pub fn deregister(&mut self) {
        self.stopping = true;
        self.kick = true;
    }

    /// Whether [`Client::deregister`] has finished: nothing left to send.
    pub fn is_stopped(&self) -> bool {
        self.stopping && self.servers.iter().all(|s| s.is_stopped())
    }

    /// The driver could not open (or lost) the socket of `link`: every
    /// request in flight on it fails now (Register and Bootstrap-Request
    /// are retried as their back-off says, on a new link).
    pub fn link_failed(&mut self, now: Instant, link: LinkId) {
        self.now = self.now.max(now);
        let now = self.now;
        let pending = match self.links.iter_mut().find(|l| l.id == link) {
            Some(l) => {
                l.failed = true;
                l.uploads.clear();
                for (token, _) in &l.pending {
                    l.endpoint.cancel_request(*token);
                }
                core::mem::take(&mut l.pending)
            }
            None => return,
        };
        for (_, purpose) in pending {
            self.fail_purpose(now, link, purpose, Failure::Unreachable);
        }
        self.kick = true;
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn link_index(&self, id: LinkId) -> Option<usize> {
        self.links.iter().position(|l| l.id == id)
    }

    /// Opens a link to `uri` for `role`; `None` when the URI or security is
    /// unusable.
    fn open_link(
        &mut self,
        now: Instant,
        role: Role,
        uri: ServerUri,
        security_iid: crate::dm::Iid,
    ) -> Option<LinkId> {
        let id = LinkId(self.next_link);
        self.next_link = self.next_link.wrapping_add(1);
        let session = if uri.secure {
            Some(self.open_session(now, &uri, security_iid)?)
        } else {
            None
        };
        let seed = self.rng.next_u64();
        let endpoint = Endpoint::new(
            self.config.transmission.clone(),
            self.config.limits.coap.clone(),
            seed,
        );
        self.links.push(Link {
            id,
            role,
            uri: uri.clone(),
            endpoint,
            session,
            pending: Vec::new(),
            uploads: Vec::new(),
            last_activity: now,
            failed: false,
        });
        self.push_event(Event::Open { link: id, uri });
        Some(id)
    }

    fn open_session(
        &mut self,
        now: Instant,
        uri: &ServerUri,
        iid: crate::dm::Iid,
    ) -> Option<alloc::boxed::Box<dyn crate::session::Session>> {
        let factory = self.config.sessions.clone()?;
        let endpoint = crate::objects::security::endpoints(&self.dm).find(|e| e.iid == iid)?;
        let mut params = endpoint.client_params();
        if params.server_name.is_none() {
            params.server_name = crate::session::sni_host(&uri.host);
        }
        params.mtu =
            u16::try_from(self.config.limits.coap.max_message_size + 64).unwrap_or(u16::MAX);
        let mut session = factory.open(&params).ok()?;
        session.start(now).ok()?;
        Some(session)
    }

    fn close_link(&mut self, id: LinkId) {
        if let Some(i) = self.link_index(id) {
            let mut l = self.links.swap_remove(i);
            // What the link still had to say (the answer to the request that
            // closed it: a server deleting its own account) goes out first;
            // the socket closes after it.
            let now = self.now;
            let mut buf = alloc::vec![0u8; self.config.limits.coap.max_message_size];
            let mut parting = 0;
            while let Some(n) = l.endpoint.poll_transmit(now, &mut buf) {
                let plain = buf.get(..n).unwrap_or(&[]);
                let datagram = match l.session.as_mut() {
                    None => Some(plain.to_vec()),
                    Some(s) => {
                        let mut out = alloc::vec![0u8; n + 128];
                        s.encrypt(plain, &mut out).ok().map(|len| {
                            out.truncate(len);
                            out
                        })
                    }
                };
                if let Some(d) = datagram {
                    self.parting.push_back((id, d));
                    parting += 1;
                }
            }
            if let Some(s) = l.session.as_mut() {
                s.close();
            }
            self.observations.retain(|o| o.link != id);
            self.locks.retain(|k| k.link != id);
            let dropped: Vec<Stream> = {
                let (gone, keep) = core::mem::take(&mut self.streams)
                    .into_iter()
                    .partition(|s| s.link == id);
                self.streams = keep;
                gone
            };
            for s in dropped {
                self.dm.abandon(s.txn);
            }
            if parting == 0 {
                self.push_event(Event::Close { link: id });
            }
        }
    }

    /// Processes a datagram received on `link`. Bad input is answered as
    /// RFC 7252 says (or dropped) and counted; it never panics.
    pub fn handle_datagram(&mut self, now: Instant, link: LinkId, datagram: &[u8]) {
        self.now = self.now.max(now);
        let now = self.now;
        let Some(li) = self.link_index(link) else {
            self.stats.dropped += 1;
            return;
        };
        let mut scratch = core::mem::take(&mut self.scratch);
        let plaintext: Option<&[u8]> = match self.links.get_mut(li) {
            Some(l) => {
                l.last_activity = now;
                match l.session.as_mut() {
                    None => Some(datagram),
                    Some(s) => match s.handle_datagram(now, datagram, &mut scratch) {
                        Ok(Some(n)) => scratch.get(..n),
                        _ => None,
                    },
                }
            }
            None => None,
        };
        if let Some(bytes) = plaintext {
            self.on_coap(now, li, bytes);
        }
        self.scratch = scratch;
        self.after_input(now);
    }

    fn on_coap(&mut self, now: Instant, li: usize, bytes: &[u8]) {
        use crate::coap::endpoint::Received;
        let Some(l) = self.links.get_mut(li) else {
            return;
        };
        let link = l.id;
        if l.role == Role::Download {
            return self.on_download_coap(now, li, bytes);
        }
        match l.endpoint.handle_datagram(now, bytes) {
            Received::Request(req) => self.on_request(now, li, req),
            Received::Response { token, msg } => self.on_response(now, link, token, &msg),
            Received::Reset { token, .. } => {
                self.observations
                    .retain(|o| !(o.link == link && o.token == token));
                self.on_failure(
                    now,
                    link,
                    token,
                    Failure::Rejected(crate::coap::Code::EMPTY),
                );
            }
            _ => {}
        }
    }

    /// Runs every job that is due at `now`: starting up, Register / Update
    /// / De-register, Bootstrap-Request and timeouts, notifications,
    /// retransmissions, transfer expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        if !self.started {
            self.started = true;
            self.start(now);
        }
        for l in &mut self.links {
            if let Some(s) = l.session.as_mut()
                && s.poll_timeout().is_some_and(|t| t <= now)
            {
                s.handle_timeout(now);
            }
            if l.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                l.endpoint.handle_timeout(now);
            }
        }
        self.kick = false;
        self.after_input(now);
    }

    /// Everything that follows an input: endpoint events, state machines,
    /// notifications.
    fn after_input(&mut self, now: Instant) {
        self.drain_endpoint_events(now);
        if self.started {
            self.step_bootstrap(now);
            self.step_servers(now);
            self.step_downloads(now);
            self.step_observations(now);
        }
    }

    fn drain_endpoint_events(&mut self, now: Instant) {
        use crate::coap::endpoint::Event as CoapEvent;
        let mut failed = Vec::new();
        let mut abandoned = Vec::new();
        for l in &mut self.links {
            while let Some(e) = l.endpoint.poll_event() {
                match e {
                    CoapEvent::GaveUp { token, .. } => failed.push((l.id, token)),
                    CoapEvent::TransferAbandoned { transfer } => abandoned.push((l.id, transfer)),
                }
            }
        }
        for (link, token) in failed {
            self.download_gave_up(now, link, token);
            self.observations
                .retain(|o| !(o.link == link && o.token == token));
            self.on_failure(now, link, token, Failure::Timeout);
        }
        for (link, key) in abandoned {
            self.abandon_stream(link, key);
        }
    }

    fn abandon_stream(&mut self, link: LinkId, key: u64) {
        if let Some(i) = self
            .streams
            .iter()
            .position(|s| s.link == link && s.key == key)
        {
            let s = self.streams.swap_remove(i);
            self.dm.abandon(s.txn);
        }
        self.locks.retain(|k| !(k.link == link && k.key == key));
    }

    /// Writes the next datagram to send into `buf` (at least
    /// `limits.coap.max_message_size` bytes, plus DTLS overhead for secure
    /// links).
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        if let Some((link, d)) = self.parting.pop_front() {
            if !self.parting.iter().any(|(l, _)| *l == link) {
                self.push_event(Event::Close { link });
            }
            if let Some(dst) = buf.get_mut(..d.len()) {
                dst.copy_from_slice(&d);
                return Some(Transmit { link, len: d.len() });
            }
        }
        let now = self.now;
        let mut scratch = core::mem::take(&mut self.scratch);
        let mut out = None;
        for l in &mut self.links {
            if l.failed {
                continue;
            }
            match l.session.as_mut() {
                None => {
                    if let Some(len) = l.endpoint.poll_transmit(now, buf) {
                        l.last_activity = now;
                        out = Some(Transmit { link: l.id, len });
                    }
                }
                Some(s) => {
                    if let Some(len) = s.poll_transmit(now, buf) {
                        out = Some(Transmit { link: l.id, len });
                    } else if s.state() == crate::session::SessionState::Established {
                        while let Some(n) = l.endpoint.poll_transmit(now, &mut scratch) {
                            let plain = scratch.get(..n).unwrap_or(&[]);
                            if let Ok(len) = s.encrypt(plain, buf) {
                                l.last_activity = now;
                                out = Some(Transmit { link: l.id, len });
                                break;
                            }
                        }
                    }
                }
            }
            if out.is_some() {
                break;
            }
        }
        self.scratch = scratch;
        out
    }

    /// The instant [`Client::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timer().map(|(t, _)| t)
    }
}
