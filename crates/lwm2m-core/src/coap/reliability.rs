//! Transmission parameters and the Confirmable retransmission schedule
//! (RFC 7252 §4.2, §4.8), as pure functions of the parameters and a seeded
//! [`Rng`].
//!
//! A Confirmable message is first retransmitted after a random initial
//! timeout in `[ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]`; each later
//! timeout doubles; after `MAX_RETRANSMIT` retransmissions the sender waits
//! one more (doubled) timeout and then gives up.

use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// The transmission parameters of RFC 7252 §4.8, configurable as §4.8.1
/// allows. [`Default`] gives the values of the RFC's table.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TransmissionParams {
    /// ACK_TIMEOUT: the base retransmission timeout (2 s).
    pub ack_timeout: Duration,
    /// ACK_RANDOM_FACTOR: the upper bound of the initial timeout's random
    /// factor (1.5); values below 1.0 are treated as 1.0.
    pub ack_random_factor: f32,
    /// MAX_RETRANSMIT: retransmissions before giving up (4).
    pub max_retransmit: u8,
    /// NSTART: outstanding Confirmable messages towards the peer (1);
    /// 0 is treated as 1.
    pub nstart: u8,
    /// DEFAULT_LEISURE: spread of answers to multicast requests (5 s).
    pub default_leisure: Duration,
    /// PROBING_RATE: average bytes per second towards an unresponsive peer (1).
    pub probing_rate: u32,
    /// MAX_LATENCY: the longest time a datagram is assumed to travel
    /// (100 s, §4.8.2).
    pub max_latency: Duration,
}

impl Default for TransmissionParams {
    fn default() -> Self {
        TransmissionParams {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor: 1.5,
            max_retransmit: 4,
            nstart: 1,
            default_leisure: Duration::from_secs(5),
            probing_rate: 1,
            max_latency: Duration::from_secs(100),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn scale(d: Duration, factor: f64) -> Duration {
    // `as` saturates (and maps NaN to 0), so no configuration can panic here.
    Duration::from_micros((micros(d) as f64 * factor) as u64)
}

impl TransmissionParams {
    fn factor(&self) -> f64 {
        f64::from(self.ack_random_factor).max(1.0)
    }

    /// NSTART, at least 1.
    pub fn nstart(&self) -> usize {
        usize::from(self.nstart.max(1))
    }

    /// MAX_TRANSMIT_SPAN: ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) *
    /// ACK_RANDOM_FACTOR, from the first transmission to the last
    /// retransmission (45 s with the defaults).
    pub fn max_transmit_span(&self) -> Duration {
        let n = (1u64 << self.max_retransmit.min(62)).saturating_sub(1);
        scale(self.ack_timeout, n as f64 * self.factor())
    }

    /// MAX_TRANSMIT_WAIT: ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) *
    /// ACK_RANDOM_FACTOR, from the first transmission to giving up (93 s).
    pub fn max_transmit_wait(&self) -> Duration {
        let n = (1u64 << (self.max_retransmit.min(61) + 1)).saturating_sub(1);
        scale(self.ack_timeout, n as f64 * self.factor())
    }

    /// PROCESSING_DELAY: the time a node takes to answer a Confirmable
    /// message (ACK_TIMEOUT, §4.8.2).
    pub fn processing_delay(&self) -> Duration {
        self.ack_timeout
    }

    /// MAX_RTT: 2 * MAX_LATENCY + PROCESSING_DELAY (202 s).
    pub fn max_rtt(&self) -> Duration {
        self.max_latency
            .saturating_mul(2)
            .saturating_add(self.processing_delay())
    }

    /// EXCHANGE_LIFETIME: MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY +
    /// PROCESSING_DELAY (247 s): how long a Confirmable message ID is
    /// remembered for de-duplication.
    pub fn exchange_lifetime(&self) -> Duration {
        self.max_transmit_span().saturating_add(self.max_rtt())
    }

    /// NON_LIFETIME: MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s): the same for a
    /// Non-confirmable message ID.
    pub fn non_lifetime(&self) -> Duration {
        self.max_transmit_span().saturating_add(self.max_latency)
    }

    /// A random initial timeout in `[ACK_TIMEOUT, ACK_TIMEOUT *
    /// ACK_RANDOM_FACTOR]` (§4.2), at microsecond resolution.
    pub fn initial_timeout(&self, rng: &mut Rng) -> Duration {
        let base = micros(self.ack_timeout);
        let top = micros(scale(self.ack_timeout, self.factor()));
        let span = top.saturating_sub(base);
        let jitter = if span == 0 {
            0
        } else {
            // Uniform in 0..=span (span < 2^64; the product fits in u128).
            ((u128::from(rng.next_u64()) * (u128::from(span) + 1)) >> 64) as u64
        };
        Duration::from_micros(base.saturating_add(jitter))
    }
}

/// What a retransmission timer asks for when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetransmitStep {
    /// Send the message again; the timer was re-armed.
    Resend,
    /// MAX_RETRANSMIT retransmissions went unacknowledged: give up.
    GiveUp,
}

/// The retransmission state of one Confirmable message (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retransmit {
    /// When the timer fires next.
    pub deadline: Instant,
    /// The current timeout (doubles after each retransmission).
    pub timeout: Duration,
    /// Retransmissions sent so far.
    pub count: u8,
}

impl Retransmit {
    /// The state after the first transmission at `now`.
    pub fn start(now: Instant, params: &TransmissionParams, rng: &mut Rng) -> Retransmit {
        let timeout = params.initial_timeout(rng);
        Retransmit {
            deadline: now + timeout,
            timeout,
            count: 0,
        }
    }

