//! The whole-configuration check of Bootstrap-Finish (SPEC §1 guarantee 6;
//! OMA-TS-LightweightM2M_Core 1.1 §6.1 "Bootstrap-Finish": the client
//! verifies the configuration and answers 4.06 Not Acceptable when it is
//! inconsistent).
//!
//! Each object's own [`crate::dm::Object::validate`] runs when the session
//! ends; this adds what no single object can see, reading everything
//! through the [`crate::dm::Object`] trait so that any implementation of
//! objects 0, 1 and 2 is checked the same way.

use alloc::vec::Vec;
use core::fmt;

use super::binding::Binding;
use super::convert;
use super::uri::{self, UriError};
use super::{security, server};
use crate::dm::oids::{ACCESS_CONTROL, SECURITY, SERVER};
use crate::dm::{Iid, MAX_ID, Object, Oid, Path, Registry, Ssid};
use crate::error::DmError;

/// What is wrong with a configuration. Every variant maps to 4.06 Not
/// Acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// No Server object instance: the client would have nobody to
    /// register with.
    NoServerAccount,
    /// A mandatory resource of object 0, 1 or 2 is absent or unreadable.
    MissingResource(Path),
    /// A value out of its range (a mode, a Short Server ID, a lifetime, a
    /// binding).
    InvalidValue(Path),
    /// A Server URI that does not parse.
    InvalidUri {
        /// The URI resource.
        path: Path,
        /// Why.
        error: UriError,
    },
    /// More than one Security instance is a Bootstrap-Server account (the
    /// second one is named).
    SeveralBootstrapAccounts(Iid),
    /// Two Security instances, or two Server instances, share a Short
    /// Server ID (the second one's SSID resource is named).
    DuplicateSsid(Path),
    /// A Server instance has no Security instance with its Short Server
    /// ID.
    NoSecurityForServer {
        /// The Server instance.
        server_iid: Iid,
        /// Its Short Server ID.
        ssid: Ssid,
    },
    /// The security mode needs a key or identity that is empty.
    MissingKey(Path),
    /// An Access Control instance names an object the client does not
    /// have.
    AclUnknownObject {
        /// The Access Control instance.
        acl_iid: Iid,
        /// The object it names.
        oid: Oid,
    },
    /// An Access Control instance names an object instance that does not
    /// exist.
    AclUnknownInstance {
        /// The Access Control instance.
        acl_iid: Iid,
        /// The instance it names.
        target: Path,
    },
    /// An ACL entry or an Access Control Owner names a Short Server ID no
    /// Server instance has (the ACL resource instance or the owner
    /// resource is named).
    AclUnknownServer {
        /// The resource (instance) naming it.
        path: Path,
        /// The unknown Short Server ID.
        ssid: Ssid,
    },
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigProblem::NoServerAccount => f.write_str("no LwM2M Server account"),
            ConfigProblem::MissingResource(p) => write!(f, "mandatory resource {p} missing"),
            ConfigProblem::InvalidValue(p) => write!(f, "invalid value at {p}"),
            ConfigProblem::InvalidUri { path, error } => write!(f, "{path}: {error}"),
            ConfigProblem::SeveralBootstrapAccounts(i) => {
                write!(f, "/0/{i} is a second Bootstrap-Server account")
            }
            ConfigProblem::DuplicateSsid(p) => write!(f, "{p}: Short Server ID used twice"),
            ConfigProblem::NoSecurityForServer { server_iid, ssid } => write!(
                f,
                "/1/{server_iid}: no Security instance with Short Server ID {ssid}"
            ),
            ConfigProblem::MissingKey(p) => write!(f, "{p}: key material missing"),
            ConfigProblem::AclUnknownObject { acl_iid, oid } => {
                write!(f, "/2/{acl_iid} names object /{oid}, which does not exist")
            }
            ConfigProblem::AclUnknownInstance { acl_iid, target } => {
                write!(f, "/2/{acl_iid} names {target}, which does not exist")
            }
            ConfigProblem::AclUnknownServer { path, ssid } => {
                write!(
                    f,
                    "{path} names Short Server ID {ssid}, which no server has"
                )
            }
        }
    }
}

