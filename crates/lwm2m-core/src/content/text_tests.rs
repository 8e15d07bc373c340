//! Plain Text vectors (Core 1.1 §7.4.1, Appendix C) and properties.

use super::*;
use crate::content::device_fixture::{all_types, collect, device, encode_all, types};
use proptest::prelude::*;

fn enc(path: Path, v: Value<'_>) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    encode_all(&mut TextEncoder::new(path), &[Entry::new(path, v)], 64)
}

fn dec(path: Path, text: &[u8]) -> Result<Value<'static>, DecodeError> {
    let mut all = collect(TextDecoder::new(
        text,
        path,
        &types,
        DecodeLimits::default(),
    ))?;
    assert_eq!(all.len(), 1);
    Ok(all.remove(0).value)
}

/// Core 1.1 §7.4.1: "Req: Get /3/0/0 … Res: 2.05 Content Open Mobile Alliance".
#[test]
fn ts_example_manufacturer() {
    let p = Path::resource(3, 0, 0);
    assert_eq!(
        enc(p, Value::str("Open Mobile Alliance")).unwrap(),
        b"Open Mobile Alliance"
    );
    assert_eq!(
        dec(p, b"Open Mobile Alliance").unwrap(),
        Value::str("Open Mobile Alliance")
    );
}

/// The Device example's numeric resources as text (values of Core 1.1
/// §7.4.3.2 Table 7.4.3.2-2): Battery Level, Current Time, a Power Source
/// Voltage instance.
#[test]
fn ts_device_numbers() {
    let cases = [
        (Path::resource(3, 0, 9), Value::Integer(100), &b"100"[..]),
        (
            Path::resource(3, 0, 13),
            Value::Time(1_367_491_215),
            &b"1367491215"[..],
        ),
        (
            Path::resource_instance(3, 0, 7, 0),
            Value::Integer(3800),
            &b"3800"[..],
        ),
    ];
    for (p, v, text) in cases {
        assert_eq!(enc(p, v.clone()).unwrap(), text);
        assert_eq!(dec(p, text).unwrap(), v);
    }
}

