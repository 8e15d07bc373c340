//! CoRE Link Format (RFC 6690, content format 40) as LwM2M uses it: the
//! Register / Update object list (OMA-TS-LightweightM2M_Core 1.1 §6.2.1
//! Register), Discover responses with attributes (§6.3 Discover) and
//! Bootstrap-Discover (§6.1, with `lwm2m`, `ssid`, `uri`).
//!
//! The grammar handled (RFC 6690 §2, without the header-only forms):
//!
//! ```text
//! Link       = link-value *( "," link-value )
//! link-value = "<" URI-Reference ">" *( ";" link-param )
//! link-param = parmname [ "=" ( ptoken / quoted-string ) ]
//! ```
//!
//! Writing goes through [`LinkWriter`] into a bounded [`Writer`]. Parsing
//! ([`LinkParser`], for the server side) borrows from the payload, checks
//! one link-value per step and stops at the first error; the number of
//! links and of parameters per link are bounded by [`LinkLimits`]. For
//! LwM2M 1.0 peers the parser also accepts a first element without a
//! target (`lwm2m="1.0",</0/0>,...`, the 1.0 Bootstrap-Discover header).

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::{self, Write as _};

use crate::buf::{Overflow, Writer};
use crate::dm::Path;

/// Bounds for [`LinkParser`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkLimits {
    /// Most link-values in one payload.
    pub max_links: usize,
    /// Most parameters on one link-value.
    pub max_params: usize,
}

impl Default for LinkLimits {
    fn default() -> Self {
        LinkLimits {
            max_links: 1024,
            max_params: 16,
        }
    }
}

/// Writes link-values one after the other, separated by commas.
#[derive(Debug)]
pub struct LinkWriter<'w, 'b> {
    w: &'w mut Writer<'b>,
    links: usize,
    bare: bool,
}

fn fmt_overflow(_: fmt::Error) -> Overflow {
    Overflow
}

impl<'w, 'b> LinkWriter<'w, 'b> {
    /// A writer appending to `w`.
    pub fn new(w: &'w mut Writer<'b>) -> Self {
        LinkWriter {
            w,
            links: 0,
            bare: false,
        }
    }

    /// Link-values started so far.
    pub fn links(&self) -> usize {
        self.links
    }

    fn separator(&mut self) -> Result<(), Overflow> {
        if self.links > 0 {
            self.w.put_u8(b',')?;
        }
        self.links += 1;
        Ok(())
    }

    /// Starts a link-value `<target>`.
    pub fn link(&mut self, target: &str) -> Result<(), Overflow> {
        self.separator()?;
        self.bare = false;
        self.w.put_u8(b'<')?;
        self.w.put(target.as_bytes())?;
        self.w.put_u8(b'>')
    }

    /// Starts a link-value for an LwM2M path under `prefix` (an alternate
    /// path such as `/lwm2m`, or empty): `</3/0>`, `</lwm2m/3/0>`, `</>`.
    pub fn path_link(&mut self, prefix: &str, path: &Path) -> Result<(), Overflow> {
        self.separator()?;
        self.bare = false;
        self.w.put_u8(b'<')?;
        self.w.put(prefix.as_bytes())?;
        if !path.is_root() || prefix.is_empty() {
            write!(self.w, "{path}").map_err(fmt_overflow)?;
        }
        self.w.put_u8(b'>')
    }

    /// Starts an element without a target, for the LwM2M 1.0
    /// Bootstrap-Discover header (`lwm2m="1.0"`); its first parameter is
    /// written without the leading `;`.
    pub fn bare(&mut self) -> Result<(), Overflow> {
        self.separator()?;
        self.bare = true;
        Ok(())
    }

    fn param_name(&mut self, name: &str) -> Result<(), Overflow> {
        if !core::mem::take(&mut self.bare) {
            self.w.put_u8(b';')?;
        }
        self.w.put(name.as_bytes())
    }

    /// A parameter without a value (`;obs`).
    pub fn param_flag(&mut self, name: &str) -> Result<(), Overflow> {
        self.param_name(name)
    }

    /// `;name=123`.
    pub fn param_uint(&mut self, name: &str, v: u64) -> Result<(), Overflow> {
        self.param_name(name)?;
        write!(self.w, "={v}").map_err(fmt_overflow)
    }

