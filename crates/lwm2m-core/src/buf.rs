//! A bounded writer over a caller's buffer.
//!
//! Every encoder of the crate (CoAP messages, content formats, link format)
//! writes through [`Writer`], so one type carries the "every buffer is bounded"
//! rule: a write that does not fit fails with [`Overflow`] and leaves the bytes
//! written so far intact, it never grows or panics. Encoders that need a length
//! before the content (TLV, CBOR) reserve room and patch it afterwards.

use core::fmt;

/// A write did not fit in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("output buffer full")
    }
}

/// Appends bytes to a fixed slice; `len()` bytes at the front are written.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// An empty writer over `buf`; its capacity is `buf.len()`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total room, written or not.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Room left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.len)
    }

    /// Appends `bytes`, or fails without writing anything.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let end = self.len.checked_add(bytes.len()).ok_or(Overflow)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Overflow)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends one byte.
    #[inline]
    pub fn put_u8(&mut self, b: u8) -> Result<(), Overflow> {
        let slot = self.buf.get_mut(self.len).ok_or(Overflow)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    /// Appends `n` zero bytes and returns their offset, for a later [`Writer::patch`].
    pub fn reserve(&mut self, n: usize) -> Result<usize, Overflow> {
        let at = self.len;
        let end = at.checked_add(n).ok_or(Overflow)?;
        self.buf.get_mut(at..end).ok_or(Overflow)?.fill(0);
        self.len = end;
        Ok(at)
    }

    /// Overwrites already-written bytes at `at`.
    pub fn patch(&mut self, at: usize, bytes: &[u8]) -> Result<(), Overflow> {
        let end = at.checked_add(bytes.len()).ok_or(Overflow)?;
        if end > self.len {
            return Err(Overflow);
        }
        self.buf
            .get_mut(at..end)
            .ok_or(Overflow)?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// Removes `n` written bytes starting at `at`, shifting the rest left.
    pub fn remove(&mut self, at: usize, n: usize) -> Result<(), Overflow> {
        let end = at.checked_add(n).ok_or(Overflow)?;
        if end > self.len {
            return Err(Overflow);
        }
        let written = self.buf.get_mut(..self.len).ok_or(Overflow)?;
        written.copy_within(end.., at);
        self.len -= n;
        Ok(())
    }

    /// Inserts `bytes` at `at` (at most `len()`), shifting what follows right.
    pub fn insert(&mut self, at: usize, bytes: &[u8]) -> Result<(), Overflow> {
        if at > self.len {
            return Err(Overflow);
        }
        let n = bytes.len();
        let new_len = self.len.checked_add(n).ok_or(Overflow)?;
        if new_len > self.buf.len() {
            return Err(Overflow);
        }
        let area = self.buf.get_mut(at..new_len).ok_or(Overflow)?;
        area.copy_within(..area.len() - n, n);
        area.get_mut(..n).ok_or(Overflow)?.copy_from_slice(bytes);
        self.len = new_len;
        Ok(())
    }

    /// Forgets everything after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
        }
    }

    /// The written bytes.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The written bytes, mutable.
    pub fn written_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or(&mut [])
    }

    /// Ends writing, returning the written part of the buffer.
    pub fn into_written(self) -> &'a mut [u8] {
        let len = self.len;
        let buf = self.buf;
        match buf.get_mut(..len) {
            Some(s) => s,
            None => &mut [],
        }
    }
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    #[test]
    fn put_fails_whole_and_keeps_what_was_written() {
        let mut b = [0u8; 4];
        let mut w = Writer::new(&mut b);
        w.put(b"ab").unwrap();
        assert_eq!(w.put(b"cde"), Err(Overflow));
        assert_eq!(w.written(), b"ab");
        w.put(b"cd").unwrap();
        assert_eq!(w.put_u8(1), Err(Overflow));
        assert_eq!(w.remaining(), 0);
    }

    #[test]
    fn reserve_patch_remove_insert() {
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        let at = w.reserve(3).unwrap();
        w.put(b"xyz").unwrap();
        w.patch(at, &[1]).unwrap();
        w.remove(at + 1, 2).unwrap();
        assert_eq!(w.written(), &[1, b'x', b'y', b'z']);
        w.insert(1, b"AB").unwrap();
        assert_eq!(w.written(), &[1, b'A', b'B', b'x', b'y', b'z']);
        assert_eq!(w.insert(0, b"123"), Err(Overflow));
        assert_eq!(w.patch(5, b"12"), Err(Overflow));
        assert_eq!(w.remove(5, 2), Err(Overflow));
        write!(w, "{}", 7).unwrap();
        assert_eq!(w.into_written(), &[1, b'A', b'B', b'x', b'y', b'z', b'7']);
    }
}
