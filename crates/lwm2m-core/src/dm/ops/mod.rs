//! The Device Management and Bootstrap operations on the data model
//! (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and Service
//! Enablement Interface", §6.1 "Bootstrap Interface"), one file each.
//!
//! Every operation takes the [`Registry`], the requesting [`Origin`] and the
//! request's path; output goes through an [`crate::content::Encode`] into a
//! [`crate::buf::Writer`] (or straight into the writer for link format),
//! input comes as an iterator of decoded [`crate::content::Entry`] values.
//! Which format is used is the caller's choice. Every failure is a
//! [`DmError`]; `error.rs` alone maps it to a CoAP code.
//!
//! Checks come before any handler runs, in the order the TS response tables
//! suggest: wrong path depth for the operation (4.05), missing object,
//! instance or resource (4.04), access control (4.01), the resource's
//! operations (4.05), then the payload (4.00). Operations that change state
//! run in one [`crate::dm::Transaction`] over every object they touch; any
//! failure rolls all of them back.
//!
//! Entry points:
//!
//! | operation | function |
//! |---|---|
//! | Read, Observe's first answer | [`read::read`] |
//! | Read-Composite | [`composite::read_composite`] |
//! | Write replace / partial update | [`write::write`] |
//! | streaming write (firmware package) | [`write::write_chunk`] |
//! | Write-Composite | [`composite::write_composite`] |
//! | Execute | [`execute::execute`] |
//! | Create | [`create::create`] |
//! | Delete | [`delete::delete`] |
//! | Discover | [`discover::discover`] |
//! | Register / Update object list | [`discover::object_list`] |
//! | Write-Attributes | [`attributes::write_attributes`] |
//! | Bootstrap-Read / -Write / -Delete / -Discover / -Finish | [`bootstrap`] |

pub mod attributes;
pub mod bootstrap;
pub mod composite;
pub mod create;
pub mod delete;
pub mod discover;
pub mod execute;
pub mod read;
pub mod write;

#[cfg(test)]
mod tests;

use super::access::{self, Origin};
use super::object::{Object, Operations, ResourceDef};
use super::path::{Iid, Oid, Rid};
use super::registry::Registry;
use crate::content::EncodeError;
use crate::error::DmError;

/// The object `oid` as seen by `origin`: 4.01 for the Security object from
/// a DM server, 4.04 if absent, 5.03 while a suspended transaction holds it.
pub(crate) fn check_object(
    reg: &Registry,
    origin: Origin,
    oid: Oid,
) -> Result<&dyn Object, DmError> {
    access::check_object(origin, oid)?;
    let obj = reg.get(oid).ok_or(DmError::NotFound)?;
    reg.check_unlocked(oid)?;
    Ok(obj)
}

/// 4.04 unless instance `iid` exists.
pub(crate) fn check_instance(obj: &dyn Object, iid: Iid) -> Result<(), DmError> {
    if obj.has_instance(iid) {
        Ok(())
    } else {
        Err(DmError::NotFound)
    }
}

/// The definition of resource `rid`, if it is defined and present in
/// instance `iid`; 4.04 otherwise.
pub(crate) fn resource_def(
    obj: &dyn Object,
    iid: Iid,
    rid: Rid,
) -> Result<&'static ResourceDef, DmError> {
    let rdef = obj.def().resource(rid).ok_or(DmError::NotFound)?;
    if obj.resource_present(iid, rid) {
        Ok(rdef)
    } else {
        Err(DmError::NotFound)
    }
}

/// Whether `origin` may read a resource with these operations: DM servers
/// need R; the Bootstrap-Server reads anything that is not executable
/// (Bootstrap-Read of the Server object includes what DM servers cannot
/// see).
pub(crate) fn readable_by(ops: Operations, origin: Origin) -> bool {
    match origin {
        Origin::Server(_) => ops.readable(),
        Origin::Bootstrap => !ops.executable(),
    }
}

/// Whether `origin` may write a resource with these operations: DM servers
/// need W; the Bootstrap-Server writes anything that is not executable
/// (Core 1.1 §6.1 Bootstrap-Write sets read-only and server-invisible
/// resources such as the Short Server ID and the Security keys).
pub(crate) fn writable_by(ops: Operations, origin: Origin) -> bool {
    match origin {
        Origin::Server(_) => ops.writable(),
        Origin::Bootstrap => !ops.executable(),
    }
}

/// An encoder failure as an outcome: a value the format cannot carry is
/// 4.06; a full output buffer is 5.00 (the caller sizes the buffer, e.g. a
/// Block2 snapshot, from its limits).
pub(crate) fn encode_error(e: EncodeError) -> DmError {
    match e {
        EncodeError::Unrepresentable => DmError::NotAcceptable,
        _ => DmError::Internal,
    }
}
