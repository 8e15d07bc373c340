//! The request loop every case shares, floor and figure alike: keep
//! `window` requests outstanding on one UDP socket, time each from its
//! start to its completion, stop after `count`.
//!
//! What sends and recognises requests is a [`Requester`]: prebuilt
//! datagrams (the floor, and our client driven raw), the bundled server's
//! sans-IO core, or a sans-IO client registering. Everything else — the
//! socket, the clock, the bookkeeping — is this one loop.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The socket and clock of the loop, lent to requesters to send.
pub struct Io {
    sock: UdpSocket,
    origin: Instant,
    /// Datagrams sent.
    pub sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

impl Io {
    /// A socket on 127.0.0.1 (any port).
    pub fn bind() -> io::Result<Io> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(20)))?;
        Ok(Io {
            sock,
            origin: Instant::now(),
            sent: 0,
            bytes_sent: 0,
            bytes_received: 0,
        })
    }

    /// The socket's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Sends one datagram.
    pub fn send(&mut self, to: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        self.sock.send_to(bytes, to)?;
        self.sent += 1;
        self.bytes_sent += bytes.len() as u64;
        Ok(())
    }

    /// Receives one datagram into `buf`, waiting at most the socket's short
    /// read timeout; `None` when nothing came.
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        match self.sock.recv_from(buf) {
            Ok((n, from)) => {
                self.bytes_received += n as u64;
                Ok(Some((n, from)))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Now on the sans-IO cores' clock.
    pub fn now(&self) -> lwm2m_core::time::Instant {
        let us = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX);
        lwm2m_core::time::Instant::from_micros(us)
    }
}

/// One side of a case: starts requests and recognises their completion.
pub trait Requester {
    /// Starts request `seq` (sending what it needs).
    fn start(&mut self, io: &mut Io, seq: usize) -> io::Result<()>;
    /// A datagram arrived; pushes the requests it completed onto `done`.
    fn datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        done: &mut Vec<usize>,
    ) -> io::Result<()>;
    /// Runs timers that are due (retransmissions); cheap when none is.
    fn tick(&mut self, io: &mut Io) -> io::Result<()> {
        let _ = io;
        Ok(())
    }
    /// Requests that completed with an unexpected answer.
    fn errors(&self) -> u64 {
        0
    }
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Requests completed.
    pub count: usize,
    /// From the first start to the last completion.
    pub elapsed: Duration,
    /// Latency of each request, ns, sorted.
    pub lat_ns: Vec<u64>,
    /// Requests answered with something unexpected.
    pub errors: u64,
}

impl Run {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The `q` quantile of sorted `v` (nearest rank).
pub fn quantile(v: &[u64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(i.min(v.len() - 1)).copied().unwrap_or(0) as f64
}

/// Runs `count` requests of `r`, `window` outstanding at a time. Fails when
/// no request completes for `stall` (a lost datagram the requester does not
/// retransmit, a peer that died).
pub fn drive(
    io: &mut Io,
    r: &mut dyn Requester,
    window: usize,
    count: usize,
    stall: Duration,
) -> io::Result<Run> {
    let t0 = Instant::now();
    let mut starts = vec![t0; count];
    let mut lat_ns = vec![0u64; count];
    let mut rx = vec![0u8; 65_536];
    let mut done = Vec::with_capacity(window.max(1) * 2);
    let (mut next, mut outstanding, mut completed) = (0usize, 0usize, 0usize);
    let mut last_progress = t0;
    while completed < count {
        while outstanding < window.max(1) && next < count {
            if let Some(s) = starts.get_mut(next) {
                *s = Instant::now();
            }
            r.start(io, next)?;
            next += 1;
            outstanding += 1;
        }
        match io.recv(&mut rx)? {
            Some((n, from)) => {
                let bytes = rx.get(..n).unwrap_or(&[]);
                r.datagram(io, from, bytes, &mut done)?;
                let now = Instant::now();
                for seq in done.drain(..) {
                    if let (Some(l), Some(s)) = (lat_ns.get_mut(seq), starts.get(seq)) {
                        *l = now.duration_since(*s).as_nanos() as u64;
                    }
                    completed += 1;
                    outstanding = outstanding.saturating_sub(1);
                    last_progress = now;
                }
            }
            None => {
                if last_progress.elapsed() > stall {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("stalled: {completed} of {count} done, {outstanding} outstanding"),
                    ));
                }
            }
        }
        r.tick(io)?;
    }
    let elapsed = t0.elapsed();
    lat_ns.sort_unstable();
    Ok(Run {
        count,
        elapsed,
        lat_ns,
        errors: r.errors(),
    })
}

/// Receives and hands to `r` whatever arrives for `d` (no requests).
pub fn pump(io: &mut Io, r: &mut dyn Requester, d: Duration) -> io::Result<()> {
    let end = Instant::now() + d;
    let mut rx = vec![0u8; 65_536];
    let mut done = Vec::new();
    while Instant::now() < end {
        if let Some((n, from)) = io.recv(&mut rx)? {
            r.datagram(io, from, rx.get(..n).unwrap_or(&[]), &mut done)?;
        }
        r.tick(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 51.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
