//! Every operation: success and each error outcome at each path depth, and
//! the atomicity the issue asks for (issue 3, "Tests that must exist").

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::attributes::write_attributes;
use super::bootstrap::{
    bootstrap_delete, bootstrap_discover, bootstrap_finish, bootstrap_read, bootstrap_write,
};
use super::composite::{read_composite, write_composite};
use super::create::create;
use super::delete::delete;
use super::discover::{ObjectListOptions, discover, object_list, parse_depth};
use super::execute::execute;
use super::read::read;
use super::write::{WriteMode, write, write_chunk};
use crate::buf::Writer;
use crate::content::{DecodeError, Entry};
use crate::dm::testutil::*;
use crate::dm::{
    AttributeStore, Attributes, DataType, Iid, Lwm2mVersion, Object, ObjectDef, Operations, Origin,
    Path, Registry, ResourceDef, Rid, Riid, Value,
};
use crate::error::DmError;

const S: Origin = Origin::Server(101);
const BS: Origin = Origin::Bootstrap;

fn do_read(reg: &Registry, origin: Origin, path: &str) -> Result<Recorder, DmError> {
    let mut rec = Recorder::default();
    let mut buf = [0u8; 16];
    let mut w = Writer::new(&mut buf);
    read(reg, origin, &p(path), &mut rec, &mut w).map(|()| rec)
}

fn read_err(reg: &Registry, origin: Origin, path: &str) -> DmError {
    do_read(reg, origin, path).unwrap_err()
}

fn s(v: &str) -> Value<'static> {
    Value::String(v.to_string().into())
}

/// An object that supports nothing but Read.
struct ReadOnly;
const RO_DEF: ObjectDef = ObjectDef::new(
    1003,
    &[ResourceDef::new(0, "v", Operations::R, DataType::Integer)],
);
impl Object for ReadOnly {
    fn def(&self) -> &'static ObjectDef {
        &RO_DEF
    }
    fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Ok(Value::Integer(5))
    }
}

// ---------------------------------------------------------------- Read

#[test]
fn read_at_every_depth_in_path_order() {
    let d = dm();
    let rec = do_read(&d.reg, S, "/1000").unwrap();
    assert!(rec.begun && rec.ended);
    assert_eq!(
        rec.pairs(),
        [
            ("/1000/0/0".into(), s("a")),
            ("/1000/0/1".into(), Value::Integer(1)),
            ("/1000/0/2/0".into(), Value::Integer(10)),
            ("/1000/0/2/1".into(), Value::Integer(11)),
            ("/1000/0/3".into(), Value::Float(21.5)),
            ("/1000/1/0".into(), s("b")),
            ("/1000/1/3".into(), Value::Float(0.0)),
        ]
    );
    let rec = do_read(&d.reg, S, "/1000/0").unwrap();
    assert_eq!(rec.entries.len(), 5);
    let rec = do_read(&d.reg, S, "/1000/0/0").unwrap();
    assert_eq!(rec.pairs(), [("/1000/0/0".into(), s("a"))]);
    let rec = do_read(&d.reg, S, "/1000/0/2").unwrap();
    assert_eq!(rec.paths(), ["/1000/0/2/0", "/1000/0/2/1"]);
    let rec = do_read(&d.reg, S, "/1000/0/2/1").unwrap();
    assert_eq!(rec.pairs(), [("/1000/0/2/1".into(), Value::Integer(11))]);
    // an empty multiple resource reads as nothing
    let rec = do_read(&d.reg, S, "/1000/1/2").unwrap();
    assert!(rec.entries.is_empty() && rec.ended);
}

#[test]
fn read_errors_at_every_depth() {
    let d = dm();
    let r = &d.reg;
    assert_eq!(read_err(r, S, "/"), DmError::MethodNotAllowed);
    assert_eq!(read_err(r, S, "/9999"), DmError::NotFound);
    assert_eq!(read_err(r, S, "/1000/5"), DmError::NotFound);
    assert_eq!(read_err(r, S, "/1000/0/99"), DmError::NotFound);
    assert_eq!(read_err(r, S, "/1000/1/1"), DmError::NotFound); // optional, absent
    assert_eq!(read_err(r, S, "/1000/0/4"), DmError::MethodNotAllowed); // E
    assert_eq!(read_err(r, S, "/1000/0/6"), DmError::MethodNotAllowed); // W only
    assert_eq!(read_err(r, S, "/1000/0/2/7"), DmError::NotFound);
    assert_eq!(read_err(r, S, "/1000/0/0/0"), DmError::NotFound); // single resource
    assert_eq!(read_err(r, S, "/0"), DmError::Unauthorized);
    assert_eq!(read_err(r, S, "/0/1"), DmError::Unauthorized);
    assert_eq!(read_err(r, S, "/0/1/0"), DmError::Unauthorized);
    // a value the format cannot carry
    let mut rec = Recorder {
        refuse_at: Some(2),
        ..Recorder::default()
    };
    let mut buf = [0u8; 4];
    let mut w = Writer::new(&mut buf);
    assert_eq!(
        read(r, S, &p("/1000/0"), &mut rec, &mut w),
        Err(DmError::NotAcceptable)
    );
}

#[test]
fn handler_returning_the_wrong_type_is_an_internal_error() {
    struct Liar;
    const DEF: ObjectDef = ObjectDef::new(
        1004,
        &[ResourceDef::new(0, "v", Operations::R, DataType::Integer)],
    );
    impl Object for Liar {
        fn def(&self) -> &'static ObjectDef {
            &DEF
        }
        fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
            Ok(Value::str("not a number"))
        }
    }
    let mut reg = Registry::new();
    reg.add_object(Liar).unwrap();
    assert_eq!(read_err(&reg, S, "/1004/0/0"), DmError::Internal);
}

// ---------------------------------------------------------------- Write

