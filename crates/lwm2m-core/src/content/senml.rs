//! The SenML record model (RFC 8428) shared by SenML JSON (110) and SenML
//! CBOR (112), and how LwM2M uses it (OMA-TS-LightweightM2M_Core 1.1 §7.4.4
//! "SenML JSON" and §7.4.5 "SenML CBOR"; §7.4.5 / §7.4.6 in 1.1.1).
//!
//! Decoding goes in three steps, each a pure function of the previous one:
//! 1. a format reader yields wire [`Record`]s, borrowing strings and bytes
//!    from the payload;
//! 2. a [`Context`] applies the base fields carried over from earlier
//!    records (RFC 8428 §4.6 "Resolved Records": name = `bn` + `n`, time =
//!    `bt` + `t`, value = `bv` + `v`);
//! 3. the resolved name is parsed as an LwM2M path (in LwM2M, `bn` + `n` is
//!    the path of the resource or resource instance, Core §7.4.4) and the
//!    value is converted to the resource's declared type when the
//!    [`TypeResolver`] knows it.
//!
//! LwM2M's use of SenML, as the decoders enforce it:
//! - value fields: `v` (Integer, Unsigned Integer, Float, Time), `vb`
//!   (Boolean), `vs` (String, Corelnk), `vd` (Opaque), and the LwM2M label
//!   `vlo` (Objlnk as `"oid:iid"`, a text key in CBOR too: RFC 8428 §6 keeps
//!   integer keys for its own table only);
//! - a Write, Write-Composite, Send or Notify record carries exactly one
//!   value (RFC 8428 §4.2); the TS gives a record without value no meaning
//!   there (only SenML-ETCH, a 1.2 format, deletes with `"v": null`), so it
//!   is an error;
//! - a Read-Composite / Observe-Composite request carries names only, the
//!   reply's form without the values (Core §6.3.8 Read-Composite, §6.4
//!   Observe-Composite); `Paths` decodes those and refuses value fields.
//!
//! Encoding (`Namer`): the first record carries `bn` = the request path
//! with a trailing slash and each record a relative `n`, as the TS Device
//! example does (`{"bn":"/3/0/","n":"0",...},{"n":"1",...}`); a read of one
//! value at the request path itself carries `bn` only
//! (`[{"bn":"/3/0/0","vs":"..."}]`); with the root as base (composite reads,
//! Send) every record carries its full path in `n`. Times are written as
//! absolute `t` on each timed record (never `bt`), so an [`Entry`]'s time
//! survives a round trip without float subtraction.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write as _;

use super::{DecodeError, EncodeError, Entry, TypeResolver};
use crate::buf::{Overflow, Writer};
use crate::dm::{ObjLnk, Path, Value};

/// The SenML version this implementation understands (RFC 8428 §4.4).
pub const VERSION: u64 = 10;

/// A number as written on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer above `i64::MAX`.
    Uint(u64),
    /// Anything else (fractions, exponents, CBOR floats).
    Float(f64),
}

impl Number {
    /// The number as a float (possibly rounded).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Uint(u) => u as f64,
            Number::Float(f) => f,
        }
    }

    /// An integer of any size that fits one of the variants.
    pub(crate) fn from_i128(i: i128) -> Number {
        if let Ok(v) = i64::try_from(i) {
            Number::Int(v)
        } else if let Ok(v) = u64::try_from(i) {
            Number::Uint(v)
        } else {
            Number::Float(i as f64)
        }
    }

    /// `self + other`, exact for integers that fit, else in floating point
    /// (RFC 8428 §4.6 base value).
    fn add(self, other: Number) -> Number {
        let int = |n: Number| match n {
            Number::Int(i) => Some(i128::from(i)),
            Number::Uint(u) => Some(i128::from(u)),
            Number::Float(_) => None,
        };
        match (int(self), int(other)) {
            (Some(a), Some(b)) => Number::from_i128(a.saturating_add(b)),
            _ => Number::Float(self.as_f64() + other.as_f64()),
        }
    }

    fn into_value(self) -> Value<'static> {
        match self {
            Number::Int(i) => Value::Integer(i),
            Number::Uint(u) => Value::Unsigned(u),
            Number::Float(f) => Value::Float(f),
        }
    }
}

