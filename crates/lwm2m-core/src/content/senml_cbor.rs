//! SenML CBOR, `application/senml+cbor` (112): RFC 8428 §6 as LwM2M uses
//! it (OMA-TS-LightweightM2M_Core 1.1 §7.4.5; §7.4.6 in 1.1.1). The record
//! model, name resolution and the naming policy live in [`super::senml`].
//!
//! Wire choices, checked against RFC 8428 §6 and the TS Device example:
//! - labels are the integer keys of RFC 8428 Table 6; `vlo` is a text key
//!   (no integer was assigned: RFC 8428 §6 reserves integers for its own
//!   table); text keys for the other labels are accepted too;
//! - the pack is a definite-length array (required for non-streaming SenML),
//!   each record a definite-length map, strings and `vd` definite-length;
//! - integers are CBOR integers (the TS example writes `1367491215` as
//!   `1a 51 82 42 8f`); floats take the shortest width that keeps the value
//!   exactly, half, single or double, as RFC 8428 §6's example does (`1.5`
//!   is `f9 3e 00`, `120.1` a double). Anjay never writes halves (single or
//!   double); every decoder, ours included, takes all three widths, and
//!   decimal fractions (tag 4, which RFC 8428 §6 allows for numbers).
//!
//! Decoding is done with `minicbor`, which borrows text and byte strings
//! from the payload: a large `vd` is not copied.

use alloc::borrow::Cow;
use core::fmt::Write as _;

use minicbor::Decoder;
use minicbor::data::Type;

use super::senml::{
    Entries, Label, Namer, Number, OutRecord, OutValue, PathText, Paths, Record, RecordSource,
    RecordValue, Records, Seen, Text, integral, objlnk_len,
};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::Path;

/// Nesting ceiling whatever the limits say: skipping an unknown field
/// recurses once per level.
const MAX_DEPTH: usize = 64;

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;

/// Encodes entries as a SenML CBOR pack. Allocation-free: the array header
/// is fixed up in place in [`Encode::end`] once the record count is known.
#[derive(Clone, Debug)]
pub struct SenmlCborEncoder {
    namer: Namer,
    start: usize,
    count: u64,
}

impl SenmlCborEncoder {
    /// An encoder for a response to a request on `base` (the root for
    /// composite reads, Send and composite notifications).
    pub fn new(base: Path) -> Self {
        SenmlCborEncoder {
            namer: Namer::new(base),
            start: 0,
            count: 0,
        }
    }
}

impl Encode for SenmlCborEncoder {
    fn begin(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.start = w.len();
        self.count = 0;
        w.put_u8(MAJOR_ARRAY << 5)?;
        Ok(())
    }

    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let names = self.namer.names(&entry.path, false)?;
        write_record(w, &OutRecord::for_entry(entry, names))?;
        self.count += 1;
        Ok(())
    }

    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        // begin() wrote a one-byte head for zero records; widen it in place.
        let mut buf = [0u8; 9];
        let mut hw = Writer::new(&mut buf);
        put_head(&mut hw, MAJOR_ARRAY, self.count)?;
        let (first, rest) = hw.written().split_first().ok_or(EncodeError::Overflow)?;
        w.patch(self.start, &[*first])?;
        w.insert(self.start + 1, rest)?;
        Ok(())
    }
}

/// Writes the names-only pack of a Read-Composite or Observe-Composite
/// request (Core §6.3.8): `[{0:"/3/0/0"},{0:"/1/0"}]`, full paths.
pub fn write_paths(w: &mut Writer<'_>, paths: &[Path]) -> Result<(), EncodeError> {
    put_head(w, MAJOR_ARRAY, paths.len() as u64)?;
    for p in paths {
        let rec = OutRecord {
            n: Some(Text::Path(PathText::full(*p))),
            ..OutRecord::default()
        };
        write_record(w, &rec)?;
    }
    Ok(())
}

