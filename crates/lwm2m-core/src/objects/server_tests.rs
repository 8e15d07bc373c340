//! The Server object through the data-model operations and the real
//! payload formats (issue 6: "each object's resources read and written ...
//! in every format; invalid values refused at commit with nothing
//! changed").

use super::*;
use crate::content::{Entry, Format};
use crate::dm::ops::create::create;
use crate::dm::ops::execute::execute;
use crate::dm::ops::write::WriteMode;
use crate::dm::{Handle, Origin};
use crate::objects::testutil::*;

const S: Origin = Origin::Server(101);

fn full_instance() -> ServerInstance {
    ServerInstance {
        default_min_period: Some(10),
        default_max_period: Some(60),
        disable_timeout: Some(300),
        apn_link: Some(ObjLnk { oid: 11, iid: 0 }),
        tls_dtls_alert_code: Some(40),
        last_bootstrapped: Some(1_700_000_000),
        registration_priority_order: Some(2),
        initial_registration_delay: Some(5),
        registration_failure_block: Some(true),
        bootstrap_on_registration_failure: Some(false),
        communication_retry_count: Some(3),
        communication_retry_timer: Some(30),
        communication_sequence_delay_timer: Some(600),
        communication_sequence_retry_count: Some(2),
        trigger: Some(false),
        preferred_transport: Some("U".into()),
        mute_send: Some(false),
        ..ServerInstance::new(0, 101, 3600).with_binding("UQ")
    }
}

fn setup(inst: ServerInstance) -> (Registry, Handle<Server>) {
    let mut reg = Registry::new();
    let h = reg.add_object(Server::default().with(inst)).unwrap();
    (reg, h)
}

/// Every readable resource of [`full_instance`], in path order.
fn full_values() -> Vec<(String, Value<'static>)> {
    let v = |r: u16, v: Value<'static>| (alloc::format!("/1/0/{r}"), v);
    alloc::vec![
        v(0, Value::Integer(101)),
        v(1, Value::Integer(3600)),
        v(2, Value::Integer(10)),
        v(3, Value::Integer(60)),
        v(5, Value::Integer(300)),
        v(6, Value::Boolean(true)),
        v(7, Value::str("UQ")),
        v(10, Value::Objlnk(ObjLnk { oid: 11, iid: 0 })),
        v(11, Value::Unsigned(40)),
        v(12, Value::Time(1_700_000_000)),
        v(13, Value::Unsigned(2)),
        v(14, Value::Unsigned(5)),
        v(15, Value::Boolean(true)),
        v(16, Value::Boolean(false)),
        v(17, Value::Unsigned(3)),
        v(18, Value::Unsigned(30)),
        v(19, Value::Unsigned(600)),
        v(20, Value::Unsigned(2)),
        v(21, Value::Boolean(false)),
        v(22, Value::str("U")),
        v(23, Value::Boolean(false)),
    ]
}

#[test]
fn definition_matches_the_registry() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string().as_str()), (1, "1.1"));
    const { assert!(DEF.multiple && DEF.mandatory) };
    assert_eq!(DEF.resources.len(), 24);
    let mandatory: Vec<u16> = DEF
        .resources
        .iter()
        .filter(|r| r.mandatory)
        .map(|r| r.id)
        .collect();
    assert_eq!(mandatory, [0, 1, 6, 7, 8]);
    let exec: Vec<u16> = DEF
        .resources
        .iter()
        .filter(|r| r.operations.executable())
        .map(|r| r.id)
        .collect();
    assert_eq!(exec, [4, 8, 9]);
    let read_only: Vec<u16> = DEF
        .resources
        .iter()
        .filter(|r| r.operations == Operations::R)
        .map(|r| r.id)
        .collect();
    assert_eq!(read_only, [0, 11, 12, 13, 15, 16]);
}

