//! LwM2M JSON (11543) vectors (sources cited per vector), errors and limits.

use super::*;
use crate::content::device_fixture::{device as device_entries, types as device_types};
use crate::content::senml::tests::encode;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// OMA-TS-LightweightM2M 1.0 §6.4.4, Read on /3/0 in JSON (the 1.0 Device
/// example lists Timezone /3/0/15 where 1.1.1's lists Binding /3/0/16).
const TS10_DEVICE: &str = r#"{"bn":"/3/0/",
"e":[
{"n":"0","sv":"Open Mobile Alliance"},
{"n":"1","sv":"Lightweight M2M Client"},
{"n":"2","sv":"345000123"},
{"n":"3","sv":"1.0"},
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
{"n":"14","sv":"+02:00"},
{"n":"15","sv":"U"}]
}"#;

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn none(_: &Path) -> Option<DataType> {
    None
}

fn decode<'a>(s: &'a str, base: &str, r: &dyn TypeResolver) -> Result<Vec<Entry<'a>>, DecodeError> {
    Lwm2mJsonDecoder::new(s.as_bytes(), p(base), r, DecodeLimits::default()).collect()
}

fn enc(base: &str, entries: &[Entry<'_>]) -> String {
    String::from_utf8(encode(&mut Lwm2mJsonEncoder::new(p(base)), entries).unwrap()).unwrap()
}

/// The 1.0 example's values: the Device fixture with /3/0/15 for /3/0/16.
fn ts10_entries() -> Vec<Entry<'static>> {
    let mut e = device_entries();
    let last = e.last_mut().unwrap();
    last.path = Path::resource(3, 0, 15);
    e
}

