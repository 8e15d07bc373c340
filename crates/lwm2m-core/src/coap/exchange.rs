//! The messages an endpoint originates and tracks until they are done:
//! our requests (until their response), Confirmable notifications and
//! separate responses (until acknowledged), and Non-confirmable ones (until
//! transmitted). RFC 7252 §4.2 (retransmission), §4.7 (NSTART), §5.2.2
//! (separate responses), §5.3.2 (token matching).
//!
//! Slots are bounded by `Limits::pending`; each owns a message buffer that is
//! allocated on first use and reused.

use alloc::vec::Vec;

use super::msg::Token;
use super::reliability::{Retransmit, RetransmitStep, TransmissionParams};
use crate::rand::Rng;
use crate::time::Instant;

/// What kind of message of ours an event or reset refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A request we sent.
    Request,
    /// An Observe notification.
    Notification,
    /// A separate response.
    Response,
}

/// What a timer of the endpoint is for ([`super::Endpoint::next_timer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timer {
    /// Retransmit (or give up on) our Confirmable message `token`.
    Retransmit {
        /// Its token.
        token: Token,
        /// What it is.
        what: Outgoing,
    },
    /// Stop waiting for the response to our request `token`.
    AwaitResponse {
        /// Its token.
        token: Token,
    },
    /// Abandon an idle Block1 transfer.
    TransferExpiry,
}

/// Where a slot is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Free,
    /// Confirmable, waiting for NSTART room; `order` keeps them first-in
    /// first-out.
    Queued {
        order: u64,
    },
    /// Confirmable, in flight: retransmission armed at first transmission.
    AwaitAck(Option<Retransmit>),
    /// Non-confirmable, not yet handed to the driver.
    Unsent,
    /// A request acknowledged empty, or sent Non-confirmable: waiting for
    /// the (separate) response until `deadline`.
    AwaitResponse {
        deadline: Instant,
    },
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) kind: Outgoing,
    pub(crate) token: Token,
    pub(crate) mid: u16,
    pub(crate) con: bool,
    pub(crate) state: State,
    pub(crate) buf: Vec<u8>,
    pub(crate) len: usize,
    /// Bumped whenever the slot is reused, so stale queue entries are skipped.
    pub(crate) generation: u32,
}

/// The bounded set of our messages in progress.
#[derive(Debug)]
pub(crate) struct Outbox {
    pub(crate) slots: Vec<Slot>,
    max: usize,
    max_len: usize,
    order: u64,
}

impl Outbox {
    pub(crate) fn new(max: usize, max_len: usize) -> Outbox {
        Outbox {
            slots: Vec::new(),
            max,
            max_len,
            order: 0,
        }
    }

