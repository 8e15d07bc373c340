use super::*;

// Composite

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

// Bootstrap

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
