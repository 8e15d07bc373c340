//! The bootstrap configuration as a TOML file: per endpoint, the Security,
//! Server and Access Control instances a Bootstrap Server writes
//! (OMA-TS-LightweightM2M_Core 1.1 §6.1, Appendix E.1–E.3).
//!
//! ```toml
//! # Endpoints not listed under [clients] get [default]; without a
//! # [default] they are refused (4.00).
//! [default]
//! # delete = ["/0", "/1"]    # Bootstrap-Delete targets (this is the default)
//! # discover = false         # Bootstrap-Discover "/" first
//! # read = ["/1"]            # Bootstrap-Read after the writes
//! # format = "tlv"           # tlv | senml-json | senml-cbor | lwm2m-cbor
//!
//! [[default.security]]
//! id = 1
//! uri = "coap://127.0.0.1:5683"
//! short_server_id = 1
//! mode = "nosec"             # nosec | psk | rpk | cert | est (or 0..4)
//! # identity = "dev-1"       # PSK identity as text, or identity_hex = "..."
//! # secret_key_hex = "00112233"
//!
//! [[default.server]]
//! id = 0
//! short_server_id = 1
//! lifetime = 300
//! binding = "U"
//!
//! [clients."urn:dev:42"]
//! [[clients."urn:dev:42".security]]
//! id = 1
//! uri = "coap://192.0.2.10:5683"
//! short_server_id = 7
//! [[clients."urn:dev:42".server]]
//! id = 0
//! short_server_id = 7
//! lifetime = 60
//! [[clients."urn:dev:42".acl]]
//! id = 0
//! object = 3
//! instance = 0
//! acl = { "7" = 31 }         # Short Server ID = access bits
//! owner = 7
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use lwm2m_core::content::Format;
use lwm2m_core::dm::Path;

use crate::core::bootstrap::{
    AclInstance, BootstrapConfig, ClientConfig, SecurityInstance, ServerInstance,
};

