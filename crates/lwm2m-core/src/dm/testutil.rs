//! Test-only objects and a recording encoder, so the data-model tests do not
//! depend on the real payload formats.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::buf::Writer;
use crate::content::{DecodeError, Encode, EncodeError, Entry};
use crate::dm::{
    AttributeStore, DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, Path, Registry,
    ResourceDef, Rid, Riid, Txn, Value,
};
use crate::error::DmError;

/// Records what an operation pushes.
#[derive(Default, Debug)]
pub struct Recorder {
    pub begun: bool,
    pub ended: bool,
    pub entries: Vec<Entry<'static>>,
    /// Fail with `Unrepresentable` on this many-th put (1-based).
    pub refuse_at: Option<usize>,
}

impl Encode for Recorder {
    fn begin(&mut self, _: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.begun = true;
        Ok(())
    }
    fn put(&mut self, _: &mut Writer<'_>, e: &Entry<'_>) -> Result<(), EncodeError> {
        if self.refuse_at == Some(self.entries.len() + 1) {
            return Err(EncodeError::Unrepresentable);
        }
        self.entries.push(Entry {
            path: e.path,
            value: e.value.clone().into_owned(),
            time: e.time,
        });
        Ok(())
    }
    fn end(&mut self, _: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.ended = true;
        Ok(())
    }
}

impl Recorder {
    /// `(path, value)` pairs, paths as strings.
    pub fn pairs(&self) -> Vec<(String, Value<'static>)> {
        self.entries
            .iter()
            .map(|e| (e.path.to_string(), e.value.clone()))
            .collect()
    }
    pub fn paths(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.path.to_string()).collect()
    }
}

pub fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

