//! The only `unsafe` of the workspace: OpenSSL's DTLS calls that the
//! `openssl` crate does not wrap.
//!
//! - `DTLSv1_get_timeout` / `DTLSv1_handle_timeout` are C macros over
//!   `SSL_ctrl` (`DTLS_CTRL_GET_TIMEOUT` = 73, `DTLS_CTRL_HANDLE_TIMEOUT` =
//!   74 in `<openssl/ssl.h>`), so openssl-sys has no function for them.
//! - `DTLS_set_timer_cb` (OpenSSL ≥ 1.1.1) lets us choose the retransmission
//!   schedule instead of OpenSSL's fixed 1 s doubling.
//! - `DTLS_get_data_mtu` (OpenSSL ≥ 1.1.1): the plaintext room of a record.
//! - `SSL_set_session` is `unsafe` in the `openssl` crate because the session
//!   must come from the same context; [`resume`] checks that.
//!
//! Each function here is safe to call: the `unsafe` blocks rely only on the
//! pointers coming from live `openssl` objects borrowed for the call.
#![allow(unsafe_code)]

use std::sync::OnceLock;
use std::time::Duration;

use foreign_types::ForeignTypeRef;
use libc::{c_int, c_long, c_uint, c_void, timeval};
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslRef, SslSession, SslSessionRef, SslStream};
use openssl_sys::SSL;

const DTLS_CTRL_GET_TIMEOUT: c_int = 73;
const DTLS_CTRL_HANDLE_TIMEOUT: c_int = 74;

unsafe extern "C" {
    fn DTLS_set_timer_cb(s: *mut SSL, cb: Option<unsafe extern "C" fn(*mut SSL, c_uint) -> c_uint>);
    fn DTLS_get_data_mtu(s: *const SSL) -> usize;
}

/// OpenSSL zeroes any remaining time below 15 ms (`dtls1_get_timeout`), so a
/// shorter timer would count as expired at once and retransmit on every
/// read; we never ask for less.
pub(crate) const MIN_RETRANSMIT: Duration = Duration::from_millis(20);

/// The retransmission schedule of one SSL object, read by [`timer_cb`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    initial_us: c_uint,
    max_us: c_uint,
}

impl Schedule {
    pub(crate) fn new(initial: Duration, max: Duration) -> Schedule {
        let us = |d: Duration| {
            c_uint::try_from(d.max(MIN_RETRANSMIT).as_micros()).unwrap_or(c_uint::MAX)
        };
        let initial_us = us(initial);
        Schedule {
            initial_us,
            max_us: us(max).max(initial_us),
        }
    }

    fn next(&self, previous_us: c_uint) -> c_uint {
        if previous_us == 0 {
            self.initial_us
        } else {
            previous_us.saturating_mul(2).min(self.max_us)
        }
    }
}

fn schedule_index() -> Option<Index<Ssl, Schedule>> {
    static INDEX: OnceLock<Option<Index<Ssl, Schedule>>> = OnceLock::new();
    *INDEX.get_or_init(|| Ssl::new_ex_index().ok())
}

/// Called by OpenSSL with 0 when a flight's timer starts and with the
/// previous timeout when it expired; returns the next one in microseconds.
unsafe extern "C" fn timer_cb(ssl: *mut SSL, previous_us: c_uint) -> c_uint {
    let fallback = Schedule::new(Duration::from_secs(1), Duration::from_secs(60));
    // SAFETY: OpenSSL passes the live SSL object whose timer fires; it stays
    // valid for this call and we only read its ex_data. `SslRef` is an opaque
    // (UnsafeCell) type, so this shared reference coexists soundly with the
    // `&mut` the openssl crate holds further up the stack, as in the crate's
    // own callbacks.
    let ssl = unsafe { SslRef::from_ptr(ssl) };
    let schedule = schedule_index()
        .and_then(|i| ssl.ex_data(i).copied())
        .unwrap_or(fallback);
    schedule.next(previous_us)
}

