//! Server-role Block1 reassembly (RFC 7959 §2.3, §2.5, §2.9).
//!
//! A transfer is identified by the request's fingerprint
//! ([`super::block::request_key`], RFC 7959 §2.4). Blocks must arrive in
//! order: each block's byte offset (NUM × size) must equal the bytes received
//! so far, which also accepts a client that switches to the smaller block
//! size the server asked for (early negotiation, §2.5 Figure 6). Block 0
//! always (re)starts the transfer.
//!
//! Two modes: [`Block1Mode::Assemble`] buffers the body up to a configured
//! limit (beyond it: [`Block1Error::TooLarge`], answered 4.13 with Size1), and
//! [`Block1Mode::Stream`] hands each block's bytes to the caller as they
//! arrive (the firmware-package case) without buffering. The number of
//! concurrent transfers is bounded; the oldest is abandoned for a new one,
//! and abandoned or expired transfers are reported so that a streaming
//! consumer can roll back.

use alloc::vec::Vec;

use super::block::Block;
use crate::time::Instant;

/// How the caller wants the blocks of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block1Mode {
    /// Buffer the body; hand it over when the last block arrives.
    Assemble,
    /// Hand each block over as it arrives.
    Stream,
}

/// Why a block was refused. [`Block1Error::code`] gives the response code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block1Error {
    /// A block other than 0 of an unknown transfer, or at an offset other
    /// than the next expected one (4.08 Request Entity Incomplete, §2.9.2).
    Incomplete,
    /// The body would exceed `limit` bytes (4.13 Request Entity Too Large
    /// with Size1 = limit, §2.9.3).
    TooLarge {
        /// The largest body accepted.
        limit: usize,
    },
    /// A block with M set whose payload is not exactly the block size
    /// (4.00 Bad Request).
    BadBlockSize,
}

/// What a block contributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block1Outcome<'a> {
    /// Stored; more blocks follow. Answer 2.31 Continue.
    Continue,
    /// The last block arrived in [`Block1Mode::Assemble`]: the body (of
    /// `len` bytes) is complete; read it, then send the final response.
    Complete {
        /// Body length.
        len: usize,
    },
    /// [`Block1Mode::Stream`]: this block's bytes at `offset`; answer 2.31
    /// Continue unless `last`.
    Chunk {
        /// Byte offset of `bytes` in the whole body.
        offset: usize,
        /// The block's payload, borrowed from the datagram.
        bytes: &'a [u8],
        /// Whether this is the last block.
        last: bool,
    },
}

#[derive(Debug)]
struct Transfer {
    key: u64,
    mode: Block1Mode,
    /// Bytes received so far (the next expected offset).
    received: usize,
    body: Vec<u8>,
    expires: Instant,
    age: u64,
    live: bool,
    complete: bool,
}

/// The Block1 transfers in progress with one peer.
#[derive(Debug)]
pub struct Assemblies {
    transfers: Vec<Transfer>,
    max_transfers: usize,
    max_body: usize,
    clock: u64,
}

impl Assemblies {
    /// At most `max_transfers` concurrent transfers, each buffering at most
    /// `max_body` bytes.
    pub fn new(max_transfers: usize, max_body: usize) -> Assemblies {
        Assemblies {
            transfers: Vec::new(),
            max_transfers: max_transfers.max(1),
            max_body,
            clock: 0,
        }
    }

    /// The configured body limit (for Size1).
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    fn find(&self, key: u64) -> Option<usize> {
        self.transfers.iter().position(|t| t.live && t.key == key)
    }

    /// Starts a transfer for `key`, reusing a free slot or abandoning the
    /// oldest; returns the slot and the key of an abandoned transfer.
    fn start(&mut self, key: u64, mode: Block1Mode) -> (usize, Option<u64>) {
        self.clock += 1;
        let (slot, abandoned) = if let Some(i) = self.find(key) {
            (i, None)
        } else if let Some(i) = self.transfers.iter().position(|t| !t.live) {
            (i, None)
        } else if self.transfers.len() < self.max_transfers {
            self.transfers.push(Transfer {
                key,
                mode,
                received: 0,
                body: Vec::new(),
                expires: Instant::ZERO,
                age: 0,
                live: false,
                complete: false,
            });
            (self.transfers.len() - 1, None)
        } else {
            let i = self
                .transfers
                .iter()
                .enumerate()
                .min_by_key(|(_, t)| t.age)
                .map_or(0, |(i, _)| i);
            (i, self.transfers.get(i).map(|t| t.key))
        };
        if let Some(t) = self.transfers.get_mut(slot) {
            t.key = key;
            t.mode = mode;
            t.received = 0;
            t.body.clear();
            t.age = self.clock;
            t.live = true;
            t.complete = false;
        }
        (slot, abandoned)
    }

