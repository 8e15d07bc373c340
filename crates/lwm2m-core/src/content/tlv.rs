//! OMA LwM2M TLV, content format 11542 (OMA-TS-LightweightM2M_Core 1.1
//! §7.4.3; value encodings in Appendix C "Data Types", TLV column).
//!
//! Each TLV is a type byte, an 8- or 16-bit identifier, a 0- to 24-bit
//! length and the value:
//!
//! ```text
//! type byte   7 6 | 5           | 4 3                     | 2 1 0
//!             kind| id is 16 bit| length field: 0/8/16/24 | length if 0-bit field
//! kind        00 Object Instance (contains resource TLVs)
//!             01 Resource Instance (a value, inside a Multiple Resource)
//!             10 Multiple Resource (contains Resource Instance TLVs)
//!             11 Resource with Value
//! ```
//!
//! Ids are written relative to the request's path: a Read of `/3/0` answers
//! with resource TLVs, a Read of `/3` with Object Instance TLVs around them,
//! a Read of `/3/0/7` with one Multiple Resource TLV. Values carry no type:
//! the decoder asks the [`TypeResolver`] and reads the bytes as that type;
//! a resource of unknown type is handed on as Opaque for the data model to
//! refuse.
//!
//! | type | value bytes |
//! |---|---|
//! | Integer, Time | two's complement, big-endian, 1, 2, 4 or 8 bytes (shortest on encode) |
//! | Unsigned Integer | big-endian, 1, 2, 4 or 8 bytes; encoded in the shortest of those whose top bit is clear below 2^63, so a 1.0 peer that reads it as signed gets the same number |
//! | Float | IEEE 754 big-endian, 4 or 8 bytes (4 when that is lossless) |
//! | Boolean | one byte, 0 or 1 |
//! | Objlnk | Object ID then Instance ID, 16 bits each |
//! | String, Corelnk, Opaque | the bytes |
//!
//! The encoder writes nested TLVs in one pass: a container's length is
//! reserved at its widest and patched, then narrowed, when the container
//! closes, so the output always has minimal length fields.

use alloc::borrow::Cow;

use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::{DataType, ObjLnk, Path, Value};

/// The TLV kinds (bits 7-6 of the type byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ObjectInstance = 0b00,
    ResourceInstance = 0b01,
    MultipleResource = 0b10,
    Resource = 0b11,
}

impl Kind {
    fn from_bits(b: u8) -> Kind {
        match b >> 6 {
            0b00 => Kind::ObjectInstance,
            0b01 => Kind::ResourceInstance,
            0b10 => Kind::MultipleResource,
            _ => Kind::Resource,
        }
    }
    /// Length of the path this TLV's id completes.
    fn depth(self) -> usize {
        match self {
            Kind::ObjectInstance => 2,
            Kind::MultipleResource | Kind::Resource => 3,
            Kind::ResourceInstance => 4,
        }
    }
    fn is_container(self) -> bool {
        matches!(self, Kind::ObjectInstance | Kind::MultipleResource)
    }
}

/// Largest value a 24-bit length field holds.
const MAX_LEN: usize = 0xff_ffff;

/// Writes a type byte, id and minimal length field for a `len`-byte value.
fn put_header(w: &mut Writer<'_>, kind: Kind, id: u16, len: usize) -> Result<(), EncodeError> {
    let [len_hi, len_mid, len_lo] = match u32::try_from(len) {
        Ok(l) if len <= MAX_LEN => {
            let [_, a, b, c] = l.to_be_bytes();
            [a, b, c]
        }
        _ => return Err(EncodeError::Unrepresentable),
    };
    let (field, len_bytes): (u8, &[u8]) = match len {
        0..=7 => (0, &[]),
        8..=0xff => (0b01, &[len_lo]),
        0x100..=0xffff => (0b10, &[len_mid, len_lo]),
        _ => (0b11, &[len_hi, len_mid, len_lo]),
    };
    let short_len = if field == 0 { len_lo } else { 0 };
    let [id_hi, id_lo] = id.to_be_bytes();
    let wide = if id > 0xff { 0b10_0000 } else { 0 };
    // Byte by byte: a header is 2 to 6 bytes, too short for a memcpy call
    // to pay off (this runs once per value of every TLV response).
    w.put_u8(((kind as u8) << 6) | wide | (field << 3) | short_len)?;
    if wide != 0 {
        w.put_u8(id_hi)?;
    }
    w.put_u8(id_lo)?;
    for b in len_bytes {
        w.put_u8(*b)?;
    }
    Ok(())
}

