//! What survives a restart, as bytes in and bytes out (SPEC §4): the
//! instances of the Security (0), Server (1) and Access Control (2) objects,
//! the notification attributes of every server, and opaque sections the
//! client engine adds (observations, stored notifications). No files here:
//! the `lwm2m` crate writes these bytes atomically to the state file.
//!
//! - [`save`] reads the chosen objects generically through the [`Object`]
//!   trait (any implementation of Security, Server or Access Control works)
//!   and writes the state into a caller's bounded [`Writer`]; [`save_to_vec`]
//!   does the same into a `Vec` no longer than a given bound.
//! - [`load`] checks the bytes and restores them inside one whole-data-model
//!   transaction (a [`Registry::begin_session`] session): every instance of
//!   each saved object is deleted, the saved instances are created and their
//!   resources written, every object validates, and the attribute store is
//!   replaced. On any error the session is rolled back and the attribute
//!   store untouched: the data model is exactly as it was.
//!
//! Call [`save`] after every committed change that touches a saved object or
//! the attributes (a Write, Create, Delete or Write-Attributes that
//! committed, a Bootstrap-Finish that committed), never inside a bootstrap
//! session: a save that would record uncommitted state fails with
//! [`SaveError::Busy`].
//!
//! # Format, version 1
//!
//! Every integer is big-endian. The file is a 20-byte header and a body:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `89 4C 57 4D 32 4D 53 0A` (`\x89LWM2MS\n`; the non-ASCII first byte and the line feed catch text-mode mangling, as PNG's signature does) |
//! | 8 | 2 | format version: 1 |
//! | 10 | 2 | flags: 0; a reader fails on any bit it does not know |
//! | 12 | 4 | body length `N` |
//! | 16 | 4 | CRC-32 of the body (zlib's CRC-32: CRC-32/ISO-HDLC) |
//! | 20 | `N` | body |
//!
//! Nothing may follow the body. The body is a sequence of sections, each
//! `tag: u8`, `length: u32`, then `length` bytes of content that must be
//! consumed exactly:
//!
//! - tag 1, **object**: `oid: u16`, the object's version `major: u8`,
//!   `minor: u8` (informative), `instance count: u16`, then per instance in
//!   strictly increasing id order `iid: u16`, `resource count: u16`, then per
//!   resource in strictly increasing id order `rid: u16` and either
//!   `0: u8` and one value (single resource) or `1: u8`, `count: u16` and
//!   per resource instance, increasing, `riid: u16` and one value (multiple
//!   resource). Object sections appear in strictly increasing `oid` order; a
//!   section with no instance records an object that had none.
//! - tag 2, **attributes** (at most one section): `count: u32`, then per
//!   entry in strictly increasing (server, path) order `ssid: u16`,
//!   `path length: u8` (1 to 4), the path's ids (`u16` each), `mask: u16`
//!   (bit 0 pmin, 1 pmax, 2 gt, 3 lt, 4 st, 5 epmin, 6 epmax, 7 edge, 8 con,
//!   9 hqmax; other bits zero; never zero), then each attribute whose bit is
//!   set, in bit order; pmin, pmax, epmin, epmax and hqmax are `u32`, gt, lt
//!   and st finite IEEE 754 `f64`, edge and con `u8` 0 or 1. The attributes
//!   of one entry pass [`Attributes::check`].
//! - tag 3, **extra**: `kind: u16` and the rest of the section as opaque
//!   bytes ([`Extra`]); any number, in any order. New kinds of state need
//!   no new format version.
//!
//! A value is `type: u8` and its payload: 1 String (`len: u32`, UTF-8), 2
//! Integer (`i64`), 3 Unsigned Integer (`u64`), 4 Float (`f64` bits),
//! 5 Boolean (`u8` 0 or 1), 6 Opaque (`len: u32`, bytes), 7 Time (`i64`),
//! 8 Objlnk (`oid: u16`, `iid: u16`), 9 Corelnk (`len: u32`, UTF-8). Values
//! carry their own type, so a file reads back exactly (every bit of a float,
//! Time distinct from Integer) whatever content formats the build has; on
//! load a value is converted to the resource's declared type
//! ([`Value::coerce`]).
//!
//! A change that old readers would misread bumps the format version; old
//! files then fail with [`PersistError::UnsupportedVersion`] and the
//! application falls back to its factory configuration.
//!
//! # Which resources are saved
//!
//! Every present resource of every instance, except executable and streaming
//! ones. A read answering [`DmError::NotFound`] marks the resource absent and
//! [`DmError::MethodNotAllowed`] marks it not kept by the object; both are
//! skipped. On load, an object may answer `MethodNotAllowed` to a write of a
//! resource its definition does not make writable (a value it computes);
//! that resource is skipped too. Objects restored this way must implement
//! `create` and `delete` (Security, Server and Access Control do: Bootstrap
//! needs them).
//!
//! [`Object`]: crate::dm::Object
//! [`Registry::begin_session`]: crate::dm::Registry::begin_session
//! [`Value::coerce`]: crate::dm::Value::coerce
//! [`Attributes::check`]: crate::dm::Attributes::check
//! [`Writer`]: crate::buf::Writer

mod crc;
mod decode;
mod encode;
#[cfg(test)]
mod tests;

use core::fmt;

use crate::dm::{Oid, Path, oids};
use crate::error::DmError;

pub use decode::{Extras, Loaded, extras, load};
pub use encode::{save, save_to_vec};

/// The first eight bytes of every state file.
pub const MAGIC: [u8; 8] = *b"\x89LWM2MS\n";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the header before the body.
pub const HEADER_LEN: usize = 20;
/// The objects persisted by default: Security, Server, Access Control.
pub const DEFAULT_OBJECTS: [Oid; 3] = [oids::SECURITY, oids::SERVER, oids::ACCESS_CONTROL];

