//! The binary's only reads of the clocks: a monotonic one for the
//! simulation and the log, the system's for Current Time and Timestamp.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// When the program started, on both clocks.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    /// Starts now.
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Monotonic time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Unix time now, seconds (0 before 1970).
    pub fn unix(&self) -> i64 {
        self.unix_duration()
            .as_secs()
            .try_into()
            .unwrap_or(i64::MAX)
    }

    /// Unix time now.
    pub fn unix_duration(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// `HH:MM:SS` (UTC) of a Unix time, with milliseconds when asked.
pub fn time_of_day(unix: Duration, millis: bool) -> String {
    let s = unix.as_secs() % 86_400;
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if millis {
        format!("{h:02}:{m:02}:{sec:02}.{:03}", unix.subsec_millis())
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

/// ISO 8601 `YYYY-MM-DDTHH:MM:SSZ` of a Unix time (proleptic Gregorian,
/// days-from-civil inverted as in H. Hinnant's `civil_from_days`).
pub fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        // date -u -d @951782400: Tue Feb 29 00:00:00 UTC 2000
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        // date -u -d @1700000000: Tue Nov 14 22:13:20 UTC 2023
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            time_of_day(Duration::from_millis(1_700_000_000_123), true),
            "22:13:20.123"
        );
    }
}
