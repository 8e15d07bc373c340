//! Discover (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and
//! Service Enablement Interface", Discover: `GET` with
//! `Accept: application/link-format`, 2.05 Content) and the Register /
//! Update object list (§6.2.1 Register, §6.2.2 Update).
//!
//! What Discover reports, per target:
//! - an object: `</o>` with `ver` (when not 1.0) and the object's own
//!   attributes, then its instances and their resources (with `dim` for
//!   multiple resources), without lower-level attributes;
//! - an instance: `</o/i>` with its own attributes, then each resource with
//!   `dim` and its own attributes;
//! - a resource: `</o/i/r>` with `dim` and the attributes in effect
//!   (inherited from the instance and object; the Server object defaults
//!   are not attributes and are not shown), then, for a multiple resource,
//!   each resource instance with its own attributes.
//!
//! The LwM2M 1.2 `depth` query parameter changes how many levels below the
//! target are listed ([`parse_depth`]); without it the 1.1 behaviour above
//! applies.

use super::{check_instance, check_object, resource_def};
use crate::buf::{Overflow, Writer};
use crate::content::link::LinkWriter;
use crate::dm::access::{self, Action, Origin};
use crate::dm::attributes::{AttributeStore, Attributes};
use crate::dm::object::{Object, Version};
use crate::dm::oids::{OSCORE, SECURITY};
use crate::dm::path::{Iid, Level, Path};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// The `depth` Uri-Query parameter (1.2): `depth=0..3`; other query items
/// are ignored. 4.00 for a malformed or repeated depth.
pub fn parse_depth<'q>(query: impl IntoIterator<Item = &'q [u8]>) -> Result<Option<u8>, DmError> {
    let mut depth = None;
    for item in query {
        if let Some(v) = item.strip_prefix(b"depth=") {
            let d = match v {
                [d @ b'0'..=b'3'] => d - b'0',
                _ => return Err(DmError::BadRequest),
            };
            if depth.replace(d).is_some() {
                return Err(DmError::BadRequest);
            }
        } else if item == b"depth" {
            return Err(DmError::BadRequest);
        }
    }
    Ok(depth)
}

struct Ctx<'r, 'a> {
    obj: &'r dyn Object,
    attrs: &'a AttributeStore,
    ssid: Option<u16>,
}

impl Ctx<'_, '_> {
    fn own(&self, path: &Path) -> Attributes {
        self.ssid
            .map_or(Attributes::EMPTY, |s| self.attrs.get(s, path))
    }
    fn effective(&self, path: &Path) -> Attributes {
        self.ssid
            .map_or(Attributes::EMPTY, |s| self.attrs.effective(s, path))
    }
}

fn overflow(_: Overflow) -> DmError {
    DmError::Internal
}

/// Discover of `path` (object, instance or resource) as link format into
/// `w`, showing the requesting server's attributes.
///
/// Errors: 4.05 on the root or a resource instance; 4.04 for a missing
/// object, instance or resource; 4.01 for the Security object from a DM
/// server (Discover is otherwise always allowed); 5.00 if `w` is too small.
pub fn discover(
    reg: &Registry,
    attrs: &AttributeStore,
    origin: Origin,
    path: &Path,
    depth: Option<u8>,
    w: &mut Writer<'_>,
) -> Result<(), DmError> {
    let oid = path.oid().ok_or(DmError::MethodNotAllowed)?;
    if path.level() == Level::ResourceInstance {
        return Err(DmError::MethodNotAllowed);
    }
    let obj = check_object(reg, origin, oid)?;
    let ctx = Ctx {
        obj,
        attrs,
        ssid: match origin {
            Origin::Server(s) => Some(s),
            Origin::Bootstrap => None,
        },
    };
    let mut lw = LinkWriter::new(w);
    let Some(iid) = path.iid() else {
        let depth = depth.unwrap_or(2);
        lw.path_link("", path).map_err(overflow)?;
        let version = obj.def().version;
        if version != Version::V1_0 {
            lw.param_token("ver", &version_text(version))
                .map_err(overflow)?;
        }
        ctx.own(path).write_params(&mut lw).map_err(overflow)?;
        if depth == 0 {
            return Ok(());
        }
        let mut result = Ok(());
        obj.instances(&mut |iid| {
            if result.is_ok() {
                result = instance(&ctx, &mut lw, iid, depth - 1, false);
            }
        });
        return result;
    };
    check_instance(obj, iid)?;
    access::check(reg, origin, Action::Discover, oid, iid)?;
    let Some(rid) = path.rid() else {
        return instance(&ctx, &mut lw, iid, depth.unwrap_or(1), true);
    };
    resource_def(obj, iid, rid)?;
    resource(&ctx, &mut lw, path, depth.unwrap_or(1), Shown::Effective)
}

