//! Notification attributes per server (OMA-TS-LightweightM2M_Core 1.1
//! "Attributes", the `<NOTIFICATION>` class: pmin, pmax, gt, lt, st, epmin,
//! epmax; LwM2M 1.2 adds edge, con and hqmax), set with Write-Attributes and
//! reported by Discover.
//!
//! Attributes attach to an object, an instance, a resource or a resource
//! instance, separately for each server. The value in effect for a path is
//! inherited: resource instance over resource over instance over object,
//! and for pmin / pmax finally the Server object's Default Minimum / Maximum
//! Period (/1/x/2, /1/x/3), supplied by the caller.
//!
//! Validity rules checked on every change (4.00 when broken):
//! - pmin, pmax, epmin, epmax, hqmax are non-negative integers; gt, lt, st
//!   finite numbers; edge and con are 0 or 1;
//! - gt, lt, st only on a resource or resource instance of a numeric type,
//!   edge only on a boolean one;
//! - st ≥ 0 and, when lt and gt are both set, lt + 2·st < gt;
//! - pmin ≤ pmax and epmin < epmax when both are set on the same path.
//!
//! The store is bounded ([`crate::dm::DmLimits::max_attributes`] paths
//! across all servers): a new path beyond it is a typed [`Full`] outcome.

use alloc::vec::Vec;
use core::fmt;

use super::access::Ssid;
use super::path::{Level, Path};
use super::value::DataType;
use crate::buf::Overflow;
use crate::content::link::LinkWriter;

/// The attributes attached at one path (every field optional).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Attributes {
    /// Minimum Period, seconds.
    pub pmin: Option<u32>,
    /// Maximum Period, seconds.
    pub pmax: Option<u32>,
    /// Greater Than.
    pub gt: Option<f64>,
    /// Less Than.
    pub lt: Option<f64>,
    /// Step.
    pub st: Option<f64>,
    /// Minimum Evaluation Period, seconds.
    pub epmin: Option<u32>,
    /// Maximum Evaluation Period, seconds.
    pub epmax: Option<u32>,
    /// Edge (1.2): notify on a rising (true) or falling (false) edge of a
    /// boolean resource.
    pub edge: Option<bool>,
    /// Confirmable Notification (1.2).
    pub con: Option<bool>,
    /// Maximum Historical Queue (1.2).
    pub hqmax: Option<u32>,
}

/// Why attributes cannot be set (Write-Attributes answers 4.00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttrError {
    /// A query item names no known attribute.
    Unknown,
    /// A value that does not parse, or an attribute given twice.
    Malformed,
    /// An attribute that does not apply at this level or to this type.
    NotApplicable,
    /// The resulting set breaks a validity rule.
    Invalid,
}

impl fmt::Display for AttrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttrError::Unknown => "unknown attribute",
            AttrError::Malformed => "malformed or repeated attribute",
            AttrError::NotApplicable => "attribute not applicable to this target",
            AttrError::Invalid => "attributes break a validity rule",
        })
    }
}

/// The attribute store is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("attribute store full")
    }
}