/// A decoded payload: entries at absolute paths.
pub fn payload(items: &[(&str, Value<'static>)]) -> Vec<Result<Entry<'static>, DecodeError>> {
    items
        .iter()
        .map(|(path, v)| Ok(Entry::new(p(path), v.clone())))
        .collect()
}

pub const RES: &[ResourceDef] = &[
    ResourceDef::new(0, "name", Operations::RW, DataType::String).mandatory(),
    ResourceDef::new(1, "num", Operations::RW, DataType::Integer),
    ResourceDef::new(2, "list", Operations::RW, DataType::Integer).multiple(),
    ResourceDef::new(3, "temp", Operations::R, DataType::Float),
    ResourceDef::new(4, "run", Operations::E, DataType::None),
    ResourceDef::new(5, "flag", Operations::RW, DataType::Boolean),
    ResourceDef::new(6, "secret", Operations::W, DataType::Opaque),
    ResourceDef::new(7, "package", Operations::W, DataType::Opaque).streaming(),
];
pub const THING_A: ObjectDef = ObjectDef::new(1000, RES).multiple();
pub const THING_B: ObjectDef = ObjectDef::new(1001, RES).multiple().version(1, 1);
pub const SINGLE: ObjectDef = ObjectDef::new(1002, RES);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inst {
    pub name: String,
    pub num: Option<i64>,
    pub list: BTreeMap<u16, i64>,
    pub temp: f64,
    pub flag: Option<bool>,
    pub secret: Vec<u8>,
    pub package: Vec<u8>,
}

/// A configurable multi-instance object. `num` 666 (or a list value 666)
/// makes the write handler fail; `num` 13 makes validation fail.
#[derive(Debug)]
pub struct Thing {
    pub def: &'static ObjectDef,
    pub state: Txn<BTreeMap<Iid, Inst>>,
    pub executed: Vec<(Iid, Rid, String)>,
    pub can_create: bool,
}

impl Thing {
    pub fn new(def: &'static ObjectDef) -> Thing {
        Thing {
            def,
            state: Txn::new(BTreeMap::new()),
            executed: Vec::new(),
            can_create: true,
        }
    }
    pub fn with(mut self, iid: Iid, inst: Inst) -> Thing {
        self.state.insert(iid, inst);
        self
    }
    pub fn inst(&self, iid: Iid) -> &Inst {
        self.state.get(&iid).unwrap()
    }
}

pub fn inst(name: &str) -> Inst {
    Inst {
        name: name.into(),
        ..Inst::default()
    }
}

impl Object for Thing {
    fn def(&self) -> &'static ObjectDef {
        self.def
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|&i| each(i));
    }
    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        let Some(i) = self.state.get(&iid) else {
            return false;
        };
        match rid {
            0 => !i.name.is_empty(),
            1 => i.num.is_some(),
            5 => i.flag.is_some(),
            _ => true,
        }
    }
    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if let (2, Some(i)) = (rid, self.state.get(&iid)) {
            i.list.keys().for_each(|&r| each(r));
        }
    }
    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        let i = self.state.get(&iid).ok_or(DmError::NotFound)?;
        Ok(match rid {
            0 => Value::str(&i.name),
            1 => Value::Integer(i.num.ok_or(DmError::NotFound)?),
            2 => Value::Integer(
                *i.list
                    .get(&riid.ok_or(DmError::Internal)?)
                    .ok_or(DmError::NotFound)?,
            ),
            3 => Value::Float(i.temp),
            5 => Value::Boolean(i.flag.ok_or(DmError::NotFound)?),
            _ => return Err(DmError::Internal),
        })
    }
    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        riid: Option<Riid>,
        v: Value<'_>,
    ) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        match rid {
            0 => i.name = v.as_str().ok_or(DmError::Internal)?.into(),
            1 => {
                let n = v.as_i64().ok_or(DmError::Internal)?;
                if n == 666 {
                    return Err(DmError::BadRequest);
                }
                i.num = Some(n);
            }
            2 => {
                let n = v.as_i64().ok_or(DmError::Internal)?;
                if n == 666 {
                    return Err(DmError::BadRequest);
                }
                i.list.insert(riid.ok_or(DmError::Internal)?, n);
            }
            5 => i.flag = Some(v.as_bool().ok_or(DmError::Internal)?),
            6 => i.secret = v.as_bytes().ok_or(DmError::Internal)?.to_vec(),
            _ => return Err(DmError::Internal),
        }
        Ok(())
    }
    fn write_chunk(
        &mut self,
        iid: Iid,
        rid: Rid,
        offset: usize,
        bytes: &[u8],
        _last: bool,
    ) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        if rid != 7 || offset != i.package.len() {
            return Err(DmError::BadRequest);
        }
        i.package.extend_from_slice(bytes);
        Ok(())
    }
    fn execute(&mut self, iid: Iid, rid: Rid, args: ExecuteArgs<'_>) -> Result<(), DmError> {
        if args.get(9).is_some() {
            return Err(DmError::BadRequest);
        }
        self.executed.push((iid, rid, args.as_str().into()));
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        if !self.can_create {
            return Err(DmError::MethodNotAllowed);
        }
        self.state.insert(iid, Inst::default());
        Ok(())
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.remove(&iid).map(|_| ()).ok_or(DmError::NotFound)
    }
    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        match rid {
            None => {
                *i = Inst {
                    temp: i.temp,
                    ..Inst::default()
                }
            }
            Some(2) => i.list.clear(),
            Some(_) => {}
        }
        Ok(())
    }
    fn validate(&self) -> Result<(), DmError> {
        if self.state.values().any(|i| i.num == Some(13)) {
            Err(DmError::BadRequest)
        } else {
            Ok(())
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

const SECURITY_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "LwM2M Server URI", Operations::None, DataType::String).mandatory(),
    ResourceDef::new(1, "Bootstrap-Server", Operations::None, DataType::Boolean).mandatory(),
    ResourceDef::new(10, "Short Server ID", Operations::None, DataType::Integer),
];
pub const SECURITY_DEF: ObjectDef = ObjectDef::new(0, SECURITY_RES).multiple().mandatory();

/// A minimal Security object: `(uri, bootstrap, ssid)` per instance.
#[derive(Debug, Default)]
pub struct Security {
    pub state: Txn<BTreeMap<Iid, (String, bool, u16)>>,
}

