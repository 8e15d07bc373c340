//! Registration interface (OMA-TS-LightweightM2M_Core 1.1 §6.2): Register,
//! Update, De-register, with the retry rules of §6.2.1.1 and queue mode
//! (§6.5).
//!
//! ```text
//! Register:    POST /rd?ep={name}&lt={lifetime}&lwm2m={ver}&b={binding}[&Q]
//!              Content-Format: 40, payload: the object list
//!              ← 2.01 Created, Location-Path: rd/{id}
//! Update:      POST /rd/{id}[?lt=..][&b=..]   [payload: object list if changed]
//!              ← 2.04 Changed (4.04: the server forgot us → Register again)
//! De-register: DELETE /rd/{id}                 ← 2.02 Deleted
//! ```

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use super::event::{Event, Failure, LinkId};
use super::link::{Purpose, Role};
use super::outgoing::{OutRequest, UploadStep};
use super::timers::TimerReason;
use super::{Client, uri};
use crate::buf::Writer;
use crate::coap::{Code, Message, Token};
use crate::dm::{Lwm2mVersion, Ssid};
use crate::objects::security;
use crate::objects::server::Binding;
use crate::objects::server::{self, ServerAccount};
use crate::time::{Duration, Instant};

/// Where a server's registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// Waiting to (re)try at `retry_at`.
    Idle,
    /// Register sent (or being sent block by block).
    Registering,
    /// Registered until `expires`; an Update is due at `update_at`.
    Registered {
        /// When the next Update goes out.
        update_at: Instant,
        /// When the registration lapses.
        expires: Instant,
    },
    /// An Update is in flight; still registered until `expires`.
    Updating {
        /// When the registration lapses.
        expires: Instant,
    },
    /// De-register in flight.
    Deregistering,
    /// Not registered and not trying (de-registered, or disabled until
    /// `retry_at`).
    Stopped,
}

/// What an Update must carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateNeeds {
    /// The object list changed.
    pub objects: bool,
    /// The lifetime changed.
    pub lifetime: bool,
    /// The binding changed.
    pub binding: bool,
    /// Registration Update Trigger (or a queue-mode wake-up).
    pub trigger: bool,
}

impl UpdateNeeds {
    fn any(&self) -> bool {
        self.objects || self.lifetime || self.binding || self.trigger
    }
}

/// A notification rendered while the server could not take it.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The observation's token.
    pub token: Token,
    /// Content-Format of the payload.
    pub format: u16,
    /// Whether it goes out Confirmable.
    pub confirmable: bool,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Everything the client tracks about one DM server.
#[derive(Debug)]
pub struct ServerState {
    /// Short Server ID.
    pub ssid: Ssid,
    /// The account as last read from the Server object.
    pub account: ServerAccount,
    /// Security instance of the server.
    pub security_iid: crate::dm::Iid,
    /// The server's URI.
    pub uri: String,
    /// Its link, once opened.
    pub link: Option<LinkId>,
    /// Registration state.
    pub reg: Reg,
    /// When to (re)try from `Idle` or `Stopped`-disabled.
    pub retry_at: Option<Instant>,
    /// Location-Path of the registration (`rd`, `{id}`).
    pub location: Vec<String>,
    /// Lifetime and binding the server knows.
    pub sent_lifetime: u32,
    /// Binding the server knows.
    pub sent_binding: Binding,
    /// What the next Update carries.
    pub update: UpdateNeeds,
    /// Attempt within the current sequence (1-based once failing).
    pub attempt: u32,
    /// Sequence number (Communication Sequence Retry Count).
    pub sequence: u32,
    /// Notifications waiting for the server (offline, asleep).
    pub stored: VecDeque<Stored>,
    /// Queue mode: asleep since the last exchange timed out.
    pub asleep: bool,
    /// Waiting for the link's handshake before Register.
    pub awaiting_link: bool,
}