fn version_text(v: Version) -> alloc::string::String {
    alloc::format!("{v}")
}

/// Which attributes a link shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    None,
    Own,
    Effective,
}

fn instance(
    ctx: &Ctx<'_, '_>,
    lw: &mut LinkWriter<'_, '_>,
    iid: Iid,
    depth: u8,
    with_attrs: bool,
) -> Result<(), DmError> {
    let oid = ctx.obj.def().id;
    let path = Path::instance(oid, iid);
    lw.path_link("", &path).map_err(overflow)?;
    if with_attrs {
        ctx.own(&path).write_params(lw).map_err(overflow)?;
    }
    if depth == 0 {
        return Ok(());
    }
    let shown = if with_attrs { Shown::Own } else { Shown::None };
    for rdef in ctx.obj.def().resources {
        if ctx.obj.resource_present(iid, rdef.id) {
            resource(
                ctx,
                lw,
                &Path::resource(oid, iid, rdef.id),
                depth - 1,
                shown,
            )?;
        }
    }
    Ok(())
}

fn resource(
    ctx: &Ctx<'_, '_>,
    lw: &mut LinkWriter<'_, '_>,
    path: &Path,
    depth: u8,
    shown: Shown,
) -> Result<(), DmError> {
    let (Some(iid), Some(rid)) = (path.iid(), path.rid()) else {
        return Err(DmError::Internal);
    };
    let multiple = ctx.obj.def().resource(rid).is_some_and(|r| r.multiple);
    lw.path_link("", path).map_err(overflow)?;
    if multiple {
        let mut dim = 0u64;
        ctx.obj.resource_instances(iid, rid, &mut |_| dim += 1);
        lw.param_uint("dim", dim).map_err(overflow)?;
    }
    let attrs = match shown {
        Shown::None => Attributes::EMPTY,
        Shown::Own => ctx.own(path),
        Shown::Effective => ctx.effective(path),
    };
    attrs.write_params(lw).map_err(overflow)?;
    if !multiple || depth == 0 {
        return Ok(());
    }
    let mut result = Ok(());
    ctx.obj.resource_instances(iid, rid, &mut |riid| {
        if result.is_err() {
            return;
        }
        let Some(p) = path.child(riid) else {
            return;
        };
        result = lw.path_link("", &p).map_err(overflow).and_then(|()| {
            let a = if shown == Shown::None {
                Attributes::EMPTY
            } else {
                ctx.own(&p)
            };
            a.write_params(lw).map_err(overflow)
        });
    });
    result
}

/// Options for the Register / Update object list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectListOptions<'a> {
    /// Alternate path for the objects (`/lwm2m`), reported with
    /// `rt="oma.lwm2m"`.
    pub alternate_path: Option<&'a str>,
    /// Content formats to advertise with `ct` on the root link (Core 1.1
    /// §6.2.1: a single number, or a quoted space-separated list).
    pub content_formats: &'a [u16],
}

/// The Register / Update payload: `</>;rt="oma.lwm2m";ct=...` when there
/// is an alternate path or formats to advertise, then every object except
/// Security (0) and OSCORE (21), which "MUST NOT be part of this list": an
/// object whose version is not 1.0 as `</o>;ver=x.y`, an object without
/// instances as `</o>`, then `</o/i>` for each instance.
pub fn object_list(
    reg: &Registry,
    opts: &ObjectListOptions<'_>,
    w: &mut Writer<'_>,
) -> Result<(), Overflow> {
    let prefix = opts.alternate_path.unwrap_or("");
    let mut lw = LinkWriter::new(w);
    if opts.alternate_path.is_some() || !opts.content_formats.is_empty() {
        lw.path_link(prefix, &Path::ROOT)?;
        lw.param_quoted("rt", "oma.lwm2m")?;
        match opts.content_formats {
            [] => {}
            [one] => lw.param_uint("ct", (*one).into())?,
            many => {
                let mut list = alloc::string::String::new();
                for (i, f) in many.iter().enumerate() {
                    if i > 0 {
                        list.push(' ');
                    }
                    list.push_str(&alloc::format!("{f}"));
                }
                lw.param_quoted("ct", &list)?;
            }
        }
    }
    for obj in reg.iter() {
        let def = obj.def();
        if def.id == SECURITY || def.id == OSCORE {
            continue;
        }
        let mut any = false;
        obj.instances(&mut |_| any = true);
        if def.version != Version::V1_0 {
            lw.path_link(prefix, &Path::object(def.id))?;
            lw.param_token("ver", &version_text(def.version))?;
        } else if !any {
            lw.path_link(prefix, &Path::object(def.id))?;
        }
        let mut result = Ok(());
        obj.instances(&mut |iid| {
            if result.is_ok() {
                result = lw.path_link(prefix, &Path::instance(def.id, iid));
            }
        });
        result?;
    }
    Ok(())
}
