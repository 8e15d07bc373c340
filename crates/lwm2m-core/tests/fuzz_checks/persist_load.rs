// Invariant for the state-file loader (fuzz target `persist_load`), shared
// with the stable corpus replay. Each input is tried twice: as a whole file,
// and as a body behind a correct header and CRC-32 (so mutations reach the
// body parser instead of stopping at the checksum).
//
// Loading never panics. A load that fails leaves the data model and the
// attribute store exactly as they were. A load that succeeds gives a state
// that saves, and that saved file loads into a fresh data model and saves to
// the same bytes (the writer's output is canonical). The extras `load`
// reports are the ones `extras` reports for the same bytes.

use std::collections::BTreeMap;

use lwm2m_core::DmError;
use lwm2m_core::dm::{
    AttributeStore, Attributes, DataType, Iid, Object, ObjectDef, Operations, Path, Registry,
    ResourceDef, Rid, Riid, Txn, Value,
};
use lwm2m_core::objects::{AccessControl, AclInstance};
use lwm2m_core::persist::{self, DEFAULT_OBJECTS, Extra, FORMAT_VERSION, MAGIC};

const SECURITY_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "LwM2M Server URI", Operations::None, DataType::String).mandatory(),
    ResourceDef::new(1, "Bootstrap-Server", Operations::None, DataType::Boolean).mandatory(),
    ResourceDef::new(2, "Security Mode", Operations::None, DataType::Integer).mandatory(),
    ResourceDef::new(
        3,
        "Public Key or Identity",
        Operations::None,
        DataType::Opaque,
    )
    .mandatory(),
    ResourceDef::new(5, "Secret Key", Operations::None, DataType::Opaque).mandatory(),
    ResourceDef::new(10, "Short Server ID", Operations::None, DataType::Integer),
    ResourceDef::new(
        16,
        "DTLS/TLS Ciphersuite",
        Operations::None,
        DataType::UnsignedInteger,
    )
    .multiple(),
    ResourceDef::new(
        17,
        "OSCORE Security Mode",
        Operations::None,
        DataType::Objlnk,
    ),
];
const SECURITY: ObjectDef = ObjectDef::new(0, SECURITY_RES).multiple().mandatory();

const SERVER_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "Short Server ID", Operations::R, DataType::Integer).mandatory(),
    ResourceDef::new(1, "Lifetime", Operations::RW, DataType::Integer).mandatory(),
    ResourceDef::new(
        3,
        "Default Maximum Period",
        Operations::RW,
        DataType::Integer,
    ),
    ResourceDef::new(4, "Disable", Operations::E, DataType::None),
    ResourceDef::new(6, "Notification Storing", Operations::RW, DataType::Boolean).mandatory(),
    ResourceDef::new(7, "Binding", Operations::RW, DataType::String).mandatory(),
    ResourceDef::new(12, "Last Bootstrapped", Operations::R, DataType::Time),
    ResourceDef::new(
        14,
        "Initial Registration Delay",
        Operations::RW,
        DataType::UnsignedInteger,
    ),
    ResourceDef::new(
        18,
        "Communication Retry Timer",
        Operations::RW,
        DataType::Float,
    ),
];
const SERVER: ObjectDef = ObjectDef::new(1, SERVER_RES)
    .multiple()
    .mandatory()
    .version(1, 1);

type Inst = BTreeMap<(Rid, Option<Riid>), Value<'static>>;

/// Any object as a map of values. Writing the string "refuse" fails; a
/// negative resource 1 fails validation; resource 12 is computed.
struct Map {
    def: &'static ObjectDef,
    state: Txn<BTreeMap<Iid, Inst>>,
}

impl Object for Map {
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
        let Some(i) = self.state.get(&iid) else {
            return;
        };
        i.keys()
            .filter(|k| k.0 == rid)
            .filter_map(|k| k.1)
            .for_each(each);
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
        let declared = self.def.resource(rid).map(|r| r.data_type);
        assert_eq!(
            Some(v.data_type()),
            declared,
            "load converts to the declared type"
        );
        if rid == 12 {
            return Err(DmError::MethodNotAllowed);
        }
        if v.as_str() == Some("refuse") {
            return Err(DmError::BadRequest);
        }
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
        let negative = self.state.values().any(|i| {
            i.get(&(1, None))
                .and_then(Value::as_i64)
                .is_some_and(|l| l < 0)
        });
        if negative {
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

/// `(rid, riid, value)` of one instance.
type Values<'a> = &'a [(Rid, Option<Riid>, Value<'static>)];

fn map(def: &'static ObjectDef, instances: &[(Iid, Values<'_>)]) -> Map {
    let mut state = BTreeMap::new();
    for (iid, values) in instances {
        let inst: Inst = values
            .iter()
            .map(|(r, ri, v)| ((*r, *ri), v.clone()))
            .collect();
        state.insert(*iid, inst);
    }
    Map {
        def,
        state: Txn::new(state),
    }
}

/// The factory configuration the loader replaces: one bootstrap account.
fn factory() -> (Registry, AttributeStore) {
    let mut reg = Registry::new();
    let sec: &[_] = &[
        (0, None, Value::str("coap://factory-bs.example:5693")),
        (1, None, Value::Boolean(true)),
        (2, None, Value::Integer(3)),
    ];
    reg.add_object(map(&SECURITY, &[(0, sec)])).unwrap();
    reg.add_object(map(&SERVER, &[])).unwrap();
    let mut ac = AccessControl::default();
    ac.insert(AclInstance::new(0, 3, 0, 65535).with(0, 1));
    reg.add_object(ac).unwrap();
    let mut attrs = AttributeStore::new(16);
    attrs
        .set(
            9,
            &Path::object(3),
            Attributes {
                pmin: Some(1),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    (reg, attrs)
}

fn state(reg: &Registry, attrs: &AttributeStore, extras: &[Extra<'_>]) -> Vec<u8> {
    persist::save_to_vec(reg, attrs, &DEFAULT_OBJECTS, extras, 1 << 20).expect("state saves")
}

/// `body` behind a correct header.
fn seal(body: &[u8]) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    // CRC-32/ISO-HDLC, written out again so the check does not trust the
    // code under test.
    let mut crc = !0u32;
    for &b in body {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    v.extend_from_slice(&(!crc).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn run(bytes: &[u8]) {
    let (mut reg, mut attrs) = factory();
    let before = state(&reg, &attrs, &[]);
    let attrs_before = attrs.clone();
    let listed: Option<Vec<Extra<'_>>> = persist::extras(bytes).ok().map(Iterator::collect);
    match persist::load(bytes, &mut reg, &mut attrs) {
        Err(_) => {
            assert_eq!(
                state(&reg, &attrs, &[]),
                before,
                "a failed load changed the data model"
            );
            assert_eq!(attrs, attrs_before, "a failed load changed the attributes");
        }
        Ok(loaded) => {
            let extras: Vec<_> = loaded.extras().collect();
            assert_eq!(
                listed.as_ref(),
                Some(&extras),
                "extras() and load() disagree"
            );
            let saved = state(&reg, &attrs, &extras);
            let (mut reg2, mut attrs2) = factory();
            persist::load(&saved, &mut reg2, &mut attrs2).expect("a saved state loads");
            assert_eq!(state(&reg2, &attrs2, &extras), saved, "save is canonical");
        }
    }
    assert!(!reg.in_session());
}

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    run(data);
    run(&seal(data));
}