impl ServerState {
    /// Whether registered (an Update in flight counts).
    pub fn is_registered(&self) -> bool {
        matches!(self.reg, Reg::Registered { .. } | Reg::Updating { .. })
    }

    /// Whether nothing is left to do for a stopping client.
    pub fn is_stopped(&self) -> bool {
        matches!(self.reg, Reg::Stopped | Reg::Idle)
    }

    /// The next deadline of this server's state machine.
    pub fn deadline(&self, queue_timeout: Duration) -> Option<(Instant, TimerReason)> {
        let _ = queue_timeout;
        match self.reg {
            Reg::Idle => self.retry_at.map(|t| (t, TimerReason::Register(self.ssid))),
            Reg::Stopped => self.retry_at.map(|t| (t, TimerReason::Enable(self.ssid))),
            Reg::Registered { update_at, expires } => Some(if update_at <= expires {
                (update_at, TimerReason::Update(self.ssid))
            } else {
                (expires, TimerReason::LifetimeExpiry(self.ssid))
            }),
            Reg::Updating { expires } => Some((expires, TimerReason::LifetimeExpiry(self.ssid))),
            Reg::Registering | Reg::Deregistering => None,
        }
    }
}

/// What registration needs of a DM server's Security instance.
struct SecurityLine {
    iid: crate::dm::Iid,
    uri: String,
    ssid: Ssid,
}

/// The `b=` parameter: 1.0 sends the binding as is (`UQ`), 1.1 moved queue
/// mode to its own `Q` parameter and sends the transports only.
fn binding_param(b: Binding, version: Lwm2mVersion) -> String {
    let mut out = String::new();
    let shown = match version {
        Lwm2mVersion::V1_0 => b,
        _ => Binding { queue: false, ..b },
    };
    let _ = write!(out, "{shown}");
    out
}

/// Delay before retry `attempt` (1-based) of a sequence: the Communication
/// Retry Timer doubled each time (Core 1.1 §6.2.1.1).
fn retry_delay(p: &server::RetryPolicy, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    p.retry_timer.saturating_mul(factor)
}

/// When to send the Update for a registration of `lifetime` seconds made
/// at `now`: early enough that it arrives before expiry even after every
/// retransmission (MAX_TRANSMIT_WAIT), and at half the lifetime at the
/// latest for short lifetimes.
pub fn update_delay(lifetime: u32, max_transmit_wait: Duration) -> Duration {
    let life = Duration::from_secs(u64::from(lifetime));
    if max_transmit_wait.checked_mul(2).is_some_and(|d| life > d) {
        life.saturating_sub(max_transmit_wait)
    } else {
        life / 2
    }
}

impl Client {
    /// Reads the configuration and sets up registration (or bootstrap).
    pub(super) fn start(&mut self, now: Instant) {
        self.sync_servers(now);
        if self.servers.is_empty() {
            self.request_bootstrap(now, false);
        }
    }

    /// Brings `self.servers` in line with the Security and Server objects:
    /// new accounts start registering, vanished ones are dropped.
    pub(super) fn sync_servers(&mut self, now: Instant) {
        // Keys may have changed: sessions kept for resumption are not
        // offered again.
        self.parked.clear();
        let sec: Vec<SecurityLine> = security::endpoints(&self.dm)
            .filter(|e| !e.bootstrap)
            .map(|e| SecurityLine {
                iid: e.iid,
                uri: String::from(e.uri.as_ref()),
                ssid: e.ssid.unwrap_or(0),
            })
            .collect();
        let srv: Vec<ServerAccount> = server::accounts(&self.dm).collect();
        let mut gone: Vec<LinkId> = Vec::new();
        self.servers.retain(|s| {
            let keep = srv.iter().any(|a| a.ssid == s.ssid)
                && sec.iter().any(|x| x.ssid == s.ssid && x.uri == s.uri);
            if !keep && let Some(l) = s.link {
                gone.push(l);
            }
            keep
        });
        for l in gone {
            self.close_link(l);
        }
        for a in srv {
            if let Some(s) = self.servers.iter_mut().find(|s| s.ssid == a.ssid) {
                if s.account.lifetime != a.lifetime {
                    s.update.lifetime = true;
                }
                if s.account.binding != a.binding {
                    s.update.binding = true;
                }
                s.account = a;
                continue;
            }
            let Some(sa) = sec.iter().find(|x| x.ssid == a.ssid) else {
                continue;
            };
            self.servers.push(ServerState {
                ssid: a.ssid,
                security_iid: sa.iid,
                uri: sa.uri.clone(),
                link: None,
                reg: Reg::Idle,
                retry_at: Some(now),
                location: Vec::new(),
                sent_lifetime: 0,
                sent_binding: Binding::UDP,
                update: UpdateNeeds::default(),
                attempt: 0,
                sequence: 0,
                stored: VecDeque::new(),
                asleep: false,
                awaiting_link: false,
                account: a,
            });
        }
    }

