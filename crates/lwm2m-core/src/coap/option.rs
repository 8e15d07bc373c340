//! CoAP options: numbers, the rules that follow from them, and iteration.
//!
//! RFC 7252 §3.1 (encoding), §5.4 (critical, unsafe, repeatable), §5.10 (the
//! table of options and their lengths); RFC 7641 (Observe), RFC 7959 (Block1,
//! Block2, Size2), RFC 7967 (No-Response).

use core::fmt;

/// If-Match (RFC 7252 §5.10.8.1), repeatable, 0–8 bytes.
pub const IF_MATCH: u16 = 1;
/// Uri-Host (§5.10.1), 1–255 bytes.
pub const URI_HOST: u16 = 3;
/// ETag (§5.10.6), 1–8 bytes; repeatable in requests.
pub const ETAG: u16 = 4;
/// If-None-Match (§5.10.8.2), empty.
pub const IF_NONE_MATCH: u16 = 5;
/// Observe (RFC 7641 §2), 0–3 bytes.
pub const OBSERVE: u16 = 6;
/// Uri-Port (§5.10.1), 0–2 bytes.
pub const URI_PORT: u16 = 7;
/// Location-Path (§5.10.7), repeatable, 0–255 bytes.
pub const LOCATION_PATH: u16 = 8;
/// Uri-Path (§5.10.1), repeatable, 0–255 bytes.
pub const URI_PATH: u16 = 11;
/// Content-Format (§5.10.3), 0–2 bytes.
pub const CONTENT_FORMAT: u16 = 12;
/// Max-Age (§5.10.5), 0–4 bytes.
pub const MAX_AGE: u16 = 14;
/// Uri-Query (§5.10.1), repeatable, 0–255 bytes.
pub const URI_QUERY: u16 = 15;
/// Accept (§5.10.4), 0–2 bytes.
pub const ACCEPT: u16 = 17;
/// Location-Query (§5.10.7), repeatable, 0–255 bytes.
pub const LOCATION_QUERY: u16 = 20;
/// Block2 (RFC 7959 §2.1), 0–3 bytes.
pub const BLOCK2: u16 = 23;
/// Block1 (RFC 7959 §2.1), 0–3 bytes.
pub const BLOCK1: u16 = 27;
/// Size2 (RFC 7959 §4), 0–4 bytes.
pub const SIZE2: u16 = 28;
/// Proxy-Uri (§5.10.2), 1–1034 bytes.
pub const PROXY_URI: u16 = 35;
/// Proxy-Scheme (§5.10.2), 1–255 bytes.
pub const PROXY_SCHEME: u16 = 39;
/// Size1 (§5.10.9), 0–4 bytes.
pub const SIZE1: u16 = 60;
/// No-Response (RFC 7967 §2), 0–1 byte.
pub const NO_RESPONSE: u16 = 258;

/// Critical options must be understood by the recipient (RFC 7252 §5.4.1):
/// an odd option number.
pub const fn is_critical(number: u16) -> bool {
    number & 1 == 1
}

/// Unsafe-to-forward options (RFC 7252 §5.4.2).
pub const fn is_unsafe(number: u16) -> bool {
    number & 2 == 2
}

/// NoCacheKey options (RFC 7252 §5.4.2).
pub const fn is_no_cache_key(number: u16) -> bool {
    number & 0x1e == 0x1c
}

/// What this implementation knows of an option: the allowed value lengths
/// and whether it may appear more than once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionDef {
    /// Smallest allowed value length.
    pub min_len: u16,
    /// Largest allowed value length.
    pub max_len: u16,
    /// Whether the option may be repeated.
    pub repeatable: bool,
}

const fn def(min_len: u16, max_len: u16, repeatable: bool) -> Option<OptionDef> {
    Some(OptionDef {
        min_len,
        max_len,
        repeatable,
    })
}

/// The options this implementation recognizes, with their format
/// (RFC 7252 Table 4, RFC 7641 §2, RFC 7959 §2.1 and §4, RFC 7967 §2).
///
/// An option absent here is "unrecognized" in the sense of RFC 7252 §5.4.1.
pub const fn known(number: u16) -> Option<OptionDef> {
    match number {
        IF_MATCH => def(0, 8, true),
        URI_HOST => def(1, 255, false),
        ETAG => def(1, 8, true),
        IF_NONE_MATCH => def(0, 0, false),
        OBSERVE => def(0, 3, false),
        URI_PORT => def(0, 2, false),
        LOCATION_PATH => def(0, 255, true),
        URI_PATH => def(0, 255, true),
        CONTENT_FORMAT => def(0, 2, false),
        MAX_AGE => def(0, 4, false),
        URI_QUERY => def(0, 255, true),
        ACCEPT => def(0, 2, false),
        LOCATION_QUERY => def(0, 255, true),
        BLOCK2 => def(0, 3, false),
        BLOCK1 => def(0, 3, false),
        SIZE2 => def(0, 4, false),
        PROXY_URI => def(1, 1034, false),
        PROXY_SCHEME => def(1, 255, false),
        SIZE1 => def(0, 4, false),
        NO_RESPONSE => def(0, 1, false),
        _ => None,
    }
}