/// Appendix C text forms of every other type.
#[test]
fn appendix_c_forms() {
    let p = |r| Path::resource(1000, 0, r);
    let cases: &[(u16, Value<'_>, &[u8])] = &[
        (0, Value::Integer(-42), b"-42"),
        (1, Value::Unsigned(u64::MAX), b"18446744073709551615"),
        (2, Value::Float(2.75), b"2.75"),
        (2, Value::Float(-0.5), b"-0.5"),
        (2, Value::Float(1e300), b"1e300"),
        (2, Value::Float(2.5e-7), b"2.5e-7"),
        (2, Value::Float(123456789012.0), b"123456789012"),
        (3, Value::Boolean(true), b"1"),
        (3, Value::Boolean(false), b"0"),
        (5, Value::bytes(b"foobar"), b"Zm9vYmFy"),
        (
            7,
            Value::Objlnk(crate::dm::ObjLnk { oid: 3, iid: 0 }),
            b"3:0",
        ),
        (8, Value::Corelnk("</3/0>".into()), b"</3/0>"),
    ];
    for (r, v, text) in cases {
        assert_eq!(enc(p(*r), v.clone()).unwrap(), *text, "{v:?}");
        assert_eq!(dec(p(*r), text).unwrap(), *v, "{v:?}");
    }
}

#[test]
fn decode_rejects_what_the_type_does_not_allow() {
    let p = |r| Path::resource(1000, 0, r);
    for (r, text) in [
        (0, &b"1.5"[..]),
        (0, b"9223372036854775808"),
        (0, b""),
        (1, b"-1"),
        (2, b"inf"),
        (2, b"NaN"),
        (2, b"1e400"),
        (3, b"true"),
        (3, b"2"),
        (5, b"Zg="),
        (7, b"3"),
        (7, b"3:65536"),
    ] {
        assert_eq!(dec(p(r), text), Err(DecodeError::Type), "{text:?}");
    }
    assert_eq!(
        dec(p(4), b"\xff\xfe"),
        Err(DecodeError::Malformed { at: 0 })
    );
    let tight = DecodeLimits {
        max_value_len: 3,
        ..DecodeLimits::default()
    };
    let mut d = TextDecoder::new(b"abcd", p(4), &types, tight);
    assert_eq!(d.next(), Some(Err(DecodeError::TooLarge)));
    assert_eq!(d.next(), None);
}

#[test]
fn only_one_value_at_the_request_path() {
    // Core 1.1 §7.4.1: Plain Text is for a single resource (instance).
    let p = Path::resource(3, 0, 0);
    let v = Value::str("x");
    let mut e = TextEncoder::new(p);
    let two = [Entry::new(p, v.clone()), Entry::new(p, v.clone())];
    assert_eq!(
        encode_all(&mut e, &two, 64),
        Err(EncodeError::Unrepresentable)
    );
    // A multiple resource read as text (its instances under /3/0/6).
    let inst = [Entry::new(
        Path::resource_instance(3, 0, 6, 0),
        Value::Integer(1),
    )];
    assert_eq!(
        encode_all(&mut TextEncoder::new(Path::resource(3, 0, 6)), &inst, 64),
        Err(EncodeError::Unrepresentable)
    );
    assert_eq!(
        encode_all(&mut TextEncoder::new(Path::instance(3, 0)), &device(), 512),
        Err(EncodeError::Unrepresentable)
    );
    assert_eq!(
        encode_all(&mut TextEncoder::new(p), &[], 64),
        Err(EncodeError::Unrepresentable)
    );
    assert_eq!(
        enc(Path::resource(1000, 0, 2), Value::Float(f64::NAN)),
        Err(EncodeError::Unrepresentable)
    );
    let mut d = TextDecoder::new(b"1", Path::instance(3, 0), &types, DecodeLimits::default());
    assert_eq!(d.next(), Some(Err(DecodeError::UnsupportedFormat)));
    assert_eq!(d.next(), None);
}

#[test]
fn strings_are_borrowed() {
    let payload = b"Open Mobile Alliance";
    let mut d = TextDecoder::new(
        payload,
        Path::resource(3, 0, 0),
        &types,
        DecodeLimits::default(),
    );
    match d.next() {
        Some(Ok(Entry {
            value: Value::String(Cow::Borrowed(s)),
            ..
        })) => {
            assert_eq!(s.as_ptr(), payload.as_ptr());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn all_types_round_trip() {
    for e in all_types() {
        let bytes = enc(e.path, e.value.clone()).unwrap();
        assert_eq!(dec(e.path, &bytes).unwrap(), e.value, "{e:?}");
    }
}

proptest! {
    #[test]
    fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), r in 0u16..10) {
        let _ = collect(TextDecoder::new(&data, Path::resource(1000, 0, r), &types, DecodeLimits::default()));
    }

    #[test]
    fn floats_round_trip_exactly(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let p = Path::resource(1000, 0, 2);
        let text = enc(p, Value::Float(f)).unwrap();
        prop_assert_eq!(dec(p, &text).unwrap(), Value::Float(f));
        // Sign, "0.00000" and 17 significant digits: at most 25 characters.
        prop_assert!(text.len() <= 25, "{}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn integers_round_trip(i in any::<i64>(), u in any::<u64>()) {
        let p = Path::resource(1000, 0, 0);
        prop_assert_eq!(dec(p, &enc(p, Value::Integer(i)).unwrap()).unwrap(), Value::Integer(i));
        let p = Path::resource(1000, 0, 1);
        prop_assert_eq!(dec(p, &enc(p, Value::Unsigned(u)).unwrap()).unwrap(), Value::Unsigned(u));
    }

    #[test]
    fn opaque_round_trips(b in proptest::collection::vec(any::<u8>(), 0..40)) {
        let p = Path::resource(1000, 0, 5);
        let text = encode_all(&mut TextEncoder::new(p), &[Entry::new(p, Value::bytes(&b))], 128).unwrap();
        prop_assert_eq!(dec(p, &text).unwrap(), Value::bytes(&b));
    }
}

/// Found by the property above: the longest decimal form (25 characters).
#[test]
fn longest_plain_decimal_round_trips() {
    let p = Path::resource(1000, 0, 2);
    let f = -1.7299095716105882e-6;
    let text = enc(p, Value::Float(f)).unwrap();
    assert_eq!(text, b"-0.0000017299095716105882");
    assert_eq!(dec(p, &text).unwrap(), Value::Float(f));
}
