//! Run-time choice of a payload format: one encoder / decoder type over all
//! of them, and Accept negotiation (OMA-TS-LightweightM2M_Core 1.1 §7.4,
//! §6.3.1 "Read": the client answers in the format the server asked for
//! with Accept, or in one it chooses; 4.06 if it cannot).

use super::{
    DecodeError, DecodeLimits, Encode, EncodeError, Entry, Format, TypeResolver, cbor, lwm2m_cbor,
    lwm2m_json, opaque, senml_cbor, senml_json, text, tlv,
};
use crate::buf::Writer;
use crate::dm::Path;
use crate::error::DmError;

/// The encoder of any value format (not link format, which is not a
/// value format).
#[derive(Debug)]
#[non_exhaustive]
pub enum Encoder {
    /// Plain Text.
    Text(text::TextEncoder),
    /// Opaque.
    Opaque(opaque::OpaqueEncoder),
    /// CBOR single value.
    Cbor(cbor::CborEncoder),
    /// SenML JSON.
    SenmlJson(senml_json::SenmlJsonEncoder),
    /// SenML CBOR.
    SenmlCbor(senml_cbor::SenmlCborEncoder),
    /// TLV.
    Tlv(tlv::TlvEncoder),
    /// LwM2M JSON.
    Lwm2mJson(lwm2m_json::Lwm2mJsonEncoder),
    /// LwM2M CBOR.
    Lwm2mCbor(lwm2m_cbor::Lwm2mCborEncoder),
}

impl Encoder {
    /// An encoder of `format` for a response about `base`; `None` for link format.
    pub fn new(format: Format, base: Path) -> Option<Encoder> {
        Some(match format {
            Format::Text => Encoder::Text(text::TextEncoder::new(base)),
            Format::Opaque => Encoder::Opaque(opaque::OpaqueEncoder::new(base)),
            Format::Cbor => Encoder::Cbor(cbor::CborEncoder::new(base)),
            Format::SenmlJson => Encoder::SenmlJson(senml_json::SenmlJsonEncoder::new(base)),
            Format::SenmlCbor => Encoder::SenmlCbor(senml_cbor::SenmlCborEncoder::new(base)),
            Format::Tlv => Encoder::Tlv(tlv::TlvEncoder::new(base)),
            Format::Lwm2mJson => Encoder::Lwm2mJson(lwm2m_json::Lwm2mJsonEncoder::new(base)),
            Format::Lwm2mCbor => Encoder::Lwm2mCbor(lwm2m_cbor::Lwm2mCborEncoder::new(base)),
            Format::LinkFormat => return None,
        })
    }

    fn inner(&mut self) -> &mut dyn Encode {
        match self {
            Encoder::Text(e) => e,
            Encoder::Opaque(e) => e,
            Encoder::Cbor(e) => e,
            Encoder::SenmlJson(e) => e,
            Encoder::SenmlCbor(e) => e,
            Encoder::Tlv(e) => e,
            Encoder::Lwm2mJson(e) => e,
            Encoder::Lwm2mCbor(e) => e,
        }
    }
}

impl Encode for Encoder {
    fn begin(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.inner().begin(w)
    }
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        self.inner().put(w, entry)
    }
    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.inner().end(w)
    }
}

/// The decoder of any value format.
#[non_exhaustive]
pub enum Decoder<'a, 'r> {
    /// Plain Text.
    Text(text::TextDecoder<'a, 'r>),
    /// Opaque.
    Opaque(opaque::OpaqueDecoder<'a>),
    /// CBOR single value.
    Cbor(cbor::CborDecoder<'a, 'r>),
    /// SenML JSON.
    SenmlJson(senml_json::SenmlJsonDecoder<'a, 'r>),
    /// SenML CBOR.
    SenmlCbor(senml_cbor::SenmlCborDecoder<'a, 'r>),
    /// TLV.
    Tlv(tlv::TlvDecoder<'a, 'r>),
    /// LwM2M JSON.
    Lwm2mJson(lwm2m_json::Lwm2mJsonDecoder<'a, 'r>),
    /// LwM2M CBOR.
    Lwm2mCbor(lwm2m_cbor::Lwm2mCborDecoder<'a, 'r>),
}

impl<'a, 'r> Decoder<'a, 'r> {
    /// A decoder of `payload` in `format` for a request on `base`.
    /// [`DecodeError::UnsupportedFormat`] for link format.
    pub fn new(
        format: Format,
        payload: &'a [u8],
        base: Path,
        types: &'r dyn TypeResolver,
        limits: DecodeLimits,
    ) -> Result<Decoder<'a, 'r>, DecodeError> {
        Ok(match format {
            Format::Text => Decoder::Text(text::TextDecoder::new(payload, base, types, limits)),
            Format::Opaque => Decoder::Opaque(opaque::OpaqueDecoder::new(payload, base, limits)),
            Format::Cbor => Decoder::Cbor(cbor::CborDecoder::new(payload, base, types, limits)),
            Format::SenmlJson => Decoder::SenmlJson(senml_json::SenmlJsonDecoder::new(
                payload, base, types, limits,
            )),
            Format::SenmlCbor => Decoder::SenmlCbor(senml_cbor::SenmlCborDecoder::new(
                payload, base, types, limits,
            )),
            Format::Tlv => Decoder::Tlv(tlv::TlvDecoder::new(payload, base, types, limits)),
            Format::Lwm2mJson => Decoder::Lwm2mJson(lwm2m_json::Lwm2mJsonDecoder::new(
                payload, base, types, limits,
            )),
            Format::Lwm2mCbor => Decoder::Lwm2mCbor(lwm2m_cbor::Lwm2mCborDecoder::new(
                payload, base, types, limits,
            )),
            Format::LinkFormat => return Err(DecodeError::UnsupportedFormat),
        })
    }
}

impl<'a> Iterator for Decoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Decoder::Text(d) => d.next(),
            Decoder::Opaque(d) => d.next(),
            Decoder::Cbor(d) => d.next(),
            Decoder::SenmlJson(d) => d.next(),
            Decoder::SenmlCbor(d) => d.next(),
            Decoder::Tlv(d) => d.next(),
            Decoder::Lwm2mJson(d) => d.next(),
            Decoder::Lwm2mCbor(d) => d.next(),
        }
    }
}

