use super::*;

// Read

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

// Write

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
