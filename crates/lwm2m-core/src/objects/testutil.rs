//! Test helpers: the data-model operations driven through the real
//! encoders and decoders, the way a server's request reaches them.

use alloc::vec::Vec;

use crate::buf::Writer;
use crate::content::{DecodeError, DecodeLimits, Decoder, Encode, Encoder, Entry, Format};
use crate::dm::ops::bootstrap::bootstrap_write;
use crate::dm::ops::read::read;
use crate::dm::ops::write::{WriteMode, write};
use crate::dm::{Origin, Path, Registry, Value};
use crate::error::DmError;

/// Formats that carry a whole instance or object.
pub const HIERARCHICAL: [Format; 5] = [
    Format::Tlv,
    Format::SenmlJson,
    Format::SenmlCbor,
    Format::Lwm2mCbor,
    Format::Lwm2mJson,
];

/// Every value format that can carry one value of any type but Opaque.
pub const ALL: [Format; 7] = [
    Format::Text,
    Format::Cbor,
    Format::Tlv,
    Format::SenmlJson,
    Format::SenmlCbor,
    Format::Lwm2mCbor,
    Format::Lwm2mJson,
];

pub fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

pub fn e(path: &str, v: Value<'static>) -> Entry<'static> {
    Entry::new(p(path), v)
}

fn owned(e: Entry<'_>) -> Entry<'static> {
    Entry {
        path: e.path,
        value: e.value.into_owned(),
        time: e.time,
    }
}

/// The payload `entries` make in `format` for a request on `base`.
pub fn encode(format: Format, base: &Path, entries: &[Entry<'_>]) -> Vec<u8> {
    let mut enc = Encoder::new(format, *base).unwrap();
    let mut buf = alloc::vec![0u8; 8192];
    let mut w = Writer::new(&mut buf);
    enc.begin(&mut w).unwrap();
    for en in entries {
        enc.put(&mut w, en).unwrap();
    }
    enc.end(&mut w).unwrap();
    w.written().to_vec()
}

/// Decodes `payload` for a request on `base`, types from `reg`.
pub fn decode(
    reg: &Registry,
    format: Format,
    base: &Path,
    payload: &[u8],
) -> Vec<Result<Entry<'static>, DecodeError>> {
    Decoder::new(format, payload, *base, reg, DecodeLimits::default())
        .unwrap()
        .map(|r| r.map(owned))
        .collect()
}

/// Read of `path` by `origin`, answered in `format`, decoded back.
pub fn read_as(
    reg: &Registry,
    origin: Origin,
    path: &str,
    format: Format,
) -> Result<Vec<Entry<'static>>, DmError> {
    let path = p(path);
    let mut enc = Encoder::new(format, path).unwrap();
    let mut buf = alloc::vec![0u8; 8192];
    let mut w = Writer::new(&mut buf);
    read(reg, origin, &path, &mut enc, &mut w)?;
    let payload = w.written().to_vec();
    Ok(decode(reg, format, &path, &payload)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .unwrap())
}

/// Write of `entries` to `path` by `origin`, sent in `format`.
pub fn write_as(
    reg: &mut Registry,
    origin: Origin,
    path: &str,
    mode: WriteMode,
    format: Format,
    entries: &[Entry<'_>],
) -> Result<(), DmError> {
    let path = p(path);
    let payload = encode(format, &path, entries);
    let decoded = decode(reg, format, &path, &payload);
    write(reg, origin, &path, mode, decoded)
}

/// Bootstrap-Write of `entries` to `path`, sent in `format`.
pub fn bootstrap_write_as(
    reg: &mut Registry,
    path: &str,
    format: Format,
    entries: &[Entry<'_>],
) -> Result<(), DmError> {
    let path = p(path);
    let payload = encode(format, &path, entries);
    let decoded = decode(reg, format, &path, &payload);
    bootstrap_write(reg, &path, decoded)
}

/// Values as the tests compare them: `(path, value)`.
pub fn pairs(entries: &[Entry<'_>]) -> Vec<(alloc::string::String, Value<'static>)> {
    entries
        .iter()
        .map(|e| {
            (
                alloc::string::ToString::to_string(&e.path),
                e.value.clone().into_owned(),
            )
        })
        .collect()
}
