//! "The same Device object read in every format decodes to the same values"
//! (issue 3, tests that must exist), for Plain Text, Opaque, CBOR, TLV,
//! LwM2M CBOR, SenML JSON, SenML CBOR and LwM2M JSON: the Device instance of OMA-TS-LightweightM2M_Core 1.1
//! §7.4.3.2 is encoded whole in each hierarchical format and resource by
//! resource in each single-value format, and every decoder gives back the
//! same entries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use lwm2m_core::buf::Writer;
use lwm2m_core::content::cbor::{CborDecoder, CborEncoder};
use lwm2m_core::content::lwm2m_cbor::{Lwm2mCborDecoder, Lwm2mCborEncoder};
use lwm2m_core::content::lwm2m_json::{Lwm2mJsonDecoder, Lwm2mJsonEncoder};
use lwm2m_core::content::opaque::{OpaqueDecoder, OpaqueEncoder};
use lwm2m_core::content::senml_cbor::{SenmlCborDecoder, SenmlCborEncoder};
use lwm2m_core::content::senml_json::{SenmlJsonDecoder, SenmlJsonEncoder};
use lwm2m_core::content::text::{TextDecoder, TextEncoder};
use lwm2m_core::content::tlv::{TlvDecoder, TlvEncoder};
use lwm2m_core::content::{DecodeError, DecodeLimits, Encode, Entry, Format};
use lwm2m_core::dm::{DataType, Path, Value};

/// Declared types of the Device object (OMA-SUP-XML_3).
fn device_types(p: &Path) -> Option<DataType> {
    Some(match p.rid()? {
        0..=3 | 14..=19 => DataType::String,
        6..=11 | 20 | 21 => DataType::Integer,
        13 => DataType::Time,
        22 => DataType::Objlnk,
        _ => DataType::None,
    })
}

/// Core 1.1 §7.4.3.2: the values of the example Device instance.
fn device() -> Vec<Entry<'static>> {
    let r = |rid, v| Entry::new(Path::resource(3, 0, rid), v);
    let ri = |rid, riid, v| Entry::new(Path::resource_instance(3, 0, rid, riid), v);
    vec![
        r(0, Value::str("Open Mobile Alliance")),
        r(1, Value::str("Lightweight M2M Client")),
        r(2, Value::str("345000123")),
        r(3, Value::str("1.0")),
        ri(6, 0, Value::Integer(1)),
        ri(6, 1, Value::Integer(5)),
        ri(7, 0, Value::Integer(3800)),
        ri(7, 1, Value::Integer(5000)),
        ri(8, 0, Value::Integer(125)),
        ri(8, 1, Value::Integer(900)),
        r(9, Value::Integer(100)),
        r(10, Value::Integer(15)),
        ri(11, 0, Value::Integer(0)),
        r(13, Value::Time(1_367_491_215)),
        r(14, Value::str("+02:00")),
        r(16, Value::str("U")),
    ]
}

fn encode(mut enc: impl Encode, entries: &[Entry<'_>]) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let mut w = Writer::new(&mut buf);
    enc.begin(&mut w).unwrap();
    for e in entries {
        enc.put(&mut w, e).unwrap();
    }
    enc.end(&mut w).unwrap();
    w.written().to_vec()
}

fn owned<'a>(it: impl Iterator<Item = Result<Entry<'a>, DecodeError>>) -> Vec<Entry<'static>> {
    it.map(|e| {
        let e = e.unwrap();
        Entry {
            path: e.path,
            value: e.value.into_owned(),
            time: e.time,
        }
    })
    .collect()
}

/// Reads the whole instance in `format` and decodes it back.
fn read_instance(format: Format) -> Vec<Entry<'static>> {
    let base = Path::instance(3, 0);
    let lim = DecodeLimits::default();
    match format {
        Format::Tlv => {
            let bytes = encode(TlvEncoder::new(base), &device());
            owned(TlvDecoder::new(&bytes, base, &device_types, lim))
        }
        Format::Lwm2mCbor => {
            let bytes = encode(Lwm2mCborEncoder::new(base), &device());
            owned(Lwm2mCborDecoder::new(&bytes, base, &device_types, lim))
        }
        Format::SenmlJson => {
            let bytes = encode(SenmlJsonEncoder::new(base), &device());
            owned(SenmlJsonDecoder::new(&bytes, base, &device_types, lim))
        }
        Format::SenmlCbor => {
            let bytes = encode(SenmlCborEncoder::new(base), &device());
            owned(SenmlCborDecoder::new(&bytes, base, &device_types, lim))
        }
        Format::Lwm2mJson => {
            let bytes = encode(Lwm2mJsonEncoder::new(base), &device());
            owned(Lwm2mJsonDecoder::new(&bytes, base, &device_types, lim))
        }
        // Single-value formats: one read per resource (instance).
        Format::Text | Format::Cbor => device()
            .iter()
            .flat_map(|e| {
                let one = std::slice::from_ref(e);
                if format == Format::Text {
                    let b = encode(TextEncoder::new(e.path), one);
                    owned(TextDecoder::new(&b, e.path, &device_types, lim))
                } else {
                    let b = encode(CborEncoder::new(e.path), one);
                    owned(CborDecoder::new(&b, e.path, &device_types, lim))
                }
            })
            .collect(),
        other => panic!("{other:?} is built elsewhere"),
    }
}

#[test]
fn every_format_reads_the_same_device() {
    let want = device();
    for format in [
        Format::Tlv,
        Format::Lwm2mCbor,
        Format::Text,
        Format::Cbor,
        Format::SenmlJson,
        Format::SenmlCbor,
        Format::Lwm2mJson,
    ] {
        assert_eq!(read_instance(format), want, "{format:?}");
    }
}

/// The Device object has no Opaque resource, and Opaque (42) carries only
/// Opaque values: the example's Manufacturer name, stored as bytes in an
/// Opaque resource, comes back byte for byte.
#[test]
fn opaque_reads_the_same_bytes() {
    let p = Path::resource(5, 0, 0);
    let e = [Entry::new(p, Value::bytes(b"Open Mobile Alliance"))];
    let bytes = encode(OpaqueEncoder::new(p), &e);
    assert_eq!(bytes, b"Open Mobile Alliance");
    assert_eq!(
        owned(OpaqueDecoder::new(&bytes, p, DecodeLimits::default())),
        e
    );
}
