//! Objects: `const` metadata ([`ObjectDef`], [`ResourceDef`]) and the
//! behaviour trait [`Object`] (OMA-TS-LightweightM2M_Core 1.1, "Resource
//! Model"; object and resource definition tables as in Appendix D/E).
//!
//! The core checks every request against the `const` definition before a
//! handler runs: the target exists, the operation is allowed (R/W/E), the
//! value has the declared type (converted with [`Value::coerce`]). Handlers
//! only see requests that already make sense, so they stay small; every
//! handler except [`Object::def`] and [`Object::read`] has a default.
//!
//! A read-only object with two resources:
//!
//! ```
//! use lwm2m_core::DmError;
//! use lwm2m_core::dm::{DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value};
//!
//! struct Temperature { celsius: f64 }
//!
//! const TEMPERATURE: ObjectDef = ObjectDef::new(3303, &[
//!     ResourceDef::new(5700, "Sensor Value", Operations::R, DataType::Float).mandatory(),
//!     ResourceDef::new(5701, "Sensor Units", Operations::R, DataType::String),
//! ]);
//!
//! impl Object for Temperature {
//!     fn def(&self) -> &'static ObjectDef { &TEMPERATURE }
//!     fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
//!         Ok(if rid == 5700 { Value::Float(self.celsius) } else { Value::str("Cel") })
//!     }
//! }
//! # let t = Temperature { celsius: 21.5 };
//! # assert_eq!(t.read(0, 5700, None), Ok(Value::Float(21.5)));
//! ```

use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::ops::{Deref, DerefMut};

use super::access::Ssid;
use super::ops::execute::ExecuteArgs;
use super::path::{Iid, MAX_ID, Oid, Rid, Riid};
use super::value::{DataType, Value};
use crate::error::DmError;
use crate::time::Duration;

/// Which operations a resource supports (the "Operations" column of an
/// object definition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operations {
    /// None: only the Bootstrap-Server may read or write it (the Security
    /// object's resources, Core 1.1 Appendix E.1).
    None,
    /// Read.
    R,
    /// Write.
    W,
    /// Read and Write.
    RW,
    /// Execute.
    E,
}

impl Operations {
    /// Read (and Observe) allowed.
    pub const fn readable(self) -> bool {
        matches!(self, Operations::R | Operations::RW)
    }
    /// Write allowed.
    pub const fn writable(self) -> bool {
        matches!(self, Operations::W | Operations::RW)
    }
    /// Execute allowed.
    pub const fn executable(self) -> bool {
        matches!(self, Operations::E)
    }
}

/// An object version `major.minor` (Core 1.1 "Object Versioning";
/// reported as `ver` in Register and Discover when it is not 1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Version {
    /// 1.0, the version assumed when none is reported.
    pub const V1_0: Version = Version { major: 1, minor: 0 };
    /// A version.
    pub const fn new(major: u8, minor: u8) -> Version {
        Version { major, minor }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One resource of an object definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    /// Resource ID.
    pub id: Rid,
    /// Name, for logs and tools.
    pub name: &'static str,
    /// Supported operations.
    pub operations: Operations,
    /// Multiple-instance resource (its values are resource instances).
    pub multiple: bool,
    /// Mandatory: present in every instance.
    pub mandatory: bool,
    /// Declared type ([`DataType::None`] for executable resources).
    pub data_type: DataType,
    /// Written in chunks through [`Object::write_chunk`] as block-wise
    /// transfers arrive, instead of as one value (the firmware package
    /// /5/0/0; SPEC §1 guarantee 3).
    pub streaming: bool,
}

