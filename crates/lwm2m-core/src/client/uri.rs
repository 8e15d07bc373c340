//! Server URIs (RFC 7252 §6.1 `coap` / `coaps` schemes, RFC 3986 host
//! syntax): just enough to give the driver a host and a port.

use alloc::string::String;

use super::event::ServerUri;

/// Parses `coap://host[:port][/path]`, `coaps://...`, with IPv6 literals in
/// brackets. `None` for anything else (the Security object's URI is
/// validated before use; this is the last line).
pub fn parse(uri: &str) -> Option<ServerUri> {
    let (secure, rest) = if let Some(r) = uri.strip_prefix("coaps://") {
        (true, r)
    } else if let Some(r) = uri.strip_prefix("coap://") {
        (false, r)
    } else {
        return None;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']')?;
        let host = v6.get(..end)?;
        let after = v6.get(end + 1..)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains(['@', ' ', '[', ']']) {
        return None;
    }
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
        None if secure => 5684,
        None => 5683,
    };
    Some(ServerUri {
        secure,
        host: String::from(host),
        port,
        path: String::from(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_lwm2m_uses() {
        let u = parse("coap://127.0.0.1:5683").unwrap();
        assert_eq!(
            (u.secure, u.host.as_str(), u.port, u.path.as_str()),
            (false, "127.0.0.1", 5683, "/")
        );
        let u = parse("coaps://lwm2m.example.com").unwrap();
        assert_eq!((u.secure, u.port), (true, 5684));
        let u = parse("coap://[::1]:9999/fw/a.bin").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9999, "/fw/a.bin")
        );
        assert_eq!(parse("coap://[::1]").unwrap().port, 5683);
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            "http://x",
            "coap://",
            "coap://:5683",
            "coap://h:x",
            "coap://h:99999",
            "coap://[::1",
            "coap://[::1]x",
            "coap://u@h",
            "coaps//h",
            "",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
