//! LwM2M CBOR vectors (Core 1.2 §7.4.7 structure; RFC 8949 encodings),
//! interop vectors from another implementation, round trips and malformed
//! input.

use super::*;
use crate::content::device_fixture::{
    all_types, arb_entries, collect, device, encode_all, hex, types,
};
use crate::dm::{DataType, Value};
use alloc::vec::Vec;
use proptest::prelude::*;

fn decode(payload: &[u8], base: Path) -> Result<Vec<Entry<'static>>, DecodeError> {
    collect(Lwm2mCborDecoder::new(
        payload,
        base,
        &types,
        DecodeLimits::default(),
    ))
}

fn encode(base: Path, entries: &[Entry<'_>]) -> Result<Vec<u8>, EncodeError> {
    encode_all(&mut Lwm2mCborEncoder::new(base), entries, 1 << 16)
}

/// Read of `/3/0`, the Device example values of Core 1.1 §7.4.3.2, as Core
/// 1.2 §7.4.7 lays them out: the request path as one compressed key, one
/// map per level below it:
/// `{[3, 0]: {0: "Open Mobile Alliance", 1: "Lightweight M2M Client",
/// 2: "345000123", 3: "1.0", 6: {0: 1, 1: 5}, 7: {0: 3800, 1: 5000},
/// 8: {0: 125, 1: 900}, 9: 100, 10: 15, 11: {0: 0}, 13: 1(1367491215),
/// 14: "+02:00", 16: "U"}}`. Bytes written out by hand from RFC 8949 §3.1
/// heads (map of 13 = 0xAD, text of 20 = 0x74, 3800 = 0x190ED8, tag 1 =
/// 0xC1), not produced by this encoder.
const DEVICE_3_0: &str = "
    A1 82 03 00 AD
      00 74 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
      01 76 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
      02 69 33 34 35 30 30 30 31 32 33
      03 63 31 2E 30
      06 A2 00 01 01 05
      07 A2 00 19 0E D8 01 19 13 88
      08 A2 00 18 7D 01 19 03 84
      09 18 64
      0A 0F
      0B A1 00 00
      0D C1 1A 51 82 42 8F
      0E 66 2B 30 32 3A 30 30
      10 61 55";

#[test]
fn device_instance_read() {
    let bytes = hex(DEVICE_3_0);
    assert_eq!(encode(Path::instance(3, 0), &device()).unwrap(), bytes);
    assert_eq!(decode(&bytes, Path::instance(3, 0)).unwrap(), device());
    // The same entries need no particular base to decode: paths are absolute.
    assert_eq!(decode(&bytes, Path::ROOT).unwrap(), device());
}

/// The same data at other bases: the object (`{3: {0: {…}}}`), one
/// resource (`{[3, 0, 9]: 100}`) and one multiple resource
/// (`{[3, 0, 7]: {0: 3800, 1: 5000}}`).
#[test]
fn device_at_other_depths() {
    let mut obj = hex("A1 03 A1 00");
    obj.extend(&hex(DEVICE_3_0)[4..]);
    assert_eq!(encode(Path::object(3), &device()).unwrap(), obj);
    assert_eq!(decode(&obj, Path::object(3)).unwrap(), device());

    let res = Path::resource(3, 0, 9);
    let one = [Entry::new(res, Value::Integer(100))];
    assert_eq!(encode(res, &one).unwrap(), hex("A1 83 03 00 09 18 64"));
    assert_eq!(decode(&hex("A1 83 03 00 09 18 64"), res).unwrap(), one);

    let multi = Path::resource(3, 0, 7);
    let want: Vec<_> = device()
        .into_iter()
        .filter(|e| e.path.starts_with(&multi))
        .collect();
    let bytes = hex("A1 83 03 00 07 A2 00 19 0E D8 01 19 13 88");
    assert_eq!(encode(multi, &want).unwrap(), bytes);
    assert_eq!(decode(&bytes, multi).unwrap(), want);
}

/// Read-Composite of `/1/0/1`, `/3/0/9` and `/3/0/13` (Core 1.2 §6.4.6 with
/// the root as base): one tree under the root map.
#[test]
fn composite_from_the_root() {
    let e = [
        Entry::new(Path::resource(1, 0, 1), Value::Integer(86400)),
        Entry::new(Path::resource(3, 0, 9), Value::Integer(100)),
        Entry::new(Path::resource(3, 0, 13), Value::Time(1_367_491_215)),
    ];
    let bytes = hex("A2 01 A1 00 A1 01 1A 00 01 51 80 03 A1 00 A2 09 18 64 0D C1 1A 51 82 42 8F");
    assert_eq!(encode(Path::ROOT, &e).unwrap(), bytes);
    assert_eq!(decode(&bytes, Path::ROOT).unwrap(), e);
    assert_eq!(encode(Path::ROOT, &[]).unwrap(), hex("A0"));
}

/// Interop: payloads AVSystem Anjay's LwM2M CBOR tests feed its decoder and
/// expect from its encoder (tests/core/io/lwm2m_cbor_in.c and
/// lwm2m_cbor_out.c), which use indefinite-length maps and arrays, keys
/// compressed at any level, and plain nesting.
#[test]
fn anjay_vectors() {
    let ty = |p: &Path| match p.rid()? {
        1 | 2 => Some(DataType::Integer),
        _ => None,
    };
    let r1 = Entry::new(Path::resource(13, 26, 1), Value::Integer(42));
    let r2 = Entry::new(Path::resource(13, 26, 2), Value::Integer(21));
    let cases: &[(&str, Path, Vec<Entry<'_>>)] = &[
        (
            "A1 83 0D 18 1A 01 18 2A",
            Path::resource(13, 26, 1),
            alloc::vec![r1.clone()],
        ),
        (
            "BF 9F 0D 18 1A 01 FF 18 2A FF",
            Path::resource(13, 26, 1),
            alloc::vec![r1.clone()],
        ),
        (
            "A1 0D A1 18 1A A1 01 18 2A",
            Path::resource(13, 26, 1),
            alloc::vec![r1.clone()],
        ),
        (
            "A1 81 0D A1 81 18 1A A1 81 01 18 2A",
            Path::resource(13, 26, 1),
            alloc::vec![r1.clone()],
        ),
        (
            "BF 9F 0D FF BF 9F 18 1A FF BF 9F 01 FF 18 2A FF FF FF",
            Path::resource(13, 26, 1),
            alloc::vec![r1.clone()],
        ),
        (
            "A1 82 0D 18 1A A2 01 18 2A 02 15",
            Path::instance(13, 26),
            alloc::vec![r1.clone(), r2.clone()],
        ),
        (
            "A2 83 0D 18 1A 01 18 2A 83 0D 18 1A 02 15",
            Path::instance(13, 26),
            alloc::vec![r1.clone(), r2.clone()],
        ),
        (
            "A2 82 0D 18 1A A1 01 18 2A 83 0D 18 1A 02 15",
            Path::instance(13, 26),
            alloc::vec![r1.clone(), r2.clone()],
        ),
        (
            "A2 83 0D 18 1A 01 18 2A 82 0D 18 1A A1 81 02 15",
            Path::instance(13, 26),
            alloc::vec![r1.clone(), r2.clone()],
        ),
        // Encoder output: {[13, 26]: {1: 42, 3: {21: 69.68, 37: false}}}.
        (
            "BF 82 0D 18 1A BF 01 18 2A 03 BF 15 FB 40 51 6B 85 1E B8 51 EC 18 25 F4 FF FF FF",
            Path::instance(13, 26),
            alloc::vec![
                r1.clone(),
                Entry::new(Path::resource_instance(13, 26, 3, 21), Value::Float(69.68)),
                Entry::new(
                    Path::resource_instance(13, 26, 3, 37),
                    Value::Boolean(false)
                ),
            ],
        ),
        // {[13, 26, 1]: (_ h'0011223344556677', h'8899AABBCCDDEEFF')}
        (
            "A1 83 0D 18 1A 03 5F 48 00 11 22 33 44 55 66 77 48 88 99 AA BB CC DD EE FF FF",
            Path::resource(13, 26, 3),
            alloc::vec![Entry::new(
                Path::resource(13, 26, 3),
                Value::bytes(&hex("00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF")).into_owned(),
            )],
        ),
    ];
    for (h, base, want) in cases {
        let got = collect(Lwm2mCborDecoder::new(
            &hex(h),
            *base,
            &ty,
            DecodeLimits::default(),
        ));
        assert_eq!(got.as_deref(), Ok(&want[..]), "{h}");
        // Our encoding of the same entries decodes to the same entries.
        let ours = encode(*base, want).unwrap();
        let back = collect(Lwm2mCborDecoder::new(
            &ours,
            *base,
            &ty,
            DecodeLimits::default(),
        ));
        assert_eq!(back.as_deref(), Ok(&want[..]), "{h}");
    }
    // Anjay's single-resource output {[13, 26, 1]: 42} with a definite map
    // is exactly ours.
    assert_eq!(
        encode(Path::resource(13, 26, 1), &[r1]).unwrap(),
        hex("A1 83 0D 18 1A 01 18 2A")
    );
}

#[test]
fn paths_must_be_values_under_the_base() {
    for (h, base) in [
        ("A1 82 03 00 05", Path::instance(3, 0)), // value at an instance
        ("A1 83 03 00 09 A1 00 A1 00 01", Path::instance(3, 0)), // map below a resource instance
        ("A1 85 03 00 09 00 00 01", Path::ROOT),  // five ids
        ("A1 80 01", Path::ROOT),                 // empty key
        ("A1 83 03 01 09 18 64", Path::instance(3, 0)), // another instance
        ("A1 83 03 00 19 FF FF 01", Path::ROOT),  // id 65535
        ("A1 83 03 00 1A 00 01 00 00 01", Path::ROOT), // id past 16 bits
        ("A1 03 A1 00 A1 09 18 64", Path::resource(3, 0, 10)),
    ] {
        assert_eq!(decode(&hex(h), base), Err(DecodeError::Path), "{h}");
    }
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for h in [
        "",
        "01",                      // not a map
        "A1",                      // truncated
        "A1 83 03 00 09",          // key without value
        "A1 83 03 00 09 18 64 00", // trailing bytes
        "BF 83 03 00 09 18 64",    // indefinite map without break
        "A1 63 61 62 63 01",       // text key
        "A1 83 03 F6 09 01",       // null in a key
        "A1 9F 03 00 09 18 64",    // indefinite key without break
        "A1 83 03 00 09 FF",       // break as a value
    ] {
        assert!(
            matches!(
                decode(&hex(h), Path::ROOT),
                Err(DecodeError::Malformed { .. })
            ),
            "{h}: {:?}",
            decode(&hex(h), Path::ROOT)
        );
    }
    // Values of the wrong type.
    assert_eq!(
        decode(&hex("A1 83 03 00 09 63 61 62 63"), Path::ROOT),
        Err(DecodeError::Type)
    );
    assert_eq!(
        decode(&hex("A1 83 03 00 09 80"), Path::ROOT),
        Err(DecodeError::Type)
    );
    // Limits.
    let bytes = hex(DEVICE_3_0);
    let tight = DecodeLimits {
        max_entries: 5,
        ..DecodeLimits::default()
    };
    assert_eq!(
        collect(Lwm2mCborDecoder::new(&bytes, Path::ROOT, &types, tight)),
        Err(DecodeError::TooLarge)
    );
    let shallow = DecodeLimits {
        max_depth: 2,
        ..DecodeLimits::default()
    };
    let nested = hex("A1 03 A1 00 A1 09 18 64");
    assert_eq!(
        collect(Lwm2mCborDecoder::new(&nested, Path::ROOT, &types, shallow)),
        Err(DecodeError::TooLarge)
    );
    let short = DecodeLimits {
        max_value_len: 4,
        ..DecodeLimits::default()
    };
    assert_eq!(
        collect(Lwm2mCborDecoder::new(&bytes, Path::ROOT, &types, short)),
        Err(DecodeError::TooLarge)
    );
}

#[test]
fn encoder_refuses_what_it_cannot_say() {
    let d = device();
    assert_eq!(
        encode(Path::instance(3, 1), &d),
        Err(EncodeError::Unrepresentable)
    );
    let mut rev = d.clone();
    rev.reverse();
    assert_eq!(encode(Path::ROOT, &rev), Err(EncodeError::Unrepresentable));
    let full = encode(Path::ROOT, &d).unwrap();
    for cap in 0..full.len() {
        assert_eq!(
            encode_all(&mut Lwm2mCborEncoder::new(Path::ROOT), &d, cap),
            Err(EncodeError::Overflow),
            "{cap}"
        );
    }
}

#[test]
fn all_types_round_trip() {
    let e = all_types();
    for base in [Path::ROOT, Path::object(1000), Path::instance(1000, 0)] {
        assert_eq!(decode(&encode(base, &e).unwrap(), base).unwrap(), e);
    }
}

#[test]
fn many_keys_get_wider_map_heads() {
    let e: Vec<_> = (0..300u16)
        .map(|r| {
            Entry::new(
                Path::resource_instance(1000, 0, 0, r),
                Value::Integer(i64::from(r)),
            )
        })
        .collect();
    let bytes = encode(Path::resource(1000, 0, 0), &e).unwrap();
    // {[1000, 0, 0]: {…300 pairs…}}: the inner head is 0xB9 01 2C.
    assert_eq!(&bytes[..9], &hex("A1 83 19 03 E8 00 00 B9 01")[..]);
    assert_eq!(decode(&bytes, Path::ROOT).unwrap(), e);
}

proptest! {
    #[test]
    fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&data, Path::ROOT);
    }

    #[test]
    fn decode_never_panics_on_map_like_input(
        body in proptest::collection::vec(prop_oneof![Just(0xa1u8), Just(0xbf), Just(0x9f), Just(0x83), Just(0xff), Just(0x03), Just(0x00), any::<u8>()], 0..64)
    ) {
        let mut data = alloc::vec![0xa1];
        data.extend(body);
        let _ = decode(&data, Path::ROOT);
    }

    #[test]
    fn round_trip(entries in arb_entries()) {
        for base in [Path::ROOT, Path::object(1000)] {
            let bytes = encode(base, &entries).unwrap();
            prop_assert_eq!(&decode(&bytes, base).unwrap(), &entries);
        }
    }
}
