//! The Test object for interoperability testing (object 32769, in the
//! private range of the OMA LwM2M registry, after Anjay's demo test
//! object): multiple instances that servers may Create and Delete, each with
//!
//! | id | name | ops | type |
//! |---|---|---|---|
//! | 0 | Timestamp | R | Time (the device clock) |
//! | 1 | Counter | RW | Integer |
//! | 2 | Increment Counter | E | adds one to Counter |
//! | 10 | Raw Bytes | RW | Opaque |
//!
//! Increment Counter changes a value behind the servers' back, so the
//! object queues the path for the application's `notify_changed`
//! ([`TestObject::take_changes`]), inside the request's transaction: a
//! rolled-back request notifies nothing.

use lwm2m_core::DmError;
use lwm2m_core::dm::{
    DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, Path, ResourceDef, Rid, Riid, Txn,
    Value,
};

/// Object ID.
pub const OID: u16 = 32769;

/// Resource ids.
pub mod rid {
    use lwm2m_core::dm::Rid;
    /// Timestamp (R, time).
    pub const TIMESTAMP: Rid = 0;
    /// Counter (RW, integer).
    pub const COUNTER: Rid = 1;
    /// Increment Counter (E).
    pub const INCREMENT: Rid = 2;
    /// Raw Bytes (RW, opaque).
    pub const RAW_BYTES: Rid = 10;
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(rid::TIMESTAMP, "Timestamp", Operations::R, DataType::Time).mandatory(),
    ResourceDef::new(rid::COUNTER, "Counter", Operations::RW, DataType::Integer).mandatory(),
    ResourceDef::new(
        rid::INCREMENT,
        "Increment Counter",
        Operations::E,
        DataType::None,
    ),
    ResourceDef::new(
        rid::RAW_BYTES,
        "Raw Bytes",
        Operations::RW,
        DataType::Opaque,
    ),
];

/// The object definition.
pub const DEF: ObjectDef = ObjectDef::new(OID, RESOURCES).multiple();

/// Most instances; one more Create is refused with 5.00 (as the built-in
/// objects do).
pub const MAX_INSTANCES: usize = 64;
/// Largest Raw Bytes value; a longer write is refused with 4.13.
pub const MAX_RAW_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Instance {
    iid: Iid,
    counter: i64,
    raw: Vec<u8>,
}

