//! Read-Composite and Write-Composite (OMA-TS-LightweightM2M_Core 1.1 §6.3
//! "Device Management and Service Enablement Interface": `FETCH /` with a
//! list of paths, 2.05 Content; `iPATCH /` with values at several paths,
//! 2.04 Changed).

use alloc::vec::Vec;

use super::read::read_path;
use super::write::apply;
use super::{check_instance, encode_error};
use crate::buf::Writer;
use crate::content::{DecodeError, Encode, Entry};
use crate::dm::access::{self, Action, Origin};
use crate::dm::path::Path;
use crate::dm::registry::Registry;
use crate::error::DmError;

/// Read-Composite of `paths` (any depth, the root included) into one
/// payload: `begin`, every value of every path in path order, `end`.
/// Overlapping paths are read once; a path that does not exist, is
/// forbidden or not readable contributes nothing (the TS answers the rest).
///
/// Errors: 4.00 / 4.13 / 4.15 from the decoder; 4.13 for more than
/// `max_paths` paths; 4.06, 5.03, 5.00 as for [`super::read::read`].
pub fn read_composite<I>(
    reg: &Registry,
    origin: Origin,
    paths: I,
    max_paths: usize,
    enc: &mut dyn Encode,
    w: &mut Writer<'_>,
) -> Result<(), DmError>
where
    I: IntoIterator<Item = Result<Path, DecodeError>>,
{
    let mut list = Vec::new();
    for p in paths {
        if list.len() >= max_paths {
            return Err(DmError::RequestEntityTooLarge);
        }
        list.push(p?);
    }
    list.sort_unstable();
    enc.begin(w).map_err(encode_error)?;
    let mut covered: Option<Path> = None;
    for p in list {
        if covered.is_some_and(|c| p.starts_with(&c)) {
            continue;
        }
        covered = Some(p);
        match read_path(reg, origin, &p, enc, w) {
            Err(DmError::NotFound | DmError::Unauthorized | DmError::MethodNotAllowed) | Ok(()) => {
            }
            Err(e) => return Err(e),
        }
    }
    enc.end(w).map_err(encode_error)
}

/// Write-Composite of `entries` (resources and resource instances of any
/// objects), all in one transaction: if any value fails its checks, its
/// handler or validation, no object changes. Each value is a partial
/// update of its target.
///
/// Errors: 4.00 for a value above resource level, malformed or of the wrong
/// type; 4.04 for a missing object, instance or resource; 4.01 without the
/// Write right (always on the Security object); 4.05 for a resource that
/// is not writable; 5.03 while another transfer holds an object; whatever a
/// handler or validation returns.
pub fn write_composite<'a, I>(reg: &mut Registry, origin: Origin, entries: I) -> Result<(), DmError>
where
    I: IntoIterator<Item = Result<Entry<'a>, DecodeError>>,
{
    let mut txn = reg.transaction();
    for entry in entries {
        let entry = entry?;
        let p = entry.path;
        let (Some(oid), Some(iid), Some(_)) = (p.oid(), p.iid(), p.rid()) else {
            return Err(DmError::BadRequest);
        };
        access::check_object(origin, oid)?;
        check_instance(txn.object(oid)?, iid)?;
        access::check(txn.registry(), origin, Action::Write, oid, iid)?;
        apply(txn.object_mut(oid)?, origin, iid, entry, false)?;
    }
    txn.commit()
}
