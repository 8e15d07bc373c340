//! A world of sans-IO nodes exchanging datagrams over a [`Network`] in
//! virtual time.
//!
//! The world owns the clock. Each [`World::step`] jumps to the earliest
//! event (a datagram arriving or a node's deadline), hands it to the node,
//! and drains every datagram the nodes want to send into the network. No
//! test that uses it sleeps: an hour of protocol time takes as long as its
//! events take to process.

use std::any::Any;
use std::ops::{Deref, DerefMut};

use lwm2m_core::time::{Duration, Instant};

use crate::exchanges::{Exchanges, OpId};
use crate::net::{Addr, LinkProfile, Network};
use crate::request::Req;

/// Anything that speaks datagrams in the sans-IO shape: inputs carry the
/// time, outputs are polled.
pub trait Node: Any {
    /// A datagram from `from` arrived.
    fn handle_datagram(&mut self, now: Instant, from: Addr, bytes: &[u8]);
    /// The next datagram to send: its destination and length in `buf`.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)>;
    /// The node's next deadline.
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// The deadline passed.
    fn handle_timeout(&mut self, now: Instant);
}

/// Why [`World::run_until`] stopped without its condition holding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// The deadline passed.
    Deadline,
    /// Nothing is in flight and no node has a deadline.
    Idle,
    /// Too many events at one instant: a node keeps asking to run now.
    Livelock,
}

/// Nodes, a network and a clock.
pub struct World {
    now: Instant,
    net: Network,
    nodes: Vec<(Addr, Box<dyn Node>)>,
    buf: Vec<u8>,
    steps: u64,
}

/// How many events may happen at one instant before the world calls it a livelock.
const MAX_EVENTS_PER_INSTANT: u32 = 100_000;

