//! Delete (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and
//! Service Enablement Interface", Delete: `DELETE /o/i`, 2.02 Deleted).

use super::{check_instance, check_object};
use crate::dm::access::{self, Action, Origin};
use crate::dm::attributes::AttributeStore;
use crate::dm::path::{Level, Path};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Deletes object instance `path`, the Access Control instances that name
/// it (same transaction) and, once committed, the attributes attached at or
/// below it for every server.
///
/// Errors: 4.05 unless `path` is an object instance (the DM interface
/// deletes instances only) or the object does not support deletion; 4.04
/// for a missing object or instance; 4.01 without the Delete right (always
/// on the Security object from a DM server); whatever the handler or
/// validation returns.
pub fn delete(
    reg: &mut Registry,
    attrs: &mut AttributeStore,
    origin: Origin,
    path: &Path,
) -> Result<(), DmError> {
    let (Level::Instance, Some(oid), Some(iid)) = (path.level(), path.oid(), path.iid()) else {
        return Err(DmError::MethodNotAllowed);
    };
    {
        let obj = check_object(reg, origin, oid)?;
        check_instance(obj, iid)?;
        access::check(reg, origin, Action::Delete, oid, iid)?;
    }
    let mut txn = reg.transaction();
    txn.object_mut(oid)?.delete(iid)?;
    access::on_deleted(&mut txn, oid, iid)?;
    txn.commit()?;
    attrs.remove_under(path);
    Ok(())
}
