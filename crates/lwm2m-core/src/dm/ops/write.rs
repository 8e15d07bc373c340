//! Write (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and Service
//! Enablement Interface", Write): replace (`PUT`) and partial update
//! (`POST`) on an object instance, a resource or a resource instance; 2.04
//! Changed.
//!
//! - Replace on an instance resets the instance first ([`Object::reset`]),
//!   so resources not in the payload go back to their defaults.
//! - Replace on a multiple resource replaces all its resource instances.
//! - Partial update writes what the payload carries and keeps the rest
//!   (resource instances not in the payload included).
//!
//! The whole request is one transaction: a decode error, a check or a
//! handler failing on the last value undoes the earlier ones.

use super::{check_instance, check_object, resource_def, writable_by};
use crate::content::{DecodeError, Entry};
use crate::dm::access::{self, Action, Origin};
use crate::dm::object::Object;
use crate::dm::path::{Iid, Level, Path};
use crate::dm::registry::Registry;
use crate::dm::txn::Transaction;
use crate::error::DmError;

/// Replace or partial update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteMode {
    /// `PUT`: the payload replaces the target.
    Replace,
    /// `POST`: the payload updates the target.
    Update,
}

/// Write of `entries` (absolute paths under `path`) to `path` (instance,
/// resource or resource instance).
///
/// Errors: 4.05 on the root or an object, or on a resource that is not
/// writable; 4.04 for a missing object or instance, a resource the object
/// does not define, or a target resource that is absent (an optional
/// resource is added through a write on its instance); 4.01 when access
/// control denies it; 4.00 for a
/// payload that is malformed, outside `path`, of the wrong type or shape
/// (a value for a multiple resource without a resource instance id, and the
/// reverse), or empty when the target is one value; 4.13 / 4.15 from the
/// decoder; whatever a handler or [`Object::validate`] returns.
pub fn write<'a, I>(
    reg: &mut Registry,
    origin: Origin,
    path: &Path,
    mode: WriteMode,
    entries: I,
) -> Result<(), DmError>
where
    I: IntoIterator<Item = Result<Entry<'a>, DecodeError>>,
{
    let (Some(oid), Some(iid)) = (path.oid(), path.iid()) else {
        return Err(DmError::MethodNotAllowed);
    };
    let target = {
        let obj = check_object(reg, origin, oid)?;
        check_instance(obj, iid)?;
        let target = match path.rid() {
            Some(rid) => Some(resource_def(obj, iid, rid)?),
            None => None,
        };
        access::check(reg, origin, Action::Write, oid, iid)?;
        if let Some(rdef) = target {
            if !writable_by(rdef.operations, origin) {
                return Err(DmError::MethodNotAllowed);
            }
            if path.riid().is_some() && !rdef.multiple {
                return Err(DmError::NotFound);
            }
        }
        target
    };
    let mut txn = reg.transaction();
    if mode == WriteMode::Replace {
        let obj = txn.object_mut(oid)?;
        match target {
            None => obj.reset(iid, None)?,
            Some(rdef) if rdef.multiple && path.riid().is_none() => {
                obj.reset(iid, Some(rdef.id))?;
            }
            Some(_) => {}
        }
    }
    let mut written = 0usize;
    for entry in entries {
        let entry = entry?;
        if !entry.path.starts_with(path) {
            return Err(DmError::BadRequest);
        }
        apply(txn.object_mut(oid)?, origin, iid, entry, false)?;
        written += 1;
    }
    let one_value = match target {
        Some(rdef) => !rdef.multiple || path.riid().is_some(),
        None => false,
    };
    if one_value && written == 0 {
        return Err(DmError::BadRequest);
    }
    txn.commit()
}

/// Writes one decoded value to instance `iid` of `obj`, after checking it
/// against the definition. `lenient` is Bootstrap-Write's rule (§6.1: the
/// client ignores resources it does not support, and executable ones).
pub(crate) fn apply(
    obj: &mut dyn Object,
    origin: Origin,
    iid: Iid,
    entry: Entry<'_>,
    lenient: bool,
) -> Result<(), DmError> {
    let path = entry.path;
    let rid = match (path.level(), path.rid()) {
        (Level::Resource | Level::ResourceInstance, Some(rid)) => rid,
        _ => return Err(DmError::BadRequest),
    };
    let Some(rdef) = obj.def().resource(rid) else {
        return if lenient {
            Ok(())
        } else {
            Err(DmError::NotFound)
        };
    };
    if !writable_by(rdef.operations, origin) {
        return if lenient {
            Ok(())
        } else {
            Err(DmError::MethodNotAllowed)
        };
    }
    let riid = path.riid();
    if rdef.multiple != riid.is_some() {
        return Err(DmError::BadRequest);
    }
    let value = entry.value.coerce(rdef.data_type)?;
    if rdef.streaming {
        let bytes = value.as_bytes().ok_or(DmError::BadRequest)?;
        obj.write_chunk(iid, rid, 0, bytes, true)
    } else {
        obj.write(iid, rid, riid, value)
    }
}

/// One chunk of a block-wise write to a streaming resource (SPEC §1
/// guarantee 3), inside a transaction the caller keeps open between
/// datagrams with [`Transaction::suspend`] / [`Registry::resume`] and ends
/// with [`Transaction::commit`] after the last chunk, or rolls back if the
/// transfer is abandoned.
///
/// Errors: 4.05 unless `path` is a writable streaming resource; 4.04, 4.01
/// as for [`write()`]; 5.03 if another transaction holds the object.
pub fn write_chunk(
    txn: &mut Transaction<'_>,
    origin: Origin,
    path: &Path,
    offset: usize,
    bytes: &[u8],
    last: bool,
) -> Result<(), DmError> {
    let (Level::Resource, Some(oid), Some(iid), Some(rid)) =
        (path.level(), path.oid(), path.iid(), path.rid())
    else {
        return Err(DmError::MethodNotAllowed);
    };
    access::check_object(origin, oid)?;
    let obj = txn.object(oid)?;
    check_instance(obj, iid)?;
    let rdef = resource_def(obj, iid, rid)?;
    access::check(txn.registry(), origin, Action::Write, oid, iid)?;
    if !rdef.streaming || !writable_by(rdef.operations, origin) {
        return Err(DmError::MethodNotAllowed);
    }
    txn.object_mut(oid)?
        .write_chunk(iid, rid, offset, bytes, last)
}
