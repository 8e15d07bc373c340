//! SenML JSON, `application/senml+json` (110): RFC 8428 §5 as LwM2M uses it
//! (OMA-TS-LightweightM2M_Core 1.1 §7.4.4; §7.4.5 in 1.1.1). The record
//! model, name resolution and the naming policy live in [`super::senml`].
//!
//! Output is compact (no whitespace), keys in the order of the TS and RFC
//! examples (`bn`, `n`, `t`, value), strings escaped per RFC 8259 §7, floats
//! in their shortest round-trip form with a fraction or exponent (`3.0`), so
//! a float reads back as a float; NaN and infinities have no JSON form and
//! are [`EncodeError::Unrepresentable`]. Opaque values go in `vd` as
//! base64url without padding (RFC 8428 §5); the decoder also takes padding
//! and the standard alphabet.

use alloc::borrow::Cow;

use super::base64;
use super::json::{self, Limits as JsonLimits, Token, Tokenizer};
use super::senml::{
    Entries, Label, Namer, Number, OutRecord, OutValue, PathText, Paths, Record, RecordSource,
    RecordValue, Records, Seen, Text, integral,
};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::Path;

/// Tokens one record may take before the pack counts as too large (a full
/// LwM2M record is about ten).
const TOKENS_PER_RECORD: usize = 64;

/// Encodes entries as a SenML JSON pack (see the module documentation for
/// the exact form). Allocation-free.
#[derive(Clone, Debug)]
pub struct SenmlJsonEncoder {
    namer: Namer,
    first: bool,
}

impl SenmlJsonEncoder {
    /// An encoder for a response to a request on `base` (the root for
    /// composite reads, Send and composite notifications).
    pub fn new(base: Path) -> Self {
        SenmlJsonEncoder {
            namer: Namer::new(base),
            first: true,
        }
    }
}

impl Encode for SenmlJsonEncoder {
    fn begin(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(b'[')?;
        Ok(())
    }

    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let names = self.namer.names(&entry.path, false)?;
        if !self.first {
            w.put_u8(b',')?;
        }
        self.first = false;
        write_record(w, &OutRecord::for_entry(entry, names))
    }

    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(b']')?;
        Ok(())
    }
}

/// Writes the names-only pack of a Read-Composite or Observe-Composite
/// request (Core §6.3.8): `[{"n":"/3/0/0"},{"n":"/1/0"}]`, full paths.
pub fn write_paths(w: &mut Writer<'_>, paths: &[Path]) -> Result<(), EncodeError> {
    w.put_u8(b'[')?;
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            w.put_u8(b',')?;
        }
        let rec = OutRecord {
            n: Some(Text::Path(PathText::full(*p))),
            ..OutRecord::default()
        };
        write_record(w, &rec)?;
    }
    w.put_u8(b']')?;
    Ok(())
}

fn write_text(w: &mut Writer<'_>, t: &Text<'_>) -> Result<(), EncodeError> {
    match t {
        Text::Str(s) => json::write_str(w, s),
        Text::Path(p) => {
            // Paths are digits and slashes: nothing to escape.
            w.put_u8(b'"')?;
            p.write(w)?;
            w.put_u8(b'"')?;
            Ok(())
        }
    }
}

fn write_number(w: &mut Writer<'_>, n: Number) -> Result<(), EncodeError> {
    match n {
        Number::Int(i) => json::write_int(w, i),
        Number::Uint(u) => json::write_int(w, u),
        Number::Float(f) => json::write_f64(w, f),
    }
}

/// Times are plain numbers with no type to keep: integral ones are written
/// as integers (`"t":-5`, as RFC 8428's examples do).
pub(crate) fn write_time(w: &mut Writer<'_>, t: f64) -> Result<(), EncodeError> {
    if let Some(i) = integral(t) {
        json::write_int(w, i)
    } else {
        json::write_f64(w, t)
    }
}