    /// Takes one block of the request `key`. `size1` is the request's Size1
    /// (the client's announcement of the total size, §4), checked against the
    /// limit up front. The second value is the key of a transfer abandoned
    /// to make room.
    pub fn push<'a>(
        &mut self,
        expires: Instant,
        key: u64,
        block: Block,
        size1: Option<u32>,
        payload: &'a [u8],
        mode: Block1Mode,
    ) -> (Result<Block1Outcome<'a>, Block1Error>, Option<u64>) {
        let limit = self.max_body;
        let too_large = |n: usize| mode == Block1Mode::Assemble && n > limit;
        if block.more && payload.len() != block.size() {
            return (Err(Block1Error::BadBlockSize), None);
        }
        if size1.is_some_and(|s| too_large(s as usize)) {
            let t = self.find(key);
            self.drop_slot(t);
            return (Err(Block1Error::TooLarge { limit }), None);
        }
        let (slot, abandoned) = if block.num == 0 {
            self.start(key, mode)
        } else {
            match self.find(key) {
                Some(i) => (i, None),
                None => return (Err(Block1Error::Incomplete), None),
            }
        };
        let Some(t) = self.transfers.get_mut(slot) else {
            return (Err(Block1Error::Incomplete), abandoned);
        };
        if t.complete || block.offset() != t.received || t.mode != mode {
            t.live = false;
            return (Err(Block1Error::Incomplete), abandoned);
        }
        let end = t.received.saturating_add(payload.len());
        if too_large(end) {
            t.live = false;
            return (Err(Block1Error::TooLarge { limit }), abandoned);
        }
        let offset = t.received;
        t.received = end;
        t.expires = expires;
        t.complete = !block.more;
        let outcome = match mode {
            Block1Mode::Assemble => {
                t.body.extend_from_slice(payload);
                if block.more {
                    Block1Outcome::Continue
                } else {
                    Block1Outcome::Complete { len: end }
                }
            }
            Block1Mode::Stream => {
                if !block.more {
                    t.live = false;
                }
                Block1Outcome::Chunk {
                    offset,
                    bytes: payload,
                    last: !block.more,
                }
            }
        };
        (Ok(outcome), abandoned)
    }

    fn drop_slot(&mut self, slot: Option<usize>) {
        if let Some(t) = slot.and_then(|i| self.transfers.get_mut(i)) {
            t.live = false;
        }
    }

    /// The assembled body of a completed transfer.
    pub fn body(&self, key: u64) -> Option<&[u8]> {
        let t = self.transfers.get(self.find(key)?)?;
        t.complete.then_some(t.body.as_slice())
    }

    /// Forgets the transfer of `key` (its buffer is kept for reuse).
    pub fn release(&mut self, key: u64) {
        let t = self.find(key);
        self.drop_slot(t);
    }

    /// Drops transfers idle past their expiry; calls `abandoned` with the key
    /// of each unfinished one. Call before [`Assemblies::push`] so that an
    /// expired transfer is reported rather than continued.
    pub fn expire_with(&mut self, now: Instant, mut abandoned: impl FnMut(u64)) {
        for t in &mut self.transfers {
            if t.live && t.expires <= now {
                t.live = false;
                if !t.complete {
                    abandoned(t.key);
                }
            }
        }
    }

    /// The expiry of the unfinished transfer `key`, if one is open at `now`.
    pub fn open_until(&self, now: Instant, key: u64) -> Option<Instant> {
        let t = self.transfers.get(self.find(key)?)?;
        (!t.complete && t.expires > now).then_some(t.expires)
    }

    /// The earliest expiry of a live, unfinished transfer.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.transfers
            .iter()
            .filter(|t| t.live && !t.complete)
            .map(|t| t.expires)
            .min()
    }
}

#[cfg(test)]
#[path = "assembly_tests.rs"]
mod tests;