impl Object for Security {
    fn def(&self) -> &'static ObjectDef {
        &SECURITY_DEF
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|&i| each(i));
    }
    fn read(&self, iid: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let s = self.state.get(&iid).ok_or(DmError::NotFound)?;
        Ok(match rid {
            0 => Value::str(&s.0),
            1 => Value::Boolean(s.1),
            _ => Value::Integer(s.2.into()),
        })
    }
    fn write(&mut self, iid: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let s = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        match rid {
            0 => s.0 = v.as_str().ok_or(DmError::Internal)?.into(),
            1 => s.1 = v.as_bool().ok_or(DmError::Internal)?,
            _ => {
                s.2 = u16::try_from(v.as_i64().ok_or(DmError::Internal)?)
                    .map_err(|_| DmError::BadRequest)?
            }
        }
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.insert(iid, (String::new(), false, 0));
        Ok(())
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.remove(&iid).map(|_| ()).ok_or(DmError::NotFound)
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

const SERVER_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "Short Server ID", Operations::R, DataType::Integer).mandatory(),
    ResourceDef::new(1, "Lifetime", Operations::RW, DataType::Integer).mandatory(),
    ResourceDef::new(
        8,
        "Registration Update Trigger",
        Operations::E,
        DataType::None,
    )
    .mandatory(),
];
pub const SERVER_DEF: ObjectDef = ObjectDef::new(1, SERVER_RES)
    .multiple()
    .mandatory()
    .version(1, 1);

/// A minimal Server object: `(ssid, lifetime)` per instance.
#[derive(Debug, Default)]
pub struct Servers {
    pub state: Txn<BTreeMap<Iid, (u16, i64)>>,
}

impl Servers {
    pub fn with(mut self, iid: Iid, ssid: u16) -> Servers {
        self.state.insert(iid, (ssid, 86400));
        self
    }
}

impl Object for Servers {
    fn def(&self) -> &'static ObjectDef {
        &SERVER_DEF
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|&i| each(i));
    }
    fn read(&self, iid: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let s = self.state.get(&iid).ok_or(DmError::NotFound)?;
        Ok(Value::Integer(if rid == 0 { s.0.into() } else { s.1 }))
    }
    fn write(&mut self, iid: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let s = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        let n = v.as_i64().ok_or(DmError::Internal)?;
        if rid == 0 {
            s.0 = u16::try_from(n).map_err(|_| DmError::BadRequest)?;
        } else {
            s.1 = n;
        }
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.insert(iid, (0, 86400));
        Ok(())
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.remove(&iid).map(|_| ()).ok_or(DmError::NotFound)
    }
    fn execute(&mut self, _: Iid, _: Rid, _: ExecuteArgs<'_>) -> Result<(), DmError> {
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

/// Handles to the standard test data model.
pub struct Dm {
    pub reg: Registry,
    pub attrs: AttributeStore,
    pub a: crate::dm::Handle<Thing>,
    pub b: crate::dm::Handle<Thing>,
}

/// Security (bootstrap account /0/0, server account /0/1 with SSID 101),
/// Server /1/0 (SSID 101), Thing A /1000 with instances 0 and 1, Thing B
/// /1001 (version 1.1) with instance 0. One DM server: access control off.
pub fn dm() -> Dm {
    let mut reg = Registry::new();
    let mut sec = Security::default();
    sec.state.insert(0, ("coap://bs.example".into(), true, 0));
    sec.state
        .insert(1, ("coap://s1.example".into(), false, 101));
    reg.add_object(sec).unwrap();
    reg.add_object(Servers::default().with(0, 101)).unwrap();
    let mut a0 = inst("a");
    a0.num = Some(1);
    a0.list = [(0, 10), (1, 11)].into_iter().collect();
    a0.temp = 21.5;
    let a = reg
        .add_object(Thing::new(&THING_A).with(0, a0).with(1, inst("b")))
        .unwrap();
    let b = reg
        .add_object(Thing::new(&THING_B).with(0, inst("c")))
        .unwrap();
    Dm {
        reg,
        attrs: AttributeStore::new(16),
        a,
        b,
    }
}
