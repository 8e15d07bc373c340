//! The interrupt handle: a self-pipe (a connected `UnixStream` pair) whose
//! read end [`Driver::event_loop_run`](super::Driver::event_loop_run) polls
//! beside the sockets.
//!
//! Interrupting is one `write(2)` of one byte on a non-blocking socket:
//! async-signal-safe, lock-free, and never blocking (a full buffer means an
//! interrupt is already pending, so the byte is not needed). Interrupts that
//! arrive while nobody waits are kept until the next wait, which returns at
//! once; several collapse into one.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

/// Stops [`Driver::event_loop_run`](super::Driver::event_loop_run) (and
/// [`Driver::shutdown`](super::Driver::shutdown)) from another thread or
/// from a signal handler. Cheap to clone; every clone interrupts the same
/// driver.
///
/// From another thread, call [`Interrupt::interrupt`]. For a signal, hand a
/// duplicate of the write end to `signal-hook`, which writes one byte from
/// its (async-signal-safe) handler:
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let driver = lwm2m::Driver::new(lwm2m::core::config::Config::new("ep"))?;
/// let stop = driver.interrupt_handle();
/// signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, stop.try_clone_fd()?)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Interrupt {
    tx: Arc<UnixStream>,
}

impl Interrupt {
    /// Interrupts the driver's current or next wait. Never blocks.
    pub fn interrupt(&self) {
        // WouldBlock: the pipe is full, so an interrupt is pending already.
        // Any other error cannot happen while the driver holds the read end
        // and cannot be reported from a signal handler anyway.
        let _ = (&*self.tx).write(&[1]);
    }

    /// A duplicate of the write end, for registering with a signal
    /// handler (`signal_hook::low_level::pipe::register`), which writes one
    /// byte to it per signal.
    pub fn try_clone_fd(&self) -> io::Result<OwnedFd> {
        Ok(self.tx.try_clone()?.into())
    }
}

impl AsFd for Interrupt {
    /// The write end.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tx.as_fd()
    }
}

/// The read end, owned by the driver.
#[derive(Debug)]
pub(crate) struct Waker {
    rx: UnixStream,
}

/// A connected pair, both ends non-blocking.
pub(crate) fn pair() -> io::Result<(Interrupt, Waker)> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Interrupt { tx: Arc::new(tx) }, Waker { rx }))
}

impl Waker {
    /// The descriptor to poll for readability.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.rx.as_raw_fd()
    }

    /// Consumes every pending interrupt; whether there was one.
    pub(crate) fn take(&mut self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        // Bounded even against a thread interrupting in a loop: what is
        // left after that many reads is taken by the next wait.
        for _ in 0..1024 {
            match self.rx.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => any = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupts_are_kept_until_taken_and_collapse() {
        let (i, mut w) = pair().unwrap();
        assert!(!w.take());
        i.interrupt();
        i.clone().interrupt();
        assert!(w.take());
        assert!(!w.take());
    }

    #[test]
    fn a_full_pipe_does_not_block() {
        let (i, mut w) = pair().unwrap();
        // Far more than any socket buffer: each write either lands or is
        // dropped as already pending, never waits.
        for _ in 0..100_000 {
            i.interrupt();
        }
        assert!(w.take());
    }

    #[test]
    fn the_cloned_fd_interrupts() {
        let (i, mut w) = pair().unwrap();
        let fd = i.try_clone_fd().unwrap();
        let mut s = UnixStream::from(fd);
        s.write_all(&[1]).unwrap();
        assert!(w.take());
    }
}
