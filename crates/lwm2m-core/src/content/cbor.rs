//! CBOR, content format 60 (`application/cbor`): one resource value as a
//! single CBOR data item (OMA-TS-LightweightM2M_Core 1.1.1 / 1.2 §7.4.6;
//! RFC 8949).
//!
//! The type mapping is in `cbor_util`'s module doc: integers as major types
//! 0/1, floats in single precision when lossless (half, single and double
//! accepted), Time as tag 1 (an untagged integer is accepted), Objlnk as
//! the text `"oid:iid"`. The decoder checks what it reads against the
//! resource's declared type from the [`TypeResolver`], with range checks.

use minicbor::decode::Decoder;

use super::cbor_util;
use super::single_value::{Once, One};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::Path;

/// CBOR encoder for the value at the request's path.
#[derive(Clone, Copy, Debug)]
pub struct CborEncoder {
    one: One,
}

impl CborEncoder {
    /// An encoder for a Read of `base` (a resource or resource instance); a
    /// second entry, or one at another path, is
    /// [`EncodeError::Unrepresentable`] (4.06).
    pub fn new(base: Path) -> CborEncoder {
        CborEncoder {
            one: One::new(base),
        }
    }
}

impl Encode for CborEncoder {
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        self.one.admit(entry)?;
        cbor_util::put_value(w, &entry.value)
    }

    fn end(&mut self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.one.finish()
    }
}

/// CBOR decoder: yields the one value of the payload.
pub struct CborDecoder<'a, 't> {
    payload: &'a [u8],
    base: Path,
    types: &'t dyn TypeResolver,
    limits: DecodeLimits,
    state: Once,
}

impl<'a, 't> CborDecoder<'a, 't> {
    /// A decoder for a Write of `payload` to `base` (a resource or resource
    /// instance, else the only item is [`DecodeError::UnsupportedFormat`]).
    /// The payload must be exactly one data item.
    pub fn new(
        payload: &'a [u8],
        base: Path,
        types: &'t dyn TypeResolver,
        limits: DecodeLimits,
    ) -> CborDecoder<'a, 't> {
        CborDecoder {
            payload,
            base,
            types,
            limits,
            state: Once::Pending,
        }
    }
}