/// Why a configuration file was refused.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default: Option<Client>,
    #[serde(default)]
    clients: BTreeMap<String, Client>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Client {
    delete: Option<Vec<String>>,
    #[serde(default)]
    discover: bool,
    #[serde(default)]
    read: Vec<String>,
    format: Option<String>,
    #[serde(default)]
    security: Vec<Security>,
    #[serde(default)]
    server: Vec<Server>,
    #[serde(default)]
    acl: Vec<Acl>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Mode {
    Name(String),
    Number(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Security {
    id: u16,
    uri: String,
    #[serde(default)]
    bootstrap: bool,
    mode: Option<Mode>,
    identity: Option<String>,
    identity_hex: Option<String>,
    server_public_key_hex: Option<String>,
    secret_key: Option<String>,
    secret_key_hex: Option<String>,
    short_server_id: Option<u16>,
    hold_off: Option<i64>,
    bootstrap_timeout: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Server {
    id: u16,
    short_server_id: u16,
    lifetime: Option<u32>,
    binding: Option<String>,
    default_pmin: Option<u32>,
    default_pmax: Option<u32>,
    disable_timeout: Option<u32>,
    #[serde(default)]
    notification_storing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Acl {
    id: u16,
    object: u16,
    instance: u16,
    #[serde(default)]
    acl: BTreeMap<String, u16>,
    owner: u16,
}

/// Parses a format name (`tlv`, `senml-json`, `senml-cbor`, `lwm2m-cbor`,
/// `text`, `opaque`, `cbor`, `json`) or number.
pub fn parse_format(s: &str) -> Option<Format> {
    Some(match s.to_ascii_lowercase().as_str() {
        "tlv" => Format::Tlv,
        "senml-json" | "senml_json" | "senmljson" => Format::SenmlJson,
        "senml-cbor" | "senml_cbor" | "senmlcbor" => Format::SenmlCbor,
        "lwm2m-cbor" | "lwm2m_cbor" => Format::Lwm2mCbor,
        "json" | "lwm2m-json" => Format::Lwm2mJson,
        "text" | "plain" => Format::Text,
        "opaque" | "octet-stream" => Format::Opaque,
        "cbor" => Format::Cbor,
        "link" | "link-format" => Format::LinkFormat,
        other => return other.parse().ok().and_then(Format::from_number),
    })
}

fn hex(field: &str, s: &str) -> Result<Vec<u8>, ConfigError> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !s.len().is_multiple_of(2) {
        return Err(ConfigError(format!("{field}: odd number of hex digits")));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| ConfigError(format!("{field}: not hexadecimal")))
        })
        .collect()
}

fn bytes(field: &str, text: Option<String>, hexed: Option<String>) -> Result<Vec<u8>, ConfigError> {
    match (text, hexed) {
        (Some(_), Some(_)) => Err(ConfigError(format!(
            "{field}: give either {field} or {field}_hex"
        ))),
        (Some(t), None) => Ok(t.into_bytes()),
        (None, Some(h)) => hex(&format!("{field}_hex"), &h),
        (None, None) => Ok(Vec::new()),
    }
}

fn path(field: &str, s: &str) -> Result<Path, ConfigError> {
    Path::parse(s).map_err(|e| ConfigError(format!("{field}: {s:?}: {e}")))
}

fn client(name: &str, c: Client) -> Result<ClientConfig, ConfigError> {
    let ctx = |e: ConfigError| ConfigError(format!("{name}: {}", e.0));
    let mut out = ClientConfig::default();
    if let Some(d) = c.delete {
        out.delete = d
            .iter()
            .map(|s| path("delete", s))
            .collect::<Result<_, _>>()
            .map_err(ctx)?;
    }
    out.discover = c.discover;
    out.read = c
        .read
        .iter()
        .map(|s| path("read", s))
        .collect::<Result<_, _>>()
        .map_err(ctx)?;
    for p in &out.read {
        if !matches!(p.oid(), Some(1 | 2)) {
            return Err(ctx(ConfigError(
                "read: Bootstrap-Read is for /1 and /2 only".into(),
            )));
        }
    }
    if let Some(f) = c.format {
        out.format = Some(
            parse_format(&f)
                .filter(|f| f.is_hierarchical())
                .ok_or_else(|| {
                    ctx(ConfigError(format!(
                        "format: {f:?} is not a hierarchical format"
                    )))
                })?,
        );
    }
    for s in c.security {
        let mode = match s.mode {
            None => 3,
            Some(Mode::Number(n)) if (0..=4).contains(&n) => n,
            Some(Mode::Name(n)) => match n.to_ascii_lowercase().as_str() {
                "psk" => 0,
                "rpk" => 1,
                "cert" | "certificate" | "x509" => 2,
                "nosec" | "none" => 3,
                "est" => 4,
                _ => {
                    return Err(ctx(ConfigError(format!(
                        "security {}: unknown mode {n:?}",
                        s.id
                    ))));
                }
            },
            Some(Mode::Number(n)) => {
                return Err(ctx(ConfigError(format!(
                    "security {}: mode {n} outside 0..4",
                    s.id
                ))));
            }
        };
        if !s.bootstrap && s.short_server_id.is_none() {
            return Err(ctx(ConfigError(format!(
                "security {}: a DM server needs short_server_id",
                s.id
            ))));
        }
        out.security.push(SecurityInstance {
            id: s.id,
            uri: s.uri,
            bootstrap: s.bootstrap,
            mode,
            identity: bytes("identity", s.identity, s.identity_hex).map_err(ctx)?,
            server_public_key: bytes("server_public_key", None, s.server_public_key_hex)
                .map_err(ctx)?,
            secret_key: bytes("secret_key", s.secret_key, s.secret_key_hex).map_err(ctx)?,
            short_server_id: s.short_server_id,
            hold_off: s.hold_off,
            bootstrap_timeout: s.bootstrap_timeout,
        });
    }
    for s in c.server {
        out.servers.push(ServerInstance {
            id: s.id,
            short_server_id: s.short_server_id,
            lifetime: s.lifetime.unwrap_or(86_400),
            default_pmin: s.default_pmin,
            default_pmax: s.default_pmax,
            disable_timeout: s.disable_timeout,
            notification_storing: s.notification_storing,
            binding: s.binding.unwrap_or_else(|| "U".to_string()),
        });
    }
    for a in c.acl {
        let mut acl = Vec::new();
        for (k, v) in a.acl {
            let ssid = k.parse::<u16>().map_err(|_| {
                ctx(ConfigError(format!(
                    "acl {}: {k:?} is not a Short Server ID",
                    a.id
                )))
            })?;
            acl.push((ssid, v));
        }
        out.acls.push(AclInstance {
            id: a.id,
            object_id: a.object,
            instance_id: a.instance,
            acl,
            owner: a.owner,
        });
    }
    let mut ids: Vec<(u8, u16)> = out
        .security
        .iter()
        .map(|s| (0, s.id))
        .chain(out.servers.iter().map(|s| (1, s.id)))
        .chain(out.acls.iter().map(|a| (2, a.id)))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != n {
        return Err(ctx(ConfigError("an instance id is used twice".into())));
    }
    Ok(out)
}

/// Parses the TOML text of a bootstrap configuration.
pub fn parse_bootstrap_toml(text: &str) -> Result<BootstrapConfig, ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    let mut out = BootstrapConfig::default();
    if let Some(d) = file.default {
        out.default = Some(client("default", d)?);
    }
    for (name, c) in file.clients {
        let cfg = client(&name, c)?;
        out.clients.insert(name, cfg);
    }
    Ok(out)
}

/// Reads and parses a bootstrap configuration file.
pub fn load_bootstrap_toml(path: &std::path::Path) -> Result<BootstrapConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
    parse_bootstrap_toml(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config_file.rs");
        let start = doc.find("//! ```toml").unwrap();
        let end = doc[start..].find("//! ```\n").unwrap() + start;
        let text: String = doc[start..end]
            .lines()
            .skip(1)
            .map(|l| {
                l.strip_prefix("//! ")
                    .or(l.strip_prefix("//!"))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse_bootstrap_toml(&text).unwrap();
        let d = c.default.as_ref().unwrap();
        assert_eq!(d.security[0].uri, "coap://127.0.0.1:5683");
        assert_eq!(d.security[0].mode, 3);
        assert_eq!(d.servers[0].lifetime, 300);
        assert_eq!(d.delete, vec![Path::object(0), Path::object(1)]);
        let k = &c.clients["urn:dev:42"];
        assert_eq!(k.acls[0].acl, vec![(7, 31)]);
        assert_eq!(c.for_endpoint("other"), c.default.as_ref());
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = |t: &str| parse_bootstrap_toml(t).unwrap_err().to_string();
        assert!(e("[default]\nbogus = 1").contains("bogus"));
        assert!(e("[[default.security]]\nid=1\nuri=\"coap://x\"").contains("short_server_id"));
        assert!(
            e("[[default.security]]\nid=1\nuri=\"x\"\nshort_server_id=1\nmode=\"magic\"")
                .contains("magic")
        );
        assert!(
            e("[[default.security]]\nid=1\nuri=\"x\"\nshort_server_id=1\nsecret_key_hex=\"0g\"")
                .contains("hex")
        );
        assert!(e("[default]\nread=[\"/3\"]").contains("/1 and /2"));
        assert!(e("[default]\nformat=\"text\"").contains("hierarchical"));
        assert!(e("[[default.server]]\nid=0\nshort_server_id=1\n[[default.server]]\nid=0\nshort_server_id=2").contains("twice"));
        let psk = parse_bootstrap_toml(
            "[[default.security]]\nid=1\nuri=\"coaps://h\"\nshort_server_id=1\nmode=\"psk\"\nidentity=\"me\"\nsecret_key_hex=\"00ff\"",
        )
        .unwrap();
        let s = &psk.default.unwrap().security[0];
        assert_eq!(
            (s.mode, s.identity.as_slice(), s.secret_key.as_slice()),
            (0, &b"me"[..], &[0, 0xff][..])
        );
    }
}
