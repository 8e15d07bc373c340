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

/// The built-in Device object (`lwm2m_core::objects::Device`) holding the
/// example's values, read through the data model (`dm::ops::read`) in every
/// value format, decodes to the same entries: the object and the codecs
/// agree on every resource's type and layout.
#[test]
fn the_device_object_reads_the_same_in_every_format() {
    use lwm2m_core::content::{Decoder, Encoder};
    use lwm2m_core::dm::ops::read::read;
    use lwm2m_core::dm::{Origin, Registry};
    use lwm2m_core::objects::device::{PowerSource, PowerSourceKind};
    use lwm2m_core::objects::{Device, StaticDeviceInfo};

    let info = StaticDeviceInfo {
        manufacturer: Some("Open Mobile Alliance".into()),
        model_number: Some("Lightweight M2M Client".into()),
        serial_number: Some("345000123".into()),
        firmware_version: Some("1.0".into()),
        power_sources: vec![
            PowerSource {
                kind: PowerSourceKind::InternalBattery,
                voltage_mv: Some(3800),
                current_ma: Some(125),
            },
            PowerSource {
                kind: PowerSourceKind::Usb,
                voltage_mv: Some(5000),
                current_ma: Some(900),
            },
        ],
        battery_level: Some(100),
        memory_free: Some(15),
        current_time: Some(1_367_491_215),
        ..StaticDeviceInfo::default()
    };
    let mut reg = Registry::new();
    reg.add_object(Device::new(info).with_utc_offset("+02:00"))
        .unwrap();
    let read_as = |format: Format, path: Path| -> Vec<Entry<'static>> {
        let mut buf = [0u8; 1024];
        let mut w = Writer::new(&mut buf);
        let mut enc = Encoder::new(format, path).unwrap();
        read(&reg, Origin::Server(1), &path, &mut enc, &mut w).unwrap();
        let payload = w.written().to_vec();
        owned(Decoder::new(format, &payload, path, &reg, DecodeLimits::default()).unwrap())
    };
    for format in [
        Format::Tlv,
        Format::Lwm2mCbor,
        Format::SenmlJson,
        Format::SenmlCbor,
        Format::Lwm2mJson,
    ] {
        assert_eq!(
            read_as(format, Path::instance(3, 0)),
            device(),
            "{format:?}"
        );
        assert_eq!(read_as(format, Path::object(3)), device(), "{format:?}");
    }
    for format in [Format::Text, Format::Cbor] {
        let got: Vec<_> = device()
            .iter()
            .flat_map(|e| read_as(format, e.path))
            .collect();
        assert_eq!(got, device(), "{format:?}");
    }
}
