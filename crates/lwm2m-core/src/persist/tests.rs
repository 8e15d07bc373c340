use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::buf::Writer;
use crate::dm::testutil::{SERVER_DEF, Security, Servers, THING_A, Thing, inst};
use crate::dm::{
    AttributeStore, Attributes, DataType, Iid, ObjLnk, Object, ObjectDef, Operations, Registry,
    ResourceDef, Rid, Riid, Txn, Value,
};
use crate::objects::{AccessControl, AclInstance};

const ALL_RES: &[ResourceDef] = &[
    ResourceDef::new(0, "s", Operations::RW, DataType::String),
    ResourceDef::new(1, "i", Operations::RW, DataType::Integer),
    ResourceDef::new(2, "u", Operations::RW, DataType::UnsignedInteger),
    ResourceDef::new(3, "f", Operations::RW, DataType::Float),
    ResourceDef::new(4, "b", Operations::RW, DataType::Boolean),
    ResourceDef::new(5, "o", Operations::RW, DataType::Opaque),
    ResourceDef::new(6, "t", Operations::RW, DataType::Time),
    ResourceDef::new(7, "l", Operations::RW, DataType::Objlnk),
    ResourceDef::new(8, "c", Operations::RW, DataType::Corelnk),
    ResourceDef::new(9, "m", Operations::RW, DataType::Integer).multiple(),
    ResourceDef::new(10, "x", Operations::E, DataType::None),
    ResourceDef::new(11, "p", Operations::W, DataType::Opaque).streaming(),
    ResourceDef::new(12, "computed", Operations::R, DataType::String),
];
const TYPED: ObjectDef = ObjectDef::new(1100, ALL_RES).multiple().version(2, 3);

type Inst = BTreeMap<(Rid, Option<Riid>), Value<'static>>;

/// Every data type, a multiple resource, an executable, a streaming and a
/// computed resource. Writing the integer `refuse` fails; holding the
/// integer `invalid` fails validation.
#[derive(Debug, Default)]
struct Typed {
    state: Txn<BTreeMap<Iid, Inst>>,
    refuse: Option<i64>,
    invalid: Option<i64>,
}

