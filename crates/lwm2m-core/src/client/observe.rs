//! Information Reporting: observations and notifications
//! (OMA-TS-LightweightM2M_Core 1.1 §6.4, attributes §5.1.2; RFC 7641).
//!
//! [`super::Client::notify_changed`] only marks observations dirty; the
//! scheduler evaluates them when their attributes allow:
//! - nothing is sent sooner than `pmin` after the previous notification,
//!   and a notification goes out `pmax` after the previous one even without
//!   a change;
//! - a change is evaluated no sooner than `epmin` after the previous
//!   evaluation, and the value is re-read at least every `epmax` even
//!   without [`super::Client::notify_changed`];
//! - with `gt` / `lt` a change counts when the value crosses the threshold,
//!   with `st` when it moved by at least the step since the last
//!   notification (any of them suffices); with `edge` (1.2) a boolean counts
//!   on the chosen transition only;
//! - `con` (1.2) makes notifications Confirmable; `hqmax` (1.2) caps how
//!   many notifications of one observation are stored while the server
//!   cannot take them.
//!
//! While the server is offline, disabled or (queue mode) asleep,
//! notifications are stored when the Server object's Notification Storing
//! (/1/x/6) says so, or always in queue mode, bounded; they are delivered in
//! order once the registration is back (queue mode wakes up with an Update
//! first). When the observed target is deleted, a final 4.04 notification
//! ends the observation.

use alloc::vec::Vec;

use super::Client;
use super::event::LinkId;
use super::register::Stored;
use crate::buf::Writer;
use crate::coap::{Code, EmitError, Token, option};
use crate::content::{Encode, Encoder, Format};
use crate::dm::ops::{composite, read};
use crate::dm::{Attributes, Level, Origin, Path, Ssid};
use crate::error::DmError;
use crate::time::{Duration, Instant};

/// What an observation watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObsTarget {
    /// Observe on one path.
    Single(Path),
    /// Observe-Composite on several.
    Composite(Vec<Path>),
}

impl ObsTarget {
    fn overlaps(&self, p: &Path) -> bool {
        match self {
            ObsTarget::Single(t) => t.overlaps(p),
            ObsTarget::Composite(ts) => ts.iter().any(|t| t.overlaps(p)),
        }
    }

    fn base(&self) -> Path {
        match self {
            ObsTarget::Single(p) => *p,
            ObsTarget::Composite(_) => Path::ROOT,
        }
    }
}

/// One observation.
#[derive(Clone, Debug)]
pub struct Observation {
    /// The server's token.
    pub token: Token,
    /// The link it came on.
    pub link: LinkId,
    /// The server.
    pub ssid: Ssid,
    /// What it watches.
    pub target: ObsTarget,
    /// Format of its notifications.
    pub format: Format,
    /// Effective attributes (inherited and defaulted).
    pub attrs: Attributes,
    /// Last notification.
    pub last_sent: Instant,
    /// Last evaluation of the conditions.
    pub last_eval: Instant,
    /// Numeric value at the last notification (gt / lt / st).
    pub last_num: Option<f64>,
    /// Boolean value at the last notification / evaluation (edge).
    pub last_bool: Option<bool>,
    /// A change was recorded and not yet evaluated.
    pub dirty: bool,
    /// When the scheduler must look at it next.
    pub deadline: Option<Instant>,
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

impl Observation {
    fn pmax(&self) -> Option<u32> {
        // Core 1.1 §5.1.2: pmax below pmin is ignored; 0 means none.
        let pmin = self.attrs.pmin.unwrap_or(0);
        self.attrs.pmax.filter(|p| *p > 0 && *p >= pmin)
    }

    fn schedule(&mut self) {
        let pmin = secs(self.attrs.pmin.unwrap_or(0));
        let epmin = secs(self.attrs.epmin.unwrap_or(0));
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        if self.dirty {
            consider((self.last_sent + pmin).max(self.last_eval + epmin));
        }
        if let Some(p) = self.pmax() {
            consider(self.last_sent + secs(p));
        }
        if let Some(e) = self.attrs.epmax.filter(|e| *e > 0) {
            consider(self.last_eval + secs(e));
        }
        self.deadline = next;
    }

