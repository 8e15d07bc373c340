//! Small objects for simulation tests, each keeping a record of what the
//! engine did to it (handler calls, committed executions and creations) so
//! that a test can prove a property from the object's side:
//!
//! - [`Blob`] (/1100): instances holding a large opaque value and a label;
//!   counts write calls, commits and rollbacks; a label `"invalid"` fails
//!   validation (to provoke a rollback).
//! - [`Counter`] (/1101): creatable instances with an executable resource;
//!   every committed Execute and Create is logged with its arguments.
//! - [`Sensor`] (/3303, IPSO Temperature): one float the application sets.
//! - [`Package`] (/1102): a streaming resource (like the firmware package)
//!   that receives Block1 chunks as they arrive; logs every chunk.
//!
//! State lives in a [`Txn`], so rollback is exact and the logs of a
//! rolled-back request vanish with it.

use std::collections::BTreeMap;

use lwm2m_core::DmError;
use lwm2m_core::dm::{
    DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Txn, Value,
};

/// Object ID of [`Blob`].
pub const BLOB_OID: u16 = 1100;
/// Object ID of [`Counter`].
pub const COUNTER_OID: u16 = 1101;
/// Object ID of [`Package`].
pub const PACKAGE_OID: u16 = 1102;
/// Object ID of [`Sensor`] (IPSO Temperature).
pub const SENSOR_OID: u16 = 3303;

/// [`Blob`]'s definition: 0 Data (opaque, RW), 1 Label (string, RW).
pub const BLOB: ObjectDef = ObjectDef::new(
    BLOB_OID,
    &[
        ResourceDef::new(0, "Data", Operations::RW, DataType::Opaque),
        ResourceDef::new(1, "Label", Operations::RW, DataType::String),
    ],
)
.multiple();

/// [`Counter`]'s definition: 0 Value (integer, RW), 1 Run (E), 2 Runs
/// (integer, R).
pub const COUNTER: ObjectDef = ObjectDef::new(
    COUNTER_OID,
    &[
        ResourceDef::new(0, "Value", Operations::RW, DataType::Integer),
        ResourceDef::new(1, "Run", Operations::E, DataType::None),
        ResourceDef::new(2, "Runs", Operations::R, DataType::Integer),
    ],
)
.multiple();

/// [`Package`]'s definition: 0 Package (opaque, W, streaming), 1 Size
/// (integer, R).
pub const PACKAGE: ObjectDef = ObjectDef::new(
    PACKAGE_OID,
    &[
        ResourceDef::new(0, "Package", Operations::W, DataType::Opaque).streaming(),
        ResourceDef::new(1, "Size", Operations::R, DataType::Integer),
    ],
);

/// [`Sensor`]'s definition: IPSO 3303 with 5700 Sensor Value (float) and
/// 5701 Sensor Units.
pub const SENSOR: ObjectDef = ObjectDef::new(
    SENSOR_OID,
    &[
        ResourceDef::new(5700, "Sensor Value", Operations::R, DataType::Float).mandatory(),
        ResourceDef::new(5701, "Sensor Units", Operations::R, DataType::String),
    ],
);

/// One [`Blob`] instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlobInstance {
    /// Resource 0.
    pub data: Vec<u8>,
    /// Resource 1.
    pub label: String,
}

/// A multi-instance object of large opaque values. See the module doc.
#[derive(Debug, Default)]
pub struct Blob {
    state: Txn<BTreeMap<Iid, BlobInstance>>,
    /// Every call of the write handler: instance, resource, value length.
    pub writes: Vec<(Iid, Rid, usize)>,
    /// Transactions committed on this object.
    pub commits: u32,
    /// Transactions rolled back on this object.
    pub rollbacks: u32,
}

impl Blob {
    /// An object with instance 0 holding `data`.
    pub fn new(data: Vec<u8>) -> Blob {
        let mut b = Blob::default();
        b.state.insert(
            0,
            BlobInstance {
                data,
                label: String::new(),
            },
        );
        b
    }

    /// Instance `iid`.
    pub fn get(&self, iid: Iid) -> Option<&BlobInstance> {
        self.state.get(&iid)
    }

    /// Sets the data of instance `iid` (the application's write; call
    /// `notify_changed` afterwards).
    pub fn set_data(&mut self, iid: Iid, data: Vec<u8>) {
        self.state.entry(iid).or_default().data = data;
    }
}

