//! LwM2M paths: `/Object/Instance/Resource/ResourceInstance`, each level
//! optional from the right (OMA-TS-LightweightM2M_Core 1.1 §6.4.1 "Object
//! Model" addressing; §7.2 Uri-Path mapping).
//!
//! Every id is 0..=65534; 65535 is reserved (Core §7.2 "MAX_ID").

use core::fmt;

/// Object ID.
pub type Oid = u16;
/// Object Instance ID.
pub type Iid = u16;
/// Resource ID.
pub type Rid = u16;
/// Resource Instance ID.
pub type Riid = u16;

/// The reserved id 65535: never a valid id in a path.
pub const MAX_ID: u16 = u16::MAX;

/// A path of 0 to 4 ids, stored inline (`Copy`, 10 bytes).
///
/// Ordering is depth-first: `/3 < /3/0 < /3/0/0 < /3/0/1 < /3/1 < /4`, which
/// is the order in which entries are encoded in a hierarchical payload.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    ids: [u16; 4],
    len: u8,
}

/// How deep a path goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `/`.
    Root,
    /// `/o`.
    Object,
    /// `/o/i`.
    Instance,
    /// `/o/i/r`.
    Resource,
    /// `/o/i/r/ri`.
    ResourceInstance,
}

/// A path that cannot be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// More than four segments.
    TooDeep,
    /// A segment that is not a decimal id in 0..=65534 (empty, signs,
    /// letters, leading zeros, too large, or the reserved 65535).
    BadId,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::TooDeep => "path deeper than /o/i/r/ri",
            PathError::BadId => "path segment is not an id in 0..=65534",
        })
    }
}

impl Path {
    /// The root path `/`.
    pub const ROOT: Path = Path {
        ids: [0; 4],
        len: 0,
    };

    /// `/oid`.
    pub const fn object(oid: Oid) -> Path {
        Path {
            ids: [oid, 0, 0, 0],
            len: 1,
        }
    }
    /// `/oid/iid`.
    pub const fn instance(oid: Oid, iid: Iid) -> Path {
        Path {
            ids: [oid, iid, 0, 0],
            len: 2,
        }
    }
    /// `/oid/iid/rid`.
    pub const fn resource(oid: Oid, iid: Iid, rid: Rid) -> Path {
        Path {
            ids: [oid, iid, rid, 0],
            len: 3,
        }
    }
    /// `/oid/iid/rid/riid`.
    pub const fn resource_instance(oid: Oid, iid: Iid, rid: Rid, riid: Riid) -> Path {
        Path {
            ids: [oid, iid, rid, riid],
            len: 4,
        }
    }

    /// A path from ids; `None` if more than four or any is 65535.
    pub fn new(ids: &[u16]) -> Option<Path> {
        if ids.len() > 4 || ids.contains(&MAX_ID) {
            return None;
        }
        let mut p = Path::ROOT;
        p.ids.get_mut(..ids.len())?.copy_from_slice(ids);
        p.len = ids.len() as u8;
        Some(p)
    }

    /// Parses `"/3/0/1"` (the leading slash is optional; `"/"` and `""` are
    /// the root; a trailing slash is not allowed).
    pub fn parse(s: &str) -> Result<Path, PathError> {
        let s = s.strip_prefix('/').unwrap_or(s);
        if s.is_empty() {
            return Ok(Path::ROOT);
        }
        Path::from_segments(s.split('/').map(str::as_bytes))
    }

    /// Builds a path from Uri-Path option values (RFC 7252 §6.4 style
    /// segments, one id each). No segments is the root. A single empty
    /// segment is also the root (some peers send `Uri-Path: ""` for `/`).
    pub fn from_segments<'s>(
        segments: impl IntoIterator<Item = &'s [u8]>,
    ) -> Result<Path, PathError> {
        let mut p = Path::ROOT;
        let mut iter = segments.into_iter().peekable();
        if let Some(first) = iter.peek()
            && first.is_empty()
        {
            iter.next();
            if iter.peek().is_none() {
                return Ok(Path::ROOT);
            }
            return Err(PathError::BadId);
        }
        for seg in iter {
            let id = parse_id(seg)?;
            p = p.child(id).ok_or(PathError::TooDeep)?;
        }
        Ok(p)
    }

    /// Number of ids (0 to 4).
    pub const fn len(&self) -> usize {
        self.len as usize
    }
    /// Whether this is the root (no ids).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether this is the root.
    pub const fn is_root(&self) -> bool {
        self.len == 0
    }
    /// The ids, outermost first.
    pub fn ids(&self) -> &[u16] {
        self.ids.get(..self.len()).unwrap_or(&[])
    }
    /// How deep the path goes.
    pub const fn level(&self) -> Level {
        match self.len {
            0 => Level::Root,
            1 => Level::Object,
            2 => Level::Instance,
            3 => Level::Resource,
            _ => Level::ResourceInstance,
        }
    }
    /// The Object ID, if present.
    pub const fn oid(&self) -> Option<Oid> {
        if self.len >= 1 {
            Some(self.ids[0])
        } else {
            None
        }
    }
    /// The Object Instance ID, if present.
    pub const fn iid(&self) -> Option<Iid> {
        if self.len >= 2 {
            Some(self.ids[1])
        } else {
            None
        }
    }
    /// The Resource ID, if present.
    pub const fn rid(&self) -> Option<Rid> {
        if self.len >= 3 {
            Some(self.ids[2])
        } else {
            None
        }
    }
    /// The Resource Instance ID, if present.
    pub const fn riid(&self) -> Option<Riid> {
        if self.len >= 4 {
            Some(self.ids[3])
        } else {
            None
        }
    }
    /// This path extended by one id; `None` at depth 4 or for 65535.
    pub fn child(&self, id: u16) -> Option<Path> {
        if id == MAX_ID {
            return None;
        }
        let mut p = *self;
        *p.ids.get_mut(self.len())? = id;
        p.len += 1;
        Some(p)
    }
    /// This path without its last id; `None` for the root.
    pub fn parent(&self) -> Option<Path> {
        if self.len == 0 {
            return None;
        }
        let mut p = *self;
        p.len -= 1;
        let last = p.len();
        if let Some(slot) = p.ids.get_mut(last) {
            *slot = 0;
        }
        Some(p)
    }
    /// The first `len` ids of this path (all of it if `len` is larger).
    #[inline]
    pub fn truncated(&self, len: usize) -> Path {
        // Ids past `len` are always zero (every constructor keeps them so),
        // which lets equality compare the whole array without a call.
        let keep = len.min(self.len());
        let [a, b, c, d] = self.ids;
        let ids = [
            if keep > 0 { a } else { 0 },
            if keep > 1 { b } else { 0 },
            if keep > 2 { c } else { 0 },
            if keep > 3 { d } else { 0 },
        ];
        Path {
            ids,
            len: keep as u8,
        }
    }
    /// Whether `self` is `prefix` or lies beneath it.
    #[inline]
    pub fn starts_with(&self, prefix: &Path) -> bool {
        prefix.len <= self.len && self.truncated(prefix.len()) == *prefix
    }
    /// Whether one path is a prefix of the other (they overlap in the tree).
    pub fn overlaps(&self, other: &Path) -> bool {
        self.starts_with(other) || other.starts_with(self)
    }
}

