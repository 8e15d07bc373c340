//! LwM2M CBOR, content format 11544 (OMA-TS-LightweightM2M_Core 1.2
//! §7.4.7).
//!
//! The payload is one CBOR map whose keys are ids and whose values are
//! either a nested map (the next level down) or a resource value. A key is
//! an id or, to skip levels that have a single child, an array of ids
//! ("path compression"): `{3: {0: {9: 100}}}`, `{[3, 0]: {9: 100}}` and
//! `{[3, 0, 9]: 100}` are the same entry `/3/0/9 = 100`. Paths are
//! absolute: the outermost key starts with the Object ID.
//!
//! The encoder writes the request's base path as one compressed key, then
//! one nested map per remaining level, with definite lengths (each map's
//! count is patched once the map is complete); a Read of `/3/0` gives
//! `{[3, 0]: {0: "Open Mobile Alliance", …, 6: {0: 1, 1: 5}, …}}`. The
//! decoder accepts any mix of plain and compressed keys, definite and
//! indefinite-length maps, arrays and strings (as RFC 8949 allows and other
//! implementations emit). Values follow the mapping in `cbor_util`, checked
//! against the declared types from the [`TypeResolver`].

use minicbor::data::Type;
use minicbor::decode::Decoder;

use super::cbor_util::{self, malformed, peek, take_break};
use super::tlv::in_order;
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::{MAX_ID, Path};

/// A map being written: where its header is, how many pairs it has, and
/// how many path ids lie above its keys.
#[derive(Clone, Copy, Debug, Default)]
struct OpenMap {
    at: usize,
    count: u64,
    depth: usize,
}

/// LwM2M CBOR encoder. Entries must come in path order, each a resource or
/// resource instance under the base path.
///
/// Like the TLV encoder it is `Copy` (no heap memory) and allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Lwm2mCborEncoder {
    base: Path,
    prev: Option<Path>,
    /// Open maps, outermost first: the top-level map plus one per level.
    maps: [OpenMap; 5],
    open: usize,
}

impl Lwm2mCborEncoder {
    /// An encoder for a Read (or Read-Composite, with the root as base) of
    /// `base`.
    pub fn new(base: Path) -> Lwm2mCborEncoder {
        Lwm2mCborEncoder {
            base,
            prev: None,
            maps: [OpenMap::default(); 5],
            open: 0,
        }
    }

    fn start(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if self.open == 0 {
            self.push_map(w, 0)?;
        }
        Ok(())
    }

    fn push_map(&mut self, w: &mut Writer<'_>, depth: usize) -> Result<(), EncodeError> {
        let at = cbor_util::open_map(w)?;
        let slot = self
            .maps
            .get_mut(self.open)
            .ok_or(EncodeError::Unrepresentable)?;
        *slot = OpenMap {
            at,
            count: 0,
            depth,
        };
        self.open += 1;
        Ok(())
    }

    fn pop_map(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let m = self
            .open
            .checked_sub(1)
            .and_then(|i| self.maps.get(i))
            .copied()
            .ok_or(EncodeError::Unrepresentable)?;
        cbor_util::close_map(w, m.at, m.count)?;
        self.open -= 1;
        Ok(())
    }

    fn innermost(&mut self) -> Result<&mut OpenMap, EncodeError> {
        self.open
            .checked_sub(1)
            .and_then(|i| self.maps.get_mut(i))
            .ok_or(EncodeError::Unrepresentable)
    }

    /// Writes a key in the innermost map.
    fn key(&mut self, w: &mut Writer<'_>, ids: &[u16]) -> Result<(), EncodeError> {
        self.innermost()?.count += 1;
        match ids {
            [id] => cbor_util::put_uint(w, u64::from(*id)),
            _ => {
                cbor_util::put_array_header(w, ids.len() as u64)?;
                ids.iter()
                    .try_for_each(|id| cbor_util::put_uint(w, u64::from(*id)))
            }
        }
    }
}

impl Encode for Lwm2mCborEncoder {
    fn begin(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.start(w)
    }

    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let path = entry.path;
        if !(3..=4).contains(&path.len())
            || !path.starts_with(&self.base)
            || !in_order(self.prev.as_ref(), &path)
        {
            return Err(EncodeError::Unrepresentable);
        }
        self.start(w)?;
        let ids = path.ids();
        let from = match self.prev {
            None => {
                let base = self.base.len();
                if base > 0 {
                    let base_path = self.base;
                    self.key(w, base_path.ids())?;
                    if base == path.len() {
                        cbor_util::put_value(w, &entry.value)?;
                        self.prev = Some(path);
                        return Ok(());
                    }
                    self.push_map(w, base)?;
                }
                base
            }
            Some(prev) => {
                let common = prev
                    .ids()
                    .iter()
                    .zip(ids)
                    .take_while(|(a, b)| a == b)
                    .count();
                while self.open > 1 && self.innermost()?.depth > common {
                    self.pop_map(w)?;
                }
                common
            }
        };
        let tail = ids.get(from..).ok_or(EncodeError::Unrepresentable)?;
        let (last, inner) = tail.split_last().ok_or(EncodeError::Unrepresentable)?;
        for (k, id) in inner.iter().enumerate() {
            self.key(w, core::slice::from_ref(id))?;
            self.push_map(w, from + k + 1)?;
        }
        self.key(w, core::slice::from_ref(last))?;
        cbor_util::put_value(w, &entry.value)?;
        self.prev = Some(path);
        Ok(())
    }

    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.start(w)?;
        while self.open > 0 {
            self.pop_map(w)?;
        }
        Ok(())
    }
}

