//! Tests of the shared SenML model, and the format table, encoder helper and
//! typed-entry strategy the SenML and LwM2M JSON tests share.

use super::*;
use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

fn text(t: PathText) -> String {
    let mut buf = [0u8; 32];
    let mut w = Writer::new(&mut buf);
    t.write(&mut w).unwrap();
    let s = core::str::from_utf8(w.written()).unwrap().to_string();
    assert_eq!(s.len(), t.len(), "{s}");
    s
}

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn names(base: &str, paths: &[&str]) -> Vec<(Option<String>, Option<String>)> {
    let mut n = Namer::new(p(base));
    paths
        .iter()
        .map(|q| {
            let r = n.names(&p(q), false).unwrap();
            (r.bn.map(text), r.n.map(text))
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn naming_policy() {
    // Core 1.1 Device example: bn "/3/0/", relative names.
    assert_eq!(
        names("/3/0", &["/3/0/0", "/3/0/6/1", "/3/0/65534"]),
        vec![(s("/3/0/"), s("0")), (None, s("6/1")), (None, s("65534"))]
    );
    // A value at the request path: bn only, then repeats with no names.
    assert_eq!(
        names("/3303/0/5700", &["/3303/0/5700", "/3303/0/5700"]),
        vec![(s("/3303/0/5700"), None), (None, None)]
    );
    // Root: full paths.
    assert_eq!(
        names("/", &["/3/0/0", "/1/0/1"]),
        vec![(None, s("/3/0/0")), (None, s("/1/0/1"))]
    );
    // Exact form then a deeper path: "/" + rest.
    assert_eq!(
        names("/3/0/6", &["/3/0/6", "/3/0/6/1"]),
        vec![(s("/3/0/6"), None), (None, s("/1"))]
    );
    // Slash form then the base itself: a new bn.
    assert_eq!(
        names("/3/0/6", &["/3/0/6/1", "/3/0/6"]),
        vec![(s("/3/0/6/"), s("1")), (s("/3/0/6"), None)]
    );
    let mut n = Namer::new(p("/3/0"));
    assert_eq!(
        n.names(&p("/4/0/0"), false),
        Err(EncodeError::Unrepresentable)
    );
    assert_eq!(
        n.names(&p("/3/0"), false),
        Err(EncodeError::Unrepresentable)
    );
    let mut n = Namer::new(p("/3/0/6"));
    n.names(&p("/3/0/6/1"), true).unwrap();
    assert_eq!(
        n.names(&p("/3/0/6"), true),
        Err(EncodeError::Unrepresentable)
    );
}

#[test]
fn resolution_carries_base_fields() {
    // RFC 8428 §5.1.2's pack, resolved per §4.6.
    let mut ctx = Context::default();
    let r = ctx
        .resolve(Record {
            base_name: Some("urn:dev:ow:10e2073a01080063:".into()),
            base_time: Some(1.276020076001e9),
            name: Some("voltage".into()),
            value: Some(RecordValue::Number(Number::Float(120.1))),
            ..Record::default()
        })
        .unwrap();
    assert_eq!(r.name(), "urn:dev:ow:10e2073a01080063:voltage");
    assert_eq!(r.time, Some(1.276020076001e9));
    let r = ctx
        .resolve(Record {
            name: Some("current".into()),
            time: Some(-5.0),
            value: Some(RecordValue::Number(Number::Float(1.2))),
            ..Record::default()
        })
        .unwrap();
    assert_eq!(r.name(), "urn:dev:ow:10e2073a01080063:current");
    assert_eq!(r.time, Some(1.276020076001e9 - 5.0));
    // Base value adds to numbers only, exactly for integers.
    let mut ctx = Context::default();
    let r = ctx
        .resolve(Record {
            base_value: Some(Number::Int(10)),
            name: Some("/1/0/1".into()),
            value: Some(RecordValue::Number(Number::Int(-3))),
            ..Record::default()
        })
        .unwrap();
    assert_eq!(r.value, Some(RecordValue::Number(Number::Int(7))));
    assert_eq!(r.time, None);
    let r = ctx
        .resolve(Record {
            name: Some("/1/0/1".into()),
            value: Some(RecordValue::Number(Number::Float(0.5))),
            ..Record::default()
        })
        .unwrap();
    assert_eq!(r.value, Some(RecordValue::Number(Number::Float(10.5))));
    assert_eq!(
        ctx.resolve(Record {
            version: Some(11),
            ..Record::default()
        }),
        Err(DecodeError::UnsupportedFormat)
    );
}

#[test]
fn names_parse_as_paths() {
    let ok = |parts: &[&str], want: &str| assert_eq!(parse_name(parts), Ok(p(want)));
    ok(&["/3/0/", "0"], "/3/0/0");
    ok(&["/3/0", "/0"], "/3/0/0");
    ok(&["", "/3/0/6/1"], "/3/0/6/1");
    ok(&["3/0/1", ""], "/3/0/1");
    ok(&["/3/0/", ""], "/3/0");
    ok(&["/", ""], "/");
    ok(
        &["/65534/65534/65534/", "65534"],
        "/65534/65534/65534/65534",
    );
    for bad in [
        &["", ""][..],
        &["/3/0/", "/0"],
        &["/3//0"],
        &["/3/0/00"],
        &["/3/65535"],
        &["/1/2/3/4/5"],
        &["urn:dev:x"],
        &["/3/0/0//"],
        &["/65534/65534/65534/65534/0"],
    ] {
        assert_eq!(parse_name(bad), Err(DecodeError::Path), "{bad:?}");
    }
}

#[test]
fn labels_and_duplicates() {
    let mut seen = Seen::default();
    seen.add(Label::Name, 0).unwrap();
    seen.add(Label::Unknown, 1).unwrap();
    seen.add(Label::Unknown, 2).unwrap();
    seen.add(Label::Value, 3).unwrap();
    assert_eq!(
        seen.add(Label::StringValue, 4),
        Err(DecodeError::Malformed { at: 4 })
    );
    assert_eq!(
        seen.add(Label::Name, 5),
        Err(DecodeError::Malformed { at: 5 })
    );
    assert_eq!(Label::from_name("foo_"), Label::MustUnderstand);
    assert_eq!(
        seen.add(Label::MustUnderstand, 6),
        Err(DecodeError::Malformed { at: 6 })
    );
    assert_eq!(Label::from_name("vlo"), Label::ObjLnk);
    assert_eq!(Label::from_cbor(-2), Label::BaseName);
    assert_eq!(Label::from_cbor(9), Label::Unknown);
}

#[test]
fn values_take_the_declared_type() {
    use crate::dm::DataType;
    let path = p("/3/0/13");
    let time = |_: &Path| Some(DataType::Time);
    assert_eq!(
        entry_value(RecordValue::Number(Number::Int(5)), &path, &time),
        Ok(Value::Time(5))
    );
    assert_eq!(
        entry_value(RecordValue::Number(Number::Float(5.5)), &path, &time),
        Err(DecodeError::Type)
    );
    let none = |_: &Path| None;
    assert_eq!(
        entry_value(RecordValue::ObjLnk("3:0".into()), &path, &none),
        Ok(Value::Objlnk(ObjLnk { oid: 3, iid: 0 }))
    );
    assert_eq!(
        entry_value(RecordValue::ObjLnk("3".into()), &path, &none),
        Err(DecodeError::Type)
    );
    // The resolver is asked about the resource, not the instance.
    let only_resource = |q: &Path| (q == &p("/3/0/6")).then_some(DataType::Integer);
    assert_eq!(
        entry_value(
            RecordValue::Number(Number::Float(1.0)),
            &p("/3/0/6/1"),
            &only_resource
        ),
        Ok(Value::Integer(1))
    );
    assert_eq!(objlnk_len(ObjLnk { oid: 65535, iid: 0 }), 7);
}

// ---------------------------------------------------------------------------
// Fixtures shared by the format tests.

use crate::content::device_fixture::{device as device_entries, types as device_types};
use crate::content::lwm2m_json::{Lwm2mJsonDecoder, Lwm2mJsonEncoder};
use crate::content::senml_cbor::{SenmlCborDecoder, SenmlCborEncoder};
use crate::content::senml_json::{SenmlJsonDecoder, SenmlJsonEncoder};
use crate::content::{DecodeLimits, Encode};
use crate::dm::DataType;
use proptest::prelude::*;

/// The formats of this part, as (name, encoder, decoder) for table tests.
pub(crate) type DecodeFn =
    for<'a> fn(&'a [u8], Path, &dyn TypeResolver) -> Result<Vec<Entry<'a>>, DecodeError>;

pub(crate) type NewEncoder = fn(Path) -> Box<dyn Encode>;

pub(crate) fn formats() -> Vec<(&'static str, NewEncoder, DecodeFn)> {
    fn sj<'a>(b: &'a [u8], p: Path, r: &dyn TypeResolver) -> Result<Vec<Entry<'a>>, DecodeError> {
        SenmlJsonDecoder::new(b, p, r, DecodeLimits::default()).collect()
    }
    fn sc<'a>(b: &'a [u8], p: Path, r: &dyn TypeResolver) -> Result<Vec<Entry<'a>>, DecodeError> {
        SenmlCborDecoder::new(b, p, r, DecodeLimits::default()).collect()
    }
    fn lj<'a>(b: &'a [u8], p: Path, r: &dyn TypeResolver) -> Result<Vec<Entry<'a>>, DecodeError> {
        Lwm2mJsonDecoder::new(b, p, r, DecodeLimits::default()).collect()
    }
    vec![
        ("senml+json", |p| Box::new(SenmlJsonEncoder::new(p)), sj),
        ("senml+cbor", |p| Box::new(SenmlCborEncoder::new(p)), sc),
        ("lwm2m+json", |p| Box::new(Lwm2mJsonEncoder::new(p)), lj),
    ]
}

