//! Shared by the state-file tests: Security (0) and Server (1) objects with
//! their LwM2M 1.1 resource tables (Core 1.1 Appendix E.1, E.2) kept as
//! plain maps of values, the real Access Control object, two realistic
//! configurations of a few KiB each, and a temporary directory.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use lwm2m::core::DmError;
use lwm2m::core::dm::{
    AttributeStore, Attributes, DataType, Iid, ObjLnk, Object, ObjectDef, Operations, Path,
    Registry, ResourceDef, Rid, Riid, Txn, Value,
};
use lwm2m::core::objects::{AccessControl, AclInstance};
use lwm2m::core::persist::{self, DEFAULT_OBJECTS};
use lwm2m::core::rand::Rng;

const N: Operations = Operations::None;
const RW: Operations = Operations::RW;

const SECURITY_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "LwM2M Server URI", N, DataType::String).mandatory(),
    ResourceDef::new(1, "Bootstrap-Server", N, DataType::Boolean).mandatory(),
    ResourceDef::new(2, "Security Mode", N, DataType::Integer).mandatory(),
    ResourceDef::new(3, "Public Key or Identity", N, DataType::Opaque).mandatory(),
    ResourceDef::new(4, "Server Public Key", N, DataType::Opaque).mandatory(),
    ResourceDef::new(5, "Secret Key", N, DataType::Opaque).mandatory(),
    ResourceDef::new(10, "Short Server ID", N, DataType::Integer),
    ResourceDef::new(11, "Client Hold Off Time", N, DataType::Integer),
    ResourceDef::new(12, "Bootstrap-Server Account Timeout", N, DataType::Integer),
    ResourceDef::new(13, "Matching Type", N, DataType::UnsignedInteger),
    ResourceDef::new(14, "SNI", N, DataType::String),
    ResourceDef::new(15, "Certificate Usage", N, DataType::UnsignedInteger),
    ResourceDef::new(16, "DTLS/TLS Ciphersuite", N, DataType::UnsignedInteger).multiple(),
    ResourceDef::new(17, "OSCORE Security Mode", N, DataType::Objlnk),
];
/// Security, object version 1.1.
pub const SECURITY: ObjectDef = ObjectDef::new(0, SECURITY_RES)
    .multiple()
    .mandatory()
    .version(1, 1);

const SERVER_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "Short Server ID", Operations::R, DataType::Integer).mandatory(),
    ResourceDef::new(1, "Lifetime", RW, DataType::Integer).mandatory(),
    ResourceDef::new(2, "Default Minimum Period", RW, DataType::Integer),
    ResourceDef::new(3, "Default Maximum Period", RW, DataType::Integer),
    ResourceDef::new(4, "Disable", Operations::E, DataType::None),
    ResourceDef::new(5, "Disable Timeout", RW, DataType::Integer),
    ResourceDef::new(6, "Notification Storing", RW, DataType::Boolean).mandatory(),
    ResourceDef::new(7, "Binding", RW, DataType::String).mandatory(),
    ResourceDef::new(
        8,
        "Registration Update Trigger",
        Operations::E,
        DataType::None,
    )
    .mandatory(),
    ResourceDef::new(
        9,
        "Bootstrap-Request Trigger",
        Operations::E,
        DataType::None,
    ),
    ResourceDef::new(10, "APN Link", RW, DataType::Objlnk),
    ResourceDef::new(
        11,
        "TLS-DTLS Alert Code",
        Operations::R,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(12, "Last Bootstrapped", Operations::R, DataType::Time),
    ResourceDef::new(
        13,
        "Registration Priority Order",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(
        14,
        "Initial Registration Delay Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(15, "Registration Failure Block", RW, DataType::Boolean),
    ResourceDef::new(
        16,
        "Bootstrap on Registration Failure",
        RW,
        DataType::Boolean,
    ),
    ResourceDef::new(
        17,
        "Communication Retry Count",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(
        18,
        "Communication Retry Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(
        19,
        "Communication Sequence Delay Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(
        20,
        "Communication Sequence Retry Count",
        RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(21, "Trigger", RW, DataType::Boolean),
    ResourceDef::new(22, "Preferred Transport", RW, DataType::String),
    ResourceDef::new(23, "Mute Send", RW, DataType::Boolean),
];
/// Server, object version 1.1.
pub const SERVER: ObjectDef = ObjectDef::new(1, SERVER_RES)
    .multiple()
    .mandatory()
    .version(1, 1);

type Inst = BTreeMap<(Rid, Option<Riid>), Value<'static>>;

/// An object kept as a map of values, with transactional state; every
/// Server instance needs a Lifetime (validation).
pub struct MapObject {
    def: &'static ObjectDef,
    state: Txn<BTreeMap<Iid, Inst>>,
}

impl MapObject {
    pub fn new(def: &'static ObjectDef) -> MapObject {
        MapObject {
            def,
            state: Txn::new(BTreeMap::new()),
        }
    }
    pub fn with(mut self, iid: Iid, values: Vec<(Rid, Option<Riid>, Value<'static>)>) -> Self {
        let inst = values.into_iter().map(|(r, ri, v)| ((r, ri), v)).collect();
        self.state.insert(iid, inst);
        self
    }
}

impl Object for MapObject {
    fn def(&self) -> &'static ObjectDef {
        self.def
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|&i| each(i));
    }
    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        self.state
            .get(&iid)
            .is_some_and(|i| i.keys().any(|k| k.0 == rid))
    }
    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if let Some(i) = self.state.get(&iid) {
            i.keys()
                .filter(|k| k.0 == rid)
                .filter_map(|k| k.1)
                .for_each(each);
        }
    }
    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        let i = self.state.get(&iid).ok_or(DmError::NotFound)?;
        i.get(&(rid, riid))
            .map(Value::borrowed)
            .ok_or(DmError::NotFound)
    }
    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        riid: Option<Riid>,
        v: Value<'_>,
    ) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        i.insert((rid, riid), v.into_owned());
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        match self.state.insert(iid, Inst::new()) {
            None => Ok(()),
            Some(_) => Err(DmError::BadRequest),
        }
    }
    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        self.state.remove(&iid).map(|_| ()).ok_or(DmError::NotFound)
    }
    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        i.retain(|k, _| rid.is_some_and(|r| k.0 != r));
        Ok(())
    }
    fn validate(&self) -> Result<(), DmError> {
        let lifetime_missing =
            self.def.id == 1 && self.state.values().any(|i| !i.contains_key(&(1, None)));
        if lifetime_missing {
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

/// Seeded filler for keys and certificates.
fn blob(rng: &mut Rng, len: usize) -> Value<'static> {
    let mut b = vec![0u8; len];
    rng.fill(&mut b);
    Value::Opaque(b.into())
}

fn s(v: &str) -> Value<'static> {
    Value::String(v.to_owned().into())
}

