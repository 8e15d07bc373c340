//! What a Register / Update request says, checked (OMA-TS-LightweightM2M_Core
//! 1.1 §6.2.1 Register, §6.2.2 Update; Transport 1.1 §6.4 for the CoAP
//! mapping `POST /rd?ep=..&lt=..&lwm2m=..&b=..&sms=..&Q` with a link-format
//! payload). Pure functions: query items and payload in, typed values out.

use std::fmt;

use lwm2m_core::dm::Path;

use super::link::{self, Link, LinkError};

/// The default lifetime when `lt` is absent (Core 1.1 §6.2.1: 86400 s).
pub const DEFAULT_LIFETIME: u32 = 86_400;

/// The LwM2M enabler version a client registers with (`lwm2m=`; absent
/// means 1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// 1.0.
    V1_0,
    /// 1.1.
    V1_1,
    /// 1.2.
    V1_2,
}

impl Version {
    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a query was refused. Each is 4.00 Bad Request on the wire, except
/// [`QueryError::UnsupportedVersion`], which is 4.12 Precondition Failed
/// (Core 1.1 §6.2.1: the server does not support the client's version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// A mandatory parameter is missing.
    Missing(&'static str),
    /// A parameter has a value outside its grammar.
    Invalid(&'static str),
    /// A parameter given twice.
    Duplicate(&'static str),
    /// A parameter this operation does not define.
    Unknown(String),
    /// A well-formed `lwm2m=` we do not speak (major version other than 1).
    UnsupportedVersion(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Missing(p) => write!(f, "missing parameter {p}"),
            QueryError::Invalid(p) => write!(f, "invalid value of {p}"),
            QueryError::Duplicate(p) => write!(f, "parameter {p} given twice"),
            QueryError::Unknown(p) => write!(f, "unknown parameter {p:?}"),
            QueryError::UnsupportedVersion(v) => write!(f, "unsupported LwM2M version {v:?}"),
        }
    }
}

/// Register parameters (Core 1.1 §6.2.1 table "Register" parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterQuery {
    /// `ep`: the Endpoint Client Name.
    pub endpoint: String,
    /// `lt`, or [`DEFAULT_LIFETIME`].
    pub lifetime: u32,
    /// `lwm2m`, or 1.0.
    pub version: Version,
    /// `b`, or `U`, without a 1.0-style `Q`.
    pub binding: String,
    /// Queue mode: `Q` (1.1) or a `Q` inside `b` (1.0, `b=UQ`).
    pub queue: bool,
    /// `sms`: the MSISDN.
    pub sms: Option<String>,
}

/// Update parameters (Core 1.1 §6.2.2): each present only if it changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateQuery {
    /// `lt`.
    pub lifetime: Option<u32>,
    /// `b` without a 1.0-style `Q`.
    pub binding: Option<String>,
    /// Queue mode, if `b` (1.0) or `Q` says.
    pub queue: Option<bool>,
    /// `sms`.
    pub sms: Option<String>,
}

/// Bounds applied while parsing.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    /// Longest endpoint name in bytes.
    pub max_endpoint_len: usize,
    /// Whether a parameter the operation does not define is refused (the
    /// 1.0 response-code table lists 4.00 for an unknown parameter).
    pub strict: bool,
}

fn split(item: &[u8]) -> Result<(&str, Option<&str>), QueryError> {
    let s = std::str::from_utf8(item).map_err(|_| QueryError::Invalid("query"))?;
    Ok(match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    })
}

fn set<T>(slot: &mut Option<T>, name: &'static str, v: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError::Duplicate(name));
    }
    *slot = Some(v);
    Ok(())
}

fn lifetime(v: Option<&str>) -> Result<u32, QueryError> {
    // An unsigned number of seconds; 0 would expire at once and is not a
    // lifetime a client can keep (Core 1.1 Appendix E.2: lifetime in s).
    let v = v.ok_or(QueryError::Invalid("lt"))?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::Invalid("lt"));
    }
    match v.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(QueryError::Invalid("lt")),
    }
}

