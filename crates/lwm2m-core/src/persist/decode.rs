//! Reading the state back: header checks, then one pass over the body that
//! applies it inside a bootstrap-style session (see [`crate::persist`]).
//!
//! Nothing here trusts the bytes: every length is checked against what is
//! left, every count loop consumes input or fails, and values borrow from
//! the input instead of being copied. The only allocations are the list of
//! instances to delete (bounded by the object's own instances) and a copy of
//! the attribute store (bounded by its limit).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::crc::crc32;
use super::{Extra, FORMAT_VERSION, HEADER_LEN, MAGIC, PersistError, abit, tag, vtype};
use crate::dm::{
    AttributeStore, Attributes, MAX_ID, ObjLnk, Object, Oid, Path, Registry, ResourceDef, Riid,
    Ssid, Value,
};
use crate::error::DmError;

/// A cursor over part of the file; offsets in errors are from the file's
/// start.
#[derive(Clone, Debug)]
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader { buf, pos: 0, base }
    }
    fn at(&self) -> usize {
        self.base.saturating_add(self.pos)
    }
    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn malformed(&self) -> PersistError {
        PersistError::Malformed { at: self.at() }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], PersistError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.malformed())?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.malformed())?;
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], PersistError> {
        let at = self.at();
        self.take(N)?
            .try_into()
            .map_err(|_| PersistError::Malformed { at })
    }
    fn u8(&mut self) -> Result<u8, PersistError> {
        Ok(u8::from_be_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, PersistError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, PersistError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }
    /// An id that must be valid (not 65535) and greater than `prev`.
    fn id_after(&mut self, prev: &mut Option<u16>) -> Result<u16, PersistError> {
        let at = self.at();
        let id = self.u16()?;
        if id == MAX_ID || prev.is_some_and(|p| id <= p) {
            return Err(PersistError::Malformed { at });
        }
        *prev = Some(id);
        Ok(id)
    }
    /// The next section: its tag and a reader over its content.
    fn section(&mut self) -> Result<Option<(u8, Reader<'a>)>, PersistError> {
        if self.is_empty() {
            return Ok(None);
        }
        let tag = self.u8()?;
        let len = usize::try_from(self.u32()?).map_err(|_| self.malformed())?;
        let base = self.at();
        let content = self.take(len)?;
        Ok(Some((tag, Reader::new(content, base))))
    }
    /// Fails unless everything was consumed.
    fn finish(&self) -> Result<(), PersistError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.malformed())
        }
    }
}

/// Checks magic, version, flags, length and checksum; returns the body.
fn verify(bytes: &[u8]) -> Result<&[u8], PersistError> {
    let Some(magic) = bytes.get(..MAGIC.len()) else {
        return Err(if MAGIC.starts_with(bytes) {
            PersistError::Truncated
        } else {
            PersistError::BadMagic
        });
    };
    if magic != MAGIC {
        return Err(PersistError::BadMagic);
    }
    let mut r = Reader::new(bytes, 0);
    r.take(MAGIC.len())?;
    let (Ok(version), Ok(flags)) = (r.u16(), r.u16()) else {
        return Err(PersistError::Truncated);
    };
    if version != FORMAT_VERSION || flags != 0 {
        return Err(PersistError::UnsupportedVersion { version, flags });
    }
    let (Ok(len), Ok(crc)) = (r.u32(), r.u32()) else {
        return Err(PersistError::Truncated);
    };
    let body = r.rest();
    let len = usize::try_from(len).map_err(|_| PersistError::Truncated)?;
    if body.len() < len {
        return Err(PersistError::Truncated);
    }
    if body.len() > len {
        return Err(PersistError::Malformed {
            at: HEADER_LEN.saturating_add(len),
        });
    }
    if crc32(body) != crc {
        return Err(PersistError::ChecksumMismatch);
    }
    Ok(body)
}

/// What [`load`] restored, and the extra sections of the file.
#[derive(Clone, Copy, Debug)]
pub struct Loaded<'a> {
    body: &'a [u8],
    instances: usize,
    attributes: usize,
}

