//! `validate_configuration`: a good configuration, and each kind of bad
//! one with the problem it is reported as.

use super::*;
use crate::content::Format;
use crate::dm::ops::bootstrap::bootstrap_finish;
use crate::dm::{DataType, ObjectDef, Operations, ResourceDef, Rid, Riid, Value};
use crate::objects::testutil::*;
use crate::objects::{
    AccessControl, AclInstance, Device, Security, SecurityInstance, Server, ServerInstance,
    StaticDeviceInfo,
};

fn good() -> Registry {
    let mut reg = Registry::new();
    reg.add_object(
        Security::default()
            .with(SecurityInstance::bootstrap(0, "coap://bs.example"))
            .with(SecurityInstance::server(1, 101, "coaps://dm.example").with_psk(b"id", b"k"))
            .with(SecurityInstance::server(2, 102, "coap+tcp://dm2.example")),
    )
    .unwrap();
    reg.add_object(
        Server::default()
            .with(ServerInstance::new(0, 101, 300))
            .with(ServerInstance::new(1, 102, 300)),
    )
    .unwrap();
    let mut ac = AccessControl::default();
    ac.insert(AclInstance::new(0, 3, 0, 101).with(102, 1).with(0, 1));
    ac.insert(AclInstance::new(1, 1, MAX_ID, MAX_ID).with(101, 16));
    reg.add_object(ac).unwrap();
    reg.add_object(Device::new(StaticDeviceInfo::default()))
        .unwrap();
    reg
}

fn sec(reg: &mut Registry) -> &mut Security {
    let any: &mut dyn core::any::Any = reg.get_mut(0).unwrap();
    any.downcast_mut::<Security>().unwrap()
}

fn srv(reg: &mut Registry) -> &mut Server {
    let any: &mut dyn core::any::Any = reg.get_mut(1).unwrap();
    any.downcast_mut::<Server>().unwrap()
}

fn acl(reg: &mut Registry) -> &mut AccessControl {
    let any: &mut dyn core::any::Any = reg.get_mut(2).unwrap();
    any.downcast_mut::<AccessControl>().unwrap()
}

fn problem(f: impl FnOnce(&mut Registry)) -> ConfigProblem {
    let mut reg = good();
    f(&mut reg);
    validate_configuration(&reg).unwrap_err()
}

#[test]
fn a_good_configuration_passes() {
    assert_eq!(validate_configuration(&good()), Ok(()));
    // Access Control is optional
    let mut reg = good();
    reg.remove_object(2).unwrap();
    assert_eq!(validate_configuration(&reg), Ok(()));
}

#[test]
fn each_kind_of_bad_configuration_is_named() {
    let rp = |o, i, r| Path::resource(o, i, r);
    assert_eq!(
        problem(|r| {
            r.remove_object(2);
            srv(r).delete(0).unwrap();
            srv(r).delete(1).unwrap();
        }),
        ConfigProblem::NoServerAccount
    );
    assert_eq!(
        problem(|r| {
            r.remove_object(2);
            r.remove_object(1);
        }),
        ConfigProblem::NoServerAccount
    );
    assert_eq!(
        problem(|r| srv(r).insert(ServerInstance::new(2, 103, 60))),
        ConfigProblem::NoSecurityForServer {
            server_iid: 2,
            ssid: 103
        }
    );
    assert_eq!(
        problem(|r| sec(r).insert(SecurityInstance::server(1, 101, "http://dm.example"))),
        ConfigProblem::InvalidUri {
            path: rp(0, 1, 0),
            error: UriError::Scheme
        }
    );
    assert_eq!(
        problem(|r| sec(r).insert(SecurityInstance::bootstrap(5, "coap://bs2.example"))),
        ConfigProblem::SeveralBootstrapAccounts(5)
    );
    assert_eq!(
        problem(|r| sec(r).insert(SecurityInstance::server(3, 102, "coap://x"))),
        ConfigProblem::DuplicateSsid(rp(0, 3, 10))
    );
    assert_eq!(
        problem(|r| {
            sec(r).insert(SecurityInstance::server(3, 103, "coap://x"));
            srv(r).insert(ServerInstance::new(2, 101, 60));
        }),
        ConfigProblem::DuplicateSsid(rp(1, 2, 0))
    );
    assert_eq!(
        problem(
            |r| sec(r).insert(SecurityInstance::server(1, 101, "coaps://x").with_psk(b"id", b""))
        ),
        ConfigProblem::MissingKey(rp(0, 1, 5))
    );
    assert_eq!(
        problem(|r| {
            let mut i = SecurityInstance::server(1, 101, "coaps://x");
            i.ssid = None;
            sec(r).insert(i);
        }),
        ConfigProblem::MissingResource(rp(0, 1, 10))
    );
    assert_eq!(
        problem(|r| sec(r).insert(SecurityInstance::server(1, 0, "coaps://x"))),
        ConfigProblem::InvalidValue(rp(0, 1, 10))
    );
    assert_eq!(
        problem(|r| srv(r).insert(ServerInstance::new(0, 101, 0))),
        ConfigProblem::InvalidValue(rp(1, 0, 1))
    );
    assert_eq!(
        problem(|r| srv(r).insert(ServerInstance::new(0, 101, 60).with_binding("W"))),
        ConfigProblem::InvalidValue(rp(1, 0, 7))
    );
    assert_eq!(
        problem(|r| acl(r).insert(AclInstance::new(2, 4, 0, 101))),
        ConfigProblem::AclUnknownObject { acl_iid: 2, oid: 4 }
    );
    assert_eq!(
        problem(|r| acl(r).insert(AclInstance::new(2, 1, 7, 101))),
        ConfigProblem::AclUnknownInstance {
            acl_iid: 2,
            target: Path::instance(1, 7)
        }
    );
    assert_eq!(
        problem(|r| acl(r).insert(AclInstance::new(2, 1, 0, 101).with(555, 1))),
        ConfigProblem::AclUnknownServer {
            path: Path::resource_instance(2, 2, 2, 555),
            ssid: 555
        }
    );
    assert_eq!(
        problem(|r| acl(r).insert(AclInstance::new(2, 1, 0, 7))),
        ConfigProblem::AclUnknownServer {
            path: rp(2, 2, 3),
            ssid: 7
        }
    );
    // every problem is 4.06 for Bootstrap-Finish, and says what is wrong
    let p = ConfigProblem::NoSecurityForServer {
        server_iid: 2,
        ssid: 103,
    };
    assert_eq!(DmError::from(p), DmError::NotAcceptable);
    assert_eq!(
        p.to_string(),
        "/1/2: no Security instance with Short Server ID 103"
    );
}

