//! CBOR building blocks shared by the CBOR (60) and LwM2M CBOR (11544)
//! codecs: one resource value to and from a CBOR data item (RFC 8949;
//! OMA-TS-LightweightM2M_Core 1.2 §7.4.6 data type mapping), and definite
//! map headers whose item count is patched once the map is complete.
//!
//! Value mapping, both directions:
//!
//! | LwM2M type | encoded as | also accepted when decoding |
//! |---|---|---|
//! | Integer | major 0 / 1 | integral float |
//! | Unsigned Integer | major 0 | integral float |
//! | Float | single precision if lossless, else double | half precision, any integer |
//! | Boolean | simple 20 / 21 | |
//! | String, Corelnk | text string | indefinite-length text |
//! | Opaque | byte string | indefinite-length bytes |
//! | Time | tag 1 + integer (RFC 8949 §3.4.2) | untagged integer, tagged integral float |
//! | Objlnk | text `"oid:iid"` | |
//!
//! Decoders read with `minicbor`, which never recurses and checks every
//! length against the input; a value copied out of indefinite-length chunks
//! is bounded by [`DecodeLimits::max_value_len`].

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use minicbor::data::{Tag, Type};
use minicbor::decode::Decoder;
use minicbor::encode::Encoder;

use super::{DecodeError, DecodeLimits, EncodeError};
use crate::buf::{Overflow, Writer};
use crate::dm::{DataType, Value};

/// RFC 8949 §3.4.2: epoch-based date/time.
const TAG_EPOCH_TIME: u64 = 1;

/// A [`Writer`] as minicbor's output: every write is bounded.
pub(crate) struct Sink<'s, 'b>(pub(crate) &'s mut Writer<'b>);

impl minicbor::encode::Write for Sink<'_, '_> {
    type Error = Overflow;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Overflow> {
        self.0.put(buf)
    }
}

/// A minicbor encoder over `w`.
pub(crate) fn encoder<'s, 'b>(w: &'s mut Writer<'b>) -> Encoder<Sink<'s, 'b>> {
    Encoder::new(Sink(w))
}

/// Every minicbor encode error on a [`Sink`] is a full buffer.
pub(crate) fn enc_err<E>(_: minicbor::encode::Error<E>) -> EncodeError {
    EncodeError::Overflow
}

/// Writes one value as a CBOR data item (mapping in the module doc).
pub(crate) fn put_value(w: &mut Writer<'_>, v: &Value<'_>) -> Result<(), EncodeError> {
    let mut e = encoder(w);
    match v {
        Value::Integer(i) => e.i64(*i),
        Value::Unsigned(u) => e.u64(*u),
        Value::Float(f) => {
            let narrow = *f as f32;
            if f64::from(narrow) == *f || f.is_nan() {
                e.f32(narrow)
            } else {
                e.f64(*f)
            }
        }
        Value::Boolean(b) => e.bool(*b),
        Value::String(s) | Value::Corelnk(s) => e.str(s),
        Value::Opaque(b) => e.bytes(b),
        Value::Time(t) => match e.tag(Tag::new(TAG_EPOCH_TIME)) {
            Ok(e) => e.i64(*t),
            Err(err) => Err(err),
        },
        Value::Objlnk(l) => {
            // "65534:65534" is 11 bytes.
            let mut buf = [0u8; 11];
            let mut tw = Writer::new(&mut buf);
            write!(tw, "{l}").map_err(|_| EncodeError::Overflow)?;
            let text = core::str::from_utf8(tw.written()).map_err(|_| EncodeError::Overflow)?;
            e.str(text)
        }
    }
    .map(|_| ())
    .map_err(enc_err)
}

/// Writes an unsigned integer (a map key id, an array item).
pub(crate) fn put_uint(w: &mut Writer<'_>, n: u64) -> Result<(), EncodeError> {
    encoder(w).u64(n).map(|_| ()).map_err(enc_err)
}

/// Writes a definite array header.
pub(crate) fn put_array_header(w: &mut Writer<'_>, n: u64) -> Result<(), EncodeError> {
    encoder(w).array(n).map(|_| ()).map_err(enc_err)
}

/// Reserves room for a definite map header whose count is not known yet;
/// returns its offset for [`close_map`].
pub(crate) fn open_map(w: &mut Writer<'_>) -> Result<usize, EncodeError> {
    Ok(w.reserve(3)?)
}

/// Writes the shortest header for a map of `count` pairs at `at` (from
/// [`open_map`]) and removes the unused reserved bytes, so the output is
/// what a one-pass encoder that knew the count would have written.
pub(crate) fn close_map(w: &mut Writer<'_>, at: usize, count: u64) -> Result<(), EncodeError> {
    match count {
        0..=23 => {
            w.patch(at, &[0xa0 | count as u8])?;
            w.remove(at + 1, 2)?;
        }
        24..=0xff => {
            w.patch(at, &[0xb8, count as u8])?;
            w.remove(at + 2, 1)?;
        }
        0x100..=0xffff => {
            let [hi, lo] = (count as u16).to_be_bytes();
            w.patch(at, &[0xb9, hi, lo])?;
        }
        _ => return Err(EncodeError::Unrepresentable),
    }
    Ok(())
}

