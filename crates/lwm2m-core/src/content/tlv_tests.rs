//! TLV vectors from OMA-TS-LightweightM2M_Core 1.1 §7.4.3.2 "TLV Examples",
//! round trips and malformed input.

use super::*;
use crate::content::device_fixture::{
    all_types, arb_entries, collect, device, encode_all, hex, types,
};
use alloc::vec::Vec;
use proptest::prelude::*;

/// Core 1.1 §7.4.3.2, first example: Read of the single Device instance
/// `/3/0` (the byte listing beside Table 7.4.3.2-2 of its values).
const DEVICE_3_0: &str = "
    C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
    C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
    C8 02 09 33 34 35 30 30 30 31 32 33
    C3 03 31 2E 30
    86 06 41 00 01 41 01 05
    88 07 08 42 00 0E D8 42 01 13 88
    87 08 41 00 7D 42 01 03 84
    C1 09 64
    C1 0A 0F
    83 0B 41 00 00
    C4 0D 51 82 42 8F
    C6 0E 2B 30 32 3A 30 30
    C1 10 55";

fn decode(payload: &[u8], base: Path) -> Result<Vec<Entry<'static>>, DecodeError> {
    collect(TlvDecoder::new(
        payload,
        base,
        &types,
        DecodeLimits::default(),
    ))
}