impl ResourceDef {
    /// A single-instance, optional, non-streaming resource.
    pub const fn new(
        id: Rid,
        name: &'static str,
        operations: Operations,
        data_type: DataType,
    ) -> ResourceDef {
        ResourceDef {
            id,
            name,
            operations,
            multiple: false,
            mandatory: false,
            data_type,
            streaming: false,
        }
    }
    /// Marks the resource multiple-instance.
    pub const fn multiple(self) -> ResourceDef {
        ResourceDef {
            multiple: true,
            ..self
        }
    }
    /// Marks the resource mandatory.
    pub const fn mandatory(self) -> ResourceDef {
        ResourceDef {
            mandatory: true,
            ..self
        }
    }
    /// Marks the resource streaming (written with [`Object::write_chunk`]).
    pub const fn streaming(self) -> ResourceDef {
        ResourceDef {
            streaming: true,
            ..self
        }
    }
}

/// An object definition: `const` data, checked once when the object is
/// added to a [`super::Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectDef {
    /// Object ID.
    pub id: Oid,
    /// Object version.
    pub version: Version,
    /// Multiple instances allowed.
    pub multiple: bool,
    /// Mandatory object.
    pub mandatory: bool,
    /// Resources, in strictly increasing id order.
    pub resources: &'static [ResourceDef],
}

impl ObjectDef {
    /// A single-instance, optional object of version 1.0.
    pub const fn new(id: Oid, resources: &'static [ResourceDef]) -> ObjectDef {
        ObjectDef {
            id,
            version: Version::V1_0,
            multiple: false,
            mandatory: false,
            resources,
        }
    }
    /// Marks the object multiple-instance.
    pub const fn multiple(self) -> ObjectDef {
        ObjectDef {
            multiple: true,
            ..self
        }
    }
    /// Marks the object mandatory.
    pub const fn mandatory(self) -> ObjectDef {
        ObjectDef {
            mandatory: true,
            ..self
        }
    }
    /// Sets the object version.
    pub const fn version(self, major: u8, minor: u8) -> ObjectDef {
        ObjectDef {
            version: Version::new(major, minor),
            ..self
        }
    }

    /// The definition of resource `rid`.
    pub fn resource(&self, rid: Rid) -> Option<&'static ResourceDef> {
        let res: &'static [ResourceDef] = self.resources;
        res.binary_search_by_key(&rid, |r| r.id)
            .ok()
            .and_then(|i| res.get(i))
    }

    /// Whether the definition is usable: id and resource ids are not the
    /// reserved 65535, resources are in strictly increasing id order.
    pub fn is_well_formed(&self) -> bool {
        self.id != MAX_ID
            && self.resources.iter().all(|r| r.id != MAX_ID)
            && self.resources.windows(2).all(|w| match w {
                [a, b] => a.id < b.id,
                _ => true,
            })
    }
}

/// An LwM2M object: its definition and its handlers.
///
/// Only [`Object::def`] and [`Object::read`] must be written; every other
/// handler defaults to "not supported" (4.05) or to the obvious answer. The
/// core never calls a handler for something the definition rules out, so a
/// handler may assume the resource exists, supports the operation and
/// (for `write`) that the value has the declared type.
///
/// Contracts:
/// - [`Object::instances`] and [`Object::resource_instances`] report ids in
///   strictly increasing order (payloads are encoded in path order).
/// - Transactions ([`Object::begin`] … [`Object::commit`] or
///   [`Object::rollback`]) may nest two deep: a bootstrap session
///   (SPEC §1 guarantee 6) holds an outer transaction over every object while
///   each request runs an inner one. `commit` of an inner level keeps the
///   changes inside the outer one; `rollback` restores the state at the
///   matching `begin`. [`Txn`] implements exactly this for a `Clone` state.
pub trait Object: Any {
    /// The `const` definition.
    fn def(&self) -> &'static ObjectDef;

