//! The Bootstrap interface's operations on the data model
//! (OMA-TS-LightweightM2M_Core 1.1 §6.1 "Bootstrap Interface"):
//! Bootstrap-Read, -Write, -Delete, -Discover and -Finish, all from the
//! Bootstrap-Server, which access control does not restrict.
//!
//! A bootstrap session is one transaction over the whole data model
//! (SPEC §1 guarantee 6): the caller opens it with
//! [`Registry::begin_session`] when bootstrapping starts and ends it with
//! [`bootstrap_finish`] (or [`Registry::end_session`] with `false` when the
//! session is abandoned). Each request inside still runs in its own inner
//! transaction, so a failed request is undone on its own.

use alloc::vec::Vec;

use super::read::read;
use super::write::apply;
use crate::buf::{Overflow, Writer};
use crate::content::link::LinkWriter;
use crate::content::{DecodeError, Encode, Entry};
use crate::dm::Lwm2mVersion;
use crate::dm::access::{self, Origin};
use crate::dm::attributes::AttributeStore;
use crate::dm::object::{Object, Version};
use crate::dm::oids::{ACCESS_CONTROL, SECURITY, SERVER};
use crate::dm::path::{Iid, Level, Path};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Security object resources used here (Appendix E.1).
const SECURITY_URI: u16 = 0;
const SECURITY_IS_BOOTSTRAP: u16 = 1;
const SECURITY_SSID: u16 = 10;
/// Server object Short Server ID (Appendix E.2).
const SERVER_SSID: u16 = 0;

/// Bootstrap-Read: only the Server (1) and Access Control (2) objects
/// (§6.1 Bootstrap-Read), any depth below them; resources the DM servers
/// cannot read are included.
///
/// Errors: 4.05 on the root; 4.01 for any other object; 4.04 for a missing
/// target; 4.06 / 5.00 from encoding.
pub fn bootstrap_read(
    reg: &Registry,
    path: &Path,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    match path.oid() {
        None => Err(DmError::MethodNotAllowed),
        Some(SERVER | ACCESS_CONTROL) => read(reg, Origin::Bootstrap, path, enc, w),
        Some(_) => Err(DmError::Unauthorized),
    }
}

/// Bootstrap-Write to an object, instance or resource: instances named by
/// the payload are created when missing; resources the object does not
/// define, and executable ones, are ignored (§6.1: "MUST ignore optional
/// resources it does not support"); read-only and server-invisible
/// resources are written.
///
/// Errors: 4.05 on the root or a resource instance; 4.04 for a missing
/// object; 4.00 for values outside `path`, malformed or of the wrong type;
/// whatever a handler returns (4.05 from an object that cannot create).
pub fn bootstrap_write<'a, I>(reg: &mut Registry, path: &Path, entries: I) -> Result<(), DmError>
where
    I: IntoIterator<Item = Result<Entry<'a>, DecodeError>>,
{
    if !matches!(
        path.level(),
        Level::Object | Level::Instance | Level::Resource
    ) {
        return Err(DmError::MethodNotAllowed);
    }
    let oid = path.oid().ok_or(DmError::MethodNotAllowed)?;
    if !reg.contains(oid) {
        return Err(DmError::NotFound);
    }
    let mut txn = reg.transaction();
    if let Some(iid) = path.iid() {
        ensure_instance(txn.object_mut(oid)?, iid)?;
    }
    for entry in entries {
        let entry = entry?;
        let p = entry.path;
        let Some(iid) = p.iid().filter(|_| p.starts_with(path)) else {
            return Err(DmError::BadRequest);
        };
        let obj = txn.object_mut(oid)?;
        ensure_instance(obj, iid)?;
        apply(obj, Origin::Bootstrap, iid, entry, true)?;
    }
    txn.commit()
}

fn ensure_instance(obj: &mut dyn Object, iid: Iid) -> Result<(), DmError> {
    if obj.has_instance(iid) {
        Ok(())
    } else {
        obj.create(iid)
    }
}

