//! Bootstrap interface, client side (OMA-TS-LightweightM2M_Core 1.1 §6.1;
//! SPEC §1 guarantee 6).
//!
//! A bootstrap session is one transaction over the whole data model. It
//! starts when the Bootstrap-Server accepts our Bootstrap-Request
//! (client-initiated, after the Client Hold Off Time, when no DM server is
//! usable or registration failed and "Bootstrap on Registration Failure"
//! says so, or on the Bootstrap-Request Trigger) or with its first request
//! (server-initiated). During it only the Bootstrap-Server is served.
//! Bootstrap-Finish validates the whole configuration: valid, it commits,
//! asks for persistence and registers with the configured servers; invalid,
//! it answers 4.06 and the data model returns exactly to its state before
//! the session. A session that goes quiet for the Bootstrap-Server Account
//! Timeout (or the configured default) is rolled back too.

use alloc::string::String;
use core::fmt::Write as _;

use super::event::{Event, Failure};
use super::link::{Purpose, Role};
use super::outgoing::OutRequest;
use super::timers::TimerReason;
use super::{Client, uri};
use crate::coap::{Code, Message};
use crate::dm::ops::bootstrap as bs;
use crate::error::DmError;
use crate::objects::security;
use crate::time::{Duration, Instant};

/// Where bootstrapping stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapState {
    /// Not bootstrapping.
    Idle,
    /// A Bootstrap-Request goes out at `at`.
    Pending {
        /// When.
        at: Instant,
        /// Attempts so far.
        attempt: u32,
    },
    /// Bootstrap-Request in flight.
    Requesting {
        /// Attempts so far.
        attempt: u32,
    },
    /// A session is open; it is rolled back at `deadline` without activity.
    Session {
        /// When it times out.
        deadline: Instant,
        /// Attempts that led here.
        attempt: u32,
    },
}

impl BootstrapState {
    /// Whether a session is open.
    pub fn in_session(&self) -> bool {
        matches!(self, BootstrapState::Session { .. })
    }

    /// The next deadline.
    pub fn deadline(&self) -> Option<(Instant, TimerReason)> {
        match *self {
            BootstrapState::Pending { at, .. } => Some((at, TimerReason::BootstrapRequest)),
            BootstrapState::Session { deadline, .. } => {
                Some((deadline, TimerReason::BootstrapTimeout))
            }
            _ => None,
        }
    }

    fn attempt(&self) -> u32 {
        match *self {
            BootstrapState::Idle => 0,
            BootstrapState::Pending { attempt, .. }
            | BootstrapState::Requesting { attempt }
            | BootstrapState::Session { attempt, .. } => attempt,
        }
    }
}

/// Back-off between failed bootstrap attempts: 10 s doubling, at most an hour.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs((10u64 << attempt.min(9)).min(3600))
}

impl Client {
    /// The bootstrap account: its instance, URI and Client Hold Off Time.
    fn bootstrap_account(&self) -> Option<(crate::dm::Iid, String, Duration)> {
        security::bootstrap_endpoint(&self.dm).map(|e| {
            let hold_off = e.client_hold_off.unwrap_or(Duration::ZERO);
            (e.iid, String::from(e.uri.as_ref()), hold_off)
        })
    }

    fn session_timeout(&self) -> Duration {
        security::bootstrap_endpoint(&self.dm)
            .and_then(|e| e.bootstrap_account_timeout)
            .filter(|t| !t.is_zero())
            .unwrap_or(self.config.bootstrap_timeout)
    }

    /// Asks for a client-initiated bootstrap: after the hold-off time for a
    /// first attempt, after a back-off for a retry.
    pub(super) fn request_bootstrap(&mut self, now: Instant, after_failure: bool) {
        if !matches!(self.bootstrap, BootstrapState::Idle) {
            return;
        }
        let Some((_, _, hold_off)) = self.bootstrap_account() else {
            return;
        };
        let _ = after_failure;
        let at = now + hold_off;
        self.bootstrap = BootstrapState::Pending { at, attempt: 0 };
    }

