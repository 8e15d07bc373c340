//! Message-ID de-duplication for one peer (RFC 7252 §4.5).
//!
//! Every Confirmable or Non-confirmable message received from the peer is
//! remembered by its message ID for EXCHANGE_LIFETIME (NON_LIFETIME for a
//! Non-confirmable one). A repeated message is not processed again; the
//! response (or ACK) sent the first time is replayed byte for byte.
//!
//! The cache doubles as the store of those responses: the endpoint writes a
//! response straight into the entry's buffer, and the transmit queue refers to
//! the entry. Buffers are allocated on first use up to the configured message
//! size and then reused, so the steady state allocates nothing. The number of
//! entries is bounded; when every entry is live the oldest is evicted and the
//! caller is told ([`Insert::EvictedOldest`]).

use alloc::vec::Vec;

use crate::time::Instant;

/// What the cache holds for a message ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not seen within its lifetime: process it.
    New,
    /// Seen, but no response is stored yet (the upper layer is still
    /// working on it): ignore the duplicate.
    InProgress,
    /// Seen and answered: replay the stored bytes of entry `slot`.
    Replay(usize),
}

/// The outcome of remembering a new message ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// Stored in a free or expired entry.
    Stored(usize),
    /// Every entry was live: the oldest (message ID `evicted`) was dropped to
    /// make room. A duplicate of that message would now be processed again.
    EvictedOldest {
        /// The entry now holding the new message ID.
        slot: usize,
        /// The message ID that was forgotten.
        evicted: u16,
    },
}

impl Insert {
    /// The entry holding the new message ID.
    pub fn slot(self) -> usize {
        match self {
            Insert::Stored(s) | Insert::EvictedOldest { slot: s, .. } => s,
        }
    }
}

#[derive(Debug)]
struct Entry {
    mid: u16,
    expires: Instant,
    /// Insertion order, for "evict the oldest".
    age: u64,
    /// Bytes of the stored response; empty while none is stored.
    buf: Vec<u8>,
    len: usize,
}

/// The bounded de-duplication cache of one peer.
#[derive(Debug)]
pub struct DedupCache {
    entries: Vec<Entry>,
    max_entries: usize,
    max_len: usize,
    clock: u64,
    /// Once every entry is taken, entries are reused in a ring from here:
    /// the entry at the cursor is the one filled longest ago, so a busy peer
    /// costs a constant time per message instead of a scan for the oldest.
    cursor: usize,
}

impl DedupCache {
    /// A cache of at most `max_entries` (at least 1) entries, each able to
    /// hold a response of `max_len` bytes.
    pub fn new(max_entries: usize, max_len: usize) -> DedupCache {
        DedupCache {
            entries: Vec::new(),
            max_entries: max_entries.max(1),
            max_len,
            clock: 0,
            cursor: 0,
        }
    }