impl Object for Blob {
    fn def(&self) -> &'static ObjectDef {
        &BLOB
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|i| each(*i));
    }
    fn read(&self, iid: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let i = self.state.get(&iid).ok_or(DmError::NotFound)?;
        match rid {
            0 => Ok(Value::bytes(&i.data)),
            1 => Ok(Value::str(&i.label)),
            _ => Err(DmError::NotFound),
        }
    }
    fn write(&mut self, iid: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        match (rid, v) {
            (0, Value::Opaque(b)) => {
                self.writes.push((iid, rid, b.len()));
                i.data = b.into_owned();
            }
            (1, Value::String(s)) => {
                self.writes.push((iid, rid, s.len()));
                i.label = s.into_owned();
            }
            _ => return Err(DmError::BadRequest),
        }
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.insert(iid, BlobInstance::default());
        Ok(())
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.remove(&iid).map(|_| ()).ok_or(DmError::NotFound)
    }
    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        if rid.is_none() {
            self.state.insert(iid, BlobInstance::default());
        }
        Ok(())
    }
    fn begin(&mut self) {
        self.state.begin();
    }
    fn validate(&self) -> Result<(), DmError> {
        if self.state.values().any(|i| i.label == "invalid") {
            return Err(DmError::BadRequest);
        }
        Ok(())
    }
    fn commit(&mut self) {
        self.commits += 1;
        self.state.commit();
    }
    fn rollback(&mut self) {
        self.rollbacks += 1;
        self.state.rollback();
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct CounterState {
    values: BTreeMap<Iid, i64>,
    executions: Vec<(Iid, String)>,
    created: Vec<Iid>,
}

/// Creatable instances with an executable resource. See the module doc.
#[derive(Debug, Default)]
pub struct Counter {
    state: Txn<CounterState>,
}

impl Counter {
    /// An object with instance 0.
    pub fn new() -> Counter {
        let mut c = Counter::default();
        c.state.values.insert(0, 0);
        c
    }

    /// Committed executions: instance and argument list, in order.
    pub fn executions(&self) -> &[(Iid, String)] {
        &self.state.executions
    }

    /// Instances created by servers, in order.
    pub fn created(&self) -> &[Iid] {
        &self.state.created
    }

    /// The instance ids.
    pub fn instance_ids(&self) -> Vec<Iid> {
        self.state.values.keys().copied().collect()
    }
}

impl Object for Counter {
    fn def(&self) -> &'static ObjectDef {
        &COUNTER
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.values.keys().for_each(|i| each(*i));
    }
    fn read(&self, iid: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let v = *self.state.values.get(&iid).ok_or(DmError::NotFound)?;
        match rid {
            0 => Ok(Value::Integer(v)),
            2 => {
                let n = self
                    .state
                    .executions
                    .iter()
                    .filter(|(i, _)| *i == iid)
                    .count();
                Ok(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            _ => Err(DmError::NotFound),
        }
    }
    fn write(&mut self, iid: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let n = v.as_i64().ok_or(DmError::BadRequest)?;
        match (rid, self.state.values.get_mut(&iid)) {
            (0, Some(slot)) => {
                *slot = n;
                Ok(())
            }
            _ => Err(DmError::NotFound),
        }
    }
    fn execute(&mut self, iid: Iid, rid: Rid, args: ExecuteArgs<'_>) -> Result<(), DmError> {
        if rid != 1 || !self.state.values.contains_key(&iid) {
            return Err(DmError::NotFound);
        }
        self.state.executions.push((iid, args.as_str().to_string()));
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.values.insert(iid, 0);
        self.state.created.push(iid);
        Ok(())
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state
            .values
            .remove(&iid)
            .map(|_| ())
            .ok_or(DmError::NotFound)
    }
    fn reset(&mut self, iid: Iid, _: Option<Rid>) -> Result<(), DmError> {
        self.state.values.insert(iid, 0);
        Ok(())
    }
    fn begin(&mut self) {
        self.state.begin();
    }
    fn commit(&mut self) {
        self.state.commit();
    }
    fn rollback(&mut self) {
        self.state.rollback();
    }
}

/// An IPSO Temperature sensor whose value the application sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensor {
    /// Sensor Value (5700).
    pub value: f64,
}

impl Sensor {
    /// A sensor reading `value`.
    pub fn new(value: f64) -> Sensor {
        Sensor { value }
    }
}

impl Object for Sensor {
    fn def(&self) -> &'static ObjectDef {
        &SENSOR
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            5700 => Ok(Value::Float(self.value)),
            5701 => Ok(Value::str("Cel")),
            _ => Err(DmError::NotFound),
        }
    }
}

/// A streaming resource. See the module doc.
#[derive(Debug, Default)]
pub struct Package {
    data: Txn<Vec<u8>>,
    /// Every chunk handed over: offset, length, last.
    pub chunks: Vec<(usize, usize, bool)>,
    /// Transactions begun on this object.
    pub begins: u32,
    /// Transactions committed.
    pub commits: u32,
    /// Transactions rolled back.
    pub rollbacks: u32,
}

impl Package {
    /// A package holding `data`.
    pub fn new(data: Vec<u8>) -> Package {
        Package {
            data: Txn::new(data),
            ..Package::default()
        }
    }

    /// The bytes held (live state: inside an open transaction, what has
    /// arrived so far).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Whether a transaction is open on it.
    pub fn in_transaction(&self) -> bool {
        self.data.in_transaction()
    }
}

impl Object for Package {
    fn def(&self) -> &'static ObjectDef {
        &PACKAGE
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            1 => Ok(Value::Integer(
                i64::try_from(self.data.len()).unwrap_or(i64::MAX),
            )),
            _ => Err(DmError::NotFound),
        }
    }
    fn write_chunk(
        &mut self,
        _: Iid,
        rid: Rid,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), DmError> {
        if rid != 0 {
            return Err(DmError::NotFound);
        }
        self.chunks.push((offset, bytes.len(), last));
        if offset == 0 {
            self.data.clear();
        } else if offset != self.data.len() {
            return Err(DmError::RequestEntityIncomplete);
        }
        self.data.extend_from_slice(bytes);
        Ok(())
    }
    fn begin(&mut self) {
        self.begins += 1;
        self.data.begin();
    }
    fn commit(&mut self) {
        self.commits += 1;
        self.data.commit();
    }
    fn rollback(&mut self) {
        self.rollbacks += 1;
        self.data.rollback();
    }
}