impl<'a> Loaded<'a> {
    /// Object instances created.
    pub fn instances(&self) -> usize {
        self.instances
    }
    /// Attributed paths restored.
    pub fn attributes(&self) -> usize {
        self.attributes
    }
    /// The file's [`Extra`] sections, in file order.
    pub fn extras(&self) -> Extras<'a> {
        Extras {
            r: Reader::new(self.body, HEADER_LEN),
        }
    }
}

/// The [`Extra`] sections of a checked state file.
#[derive(Clone, Debug)]
pub struct Extras<'a> {
    r: Reader<'a>,
}

impl<'a> Iterator for Extras<'a> {
    type Item = Extra<'a>;
    fn next(&mut self) -> Option<Extra<'a>> {
        loop {
            let (t, mut s) = self.r.section().ok()??;
            if t == tag::EXTRA {
                let kind = s.u16().ok()?;
                return Some(Extra::new(kind, s.rest()));
            }
        }
    }
}

/// Checks the header, checksum and section framing of a state file without
/// applying it, and returns its [`Extra`] sections.
pub fn extras(bytes: &[u8]) -> Result<Extras<'_>, PersistError> {
    let body = verify(bytes)?;
    let mut r = Reader::new(body, HEADER_LEN);
    while let Some((t, mut s)) = r.section()? {
        match t {
            tag::OBJECT | tag::ATTRIBUTES => {}
            tag::EXTRA => {
                s.u16()?;
            }
            _ => return Err(PersistError::Malformed { at: s.base }),
        }
    }
    Ok(Extras {
        r: Reader::new(body, HEADER_LEN),
    })
}

/// Restores a state written by [`super::save`]: see the module
/// documentation. On error nothing changed; on success the saved objects
/// hold exactly the file's instances and `attrs` exactly its attributes.
/// Fails with [`PersistError::Rejected`] at [`Path::ROOT`] (5.03 or 4.09)
/// when a transaction or session is open.
pub fn load<'a>(
    bytes: &'a [u8],
    reg: &mut Registry,
    attrs: &mut AttributeStore,
) -> Result<Loaded<'a>, PersistError> {
    let body = verify(bytes)?;
    reg.begin_session()
        .map_err(|error| PersistError::Rejected {
            path: Path::ROOT,
            error,
        })?;
    let mut new_attrs = attrs.clone();
    let old: Vec<(Ssid, Path)> = new_attrs.iter().map(|(s, p, _)| (s, *p)).collect();
    for (ssid, path) in old {
        // Removing never fails.
        let _ = new_attrs.set(ssid, &path, Attributes::EMPTY);
    }
    let mut loaded = Loaded {
        body,
        instances: 0,
        attributes: 0,
    };
    let applied = apply(body, reg, &mut new_attrs, &mut loaded).and_then(|()| {
        reg.iter().try_for_each(|o| {
            o.validate().map_err(|error| PersistError::Rejected {
                path: Path::object(o.def().id),
                error,
            })
        })
    });
    match applied {
        Ok(()) => {
            reg.end_session(true)
                .map_err(|error| PersistError::Rejected {
                    path: Path::ROOT,
                    error,
                })?;
            *attrs = new_attrs;
            Ok(loaded)
        }
        Err(e) => {
            // The session began above and nothing else can hold an object,
            // so ending it cannot fail.
            let _ = reg.end_session(false);
            Err(e)
        }
    }
}

fn apply(
    body: &[u8],
    reg: &mut Registry,
    attrs: &mut AttributeStore,
    loaded: &mut Loaded<'_>,
) -> Result<(), PersistError> {
    let mut r = Reader::new(body, HEADER_LEN);
    let mut prev_oid = None;
    let mut seen_attrs = false;
    while let Some((t, mut s)) = r.section()? {
        let start = s.at();
        match t {
            tag::OBJECT => {
                let oid = s.id_after(&mut prev_oid)?;
                let obj = reg.get_mut(oid).ok_or(PersistError::Mismatch {
                    path: Path::object(oid),
                })?;
                object(obj, oid, &mut s, loaded)?;
            }
            tag::ATTRIBUTES if !seen_attrs => {
                seen_attrs = true;
                attributes(&mut s, attrs, loaded)?;
            }
            tag::EXTRA => {
                s.u16()?;
                s.rest();
            }
            _ => return Err(PersistError::Malformed { at: start }),
        }
        s.finish()?;
    }
    Ok(())
}