/// Parses `lwm2m=`: `1.0`, `1.1`, `1.2` are spoken; another well-formed
/// `major.minor` is [`QueryError::UnsupportedVersion`].
fn version(v: Option<&str>) -> Result<Version, QueryError> {
    let v = v.ok_or(QueryError::Invalid("lwm2m"))?;
    let ok = v
        .split_once('.')
        .is_some_and(|(a, b)| digits(a) && digits(b));
    if !ok {
        return Err(QueryError::Invalid("lwm2m"));
    }
    match v {
        "1.0" => Ok(Version::V1_0),
        "1.1" => Ok(Version::V1_1),
        "1.2" => Ok(Version::V1_2),
        other => Err(QueryError::UnsupportedVersion(other.to_string())),
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `b=`: the transport letters (1.1 §6.2.1: U, M, H, T, S, N;
/// 1.0: U, S with an optional Q after each), each at most once. Returns the
/// letters without Q and whether Q was present.
fn binding(v: Option<&str>) -> Result<(String, bool), QueryError> {
    let v = v.ok_or(QueryError::Invalid("b"))?;
    let mut letters = String::new();
    let mut queue = false;
    for c in v.chars() {
        match c {
            'U' | 'M' | 'H' | 'T' | 'S' | 'N' if !letters.contains(c) => letters.push(c),
            'Q' if !queue && !letters.is_empty() => queue = true,
            _ => return Err(QueryError::Invalid("b")),
        }
    }
    if letters.is_empty() {
        return Err(QueryError::Invalid("b"));
    }
    Ok((letters, queue))
}

fn sms(v: Option<&str>) -> Result<String, QueryError> {
    let v = v.ok_or(QueryError::Invalid("sms"))?;
    // An MSISDN: digits, optionally with a leading '+'.
    let d = v.strip_prefix('+').unwrap_or(v);
    if d.is_empty() || d.len() > 20 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::Invalid("sms"));
    }
    Ok(v.to_string())
}

fn endpoint(v: Option<&str>, max: usize) -> Result<String, QueryError> {
    let v = v.ok_or(QueryError::Invalid("ep"))?;
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(QueryError::Invalid("ep"));
    }
    Ok(v.to_string())
}

fn unknown(k: &str, strict: bool) -> Result<(), QueryError> {
    if strict {
        Err(QueryError::Unknown(k.chars().take(32).collect()))
    } else {
        Ok(())
    }
}

/// Parses the Uri-Query items of a Register.
pub fn parse_register<'a>(
    items: impl IntoIterator<Item = &'a [u8]>,
    limits: QueryLimits,
) -> Result<RegisterQuery, QueryError> {
    let (mut ep, mut lt, mut ver, mut b, mut q, mut msisdn) = (None, None, None, None, None, None);
    for item in items {
        let (k, v) = split(item)?;
        match k {
            "ep" => set(&mut ep, "ep", endpoint(v, limits.max_endpoint_len)?)?,
            "lt" => set(&mut lt, "lt", lifetime(v)?)?,
            "lwm2m" => set(&mut ver, "lwm2m", version(v)?)?,
            "b" => set(&mut b, "b", binding(v)?)?,
            "sms" => set(&mut msisdn, "sms", sms(v)?)?,
            // Core 1.1 §6.2.1: "Q" is a flag without a value.
            "Q" if v.is_none() => set(&mut q, "Q", ())?,
            "Q" => return Err(QueryError::Invalid("Q")),
            other => unknown(other, limits.strict)?,
        }
    }
    let endpoint = ep.ok_or(QueryError::Missing("ep"))?;
    let version = ver.unwrap_or(Version::V1_0);
    let (binding, q_in_b) = b.unwrap_or_else(|| ("U".to_string(), false));
    Ok(RegisterQuery {
        endpoint,
        lifetime: lt.unwrap_or(DEFAULT_LIFETIME),
        version,
        binding,
        queue: q.is_some() || q_in_b,
        sms: msisdn,
    })
}

/// Parses the Uri-Query items of an Update.
pub fn parse_update<'a>(
    items: impl IntoIterator<Item = &'a [u8]>,
    limits: QueryLimits,
) -> Result<UpdateQuery, QueryError> {
    let mut u = UpdateQuery::default();
    let mut b = None;
    let mut q = None;
    for item in items {
        let (k, v) = split(item)?;
        match k {
            "lt" => set(&mut u.lifetime, "lt", lifetime(v)?)?,
            "b" => set(&mut b, "b", binding(v)?)?,
            "sms" => set(&mut u.sms, "sms", sms(v)?)?,
            "Q" if v.is_none() => set(&mut q, "Q", ())?,
            "Q" => return Err(QueryError::Invalid("Q")),
            other => unknown(other, limits.strict)?,
        }
    }
    if let Some((letters, q_in_b)) = b {
        u.binding = Some(letters);
        u.queue = Some(q_in_b || q.is_some());
    } else if q.is_some() {
        u.queue = Some(true);
    }
    Ok(u)
}

/// One object or object instance a client announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectLink {
    /// `/o` or `/o/i`.
    pub path: Path,
    /// `ver=`, the object's version, when given.
    pub version: Option<String>,
}