/// Writes the shortest head for `major` and argument `v` (RFC 8949 §3).
fn put_head(w: &mut Writer<'_>, major: u8, v: u64) -> Result<(), EncodeError> {
    let m = major << 5;
    let (b0, skip) = match v {
        0..=23 => (m | v as u8, 8),
        24..=0xff => (m | 24, 7),
        0x100..=0xffff => (m | 25, 6),
        0x1_0000..=0xffff_ffff => (m | 26, 4),
        _ => (m | 27, 0),
    };
    w.put_u8(b0)?;
    w.put(v.to_be_bytes().get(skip..).unwrap_or(&[]))?;
    Ok(())
}

fn put_text(w: &mut Writer<'_>, t: &Text<'_>) -> Result<(), EncodeError> {
    put_head(w, MAJOR_TEXT, t.len() as u64)?;
    match t {
        Text::Str(s) => w.put(s.as_bytes())?,
        Text::Path(p) => p.write(w)?,
    }
    Ok(())
}

fn put_int(w: &mut Writer<'_>, i: i64) -> Result<(), EncodeError> {
    if i >= 0 {
        put_head(w, MAJOR_UINT, i.unsigned_abs())
    } else {
        // -1 - n encodes as n.
        put_head(w, MAJOR_NINT, (-1 - i128::from(i)) as u64)
    }
}

/// `f` as a half float, if that loses nothing (NaN becomes the canonical
/// quiet NaN, RFC 8949 §4.2.2).
fn f16_bits(f: f32) -> Option<u16> {
    let bits = f.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    if f.is_nan() {
        return Some(0x7e00);
    }
    if exp == 0xff {
        return Some(sign | 0x7c00);
    }
    if exp == 0 {
        // Zero, or an f32 subnormal (far below the smallest half).
        return (mant == 0).then_some(sign);
    }
    let e = exp - 127;
    if e > 15 {
        return None;
    }
    if e >= -14 {
        return (mant & 0x1fff == 0)
            .then(|| sign | (((e + 15) as u16) << 10) | (mant >> 13) as u16);
    }
    // A half subnormal: m * 2^-24 with m < 1024.
    let full = mant | 0x80_0000;
    let shift = (-1 - e) as u32;
    if shift > 24 || full & ((1u32 << shift) - 1) != 0 {
        return None;
    }
    Some(sign | (full >> shift) as u16)
}

/// Writes a float in the shortest of the three widths that is exact.
fn put_float(w: &mut Writer<'_>, f: f64) -> Result<(), EncodeError> {
    let single = f as f32;
    if f64::from(single) == f || f.is_nan() {
        if let Some(h) = f16_bits(single) {
            w.put_u8(0xf9)?;
            w.put(&h.to_be_bytes())?;
        } else {
            w.put_u8(0xfa)?;
            w.put(&single.to_be_bytes())?;
        }
    } else {
        w.put_u8(0xfb)?;
        w.put(&f.to_be_bytes())?;
    }
    Ok(())
}

fn put_number(w: &mut Writer<'_>, n: Number) -> Result<(), EncodeError> {
    match n {
        Number::Int(i) => put_int(w, i),
        Number::Uint(u) => put_head(w, MAJOR_UINT, u),
        Number::Float(f) => put_float(w, f),
    }
}

/// Times carry no type to keep: integral ones are integers (RFC 8428 §6's
/// example writes `t: -5` as `24`).
fn put_time(w: &mut Writer<'_>, t: f64) -> Result<(), EncodeError> {
    if let Some(i) = integral(t) {
        put_int(w, i)
    } else {
        put_float(w, t)
    }
}