#[test]
fn write_replace_and_update_at_every_depth() {
    let mut d = dm();
    // replace an instance: reset first, so num and list go away
    write(
        &mut d.reg,
        S,
        &p("/1000/0"),
        WriteMode::Replace,
        payload(&[("/1000/0/0", s("x")), ("/1000/0/2/5", Value::Integer(5))]),
    )
    .unwrap();
    let i = d.reg.object(d.a).unwrap().inst(0).clone();
    assert_eq!((i.name.as_str(), i.num, i.temp), ("x", None, 21.5));
    assert_eq!(i.list.into_iter().collect::<Vec<_>>(), [(5, 5)]);
    // partial update keeps the rest
    write(
        &mut d.reg,
        S,
        &p("/1000/0"),
        WriteMode::Update,
        payload(&[
            ("/1000/0/1", Value::Integer(7)),
            ("/1000/0/2/6", Value::Integer(6)),
        ]),
    )
    .unwrap();
    let i = d.reg.object(d.a).unwrap().inst(0).clone();
    assert_eq!((i.name.as_str(), i.num), ("x", Some(7)));
    assert_eq!(i.list.keys().copied().collect::<Vec<_>>(), [5, 6]);
    // replace a multiple resource: all its instances
    write(
        &mut d.reg,
        S,
        &p("/1000/0/2"),
        WriteMode::Replace,
        payload(&[("/1000/0/2/3", Value::Integer(3))]),
    )
    .unwrap();
    assert_eq!(
        d.reg
            .object(d.a)
            .unwrap()
            .inst(0)
            .list
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        [3]
    );
    // update a multiple resource: adds
    write(
        &mut d.reg,
        S,
        &p("/1000/0/2"),
        WriteMode::Update,
        payload(&[("/1000/0/2/4", Value::Integer(4))]),
    )
    .unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).list.len(), 2);
    // a single resource, with a value the decoder typed loosely
    write(
        &mut d.reg,
        S,
        &p("/1000/0/1"),
        WriteMode::Replace,
        payload(&[("/1000/0/1", Value::Float(9.0))]),
    )
    .unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(9));
    // a resource instance
    write(
        &mut d.reg,
        S,
        &p("/1000/0/2/3"),
        WriteMode::Replace,
        payload(&[("/1000/0/2/3", Value::Integer(33))]),
    )
    .unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).list.get(&3), Some(&33));
    // write-only and streaming resources (a whole value is one chunk)
    write(
        &mut d.reg,
        S,
        &p("/1000/1/6"),
        WriteMode::Replace,
        payload(&[("/1000/1/6", Value::Opaque(b"k".to_vec().into()))]),
    )
    .unwrap();
    write(
        &mut d.reg,
        S,
        &p("/1000/1/7"),
        WriteMode::Replace,
        payload(&[("/1000/1/7", Value::Opaque(b"fw".to_vec().into()))]),
    )
    .unwrap();
    let i = d.reg.object(d.a).unwrap().inst(1);
    assert_eq!(
        (i.secret.as_slice(), i.package.as_slice()),
        (&b"k"[..], &b"fw"[..])
    );
}

fn write_err(
    d: &mut Dm,
    origin: Origin,
    path: &str,
    mode: WriteMode,
    items: &[(&str, Value<'static>)],
) -> DmError {
    write(&mut d.reg, origin, &p(path), mode, payload(items)).unwrap_err()
}

#[test]
fn write_errors_at_every_depth() {
    let mut d = dm();
    let before = d.reg.object(d.a).unwrap().state.clone();
    let one = |v| [("/1000/0/1", v)];
    let r = WriteMode::Replace;
    assert_eq!(write_err(&mut d, S, "/", r, &[]), DmError::MethodNotAllowed);
    assert_eq!(
        write_err(&mut d, S, "/1000", r, &[]),
        DmError::MethodNotAllowed
    );
    assert_eq!(write_err(&mut d, S, "/9999/0", r, &[]), DmError::NotFound);
    assert_eq!(write_err(&mut d, S, "/1000/9", r, &[]), DmError::NotFound);
    assert_eq!(
        write_err(&mut d, S, "/1000/0/99", r, &[]),
        DmError::NotFound
    );
    assert_eq!(
        write_err(&mut d, S, "/1000/0/0/1", r, &[]),
        DmError::NotFound
    );
    // an absent optional resource is added through its instance instead
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/1/1",
            r,
            &[("/1000/1/1", Value::Integer(1))]
        ),
        DmError::NotFound
    );
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0/3",
            r,
            &[("/1000/0/3", Value::Float(1.0))]
        ),
        DmError::MethodNotAllowed
    );
    assert_eq!(
        write_err(&mut d, S, "/1000/0/4", r, &[]),
        DmError::MethodNotAllowed
    );
    assert_eq!(write_err(&mut d, S, "/0/1", r, &[]), DmError::Unauthorized);
    assert_eq!(
        write_err(&mut d, S, "/0/1/0", r, &[]),
        DmError::Unauthorized
    );
    // payload problems
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0/1",
            r,
            &[("/1000/1/1", Value::Integer(1))]
        ),
        DmError::BadRequest
    ); // outside the target
    assert_eq!(
        write_err(&mut d, S, "/1000/0/1", r, &one(s("x"))),
        DmError::BadRequest
    ); // type
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0",
            r,
            &[("/1000/0/1/0", Value::Integer(1))]
        ),
        DmError::BadRequest
    ); // an instance id on a single resource
    assert_eq!(
        write_err(&mut d, S, "/1000/0", r, &[("/1000/0/2", Value::Integer(1))]),
        DmError::BadRequest
    ); // a multiple resource without one
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0",
            WriteMode::Update,
            &[("/1000/0", Value::Integer(1))]
        ),
        DmError::BadRequest
    ); // not a resource
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0",
            WriteMode::Update,
            &[("/1000/0/99", Value::Integer(1))]
        ),
        DmError::NotFound
    );
    assert_eq!(
        write_err(
            &mut d,
            S,
            "/1000/0",
            WriteMode::Update,
            &[("/1000/0/3", Value::Float(1.0))]
        ),
        DmError::MethodNotAllowed
    );
    assert_eq!(
        write_err(&mut d, S, "/1000/0/1", r, &[]),
        DmError::BadRequest
    ); // nothing to write
    assert_eq!(
        write(
            &mut d.reg,
            S,
            &p("/1000/0"),
            WriteMode::Update,
            [Err(DecodeError::TooLarge)]
        ),
        Err(DmError::RequestEntityTooLarge)
    );
    assert_eq!(
        write_err(&mut d, S, "/1000/0/1", r, &one(Value::Integer(666))),
        DmError::BadRequest
    ); // the handler refuses
    // Nothing above changed anything.
    assert_eq!(
        d.reg.object(d.a).unwrap().state.clone().into_inner(),
        before.into_inner()
    );
}

