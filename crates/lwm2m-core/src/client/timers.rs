//! The timer table: every deadline of the client, the next one and what it
//! is for (quinn's habit: the reason is observable, so a test can ask "what
//! is the client waiting for").

use super::{Client, LinkId};
use crate::dm::Ssid;
use crate::time::Instant;

/// Why the client wants to run at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerReason {
    /// Work recorded by a command or an input, due at once.
    Immediate,
    /// A CoAP retransmission, give-up or transfer expiry on a link.
    Coap(LinkId),
    /// A DTLS handshake retransmission or timeout on a link.
    Handshake(LinkId),
    /// Register (first attempt or retry) with a server.
    Register(Ssid),
    /// Registration Update before the lifetime runs out.
    Update(Ssid),
    /// The registration's lifetime ran out without an Update.
    LifetimeExpiry(Ssid),
    /// Queue mode: the client stops being reachable.
    QueueSleep(Ssid),
    /// A Disabled server account comes back.
    Enable(Ssid),
    /// Bootstrap-Request after the hold-off time.
    BootstrapRequest,
    /// The bootstrap session times out.
    BootstrapTimeout,
    /// An observation's pmin / pmax / epmin / epmax.
    Notify(Ssid),
    /// A firmware download resumes after a back-off, or an executed
    /// Update is applied.
    Firmware,
}

fn earlier(a: &mut Option<(Instant, TimerReason)>, t: Option<Instant>, r: TimerReason) {
    if let Some(t) = t
        && a.is_none_or(|(at, _)| t < at)
    {
        *a = Some((t, r));
    }
}

impl Client {
    /// The next deadline and its reason (the minimum of the timer table).
    pub fn next_timer(&self) -> Option<(Instant, TimerReason)> {
        if self.kick || !self.started {
            return Some((self.now, TimerReason::Immediate));
        }
        let mut next = None;
        for l in &self.links {
            earlier(
                &mut next,
                l.endpoint.poll_timeout(),
                TimerReason::Coap(l.id),
            );
            if let Some(s) = &l.session {
                earlier(&mut next, s.poll_timeout(), TimerReason::Handshake(l.id));
            }
        }
        if let Some((t, r)) = self.bootstrap.deadline() {
            earlier(&mut next, Some(t), r);
        }
        if self.bootstrap.in_session() {
            // Registrations and notifications wait for the session's end
            // (`step_servers` / `step_observations` skip them meanwhile):
            // their deadlines would only wake the driver in a loop.
            return next;
        }
        for s in &self.servers {
            if let Some((t, r)) = s.deadline(self.config.queue_mode_timeout) {
                earlier(&mut next, Some(t), r);
            }
        }
        for o in &self.observations {
            earlier(&mut next, o.deadline, TimerReason::Notify(o.ssid));
        }
        earlier(&mut next, self.download_deadline(), TimerReason::Firmware);
        next
    }
}