    fn bootstrap_link(&mut self, now: Instant) -> Option<usize> {
        if let Some(i) = self.links.iter().position(|l| l.role == Role::Bootstrap) {
            let bad = self
                .links
                .get(i)
                .is_some_and(|l| l.failed || l.session_failed());
            if !bad {
                return Some(i);
            }
            if let Some(id) = self.links.get(i).map(|l| l.id) {
                self.close_link(id);
            }
        }
        let (iid, u, _) = self.bootstrap_account()?;
        let u = uri::parse(&u)?;
        let id = self.open_link(now, Role::Bootstrap, u, iid)?;
        self.link_index(id)
    }

    /// Sends the Bootstrap-Request when due; rolls back a silent session.
    pub(super) fn step_bootstrap(&mut self, now: Instant) {
        match self.bootstrap {
            BootstrapState::Pending { at, attempt } if at <= now => {
                let Some(li) = self.bootstrap_link(now) else {
                    self.bootstrap = BootstrapState::Idle;
                    self.push_event(Event::BootstrapFailed {
                        reason: Failure::BadConfiguration,
                    });
                    return;
                };
                let ready = self.links.get(li).is_some_and(|l| l.ready());
                if !ready {
                    let failed = self.links.get(li).is_some_and(|l| l.session_failed());
                    if failed {
                        self.bootstrap_request_failed(now, Failure::Handshake);
                    } else {
                        self.bootstrap = BootstrapState::Pending {
                            at: now + Duration::from_secs(1),
                            attempt,
                        };
                    }
                    return;
                }
                self.send_bootstrap_request(now, li, attempt);
            }
            BootstrapState::Session { deadline, attempt } if deadline <= now => {
                let _ = self.dm.end_session(false);
                self.end_bootstrap_attrs(false);
                self.bootstrap = BootstrapState::Idle;
                self.push_event(Event::BootstrapFailed {
                    reason: Failure::Timeout,
                });
                self.retry_bootstrap(now, attempt + 1);
            }
            _ => {}
        }
    }

    fn retry_bootstrap(&mut self, now: Instant, attempt: u32) {
        if self.servers.iter().any(|s| s.is_registered()) || self.bootstrap_account().is_none() {
            self.bootstrap = BootstrapState::Idle;
            return;
        }
        self.bootstrap = BootstrapState::Pending {
            at: now + backoff(attempt),
            attempt,
        };
    }

    fn send_bootstrap_request(&mut self, now: Instant, li: usize, attempt: u32) {
        let mut ep = String::new();
        let _ = write!(ep, "ep={}", self.config.endpoint);
        let mut queries: alloc::vec::Vec<&str> = alloc::vec![ep.as_str()];
        if self.config.version != crate::dm::Lwm2mVersion::V1_0 {
            // Preferred Content Format (1.1): SenML CBOR.
            queries.push("pct=112");
        }
        let req = OutRequest {
            purpose: Purpose::BootstrapRequest,
            code: Code::POST,
            path: &["bs"],
            queries: &queries,
            content_format: None,
            body: &[],
        };
        if self.start_request(now, li, req).is_some() {
            self.bootstrap = BootstrapState::Requesting { attempt };
        } else {
            self.bootstrap_request_failed(now, Failure::BadConfiguration);
        }
    }

    /// The Bootstrap-Request got no (good) answer.
    pub(super) fn bootstrap_request_failed(&mut self, now: Instant, reason: Failure) {
        let attempt = self.bootstrap.attempt() + 1;
        if self.bootstrap.in_session() {
            return;
        }
        self.bootstrap = BootstrapState::Idle;
        self.push_event(Event::BootstrapFailed { reason });
        self.retry_bootstrap(now, attempt);
    }