/// A data item as read, before the resource's type is applied.
#[derive(Debug)]
pub(crate) enum Raw<'a> {
    /// Major type 0.
    Uint(u64),
    /// Major type 1 (down to -2^64).
    Nint(i128),
    /// Half, single or double precision.
    Float(f64),
    /// Simple 20 / 21.
    Bool(bool),
    /// Text string.
    Text(Cow<'a, str>),
    /// Byte string.
    Bytes(Cow<'a, [u8]>),
    /// Tag 1 with an integral value.
    Time(i64),
}

/// The decoder's position as a malformed-input error.
pub(crate) fn malformed(d: &Decoder<'_>) -> DecodeError {
    DecodeError::Malformed { at: d.position() }
}

/// The type of the next item; end of input is malformed.
pub(crate) fn peek(d: &Decoder<'_>) -> Result<Type, DecodeError> {
    d.datatype().map_err(|_| malformed(d))
}

/// Consumes a break byte (0xff) if it is next; reports whether it was.
pub(crate) fn take_break(d: &mut Decoder<'_>) -> Result<bool, DecodeError> {
    if peek(d)? == Type::Break {
        d.set_position(d.position().saturating_add(1));
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Reads one value item. Maps, arrays, null, undefined and other simple
/// values are not values of any LwM2M type ([`DecodeError::Type`]).
pub(crate) fn read_raw<'a>(
    d: &mut Decoder<'a>,
    limits: &DecodeLimits,
) -> Result<Raw<'a>, DecodeError> {
    let at = d.position();
    let bad = |_| DecodeError::Malformed { at };
    let raw = match peek(d)? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Raw::Uint(d.u64().map_err(bad)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            Raw::Nint(i128::from(d.int().map_err(bad)?))
        }
        Type::F16 => Raw::Float(f64::from(d.f16().map_err(bad)?)),
        Type::F32 => Raw::Float(f64::from(d.f32().map_err(bad)?)),
        Type::F64 => Raw::Float(d.f64().map_err(bad)?),
        Type::Bool => Raw::Bool(d.bool().map_err(bad)?),
        Type::Bytes => {
            let b = d.bytes().map_err(bad)?;
            check_len(b.len(), limits)?;
            Raw::Bytes(Cow::Borrowed(b))
        }
        Type::BytesIndef => {
            let mut out = Vec::new();
            for chunk in d.bytes_iter().map_err(bad)? {
                let chunk = chunk.map_err(bad)?;
                check_len(out.len().saturating_add(chunk.len()), limits)?;
                out.extend_from_slice(chunk);
            }
            Raw::Bytes(Cow::Owned(out))
        }
        Type::String => {
            let s = d.str().map_err(bad)?;
            check_len(s.len(), limits)?;
            Raw::Text(Cow::Borrowed(s))
        }
        Type::StringIndef => {
            let mut out = String::new();
            for chunk in d.str_iter().map_err(bad)? {
                let chunk = chunk.map_err(bad)?;
                check_len(out.len().saturating_add(chunk.len()), limits)?;
                out.push_str(chunk);
            }
            Raw::Text(Cow::Owned(out))
        }
        Type::Tag => {
            let tag = d.tag().map_err(bad)?;
            if tag.as_u64() != TAG_EPOCH_TIME {
                return Err(DecodeError::Type);
            }
            // Only a number may follow; reading it without recursion keeps
            // a run of nested tags from growing the stack.
            let t = match peek(d)? {
                Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                    i64::try_from(d.u64().map_err(bad)?).ok()
                }
                Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
                    i64::try_from(i128::from(d.int().map_err(bad)?)).ok()
                }
                Type::F16 | Type::F32 | Type::F64 => {
                    match Value::Float(d.f64().map_err(bad)?).coerce(DataType::Integer) {
                        Ok(Value::Integer(i)) => Some(i),
                        _ => None,
                    }
                }
                _ => None,
            };
            Raw::Time(t.ok_or(DecodeError::Type)?)
        }
        Type::Break | Type::Unknown(_) => return Err(DecodeError::Malformed { at }),
        _ => return Err(DecodeError::Type),
    };
    Ok(raw)
}

fn check_len(n: usize, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if n > limits.max_value_len {
        Err(DecodeError::TooLarge)
    } else {
        Ok(())
    }
}