/// A configuration Bootstrap-Finish refuses is 4.06 Not Acceptable.
impl From<ConfigProblem> for DmError {
    fn from(_: ConfigProblem) -> DmError {
        DmError::NotAcceptable
    }
}

/// Checks the configuration before Bootstrap-Finish commits it: the
/// mandatory resources of objects 0, 1 and 2 are present, every Server URI
/// parses, at most one Bootstrap-Server account exists, every DM account
/// has a valid, unique Short Server ID and the keys its mode needs, every
/// Server instance has a Security instance with its Short Server ID, and
/// every Access Control instance names an existing object instance (65535
/// for the object-level right) and existing servers. The first problem
/// found is returned.
pub fn validate_configuration(reg: &Registry) -> Result<(), ConfigProblem> {
    for oid in [SECURITY, SERVER, ACCESS_CONTROL] {
        if let Some(obj) = reg.get(oid) {
            check_mandatory(obj)?;
        }
    }
    let security_ssids = check_security(reg)?;
    let server_ssids = check_servers(reg, &security_ssids)?;
    check_acl(reg, &server_ssids)
}

fn check_mandatory(obj: &dyn Object) -> Result<(), ConfigProblem> {
    let def = obj.def();
    for iid in convert::instances(obj) {
        for r in def.resources.iter().filter(|r| r.mandatory) {
            let path = Path::resource(def.id, iid, r.id);
            let readable = r.operations.executable()
                || r.multiple
                || convert::read(obj, iid, r.id, None).is_some();
            if !obj.resource_present(iid, r.id) || !readable {
                return Err(ConfigProblem::MissingResource(path));
            }
        }
    }
    Ok(())
}

/// Checks the Security instances; returns the DM accounts' SSIDs.
fn check_security(reg: &Registry) -> Result<Vec<Ssid>, ConfigProblem> {
    use security::rid;
    let Some(obj) = reg.get(SECURITY) else {
        return Ok(Vec::new());
    };
    let mut bootstrap_seen = false;
    let mut ssids = Vec::new();
    for iid in convert::instances(obj) {
        let p = |r| Path::resource(SECURITY, iid, r);
        let uri = convert::read_str(obj, iid, rid::URI)
            .ok_or(ConfigProblem::MissingResource(p(rid::URI)))?;
        uri::parse(&uri).map_err(|error| ConfigProblem::InvalidUri {
            path: p(rid::URI),
            error,
        })?;
        let mode = convert::read_i64(obj, iid, rid::MODE)
            .and_then(security::SecurityMode::from_resource)
            .ok_or(ConfigProblem::InvalidValue(p(rid::MODE)))?;
        let key = |r| convert::read_bytes(obj, iid, r).is_some_and(|k| !k.is_empty());
        let needed: &[_] = match mode {
            security::SecurityMode::Psk | security::SecurityMode::Certificate => {
                &[rid::PUBLIC_KEY_OR_IDENTITY, rid::SECRET_KEY]
            }
            security::SecurityMode::RawPublicKey => &[
                rid::PUBLIC_KEY_OR_IDENTITY,
                rid::SECRET_KEY,
                rid::SERVER_PUBLIC_KEY,
            ],
            _ => &[],
        };
        if let Some(r) = needed.iter().find(|r| !key(**r)) {
            return Err(ConfigProblem::MissingKey(p(*r)));
        }
        if convert::read_bool(obj, iid, rid::BOOTSTRAP).unwrap_or(false) {
            if bootstrap_seen {
                return Err(ConfigProblem::SeveralBootstrapAccounts(iid));
            }
            bootstrap_seen = true;
            continue;
        }
        let raw = convert::read_i64(obj, iid, rid::SSID)
            .ok_or(ConfigProblem::MissingResource(p(rid::SSID)))?;
        let ssid = u16::try_from(raw)
            .ok()
            .filter(|s| security::valid_ssid(*s))
            .ok_or(ConfigProblem::InvalidValue(p(rid::SSID)))?;
        if ssids.contains(&ssid) {
            return Err(ConfigProblem::DuplicateSsid(p(rid::SSID)));
        }
        ssids.push(ssid);
    }
    Ok(ssids)
}