    /// The answer to our Bootstrap-Request.
    pub(super) fn on_bootstrap_response(&mut self, now: Instant, msg: &Message<'_>) {
        if !msg.code().is_success() {
            return self.bootstrap_request_failed(now, Failure::Rejected(msg.code()));
        }
        // The server may already have started sending requests.
        if !self.bootstrap.in_session() {
            let attempt = self.bootstrap.attempt();
            self.begin_bootstrap_session(now, attempt);
        }
    }

    fn begin_bootstrap_session(&mut self, now: Instant, attempt: u32) -> bool {
        if self.dm.begin_session().is_err() {
            return false;
        }
        let deadline = now + self.session_timeout();
        self.bootstrap = BootstrapState::Session { deadline, attempt };
        self.bootstrap_attrs = Some(self.attrs.clone());
        self.push_event(Event::BootstrapStarted);
        true
    }

    /// The session ended: keep the attributes, or restore those before it.
    fn end_bootstrap_attrs(&mut self, committed: bool) {
        if let Some(saved) = self.bootstrap_attrs.take()
            && !committed
        {
            self.attrs = saved;
        }
    }

    /// A request from the Bootstrap-Server: it opens a session if none is
    /// open (server-initiated bootstrap). Whether the request may proceed.
    pub(super) fn bootstrap_session_for_request(&mut self, now: Instant) -> bool {
        if self.bootstrap.in_session() {
            self.bootstrap_activity(now);
            return true;
        }
        let attempt = self.bootstrap.attempt();
        self.begin_bootstrap_session(now, attempt)
    }

    /// The Bootstrap-Server did something: the session lives on.
    pub(super) fn bootstrap_activity(&mut self, now: Instant) {
        if let BootstrapState::Session { attempt, .. } = self.bootstrap {
            let deadline = now + self.session_timeout();
            self.bootstrap = BootstrapState::Session { deadline, attempt };
        }
    }

    /// Bootstrap-Finish: validate, then commit or roll everything back.
    pub(super) fn bootstrap_finish(&mut self, now: Instant) -> Result<(), DmError> {
        if !self.bootstrap.in_session() {
            return Err(DmError::MethodNotAllowed);
        }
        let attempt = self.bootstrap.attempt();
        let valid = self.configuration_is_valid();
        let result = if valid {
            bs::bootstrap_finish(&mut self.dm)
        } else {
            let _ = self.dm.end_session(false);
            Err(DmError::NotAcceptable)
        };
        self.end_bootstrap_attrs(result.is_ok());
        match result {
            Ok(()) => {
                self.bootstrap = BootstrapState::Idle;
                self.push_event(Event::BootstrapFinished);
                self.push_event(Event::Persist);
                self.restart_registrations(now);
                Ok(())
            }
            Err(e) => {
                self.bootstrap = BootstrapState::Idle;
                self.push_event(Event::BootstrapFailed {
                    reason: Failure::Rejected(e.code()),
                });
                self.retry_bootstrap(now, attempt + 1);
                Err(DmError::NotAcceptable)
            }
        }
    }

    /// The whole configuration is consistent (Core 1.1 §6.1.7
    /// Bootstrap-Finish; SPEC §1 guarantee 6), and every URI is one this
    /// engine can open.
    fn configuration_is_valid(&self) -> bool {
        crate::objects::validate_configuration(&self.dm).is_ok()
            && security::endpoints(&self.dm).all(|e| uri::parse(&e.uri).is_some())
    }

    /// After a committed bootstrap: drop every DM link and register with
    /// the configured servers afresh.
    fn restart_registrations(&mut self, now: Instant) {
        let links: alloc::vec::Vec<_> = self
            .links
            .iter()
            .filter(|l| matches!(l.role, Role::Server(_)))
            .map(|l| l.id)
            .collect();
        for l in links {
            self.close_link(l);
        }
        self.servers.clear();
        self.observations.clear();
        self.sync_servers(now);
        self.kick = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::from_secs(10));
        assert_eq!(backoff(1), Duration::from_secs(20));
        assert_eq!(backoff(20), Duration::from_secs(3600));
    }
}