/// Applies the declared type (`None`: unknown, keep what the wire says),
/// with range checks: an integer that does not fit the declared type is
/// [`DecodeError::Type`], never truncated.
pub(crate) fn typed<'a>(raw: Raw<'a>, ty: Option<DataType>) -> Result<Value<'a>, DecodeError> {
    let natural = match raw {
        Raw::Uint(u) => match (ty, i64::try_from(u)) {
            (Some(DataType::UnsignedInteger), _) | (_, Err(_)) => Value::Unsigned(u),
            (_, Ok(i)) => Value::Integer(i),
        },
        Raw::Nint(i) => Value::Integer(i64::try_from(i).map_err(|_| DecodeError::Type)?),
        Raw::Float(f) => Value::Float(f),
        Raw::Bool(b) => Value::Boolean(b),
        Raw::Text(s) => Value::String(s),
        Raw::Bytes(b) => Value::Opaque(b),
        Raw::Time(t) => Value::Time(t),
    };
    match ty {
        None => Ok(natural),
        Some(DataType::None) => Err(DecodeError::Type),
        Some(t) => natural.coerce(t).map_err(|_| DecodeError::Type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(bytes: &[u8]) -> Result<Raw<'_>, DecodeError> {
        read_raw(&mut Decoder::new(bytes), &DecodeLimits::default())
    }

    #[test]
    fn floats_of_every_width() {
        // RFC 8949 Appendix A: 0xf93c00 = 1.0, 0xfa47c35000 = 100000.0,
        // 0xfb3ff199999999999a = 1.1, 0xf9c400 = -4.0.
        for (b, f) in [
            (&[0xf9, 0x3c, 0x00][..], 1.0),
            (&[0xfa, 0x47, 0xc3, 0x50, 0x00][..], 100000.0),
            (
                &[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a][..],
                1.1,
            ),
            (&[0xf9, 0xc4, 0x00][..], -4.0),
        ] {
            let v = typed(raw(b).unwrap(), Some(DataType::Float)).unwrap();
            assert_eq!(v, Value::Float(f), "{b:02x?}");
        }
    }

    #[test]
    fn integers_checked_against_declared_type() {
        // RFC 8949 Appendix A: 0x1bffffffffffffffff = 2^64-1,
        // 0x3bffffffffffffffff = -2^64, 0x3863 = -100.
        let max = [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            typed(raw(&max).unwrap(), Some(DataType::UnsignedInteger)),
            Ok(Value::Unsigned(u64::MAX))
        );
        assert_eq!(
            typed(raw(&max).unwrap(), Some(DataType::Integer)),
            Err(DecodeError::Type)
        );
        let min = [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(typed(raw(&min).unwrap(), None), Err(DecodeError::Type));
        assert_eq!(
            typed(raw(&[0x38, 0x63]).unwrap(), Some(DataType::Integer)),
            Ok(Value::Integer(-100))
        );
        assert_eq!(
            typed(raw(&[0x38, 0x63]).unwrap(), Some(DataType::UnsignedInteger)),
            Err(DecodeError::Type)
        );
        assert_eq!(
            typed(raw(&[0x18, 0x64]).unwrap(), Some(DataType::Float)),
            Ok(Value::Float(100.0))
        );
    }

    #[test]
    fn time_tagged_or_not() {
        // RFC 8949 Appendix A: 0xc11a514b67b0 = 1(1363896240).
        let tagged = [0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0];
        assert_eq!(
            typed(raw(&tagged).unwrap(), None),
            Ok(Value::Time(1_363_896_240))
        );
        assert_eq!(
            typed(raw(&tagged[1..]).unwrap(), Some(DataType::Time)),
            Ok(Value::Time(1_363_896_240))
        );
        // 0xc0 (tag 0, date/time string) is not a LwM2M time.
        assert_eq!(raw(&[0xc0, 0x60]).map(|_| ()), Err(DecodeError::Type));
    }

    #[test]
    fn indefinite_strings_are_joined_within_limits() {
        // RFC 8949 Appendix A: 0x7f657374726561646d696e67ff = (_ "strea", "ming").
        let b = b"\x7f\x65strea\x64ming\xff";
        let v = typed(raw(b).unwrap(), Some(DataType::String)).unwrap();
        assert_eq!(v.as_str(), Some("streaming"));
        let tight = DecodeLimits {
            max_value_len: 8,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            read_raw(&mut Decoder::new(b), &tight),
            Err(DecodeError::TooLarge)
        ));
    }

    #[test]
    fn map_header_is_shortest() {
        for (count, header) in [
            (0u64, &[0xa0][..]),
            (23, &[0xb7][..]),
            (24, &[0xb8, 24][..]),
            (256, &[0xb9, 1, 0][..]),
        ] {
            let mut buf = [0u8; 8];
            let mut w = Writer::new(&mut buf);
            let at = open_map(&mut w).unwrap();
            w.put_u8(0x42).unwrap();
            close_map(&mut w, at, count).unwrap();
            let mut want = header.to_vec();
            want.push(0x42);
            assert_eq!(w.written(), &want[..]);
        }
    }

    #[test]
    fn floats_encode_narrow_when_lossless() {
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        put_value(&mut w, &Value::Float(1.5)).unwrap();
        assert_eq!(w.written(), &[0xfa, 0x3f, 0xc0, 0x00, 0x00]);
        let mut w = Writer::new(&mut buf);
        put_value(&mut w, &Value::Float(1.1)).unwrap();
        assert_eq!(
            w.written(),
            &[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
        );
    }
}