/// Encodes `entries` with `enc` into a fresh buffer.
pub(crate) fn encode(enc: &mut dyn Encode, entries: &[Entry<'_>]) -> Result<Vec<u8>, EncodeError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut w = Writer::new(&mut buf);
    enc.begin(&mut w)?;
    for e in entries {
        enc.put(&mut w, e)?;
    }
    enc.end(&mut w)?;
    Ok(w.written().to_vec())
}

#[test]
fn device_object_reads_the_same_in_every_format() {
    let entries = device_entries();
    for (name, new, decode) in formats() {
        for base in [Path::instance(3, 0), Path::object(3), Path::ROOT] {
            let bytes = encode(new(base).as_mut(), &entries).unwrap();
            let back = decode(&bytes, base, &device_types).unwrap();
            assert_eq!(back, entries, "{name} under {base}");
        }
        // Without the object definition the values keep their wire types:
        // Time is a plain number then.
        let bytes = encode(new(Path::instance(3, 0)).as_mut(), &entries).unwrap();
        let back = decode(&bytes, Path::instance(3, 0), &|_: &Path| None).unwrap();
        assert_eq!(back[13].value, Value::Integer(1367491215), "{name}");
    }
}

#[test]
fn every_format_refuses_what_it_cannot_write() {
    for (name, new, _) in formats() {
        let e = [Entry::new(Path::resource(4, 0, 0), Value::Integer(1))];
        assert_eq!(
            encode(new(Path::instance(3, 0)).as_mut(), &e),
            Err(EncodeError::Unrepresentable),
            "{name}: outside the base path"
        );
        let e = [Entry::new(Path::resource(3, 0, 0), Value::Float(f64::NAN))];
        let r = encode(new(Path::ROOT).as_mut(), &e);
        if name == "senml+cbor" {
            assert!(r.is_ok(), "CBOR has NaN");
        } else {
            assert_eq!(r, Err(EncodeError::Unrepresentable), "{name}: NaN");
        }
        // A full buffer is an overflow, never a panic.
        let mut small = [0u8; 20];
        let mut w = Writer::new(&mut small);
        let mut enc = new(Path::instance(3, 0));
        let r = enc
            .begin(&mut w)
            .and_then(|_| device_entries().iter().try_for_each(|e| enc.put(&mut w, e)));
        assert_eq!(r, Err(EncodeError::Overflow), "{name}");
    }
}

/// A data type per resource id, so generated entries and the resolver agree.
pub(crate) fn type_of_rid(rid: u16) -> DataType {
    match rid % 9 {
        0 => DataType::Integer,
        1 => DataType::UnsignedInteger,
        2 => DataType::Float,
        3 => DataType::Boolean,
        4 => DataType::String,
        5 => DataType::Opaque,
        6 => DataType::Time,
        7 => DataType::Objlnk,
        _ => DataType::Corelnk,
    }
}

pub(crate) fn typed(p: &Path) -> Option<DataType> {
    p.rid().map(type_of_rid)
}

fn value_of(t: DataType) -> BoxedStrategy<Value<'static>> {
    match t {
        DataType::Integer => any::<i64>().prop_map(Value::Integer).boxed(),
        DataType::UnsignedInteger => any::<u64>().prop_map(Value::Unsigned).boxed(),
        DataType::Float => prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            Just(3.0),
            Just(-0.0),
            Just(1.5),
            Just(65504.0),
            Just(1e-7),
        ]
        .prop_map(Value::Float)
        .boxed(),
        DataType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        DataType::String => any::<String>().prop_map(Value::from).boxed(),
        DataType::Opaque => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(Value::from)
            .boxed(),
        DataType::Time => any::<i64>().prop_map(Value::Time).boxed(),
        DataType::Objlnk => (any::<u16>(), any::<u16>())
            .prop_map(|(oid, iid)| Value::Objlnk(ObjLnk { oid, iid }))
            .boxed(),
        _ => "[ -~]{0,20}"
            .prop_map(|s| Value::Corelnk(Cow::Owned(s)))
            .boxed(),
    }
}