#[test]
fn write_failing_on_the_third_resource_leaves_all_three_unchanged() {
    let mut d = dm();
    let before = d.reg.object(d.a).unwrap().inst(0).clone();
    // third value refused by the handler
    let r = write(
        &mut d.reg,
        S,
        &p("/1000/0"),
        WriteMode::Update,
        payload(&[
            ("/1000/0/0", s("changed")),
            ("/1000/0/2/0", Value::Integer(100)),
            ("/1000/0/1", Value::Integer(666)),
        ]),
    );
    assert_eq!(r, Err(DmError::BadRequest));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0), &before);
    // third value undecodable
    let mut items = payload(&[
        ("/1000/0/0", s("changed")),
        ("/1000/0/5", Value::Boolean(true)),
    ]);
    items.push(Err(DecodeError::Malformed { at: 17 }));
    let r = write(&mut d.reg, S, &p("/1000/0"), WriteMode::Replace, items);
    assert_eq!(r, Err(DmError::BadRequest));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0), &before);
    // all three written, then validation fails
    let r = write(
        &mut d.reg,
        S,
        &p("/1000/0"),
        WriteMode::Update,
        payload(&[
            ("/1000/0/0", s("changed")),
            ("/1000/0/5", Value::Boolean(true)),
            ("/1000/0/1", Value::Integer(13)),
        ]),
    );
    assert_eq!(r, Err(DmError::BadRequest));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0), &before);
}

#[test]
fn streaming_chunks_hold_the_object_until_the_transfer_ends() {
    let mut d = dm();
    let path = p("/1000/0/7");
    let mut t = d.reg.transaction();
    write_chunk(&mut t, S, &path, 0, b"abc", false).unwrap();
    let held = t.suspend();
    // another server touching the object meanwhile: 5.03; other objects fine
    assert_eq!(
        read_err(&d.reg, Origin::Server(102), "/1000/0/0"),
        DmError::ServiceUnavailable
    );
    assert!(do_read(&d.reg, Origin::Server(102), "/1001/0").is_ok());
    assert_eq!(
        write_err(
            &mut d,
            Origin::Server(102),
            "/1000/1/0",
            WriteMode::Replace,
            &[("/1000/1/0", s("x"))]
        ),
        DmError::ServiceUnavailable
    );
    let mut t = d.reg.resume(held);
    write_chunk(&mut t, S, &path, 3, b"def", true).unwrap();
    t.commit().unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).package, b"abcdef");
    // an abandoned transfer leaves nothing
    let mut t = d.reg.transaction();
    write_chunk(&mut t, S, &path, 6, b"zz", false).unwrap();
    let held = t.suspend();
    d.reg.abandon(held);
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).package, b"abcdef");
    // only streaming resources take chunks
    let mut t = d.reg.transaction();
    assert_eq!(
        write_chunk(&mut t, S, &p("/1000/0/6"), 0, b"x", true),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        write_chunk(&mut t, S, &p("/1000/0"), 0, b"x", true),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        write_chunk(&mut t, S, &p("/1000/5/7"), 0, b"x", true),
        Err(DmError::NotFound)
    );
}

// ---------------------------------------------------------------- Execute

#[test]
fn execute_success_and_errors() {
    let mut d = dm();
    execute(&mut d.reg, S, &p("/1000/0/4"), b"0='a',1", 10).unwrap();
    execute(&mut d.reg, S, &p("/1000/1/4"), b"", 10).unwrap();
    assert_eq!(
        d.reg.object(d.a).unwrap().executed,
        [(0, 4, "0='a',1".into()), (1, 4, String::new())]
    );
    let e = |d: &mut Dm, path: &str, args: &[u8]| {
        execute(&mut d.reg, S, &p(path), args, 10).unwrap_err()
    };
    assert_eq!(e(&mut d, "/", b""), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000", b""), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0", b""), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0/4/0", b""), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/9999/0/4", b""), DmError::NotFound);
    assert_eq!(e(&mut d, "/1000/7/4", b""), DmError::NotFound);
    assert_eq!(e(&mut d, "/1000/0/99", b""), DmError::NotFound);
    assert_eq!(e(&mut d, "/1000/0/0", b""), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0/4", b"0=a"), DmError::BadRequest);
    assert_eq!(
        e(&mut d, "/1000/0/4", b"0,1,2,3,4,5,6,7,8,9,0"),
        DmError::BadRequest
    );
    assert_eq!(e(&mut d, "/1000/0/4", b"9"), DmError::BadRequest); // the handler refuses
    assert_eq!(e(&mut d, "/0/1/0", b""), DmError::Unauthorized);
    assert_eq!(d.reg.object(d.a).unwrap().executed.len(), 2);
}