impl Attributes {
    /// No attribute set.
    pub const EMPTY: Attributes = Attributes {
        pmin: None,
        pmax: None,
        gt: None,
        lt: None,
        st: None,
        epmin: None,
        epmax: None,
        edge: None,
        con: None,
        hqmax: None,
    };

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == Attributes::EMPTY
    }

    /// `self` (the more specific level) over `parent`: each field from
    /// `self` if set, else from `parent`.
    pub fn over(&self, parent: &Attributes) -> Attributes {
        Attributes {
            pmin: self.pmin.or(parent.pmin),
            pmax: self.pmax.or(parent.pmax),
            gt: self.gt.or(parent.gt),
            lt: self.lt.or(parent.lt),
            st: self.st.or(parent.st),
            epmin: self.epmin.or(parent.epmin),
            epmax: self.epmax.or(parent.epmax),
            edge: self.edge.or(parent.edge),
            con: self.con.or(parent.con),
            hqmax: self.hqmax.or(parent.hqmax),
        }
    }

    /// Fills pmin and pmax, where unset, from the server's defaults (Server
    /// object /1/x/2 and /1/x/3; pmin defaults to 0 when absent there).
    pub fn with_server_defaults(&self, pmin: Option<u32>, pmax: Option<u32>) -> Attributes {
        Attributes {
            pmin: self.pmin.or(pmin).or(Some(0)),
            pmax: self.pmax.or(pmax),
            ..*self
        }
    }

    /// Checks the value rules that span attributes (see the module
    /// documentation).
    pub fn check(&self) -> Result<(), AttrError> {
        if self.st.is_some_and(|st| st < 0.0) {
            return Err(AttrError::Invalid);
        }
        if let (Some(lt), Some(gt)) = (self.lt, self.gt)
            && lt + 2.0 * self.st.unwrap_or(0.0) >= gt
        {
            return Err(AttrError::Invalid);
        }
        if let (Some(a), Some(b)) = (self.pmin, self.pmax)
            && a > b
        {
            return Err(AttrError::Invalid);
        }
        if let (Some(a), Some(b)) = (self.epmin, self.epmax)
            && a >= b
        {
            return Err(AttrError::Invalid);
        }
        Ok(())
    }

    /// Writes the set attributes as link-format parameters (Discover).
    pub fn write_params(&self, lw: &mut LinkWriter<'_, '_>) -> Result<(), Overflow> {
        if let Some(v) = self.pmin {
            lw.param_uint("pmin", v.into())?;
        }
        if let Some(v) = self.pmax {
            lw.param_uint("pmax", v.into())?;
        }
        if let Some(v) = self.gt {
            lw.param_float("gt", v)?;
        }
        if let Some(v) = self.lt {
            lw.param_float("lt", v)?;
        }
        if let Some(v) = self.st {
            lw.param_float("st", v)?;
        }
        if let Some(v) = self.epmin {
            lw.param_uint("epmin", v.into())?;
        }
        if let Some(v) = self.epmax {
            lw.param_uint("epmax", v.into())?;
        }
        if let Some(v) = self.edge {
            lw.param_uint("edge", v.into())?;
        }
        if let Some(v) = self.con {
            lw.param_uint("con", v.into())?;
        }
        if let Some(v) = self.hqmax {
            lw.param_uint("hqmax", v.into())?;
        }
        Ok(())
    }
}

/// What one Write-Attributes does to a field.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
enum Change<T> {
    #[default]
    Keep,
    Set(T),
    Clear,
}

impl<T: Copy> Change<T> {
    fn apply(self, old: Option<T>) -> Option<T> {
        match self {
            Change::Keep => old,
            Change::Set(v) => Some(v),
            Change::Clear => None,
        }
    }
    fn touched(self) -> bool {
        !matches!(self, Change::Keep)
    }
}

/// The changes one Write-Attributes request asks for, parsed from its
/// Uri-Query items: `pmin=10` sets, a bare `pmin` removes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct AttrUpdate {
    pmin: Change<u32>,
    pmax: Change<u32>,
    gt: Change<f64>,
    lt: Change<f64>,
    st: Change<f64>,
    epmin: Change<u32>,
    epmax: Change<u32>,
    edge: Change<bool>,
    con: Change<bool>,
    hqmax: Change<u32>,
}

fn parse_uint(v: &str) -> Result<u32, AttrError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AttrError::Malformed);
    }
    v.parse().map_err(|_| AttrError::Malformed)
}

/// A decimal number: `-?digits(.digits)?([eE][+-]?digits)?`, finite.
fn parse_float(v: &str) -> Result<f64, AttrError> {
    let b = v.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return Err(AttrError::Malformed);
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return Err(AttrError::Malformed);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return Err(AttrError::Malformed);
        }
    }
    if i != b.len() {
        return Err(AttrError::Malformed);
    }
    let f: f64 = v.parse().map_err(|_| AttrError::Malformed)?;
    if f.is_finite() {
        Ok(f)
    } else {
        Err(AttrError::Malformed)
    }
}

fn parse_bit(v: &str) -> Result<bool, AttrError> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(AttrError::Malformed),
    }
}

fn set<T>(
    slot: &mut Change<T>,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, AttrError>,
) -> Result<(), AttrError>
where
    T: Copy,
{
    if !matches!(slot, Change::Keep) {
        return Err(AttrError::Malformed);
    }
    *slot = match value {
        None => Change::Clear,
        Some(v) => Change::Set(parse(v)?),
    };
    Ok(())
}