/// Writes one record map.
pub(crate) fn write_record(w: &mut Writer<'_>, r: &OutRecord<'_>) -> Result<(), EncodeError> {
    let fields = [
        r.bn.is_some(),
        r.bt.is_some(),
        r.bu.is_some(),
        r.bver.is_some(),
        r.n.is_some(),
        r.u.is_some(),
        r.t.is_some(),
        r.value.is_some(),
    ];
    put_head(w, MAJOR_MAP, fields.iter().filter(|&&f| f).count() as u64)?;
    if let Some(bn) = &r.bn {
        w.put_u8(0x21)?;
        put_text(w, bn)?;
    }
    if let Some(bt) = r.bt {
        w.put_u8(0x22)?;
        put_time(w, bt)?;
    }
    if let Some(bu) = r.bu {
        w.put_u8(0x23)?;
        put_text(w, &Text::Str(bu))?;
    }
    if let Some(v) = r.bver {
        w.put_u8(0x20)?;
        put_head(w, MAJOR_UINT, v)?;
    }
    if let Some(n) = &r.n {
        w.put_u8(0x00)?;
        put_text(w, n)?;
    }
    if let Some(u) = r.u {
        w.put_u8(0x01)?;
        put_text(w, &Text::Str(u))?;
    }
    if let Some(t) = r.t {
        w.put_u8(0x06)?;
        put_time(w, t)?;
    }
    match r.value {
        Some(OutValue::Number(n)) => {
            w.put_u8(0x02)?;
            put_number(w, n)?;
        }
        Some(OutValue::Str(s)) => {
            w.put_u8(0x03)?;
            put_text(w, &Text::Str(s))?;
        }
        Some(OutValue::Bool(b)) => {
            w.put(&[0x04, if b { 0xf5 } else { 0xf4 }])?;
        }
        Some(OutValue::Data(d)) => {
            w.put_u8(0x08)?;
            put_head(w, MAJOR_BYTES, d.len() as u64)?;
            w.put(d)?;
        }
        Some(OutValue::ObjLnk(l)) => {
            w.put(b"\x63vlo")?;
            put_head(w, MAJOR_TEXT, objlnk_len(l) as u64)?;
            write!(w, "{}:{}", l.oid, l.iid).map_err(|_| EncodeError::Overflow)?;
        }
        #[cfg(test)]
        Some(OutValue::ObjLnkText(s)) => {
            w.put(b"\x63vlo")?;
            put_text(w, &Text::Str(s))?;
        }
        None => {}
    }
    Ok(())
}

/// Reads records out of a SenML CBOR array.
pub(crate) struct CborRecords<'a> {
    dec: Decoder<'a>,
    len: usize,
    started: bool,
    finished: bool,
    /// Records left in a definite array; `None` for an indefinite one.
    remaining: Option<u64>,
    count: usize,
    limits: DecodeLimits,
}

