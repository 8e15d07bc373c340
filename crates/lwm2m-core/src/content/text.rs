//! Plain Text, content format 0 (OMA-TS-LightweightM2M_Core 1.1 §7.4.1;
//! text column of Appendix C "Data Types").
//!
//! One value of one resource or resource instance, as UTF-8 text:
//!
//! | type | text |
//! |---|---|
//! | Integer, Unsigned Integer, Time | decimal (`-12`, `18446744073709551615`; Time in seconds since the epoch) |
//! | Float | decimal, the shortest text that reads back as the same `f64` (`2.75`, `-0.5`); an exponent only outside 1e-6..1e21 (`1e300`) |
//! | Boolean | `0` or `1` |
//! | String, Corelnk | the string itself |
//! | Opaque | base64 (RFC 4648 §4, padded) |
//! | Objlnk | `oid:iid` |
//!
//! The wire carries no type: the decoder asks the [`TypeResolver`] and reads
//! the text as that type (unknown resources read as a String).

use alloc::borrow::Cow;
use core::fmt::Write as _;

use super::base64::{self, Base64Error};
use super::single_value::{Once, One};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::{DataType, ObjLnk, Path, Value};

/// Plain Text encoder for the value at the request's path.
#[derive(Clone, Copy, Debug)]
pub struct TextEncoder {
    one: One,
}

impl TextEncoder {
    /// An encoder for a Read of `base`, which must be a resource or a
    /// resource instance; anything else, or a second entry, is
    /// [`EncodeError::Unrepresentable`] (4.06).
    pub fn new(base: Path) -> TextEncoder {
        TextEncoder {
            one: One::new(base),
        }
    }
}

impl Encode for TextEncoder {
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        self.one.admit(entry)?;
        let fmt = |_| EncodeError::Overflow;
        match &entry.value {
            Value::Integer(i) | Value::Time(i) => write!(w, "{i}").map_err(fmt)?,
            Value::Unsigned(u) => write!(w, "{u}").map_err(fmt)?,
            Value::Float(f) => write_float(w, *f)?,
            Value::Boolean(b) => w.put_u8(if *b { b'1' } else { b'0' })?,
            Value::String(s) | Value::Corelnk(s) => w.put(s.as_bytes())?,
            Value::Opaque(b) => base64::encode(w, b)?,
            Value::Objlnk(l) => write!(w, "{l}").map_err(fmt)?,
        }
        Ok(())
    }

    fn end(&mut self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.one.finish()
    }
}

/// Shortest round-trip decimal. Rust's `Display` never uses an exponent,
/// which would spell 1e300 with 301 digits; past the range where that is
/// reasonable (the same cut-offs as ECMAScript's Number-to-String) the
/// exponent form is used, which every LwM2M server's float parser reads.
fn write_float(w: &mut Writer<'_>, f: f64) -> Result<(), EncodeError> {
    if !f.is_finite() {
        return Err(EncodeError::Unrepresentable);
    }
    let a = f.abs();
    let r = if a == 0.0 || (1e-6..1e21).contains(&a) {
        write!(w, "{f}")
    } else {
        write!(w, "{f:e}")
    };
    r.map_err(|_| EncodeError::Overflow)
}

fn type_err<E>(_: E) -> DecodeError {
    DecodeError::Type
}

/// Plain Text decoder: yields the one value of the payload.
pub struct TextDecoder<'a, 't> {
    payload: &'a [u8],
    base: Path,
    types: &'t dyn TypeResolver,
    limits: DecodeLimits,
    state: Once,
}

impl<'a, 't> TextDecoder<'a, 't> {
    /// A decoder for a Write of `payload` to `base` (a resource or resource
    /// instance; at any other path the only item is
    /// [`DecodeError::UnsupportedFormat`]).
    pub fn new(
        payload: &'a [u8],
        base: Path,
        types: &'t dyn TypeResolver,
        limits: DecodeLimits,
    ) -> TextDecoder<'a, 't> {
        TextDecoder {
            payload,
            base,
            types,
            limits,
            state: Once::Pending,
        }
    }

    fn value(&self, path: &Path) -> Result<Value<'a>, DecodeError> {
        let text = core::str::from_utf8(self.payload).map_err(|e| DecodeError::Malformed {
            at: e.valid_up_to(),
        })?;
        let ty = self.types.data_type(&path.truncated(3));
        let len_ok = |n: usize| {
            if n > self.limits.max_value_len {
                Err(DecodeError::TooLarge)
            } else {
                Ok(())
            }
        };
        Ok(match ty {
            None | Some(DataType::String) => {
                len_ok(text.len())?;
                Value::String(Cow::Borrowed(text))
            }
            Some(DataType::Corelnk) => {
                len_ok(text.len())?;
                Value::Corelnk(Cow::Borrowed(text))
            }
            Some(DataType::Integer) => Value::Integer(text.parse().map_err(type_err)?),
            Some(DataType::Time) => Value::Time(text.parse().map_err(type_err)?),
            Some(DataType::UnsignedInteger) => Value::Unsigned(text.parse().map_err(type_err)?),
            Some(DataType::Float) => {
                // `f64::from_str` also reads "inf" and "NaN", and overflows
                // to infinity: none of those is a LwM2M float.
                let f: f64 = text.parse().map_err(type_err)?;
                if !f.is_finite() {
                    return Err(DecodeError::Type);
                }
                Value::Float(f)
            }
            Some(DataType::Boolean) => match text {
                "0" => Value::Boolean(false),
                "1" => Value::Boolean(true),
                _ => return Err(DecodeError::Type),
            },
            Some(DataType::Objlnk) => Value::Objlnk(ObjLnk::parse(text).ok_or(DecodeError::Type)?),
            Some(DataType::Opaque) => {
                match base64::decode(text.as_bytes(), self.limits.max_value_len) {
                    Ok(b) => Value::Opaque(Cow::Owned(b)),
                    Err(Base64Error::TooLong) => return Err(DecodeError::TooLarge),
                    Err(Base64Error::Invalid) => return Err(DecodeError::Type),
                }
            }
            Some(DataType::None) => return Err(DecodeError::Type),
        })
    }
}

impl<'a> Iterator for TextDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = match self.state.take(&self.base)? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        Some(self.value(&path).map(|v| Entry::new(path, v)))
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
