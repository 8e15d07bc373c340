//! The Bootstrap Server (OMA-TS-LightweightM2M_Core 1.1 §6.1): what to
//! provision per endpoint ([`BootstrapConfig`]) and the script a session
//! runs. After `POST /bs?ep=..` is answered 2.04 (§6.1), or when the
//! operator starts a server-initiated bootstrap (Core 1.1, Server-Initiated Bootstrap), the
//! server sends,
//! one at a time and each after the previous answer:
//!
//! 1. Bootstrap-Discover `/` when asked (§6.1);
//! 2. Bootstrap-Delete of the configured targets, `/0` and `/1` by default
//!    (§6.1: the client keeps its Bootstrap-Server Security instance);
//! 3. Bootstrap-Write of each Security (/0), Server (/1) and Access Control
//!    (/2) instance (§6.1);
//! 4. Bootstrap-Read of the configured targets when asked (§6.1, 1.1);
//! 5. Bootstrap-Finish `POST /bs` (§6.1): 2.04, or 4.06 Not Acceptable
//!    when the client finds the configuration inconsistent.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;

use lwm2m_core::coap::Code;
use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{Path, Value};

use super::operation::{Operation, ReqId, RequestError};

/// A Security object instance (Core 1.1 Appendix E.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityInstance {
    /// Instance ID.
    pub id: u16,
    /// /0/x/0 LwM2M Server URI.
    pub uri: String,
    /// /0/x/1 Bootstrap-Server.
    pub bootstrap: bool,
    /// /0/x/2 Security Mode (0 PSK, 1 RPK, 2 certificate, 3 NoSec, 4 EST).
    pub mode: i64,
    /// /0/x/3 Public Key or Identity.
    pub identity: Vec<u8>,
    /// /0/x/4 Server Public Key.
    pub server_public_key: Vec<u8>,
    /// /0/x/5 Secret Key.
    pub secret_key: Vec<u8>,
    /// /0/x/10 Short Server ID (not for the Bootstrap-Server instance).
    pub short_server_id: Option<u16>,
    /// /0/x/11 Client Hold Off Time.
    pub hold_off: Option<i64>,
    /// /0/x/12 Bootstrap-Server Account Timeout.
    pub bootstrap_timeout: Option<i64>,
}

impl SecurityInstance {
    /// A NoSec instance pointing at `uri`.
    pub fn nosec(id: u16, uri: &str, short_server_id: Option<u16>, bootstrap: bool) -> Self {
        SecurityInstance {
            id,
            uri: uri.to_string(),
            bootstrap,
            mode: 3,
            identity: Vec::new(),
            server_public_key: Vec::new(),
            secret_key: Vec::new(),
            short_server_id,
            hold_off: None,
            bootstrap_timeout: None,
        }
    }

    /// The resources to write, in path order.
    pub fn entries(&self) -> Vec<Entry<'static>> {
        let p = |r| Path::resource(0, self.id, r);
        let mut e = vec![
            Entry::new(p(0), Value::String(self.uri.clone().into())),
            Entry::new(p(1), Value::Boolean(self.bootstrap)),
            Entry::new(p(2), Value::Integer(self.mode)),
            Entry::new(p(3), Value::Opaque(self.identity.clone().into())),
            Entry::new(p(4), Value::Opaque(self.server_public_key.clone().into())),
            Entry::new(p(5), Value::Opaque(self.secret_key.clone().into())),
        ];
        if let Some(s) = self.short_server_id {
            e.push(Entry::new(p(10), Value::Integer(i64::from(s))));
        }
        if let Some(h) = self.hold_off {
            e.push(Entry::new(p(11), Value::Integer(h)));
        }
        if let Some(t) = self.bootstrap_timeout {
            e.push(Entry::new(p(12), Value::Integer(t)));
        }
        e
    }
}

/// A Server object instance (Core 1.1 Appendix E.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInstance {
    /// Instance ID.
    pub id: u16,
    /// /1/x/0 Short Server ID.
    pub short_server_id: u16,
    /// /1/x/1 Lifetime (s).
    pub lifetime: u32,
    /// /1/x/2 Default Minimum Period.
    pub default_pmin: Option<u32>,
    /// /1/x/3 Default Maximum Period.
    pub default_pmax: Option<u32>,
    /// /1/x/5 Disable Timeout.
    pub disable_timeout: Option<u32>,
    /// /1/x/6 Notification Storing When Disabled or Offline.
    pub notification_storing: bool,
    /// /1/x/7 Binding.
    pub binding: String,
}