impl World {
    /// An empty world at time zero whose network uses `seed` and `profile`.
    pub fn new(seed: u64, profile: LinkProfile) -> World {
        World {
            now: Instant::from_secs(1),
            net: Network::new(seed, profile),
            nodes: Vec::new(),
            buf: vec![0; 64 * 1024],
            steps: 0,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The network, to change profiles or read statistics.
    pub fn net(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Events processed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Adds a node with the given address.
    pub fn add_node_at<N: Node>(&mut self, addr: Addr, node: N) -> Addr {
        self.nodes.push((addr, Box::new(node)));
        addr
    }

    /// The node at `addr`, if it has type `N`.
    pub fn node<N: Node>(&self, addr: Addr) -> Option<&N> {
        let (_, n) = self.nodes.iter().find(|(a, _)| *a == addr)?;
        let any: &dyn Any = n.as_ref();
        any.downcast_ref::<N>()
    }

    /// The node at `addr`, mutably, if it has type `N`. Call
    /// [`World::flush`] after changing it from outside.
    pub fn node_mut<N: Node>(&mut self, addr: Addr) -> Option<&mut N> {
        let (_, n) = self.nodes.iter_mut().find(|(a, _)| *a == addr)?;
        let any: &mut dyn Any = n.as_mut();
        any.downcast_mut::<N>()
    }

    /// Runs `f` on the node at `addr` (if it has type `N`) with the
    /// current time, then drains what it wants to send.
    pub fn with<N: Node, R>(
        &mut self,
        addr: Addr,
        f: impl FnOnce(&mut N, Instant) -> R,
    ) -> Option<R> {
        let now = self.now;
        let r = f(self.node_mut::<N>(addr)?, now);
        self.flush();
        Some(r)
    }

    /// Sends `req` from the scripted server at `server` to the client at `to`.
    pub fn request<S>(&mut self, server: Addr, to: Addr, req: Req) -> Option<OpId>
    where
        S: Node + DerefMut<Target = Exchanges>,
    {
        self.with::<S, _>(server, |s, now| s.request(now, to, req))
    }

    /// Runs until request `op` of the scripted server at `server` ended, or
    /// `within` passed.
    pub fn await_op<S>(&mut self, server: Addr, op: OpId, within: Duration) -> Result<(), Stall>
    where
        S: Node + Deref<Target = Exchanges>,
    {
        let deadline = self.now + within;
        self.run_until(deadline, |w| {
            w.node::<S>(server).is_none_or(|s| s.is_done(op))
        })
    }

    /// Drains every node's pending datagrams into the network.
    pub fn flush(&mut self) {
        let now = self.now;
        for (addr, node) in &mut self.nodes {
            while let Some((to, len)) = node.poll_transmit(now, &mut self.buf) {
                if let Some(bytes) = self.buf.get(..len) {
                    self.net.send(now, *addr, to, bytes);
                }
            }
        }
    }

    fn next_event(&mut self) -> Option<Instant> {
        let mut next = self.net.next_delivery();
        for (_, node) in &mut self.nodes {
            if let Some(t) = node.poll_timeout() {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
        }
        next
    }

    /// Processes everything due at the next event time; `false` if there is
    /// no event at all.
    pub fn step(&mut self) -> bool {
        self.flush();
        let Some(at) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(at);
        let now = self.now;
        while let Some(d) = self.net.pop_due(now) {
            if let Some((_, node)) = self.nodes.iter_mut().find(|(a, _)| *a == d.to) {
                node.handle_datagram(now, d.from, &d.bytes);
            }
            self.steps += 1;
        }
        for (_, node) in &mut self.nodes {
            if node.poll_timeout().is_some_and(|t| t <= now) {
                node.handle_timeout(now);
                self.steps += 1;
            }
        }
        self.flush();
        true
    }

    /// Steps until `done` holds, the clock passes `deadline`, the world goes
    /// idle, or a node livelocks.
    pub fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&mut World) -> bool,
    ) -> Result<(), Stall> {
        let mut same_instant = 0u32;
        loop {
            if done(self) {
                return Ok(());
            }
            self.flush();
            match self.next_event() {
                None => return Err(Stall::Idle),
                Some(t) if t > deadline => {
                    self.now = self.now.max(deadline);
                    return Err(Stall::Deadline);
                }
                Some(_) => {}
            }
            let before = self.now;
            self.step();
            if self.now == before {
                same_instant += 1;
                if same_instant > MAX_EVENTS_PER_INSTANT {
                    return Err(Stall::Livelock);
                }
            } else {
                same_instant = 0;
            }
        }
    }

    /// Runs for `d` of virtual time (or until idle).
    pub fn run_for(&mut self, d: Duration) -> Result<(), Stall> {
        let deadline = self.now + d;
        match self.run_until(deadline, |_| false) {
            Err(Stall::Deadline) | Err(Stall::Idle) => {
                self.now = self.now.max(deadline);
                Ok(())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes every datagram back.
    struct Echo {
        out: Vec<(Addr, Vec<u8>)>,
    }
    impl Node for Echo {
        fn handle_datagram(&mut self, _: Instant, from: Addr, bytes: &[u8]) {
            self.out.push((from, bytes.to_vec()));
        }
        fn poll_transmit(&mut self, _: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
            let (to, b) = self.out.pop()?;
            buf[..b.len()].copy_from_slice(&b);
            Some((to, b.len()))
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            None
        }
        fn handle_timeout(&mut self, _: Instant) {}
    }

    /// Sends numbered pings, retransmitting every second until echoed.
    struct Pinger {
        peer: Addr,
        next: u8,
        total: u8,
        deadline: Option<Instant>,
        due: bool,
        sends: u32,
    }
    impl Node for Pinger {
        fn handle_datagram(&mut self, _: Instant, _: Addr, bytes: &[u8]) {
            if bytes == [self.next] {
                self.next += 1;
                self.due = self.next < self.total;
                if !self.due {
                    self.deadline = None;
                }
            }
        }
        fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
            if !self.due {
                return None;
            }
            self.due = false;
            self.sends += 1;
            self.deadline = Some(now + Duration::from_secs(1));
            buf[0] = self.next;
            Some((self.peer, 1))
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            self.deadline
        }
        fn handle_timeout(&mut self, _: Instant) {
            self.due = true;
            self.deadline = None;
        }
    }

    fn ping_world(seed: u64, loss: f64) -> (World, Addr) {
        let mut w = World::new(seed, LinkProfile::lossy(loss).with_duplicate(0.1));
        let echo = w.add_node_at(Addr(2), Echo { out: vec![] });
        let p = w.add_node_at(
            Addr(1),
            Pinger {
                peer: echo,
                next: 0,
                total: 50,
                deadline: None,
                due: true,
                sends: 0,
            },
        );
        (w, p)
    }

    #[test]
    fn pings_complete_despite_loss_in_virtual_time() {
        let (mut w, p) = ping_world(5, 0.3);
        let end = w.now() + Duration::from_secs(3600);
        let r = w.run_until(end, |w| w.node::<Pinger>(p).unwrap().next == 50);
        assert_eq!(r, Ok(()));
        let pinger = w.node::<Pinger>(p).unwrap();
        assert!(
            pinger.sends > 50,
            "loss forced retransmissions: {}",
            pinger.sends
        );
        assert!(w.net().stats().lost > 0);
    }

    #[test]
    fn runs_replay_from_the_seed() {
        let finish = |seed| {
            let (mut w, p) = ping_world(seed, 0.3);
            let end = w.now() + Duration::from_secs(3600);
            w.run_until(end, |w| w.node::<Pinger>(p).unwrap().next == 50)
                .unwrap();
            (w.now(), w.net().stats())
        };
        assert_eq!(finish(9), finish(9));
        assert_ne!(finish(9), finish(10));
    }

    #[test]
    fn total_loss_hits_the_deadline_not_a_hang() {
        let (mut w, p) = ping_world(1, 1.0);
        let end = w.now() + Duration::from_secs(60);
        let r = w.run_until(end, |w| w.node::<Pinger>(p).unwrap().next == 50);
        assert_eq!(r, Err(Stall::Deadline));
        assert!(w.node::<Pinger>(p).unwrap().sends >= 59);
    }
}
