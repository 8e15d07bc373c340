//! Writing the state: see the format in the module documentation of
//! [`crate::persist`].

use alloc::vec;
use alloc::vec::Vec;

use super::crc::crc32;
use super::{Extra, FORMAT_VERSION, MAGIC, SaveError, abit, tag, vtype};
use crate::buf::{Overflow, Writer};
use crate::dm::{
    AttributeStore, Attributes, DataType, Iid, Object, Oid, Path, Registry, ResourceDef, Rid, Value,
};
use crate::error::DmError;

/// Where the encoder writes: the caller's [`Writer`], or a counter that sizes
/// the `Vec` of [`save_to_vec`] before anything is allocated.
trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow>;
    fn pos(&self) -> usize;
    fn patch(&mut self, at: usize, bytes: &[u8]) -> Result<(), Overflow>;
    fn truncate(&mut self, at: usize);
    /// The bytes written from `at` on (nothing when only counting).
    fn since(&self, at: usize) -> &[u8];
}

impl Sink for Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        Writer::put(self, bytes)
    }
    fn pos(&self) -> usize {
        self.len()
    }
    fn patch(&mut self, at: usize, bytes: &[u8]) -> Result<(), Overflow> {
        Writer::patch(self, at, bytes)
    }
    fn truncate(&mut self, at: usize) {
        Writer::truncate(self, at);
    }
    fn since(&self, at: usize) -> &[u8] {
        self.written().get(at..).unwrap_or(&[])
    }
}

/// Counts bytes up to a bound.
struct Count {
    len: usize,
    max: usize,
}

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let len = self.len.checked_add(bytes.len()).ok_or(Overflow)?;
        if len > self.max {
            return Err(Overflow);
        }
        self.len = len;
        Ok(())
    }
    fn pos(&self) -> usize {
        self.len
    }
    fn patch(&mut self, _: usize, _: &[u8]) -> Result<(), Overflow> {
        Ok(())
    }
    fn truncate(&mut self, at: usize) {
        self.len = self.len.min(at);
    }
    fn since(&self, _: usize) -> &[u8] {
        &[]
    }
}

