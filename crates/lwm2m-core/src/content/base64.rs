//! Base64 (RFC 4648 §4, standard alphabet, padded), the Plain Text form of
//! an Opaque value (OMA-TS-LightweightM2M_Core 1.1 §7.4.1).
//!
//! Encoding writes straight into the output buffer; decoding allocates the
//! decoded bytes, bounded by the caller's limit.

use alloc::vec::Vec;

use crate::buf::{Overflow, Writer};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn sym(i: u32) -> u8 {
    ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'=')
}

/// Writes `data` as padded base64.
pub(crate) fn encode(w: &mut Writer<'_>, data: &[u8]) -> Result<(), Overflow> {
    let out_len = data.len().div_ceil(3).checked_mul(4).ok_or(Overflow)?;
    if out_len > w.remaining() {
        return Err(Overflow);
    }
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let quad = [
            sym(n >> 18),
            sym(n >> 12),
            if chunk.len() > 1 { sym(n >> 6) } else { b'=' },
            if chunk.len() > 2 { sym(n) } else { b'=' },
        ];
        w.put(&quad)?;
    }
    Ok(())
}

/// Why base64 text does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// Not base64.
    Invalid,
    /// Decodes to more than the limit.
    TooLong,
}

fn value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes padded base64; unpadded input is accepted too (some peers drop
/// the padding), but bits left over in the last symbol must be zero so
/// every byte string has exactly one accepted text form per padding choice.
pub(crate) fn decode(text: &[u8], max_len: usize) -> Result<Vec<u8>, Base64Error> {
    let body = match text {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] if text.len().is_multiple_of(4) => rest,
        _ => text,
    };
    if body.len() % 4 == 1 {
        return Err(Base64Error::Invalid);
    }
    let out_len = body.len() / 4 * 3 + (body.len() % 4).saturating_sub(1);
    if out_len > max_len {
        return Err(Base64Error::TooLong);
    }
    let mut out = Vec::with_capacity(out_len);
    for chunk in body.chunks(4) {
        let mut n: u32 = 0;
        for &c in chunk {
            n = (n << 6) | value(c).ok_or(Base64Error::Invalid)?;
        }
        let bits = chunk.len() * 6;
        let bytes = bits / 8;
        let spare = bits % 8;
        if n & ((1 << spare) - 1) != 0 {
            return Err(Base64Error::Invalid);
        }
        n >>= spare;
        for i in (0..bytes).rev() {
            out.push((n >> (8 * i)) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_section10() {
        for (plain, coded) in VECTORS {
            let mut buf = [0u8; 16];
            let mut w = Writer::new(&mut buf);
            encode(&mut w, plain.as_bytes()).unwrap();
            assert_eq!(w.written(), coded.as_bytes());
            assert_eq!(decode(coded.as_bytes(), 64).unwrap(), plain.as_bytes());
            let unpadded = coded.trim_end_matches('=');
            assert_eq!(decode(unpadded.as_bytes(), 64).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn rejects_garbage_and_limits() {
        assert_eq!(decode(b"Zg=", 64), Err(Base64Error::Invalid));
        assert_eq!(decode(b"Z", 64), Err(Base64Error::Invalid));
        assert_eq!(decode(b"Zh==", 64), Err(Base64Error::Invalid));
        assert_eq!(decode(b"Zm9v!A==", 64), Err(Base64Error::Invalid));
        assert_eq!(decode(b"Zm9vYmFy", 5), Err(Base64Error::TooLong));
        let mut buf = [0u8; 3];
        assert_eq!(encode(&mut Writer::new(&mut buf), b"f"), Err(Overflow));
    }
}