/// A Server object of the application's own that leaves out the
/// mandatory Binding: checked through the `Object` trait like the
/// built-in one.
struct BareServer;

impl Object for BareServer {
    fn def(&self) -> &'static ObjectDef {
        &server::DEF
    }
    fn resource_present(&self, _: Iid, rid: Rid) -> bool {
        rid != server::rid::BINDING
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            0 => Ok(Value::Integer(101)),
            1 => Ok(Value::Integer(60)),
            6 => Ok(Value::Boolean(false)),
            _ => Err(DmError::NotFound),
        }
    }
}

#[test]
fn any_implementation_is_checked_through_the_trait() {
    let mut reg = good();
    reg.remove_object(1).unwrap();
    reg.add_object(BareServer).unwrap();
    assert_eq!(
        validate_configuration(&reg),
        Err(ConfigProblem::MissingResource(Path::resource(1, 0, 7)))
    );
    // an object whose definition says a mandatory resource is there but
    // cannot produce it
    const LIAR_DEF: ObjectDef = ObjectDef::new(
        2,
        &[
            ResourceDef::new(0, "Object ID", Operations::R, DataType::Integer).mandatory(),
            ResourceDef::new(1, "Object Instance ID", Operations::R, DataType::Integer).mandatory(),
        ],
    )
    .multiple();
    struct Liar;
    impl Object for Liar {
        fn def(&self) -> &'static ObjectDef {
            &LIAR_DEF
        }
        fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
            if rid == 0 {
                Ok(Value::Integer(3))
            } else {
                Err(DmError::NotFound)
            }
        }
    }
    let mut reg = good();
    reg.remove_object(2).unwrap();
    reg.add_object(Liar).unwrap();
    assert_eq!(
        validate_configuration(&reg),
        Err(ConfigProblem::MissingResource(Path::resource(2, 0, 1)))
    );
}

/// The flow the engine follows: a bootstrap session, the check, then
/// Bootstrap-Finish or the rollback.
#[test]
fn a_bootstrap_session_checked_before_finish() {
    let mut reg = good();
    reg.begin_session().unwrap();
    let server = [
        e("/1/2/0", Value::Integer(103)),
        e("/1/2/1", Value::Integer(60)),
        e("/1/2/6", Value::Boolean(true)),
        e("/1/2/7", Value::str("U")),
    ];
    bootstrap_write_as(&mut reg, "/1/2", Format::SenmlCbor, &server).unwrap();
    let problem = validate_configuration(&reg).unwrap_err();
    assert_eq!(
        problem,
        ConfigProblem::NoSecurityForServer {
            server_iid: 2,
            ssid: 103
        }
    );
    let security = [
        e("/0/3/0", Value::str("coap://dm3.example")),
        e("/0/3/1", Value::Boolean(false)),
        e("/0/3/2", Value::Integer(3)),
        e("/0/3/10", Value::Integer(103)),
    ];
    bootstrap_write_as(&mut reg, "/0/3", Format::Tlv, &security).unwrap();
    assert_eq!(validate_configuration(&reg), Ok(()));
    bootstrap_finish(&mut reg).unwrap();
    assert_eq!(server::accounts(&reg).count(), 3);
    assert_eq!(
        security::endpoint(&reg, 103).map(|e| e.uri.into_owned()),
        Some("coap://dm3.example".into())
    );
    // an invalid session the engine rolls back leaves the start untouched
    reg.begin_session().unwrap();
    let bad = [e("/0/3/0", Value::str("coap://"))];
    bootstrap_write_as(&mut reg, "/0/3", Format::Tlv, &bad).unwrap();
    assert!(matches!(
        validate_configuration(&reg),
        Err(ConfigProblem::InvalidUri { .. })
    ));
    reg.end_session(false).unwrap();
    assert_eq!(validate_configuration(&reg), Ok(()));
}