    /// Advances every server's registration.
    pub(super) fn step_servers(&mut self, now: Instant) {
        if self.bootstrap.in_session() {
            return;
        }
        if core::mem::take(&mut self.servers_changed) {
            self.sync_servers(now);
        }
        if core::mem::take(&mut self.objects_changed) {
            for s in &mut self.servers {
                s.update.objects = true;
            }
        }
        for i in 0..self.servers.len() {
            self.step_server(now, i);
        }
    }

    fn step_server(&mut self, now: Instant, i: usize) {
        let Some(s) = self.servers.get(i) else {
            return;
        };
        let ssid = s.ssid;
        if self.stopping {
            match s.reg {
                Reg::Registered { .. } => self.send_deregister(now, i),
                // A Register in flight may already be on the server: wait for
                // its answer and de-register then, rather than leave a stale
                // registration behind.
                Reg::Registering => {}
                Reg::Idle => {
                    if let Some(s) = self.servers.get_mut(i) {
                        s.reg = Reg::Stopped;
                        s.retry_at = None;
                    }
                }
                _ => {}
            }
            return;
        }
        // Queue mode: asleep once the last exchange is older than the timeout.
        let link_idle = s
            .link
            .and_then(|l| self.link_index(l))
            .and_then(|li| self.links.get(li))
            .map(|l| l.last_activity + self.config.queue_mode_timeout <= now);
        if let Some(s) = self.servers.get_mut(i)
            && s.account.binding.queue
            && s.is_registered()
        {
            s.asleep = link_idle.unwrap_or(false);
        }
        let Some(s) = self.servers.get(i) else {
            return;
        };
        let link_ready = s
            .link
            .and_then(|l| self.link_index(l))
            .and_then(|li| self.links.get(li))
            .is_some_and(|l| l.ready());
        match s.reg {
            Reg::Idle | Reg::Stopped
                if s.retry_at.is_some_and(|t| t <= now) || (s.awaiting_link && link_ready) =>
            {
                self.begin_register(now, i)
            }
            Reg::Registered { update_at, expires } => {
                if expires <= now {
                    self.registration_lapsed(now, i);
                } else if update_at <= now || s.update.any() {
                    self.send_update(now, i);
                }
            }
            Reg::Updating { expires } if expires <= now => self.registration_lapsed(now, i),
            _ => {}
        }
        let _ = ssid;
    }

    fn registration_lapsed(&mut self, now: Instant, i: usize) {
        if let Some(s) = self.servers.get_mut(i) {
            s.reg = Reg::Idle;
            s.retry_at = Some(now);
        }
    }