/// A container TLV whose length is not known yet.
#[derive(Clone, Copy, Debug)]
struct Open {
    path: Path,
    /// Offset of the type byte.
    at: usize,
    /// Offset of the first content byte (after 3 reserved length bytes).
    content: usize,
}

fn open(w: &mut Writer<'_>, kind: Kind, path: Path) -> Result<Open, EncodeError> {
    let id = path.ids().last().copied().unwrap_or(0);
    let at = w.len();
    // Header as if the length were 24 bits; narrowed by `close`.
    put_header(w, kind, id, 0x1_0000)?;
    Ok(Open {
        path,
        at,
        content: w.len(),
    })
}

fn close(w: &mut Writer<'_>, o: Open) -> Result<(), EncodeError> {
    let len = w.len().saturating_sub(o.content);
    let ty = w
        .written()
        .get(o.at)
        .copied()
        .ok_or(EncodeError::Overflow)?;
    let kind = Kind::from_bits(ty);
    let id = o.path.ids().last().copied().unwrap_or(0);
    // Re-encode the header for the real length and drop the spare bytes.
    let mut hdr = [0u8; 6];
    let mut tmp = Writer::new(&mut hdr);
    put_header(&mut tmp, kind, id, len)?;
    let new_hdr = tmp.written();
    let old_len = o.content - o.at;
    w.patch(o.at, new_hdr)?;
    w.remove(o.at + new_hdr.len(), old_len - new_hdr.len())?;
    Ok(())
}

/// Bytes needed for `i` in two's complement: 1, 2, 4 or 8.
fn int_width(i: i64) -> usize {
    if i8::try_from(i).is_ok() {
        1
    } else if i16::try_from(i).is_ok() {
        2
    } else if i32::try_from(i).is_ok() {
        4
    } else {
        8
    }
}

/// The fixed-size value bytes of a numeric value, right-aligned in 8 bytes,
/// and how many of them are used.
fn fixed_bytes(v: &Value<'_>) -> Option<([u8; 8], usize)> {
    Some(match v {
        Value::Integer(i) | Value::Time(i) => (i.to_be_bytes(), int_width(*i)),
        Value::Unsigned(u) => match i64::try_from(*u) {
            Ok(i) => (i.to_be_bytes(), int_width(i)),
            Err(_) => (u.to_be_bytes(), 8),
        },
        Value::Float(f) => {
            let narrow = *f as f32;
            if f64::from(narrow) == *f || f.is_nan() {
                let [a, b, c, d] = narrow.to_be_bytes();
                ([0, 0, 0, 0, a, b, c, d], 4)
            } else {
                (f.to_be_bytes(), 8)
            }
        }
        Value::Boolean(b) => ([0, 0, 0, 0, 0, 0, 0, u8::from(*b)], 1),
        Value::Objlnk(l) => {
            let [a, b] = l.oid.to_be_bytes();
            let [c, d] = l.iid.to_be_bytes();
            ([0, 0, 0, 0, a, b, c, d], 4)
        }
        Value::String(_) | Value::Corelnk(_) | Value::Opaque(_) => return None,
    })
}

/// Writes the value bytes of `v` behind a header of `kind` and `id`.
fn put_value(w: &mut Writer<'_>, kind: Kind, id: u16, v: &Value<'_>) -> Result<(), EncodeError> {
    let bytes: &[u8] = match v {
        Value::String(s) | Value::Corelnk(s) => s.as_bytes(),
        Value::Opaque(b) => b,
        _ => {
            let (b, n) = fixed_bytes(v).ok_or(EncodeError::Unrepresentable)?;
            put_header(w, kind, id, n)?;
            for x in b.get(8 - n..).ok_or(EncodeError::Unrepresentable)? {
                w.put_u8(*x)?;
            }
            return Ok(());
        }
    };
    put_header(w, kind, id, bytes.len())?;
    Ok(w.put(bytes)?)
}