/// The object list of a Register / Update payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectList {
    /// The alternate path root (`/lwm2m`), or empty for `/` (Core 1.1
    /// §6.2.1: the link with `rt="oma.lwm2m"`).
    pub root: String,
    /// Content formats the client announced with `ct=` on that link.
    pub formats: Vec<u16>,
    /// Objects and instances, in payload order.
    pub objects: Vec<ObjectLink>,
}

impl ObjectList {
    /// The instances of object `oid` the client announced.
    pub fn instances(&self, oid: u16) -> impl Iterator<Item = u16> + '_ {
        self.objects
            .iter()
            .filter(move |o| o.path.oid() == Some(oid))
            .filter_map(|o| o.path.iid())
    }

    /// Whether object `oid` was announced (with or without instances).
    pub fn has_object(&self, oid: u16) -> bool {
        self.objects.iter().any(|o| o.path.oid() == Some(oid))
    }

    /// The payload form (`</1/0>,</3/0>;ver=1.1`), for display.
    pub fn to_link_format(&self) -> String {
        let mut out = String::new();
        if !self.root.is_empty() || !self.formats.is_empty() {
            let root = if self.root.is_empty() {
                "/"
            } else {
                &self.root
            };
            out.push_str(&format!("<{root}>;rt=\"oma.lwm2m\""));
            if !self.formats.is_empty() {
                let cts: Vec<String> = self.formats.iter().map(u16::to_string).collect();
                out.push_str(&format!(";ct=\"{}\"", cts.join(" ")));
            }
        }
        for o in &self.objects {
            if !out.is_empty() {
                out.push(',');
            }
            let ids: Vec<String> = o.path.ids().iter().map(u16::to_string).collect();
            out.push_str(&format!("<{}/{}>", self.root, ids.join("/")));
            if let Some(v) = &o.version {
                out.push_str(&format!(";ver={v}"));
            }
        }
        out
    }
}

/// Why an object list was refused (4.00).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectListError {
    /// Not link format.
    Link(LinkError),
    /// A target that is not `/o` or `/o/i` below the root (offset: link index).
    BadTarget(usize),
    /// A `ct=` that is not a list of format numbers.
    BadContentFormat,
}

impl fmt::Display for ObjectListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectListError::Link(e) => write!(f, "{e}"),
            ObjectListError::BadTarget(i) => write!(f, "link {i} is not an object or instance"),
            ObjectListError::BadContentFormat => f.write_str("invalid ct attribute"),
        }
    }
}

/// Parses the object list, at most `max_links` links.
pub fn parse_objects(payload: &[u8], max_links: usize) -> Result<ObjectList, ObjectListError> {
    let links = link::parse(payload, max_links, 16).map_err(ObjectListError::Link)?;
    let mut list = ObjectList::default();
    let root_link = links
        .iter()
        .position(|l| l.param("rt").flatten() == Some("oma.lwm2m"));
    if let Some(i) = root_link
        && let Some(l) = links.get(i)
    {
        list.root = l.target.trim_end_matches('/').to_string();
        if let Some(ct) = l.param("ct") {
            list.formats = parse_ct(ct)?;
        }
    }
    for (i, l) in links.iter().enumerate() {
        if Some(i) == root_link {
            continue;
        }
        list.objects
            .push(object_link(l, &list.root).ok_or(ObjectListError::BadTarget(i))?);
    }
    Ok(list)
}

fn parse_ct(ct: Option<&str>) -> Result<Vec<u16>, ObjectListError> {
    let ct = ct.ok_or(ObjectListError::BadContentFormat)?;
    let mut out = Vec::new();
    for n in ct.split(' ').filter(|s| !s.is_empty()) {
        out.push(n.parse().map_err(|_| ObjectListError::BadContentFormat)?);
        if out.len() > 16 {
            return Err(ObjectListError::BadContentFormat);
        }
    }
    Ok(out)
}

