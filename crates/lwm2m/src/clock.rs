//! The monotonic clock: the only place of the workspace's library code that
//! reads the time (STYLE.md habit 6: time is an argument everywhere else).
//!
//! The core's [`Instant`] has an arbitrary origin; the driver's origin is the
//! moment its [`Clock`] was created, so instants count microseconds since the
//! driver started and fit in a `u64` for half a million years.

use lwm2m_core::time::Instant;

/// A monotonic clock mapped onto the core's [`Instant`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    /// A clock whose origin is now.
    pub(crate) fn new() -> Clock {
        Clock {
            origin: std::time::Instant::now(),
        }
    }

    /// The current instant, in microseconds since the origin (monotonic:
    /// `std::time::Instant` never goes back).
    pub(crate) fn now(&self) -> Instant {
        let us = self.origin.elapsed().as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_near_zero_and_never_goes_back() {
        let c = Clock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        // The origin is the clock's creation, not some system epoch.
        assert!(a < Instant::from_secs(3600));
    }
}