impl<'a> CborRecords<'a> {
    pub(crate) fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        CborRecords {
            dec: Decoder::new(payload),
            len: payload.len(),
            started: false,
            finished: false,
            remaining: None,
            count: 0,
            limits,
        }
    }

    fn bad(&self) -> DecodeError {
        DecodeError::Malformed {
            at: self.dec.position(),
        }
    }

    fn datatype(&self) -> Result<Type, DecodeError> {
        self.dec.datatype().map_err(|_| self.bad())
    }

    fn step(&mut self) -> Result<Option<(usize, Record<'a>)>, DecodeError> {
        if !self.started {
            self.started = true;
            let n = self
                .dec
                .array()
                .map_err(|_| DecodeError::Malformed { at: 0 })?;
            if n.is_some_and(|n| n > self.limits.max_entries as u64) {
                return Err(DecodeError::TooLarge);
            }
            if self.limits.max_depth < 2 {
                return Err(DecodeError::TooLarge);
            }
            self.remaining = n;
        }
        let more = match &mut self.remaining {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
            None => {
                let brk = self.datatype()? == Type::Break;
                if brk {
                    self.dec.set_position(self.dec.position() + 1);
                }
                !brk
            }
        };
        if !more {
            if self.dec.position() != self.len {
                return Err(self.bad());
            }
            return Ok(None);
        }
        let at = self.dec.position();
        self.count += 1;
        if self.count > self.limits.max_entries {
            return Err(DecodeError::TooLarge);
        }
        self.record().map(|r| Some((at, r)))
    }

    fn record(&mut self) -> Result<Record<'a>, DecodeError> {
        let pairs = match self.datatype()? {
            Type::Map | Type::MapIndef => self.dec.map().map_err(|_| self.bad())?,
            _ => return Err(self.bad()),
        };
        let mut rec = Record::default();
        let mut seen = Seen::default();
        let mut left = pairs;
        loop {
            match &mut left {
                Some(0) => break,
                Some(n) => *n -= 1,
                None if self.datatype()? == Type::Break => {
                    self.dec.set_position(self.dec.position() + 1);
                    break;
                }
                None => {}
            }
            let at = self.dec.position();
            let label = self.label()?;
            seen.add(label, at)?;
            self.field(label, &mut rec)?;
        }
        Ok(rec)
    }

    fn label(&mut self) -> Result<Label, DecodeError> {
        match self.datatype()? {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => {
                let i = self.dec.int().map_err(|_| self.bad())?;
                Ok(i64::try_from(i128::from(i)).map_or(Label::Unknown, Label::from_cbor))
            }
            Type::String => Ok(Label::from_name(self.dec.str().map_err(|_| self.bad())?)),
            _ => Err(self.bad()),
        }
    }

    fn text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        if self.datatype()? != Type::String {
            return Err(self.bad());
        }
        let s = self.dec.str().map_err(|_| self.bad())?;
        if s.len() > self.limits.max_value_len {
            return Err(DecodeError::TooLarge);
        }
        Ok(Cow::Borrowed(s))
    }

    fn number(&mut self) -> Result<Number, DecodeError> {
        let bad = self.bad();
        let e = |_| bad;
        Ok(match self.datatype()? {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => Number::from_i128(self.dec.int().map_err(e)?.into()),
            Type::F16 | Type::F32 | Type::F64 => Number::Float(self.dec.f64().map_err(e)?),
            Type::Tag => {
                let tag = self.dec.tag().map_err(e)?;
                if tag.as_u64() != 4 {
                    return Err(bad);
                }
                Number::Float(self.decimal_fraction().ok_or(bad)?)
            }
            _ => return Err(bad),
        })
    }

    /// RFC 8949 §3.4.4: `[exponent, mantissa]`, value = m × 10^e; rounded
    /// once, by `core`'s decimal parser.
    fn decimal_fraction(&mut self) -> Option<f64> {
        if self.dec.array().ok()? != Some(2) {
            return None;
        }
        let int = |d: &mut Decoder<'a>| match d.datatype().ok()? {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => d.int().ok().map(i128::from),
            _ => None,
        };
        let exp = int(&mut self.dec)?;
        let mant = int(&mut self.dec)?;
        if !(-400..=400).contains(&exp) {
            return None;
        }
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        write!(w, "{mant}e{exp}").ok()?;
        let f: f64 = core::str::from_utf8(w.written()).ok()?.parse().ok()?;
        f.is_finite().then_some(f)
    }

    fn field(&mut self, label: Label, rec: &mut Record<'a>) -> Result<(), DecodeError> {
        match label {
            Label::BaseName => rec.base_name = Some(self.text()?),
            Label::Name => rec.name = Some(self.text()?),
            Label::BaseUnit => rec.base_unit = Some(self.text()?),
            Label::Unit => rec.unit = Some(self.text()?),
            Label::StringValue => rec.value = Some(RecordValue::String(self.text()?)),
            Label::ObjLnk => rec.value = Some(RecordValue::ObjLnk(self.text()?)),
            Label::Value => rec.value = Some(RecordValue::Number(self.number()?)),
            Label::BaseValue => rec.base_value = Some(self.number()?),
            Label::BaseTime => rec.base_time = Some(self.number()?.as_f64()),
            Label::Time => rec.time = Some(self.number()?.as_f64()),
            Label::Sum | Label::BaseSum | Label::UpdateTime => {
                self.number()?;
            }
            Label::Version => match self.datatype()? {
                Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                    rec.version = Some(self.dec.u64().map_err(|_| self.bad())?);
                }
                _ => return Err(self.bad()),
            },
            Label::BoolValue => {
                if self.datatype()? != Type::Bool {
                    return Err(self.bad());
                }
                let b = self.dec.bool().map_err(|_| self.bad())?;
                rec.value = Some(RecordValue::Bool(b));
            }
            Label::DataValue => {
                if self.datatype()? != Type::Bytes {
                    return Err(self.bad());
                }
                let d = self.dec.bytes().map_err(|_| self.bad())?;
                if d.len() > self.limits.max_value_len {
                    return Err(DecodeError::TooLarge);
                }
                rec.value = Some(RecordValue::Data(Cow::Borrowed(d)));
            }
            Label::Unknown | Label::MustUnderstand => self.skip(2)?,
        }
        Ok(())
    }

    /// Skips one data item at nesting `depth`, refusing to go deeper than
    /// the limits allow (a tag counts as a level).
    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let ty = self.datatype()?;
        let container = matches!(
            ty,
            Type::Array | Type::ArrayIndef | Type::Map | Type::MapIndef | Type::Tag
        );
        if container && depth >= self.limits.max_depth.min(MAX_DEPTH) {
            return Err(DecodeError::TooLarge);
        }
        let items = |n: u64, map: bool| if map { n.saturating_mul(2) } else { n };
        let len = match ty {
            Type::Array | Type::ArrayIndef => self
                .dec
                .array()
                .map_err(|_| self.bad())?
                .map(|n| items(n, false)),
            Type::Map | Type::MapIndef => self
                .dec
                .map()
                .map_err(|_| self.bad())?
                .map(|n| items(n, true)),
            Type::Tag => {
                self.dec.tag().map_err(|_| self.bad())?;
                return self.skip(depth + 1);
            }
            Type::Break | Type::Unknown(_) => return Err(self.bad()),
            _ => return self.dec.skip().map_err(|_| self.bad()),
        };
        match len {
            // Each item takes at least one byte, so a huge count ends at the
            // end of the input.
            Some(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            None => loop {
                if self.datatype()? == Type::Break {
                    self.dec.set_position(self.dec.position() + 1);
                    break;
                }
                self.skip(depth + 1)?;
            },
        }
        Ok(())
    }
}

