//! CoRE Link Format (RFC 6690 §2) as the server reads it: the object list of
//! a Register / Update payload (OMA-TS-LightweightM2M_Core 1.1 §6.2.1) and
//! Discover / Bootstrap-Discover answers (§6.3, §6.1).
//!
//! A small owned parser until `lwm2m_core::content::link` lands on `main`;
//! then [`parse`] becomes a thin conversion from its `LinkParser` and the
//! rest of the server keeps using [`Link`].

use std::fmt;

/// One link-value: `<target>;name=value;flag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The URI-Reference between `<` and `>` (empty for a LwM2M 1.0
    /// Bootstrap-Discover header element without a target).
    pub target: String,
    /// The parameters in order; a flag has no value. Quoted values are
    /// unquoted and unescaped.
    pub params: Vec<(String, Option<String>)>,
}

impl Link {
    /// The value of the first parameter `name`: `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.target)?;
        for (n, v) in &self.params {
            match v {
                None => write!(f, ";{n}")?,
                Some(v) if v.bytes().all(is_ptoken) && !v.is_empty() => write!(f, ";{n}={v}")?,
                Some(v) => write!(
                    f,
                    ";{n}=\"{}\"",
                    v.replace('\\', "\\\\").replace('"', "\\\"")
                )?,
            }
        }
        Ok(())
    }
}

/// Why a link-format payload was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not link format; the byte offset of the problem.
    Malformed {
        /// Offset of the first offending byte.
        at: usize,
    },
    /// More links or parameters than allowed.
    TooLarge,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Malformed { at } => write!(f, "malformed link format at byte {at}"),
            LinkError::TooLarge => f.write_str("too many links or parameters"),
        }
    }
}

impl std::error::Error for LinkError {}

fn is_parmname(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

fn is_ptoken(b: u8) -> bool {
    b.is_ascii_graphic() && !b"\",;\\".contains(&b)
}

fn is_uri(b: u8) -> bool {
    b.is_ascii_graphic() && !b"<>\"\\^`{|}".contains(&b)
}

/// Parses a whole payload: at most `max_links` links of at most
/// `max_params` parameters each. Whitespace after a comma is tolerated
/// (some clients pretty-print). An empty payload is an empty list.
pub fn parse(payload: &[u8], max_links: usize, max_params: usize) -> Result<Vec<Link>, LinkError> {
    let text = std::str::from_utf8(payload).map_err(|e| LinkError::Malformed {
        at: e.valid_up_to(),
    })?;
    let b = text.as_bytes();
    let bad = |at| LinkError::Malformed { at };
    let mut links = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if links.len() >= max_links {
            return Err(LinkError::TooLarge);
        }
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        let mut link = Link {
            target: String::new(),
            params: Vec::new(),
        };
        if b.get(i) == Some(&b'<') {
            let t0 = i + 1;
            i = t0;
            while b.get(i).is_some_and(|&c| is_uri(c)) {
                i += 1;
            }
            if b.get(i) != Some(&b'>') {
                return Err(bad(i));
            }
            link.target = text.get(t0..i).ok_or(bad(t0))?.to_string();
            i += 1;
        } else if !links.is_empty() {
            return Err(bad(i));
        }
        // A 1.0 Bootstrap-Discover header (`lwm2m="1.0",</0/0>...`) is an
        // element of parameters only, allowed first.
        let bare = link.target.is_empty();
        let mut first = true;
        loop {
            match b.get(i) {
                None | Some(b',') if !(bare && first) => break,
                Some(b';') => i += 1,
                Some(_) if bare && first => {}
                _ => return Err(bad(i)),
            }
            first = false;
            if link.params.len() >= max_params {
                return Err(LinkError::TooLarge);
            }
            let (param, next) = scan_param(text, i)?;
            link.params.push(param);
            i = next;
        }
        links.push(link);
        if b.get(i) == Some(&b',') {
            i += 1;
            if i >= b.len() {
                return Err(bad(i));
            }
        }
    }
    Ok(links)
}

type Param = (String, Option<String>);

