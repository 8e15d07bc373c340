//! The LwM2M data model: paths, values, objects and the transactions that
//! make every request all-or-nothing.
//!
//! | module | job |
//! |---|---|
//! | [`path`], [`value`] | addressing and typed values |
//! | [`object`] | the [`Object`] trait, `const` definitions, [`Txn`] |
//! | [`registry`] | the objects of a client, typed [`Handle`]s |
//! | [`txn`] | request transactions and the bootstrap session |
//! | [`access`] | Access Control (object 2) and the Security object rule |
//! | [`attributes`] | notification attributes per server |
//! | [`request`] | CoAP request → LwM2M [`Operation`] |
//! | [`ops`] | the operations themselves |

pub mod access;
pub mod attributes;
pub mod object;
pub mod ops;
pub mod path;
pub mod registry;
pub mod request;
pub mod txn;
pub mod value;

#[cfg(test)]
pub(crate) mod testutil;

pub use access::{AccessMask, Action, Origin, Ssid};
pub use attributes::{AttrError, AttrUpdate, AttributeStore, Attributes};
pub use object::{Object, ObjectDef, Operations, ResourceDef, Txn, Version};
pub use ops::execute::{Arg, ArgsError, ExecuteArgs};
pub use ops::write::WriteMode;
pub use path::{Iid, Level, MAX_ID, Oid, Path, PathError, Rid, Riid};
pub use registry::{Handle, Registry, RegistryError};
pub use request::{Interface, Operation, RequestHead, Target, classify};
pub use txn::{Suspended, Transaction};
pub use value::{DataType, ObjLnk, TypeMismatch, Value};

use crate::content::link::LinkLimits;

/// Object IDs the core itself relies on (OMA LwM2M registry; Core 1.1
/// Appendix E).
pub mod oids {
    use super::Oid;
    /// LwM2M Security.
    pub const SECURITY: Oid = 0;
    /// LwM2M Server.
    pub const SERVER: Oid = 1;
    /// Access Control.
    pub const ACCESS_CONTROL: Oid = 2;
    /// Device.
    pub const DEVICE: Oid = 3;
    /// Firmware Update.
    pub const FIRMWARE_UPDATE: Oid = 5;
    /// OSCORE (never listed in Register, like Security).
    pub const OSCORE: Oid = 21;
}

/// An LwM2M enabler version, as reported in Register (`lwm2m=`) and
/// Bootstrap-Discover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Lwm2mVersion {
    /// 1.0.
    V1_0,
    /// 1.1.
    V1_1,
    /// 1.2.
    V1_2,
}

impl Lwm2mVersion {
    /// `"1.0"`, `"1.1"`, `"1.2"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lwm2mVersion::V1_0 => "1.0",
            Lwm2mVersion::V1_1 => "1.1",
            Lwm2mVersion::V1_2 => "1.2",
        }
    }
}

/// Bounds of the data-model layer (part of [`crate::config::Limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DmLimits {
    /// Most paths with attributes attached, over all servers; one more is
    /// refused with 5.00 ([`attributes::Full`]).
    pub max_attributes: usize,
    /// Most Execute arguments in one request (4.00 beyond).
    pub max_execute_args: usize,
    /// Most paths in one Read-Composite / Observe-Composite (4.13 beyond).
    pub max_composite_paths: usize,
    /// Bounds for parsing link-format payloads (the server side).
    pub link: LinkLimits,
}

impl Default for DmLimits {
    fn default() -> Self {
        DmLimits {
            max_attributes: 64,
            max_execute_args: 10,
            max_composite_paths: 32,
            link: LinkLimits::default(),
        }
    }
}