/// Entries under `/oid/iid`, in path order, with values of their
/// resource's type and sometimes a time.
pub(crate) fn entries_strategy() -> impl Strategy<Value = (Path, Vec<Entry<'static>>)> {
    let id = 0u16..65535;
    let one = (id.clone(), proptest::option::of(id.clone())).prop_flat_map(|(rid, riid)| {
        let time = proptest::option::of(prop_oneof![
            any::<i32>().prop_map(f64::from),
            (-1e12f64..1e12),
        ]);
        (value_of(type_of_rid(rid)), time).prop_map(move |(value, time)| (rid, riid, value, time))
    });
    (id.clone(), id, proptest::collection::vec(one, 0..12)).prop_map(|(oid, iid, items)| {
        let base = Path::instance(oid, iid);
        let mut entries: Vec<Entry<'static>> = items
            .into_iter()
            .map(|(rid, riid, value, time)| {
                let path = match riid {
                    Some(ri) => Path::resource_instance(oid, iid, rid, ri),
                    None => Path::resource(oid, iid, rid),
                };
                Entry { path, value, time }
            })
            .collect();
        entries.sort_by_key(|e| e.path);
        (base, entries)
    })
}

proptest! {
    #[test]
    fn every_format_round_trips_typed_entries((base, entries) in entries_strategy()) {
        for (name, new, decode) in formats() {
            for b in [base, Path::ROOT] {
                let bytes = encode(new(b).as_mut(), &entries).unwrap();
                let back = decode(&bytes, b, &typed);
                prop_assert_eq!(back.as_ref(), Ok(&entries), "{} under {}", name, b);
            }
        }
    }
}
