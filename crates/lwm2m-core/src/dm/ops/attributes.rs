//! Write-Attributes (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management
//! and Service Enablement Interface", Write-Attributes: `PUT` with
//! Uri-Query items and no payload, 2.04 Changed). The rules are in
//! [`crate::dm::attributes`].

use super::{check_instance, check_object};
use crate::dm::access::{self, Action, Origin};
use crate::dm::attributes::{AttrUpdate, AttributeStore};
use crate::dm::path::Path;
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Applies the Uri-Query items `query` (`pmin=10`, a bare `pmin` to remove)
/// to the attributes the requesting server has at `path` (object, instance,
/// resource or resource instance).
///
/// Errors: 4.05 on the root or from the Bootstrap-Server (attributes belong
/// to DM servers); 4.04 for a missing target; 4.01 without the Read right
/// (always on the Security object); 4.00 for an unknown, malformed,
/// repeated or inapplicable attribute or a broken validity rule; 5.00 when
/// the attribute store is full. On any error nothing changes.
pub fn write_attributes<'q>(
    reg: &Registry,
    attrs: &mut AttributeStore,
    origin: Origin,
    path: &Path,
    query: impl IntoIterator<Item = &'q [u8]>,
) -> Result<(), DmError> {
    let Origin::Server(ssid) = origin else {
        return Err(DmError::MethodNotAllowed);
    };
    let oid = path.oid().ok_or(DmError::MethodNotAllowed)?;
    let obj = check_object(reg, origin, oid)?;
    let mut data_type = None;
    if let Some(iid) = path.iid() {
        check_instance(obj, iid)?;
        if let Some(rid) = path.rid() {
            let rdef = super::resource_def(obj, iid, rid)?;
            if let Some(riid) = path.riid() {
                let mut found = false;
                obj.resource_instances(iid, rid, &mut |r| found |= r == riid);
                if !rdef.multiple || !found {
                    return Err(DmError::NotFound);
                }
            }
            data_type = Some(rdef.data_type);
        }
        access::check(reg, origin, Action::WriteAttributes, oid, iid)?;
    }
    let update = AttrUpdate::parse(query).map_err(|_| DmError::BadRequest)?;
    update
        .check_target(path.level(), data_type)
        .map_err(|_| DmError::BadRequest)?;
    let new = update.apply(&attrs.get(ssid, path));
    new.check().map_err(|_| DmError::BadRequest)?;
    attrs.set(ssid, path, new).map_err(|_| DmError::Internal)
}