impl<'a> RecordSource<'a> for CborRecords<'a> {
    fn next_record(&mut self) -> Option<Result<(usize, Record<'a>), DecodeError>> {
        if self.finished {
            return None;
        }
        let r = self.step();
        self.finished = !matches!(r, Ok(Some(_)));
        r.transpose()
    }
}

/// Decodes a SenML CBOR payload into entries (Write, Write-Composite, and
/// what a server reads from Read, Notify and Send).
///
/// Every entry is at a resource or resource instance under `base` (else
/// [`DecodeError::Path`]), carries exactly one value (else
/// [`DecodeError::Malformed`]) converted to the type `resolver` declares
/// (else [`DecodeError::Type`]). Names, strings and opaque values are
/// borrowed from the payload. After the first error the iterator ends.
pub struct SenmlCborDecoder<'a, 'r>(Entries<'a, 'r, CborRecords<'a>>);

impl<'a, 'r> SenmlCborDecoder<'a, 'r> {
    /// A decoder over `payload` for a request on `base`.
    pub fn new(
        payload: &'a [u8],
        base: Path,
        resolver: &'r dyn TypeResolver,
        limits: DecodeLimits,
    ) -> Self {
        SenmlCborDecoder(Entries::new(
            CborRecords::new(payload, limits),
            base,
            resolver,
        ))
    }
}

impl<'a> Iterator for SenmlCborDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// Decodes the names-only pack of a Read-Composite or Observe-Composite
/// request (Core §6.3.8, §6.4) into paths, at any depth. A record with a
/// value field is [`DecodeError::Malformed`].
pub struct SenmlCborPaths<'a>(Paths<'a, CborRecords<'a>>);

impl<'a> SenmlCborPaths<'a> {
    /// A decoder over `payload`.
    pub fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        SenmlCborPaths(Paths::new(CborRecords::new(payload, limits)))
    }
}

impl Iterator for SenmlCborPaths<'_> {
    type Item = Result<Path, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The raw records of a SenML CBOR pack, for SenML that is not LwM2M;
/// resolve them with a [`super::senml::Context`].
pub struct SenmlCborRecords<'a>(Records<'a, CborRecords<'a>>);

impl<'a> SenmlCborRecords<'a> {
    /// A reader over `payload`.
    pub fn new(payload: &'a [u8], limits: DecodeLimits) -> Self {
        SenmlCborRecords(Records::new(CborRecords::new(payload, limits)))
    }
}

impl<'a> Iterator for SenmlCborRecords<'a> {
    type Item = Result<Record<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

#[cfg(test)]
#[path = "senml_cbor_tests.rs"]
mod tests;