    /// Whether a new value `num` / `flag` meets the attribute conditions.
    fn condition_met(&self, num: Option<f64>, flag: Option<bool>) -> bool {
        let a = &self.attrs;
        if let (Some(edge), Some(v)) = (a.edge, flag) {
            return self.last_bool != Some(v) && v == edge;
        }
        let (Some(v), true) = (num, a.gt.is_some() || a.lt.is_some() || a.st.is_some()) else {
            return true;
        };
        let Some(last) = self.last_num else {
            return true;
        };
        let crossed = |th: f64, side: fn(f64, f64) -> bool| side(last, th) != side(v, th);
        a.gt.is_some_and(|th| crossed(th, |x, t| x > t))
            || a.lt.is_some_and(|th| crossed(th, |x, t| x < t))
            || a.st.is_some_and(|st| (v - last).abs() >= st)
    }
}

impl Client {
    fn effective_attrs(&self, ssid: Ssid, target: &ObsTarget) -> Attributes {
        let account = self
            .servers
            .iter()
            .find(|s| s.ssid == ssid)
            .map(|s| &s.account);
        let own = match target {
            ObsTarget::Single(p) => self.attrs.effective(ssid, p),
            ObsTarget::Composite(_) => Attributes::EMPTY,
        };
        own.with_server_defaults(
            account.and_then(|a| a.default_pmin),
            account.and_then(|a| a.default_pmax),
        )
    }

    /// The current numeric and boolean value of a single-resource target.
    fn sample(&self, target: &ObsTarget) -> (Option<f64>, Option<bool>) {
        let ObsTarget::Single(p) = target else {
            return (None, None);
        };
        if p.level() < Level::Resource {
            return (None, None);
        }
        let (Some(oid), Some(iid), Some(rid)) = (p.oid(), p.iid(), p.rid()) else {
            return (None, None);
        };
        let Some(obj) = self.dm.get(oid) else {
            return (None, None);
        };
        if obj.def().resource(rid).is_some_and(|r| r.multiple) && p.riid().is_none() {
            return (None, None);
        }
        match obj.read(iid, rid, p.riid()) {
            Ok(v) => (v.as_f64(), v.as_bool()),
            Err(_) => (None, None),
        }
    }

    /// Starts tracking an observation the endpoint registered.
    pub(super) fn add_observation(
        &mut self,
        now: Instant,
        link: LinkId,
        ssid: Ssid,
        token: Token,
        target: ObsTarget,
        format: Format,
    ) {
        self.observations
            .retain(|o| !(o.link == link && o.token == token));
        let attrs = self.effective_attrs(ssid, &target);
        let (num, flag) = self.sample(&target);
        let mut o = Observation {
            token,
            link,
            ssid,
            target,
            format,
            attrs,
            last_sent: now,
            last_eval: now,
            last_num: num,
            last_bool: flag,
            dirty: false,
            deadline: None,
        };
        o.schedule();
        self.observations.push(o);
    }

    /// Forgets the observation of request `id`'s token on link `li`.
    pub(super) fn cancel_observation(&mut self, li: usize, id: &crate::coap::endpoint::RequestId) {
        let Some(link) = self.links.get(li).map(|l| l.id) else {
            return;
        };
        let token = id.token();
        self.observations
            .retain(|o| !(o.link == link && o.token == token));
    }

    /// Marks the observations of `path` dirty; whether one is due now.
    pub(super) fn mark_changed(&mut self, path: &Path) -> bool {
        let now = self.now;
        let mut due = false;
        for o in &mut self.observations {
            if o.target.overlaps(path) {
                o.dirty = true;
                o.schedule();
                due |= o.deadline.is_some_and(|d| d <= now);
            }
        }
        due
    }

    /// Write-Attributes changed `path`'s attributes: re-derive them.
    pub(super) fn attributes_updated(&mut self, path: &Path) {
        let updates: Vec<(usize, Attributes)> = self
            .observations
            .iter()
            .enumerate()
            .filter(|(_, o)| o.target.overlaps(path))
            .map(|(i, o)| (i, self.effective_attrs(o.ssid, &o.target)))
            .collect();
        for (i, a) in updates {
            if let Some(o) = self.observations.get_mut(i) {
                o.attrs = a;
                o.schedule();
            }
        }
    }

    /// The observed `path` (or what contained it) was deleted: a final 4.04
    /// notification ends each observation beneath it (Core 1.1 §6.4.2).
    pub(super) fn observation_target_deleted(&mut self, now: Instant, path: &Path) {
        let gone: Vec<(LinkId, Token)> = self
            .observations
            .iter()
            .filter(|o| matches!(&o.target, ObsTarget::Single(t) if t.starts_with(path)))
            .map(|o| (o.link, o.token))
            .collect();
        for (link, token) in gone {
            if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
                let con = self.config.confirmable_notifications;
                let _ =
                    l.endpoint.notify(
                        now,
                        token,
                        Code::NOT_FOUND,
                        con,
                        |_| Ok::<(), EmitError>(()),
                    );
            }
            self.observations
                .retain(|o| !(o.link == link && o.token == token));
        }
    }

