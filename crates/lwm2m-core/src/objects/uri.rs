//! LwM2M Server URIs (Security object resource 0, Core 1.1 Appendix E.1:
//! "The format of the CoAP URI is defined in Section 6 of RFC 7252"): the
//! `coap` and `coaps` schemes of RFC 7252 §6.1 / §6.2 and the `coap+tcp`
//! and `coaps+tcp` schemes of RFC 8323 §8.1 / §8.2, each
//! `scheme "://" host [ ":" port ] path-abempty [ "?" query ]` with no
//! fragment (RFC 7252 §6: fragments are not part of CoAP URIs).

use core::fmt;

/// Longest URI the Security object stores (E.1 range "0..255" bytes).
pub const MAX_URI_LEN: usize = 255;

/// A URI scheme the client can connect with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `coap`: CoAP over UDP, no security.
    Coap,
    /// `coaps`: CoAP over DTLS.
    Coaps,
    /// `coap+tcp`: CoAP over TCP (RFC 8323).
    CoapTcp,
    /// `coaps+tcp`: CoAP over TLS (RFC 8323).
    CoapsTcp,
}

impl Scheme {
    /// The scheme as written in a URI.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Coap => "coap",
            Scheme::Coaps => "coaps",
            Scheme::CoapTcp => "coap+tcp",
            Scheme::CoapsTcp => "coaps+tcp",
        }
    }
    /// Whether the scheme asks for (D)TLS.
    pub const fn is_secure(self) -> bool {
        matches!(self, Scheme::Coaps | Scheme::CoapsTcp)
    }
    /// Whether the transport is TCP.
    pub const fn is_tcp(self) -> bool {
        matches!(self, Scheme::CoapTcp | Scheme::CoapsTcp)
    }
    /// The default port (RFC 7252 §6.1 / §6.2, RFC 8323 §8).
    pub const fn default_port(self) -> u16 {
        if self.is_secure() { 5684 } else { 5683 }
    }
}

/// A parsed Server URI, borrowing from the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerUri<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The host: a registered name, an IPv4 address, or an IPv6 address
    /// (without its brackets).
    pub host: &'a str,
    /// The explicit port, if any.
    pub port: Option<u16>,
    /// Path and query, possibly empty (`/x?y`).
    pub rest: &'a str,
}

impl ServerUri<'_> {
    /// The port to connect to: the explicit one or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }
}

/// Why a URI is not a usable Server URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UriError {
    /// Longer than [`MAX_URI_LEN`].
    TooLong,
    /// Not `coap`, `coaps`, `coap+tcp` or `coaps+tcp` followed by `://`.
    Scheme,
    /// Missing or malformed host.
    Host,
    /// A port that is not a number in 1..=65535.
    Port,
    /// A fragment, a user-info part, or a character no URI may hold.
    Syntax,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriError::TooLong => "URI longer than 255 bytes",
            UriError::Scheme => "scheme is not coap, coaps, coap+tcp or coaps+tcp",
            UriError::Host => "missing or malformed host",
            UriError::Port => "port is not in 1..=65535",
            UriError::Syntax => "fragment, user-info or invalid character",
        })
    }
}

fn scheme_of(s: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme = [
        Scheme::Coap,
        Scheme::Coaps,
        Scheme::CoapTcp,
        Scheme::CoapsTcp,
    ]
    .into_iter()
    .find(|k| k.as_str().eq_ignore_ascii_case(scheme))?;
    Some((scheme, rest))
}

/// RFC 3986 §3.2.2 reg-name characters (unreserved, sub-delims, `%`).
fn is_reg_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)
}

/// Parses a Server URI.
pub fn parse(uri: &str) -> Result<ServerUri<'_>, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong);
    }
    if uri.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#') {
        return Err(UriError::Syntax);
    }
    let (scheme, after) = scheme_of(uri).ok_or(UriError::Scheme)?;
    let auth_end = after.find(['/', '?']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(auth_end);
    if authority.contains('@') {
        return Err(UriError::Syntax);
    }
    let (host, port) = if let Some(lit) = authority.strip_prefix('[') {
        let (inside, tail) = lit.split_once(']').ok_or(UriError::Host)?;
        let ok = !inside.is_empty()
            && inside.contains(':')
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !ok {
            return Err(UriError::Host);
        }
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':').ok_or(UriError::Host)?),
        };
        (inside, port)
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() || !h.bytes().all(is_reg_name_char) {
            return Err(UriError::Host);
        }
        (h, p)
    };
    let port = match port {
        // RFC 3986 allows an empty port: the default applies.
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UriError::Port);
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(UriError::Port),
                Ok(n) => Some(n),
            }
        }
    };
    Ok(ServerUri {
        scheme,
        host,
        port,
        rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_uris() {
        let u = parse("coap://example.com").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.rest),
            (Scheme::Coap, "example.com", None, "")
        );
        assert_eq!(u.port_or_default(), 5683);
        let u = parse("coaps://192.0.2.1:5700/bs?x=1").unwrap();
        assert_eq!(u.scheme, Scheme::Coaps);
        assert_eq!(
            (u.host, u.port, u.rest),
            ("192.0.2.1", Some(5700), "/bs?x=1")
        );
        let u = parse("COAPS://[2001:db8::1]").unwrap();
        assert_eq!((u.host, u.port_or_default()), ("2001:db8::1", 5684));
        let u = parse("coap+tcp://[::1]:1").unwrap();
        assert!(u.scheme.is_tcp() && !u.scheme.is_secure());
        assert_eq!(u.port, Some(1));
        let u = parse("coaps+tcp://h:").unwrap();
        assert_eq!((u.scheme, u.port_or_default()), (Scheme::CoapsTcp, 5684));
        assert!(parse("coap://localhost:5683/").is_ok());
    }

    #[test]
    fn invalid_uris() {
        for (uri, err) in [
            ("", UriError::Scheme),
            ("http://example.com", UriError::Scheme),
            ("coap:/example.com", UriError::Scheme),
            ("coap//example.com", UriError::Scheme),
            ("coap://", UriError::Host),
            ("coap://:5683", UriError::Host),
            ("coap://exa mple", UriError::Syntax),
            ("coap://h#frag", UriError::Syntax),
            ("coap://user@h", UriError::Syntax),
            ("coap://h:0", UriError::Port),
            ("coap://h:65536", UriError::Port),
            ("coap://h:5x", UriError::Port),
            ("coap://[::1", UriError::Host),
            ("coap://[]", UriError::Host),
            ("coap://[zz::1]", UriError::Host),
            ("coap://[::1]x", UriError::Host),
            ("coap://h\u{e9}", UriError::Host),
        ] {
            assert_eq!(parse(uri), Err(err), "{uri:?}");
        }
        let long = alloc::format!("coap://{}", "a".repeat(250));
        assert_eq!(parse(&long), Err(UriError::TooLong));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }
    }
}