    /// Opens the link if needed; sends Register once it is ready.
    fn begin_register(&mut self, now: Instant, i: usize) {
        let Some(s) = self.servers.get(i) else {
            return;
        };
        let (ssid, security_iid, link, server_uri) =
            (s.ssid, s.security_iid, s.link, s.uri.clone());
        let usable = link.and_then(|l| self.link_index(l)).filter(|li| {
            self.links
                .get(*li)
                .is_some_and(|l| !l.failed && !l.session_failed())
        });
        let li = match usable {
            Some(li) => li,
            None => {
                if let Some(old) = link {
                    self.close_link(old);
                }
                let opened = uri::parse(&server_uri)
                    .and_then(|u| self.open_link(now, Role::Server(ssid), u, security_iid));
                let Some(id) = opened else {
                    self.register_failed(now, i, Failure::BadConfiguration);
                    return;
                };
                if let Some(s) = self.servers.get_mut(i) {
                    s.link = Some(id);
                }
                match self.link_index(id) {
                    Some(li) => li,
                    None => return,
                }
            }
        };
        let Some(link) = self.links.get(li) else {
            return;
        };
        if !link.ready() {
            // Wait for the handshake; a failed one counts as a failed attempt.
            if link.session_failed() {
                self.register_failed(now, i, Failure::Handshake);
            } else if let Some(s) = self.servers.get_mut(i) {
                s.retry_at = Some(now + Duration::from_secs(1));
                s.awaiting_link = true;
            }
            return;
        }
        if let Some(s) = self.servers.get_mut(i) {
            s.awaiting_link = false;
        }
        self.send_register(now, i, li);
    }

    fn object_list(&self) -> Vec<u8> {
        let mut buf = alloc::vec![0u8; self.config.limits.coap.block1_max_body.max(1024)];
        let opts = crate::dm::ops::discover::ObjectListOptions {
            alternate_path: None,
            content_formats: &[],
        };
        let len = {
            let mut w = Writer::new(&mut buf);
            match crate::dm::ops::discover::object_list(&self.dm, &opts, &mut w) {
                Ok(()) => w.len(),
                Err(_) => 0,
            }
        };
        buf.truncate(len);
        buf
    }

    fn send_register(&mut self, now: Instant, i: usize, li: usize) {
        let body = self.object_list();
        let version = self.config.version;
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        let lifetime = s.account.lifetime;
        let binding = binding_param(s.account.binding, version);
        let queue = s.account.binding.queue && version != Lwm2mVersion::V1_0;
        s.sent_lifetime = lifetime;
        s.sent_binding = s.account.binding;
        s.update = UpdateNeeds::default();
        s.reg = Reg::Registering;
        s.retry_at = None;
        let mut q_ep = String::new();
        let _ = write!(q_ep, "ep={}", self.config.endpoint);
        let mut q_lt = String::new();
        let _ = write!(q_lt, "lt={lifetime}");
        let q_ver = match version {
            Lwm2mVersion::V1_0 => "lwm2m=1.0",
            Lwm2mVersion::V1_1 => "lwm2m=1.1",
            _ => "lwm2m=1.2",
        };
        let mut q_b = String::new();
        let _ = write!(q_b, "b={binding}");
        let mut queries: Vec<&str> = alloc::vec![q_ep.as_str(), q_lt.as_str(), q_ver, q_b.as_str()];
        if queue {
            queries.push("Q");
        }
        let req = OutRequest {
            purpose: Purpose::Register,
            code: Code::POST,
            path: &["rd"],
            queries: &queries,
            content_format: Some(40),
            body: &body,
        };
        if self.start_request(now, li, req).is_none() {
            self.register_failed(now, i, Failure::BadConfiguration);
        }
    }