/// The value field of a record (RFC 8428 §4.2; `vlo` from Core 1.1).
#[derive(Clone, Debug, PartialEq)]
pub enum RecordValue<'a> {
    /// `v`.
    Number(Number),
    /// `vs`.
    String(Cow<'a, str>),
    /// `vb`.
    Bool(bool),
    /// `vd` (already base64-decoded in JSON).
    Data(Cow<'a, [u8]>),
    /// `vlo`: an Objlnk as written, `"oid:iid"`.
    ObjLnk(Cow<'a, str>),
}

/// One record as written (RFC 8428 §4.1), before base fields are applied.
/// Fields LwM2M has no use for (sums, update time) are checked for type and
/// dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record<'a> {
    /// `bn`.
    pub base_name: Option<Cow<'a, str>>,
    /// `bt`.
    pub base_time: Option<f64>,
    /// `bu`.
    pub base_unit: Option<Cow<'a, str>>,
    /// `bv`.
    pub base_value: Option<Number>,
    /// `bver`.
    pub version: Option<u64>,
    /// `n`.
    pub name: Option<Cow<'a, str>>,
    /// `u`.
    pub unit: Option<Cow<'a, str>>,
    /// `t`.
    pub time: Option<f64>,
    /// The one value field, if any.
    pub value: Option<RecordValue<'a>>,
}

/// A field label (RFC 8428 Tables 4 and 6, plus LwM2M's `vlo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    BaseName,
    BaseTime,
    BaseUnit,
    BaseValue,
    BaseSum,
    Version,
    Name,
    Unit,
    Value,
    StringValue,
    BoolValue,
    DataValue,
    Sum,
    Time,
    UpdateTime,
    ObjLnk,
    /// A label we do not know: ignored (RFC 8428 §4.4).
    Unknown,
    /// An unknown label ending in `_`: must be understood, so an error.
    MustUnderstand,
}

impl Label {
    /// The label for a JSON key, or a CBOR text key.
    pub(crate) fn from_name(s: &str) -> Label {
        match s {
            "bn" => Label::BaseName,
            "bt" => Label::BaseTime,
            "bu" => Label::BaseUnit,
            "bv" => Label::BaseValue,
            "bs" => Label::BaseSum,
            "bver" => Label::Version,
            "n" => Label::Name,
            "u" => Label::Unit,
            "v" => Label::Value,
            "vs" => Label::StringValue,
            "vb" => Label::BoolValue,
            "vd" => Label::DataValue,
            "s" => Label::Sum,
            "t" => Label::Time,
            "ut" => Label::UpdateTime,
            "vlo" => Label::ObjLnk,
            s if s.ends_with('_') => Label::MustUnderstand,
            _ => Label::Unknown,
        }
    }

    /// The label for a CBOR integer key (RFC 8428 §6, Table 6).
    pub(crate) fn from_cbor(k: i64) -> Label {
        match k {
            -1 => Label::Version,
            -2 => Label::BaseName,
            -3 => Label::BaseTime,
            -4 => Label::BaseUnit,
            -5 => Label::BaseValue,
            -6 => Label::BaseSum,
            0 => Label::Name,
            1 => Label::Unit,
            2 => Label::Value,
            3 => Label::StringValue,
            4 => Label::BoolValue,
            5 => Label::Sum,
            6 => Label::Time,
            7 => Label::UpdateTime,
            8 => Label::DataValue,
            _ => Label::Unknown,
        }
    }

    pub(crate) fn is_value(self) -> bool {
        matches!(
            self,
            Label::Value | Label::StringValue | Label::BoolValue | Label::DataValue | Label::ObjLnk
        )
    }
}

/// Detects repeated labels and a second value field while a record is read.
#[derive(Default)]
pub(crate) struct Seen(u32);

impl Seen {
    /// Records `label` at byte `at`; an error if it (or another value field)
    /// was already there, or if it must be understood.
    pub(crate) fn add(&mut self, label: Label, at: usize) -> Result<(), DecodeError> {
        let bit = match label {
            Label::Unknown => return Ok(()),
            Label::MustUnderstand => return Err(DecodeError::Malformed { at }),
            l if l.is_value() => 1,
            l => 1u32 << (l as u32 + 1),
        };
        if self.0 & bit != 0 {
            return Err(DecodeError::Malformed { at });
        }
        self.0 |= bit;
        Ok(())
    }
}