fn is_bootstrap_account(security: &dyn Object, iid: Iid) -> bool {
    security
        .read(iid, SECURITY_IS_BOOTSTRAP, None)
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Bootstrap-Delete of the root, an object or an instance: deletes the
/// instances, except the Bootstrap-Server's own Security instance and
/// instances of objects that cannot delete (4.05 from their handler);
/// deleting what does not exist succeeds (§6.1 Bootstrap-Delete). The
/// Access Control instances naming deleted instances go too, and the
/// attributes attached to them.
///
/// Errors: 4.00 on a resource or resource instance; whatever a handler
/// returns besides 4.05.
pub fn bootstrap_delete(
    reg: &mut Registry,
    attrs: &mut AttributeStore,
    path: &Path,
) -> Result<(), DmError> {
    if path.level() >= Level::Resource {
        return Err(DmError::BadRequest);
    }
    let mut targets: Vec<Path> = Vec::new();
    for obj in reg.iter() {
        let oid = obj.def().id;
        if path.oid().is_some_and(|o| o != oid) {
            continue;
        }
        obj.instances(&mut |iid| {
            if path.iid().is_some_and(|i| i != iid)
                || (oid == SECURITY && is_bootstrap_account(obj, iid))
            {
                return;
            }
            targets.push(Path::instance(oid, iid));
        });
    }
    let mut txn = reg.transaction();
    let mut deleted = Vec::with_capacity(targets.len());
    for t in targets {
        let (Some(oid), Some(iid)) = (t.oid(), t.iid()) else {
            continue;
        };
        if !txn.object(oid)?.has_instance(iid) {
            continue; // an Access Control instance already removed with its target
        }
        match txn.object_mut(oid)?.delete(iid) {
            Err(DmError::MethodNotAllowed) => continue,
            r => r?,
        }
        access::on_deleted(&mut txn, oid, iid)?;
        deleted.push(t);
    }
    txn.commit()?;
    for t in &deleted {
        attrs.remove_under(t);
    }
    Ok(())
}

/// Bootstrap-Discover of the root or an object: the enabler version, then
/// every object with `ver` when not 1.0, and its instances; Security
/// instances carry `ssid` (DM server accounts only) and, from LwM2M 1.1,
/// `uri`; Server instances carry `ssid` (§6.1 Bootstrap-Discover). The
/// header is `lwm2m="1.0"` for 1.0 and `</>;lwm2m=1.1` (a proper link) from
/// 1.1 on.
///
/// Errors: 4.00 on an instance or deeper; 4.04 for a missing object; 5.00
/// if `w` is too small.
pub fn bootstrap_discover(
    reg: &Registry,
    path: &Path,
    version: Lwm2mVersion,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    if path.level() >= Level::Instance {
        return Err(DmError::BadRequest);
    }
    if let Some(oid) = path.oid()
        && !reg.contains(oid)
    {
        return Err(DmError::NotFound);
    }
    let mut lw = LinkWriter::new(w);
    bs_discover_into(reg, path, version, &mut lw).map_err(|_| DmError::Internal)
}

fn bs_discover_into(
    reg: &Registry,
    path: &Path,
    version: Lwm2mVersion,
    lw: &mut LinkWriter<'_, '_>,
) -> Result<(), Overflow> {
    match version {
        Lwm2mVersion::V1_0 => {
            lw.bare()?;
            lw.param_quoted("lwm2m", version.as_str())?;
        }
        _ => {
            lw.path_link("", &Path::ROOT)?;
            lw.param_token("lwm2m", version.as_str())?;
        }
    }
    for obj in reg.iter() {
        let def = obj.def();
        if path.oid().is_some_and(|o| o != def.id) {
            continue;
        }
        lw.path_link("", &Path::object(def.id))?;
        if def.version != Version::V1_0 {
            lw.param_token("ver", &alloc::format!("{}", def.version))?;
        }
        let mut result = Ok(());
        obj.instances(&mut |iid| {
            if result.is_ok() {
                result = bs_instance(obj, iid, version, lw);
            }
        });
        result?;
    }
    Ok(())
}

fn bs_instance(
    obj: &dyn Object,
    iid: Iid,
    version: Lwm2mVersion,
    lw: &mut LinkWriter<'_, '_>,
) -> Result<(), Overflow> {
    let oid = obj.def().id;
    lw.path_link("", &Path::instance(oid, iid))?;
    let ssid_rid = match oid {
        SECURITY if !is_bootstrap_account(obj, iid) => Some(SECURITY_SSID),
        SERVER => Some(SERVER_SSID),
        _ => None,
    };
    if let Some(ssid) = ssid_rid
        .and_then(|rid| obj.read(iid, rid, None).ok())
        .and_then(|v| v.as_u64())
    {
        lw.param_uint("ssid", ssid)?;
    }
    if oid == SECURITY
        && version != Lwm2mVersion::V1_0
        && let Ok(v) = obj.read(iid, SECURITY_URI, None)
        && let Some(uri) = v.as_str()
    {
        lw.param_quoted("uri", uri)?;
    }
    Ok(())
}

/// Bootstrap-Finish: ends the session, committing it if every object
/// validates; otherwise the whole data model returns to its state before
/// the session and the answer is 4.06 Not Acceptable (SPEC §1 guarantee
/// 6). Cross-object checks (a Security instance for every Server instance,
/// and so on) belong to the objects' `validate` or to the caller, before
/// this call.
pub fn bootstrap_finish(reg: &mut Registry) -> Result<(), DmError> {
    match reg.end_session(true) {
        Err(DmError::ServiceUnavailable) => Err(DmError::ServiceUnavailable),
        Err(_) => Err(DmError::NotAcceptable),
        Ok(()) => Ok(()),
    }
}
