//! Small conversions shared by the built-in objects: values in (a handler
//! receives a value already coerced to the declared type; anything else is
//! 4.00) and values read back through the [`Object`] trait by the typed
//! helpers, so any implementation of an object works with them.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::dm::{Iid, ObjLnk, Object, Rid, Riid, Value};
use crate::error::DmError;

pub(crate) fn int(v: &Value<'_>) -> Result<i64, DmError> {
    v.as_i64().ok_or(DmError::BadRequest)
}

pub(crate) fn uint(v: &Value<'_>) -> Result<u64, DmError> {
    v.as_u64().ok_or(DmError::BadRequest)
}

pub(crate) fn boolean(v: &Value<'_>) -> Result<bool, DmError> {
    v.as_bool().ok_or(DmError::BadRequest)
}

pub(crate) fn string(v: Value<'_>) -> Result<String, DmError> {
    match v {
        Value::String(s) | Value::Corelnk(s) => Ok(s.into_owned()),
        _ => Err(DmError::BadRequest),
    }
}

pub(crate) fn bytes(v: Value<'_>) -> Result<Vec<u8>, DmError> {
    match v {
        Value::Opaque(b) => Ok(b.into_owned()),
        _ => Err(DmError::BadRequest),
    }
}

pub(crate) fn objlnk(v: &Value<'_>) -> Result<ObjLnk, DmError> {
    match v {
        Value::Objlnk(l) => Ok(*l),
        _ => Err(DmError::BadRequest),
    }
}

/// Reads a value, `None` if absent or unreadable.
pub(crate) fn read<'a>(
    obj: &'a dyn Object,
    iid: Iid,
    rid: Rid,
    riid: Option<Riid>,
) -> Option<Value<'a>> {
    if !obj.resource_present(iid, rid) {
        return None;
    }
    obj.read(iid, rid, riid).ok()
}

pub(crate) fn read_i64(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<i64> {
    read(obj, iid, rid, None)?.as_i64()
}

pub(crate) fn read_u64(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<u64> {
    read(obj, iid, rid, None)?.as_u64()
}

pub(crate) fn read_bool(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<bool> {
    read(obj, iid, rid, None)?.as_bool()
}

pub(crate) fn read_str(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<Cow<'_, str>> {
    match read(obj, iid, rid, None)? {
        Value::String(s) | Value::Corelnk(s) => Some(s),
        _ => None,
    }
}

pub(crate) fn read_bytes(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<Cow<'_, [u8]>> {
    match read(obj, iid, rid, None)? {
        Value::Opaque(b) => Some(b),
        _ => None,
    }
}

/// The values of multiple resource `rid`, in resource-instance order.
pub(crate) fn read_multi<'a>(obj: &'a dyn Object, iid: Iid, rid: Rid) -> Vec<(Riid, Value<'a>)> {
    let mut riids = Vec::new();
    if obj.resource_present(iid, rid) {
        obj.resource_instances(iid, rid, &mut |r| riids.push(r));
    }
    riids
        .into_iter()
        .filter_map(|r| Some((r, obj.read(iid, rid, Some(r)).ok()?)))
        .collect()
}

/// The instance ids of `obj`, in increasing order.
pub(crate) fn instances(obj: &dyn Object) -> Vec<Iid> {
    let mut v = Vec::new();
    obj.instances(&mut |i| v.push(i));
    v
}