fn parse_id(seg: &[u8]) -> Result<u16, PathError> {
    if seg.is_empty() || seg.len() > 5 || (seg.len() > 1 && seg.first() == Some(&b'0')) {
        return Err(PathError::BadId);
    }
    let mut v: u32 = 0;
    for &c in seg {
        if !c.is_ascii_digit() {
            return Err(PathError::BadId);
        }
        v = v * 10 + u32::from(c - b'0');
    }
    match u16::try_from(v) {
        Ok(id) if id != MAX_ID => Ok(id),
        _ => Err(PathError::BadId),
    }
}

impl PartialOrd for Path {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Path {
    #[inline]
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        // Lexicographic over the ids, a prefix first (depth-first order);
        // on the hot path of every hierarchical encoder, so no slice calls.
        let n = usize::from(self.len.min(other.len));
        for (a, b) in self.ids.iter().zip(other.ids.iter()).take(n) {
            if a != b {
                return a.cmp(b);
            }
        }
        self.len.cmp(&other.len)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str("/");
        }
        for id in self.ids() {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::str::FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Path, PathError> {
        Path::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn parse_display_roundtrip() {
        for s in [
            "/",
            "/3",
            "/3/0",
            "/3/0/7",
            "/3/0/7/1",
            "/65534/65534/65534/65534",
        ] {
            assert_eq!(Path::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Path::parse("3/0").unwrap(), Path::instance(3, 0));
        assert_eq!(Path::parse(""), Ok(Path::ROOT));
    }

    #[test]
    fn parse_rejects_bad_ids() {
        for s in [
            "/3/",
            "/-1",
            "/+1",
            "/01",
            "/65535",
            "/70000",
            "/a",
            "/3//0",
            "/1/2/3/4/5",
            "/ 3",
        ] {
            assert!(Path::parse(s).is_err(), "{s}");
        }
        assert_eq!(Path::parse("/1/2/3/4/5"), Err(PathError::TooDeep));
        assert_eq!(Path::parse("/0"), Ok(Path::object(0)));
    }

    #[test]
    fn segments() {
        let p = Path::from_segments([&b"5"[..], b"0", b"1"]).unwrap();
        assert_eq!(p, Path::resource(5, 0, 1));
        assert_eq!(p.level(), Level::Resource);
        assert_eq!(
            (p.oid(), p.iid(), p.rid(), p.riid()),
            (Some(5), Some(0), Some(1), None)
        );
        assert_eq!(Path::from_segments([&b""[..]]), Ok(Path::ROOT));
        assert_eq!(Path::from_segments(core::iter::empty()), Ok(Path::ROOT));
        assert_eq!(Path::from_segments([&b""[..], b"3"]), Err(PathError::BadId));
    }

    #[test]
    fn ordering_is_depth_first() {
        let mut v: Vec<Path> = ["/4", "/3/1", "/3/0/1", "/3", "/3/0/0", "/3/0", "/3/0/0/2"]
            .iter()
            .map(|s| Path::parse(s).unwrap())
            .collect();
        v.sort();
        let s: Vec<_> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            s,
            ["/3", "/3/0", "/3/0/0", "/3/0/0/2", "/3/0/1", "/3/1", "/4"]
        );
    }

    #[test]
    fn relations() {
        let r = Path::resource(3, 0, 1);
        assert!(r.starts_with(&Path::object(3)));
        assert!(r.starts_with(&Path::ROOT));
        assert!(!Path::object(3).starts_with(&r));
        assert!(Path::object(3).overlaps(&r));
        assert!(!Path::object(4).overlaps(&r));
        assert_eq!(r.parent(), Some(Path::instance(3, 0)));
        assert_eq!(Path::ROOT.parent(), None);
        assert_eq!(Path::resource_instance(1, 2, 3, 4).child(5), None);
        assert_eq!(Path::object(1).child(MAX_ID), None);
        assert_eq!(r.truncated(1), Path::object(3));
        assert_eq!(Path::new(&[1, 2]), Some(Path::instance(1, 2)));
        assert_eq!(Path::new(&[1, MAX_ID]), None);
    }
}