// ---------------------------------------------------------------- Create

#[test]
fn create_with_and_without_an_instance_id() {
    let mut d = dm();
    let iid = create(
        &mut d.reg,
        S,
        1000,
        Some(5),
        payload(&[("/1000/5/0", s("five"))]),
    )
    .unwrap();
    assert_eq!(iid, 5);
    assert_eq!(d.reg.object(d.a).unwrap().inst(5).name, "five");
    // no id in the payload: the lowest free one (0 and 1 exist)
    let iid = create(
        &mut d.reg,
        S,
        1000,
        None,
        payload(&[("/1000/0/0", s("new")), ("/1000/0/2/1", Value::Integer(1))]),
    )
    .unwrap();
    assert_eq!(iid, 2);
    let i = d.reg.object(d.a).unwrap().inst(2);
    assert_eq!((i.name.as_str(), i.list.get(&1)), ("new", Some(&1)));
    // a single-instance object without its instance
    let single = d.reg.add_object(Thing::new(&SINGLE)).unwrap();
    assert_eq!(
        create(&mut d.reg, S, 1002, None, payload(&[("/1002/0/0", s("s"))])),
        Ok(0)
    );
    assert_eq!(d.reg.object(single).unwrap().inst(0).name, "s");
}

#[test]
fn create_errors_leave_no_instance() {
    let mut d = dm();
    let before = d.reg.object(d.a).unwrap().state.clone().into_inner();
    let c = |d: &mut Dm, oid, iid, items: &[(&str, Value<'static>)]| {
        create(&mut d.reg, S, oid, iid, payload(items)).unwrap_err()
    };
    let name = |path: &'static str| [(path, s("n"))];
    assert_eq!(c(&mut d, 9999, None, &[]), DmError::NotFound);
    assert_eq!(c(&mut d, 0, None, &[]), DmError::Unauthorized);
    assert_eq!(
        c(&mut d, 1000, Some(1), &name("/1000/1/0")),
        DmError::BadRequest
    ); // exists
    assert_eq!(
        c(&mut d, 1000, Some(7), &name("/1000/8/0")),
        DmError::BadRequest
    ); // other id
    assert_eq!(
        c(
            &mut d,
            1000,
            None,
            &[("/1000/3/0", s("n")), ("/1000/4/1", Value::Integer(1))]
        ),
        DmError::BadRequest
    ); // two instances
    assert_eq!(
        c(&mut d, 1000, None, &[("/1001/3/0", s("n"))]),
        DmError::BadRequest
    ); // other object
    assert_eq!(
        c(&mut d, 1000, None, &[("/1000/3", s("n"))]),
        DmError::BadRequest
    ); // not a resource
    assert_eq!(c(&mut d, 1000, Some(7), &[]), DmError::BadRequest); // mandatory name missing
    assert_eq!(
        c(&mut d, 1000, Some(7), &[("/1000/7/1", s("x"))]),
        DmError::BadRequest
    ); // type
    // fails in a handler after the instance was added
    assert_eq!(
        c(
            &mut d,
            1000,
            Some(7),
            &[("/1000/7/0", s("n")), ("/1000/7/1", Value::Integer(666))]
        ),
        DmError::BadRequest
    );
    // fails validation after everything was written
    assert_eq!(
        c(
            &mut d,
            1000,
            Some(7),
            &[("/1000/7/0", s("n")), ("/1000/7/1", Value::Integer(13))]
        ),
        DmError::BadRequest
    );
    assert_eq!(
        d.reg.object(d.a).unwrap().state.clone().into_inner(),
        before
    );
    // objects that cannot create, and a single-instance object that has one
    d.reg.object_mut(d.b).unwrap().can_create = false;
    assert_eq!(
        c(&mut d, 1001, None, &name("/1001/0/0")),
        DmError::MethodNotAllowed
    );
    d.reg
        .add_object(Thing::new(&SINGLE).with(0, inst("x")))
        .unwrap();
    assert_eq!(
        c(&mut d, 1002, None, &name("/1002/0/0")),
        DmError::BadRequest
    );
    assert_eq!(
        c(&mut d, 1002, Some(1), &name("/1002/1/0")),
        DmError::BadRequest
    );
    d.reg.add_object(ReadOnly).unwrap();
    assert_eq!(c(&mut d, 1003, Some(1), &[]), DmError::BadRequest); // single-instance: only id 0
    assert_eq!(c(&mut d, 1003, None, &[]), DmError::BadRequest); // its instance 0 exists
}

// ---------------------------------------------------------------- Delete

#[test]
fn delete_success_and_errors() {
    let mut d = dm();
    d.attrs
        .set(
            101,
            &p("/1000/1/0"),
            Attributes {
                pmin: Some(1),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    d.attrs
        .set(
            101,
            &p("/1000"),
            Attributes {
                pmin: Some(2),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    delete(&mut d.reg, &mut d.attrs, S, &p("/1000/1")).unwrap();
    assert!(!d.reg.object(d.a).unwrap().has_instance(1));
    assert_eq!(d.attrs.len(), 1); // the object's stay, the instance's went
    let e = |d: &mut Dm, path: &str| delete(&mut d.reg, &mut d.attrs, S, &p(path)).unwrap_err();
    assert_eq!(e(&mut d, "/"), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000"), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0/0"), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0/2/0"), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/1"), DmError::NotFound);
    assert_eq!(e(&mut d, "/9999/0"), DmError::NotFound);
    assert_eq!(e(&mut d, "/0/1"), DmError::Unauthorized);
    d.reg.add_object(ReadOnly).unwrap();
    assert_eq!(e(&mut d, "/1003/0"), DmError::MethodNotAllowed);
}

// ---------------------------------------------------------------- Discover

fn disc(d: &Dm, origin: Origin, path: &str, depth: Option<u8>) -> Result<String, DmError> {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    discover(&d.reg, &d.attrs, origin, &p(path), depth, &mut w)?;
    Ok(String::from_utf8(w.written().to_vec()).unwrap())
}

fn attrs(items: &[&str]) -> Attributes {
    crate::dm::AttrUpdate::parse(items.iter().map(|s| s.as_bytes()))
        .unwrap()
        .apply(&Attributes::EMPTY)
}

#[test]
fn discover_at_each_level_with_attributes() {
    let mut d = dm();
    d.attrs.set(101, &p("/1000"), attrs(&["pmin=10"])).unwrap();
    d.attrs
        .set(101, &p("/1000/0"), attrs(&["pmax=60"]))
        .unwrap();
    d.attrs.set(101, &p("/1000/0/1"), attrs(&["gt=5"])).unwrap();
    d.attrs.set(101, &p("/1000/0/2"), attrs(&["st=1"])).unwrap();
    d.attrs
        .set(101, &p("/1000/0/2/1"), attrs(&["lt=3"]))
        .unwrap();
    d.attrs.set(102, &p("/1000"), attrs(&["pmin=99"])).unwrap();
    assert_eq!(
        disc(&d, S, "/1000", None).unwrap(),
        "</1000>;pmin=10,</1000/0>,</1000/0/0>,</1000/0/1>,</1000/0/2>;dim=2,</1000/0/3>,\
         </1000/0/4>,</1000/0/6>,</1000/0/7>,</1000/1>,</1000/1/0>,</1000/1/2>;dim=0,\
         </1000/1/3>,</1000/1/4>,</1000/1/6>,</1000/1/7>"
    );
    assert_eq!(
        disc(&d, S, "/1000/0", None).unwrap(),
        "</1000/0>;pmax=60,</1000/0/0>,</1000/0/1>;gt=5,</1000/0/2>;dim=2;st=1,</1000/0/3>,\
         </1000/0/4>,</1000/0/6>,</1000/0/7>"
    );
    assert_eq!(
        disc(&d, S, "/1000/0/2", None).unwrap(),
        "</1000/0/2>;dim=2;pmin=10;pmax=60;st=1,</1000/0/2/0>,</1000/0/2/1>;lt=3"
    );
    assert_eq!(
        disc(&d, S, "/1000/0/1", None).unwrap(),
        "</1000/0/1>;pmin=10;pmax=60;gt=5"
    );
    // ver on objects whose version is not 1.0; another server's attributes
    assert_eq!(disc(&d, S, "/1001", Some(0)).unwrap(), "</1001>;ver=1.1");
    assert_eq!(
        disc(&d, Origin::Server(102), "/1000", Some(0)).unwrap(),
        "</1000>;pmin=99"
    );
    // depth (1.2)
    assert_eq!(
        disc(&d, S, "/1000", Some(1)).unwrap(),
        "</1000>;pmin=10,</1000/0>,</1000/1>"
    );
    assert_eq!(
        disc(&d, S, "/1000/0/2", Some(0)).unwrap(),
        "</1000/0/2>;dim=2;pmin=10;pmax=60;st=1"
    );
    assert!(
        disc(&d, S, "/1000/0", Some(2))
            .unwrap()
            .contains(",</1000/0/2/1>;lt=3,")
    );
    assert_eq!(parse_depth([&b"depth=2"[..], b"x=1"]), Ok(Some(2)));
    assert_eq!(parse_depth([&b"x"[..]]), Ok(None));
    for bad in [&b"depth=4"[..], b"depth=", b"depth", b"depth=01"] {
        assert_eq!(parse_depth([bad]), Err(DmError::BadRequest));
    }
    assert_eq!(
        parse_depth([&b"depth=1"[..], b"depth=1"]),
        Err(DmError::BadRequest)
    );
}

#[test]
fn discover_errors() {
    let d = dm();
    assert_eq!(disc(&d, S, "/", None), Err(DmError::MethodNotAllowed));
    assert_eq!(
        disc(&d, S, "/1000/0/2/1", None),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(disc(&d, S, "/9999", None), Err(DmError::NotFound));
    assert_eq!(disc(&d, S, "/1000/9", None), Err(DmError::NotFound));
    assert_eq!(disc(&d, S, "/1000/1/1", None), Err(DmError::NotFound)); // absent
    assert_eq!(disc(&d, S, "/1000/0/99", None), Err(DmError::NotFound));
    assert_eq!(disc(&d, S, "/0", None), Err(DmError::Unauthorized));
    assert_eq!(disc(&d, S, "/0/1", None), Err(DmError::Unauthorized));
    let mut buf = [0u8; 10];
    let mut w = Writer::new(&mut buf);
    assert_eq!(
        discover(&d.reg, &d.attrs, S, &p("/1000"), None, &mut w),
        Err(DmError::Internal)
    );
}

#[test]
fn register_object_list() {
    let mut d = dm();
    let list = |d: &Dm, opts: &ObjectListOptions<'_>| {
        let mut buf = [0u8; 256];
        let mut w = Writer::new(&mut buf);
        object_list(&d.reg, opts, &mut w).unwrap();
        String::from_utf8(w.written().to_vec()).unwrap()
    };
    d.reg.add_object(Thing::new(&SINGLE)).unwrap(); // no instances
    assert_eq!(
        list(&d, &ObjectListOptions::default()),
        "</1>;ver=1.1,</1/0>,</1000/0>,</1000/1>,</1001>;ver=1.1,</1001/0>,</1002>"
    );
    assert_eq!(
        list(
            &d,
            &ObjectListOptions {
                alternate_path: Some("/lwm2m"),
                content_formats: &[110],
            }
        ),
        "</lwm2m>;rt=\"oma.lwm2m\";ct=110,</lwm2m/1>;ver=1.1,</lwm2m/1/0>,</lwm2m/1000/0>,\
         </lwm2m/1000/1>,</lwm2m/1001>;ver=1.1,</lwm2m/1001/0>,</lwm2m/1002>"
    );
    assert!(
        list(
            &d,
            &ObjectListOptions {
                alternate_path: None,
                content_formats: &[110, 112, 11542],
            }
        )
        .starts_with("</>;rt=\"oma.lwm2m\";ct=\"110 112 11542\",</1>")
    );
    let mut small = [0u8; 8];
    let mut w = Writer::new(&mut small);
    assert!(object_list(&d.reg, &ObjectListOptions::default(), &mut w).is_err());
}

// ---------------------------------------------------------------- Write-Attributes

fn wa(d: &mut Dm, origin: Origin, path: &str, q: &[&str]) -> Result<(), DmError> {
    write_attributes(
        &d.reg,
        &mut d.attrs,
        origin,
        &p(path),
        q.iter().map(|s| s.as_bytes()),
    )
}

#[test]
fn write_attributes_at_every_depth() {
    let mut d = dm();
    wa(&mut d, S, "/1000", &["pmin=10", "pmax=60"]).unwrap();
    wa(&mut d, S, "/1000/0", &["epmin=1", "epmax=5", "con=1"]).unwrap();
    wa(&mut d, S, "/1000/0/1", &["gt=50", "lt=42.2", "st=1"]).unwrap();
    wa(&mut d, S, "/1000/0/2/1", &["lt=3"]).unwrap();
    wa(&mut d, S, "/1000/0/5", &["edge=1"]).unwrap_err(); // flag absent in /1000/0
    wa(&mut d, S, "/1000/0", &["hqmax=4"]).unwrap();
    let e = d.attrs.effective(101, &p("/1000/0/1"));
    assert_eq!(
        (
            e.pmin, e.pmax, e.gt, e.lt, e.st, e.epmin, e.epmax, e.con, e.hqmax
        ),
        (
            Some(10),
            Some(60),
            Some(50.0),
            Some(42.2),
            Some(1.0),
            Some(1),
            Some(5),
            Some(true),
            Some(4)
        )
    );
    // a bare name removes; an empty request changes nothing
    wa(&mut d, S, "/1000", &["pmin"]).unwrap();
    wa(&mut d, S, "/1000", &[]).unwrap();
    assert_eq!(d.attrs.get(101, &p("/1000")).pmin, None);
    assert_eq!(d.attrs.get(101, &p("/1000")).pmax, Some(60));
    // attributes are per server
    assert_eq!(d.attrs.get(102, &p("/1000")), Attributes::EMPTY);
}

#[test]
fn write_attributes_errors_change_nothing() {
    let mut d = dm();
    wa(&mut d, S, "/1000/0/1", &["gt=50", "lt=10"]).unwrap();
    let before = d.attrs.clone();
    assert_eq!(
        wa(&mut d, S, "/", &["pmin=1"]),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        wa(&mut d, BS, "/1000", &["pmin=1"]),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(wa(&mut d, S, "/9999", &["pmin=1"]), Err(DmError::NotFound));
    assert_eq!(
        wa(&mut d, S, "/1000/9", &["pmin=1"]),
        Err(DmError::NotFound)
    );
    assert_eq!(
        wa(&mut d, S, "/1000/0/99", &["pmin=1"]),
        Err(DmError::NotFound)
    );
    assert_eq!(
        wa(&mut d, S, "/1000/1/1", &["pmin=1"]),
        Err(DmError::NotFound)
    );
    assert_eq!(
        wa(&mut d, S, "/1000/0/2/9", &["pmin=1"]),
        Err(DmError::NotFound)
    );
    assert_eq!(
        wa(&mut d, S, "/1000/0/0/0", &["pmin=1"]),
        Err(DmError::NotFound)
    );
    assert_eq!(wa(&mut d, S, "/0", &["pmin=1"]), Err(DmError::Unauthorized));
    assert_eq!(
        wa(&mut d, S, "/0/1/0", &["pmin=1"]),
        Err(DmError::Unauthorized)
    );
    assert_eq!(wa(&mut d, S, "/1000", &["gt=1"]), Err(DmError::BadRequest)); // object level
    assert_eq!(
        wa(&mut d, S, "/1000/0", &["st=1"]),
        Err(DmError::BadRequest)
    ); // instance level
    assert_eq!(
        wa(&mut d, S, "/1000/0/0", &["gt=1"]),
        Err(DmError::BadRequest)
    ); // a string
    assert_eq!(
        wa(&mut d, S, "/1000/0/1", &["edge=1"]),
        Err(DmError::BadRequest)
    ); // not boolean
    assert_eq!(
        wa(&mut d, S, "/1000/0/1", &["st=20"]),
        Err(DmError::BadRequest)
    ); // 10+40 >= 50
    assert_eq!(
        wa(&mut d, S, "/1000/0/1", &["lt=60"]),
        Err(DmError::BadRequest)
    );
    assert_eq!(
        wa(&mut d, S, "/1000", &["pmin=5", "pmax=4"]),
        Err(DmError::BadRequest)
    );
    assert_eq!(
        wa(&mut d, S, "/1000", &["epmin=5", "epmax=5"]),
        Err(DmError::BadRequest)
    );
    assert_eq!(
        wa(&mut d, S, "/1000", &["pmin=x"]),
        Err(DmError::BadRequest)
    );
    assert_eq!(
        wa(&mut d, S, "/1000", &["bogus=1"]),
        Err(DmError::BadRequest)
    );
    assert_eq!(d.attrs, before);
}

#[test]
fn write_attributes_when_the_store_is_full() {
    let mut d = dm();
    d.attrs = AttributeStore::new(1);
    wa(&mut d, S, "/1000", &["pmin=1"]).unwrap();
    assert_eq!(wa(&mut d, S, "/1001", &["pmin=1"]), Err(DmError::Internal));
    wa(&mut d, S, "/1000", &["pmin=2"]).unwrap();
}

// ---------------------------------------------------------------- Composite

fn paths(list: &[&str]) -> Vec<Result<Path, DecodeError>> {
    list.iter().map(|s| Ok(p(s))).collect()
}

#[test]
fn read_composite_across_objects() {
    let d = dm();
    let mut rec = Recorder::default();
    let mut buf = [0u8; 4];
    let mut w = Writer::new(&mut buf);
    read_composite(
        &d.reg,
        S,
        paths(&[
            "/1001/0/0",
            "/1000/0/2/1",
            "/9999",
            "/1000/0/2",
            "/0/1",
            "/1000/0/4",
            "/1000/0/0",
        ]),
        8,
        &mut rec,
        &mut w,
    )
    .unwrap();
    assert!(rec.begun && rec.ended);
    // sorted, overlaps read once, missing / forbidden / unreadable skipped
    assert_eq!(
        rec.paths(),
        ["/1000/0/0", "/1000/0/2/0", "/1000/0/2/1", "/1001/0/0"]
    );
    // the root: everything a DM server may read, without Security
    let mut rec = Recorder::default();
    read_composite(&d.reg, S, paths(&["/"]), 8, &mut rec, &mut w).unwrap();
    assert_eq!(rec.paths().first().map(String::as_str), Some("/1/0/0"));
    assert!(rec.paths().iter().all(|p| !p.starts_with("/0/")));
    // bounds and decoder errors
    assert_eq!(
        read_composite(&d.reg, S, paths(&["/1", "/2", "/3"]), 2, &mut rec, &mut w),
        Err(DmError::RequestEntityTooLarge)
    );
    assert_eq!(
        read_composite(&d.reg, S, [Err(DecodeError::Path)], 2, &mut rec, &mut w),
        Err(DmError::BadRequest)
    );
}

#[test]
fn write_composite_across_objects_is_all_or_nothing() {
    let mut d = dm();
    write_composite(
        &mut d.reg,
        S,
        payload(&[
            ("/1000/0/1", Value::Integer(5)),
            ("/1001/0/1", Value::Integer(6)),
        ]),
    )
    .unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(5));
    assert_eq!(d.reg.object(d.b).unwrap().inst(0).num, Some(6));
    // object B fails validation: neither changes
    let r = write_composite(
        &mut d.reg,
        S,
        payload(&[
            ("/1000/0/1", Value::Integer(7)),
            ("/1001/0/1", Value::Integer(13)),
        ]),
    );
    assert_eq!(r, Err(DmError::BadRequest));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(5));
    assert_eq!(d.reg.object(d.b).unwrap().inst(0).num, Some(6));
    let e = |d: &mut Dm, items: &[(&str, Value<'static>)]| {
        write_composite(&mut d.reg, S, payload(items)).unwrap_err()
    };
    assert_eq!(
        e(&mut d, &[("/1000/0", Value::Integer(1))]),
        DmError::BadRequest
    );
    assert_eq!(
        e(&mut d, &[("/9999/0/1", Value::Integer(1))]),
        DmError::NotFound
    );
    assert_eq!(
        e(&mut d, &[("/1000/9/1", Value::Integer(1))]),
        DmError::NotFound
    );
    assert_eq!(
        e(&mut d, &[("/1000/0/3", Value::Float(1.0))]),
        DmError::MethodNotAllowed
    );
    assert_eq!(e(&mut d, &[("/0/1/0", s("x"))]), DmError::Unauthorized);
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(5));
}

// ---------------------------------------------------------------- Bootstrap

#[test]
fn bootstrap_read_only_server_and_access_control() {
    let d = dm();
    let mut rec = Recorder::default();
    let mut buf = [0u8; 4];
    let mut w = Writer::new(&mut buf);
    bootstrap_read(&d.reg, &p("/1"), &mut rec, &mut w).unwrap();
    assert_eq!(rec.paths(), ["/1/0/0", "/1/0/1"]);
    assert_eq!(
        bootstrap_read(&d.reg, &p("/1000"), &mut rec, &mut w),
        Err(DmError::Unauthorized)
    );
    assert_eq!(
        bootstrap_read(&d.reg, &p("/0"), &mut rec, &mut w),
        Err(DmError::Unauthorized)
    );
    assert_eq!(
        bootstrap_read(&d.reg, &Path::ROOT, &mut rec, &mut w),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        bootstrap_read(&d.reg, &p("/2"), &mut rec, &mut w),
        Err(DmError::NotFound)
    );
}

#[test]
fn bootstrap_write_creates_and_writes_what_servers_cannot() {
    let mut d = dm();
    bootstrap_write(
        &mut d.reg,
        &p("/0/2"),
        payload(&[
            ("/0/2/0", s("coap://s2.example")),
            ("/0/2/1", Value::Boolean(false)),
            ("/0/2/10", Value::Integer(102)),
            ("/0/2/77", Value::Integer(1)), // unknown: ignored
        ]),
    )
    .unwrap();
    bootstrap_write(
        &mut d.reg,
        &p("/1"),
        payload(&[
            ("/1/1/0", Value::Integer(102)), // read-only for servers
            ("/1/1/8", Value::Integer(1)),   // executable: ignored
        ]),
    )
    .unwrap();
    bootstrap_write(&mut d.reg, &p("/1000/9"), payload(&[])).unwrap(); // empty instance
    bootstrap_write(&mut d.reg, &p("/1000/0/3"), payload(&[])).unwrap();
    let mut rec = Recorder::default();
    let mut buf = [0u8; 4];
    let mut w = Writer::new(&mut buf);
    bootstrap_read(&d.reg, &p("/1/1/0"), &mut rec, &mut w).unwrap();
    assert_eq!(rec.pairs(), [("/1/1/0".into(), Value::Integer(102))]);
    assert!(d.reg.object(d.a).unwrap().has_instance(9));
    let e = |d: &mut Dm, path: &str, items: &[(&str, Value<'static>)]| {
        bootstrap_write(&mut d.reg, &p(path), payload(items)).unwrap_err()
    };
    assert_eq!(e(&mut d, "/", &[]), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/1000/0/2/0", &[]), DmError::MethodNotAllowed);
    assert_eq!(e(&mut d, "/9999", &[]), DmError::NotFound);
    assert_eq!(
        e(&mut d, "/1000/0", &[("/1000/1/0", s("x"))]),
        DmError::BadRequest
    );
    assert_eq!(
        e(&mut d, "/1000/0", &[("/1000/0/1", s("x"))]),
        DmError::BadRequest
    );
    d.reg.object_mut(d.b).unwrap().can_create = false;
    assert_eq!(e(&mut d, "/1001/4", &[]), DmError::MethodNotAllowed);
}

#[test]
fn bootstrap_delete_keeps_the_bootstrap_account() {
    let mut d = dm();
    d.reg.add_object(ReadOnly).unwrap();
    d.attrs
        .set(
            101,
            &p("/1000/0"),
            Attributes {
                pmin: Some(1),
                ..Attributes::EMPTY
            },
        )
        .unwrap();
    bootstrap_delete(&mut d.reg, &mut d.attrs, &p("/1000/1")).unwrap();
    assert!(!d.reg.object(d.a).unwrap().has_instance(1));
    bootstrap_delete(&mut d.reg, &mut d.attrs, &p("/1000/1")).unwrap(); // already gone
    bootstrap_delete(&mut d.reg, &mut d.attrs, &p("/9999")).unwrap();
    bootstrap_delete(&mut d.reg, &mut d.attrs, &Path::ROOT).unwrap();
    let mut sec = Vec::new();
    d.reg.get(0).unwrap().instances(&mut |i| sec.push(i));
    assert_eq!(sec, [0]); // the Bootstrap-Server account stays
    assert!(!d.reg.get(1).unwrap().has_instance(0));
    assert!(!d.reg.object(d.a).unwrap().has_instance(0));
    assert!(d.reg.get(1003).unwrap().has_instance(0)); // cannot delete: left alone
    assert!(d.attrs.is_empty());
    assert_eq!(
        bootstrap_delete(&mut d.reg, &mut d.attrs, &p("/1000/0/1")),
        Err(DmError::BadRequest)
    );
}

#[test]
fn bootstrap_discover_lists_accounts() {
    let d = dm();
    let bd = |path: &str, v| {
        let mut buf = [0u8; 256];
        let mut w = Writer::new(&mut buf);
        bootstrap_discover(&d.reg, &p(path), v, &mut w)
            .map(|()| String::from_utf8(w.written().to_vec()).unwrap())
    };
    assert_eq!(
        bd("/", Lwm2mVersion::V1_1).unwrap(),
        "</>;lwm2m=1.1,</0>,</0/0>;uri=\"coap://bs.example\",</0/1>;ssid=101;uri=\"coap://s1.example\",\
         </1>;ver=1.1,</1/0>;ssid=101,</1000>,</1000/0>,</1000/1>,</1001>;ver=1.1,</1001/0>"
    );
    assert_eq!(
        bd("/0", Lwm2mVersion::V1_0).unwrap(),
        "lwm2m=\"1.0\",</0>,</0/0>,</0/1>;ssid=101"
    );
    assert_eq!(bd("/1/0", Lwm2mVersion::V1_1), Err(DmError::BadRequest));
    assert_eq!(bd("/9999", Lwm2mVersion::V1_1), Err(DmError::NotFound));
}

#[test]
fn bootstrap_session_is_all_or_nothing() {
    let mut d = dm();
    d.reg.begin_session().unwrap();
    // invalid alone (validation waits for the end of the session)
    bootstrap_write(
        &mut d.reg,
        &p("/1000/0"),
        payload(&[("/1000/0/1", Value::Integer(13))]),
    )
    .unwrap();
    bootstrap_write(
        &mut d.reg,
        &p("/1001/0"),
        payload(&[("/1001/0/1", Value::Integer(3))]),
    )
    .unwrap();
    assert_eq!(bootstrap_finish(&mut d.reg), Err(DmError::NotAcceptable));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(1));
    assert_eq!(d.reg.object(d.b).unwrap().inst(0).num, None);
    // a failed request inside a session is undone on its own
    d.reg.begin_session().unwrap();
    bootstrap_write(
        &mut d.reg,
        &p("/1001/0"),
        payload(&[("/1001/0/1", Value::Integer(3))]),
    )
    .unwrap();
    let r = bootstrap_write(
        &mut d.reg,
        &p("/1000/0"),
        payload(&[
            ("/1000/0/1", Value::Integer(4)),
            ("/1000/0/0", Value::Integer(1)),
        ]),
    );
    assert_eq!(r, Err(DmError::BadRequest));
    bootstrap_finish(&mut d.reg).unwrap();
    assert_eq!(d.reg.object(d.b).unwrap().inst(0).num, Some(3));
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).num, Some(1));
    assert!(!d.reg.in_session());
}

#[test]
fn entries_borrowing_the_payload_are_accepted() {
    // Decoders hand out values borrowing from the datagram.
    let mut d = dm();
    let datagram = alloc::string::String::from("borrowed");
    let entries = [Ok(Entry::new(p("/1000/0/0"), Value::str(&datagram)))];
    write(&mut d.reg, S, &p("/1000/0/0"), WriteMode::Replace, entries).unwrap();
    assert_eq!(d.reg.object(d.a).unwrap().inst(0).name, "borrowed");
}
