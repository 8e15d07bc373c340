use super::*;

// Execute

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

// Create

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

// Delete

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