    /// A free slot with its buffer sized to the message limit, or `None`
    /// when `Limits::pending` slots are busy.
    pub(crate) fn alloc(&mut self) -> Option<usize> {
        let i = match self.slots.iter().position(|s| s.state == State::Free) {
            Some(i) => i,
            None if self.slots.len() < self.max => {
                self.slots.push(Slot {
                    kind: Outgoing::Request,
                    token: Token::EMPTY,
                    mid: 0,
                    con: false,
                    state: State::Free,
                    buf: Vec::new(),
                    len: 0,
                    generation: 0,
                });
                self.slots.len() - 1
            }
            None => return None,
        };
        let max_len = self.max_len;
        let s = self.slots.get_mut(i)?;
        if s.buf.len() != max_len {
            s.buf.resize(max_len, 0);
        }
        s.len = 0;
        Some(i)
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Slot> {
        self.slots.get(i)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.slots.get_mut(i)
    }

    /// Messages in flight that count against NSTART (§4.7: a Confirmable
    /// message not yet acknowledged).
    pub(crate) fn outstanding(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::AwaitAck(_)))
            .count()
    }

    /// Puts a Confirmable message in flight or in the NSTART queue; true if
    /// it may be transmitted now.
    pub(crate) fn launch_con(&mut self, i: usize, nstart: usize) -> bool {
        let room = self.outstanding() < nstart && !self.any_queued();
        self.order += 1;
        let order = self.order;
        if let Some(s) = self.slots.get_mut(i) {
            s.state = if room {
                State::AwaitAck(None)
            } else {
                State::Queued { order }
            };
        }
        room
    }

    fn any_queued(&self) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(s.state, State::Queued { .. }))
    }

    /// Moves the oldest queued messages in flight while NSTART allows;
    /// returns their slots through `ready`.
    pub(crate) fn dequeue(&mut self, nstart: usize, mut ready: impl FnMut(usize, u32)) {
        while self.outstanding() < nstart {
            let next = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match s.state {
                    State::Queued { order } => Some((order, i)),
                    _ => None,
                })
                .min();
            let Some((_, i)) = next else { return };
            if let Some(s) = self.slots.get_mut(i) {
                s.state = State::AwaitAck(None);
                ready(i, s.generation);
            }
        }
    }

    pub(crate) fn free(&mut self, i: usize) {
        if let Some(s) = self.slots.get_mut(i) {
            s.state = State::Free;
            s.generation = s.generation.wrapping_add(1);
        }
    }

    /// The slot of our Confirmable message `mid` awaiting its ACK.
    pub(crate) fn by_mid_awaiting_ack(&self, mid: u16) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.mid == mid && matches!(s.state, State::AwaitAck(_)))
    }

    /// The slot of any message of ours with `mid` (for RST matching).
    pub(crate) fn by_mid(&self, mid: u16) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.mid == mid && !matches!(s.state, State::Free | State::Queued { .. }))
    }

    /// The slot of our request with `token` still waiting for a response.
    pub(crate) fn request_by_token(&self, token: Token) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.kind == Outgoing::Request
                && s.token == token
                && matches!(s.state, State::AwaitAck(_) | State::AwaitResponse { .. })
        })
    }

    /// The slot of the Confirmable notification in flight for `token`.
    pub(crate) fn notification_in_flight(&self, token: Token) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.kind == Outgoing::Notification
                && s.token == token
                && matches!(s.state, State::AwaitAck(_) | State::Queued { .. })
        })
    }

    /// The earliest deadline of any slot, with what it is for.
    pub(crate) fn next_deadline(&self) -> Option<(Instant, Timer)> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                State::AwaitAck(Some(r)) => Some((
                    r.deadline,
                    Timer::Retransmit {
                        token: s.token,
                        what: s.kind,
                    },
                )),
                State::AwaitResponse { deadline } => {
                    Some((deadline, Timer::AwaitResponse { token: s.token }))
                }
                _ => None,
            })
            .min_by_key(|(at, _)| *at)
    }

    /// Arms the retransmission timer of a Confirmable message at its first
    /// transmission.
    pub(crate) fn on_transmit(
        &mut self,
        i: usize,
        now: Instant,
        params: &TransmissionParams,
        rng: &mut Rng,
    ) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        match s.state {
            State::AwaitAck(None) => {
                s.state = State::AwaitAck(Some(Retransmit::start(now, params, rng)));
            }
            State::Unsent if s.kind == Outgoing::Request => {
                s.state = State::AwaitResponse {
                    deadline: now + params.exchange_lifetime(),
                };
            }
            State::Unsent => self.free(i),
            _ => {}
        }
    }

    /// Runs the timers due at `now`: `resend` for each retransmission and
    /// `gave_up` for each message abandoned (its slot already freed).
    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        params: &TransmissionParams,
        mut resend: impl FnMut(usize, u32),
        mut gave_up: impl FnMut(Outgoing, Token),
    ) {
        for i in 0..self.slots.len() {
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            let expired = match &mut s.state {
                State::AwaitAck(Some(r)) if r.deadline <= now => match r.on_timeout(params) {
                    RetransmitStep::Resend => {
                        resend(i, s.generation);
                        false
                    }
                    RetransmitStep::GiveUp => true,
                },
                State::AwaitResponse { deadline } => *deadline <= now,
                _ => false,
            };
            if expired {
                let (kind, token) = (s.kind, s.token);
                self.free(i);
                gave_up(kind, token);
            }
        }
    }
}