    fn send_update(&mut self, now: Instant, i: usize) {
        let needs_objects = self.servers.get(i).is_some_and(|s| s.update.objects);
        let body = if needs_objects {
            self.object_list()
        } else {
            Vec::new()
        };
        let version = self.config.version;
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        let Some(li) = s
            .link
            .and_then(|l| self.links.iter().position(|x| x.id == l))
        else {
            s.reg = Reg::Idle;
            s.retry_at = Some(now);
            return;
        };
        let Some(link) = self.links.get_mut(li) else {
            return;
        };
        if !link.ready() || link.has_pending(Purpose::Update) {
            // Try again shortly rather than spin on a past deadline.
            if let Reg::Registered { expires, .. } = s.reg {
                s.reg = Reg::Registered {
                    update_at: (now + Duration::from_secs(1)).min(expires),
                    expires,
                };
            }
            return;
        }
        let expires = match s.reg {
            Reg::Registered { expires, .. } => expires,
            _ => return,
        };
        let mut q_lt = String::new();
        if s.update.lifetime || s.sent_lifetime != s.account.lifetime {
            let _ = write!(q_lt, "lt={}", s.account.lifetime);
            s.sent_lifetime = s.account.lifetime;
        }
        let mut q_b = String::new();
        if s.update.binding || s.sent_binding != s.account.binding {
            let _ = write!(q_b, "b={}", binding_param(s.account.binding, version));
            s.sent_binding = s.account.binding;
        }
        s.update = UpdateNeeds::default();
        s.asleep = false;
        let location = s.location.clone();
        s.reg = Reg::Updating { expires };
        let path: Vec<&str> = location.iter().map(String::as_str).collect();
        let mut queries: Vec<&str> = Vec::new();
        if !q_lt.is_empty() {
            queries.push(&q_lt);
        }
        if !q_b.is_empty() {
            queries.push(&q_b);
        }
        let req = OutRequest {
            purpose: Purpose::Update,
            code: Code::POST,
            path: &path,
            queries: &queries,
            content_format: (!body.is_empty()).then_some(40),
            body: &body,
        };
        if self.start_request(now, li, req).is_none()
            && let Some(s) = self.servers.get_mut(i)
        {
            s.reg = Reg::Idle;
            s.retry_at = Some(now);
        }
    }

    fn send_deregister(&mut self, now: Instant, i: usize) {
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        let Some(li) = s
            .link
            .and_then(|l| self.links.iter().position(|x| x.id == l))
        else {
            s.reg = Reg::Stopped;
            return;
        };
        s.reg = Reg::Deregistering;
        let location = s.location.clone();
        let path: Vec<&str> = location.iter().map(String::as_str).collect();
        let req = OutRequest {
            purpose: Purpose::Deregister,
            code: Code::DELETE,
            path: &path,
            queries: &[],
            content_format: None,
            body: &[],
        };
        if self.start_request(now, li, req).is_none()
            && let Some(s) = self.servers.get_mut(i)
        {
            s.reg = Reg::Stopped;
        }
    }

    /// A Register attempt failed: retry per the Server object's
    /// communication settings (Core 1.1 §6.2.1.1), then bootstrap if
    /// "Bootstrap on Registration Failure" says so.
    pub(super) fn register_failed(&mut self, now: Instant, i: usize, reason: Failure) {
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        let ssid = s.ssid;
        s.reg = Reg::Idle;
        s.attempt += 1;
        let a = &s.account;
        let mut give_up = false;
        s.retry_at = Some(if u64::from(s.attempt) < a.retry.retry_count.max(1) {
            now + retry_delay(&a.retry, s.attempt)
        } else {
            s.attempt = 0;
            s.sequence += 1;
            if u64::from(s.sequence) >= a.retry.sequence_retry_count.max(1) {
                s.sequence = 0;
                give_up = a.bootstrap_on_registration_failure;
            }
            now + a.retry.sequence_delay
        });
        self.push_event(Event::RegistrationFailed { ssid, reason });
        if give_up && self.servers.iter().all(|s| !s.is_registered()) {
            self.request_bootstrap(now, true);
        }
    }

