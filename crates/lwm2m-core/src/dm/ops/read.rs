//! Read (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and Service
//! Enablement Interface", Read: `GET /o[/i[/r[/ri]]]`, 2.05 Content).
//!
//! Values go to the encoder in path order. Reading an object skips the
//! instances access control hides; reading an instance skips absent
//! optional resources and resources that are not readable; a multiple
//! resource is read as its resource instances.

use super::{check_instance, check_object, encode_error, readable_by, resource_def};
use crate::buf::Writer;
use crate::content::{Encode, Entry};
use crate::dm::access::{self, Action, Origin};
use crate::dm::object::{Object, ResourceDef};
use crate::dm::oids::SECURITY;
use crate::dm::path::{Iid, Level, Oid, Path, Riid};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Read of `path` (object, instance, resource or resource instance) into
/// `enc`: `begin`, one `put` per value, `end`.
///
/// Errors: 4.05 on the root or on a resource that is not readable; 4.04
/// for a missing object, instance, resource or resource instance; 4.01 when
/// access control denies it (always for the Security object from a DM
/// server); 4.06 if the format cannot carry a value; 5.03 while another
/// server's block-wise transfer holds the object; 5.00 if a handler
/// returns a value of the wrong type or the output buffer is full.
pub fn read(
    reg: &Registry,
    origin: Origin,
    path: &Path,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    if path.is_root() {
        return Err(DmError::MethodNotAllowed);
    }
    enc.begin(w).map_err(encode_error)?;
    read_path(reg, origin, path, enc, w)?;
    enc.end(w).map_err(encode_error)
}

/// Reads `path` (the root too: every object the origin may see) without
/// `begin`/`end`, for Read and Read-Composite.
pub(crate) fn read_path(
    reg: &Registry,
    origin: Origin,
    path: &Path,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    let Some(oid) = path.oid() else {
        for obj in reg.iter() {
            let oid = obj.def().id;
            if matches!(origin, Origin::Server(_)) && oid == SECURITY {
                continue;
            }
            reg.check_unlocked(oid)?;
            read_object(reg, origin, obj, enc, w)?;
        }
        return Ok(());
    };
    let obj = check_object(reg, origin, oid)?;
    let Some(iid) = path.iid() else {
        return read_object(reg, origin, obj, enc, w);
    };
    check_instance(obj, iid)?;
    let Some(rid) = path.rid() else {
        access::check(reg, origin, Action::Read, oid, iid)?;
        return read_instance(obj, origin, oid, iid, enc, w);
    };
    let rdef = resource_def(obj, iid, rid)?;
    access::check(reg, origin, Action::Read, oid, iid)?;
    if !readable_by(rdef.operations, origin) {
        return Err(DmError::MethodNotAllowed);
    }
    match path.riid() {
        None => read_resource(obj, path, rdef, enc, w),
        Some(riid) => {
            if !rdef.multiple || !has_resource_instance(obj, iid, rid, riid) {
                return Err(DmError::NotFound);
            }
            emit(obj, path, rdef, enc, w)
        }
    }
}

fn has_resource_instance(obj: &dyn Object, iid: Iid, rid: u16, riid: Riid) -> bool {
    let mut found = false;
    obj.resource_instances(iid, rid, &mut |r| found |= r == riid);
    found
}

fn read_object(
    reg: &Registry,
    origin: Origin,
    obj: &dyn Object,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    let oid = obj.def().id;
    let mut result = Ok(());
    obj.instances(&mut |iid| {
        if result.is_ok() && access::check(reg, origin, Action::Read, oid, iid).is_ok() {
            result = read_instance(obj, origin, oid, iid, enc, w);
        }
    });
    result
}

fn read_instance(
    obj: &dyn Object,
    origin: Origin,
    oid: Oid,
    iid: Iid,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    for rdef in obj.def().resources {
        if !obj.resource_present(iid, rdef.id) || !readable_by(rdef.operations, origin) {
            continue;
        }
        let path = Path::resource(oid, iid, rdef.id);
        match read_resource(obj, &path, rdef, enc, w) {
            Err(DmError::NotFound | DmError::MethodNotAllowed) => {}
            other => other?,
        }
    }
    Ok(())
}

/// A resource: its value, or each of its resource instances.
fn read_resource(
    obj: &dyn Object,
    path: &Path,
    rdef: &ResourceDef,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    if !rdef.multiple {
        return emit(obj, path, rdef, enc, w);
    }
    let (Some(iid), Some(rid)) = (path.iid(), path.rid()) else {
        return Err(DmError::Internal);
    };
    let mut result = Ok(());
    obj.resource_instances(iid, rid, &mut |riid| {
        if result.is_err() {
            return;
        }
        let Some(p) = path.child(riid) else {
            return;
        };
        result = match emit(obj, &p, rdef, enc, w) {
            Err(DmError::NotFound | DmError::MethodNotAllowed) => Ok(()),
            other => other,
        };
    });
    result
}

/// Reads one value (a single resource or a resource instance) and pushes
/// it, converted to the declared type.
fn emit(
    obj: &dyn Object,
    path: &Path,
    rdef: &ResourceDef,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    let (Some(iid), Some(rid)) = (path.iid(), path.rid()) else {
        return Err(DmError::Internal);
    };
    debug_assert!(path.level() >= Level::Resource);
    let value = obj.read(iid, rid, path.riid())?;
    // Handlers nearly always answer in the declared type: skip the
    // conversion then (once per value of every Read).
    let value = if value.data_type() == rdef.data_type {
        value
    } else {
        value
            .coerce(rdef.data_type)
            .map_err(|_| DmError::Internal)?
    };
    enc.put(w, &Entry::new(*path, value)).map_err(encode_error)
}