    /// `;name=42.2` (shortest form that reads back as the same number).
    pub fn param_float(&mut self, name: &str, v: f64) -> Result<(), Overflow> {
        self.param_name(name)?;
        write!(self.w, "={v}").map_err(fmt_overflow)
    }

    /// `;name=token`; `v` must consist of ptoken characters (RFC 6690 §2),
    /// such as a version `1.1` or a number.
    pub fn param_token(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        debug_assert!(!v.is_empty() && v.bytes().all(is_ptoken));
        self.param_name(name)?;
        self.w.put_u8(b'=')?;
        self.w.put(v.as_bytes())
    }

    /// `;name="value"`, escaping `"` and `\` (RFC 6690 §2 quoted-string).
    pub fn param_quoted(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        self.param_name(name)?;
        self.w.put(b"=\"")?;
        for b in v.bytes() {
            if b == b'"' || b == b'\\' {
                self.w.put_u8(b'\\')?;
            }
            self.w.put_u8(b)?;
        }
        self.w.put_u8(b'"')
    }

    /// A parameter as parsed ([`Param`]), written back unchanged.
    pub fn param(&mut self, p: &Param<'_>) -> Result<(), Overflow> {
        self.param_name(p.name)?;
        match p.value {
            None => Ok(()),
            Some(ParamValue::Token(t)) => {
                self.w.put_u8(b'=')?;
                self.w.put(t.as_bytes())
            }
            Some(ParamValue::Quoted(raw)) => {
                self.w.put(b"=\"")?;
                self.w.put(raw.as_bytes())?;
                self.w.put_u8(b'"')
            }
        }
    }
}

/// `ptokenchar` (RFC 6690 §2).
fn is_ptoken(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'()*+-./:<=>?@[]^_`{|}~".contains(&b)
}

/// `parmname` (RFC 5988 / RFC 6690 §2).
fn is_parmname(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// URI-Reference characters accepted inside `<...>` (RFC 3986 unreserved,
/// reserved and `%`), i.e. visible ASCII except `<`, `>`, `"`, `\` and the
/// few RFC 3986 excludes.
fn is_uri(b: u8) -> bool {
    b.is_ascii_graphic() && !b"<>\"\\^`{|}".contains(&b)
}

/// A parameter value: a token, or a quoted string (kept escaped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamValue<'a> {
    /// An unquoted ptoken.
    Token(&'a str),
    /// The inside of a quoted-string, escapes not yet resolved.
    Quoted(&'a str),
}

impl<'a> ParamValue<'a> {
    /// The value with quoted-pair escapes resolved (borrowed when it has
    /// none).
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            ParamValue::Token(t) => Cow::Borrowed(t),
            ParamValue::Quoted(q) if !q.contains('\\') => Cow::Borrowed(q),
            ParamValue::Quoted(q) => {
                let mut out = String::with_capacity(q.len());
                let mut escaped = false;
                for c in q.chars() {
                    if escaped || c != '\\' {
                        out.push(c);
                        escaped = false;
                    } else {
                        escaped = true;
                    }
                }
                Cow::Owned(out)
            }
        }
    }
}

/// One `;name[=value]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name.
    pub name: &'a str,
    /// The value, if any.
    pub value: Option<ParamValue<'a>>,
}

/// One link-value, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link<'a> {
    /// The URI-Reference between `<` and `>`; `None` for a 1.0-style
    /// element of parameters only.
    pub target: Option<&'a str>,
    /// The parameters, as written (`;a=1;b="x"`, or `a=1` for a bare
    /// element).
    params: &'a str,
}

impl<'a> Link<'a> {
    /// The parameters in order.
    pub fn params(&self) -> Params<'a> {
        Params { rest: self.params }
    }

    /// The first parameter named `name`: `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<ParamValue<'a>>> {
        self.params().find(|p| p.name == name).map(|p| p.value)
    }

    /// The target as an LwM2M path below `root` (`""` or an alternate path
    /// such as `/lwm2m`), e.g. `</lwm2m/3/0>` → `/3/0`.
    pub fn path(&self, root: &str) -> Option<Path> {
        let t = self.target?.strip_prefix(root)?;
        if t.is_empty() {
            return Some(Path::ROOT);
        }
        if !t.starts_with('/') {
            return None;
        }
        Path::parse(t).ok()
    }
}

