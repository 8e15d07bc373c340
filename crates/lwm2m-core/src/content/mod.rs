//! LwM2M content formats: pure encoders and streaming decoders
//! (OMA-TS-LightweightM2M_Core 1.1 §7.4 "Data Formats", Appendix C).
//!
//! Every format has the same two shapes:
//! - a decoder: an iterator of [`Entry`] over a payload, which borrows from
//!   the payload where it can and never allocates without bound (every count
//!   and length is checked against [`DecodeLimits`]);
//! - an encoder implementing [`Encode`]: entries are pushed in path order
//!   ([`crate::dm::Path`]'s `Ord`) into a bounded [`Writer`], so a response is
//!   rendered straight into the datagram being built.
//!
//! Formats without types on the wire (Plain Text, TLV) ask a [`TypeResolver`]
//! for the declared type of each resource.

pub mod link;

use core::fmt;

pub use dispatch::{Decoder, Encoder, negotiate};

mod base64;
mod cbor_util;
#[cfg(test)]
pub(crate) mod device_fixture;
mod single_value;

pub mod cbor;
mod dispatch;
pub mod json;
pub mod lwm2m_cbor;
pub mod lwm2m_json;
pub mod opaque;
pub mod senml;
pub mod senml_cbor;
pub mod senml_json;
pub mod text;
pub mod tlv;

use crate::buf::{Overflow, Writer};
use crate::dm::{DataType, Path, Value};

/// A content format number (RFC 7252 §12.3 registry; Core §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// text/plain;charset=utf-8 (0).
    Text,
    /// application/link-format (40).
    LinkFormat,
    /// application/octet-stream (42).
    Opaque,
    /// application/cbor (60), a single value (Core 1.1 §7.4.6).
    Cbor,
    /// application/senml+json (110).
    SenmlJson,
    /// application/senml+cbor (112).
    SenmlCbor,
    /// application/vnd.oma.lwm2m+tlv (11542).
    Tlv,
    /// application/vnd.oma.lwm2m+json (11543), the LwM2M 1.0 JSON format.
    Lwm2mJson,
    /// application/vnd.oma.lwm2m+cbor (11544), LwM2M 1.2.
    Lwm2mCbor,
}

impl Format {
    /// The format for a Content-Format / Accept number, including the
    /// pre-registration numbers some LwM2M 1.0 peers still send (1542 TLV,
    /// 1543 JSON).
    pub const fn from_number(n: u16) -> Option<Format> {
        Some(match n {
            0 => Format::Text,
            40 => Format::LinkFormat,
            42 => Format::Opaque,
            60 => Format::Cbor,
            110 => Format::SenmlJson,
            112 => Format::SenmlCbor,
            11542 | 1542 => Format::Tlv,
            11543 | 1543 => Format::Lwm2mJson,
            11544 => Format::Lwm2mCbor,
            _ => return None,
        })
    }

    /// The registered number.
    pub const fn number(self) -> u16 {
        match self {
            Format::Text => 0,
            Format::LinkFormat => 40,
            Format::Opaque => 42,
            Format::Cbor => 60,
            Format::SenmlJson => 110,
            Format::SenmlCbor => 112,
            Format::Tlv => 11542,
            Format::Lwm2mJson => 11543,
            Format::Lwm2mCbor => 11544,
        }
    }

    /// Whether one payload in this format can carry many values (an
    /// instance, an object, a composite).
    pub const fn is_hierarchical(self) -> bool {
        matches!(
            self,
            Format::SenmlJson
                | Format::SenmlCbor
                | Format::Tlv
                | Format::Lwm2mJson
                | Format::Lwm2mCbor
        )
    }
}

/// One value in a payload, at an absolute path.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    /// Absolute path of the resource or resource instance.
    pub path: Path,
    /// The value.
    pub value: Value<'a>,
    /// SenML time (seconds; absolute if at least 2^28, else relative to
    /// now, negative in the past: RFC 8428 §4.5.3), when the payload has one.
    pub time: Option<f64>,
}

impl<'a> Entry<'a> {
    /// An entry without a timestamp.
    pub fn new(path: Path, value: Value<'a>) -> Entry<'a> {
        Entry {
            path,
            value,
            time: None,
        }
    }
}

/// Why a payload cannot be decoded. Any of these leaves the data model
/// untouched; the request gets 4.00 (or 4.13 / 4.15 as noted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not follow the format's grammar (offset where known).
    Malformed {
        /// Byte offset of the problem in the payload.
        at: usize,
    },
    /// A value does not fit the declared type of its resource.
    Type,
    /// A path in the payload is invalid, or not under the request's path.
    Path,
    /// More records, nesting, or longer strings than [`DecodeLimits`] allow
    /// (mapped to 4.13).
    TooLarge,
    /// The payload is valid but the format cannot be used for this
    /// operation or path (mapped to 4.15).
    UnsupportedFormat,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed { at } => write!(f, "malformed payload at byte {at}"),
            DecodeError::Type => f.write_str("value does not fit the resource type"),
            DecodeError::Path => f.write_str("invalid or unexpected path in payload"),
            DecodeError::TooLarge => f.write_str("payload exceeds decoding limits"),
            DecodeError::UnsupportedFormat => f.write_str("format unsupported here"),
        }
    }
}

/// Why an encoder cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is full.
    Overflow,
    /// The format cannot represent what was pushed (two values in Plain
    /// Text, a value outside the base path, a non-UTF-8 string): 4.06.
    Unrepresentable,
}

impl From<Overflow> for EncodeError {
    fn from(_: Overflow) -> Self {
        EncodeError::Overflow
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::Overflow => "output buffer full",
            EncodeError::Unrepresentable => "value not representable in this format",
        })
    }
}

/// Bounds every decoder honours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most entries (records, TLVs, map items) in one payload.
    pub max_entries: usize,
    /// Deepest nesting (CBOR / JSON containers).
    pub max_depth: usize,
    /// Longest string or opaque value, in bytes.
    pub max_value_len: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_entries: 1024,
            max_depth: 8,
            max_value_len: 64 * 1024,
        }
    }
}

/// Declared types of resources, for formats that do not carry them.
pub trait TypeResolver {
    /// The data type of the resource at `path` (`/o/i/r`; a resource
    /// instance path is resolved by its resource), or `None` if unknown.
    fn data_type(&self, path: &Path) -> Option<DataType>;
}

impl<F: Fn(&Path) -> Option<DataType>> TypeResolver for F {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        self(path)
    }
}

/// An encoder: `begin`, then `put` for each entry in path order, then `end`.
///
/// The `base` path an encoder is created with is the request's path: names
/// in the payload are written relative to it where the format says so (TLV
/// ids, SenML base name).
pub trait Encode {
    /// Writes whatever precedes the first entry.
    fn begin(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let _ = w;
        Ok(())
    }
    /// Writes one entry.
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError>;
    /// Writes whatever follows the last entry (closing containers).
    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let _ = w;
        Ok(())
    }
}

/// One step of a streaming decoder as an iterator item: `Ok(None)` ends the
/// stream, an error is yielded once and ends it too (`done` is set either
/// way).
pub(crate) fn fuse<T>(
    done: &mut bool,
    step: Result<Option<T>, DecodeError>,
) -> Option<Result<T, DecodeError>> {
    match step {
        Ok(Some(t)) => Some(Ok(t)),
        Ok(None) => {
            *done = true;
            None
        }
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}