    /// A response to Register / Update / De-register.
    pub(super) fn on_registration_response(
        &mut self,
        now: Instant,
        link: LinkId,
        purpose: Purpose,
        msg: &Message<'_>,
    ) {
        let Some(i) = self.servers.iter().position(|s| s.link == Some(link)) else {
            return;
        };
        let code = msg.code();
        match purpose {
            Purpose::Register => {
                if code != Code::CREATED {
                    self.register_failed(now, i, Failure::Rejected(code));
                    return;
                }
                let location: Vec<String> = msg
                    .location_path()
                    .filter_map(|s| core::str::from_utf8(s).ok().map(String::from))
                    .collect();
                let mtw = self.config.transmission.max_transmit_wait();
                let Some(s) = self.servers.get_mut(i) else {
                    return;
                };
                let life = Duration::from_secs(u64::from(s.sent_lifetime));
                s.location = location;
                s.reg = Reg::Registered {
                    update_at: now + update_delay(s.sent_lifetime, mtw),
                    expires: now + life,
                };
                s.attempt = 0;
                s.sequence = 0;
                s.asleep = false;
                let ssid = s.ssid;
                self.push_event(Event::Registered { ssid });
                self.revive_saved(now, ssid);
                self.flush_stored(now, i);
            }
            Purpose::Update => {
                let mtw = self.config.transmission.max_transmit_wait();
                let Some(s) = self.servers.get_mut(i) else {
                    return;
                };
                let ssid = s.ssid;
                if code.is_success() {
                    let life = Duration::from_secs(u64::from(s.sent_lifetime));
                    s.reg = Reg::Registered {
                        update_at: now + update_delay(s.sent_lifetime, mtw),
                        expires: now + life,
                    };
                    self.push_event(Event::Updated { ssid });
                    self.flush_stored(now, i);
                } else {
                    // §6.2.2: 4.04 means the server lost the registration;
                    // any failure of Update falls back to Register.
                    s.reg = Reg::Idle;
                    s.retry_at = Some(now);
                    self.push_event(Event::RegistrationFailed {
                        ssid,
                        reason: Failure::Rejected(code),
                    });
                }
            }
            Purpose::Deregister => self.deregistered(i),
            _ => {}
        }
    }

    /// The DTLS session of `link` is gone ([`Client::on_session_lost`]
    /// already failed its requests): a Register waiting for the handshake
    /// counts as a failed attempt, a registration re-registers over a new
    /// session.
    pub(super) fn server_session_lost(&mut self, now: Instant, link: LinkId) {
        let Some(i) = self.servers.iter().position(|s| s.link == Some(link)) else {
            return;
        };
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        match s.reg {
            Reg::Idle | Reg::Stopped if s.awaiting_link => {
                s.awaiting_link = false;
                self.register_failed(now, i, Failure::Handshake);
            }
            Reg::Registered { .. } => {
                s.reg = Reg::Idle;
                s.retry_at = Some(now);
            }
            _ => {}
        }
    }

    pub(super) fn deregistered(&mut self, i: usize) {
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        s.reg = Reg::Stopped;
        if self.stopping {
            s.retry_at = None;
        }
        // Otherwise a Disable set `retry_at` to the end of its Disable
        // Timeout: the server comes back then.
        let (ssid, link) = (s.ssid, s.link.take());
        self.push_event(Event::Deregistered { ssid });
        if let Some(l) = link {
            self.close_link(l);
        }
    }

    /// Our request `token` on `link` got no answer (or an RST).
    pub(super) fn on_failure(&mut self, now: Instant, link: LinkId, token: Token, why: Failure) {
        let Some(li) = self.link_index(link) else {
            return;
        };
        let Some(purpose) = self.links.get_mut(li).and_then(|l| l.take_pending(token)) else {
            return;
        };
        if let Some(l) = self.links.get_mut(li) {
            l.uploads.retain(|u| u.purpose != purpose);
        }
        self.fail_purpose(now, link, purpose, why);
    }