/// A human name for an option number, for logs.
pub const fn name(number: u16) -> &'static str {
    match number {
        IF_MATCH => "If-Match",
        URI_HOST => "Uri-Host",
        ETAG => "ETag",
        IF_NONE_MATCH => "If-None-Match",
        OBSERVE => "Observe",
        URI_PORT => "Uri-Port",
        LOCATION_PATH => "Location-Path",
        URI_PATH => "Uri-Path",
        CONTENT_FORMAT => "Content-Format",
        MAX_AGE => "Max-Age",
        URI_QUERY => "Uri-Query",
        ACCEPT => "Accept",
        LOCATION_QUERY => "Location-Query",
        BLOCK2 => "Block2",
        BLOCK1 => "Block1",
        SIZE2 => "Size2",
        PROXY_URI => "Proxy-Uri",
        PROXY_SCHEME => "Proxy-Scheme",
        SIZE1 => "Size1",
        NO_RESPONSE => "No-Response",
        _ => "unknown",
    }
}

/// Decodes an unsigned-integer option value (RFC 7252 §3.2: big-endian, leading
/// zero bytes allowed, empty is 0). `None` if longer than 4 bytes.
pub fn decode_uint(value: &[u8]) -> Option<u32> {
    if value.len() > 4 {
        return None;
    }
    Some(value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// Encodes `v` as the shortest unsigned-integer option value; returns the
/// buffer and the number of bytes used (0 for the value 0).
pub fn encode_uint(v: u32) -> ([u8; 4], usize) {
    let bytes = v.to_be_bytes();
    let len = 4 - (v.leading_zeros() / 8) as usize;
    let mut out = [0u8; 4];
    if let (Some(dst), Some(src)) = (out.get_mut(..len), bytes.get(4 - len..)) {
        dst.copy_from_slice(src);
    }
    (out, len)
}

/// A structural error in the option area (RFC 7252 §3.1 "message format error").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// Delta or length nibble 15 outside the payload marker.
    ReservedNibble,
    /// The option header or value runs past the end of the datagram.
    Truncated,
    /// The option number exceeds 65535.
    NumberOverflow,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptionError::ReservedNibble => "reserved option nibble 15",
            OptionError::Truncated => "option runs past the end of the message",
            OptionError::NumberOverflow => "option number above 65535",
        })
    }
}

/// One option of a message: its number and its raw value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoapOption<'a> {
    /// The option number.
    pub number: u16,
    /// The value bytes, borrowed from the datagram.
    pub value: &'a [u8],
}

/// Reads the extended delta / length that follows a nibble (RFC 7252 §3.1).
#[inline]
fn extended(nibble: u8, bytes: &[u8], pos: &mut usize) -> Result<u32, OptionError> {
    match nibble {
        0..=12 => Ok(u32::from(nibble)),
        13 => {
            let b = *bytes.get(*pos).ok_or(OptionError::Truncated)?;
            *pos += 1;
            Ok(u32::from(b) + 13)
        }
        14 => {
            let hi = *bytes.get(*pos).ok_or(OptionError::Truncated)?;
            let lo = *bytes.get(*pos + 1).ok_or(OptionError::Truncated)?;
            *pos += 2;
            Ok(u32::from(u16::from_be_bytes([hi, lo])) + 269)
        }
        _ => Err(OptionError::ReservedNibble),
    }
}

/// Decodes one option starting at `bytes[*pos]` given the previous option
/// number; `Ok(None)` at the end of the option area (end of data or payload
/// marker, which is left unconsumed).
#[inline]
pub(crate) fn next_option<'a>(
    bytes: &'a [u8],
    pos: &mut usize,
    prev: u16,
) -> Result<Option<CoapOption<'a>>, OptionError> {
    let Some(&first) = bytes.get(*pos) else {
        return Ok(None);
    };
    if first == 0xff {
        return Ok(None);
    }
    let mut p = *pos + 1;
    let delta = extended(first >> 4, bytes, &mut p)?;
    let len = extended(first & 0x0f, bytes, &mut p)? as usize;
    let number = u32::from(prev) + delta;
    let number = u16::try_from(number).map_err(|_| OptionError::NumberOverflow)?;
    let end = p.checked_add(len).ok_or(OptionError::Truncated)?;
    let value = bytes.get(p..end).ok_or(OptionError::Truncated)?;
    *pos = end;
    Ok(Some(CoapOption { number, value }))
}

/// Iterates over the options of an already validated option area.
///
/// Built by [`crate::coap::Message::options`]; the area was checked when the
/// message was parsed, so iteration cannot fail.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    bytes: &'a [u8],
    pos: usize,
    prev: u16,
}

