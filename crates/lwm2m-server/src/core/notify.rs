//! Our observations and the notifications that come back (RFC 7641 as the
//! client role; Core 1.1 §6.4 Information Reporting).
//!
//! A notification is a Confirmable or Non-confirmable response on an
//! observation's token. It is acknowledged here (a Confirmable one), checked
//! for duplicates (message ID) and freshness (RFC 7641 §3.4: sequence
//! numbers, 128 s), and decoded; one larger than a block is completed with
//! GET / FETCH and Block2 (RFC 7959 §2.6). A notification with an error
//! code ends the observation (RFC 7641 §3.2); one on a token we forgot is
//! reset (§3.6).

use std::collections::VecDeque;
use std::net::SocketAddr;

use lwm2m_core::coap::{Message, MsgType, Token};
use lwm2m_core::dm::Path;
use lwm2m_core::time::{Duration, Instant};

use super::Server;
use super::engine::Op;
use super::event::{ObservationEnd, ServerEvent};
use super::operation::ReqId;
use super::wire::{self, Expect, Wire};

/// Message IDs remembered per observation for de-duplication.
const RECENT_MIDS: usize = 8;

/// One observation of ours.
pub(crate) struct Observation {
    pub(crate) id: ReqId,
    pub(crate) endpoint: String,
    pub(crate) peer: SocketAddr,
    pub(crate) token: Token,
    pub(crate) wire: Wire,
    pub(crate) expect: Expect,
    pub(crate) base: Path,
    pub(crate) root: Vec<String>,
    pub(crate) paths: Vec<Path>,
    last_seq: Option<u32>,
    last_at: Instant,
    mids: VecDeque<u16>,
}

/// RFC 7641 §3.4: whether sequence number `v2` received at `t2` is newer
/// than `v1` received at `t1`.
pub(crate) fn fresher(v1: u32, t1: Instant, v2: u32, t2: Instant) -> bool {
    const HALF: u32 = 1 << 23;
    (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + Duration::from_secs(128)
}

impl Server {
    pub(crate) fn add_observation(
        &mut self,
        now: Instant,
        op: &Op,
        paths: Vec<Path>,
        token: Token,
        seq: Option<u32>,
    ) {
        let mut w = op.wire.clone();
        w.observe = Some(0);
        self.obs_tokens.insert((op.peer, token), op.id.0);
        self.observations.insert(
            op.id.0,
            Observation {
                id: op.id,
                endpoint: op.endpoint.clone(),
                peer: op.peer,
                token,
                wire: w,
                expect: op.expect,
                base: op.base,
                root: op.root.clone(),
                paths,
                last_seq: seq,
                last_at: now,
                mids: VecDeque::with_capacity(RECENT_MIDS),
            },
        );
    }

    pub(crate) fn end_observation(&mut self, id: u64, reason: ObservationEnd) {
        if let Some(o) = self.observations.remove(&id) {
            self.obs_tokens.remove(&(o.peer, o.token));
            self.event(ServerEvent::ObservationEnded {
                endpoint: o.endpoint,
                observation: o.id,
                reason,
            });
        }
    }

    /// Moves `endpoint`'s observations to a new address (an Update from
    /// another port after a NAT rebinding).
    pub(crate) fn move_observations(&mut self, endpoint: &str, to: SocketAddr) {
        for o in self
            .observations
            .values_mut()
            .filter(|o| o.endpoint == endpoint)
        {
            self.obs_tokens.remove(&(o.peer, o.token));
            o.peer = to;
            self.obs_tokens.insert((to, o.token), o.id.0);
        }
    }

    /// Takes a Confirmable / Non-confirmable response; returns whether it
    /// was a notification handled here (otherwise the endpoint takes it:
    /// a separate response to a request of ours).
    pub(crate) fn on_notification(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        msg: &Message<'_>,
    ) -> bool {
        let key = (peer, msg.token());
        if self.tokens.contains_key(&key) {
            return false;
        }
        let con = msg.mtype() == MsgType::Con;
        let Some(&id) = self.obs_tokens.get(&key) else {
            if !con && msg.observe().is_some() {
                // RFC 7641 §3.6: reject a notification we no longer want.
                self.direct_empty(peer, MsgType::Rst, msg.mid());
                self.mark_ready(peer);
                return true;
            }
            return false;
        };
        self.stats.notifications += 1;
        if con {
            self.direct_empty(peer, MsgType::Ack, msg.mid());
        }
        let Some(o) = self.observations.get_mut(&id) else {
            return true;
        };
        if o.mids.contains(&msg.mid()) {
            return true;
        }
        if o.mids.len() >= RECENT_MIDS {
            o.mids.pop_front();
        }
        o.mids.push_back(msg.mid());
        if !msg.code().is_success() {
            self.end_observation(id, ObservationEnd::ByClient);
            return true;
        }
        let seq = msg.observe();
        if let (Some(v1), Some(v2)) = (o.last_seq, seq)
            && !fresher(v1, o.last_at, v2, now)
        {
            return true;
        }
        if seq.is_some() {
            o.last_seq = seq;
            o.last_at = now;
        }
        if msg.block2().is_some_and(|b| b.is_ok_and(|b| b.more)) {
            self.continue_notification(now, id, seq, msg);
            return true;
        }
        let decoded = wire::decode_entries(
            msg.content_format(),
            msg.payload(),
            o.base,
            self.config.limits.decode,
        );
        let endpoint = o.endpoint.clone();
        match decoded {
            Ok((format, entries)) => self.event(ServerEvent::Notification {
                endpoint,
                observation: ReqId(id),
                seq,
                format,
                entries,
            }),
            Err(_) => self.stats.dropped += 1,
        }
        if seq.is_none() {
            // A response without Observe on the token ends it (RFC 7641 §3.2).
            self.end_observation(id, ObservationEnd::ByClient);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_of_rfc_7641_section_3_4() {
        let t = Instant::from_secs(10);
        assert!(fresher(1, t, 2, t));
        assert!(!fresher(2, t, 1, t));
        assert!(!fresher(5, t, 5, t));
        // Wrap-around.
        assert!(fresher(0x00ff_ffff, t, 3, t));
        // Long silence: anything goes.
        assert!(fresher(9, t, 1, t + Duration::from_secs(129)));
    }
}