/// A format reader: yields records with the byte offset each starts at.
pub(crate) trait RecordSource<'a> {
    /// The next record; `None` after the last. After an error the source
    /// is not called again.
    fn next_record(&mut self) -> Option<Result<(usize, Record<'a>), DecodeError>>;
}

/// The base fields in force (RFC 8428 §4.6): each applies from the record
/// that sets it up to the next record that sets it again.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    base_name: Option<Cow<'a, str>>,
    base_time: Option<f64>,
    base_value: Option<Number>,
}

/// A record with the base fields applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved<'c, 'a> {
    base_name: &'c str,
    name: Option<Cow<'a, str>>,
    /// `bt + t`, if either is present (RFC 8428 §4.5.3: zero means "now",
    /// negative is relative to now, from 2^28 on it is Unix time).
    pub time: Option<f64>,
    /// The value, with `bv` added to a numeric `v`.
    pub value: Option<RecordValue<'a>>,
}

impl<'a> Context<'a> {
    /// Applies `rec`'s base fields and resolves it. A version above
    /// [`VERSION`] is [`DecodeError::UnsupportedFormat`] (RFC 8428 §4.4: a
    /// reader must not use a pack of a version it does not understand).
    pub fn resolve(&mut self, rec: Record<'a>) -> Result<Resolved<'_, 'a>, DecodeError> {
        if rec.version.is_some_and(|v| v > VERSION) {
            return Err(DecodeError::UnsupportedFormat);
        }
        if let Some(bn) = rec.base_name {
            self.base_name = Some(bn);
        }
        if let Some(bt) = rec.base_time {
            self.base_time = Some(bt);
        }
        if let Some(bv) = rec.base_value {
            self.base_value = Some(bv);
        }
        let time = match (self.base_time, rec.time) {
            (None, None) => None,
            (bt, t) => Some(bt.unwrap_or(0.0) + t.unwrap_or(0.0)),
        };
        let value = match (rec.value, self.base_value) {
            (Some(RecordValue::Number(v)), Some(bv)) => Some(RecordValue::Number(bv.add(v))),
            (v, _) => v,
        };
        Ok(Resolved {
            base_name: self.base_name.as_deref().unwrap_or(""),
            name: rec.name,
            time,
            value,
        })
    }
}

impl Resolved<'_, '_> {
    /// The full name, `bn + n` (allocates only when both are present).
    pub fn name(&self) -> Cow<'_, str> {
        match &self.name {
            None => Cow::Borrowed(self.base_name),
            Some(n) if self.base_name.is_empty() => Cow::Borrowed(n),
            Some(n) => {
                let mut s = String::with_capacity(self.base_name.len() + n.len());
                s.push_str(self.base_name);
                s.push_str(n);
                Cow::Owned(s)
            }
        }
    }

    /// The name as an LwM2M path, without allocating.
    pub fn path(&self) -> Result<Path, DecodeError> {
        parse_name(&[self.base_name, self.name.as_deref().unwrap_or("")])
    }
}

/// Parses the concatenation of `parts` as a path: `/o/i/r/ri`, the leading
/// slash optional, one trailing slash tolerated (`"/3/0/"` is `/3/0`), `"/"`
/// the root.
pub(crate) fn parse_name(parts: &[&str]) -> Result<Path, DecodeError> {
    // The longest path, "/65534/65534/65534/65534/", is 25 bytes.
    let mut buf = [0u8; 26];
    let mut len = 0;
    for b in parts.iter().flat_map(|p| p.bytes()) {
        *buf.get_mut(len).ok_or(DecodeError::Path)? = b;
        len += 1;
    }
    let text = buf.get(..len).ok_or(DecodeError::Path)?;
    let text = core::str::from_utf8(text).map_err(|_| DecodeError::Path)?;
    if text.is_empty() {
        return Err(DecodeError::Path);
    }
    let text = match text.strip_suffix('/') {
        Some(t) if !t.is_empty() && !t.ends_with('/') => t,
        _ => text,
    };
    Path::parse(text).map_err(|_| DecodeError::Path)
}

