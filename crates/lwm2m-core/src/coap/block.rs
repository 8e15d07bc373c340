//! Block-wise transfer values (RFC 7959 §2.2).
//!
//! A Block1 / Block2 option packs NUM (block number), M (more blocks follow)
//! and SZX (block size exponent: size = 2^(SZX+4), 16 to 1024 bytes) into an
//! unsigned integer of at most three bytes.

use core::fmt;

/// One Block1 or Block2 value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    /// Block number, below 2^20.
    pub num: u32,
    /// More blocks follow (M bit).
    pub more: bool,
    /// Size exponent, 0 (16 bytes) to 6 (1024 bytes).
    pub szx: u8,
}

/// A malformed Block option value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// More than three bytes.
    TooLong,
    /// SZX 7 is reserved over UDP (RFC 7959 §2.2: 4.00 Bad Request).
    ReservedSzx,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockError::TooLong => "block option longer than 3 bytes",
            BlockError::ReservedSzx => "block size exponent 7 is reserved",
        })
    }
}

impl Block {
    /// Largest block number representable in three bytes.
    pub const MAX_NUM: u32 = (1 << 20) - 1;

    /// A block of `size` bytes (rounded down to a power of two in 16..=1024).
    pub fn with_size(num: u32, more: bool, size: usize) -> Block {
        Block {
            num,
            more,
            szx: szx_for(size),
        }
    }

    /// Block size in bytes.
    pub const fn size(self) -> usize {
        1 << (self.szx as usize + 4)
    }

    /// Byte offset of this block in the whole body.
    pub const fn offset(self) -> usize {
        self.num as usize * self.size()
    }

    /// Decodes an option value.
    pub fn decode(value: &[u8]) -> Result<Block, BlockError> {
        if value.len() > 3 {
            return Err(BlockError::TooLong);
        }
        let v = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        let szx = (v & 7) as u8;
        if szx == 7 {
            return Err(BlockError::ReservedSzx);
        }
        Ok(Block {
            num: v >> 4,
            more: v & 8 != 0,
            szx,
        })
    }

    /// Encodes as an unsigned integer (emit it with the shortest length).
    pub const fn encode(self) -> u32 {
        ((self.num & Block::MAX_NUM) << 4) | ((self.more as u32) << 3) | (self.szx as u32 & 7)
    }
}

/// The largest SZX whose block size is at most `size` (at least 0, at most 6).
pub fn szx_for(size: usize) -> u8 {
    let mut szx = 0u8;
    while szx < 6 && (1usize << (szx + 5)) <= size {
        szx += 1;
    }
    szx
}

/// The fingerprint of a request that identifies its block-wise transfer
/// (RFC 7959 §2.4): the method and every option except the ones that vary
/// between the blocks of one transfer (Block1, Block2, Size1, Size2), the
/// Observe registration flag and ETag (RFC 7959 §2.6: later blocks of a
/// notification are fetched without Observe) and No-Response. The endpoint
/// is per peer, so the peer is implicit. FNV-1a, 64 bits: not collision-proof
/// against a peer that wants to confuse its own transfers, which is harmless.
pub fn request_key(msg: &super::Message<'_>) -> u64 {
    let mut h = KeyHasher::new(msg.code());
    for opt in msg.options() {
        h.option(opt.number, opt.value);
    }
    h.finish()
}

/// [`request_key`] fed one option at a time, so that a single pass over a
/// request's options can compute it beside other things.
#[derive(Clone, Copy, Debug)]
pub struct KeyHasher(u64);

impl KeyHasher {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// Starts with the request's code.
    pub fn new(code: super::Code) -> KeyHasher {
        let mut h = KeyHasher(0xcbf2_9ce4_8422_2325);
        h.eat(code.0);
        h
    }

    #[inline]
    fn eat(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
    }

    /// Takes one option (ignored if it does not identify the transfer).
    pub fn option(&mut self, number: u16, value: &[u8]) {
        use super::option as o;
        if matches!(
            number,
            o::BLOCK1 | o::BLOCK2 | o::SIZE1 | o::SIZE2 | o::OBSERVE | o::ETAG | o::NO_RESPONSE
        ) {
            return;
        }
        for b in number.to_be_bytes() {
            self.eat(b);
        }
        // Length-prefixed so that ["ab"] and ["a", "b"] differ.
        for b in (value.len() as u16).to_be_bytes() {
            self.eat(b);
        }
        for b in value {
            self.eat(*b);
        }
    }

    /// The key.
    pub fn finish(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_encode_rfc7959_examples() {
        // RFC 7959 §2.2: "a block number of 0 and size 2^(2+4) = 64 with M
        // set" is the one-byte value 0x0a; empty value is NUM=0, M=0, SZX=0.
        assert_eq!(
            Block::decode(&[]),
            Ok(Block {
                num: 0,
                more: false,
                szx: 0
            })
        );
        let b = Block::decode(&[0x0a]).unwrap();
        assert_eq!(
            b,
            Block {
                num: 0,
                more: true,
                szx: 2
            }
        );
        assert_eq!(b.size(), 64);
        // RFC 7959 §3.2 Figure 3: "2:1/0/128" → NUM=1, M=0, SZX=3.
        let b = Block::decode(&[0x13]).unwrap();
        assert_eq!((b.num, b.more, b.size(), b.offset()), (1, false, 128, 128));
        assert_eq!(b.encode(), 0x13);
        assert_eq!(
            Block::decode(&[0xff, 0xff, 0xfe]).unwrap().num,
            Block::MAX_NUM
        );
        assert_eq!(Block::decode(&[0x07]), Err(BlockError::ReservedSzx));
        assert_eq!(Block::decode(&[0, 0, 0, 0]), Err(BlockError::TooLong));
    }

    #[test]
    fn szx_for_rounds_down() {
        assert_eq!(szx_for(0), 0);
        assert_eq!(szx_for(16), 0);
        assert_eq!(szx_for(31), 0);
        assert_eq!(szx_for(32), 1);
        assert_eq!(szx_for(1024), 6);
        assert_eq!(szx_for(1_000_000), 6);
        assert_eq!(Block::with_size(3, true, 100).size(), 64);
    }
}