impl<'a> Iterator for CborDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = match self.state.take(&self.base)? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let mut d = Decoder::new(self.payload);
        let value = cbor_util::read_raw(&mut d, &self.limits).and_then(|raw| {
            if d.position() != self.payload.len() {
                return Err(cbor_util::malformed(&d));
            }
            cbor_util::typed(raw, self.types.data_type(&path.truncated(3)))
        });
        Some(value.map(|v| Entry::new(path, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::device_fixture::{all_types, collect, device, encode_all, hex, types};
    use crate::dm::{ObjLnk, Value};
    use alloc::borrow::Cow;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc(e: &Entry<'_>) -> Result<Vec<u8>, EncodeError> {
        encode_all(&mut CborEncoder::new(e.path), core::slice::from_ref(e), 64)
    }

    fn dec(path: Path, bytes: &[u8]) -> Result<Value<'static>, DecodeError> {
        let mut v = collect(CborDecoder::new(
            bytes,
            path,
            &types,
            DecodeLimits::default(),
        ))?;
        assert_eq!(v.len(), 1);
        Ok(v.remove(0).value)
    }

    /// The single resources of the Device example (Core 1.1 §7.4.3.2
    /// values) as CBOR items; byte forms per RFC 8949 §3.1 (heads) and
    /// §3.4.2 (tag 1), checked against RFC 8949 Appendix A's examples of
    /// the same heads (`0x1864` = 100, `0x1a…` = 32-bit unsigned).
    #[test]
    fn ts_device_resources() {
        let cases = [
            (
                0,
                "74 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65",
            ),
            (9, "18 64"),
            (10, "0F"),
            (13, "C1 1A 51 82 42 8F"),
            (14, "66 2B 30 32 3A 30 30"),
        ];
        for (rid, h) in cases {
            let e = device()
                .into_iter()
                .find(|e| e.path == Path::resource(3, 0, rid))
                .unwrap();
            assert_eq!(enc(&e).unwrap(), hex(h), "/3/0/{rid}");
            assert_eq!(dec(e.path, &hex(h)).unwrap(), e.value, "/3/0/{rid}");
        }
        let inst = Entry::new(Path::resource_instance(3, 0, 7, 1), Value::Integer(5000));
        assert_eq!(enc(&inst).unwrap(), hex("19 13 88"));
    }

    /// RFC 8949 Appendix A items, read as the matching LwM2M types.
    #[test]
    fn rfc8949_appendix_a() {
        let p = |r| Path::resource(1000, 0, r);
        let cases: &[(u16, &str, Value<'_>)] = &[
            (0, "00", Value::Integer(0)),
            (0, "20", Value::Integer(-1)),
            (0, "39 03 E7", Value::Integer(-1000)),
            (0, "3B 7F FF FF FF FF FF FF FF", Value::Integer(i64::MIN)),
            (1, "1B FF FF FF FF FF FF FF FF", Value::Unsigned(u64::MAX)),
            (2, "F9 3E 00", Value::Float(1.5)),
            (2, "F9 7B FF", Value::Float(65504.0)),
            (2, "FA 47 C3 50 00", Value::Float(100000.0)),
            (2, "FB 3F F1 99 99 99 99 99 9A", Value::Float(1.1)),
            (3, "F5", Value::Boolean(true)),
            (4, "64 49 45 54 46", Value::str("IETF")),
            (
                4,
                "7F 65 73 74 72 65 61 64 6D 69 6E 67 FF",
                Value::str("streaming"),
            ),
            (5, "44 01 02 03 04", Value::bytes(&[1, 2, 3, 4])),
            (
                5,
                "5F 42 01 02 43 03 04 05 FF",
                Value::bytes(&[1, 2, 3, 4, 5]),
            ),
            (6, "C1 1A 51 4B 67 B0", Value::Time(1_363_896_240)),
            (6, "1A 51 4B 67 B0", Value::Time(1_363_896_240)),
            (7, "63 33 3A 30", Value::Objlnk(ObjLnk { oid: 3, iid: 0 })),
        ];
        for (r, h, v) in cases {
            assert_eq!(dec(p(*r), &hex(h)).as_ref(), Ok(v), "{h}");
        }
    }

    #[test]
    fn wrong_or_trailing_items_are_rejected() {
        let p = |r| Path::resource(1000, 0, r);
        for (r, h) in [
            (0, "3B FF FF FF FF FF FF FF FF"), // -2^64
            (1, "20"),                         // -1 as unsigned
            (0, "F9 3E 00"),                   // 1.5 as integer
            (3, "01"),
            (4, "44 01 02 03 04"),
            (5, "64 49 45 54 46"),
            (7, "63 33 3A 78"),
            (0, "F6"),    // null
            (0, "80"),    // array
            (0, "C0 00"), // tag 0
            (6, "C1 C1 00"),
            (6, "C1 FB 41 D4 52 D9 EC 20 00 00"), // 1(1363896240.5): not whole seconds
        ] {
            assert_eq!(dec(p(r), &hex(h)), Err(DecodeError::Type), "{h}");
        }
        for h in ["", "18", "00 00", "FF", "1C", "5F 42 01"] {
            assert!(
                matches!(dec(p(0), &hex(h)), Err(DecodeError::Malformed { .. })),
                "{h}"
            );
        }
    }

    #[test]
    fn strings_and_bytes_are_borrowed() {
        let bytes = hex("64 49 45 54 46");
        let mut d = CborDecoder::new(
            &bytes,
            Path::resource(1000, 0, 4),
            &types,
            DecodeLimits::default(),
        );
        match d.next() {
            Some(Ok(Entry {
                value: Value::String(Cow::Borrowed(s)),
                ..
            })) => {
                assert_eq!(s.as_ptr(), bytes[1..].as_ptr());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn single_value_only() {
        let d = device();
        assert_eq!(
            encode_all(&mut CborEncoder::new(Path::instance(3, 0)), &d, 512),
            Err(EncodeError::Unrepresentable)
        );
        let at_instance =
            CborDecoder::new(&[0], Path::instance(3, 0), &types, DecodeLimits::default());
        assert_eq!(collect(at_instance), Err(DecodeError::UnsupportedFormat));
    }

    #[test]
    fn all_types_round_trip() {
        for e in all_types() {
            assert_eq!(dec(e.path, &enc(&e).unwrap()).unwrap(), e.value, "{e:?}");
        }
    }

    proptest! {
        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), r in 0u16..10) {
            let _ = collect(CborDecoder::new(&data, Path::resource(1000, 0, r), &types, DecodeLimits::default()));
        }

        #[test]
        fn floats_round_trip(f in any::<f64>().prop_filter("nan", |f| !f.is_nan())) {
            let e = Entry::new(Path::resource(1000, 0, 2), Value::Float(f));
            prop_assert_eq!(dec(e.path, &enc(&e).unwrap()).unwrap(), e.value);
        }
    }
}