/// TLV encoder. Entries must come in path order ([`Path`]'s `Ord`), each a
/// resource or resource instance under the base path.
///
/// The encoder is `Copy`, so it owns no heap memory, and no step of it
/// allocates: a response is rendered straight into the datagram buffer.
#[derive(Clone, Copy, Debug)]
pub struct TlvEncoder {
    base: Path,
    prev: Option<Path>,
    instance: Option<Open>,
    multiple: Option<Open>,
}

impl TlvEncoder {
    /// An encoder for a Read of `base` (an object, instance, resource or
    /// resource instance; the root has no TLV form and every entry under it
    /// is [`EncodeError::Unrepresentable`]).
    pub fn new(base: Path) -> TlvEncoder {
        TlvEncoder {
            base,
            prev: None,
            instance: None,
            multiple: None,
        }
    }

    fn close_multiple(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if let Some(o) = self.multiple.take() {
            close(w, o)?;
        }
        Ok(())
    }

    fn close_instance(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.close_multiple(w)?;
        if let Some(o) = self.instance.take() {
            close(w, o)?;
        }
        Ok(())
    }
}

/// Whether `next` may follow `prev` in one hierarchical payload: strictly
/// later in path order, and not inside it (a resource with a value cannot
/// also have instances).
pub(crate) fn in_order(prev: Option<&Path>, next: &Path) -> bool {
    match prev {
        None => true,
        Some(p) => p < next && !next.starts_with(p),
    }
}

impl Encode for TlvEncoder {
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let path = entry.path;
        let base_len = self.base.len();
        if base_len == 0
            || !(3..=4).contains(&path.len())
            || !path.starts_with(&self.base)
            || !in_order(self.prev.as_ref(), &path)
        {
            return Err(EncodeError::Unrepresentable);
        }
        if self
            .multiple
            .is_some_and(|m| path.truncated(3) != m.path || path.len() != 4)
        {
            self.close_multiple(w)?;
        }
        if self.instance.is_some_and(|i| path.truncated(2) != i.path) {
            self.close_instance(w)?;
        }
        if base_len == 1 && self.instance.is_none() {
            self.instance = Some(open(w, Kind::ObjectInstance, path.truncated(2))?);
        }
        if path.len() == 4 && base_len <= 3 && self.multiple.is_none() {
            self.multiple = Some(open(w, Kind::MultipleResource, path.truncated(3))?);
        }
        let kind = if path.len() == 3 {
            Kind::Resource
        } else {
            Kind::ResourceInstance
        };
        let id = path.ids().last().copied().unwrap_or(0);
        put_value(w, kind, id, &entry.value)?;
        self.prev = Some(path);
        Ok(())
    }

    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.close_instance(w)
    }
}

/// Whether a TLV payload starts with an Object Instance TLV. A Create on
/// `/o` may carry either one instance TLV (the server chose the id) or bare
/// resource TLVs (the client chooses, Core 1.1 §6.3.5.1 / §7.4.3): in the
/// second case decode with the new instance's path as the base.
pub fn starts_with_instance(payload: &[u8]) -> bool {
    first_instance_id(payload).is_some()
}

/// The id of the Object Instance TLV a payload starts with, if it does
/// (a Create of an instance with no resource is just that header).
pub fn first_instance_id(payload: &[u8]) -> Option<u16> {
    let (&ty, rest) = payload.split_first()?;
    if Kind::from_bits(ty) != Kind::ObjectInstance {
        return None;
    }
    match (ty & 0b10_0000 != 0, rest) {
        (true, [hi, lo, ..]) => Some(u16::from_be_bytes([*hi, *lo])),
        (false, [id, ..]) => Some(u16::from(*id)),
        _ => None,
    }
}

/// A parsed TLV header.
struct Header {
    kind: Kind,
    id: u16,
    value: usize,
    end: usize,
}

