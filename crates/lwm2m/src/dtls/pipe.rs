//! The in-memory datagram pipe OpenSSL reads and writes instead of a socket.
//!
//! One `read` returns one whole datagram (or `WouldBlock`); one `write`
//! produces one datagram, because OpenSSL's DTLS layer writes each datagram
//! it builds in a single call. Buffers are recycled, so steady-state traffic
//! allocates nothing.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use lwm2m_core::session::record;

/// Most datagrams queued for sending; a flight is a handful. Past this the
/// newest is dropped, like a full socket buffer, and DTLS retransmits.
const MAX_QUEUED: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct Pipe {
    incoming: Vec<u8>,
    has_incoming: bool,
    outgoing: VecDeque<Vec<u8>>,
    free: Vec<Vec<u8>>,
    /// Datagrams dropped because the queue was full.
    pub(crate) dropped: u64,
    /// Whether a ChangeCipherSpec went out on this pipe (one pipe per
    /// handshake): our Finished follows it in the same flight.
    pub(crate) sent_ccs: bool,
}

impl Pipe {
    /// Makes `datagram` the next (and only) thing `read` returns.
    pub(crate) fn feed(&mut self, datagram: &[u8]) {
        self.incoming.clear();
        self.incoming.extend_from_slice(datagram);
        self.has_incoming = true;
    }

    /// Forgets an unread input datagram.
    pub(crate) fn clear_incoming(&mut self) {
        self.has_incoming = false;
    }

    /// Copies the oldest queued datagram into `out`. `Err(len)` when `out`
    /// is too small (the datagram is dropped).
    pub(crate) fn pop_into(&mut self, out: &mut [u8]) -> Option<Result<usize, usize>> {
        let d = self.outgoing.pop_front()?;
        let len = d.len();
        let r = match out.get_mut(..len) {
            Some(dst) => {
                dst.copy_from_slice(&d);
                Ok(len)
            }
            None => Err(len),
        };
        self.recycle(d);
        Some(r)
    }

    /// Like [`Pipe::pop_into`] for the newest queued datagram.
    pub(crate) fn pop_back_into(&mut self, out: &mut [u8]) -> Option<Result<usize, usize>> {
        let d = self.outgoing.pop_back()?;
        let len = d.len();
        let r = match out.get_mut(..len) {
            Some(dst) => {
                dst.copy_from_slice(&d);
                Ok(len)
            }
            None => Err(len),
        };
        self.recycle(d);
        Some(r)
    }

    /// Moves every queued outgoing datagram of `other` to the end of ours.
    pub(crate) fn take_outgoing(&mut self, other: &mut Pipe) {
        self.outgoing.append(&mut other.outgoing);
        self.dropped = self.dropped.saturating_add(other.dropped);
    }

    pub(crate) fn queued(&self) -> usize {
        self.outgoing.len()
    }

    fn recycle(&mut self, mut d: Vec<u8>) {
        if self.free.len() < MAX_QUEUED {
            d.clear();
            self.free.push(d);
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.has_incoming {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.has_incoming = false;
        // A datagram larger than the reader's buffer is truncated, as a UDP
        // socket would; DTLS then drops the broken record.
        let n = self.incoming.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), self.incoming.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if record::records(buf)
            .any(|r| matches!(r, Ok(r) if r.content_type == record::CHANGE_CIPHER_SPEC))
        {
            self.sent_ccs = true;
        }
        if self.outgoing.len() >= MAX_QUEUED {
            self.dropped = self.dropped.saturating_add(1);
            return Ok(buf.len());
        }
        let mut d = self.free.pop().unwrap_or_default();
        d.extend_from_slice(buf);
        self.outgoing.push_back(d);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_is_one_datagram_and_writes_stay_separate() {
        let mut p = Pipe::default();
        let mut buf = [0u8; 8];
        assert_eq!(
            p.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        p.feed(b"abc");
        assert_eq!(p.read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        assert!(p.read(&mut buf).is_err());

        p.write_all(b"one").unwrap();
        p.write_all(b"second").unwrap();
        let mut out = [0u8; 4];
        assert_eq!(p.pop_into(&mut out), Some(Ok(3)));
        assert_eq!(p.pop_into(&mut out), Some(Err(6)));
        assert_eq!(p.pop_into(&mut out), None);
    }

    #[test]
    fn queue_is_bounded() {
        let mut p = Pipe::default();
        for _ in 0..MAX_QUEUED + 3 {
            p.write_all(b"x").unwrap();
        }
        assert_eq!(p.queued(), MAX_QUEUED);
        assert_eq!(p.dropped, 3);
    }
}