#[test]
fn ts10_device_example_decodes() {
    assert_eq!(
        decode(TS10_DEVICE, "/3/0", &device_types).unwrap(),
        ts10_entries()
    );
    // Pre-1.0 drafts printed it without "bn": names are then relative to the
    // request path.
    let no_bn = TS10_DEVICE.replacen(r#""bn":"/3/0/","#, "", 1);
    assert_eq!(
        decode(&no_bn, "/3/0", &device_types).unwrap(),
        ts10_entries()
    );
}

#[test]
fn device_encodes_compact() {
    let s = enc("/3/0", &ts10_entries());
    let compact: String = TS10_DEVICE.chars().filter(|c| *c != '\n').collect();
    assert_eq!(s, compact);
}

#[test]
fn single_value_and_empty_reads() {
    // A Read of /3/0/0: bn is the resource, the record has no name.
    let e = [Entry::new(p("/3/0/0"), Value::str("Nordic"))];
    let s = enc("/3/0/0", &e);
    assert_eq!(s, r#"{"bn":"/3/0/0","e":[{"sv":"Nordic"}]}"#);
    assert_eq!(decode(&s, "/3/0/0", &device_types).unwrap(), e);
    assert_eq!(enc("/3/0", &[]), r#"{"bn":"/3/0/","e":[]}"#);
    assert_eq!(
        decode(r#"{"bn":"/3/0/","e":[]}"#, "/3/0", &none).unwrap(),
        vec![]
    );
    // The root: no bn, full names.
    let e = [Entry::new(p("/1/0/1"), Value::Integer(86400))];
    assert_eq!(enc("/", &e), r#"{"e":[{"n":"/1/0/1","v":86400}]}"#);
}

#[test]
fn historical_values_with_base_time_after_e() {
    // The 1.0 historical-values example, with numbers as numbers: "bt"
    // comes after "e", and "t" is relative to it.
    let s = r#"{"e":[
      {"n":"1/2","v":22.4,"t":-5},
      {"n":"1/2","v":22.9,"t":-30},
      {"n":"1/2","v":24.1,"t":-50}],
      "bt":25462634}"#;
    let got = decode(s, "/3303/0", &none).unwrap();
    let times: Vec<_> = got.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        vec![Some(25462629.0), Some(25462604.0), Some(25462584.0)]
    );
    assert!(got.iter().all(|e| e.path == p("/3303/0/1/2")));
    assert_eq!(got[1].value, Value::Float(22.9));
}

#[test]
fn names_join_with_one_slash() {
    // TS style, Anjay style ("bn":"/3/0", "n":"/0"), bn without n.
    for s in [
        r#"{"bn":"/3/0/","e":[{"n":"0","sv":"x"}]}"#,
        r#"{"bn":"/3/0","e":[{"n":"/0","sv":"x"}]}"#,
        r#"{"bn":"/3/0","e":[{"n":"0","sv":"x"}]}"#,
        r#"{"bn":"/3/0/0","e":[{"sv":"x"}]}"#,
        r#"{"bn":"/","e":[{"n":"3/0/0","sv":"x"}]}"#,
        r#"{"e":[{"n":"/3/0/0","sv":"x"}]}"#,
    ] {
        let got = decode(s, "/", &none).unwrap();
        assert_eq!(got, vec![Entry::new(p("/3/0/0"), Value::str("x"))], "{s}");
    }
}

#[test]
fn value_fields_by_type() {
    let types = |q: &Path| match q.rid() {
        Some(1) => Some(DataType::Opaque),
        Some(2) => Some(DataType::Objlnk),
        Some(3) => Some(DataType::Boolean),
        Some(4) => Some(DataType::Float),
        Some(5) => Some(DataType::UnsignedInteger),
        Some(6) => Some(DataType::Corelnk),
        _ => None,
    };
    let e = vec![
        Entry::new(p("/9/0/1"), Value::bytes(b"foobar\xff")),
        Entry::new(p("/9/0/2"), Value::Objlnk(ObjLnk { oid: 3, iid: 0 })),
        Entry::new(p("/9/0/3"), Value::Boolean(true)),
        Entry::new(p("/9/0/4"), Value::Float(-2.0)),
        Entry::new(p("/9/0/5"), Value::Unsigned(u64::MAX)),
        Entry::new(p("/9/0/6"), Value::Corelnk("</3/0>;ct=0".into())),
    ];
    let s = enc("/9/0", &e);
    assert_eq!(
        s,
        concat!(
            r#"{"bn":"/9/0/","e":[{"n":"1","sv":"Zm9vYmFy/w=="},{"n":"2","ov":"3:0"},"#,
            r#"{"n":"3","bv":true},{"n":"4","v":-2.0},{"n":"5","v":18446744073709551615},"#,
            r#"{"n":"6","sv":"</3/0>;ct=0"}]}"#
        )
    );
    assert_eq!(decode(&s, "/9/0", &types).unwrap(), e);
    // Base64 url-safe and unpadded are accepted for opaque too.
    let got = decode(r#"{"e":[{"n":"1","sv":"-_8"}]}"#, "/9/0", &types).unwrap();
    assert_eq!(got[0].value, Value::bytes(&[0xfb, 0xff]));
    assert_eq!(
        decode(r#"{"e":[{"n":"1","sv":"!"}]}"#, "/9/0", &types),
        Err(DecodeError::Type)
    );
}

#[test]
fn bad_payloads_give_typed_errors() {
    for m in [
        "",
        "[]",
        "{}",
        r#"{"bn":"/3/0/"}"#,
        r#"{"e":{}}"#,
        r#"{"e":[1]}"#,
        r#"{"e":[{"n":"0"}]}"#,
        r#"{"e":[{"n":"0","v":1,"sv":"x"}]}"#,
        r#"{"e":[{"n":"0","n":"1","v":1}]}"#,
        r#"{"e":[{"n":"0","v":"1"}]}"#,
        r#"{"e":[{"n":0,"v":1}]}"#,
        r#"{"e":[],"e":[]}"#,
        r#"{"bn":"/3/0/","bn":"/3/0/","e":[]}"#,
        r#"{"bn":1,"e":[]}"#,
        r#"{"e":[]} x"#,
        r#"{"e":[{"n":"0","v":1}]"#,
        // SenML JSON mislabelled as LwM2M JSON.
        r#"[{"bn":"/3/0/","n":"0","vs":"x"}]"#,
    ] {
        assert!(
            matches!(decode(m, "/3/0", &none), Err(DecodeError::Malformed { .. })),
            "{m}: {:?}",
            decode(m, "/3/0", &none)
        );
    }
    for m in [
        r#"{"bn":"/4/0/","e":[{"n":"0","v":1}]}"#,
        r#"{"bn":"/3/","e":[{"n":"0","v":1}]}"#,
        r#"{"e":[{"n":"0/0/0","v":1}]}"#,
        r#"{"e":[{"n":"x","v":1}]}"#,
    ] {
        assert_eq!(decode(m, "/3/0", &none), Err(DecodeError::Path), "{m}");
    }
    assert_eq!(
        decode(r#"{"e":[{"n":"9","sv":"x"}]}"#, "/3/0", &device_types),
        Err(DecodeError::Type)
    );
    assert_eq!(
        decode(r#"{"e":[{"n":"9","ov":"3"}]}"#, "/3/0", &none),
        Err(DecodeError::Type)
    );
    // Unknown members are ignored.
    assert_eq!(
        decode(
            r#"{"x":[1],"e":[{"n":"9","v":1,"y":{}}],"z":null}"#,
            "/3/0",
            &none
        )
        .unwrap()
        .len(),
        1
    );
}

#[test]
fn limits_are_enforced() {
    let l = DecodeLimits {
        max_entries: 2,
        max_depth: 3,
        max_value_len: 8,
    };
    fn run(s: &str, l: DecodeLimits) -> Result<usize, DecodeError> {
        Lwm2mJsonDecoder::new(s.as_bytes(), Path::ROOT, &none, l)
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.len())
    }
    assert_eq!(
        run(r#"{"e":[{"n":"/3/0/0","v":1},{"n":"/3/0/1","v":1}]}"#, l),
        Ok(2)
    );
    assert_eq!(
        run(
            r#"{"e":[{"n":"/3/0/0","v":1},{"n":"/3/0/1","v":1},{"n":"/3/0/2","v":1}]}"#,
            l
        ),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(r#"{"e":[{"n":"/3/0/0","sv":"123456789"}]}"#, l),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(r#"{"e":[{"n":"/3/0/0","v":1,"x":[[1]]}]}"#, l),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(
        run(r#"{"bn":"/3/0/000000","e":[]}"#, l),
        Err(DecodeError::TooLarge)
    );
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Lwm2mJsonDecoder::new(&data, Path::ROOT, &device_types, DecodeLimits::default()).count();
    }

    #[test]
    fn never_panics_on_json_like_text(s in r#"[\[\]{}",:0-9a-z/\\. -]{0,80}"#) {
        let _ = Lwm2mJsonDecoder::new(s.as_bytes(), Path::ROOT, &device_types, DecodeLimits::default()).count();
        let wrapped = alloc::format!("{{\"e\":[{s}]}}");
        let _ = Lwm2mJsonDecoder::new(wrapped.as_bytes(), Path::ROOT, &device_types, DecodeLimits::default()).count();
    }
}