/// The value of a resolved record as the resource's type: the natural type
/// of the field, converted with [`Value::coerce`] when `resolver` declares a
/// type for `path` (Core §7.4.4: the SenML field only tells a number from a
/// string; the object definition says which kind).
pub(crate) fn entry_value<'a>(
    v: RecordValue<'a>,
    path: &Path,
    resolver: &dyn TypeResolver,
) -> Result<Value<'a>, DecodeError> {
    let value = match v {
        RecordValue::Number(n) => n.into_value(),
        RecordValue::String(s) => Value::String(s),
        RecordValue::Bool(b) => Value::Boolean(b),
        RecordValue::Data(d) => Value::Opaque(d),
        RecordValue::ObjLnk(s) => Value::Objlnk(ObjLnk::parse(&s).ok_or(DecodeError::Type)?),
    };
    match resolver.data_type(&path.truncated(3)) {
        Some(dt) => value.coerce(dt).map_err(|_| DecodeError::Type),
        None => Ok(value),
    }
}

/// Checks that a decoded value sits at a resource or resource instance under
/// the request's path.
pub(crate) fn check_value_path(path: &Path, base: &Path) -> Result<(), DecodeError> {
    if path.starts_with(base) && path.len() >= 3 {
        Ok(())
    } else {
        Err(DecodeError::Path)
    }
}

/// Entries out of any record source: the shared body of the SenML decoders.
pub(crate) struct Entries<'a, 'r, S> {
    src: S,
    ctx: Context<'a>,
    base: Path,
    resolver: &'r dyn TypeResolver,
    done: bool,
}

impl<'a, 'r, S: RecordSource<'a>> Entries<'a, 'r, S> {
    pub(crate) fn new(src: S, base: Path, resolver: &'r dyn TypeResolver) -> Self {
        Entries {
            src,
            ctx: Context::default(),
            base,
            resolver,
            done: false,
        }
    }

    fn entry(&mut self, at: usize, rec: Record<'a>) -> Result<Entry<'a>, DecodeError> {
        let r = self.ctx.resolve(rec)?;
        let path = r.path()?;
        check_value_path(&path, &self.base)?;
        let time = r.time;
        let v = r.value.ok_or(DecodeError::Malformed { at })?;
        Ok(Entry {
            value: entry_value(v, &path, self.resolver)?,
            path,
            time,
        })
    }
}

impl<'a, S: RecordSource<'a>> Iterator for Entries<'a, '_, S> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = match self.src.next_record()? {
            Ok((at, rec)) => self.entry(at, rec),
            Err(e) => Err(e),
        };
        self.done = r.is_err();
        Some(r)
    }
}

/// The paths of a names-only pack (Read-Composite, Observe-Composite
/// requests): any depth including the root; a value field is an error.
pub(crate) struct Paths<'a, S> {
    src: S,
    ctx: Context<'a>,
    done: bool,
}

impl<'a, S: RecordSource<'a>> Paths<'a, S> {
    pub(crate) fn new(src: S) -> Self {
        Paths {
            src,
            ctx: Context::default(),
            done: false,
        }
    }
}

impl<'a, S: RecordSource<'a>> Iterator for Paths<'a, S> {
    type Item = Result<Path, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.src.next_record()?.and_then(|(at, rec)| {
            if rec.value.is_some() {
                return Err(DecodeError::Malformed { at });
            }
            self.ctx.resolve(rec)?.path()
        });
        self.done = r.is_err();
        Some(r)
    }
}

/// Raw records out of a source, for callers that want SenML itself rather
/// than LwM2M entries.
pub(crate) struct Records<'a, S> {
    src: S,
    done: bool,
    _records: core::marker::PhantomData<Record<'a>>,
}

impl<S> Records<'_, S> {
    pub(crate) fn new(src: S) -> Self {
        Records {
            src,
            done: false,
            _records: core::marker::PhantomData,
        }
    }
}

