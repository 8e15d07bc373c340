//! Base64 (RFC 4648 §4, standard alphabet, padded), the Plain Text form of
//! an Opaque value (OMA-TS-LightweightM2M_Core 1.1 §7.4.1).
//!
//! Also the JSON flavours (RFC 4648 §5 URL-safe for SenML "vd", RFC 8428
//! §5). Encoding writes straight into the output buffer; decoding allocates the
//! decoded bytes, bounded by the caller's limit.

use alloc::vec::Vec;

use crate::buf::{Overflow, Writer};
use crate::content::EncodeError;

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

// Flavours for JSON strings: SenML "vd" is URL-safe unpadded, LwM2M JSON
// opaque is standard padded; their decoder accepts either alphabet.

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Which base64 flavour to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base64 {
    /// RFC 4648 §5, no padding: SenML "vd" (RFC 8428 §5).
    UrlNoPad,
    /// RFC 4648 §4 with padding: LwM2M JSON opaque "sv" (Core 1.0 §6.4.4).
    StdPadded,
}

/// Writes `data` base64-encoded, without quotes.
pub(crate) fn write_base64(
    w: &mut Writer<'_>,
    data: &[u8],
    kind: Base64,
) -> Result<(), EncodeError> {
    let table = match kind {
        Base64::UrlNoPad => URL,
        Base64::StdPadded => STD,
    };
    let sym = |v: u32| table.get((v & 63) as usize).copied().unwrap_or(b'A');
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let v = (b0 << 16) | (b1 << 8) | b2;
        let out = [sym(v >> 18), sym(v >> 12), sym(v >> 6), sym(v)];
        let keep = chunk.len() + 1;
        w.put(out.get(..keep).unwrap_or(&out))?;
        if kind == Base64::StdPadded {
            w.put(b"==".get(..4 - keep).unwrap_or(&[]))?;
        }
    }
    Ok(())
}

/// Decodes base64 in either alphabet, with or without padding (RFC 4648
/// §4/§5). Non-zero bits left over in the last symbol are tolerated.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    if pad > 2 || (pad > 0 && !s.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
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