fn rejected(path: Path) -> impl FnOnce(DmError) -> PersistError {
    move |error| PersistError::Rejected { path, error }
}

fn object(
    obj: &mut dyn Object,
    oid: Oid,
    s: &mut Reader<'_>,
    loaded: &mut Loaded<'_>,
) -> Result<(), PersistError> {
    let def = obj.def();
    let _version = s.take(2)?;
    let count = s.u16()?;
    let mut existing = Vec::new();
    obj.instances(&mut |iid| existing.push(iid));
    for iid in existing {
        obj.delete(iid)
            .map_err(rejected(Path::instance(oid, iid)))?;
    }
    let mut prev_iid = None;
    for _ in 0..count {
        let iid = s.id_after(&mut prev_iid)?;
        obj.create(iid)
            .map_err(rejected(Path::instance(oid, iid)))?;
        loaded.instances = loaded.instances.saturating_add(1);
        let resources = s.u16()?;
        let mut prev_rid = None;
        for _ in 0..resources {
            let rid = s.id_after(&mut prev_rid)?;
            let path = Path::resource(oid, iid, rid);
            let mismatch = PersistError::Mismatch { path };
            let rdef = def
                .resource(rid)
                .filter(|r| super::encode::kept(r))
                .ok_or(mismatch)?;
            let kind_at = s.at();
            match (s.u8()?, rdef.multiple) {
                (0, false) => {
                    let v = value(s)?;
                    write(obj, path, rdef, None, v)?;
                }
                (1, true) => {
                    match obj.reset(iid, Some(rid)) {
                        Ok(()) | Err(DmError::MethodNotAllowed) => {}
                        Err(error) => return Err(PersistError::Rejected { path, error }),
                    }
                    let n = s.u16()?;
                    let mut prev_riid = None;
                    for _ in 0..n {
                        let riid = s.id_after(&mut prev_riid)?;
                        let v = value(s)?;
                        let at = Path::resource_instance(oid, iid, rid, riid);
                        write(obj, at, rdef, Some(riid), v)?;
                    }
                }
                (0 | 1, _) => return Err(mismatch),
                _ => return Err(PersistError::Malformed { at: kind_at }),
            }
        }
    }
    Ok(())
}

/// Writes one value, converted to the declared type. A value the object
/// computes itself (4.05 on a resource not writable by servers) is skipped.
fn write(
    obj: &mut dyn Object,
    path: Path,
    rdef: &ResourceDef,
    riid: Option<Riid>,
    v: Value<'_>,
) -> Result<(), PersistError> {
    let v = v
        .coerce(rdef.data_type)
        .map_err(|_| PersistError::Mismatch { path })?;
    let (Some(iid), Some(rid)) = (path.iid(), path.rid()) else {
        return Err(PersistError::Mismatch { path });
    };
    match obj.write(iid, rid, riid, v) {
        Ok(()) => Ok(()),
        Err(DmError::MethodNotAllowed) if !rdef.operations.writable() => Ok(()),
        Err(error) => Err(PersistError::Rejected { path, error }),
    }
}

fn text<'a>(s: &mut Reader<'a>) -> Result<&'a str, PersistError> {
    let at = s.at();
    let b = bytes(s)?;
    core::str::from_utf8(b).map_err(|_| PersistError::Malformed { at })
}

fn bytes<'a>(s: &mut Reader<'a>) -> Result<&'a [u8], PersistError> {
    let len = usize::try_from(s.u32()?).map_err(|_| s.malformed())?;
    s.take(len)
}

