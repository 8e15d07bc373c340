//! SenML JSON vectors (sources cited per vector), errors and limits.

use super::*;
use crate::content::device_fixture::{device as device_entries, types as device_types};
use crate::content::senml::Context;
use crate::content::senml::tests::encode;
use crate::dm::{DataType, ObjLnk, Value};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Core 1.1.1 §7.4.5 (1.1 §7.4.4), Read on /3/0 in SenML JSON, as the TS
/// prints it (whitespace and line breaks included).
const TS_DEVICE: &str = r#"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},
 {"n":"1","vs":"Lightweight M2M Client"},
 {"n":"2","vs":"345000123"},
 {"n":"3","vs":"1.0"},
 {"n":"6/0","v":1},
 {"n":"6/1","v":5},
 {"n":"7/0","v":3800},
 {"n":"7/1","v":5000},
 {"n":"8/0","v":125},
 {"n":"8/1","v":900},
 {"n":"9","v":100},
 {"n":"10","v":15},
 {"n":"11/0","v":0},
 {"n":"13","v":1367491215},
 {"n":"14","vs":"+02:00"},
 {"n":"16","vs":"U"}]"#;

/// Our compact output for the same entries: the TS text without whitespace.
const DEVICE_COMPACT: &str = concat!(
    r#"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},"#,
    r#"{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},"#,
    r#"{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},"#,
    r#"{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215},"#,
    r#"{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]"#
);

fn decode<'a>(
    payload: &'a str,
    base: &str,
    r: &dyn TypeResolver,
) -> Result<Vec<Entry<'a>>, DecodeError> {
    SenmlJsonDecoder::new(
        payload.as_bytes(),
        Path::parse(base).unwrap(),
        r,
        DecodeLimits::default(),
    )
    .collect()
}

fn none(_: &Path) -> Option<DataType> {
    None
}

