//! Waiting on several descriptors: `poll(2)`, the one system call the driver
//! makes through `libc` directly.
//!
//! Why `poll(2)` and not a crate: the driver waits on a handful of
//! descriptors (one per server link plus the interrupt pipe) whose set
//! changes between waits, so building the array afresh each time is what
//! `poll` wants and costs nothing at this size; `epoll`/`kqueue` wrappers
//! (`mio`, `polling`) would add registration bookkeeping and a dependency
//! for no gain. The `unsafe` is one call on a slice, reviewed below.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Readable, or an error or hang-up to collect by reading.
const READY: libc::c_short = libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

/// One descriptor to wait on for readability.
pub(crate) fn readable(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Whether `poll` reported `p` ready (readable, or with an error to
/// collect by reading).
pub(crate) fn is_ready(p: &libc::pollfd) -> bool {
    p.revents & READY != 0
}

/// The timeout in whole milliseconds, rounded up so that a deadline a
/// fraction of a millisecond away is slept through rather than polled in a
/// busy loop; capped at `i32::MAX` ms (the caller loops).
fn timeout_ms(d: Duration) -> libc::c_int {
    let ms = d.as_micros().div_ceil(1000);
    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
}

/// Waits until one of `fds` is ready or `timeout` passes; returns how many
/// are ready (0 on timeout or when a signal interrupted the wait, which the
/// caller treats like a spurious wake-up).
#[allow(unsafe_code)]
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    for p in fds.iter_mut() {
        p.revents = 0;
    }
    let n = libc::nfds_t::try_from(fds.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many descriptors"))?;
    // SAFETY: `fds` is an exclusively borrowed slice of `n` initialised
    // `pollfd` structs, valid for the whole call; poll(2) reads them and
    // writes only their `revents` fields, and keeps no pointer afterwards.
    // Descriptors that are closed or invalid are reported as POLLNVAL, not
    // undefined behaviour.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), n, timeout_ms(timeout)) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(e)
        };
    }
    Ok(usize::try_from(r).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn timeouts_round_up_to_whole_milliseconds() {
        assert_eq!(timeout_ms(Duration::ZERO), 0);
        assert_eq!(timeout_ms(Duration::from_micros(1)), 1);
        assert_eq!(timeout_ms(Duration::from_micros(1000)), 1);
        assert_eq!(timeout_ms(Duration::from_micros(1001)), 2);
        assert_eq!(timeout_ms(Duration::MAX), libc::c_int::MAX);
    }

    #[test]
    fn reports_the_ready_descriptor() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut fds = [readable(a.as_raw_fd()), readable(b.as_raw_fd())];
        assert_eq!(poll(&mut fds, Duration::ZERO).unwrap(), 0);
        assert!(!is_ready(&fds[0]) && !is_ready(&fds[1]));
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        assert_eq!(poll(&mut fds, Duration::from_secs(60)).unwrap(), 1);
        assert!(!is_ready(&fds[0]) && is_ready(&fds[1]));
    }
}