fn flag(s: &mut Reader<'_>) -> Result<bool, PersistError> {
    let at = s.at();
    match s.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(PersistError::Malformed { at }),
    }
}

fn value<'a>(s: &mut Reader<'a>) -> Result<Value<'a>, PersistError> {
    let at = s.at();
    Ok(match s.u8()? {
        vtype::STRING => Value::String(Cow::Borrowed(text(s)?)),
        vtype::INTEGER => Value::Integer(i64::from_be_bytes(s.array()?)),
        vtype::UNSIGNED => Value::Unsigned(u64::from_be_bytes(s.array()?)),
        vtype::FLOAT => Value::Float(f64::from_bits(u64::from_be_bytes(s.array()?))),
        vtype::BOOLEAN => Value::Boolean(flag(s)?),
        vtype::OPAQUE => Value::Opaque(Cow::Borrowed(bytes(s)?)),
        vtype::TIME => Value::Time(i64::from_be_bytes(s.array()?)),
        vtype::OBJLNK => Value::Objlnk(ObjLnk {
            oid: s.u16()?,
            iid: s.u16()?,
        }),
        vtype::CORELNK => Value::Corelnk(Cow::Borrowed(text(s)?)),
        _ => return Err(PersistError::Malformed { at }),
    })
}

fn attributes(
    s: &mut Reader<'_>,
    store: &mut AttributeStore,
    loaded: &mut Loaded<'_>,
) -> Result<(), PersistError> {
    let count = s.u32()?;
    let mut prev: Option<(Ssid, Path)> = None;
    // Each entry consumes at least five bytes, so the loop ends with the
    // input whatever the count says.
    for _ in 0..count {
        let at = s.at();
        let ssid = s.u16()?;
        let len = usize::from(s.u8()?);
        let mut ids = [0u16; 4];
        for id in ids.iter_mut().take(len) {
            *id = s.u16()?;
        }
        let path = ids
            .get(..len)
            .and_then(Path::new)
            .ok_or(PersistError::Malformed { at })?;
        if prev.is_some_and(|p| p >= (ssid, path)) {
            return Err(PersistError::Malformed { at });
        }
        prev = Some((ssid, path));
        let mask_at = s.at();
        let mask = s.u16()?;
        if mask == 0 || mask & !abit::ALL != 0 {
            return Err(PersistError::Malformed { at: mask_at });
        }
        let a = attribute_values(s, mask)?;
        if a.check().is_err() {
            return Err(PersistError::Malformed { at });
        }
        store
            .set(ssid, &path, a)
            .map_err(|_| PersistError::AttributesFull)?;
        loaded.attributes = loaded.attributes.saturating_add(1);
    }
    Ok(())
}

fn attribute_values(s: &mut Reader<'_>, mask: u16) -> Result<Attributes, PersistError> {
    let has = |bit: u16| mask & bit != 0;
    let uint = |s: &mut Reader<'_>, bit| has(bit).then(|| s.u32()).transpose();
    let float = |s: &mut Reader<'_>, bit| -> Result<Option<f64>, PersistError> {
        if !has(bit) {
            return Ok(None);
        }
        let at = s.at();
        let f = f64::from_bits(u64::from_be_bytes(s.array()?));
        if f.is_finite() {
            Ok(Some(f))
        } else {
            Err(PersistError::Malformed { at })
        }
    };
    let bit = |s: &mut Reader<'_>, b| has(b).then(|| flag(s)).transpose();
    Ok(Attributes {
        pmin: uint(s, abit::PMIN)?,
        pmax: uint(s, abit::PMAX)?,
        gt: float(s, abit::GT)?,
        lt: float(s, abit::LT)?,
        st: float(s, abit::ST)?,
        epmin: uint(s, abit::EPMIN)?,
        epmax: uint(s, abit::EPMAX)?,
        edge: bit(s, abit::EDGE)?,
        con: bit(s, abit::CON)?,
        hqmax: uint(s, abit::HQMAX)?,
    })
}
