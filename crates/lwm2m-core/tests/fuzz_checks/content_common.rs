// Shared by the content-format fuzz checks (`text`, `opaque`, `tlv`,
// `cbor`, `lwm2m_cbor`): declared types, owned decoding, NaN-aware entry
// comparison and the encoder's ordering rule.

use lwm2m_core::buf::Writer;
use lwm2m_core::content::{DecodeError, DecodeLimits, Encode, Entry};
use lwm2m_core::dm::{DataType, Path, Value};

/// Device (3) as in OMA-SUP-XML_3, and test object 1000 with resource `r`
/// of every type in turn (`r` >= 9: unknown).
#[allow(dead_code)]
fn types(path: &Path) -> Option<DataType> {
    let (o, r) = (path.oid()?, path.rid()?);
    Some(match (o, r) {
        (3, 0..=3 | 14..=19) => DataType::String,
        (3, 4 | 5 | 12) => DataType::None,
        (3, 6..=11 | 20 | 21) => DataType::Integer,
        (3, 13) => DataType::Time,
        (3, 22) => DataType::Objlnk,
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

#[allow(dead_code)]
fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

#[allow(dead_code)]
fn owned<'a>(
    it: impl Iterator<Item = Result<Entry<'a>, DecodeError>>,
) -> Result<Vec<Entry<'static>>, DecodeError> {
    it.map(|e| {
        e.map(|e| Entry { path: e.path, value: e.value.into_owned(), time: e.time })
    })
    .collect()
}

#[allow(dead_code)]
fn encode(enc: &mut dyn Encode, entries: &[Entry<'_>], cap: usize) -> Vec<u8> {
    let mut buf = vec![0u8; cap];
    let mut w = Writer::new(&mut buf);
    enc.begin(&mut w).expect("begin");
    for e in entries {
        enc.put(&mut w, e).expect("decoded entries re-encode");
    }
    enc.end(&mut w).expect("end");
    w.written().to_vec()
}

#[allow(dead_code)]
fn same_value(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

#[allow(dead_code)]
fn same(a: &[Entry<'_>], b: &[Entry<'_>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.path == y.path && same_value(&x.value, &y.value))
}

/// Entries a hierarchical encoder accepts: strictly increasing paths, no
/// value both at a resource and at its instances.
#[allow(dead_code)]
fn in_order(entries: &[Entry<'_>]) -> bool {
    entries
        .windows(2)
        .all(|w| w[0].path < w[1].path && !w[1].path.starts_with(&w[0].path))
}
