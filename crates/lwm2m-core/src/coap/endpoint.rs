//! The per-link CoAP endpoint, sans-IO (RFC 7252, 7959, 7641).
//!
//! One [`Endpoint`] talks to one peer. It plays both roles at once: it
//! serves the peer's requests (de-duplication, piggybacked or separate
//! responses, Observe, Block1 reassembly, Block2 snapshots) and sends its own
//! requests (message IDs, tokens, retransmission, NSTART), and it never
//! waits: every exchange is state between two calls.
//!
//! # Call order
//!
//! The driver owns the socket and the clock and calls, in any interleaving:
//!
//! 1. [`Endpoint::handle_datagram`] with each datagram received from the
//!    peer. It returns what arrived ([`Received`]): a request for the upper
//!    layer, a response to one of our requests, a reset, or nothing (the
//!    endpoint handled it: ping, duplicate, malformed input, a block served
//!    from a snapshot).
//! 2. The upper layer answers a [`Request`] with [`Endpoint::respond`]
//!    (now, piggybacked on the ACK for a Confirmable request) or first
//!    [`Endpoint::accept_later`] and [`Endpoint::respond`] later (a separate
//!    response). It sends its own requests with [`Endpoint::request`] and
//!    Observe notifications with [`Endpoint::notify`].
//! 3. After any call, [`Endpoint::poll_transmit`] until it returns `None`,
//!    sending each datagram to the peer, and [`Endpoint::poll_event`] until
//!    `None` (give-ups, abandoned transfers).
//! 4. [`Endpoint::poll_timeout`] gives the next deadline; when it passes,
//!    call [`Endpoint::handle_timeout`] (retransmissions, give-ups, expiry),
//!    then poll again as in 3.
//!
//! Buffers are owned by the endpoint, bounded by [`Limits`], allocated on
//! first use and reused: answering a Confirmable request piggybacked
//! allocates nothing once warm.

use alloc::collections::VecDeque;

use super::assembly::Assemblies;

use super::dedup::{DedupCache, Insert, Seen};
use super::exchange::{Outbox, Outgoing, State, Timer};
use super::limits::Limits;
use super::msg::{Header, Message, MsgType, Token, emit_empty};
use super::observe::Observations;
use super::reliability::TransmissionParams;
use super::snapshot::Snapshots;
use crate::rand::Rng;
use crate::time::Instant;

#[path = "blockwise.rs"]
mod blockwise;
#[path = "event.rs"]
mod event;
#[path = "serve.rs"]
mod serve;
pub use event::{Event, Received, Request, RequestId, Stats};
pub use serve::{NotifyError, ObserveError, RespondError, TOKEN_LEN};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tx {
    Empty { mtype: MsgType, mid: u16 },
    Cached { slot: usize, mid: u16 },
    Out { slot: usize, generation: u32 },
}

/// The CoAP endpoint of one link. See the module documentation for the call
/// order.
#[derive(Debug)]
pub struct Endpoint {
    pub(crate) params: TransmissionParams,
    pub(crate) limits: Limits,
    pub(crate) rng: Rng,
    pub(crate) next_mid: u16,
    pub(crate) dedup: DedupCache,
    pub(crate) out: Outbox,
    pub(crate) observations: Observations,
    pub(crate) assemblies: Assemblies,
    pub(crate) snapshots: Snapshots,
    pub(crate) txq: VecDeque<Tx>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) stats: Stats,
    /// EXCHANGE_LIFETIME and NON_LIFETIME, computed once.
    pub(crate) exchange_lifetime: crate::time::Duration,
    pub(crate) non_lifetime: crate::time::Duration,
}

/// Queues a transmission within the bound.
pub(crate) fn push_tx(txq: &mut VecDeque<Tx>, stats: &mut Stats, cap: usize, tx: Tx) {
    if txq.len() >= cap {
        stats.tx_dropped += 1;
    } else {
        txq.push_back(tx);
    }
}

/// Queues an event within the bound, dropping the oldest when full.
fn push_event(events: &mut VecDeque<Event>, cap: usize, dropped: &mut u64, e: Event) {
    if events.len() >= cap {
        events.pop_front();
        *dropped += 1;
    }
    events.push_back(e);
}