    /// Evaluates the observations that are due.
    pub(super) fn step_observations(&mut self, now: Instant) {
        if self.bootstrap.in_session() {
            return;
        }
        let mut i = 0;
        while i < self.observations.len() {
            let due = self
                .observations
                .get(i)
                .is_some_and(|o| o.deadline.is_some_and(|d| d <= now));
            if due {
                self.evaluate(now, i);
            }
            i += 1;
        }
        for s in 0..self.servers.len() {
            self.flush_stored(now, s);
        }
    }

    fn evaluate(&mut self, now: Instant, i: usize) {
        let Some(o) = self.observations.get(i) else {
            return;
        };
        let pmin_ok = now >= o.last_sent + secs(o.attrs.pmin.unwrap_or(0));
        let epmin_ok = now >= o.last_eval + secs(o.attrs.epmin.unwrap_or(0));
        let pmax_due = o.pmax().is_some_and(|p| now >= o.last_sent + secs(p));
        let epmax_due = o
            .attrs
            .epmax
            .filter(|e| *e > 0)
            .is_some_and(|e| now >= o.last_eval + secs(e));
        let mut send = pmax_due;
        let evaluate = (o.dirty && pmin_ok && epmin_ok) || epmax_due;
        let (num, flag) = if evaluate || send {
            self.sample(&o.target.clone())
        } else {
            (None, None)
        };
        let Some(o) = self.observations.get_mut(i) else {
            return;
        };
        if evaluate {
            let changed = o.dirty || num != o.last_num || flag != o.last_bool;
            if changed && o.condition_met(num, flag) && pmin_ok {
                send = true;
            }
            o.last_eval = now;
            o.dirty = o.dirty && !pmin_ok;
            if flag.is_some() && !send {
                // Edge tracks every evaluated value, not only sent ones.
                o.last_bool = flag;
            }
        }
        if send {
            o.dirty = false;
            o.last_sent = now;
            if num.is_some() {
                o.last_num = num;
            }
            if flag.is_some() {
                o.last_bool = flag;
            }
            o.schedule();
            self.notify(now, i);
        } else {
            o.schedule();
            if o.deadline.is_some_and(|d| d <= now) {
                // Nothing can happen before a later instant.
                o.deadline = Some(now + Duration::from_secs(1));
            }
        }
    }

