//! CoRE Link Format (RFC 6690 §2) as the server reads it: the object list of
//! a Register / Update payload (OMA-TS-LightweightM2M_Core 1.1 §6.2.1) and
//! Discover / Bootstrap-Discover answers (§6.3, §6.1).
//!
//! Parsing is `lwm2m_core::content::link::LinkParser`'s (bounded, one
//! link-value per step); this module turns its borrowed links into owned
//! ones the server keeps in registrations and events.

use std::fmt;

use lwm2m_core::content::link::{self as core_link, LinkLimits, LinkParser};

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

fn is_ptoken(b: u8) -> bool {
    b.is_ascii_graphic() && !b"\",;\\".contains(&b)
}

impl From<core_link::LinkError> for LinkError {
    fn from(e: core_link::LinkError) -> Self {
        match e {
            core_link::LinkError::Malformed { at } => LinkError::Malformed { at },
            core_link::LinkError::TooLarge => LinkError::TooLarge,
        }
    }
}

/// `payload` without the whitespace some peers (and people typing at a
/// prompt) put after the commas between links; RFC 6690 has none.
fn without_spaces_after_commas(payload: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !payload
        .windows(2)
        .any(|w| w.first() == Some(&b',') && w.get(1).is_some_and(u8::is_ascii_whitespace))
    {
        return std::borrow::Cow::Borrowed(payload);
    }
    let mut out = Vec::with_capacity(payload.len());
    let (mut quoted, mut escaped, mut after_comma) = (false, false, false);
    for &b in payload {
        if after_comma && b.is_ascii_whitespace() {
            continue;
        }
        after_comma = false;
        if quoted {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b',' {
            after_comma = true;
        }
        out.push(b);
    }
    std::borrow::Cow::Owned(out)
}

/// Parses a whole payload: at most `max_links` links of at most
/// `max_params` parameters each. An empty payload is an empty list.
pub fn parse(payload: &[u8], max_links: usize, max_params: usize) -> Result<Vec<Link>, LinkError> {
    let limits = LinkLimits {
        max_links,
        max_params,
    };
    let payload = without_spaces_after_commas(payload);
    let mut out = Vec::new();
    for l in LinkParser::new(&payload, limits) {
        let l = l?;
        out.push(Link {
            target: l.target.unwrap_or_default().to_string(),
            params: l
                .params()
                .map(|p| (p.name.to_string(), p.value.map(|v| v.text().into_owned())))
                .collect(),
        });
    }
    Ok(out)
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
        let q = parse(br#"</1>;a="x, y", </2>"#, 8, 8).unwrap();
        assert_eq!(q[0].param("a"), Some(Some("x, y")));
    }
}
