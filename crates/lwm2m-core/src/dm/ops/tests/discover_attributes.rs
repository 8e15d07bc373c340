use super::*;

// Discover

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

// Write-Attributes

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
