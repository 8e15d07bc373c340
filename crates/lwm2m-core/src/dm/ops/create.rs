//! Create (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and
//! Service Enablement Interface", Create: `POST /o` with the new instance's
//! resources; 2.01 Created with the new instance's path in Location-Path).

use super::check_object;
use super::write::apply;
use crate::content::{DecodeError, Entry};
use crate::dm::access::{self, Action, Origin, first_free_iid};
use crate::dm::path::{Iid, MAX_ID, Oid, Path};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Creates an instance of object `oid` from `entries` and returns its id
/// (for Location-Path `/oid/iid`).
///
/// `iid` is the instance id the payload names, if it names one; then every
/// entry must be under `/oid/iid`. With `None` the client picks the lowest
/// free id, and the entries (all under one `/oid/x`, whatever placeholder
/// `x` the decoder used for a payload without an instance id) are written
/// to it.
///
/// When a DM server creates the instance and an Access Control object
/// exists, an Access Control instance owned by that server is created in
/// the same transaction ([`crate::dm::access`]).
///
/// Errors: 4.04 for a missing object; 4.01 without the Create right; 4.00
/// if the instance exists (or a single-instance object has one), for a
/// payload outside `/oid/x` or malformed, and when a mandatory resource is
/// absent afterwards; 4.05 if the object does not support creation; the
/// write checks of [`super::write::write`]; whatever a handler or
/// validation returns. A failure at any point leaves no instance behind.
pub fn create<'a, I>(
    reg: &mut Registry,
    origin: Origin,
    oid: Oid,
    iid: Option<Iid>,
    entries: I,
) -> Result<Iid, DmError>
where
    I: IntoIterator<Item = Result<Entry<'a>, DecodeError>>,
{
    let (new_iid, def) = {
        let obj = check_object(reg, origin, oid)?;
        access::check(reg, origin, Action::Create, oid, MAX_ID)?;
        let def = obj.def();
        let new_iid = match iid {
            Some(i) if i == MAX_ID || obj.has_instance(i) => return Err(DmError::BadRequest),
            Some(i) if !def.multiple && i != 0 => return Err(DmError::BadRequest),
            Some(i) => i,
            None if !def.multiple && obj.has_instance(0) => return Err(DmError::BadRequest),
            None if !def.multiple => 0,
            None => first_free_iid(obj).ok_or(DmError::Internal)?,
        };
        (new_iid, def)
    };
    let mut txn = reg.transaction();
    txn.object_mut(oid)?.create(new_iid)?;
    let mut named: Option<Iid> = iid;
    for entry in entries {
        let mut entry = entry?;
        let p = entry.path;
        let (Some(o), Some(x), Some(rid)) = (p.oid(), p.iid(), p.rid()) else {
            return Err(DmError::BadRequest);
        };
        if o != oid || *named.get_or_insert(x) != x {
            return Err(DmError::BadRequest);
        }
        entry.path = match p.riid() {
            Some(riid) => Path::resource_instance(oid, new_iid, rid, riid),
            None => Path::resource(oid, new_iid, rid),
        };
        apply(txn.object_mut(oid)?, origin, new_iid, entry, false)?;
    }
    {
        let obj = txn.object(oid)?;
        if def
            .resources
            .iter()
            .any(|r| r.mandatory && !obj.resource_present(new_iid, r.id))
        {
            return Err(DmError::BadRequest);
        }
    }
    access::on_created(&mut txn, origin, oid, new_iid)?;
    txn.commit()?;
    Ok(new_iid)
}
