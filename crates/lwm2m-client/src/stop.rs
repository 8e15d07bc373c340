//! Stopping the client's loop: a self-pipe written from a signal handler
//! (SIGINT, SIGTERM through `signal-hook`) or from another thread (the
//! tour's script), polled by the loop beside the sockets.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Stops the client's loop from a signal handler or another thread: one
/// byte into a non-blocking self-pipe. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Stopper {
    tx: Arc<UnixStream>,
}

impl Stopper {
    /// Stops the loop (now, or at its next wait).
    pub fn stop(&self) {
        // A full pipe already holds a stop.
        let _ = (&*self.tx).write(&[1]);
    }

    /// Makes SIGINT and SIGTERM stop the loop.
    pub fn on_signals(&self) -> io::Result<()> {
        for sig in [SIGINT, SIGTERM] {
            signal_hook::low_level::pipe::register(sig, self.tx.try_clone()?)?;
        }
        Ok(())
    }
}

/// The read end of the stop pipe.
#[derive(Debug)]
pub struct StopPipe {
    rx: UnixStream,
}

impl StopPipe {
    /// Whether a stop arrived; consumes it.
    pub(crate) fn take(&self) -> bool {
        let mut buf = [0u8; 16];
        let mut got = false;
        while let Ok(n) = (&self.rx).read(&mut buf) {
            if n == 0 {
                break;
            }
            got = true;
        }
        got
    }
}

/// A connected stop pipe.
pub fn stop_pipe() -> io::Result<(Stopper, StopPipe)> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Stopper { tx: Arc::new(tx) }, StopPipe { rx }))
}

/// The stop pipe's read end, for polling.
impl AsFd for StopPipe {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.rx.as_fd()
    }
}
