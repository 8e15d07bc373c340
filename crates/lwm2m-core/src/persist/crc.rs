//! CRC-32 as used by zlib, PNG and Ethernet (the CRC-32/ISO-HDLC entry of
//! the "Catalogue of parametrised CRC algorithms": polynomial 0x04C11DB7
//! reflected, initial value and final XOR 0xFFFFFFFF, check value
//! 0xCBF43926 for the ASCII bytes "123456789").
//!
//! Bit by bit and without a table: the state file is a few KiB written once
//! per configuration change, and 1 KiB of table would cost more flash on a
//! microcontroller than the speed is worth.

/// Reflected CRC-32 polynomial.
const POLY: u32 = 0xEDB8_8320;

/// The CRC-32 of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            // Subtract the polynomial when the low bit is set, without a branch.
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (POLY & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn catalogue_check_value_and_known_vectors() {
        // "Catalogue of parametrised CRC algorithms", CRC-32/ISO-HDLC: check.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // zlib.crc32(b"a") == 0xe8b7be43, zlib.crc32(bytes(32)) == 0x190a55ad.
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
        assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
    }
}
