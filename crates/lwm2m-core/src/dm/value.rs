//! Typed resource values (OMA-TS-LightweightM2M_Core 1.1 Appendix C "Data
//! Types").
//!
//! A [`Value`] borrows where it can: a handler's string or a payload's opaque
//! bytes are not copied on their way through the stack; a decoder that has to
//! transform bytes (JSON escapes, base64) hands out an owned value instead.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::path::{Iid, Oid};

/// The data type of a resource (Core Appendix C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// No value: executable resources.
    None,
    /// UTF-8 string.
    String,
    /// Signed integer, up to 64 bits.
    Integer,
    /// Unsigned integer, up to 64 bits (LwM2M 1.1).
    UnsignedInteger,
    /// IEEE 754 floating point.
    Float,
    /// Boolean.
    Boolean,
    /// Opaque bytes.
    Opaque,
    /// Unix time in seconds, signed.
    Time,
    /// Object link: an Object ID and an Object Instance ID.
    Objlnk,
    /// CoRE Link (RFC 6690) as a string (LwM2M 1.1).
    Corelnk,
}

/// An object link (Core Appendix C "Objlnk"): `oid:iid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjLnk {
    /// Object ID (65535 with iid 65535 is the "null" link).
    pub oid: Oid,
    /// Object Instance ID.
    pub iid: Iid,
}

impl ObjLnk {
    /// Parses the text form `"3:0"` (Core Appendix C, Plain Text column).
    pub fn parse(s: &str) -> Option<ObjLnk> {
        let (o, i) = s.split_once(':')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(o) || !digits(i) {
            return None;
        }
        Some(ObjLnk {
            oid: o.parse().ok()?,
            iid: i.parse().ok()?,
        })
    }
}

impl fmt::Display for ObjLnk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.oid, self.iid)
    }
}

/// A resource (instance) value.
#[derive(Clone, PartialEq)]
pub enum Value<'a> {
    /// Signed integer.
    Integer(i64),
    /// Unsigned integer.
    Unsigned(u64),
    /// Float.
    Float(f64),
    /// Boolean.
    Boolean(bool),
    /// String.
    String(Cow<'a, str>),
    /// Opaque bytes.
    Opaque(Cow<'a, [u8]>),
    /// Unix time in seconds.
    Time(i64),
    /// Object link.
    Objlnk(ObjLnk),
    /// CoRE Link string.
    Corelnk(Cow<'a, str>),
}

/// A value that cannot be given the requested type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeMismatch {
    /// What the value was.
    pub from: DataType,
    /// What was asked for.
    pub to: DataType,
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot convert {:?} to {:?}", self.from, self.to)
    }
}

impl<'a> Value<'a> {
    /// A borrowed string value.
    pub fn str(s: &'a str) -> Value<'a> {
        Value::String(Cow::Borrowed(s))
    }
    /// A borrowed opaque value.
    pub fn bytes(b: &'a [u8]) -> Value<'a> {
        Value::Opaque(Cow::Borrowed(b))
    }

    /// The data type this value carries.
    #[inline]
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Integer(_) => DataType::Integer,
            Value::Unsigned(_) => DataType::UnsignedInteger,
            Value::Float(_) => DataType::Float,
            Value::Boolean(_) => DataType::Boolean,
            Value::String(_) => DataType::String,
            Value::Opaque(_) => DataType::Opaque,
            Value::Time(_) => DataType::Time,
            Value::Objlnk(_) => DataType::Objlnk,
            Value::Corelnk(_) => DataType::Corelnk,
        }
    }

