//! SenML CBOR vectors (sources cited per vector), float widths, errors and
//! limits.

use super::*;
use crate::content::device_fixture::{device as device_entries, types as device_types};
use crate::content::senml::tests::encode;
use crate::dm::{DataType, ObjLnk, Value};
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(core::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// OMA-TS-LightweightM2M_Core 1.1.1 §7.4.6 (p. 86): Read on /3/0 in SenML
/// CBOR, the TS's hex.
const TS_DEVICE_HEX: &str = "90a321652f332f302f00613003744f70656e204d6f62696c6520416c6c69616e6365a2\
    00613103764c69676874776569676874204d324d20436c69656e74a20061320369333435303030313233a200613303\
    63312e30a20063362f300201a20063362f310205a20063372f3002190ed8a20063372f3102191388a20063382f3002\
    187da20063382f3102190384a2006139021864a200623130020fa2006431312f300200a200623133021a5182428fa2\
    0062313403662b30323a3030a200623136036155";

/// RFC 8428 §6: the CBOR dump of the §5.1.2 pack (note its base name,
/// "urn:dev:ow:10e2073a0108006:", differs from the JSON's by a digit).
const RFC8428_6_HEX: &str = "
    87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a
    31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
    22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00
    67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
    66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06
    24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
    72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc
    cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
    f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e
    74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
    74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67
    63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
    33 33 33";

fn none(_: &Path) -> Option<DataType> {
    None
}

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn decode<'a>(
    b: &'a [u8],
    base: &str,
    r: &dyn TypeResolver,
) -> Result<Vec<Entry<'a>>, DecodeError> {
    SenmlCborDecoder::new(b, p(base), r, DecodeLimits::default()).collect()
}