impl ServerInstance {
    /// The resources to write, in path order.
    pub fn entries(&self) -> Vec<Entry<'static>> {
        let p = |r| Path::resource(1, self.id, r);
        let int = |v: u32| Value::Integer(i64::from(v));
        let mut e = vec![
            Entry::new(p(0), Value::Integer(i64::from(self.short_server_id))),
            Entry::new(p(1), int(self.lifetime)),
        ];
        if let Some(v) = self.default_pmin {
            e.push(Entry::new(p(2), int(v)));
        }
        if let Some(v) = self.default_pmax {
            e.push(Entry::new(p(3), int(v)));
        }
        if let Some(v) = self.disable_timeout {
            e.push(Entry::new(p(5), int(v)));
        }
        e.push(Entry::new(p(6), Value::Boolean(self.notification_storing)));
        e.push(Entry::new(p(7), Value::String(self.binding.clone().into())));
        e
    }
}

/// An Access Control object instance (Core 1.1 Appendix E.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclInstance {
    /// Instance ID.
    pub id: u16,
    /// /2/x/0 Object ID.
    pub object_id: u16,
    /// /2/x/1 Object Instance ID.
    pub instance_id: u16,
    /// /2/x/2 ACL: (Short Server ID, access bits).
    pub acl: Vec<(u16, u16)>,
    /// /2/x/3 Access Control Owner.
    pub owner: u16,
}

impl AclInstance {
    /// The resources to write, in path order.
    pub fn entries(&self) -> Vec<Entry<'static>> {
        let p = |r| Path::resource(2, self.id, r);
        let mut e = vec![
            Entry::new(p(0), Value::Integer(i64::from(self.object_id))),
            Entry::new(p(1), Value::Integer(i64::from(self.instance_id))),
        ];
        let mut acl = self.acl.clone();
        acl.sort_unstable();
        for (ssid, bits) in acl {
            e.push(Entry::new(
                Path::resource_instance(2, self.id, 2, ssid),
                Value::Integer(i64::from(bits)),
            ));
        }
        e.push(Entry::new(p(3), Value::Integer(i64::from(self.owner))));
        e
    }
}

/// What one endpoint is provisioned with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Bootstrap-Delete targets, in order (`/0`, `/1` by default).
    pub delete: Vec<Path>,
    /// Run a Bootstrap-Discover of `/` first.
    pub discover: bool,
    /// Bootstrap-Read targets after the writes (`/1`, `/2` only).
    pub read: Vec<Path>,
    /// Format of the writes; the client's `pct` (1.1), else TLV, when `None`.
    pub format: Option<Format>,
    /// Security instances.
    pub security: Vec<SecurityInstance>,
    /// Server instances.
    pub servers: Vec<ServerInstance>,
    /// Access Control instances.
    pub acls: Vec<AclInstance>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            delete: vec![Path::object(0), Path::object(1)],
            discover: false,
            read: Vec::new(),
            format: None,
            security: Vec::new(),
            servers: Vec::new(),
            acls: Vec::new(),
        }
    }
}

impl ClientConfig {
    /// One DM server at `uri` (NoSec) with Short Server ID `ssid`.
    pub fn single_server(uri: &str, ssid: u16, lifetime: u32) -> Self {
        ClientConfig {
            security: vec![SecurityInstance::nosec(1, uri, Some(ssid), false)],
            servers: vec![ServerInstance {
                id: 0,
                short_server_id: ssid,
                lifetime,
                default_pmin: None,
                default_pmax: None,
                disable_timeout: None,
                notification_storing: false,
                binding: "U".to_string(),
            }],
            ..ClientConfig::default()
        }
    }

    /// The operations of a session, in order (see the module doc).
    pub fn script(&self, preferred: Option<Format>) -> Vec<Operation> {
        let format = self.format.or(preferred).or(Some(Format::Tlv));
        let mut ops = Vec::new();
        if self.discover {
            ops.push(Operation::BootstrapDiscover { path: Path::ROOT });
        }
        for p in &self.delete {
            ops.push(Operation::BootstrapDelete { path: *p });
        }
        let writes = self
            .security
            .iter()
            .map(|s| (0, s.id, s.entries()))
            .chain(self.servers.iter().map(|s| (1, s.id, s.entries())))
            .chain(self.acls.iter().map(|a| (2, a.id, a.entries())));
        for (oid, iid, entries) in writes {
            ops.push(Operation::BootstrapWrite {
                path: Path::instance(oid, iid),
                format,
                entries,
            });
        }
        for p in &self.read {
            ops.push(Operation::BootstrapRead {
                path: *p,
                accept: None,
            });
        }
        ops.push(Operation::BootstrapFinish);
        ops
    }
}