#[test]
fn every_resource_reads_in_every_format() {
    let (reg, _) = setup(full_instance());
    for f in HIERARCHICAL {
        for path in ["/1", "/1/0"] {
            let got = read_as(&reg, S, path, f).unwrap();
            assert_eq!(pairs(&got), full_values(), "{f:?} {path}");
        }
    }
    for f in ALL {
        for (path, v) in full_values() {
            let got = read_as(&reg, S, &path, f).unwrap();
            assert_eq!(pairs(&got), [(path.clone(), v)], "{f:?}");
        }
    }
    // absent optional resources are skipped, and 4.04 when addressed
    let (reg, _) = setup(ServerInstance::new(0, 7, 60));
    let got = read_as(&reg, S, "/1/0", Format::Tlv).unwrap();
    assert_eq!(
        pairs(&got).iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        ["/1/0/0", "/1/0/1", "/1/0/6", "/1/0/7"]
    );
    assert_eq!(
        read_as(&reg, S, "/1/0/2", Format::Text),
        Err(DmError::NotFound)
    );
    assert_eq!(
        read_as(&reg, S, "/1/0/8", Format::Text),
        Err(DmError::MethodNotAllowed)
    );
}

/// The writable resources, with new values.
fn new_values() -> Vec<Entry<'static>> {
    alloc::vec![
        e("/1/0/1", Value::Integer(120)),
        e("/1/0/2", Value::Integer(1)),
        e("/1/0/3", Value::Integer(90)),
        e("/1/0/5", Value::Integer(20)),
        e("/1/0/6", Value::Boolean(false)),
        e("/1/0/7", Value::str("T")),
        e("/1/0/10", Value::Objlnk(ObjLnk { oid: 11, iid: 1 })),
        e("/1/0/14", Value::Unsigned(9)),
        e("/1/0/17", Value::Unsigned(4)),
        e("/1/0/18", Value::Unsigned(10)),
        e("/1/0/19", Value::Unsigned(100)),
        e("/1/0/20", Value::Unsigned(3)),
        e("/1/0/21", Value::Boolean(true)),
        e("/1/0/22", Value::str("T")),
        e("/1/0/23", Value::Boolean(true)),
    ]
}

#[test]
fn writable_resources_write_in_every_format() {
    for f in HIERARCHICAL {
        let (mut reg, _) = setup(full_instance());
        write_as(&mut reg, S, "/1/0", WriteMode::Update, f, &new_values()).unwrap();
        let got = read_as(&reg, S, "/1/0", Format::Tlv).unwrap();
        let mut want = full_values();
        for n in new_values() {
            let key = n.path.to_string();
            if let Some(slot) = want.iter_mut().find(|w| w.0 == key) {
                slot.1 = n.value.clone();
            }
        }
        assert_eq!(pairs(&got), want, "{f:?}");
    }
    for f in ALL {
        let (mut reg, _) = setup(full_instance());
        for n in new_values() {
            let path = n.path.to_string();
            write_as(
                &mut reg,
                S,
                &path,
                WriteMode::Replace,
                f,
                core::slice::from_ref(&n),
            )
            .unwrap_or_else(|err| panic!("{f:?} {path}: {err}"));
            let got = read_as(&reg, S, &path, f).unwrap();
            assert_eq!(got, [n], "{f:?}");
        }
    }
}

#[test]
fn write_replace_resets_what_the_payload_leaves_out() {
    let (mut reg, h) = setup(full_instance());
    let payload = [
        e("/1/0/1", Value::Integer(500)),
        e("/1/0/6", Value::Boolean(true)),
        e("/1/0/7", Value::str("U")),
    ];
    write_as(
        &mut reg,
        S,
        "/1/0",
        WriteMode::Replace,
        Format::SenmlCbor,
        &payload,
    )
    .unwrap();
    let inst = reg.object(h).unwrap().get(0).unwrap().clone();
    assert_eq!((inst.lifetime, inst.binding.as_str()), (500, "U"));
    assert_eq!(inst.default_min_period, None);
    assert_eq!(inst.mute_send, None);
    // read-only resources are the client's: kept
    assert_eq!((inst.ssid, inst.tls_dtls_alert_code), (101, Some(40)));
    assert_eq!(inst.registration_failure_block, Some(true));
}

