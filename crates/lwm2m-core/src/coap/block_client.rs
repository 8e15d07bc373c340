//! Client-role block-wise helpers (RFC 7959 §2.4, §2.5, §3).
//!
//! [`Block1Sender`] walks a large request body block by block, following the
//! server's 2.31 Continue answers and adopting a smaller block size when the
//! server asks for one. [`Block2Fetcher`] follows a large response: it checks
//! that each block is the expected one, that the ETag stays the same, and
//! that the total stays under a bound. Both are pure state: the caller sends
//! each request through the endpoint and feeds the response back, so a
//! transfer never blocks anything else.

use super::block::Block;
use super::msg::{Code, Message};

/// What to do after a response to one Block1 request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block1Step {
    /// The server took the block: send [`Block1Sender::next_block`].
    SendNext,
    /// The final response arrived (success or not): the transfer is over.
    Done,
}

/// Why a Block1 upload cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block1SendError {
    /// 2.31 Continue without a Block1 option, or for another block number.
    BadContinue,
    /// 4.13: the server takes at most `size1` bytes (if it said).
    TooLarge {
        /// The server's Size1, if present.
        size1: Option<u32>,
    },
}

/// Sends a body of known length with Block1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block1Sender {
    len: usize,
    szx: u8,
    /// Offset of the block in flight (or next to send).
    offset: usize,
}

impl Block1Sender {
    /// Starts sending `len` bytes in blocks of 2^(szx+4) bytes.
    pub fn new(len: usize, szx: u8) -> Block1Sender {
        Block1Sender {
            len,
            szx: szx.min(6),
            offset: 0,
        }
    }

    /// The Block1 value and the byte range of the block to send now.
    pub fn next_block(&self) -> (Block, core::ops::Range<usize>) {
        let size = 1usize << (self.szx + 4);
        let end = self.offset.saturating_add(size).min(self.len);
        let block = Block {
            num: (self.offset / size) as u32,
            more: end < self.len,
            szx: self.szx,
        };
        (block, self.offset..end)
    }

    /// Whether the block in flight is the last.
    pub fn is_last(&self) -> bool {
        !self.next_block().0.more
    }

    /// Takes the response to the block in flight.
    pub fn on_response(&mut self, msg: &Message<'_>) -> Result<Block1Step, Block1SendError> {
        let (sent, range) = self.next_block();
        match msg.code() {
            Code::CONTINUE => {
                let Some(Ok(echo)) = msg.block1() else {
                    return Err(Block1SendError::BadContinue);
                };
                if !sent.more || echo.num != sent.num {
                    return Err(Block1SendError::BadContinue);
                }
                // §2.5: the server may ask for a smaller size for the rest;
                // what it already took stays taken.
                self.offset = range.end;
                if echo.szx < self.szx {
                    self.szx = echo.szx;
                }
                Ok(Block1Step::SendNext)
            }
            Code::REQUEST_ENTITY_TOO_LARGE => Err(Block1SendError::TooLarge { size1: msg.size1() }),
            _ => Ok(Block1Step::Done),
        }
    }
}

/// One piece of a Block2 response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block2Chunk<'a> {
    /// Byte offset of `bytes` in the whole body.
    pub offset: usize,
    /// The piece, borrowed from the response datagram.
    pub bytes: &'a [u8],
    /// Whether more pieces follow (request [`Block2Fetcher::next_block`]).
    pub more: bool,
}

/// Why a Block2 download cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block2FetchError {
    /// The ETag changed: the resource changed mid-transfer; start over.
    EtagChanged,
    /// The body would exceed the configured bound.
    TooLarge,
    /// A block other than the one asked for, or a malformed Block2.
    UnexpectedBlock,
    /// A response that is not 2.xx.
    Failed(Code),
}

/// Fetches a large response with Block2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block2Fetcher {
    szx: u8,
    received: usize,
    max_total: usize,
    etag: Option<([u8; 8], u8)>,
    started: bool,
}

impl Block2Fetcher {
    /// Prefers blocks of 2^(szx+4) bytes (sent as early negotiation, §2.4)
    /// and accepts at most `max_total` bytes.
    pub fn new(szx: u8, max_total: usize) -> Block2Fetcher {
        Block2Fetcher {
            szx: szx.min(6),
            received: 0,
            max_total,
            etag: None,
            started: false,
        }
    }

    /// Continues a download interrupted after `received` bytes (a multiple
    /// of the block size 2^(szx+4)), whose blocks so far carried `etag`: a
    /// different ETag from here on is [`Block2FetchError::EtagChanged`].
    pub fn resume(
        szx: u8,
        max_total: usize,
        received: usize,
        etag: Option<&[u8]>,
    ) -> Block2Fetcher {
        let etag = etag.and_then(|e| {
            let mut v = [0u8; 8];
            v.get_mut(..e.len())?.copy_from_slice(e);
            Some((v, e.len() as u8))
        });
        Block2Fetcher {
            szx: szx.min(6),
            received,
            max_total,
            etag,
            started: received > 0,
        }
    }

    /// The ETag of the blocks received so far.
    pub fn etag(&self) -> Option<&[u8]> {
        self.etag
            .as_ref()
            .and_then(|(b, n)| b.get(..usize::from(*n)))
    }

    /// The Block2 option for the next request.
    pub fn next_block(&self) -> Block {
        let size = 1usize << (self.szx + 4);
        Block {
            num: (self.received / size) as u32,
            more: false,
            szx: self.szx,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Takes one response.
    pub fn on_response<'m>(
        &mut self,
        msg: &Message<'m>,
    ) -> Result<Block2Chunk<'m>, Block2FetchError> {
        if !msg.code().is_success() {
            return Err(Block2FetchError::Failed(msg.code()));
        }
        let payload = msg.payload();
        let block = match msg.block2() {
            None if self.received == 0 => None,
            Some(Ok(b)) => Some(b),
            _ => return Err(Block2FetchError::UnexpectedBlock),
        };
        if let Some(b) = block
            && (b.offset() != self.received || (b.more && payload.len() != b.size()))
        {
            return Err(Block2FetchError::UnexpectedBlock);
        }
        let etag = msg.etag().and_then(|e| {
            let mut v = [0u8; 8];
            v.get_mut(..e.len())?.copy_from_slice(e);
            Some((v, e.len() as u8))
        });
        if self.started && etag != self.etag {
            return Err(Block2FetchError::EtagChanged);
        }
        let end = self.received.saturating_add(payload.len());
        if end > self.max_total {
            return Err(Block2FetchError::TooLarge);
        }
        self.etag = etag;
        self.started = true;
        let offset = self.received;
        self.received = end;
        let more = block.is_some_and(|b| b.more);
        if let Some(b) = block {
            // Follow the server's size if it chose a smaller one (§2.4).
            self.szx = self.szx.min(b.szx);
        }
        Ok(Block2Chunk {
            offset,
            bytes: payload,
            more,
        })
    }
}

#[cfg(test)]
#[path = "block_client_tests.rs"]
mod tests;