/// Checks the Server instances against the Security accounts; returns
/// their SSIDs.
fn check_servers(reg: &Registry, security_ssids: &[Ssid]) -> Result<Vec<Ssid>, ConfigProblem> {
    use server::rid;
    let obj = reg.get(SERVER).ok_or(ConfigProblem::NoServerAccount)?;
    let mut ssids = Vec::new();
    for iid in convert::instances(obj) {
        let p = |r| Path::resource(SERVER, iid, r);
        let ssid = convert::read_i64(obj, iid, rid::SSID)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| security::valid_ssid(*s))
            .ok_or(ConfigProblem::InvalidValue(p(rid::SSID)))?;
        if ssids.contains(&ssid) {
            return Err(ConfigProblem::DuplicateSsid(p(rid::SSID)));
        }
        if !security_ssids.contains(&ssid) {
            return Err(ConfigProblem::NoSecurityForServer {
                server_iid: iid,
                ssid,
            });
        }
        if convert::read_i64(obj, iid, rid::LIFETIME).is_none_or(|l| l <= 0) {
            return Err(ConfigProblem::InvalidValue(p(rid::LIFETIME)));
        }
        if convert::read_str(obj, iid, rid::BINDING)
            .and_then(|b| Binding::parse(&b))
            .is_none()
        {
            return Err(ConfigProblem::InvalidValue(p(rid::BINDING)));
        }
        ssids.push(ssid);
    }
    if ssids.is_empty() {
        return Err(ConfigProblem::NoServerAccount);
    }
    Ok(ssids)
}

fn check_acl(reg: &Registry, servers: &[Ssid]) -> Result<(), ConfigProblem> {
    const OBJECT_ID: u16 = 0;
    const INSTANCE_ID: u16 = 1;
    const ACL: u16 = 2;
    const OWNER: u16 = 3;
    let Some(ac) = reg.get(ACCESS_CONTROL) else {
        return Ok(());
    };
    let known = |s: Ssid| servers.contains(&s);
    for acl_iid in convert::instances(ac) {
        let p = |r| Path::resource(ACCESS_CONTROL, acl_iid, r);
        let read_u16 = |r| {
            convert::read_i64(ac, acl_iid, r)
                .and_then(|v| u16::try_from(v).ok())
                .ok_or(ConfigProblem::InvalidValue(p(r)))
        };
        let oid = read_u16(OBJECT_ID)?;
        let iid = read_u16(INSTANCE_ID)?;
        let target = reg
            .get(oid)
            .ok_or(ConfigProblem::AclUnknownObject { acl_iid, oid })?;
        if iid != MAX_ID && !target.has_instance(iid) {
            return Err(ConfigProblem::AclUnknownInstance {
                acl_iid,
                target: Path::instance(oid, iid),
            });
        }
        for (riid, _) in convert::read_multi(ac, acl_iid, ACL) {
            if riid != 0 && !known(riid) {
                let path = Path::resource_instance(ACCESS_CONTROL, acl_iid, ACL, riid);
                return Err(ConfigProblem::AclUnknownServer { path, ssid: riid });
            }
        }
        let owner = read_u16(OWNER)?;
        if owner != MAX_ID && !known(owner) {
            return Err(ConfigProblem::AclUnknownServer {
                path: p(OWNER),
                ssid: owner,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "bootstrap_check_tests.rs"]
mod tests;