/// Chooses the format of a Read / Observe response.
///
/// `accept` is the request's Accept option; `single` says whether the
/// target is one value (a single-instance resource or a resource instance);
/// `opaque` whether that value is Opaque; `hierarchical` is the format used
/// for everything else when the server expresses no preference (TLV for
/// LwM2M 1.0, SenML CBOR from 1.1 on, Core 1.1 §7.4).
///
/// An Accept naming a format we do not produce, or one that cannot carry the
/// target (Plain Text for an instance), is 4.06 Not Acceptable.
pub fn negotiate(
    accept: Option<u16>,
    single: bool,
    opaque: bool,
    hierarchical: Format,
) -> Result<Format, DmError> {
    let Some(n) = accept else {
        return Ok(match (single, opaque) {
            (true, true) => Format::Opaque,
            (true, false) => Format::Text,
            (false, _) => hierarchical,
        });
    };
    let f = Format::from_number(n).ok_or(DmError::NotAcceptable)?;
    match f {
        Format::LinkFormat => Err(DmError::NotAcceptable),
        Format::Text | Format::Cbor if !single => Err(DmError::NotAcceptable),
        Format::Opaque if !(single && opaque) => Err(DmError::NotAcceptable),
        f => Ok(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dm::{DataType, Value};

    #[test]
    fn negotiation_rules() {
        assert_eq!(negotiate(None, true, false, Format::Tlv), Ok(Format::Text));
        assert_eq!(negotiate(None, true, true, Format::Tlv), Ok(Format::Opaque));
        assert_eq!(
            negotiate(None, false, false, Format::SenmlCbor),
            Ok(Format::SenmlCbor)
        );
        assert_eq!(
            negotiate(Some(11542), false, false, Format::SenmlCbor),
            Ok(Format::Tlv)
        );
        assert_eq!(
            negotiate(Some(0), false, false, Format::Tlv),
            Err(DmError::NotAcceptable)
        );
        assert_eq!(
            negotiate(Some(42), true, false, Format::Tlv),
            Err(DmError::NotAcceptable)
        );
        assert_eq!(
            negotiate(Some(42), true, true, Format::Tlv),
            Ok(Format::Opaque)
        );
        assert_eq!(
            negotiate(Some(9999), true, false, Format::Tlv),
            Err(DmError::NotAcceptable)
        );
        assert_eq!(
            negotiate(Some(40), true, false, Format::Tlv),
            Err(DmError::NotAcceptable)
        );
    }

    #[test]
    fn every_value_format_round_trips_through_the_dispatch() {
        let base = Path::resource(3, 0, 1);
        let entry = Entry::new(base, Value::str("Model 7"));
        let types = |_: &Path| Some(DataType::String);
        for f in [
            Format::Text,
            Format::Cbor,
            Format::SenmlJson,
            Format::SenmlCbor,
            Format::Tlv,
            Format::Lwm2mJson,
            Format::Lwm2mCbor,
        ] {
            let mut buf = [0u8; 128];
            let mut w = Writer::new(&mut buf);
            let mut e = Encoder::new(f, base).unwrap();
            e.begin(&mut w).unwrap();
            e.put(&mut w, &entry).unwrap();
            e.end(&mut w).unwrap();
            let payload = w.written().to_vec();
            let got: Vec<_> = Decoder::new(f, &payload, base, &types, DecodeLimits::default())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got, vec![entry.clone()], "{f:?}");
        }
        assert!(Encoder::new(Format::LinkFormat, base).is_none());
        assert!(matches!(
            Decoder::new(
                Format::LinkFormat,
                b"",
                base,
                &types,
                DecodeLimits::default()
            ),
            Err(DecodeError::UnsupportedFormat)
        ));
    }
}