impl<'a, S: RecordSource<'a>> Iterator for Records<'a, S> {
    type Item = Result<Record<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.src.next_record()?.map(|(_, rec)| rec);
        self.done = r.is_err();
        Some(r)
    }
}

// ---------------------------------------------------------------------------
// Encoding.

/// A path (or the part of it below a base) rendered as a name, without
/// allocating: `[/]id/id[/]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PathText {
    path: Path,
    skip: usize,
    lead: bool,
    trail: bool,
}

impl PathText {
    /// The full path, `"/3/0/1"`.
    pub(crate) fn full(path: Path) -> PathText {
        PathText {
            path,
            skip: 0,
            lead: true,
            trail: false,
        }
    }

    fn ids(&self) -> &[u16] {
        self.path.ids().get(self.skip..).unwrap_or(&[])
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        let digits = |id: u16| match id {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            1000..=9999 => 4,
            _ => 5,
        };
        let ids = self.ids();
        if ids.is_empty() {
            return usize::from(self.lead || self.trail);
        }
        let slashes =
            ids.len().saturating_sub(1) + usize::from(self.lead) + usize::from(self.trail);
        ids.iter().map(|&i| digits(i)).sum::<usize>() + slashes
    }

    /// Writes the text.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        if self.ids().is_empty() {
            return if self.lead || self.trail {
                w.put_u8(b'/')
            } else {
                Ok(())
            };
        }
        let mut slash = self.lead;
        for id in self.ids() {
            if slash {
                w.put_u8(b'/')?;
            }
            write!(w, "{id}").map_err(|_| Overflow)?;
            slash = true;
        }
        if self.trail {
            w.put_u8(b'/')?;
        }
        Ok(())
    }
}

/// The two `bn` forms: `"/3/0/"` followed by relative names, or the exact
/// path `"/3/0/0"` for values at the request path itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BaseForm {
    Slash,
    Exact,
}

/// Chooses `bn` and `n` for each encoded record (the policy in the module
/// documentation).
#[derive(Clone, Debug)]
pub(crate) struct Namer {
    base: Path,
    form: Option<BaseForm>,
}

/// The names one record carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) bn: Option<PathText>,
    pub(crate) n: Option<PathText>,
}

impl Namer {
    pub(crate) fn new(base: Path) -> Self {
        Namer { base, form: None }
    }

    /// The names for a record of `path`. With `fixed`, the base name may
    /// only be chosen once (LwM2M JSON has a single `bn`).
    pub(crate) fn names(&mut self, path: &Path, fixed: bool) -> Result<Names, EncodeError> {
        if !path.starts_with(&self.base) || path.len() < 3 {
            return Err(EncodeError::Unrepresentable);
        }
        if self.base.is_root() {
            return Ok(Names {
                bn: None,
                n: Some(PathText::full(*path)),
            });
        }
        let at_base = *path == self.base;
        let fits = match self.form {
            Some(BaseForm::Slash) => !at_base,
            Some(BaseForm::Exact) => true,
            None => false,
        };
        let mut bn = None;
        if !fits {
            if fixed && self.form.is_some() {
                return Err(EncodeError::Unrepresentable);
            }
            let form = if at_base {
                BaseForm::Exact
            } else {
                BaseForm::Slash
            };
            self.form = Some(form);
            bn = Some(PathText {
                path: self.base,
                skip: 0,
                lead: true,
                trail: form == BaseForm::Slash,
            });
        }
        let n = (!at_base).then(|| PathText {
            path: *path,
            skip: self.base.len(),
            lead: self.form == Some(BaseForm::Exact),
            trail: false,
        });
        Ok(Names { bn, n })
    }

    /// The base name to write in a header before any record (LwM2M JSON),
    /// chosen for a first record at `first` (or the slash form if none).
    pub(crate) fn header(&mut self, first: Option<&Path>) -> Result<Option<PathText>, EncodeError> {
        if self.base.is_root() {
            return Ok(None);
        }
        match first {
            Some(p) => Ok(self.names(p, true)?.bn),
            None => Ok(Some(PathText {
                path: self.base,
                skip: 0,
                lead: true,
                trail: true,
            })),
        }
    }
}

/// A name to write: text from a record, or a rendered path.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Text<'s> {
    Str(&'s str),
    Path(PathText),
}