/// Extra-section kinds reserved for the client engine. Applications may use
/// kinds from [`extra_kind::APPLICATION`] up.
pub mod extra_kind {
    /// Observations (RFC 7641 registrations) to re-establish after a
    /// restart.
    pub const OBSERVATIONS: u16 = 1;
    /// Notifications stored while a server was unreachable (Server object
    /// /1/x/6).
    pub const STORED_NOTIFICATIONS: u16 = 2;
    /// Firmware Update download progress (resumable PULL).
    pub const FIRMWARE_DOWNLOAD: u16 = 3;
    /// First kind free for the application.
    pub const APPLICATION: u16 = 0x8000;
}

/// An opaque, tagged section: state the client engine or the application
/// keeps beside the data model, carried without interpretation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extra<'a> {
    /// What the bytes are ([`extra_kind`]).
    pub kind: u16,
    /// The bytes.
    pub data: &'a [u8],
}

impl<'a> Extra<'a> {
    /// An extra section.
    pub const fn new(kind: u16, data: &'a [u8]) -> Extra<'a> {
        Extra { kind, data }
    }
}

/// Why a state file cannot be loaded. Every variant leaves the data model
/// and the attribute store exactly as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// The bytes do not start with [`MAGIC`]: not a state file.
    BadMagic,
    /// A state file of a format version (or with flags) this build does not
    /// read.
    UnsupportedVersion {
        /// The file's format version.
        version: u16,
        /// The file's flags.
        flags: u16,
    },
    /// The file ends before the header or the body does.
    Truncated,
    /// The body's CRC-32 does not match the header: the file is corrupt.
    ChecksumMismatch,
    /// The body is not well formed at byte offset `at` of the file.
    Malformed {
        /// Offset from the start of the file.
        at: usize,
    },
    /// The file names an object or resource that this build does not have
    /// in that shape: an unregistered object, an undefined, executable or
    /// streaming resource, single versus multiple, or a value that does not
    /// convert to the declared type.
    Mismatch {
        /// The object, resource or resource instance.
        path: Path,
    },
    /// An object refused to create an instance or take a value, or the
    /// restored configuration does not validate ([`Path::ROOT`] when the
    /// data model could not be locked for the load).
    Rejected {
        /// The object, instance or resource concerned.
        path: Path,
        /// What the object answered.
        error: DmError,
    },
    /// More attributed paths than the attribute store holds.
    AttributesFull,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::BadMagic => f.write_str("not an LwM2M state file (bad magic)"),
            PersistError::UnsupportedVersion { version, flags } => write!(
                f,
                "unsupported state file format version {version} (flags {flags:#06x}); this build reads version {FORMAT_VERSION}"
            ),
            PersistError::Truncated => f.write_str("state file truncated"),
            PersistError::ChecksumMismatch => f.write_str("state file corrupt (checksum mismatch)"),
            PersistError::Malformed { at } => write!(f, "state file malformed at byte {at}"),
            PersistError::Mismatch { path } => {
                write!(
                    f,
                    "state file entry {path} does not match this build's objects"
                )
            }
            PersistError::Rejected { path, error } => {
                write!(f, "restoring {path} refused: {error}")
            }
            PersistError::AttributesFull => {
                f.write_str("state file holds more attributes than the attribute store allows")
            }
        }
    }
}

impl core::error::Error for PersistError {}

/// Why the state cannot be saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaveError {
    /// The output does not fit in the caller's bound.
    Overflow,
    /// A bootstrap session is open, or a suspended transaction holds a saved
    /// object: the live state is not committed yet.
    Busy,
    /// An object failed to read a resource (other than absent or not kept).
    Read {
        /// The resource (instance).
        path: Path,
        /// What the object answered.
        error: DmError,
    },
}

impl From<crate::buf::Overflow> for SaveError {
    fn from(_: crate::buf::Overflow) -> SaveError {
        SaveError::Overflow
    }
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Overflow => f.write_str("state does not fit in the output bound"),
            SaveError::Busy => f.write_str("state not committed yet (transaction open)"),
            SaveError::Read { path, error } => write!(f, "reading {path} failed: {error}"),
        }
    }
}

impl core::error::Error for SaveError {}

/// Section tags (see the module documentation).
mod tag {
    pub(super) const OBJECT: u8 = 1;
    pub(super) const ATTRIBUTES: u8 = 2;
    pub(super) const EXTRA: u8 = 3;
}

/// Value type codes (see the module documentation).
mod vtype {
    pub(super) const STRING: u8 = 1;
    pub(super) const INTEGER: u8 = 2;
    pub(super) const UNSIGNED: u8 = 3;
    pub(super) const FLOAT: u8 = 4;
    pub(super) const BOOLEAN: u8 = 5;
    pub(super) const OPAQUE: u8 = 6;
    pub(super) const TIME: u8 = 7;
    pub(super) const OBJLNK: u8 = 8;
    pub(super) const CORELNK: u8 = 9;
}

/// Attribute mask bits, in payload order.
mod abit {
    pub(super) const PMIN: u16 = 1 << 0;
    pub(super) const PMAX: u16 = 1 << 1;
    pub(super) const GT: u16 = 1 << 2;
    pub(super) const LT: u16 = 1 << 3;
    pub(super) const ST: u16 = 1 << 4;
    pub(super) const EPMIN: u16 = 1 << 5;
    pub(super) const EPMAX: u16 = 1 << 6;
    pub(super) const EDGE: u16 = 1 << 7;
    pub(super) const CON: u16 = 1 << 8;
    pub(super) const HQMAX: u16 = 1 << 9;
    pub(super) const ALL: u16 = (1 << 10) - 1;
}