    /// A copy that owns its data.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Integer(v) => Value::Integer(v),
            Value::Unsigned(v) => Value::Unsigned(v),
            Value::Float(v) => Value::Float(v),
            Value::Boolean(v) => Value::Boolean(v),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Opaque(b) => Value::Opaque(Cow::Owned(b.into_owned())),
            Value::Time(v) => Value::Time(v),
            Value::Objlnk(v) => Value::Objlnk(v),
            Value::Corelnk(s) => Value::Corelnk(Cow::Owned(s.into_owned())),
        }
    }

    /// A borrowed view of this value.
    pub fn borrowed(&self) -> Value<'_> {
        match self {
            Value::String(s) => Value::String(Cow::Borrowed(s)),
            Value::Opaque(b) => Value::Opaque(Cow::Borrowed(b)),
            Value::Corelnk(s) => Value::Corelnk(Cow::Borrowed(s)),
            Value::Integer(v) => Value::Integer(*v),
            Value::Unsigned(v) => Value::Unsigned(*v),
            Value::Float(v) => Value::Float(*v),
            Value::Boolean(v) => Value::Boolean(*v),
            Value::Time(v) => Value::Time(*v),
            Value::Objlnk(v) => Value::Objlnk(*v),
        }
    }

    /// Converts to the resource's declared type, as a decoder of a
    /// self-describing format (SenML, LwM2M CBOR) must: a SenML number `v`
    /// may land in an Integer, Unsigned, Float or Time resource; `vs` in a
    /// String, Corelnk or Objlnk one. Integral floats convert to integers;
    /// out-of-range or fractional values do not.
    pub fn coerce(self, to: DataType) -> Result<Value<'a>, TypeMismatch> {
        let from = self.data_type();
        let err = TypeMismatch { from, to };
        if from == to {
            return Ok(self);
        }
        let as_i64 = |v: &Value<'_>| -> Option<i64> {
            match *v {
                Value::Integer(i) | Value::Time(i) => Some(i),
                Value::Unsigned(u) => i64::try_from(u).ok(),
                Value::Float(f) => float_to_i64(f),
                _ => None,
            }
        };
        let out = match to {
            DataType::Integer => as_i64(&self).map(Value::Integer),
            DataType::Time => as_i64(&self).map(Value::Time),
            DataType::UnsignedInteger => match self {
                Value::Integer(i) | Value::Time(i) => u64::try_from(i).ok().map(Value::Unsigned),
                Value::Float(f) => float_to_u64(f).map(Value::Unsigned),
                _ => None,
            },
            DataType::Float => match self {
                Value::Integer(i) | Value::Time(i) => Some(Value::Float(i as f64)),
                Value::Unsigned(u) => Some(Value::Float(u as f64)),
                _ => None,
            },
            DataType::String => match self {
                Value::Corelnk(s) => Some(Value::String(s)),
                _ => None,
            },
            DataType::Corelnk => match self {
                Value::String(s) => Some(Value::Corelnk(s)),
                _ => None,
            },
            DataType::Objlnk => match &self {
                Value::String(s) | Value::Corelnk(s) => ObjLnk::parse(s).map(Value::Objlnk),
                _ => None,
            },
            DataType::Boolean | DataType::Opaque | DataType::None => None,
        };
        out.ok_or(err)
    }

    /// The value as a signed integer, if it is an integer of any kind that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Integer(i) | Value::Time(i) => Some(i),
            Value::Unsigned(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Unsigned(u) => Some(u),
            Value::Integer(i) | Value::Time(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }
    /// The value as a float, if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Integer(i) | Value::Time(i) => Some(i as f64),
            Value::Unsigned(u) => Some(u as f64),
            _ => None,
        }
    }
    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    }
    /// The value as a string (String or Corelnk).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Corelnk(s) => Some(s),
            _ => None,
        }
    }
    /// The value as bytes (Opaque, or the UTF-8 of a string).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Opaque(b) => Some(b),
            Value::String(s) | Value::Corelnk(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or above it does not fit.
    if f.is_finite() && f == (f as i64) as f64 && f < 9_223_372_036_854_775_808.0 {
        Some(f as i64)
    } else {
        None
    }
}

fn float_to_u64(f: f64) -> Option<u64> {
    if (0.0..18_446_744_073_709_551_616.0).contains(&f) && f == (f as u64) as f64 {
        Some(f as u64)
    } else {
        None
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(v) => write!(f, "Integer({v})"),
            Value::Unsigned(v) => write!(f, "Unsigned({v})"),
            Value::Float(v) => write!(f, "Float({v})"),
            Value::Boolean(v) => write!(f, "Boolean({v})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Opaque(b) => write!(f, "Opaque({} bytes)", b.len()),
            Value::Time(v) => write!(f, "Time({v})"),
            Value::Objlnk(l) => write!(f, "Objlnk({l})"),
            Value::Corelnk(s) => write!(f, "Corelnk({s:?})"),
        }
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::Unsigned(v)
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::String(Cow::Borrowed(v))
    }
}
impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::String(Cow::Owned(v))
    }
}
impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Opaque(Cow::Borrowed(v))
    }
}
impl From<Vec<u8>> for Value<'_> {
    fn from(v: Vec<u8>) -> Self {
        Value::Opaque(Cow::Owned(v))
    }
}
impl From<ObjLnk> for Value<'_> {
    fn from(v: ObjLnk) -> Self {
        Value::Objlnk(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coerce_numbers() {
        assert_eq!(
            Value::Float(3.0).coerce(DataType::Integer),
            Ok(Value::Integer(3))
        );
        assert!(Value::Float(3.5).coerce(DataType::Integer).is_err());
        assert!(Value::Float(f64::NAN).coerce(DataType::Integer).is_err());
        assert!(Value::Float(1e19).coerce(DataType::Integer).is_err());
        assert_eq!(
            Value::Float(1e19).coerce(DataType::UnsignedInteger),
            Ok(Value::Unsigned(10_000_000_000_000_000_000))
        );
        assert!(
            Value::Integer(-1)
                .coerce(DataType::UnsignedInteger)
                .is_err()
        );
        assert_eq!(Value::Integer(5).coerce(DataType::Time), Ok(Value::Time(5)));
        assert_eq!(
            Value::Unsigned(5).coerce(DataType::Float),
            Ok(Value::Float(5.0))
        );
        assert!(Value::Unsigned(u64::MAX).coerce(DataType::Integer).is_err());
        assert!(Value::Boolean(true).coerce(DataType::Integer).is_err());
    }

    #[test]
    fn coerce_strings() {
        assert_eq!(
            Value::str("3:0").coerce(DataType::Objlnk),
            Ok(Value::Objlnk(ObjLnk { oid: 3, iid: 0 }))
        );
        assert!(Value::str("3:").coerce(DataType::Objlnk).is_err());
        assert!(Value::str("3:-1").coerce(DataType::Objlnk).is_err());
        assert!(Value::str("70000:1").coerce(DataType::Objlnk).is_err());
        assert_eq!(
            Value::str("</3>").coerce(DataType::Corelnk),
            Ok(Value::Corelnk(Cow::Borrowed("</3>")))
        );
        assert!(Value::str("x").coerce(DataType::Opaque).is_err());
    }

    #[test]
    fn owned_and_borrowed_agree() {
        let v = Value::str("abc");
        assert_eq!(v.clone().into_owned(), v);
        assert_eq!(v.borrowed(), v);
        assert_eq!(v.as_bytes(), Some(&b"abc"[..]));
    }
}