    /// A request of ours for `purpose` on `link` failed.
    pub(super) fn fail_purpose(
        &mut self,
        now: Instant,
        link: LinkId,
        purpose: Purpose,
        why: Failure,
    ) {
        if why == Failure::Timeout
            && matches!(
                purpose,
                Purpose::Register | Purpose::Update | Purpose::BootstrapRequest
            )
            && let Some(l) = self
                .links
                .iter_mut()
                .find(|l| l.id == link && l.session.is_some())
        {
            // A server that lost the DTLS session (it restarted) drops our
            // records without a word. The next attempt reconnects: a new
            // link, a new handshake (offering the old session, which the
            // server resumes if it still knows it).
            l.failed = true;
        }
        let server = self.servers.iter().position(|s| s.link == Some(link));
        match (purpose, server) {
            (Purpose::Register, Some(i)) => self.register_failed(now, i, why),
            (Purpose::Update, Some(i)) => {
                if let Some(s) = self.servers.get_mut(i) {
                    s.reg = Reg::Idle;
                    s.retry_at = Some(now);
                    let ssid = s.ssid;
                    self.push_event(Event::RegistrationFailed { ssid, reason: why });
                }
            }
            (Purpose::Deregister, Some(i)) => self.deregistered(i),
            (Purpose::BootstrapRequest, _) => self.bootstrap_request_failed(now, why),
            (Purpose::Send(id), _) => self.push_event(Event::SendDone { id, ok: false }),
            _ => {}
        }
    }

    /// A response to one of our requests.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        link: LinkId,
        token: Token,
        msg: &Message<'_>,
    ) {
        let Some(li) = self.link_index(link) else {
            return;
        };
        let Some(purpose) = self.links.get_mut(li).and_then(|l| l.take_pending(token)) else {
            return;
        };
        match self.upload_step(now, li, purpose, msg) {
            UploadStep::Continued => return,
            UploadStep::Failed => {
                let why = Failure::Rejected(msg.code());
                return self.fail_purpose(now, link, purpose, why);
            }
            UploadStep::Final => {}
        }
        match purpose {
            Purpose::Register | Purpose::Update | Purpose::Deregister => {
                self.on_registration_response(now, link, purpose, msg)
            }
            Purpose::BootstrapRequest => self.on_bootstrap_response(now, msg),
            Purpose::Send(id) => self.push_event(Event::SendDone {
                id,
                ok: msg.code().is_success(),
            }),
        }
    }

    /// Server-object changes that concern registration: lifetime, binding,
    /// new or removed accounts.
    /// Applied on the next step, after the request that caused it has been
    /// answered (a server deleting its own account still gets its 2.02).
    pub(super) fn server_object_changed(&mut self, now: Instant) {
        let _ = now;
        self.servers_changed = true;
        self.kick = true;
    }

    /// Registration Update Trigger (Execute /1/x/8).
    pub(super) fn update_trigger(&mut self, ssid: Ssid) {
        if let Some(s) = self.servers.iter_mut().find(|s| s.ssid == ssid) {
            s.update.trigger = true;
        }
        self.kick = true;
    }

    /// Disable (Execute /1/x/4): de-register, stay away for the Disable
    /// Timeout (Core 1.1 E.2).
    pub(super) fn disable_server(&mut self, now: Instant, ssid: Ssid, timeout: Duration) {
        let Some(i) = self.servers.iter().position(|s| s.ssid == ssid) else {
            return;
        };
        if self.servers.get(i).is_some_and(|s| s.is_registered()) {
            self.send_deregister(now, i);
        }
        if let Some(s) = self.servers.get_mut(i) {
            s.retry_at = Some(now + timeout);
            if !matches!(s.reg, Reg::Deregistering) {
                s.reg = Reg::Stopped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_goes_out_before_expiry() {
        let mtw = Duration::from_secs(93);
        assert_eq!(update_delay(86400, mtw), Duration::from_secs(86400 - 93));
        assert_eq!(update_delay(60, mtw), Duration::from_secs(30));
        assert_eq!(update_delay(1, mtw), Duration::from_millis(500));
    }
}