impl Text<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Text::Str(s) => s.len(),
            Text::Path(p) => p.len(),
        }
    }
}

/// A value to write.
#[derive(Clone, Copy, Debug)]
pub(crate) enum OutValue<'s> {
    Number(Number),
    Str(&'s str),
    Bool(bool),
    Data(&'s [u8]),
    ObjLnk(ObjLnk),
    /// `vlo` given as text (records passed through as written).
    #[cfg(test)]
    ObjLnkText(&'s str),
}

/// A record to write; fields in the order they are written (the order of
/// RFC 8428's examples and of the TS Device example: base fields, name,
/// unit, time, value).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OutRecord<'s> {
    pub(crate) bn: Option<Text<'s>>,
    pub(crate) bt: Option<f64>,
    pub(crate) bu: Option<&'s str>,
    pub(crate) bver: Option<u64>,
    pub(crate) n: Option<Text<'s>>,
    pub(crate) u: Option<&'s str>,
    pub(crate) t: Option<f64>,
    pub(crate) value: Option<OutValue<'s>>,
}

impl<'s> OutRecord<'s> {
    /// The record for one entry, named by `names`.
    pub(crate) fn for_entry(entry: &'s Entry<'_>, names: Names) -> OutRecord<'s> {
        OutRecord {
            bn: names.bn.map(Text::Path),
            n: names.n.map(Text::Path),
            t: entry.time,
            value: Some(out_value(&entry.value)),
            ..OutRecord::default()
        }
    }

    /// A wire record written back as it was read (version included, sums
    /// and update time dropped): the record-level vectors of the tests.
    #[cfg(test)]
    pub(crate) fn from_record(r: &'s Record<'_>) -> Result<OutRecord<'s>, EncodeError> {
        if r.base_value.is_some() {
            // Writing `bv` back would need it in the out record; no
            // caller needs that yet.
            return Err(EncodeError::Unrepresentable);
        }
        Ok(OutRecord {
            bn: r.base_name.as_deref().map(Text::Str),
            bt: r.base_time,
            bu: r.base_unit.as_deref(),
            bver: r.version,
            n: r.name.as_deref().map(Text::Str),
            u: r.unit.as_deref(),
            t: r.time,
            value: r.value.as_ref().map(|v| match v {
                RecordValue::Number(n) => OutValue::Number(*n),
                RecordValue::String(s) => OutValue::Str(s),
                RecordValue::Bool(b) => OutValue::Bool(*b),
                RecordValue::Data(d) => OutValue::Data(d),
                RecordValue::ObjLnk(s) => OutValue::ObjLnkText(s),
            }),
        })
    }
}

/// The SenML field for an LwM2M value (Core §7.4.4 data type mapping).
pub(crate) fn out_value<'s>(v: &'s Value<'_>) -> OutValue<'s> {
    match v {
        Value::Integer(i) | Value::Time(i) => OutValue::Number(Number::Int(*i)),
        Value::Unsigned(u) => match i64::try_from(*u) {
            Ok(i) => OutValue::Number(Number::Int(i)),
            Err(_) => OutValue::Number(Number::Uint(*u)),
        },
        Value::Float(f) => OutValue::Number(Number::Float(*f)),
        Value::Boolean(b) => OutValue::Bool(*b),
        Value::String(s) | Value::Corelnk(s) => OutValue::Str(s),
        Value::Opaque(d) => OutValue::Data(d),
        Value::Objlnk(l) => OutValue::ObjLnk(*l),
    }
}

/// `t` as an integer, if it is one that an `f64` holds exactly (times are
/// written as integers when they are: RFC 8428's examples write `t: -5`).
pub(crate) fn integral(t: f64) -> Option<i64> {
    let i = t as i64;
    (t.abs() < 9_007_199_254_740_992.0 && i as f64 == t).then_some(i)
}

/// Length of an Objlnk's text form `"oid:iid"`.
pub(crate) fn objlnk_len(l: ObjLnk) -> usize {
    let digits = |v: u16| match v {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    };
    digits(l.oid) + 1 + digits(l.iid)
}

#[cfg(test)]
#[path = "senml_tests.rs"]
pub(crate) mod tests;
