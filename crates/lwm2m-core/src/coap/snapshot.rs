//! Server-role Block2 snapshots (RFC 7959 §2.4, §2.6; SPEC §1 guarantee 4).
//!
//! A response body too large for one message (or larger than the block size
//! the client asked for) is rendered once into a snapshot: the response code,
//! the caller's options and the body, tagged with an ETag. Every later block
//! of the same request (same [`super::block::request_key`]) is cut from the
//! snapshot, so the client reassembles one consistent representation even if
//! the resource changes meanwhile.
//!
//! Snapshots are bounded in number and each in bytes; a new one evicts the
//! oldest when all are taken, and each expires after a period without use.
//! A later block whose snapshot is gone is handed to the caller to render
//! again; it then gets a new ETag, which tells the client to start over
//! (§2.4).

use alloc::vec::Vec;

use super::block::Block;
use super::msg::Code;
use crate::time::Instant;

/// An ETag of a snapshot (4 bytes suffice to tell renderings apart).
pub type ETag = [u8; 4];

#[derive(Debug)]
struct Snapshot {
    key: u64,
    etag: ETag,
    code: Code,
    content_format: Option<u16>,
    /// The caller's options, encoded from option number 0.
    options: Vec<u8>,
    body: Vec<u8>,
    body_len: usize,
    expires: Instant,
    age: u64,
    live: bool,
}

/// One block cut from a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut<'s> {
    /// The Block2 value for the response (M set unless it is the last).
    pub block: Block,
    /// The block's bytes.
    pub bytes: &'s [u8],
    /// The whole body's length (Size2, RFC 7959 §4).
    pub total: usize,
}

/// The snapshots kept for one peer.
#[derive(Debug)]
pub struct Snapshots {
    snaps: Vec<Snapshot>,
    max_count: usize,
    max_bytes: usize,
    clock: u64,
}

impl Snapshots {
    /// At most `max_count` snapshots of at most `max_bytes` each (0 disables
    /// block-wise responses).
    pub fn new(max_count: usize, max_bytes: usize) -> Snapshots {
        Snapshots {
            snaps: Vec::new(),
            max_count,
            max_bytes,
            clock: 0,
        }
    }

    /// The largest body a snapshot holds.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The live snapshot of `key` at `now`.
    pub fn find(&self, now: Instant, key: u64) -> Option<usize> {
        self.snaps
            .iter()
            .position(|s| s.live && s.key == key && s.expires > now)
    }

    /// The expiry of the live snapshot of `key` at `now` (it is released
    /// once its last block has been served).
    pub fn open_until(&self, now: Instant, key: u64) -> Option<Instant> {
        let s = self.snaps.get(self.find(now, key)?)?;
        Some(s.expires)
    }