fn parse_header(buf: &[u8], at: usize, limit: usize) -> Result<Header, DecodeError> {
    let bad = DecodeError::Malformed { at };
    let area = buf.get(at..limit).ok_or(bad)?;
    let (&ty, rest) = area.split_first().ok_or(bad)?;
    let id_len = if ty & 0b10_0000 != 0 { 2 } else { 1 };
    let len_len = usize::from((ty >> 3) & 0b11);
    let (id_b, rest) = rest.split_at_checked(id_len).ok_or(bad)?;
    let (len_b, _) = rest.split_at_checked(len_len).ok_or(bad)?;
    let id = id_b.iter().fold(0u16, |a, &b| (a << 8) | u16::from(b));
    let len = if len_len == 0 {
        usize::from(ty & 0b111)
    } else {
        len_b.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b))
    };
    let value = at + 1 + id_len + len_len;
    let end = value.checked_add(len).filter(|&e| e <= limit).ok_or(bad)?;
    Ok(Header {
        kind: Kind::from_bits(ty),
        id,
        value,
        end,
    })
}

/// `b` (at most 8 bytes) right-aligned in 8 bytes filled with `fill`.
fn right_align(b: &[u8], fill: u8) -> [u8; 8] {
    let mut full = [fill; 8];
    for (dst, src) in full.iter_mut().rev().zip(b.iter().rev()) {
        *dst = *src;
    }
    full
}

/// Reads value bytes as the declared type (Appendix C, TLV column).
fn read_value<'a>(
    bytes: &'a [u8],
    ty: Option<DataType>,
    limits: &DecodeLimits,
) -> Result<Value<'a>, DecodeError> {
    if bytes.len() > limits.max_value_len {
        return Err(DecodeError::TooLarge);
    }
    let int = |b: &[u8]| -> Result<i64, DecodeError> {
        let first = b.first().copied().unwrap_or(0);
        match b.len() {
            1 | 2 | 4 | 8 => {
                let fill = if first & 0x80 != 0 { 0xff } else { 0 };
                Ok(i64::from_be_bytes(right_align(b, fill)))
            }
            _ => Err(DecodeError::Type),
        }
    };
    let str_of = |b: &'a [u8]| core::str::from_utf8(b).map_err(|_| DecodeError::Type);
    Ok(match ty {
        None | Some(DataType::Opaque) => Value::Opaque(Cow::Borrowed(bytes)),
        Some(DataType::String) => Value::String(Cow::Borrowed(str_of(bytes)?)),
        Some(DataType::Corelnk) => Value::Corelnk(Cow::Borrowed(str_of(bytes)?)),
        Some(DataType::Integer) => Value::Integer(int(bytes)?),
        Some(DataType::Time) => Value::Time(int(bytes)?),
        Some(DataType::UnsignedInteger) => match bytes.len() {
            1 | 2 | 4 | 8 => Value::Unsigned(u64::from_be_bytes(right_align(bytes, 0))),
            _ => return Err(DecodeError::Type),
        },
        Some(DataType::Float) => match *bytes {
            [a, b, c, d] => Value::Float(f64::from(f32::from_be_bytes([a, b, c, d]))),
            [a, b, c, d, e, f, g, h] => Value::Float(f64::from_be_bytes([a, b, c, d, e, f, g, h])),
            _ => return Err(DecodeError::Type),
        },
        Some(DataType::Boolean) => match bytes {
            [0] => Value::Boolean(false),
            [1] => Value::Boolean(true),
            _ => return Err(DecodeError::Type),
        },
        Some(DataType::Objlnk) => match *bytes {
            [a, b, c, d] => Value::Objlnk(ObjLnk {
                oid: u16::from_be_bytes([a, b]),
                iid: u16::from_be_bytes([c, d]),
            }),
            _ => return Err(DecodeError::Type),
        },
        Some(DataType::None) => return Err(DecodeError::Type),
    })
}

/// An open container while decoding.
#[derive(Clone, Copy, Debug)]
struct Frame {
    end: usize,
    path: Path,
}