impl Endpoint {
    /// An endpoint with its own generator seeded by `seed` (message IDs,
    /// tokens, retransmission jitter, ETags).
    pub fn new(params: TransmissionParams, limits: Limits, seed: u64) -> Endpoint {
        let mut rng = Rng::new(seed);
        let next_mid = rng.next_u32() as u16;
        let msg = limits.max_message_size;
        let txq_cap = limits.dedup_entries + limits.pending + 4;
        Endpoint {
            dedup: DedupCache::new(limits.dedup_entries, msg),
            out: Outbox::new(limits.pending, msg),
            observations: Observations::new(limits.observations),
            assemblies: Assemblies::new(limits.block1_transfers, limits.block1_max_body),
            snapshots: Snapshots::new(limits.snapshots, limits.snapshot_bytes),
            txq: VecDeque::with_capacity(txq_cap),
            events: VecDeque::with_capacity(limits.pending + limits.block1_transfers),
            stats: Stats::default(),
            exchange_lifetime: params.exchange_lifetime(),
            non_lifetime: params.non_lifetime(),
            params,
            limits,
            rng,
            next_mid,
        }
    }

    /// The transmission parameters.
    pub fn params(&self) -> &TransmissionParams {
        &self.params
    }

    /// The bounds.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Number of Observe registrations.
    pub fn observation_count(&self) -> usize {
        self.observations.len()
    }

    pub(crate) fn tx_cap(&self) -> usize {
        self.limits.dedup_entries + self.limits.pending + 4
    }

    pub(crate) fn queue(&mut self, tx: Tx) {
        let cap = self.tx_cap();
        push_tx(&mut self.txq, &mut self.stats, cap, tx);
    }

    pub(crate) fn event(&mut self, e: Event) {
        let cap = self.event_cap();
        push_event(&mut self.events, cap, &mut self.stats.events_dropped, e);
    }

    fn event_cap(&self) -> usize {
        self.limits.pending + self.limits.block1_transfers + 4
    }

    pub(crate) fn new_mid(&mut self) -> u16 {
        // RFC 7252 §4.4: sequential from a random start.
        let mid = self.next_mid;
        self.next_mid = mid.wrapping_add(1);
        mid
    }

    fn expire_transfers(&mut self, now: Instant) {
        let cap = self.event_cap();
        let Endpoint {
            assemblies,
            events,
            stats,
            ..
        } = self;
        assemblies.expire_with(now, |transfer| {
            let e = Event::TransferAbandoned { transfer };
            push_event(events, cap, &mut stats.events_dropped, e);
        });
    }

    /// Moves queued Confirmable messages in flight as NSTART allows.
    pub(crate) fn dequeue(&mut self) {
        let nstart = self.params.nstart();
        let Endpoint {
            out,
            txq,
            stats,
            limits,
            ..
        } = self;
        let cap = limits.dedup_entries + limits.pending + 4;
        out.dequeue(nstart, |slot, generation| {
            push_tx(txq, stats, cap, Tx::Out { slot, generation });
        });
    }

    /// When the block-wise transfer `key` ([`RequestId::transfer`]) expires
    /// if left idle: a Block1 body still arriving, or a Block2 snapshot not
    /// yet served to its last block. `None` when no such transfer is open.
    /// The upper layer holds other peers off the resource meanwhile.
    pub fn transfer_open_until(&self, now: Instant, key: u64) -> Option<Instant> {
        match (
            self.assemblies.open_until(now, key),
            self.snapshots.open_until(now, key),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next Observe sequence number of observation `token`, to persist
    /// it across a restart.
    pub fn observation_next_seq(&self, token: Token) -> Option<u32> {
        self.observations.get(token).map(|o| o.next_seq)
    }

    /// Re-creates the observation `token` restored from persisted state,
    /// numbering its notifications from `next_seq` (RFC 7641 §3.4: later
    /// than any sent before the restart, so the server takes them as fresh).
    pub fn adopt_observation(&mut self, token: Token, next_seq: u32) -> Result<(), ObserveError> {
        self.observations.register(token, 0, next_seq)?;
        Ok(())
    }

    /// Whether a Confirmable notification for observation `token` is still
    /// waiting for its ACK (a new one would replace it, RFC 7641 §4.5.2).
    pub fn notification_in_flight(&self, token: Token) -> bool {
        self.out.notification_in_flight(token).is_some()
    }

    /// Takes one datagram from the peer. See [`Received`].
    pub fn handle_datagram<'a>(&mut self, now: Instant, datagram: &'a [u8]) -> Received<'a> {
        self.expire_transfers(now);
        if datagram.len() > self.limits.max_message_size {
            self.stats.dropped += 1;
            return Received::Handled;
        }
        let msg = match Message::parse(datagram) {
            Ok(m) => m,
            Err(_) => {
                self.stats.dropped += 1;
                // RFC 7252 §4.2: a Confirmable message that cannot be
                // processed is rejected with RST; anything else is dropped
                // (§4.3), as is a header that is not CoAP version 1 (§3).
                if let Some(h) = Header::peek(datagram)
                    && h.mtype == MsgType::Con
                {
                    self.stats.resets_sent += 1;
                    self.queue(Tx::Empty {
                        mtype: MsgType::Rst,
                        mid: h.mid,
                    });
                }
                return Received::Handled;
            }
        };
        match msg.mtype() {
            MsgType::Ack => self.on_ack(now, msg),
            MsgType::Rst => self.on_rst(msg),
            MsgType::Con | MsgType::Non => self.on_con_non(now, msg),
        }
    }