type Values = Vec<(Rid, Option<Riid>, Value<'static>)>;

fn security(
    rng: &mut Rng,
    uri: &str,
    bootstrap: bool,
    ssid: i64,
    mode: i64,
    cert: usize,
) -> Values {
    let mut v = vec![
        (0, None, s(uri)),
        (1, None, Value::Boolean(bootstrap)),
        (2, None, Value::Integer(mode)),
        (3, None, blob(rng, cert.max(16))),
        (4, None, blob(rng, cert)),
        (5, None, blob(rng, if mode == 0 { 16 } else { 121 })),
        (11, None, Value::Integer(if bootstrap { 5 } else { 0 })),
        (12, None, Value::Integer(0)),
        (13, None, Value::Unsigned(0)),
        (14, None, s(uri.split("//").nth(1).unwrap_or(uri))),
        (15, None, Value::Unsigned(3)),
        (16, Some(0), Value::Unsigned(0xC0A8)),
        (16, Some(1), Value::Unsigned(0xC0AE)),
    ];
    if !bootstrap {
        v.push((10, None, Value::Integer(ssid)));
    }
    v
}

fn server(ssid: i64, lifetime: i64, binding: &str) -> Values {
    vec![
        (0, None, Value::Integer(ssid)),
        (1, None, Value::Integer(lifetime)),
        (2, None, Value::Integer(1)),
        (3, None, Value::Integer(300)),
        (5, None, Value::Integer(86400)),
        (6, None, Value::Boolean(true)),
        (7, None, s(binding)),
        (10, None, Value::Objlnk(ObjLnk { oid: 11, iid: 0 })),
        (12, None, Value::Time(1_735_689_600)),
        (13, None, Value::Unsigned(ssid as u64 % 7)),
        (14, None, Value::Unsigned(0)),
        (15, None, Value::Boolean(false)),
        (16, None, Value::Boolean(true)),
        (17, None, Value::Unsigned(5)),
        (18, None, Value::Unsigned(60)),
        (19, None, Value::Unsigned(86400)),
        (20, None, Value::Unsigned(1)),
        (21, None, Value::Boolean(false)),
        (22, None, s("U")),
        (23, None, Value::Boolean(false)),
    ]
}

/// A data model with Security, Server and Access Control.
pub struct Dm {
    pub reg: Registry,
    pub attrs: AttributeStore,
}

impl Dm {
    /// The persisted state's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        persist::save_to_vec(&self.reg, &self.attrs, &DEFAULT_OBJECTS, &[], 1 << 20).unwrap()
    }
}

fn dm(sec: MapObject, srv: MapObject, ac: AccessControl, attrs: AttributeStore) -> Dm {
    let mut reg = Registry::new();
    reg.add_object(sec).unwrap();
    reg.add_object(srv).unwrap();
    reg.add_object(ac).unwrap();
    Dm { reg, attrs }
}