fn scan_param(text: &str, at: usize) -> Result<(Param, usize), LinkError> {
    let b = text.as_bytes();
    let bad = |at| LinkError::Malformed { at };
    let mut i = at;
    while b.get(i).is_some_and(|&c| is_parmname(c)) {
        i += 1;
    }
    if i == at {
        return Err(bad(at));
    }
    let name = text.get(at..i).ok_or(bad(at))?.to_string();
    if b.get(i) != Some(&b'=') {
        return Ok(((name, None), i));
    }
    i += 1;
    if b.get(i) == Some(&b'"') {
        i += 1;
        let mut value = String::new();
        loop {
            let c = *b.get(i).ok_or(bad(i))?;
            match c {
                b'"' => break,
                b'\\' => {
                    let n = *b.get(i + 1).ok_or(bad(i + 1))?;
                    if n < 0x20 || n == 0x7f {
                        return Err(bad(i + 1));
                    }
                    // Multi-byte UTF-8 after a backslash: take the char.
                    let ch = text
                        .get(i + 1..)
                        .and_then(|s| s.chars().next())
                        .ok_or(bad(i))?;
                    value.push(ch);
                    i += 1 + ch.len_utf8();
                }
                c if c < 0x20 || c == 0x7f => return Err(bad(i)),
                _ => {
                    let ch = text.get(i..).and_then(|s| s.chars().next()).ok_or(bad(i))?;
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        Ok(((name, Some(value)), i + 1))
    } else {
        let start = i;
        while b.get(i).is_some_and(|&c| is_ptoken(c)) {
            i += 1;
        }
        if i == start {
            return Err(bad(i));
        }
        Ok((
            (
                name,
                Some(text.get(start..i).ok_or(bad(start))?.to_string()),
            ),
            i,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_payload_of_the_ts_example() {
        // Core 1.1 §6.2.1 example shape: alternate root with rt and ct, then
        // objects and instances, one with a version.
        let p = br#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3>;ver=1.1,</3/0>,</5>"#;
        let links = parse(p, 16, 4).unwrap();
        assert_eq!(links.len(), 5);
        assert_eq!(links[0].target, "/");
        assert_eq!(links[0].param("rt"), Some(Some("oma.lwm2m")));
        assert_eq!(links[0].param("ct"), Some(Some("11543")));
        assert_eq!(links[2].param("ver"), Some(Some("1.1")));
        assert_eq!(links[4].target, "/5");
        assert_eq!(links[4].param("ver"), None);
    }

    #[test]
    fn discover_answer_with_flags_and_quotes() {
        let p = br#"</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/7>;dim=2,</1>;x;q="a\"b,c""#;
        let links = parse(p, 16, 4).unwrap();
        assert_eq!(links.len(), 4);
        assert_eq!(links[0].param("pmax"), Some(Some("60")));
        assert_eq!(links[3].param("x"), Some(None));
        assert_eq!(links[3].param("q"), Some(Some("a\"b,c")));
        assert_eq!(links[3].to_string(), r#"</1>;x;q="a\"b,c""#);
    }

    #[test]
    fn lwm2m_1_0_bootstrap_discover_header() {
        let links = parse(br#"lwm2m="1.0",</0/0>;ssid=1"#, 4, 4).unwrap();
        assert_eq!(links[0].target, "");
        assert_eq!(links[0].param("lwm2m"), Some(Some("1.0")));
        assert_eq!(links[1].param("ssid"), Some(Some("1")));
    }

    #[test]
    fn rejects_garbage_and_bounds() {
        for bad in [
            &b"<1/0"[..],
            b"</1/0>,",
            b"</1/0>;",
            b"</1/0>x",
            b"</1/0>,abc",
            b"</a>;n=\"open",
            b"\xff",
            b"</1/0>;=3",
        ] {
            assert!(
                parse(bad, 8, 8).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse(b"</1>,</2>,</3>", 2, 8), Err(LinkError::TooLarge));
        assert_eq!(parse(b"</1>;a;b;c", 8, 2), Err(LinkError::TooLarge));
        assert_eq!(parse(b"", 8, 8), Ok(vec![]));
        assert_eq!(parse(b"</1>, </2>", 8, 8).unwrap().len(), 2);
    }
}