/// Writes one record object.
pub(crate) fn write_record(w: &mut Writer<'_>, r: &OutRecord<'_>) -> Result<(), EncodeError> {
    let mut first = true;
    let mut key = |w: &mut Writer<'_>, k: &[u8]| -> Result<(), EncodeError> {
        w.put(if first { b"{\"" } else { b",\"" })?;
        first = false;
        w.put(k)?;
        w.put(b"\":")?;
        Ok(())
    };
    if let Some(bn) = &r.bn {
        key(w, b"bn")?;
        write_text(w, bn)?;
    }
    if let Some(bt) = r.bt {
        key(w, b"bt")?;
        write_time(w, bt)?;
    }
    if let Some(bu) = r.bu {
        key(w, b"bu")?;
        json::write_str(w, bu)?;
    }
    if let Some(v) = r.bver {
        key(w, b"bver")?;
        json::write_int(w, v)?;
    }
    if let Some(n) = &r.n {
        key(w, b"n")?;
        write_text(w, n)?;
    }
    if let Some(u) = r.u {
        key(w, b"u")?;
        json::write_str(w, u)?;
    }
    if let Some(t) = r.t {
        key(w, b"t")?;
        write_time(w, t)?;
    }
    match r.value {
        Some(OutValue::Number(n)) => {
            key(w, b"v")?;
            write_number(w, n)?;
        }
        Some(OutValue::Str(s)) => {
            key(w, b"vs")?;
            json::write_str(w, s)?;
        }
        Some(OutValue::Bool(b)) => {
            key(w, b"vb")?;
            w.put(if b { b"true" } else { b"false" })?;
        }
        Some(OutValue::Data(d)) => {
            key(w, b"vd")?;
            w.put_u8(b'"')?;
            base64::write_base64(w, d, base64::Base64::UrlNoPad)?;
            w.put_u8(b'"')?;
        }
        Some(OutValue::ObjLnk(l)) => {
            key(w, b"vlo")?;
            json::write_int(w, format_args!("\"{}:{}\"", l.oid, l.iid))?;
        }
        #[cfg(test)]
        Some(OutValue::ObjLnkText(s)) => {
            key(w, b"vlo")?;
            json::write_str(w, s)?;
        }
        None => {}
    }
    if first {
        w.put_u8(b'{')?;
    }
    w.put_u8(b'}')?;
    Ok(())
}

/// The tokenizer bounds for a SenML or LwM2M JSON payload under `l`.
pub(crate) fn json_limits(l: &DecodeLimits, containers: usize) -> JsonLimits {
    JsonLimits {
        max_depth: l.max_depth,
        // Room for an opaque value of max_value_len bytes in base64.
        max_string_len: l.max_value_len.saturating_mul(4) / 3 + 4,
        max_tokens: l
            .max_entries
            .saturating_mul(TOKENS_PER_RECORD)
            .saturating_add(containers),
    }
}

/// Reads records out of a SenML JSON array, one object at a time.
pub(crate) struct JsonRecords<'a> {
    tok: Tokenizer<'a>,
    started: bool,
    finished: bool,
    count: usize,
    limits: DecodeLimits,
}

impl<'a> JsonRecords<'a> {
    pub(crate) fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        JsonRecords {
            tok: Tokenizer::new(payload, json_limits(&limits, 4)),
            started: false,
            finished: false,
            count: 0,
            limits,
        }
    }

    fn step(&mut self) -> Result<Option<(usize, Record<'a>)>, DecodeError> {
        if !self.started {
            self.started = true;
            if self.tok.expect_token()? != Token::BeginArray {
                return Err(DecodeError::Malformed {
                    at: self.tok.token_start(),
                });
            }
        }
        match self.tok.expect_token()? {
            Token::BeginObject => {
                let at = self.tok.token_start();
                self.count += 1;
                if self.count > self.limits.max_entries {
                    return Err(DecodeError::TooLarge);
                }
                let rec = read_record(&mut self.tok, &self.limits)?;
                Ok(Some((at, rec)))
            }
            // The tokenizer refuses anything but whitespace after the array.
            Token::EndArray => self.tok.next_token().map(|_| None),
            _ => Err(DecodeError::Malformed {
                at: self.tok.token_start(),
            }),
        }
    }
}

impl<'a> RecordSource<'a> for JsonRecords<'a> {
    fn next_record(&mut self) -> Option<Result<(usize, Record<'a>), DecodeError>> {
        if self.finished {
            return None;
        }
        let r = self.step();
        self.finished = !matches!(r, Ok(Some(_)));
        r.transpose()
    }
}

fn bounded<'a>(s: Cow<'a, str>, l: &DecodeLimits) -> Result<Cow<'a, str>, DecodeError> {
    if s.len() > l.max_value_len {
        Err(DecodeError::TooLarge)
    } else {
        Ok(s)
    }
}