fn enc(base: &str, entries: &[Entry<'_>]) -> String {
    let bytes = encode(
        &mut SenmlJsonEncoder::new(Path::parse(base).unwrap()),
        entries,
    )
    .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

#[test]
fn ts_device_example_decodes() {
    assert_eq!(
        decode(TS_DEVICE, "/3/0", &device_types).unwrap(),
        device_entries()
    );
    assert_eq!(
        decode(TS_DEVICE, "/", &device_types).unwrap(),
        device_entries()
    );
}

#[test]
fn ts_device_example_encodes_compact() {
    assert_eq!(enc("/3/0", &device_entries()), DEVICE_COMPACT);
    assert_eq!(
        decode(DEVICE_COMPACT, "/3/0", &device_types).unwrap(),
        device_entries()
    );
}

#[test]
fn single_value_read_is_bn_only() {
    // Core 1.1 §7.4.4: Read /3/0/0 → the base name alone names the value.
    let e = [Entry::new(p("/3/0/0"), Value::str("Open Mobile Alliance"))];
    let s = enc("/3/0/0", &e);
    assert_eq!(s, r#"[{"bn":"/3/0/0","vs":"Open Mobile Alliance"}]"#);
    assert_eq!(decode(&s, "/3/0/0", &device_types).unwrap(), e);
}

#[test]
fn objlnk_in_vlo() {
    // OMA LwM2M for Developers issue #484 (answer of 2020-10-08):
    // [{"n":"/65/0/0/0","vlo":"66:0"}].
    let e = [Entry::new(
        p("/65/0/0/0"),
        Value::Objlnk(ObjLnk { oid: 66, iid: 0 }),
    )];
    let s = enc("/", &e);
    assert_eq!(s, r#"[{"n":"/65/0/0/0","vlo":"66:0"}]"#);
    assert_eq!(decode(&s, "/", &none).unwrap(), e);
    // The null link 65535:65535 (Core Appendix C).
    let null = r#"[{"n":"/65/0/0/1","vlo":"65535:65535"}]"#;
    assert_eq!(
        decode(null, "/", &none).unwrap()[0].value,
        Value::Objlnk(ObjLnk {
            oid: 65535,
            iid: 65535
        })
    );
    assert_eq!(
        decode(r#"[{"n":"/65/0/0/1","vlo":"66"}]"#, "/", &none),
        Err(DecodeError::Type)
    );
}

#[test]
fn rfc8428_single_datapoint() {
    // RFC 8428 §5.1.1.
    let s = br#"[
     {"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}
   ]"#;
    let recs: Vec<_> = SenmlJsonRecords::new(s, DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        recs,
        vec![Record {
            name: Some("urn:dev:ow:10e2073a01080063".into()),
            unit: Some("Cel".into()),
            value: Some(RecordValue::Number(Number::Float(23.1))),
            ..Record::default()
        }]
    );
    // Not an LwM2M path: the entry decoder says so.
    assert_eq!(
        decode(core::str::from_utf8(s).unwrap(), "/", &none),
        Err(DecodeError::Path)
    );
}

/// RFC 8428 §5.1.2, second example (base fields, relative times).
pub(crate) const RFC8428_5_1_2: &str = r#"[
     {"bn":"urn:dev:ow:10e2073a01080063:","bt":1.276020076001e+09,
      "bu":"A","bver":5,
      "n":"voltage","u":"V","v":120.1},
     {"n":"current","t":-5,"v":1.2},
     {"n":"current","t":-4,"v":1.3},
     {"n":"current","t":-3,"v":1.4},
     {"n":"current","t":-2,"v":1.5},
     {"n":"current","t":-1,"v":1.6},
     {"n":"current","v":1.7}
   ]"#;

#[test]
fn rfc8428_multiple_datapoints_resolve() {
    let mut ctx = Context::default();
    let mut out = Vec::new();
    for rec in SenmlJsonRecords::new(RFC8428_5_1_2.as_bytes(), DecodeLimits::default()) {
        let rec = rec.unwrap();
        let r = ctx.resolve(rec).unwrap();
        out.push((String::from(r.name()), r.time, r.value.clone()));
    }
    let bt = 1.276020076001e9;
    assert_eq!(out.len(), 7);
    assert_eq!(
        out[0],
        (
            "urn:dev:ow:10e2073a01080063:voltage".into(),
            Some(bt),
            Some(RecordValue::Number(Number::Float(120.1)))
        )
    );
    assert_eq!(
        out[1],
        (
            "urn:dev:ow:10e2073a01080063:current".into(),
            Some(bt - 5.0),
            Some(RecordValue::Number(Number::Float(1.2)))
        )
    );
    // The last record has no t: it is at the base time.
    assert_eq!(out[6].1, Some(bt));
}

#[test]
fn rfc8428_multiple_data_types() {
    // RFC 8428 §5.1.5 ("aGkgCg" is base64url without padding).
    let s = br#"[
     {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.4},
     {"n":"label","vs":"Machine Room"},
     {"n":"open","vb":false},
     {"n":"nfc-reader","vd":"aGkgCg"}
   ]"#;
    let values: Vec<_> = SenmlJsonRecords::new(s, DecodeLimits::default())
        .map(|r| r.unwrap().value.unwrap())
        .collect();
    assert_eq!(
        values,
        vec![
            RecordValue::Number(Number::Float(23.4)),
            RecordValue::String("Machine Room".into()),
            RecordValue::Bool(false),
            RecordValue::Data(b"hi \n".to_vec().into()),
        ]
    );
}

#[test]
fn record_writer_reproduces_rfc8428_5_1_2() {
    // Write the §5.1.2 records back through the record writer and compare
    // after parsing (the RFC's whitespace differs from our compact form).
    let recs: Vec<_> = SenmlJsonRecords::new(RFC8428_5_1_2.as_bytes(), DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    w.put_u8(b'[').unwrap();
    for (i, r) in recs.iter().enumerate() {
        if i > 0 {
            w.put_u8(b',').unwrap();
        }
        write_record(&mut w, &OutRecord::from_record(r).unwrap()).unwrap();
    }
    w.put_u8(b']').unwrap();
    let again: Vec<_> = SenmlJsonRecords::new(w.written(), DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(again, recs);
    assert!(
        core::str::from_utf8(w.written())
            .unwrap()
            .starts_with(r#"[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1276020076.001,"bu":"A","bver":5,"n":"voltage","u":"V","v":120.1},{"n":"current","t":-5,"v":1.2}"#)
    );
}

#[test]
fn values_and_times_round_trip() {
    let e = vec![
        Entry {
            path: p("/3303/0/5700"),
            value: Value::Float(22.4),
            time: Some(1.320067464e9),
        },
        Entry {
            path: p("/3303/0/5700"),
            value: Value::Float(-3.0),
            time: Some(1.3200674645e9),
        },
        Entry::new(p("/3303/0/5700"), Value::Float(1e300)),
    ];
    let s = enc("/3303/0/5700", &e);
    assert_eq!(
        s,
        r#"[{"bn":"/3303/0/5700","t":1320067464,"v":22.4},{"t":1320067464.5,"v":-3.0},{"v":1e300}]"#
    );
    assert_eq!(decode(&s, "/3303/0/5700", &none).unwrap(), e);
    // Base time plus relative times (RFC 8428 §4.5.3).
    let rel = r#"[{"bn":"/3303/0/5700","bt":1320067464,"v":22.4},{"t":-5,"v":22.9}]"#;
    let got = decode(rel, "/3303/0/5700", &none).unwrap();
    assert_eq!(got[1].time, Some(1320067459.0));
}

#[test]
fn opaque_is_base64url_unpadded() {
    let e = [Entry::new(p("/5/0/0"), Value::bytes(&[0xfb, 0xff, 0x00]))];
    let s = enc("/5/0", &e);
    assert_eq!(s, r#"[{"bn":"/5/0/","n":"0","vd":"-_8A"}]"#);
    assert_eq!(decode(&s, "/5/0", &none).unwrap(), e);
    // Padded and standard-alphabet input is accepted too.
    let padded = r#"[{"n":"/5/0/0","vd":"+/8="}]"#;
    assert_eq!(
        decode(padded, "/", &none).unwrap()[0].value,
        Value::bytes(&[0xfb, 0xff])
    );
    assert!(matches!(
        decode(r#"[{"n":"/5/0/0","vd":"%%"}]"#, "/", &none),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn strings_with_control_characters_are_escaped() {
    let e = [Entry::new(p("/3/0/0"), Value::str("a\"b\\c\nd\u{1}é"))];
    let s = enc("/3/0/0", &e);
    assert_eq!(
        s,
        "[{\"bn\":\"/3/0/0\",\"vs\":\"a\\\"b\\\\c\\nd\\u0001é\"}]"
    );
    assert_eq!(decode(&s, "/3/0/0", &none).unwrap(), e);
}

#[test]
fn strings_are_borrowed_from_the_payload() {
    let got = decode(r#"[{"n":"/3/0/0","vs":"plain"}]"#, "/", &none).unwrap();
    assert!(matches!(
        got[0].value,
        Value::String(Cow::Borrowed("plain"))
    ));
}

#[test]
fn unsigned_beyond_i64_and_types_from_the_resolver() {
    let r = |q: &Path| match q.rid() {
        Some(1) => Some(DataType::UnsignedInteger),
        Some(2) => Some(DataType::Float),
        Some(3) => Some(DataType::Corelnk),
        Some(4) => Some(DataType::Integer),
        _ => None,
    };
    let got = decode(
        r#"[{"bn":"/9/0/","n":"1","v":18446744073709551615},{"n":"2","v":3},{"n":"3","vs":"</3>"},{"n":"4","v":2.0}]"#,
        "/9/0",
        &r,
    )
    .unwrap();
    let values: Vec<_> = got.into_iter().map(|e| e.value).collect();
    assert_eq!(
        values,
        vec![
            Value::Unsigned(u64::MAX),
            Value::Float(3.0),
            Value::Corelnk("</3>".into()),
            Value::Integer(2)
        ]
    );
}

#[test]
fn composite_read_paths() {
    // Core 1.1 §6.3.8 Read-Composite request, and OMA LwM2M for Developers
    // issue #447: the root, an object and an instance are allowed.
    let s = br#"[{"n":"/3/0/0"},{"n":"/3/0/9"},{"n":"/1/0/1"},{"n":"/"},{"n":"/5"},{"bn":"/3/0/","n":"1"}]"#;
    let paths: Vec<_> = SenmlJsonPaths::new(s, DecodeLimits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        paths,
        vec![
            p("/3/0/0"),
            p("/3/0/9"),
            p("/1/0/1"),
            Path::ROOT,
            p("/5"),
            p("/3/0/1")
        ]
    );
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    write_paths(&mut w, &[p("/3/0/0"), p("/1/0")]).unwrap();
    assert_eq!(w.written(), br#"[{"n":"/3/0/0"},{"n":"/1/0"}]"#);
    // A value in a path list is refused.
    let bad = br#"[{"n":"/3/0/0"},{"n":"/3/0/9","v":1}]"#;
    let r: Result<Vec<_>, _> = SenmlJsonPaths::new(bad, DecodeLimits::default()).collect();
    assert!(matches!(r, Err(DecodeError::Malformed { at: 16 })));
}

#[test]
fn bad_payloads_give_typed_errors() {
    let malformed = [
        "",
        "{}",
        "[1]",
        "[{\"n\":\"/3/0/0\"}",
        "[{\"n\":\"/3/0/0\",\"vs\":\"x\"}] x",
        // No value in a write (the TS gives it no meaning in SenML 110).
        "[{\"n\":\"/3/0/0\"}]",
        // Two values, a repeated label, a must-understand label.
        "[{\"n\":\"/3/0/0\",\"vs\":\"x\",\"v\":1}]",
        "[{\"n\":\"/3/0/0\",\"n\":\"/3/0/1\",\"v\":1}]",
        "[{\"n\":\"/3/0/0\",\"vs\":\"x\",\"foo_\":1}]",
        // Wrong JSON types for known labels.
        "[{\"n\":\"/3/0/0\",\"v\":\"1\"}]",
        "[{\"n\":1,\"v\":1}]",
        "[{\"n\":\"/3/0/0\",\"vb\":1}]",
        "[{\"n\":\"/3/0/0\",\"v\":null}]",
        "[{\"n\":\"/3/0/0\",\"v\":1,\"bver\":-1}]",
        "[{\"n\":\"/3/0/0\",\"v\":1,\"t\":\"now\"}]",
        // TLV and CBOR bytes mislabelled as SenML JSON.
        "\u{c8}\u{0}\u{14}Open",
        "\u{81}\u{a2}",
    ];
    for m in malformed {
        assert!(
            matches!(decode(m, "/", &none), Err(DecodeError::Malformed { .. })),
            "{m:?}: {:?}",
            decode(m, "/", &none)
        );
    }
    let paths = [
        r#"[{"n":"/4/0/0","v":1}]"#,             // outside /3
        r#"[{"n":"/3/0","vs":"x"}]"#,            // a value on an instance
        r#"[{"n":"/3/0/0/0/0","vs":"x"}]"#,      // too deep
        r#"[{"bn":"/3/0/","n":"/0","vs":"x"}]"#, // "//"
        r#"[{"vs":"x"}]"#,                       // no name at all
    ];
    for m in paths {
        assert_eq!(decode(m, "/3", &none), Err(DecodeError::Path), "{m}");
    }
    let r = |_: &Path| Some(DataType::Integer);
    for m in [
        r#"[{"n":"/3/0/9","vs":"1"}]"#,
        r#"[{"n":"/3/0/9","v":1.5}]"#,
        r#"[{"n":"/3/0/9","vb":true}]"#,
        r#"[{"n":"/3/0/9","v":18446744073709551615}]"#,
    ] {
        assert_eq!(decode(m, "/", &r), Err(DecodeError::Type), "{m}");
    }
    // A newer SenML version must not be used (RFC 8428 §4.4).
    assert_eq!(
        decode(r#"[{"bver":11,"n":"/3/0/0","vs":"x"}]"#, "/", &none),
        Err(DecodeError::UnsupportedFormat)
    );
    // Unknown labels are ignored, whatever their value.
    assert_eq!(
        decode(
            r#"[{"n":"/3/0/0","x":{"y":[1,2]},"vs":"x","s":1,"ut":5}]"#,
            "/",
            &none
        )
        .unwrap()
        .len(),
        1
    );
    // The iterator stops after the first error.
    let mut d = SenmlJsonDecoder::new(
        br#"[{"n":"/3/0/0","vs":"x"},{"n":"/3/0/1"},{"n":"/3/0/2","vs":"y"}]"#,
        Path::ROOT,
        &none,
        DecodeLimits::default(),
    );
    assert!(d.next().unwrap().is_ok());
    assert!(d.next().unwrap().is_err());
    assert!(d.next().is_none());
}

#[test]
fn limits_are_enforced() {
    let l = DecodeLimits {
        max_entries: 2,
        max_depth: 3,
        max_value_len: 8,
    };
    fn run_with(s: &str, l: DecodeLimits) -> Result<Vec<Entry<'_>>, DecodeError> {
        SenmlJsonDecoder::new(s.as_bytes(), Path::ROOT, &none, l).collect()
    }
    let run = |s| run_with(s, l);
    let two = r#"[{"n":"/3/0/0","vs":"x"},{"n":"/3/0/1","vs":"y"}]"#;
    assert_eq!(run(two).unwrap().len(), 2);
    let three = r#"[{"n":"/3/0/0","vs":"x"},{"n":"/3/0/1","vs":"y"},{"n":"/3/0/2","vs":"z"}]"#;
    assert_eq!(run(three), Err(DecodeError::TooLarge));
    assert!(run(r#"[{"n":"/3/0/0","vs":"12345678","x":[1]}]"#).is_ok());
    assert_eq!(
        run(r#"[{"n":"/3/0/0","vs":"123456789"}]"#),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(r#"[{"n":"/3/0/0","vd":"AAAAAAAAAAAA"}]"#),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(r#"[{"n":"/3/0/0","vs":"x","x":[[1]]}]"#),
        Err(DecodeError::TooLarge)
    );
    let names = br#"[{"n":"/3/0/0"},{"n":"/3/0/1"},{"n":"/3/0/2"}]"#;
    let paths: Result<Vec<_>, _> = SenmlJsonPaths::new(names, l).collect();
    assert_eq!(paths, Err(DecodeError::TooLarge));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SenmlJsonDecoder::new(&data, Path::ROOT, &device_types, DecodeLimits::default()).count();
        let _ = SenmlJsonPaths::new(&data, DecodeLimits::default()).count();
    }

    #[test]
    fn never_panics_on_json_like_text(s in r#"[\[\]{}",:0-9a-z/\\. -]{0,80}"#) {
        let _ = SenmlJsonDecoder::new(s.as_bytes(), Path::ROOT, &device_types, DecodeLimits::default()).count();
        let _ = SenmlJsonPaths::new(s.as_bytes(), DecodeLimits::default()).count();
    }
}