/// Iterator over a validated link-value's parameters.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;
    fn next(&mut self) -> Option<Param<'a>> {
        let rest: &'a str = self.rest.strip_prefix(';').unwrap_or(self.rest);
        if rest.is_empty() {
            return None;
        }
        let b = rest.as_bytes();
        let (param, used) = scan_param(b, 0).ok()?;
        let (name, value) = resolve(rest, param)?;
        self.rest = rest.get(used..).unwrap_or("");
        Some(Param { name, value })
    }
}

/// Byte ranges of one parameter inside a buffer.
struct ParamSpan {
    name: (usize, usize),
    value: Option<(bool, usize, usize)>,
}

fn resolve(s: &str, p: ParamSpan) -> Option<(&str, Option<ParamValue<'_>>)> {
    let name = s.get(p.name.0..p.name.1)?;
    let value = match p.value {
        None => None,
        Some((quoted, a, b)) => {
            let v = s.get(a..b)?;
            Some(if quoted {
                ParamValue::Quoted(v)
            } else {
                ParamValue::Token(v)
            })
        }
    };
    Some((name, value))
}

/// Scans `parmname [ "=" ( ptoken / quoted-string ) ]` at `at`; returns its
/// spans and the offset just after it, or the offset of a bad byte.
fn scan_param(b: &[u8], at: usize) -> Result<(ParamSpan, usize), usize> {
    let mut i = at;
    while b.get(i).is_some_and(|&c| is_parmname(c)) {
        i += 1;
    }
    if i == at {
        return Err(at);
    }
    let name = (at, i);
    if b.get(i) != Some(&b'=') {
        return Ok((ParamSpan { name, value: None }, i));
    }
    i += 1;
    if b.get(i) == Some(&b'"') {
        i += 1;
        let start = i;
        loop {
            match b.get(i) {
                None => return Err(i),
                Some(b'"') => break,
                Some(b'\\') => {
                    // quoted-pair: a backslash and any character but CTL.
                    match b.get(i + 1) {
                        Some(&c) if c >= 0x20 && c != 0x7f => i += 2,
                        _ => return Err(i + 1),
                    }
                }
                Some(&c) if c < 0x20 || c == 0x7f => return Err(i),
                Some(_) => i += 1,
            }
        }
        Ok((
            ParamSpan {
                name,
                value: Some((true, start, i)),
            },
            i + 1,
        ))
    } else {
        let start = i;
        while b.get(i).is_some_and(|&c| is_ptoken(c)) {
            i += 1;
        }
        if i == start {
            return Err(i);
        }
        Ok((
            ParamSpan {
                name,
                value: Some((false, start, i)),
            },
            i,
        ))
    }
}

/// Why a link-format payload was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not valid link format (byte offset of the problem).
    Malformed {
        /// Offset of the first offending byte.
        at: usize,
    },
    /// More links or parameters than [`LinkLimits`] allow.
    TooLarge,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Malformed { at } => write!(f, "malformed link format at byte {at}"),
            LinkError::TooLarge => f.write_str("link format payload exceeds limits"),
        }
    }
}

/// Parses a link-format payload link-value by link-value; after the first
/// error it yields nothing more.
#[derive(Clone, Debug)]
pub struct LinkParser<'a> {
    text: Result<&'a str, usize>,
    at: usize,
    links: usize,
    limits: LinkLimits,
    done: bool,
}