    /// Calls `each` with every instance id, in increasing order. Default:
    /// the single instance 0.
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        each(0);
    }

    /// Whether instance `iid` exists.
    fn has_instance(&self, iid: Iid) -> bool {
        let mut found = false;
        self.instances(&mut |i| found |= i == iid);
        found
    }

    /// Whether resource `rid` (defined, possibly optional) is present in
    /// instance `iid`. Absent resources are skipped by Read and Discover and
    /// answer 4.04 when addressed. Default: every defined resource is
    /// present.
    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        let _ = (iid, rid);
        true
    }

    /// Calls `each` with the instance ids of multiple resource `rid`, in
    /// increasing order. Default: none.
    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        let _ = (iid, rid, each);
    }

    /// Reads a readable resource (`riid` is `Some` exactly for multiple
    /// resources). Answering [`DmError::NotFound`] marks it absent.
    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError>;

    /// Writes a writable resource; `value` has the declared type. For a
    /// multiple resource `riid` is `Some`, and writing a new `riid` creates
    /// the resource instance.
    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        let _ = (iid, rid, riid, value);
        Err(DmError::MethodNotAllowed)
    }

    /// Receives part of a streaming resource's value: `bytes` at `offset`,
    /// `last` on the final chunk (a value written in one piece arrives as a
    /// single chunk at offset 0 with `last` set).
    fn write_chunk(
        &mut self,
        iid: Iid,
        rid: Rid,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), DmError> {
        let _ = (iid, rid, offset, bytes, last);
        Err(DmError::MethodNotAllowed)
    }

    /// Executes an executable resource with validated arguments.
    fn execute(&mut self, iid: Iid, rid: Rid, args: ExecuteArgs<'_>) -> Result<(), DmError> {
        let _ = (iid, rid, args);
        Err(DmError::MethodNotAllowed)
    }

    /// Creates instance `iid` (which does not exist), with default values.
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        let _ = iid;
        Err(DmError::MethodNotAllowed)
    }

    /// Deletes instance `iid` (which exists).
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        let _ = iid;
        Err(DmError::MethodNotAllowed)
    }

    /// Before a Write-replace: clears instance `iid` (`rid` `None`: every
    /// writable resource back to its default, optional ones absent) or the
    /// resource instances of multiple resource `rid`. Without it (the
    /// default, 4.05) Write-replace on an instance or a multiple resource
    /// is refused.
    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let _ = (iid, rid);
        Err(DmError::MethodNotAllowed)
    }

    /// A transaction touching this object begins.
    fn begin(&mut self) {}

    /// Whether the state after the transaction's operations is consistent;
    /// an error rolls back every object the request touched.
    fn validate(&self) -> Result<(), DmError> {
        Ok(())
    }

    /// The transaction succeeded: keep the changes.
    fn commit(&mut self) {}

    /// The transaction failed: restore the state at [`Object::begin`].
    fn rollback(&mut self) {}

    /// The next thing this object asks of the application or the client
    /// engine (a Reboot executed, a Registration Update Trigger, ...). The
    /// engine drains it after each committed request; an object raises
    /// events only for committed changes. Default: none.
    fn poll_event(&mut self) -> Option<ObjectEvent> {
        None
    }
}

/// What an object asks of the application or the client engine after a
/// committed request (see [`Object::poll_event`]). The objects record the
/// request; acting on it is the engine's or the application's job.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectEvent {
    /// Device Reboot (/3/0/4) was executed (Core 1.1 Appendix E.4).
    Reboot,
    /// Device Factory Reset (/3/0/5) was executed.
    FactoryReset,
    /// Device Reset Error Code (/3/0/12) cleared the error codes; the
    /// application re-reports the errors still present.
    ErrorCodesReset,
    /// A server wrote Device Current Time (/3/0/13): `offset` seconds are
    /// now added to the application's clock when the time is read.
    CurrentTimeWritten {
        /// The Unix time written.
        time: i64,
        /// Written time minus the application's clock at that moment.
        offset: i64,
    },
    /// Server Registration Update Trigger (/1/x/8) was executed: send an
    /// Update to the server `ssid` (Core 1.1 Appendix E.2).
    RegistrationUpdateTrigger {
        /// Short Server ID of the instance.
        ssid: Ssid,
    },
    /// Server Bootstrap-Request Trigger (/1/x/9) was executed: start a
    /// client-initiated bootstrap.
    BootstrapRequestTrigger {
        /// Short Server ID of the instance executed.
        ssid: Ssid,
    },
    /// Server Disable (/1/x/4) was executed: answer, de-register from
    /// `ssid`, and stay silent towards it for `timeout` (Disable Timeout,
    /// /1/x/5, 86400 s when unset).
    Disable {
        /// Short Server ID of the instance.
        ssid: Ssid,
        /// How long the account stays disabled.
        timeout: Duration,
    },
    /// The Firmware Update object (/5/0) changed state or made progress
    /// (Core 1.1 Appendix E.6).
    Firmware(crate::objects::firmware::FirmwareEvent),
}