/// Reads the members of a record object whose `{` was just consumed.
fn read_record<'a>(tok: &mut Tokenizer<'a>, l: &DecodeLimits) -> Result<Record<'a>, DecodeError> {
    let mut rec = Record::default();
    let mut seen = Seen::default();
    loop {
        let key = match tok.expect_token()? {
            Token::EndObject => return Ok(rec),
            Token::Key(k) => k,
            _ => {
                return Err(DecodeError::Malformed {
                    at: tok.token_start(),
                });
            }
        };
        let label = Label::from_name(&key);
        seen.add(label, tok.token_start())?;
        if label == Label::Unknown {
            tok.skip_value()?;
            continue;
        }
        let value = tok.expect_token()?;
        let bad = DecodeError::Malformed {
            at: tok.token_start(),
        };
        match (label, value) {
            (Label::BaseName, Token::String(s)) => rec.base_name = Some(bounded(s, l)?),
            (Label::Name, Token::String(s)) => rec.name = Some(bounded(s, l)?),
            (Label::BaseUnit, Token::String(s)) => rec.base_unit = Some(bounded(s, l)?),
            (Label::Unit, Token::String(s)) => rec.unit = Some(bounded(s, l)?),
            (Label::StringValue, Token::String(s)) => {
                rec.value = Some(RecordValue::String(bounded(s, l)?));
            }
            (Label::ObjLnk, Token::String(s)) => {
                rec.value = Some(RecordValue::ObjLnk(bounded(s, l)?));
            }
            (Label::DataValue, Token::String(s)) => {
                let d = base64::decode_base64(&s).ok_or(bad)?;
                if d.len() > l.max_value_len {
                    return Err(DecodeError::TooLarge);
                }
                rec.value = Some(RecordValue::Data(Cow::Owned(d)));
            }
            (Label::BoolValue, Token::Bool(b)) => rec.value = Some(RecordValue::Bool(b)),
            (Label::Value, Token::Number(n)) => rec.value = Some(RecordValue::Number(n)),
            (Label::BaseValue, Token::Number(n)) => rec.base_value = Some(n),
            (Label::BaseTime, Token::Number(n)) => rec.base_time = Some(n.as_f64()),
            (Label::Time, Token::Number(n)) => rec.time = Some(n.as_f64()),
            (Label::Sum | Label::BaseSum | Label::UpdateTime, Token::Number(_)) => {}
            (Label::Version, Token::Number(Number::Int(v))) if v >= 0 => {
                rec.version = Some(v.unsigned_abs());
            }
            (Label::Version, Token::Number(Number::Uint(v))) => rec.version = Some(v),
            _ => return Err(bad),
        }
    }
}

/// Decodes a SenML JSON payload into entries (Write, Write-Composite, and
/// what a server reads from Read, Notify and Send).
///
/// Every entry is at a resource or resource instance under `base` (else
/// [`DecodeError::Path`]), carries exactly one value (else
/// [`DecodeError::Malformed`]) converted to the type `resolver` declares
/// (else [`DecodeError::Type`]). Strings without escapes and the names are
/// borrowed; `vd` is decoded into an owned buffer. After the first error
/// the iterator ends.
pub struct SenmlJsonDecoder<'a, 'r>(Entries<'a, 'r, JsonRecords<'a>>);

impl<'a, 'r> SenmlJsonDecoder<'a, 'r> {
    /// A decoder over `payload` for a request on `base`.
    pub fn new(
        payload: &'a [u8],
        base: Path,
        resolver: &'r dyn TypeResolver,
        limits: DecodeLimits,
    ) -> Self {
        SenmlJsonDecoder(Entries::new(
            JsonRecords::new(payload, limits),
            base,
            resolver,
        ))
    }
}

impl<'a> Iterator for SenmlJsonDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// Decodes the names-only pack of a Read-Composite or Observe-Composite
/// request (Core §6.3.8, §6.4) into paths, at any depth (`[{"n":"/"}]` is
/// the root). A record with a value field is [`DecodeError::Malformed`].
pub struct SenmlJsonPaths<'a>(Paths<'a, JsonRecords<'a>>);

impl<'a> SenmlJsonPaths<'a> {
    /// A decoder over `payload`.
    pub fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        SenmlJsonPaths(Paths::new(JsonRecords::new(payload, limits)))
    }
}

impl Iterator for SenmlJsonPaths<'_> {
    type Item = Result<Path, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The raw records of a SenML JSON pack, for SenML that is not LwM2M
/// (names that are not paths); resolve them with a
/// [`super::senml::Context`].
pub struct SenmlJsonRecords<'a>(Records<'a, JsonRecords<'a>>);

impl<'a> SenmlJsonRecords<'a> {
    /// A reader over `payload`.
    pub fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        SenmlJsonRecords(Records::new(JsonRecords::new(payload, limits)))
    }
}

impl<'a> Iterator for SenmlJsonRecords<'a> {
    type Item = Result<Record<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

#[cfg(test)]
#[path = "senml_json_tests.rs"]
pub(crate) mod tests;