/// Installs `schedule` as the retransmission timer of `ssl`. Must be called
/// before the handshake starts.
pub(crate) fn set_schedule(ssl: &mut SslRef, schedule: Schedule) {
    if let Some(index) = schedule_index() {
        ssl.set_ex_data(index, schedule);
    }
    // SAFETY: `ssl` is a live SSL object borrowed mutably; the callback is a
    // plain function that outlives it.
    unsafe { DTLS_set_timer_cb(ssl.as_ptr(), Some(timer_cb)) }
}

/// `DTLSv1_get_timeout`: the time left on OpenSSL's retransmission timer
/// (measured on the real clock), or `None` when no timer runs.
pub(crate) fn timeout(ssl: &SslRef) -> Option<Duration> {
    let mut tv = timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: DTLS_CTRL_GET_TIMEOUT writes one `struct timeval` through
    // `parg`, which points to a live local of that type.
    let running = unsafe {
        openssl_sys::SSL_ctrl(
            ssl.as_ptr(),
            DTLS_CTRL_GET_TIMEOUT,
            0,
            (&raw mut tv).cast::<c_void>(),
        )
    };
    if running != 1 {
        return None;
    }
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Some(Duration::from_secs(secs) + Duration::from_micros(u64::from(micros)))
}

/// `DTLSv1_handle_timeout`: retransmits the last flight if OpenSSL's timer
/// expired. Returns > 0 when it retransmitted, 0 when the timer had not
/// expired (or none runs), < 0 when the handshake failed (too many
/// retransmissions).
pub(crate) fn handle_timeout<S>(stream: &mut SslStream<S>) -> c_long {
    // SAFETY: DTLS_CTRL_HANDLE_TIMEOUT takes no argument. The stream is
    // borrowed mutably, so no Rust reference into its BIO state (which the
    // retransmission writes to) is alive during the call.
    unsafe {
        openssl_sys::SSL_ctrl(
            stream.ssl().as_ptr(),
            DTLS_CTRL_HANDLE_TIMEOUT,
            0,
            std::ptr::null_mut(),
        )
    }
}

/// `DTLS_get_data_mtu`: the largest plaintext one record can carry with the
/// current cipher and MTU, or 0 before a cipher is negotiated.
pub(crate) fn data_mtu(ssl: &SslRef) -> usize {
    // SAFETY: reads the live SSL object's MTU and cipher.
    unsafe { DTLS_get_data_mtu(ssl.as_ptr()) }
}

/// A session kept for resumption, tied to the context it came from.
#[derive(Clone)]
pub(crate) struct Resumable {
    context: SslContext,
    session: SslSession,
}

impl Resumable {
    /// The session `ssl` negotiated, if any.
    pub(crate) fn of(ssl: &SslRef) -> Option<Resumable> {
        let session = ssl.session()?.to_owned();
        Some(Resumable {
            context: ssl.ssl_context().to_owned(),
            session,
        })
    }

    fn session(&self) -> &SslSessionRef {
        &self.session
    }
}

/// Offers `kept` for resumption on `ssl`; does nothing when `ssl` belongs to
/// another context.
pub(crate) fn resume(ssl: &mut SslRef, kept: &Resumable) -> bool {
    if ssl.ssl_context().as_ptr() != kept.context.as_ptr() {
        return false;
    }
    // SAFETY: the `openssl` crate marks `set_session` unsafe because the
    // session must come from the same SSL_CTX; checked just above.
    unsafe { ssl.set_session(kept.session()) }.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_up_to_the_cap_and_never_drops_below_20_ms() {
        let s = Schedule::new(Duration::from_millis(100), Duration::from_millis(350));
        assert_eq!(s.next(0), 100_000);
        assert_eq!(s.next(100_000), 200_000);
        assert_eq!(s.next(200_000), 350_000);
        assert_eq!(s.next(350_000), 350_000);
        let tiny = Schedule::new(Duration::from_micros(1), Duration::ZERO);
        assert_eq!(tiny.next(0), 20_000);
        assert_eq!(tiny.next(20_000), 20_000);
    }
}