/// Live state plus saved copies: transactions with correct rollback for any
/// `Clone` state. Delegate the object's [`Object::begin`],
/// [`Object::commit`] and [`Object::rollback`] to it and mutate through
/// `Deref`.
///
/// Nesting (a request inside a bootstrap session) keeps one copy per level.
#[derive(Clone, Debug, Default)]
pub struct Txn<S> {
    live: S,
    saved: Vec<S>,
}

impl<S: Clone> Txn<S> {
    /// Wraps a state; no transaction is open.
    pub fn new(state: S) -> Txn<S> {
        Txn {
            live: state,
            saved: Vec::new(),
        }
    }
    /// Saves a copy of the live state.
    pub fn begin(&mut self) {
        self.saved.push(self.live.clone());
    }
    /// Drops the innermost saved copy, keeping the live state.
    pub fn commit(&mut self) {
        self.saved.pop();
    }
    /// Restores the innermost saved copy.
    pub fn rollback(&mut self) {
        if let Some(s) = self.saved.pop() {
            self.live = s;
        }
    }
    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        !self.saved.is_empty()
    }
    /// The live state.
    pub fn into_inner(self) -> S {
        self.live
    }
}

impl<S> Deref for Txn<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.live
    }
}

impl<S> DerefMut for Txn<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RES: &[ResourceDef] = &[
        ResourceDef::new(0, "a", Operations::R, DataType::String).mandatory(),
        ResourceDef::new(3, "b", Operations::RW, DataType::Integer).multiple(),
        ResourceDef::new(7, "c", Operations::W, DataType::Opaque).streaming(),
    ];
    const DEF: ObjectDef = ObjectDef::new(42, RES).multiple().version(1, 2);

    #[test]
    fn def_builders_and_lookup() {
        const { assert!(DEF.multiple && !DEF.mandatory) };
        assert_eq!(DEF.version.to_string(), "1.2");
        assert!(DEF.is_well_formed());
        let b = DEF.resource(3).unwrap();
        assert!(b.multiple && !b.mandatory && b.operations.writable());
        assert!(DEF.resource(7).unwrap().streaming);
        assert!(DEF.resource(0).unwrap().mandatory);
        assert_eq!(DEF.resource(4), None);
        const BAD: ObjectDef = ObjectDef::new(
            1,
            &[
                ResourceDef::new(2, "x", Operations::R, DataType::String),
                ResourceDef::new(1, "y", Operations::R, DataType::String),
            ],
        );
        assert!(!BAD.is_well_formed());
        assert!(!ObjectDef::new(MAX_ID, &[]).is_well_formed());
    }

    #[test]
    fn operations() {
        assert!(Operations::RW.readable() && Operations::RW.writable());
        assert!(!Operations::E.readable() && Operations::E.executable());
        assert!(!Operations::None.readable() && !Operations::None.writable());
    }

    #[test]
    fn txn_nests() {
        let mut t = Txn::new(1);
        t.begin(); // session
        *t = 2;
        t.begin(); // request
        *t = 3;
        t.rollback(); // request failed
        assert_eq!(*t, 2);
        t.begin();
        *t = 4;
        t.commit(); // request ok, still inside session
        assert!(t.in_transaction());
        t.rollback(); // session abandoned
        assert_eq!(*t, 1);
        assert!(!t.in_transaction());
        t.rollback(); // no-op
        assert_eq!(t.into_inner(), 1);
    }
}
