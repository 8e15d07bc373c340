//! Test fixture: the Device object instance of the TS examples
//! (OMA-TS-LightweightM2M_Core 1.1 §7.4.3.2 "TLV Examples", Table 7.4.3.2-2
//! values, reused by the other formats' examples), the declared types of
//! the Device object (OMA-SUP-XML_3) and of a test object holding one
//! resource of every type.

use alloc::vec::Vec;

use proptest::prelude::*;

use super::{DecodeError, Entry};
use crate::dm::{DataType, ObjLnk, Path, Value};

/// Declared types: Server (1), Access Control (2), Device (3) and the
/// all-types test object 1000.
pub(crate) fn types(path: &Path) -> Option<DataType> {
    let (o, r) = (path.oid()?, path.rid()?);
    Some(match (o, r) {
        (3, 0..=3 | 14..=19) => DataType::String,
        (3, 4 | 5 | 12) => DataType::None,
        (3, 6..=11 | 20 | 21) => DataType::Integer,
        (3, 13) => DataType::Time,
        (3, 22) => DataType::Objlnk,
        // Access Control (OMA-SUP-XML_2): all four are integers.
        (2, 0..=3) => DataType::Integer,
        // Server (OMA-SUP-XML_1): Short Server ID, Lifetime, Notification
        // Storing, Binding.
        (1, 0 | 1) => DataType::Integer,
        (1, 6) => DataType::Boolean,
        (1, 7) => DataType::String,
        (1000, 0) => DataType::Integer,
        (1000, 1) => DataType::UnsignedInteger,
        (1000, 2) => DataType::Float,
        (1000, 3) => DataType::Boolean,
        (1000, 4) => DataType::String,
        (1000, 5) => DataType::Opaque,
        (1000, 6) => DataType::Time,
        (1000, 7) => DataType::Objlnk,
        (1000, 8) => DataType::Corelnk,
        _ => return None,
    })
}

fn r(rid: u16, v: Value<'static>) -> Entry<'static> {
    Entry::new(Path::resource(3, 0, rid), v)
}

fn ri(rid: u16, riid: u16, v: Value<'static>) -> Entry<'static> {
    Entry::new(Path::resource_instance(3, 0, rid, riid), v)
}

/// /3/0 as the TS example reads it, in path order.
pub(crate) fn device() -> Vec<Entry<'static>> {
    alloc::vec![
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

/// One resource of every type under /1000/0.
pub(crate) fn all_types() -> Vec<Entry<'static>> {
    let e = |rid, v| Entry::new(Path::resource(1000, 0, rid), v);
    alloc::vec![
        e(0, Value::Integer(-42)),
        e(1, Value::Unsigned(u64::MAX)),
        e(2, Value::Float(2.75)),
        e(3, Value::Boolean(true)),
        e(4, Value::str("ünïcode")),
        e(5, Value::bytes(&[0, 1, 2, 0xfe, 0xff])),
        e(6, Value::Time(-1)),
        e(7, Value::Objlnk(ObjLnk { oid: 3, iid: 0 })),
        e(8, Value::Corelnk("</3/0>".into())),
    ]
}

/// Parses `"C8 00 14 4F …"` (whitespace-separated hex, as the TS prints).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Collects a decoder's output, owned.
pub(crate) fn collect<'a>(
    it: impl Iterator<Item = Result<Entry<'a>, DecodeError>>,
) -> Result<Vec<Entry<'static>>, DecodeError> {
    it.map(|e| {
        e.map(|e| Entry {
            path: e.path,
            value: e.value.into_owned(),
            time: e.time,
        })
    })
    .collect()
}

/// Runs an encoder over `entries` into a buffer of `cap` bytes.
pub(crate) fn encode_all(
    enc: &mut dyn super::Encode,
    entries: &[Entry<'_>],
    cap: usize,
) -> Result<Vec<u8>, super::EncodeError> {
    let mut buf = alloc::vec![0u8; cap];
    let mut w = crate::buf::Writer::new(&mut buf);
    enc.begin(&mut w)?;
    for e in entries {
        enc.put(&mut w, e)?;
    }
    enc.end(&mut w)?;
    Ok(w.written().to_vec())
}

pub(crate) fn arb_value(r: u16) -> BoxedStrategy<Value<'static>> {
    match r {
        0 => any::<i64>().prop_map(Value::Integer).boxed(),
        1 => any::<u64>().prop_map(Value::Unsigned).boxed(),
        2 => any::<f64>()
            .prop_filter("nan", |f| !f.is_nan())
            .prop_map(Value::Float)
            .boxed(),
        3 => any::<bool>().prop_map(Value::Boolean).boxed(),
        4 => ".{0,20}".prop_map(Value::from).boxed(),
        5 => proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(Value::from)
            .boxed(),
        6 => any::<i64>().prop_map(Value::Time).boxed(),
        7 => (any::<u16>(), any::<u16>())
            .prop_map(|(oid, iid)| Value::Objlnk(ObjLnk { oid, iid }))
            .boxed(),
        _ => ".{0,20}"
            .prop_map(|s: alloc::string::String| Value::Corelnk(s.into()))
            .boxed(),
    }
}

/// Entries under /1000, in path order: (iid, rid, optional riid) with a value
/// of the resource's declared type.
pub(crate) fn arb_entries() -> impl Strategy<Value = Vec<Entry<'static>>> {
    proptest::collection::btree_map(
        (0u16..3, 0u16..9, proptest::option::of(0u16..400)),
        Just(()),
        0..12,
    )
    .prop_flat_map(|keys| {
        // Drop resources that would also have instances.
        let mut paths: Vec<Path> = Vec::new();
        for (i, r, ri) in keys.into_keys() {
            let p = match ri {
                Some(ri) => Path::resource_instance(1000, i, r, ri),
                None => Path::resource(1000, i, r),
            };
            if paths.last().is_none_or(|q: &Path| !p.starts_with(q)) {
                paths.push(p);
            }
        }
        paths
            .into_iter()
            .map(|p| arb_value(p.rid().unwrap_or(0)).prop_map(move |v| Entry::new(p, v)))
            .collect::<Vec<_>>()
    })
}