impl AttrUpdate {
    /// Parses Uri-Query items (one per CoAP Uri-Query option). At most one
    /// item per attribute, so the work is bounded by the number of
    /// attributes.
    pub fn parse<'q>(items: impl IntoIterator<Item = &'q [u8]>) -> Result<AttrUpdate, AttrError> {
        let mut u = AttrUpdate::default();
        for item in items {
            let item = core::str::from_utf8(item).map_err(|_| AttrError::Malformed)?;
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (item, None),
            };
            match name {
                "pmin" => set(&mut u.pmin, value, parse_uint)?,
                "pmax" => set(&mut u.pmax, value, parse_uint)?,
                "gt" => set(&mut u.gt, value, parse_float)?,
                "lt" => set(&mut u.lt, value, parse_float)?,
                "st" => set(&mut u.st, value, parse_float)?,
                "epmin" => set(&mut u.epmin, value, parse_uint)?,
                "epmax" => set(&mut u.epmax, value, parse_uint)?,
                "edge" => set(&mut u.edge, value, parse_bit)?,
                "con" => set(&mut u.con, value, parse_bit)?,
                "hqmax" => set(&mut u.hqmax, value, parse_uint)?,
                _ => return Err(AttrError::Unknown),
            }
        }
        Ok(u)
    }

    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == AttrUpdate::default()
    }

    /// Checks that every attribute named applies to a target at `level`
    /// whose resource has type `data_type` (`None` above resource level).
    pub fn check_target(&self, level: Level, data_type: Option<DataType>) -> Result<(), AttrError> {
        let resource_level = level >= Level::Resource;
        let numeric = matches!(
            data_type,
            Some(DataType::Integer | DataType::UnsignedInteger | DataType::Float)
        );
        let boolean = data_type == Some(DataType::Boolean);
        let threshold = self.gt.touched() || self.lt.touched() || self.st.touched();
        if threshold && !(resource_level && numeric) {
            return Err(AttrError::NotApplicable);
        }
        if self.edge.touched() && !(resource_level && boolean) {
            return Err(AttrError::NotApplicable);
        }
        Ok(())
    }

    /// The attributes after this update.
    pub fn apply(&self, old: &Attributes) -> Attributes {
        Attributes {
            pmin: self.pmin.apply(old.pmin),
            pmax: self.pmax.apply(old.pmax),
            gt: self.gt.apply(old.gt),
            lt: self.lt.apply(old.lt),
            st: self.st.apply(old.st),
            epmin: self.epmin.apply(old.epmin),
            epmax: self.epmax.apply(old.epmax),
            edge: self.edge.apply(old.edge),
            con: self.con.apply(old.con),
            hqmax: self.hqmax.apply(old.hqmax),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Stored {
    ssid: Ssid,
    path: Path,
    attrs: Attributes,
}

/// Attributes of every server, keyed by (Short Server ID, path); bounded.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeStore {
    entries: Vec<Stored>,
    max: usize,
}

impl AttributeStore {
    /// An empty store holding at most `max` attributed paths.
    pub fn new(max: usize) -> AttributeStore {
        AttributeStore {
            entries: Vec::new(),
            max,
        }
    }

    fn find(&self, ssid: Ssid, path: &Path) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| (e.ssid, e.path).cmp(&(ssid, *path)))
    }

    /// The attributes attached at exactly `path` for server `ssid`.
    pub fn get(&self, ssid: Ssid, path: &Path) -> Attributes {
        self.find(ssid, path)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map_or(Attributes::EMPTY, |e| e.attrs)
    }

    /// Attaches `attrs` at `path` for `ssid` (empty attributes detach).
    /// A new path beyond the bound is [`Full`]; replacing or removing never
    /// fails.
    pub fn set(&mut self, ssid: Ssid, path: &Path, attrs: Attributes) -> Result<(), Full> {
        match self.find(ssid, path) {
            Ok(i) if attrs.is_empty() => {
                self.entries.remove(i);
            }
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.attrs = attrs;
                }
            }
            Err(_) if attrs.is_empty() => {}
            Err(_) if self.entries.len() >= self.max => return Err(Full),
            Err(i) => self.entries.insert(
                i,
                Stored {
                    ssid,
                    path: *path,
                    attrs,
                },
            ),
        }
        Ok(())
    }

    /// The attributes in effect at `path` for `ssid`, inherited from the
    /// object down (without the Server object defaults: see
    /// [`Attributes::with_server_defaults`]).
    pub fn effective(&self, ssid: Ssid, path: &Path) -> Attributes {
        (1..=path.len()).fold(Attributes::EMPTY, |acc, len| {
            self.get(ssid, &path.truncated(len)).over(&acc)
        })
    }

    /// Detaches everything at or below `path`, for every server (the
    /// instance was deleted).
    pub fn remove_under(&mut self, path: &Path) {
        self.entries.retain(|e| !e.path.starts_with(path));
    }

    /// Forgets a server's attributes (its account was removed).
    pub fn remove_server(&mut self, ssid: Ssid) {
        self.entries.retain(|e| e.ssid != ssid);
    }

    /// Every attached set, by (server, path), for persistence.
    pub fn iter(&self) -> impl Iterator<Item = (Ssid, &Path, &Attributes)> + '_ {
        self.entries.iter().map(|e| (e.ssid, &e.path, &e.attrs))
    }

    /// Number of attributed paths.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is attached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::Writer;

    fn q(items: &[&str]) -> Result<AttrUpdate, AttrError> {
        AttrUpdate::parse(items.iter().map(|s| s.as_bytes()))
    }

    #[test]
    fn parse_values_and_removals() {
        let u = q(&["pmin=10", "pmax=60", "gt=50", "lt=-42.2", "st=1e1", "con=1"]).unwrap();
        let a = u.apply(&Attributes::EMPTY);
        assert_eq!(a.pmin, Some(10));
        assert_eq!(a.pmax, Some(60));
        assert_eq!(a.gt, Some(50.0));
        assert_eq!(a.lt, Some(-42.2));
        assert_eq!(a.st, Some(10.0));
        assert_eq!(a.con, Some(true));
        let cleared = q(&["pmin", "st"]).unwrap().apply(&a);
        assert_eq!(cleared.pmin, None);
        assert_eq!(cleared.st, None);
        assert_eq!(cleared.pmax, Some(60));
        assert!(q(&[]).unwrap().is_empty());
    }

    #[test]
    fn parse_rejects() {
        for bad in [
            &["pmin=-1"][..],
            &["pmin="],
            &["pmin=1.5"],
            &["pmin=99999999999"],
            &["gt=abc"],
            &["gt=inf"],
            &["gt=NaN"],
            &["gt=1e999"],
            &["gt=.5"],
            &["gt=5."],
            &["gt=+5"],
            &["edge=2"],
            &["con=true"],
            &["pmin=1", "pmin=2"],
            &["pmin=1", "pmin"],
        ] {
            assert_eq!(q(bad), Err(AttrError::Malformed), "{bad:?}");
        }
        assert_eq!(q(&["foo=1"]), Err(AttrError::Unknown));
        assert_eq!(q(&["PMIN=1"]), Err(AttrError::Unknown));
        assert_eq!(
            AttrUpdate::parse([&[0xff, b'=', b'1'][..]]),
            Err(AttrError::Malformed)
        );
    }

    #[test]
    fn target_rules() {
        let thr = q(&["gt=1"]).unwrap();
        assert_eq!(
            thr.check_target(Level::Object, None),
            Err(AttrError::NotApplicable)
        );
        assert_eq!(
            thr.check_target(Level::Instance, None),
            Err(AttrError::NotApplicable)
        );
        assert_eq!(
            thr.check_target(Level::Resource, Some(DataType::String)),
            Err(AttrError::NotApplicable)
        );
        assert_eq!(
            thr.check_target(Level::Resource, Some(DataType::Float)),
            Ok(())
        );
        assert_eq!(
            thr.check_target(Level::ResourceInstance, Some(DataType::UnsignedInteger)),
            Ok(())
        );
        let edge = q(&["edge=1"]).unwrap();
        assert_eq!(
            edge.check_target(Level::Resource, Some(DataType::Boolean)),
            Ok(())
        );
        assert_eq!(
            edge.check_target(Level::Resource, Some(DataType::Integer)),
            Err(AttrError::NotApplicable)
        );
        let p = q(&["pmin=1", "epmax=3", "hqmax=2"]).unwrap();
        assert_eq!(p.check_target(Level::Object, None), Ok(()));
        // Removing gt on an object is as inapplicable as setting it.
        assert_eq!(
            q(&["gt"]).unwrap().check_target(Level::Object, None),
            Err(AttrError::NotApplicable)
        );
    }

    #[test]
    fn validity_rules() {
        let ok = |items: &[&str]| q(items).unwrap().apply(&Attributes::EMPTY).check();
        assert_eq!(ok(&["lt=10", "gt=20", "st=4"]), Ok(()));
        // lt + 2*st must stay below gt
        assert_eq!(ok(&["lt=10", "gt=20", "st=5"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["lt=20", "gt=10"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["lt=10", "gt=10"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["st=-1"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["st=0"]), Ok(()));
        assert_eq!(ok(&["pmin=10", "pmax=10"]), Ok(()));
        assert_eq!(ok(&["pmin=11", "pmax=10"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["epmin=5", "epmax=5"]), Err(AttrError::Invalid));
        assert_eq!(ok(&["epmin=5", "epmax=6"]), Ok(()));
        assert_eq!(ok(&["gt=5"]), Ok(()));
    }

    #[test]
    fn inheritance_object_instance_resource() {
        let mut s = AttributeStore::new(8);
        let a = |items: &[&str]| q(items).unwrap().apply(&Attributes::EMPTY);
        s.set(1, &Path::object(3), a(&["pmin=10", "pmax=100"]))
            .unwrap();
        s.set(1, &Path::instance(3, 0), a(&["pmax=60"])).unwrap();
        s.set(1, &Path::resource(3, 0, 7), a(&["gt=50", "lt=42.2"]))
            .unwrap();
        s.set(1, &Path::resource_instance(3, 0, 7, 1), a(&["lt=45"]))
            .unwrap();
        s.set(2, &Path::object(3), a(&["pmin=1"])).unwrap();
        let r = s.effective(1, &Path::resource(3, 0, 7));
        assert_eq!(
            (r.pmin, r.pmax, r.gt, r.lt),
            (Some(10), Some(60), Some(50.0), Some(42.2))
        );
        let ri = s.effective(1, &Path::resource_instance(3, 0, 7, 1));
        assert_eq!((ri.pmax, ri.lt), (Some(60), Some(45.0)));
        let other = s.effective(1, &Path::resource(3, 1, 7));
        assert_eq!(
            (other.pmin, other.pmax, other.gt),
            (Some(10), Some(100), None)
        );
        assert_eq!(s.effective(2, &Path::resource(3, 0, 7)).pmin, Some(1));
        assert_eq!(s.effective(3, &Path::resource(3, 0, 7)), Attributes::EMPTY);
        let d = s
            .effective(2, &Path::resource(3, 0, 7))
            .with_server_defaults(Some(5), Some(300));
        assert_eq!((d.pmin, d.pmax), (Some(1), Some(300)));
        let d = Attributes::EMPTY.with_server_defaults(None, None);
        assert_eq!((d.pmin, d.pmax), (Some(0), None));
        s.remove_under(&Path::instance(3, 0));
        assert_eq!(s.len(), 2);
        s.remove_server(2);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn bounded_with_typed_full() {
        let mut s = AttributeStore::new(2);
        let a = Attributes {
            pmin: Some(1),
            ..Attributes::EMPTY
        };
        s.set(1, &Path::object(1), a).unwrap();
        s.set(1, &Path::object(2), a).unwrap();
        assert_eq!(s.set(1, &Path::object(3), a), Err(Full));
        // replacing and removing still work when full
        s.set(1, &Path::object(2), Attributes { pmin: Some(2), ..a })
            .unwrap();
        assert_eq!(s.get(1, &Path::object(2)).pmin, Some(2));
        s.set(1, &Path::object(1), Attributes::EMPTY).unwrap();
        s.set(1, &Path::object(3), a).unwrap();
        assert_eq!(s.iter().count(), 2);
    }

    #[test]
    fn link_params_in_fixed_order() {
        let a = q(&[
            "hqmax=3", "st=0.5", "lt=42.2", "gt=50", "pmax=60", "pmin=10", "epmin=1", "epmax=2",
            "edge=0", "con=1",
        ])
        .unwrap()
        .apply(&Attributes::EMPTY);
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        let mut lw = LinkWriter::new(&mut w);
        lw.link("/3/0/7").unwrap();
        a.write_params(&mut lw).unwrap();
        assert_eq!(
            w.written(),
            b"</3/0/7>;pmin=10;pmax=60;gt=50;lt=42.2;st=0.5;epmin=1;epmax=2;edge=0;con=1;hqmax=3"
        );
    }
}