    fn find(&self, now: Instant, mid: u16) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.mid == mid && e.expires > now)
    }

    /// Looks `mid` up.
    pub fn check(&self, now: Instant, mid: u16) -> Seen {
        match self.find(now, mid) {
            None => Seen::New,
            Some(i) => match self.entries.get(i) {
                Some(e) if e.len > 0 => Seen::Replay(i),
                _ => Seen::InProgress,
            },
        }
    }

    /// Remembers `mid` until `expires`, with no response yet.
    pub fn insert(&mut self, now: Instant, mid: u16, expires: Instant) -> Insert {
        self.clock += 1;
        let age = self.clock;
        let (slot, evicted) = if self.entries.len() < self.max_entries {
            match self.entries.iter().position(|e| e.expires <= now) {
                Some(i) => (i, None),
                None => {
                    self.entries.push(Entry {
                        mid,
                        expires,
                        age,
                        buf: Vec::new(),
                        len: 0,
                    });
                    (self.entries.len() - 1, None)
                }
            }
        } else {
            let i = self.cursor % self.entries.len().max(1);
            self.cursor = (i + 1) % self.entries.len().max(1);
            let live = self.entries.get(i).filter(|e| e.expires > now);
            (i, live.map(|e| e.mid))
        };
        if let Some(e) = self.entries.get_mut(slot) {
            e.mid = mid;
            e.expires = expires;
            e.age = age;
            e.len = 0;
        }
        match evicted {
            None => Insert::Stored(slot),
            Some(evicted) => Insert::EvictedOldest { slot, evicted },
        }
    }

    /// The message ID an entry was stored for.
    pub fn mid(&self, slot: usize) -> Option<u16> {
        self.entries.get(slot).map(|e| e.mid)
    }

    /// The entry of a live `mid`, whether answered or not.
    pub fn slot_of(&self, now: Instant, mid: u16) -> Option<usize> {
        self.find(now, mid)
    }

    /// The entry's response buffer, emptied and sized to the message limit,
    /// to write a response into; commit it with [`DedupCache::set_len`].
    pub fn buffer(&mut self, slot: usize) -> Option<&mut [u8]> {
        let max_len = self.max_len;
        let e = self.entries.get_mut(slot)?;
        e.len = 0;
        if e.buf.len() != max_len {
            // Allocated once per entry (bounded by max_entries * max_len).
            e.buf.resize(max_len, 0);
        }
        Some(e.buf.as_mut_slice())
    }

    /// The entry's whole buffer, as last written.
    pub fn buffer_ref(&self, slot: usize) -> Option<&[u8]> {
        self.entries.get(slot).map(|e| e.buf.as_slice())
    }

    /// Records that the first `len` bytes of the entry's buffer are its
    /// response.
    pub fn set_len(&mut self, slot: usize, len: usize) {
        if let Some(e) = self.entries.get_mut(slot) {
            e.len = len.min(e.buf.len());
        }
    }

    /// Stores `bytes` as the entry's response (for short ones such as an
    /// empty ACK); false if they do not fit.
    pub fn store(&mut self, slot: usize, bytes: &[u8]) -> bool {
        let Some(buf) = self.buffer(slot) else {
            return false;
        };
        let Some(dst) = buf.get_mut(..bytes.len()) else {
            return false;
        };
        dst.copy_from_slice(bytes);
        self.set_len(slot, bytes.len());
        true
    }

    /// The stored response of an entry (empty if none).
    pub fn response(&self, slot: usize) -> &[u8] {
        self.entries
            .get(slot)
            .and_then(|e| e.buf.get(..e.len))
            .unwrap_or(&[])
    }

    /// Live entries at `now`.
    pub fn live(&self, now: Instant) -> usize {
        self.entries.iter().filter(|e| e.expires > now).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1);
    const LATER: Instant = Instant::from_secs(100);

    #[test]
    fn replays_until_expiry() {
        let mut c = DedupCache::new(4, 32);
        assert_eq!(c.check(T0, 7), Seen::New);
        let slot = c.insert(T0, 7, LATER).slot();
        assert_eq!(c.check(T0, 7), Seen::InProgress);
        assert!(c.store(slot, &[0x60, 0x45, 0, 7]));
        assert_eq!(c.check(T0, 7), Seen::Replay(slot));
        assert_eq!(c.response(slot), &[0x60, 0x45, 0, 7]);
        // At the lifetime's end the ID is new again.
        assert_eq!(c.check(LATER, 7), Seen::New);
    }

    #[test]
    fn full_cache_evicts_the_oldest_and_says_so() {
        let mut c = DedupCache::new(2, 8);
        assert_eq!(c.insert(T0, 1, LATER), Insert::Stored(0));
        assert_eq!(c.insert(T0, 2, LATER), Insert::Stored(1));
        assert_eq!(
            c.insert(T0, 3, LATER),
            Insert::EvictedOldest {
                slot: 0,
                evicted: 1
            }
        );
        assert_eq!(c.check(T0, 1), Seen::New);
        assert_eq!(c.check(T0, 2), Seen::InProgress);
        // An expired entry is reused without eviction.
        let soon = Instant::from_secs(2);
        let mut c = DedupCache::new(1, 8);
        c.insert(T0, 1, soon);
        assert_eq!(c.insert(soon, 2, LATER), Insert::Stored(0));
        assert_eq!(c.live(soon), 1);
    }

    #[test]
    fn buffers_are_reused_and_bounded() {
        let mut c = DedupCache::new(1, 8);
        let s = c.insert(T0, 1, LATER).slot();
        assert!(!c.store(s, &[0; 9]));
        assert!(c.store(s, &[1; 8]));
        let p = c.response(s).as_ptr();
        let s = c.insert(LATER, 2, Instant::from_secs(200)).slot();
        assert!(c.store(s, &[2; 4]));
        assert_eq!(c.response(s).as_ptr(), p);
        assert_eq!(c.mid(s), Some(2));
    }
}