fn object_link(l: &Link, root: &str) -> Option<ObjectLink> {
    let rest = l.target.strip_prefix(root)?;
    if !rest.starts_with('/') {
        return None;
    }
    let path = Path::parse(rest).ok()?;
    if !(1..=2).contains(&path.len()) {
        return None;
    }
    Some(ObjectLink {
        path,
        version: l.param("ver").flatten().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: QueryLimits = QueryLimits {
        max_endpoint_len: 64,
        strict: true,
    };

    fn q(s: &str) -> Vec<&[u8]> {
        s.split('&')
            .filter(|p| !p.is_empty())
            .map(str::as_bytes)
            .collect()
    }

    #[test]
    fn register_query_defaults_and_values() {
        let r = parse_register(q("ep=dev1"), L).unwrap();
        assert_eq!(
            (r.lifetime, r.version, r.binding.as_str(), r.queue),
            (86_400, Version::V1_0, "U", false)
        );
        let r = parse_register(q("ep=dev1&lt=60&lwm2m=1.1&b=U&Q&sms=+4912345"), L).unwrap();
        assert_eq!(r.endpoint, "dev1");
        assert_eq!((r.lifetime, r.version, r.queue), (60, Version::V1_1, true));
        assert_eq!(r.sms.as_deref(), Some("+4912345"));
        // LwM2M 1.0 carries queue mode inside the binding.
        let r = parse_register(q("ep=d&b=UQ"), L).unwrap();
        assert_eq!((r.binding.as_str(), r.queue), ("U", true));
    }

    #[test]
    fn register_query_errors() {
        let e = |s| parse_register(q(s), L).unwrap_err();
        assert_eq!(e("lt=60"), QueryError::Missing("ep"));
        assert_eq!(e("ep="), QueryError::Invalid("ep"));
        assert_eq!(e("ep"), QueryError::Invalid("ep"));
        assert_eq!(e("ep=a&lt=x"), QueryError::Invalid("lt"));
        assert_eq!(e("ep=a&lt=0"), QueryError::Invalid("lt"));
        assert_eq!(e("ep=a&lt=99999999999"), QueryError::Invalid("lt"));
        assert_eq!(e("ep=a&lt=-1"), QueryError::Invalid("lt"));
        assert_eq!(e("ep=a&b=X"), QueryError::Invalid("b"));
        assert_eq!(e("ep=a&b=UU"), QueryError::Invalid("b"));
        assert_eq!(e("ep=a&b=QU"), QueryError::Invalid("b"));
        assert_eq!(e("ep=a&lwm2m=one"), QueryError::Invalid("lwm2m"));
        assert_eq!(
            e("ep=a&lwm2m=2.0"),
            QueryError::UnsupportedVersion("2.0".into())
        );
        assert_eq!(e("ep=a&ep=b"), QueryError::Duplicate("ep"));
        assert_eq!(e("ep=a&zz=1"), QueryError::Unknown("zz".into()));
        assert_eq!(e("ep=a&Q=1"), QueryError::Invalid("Q"));
        assert_eq!(e("ep=a&sms=12a"), QueryError::Invalid("sms"));
        assert!(parse_register([&b"ep=\xff"[..]], L).is_err());
        let lenient = QueryLimits { strict: false, ..L };
        assert!(parse_register(q("ep=a&zz=1"), lenient).is_ok());
    }

    #[test]
    fn update_query() {
        assert_eq!(parse_update(q(""), L).unwrap(), UpdateQuery::default());
        let u = parse_update(q("lt=30&b=UQ"), L).unwrap();
        assert_eq!(u.lifetime, Some(30));
        assert_eq!(u.binding.as_deref(), Some("U"));
        assert_eq!(u.queue, Some(true));
        assert_eq!(parse_update(q("Q"), L).unwrap().queue, Some(true));
        assert!(parse_update(q("ep=x"), L).is_err());
    }

    #[test]
    fn object_list_with_root_and_versions() {
        let l = parse_objects(
            br#"</lwm2m>;rt="oma.lwm2m";ct="60 110",</lwm2m/1/0>,</lwm2m/3>;ver=1.1,</lwm2m/3/0>"#,
            16,
        )
        .unwrap();
        assert_eq!(l.root, "/lwm2m");
        assert_eq!(l.formats, vec![60, 110]);
        assert_eq!(l.objects.len(), 3);
        assert_eq!(l.objects[1].version.as_deref(), Some("1.1"));
        assert_eq!(l.instances(3).collect::<Vec<_>>(), vec![0]);
        assert!(l.has_object(1));
        let plain = parse_objects(b"</1/0>,</3/0>,</5>", 16).unwrap();
        assert_eq!(plain.root, "");
        assert_eq!(plain.to_link_format(), "</1/0>,</3/0>,</5>");
        assert!(parse_objects(b"</1/0/1>", 16).is_err());
        assert!(parse_objects(b"</x/0>", 16).is_err());
        assert!(parse_objects(b"</1/65535>", 16).is_err());
        assert!(parse_objects(br#"</>;rt="oma.lwm2m";ct=abc"#, 16).is_err());
        assert!(matches!(
            parse_objects(b"</1>,</2>", 1),
            Err(ObjectListError::Link(LinkError::TooLarge))
        ));
    }
}