/// Streaming TLV decoder: yields one [`Entry`] per Resource or Resource
/// Instance TLV, at its absolute path, in payload order.
pub struct TlvDecoder<'a, 't> {
    payload: &'a [u8],
    base: Path,
    types: &'t dyn TypeResolver,
    limits: DecodeLimits,
    pos: usize,
    /// Open containers: at most an Object Instance and a Multiple Resource.
    frames: [Option<Frame>; 2],
    tlvs: usize,
    done: bool,
}

impl<'a, 't> TlvDecoder<'a, 't> {
    /// A decoder for a Write (or Create) of `payload` to `base`. Top-level
    /// TLVs are read relative to `base`: at `/o` Object Instance TLVs, at
    /// `/o/i` resource TLVs (or one Object Instance TLV with id `i`), at
    /// `/o/i/r` the resource's own TLV (or bare Resource Instance TLVs), at
    /// `/o/i/r/ri` that instance's TLV. Anything outside `base` is
    /// [`DecodeError::Path`].
    pub fn new(
        payload: &'a [u8],
        base: Path,
        types: &'t dyn TypeResolver,
        limits: DecodeLimits,
    ) -> TlvDecoder<'a, 't> {
        TlvDecoder {
            payload,
            base,
            types,
            limits,
            pos: 0,
            frames: [None, None],
            tlvs: 0,
            done: false,
        }
    }

    fn innermost(&self) -> Option<Frame> {
        self.frames.iter().rev().find_map(|f| *f)
    }

    fn pop(&mut self) {
        if let Some(slot) = self.frames.iter_mut().rev().find(|f| f.is_some()) {
            *slot = None;
        }
    }

    fn push(&mut self, f: Frame) -> Result<(), DecodeError> {
        if self.frames.iter().flatten().count() >= self.limits.max_depth {
            return Err(DecodeError::TooLarge);
        }
        let slot = self
            .frames
            .iter_mut()
            .find(|f| f.is_none())
            .ok_or(DecodeError::Malformed { at: self.pos })?;
        *slot = Some(f);
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Entry<'a>>, DecodeError> {
        loop {
            let parent = loop {
                match self.innermost() {
                    Some(f) if f.end == self.pos => self.pop(),
                    other => break other,
                }
            };
            let limit = parent.map_or(self.payload.len(), |f| f.end);
            if parent.is_none() && self.pos >= self.payload.len() {
                return Ok(None);
            }
            let at = self.pos;
            let h = parse_header(self.payload, at, limit)?;
            self.tlvs += 1;
            if self.tlvs > self.limits.max_entries {
                return Err(DecodeError::TooLarge);
            }
            let depth = h.kind.depth();
            let path = match parent {
                Some(f) => {
                    // An Object Instance holds resources, a Multiple
                    // Resource holds resource instances, nothing else.
                    if f.path.len() + 1 != depth {
                        return Err(DecodeError::Malformed { at });
                    }
                    f.path.child(h.id).ok_or(DecodeError::Path)?
                }
                None => {
                    let above = depth - 1;
                    if above > self.base.len() {
                        return Err(DecodeError::Path);
                    }
                    let p = self
                        .base
                        .truncated(above)
                        .child(h.id)
                        .ok_or(DecodeError::Path)?;
                    if !p.overlaps(&self.base) {
                        return Err(DecodeError::Path);
                    }
                    p
                }
            };
            if h.kind.is_container() {
                if !path.overlaps(&self.base) {
                    return Err(DecodeError::Path);
                }
                self.push(Frame { end: h.end, path })?;
                self.pos = h.value;
                continue;
            }
            if !path.starts_with(&self.base) {
                return Err(DecodeError::Path);
            }
            self.pos = h.end;
            let bytes = self
                .payload
                .get(h.value..h.end)
                .ok_or(DecodeError::Malformed { at })?;
            let ty = self.types.data_type(&path.truncated(3));
            let value = read_value(bytes, ty, &self.limits)?;
            return Ok(Some(Entry::new(path, value)));
        }
    }
}

impl<'a> Iterator for TlvDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        super::fuse(&mut self.done, step)
    }
}

#[cfg(test)]
#[path = "tlv_tests.rs"]
mod tests;
