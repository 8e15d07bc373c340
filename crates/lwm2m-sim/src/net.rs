//! A seeded lossy network between simulated nodes.
//!
//! Every datagram sent is given a fate when it is sent: lost, delivered after
//! a delay, delivered late (reordered past later ones), or delivered twice.
//! The fate comes from a seeded generator, so a run replays exactly from its
//! seed. Burst loss follows the two-state Gilbert–Elliott model.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use lwm2m_core::rand::Rng;
use lwm2m_core::time::Instant;

/// The address of a simulated node (a host and port in one number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr(pub u32);

/// Two-state burst loss (Gilbert–Elliott): in the good state datagrams are
/// lost with the profile's `loss`; in the bad state with `loss_in_bad`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burst {
    /// Probability of moving from good to bad, per datagram.
    pub enter: f64,
    /// Probability of moving from bad to good, per datagram.
    pub leave: f64,
    /// Loss probability while bad.
    pub loss_in_bad: f64,
}

/// How a one-way path treats datagrams.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkProfile {
    /// Independent loss probability (good state).
    pub loss: f64,
    /// Optional burst loss on top.
    pub burst: Option<Burst>,
    /// Shortest one-way delay.
    pub delay_min: Duration,
    /// Longest one-way delay (uniform between min and max).
    pub delay_max: Duration,
    /// Probability that a datagram is held back by `reorder_extra`, so that
    /// later datagrams overtake it.
    pub reorder: f64,
    /// How long a reordered datagram is held back.
    pub reorder_extra: Duration,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
}

impl LinkProfile {
    /// No loss, no reordering, 1 ms delay.
    pub const fn perfect() -> LinkProfile {
        LinkProfile {
            loss: 0.0,
            burst: None,
            delay_min: Duration::from_millis(1),
            delay_max: Duration::from_millis(1),
            reorder: 0.0,
            reorder_extra: Duration::ZERO,
            duplicate: 0.0,
        }
    }

    /// Random loss with probability `loss`, 1–20 ms delay.
    pub const fn lossy(loss: f64) -> LinkProfile {
        LinkProfile {
            loss,
            delay_min: Duration::from_millis(1),
            delay_max: Duration::from_millis(20),
            ..LinkProfile::perfect()
        }
    }

    /// With duplication probability `p`.
    pub const fn with_duplicate(mut self, p: f64) -> LinkProfile {
        self.duplicate = p;
        self
    }

    /// With reordering probability `p`, held back by `extra`.
    pub const fn with_reorder(mut self, p: f64, extra: Duration) -> LinkProfile {
        self.reorder = p;
        self.reorder_extra = extra;
        self
    }

    /// With burst loss.
    pub const fn with_burst(mut self, burst: Burst) -> LinkProfile {
        self.burst = Some(burst);
        self
    }

    /// With a delay range.
    pub const fn with_delay(mut self, min: Duration, max: Duration) -> LinkProfile {
        self.delay_min = min;
        self.delay_max = max;
        self
    }
}

/// A datagram on its way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// When it arrives.
    pub at: Instant,
    /// Sender.
    pub from: Addr,
    /// Recipient.
    pub to: Addr,
    /// The bytes.
    pub bytes: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
struct InFlight {
    at: Instant,
    seq: u64,
    dgram: Datagram,
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What happened to the datagrams sent so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Datagrams handed to the network.
    pub sent: u64,
    /// Datagrams lost.
    pub lost: u64,
    /// Extra copies created.
    pub duplicated: u64,
    /// Datagrams held back to be reordered.
    pub reordered: u64,
    /// Datagrams delivered (copies included).
    pub delivered: u64,
}

/// The network: in-flight datagrams ordered by arrival time.
#[derive(Debug)]
pub struct Network {
    rng: Rng,
    default_profile: LinkProfile,
    profiles: HashMap<(Addr, Addr), LinkProfile>,
    bad_state: HashMap<(Addr, Addr), bool>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    stats: NetStats,
}

impl Network {
    /// A network whose every path follows `profile`, with fates drawn from `seed`.
    pub fn new(seed: u64, profile: LinkProfile) -> Network {
        Network {
            rng: Rng::new(seed),
            default_profile: profile,
            profiles: HashMap::new(),
            bad_state: HashMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            stats: NetStats::default(),
        }
    }

    /// Overrides the profile of the one-way path `from → to`.
    pub fn set_profile(&mut self, from: Addr, to: Addr, profile: LinkProfile) {
        self.profiles.insert((from, to), profile);
    }