fn enc(base: &str, entries: &[Entry<'_>]) -> Vec<u8> {
    encode(&mut SenmlCborEncoder::new(p(base)), entries).unwrap()
}

#[test]
fn ts_device_example_byte_exact() {
    let ts = hex(TS_DEVICE_HEX);
    assert_eq!(enc("/3/0", &device_entries()), ts);
    assert_eq!(
        decode(&ts, "/3/0", &device_types).unwrap(),
        device_entries()
    );
}

#[test]
fn rfc8428_section6_decodes() {
    let b = hex(RFC8428_6_HEX);
    let recs: Vec<_> = SenmlCborRecords::new(&b, DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recs.len(), 7);
    assert_eq!(
        recs[0],
        Record {
            base_name: Some("urn:dev:ow:10e2073a0108006:".into()),
            base_time: Some(1.276020076001e9),
            base_unit: Some("A".into()),
            version: Some(5),
            name: Some("voltage".into()),
            unit: Some("V".into()),
            value: Some(RecordValue::Number(Number::Float(120.1))),
            ..Record::default()
        }
    );
    // The half float 1.5 and the integer times.
    assert_eq!(recs[4].time, Some(-2.0));
    assert_eq!(recs[4].value, Some(RecordValue::Number(Number::Float(1.5))));
    assert_eq!(recs[6].time, Some(0.0));
    // And its JSON twin carries the same values (RFC 8428 §5.1.2; its last
    // record has no "t" where the CBOR has t: 0, which resolves the same).
    let json: Vec<_> = crate::content::senml_json::SenmlJsonRecords::new(
        crate::content::senml_json::tests::RFC8428_5_1_2.as_bytes(),
        DecodeLimits::default(),
    )
    .map(|r| r.unwrap().value)
    .collect();
    let cbor: Vec<_> = recs.iter().map(|r| r.value.clone()).collect();
    assert_eq!(json, cbor);
}

#[test]
fn rfc8428_section6_encodes_byte_exact() {
    // Shortest lossless floats reproduce the RFC's dump, half float included.
    let b = hex(RFC8428_6_HEX);
    let recs: Vec<_> = SenmlCborRecords::new(&b, DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    put_head(&mut w, MAJOR_ARRAY, recs.len() as u64).unwrap();
    for r in &recs {
        write_record(&mut w, &OutRecord::from_record(r).unwrap()).unwrap();
    }
    assert_eq!(w.written(), &b[..]);
}

#[test]
fn objlnk_is_a_text_key() {
    // OMA LwM2M for Developers issue #484 (answer of 2020-10-08): the SenML
    // CBOR form of [{"n":"/65/0/0/0","vlo":"66:0"}].
    let want = hex("81 A2 00 69 2F36352F302F302F30 63 766C6F 64 36363A30");
    let e = [Entry::new(
        p("/65/0/0/0"),
        Value::Objlnk(ObjLnk { oid: 66, iid: 0 }),
    )];
    assert_eq!(enc("/", &e), want);
    assert_eq!(decode(&want, "/", &none).unwrap(), e);
}

#[test]
fn floats_take_the_shortest_exact_width() {
    let cases: &[(f64, &str)] = &[
        (1.5, "f93e00"),
        (-0.0, "f98000"),
        (65504.0, "f97bff"),
        (5.960464477539063e-8, "f90001"),
        (f64::INFINITY, "f97c00"),
        (f64::NAN, "f97e00"),
        (100000.0, "fa47c35000"),
        (3.4028234663852886e38, "fa7f7fffff"),
        (0.1, "fb3fb999999999999a"),
        (1e300, "fb7e37e43c8800759c"),
    ];
    for &(f, h) in cases {
        let e = [Entry::new(p("/1/0/1"), Value::Float(f))];
        let b = enc("/1/0/1", &e);
        // [{-2:"/1/0/1", 2: <float>}]
        let want = hex(&alloc::format!("81a2 21 66 2f312f302f31 02 {h}"));
        assert_eq!(b, want, "{f}");
        let back = decode(&b, "/1/0/1", &none).unwrap();
        match back[0].value {
            Value::Float(g) => assert!(g.to_bits() == f.to_bits() || (g.is_nan() && f.is_nan())),
            ref v => panic!("{v:?}"),
        }
    }
}

#[test]
fn half_float_conversion_is_exact_for_every_half() {
    for bits in 0..=u16::MAX {
        let b = [0xf9, (bits >> 8) as u8, bits as u8];
        let f = minicbor::Decoder::new(&b).f16().unwrap();
        if f.is_nan() {
            assert_eq!(f16_bits(f), Some(0x7e00));
        } else {
            assert_eq!(f16_bits(f), Some(bits), "{bits:#06x} = {f}");
        }
    }
}

#[test]
fn integers_use_the_shortest_head() {
    for (v, h) in [
        (Value::Integer(0), "00"),
        (Value::Integer(23), "17"),
        (Value::Integer(24), "1818"),
        (Value::Integer(-1), "20"),
        (Value::Integer(-25), "3818"),
        (Value::Integer(i64::MIN), "3b7fffffffffffffff"),
        (Value::Unsigned(u64::MAX), "1bffffffffffffffff"),
        (Value::Time(1367491215), "1a5182428f"),
    ] {
        let e = [Entry::new(p("/1/0/1"), v.clone())];
        assert_eq!(
            enc("/1/0/1", &e),
            hex(&alloc::format!("81a2 21 66 2f312f302f31 02 {h}"))
        );
    }
    // -2^64 has no i64 or u64: it decodes as the nearest float.
    let b = hex("81a2 00 66 2f312f302f31 02 3bffffffffffffffff");
    assert_eq!(
        decode(&b, "/", &none).unwrap()[0].value,
        Value::Float(-18446744073709551616.0)
    );
}

#[test]
fn other_number_forms_decode() {
    let one = |v: &str| {
        let b = hex(&alloc::format!("81a2 00 66 2f312f302f31 02 {v}"));
        decode(&b, "/", &none).map(|e| e[0].value.clone().into_owned())
    };
    assert_eq!(one("fa3fc00000"), Ok(Value::Float(1.5)));
    assert_eq!(one("fb3ff8000000000000"), Ok(Value::Float(1.5)));
    // RFC 8949 §3.4.4: 273.15 as the decimal fraction [-2, 27315].
    assert_eq!(one("c4822119 6ab3"), Ok(Value::Float(273.15)));
    assert!(matches!(
        one("c1 1a5182428f"),
        Err(DecodeError::Malformed { .. })
    ));
    assert!(matches!(
        one("c48221c2 41 01"),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn text_keys_indefinite_containers_and_borrowing() {
    // Text labels, a half float and an empty "bn" (any key order).
    let b = hex("81a3 02f93e00 616e 672f332f302f3131 62626e 60");
    assert_eq!(
        decode(&b, "/", &none).unwrap(),
        vec![Entry::new(p("/3/0/11"), Value::Float(1.5))]
    );
    // Indefinite array and map.
    let b = hex("9f bf 00 66 2f332f302f30 03 61 78 ff bf 00 66 2f332f302f31 08 42 0102 ff ff");
    let got = decode(&b, "/", &none).unwrap();
    assert_eq!(got.len(), 2);
    assert!(matches!(got[0].value, Value::String(Cow::Borrowed("x"))));
    assert!(matches!(
        got[1].value,
        Value::Opaque(Cow::Borrowed(&[1, 2]))
    ));
    // Unknown integer and text labels are skipped, whatever they hold.
    let b = hex("81a4 00 66 2f332f302f30 09 82 01 bf 01 02 ff 63 78797a c0 61 30 03 61 78");
    assert_eq!(decode(&b, "/", &none).unwrap().len(), 1);
}

#[test]
fn array_head_widens_in_place() {
    for n in [0usize, 23, 24, 255, 256] {
        let entries: Vec<_> = (0..n)
            .map(|i| {
                Entry::new(
                    Path::resource_instance(3, 0, 6, i as u16),
                    Value::Integer(1),
                )
            })
            .collect();
        let b = enc("/3/0/6", &entries);
        let head: &[u8] = match n {
            0..=23 => &[0x80 | n as u8],
            24..=255 => &[0x98, n as u8],
            _ => &[0x99, (n >> 8) as u8, n as u8],
        };
        assert!(b.starts_with(head), "{n}");
        let l = DecodeLimits {
            max_entries: 300,
            ..DecodeLimits::default()
        };
        let back: Vec<_> = SenmlCborDecoder::new(&b, p("/3/0/6"), &none, l)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, entries);
    }
}

#[test]
fn composite_read_paths() {
    // [{0:"/3/0/0"},{0:"/1/0/1"}] (Core 1.1 §6.3.8 Read-Composite).
    let want = hex("82a100662f332f302f30a100662f312f302f31");
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    write_paths(&mut w, &[p("/3/0/0"), p("/1/0/1")]).unwrap();
    assert_eq!(w.written(), &want[..]);
    let got: Vec<_> = SenmlCborPaths::new(&want, DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, vec![p("/3/0/0"), p("/1/0/1")]);
    let with_value = hex("81a200662f332f302f300201");
    let r: Result<Vec<_>, _> = SenmlCborPaths::new(&with_value, DecodeLimits::default()).collect();
    assert_eq!(r, Err(DecodeError::Malformed { at: 1 }));
}

#[test]
fn bad_payloads_give_typed_errors() {
    let malformed = [
        "",                                                // nothing
        "a0",                                              // a map, not an array
        "5b2d",                                            // JSON "[" and "-" mislabelled
        "c800144f70656e",                                  // TLV bytes mislabelled
        "81",                                              // truncated
        "8101",                                            // a record that is not a map
        "81a1 00 66 2f332f302f30",                         // no value
        "81a2 00 66 2f332f302f30 03 61 78 00",             // trailing byte
        "81a2 00 66 2f332f302f30 03 41 78",                // vs as bytes
        "81a2 00 66 2f332f302f30 08 61 78",                // vd as text
        "81a2 00 66 2f332f302f30 04 01",                   // vb as an integer
        "81a2 00 66 2f332f302f30 02 f6",                   // v null
        "81a2 00 66 2f332f302f30 03 7f6178ff",             // indefinite text
        "81a3 00 66 2f332f302f30 03 61 78 03 61 79",       // repeated label
        "81a3 00 66 2f332f302f30 03 61 78 02 01",          // two values
        "81a3 00 66 2f332f302f30 03 61 78 64 666f6f5f 01", // "foo_"
        "81a2 00 66 2f332f302f30 20 20",                   // bver negative
        "81a2 f5 66 2f332f302f30 03 61 78",                // a boolean key
        "81a2 00 66 2f332f302f30 03 61 ff",                // invalid UTF-8
    ];
    for h in malformed {
        let b = hex(h);
        assert!(
            matches!(decode(&b, "/", &none), Err(DecodeError::Malformed { .. })),
            "{h}: {:?}",
            decode(&b, "/", &none)
        );
    }
    let b = hex("81a2 00 64 2f332f30 03 61 78"); // a value on /3/0
    assert_eq!(decode(&b, "/", &none), Err(DecodeError::Path));
    let b = hex("81a2 00 66 2f342f302f30 03 61 78"); // /4/0/0 under /3
    assert_eq!(decode(&b, "/3", &none), Err(DecodeError::Path));
    let b = hex("81a2 00 66 2f332f302f39 03 61 78"); // a string for an integer
    assert_eq!(decode(&b, "/", &device_types), Err(DecodeError::Type));
    let b = hex("81a3 20 0b 00 66 2f332f302f30 03 61 78"); // bver 11
    assert_eq!(decode(&b, "/", &none), Err(DecodeError::UnsupportedFormat));
}

#[test]
fn limits_are_enforced() {
    let l = DecodeLimits {
        max_entries: 2,
        max_depth: 3,
        max_value_len: 6,
    };
    let run = |h: &str| -> Result<usize, DecodeError> {
        let b = hex(h);
        SenmlCborDecoder::new(&b, Path::ROOT, &none, l)
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.len())
    };
    let rec = "a2 00 66 2f332f302f30 03 61 78";
    assert_eq!(run(&alloc::format!("82 {rec} {rec}")), Ok(2));
    // A definite count over the limit fails before any record is read.
    assert_eq!(run("83"), Err(DecodeError::TooLarge));
    assert_eq!(run("9b ffffffffffffffff"), Err(DecodeError::TooLarge));
    assert_eq!(
        run(&alloc::format!("9f {rec} {rec} {rec} ff")),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(run("81a2 00 66 2f332f302f30 03 66 313233343536"), Ok(1));
    assert_eq!(
        run("81a2 00 66 2f332f302f30 03 67 31323334353637"),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run("81a2 00 66 2f332f302f30 08 47 01020304050607"),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run("81a2 00 68 2f332f302f30 2f30 08 41 01"),
        Err(DecodeError::TooLarge)
    );
    // Nesting inside an unknown field: depth 3 is the limit.
    assert_eq!(run(&alloc::format!("81a3 {} 09 81 01", &rec[3..])), Ok(1));
    assert_eq!(
        run(&alloc::format!("81a3 {} 09 81 81 01", &rec[3..])),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(&alloc::format!("81a3 {} 09 c0 c0 c0 01", &rec[3..])),
        Err(DecodeError::TooLarge)
    );
    // A huge claimed count ends at the end of the input.
    assert!(matches!(
        run(&alloc::format!("81a3 {} 09 9b ffffffffffffffff", &rec[3..])),
        Err(DecodeError::Malformed { .. })
    ));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SenmlCborDecoder::new(&data, Path::ROOT, &device_types, DecodeLimits::default()).count();
        let _ = SenmlCborPaths::new(&data, DecodeLimits::default()).count();
    }

    #[test]
    fn never_panics_on_a_corrupted_pack(at in 0usize..300, byte in any::<u8>(), cut in 0usize..300) {
        let mut b = hex(TS_DEVICE_HEX);
        let i = at % b.len();
        b[i] = byte;
        b.truncate(b.len() - cut % b.len());
        let _ = SenmlCborDecoder::new(&b, Path::ROOT, &device_types, DecodeLimits::default()).count();
        let _ = SenmlCborRecords::new(&b, DecodeLimits::default()).count();
    }

    #[test]
    fn f16_bits_never_lies(f in any::<f32>()) {
        if let Some(h) = f16_bits(f) {
            let b = [0xf9, (h >> 8) as u8, h as u8];
            let g = minicbor::Decoder::new(&b).f16().unwrap();
            prop_assert!(g.to_bits() == f.to_bits() || (f.is_nan() && g.is_nan()));
        }
    }
}