    fn on_ack<'a>(&mut self, now: Instant, msg: Message<'a>) -> Received<'a> {
        let Some(i) = self.out.by_mid_awaiting_ack(msg.mid()) else {
            self.stats.dropped += 1;
            return Received::Handled;
        };
        let Some(s) = self.out.get_mut(i) else {
            return Received::Handled;
        };
        let (kind, token) = (s.kind, s.token);
        let received = if kind == Outgoing::Request && msg.code().is_empty() {
            // §5.2.2: the response follows separately.
            s.state = State::AwaitResponse {
                deadline: now + self.exchange_lifetime,
            };
            Received::Handled
        } else if kind == Outgoing::Request {
            if !msg.code().is_response() || msg.token() != token || msg.check_options().is_err() {
                // §5.3.2, §5.4.1: not a response to this request; the
                // request stays in flight.
                self.stats.dropped += 1;
                return Received::Handled;
            }
            self.out.free(i);
            Received::Response { token, msg }
        } else {
            self.out.free(i);
            Received::Handled
        };
        self.dequeue();
        received
    }

    fn on_rst<'a>(&mut self, msg: Message<'a>) -> Received<'a> {
        if !msg.code().is_empty() {
            self.stats.dropped += 1;
            return Received::Handled;
        }
        let mid = msg.mid();
        if let Some(i) = self.out.by_mid(mid) {
            let (what, token) = self
                .out
                .get(i)
                .map_or((Outgoing::Request, Token::EMPTY), |s| (s.kind, s.token));
            self.out.free(i);
            if what == Outgoing::Notification {
                self.observations.cancel(token);
            }
            self.dequeue();
            return Received::Reset { token, what };
        }
        if let Some(token) = self.observations.by_mid(mid) {
            // RFC 7641 §3.6: an RST to a (Non-confirmable) notification.
            self.observations.cancel(token);
            return Received::Reset {
                token,
                what: Outgoing::Notification,
            };
        }
        self.stats.dropped += 1;
        Received::Handled
    }

    fn on_con_non<'a>(&mut self, now: Instant, msg: Message<'a>) -> Received<'a> {
        let con = msg.mtype() == MsgType::Con;
        let mid = msg.mid();
        if msg.code().is_empty() {
            // §4.3: an empty Confirmable message (a ping) is answered with
            // RST; an empty Non-confirmable one is ignored.
            if con {
                self.stats.resets_sent += 1;
                self.queue(Tx::Empty {
                    mtype: MsgType::Rst,
                    mid,
                });
            } else {
                self.stats.dropped += 1;
            }
            return Received::Handled;
        }
        match self.dedup.check(now, mid) {
            Seen::Replay(slot) => {
                self.stats.duplicates += 1;
                self.queue(Tx::Cached { slot, mid });
                return Received::Duplicate;
            }
            Seen::InProgress => {
                self.stats.duplicates += 1;
                return Received::Duplicate;
            }
            Seen::New => {}
        }
        let life = if con {
            self.exchange_lifetime
        } else {
            self.non_lifetime
        };
        let ins = self.dedup.insert(now, mid, now + life);
        if let Insert::EvictedOldest { .. } = ins {
            self.stats.dedup_evictions += 1;
        }
        if msg.code().is_request() {
            self.on_request(now, msg, ins.slot())
        } else {
            self.on_separate_response(msg, ins.slot())
        }
    }

    fn reply_empty(&mut self, slot: usize, mtype: MsgType, mid: u16) {
        let mut b = [0u8; 4];
        if emit_empty(&mut b, mtype, mid).is_ok() && self.dedup.store(slot, &b) {
            self.queue(Tx::Cached { slot, mid });
        }
    }

    fn on_separate_response<'a>(&mut self, msg: Message<'a>, slot: usize) -> Received<'a> {
        let con = msg.mtype() == MsgType::Con;
        let token = msg.token();
        let found = self.out.request_by_token(token);
        match found {
            Some(i) if msg.check_options().is_ok() => {
                if con {
                    self.reply_empty(slot, MsgType::Ack, msg.mid());
                }
                self.out.free(i);
                self.dequeue();
                Received::Response { token, msg }
            }
            _ => {
                // §5.3.2 / §5.4.1: an unexpected response, or one with an
                // unrecognized critical option, is rejected.
                self.stats.dropped += 1;
                if con {
                    self.stats.resets_sent += 1;
                    self.reply_empty(slot, MsgType::Rst, msg.mid());
                }
                Received::Handled
            }
        }
    }

    fn on_request<'a>(&mut self, now: Instant, msg: Message<'a>, slot: usize) -> Received<'a> {
        let id = RequestId::of(&msg);
        // 4.02 for an unrecognized critical option (RFC 7252 §5.4.1), 4.00
        // for a reserved block size (RFC 7959 §2.2).
        if let Some(code) = id.invalid {
            self.respond_plain(now, &id, code);
            return Received::Handled;
        }
        if id.observe == Some(1) {
            self.observations.cancel(id.token);
        }
        if let Some(b2) = id.block2.filter(|b| b.num > 0)
            && let Some(snap) = self.snapshots.find(now, id.key)
        {
            let _ = slot;
            self.serve_snapshot(now, &id, snap, b2);
            return Received::Handled;
        }
        Received::Request(Request { msg, id })
    }

    /// Runs the timers due at `now`: retransmissions, give-ups
    /// ([`Event::GaveUp`]) and expired transfers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_transfers(now);
        let cap = self.tx_cap();
        let event_cap = self.event_cap();
        let Endpoint {
            out,
            txq,
            stats,
            params,
            events,
            observations,
            ..
        } = self;
        let (mut resent, mut tx_dropped, mut events_dropped) = (0, 0, 0);
        out.on_timeout(
            now,
            params,
            |slot, generation| {
                resent += 1;
                if txq.len() >= cap {
                    tx_dropped += 1;
                } else {
                    txq.push_back(Tx::Out { slot, generation });
                }
            },
            |what, token| {
                if what == Outgoing::Notification {
                    observations.cancel(token);
                }
                let e = Event::GaveUp { token, what };
                push_event(events, event_cap, &mut events_dropped, e);
            },
        );
        stats.retransmissions += resent;
        stats.tx_dropped += tx_dropped;
        stats.events_dropped += events_dropped;
        self.dequeue();
    }

    /// The next instant [`Endpoint::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timer().map(|(at, _)| at)
    }

    /// The next timer and what it is for (the minimum of the timer table).
    pub fn next_timer(&self) -> Option<(Instant, Timer)> {
        let transfer = self
            .assemblies
            .next_expiry()
            .map(|at| (at, Timer::TransferExpiry));
        match (self.out.next_deadline(), transfer) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Writes the next datagram to send into `buf` (at least
    /// `Limits::max_message_size` bytes) and returns its length.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        while let Some(tx) = self.txq.pop_front() {
            let n = match tx {
                Tx::Empty { mtype, mid } => emit_empty(buf, mtype, mid).ok(),
                Tx::Cached { slot, mid } => {
                    if self.dedup.mid(slot) != Some(mid) {
                        continue;
                    }
                    copy(buf, self.dedup.response(slot))
                }
                Tx::Out { slot, generation } => {
                    let Some(s) = self.out.get(slot) else {
                        continue;
                    };
                    let live = matches!(s.state, State::AwaitAck(_) | State::Unsent);
                    if s.generation != generation || !live {
                        continue;
                    }
                    let n = copy(buf, s.buf.get(..s.len).unwrap_or(&[]));
                    self.out.on_transmit(slot, now, &self.params, &mut self.rng);
                    n
                }
            };
            match n {
                Some(n) if n > 0 => return Some(n),
                _ => self.stats.tx_dropped += 1,
            }
        }
        None
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

fn copy(buf: &mut [u8], bytes: &[u8]) -> Option<usize> {
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(bytes.len())
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "endpoint_block_tests.rs"]
mod block_tests;