/// A map being read: items left (`None`: indefinite length) and the path
/// its keys extend.
#[derive(Clone, Copy, Debug)]
struct Frame {
    left: Option<u64>,
    path: Path,
}

/// Streaming LwM2M CBOR decoder: yields one [`Entry`] per value, at its
/// absolute path, in payload order.
pub struct Lwm2mCborDecoder<'a, 't> {
    d: Decoder<'a>,
    base: Path,
    types: &'t dyn TypeResolver,
    limits: DecodeLimits,
    /// The top-level map and one per path level below it.
    frames: [Option<Frame>; 5],
    depth: usize,
    started: bool,
    items: usize,
    done: bool,
}

impl<'a, 't> Lwm2mCborDecoder<'a, 't> {
    /// A decoder for a Write (or Write-Composite, with the root as base) of
    /// `payload` to `base`. Every value must lie at or under `base`, at a
    /// resource or resource instance, else [`DecodeError::Path`].
    pub fn new(
        payload: &'a [u8],
        base: Path,
        types: &'t dyn TypeResolver,
        limits: DecodeLimits,
    ) -> Lwm2mCborDecoder<'a, 't> {
        Lwm2mCborDecoder {
            d: Decoder::new(payload),
            base,
            types,
            limits,
            frames: [None; 5],
            depth: 0,
            started: false,
            items: 0,
            done: false,
        }
    }

    fn push(&mut self, left: Option<u64>, path: Path) -> Result<(), DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooLarge);
        }
        let slot = self.frames.get_mut(self.depth).ok_or(DecodeError::Path)?;
        *slot = Some(Frame { left, path });
        self.depth += 1;
        Ok(())
    }

    fn top(&mut self) -> Option<&mut Frame> {
        let i = self.depth.checked_sub(1)?;
        self.frames.get_mut(i)?.as_mut()
    }

    fn id(&mut self) -> Result<u16, DecodeError> {
        let at = self.d.position();
        match peek(&self.d)? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {}
            _ => return Err(DecodeError::Malformed { at }),
        }
        let n = self.d.u64().map_err(|_| DecodeError::Malformed { at })?;
        u16::try_from(n)
            .ok()
            .filter(|&id| id != MAX_ID)
            .ok_or(DecodeError::Path)
    }

    /// Reads a key (an id or an array of ids) extending `parent`.
    fn key(&mut self, parent: Path) -> Result<Path, DecodeError> {
        let at = self.d.position();
        let mut path = parent;
        let extend = |path: &mut Path, id: u16| -> Result<(), DecodeError> {
            *path = path.child(id).ok_or(DecodeError::Path)?;
            Ok(())
        };
        match peek(&self.d)? {
            Type::Array => {
                let n = self.d.array().map_err(|_| DecodeError::Malformed { at })?;
                let n = n.ok_or(DecodeError::Malformed { at })?;
                if n == 0 || n > 4 {
                    return Err(DecodeError::Path);
                }
                for _ in 0..n {
                    let id = self.id()?;
                    extend(&mut path, id)?;
                }
            }
            Type::ArrayIndef => {
                self.d.array().map_err(|_| DecodeError::Malformed { at })?;
                let mut n = 0;
                while !take_break(&mut self.d)? {
                    let id = self.id()?;
                    extend(&mut path, id)?;
                    n += 1;
                }
                if n == 0 {
                    return Err(DecodeError::Path);
                }
            }
            _ => {
                let id = self.id()?;
                extend(&mut path, id)?;
            }
        }
        Ok(path)
    }

    fn step(&mut self) -> Result<Option<Entry<'a>>, DecodeError> {
        if !self.started {
            self.started = true;
            let at = self.d.position();
            match peek(&self.d)? {
                Type::Map | Type::MapIndef => {}
                _ => return Err(DecodeError::Malformed { at }),
            }
            let n = self.d.map().map_err(|_| DecodeError::Malformed { at })?;
            self.push(n, Path::ROOT)?;
        }
        loop {
            let Some(frame) = self.top().copied() else {
                if self.d.position() != self.d.input().len() {
                    return Err(malformed(&self.d));
                }
                return Ok(None);
            };
            let ends = match frame.left {
                Some(0) => true,
                Some(_) => false,
                None => take_break(&mut self.d)?,
            };
            if ends {
                self.depth -= 1;
                continue;
            }
            if let (Some(n), Some(f)) = (frame.left, self.top()) {
                f.left = Some(n - 1);
            }
            self.items += 1;
            if self.items > self.limits.max_entries {
                return Err(DecodeError::TooLarge);
            }
            let path = self.key(frame.path)?;
            let at = self.d.position();
            match peek(&self.d)? {
                Type::Map | Type::MapIndef => {
                    if path.len() >= 4 || !path.overlaps(&self.base) {
                        return Err(DecodeError::Path);
                    }
                    let n = self.d.map().map_err(|_| DecodeError::Malformed { at })?;
                    self.push(n, path)?;
                }
                _ => {
                    if path.len() < 3 || !path.starts_with(&self.base) {
                        return Err(DecodeError::Path);
                    }
                    let raw = cbor_util::read_raw(&mut self.d, &self.limits)?;
                    let ty = self.types.data_type(&path.truncated(3));
                    let value = cbor_util::typed(raw, ty)?;
                    return Ok(Some(Entry::new(path, value)));
                }
            }
        }
    }
}

impl<'a> Iterator for Lwm2mCborDecoder<'a, '_> {
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
#[path = "lwm2m_cbor_tests.rs"]
mod tests;