    /// Sets the profile of every path that has no override.
    pub fn set_default_profile(&mut self, profile: LinkProfile) {
        self.default_profile = profile;
    }

    /// Counters.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Number of datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Hands a datagram to the network at `now`; its fate is decided here.
    pub fn send(&mut self, now: Instant, from: Addr, to: Addr, bytes: &[u8]) {
        self.stats.sent += 1;
        let p = self
            .profiles
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default_profile);
        let mut loss = p.loss;
        if let Some(b) = p.burst {
            let bad = self.bad_state.entry((from, to)).or_insert(false);
            let flip = if *bad { b.leave } else { b.enter };
            if self.rng.unit() < flip {
                *bad = !*bad;
            }
            if *bad {
                loss = b.loss_in_bad;
            }
        }
        if self.rng.unit() < loss {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.rng.unit() < p.duplicate {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let span = p.delay_max.saturating_sub(p.delay_min);
            let jitter = span.mul_f64(self.rng.unit());
            let mut delay = p.delay_min + jitter;
            if self.rng.unit() < p.reorder {
                self.stats.reordered += 1;
                delay += p.reorder_extra;
            }
            self.seq += 1;
            let at = now + delay;
            self.queue.push(Reverse(InFlight {
                at,
                seq: self.seq,
                dgram: Datagram {
                    at,
                    from,
                    to,
                    bytes: bytes.to_vec(),
                },
            }));
        }
    }

    /// When the next datagram arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(f)| f.at)
    }

    /// The next datagram due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Datagram> {
        if self.next_delivery()? > now {
            return None;
        }
        let Reverse(f) = self.queue.pop()?;
        self.stats.delivered += 1;
        Some(f.dgram)
    }

    /// Drops everything in flight (a partition healing with nothing queued).
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, profile: LinkProfile, n: usize) -> (NetStats, Vec<u8>) {
        let mut net = Network::new(seed, profile);
        for i in 0..n {
            net.send(Instant::from_millis(i as u64), Addr(1), Addr(2), &[i as u8]);
        }
        let mut order = Vec::new();
        while let Some(d) = net.pop_due(Instant::MAX) {
            order.push(d.bytes[0]);
        }
        (net.stats(), order)
    }

    #[test]
    fn perfect_link_delivers_everything_in_order() {
        let (s, order) = run(1, LinkProfile::perfect(), 100);
        assert_eq!((s.sent, s.lost, s.delivered), (100, 0, 100));
        assert_eq!(order, (0..100).collect::<Vec<u8>>());
    }

    #[test]
    fn loss_rate_is_close_to_the_profile_and_seeded() {
        let (a, oa) = run(7, LinkProfile::lossy(0.3), 10_000);
        let (b, ob) = run(7, LinkProfile::lossy(0.3), 10_000);
        assert_eq!((a, &oa), (b, &ob), "same seed, same run");
        let rate = a.lost as f64 / a.sent as f64;
        assert!((0.27..0.33).contains(&rate), "loss rate {rate}");
        let (c, _) = run(8, LinkProfile::lossy(0.3), 10_000);
        assert_ne!(a, c, "another seed, another run");
    }

    #[test]
    fn duplication_and_reordering_happen() {
        let p = LinkProfile::perfect()
            .with_duplicate(0.2)
            .with_reorder(0.2, Duration::from_millis(50));
        let (s, order) = run(3, p, 200);
        assert!(s.duplicated > 10 && s.reordered > 10, "{s:?}");
        assert_eq!(s.delivered, 200 + s.duplicated);
        assert!(order.windows(2).any(|w| w[0] > w[1]), "something overtook");
    }

    #[test]
    fn burst_loss_clusters() {
        let burst = Burst {
            enter: 0.05,
            leave: 0.2,
            loss_in_bad: 1.0,
        };
        let mut net = Network::new(11, LinkProfile::perfect().with_burst(burst));
        let mut lost_run = 0usize;
        let mut longest = 0usize;
        for i in 0..5000u64 {
            let before = net.stats().lost;
            net.send(Instant::from_millis(i), Addr(1), Addr(2), &[0]);
            if net.stats().lost > before {
                lost_run += 1;
                longest = longest.max(lost_run);
            } else {
                lost_run = 0;
            }
        }
        assert!(
            longest >= 5,
            "bursts of consecutive losses, longest {longest}"
        );
    }
}