impl Object for Typed {
    fn def(&self) -> &'static ObjectDef {
        &TYPED
    }
    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.keys().for_each(|&i| each(i));
    }
    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        rid == 12 || self.state[&iid].keys().any(|k| k.0 == rid)
    }
    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        for (r, ri) in self.state[&iid].keys() {
            if let (true, Some(ri)) = (*r == rid, ri) {
                each(*ri);
            }
        }
    }
    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        if rid == 12 {
            return Ok(Value::str("computed"));
        }
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
        if rid == 12 {
            return Err(DmError::MethodNotAllowed);
        }
        assert_eq!(v.data_type(), TYPED.resource(rid).unwrap().data_type);
        if v.as_i64().is_some() && v.as_i64() == self.refuse {
            return Err(DmError::BadRequest);
        }
        let i = self.state.get_mut(&iid).ok_or(DmError::NotFound)?;
        i.insert((rid, riid), v.into_owned());
        Ok(())
    }
    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        if self.state.insert(iid, Inst::new()).is_some() {
            return Err(DmError::BadRequest);
        }
        Ok(())
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
        let bad = self.state.values().flat_map(|i| i.values()).any(|v| {
            matches!(v, Value::Integer(_)) && v.as_i64().is_some() && v.as_i64() == self.invalid
        });
        if bad {
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

fn typed_instance(seed: i64) -> Inst {
    let mut i = Inst::new();
    i.insert(
        (0, None),
        Value::String(format!("coaps://s{seed}.example:5684").into()),
    );
    i.insert((1, None), Value::Integer(-seed));
    i.insert((2, None), Value::Unsigned(u64::MAX - seed as u64));
    i.insert((3, None), Value::Float(0.1 + seed as f64));
    i.insert((4, None), Value::Boolean(seed % 2 == 0));
    i.insert((5, None), Value::Opaque(vec![seed as u8; 40].into()));
    i.insert((6, None), Value::Time(1_700_000_000 + seed));
    i.insert(
        (7, None),
        Value::Objlnk(ObjLnk {
            oid: 3,
            iid: seed as u16,
        }),
    );
    i.insert((8, None), Value::Corelnk("</3/0>".into()));
    i.insert((9, Some(0)), Value::Integer(10));
    i.insert((9, Some(7)), Value::Integer(17));
    i
}

const ALL: [Oid; 4] = [0, 1, 2, 1100];

/// Security (bootstrap and one server), Server 101, two ACL instances, the
/// typed object with two instances, and attributes for two servers.
fn configured() -> (Registry, AttributeStore) {
    let mut reg = Registry::new();
    let mut sec = Security::default();
    sec.state
        .insert(0, ("coaps://bs.example:5694".into(), true, 0));
    sec.state
        .insert(1, ("coaps://dm.example:5684".into(), false, 101));
    reg.add_object(sec).unwrap();
    reg.add_object(Servers::default().with(0, 101)).unwrap();
    let mut ac = AccessControl::default();
    ac.insert(
        AclInstance::new(0, 3, 0, 101)
            .with(101, 0b1_1111)
            .with(0, 1),
    );
    ac.insert(AclInstance::new(4, 1100, MAX_ID_U16, 101).with(102, 0b1));
    reg.add_object(ac).unwrap();
    let mut t = Typed::default();
    t.state.insert(0, typed_instance(1));
    t.state.insert(9, typed_instance(2));
    reg.add_object(t).unwrap();
    let mut attrs = AttributeStore::new(8);
    attrs
        .set(
            101,
            &Path::object(3),
            Attributes {
                pmin: Some(10),
                pmax: Some(600),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    attrs
        .set(
            101,
            &Path::resource(1100, 0, 3),
            Attributes {
                gt: Some(50.5),
                lt: Some(-2.25),
                st: Some(0.5),
                epmin: Some(1),
                epmax: Some(2),
                con: Some(true),
                hqmax: Some(4),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    attrs
        .set(
            102,
            &Path::resource_instance(1100, 0, 9, 7),
            Attributes {
                edge: Some(false),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    (reg, attrs)
}

const MAX_ID_U16: u16 = crate::dm::MAX_ID;

/// The same objects with factory content: nothing configured.
fn factory() -> (Registry, AttributeStore) {
    let mut reg = Registry::new();
    let mut sec = Security::default();
    sec.state
        .insert(3, ("coap://factory.example".into(), true, 0));
    reg.add_object(sec).unwrap();
    reg.add_object(Servers::default()).unwrap();
    reg.add_object(AccessControl::default()).unwrap();
    let mut t = Typed::default();
    let mut stale = typed_instance(5);
    stale.insert((9, Some(3)), Value::Integer(33));
    t.state.insert(0, stale);
    reg.add_object(t).unwrap();
    let mut attrs = AttributeStore::new(8);
    attrs
        .set(
            7,
            &Path::object(1),
            Attributes {
                pmax: Some(9),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    (reg, attrs)
}

fn snapshot(reg: &Registry, attrs: &AttributeStore) -> Vec<u8> {
    save_to_vec(reg, attrs, &ALL, &[], 1 << 20).unwrap()
}

/// A file whose header is right for `body`.
fn seal(body: &[u8]) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(&crc::crc32(body).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[track_caller]
fn load_fails(bytes: &[u8], want: PersistError) {
    let (mut reg, mut attrs) = factory();
    let before = snapshot(&reg, &attrs);
    let attrs_before = attrs.clone();
    assert_eq!(load(bytes, &mut reg, &mut attrs).map(|_| ()), Err(want));
    assert_eq!(
        snapshot(&reg, &attrs),
        before,
        "data model changed by a failed load"
    );
    assert_eq!(attrs, attrs_before);
    assert!(!reg.in_session());
}

#[test]
fn exact_bytes_of_a_small_file() {
    // Hand-assembled from the format table in the module documentation;
    // the CRC is zlib.crc32 of the 48 body bytes.
    let mut reg = Registry::new();
    reg.add_object(Servers::default().with(0, 101)).unwrap();
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    let n = save(
        &reg,
        &AttributeStore::new(1),
        &DEFAULT_OBJECTS,
        &[Extra::new(1, b"ob")],
        &mut w,
    )
    .unwrap();
    #[rustfmt::skip]
    let want: &[u8] = &[
        0x89, b'L', b'W', b'M', b'2', b'M', b'S', b'\n', // magic
        0, 1, 0, 0, // version 1, flags 0
        0, 0, 0, 48, 0xa5, 0x73, 0xf9, 0x39, // body length, CRC-32
        1, 0, 0, 0, 34, // object section, 34 bytes
        0, 1, 1, 1, 0, 1, // /1, version 1.1, one instance
        0, 0, 0, 2, // /1/0, two resources (the executable /1/0/8 is not state)
        0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 101, // /1/0/0 single Integer 101
        0, 1, 0, 2, 0, 0, 0, 0, 0, 1, 0x51, 0x80, // /1/0/1 single Integer 86400
        3, 0, 0, 0, 4, 0, 1, b'o', b'b', // extra kind 1
    ];
    assert_eq!(w.written(), want);
    assert_eq!(n, want.len());
    assert_eq!(SERVER_DEF.version.minor, 1);
    let ex: Vec<_> = extras(want).unwrap().collect();
    assert_eq!(ex, [Extra::new(1, b"ob")]);
}

#[test]
fn round_trip_replaces_factory_content_exactly() {
    let (reg, attrs) = configured();
    let ext = [
        Extra::new(extra_kind::OBSERVATIONS, b"obs"),
        Extra::new(0x8001, b""),
    ];
    let bytes = save_to_vec(&reg, &attrs, &ALL, &ext, 1 << 16).unwrap();
    let (mut reg2, mut attrs2) = factory();
    let loaded = load(&bytes, &mut reg2, &mut attrs2).unwrap();
    assert_eq!(loaded.instances(), 2 + 1 + 2 + 2);
    assert_eq!(loaded.attributes(), 3);
    assert_eq!(loaded.extras().collect::<Vec<_>>(), ext);
    assert_eq!(attrs2, attrs);
    assert_eq!(snapshot(&reg2, &attrs2), snapshot(&reg, &attrs));
    assert_eq!(
        save_to_vec(&reg2, &attrs2, &ALL, &ext, 1 << 16).unwrap(),
        bytes
    );
    // The factory-only Security instance /0/3 and list entry /1100/0/9/3
    // are gone; values kept their exact types.
    let sec = reg2.get(0).unwrap();
    assert!(!sec.has_instance(3) && sec.has_instance(1));
    let t = reg2.get(1100).unwrap();
    assert_eq!(t.read(0, 9, Some(3)), Err(DmError::NotFound));
    assert_eq!(t.read(0, 6, None), Ok(Value::Time(1_700_000_001)));
    assert_eq!(t.read(0, 3, None), Ok(Value::Float(1.1)));
    assert_eq!(t.read(0, 2, None), Ok(Value::Unsigned(u64::MAX - 1)));
    assert!(!reg2.in_session());
}

#[test]
fn default_objects_only_and_unregistered_ones_skipped() {
    let (reg, attrs) = configured();
    let bytes = save_to_vec(&reg, &attrs, &DEFAULT_OBJECTS, &[], 1 << 16).unwrap();
    // Only three object sections: the typed object is not in the set.
    let mut reg_small = Registry::new();
    reg_small.add_object(Security::default()).unwrap();
    let only_sec = save_to_vec(
        &reg_small,
        &AttributeStore::new(1),
        &DEFAULT_OBJECTS,
        &[],
        1 << 16,
    )
    .unwrap();
    assert_eq!(only_sec.len(), HEADER_LEN + 5 + 6);
    let (mut reg2, mut attrs2) = factory();
    load(&bytes, &mut reg2, &mut attrs2).unwrap();
    // The typed object kept its factory content.
    assert_eq!(
        reg2.get(1100).unwrap().read(0, 9, Some(3)),
        Ok(Value::Integer(33))
    );
    assert_eq!(attrs2, attrs);
}

#[test]
fn save_is_bounded_and_refuses_uncommitted_state() {
    let (mut reg, attrs) = configured();
    let full = snapshot(&reg, &attrs);
    let mut small = vec![0u8; full.len() - 1];
    let mut w = Writer::new(&mut small);
    w.put(b"keep").unwrap();
    assert_eq!(
        save(&reg, &attrs, &ALL, &[], &mut w),
        Err(SaveError::Overflow)
    );
    assert_eq!(w.written(), b"keep");
    assert_eq!(
        save_to_vec(&reg, &attrs, &ALL, &[], full.len() - 1),
        Err(SaveError::Overflow)
    );
    assert_eq!(
        save_to_vec(&reg, &attrs, &ALL, &[], full.len()).unwrap(),
        full
    );

    reg.begin_session().unwrap();
    assert_eq!(
        save_to_vec(&reg, &attrs, &ALL, &[], 1 << 16),
        Err(SaveError::Busy)
    );
    reg.end_session(false).unwrap();
    let mut t = reg.transaction();
    t.object_mut(2).unwrap();
    let s = t.suspend();
    assert_eq!(
        save_to_vec(&reg, &attrs, &ALL, &[], 1 << 16),
        Err(SaveError::Busy)
    );
    // An object not saved may be held.
    assert!(save_to_vec(&reg, &attrs, &[0, 1], &[], 1 << 16).is_ok());
    reg.abandon(s);
}

#[test]
fn a_failing_read_fails_the_save() {
    let mut reg = Registry::new();
    // Thing's write-only /1000/0/6 answers reads with 5.00.
    reg.add_object(Thing::new(&THING_A).with(0, inst("a")))
        .unwrap();
    assert_eq!(
        save_to_vec(&reg, &AttributeStore::new(1), &[1000], &[], 1 << 16),
        Err(SaveError::Read {
            path: Path::resource(1000, 0, 6),
            error: DmError::Internal
        })
    );
}

#[test]
fn header_errors() {
    let (reg, attrs) = configured();
    let good = snapshot(&reg, &attrs);
    load_fails(b"", PersistError::Truncated);
    load_fails(&MAGIC[..5], PersistError::Truncated);
    load_fails(b"{\"security\": []}", PersistError::BadMagic);
    load_fails(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR....", PersistError::BadMagic);
    load_fails(b"ab", PersistError::BadMagic);
    load_fails(&good[..10], PersistError::Truncated);
    load_fails(&good[..19], PersistError::Truncated);
    load_fails(&good[..good.len() - 1], PersistError::Truncated);
    let mut longer = good.clone();
    longer.push(0);
    load_fails(&longer, PersistError::Malformed { at: good.len() });
    let mut v2 = good.clone();
    v2[9] = 2;
    load_fails(
        &v2,
        PersistError::UnsupportedVersion {
            version: 2,
            flags: 0,
        },
    );
    let mut flagged = good.clone();
    flagged[11] = 1;
    load_fails(
        &flagged,
        PersistError::UnsupportedVersion {
            version: 1,
            flags: 1,
        },
    );
    for at in [HEADER_LEN, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        load_fails(&bad, PersistError::ChecksumMismatch);
    }
    let mut bad_crc = good.clone();
    bad_crc[16] ^= 1;
    load_fails(&bad_crc, PersistError::ChecksumMismatch);
    assert_eq!(
        extras(&bad_crc).map(|_| ()),
        Err(PersistError::ChecksumMismatch)
    );
}

/// An object section for `/1100` holding one instance with `resources`.
fn typed_section(resources: &[u8], count: u16) -> Vec<u8> {
    let mut c = vec![0x04, 0x4c, 2, 3, 0, 1, 0, 0];
    c.extend_from_slice(&count.to_be_bytes());
    c.extend_from_slice(resources);
    let mut s = vec![1];
    s.extend_from_slice(&(c.len() as u32).to_be_bytes());
    s.extend_from_slice(&c);
    s
}

#[test]
fn body_errors_name_their_offset() {
    // Unknown section tag at body offset 0.
    load_fails(
        &seal(&[9, 0, 0, 0, 0]),
        PersistError::Malformed { at: HEADER_LEN + 5 },
    );
    // A section longer than the body.
    load_fails(
        &seal(&[3, 0, 0, 0, 9, 0]),
        PersistError::Malformed { at: HEADER_LEN + 5 },
    );
    // Extra section without its kind.
    load_fails(
        &seal(&[3, 0, 0, 0, 1, 0]),
        PersistError::Malformed { at: HEADER_LEN + 5 },
    );
    // Single value of an unknown type 0x20 at /1100/0/1: offset of the type.
    let r = [0, 1, 0, 0x20];
    load_fails(
        &seal(&typed_section(&r, 1)),
        PersistError::Malformed {
            at: HEADER_LEN + 5 + 10 + 3,
        },
    );
    // Boolean 2.
    let r = [0, 4, 0, 5, 2];
    load_fails(
        &seal(&typed_section(&r, 1)),
        PersistError::Malformed {
            at: HEADER_LEN + 5 + 10 + 4,
        },
    );
    // Invalid UTF-8 string.
    let r = [0, 0, 0, 1, 0, 0, 0, 1, 0xff];
    load_fails(
        &seal(&typed_section(&r, 1)),
        PersistError::Malformed {
            at: HEADER_LEN + 5 + 10 + 4,
        },
    );
    // Resources out of order.
    let r = [
        0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    load_fails(
        &seal(&typed_section(&r, 2)),
        PersistError::Malformed {
            at: HEADER_LEN + 5 + 10 + 12,
        },
    );
    // Trailing bytes inside a section.
    let mut s = typed_section(&[0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0xee], 1);
    load_fails(
        &seal(&s),
        PersistError::Malformed {
            at: HEADER_LEN + s.len() - 1,
        },
    );
    // Two attribute sections; object sections out of order.
    let attrs = [2, 0, 0, 0, 4, 0, 0, 0, 0];
    load_fails(
        &seal(&[&attrs[..], &attrs[..]].concat()),
        PersistError::Malformed {
            at: HEADER_LEN + 9 + 5,
        },
    );
    s = typed_section(&[], 0);
    load_fails(
        &seal(&[&s[..], &s[..]].concat()),
        PersistError::Malformed {
            at: HEADER_LEN + s.len() + 5,
        },
    );
    assert_eq!(
        extras(&seal(&[7, 0, 0, 0, 0])).map(|_| ()),
        Err(PersistError::Malformed { at: HEADER_LEN + 5 })
    );
}

#[test]
fn attribute_entries_are_checked() {
    let entry = |e: &[u8]| {
        let mut c = vec![0, 0, 0, 1];
        c.extend_from_slice(e);
        let mut s = vec![2];
        s.extend_from_slice(&(c.len() as u32).to_be_bytes());
        s.extend_from_slice(&c);
        seal(&s)
    };
    let at = HEADER_LEN + 5 + 4;
    // ssid 1, /3, pmin 5: fine.
    let (mut reg, mut attrs) = factory();
    load(
        &entry(&[0, 1, 1, 0, 3, 0, 1, 0, 0, 0, 5]),
        &mut reg,
        &mut attrs,
    )
    .unwrap();
    assert_eq!(attrs.len(), 1);
    assert_eq!(attrs.get(1, &Path::object(3)).pmin, Some(5));
    // Empty mask, unknown mask bit, path too deep, id 65535.
    load_fails(
        &entry(&[0, 1, 1, 0, 3, 0, 0]),
        PersistError::Malformed { at: at + 5 },
    );
    load_fails(
        &entry(&[0, 1, 1, 0, 3, 4, 0]),
        PersistError::Malformed { at: at + 5 },
    );
    load_fails(
        &entry(&[0, 1, 5, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5]),
        PersistError::Malformed { at },
    );
    load_fails(
        &entry(&[0, 1, 1, 0xff, 0xff, 0, 1, 0, 0, 0, 5]),
        PersistError::Malformed { at },
    );
    // pmin > pmax breaks a validity rule.
    load_fails(
        &entry(&[0, 1, 1, 0, 3, 0, 3, 0, 0, 0, 9, 0, 0, 0, 1]),
        PersistError::Malformed { at },
    );
    // gt = NaN.
    let mut nan = vec![0, 1, 3, 0, 3, 0, 0, 0, 1, 0, 4];
    nan.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
    load_fails(&entry(&nan), PersistError::Malformed { at: at + 11 });
    // edge = 2.
    load_fails(
        &entry(&[0, 1, 3, 0, 3, 0, 0, 0, 1, 0, 0x80, 2]),
        PersistError::Malformed { at: at + 11 },
    );
    // More entries than the store holds.
    let (reg, attrs) = configured();
    let bytes = snapshot(&reg, &attrs);
    let mut reg2 = factory().0;
    let mut tiny = AttributeStore::new(2);
    let before = snapshot(&reg2, &tiny);
    assert_eq!(
        load(&bytes, &mut reg2, &mut tiny).map(|_| ()),
        Err(PersistError::AttributesFull)
    );
    assert_eq!(snapshot(&reg2, &tiny), before);
}

#[test]
fn mismatches_and_refusals_roll_everything_back() {
    // An object this build lacks.
    let (reg, attrs) = configured();
    let mut bytes = snapshot(&reg, &attrs);
    let mut other = Registry::new();
    other.add_object(Security::default()).unwrap();
    let mut a = attrs.clone();
    assert_eq!(
        load(&bytes, &mut other, &mut a).map(|_| ()),
        Err(PersistError::Mismatch {
            path: Path::object(1)
        })
    );
    // The typed object refuses a value; the Security object had already
    // been replaced when it did, and is restored.
    let refusing = |refuse, invalid| {
        let (mut reg, mut attrs) = factory();
        reg.remove_object(1100).unwrap();
        let mut t = Typed::default();
        t.state.insert(0, typed_instance(5));
        t.refuse = refuse;
        t.invalid = invalid;
        reg.add_object(t).unwrap();
        let before = snapshot(&reg, &attrs);
        let attrs_before = attrs.clone();
        let r = load(&bytes, &mut reg, &mut attrs).map(|_| ());
        if r.is_err() {
            assert_eq!(snapshot(&reg, &attrs), before);
            assert_eq!(attrs, attrs_before);
        }
        r
    };
    assert_eq!(
        refusing(Some(17), None),
        Err(PersistError::Rejected {
            path: Path::resource_instance(1100, 0, 9, 7),
            error: DmError::BadRequest
        })
    );
    assert_eq!(
        refusing(None, Some(10)),
        Err(PersistError::Rejected {
            path: Path::object(1100),
            error: DmError::BadRequest
        })
    );
    assert_eq!(refusing(None, None), Ok(()));
    // A value that does not convert to the declared type: Boolean for the
    // Integer /1/0/1 (the type byte of its value is 2; make it 5, 1).
    let (reg, attrs) = configured();
    bytes = save_to_vec(&reg, &attrs, &[1], &[], 1 << 16).unwrap();
    let body = &bytes[HEADER_LEN..];
    let needle = [0, 1, 0, 2];
    let pos = body.windows(4).position(|w| w == needle).unwrap();
    let mut b = body[..pos + 3].to_vec();
    b.extend_from_slice(&[5, 1]);
    b.extend_from_slice(&body[pos + 12..]);
    let len = (u32::from_be_bytes(b[1..5].try_into().unwrap()) - 7).to_be_bytes();
    b[1..5].copy_from_slice(&len);
    load_fails(
        &seal(&b),
        PersistError::Mismatch {
            path: Path::resource(1, 0, 1),
        },
    );
    // An executable resource, an undefined one, single given for multiple.
    let exec = [0, 10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
    load_fails(
        &seal(&typed_section(&exec, 1)),
        PersistError::Mismatch {
            path: Path::resource(1100, 0, 10),
        },
    );
    let undefined = [0, 40, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
    load_fails(
        &seal(&typed_section(&undefined, 1)),
        PersistError::Mismatch {
            path: Path::resource(1100, 0, 40),
        },
    );
    let single_for_multi = [0, 9, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
    load_fails(
        &seal(&typed_section(&single_for_multi, 1)),
        PersistError::Mismatch {
            path: Path::resource(1100, 0, 9),
        },
    );
}

#[test]
fn load_refuses_while_the_data_model_is_busy() {
    let (reg, attrs) = configured();
    let bytes = snapshot(&reg, &attrs);
    let (mut reg2, mut attrs2) = factory();
    reg2.begin_session().unwrap();
    assert_eq!(
        load(&bytes, &mut reg2, &mut attrs2).map(|_| ()),
        Err(PersistError::Rejected {
            path: Path::ROOT,
            error: DmError::Conflict
        })
    );
    assert!(reg2.in_session());
}

#[test]
fn computed_resources_are_saved_but_not_forced_back() {
    let (reg, attrs) = configured();
    let bytes = snapshot(&reg, &attrs);
    // /1100/0/12 is in the file (read-only, answered 4.05 on write)...
    let needle = [0, 12, 0, 1, 0, 0, 0, 8];
    assert!(bytes.windows(needle.len()).any(|w| w == needle));
    // ...and loading it is not an error.
    let (mut reg2, mut attrs2) = factory();
    load(&bytes, &mut reg2, &mut attrs2).unwrap();
}

fn mutate(good: &[u8], ops: &[(u16, u8, u8)]) -> Vec<u8> {
    let mut v = good.to_vec();
    for &(pos, kind, byte) in ops {
        let at = usize::from(pos) % (v.len() + 1);
        match kind % 3 {
            0 if at < v.len() => v[at] ^= byte | 1,
            1 => v.insert(at, byte),
            _ if at < v.len() => {
                v.remove(at);
            }
            _ => {}
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_change_nothing(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        for bytes in [data.clone(), seal(&data)] {
            let (mut reg, mut attrs) = factory();
            let before = snapshot(&reg, &attrs);
            if load(&bytes, &mut reg, &mut attrs).is_err() {
                prop_assert_eq!(snapshot(&reg, &attrs), before);
            }
            let _ = extras(&bytes).map(Iterator::count);
        }
    }

    #[test]
    fn damaged_files_load_whole_or_not_at_all(ops in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 1..4)) {
        let (reg, attrs) = configured();
        let good = snapshot(&reg, &attrs);
        let damaged = mutate(&good, &ops);
        // Re-sealed, the damage reaches the body parser past the checksum.
        for bytes in [damaged.clone(), seal(damaged.get(HEADER_LEN..).unwrap_or(&[]))] {
            let (mut reg2, mut attrs2) = factory();
            let before = snapshot(&reg2, &attrs2);
            match load(&bytes, &mut reg2, &mut attrs2) {
                Err(_) => prop_assert_eq!(snapshot(&reg2, &attrs2), before),
                Ok(_) => {
                    // Whatever loaded saves and loads back to itself.
                    let again = snapshot(&reg2, &attrs2);
                    let (mut reg3, mut attrs3) = factory();
                    load(&again, &mut reg3, &mut attrs3).unwrap();
                    prop_assert_eq!(snapshot(&reg3, &attrs3), again);
                }
            }
        }
    }
}