impl Instance {
    fn new(iid: Iid) -> Instance {
        Instance {
            iid,
            counter: 0,
            raw: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    /// Sorted by id.
    instances: Vec<Instance>,
    /// Counters incremented by Execute since the last take, by instance.
    incremented: Vec<Iid>,
}

/// The Test object.
#[derive(Debug)]
pub struct TestObject {
    state: Txn<State>,
    /// The device clock, Unix seconds, set by the application.
    now: i64,
}

impl Default for TestObject {
    fn default() -> Self {
        TestObject::new()
    }
}

impl TestObject {
    /// The object with instance 0.
    pub fn new() -> TestObject {
        TestObject {
            state: Txn::new(State {
                instances: vec![Instance::new(0)],
                incremented: Vec::new(),
            }),
            now: 0,
        }
    }

    /// Sets the device clock (Unix seconds) that Timestamp reads.
    pub fn set_time(&mut self, unix: i64) {
        self.now = unix;
    }

    /// Counter of instance `iid`.
    #[cfg(test)]
    pub fn counter(&self, iid: Iid) -> Option<i64> {
        self.get(iid).ok().map(|i| i.counter)
    }

    /// Hands each Counter incremented since the last call to `each` (for
    /// `notify_changed`), and forgets them.
    pub fn take_changes(&mut self, each: &mut dyn FnMut(Path)) {
        for iid in std::mem::take(&mut self.state.incremented) {
            each(Path::resource(OID, iid, rid::COUNTER));
        }
    }

    fn get(&self, iid: Iid) -> Result<&Instance, DmError> {
        self.state
            .instances
            .iter()
            .find(|i| i.iid == iid)
            .ok_or(DmError::NotFound)
    }

    fn get_mut(&mut self, iid: Iid) -> Result<&mut Instance, DmError> {
        self.state
            .instances
            .iter_mut()
            .find(|i| i.iid == iid)
            .ok_or(DmError::NotFound)
    }
}

impl Object for TestObject {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        for i in &self.state.instances {
            each(i.iid);
        }
    }

    fn read(&self, iid: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let inst = self.get(iid)?;
        Ok(match rid {
            rid::TIMESTAMP => Value::Time(self.now),
            rid::COUNTER => Value::Integer(inst.counter),
            rid::RAW_BYTES => Value::bytes(&inst.raw),
            _ => return Err(DmError::NotFound),
        })
    }

    fn write(&mut self, iid: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let inst = self.get_mut(iid)?;
        match rid {
            rid::COUNTER => inst.counter = v.as_i64().ok_or(DmError::BadRequest)?,
            rid::RAW_BYTES => {
                let bytes = v.as_bytes().ok_or(DmError::BadRequest)?;
                if bytes.len() > MAX_RAW_BYTES {
                    return Err(DmError::RequestEntityTooLarge);
                }
                inst.raw.clear();
                inst.raw.extend_from_slice(bytes);
            }
            _ => return Err(DmError::MethodNotAllowed),
        }
        Ok(())
    }

    fn execute(&mut self, iid: Iid, rid: Rid, _: ExecuteArgs<'_>) -> Result<(), DmError> {
        if rid != rid::INCREMENT {
            return Err(DmError::MethodNotAllowed);
        }
        let inst = self.get_mut(iid)?;
        inst.counter = inst.counter.checked_add(1).ok_or(DmError::BadRequest)?;
        if !self.state.incremented.contains(&iid) {
            self.state.incremented.push(iid);
        }
        Ok(())
    }

    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        let s = &mut self.state.instances;
        if s.len() >= MAX_INSTANCES {
            return Err(DmError::Internal);
        }
        match s.binary_search_by_key(&iid, |i| i.iid) {
            Ok(_) => Err(DmError::BadRequest),
            Err(at) => {
                s.insert(at, Instance::new(iid));
                Ok(())
            }
        }
    }

    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        let s = &mut *self.state;
        let at = s
            .instances
            .iter()
            .position(|i| i.iid == iid)
            .ok_or(DmError::NotFound)?;
        s.instances.remove(at);
        s.incremented.retain(|&i| i != iid);
        Ok(())
    }

    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        match rid {
            None => {
                *self.get_mut(iid)? = Instance::new(iid);
                Ok(())
            }
            Some(_) => Err(DmError::MethodNotAllowed),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn no_args() -> ExecuteArgs<'static> {
        ExecuteArgs::parse(b"", 0).unwrap()
    }

    fn ids(t: &TestObject) -> Vec<Iid> {
        let mut v = Vec::new();
        t.instances(&mut |i| v.push(i));
        v
    }

    #[test]
    fn create_delete_keep_instances_sorted_and_bounded() {
        let mut t = TestObject::new();
        t.create(5).unwrap();
        t.create(2).unwrap();
        assert_eq!(ids(&t), [0, 2, 5]);
        assert_eq!(t.create(2), Err(DmError::BadRequest));
        t.delete(0).unwrap();
        assert_eq!(ids(&t), [2, 5]);
        assert_eq!(t.delete(0), Err(DmError::NotFound));
        for i in 10..(10 + MAX_INSTANCES as u16 - 2) {
            t.create(i).unwrap();
        }
        assert_eq!(t.create(1000), Err(DmError::Internal));
    }

    #[test]
    fn values_read_write_and_reset() {
        let mut t = TestObject::new();
        t.set_time(1_700_000_000);
        assert_eq!(
            t.read(0, rid::TIMESTAMP, None),
            Ok(Value::Time(1_700_000_000))
        );
        t.write(0, rid::COUNTER, None, Value::Integer(41)).unwrap();
        t.write(0, rid::RAW_BYTES, None, Value::bytes(&[1, 2, 3]))
            .unwrap();
        assert_eq!(t.read(0, rid::COUNTER, None), Ok(Value::Integer(41)));
        assert_eq!(
            t.read(0, rid::RAW_BYTES, None),
            Ok(Value::bytes(&[1, 2, 3]))
        );
        let big = vec![0u8; MAX_RAW_BYTES + 1];
        assert_eq!(
            t.write(0, rid::RAW_BYTES, None, Value::bytes(&big)),
            Err(DmError::RequestEntityTooLarge)
        );
        assert_eq!(t.read(7, rid::COUNTER, None), Err(DmError::NotFound));
        t.reset(0, None).unwrap();
        assert_eq!(t.counter(0), Some(0));
        assert_eq!(t.read(0, rid::RAW_BYTES, None), Ok(Value::bytes(&[])));
    }

    #[test]
    fn increment_notifies_only_when_committed() {
        let mut t = TestObject::new();
        let mut seen = Vec::new();
        t.begin();
        t.execute(0, rid::INCREMENT, no_args()).unwrap();
        t.rollback();
        t.take_changes(&mut |p| seen.push(p));
        assert!(seen.is_empty());
        assert_eq!(t.counter(0), Some(0));
        t.begin();
        t.execute(0, rid::INCREMENT, no_args()).unwrap();
        t.execute(0, rid::INCREMENT, no_args()).unwrap();
        t.commit();
        assert_eq!(t.counter(0), Some(2));
        t.take_changes(&mut |p| seen.push(p));
        assert_eq!(seen, [Path::resource(OID, 0, rid::COUNTER)]);
        t.write(0, rid::COUNTER, None, Value::Integer(i64::MAX))
            .unwrap();
        assert_eq!(
            t.execute(0, rid::INCREMENT, no_args()),
            Err(DmError::BadRequest)
        );
    }
}