impl<'a> LinkParser<'a> {
    /// A parser over `payload` (UTF-8; anything else fails at the first
    /// step).
    pub fn new(payload: &'a [u8], limits: LinkLimits) -> LinkParser<'a> {
        LinkParser {
            text: core::str::from_utf8(payload).map_err(|e| e.valid_up_to()),
            at: 0,
            links: 0,
            limits,
            done: payload.is_empty(),
        }
    }

    fn step(&mut self, s: &'a str) -> Result<Link<'a>, LinkError> {
        let b = s.as_bytes();
        let bad = |at| LinkError::Malformed { at };
        let start = self.at;
        let mut i = start;
        self.links += 1;
        if self.links > self.limits.max_links {
            return Err(LinkError::TooLarge);
        }
        let target = if b.get(i) == Some(&b'<') {
            let t0 = i + 1;
            i = t0;
            while b.get(i).is_some_and(|&c| is_uri(c)) {
                i += 1;
            }
            if b.get(i) != Some(&b'>') {
                return Err(bad(i));
            }
            i += 1;
            Some(s.get(t0..i - 1).ok_or(bad(t0))?)
        } else if start == 0 {
            None
        } else {
            return Err(bad(i));
        };
        let p0 = i;
        let mut params = 0;
        loop {
            match (b.get(i), target.is_none() && params == 0) {
                (None | Some(b','), _) if target.is_some() || params > 0 => break,
                (Some(b';'), false) => i += 1,
                (Some(_), true) => {}
                (_, _) => return Err(bad(i)),
            }
            params += 1;
            if params > self.limits.max_params {
                return Err(LinkError::TooLarge);
            }
            let (_, next) = scan_param(b, i).map_err(bad)?;
            i = next;
        }
        let params = s.get(p0..i).ok_or(bad(p0))?;
        match b.get(i) {
            None => self.done = true,
            Some(_) if i + 1 == b.len() => return Err(bad(i)),
            Some(_) => i += 1,
        }
        self.at = i;
        Ok(Link { target, params })
    }
}

impl<'a> Iterator for LinkParser<'a> {
    type Item = Result<Link<'a>, LinkError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let s = match self.text {
            Ok(s) => s,
            Err(at) => {
                self.done = true;
                return Some(Err(LinkError::Malformed { at }));
            }
        };
        let r = self.step(s);
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn parse(s: &str) -> Result<Vec<Link<'_>>, LinkError> {
        LinkParser::new(s.as_bytes(), LinkLimits::default()).collect()
    }