/// Writes the state of `objects` (those registered; see
/// [`super::DEFAULT_OBJECTS`]), the attribute store and `extras` into `out`,
/// after whatever `out` already holds, and returns the number of bytes
/// written. The size is bounded by `out`'s capacity: [`SaveError::Overflow`]
/// if it does not fit. On error `out` is left as it was.
pub fn save(
    reg: &Registry,
    attrs: &AttributeStore,
    objects: &[Oid],
    extras: &[Extra<'_>],
    out: &mut Writer<'_>,
) -> Result<usize, SaveError> {
    let start = out.len();
    let r = encode(reg, attrs, objects, extras, out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

/// Like [`save`], into a `Vec` of exactly the encoded size, at most
/// `max_len` bytes ([`SaveError::Overflow`] beyond; nothing is allocated
/// then). The objects are read twice: once to size the `Vec`, once to fill
/// it.
pub fn save_to_vec(
    reg: &Registry,
    attrs: &AttributeStore,
    objects: &[Oid],
    extras: &[Extra<'_>],
    max_len: usize,
) -> Result<Vec<u8>, SaveError> {
    let mut count = Count {
        len: 0,
        max: max_len,
    };
    let len = encode(reg, attrs, objects, extras, &mut count)?;
    let mut buf = vec![0u8; len];
    let mut w = Writer::new(&mut buf);
    let written = encode(reg, attrs, objects, extras, &mut w)?;
    buf.truncate(written);
    Ok(buf)
}

fn encode<S: Sink>(
    reg: &Registry,
    attrs: &AttributeStore,
    objects: &[Oid],
    extras: &[Extra<'_>],
    out: &mut S,
) -> Result<usize, SaveError> {
    if reg.in_session() {
        return Err(SaveError::Busy);
    }
    let start = out.pos();
    out.put(&MAGIC)?;
    out.put(&FORMAT_VERSION.to_be_bytes())?;
    out.put(&0u16.to_be_bytes())?;
    let len_at = out.pos();
    out.put(&[0; 8])?;
    let body = out.pos();
    // The registry iterates in Object ID order, so sections come out sorted
    // and each object once however `objects` is given.
    for obj in reg.iter().filter(|o| objects.contains(&o.def().id)) {
        let oid = obj.def().id;
        reg.check_unlocked(oid).map_err(|_| SaveError::Busy)?;
        section(out, tag::OBJECT, |out| object(obj, out))?;
    }
    if !attrs.is_empty() {
        section(out, tag::ATTRIBUTES, |out| attributes(attrs, out))?;
    }
    for e in extras {
        section(out, tag::EXTRA, |out| {
            out.put(&e.kind.to_be_bytes())?;
            Ok(out.put(e.data)?)
        })?;
    }
    let body_len = u32::try_from(out.pos().saturating_sub(body)).map_err(|_| Overflow)?;
    let crc = crc32(out.since(body));
    out.patch(len_at, &body_len.to_be_bytes())?;
    out.patch(len_at.saturating_add(4), &crc.to_be_bytes())?;
    Ok(out.pos().saturating_sub(start))
}

/// `tag`, a length patched afterwards, and what `content` writes.
fn section<S: Sink>(
    out: &mut S,
    tag: u8,
    content: impl FnOnce(&mut S) -> Result<(), SaveError>,
) -> Result<(), SaveError> {
    out.put(&[tag])?;
    let len_at = out.pos();
    out.put(&[0; 4])?;
    content(out)?;
    let len = out.pos().saturating_sub(len_at).saturating_sub(4);
    let len = u32::try_from(len).map_err(|_| Overflow)?;
    Ok(out.patch(len_at, &len.to_be_bytes())?)
}

/// A `u16` count written before the items it counts.
struct Counter {
    at: usize,
    n: u16,
}

impl Counter {
    fn start<S: Sink>(out: &mut S) -> Result<Counter, Overflow> {
        let at = out.pos();
        out.put(&[0; 2])?;
        Ok(Counter { at, n: 0 })
    }
    fn bump(&mut self) -> Result<(), Overflow> {
        self.n = self.n.checked_add(1).ok_or(Overflow)?;
        Ok(())
    }
    fn finish<S: Sink>(self, out: &mut S) -> Result<(), Overflow> {
        out.patch(self.at, &self.n.to_be_bytes())
    }
}

/// Ids reported by `instances` / `resource_instances` must increase (the
/// [`Object`] contract); a file written otherwise would not load.
fn increasing(prev: &mut Option<u16>, id: u16, path: Path) -> Result<(), SaveError> {
    if prev.is_some_and(|p| id <= p) {
        return Err(SaveError::Read {
            path,
            error: DmError::Internal,
        });
    }
    *prev = Some(id);
    Ok(())
}

fn object<S: Sink>(obj: &dyn Object, out: &mut S) -> Result<(), SaveError> {
    let def = obj.def();
    out.put(&def.id.to_be_bytes())?;
    out.put(&[def.version.major, def.version.minor])?;
    let mut count = Counter::start(out)?;
    let mut result = Ok(());
    let mut prev = None;
    obj.instances(&mut |iid| {
        if result.is_ok() {
            result = increasing(&mut prev, iid, Path::instance(def.id, iid))
                .and_then(|()| instance(obj, iid, out))
                .and_then(|()| Ok(count.bump()?));
        }
    });
    result?;
    Ok(count.finish(out)?)
}

/// Whether a resource is state worth keeping (not an action, not a stream).
pub(super) fn kept(r: &ResourceDef) -> bool {
    !r.operations.executable() && r.data_type != DataType::None && !r.streaming
}

fn instance<S: Sink>(obj: &dyn Object, iid: Iid, out: &mut S) -> Result<(), SaveError> {
    let def = obj.def();
    out.put(&iid.to_be_bytes())?;
    let mut count = Counter::start(out)?;
    for r in def.resources.iter().filter(|r| kept(r)) {
        if !obj.resource_present(iid, r.id) {
            continue;
        }
        let path = Path::resource(def.id, iid, r.id);
        let mark = out.pos();
        out.put(&r.id.to_be_bytes())?;
        let written = if r.multiple {
            out.put(&[1])?;
            multiple(obj, iid, r.id, out)?
        } else {
            out.put(&[0])?;
            match obj.read(iid, r.id, None) {
                Ok(v) => value(&v, out).map(|()| true)?,
                Err(DmError::NotFound | DmError::MethodNotAllowed) => false,
                Err(error) => return Err(SaveError::Read { path, error }),
            }
        };
        if written {
            count.bump()?;
        } else {
            out.truncate(mark);
        }
    }
    Ok(count.finish(out)?)
}

/// The instances of a multiple resource; `false` when the object does not
/// keep it (a read answered 4.05).
fn multiple<S: Sink>(obj: &dyn Object, iid: Iid, rid: Rid, out: &mut S) -> Result<bool, SaveError> {
    let oid = obj.def().id;
    let mut count = Counter::start(out)?;
    let mut result = Ok(true);
    let mut prev = None;
    obj.resource_instances(iid, rid, &mut |riid| {
        if !matches!(result, Ok(true)) {
            return;
        }
        let at = Path::resource_instance(oid, iid, rid, riid);
        result =
            increasing(&mut prev, riid, at).and_then(|()| match obj.read(iid, rid, Some(riid)) {
                Ok(v) => {
                    out.put(&riid.to_be_bytes())?;
                    value(&v, out)?;
                    count.bump()?;
                    Ok(true)
                }
                Err(DmError::NotFound) => Ok(true),
                Err(DmError::MethodNotAllowed) => Ok(false),
                Err(error) => Err(SaveError::Read { path: at, error }),
            });
    });
    if result? {
        count.finish(out)?;
        Ok(true)
    } else {
        Ok(false)
    }
}

fn value<S: Sink>(v: &Value<'_>, out: &mut S) -> Result<(), Overflow> {
    match v {
        Value::String(s) => {
            out.put(&[vtype::STRING])?;
            bytes(s.as_bytes(), out)
        }
        Value::Integer(i) => {
            out.put(&[vtype::INTEGER])?;
            out.put(&i.to_be_bytes())
        }
        Value::Unsigned(u) => {
            out.put(&[vtype::UNSIGNED])?;
            out.put(&u.to_be_bytes())
        }
        Value::Float(f) => {
            out.put(&[vtype::FLOAT])?;
            out.put(&f.to_bits().to_be_bytes())
        }
        Value::Boolean(b) => out.put(&[vtype::BOOLEAN, u8::from(*b)]),
        Value::Opaque(b) => {
            out.put(&[vtype::OPAQUE])?;
            bytes(b, out)
        }
        Value::Time(t) => {
            out.put(&[vtype::TIME])?;
            out.put(&t.to_be_bytes())
        }
        Value::Objlnk(l) => {
            out.put(&[vtype::OBJLNK])?;
            out.put(&l.oid.to_be_bytes())?;
            out.put(&l.iid.to_be_bytes())
        }
        Value::Corelnk(s) => {
            out.put(&[vtype::CORELNK])?;
            bytes(s.as_bytes(), out)
        }
    }
}

fn bytes<S: Sink>(b: &[u8], out: &mut S) -> Result<(), Overflow> {
    let len = u32::try_from(b.len()).map_err(|_| Overflow)?;
    out.put(&len.to_be_bytes())?;
    out.put(b)
}

fn attributes<S: Sink>(store: &AttributeStore, out: &mut S) -> Result<(), SaveError> {
    let n = u32::try_from(store.len()).map_err(|_| Overflow)?;
    out.put(&n.to_be_bytes())?;
    for (ssid, path, a) in store.iter() {
        out.put(&ssid.to_be_bytes())?;
        // A path has at most four ids.
        out.put(&[path.len() as u8])?;
        for id in path.ids() {
            out.put(&id.to_be_bytes())?;
        }
        out.put(&mask(a).to_be_bytes())?;
        let uint = |out: &mut S, v: Option<u32>| match v {
            Some(v) => out.put(&v.to_be_bytes()),
            None => Ok(()),
        };
        let float = |out: &mut S, v: Option<f64>| match v {
            Some(v) => out.put(&v.to_bits().to_be_bytes()),
            None => Ok(()),
        };
        let bit = |out: &mut S, v: Option<bool>| match v {
            Some(v) => out.put(&[u8::from(v)]),
            None => Ok(()),
        };
        uint(out, a.pmin)?;
        uint(out, a.pmax)?;
        float(out, a.gt)?;
        float(out, a.lt)?;
        float(out, a.st)?;
        uint(out, a.epmin)?;
        uint(out, a.epmax)?;
        bit(out, a.edge)?;
        bit(out, a.con)?;
        uint(out, a.hqmax)?;
    }
    Ok(())
}

fn mask(a: &Attributes) -> u16 {
    [
        (a.pmin.is_some(), abit::PMIN),
        (a.pmax.is_some(), abit::PMAX),
        (a.gt.is_some(), abit::GT),
        (a.lt.is_some(), abit::LT),
        (a.st.is_some(), abit::ST),
        (a.epmin.is_some(), abit::EPMIN),
        (a.epmax.is_some(), abit::EPMAX),
        (a.edge.is_some(), abit::EDGE),
        (a.con.is_some(), abit::CON),
        (a.hqmax.is_some(), abit::HQMAX),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .fold(0, |m, (_, b)| m | b)
}