    /// Takes a slot for a new snapshot (a free or expired one, or the oldest);
    /// `None` when snapshots are disabled. The slot's body buffer is sized to
    /// the limit on first use and reused afterwards; fill it through
    /// [`Snapshots::body_mut`] and [`Snapshots::options_mut`] and finish with
    /// [`Snapshots::commit`].
    pub fn take(&mut self, now: Instant) -> Option<usize> {
        if self.max_count == 0 {
            return None;
        }
        let slot = if let Some(i) = self.snaps.iter().position(|s| !s.live || s.expires <= now) {
            i
        } else if self.snaps.len() < self.max_count {
            self.snaps.push(Snapshot {
                key: 0,
                etag: [0; 4],
                code: Code::EMPTY,
                content_format: None,
                options: Vec::new(),
                body: Vec::new(),
                body_len: 0,
                expires: Instant::ZERO,
                age: 0,
                live: false,
            });
            self.snaps.len() - 1
        } else {
            self.snaps
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.age)
                .map_or(0, |(i, _)| i)
        };
        let max = self.max_bytes;
        let s = self.snaps.get_mut(slot)?;
        s.live = false;
        s.body_len = 0;
        s.options.clear();
        if s.body.len() != max {
            s.body.resize(max, 0);
        }
        Some(slot)
    }

    /// The body buffer of a slot being filled.
    pub fn body_mut(&mut self, slot: usize) -> Option<&mut [u8]> {
        self.snaps.get_mut(slot).map(|s| s.body.as_mut_slice())
    }

    /// The option bytes of a slot being filled (encoded from number 0).
    pub fn options_mut(&mut self, slot: usize) -> Option<&mut Vec<u8>> {
        self.snaps.get_mut(slot).map(|s| &mut s.options)
    }

    /// Makes a filled slot live.
    #[allow(clippy::too_many_arguments)]
    pub fn commit(
        &mut self,
        slot: usize,
        key: u64,
        etag: ETag,
        code: Code,
        content_format: Option<u16>,
        body_len: usize,
        expires: Instant,
    ) {
        self.clock += 1;
        let age = self.clock;
        if let Some(s) = self.snaps.get_mut(slot) {
            s.key = key;
            s.etag = etag;
            s.code = code;
            s.content_format = content_format;
            s.body_len = body_len.min(s.body.len());
            s.expires = expires;
            s.age = age;
            s.live = true;
        }
    }

    /// Refreshes a snapshot's expiry (it is in use).
    pub fn touch(&mut self, slot: usize, expires: Instant) {
        if let Some(s) = self.snaps.get_mut(slot) {
            s.expires = expires;
        }
    }

    /// Cuts block `num` of size `szx` from a snapshot; `None` if the block
    /// starts past the end (or the slot is gone).
    pub fn cut(&self, slot: usize, num: u32, szx: u8) -> Option<Cut<'_>> {
        let s = self.snaps.get(slot)?;
        let want = Block {
            num,
            more: false,
            szx,
        };
        let start = want.offset();
        if start > s.body_len || (start == s.body_len && start != 0) {
            return None;
        }
        let end = start.saturating_add(want.size()).min(s.body_len);
        Some(Cut {
            block: Block {
                more: end < s.body_len,
                ..want
            },
            bytes: s.body.get(start..end)?,
            total: s.body_len,
        })
    }

    /// The response code, content format, ETag and option bytes of a
    /// snapshot.
    pub fn head(&self, slot: usize) -> Option<(Code, Option<u16>, ETag, &[u8])> {
        let s = self.snaps.get(slot)?;
        Some((s.code, s.content_format, s.etag, s.options.as_slice()))
    }

    /// Forgets a snapshot (the last block was served).
    pub fn release(&mut self, slot: usize) {
        if let Some(s) = self.snaps.get_mut(slot) {
            s.live = false;
        }
    }

    /// Live snapshots at `now`.
    pub fn live(&self, now: Instant) -> usize {
        self.snaps
            .iter()
            .filter(|s| s.live && s.expires > now)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(s: &mut Snapshots, now: Instant, key: u64, body: &[u8], exp: Instant) -> usize {
        let slot = s.take(now).unwrap();
        s.body_mut(slot).unwrap()[..body.len()].copy_from_slice(body);
        s.commit(
            slot,
            key,
            [1, 2, 3, 4],
            Code::CONTENT,
            Some(0),
            body.len(),
            exp,
        );
        slot
    }

    #[test]
    fn cuts_blocks_at_any_size() {
        let mut s = Snapshots::new(2, 256);
        let body: Vec<u8> = (0..100u8).collect();
        let exp = Instant::from_secs(10);
        let slot = fill(&mut s, Instant::ZERO, 7, &body, exp);
        assert_eq!(s.find(Instant::ZERO, 7), Some(slot));
        let c = s.cut(slot, 1, 1).unwrap(); // 32-byte blocks
        assert_eq!(
            (c.block.num, c.block.more, c.bytes),
            (1, true, &body[32..64])
        );
        let c = s.cut(slot, 3, 1).unwrap();
        assert_eq!((c.block.more, c.bytes, c.total), (false, &body[96..], 100));
        assert_eq!(s.cut(slot, 4, 1), None);
        let c = s.cut(slot, 0, 6).unwrap();
        assert_eq!((c.block.more, c.bytes.len()), (false, 100));
        assert_eq!(s.head(slot).unwrap().2, [1, 2, 3, 4]);
    }

    #[test]
    fn bounded_count_evicts_oldest_and_expiry_hides() {
        let mut s = Snapshots::new(2, 16);
        let e1 = Instant::from_secs(5);
        let e2 = Instant::from_secs(50);
        fill(&mut s, Instant::ZERO, 1, b"a", e1);
        fill(&mut s, Instant::ZERO, 2, b"b", e2);
        fill(&mut s, Instant::ZERO, 3, b"c", e2);
        assert_eq!(s.find(Instant::ZERO, 1), None, "oldest evicted");
        assert!(s.find(Instant::ZERO, 2).is_some());
        assert_eq!(s.find(e2, 2), None, "expired");
        assert_eq!(s.live(Instant::ZERO), 2);
        assert_eq!(Snapshots::new(0, 16).take(Instant::ZERO), None);
    }
}