impl<'a> Options<'a> {
    /// Iterates over `area`, which must hold options only (no payload marker
    /// needed); stops at the first malformed option.
    pub(crate) fn new(area: &'a [u8]) -> Self {
        Options {
            bytes: area,
            pos: 0,
            prev: 0,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = CoapOption<'a>;

    #[inline]
    fn next(&mut self) -> Option<CoapOption<'a>> {
        match next_option(self.bytes, &mut self.pos, self.prev) {
            Ok(Some(opt)) => {
                self.prev = opt.number;
                Some(opt)
            }
            _ => None,
        }
    }
}

/// Writes the option header for `number` (after `prev`) with a value of
/// `len` bytes into `out`; returns the header length. `None` if `number < prev`
/// or `len` exceeds 65804.
#[inline]
pub(crate) fn encode_header(
    prev: u16,
    number: u16,
    len: usize,
    out: &mut [u8; 5],
) -> Option<usize> {
    let delta = number.checked_sub(prev)?;
    let (dn, dext, dlen) = nibble(u32::from(delta))?;
    let (ln, lext, llen) = nibble(u32::try_from(len).ok()?)?;
    *out.get_mut(0)? = (dn << 4) | ln;
    // Byte by byte: a memcpy call for 0-2 bytes costs more than the copy.
    let mut n = 1;
    for b in dext.iter().take(dlen).chain(lext.iter().take(llen)) {
        *out.get_mut(n)? = *b;
        n += 1;
    }
    Some(n)
}

#[inline]
fn nibble(v: u32) -> Option<(u8, [u8; 2], usize)> {
    match v {
        0..=12 => Some((v as u8, [0, 0], 0)),
        13..=268 => Some((13, [(v - 13) as u8, 0], 1)),
        269..=65804 => Some((14, ((v - 269) as u16).to_be_bytes(), 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_rfc7252_table_4() {
        // Table 4: C = critical, U = unsafe, N = NoCacheKey.
        assert!(is_critical(IF_MATCH) && !is_unsafe(IF_MATCH));
        assert!(is_critical(URI_HOST) && is_unsafe(URI_HOST));
        assert!(!is_critical(ETAG));
        assert!(!is_critical(MAX_AGE) && is_unsafe(MAX_AGE));
        assert!(is_critical(URI_PATH) && is_unsafe(URI_PATH));
        assert!(!is_critical(OBSERVE));
        assert!(is_critical(BLOCK1) && is_critical(BLOCK2));
        assert!(!is_critical(SIZE1) && is_no_cache_key(SIZE1));
        assert!(!is_critical(SIZE2));
        assert!(!is_no_cache_key(URI_PATH));
    }

    #[test]
    fn uint_roundtrip_is_minimal() {
        for (v, len) in [
            (0u32, 0usize),
            (1, 1),
            (255, 1),
            (256, 2),
            (65536, 3),
            (u32::MAX, 4),
        ] {
            let (b, l) = encode_uint(v);
            assert_eq!(l, len, "{v}");
            assert_eq!(decode_uint(&b[..l]), Some(v));
        }
        assert_eq!(decode_uint(&[0, 0, 0, 0, 1]), None);
        assert_eq!(decode_uint(&[0, 1]), Some(1));
    }

    #[test]
    fn header_extended_forms() {
        let mut out = [0u8; 5];
        // RFC 7252 §3.1: delta 13..268 uses one extra byte, 269.. two.
        assert_eq!(encode_header(0, 11, 3, &mut out), Some(1));
        assert_eq!(out[0], 0xb3);
        assert_eq!(encode_header(0, 60, 0, &mut out), Some(2));
        assert_eq!(&out[..2], &[0xd0, 47]);
        assert_eq!(encode_header(0, 2048, 300, &mut out), Some(5));
        assert_eq!(&out[..5], &[0xee, 0x06, 0xf3, 0x00, 0x1f]);
        assert_eq!(encode_header(12, 11, 0, &mut out), None);
    }

    #[test]
    fn decode_rejects_reserved_nibbles_and_truncation() {
        let mut pos = 0;
        assert_eq!(
            next_option(&[0xf0], &mut pos, 0),
            Err(OptionError::ReservedNibble)
        );
        pos = 0;
        assert_eq!(
            next_option(&[0x1f], &mut pos, 0),
            Err(OptionError::ReservedNibble)
        );
        pos = 0;
        assert_eq!(
            next_option(&[0x13, 1], &mut pos, 0),
            Err(OptionError::Truncated)
        );
        pos = 0;
        assert_eq!(
            next_option(&[0xd0], &mut pos, 0),
            Err(OptionError::Truncated)
        );
        pos = 0;
        assert_eq!(
            next_option(&[0xe0, 0xff, 0xff], &mut pos, 65000),
            Err(OptionError::NumberOverflow)
        );
    }
}
