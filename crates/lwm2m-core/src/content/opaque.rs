//! Opaque, content format 42 (OMA-TS-LightweightM2M_Core 1.1 §7.4.2): the
//! raw bytes of one Opaque resource or resource instance.
//!
//! The decoder hands out the payload itself, borrowed: a firmware image or
//! a certificate is never copied on its way to the handler.

use alloc::borrow::Cow;

use super::single_value::{Once, One};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry};
use crate::buf::Writer;
use crate::dm::{Path, Value};

/// Opaque encoder for the value at the request's path.
#[derive(Clone, Copy, Debug)]
pub struct OpaqueEncoder {
    one: One,
}

impl OpaqueEncoder {
    /// An encoder for a Read of `base` (a resource or resource instance).
    /// A value that is not Opaque, a second entry, or an entry at another
    /// path is [`EncodeError::Unrepresentable`] (4.06).
    pub fn new(base: Path) -> OpaqueEncoder {
        OpaqueEncoder {
            one: One::new(base),
        }
    }
}

impl Encode for OpaqueEncoder {
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let Value::Opaque(bytes) = &entry.value else {
            return Err(EncodeError::Unrepresentable);
        };
        self.one.admit(entry)?;
        Ok(w.put(bytes)?)
    }

    fn end(&mut self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.one.finish()
    }
}

/// Opaque decoder: yields the payload as the value at the request's path.
#[derive(Clone, Debug)]
pub struct OpaqueDecoder<'a> {
    payload: &'a [u8],
    base: Path,
    limits: DecodeLimits,
    state: Once,
}

impl<'a> OpaqueDecoder<'a> {
    /// A decoder for a Write of `payload` to `base` (a resource or resource
    /// instance, else the only item is [`DecodeError::UnsupportedFormat`]).
    /// Whether the resource is Opaque is the data model's check: the value
    /// is always [`Value::Opaque`].
    pub fn new(payload: &'a [u8], base: Path, limits: DecodeLimits) -> OpaqueDecoder<'a> {
        OpaqueDecoder {
            payload,
            base,
            limits,
            state: Once::Pending,
        }
    }
}

impl<'a> Iterator for OpaqueDecoder<'a> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = match self.state.take(&self.base)? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        if self.payload.len() > self.limits.max_value_len {
            return Some(Err(DecodeError::TooLarge));
        }
        Some(Ok(Entry::new(
            path,
            Value::Opaque(Cow::Borrowed(self.payload)),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::device_fixture::{collect, encode_all};
    use proptest::prelude::*;

    const FW: Path = Path::resource(5, 0, 0);

    #[test]
    fn value_is_the_payload_itself() {
        let payload = [0xde, 0xad, 0xbe, 0xef];
        let mut d = OpaqueDecoder::new(&payload, FW, DecodeLimits::default());
        match d.next() {
            Some(Ok(Entry {
                path,
                value: Value::Opaque(Cow::Borrowed(b)),
                ..
            })) => {
                assert_eq!(path, FW);
                assert_eq!(b.as_ptr(), payload.as_ptr());
                assert_eq!(b.len(), 4);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(d.next(), None);
    }

    #[test]
    fn encode_writes_the_bytes() {
        let e = [Entry::new(FW, Value::bytes(b"\x00\x01\xff"))];
        let out = encode_all(&mut OpaqueEncoder::new(FW), &e, 8).unwrap();
        assert_eq!(out, b"\x00\x01\xff");
        assert_eq!(
            encode_all(&mut OpaqueEncoder::new(FW), &e, 2),
            Err(EncodeError::Overflow)
        );
    }

    #[test]
    fn refuses_what_is_not_one_opaque_value() {
        let s = [Entry::new(FW, Value::str("text"))];
        assert_eq!(
            encode_all(&mut OpaqueEncoder::new(FW), &s, 8),
            Err(EncodeError::Unrepresentable)
        );
        let two = [
            Entry::new(FW, Value::bytes(b"a")),
            Entry::new(FW, Value::bytes(b"b")),
        ];
        assert_eq!(
            encode_all(&mut OpaqueEncoder::new(FW), &two, 8),
            Err(EncodeError::Unrepresentable)
        );
        let at_instance = OpaqueDecoder::new(b"x", Path::instance(5, 0), DecodeLimits::default());
        assert_eq!(collect(at_instance), Err(DecodeError::UnsupportedFormat));
        let tight = DecodeLimits {
            max_value_len: 1,
            ..DecodeLimits::default()
        };
        assert_eq!(
            collect(OpaqueDecoder::new(b"xy", FW, tight)),
            Err(DecodeError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn round_trip(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let e = [Entry::new(FW, Value::bytes(&b))];
            let out = encode_all(&mut OpaqueEncoder::new(FW), &e, 512).unwrap();
            let back = collect(OpaqueDecoder::new(&out, FW, DecodeLimits::default())).unwrap();
            prop_assert_eq!(&back[..], &e[..]);
        }
    }
}
