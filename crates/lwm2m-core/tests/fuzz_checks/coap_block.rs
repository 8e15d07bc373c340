// Invariant for the Block option decoder (RFC 7959 §2.2), shared by the
// fuzz target `coap_block` and the stable corpus replay test.
//
// Decoding never panics; a decoded value re-encodes to the same number
// (leading zero bytes aside), its size is 16..=1024 and SZX 7 is rejected.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::coap::{Block, BlockError};
    let value = data.iter().take(3).fold(0u32, |a, b| (a << 8) | u32::from(*b));
    match Block::decode(data) {
        Ok(b) => {
            assert!(data.len() <= 3);
            assert_eq!(b.encode(), value, "decode then encode is the identity");
            assert!((16..=1024).contains(&b.size()));
            assert!(b.num <= Block::MAX_NUM);
        }
        Err(BlockError::ReservedSzx) => assert_eq!(value & 7, 7),
        Err(BlockError::TooLong) => assert!(data.len() > 3),
    }
}