/// The Bootstrap Server's configuration: per endpoint, with a default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapConfig {
    /// By Endpoint Client Name.
    pub clients: BTreeMap<String, ClientConfig>,
    /// For endpoints not listed; `None`: they get 4.00 (Core 1.1 §6.1,
    /// unknown Endpoint Client Name).
    pub default: Option<ClientConfig>,
}

impl BootstrapConfig {
    /// The configuration for `endpoint`.
    pub fn for_endpoint(&self, endpoint: &str) -> Option<&ClientConfig> {
        self.clients.get(endpoint).or(self.default.as_ref())
    }
}

/// Why a bootstrap session failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BootstrapError {
    /// No configuration for this endpoint.
    UnknownEndpoint,
    /// A step failed; the session stopped there.
    Step {
        /// The step (`bootstrap-write /0/1`).
        step: String,
        /// What went wrong.
        error: RequestError,
    },
    /// The client refused Bootstrap-Finish (4.06 Not Acceptable when the
    /// configuration is inconsistent, Core 1.1 §6.1).
    FinishRejected(Code),
    /// A new Bootstrap-Request (or bootstrap command) replaced the session.
    Superseded,
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootstrapError::UnknownEndpoint => f.write_str("no bootstrap configuration"),
            BootstrapError::Step { step, error } => write!(f, "{step} failed: {error}"),
            BootstrapError::FinishRejected(c) => write!(f, "Bootstrap-Finish answered {c}"),
            BootstrapError::Superseded => f.write_str("superseded by a new session"),
        }
    }
}

impl std::error::Error for BootstrapError {}

/// A short description of a step, for events.
pub fn describe(op: &Operation) -> String {
    let path = match op {
        Operation::BootstrapDiscover { path }
        | Operation::BootstrapRead { path, .. }
        | Operation::BootstrapWrite { path, .. }
        | Operation::BootstrapDelete { path } => Some(*path),
        _ => None,
    };
    match path {
        Some(p) => format!("{} {}", op.name(), super::fmt_path(&p)),
        None => op.name().to_string(),
    }
}

/// One running session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) peer: SocketAddr,
    pub(crate) steps: VecDeque<Operation>,
    /// The step in flight and its description.
    pub(crate) current: Option<(ReqId, String, bool)>,
}

/// What a step's answer means for the session.
#[derive(Debug, PartialEq)]
pub(crate) enum Next {
    /// Send the next step.
    Continue,
    /// The session ended.
    Done(Result<(), BootstrapError>),
}

impl Session {
    /// Judges the answer to the current step.
    pub(crate) fn on_answer(&mut self, result: &Result<Code, RequestError>) -> Next {
        let Some((_, step, finish)) = self.current.take() else {
            return Next::Continue;
        };
        match result {
            Ok(_) if finish => Next::Done(Ok(())),
            Ok(_) => {
                if self.steps.is_empty() {
                    Next::Done(Ok(()))
                } else {
                    Next::Continue
                }
            }
            Err(RequestError::Code(c)) if finish => {
                Next::Done(Err(BootstrapError::FinishRejected(*c)))
            }
            // Deleting what is not there is no reason to stop.
            Err(RequestError::Code(Code::NOT_FOUND)) if step.starts_with("bootstrap-delete") => {
                Next::Continue
            }
            Err(e) => Next::Done(Err(BootstrapError::Step {
                step,
                error: e.clone(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_order() {
        let mut c = ClientConfig::single_server("coap://127.0.0.1:5683", 1, 60);
        c.discover = true;
        c.read = vec![Path::object(1)];
        c.acls.push(AclInstance {
            id: 0,
            object_id: 3,
            instance_id: 0,
            acl: vec![(1, 7)],
            owner: 1,
        });
        let names: Vec<String> = c.script(None).iter().map(describe).collect();
        assert_eq!(
            names,
            [
                "bootstrap-discover /",
                "bootstrap-delete /0",
                "bootstrap-delete /1",
                "bootstrap-write /0/1",
                "bootstrap-write /1/0",
                "bootstrap-write /2/0",
                "bootstrap-read /1",
                "bootstrap-finish"
            ]
        );
        let Operation::BootstrapWrite {
            entries, format, ..
        } = &c.script(None)[3]
        else {
            panic!()
        };
        assert_eq!(*format, Some(Format::Tlv));
        assert_eq!(entries[0].value, Value::str("coap://127.0.0.1:5683"));
        assert_eq!(entries.last().unwrap().path, Path::resource(0, 1, 10));
    }
}