/// The factory configuration: a bootstrap account only.
pub fn factory() -> Dm {
    let mut rng = Rng::new(0xFAC7);
    let sec = MapObject::new(&SECURITY).with(
        0,
        security(&mut rng, "coaps://factory-bs.example:5694", true, 0, 0, 0),
    );
    dm(
        sec,
        MapObject::new(&SERVER),
        AccessControl::default(),
        AttributeStore::new(64),
    )
}

/// Adds the factory configuration to an empty data model (the `factory`
/// closure of `StateFile::restore`).
pub fn apply_factory(d: &mut Dm) {
    *d = factory();
}

fn attrs(pairs: &[(u16, Path, Attributes)]) -> AttributeStore {
    let mut a = AttributeStore::new(64);
    for (ssid, path, at) in pairs {
        a.set(*ssid, path, *at).unwrap();
    }
    a
}

/// Configuration A: a bootstrap account and two DTLS servers with
/// certificates (101, 102), ACLs, notification attributes.
pub fn config_a() -> Dm {
    let mut rng = Rng::new(0xA);
    let sec = MapObject::new(&SECURITY)
        .with(
            0,
            security(&mut rng, "coaps://bs.example.com:5694", true, 0, 2, 900),
        )
        .with(
            1,
            security(
                &mut rng,
                "coaps://dm-a.example.com:5684",
                false,
                101,
                2,
                1100,
            ),
        )
        .with(
            2,
            security(&mut rng, "coaps://dm-b.example.com:5684", false, 102, 0, 0),
        );
    let srv = MapObject::new(&SERVER)
        .with(0, server(101, 86400, "UQ"))
        .with(1, server(102, 3600, "U"));
    let mut ac = AccessControl::default();
    ac.insert(AclInstance::new(0, 1, 0, 101).with(101, 0b1_1111));
    ac.insert(AclInstance::new(1, 1, 1, 102).with(102, 0b1_1111));
    ac.insert(
        AclInstance::new(2, 3, 0, 101)
            .with(101, 0b1_1111)
            .with(102, 0b1),
    );
    ac.insert(AclInstance::new(3, 5, 0, 101).with(101, 0b1_0111));
    ac.insert(AclInstance::new(4, 3303, 65535, 101).with(101, 0b1_0000));
    let at = attrs(&[
        (
            101,
            Path::object(3),
            Attributes {
                pmin: Some(10),
                pmax: Some(600),
                ..Attributes::EMPTY
            },
        ),
        (
            101,
            Path::resource(3303, 0, 5700),
            Attributes {
                gt: Some(30.0),
                lt: Some(-5.0),
                st: Some(0.5),
                ..Attributes::EMPTY
            },
        ),
        (
            102,
            Path::resource(3, 0, 13),
            Attributes {
                pmax: Some(60),
                con: Some(true),
                ..Attributes::EMPTY
            },
        ),
    ]);
    dm(sec, srv, ac, at)
}

/// Configuration B: another bootstrap server, three PSK / RPK servers with
/// other ids and lifetimes, other ACLs and attributes.
pub fn config_b() -> Dm {
    let mut rng = Rng::new(0xB);
    let sec = MapObject::new(&SECURITY)
        .with(
            0,
            security(&mut rng, "coaps://bs2.example.net:5694", true, 0, 0, 0),
        )
        .with(
            3,
            security(&mut rng, "coaps://mgmt.example.net:5684", false, 201, 1, 91),
        )
        .with(
            4,
            security(
                &mut rng,
                "coaps://backup.example.net:5684",
                false,
                202,
                2,
                1300,
            ),
        )
        .with(
            5,
            security(&mut rng, "coap://lab.example.net:5683", false, 203, 3, 0),
        );
    let srv = MapObject::new(&SERVER)
        .with(0, server(201, 300, "U"))
        .with(1, server(202, 600, "UQ"))
        .with(2, server(203, 60, "U"));
    let mut ac = AccessControl::default();
    for (i, ssid) in [201u16, 202, 203].into_iter().enumerate() {
        let i = i as u16;
        ac.insert(AclInstance::new(i, 1, i, ssid).with(ssid, 0b1_1111));
    }
    ac.insert(
        AclInstance::new(7, 3, 0, 201)
            .with(0, 0b1)
            .with(201, 0b1_1111)
            .with(202, 0b11),
    );
    let at = attrs(&[
        (
            201,
            Path::instance(3303, 0),
            Attributes {
                pmin: Some(5),
                pmax: Some(50),
                ..Attributes::EMPTY
            },
        ),
        (
            202,
            Path::resource(3303, 0, 5700),
            Attributes {
                st: Some(1.0),
                epmin: Some(1),
                epmax: Some(30),
                ..Attributes::EMPTY
            },
        ),
        (
            203,
            Path::object(4),
            Attributes {
                hqmax: Some(8),
                ..Attributes::EMPTY
            },
        ),
        (
            203,
            Path::resource(3200, 0, 5500),
            Attributes {
                edge: Some(true),
                ..Attributes::EMPTY
            },
        ),
    ]);
    dm(sec, srv, ac, at)
}

/// A directory under the target's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("persist-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &FsPath {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