fn encode(base: Path, entries: &[Entry<'_>]) -> Result<Vec<u8>, EncodeError> {
    encode_all(&mut TlvEncoder::new(base), entries, 1 << 18)
}

fn at(path: Path, entries: &[Entry<'static>]) -> Vec<Entry<'static>> {
    entries
        .iter()
        .filter(|e| e.path.starts_with(&path))
        .cloned()
        .collect()
}

#[test]
fn ts_device_instance_read() {
    let bytes = hex(DEVICE_3_0);
    assert_eq!(bytes.len(), 0x79);
    assert_eq!(decode(&bytes, Path::instance(3, 0)).unwrap(), device());
    assert_eq!(encode(Path::instance(3, 0), &device()).unwrap(), bytes);
}

/// Core 1.1 §7.4.3.2, second example: Read of the Device object `/3`, the
/// same resources wrapped in Object Instance TLV `08 00 79`.
#[test]
fn ts_device_object_read() {
    let mut bytes = hex("08 00 79");
    bytes.extend(hex(DEVICE_3_0));
    assert_eq!(decode(&bytes, Path::object(3)).unwrap(), device());
    assert_eq!(encode(Path::object(3), &device()).unwrap(), bytes);
}

/// The multiple resources of the Device example read on their own (Core 1.1
/// §6.4.1 Read on a resource; bytes are the TLVs of the example above),
/// one resource instance (LwM2M 1.1 Read on `/3/0/6/1`), and a single
/// resource.
#[test]
fn ts_device_resources_and_instances() {
    let cases = [
        (Path::resource(3, 0, 6), "86 06 41 00 01 41 01 05"),
        (Path::resource(3, 0, 7), "88 07 08 42 00 0E D8 42 01 13 88"),
        (Path::resource(3, 0, 8), "87 08 41 00 7D 42 01 03 84"),
        (Path::resource(3, 0, 11), "83 0B 41 00 00"),
        (Path::resource_instance(3, 0, 6, 1), "41 01 05"),
        (Path::resource_instance(3, 0, 7, 0), "42 00 0E D8"),
        (Path::resource(3, 0, 13), "C4 0D 51 82 42 8F"),
        (
            Path::resource(3, 0, 0),
            "C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65",
        ),
    ];
    for (path, h) in cases {
        let want = at(path, &device());
        assert!(!want.is_empty());
        assert_eq!(encode(path, &want).unwrap(), hex(h), "{path}");
        assert_eq!(decode(&hex(h), path).unwrap(), want, "{path}");
    }
}

/// Core 1.1 §7.4.3.2, "Multiple Object Instance Request": Read of Access
/// Control `/2` with instances 0 and 2. The TS prints the Multiple Resource
/// header of instance 2's ACL as `86 02`, but its content (`41 7F 07 61 01
/// 36 01`) is 7 bytes and the enclosing length 0x12 counts 7: the correct
/// header is `87 02`, which is what is encoded and decoded here.
#[test]
fn ts_access_control_read() {
    let bytes = hex("08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F
         08 02 12 C1 00 03 C1 01 00 87 02 41 7F 07 61 01 36 01 C1 03 7F");
    let e = |i, r, v| Entry::new(Path::resource(2, i, r), Value::Integer(v));
    let ri = |i, r, ri, v| Entry::new(Path::resource_instance(2, i, r, ri), Value::Integer(v));
    let want = alloc::vec![
        e(0, 0, 1),
        e(0, 1, 0),
        ri(0, 2, 127, 7),
        e(0, 3, 127),
        e(2, 0, 3),
        e(2, 1, 0),
        ri(2, 2, 127, 7),
        ri(2, 2, 310, 1),
        e(2, 3, 127),
    ];
    assert_eq!(decode(&bytes, Path::object(2)).unwrap(), want);
    assert_eq!(encode(Path::object(2), &want).unwrap(), bytes);

    let mut misprint = bytes.clone();
    let i = misprint.iter().position(|&b| b == 0x87).unwrap();
    misprint[i] = 0x86;
    assert!(matches!(
        decode(&misprint, Path::object(2)),
        Err(DecodeError::Malformed { .. })
    ));
}

/// Core 1.1 §7.4.3.2, Read of Server `/1` with one instance: Short Server
/// ID 1, Lifetime 86400, Notification Storing true, Binding "U". (The
/// Object Instance length is 0x0F: 3 + 6 + 3 + 3 bytes.)
#[test]
fn ts_server_read() {
    let bytes = hex("08 00 0F C1 00 01 C4 01 00 01 51 80 C1 06 01 C1 07 55");
    let want = alloc::vec![
        Entry::new(Path::resource(1, 0, 0), Value::Integer(1)),
        Entry::new(Path::resource(1, 0, 1), Value::Integer(86400)),
        Entry::new(Path::resource(1, 0, 6), Value::Boolean(true)),
        Entry::new(Path::resource(1, 0, 7), Value::str("U")),
    ];
    assert_eq!(decode(&bytes, Path::object(1)).unwrap(), want);
    assert_eq!(encode(Path::object(1), &want).unwrap(), bytes);
}

/// Core 1.1 §7.4.3.2, the Object Link examples: an instance `/66/0` with a
/// multiple Objlnk resource (66:0, 66:1), a string and a 4-byte integer;
/// then `/66` with two instances, each with two strings and an Objlnk
/// (67:0, and the null link 65535:65535).
#[test]
fn ts_object_link_examples() {
    let ty1 = |p: &Path| match p.rid()? {
        0 => Some(DataType::Objlnk),
        1 => Some(DataType::String),
        _ => Some(DataType::Integer),
    };
    let bytes = hex("88 00 0C 44 00 00 42 00 00 44 01 00 42 00 01
         C8 01 0D 38 36 31 33 38 30 30 37 35 35 35 30 30
         C4 02 12 34 56 78");
    let link = |oid, iid| Value::Objlnk(ObjLnk { oid, iid });
    let want = alloc::vec![
        Entry::new(Path::resource_instance(66, 0, 0, 0), link(66, 0)),
        Entry::new(Path::resource_instance(66, 0, 0, 1), link(66, 1)),
        Entry::new(Path::resource(66, 0, 1), Value::str("8613800755500")),
        Entry::new(Path::resource(66, 0, 2), Value::Integer(0x1234_5678)),
    ];
    let base = Path::instance(66, 0);
    assert_eq!(
        collect(TlvDecoder::new(&bytes, base, &ty1, DecodeLimits::default())).unwrap(),
        want
    );
    assert_eq!(encode(base, &want).unwrap(), bytes);

    let ty2 = |p: &Path| match p.rid()? {
        0 | 1 => Some(DataType::String),
        _ => Some(DataType::Objlnk),
    };
    let bytes = hex("08 00 26
           C8 00 0B 6D 79 53 65 72 76 69 63 65 20 31
           C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 34
           C4 02 00 43 00 00
         08 01 26
           C8 00 0B 6D 79 53 65 72 76 69 63 65 20 32
           C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 35
           C4 02 FF FF FF FF");
    let r = |i, r, v| Entry::new(Path::resource(66, i, r), v);
    let want = alloc::vec![
        r(0, 0, Value::str("myService 1")),
        r(0, 1, Value::str("Internet.15.234")),
        r(0, 2, link(67, 0)),
        r(1, 0, Value::str("myService 2")),
        r(1, 1, Value::str("Internet.15.235")),
        r(1, 2, link(65535, 65535)),
    ];
    let base = Path::object(66);
    assert_eq!(
        collect(TlvDecoder::new(&bytes, base, &ty2, DecodeLimits::default())).unwrap(),
        want
    );
    assert_eq!(encode(base, &want).unwrap(), bytes);
}

#[test]
fn identifiers_and_lengths_use_the_short_forms_when_they_fit() {
    // 16-bit id: type bit 5.
    let e = [Entry::new(Path::resource(1000, 0, 300), Value::Integer(1))];
    let ty = |_: &Path| Some(DataType::Integer);
    assert_eq!(
        encode(Path::instance(1000, 0), &e).unwrap(),
        hex("E1 01 2C 01")
    );
    // Lengths 7, 8, 255, 256, 65535 and 65536: 3-bit, 8, 8, 16, 16, 24-bit.
    for (n, head) in [
        (7usize, "C7 04"),
        (8, "C8 04 08"),
        (255, "C8 04 FF"),
        (256, "D0 04 01 00"),
        (65535, "D0 04 FF FF"),
        (65536, "D8 04 01 00 00"),
    ] {
        let s = "x".repeat(n);
        let e = [Entry::new(Path::resource(1000, 0, 4), Value::str(&s))];
        let out = encode(Path::instance(1000, 0), &e).unwrap();
        let h = hex(head);
        assert_eq!(&out[..h.len()], &h[..], "{n}");
        assert_eq!(out.len(), h.len() + n);
        assert_eq!(decode(&out, Path::instance(1000, 0)).unwrap(), e);
    }
    // A container around a long value gets a long length too.
    let s = "y".repeat(300);
    let e = [Entry::new(
        Path::resource_instance(1000, 0, 4, 0),
        Value::str(&s),
    )];
    let out = encode(Path::instance(1000, 0), &e).unwrap();
    assert_eq!(&out[..4], &hex("90 04 01 30")[..]);
    // Decoders accept a longer length field than needed.
    let lax = hex("D0 00 00 01 05");
    assert_eq!(
        collect(TlvDecoder::new(
            &lax,
            Path::instance(1000, 0),
            &ty,
            DecodeLimits::default()
        ))
        .unwrap(),
        [Entry::new(Path::resource(1000, 0, 0), Value::Integer(5))]
    );
}

/// Appendix C TLV column: widths of numbers.
#[test]
fn numbers_use_appendix_c_widths() {
    let base = Path::instance(1000, 0);
    let cases: &[(u16, Value<'_>, &str)] = &[
        (0, Value::Integer(-1), "C1 00 FF"),
        (0, Value::Integer(128), "C2 00 00 80"),
        (0, Value::Integer(-129), "C2 00 FF 7F"),
        (
            0,
            Value::Integer(i64::MIN),
            "C8 00 08 80 00 00 00 00 00 00 00",
        ),
        (1, Value::Unsigned(200), "C2 01 00 C8"),
        (
            1,
            Value::Unsigned(u64::MAX),
            "C8 01 08 FF FF FF FF FF FF FF FF",
        ),
        (2, Value::Float(1.5), "C4 02 3F C0 00 00"),
        (2, Value::Float(1.1), "C8 02 08 3F F1 99 99 99 99 99 9A"),
        (3, Value::Boolean(false), "C1 03 00"),
        (6, Value::Time(1_367_491_215), "C4 06 51 82 42 8F"),
        (
            7,
            Value::Objlnk(ObjLnk { oid: 3, iid: 1 }),
            "C4 07 00 03 00 01",
        ),
    ];
    for (r, v, h) in cases {
        let e = [Entry::new(Path::resource(1000, 0, *r), v.clone())];
        assert_eq!(encode(base, &e).unwrap(), hex(h), "{v:?}");
        assert_eq!(decode(&hex(h), base).unwrap(), e, "{v:?}");
    }
    // Unsigned values are read unsigned whatever the width.
    assert_eq!(
        decode(&hex("C1 01 C8"), base).unwrap(),
        [Entry::new(Path::resource(1000, 0, 1), Value::Unsigned(200))]
    );
}

#[test]
fn decoded_strings_and_opaque_are_borrowed() {
    let bytes = hex(DEVICE_3_0);
    let first = TlvDecoder::new(
        &bytes,
        Path::instance(3, 0),
        &types,
        DecodeLimits::default(),
    )
    .next()
    .unwrap()
    .unwrap();
    match first.value {
        Value::String(Cow::Borrowed(s)) => assert_eq!(s.as_ptr(), bytes[3..].as_ptr()),
        other => panic!("{other:?}"),
    }
    // Unknown resource: handed on as Opaque, borrowed.
    let raw = hex("C3 63 01 02 03");
    match decode(&raw, Path::instance(3, 0)).unwrap().as_slice() {
        [
            Entry {
                path,
                value: Value::Opaque(b),
                ..
            },
        ] => {
            assert_eq!(*path, Path::resource(3, 0, 99));
            assert_eq!(&b[..], &[1, 2, 3]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn paths_are_relative_to_the_request() {
    // A Write to /3/0/7 carrying the Multiple Resource TLV, or bare
    // resource instances.
    let multi = hex("88 07 08 42 00 0E D8 42 01 13 88");
    let want = at(Path::resource(3, 0, 7), &device());
    assert_eq!(decode(&multi, Path::resource(3, 0, 7)).unwrap(), want);
    assert_eq!(
        decode(&hex("42 00 0E D8 42 01 13 88"), Path::resource(3, 0, 7)).unwrap(),
        want
    );
    // A Write to /3/0 wrapped in its Object Instance TLV.
    let wrapped = hex("08 00 03 C1 09 64");
    assert_eq!(
        decode(&wrapped, Path::instance(3, 0)).unwrap(),
        [Entry::new(Path::resource(3, 0, 9), Value::Integer(100))]
    );
    // Anything outside the request's path.
    for (payload, base) in [
        ("08 01 03 C1 09 64", Path::instance(3, 0)),
        ("C1 09 64", Path::resource(3, 0, 7)),
        ("88 06 08 42 00 0E D8 42 01 13 88", Path::resource(3, 0, 7)),
        ("42 01 13 88", Path::resource_instance(3, 0, 7, 0)),
        ("41 00 01", Path::instance(3, 0)),
        ("C1 09 64", Path::object(3)),
        ("08 00 03 C1 09 64", Path::ROOT),
        ("E1 FF FF 01", Path::instance(3, 0)),
    ] {
        assert_eq!(
            decode(&hex(payload), base),
            Err(DecodeError::Path),
            "{payload} at {base}"
        );
    }
}

#[test]
fn create_without_instance_id() {
    assert!(starts_with_instance(&hex("08 00 03 C1 09 64")));
    assert!(!starts_with_instance(&hex("C1 09 64")));
    assert!(!starts_with_instance(&[]));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let base = Path::instance(3, 0);
    for payload in [
        "C8",                   // no id
        "C8 00",                // no length byte
        "C8 00 05 41",          // value past the end
        "F0 00",                // 16-bit id cut short
        "86 06 41 00 01 41 01", // container longer than the payload
        "86 03 C1 00 01",       // a resource inside a multiple resource
        "08 00 03 C1 09 64",    // fine at /3 ...
    ] {
        let r = decode(&hex(payload), base);
        if payload.starts_with("08") {
            assert!(r.is_ok());
            continue;
        }
        assert!(
            matches!(r, Err(DecodeError::Malformed { .. })),
            "{payload}: {r:?}"
        );
    }
    for (payload, why) in [
        ("C3 09 00 00 01", "3-byte integer"),
        ("C2 0D 00 01", "ok"),
        ("C2 00 FF FE", "invalid UTF-8 string"),
        ("C0 04", "executable resource has no value"),
    ] {
        let r = decode(&hex(payload), base);
        if why == "ok" {
            assert!(r.is_ok(), "{payload}");
        } else {
            assert_eq!(r, Err(DecodeError::Type), "{why}");
        }
    }
    let tight = DecodeLimits {
        max_entries: 3,
        ..DecodeLimits::default()
    };
    let r = collect(TlvDecoder::new(&hex(DEVICE_3_0), base, &types, tight));
    assert_eq!(r, Err(DecodeError::TooLarge));
    let tight = DecodeLimits {
        max_value_len: 10,
        ..DecodeLimits::default()
    };
    let r = collect(TlvDecoder::new(&hex(DEVICE_3_0), base, &types, tight));
    assert_eq!(r, Err(DecodeError::TooLarge));
    let flat = DecodeLimits {
        max_depth: 1,
        ..DecodeLimits::default()
    };
    let mut wrapped = hex("08 00 79");
    wrapped.extend(hex(DEVICE_3_0));
    let r = collect(TlvDecoder::new(&wrapped, Path::object(3), &types, flat));
    assert_eq!(r, Err(DecodeError::TooLarge));
    // After an error the decoder is finished.
    let bytes = hex("C8");
    let mut d = TlvDecoder::new(&bytes, base, &types, DecodeLimits::default());
    assert!(d.next().unwrap().is_err());
    assert!(d.next().is_none());
}

#[test]
fn encoder_refuses_what_tlv_cannot_say() {
    let d = device();
    // The root has no TLV form; entries outside the base; out of order;
    // a resource and its own instance.
    assert_eq!(encode(Path::ROOT, &d), Err(EncodeError::Unrepresentable));
    assert_eq!(
        encode(Path::instance(3, 1), &d),
        Err(EncodeError::Unrepresentable)
    );
    let mut rev = d.clone();
    rev.reverse();
    assert_eq!(
        encode(Path::instance(3, 0), &rev),
        Err(EncodeError::Unrepresentable)
    );
    let both = [
        Entry::new(Path::resource(3, 0, 6), Value::Integer(1)),
        Entry::new(Path::resource_instance(3, 0, 6, 0), Value::Integer(1)),
    ];
    assert_eq!(
        encode(Path::instance(3, 0), &both),
        Err(EncodeError::Unrepresentable)
    );
    let inst = [Entry::new(Path::instance(3, 0), Value::Integer(1))];
    assert_eq!(
        encode(Path::object(3), &inst),
        Err(EncodeError::Unrepresentable)
    );
    // Too small a buffer, at every size.
    let full = encode(Path::object(3), &d).unwrap();
    for cap in 0..full.len() {
        assert_eq!(
            encode_all(&mut TlvEncoder::new(Path::object(3)), &d, cap),
            Err(EncodeError::Overflow),
            "{cap}"
        );
    }
    // Nothing to say is an empty payload.
    assert_eq!(encode(Path::instance(3, 0), &[]).unwrap(), Vec::<u8>::new());
}

#[test]
fn all_types_round_trip() {
    let e = all_types();
    for base in [Path::object(1000), Path::instance(1000, 0)] {
        let bytes = encode(base, &e).unwrap();
        assert_eq!(decode(&bytes, base).unwrap(), e);
    }
}

proptest! {
    #[test]
    fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), b in 0usize..5) {
        let base = [Path::ROOT, Path::object(3), Path::instance(3, 0), Path::resource(3, 0, 7), Path::resource_instance(3, 0, 7, 1)][b];
        let _ = decode(&data, base);
    }

    #[test]
    fn round_trip(entries in arb_entries()) {
        let base = Path::object(1000);
        let bytes = encode(base, &entries).unwrap();
        prop_assert_eq!(&decode(&bytes, base).unwrap(), &entries);
    }
}

#[test]
fn an_empty_object_instance_decodes_to_nothing() {
    let types = |_: &Path| Some(DataType::Integer);
    let got: Vec<_> = TlvDecoder::new(
        &[0x00, 0x07],
        Path::object(1000),
        &types,
        DecodeLimits::default(),
    )
    .collect();
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(first_instance_id(&[0x00, 0x07]), Some(7));
    assert_eq!(first_instance_id(&[0x20, 0x01, 0x00]), Some(256));
    assert_eq!(first_instance_id(&[0xc1, 0x00, 0x01]), None);
    assert_eq!(first_instance_id(&[0x00]), None);
}