    /// Sends (or stores) the notification of observation `i`.
    fn notify(&mut self, now: Instant, i: usize) {
        let Some(o) = self.observations.get(i) else {
            return;
        };
        let (token, link, ssid, fmt) = (o.token, o.link, o.ssid, o.format);
        let target = o.target.clone();
        let con = o.attrs.con.unwrap_or(self.config.confirmable_notifications);
        let hqmax = o.attrs.hqmax;
        let server = self.servers.iter().position(|s| s.ssid == ssid);
        let (online, storing, queue) = match server.and_then(|s| self.servers.get(s)) {
            Some(s) => (
                s.is_registered() && !s.asleep,
                s.account.notification_storing,
                s.account.binding.queue,
            ),
            None => (false, false, false),
        };
        let ready = self
            .links
            .iter()
            .find(|l| l.id == link)
            .is_some_and(|l| l.ready());
        if !(online && ready) {
            if !(storing || queue) {
                return;
            }
            let Some(payload) = self.render_to_vec(&target, fmt, ssid) else {
                return;
            };
            let cap = self.config.max_stored_notifications;
            let mut dropped = 0;
            if let Some(s) = server.and_then(|s| self.servers.get_mut(s)) {
                if let Some(h) = hqmax.filter(|h| *h > 0) {
                    let mine = s.stored.iter().filter(|x| x.token == token).count();
                    if mine >= h as usize
                        && let Some(pos) = s.stored.iter().position(|x| x.token == token)
                    {
                        s.stored.remove(pos);
                        dropped += 1;
                    }
                }
                if s.stored.len() >= cap {
                    s.stored.pop_front();
                    dropped += 1;
                }
                s.stored.push_back(Stored {
                    token,
                    format: fmt.number(),
                    confirmable: con,
                    payload,
                });
                if queue && s.is_registered() {
                    // Queue mode: wake the server up with an Update first.
                    s.update.trigger = true;
                    self.kick = true;
                }
            }
            self.stats.stored_dropped += dropped;
            return;
        }
        let Some(l) = self.links.iter_mut().find(|l| l.id == link) else {
            return;
        };
        let dm = &self.dm;
        let base = target.base();
        let produce = |enc: &mut dyn Encode, w: &mut Writer<'_>| -> Result<(), DmError> {
            match &target {
                ObsTarget::Single(p) => read::read(dm, Origin::Server(ssid), p, enc, w),
                ObsTarget::Composite(ps) => composite::read_composite(
                    dm,
                    Origin::Server(ssid),
                    ps.iter().map(|p| Ok(*p)),
                    usize::MAX,
                    enc,
                    w,
                ),
            }
        };
        let attempt =
            |rb: &mut crate::coap::ResponseBuilder<'_>, large: bool| -> Result<(), DmError> {
                rb.uint_option(option::CONTENT_FORMAT, u32::from(fmt.number()))
                    .map_err(|_| DmError::Internal)?;
                let w = if large {
                    rb.large_payload()
                } else {
                    rb.payload()
                }
                .map_err(|_| DmError::Internal)?;
                let mut enc = Encoder::new(fmt, base).ok_or(DmError::NotAcceptable)?;
                produce(&mut enc, w)
            };
        let sent = match l
            .endpoint
            .notify(now, token, Code::CONTENT, con, |rb| attempt(rb, false))
        {
            Ok(()) => true,
            Err(crate::coap::endpoint::NotifyError::Send(
                crate::coap::endpoint::RespondError::Render(DmError::Internal),
            )) => l
                .endpoint
                .notify(now, token, Code::CONTENT, con, |rb| attempt(rb, true))
                .is_ok(),
            Err(crate::coap::endpoint::NotifyError::NotObserved) => {
                self.observations
                    .retain(|o| !(o.link == link && o.token == token));
                return;
            }
            Err(_) => false,
        };
        if sent {
            l.last_activity = now;
            self.stats.notifications += 1;
        }
    }

    fn render_to_vec(&self, target: &ObsTarget, fmt: Format, ssid: Ssid) -> Option<Vec<u8>> {
        let mut buf = alloc::vec![0u8; self.config.limits.coap.snapshot_bytes.max(256)];
        let mut enc = Encoder::new(fmt, target.base())?;
        let len = {
            let mut w = Writer::new(&mut buf);
            let origin = Origin::Server(ssid);
            match target {
                ObsTarget::Single(p) => read::read(&self.dm, origin, p, &mut enc, &mut w).ok()?,
                ObsTarget::Composite(ps) => composite::read_composite(
                    &self.dm,
                    origin,
                    ps.iter().map(|p| Ok(*p)),
                    usize::MAX,
                    &mut enc,
                    &mut w,
                )
                .ok()?,
            }
            w.len()
        };
        buf.truncate(len);
        // Stored for a while: keep only what the payload needs, not the
        // snapshot-sized scratch it was rendered into.
        buf.shrink_to_fit();
        Some(buf)
    }

    /// Delivers the stored notifications of server `i`, in order, one
    /// Confirmable notification per observation in flight at a time.
    pub(super) fn flush_stored(&mut self, now: Instant, i: usize) {
        let Some(s) = self.servers.get(i) else {
            return;
        };
        // Only once the registration is confirmed: after a queue-mode wake-up
        // or a reconnection, the Update's 2.04 comes first.
        let confirmed = matches!(s.reg, super::register::Reg::Registered { .. });
        if s.stored.is_empty() || !confirmed || s.asleep {
            return;
        }
        let Some(link) = s.link else {
            return;
        };
        let Some(li) = self.link_index(link) else {
            return;
        };
        loop {
            let Some(front) = self.servers.get(i).and_then(|s| s.stored.front()) else {
                return;
            };
            let token = front.token;
            let Some(l) = self.links.get_mut(li) else {
                return;
            };
            if !l.ready() || l.endpoint.notification_in_flight(token) {
                return;
            }
            let Some(item) = self.servers.get_mut(i).and_then(|s| s.stored.pop_front()) else {
                return;
            };
            let r = l
                .endpoint
                .notify(now, item.token, Code::CONTENT, item.confirmable, |rb| {
                    rb.uint_option(option::CONTENT_FORMAT, u32::from(item.format))?;
                    rb.payload()?
                        .put(&item.payload)
                        .map_err(|_| EmitError::Overflow)?;
                    Ok::<(), EmitError>(())
                });
            if r.is_ok() {
                l.last_activity = now;
                self.stats.notifications += 1;
            }
        }
    }
}