    /// Re-emits parsed links through the writer.
    fn reemit(links: &[Link<'_>]) -> alloc::string::String {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        let mut lw = LinkWriter::new(&mut w);
        for l in links {
            match l.target {
                Some(t) => lw.link(t).unwrap(),
                None => lw.bare().unwrap(),
            }
            for p in l.params() {
                lw.param(&p).unwrap();
            }
        }
        alloc::string::String::from_utf8(w.written().to_vec()).unwrap()
    }

    #[test]
    fn rfc6690_section5_examples() {
        // RFC 6690 §5 (line breaks in the RFC are for readability only).
        for s in [
            r#"</sensors/temp>;if="sensor",</sensors/light>;if="sensor""#,
            r#"</sensors>;ct=40"#,
            r#"</sensors/temp>;rt="temperature-c";if="sensor",</sensors/light>;rt="light-lux";if="sensor""#,
            r#"<http://www.example.com/sensors/t123>;anchor="/sensors/temp";rel="describedby",</t>;anchor="/sensors/temp";rel="alternate""#,
            r#"</firmware/v2.1>;rt="firmware";sz=262144"#,
        ] {
            let links = parse(s).unwrap();
            assert_eq!(reemit(&links), s);
        }
        let links = parse(r#"</sensors/temp>;rt="temperature-c";if="sensor""#).unwrap();
        assert_eq!(links[0].target, Some("/sensors/temp"));
        assert_eq!(
            links[0].param("rt"),
            Some(Some(ParamValue::Quoted("temperature-c")))
        );
        assert_eq!(links[0].param("obs"), None);
        let fw = parse(r#"</firmware/v2.1>;rt="firmware";sz=262144"#).unwrap();
        assert_eq!(fw[0].param("sz"), Some(Some(ParamValue::Token("262144"))));
    }

    #[test]
    fn lwm2m_register_payload() {
        // After the Register example of Core 1.1 §6.2.1: root link with rt
        // and ct, then objects and instances; an object without instances
        // as `</5>`.
        let s = r#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</1/1>,</2/0>,</2/1>,</2/2>,</2/3>,</2/4>,</3/0>,</4/0>,</5>"#;
        let links = parse(s).unwrap();
        assert_eq!(links.len(), 11);
        assert_eq!(links[0].path(""), Some(Path::ROOT));
        assert_eq!(links[0].param("rt").unwrap().unwrap().text(), "oma.lwm2m");
        assert_eq!(links[0].param("ct"), Some(Some(ParamValue::Token("11543"))));
        assert_eq!(links[1].path(""), Some(Path::instance(1, 0)));
        assert_eq!(links[10].path(""), Some(Path::object(5)));
        assert_eq!(reemit(&links), s);
        // With an alternate path and an object version.
        let s = r#"</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3>;ver=1.1,</lwm2m/3/0>"#;
        let links = parse(s).unwrap();
        assert_eq!(links[0].path("/lwm2m"), Some(Path::ROOT));
        assert_eq!(links[2].path("/lwm2m"), Some(Path::object(3)));
        assert_eq!(links[2].param("ver"), Some(Some(ParamValue::Token("1.1"))));
        assert_eq!(links[3].path(""), None);
    }

    #[test]
    fn lwm2m_discover_and_bootstrap_discover() {
        // Shaped after the Discover examples of Core 1.1 §6.3: an instance
        // with attributes and dim.
        let s = "</3/0>;pmax=60,</3/0/1>,</3/0/6>;dim=2,</3/0/7>;dim=2;gt=50;lt=42.2";
        let links = parse(s).unwrap();
        assert_eq!(links[3].param("lt"), Some(Some(ParamValue::Token("42.2"))));
        assert_eq!(reemit(&links), s);
        // After the Bootstrap-Discover examples (Core 1.1 §6.1): the 1.0
        // header form and the 1.1 form.
        let s = r#"lwm2m="1.0",</0/0>;ssid=101,</1/0>;ssid=101,</3/0>"#;
        let links = parse(s).unwrap();
        assert_eq!(links[0].target, None);
        assert_eq!(links[0].param("lwm2m").unwrap().unwrap().text(), "1.0");
        assert_eq!(reemit(&links), s);
        let s =
            r#"</>;lwm2m=1.1,</0/1>;ssid=101;uri="coaps://server_1.example.com",</1/0>;ssid=101"#;
        let links = parse(s).unwrap();
        assert_eq!(
            links[1].param("uri").unwrap().unwrap().text(),
            "coaps://server_1.example.com"
        );
        assert_eq!(reemit(&links), s);
    }

    #[test]
    fn quoted_strings_escape_and_unescape() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let mut lw = LinkWriter::new(&mut w);
        lw.path_link("", &Path::instance(0, 1)).unwrap();
        lw.param_quoted("uri", r#"a"b\c,d;e"#).unwrap();
        lw.param_flag("obs").unwrap();
        lw.path_link("/alt", &Path::ROOT).unwrap();
        lw.param_token("ver", "1.1").unwrap();
        assert_eq!(lw.links(), 2);
        let out = w.written();
        assert_eq!(out, br#"</0/1>;uri="a\"b\\c,d;e";obs,</alt>;ver=1.1"#);
        let links: Vec<_> = LinkParser::new(out, LinkLimits::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            links[0].param("uri").unwrap().unwrap().text(),
            r#"a"b\c,d;e"#
        );
        assert_eq!(links[0].param("obs"), Some(None));
    }

    #[test]
    fn rejects_and_bounds() {
        for (s, at) in [
            ("<", 1),
            ("</3", 3),
            ("</3>,", 4),
            ("</3>;", 5),
            ("</3>;=1", 5),
            ("</3>;a=", 7),
            (r#"</3>;a="x"#, 9),
            ("</3> ", 4),
            ("</3>,x", 5),
            ("</3>x", 4),
            ("</a b>", 3),
            (";a=1", 0),
            ("a=1;", 4),
            (r#"</3>;a="\"#, 9),
        ] {
            let r: Result<Vec<_>, _> = parse(s);
            assert_eq!(r, Err(LinkError::Malformed { at }), "{s:?}");
        }
        assert_eq!(
            LinkParser::new(&[b'<', 0xff, b'>'], LinkLimits::default()).next(),
            Some(Err(LinkError::Malformed { at: 1 }))
        );
        assert_eq!(parse(""), Ok(Vec::new()));
        let lim = LinkLimits {
            max_links: 2,
            max_params: 1,
        };
        let r: Result<Vec<_>, _> = LinkParser::new(b"</1>,</2>,</3>", lim).collect();
        assert_eq!(r, Err(LinkError::TooLarge));
        let r: Result<Vec<_>, _> = LinkParser::new(b"</1>;a;b", lim).collect();
        assert_eq!(r, Err(LinkError::TooLarge));
        // Nothing after the first error.
        let mut p = LinkParser::new(b"</1>,x,</2>", LinkLimits::default());
        assert!(p.next().unwrap().is_ok());
        assert!(p.next().unwrap().is_err());
        assert!(p.next().is_none());
    }

    #[test]
    fn writer_overflow_is_reported() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        let mut lw = LinkWriter::new(&mut w);
        lw.link("/3").unwrap();
        assert_eq!(lw.param_uint("pmin", 10), Err(Overflow));
    }
}