#[test]
fn invalid_values_are_refused_with_nothing_changed() {
    let cases: &[(&str, Value<'static>)] = &[
        ("/1/0/1", Value::Integer(0)),
        ("/1/0/1", Value::Integer(-5)),
        ("/1/0/1", Value::Integer(1 << 40)),
        ("/1/0/2", Value::Integer(61)), // above the Default Maximum Period
        ("/1/0/3", Value::Integer(9)),  // below the Default Minimum Period
        ("/1/0/2", Value::Integer(-1)),
        ("/1/0/5", Value::Integer(-1)),
        ("/1/0/7", Value::str("X")),
        ("/1/0/7", Value::str("UU")),
        ("/1/0/7", Value::str("Q")),
        ("/1/0/7", Value::str("uq")),
        ("/1/0/22", Value::str("UT")),
        ("/1/0/22", Value::str("Q")),
    ];
    for f in ALL {
        for (path, v) in cases {
            let (mut reg, h) = setup(full_instance());
            let before = reg.object(h).unwrap().entries().to_vec();
            let one = [e(path, v.clone())];
            assert_eq!(
                write_as(&mut reg, S, path, WriteMode::Replace, f, &one),
                Err(DmError::BadRequest),
                "{f:?} {path} {v:?}"
            );
            // the same value inside an instance write with valid ones
            // (without the periods, whose order is what some cases test)
            let mut many = new_values();
            many.retain(|n| n.path.to_string() != *path && !matches!(n.path.rid(), Some(2 | 3)));
            many.push(e(path, v.clone()));
            many.sort_by_key(|n| n.path);
            if f.is_hierarchical() {
                assert_eq!(
                    write_as(&mut reg, S, "/1/0", WriteMode::Update, f, &many),
                    Err(DmError::BadRequest),
                    "{f:?} {path}"
                );
            }
            assert_eq!(reg.object(h).unwrap().entries(), before, "{f:?} {path}");
            assert!(!reg.object(h).unwrap().state.in_transaction());
        }
    }
}

#[test]
fn dm_servers_cannot_write_read_only_resources() {
    let (mut reg, h) = setup(full_instance());
    for path in ["/1/0/0", "/1/0/11", "/1/0/13", "/1/0/16"] {
        let v = if path == "/1/0/16" {
            Value::Boolean(true)
        } else {
            Value::Integer(5)
        };
        assert_eq!(
            write_as(
                &mut reg,
                S,
                path,
                WriteMode::Replace,
                Format::Tlv,
                &[e(path, v)]
            ),
            Err(DmError::MethodNotAllowed),
            "{path}"
        );
    }
    assert_eq!(reg.object(h).unwrap().get(0), Some(&full_instance()));
}

#[test]
fn short_server_ids_are_unique_and_in_range() {
    let (mut reg, h) = setup(full_instance());
    let before = reg.object(h).unwrap().entries().to_vec();
    // the Bootstrap-Server writes the SSID; outside a session each write
    // is validated at once
    for (path, ssid) in [("/1/1", 101), ("/1/1", 0), ("/1/1", 65535)] {
        let payload = [
            e("/1/1/0", Value::Integer(ssid)),
            e("/1/1/1", Value::Integer(60)),
        ];
        for f in HIERARCHICAL {
            assert_eq!(
                bootstrap_write_as(&mut reg, path, f, &payload),
                Err(DmError::BadRequest),
                "{f:?} {ssid}"
            );
            assert_eq!(reg.object(h).unwrap().entries(), before);
        }
    }
    let payload = [e("/1/1/0", Value::Integer(102))];
    bootstrap_write_as(&mut reg, "/1/1", Format::Tlv, &payload).unwrap();
    assert_eq!(reg.object(h).unwrap().get(1).unwrap().ssid, 102);
    // beyond 16 bits it cannot even be stored
    let payload = [e("/1/1/0", Value::Integer(70000))];
    assert_eq!(
        bootstrap_write_as(&mut reg, "/1/1", Format::Tlv, &payload),
        Err(DmError::BadRequest)
    );
}

#[test]
fn create_needs_a_valid_instance() {
    let (mut reg, h) = setup(full_instance());
    let payload = [
        e("/1/5/1", Value::Integer(60)),
        e("/1/5/6", Value::Boolean(true)),
        e("/1/5/7", Value::str("U")),
    ];
    let decoded = decode(
        &reg,
        Format::Tlv,
        &p("/1"),
        &encode(Format::Tlv, &p("/1"), &payload),
    );
    // A DM server cannot set the SSID, so the new instance keeps 0: refused.
    assert_eq!(
        create(&mut reg, S, 1, Some(5), decoded),
        Err(DmError::BadRequest)
    );
    assert_eq!(reg.object(h).unwrap().entries().len(), 1);
    let mut server = Server::new(1).with(full_instance());
    assert_eq!(server.create(1), Err(DmError::Internal)); // bounded
    let mut server = Server::new(2).with(full_instance());
    assert_eq!(server.create(0), Err(DmError::BadRequest)); // exists
    server.delete(0).unwrap();
    assert_eq!(server.delete(0), Err(DmError::NotFound));
}

fn exec(reg: &mut Registry, path: &str) -> Result<(), DmError> {
    execute(reg, S, &p(path), b"", 4)
}

#[test]
fn executes_record_events_for_the_engine() {
    let (mut reg, h) = setup(full_instance());
    let obj = |reg: &mut Registry| reg.get_mut(1).unwrap().poll_event();
    exec(&mut reg, "/1/0/8").unwrap();
    assert_eq!(
        obj(&mut reg),
        Some(ObjectEvent::RegistrationUpdateTrigger { ssid: 101 })
    );
    assert_eq!(obj(&mut reg), None);
    execute(&mut reg, S, &p("/1/0/9"), b"0='x'", 4).unwrap();
    exec(&mut reg, "/1/0/4").unwrap();
    assert_eq!(
        obj(&mut reg),
        Some(ObjectEvent::BootstrapRequestTrigger { ssid: 101 })
    );
    assert_eq!(
        obj(&mut reg),
        Some(ObjectEvent::Disable {
            ssid: 101,
            timeout: Duration::from_secs(300)
        })
    );
    reg.object_mut(h).unwrap().state[0].disable_timeout = None;
    exec(&mut reg, "/1/0/4").unwrap();
    assert_eq!(
        obj(&mut reg),
        Some(ObjectEvent::Disable {
            ssid: 101,
            timeout: DEFAULT_DISABLE_TIMEOUT
        })
    );
    assert_eq!(exec(&mut reg, "/1/0/1"), Err(DmError::MethodNotAllowed));
    assert_eq!(exec(&mut reg, "/1/3/8"), Err(DmError::NotFound));
    // a request that fails validation raises nothing
    reg.object_mut(h).unwrap().state[0].lifetime = 0;
    assert_eq!(exec(&mut reg, "/1/0/8"), Err(DmError::BadRequest));
    assert_eq!(obj(&mut reg), None);
}

#[test]
fn events_wait_for_the_end_of_a_bootstrap_session() {
    let (mut reg, h) = setup(full_instance());
    reg.begin_session().unwrap();
    // the application's own object_mut during a session: raised inside it
    reg.object_mut(h)
        .unwrap()
        .events
        .push(ObjectEvent::Reboot)
        .unwrap();
    assert_eq!(reg.get_mut(1).unwrap().poll_event(), None);
    reg.end_session(false).unwrap();
    assert_eq!(reg.get_mut(1).unwrap().poll_event(), None);
}

#[test]
fn accounts_read_through_the_object_trait() {
    let (mut reg, _) = setup(full_instance());
    let a = accounts(&reg).collect::<Vec<_>>();
    assert_eq!(a.len(), 1);
    let a = &a[0];
    assert_eq!((a.iid, a.ssid, a.lifetime), (0, 101, 3600));
    assert_eq!((a.default_pmin, a.default_pmax), (Some(10), Some(60)));
    assert_eq!(a.disable_timeout, Duration::from_secs(300));
    assert!(a.notification_storing && a.binding.udp && a.binding.queue);
    assert_eq!(a.preferred_transport, Some(Transport::Udp));
    assert!(!a.mute_send && a.registration_failure_block && !a.bootstrap_on_registration_failure);
    assert_eq!(a.registration_priority_order, Some(2));
    assert_eq!(a.initial_registration_delay, Duration::from_secs(5));
    assert_eq!(
        a.retry,
        RetryPolicy {
            retry_count: 3,
            retry_timer: Duration::from_secs(30),
            sequence_delay: Duration::from_secs(600),
            sequence_retry_count: 2,
        }
    );
    assert_eq!(a.apn_link, Some(ObjLnk { oid: 11, iid: 0 }));
    // the TS defaults for absent resources
    let (reg2, _) = setup(ServerInstance::new(3, 9, 60));
    let d = account(&reg2, 9).unwrap();
    assert_eq!(d.iid, 3);
    assert_eq!((d.default_pmin, d.default_pmax), (None, None));
    assert_eq!(d.disable_timeout, Duration::from_secs(86_400));
    assert_eq!(d.binding, Binding::UDP);
    assert!(d.mute_send && d.bootstrap_on_registration_failure && !d.registration_failure_block);
    assert_eq!(d.retry, RetryPolicy::default());
    assert_eq!(d.retry.retry_count, 5);
    assert!(account(&reg2, 10).is_none());
    // the client-kept resources, written through the trait
    set_tls_dtls_alert_code(&mut reg, 101, 48).unwrap();
    set_last_bootstrapped(&mut reg, 101, 1_800_000_000).unwrap();
    assert_eq!(
        set_last_bootstrapped(&mut reg, 7, 0),
        Err(DmError::NotFound)
    );
    let got = read_as(&reg, S, "/1/0/11", Format::Text).unwrap();
    assert_eq!(got, [e("/1/0/11", Value::Unsigned(48))]);
    let got = read_as(&reg, S, "/1/0/12", Format::Text).unwrap();
    assert_eq!(got, [e("/1/0/12", Value::Time(1_800_000_000))]);
    assert_eq!(accounts(&Registry::new()).count(), 0);
}

#[test]
fn binding_values() {
    for (s, udp, tcp, sms, non_ip, queue) in [
        ("U", true, false, false, false, false),
        ("UQ", true, false, false, false, true),
        ("S", false, false, true, false, false),
        ("SQ", false, false, true, false, true),
        ("US", true, false, true, false, false),
        ("UQS", true, false, true, false, true),
        ("T", false, true, false, false, false),
        ("N", false, false, false, true, false),
        ("UTSNQ", true, true, true, true, true),
    ] {
        let b = Binding::parse(s).unwrap();
        assert_eq!(
            (b.udp, b.tcp, b.sms, b.non_ip, b.queue),
            (udp, tcp, sms, non_ip, queue),
            "{s}"
        );
        assert_eq!(Binding::parse(&b.to_string()), Some(b));
    }
    assert_eq!(Binding::parse("UQS").unwrap().to_string(), "UQS");
    assert_eq!(Binding::parse("QS").unwrap().to_string(), "SQ");
    assert!(Binding::parse("UQ").unwrap().has(Transport::Udp));
    for bad in ["", "Q", "UU", "u", "UX", "U Q", "QQU"] {
        assert_eq!(Binding::parse(bad), None, "{bad:?}");
    }
    assert_eq!(preferred_transport("N"), Some(Transport::NonIp));
    assert_eq!(Transport::Sms.letter(), 'S');
}