    /// Called when `deadline` has passed: either re-arms the timer (the
    /// caller resends) or gives up.
    pub fn on_timeout(&mut self, params: &TransmissionParams) -> RetransmitStep {
        if self.count >= params.max_retransmit {
            return RetransmitStep::GiveUp;
        }
        self.count += 1;
        self.timeout = self.timeout.saturating_mul(2);
        self.deadline += self.timeout;
        // The last retransmission waits one more doubled timeout for its
        // ACK before giving up, which the next call reports.
        RetransmitStep::Resend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_times_match_rfc7252_4_8_2() {
        // §4.8.2 lists the values for the default parameters.
        let p = TransmissionParams::default();
        assert_eq!(p.max_transmit_span(), Duration::from_secs(45));
        assert_eq!(p.max_transmit_wait(), Duration::from_secs(93));
        assert_eq!(p.max_rtt(), Duration::from_secs(202));
        assert_eq!(p.exchange_lifetime(), Duration::from_secs(247));
        assert_eq!(p.non_lifetime(), Duration::from_secs(145));
        assert_eq!(p.processing_delay(), Duration::from_secs(2));
    }

    #[test]
    fn hostile_parameters_saturate_instead_of_panicking() {
        let p = TransmissionParams {
            ack_timeout: Duration::MAX,
            ack_random_factor: f32::NAN,
            max_retransmit: 255,
            nstart: 0,
            ..TransmissionParams::default()
        };
        let _ = (p.max_transmit_span(), p.max_transmit_wait());
        let _ = p.exchange_lifetime();
        let mut rng = Rng::new(1);
        let _ = p.initial_timeout(&mut rng);
        assert_eq!(p.nstart(), 1);
    }

    #[test]
    fn initial_timeout_stays_in_range_and_varies() {
        let p = TransmissionParams::default();
        let mut rng = Rng::new(3);
        let ts: Vec<_> = (0..200).map(|_| p.initial_timeout(&mut rng)).collect();
        assert!(
            ts.iter()
                .all(|t| *t >= Duration::from_secs(2) && *t <= Duration::from_secs(3))
        );
        assert!(ts.iter().any(|t| *t < Duration::from_millis(2200)));
        assert!(ts.iter().any(|t| *t > Duration::from_millis(2800)));
        let exact = TransmissionParams {
            ack_random_factor: 1.0,
            ..p
        };
        assert_eq!(exact.initial_timeout(&mut rng), Duration::from_secs(2));
    }

    #[test]
    fn schedule_doubles_then_gives_up() {
        let p = TransmissionParams {
            ack_random_factor: 1.0,
            ..TransmissionParams::default()
        };
        let mut rng = Rng::new(0);
        let t0 = Instant::from_secs(10);
        let mut r = Retransmit::start(t0, &p, &mut rng);
        let mut fired = vec![r.deadline];
        while r.on_timeout(&p) == RetransmitStep::Resend {
            fired.push(r.deadline);
        }
        // Retransmissions at 2, 6, 14, 30 s; give-up at 62 s (t0 + 2 * 31).
        let secs: Vec<u64> = fired.iter().map(|i| (*i - t0).as_secs()).collect();
        assert_eq!(secs, vec![2, 6, 14, 30, 62]);
        assert_eq!(r.count, 4);
    }
}
