//! End to end over loopback UDP: the `lwm2m-client` process registers with
//! the bundled server (run in the test), which then sends every Device
//! Management operation (OMA LwM2M Core 1.1 §6.3; Observe §6.4) in every
//! content format the operation allows (Core 1.1 §7.4): Plain Text, Opaque
//! and CBOR for single resources; TLV, SenML JSON, SenML CBOR, LwM2M CBOR
//! and LwM2M JSON for everything; link format for Discover.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use lwm2m_core::coap::Code;
use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{Path, Value};
use lwm2m_server::core::{Body, Operation, RequestError};
use lwm2m_server::driver::{ObserveEvent, ServerError, ServerHandle};

use common::{Client, DEADLINE, dm_server};

/// Every format for a single resource value.
const SINGLE: &[Format] = &[
    Format::Text,
    Format::Cbor,
    Format::Tlv,
    Format::SenmlJson,
    Format::SenmlCbor,
    Format::Lwm2mCbor,
    Format::Lwm2mJson,
];

/// Every format for an instance or an object.
const HIERARCHICAL: &[Format] = &[
    Format::Tlv,
    Format::SenmlJson,
    Format::SenmlCbor,
    Format::Lwm2mCbor,
    Format::Lwm2mJson,
];

/// Formats that carry absolute paths (composite operations).
const COMPOSITE: &[Format] = &[Format::SenmlJson, Format::SenmlCbor, Format::Lwm2mCbor];

const TEMPERATURE: Path = Path::resource(3303, 0, 5700);
const COUNTER: Path = Path::resource(32769, 0, 1);
const RAW: Path = Path::resource(32769, 0, 10);

struct Setup {
    server: ServerHandle,
    client: Client,
    ep: &'static str,
}

fn setup(ep: &'static str, more: &[&str]) -> Setup {
    let server = dm_server();
    let client = Client::of(&server, ep, more);
    server
        .wait_for_registration(ep, DEADLINE)
        .unwrap_or_else(|e| panic!("no registration ({e}); log:\n{}", client.log()));
    Setup { server, client, ep }
}

fn value_at<'a>(entries: &'a [Entry<'static>], path: Path) -> &'a Value<'static> {
    &entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no {path} in {entries:?}"))
        .value
}

fn code(e: ServerError) -> Code {
    match e {
        ServerError::Request(RequestError::Code(c)) => c,
        other => panic!("expected an error code, got {other:?}"),
    }
}

fn celsius(v: &Value<'_>) -> f64 {
    let c = v.as_f64().unwrap();
    assert!((15.0..=35.0).contains(&c), "{c}");
    c
}

/// Read with the format of the answer.
fn read_as(s: &Setup, path: Path, accept: Format) -> (Format, Vec<Entry<'static>>) {
    let r = s
        .server
        .request(
            s.ep,
            Operation::Read {
                path,
                accept: Some(accept),
            },
        )
        .unwrap_or_else(|e| panic!("Read {path} as {accept:?}: {e}"));
    match r.body {
        Body::Entries { format, entries } => (format, entries),
        other => panic!("Read {path}: {other:?}"),
    }
}

#[test]
fn register_announces_objects_version_binding_and_lifetime() {
    let s = setup("e2e-register", &[]);
    let r = s.server.registration(s.ep).unwrap().unwrap();
    assert_eq!((r.lifetime, r.binding.as_str(), r.queue), (300, "U", false));
    assert_eq!(r.version.to_string(), "1.1");
    for (oid, iid) in [
        (1, 0),
        (3, 0),
        (4, 0),
        (5, 0),
        (6, 0),
        (3303, 0),
        (32769, 0),
    ] {
        assert!(
            r.objects.instances(oid).any(|i| i == iid),
            "/{oid}/{iid} not announced: {}",
            r.objects.to_link_format()
        );
    }
    assert!(r.objects.has_object(2), "Access Control announced");
    assert!(!r.objects.has_object(0), "Security is never announced");
    s.client.wait_log("registered with server 1");

    // Queue mode, LwM2M 1.2 and a lifetime of our own.
    let q = setup(
        "e2e-register-uq",
        &["--binding", "UQ", "--version", "1.2", "--lifetime", "77"],
    );
    let r = q.server.registration(q.ep).unwrap().unwrap();
    assert_eq!((r.lifetime, r.queue), (77, true));
    assert_eq!(r.version.to_string(), "1.2");

    // LwM2M 1.0: TLV is the default format of a Read.
    let old = setup("e2e-register-10", &["--version", "1.0"]);
    let r = old.server.registration(old.ep).unwrap().unwrap();
    assert_eq!(r.version.to_string(), "1.0");
    let resp = old
        .server
        .request(
            old.ep,
            Operation::Read {
                path: Path::instance(3, 0),
                accept: None,
            },
        )
        .unwrap();
    assert!(matches!(
        resp.body,
        Body::Entries {
            format: Format::Tlv,
            ..
        }
    ));
}

#[test]
fn read_in_every_format() {
    let s = setup("e2e-read", &[]);
    for &f in SINGLE {
        let (got, e) = read_as(&s, Path::resource(3, 0, 0), f);
        assert_eq!(got, f);
        assert_eq!(
            value_at(&e, Path::resource(3, 0, 0)).as_str(),
            Some("lwm2m-rs")
        );
        let (_, e) = read_as(&s, TEMPERATURE, f);
        celsius(value_at(&e, TEMPERATURE));
        let (_, e) = read_as(&s, Path::resource(3, 0, 9), f);
        assert_eq!(value_at(&e, Path::resource(3, 0, 9)).as_i64(), Some(87));
    }
    // Opaque: a single opaque resource.
    let bytes: Vec<u8> = (0..=255u8).collect();
    s.server
        .write(
            s.ep,
            RAW,
            Value::Opaque(bytes.clone().into()),
            Some(Format::Opaque),
        )
        .unwrap();
    let (got, e) = read_as(&s, RAW, Format::Opaque);
    assert_eq!(got, Format::Opaque);
    assert_eq!(value_at(&e, RAW).as_bytes(), Some(&bytes[..]));

    for &f in HIERARCHICAL {
        let (got, e) = read_as(&s, Path::instance(3, 0), f);
        assert_eq!(got, f);
        assert_eq!(
            value_at(&e, Path::resource(3, 0, 0)).as_str(),
            Some("lwm2m-rs")
        );
        assert_eq!(
            value_at(&e, Path::resource_instance(3, 0, 7, 1)).as_i64(),
            Some(3700),
            "{f:?}"
        );
        assert_eq!(
            value_at(&e, Path::resource(3, 0, 14)).as_str(),
            Some("+00:00")
        );
        let (_, e) = read_as(&s, Path::object(32769), f);
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(0));
        assert_eq!(value_at(&e, RAW).as_bytes(), Some(&bytes[..]), "{f:?}");
        let (_, e) = read_as(&s, Path::instance(3303, 0), f);
        assert_eq!(
            value_at(&e, Path::resource(3303, 0, 5701)).as_str(),
            Some("Cel")
        );
    }
    // Plain Text cannot carry an instance: 4.06.
    let e = s
        .server
        .read(s.ep, Path::instance(3, 0), Some(Format::Text))
        .unwrap_err();
    assert_eq!(code(e), Code::NOT_ACCEPTABLE);
    // Security is never readable by a DM server; absent things are 4.04.
    let e = s.server.read(s.ep, Path::object(0), None).unwrap_err();
    assert_eq!(code(e), Code::UNAUTHORIZED);
    let e = s
        .server
        .read(s.ep, Path::instance(32769, 9), None)
        .unwrap_err();
    assert_eq!(code(e), Code::NOT_FOUND);

    let log = s.client.wait_log("server 1: Read /3/0, as LwM2M JSON");
    assert!(log.contains("Read /3/0"), "{log}");
}

#[test]
fn write_in_every_format() {
    let s = setup("e2e-write", &[]);
    // One resource, replaced, in each single-value format.
    for (i, &f) in SINGLE.iter().enumerate() {
        let n = 1000 + i as i64;
        s.server
            .write(s.ep, COUNTER, Value::Integer(n), Some(f))
            .unwrap_or_else(|e| panic!("Write {COUNTER} in {f:?}: {e}"));
        let e = s.server.read(s.ep, COUNTER, None).unwrap();
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(n), "{f:?}");
    }
    s.server
        .write(
            s.ep,
            Path::resource(3303, 0, 5750),
            Value::String("Lab".into()),
            Some(Format::Text),
        )
        .unwrap();
    let e = s
        .server
        .read(s.ep, Path::resource(3303, 0, 5750), None)
        .unwrap();
    assert_eq!(
        value_at(&e, Path::resource(3303, 0, 5750)).as_str(),
        Some("Lab")
    );
    s.server
        .write(
            s.ep,
            RAW,
            Value::Opaque(vec![9, 8, 7].into()),
            Some(Format::Opaque),
        )
        .unwrap();

    // The instance, replaced and partially updated, in each hierarchical
    // format.
    let inst = Path::instance(32769, 0);
    for (i, &f) in HIERARCHICAL.iter().enumerate() {
        let n = 2000 + i as i64;
        let bytes = vec![i as u8; 3 + i];
        let entries = vec![
            Entry::new(COUNTER, Value::Integer(n)),
            Entry::new(RAW, Value::Opaque(bytes.clone().into())),
        ];
        s.server
            .write_entries(s.ep, inst, true, entries, Some(f))
            .unwrap_or_else(|e| panic!("Write-replace {inst} in {f:?}: {e}"));
        let e = s.server.read(s.ep, inst, None).unwrap();
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(n), "{f:?}");
        assert_eq!(value_at(&e, RAW).as_bytes(), Some(&bytes[..]), "{f:?}");
        // Partial update: only the counter; the bytes stay.
        let update = vec![Entry::new(COUNTER, Value::Integer(-n))];
        s.server
            .write_entries(s.ep, inst, false, update, Some(f))
            .unwrap_or_else(|e| panic!("Write-update {inst} in {f:?}: {e}"));
        let e = s.server.read(s.ep, inst, None).unwrap();
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(-n), "{f:?}");
        assert_eq!(value_at(&e, RAW).as_bytes(), Some(&bytes[..]), "{f:?}");
    }
    // A replace without the optional Raw Bytes resets it.
    s.server
        .write_entries(
            s.ep,
            inst,
            true,
            vec![Entry::new(COUNTER, Value::Integer(5))],
            Some(Format::Tlv),
        )
        .unwrap();
    let e = s.server.read(s.ep, RAW, None).unwrap();
    assert_eq!(value_at(&e, RAW).as_bytes(), Some(&[][..]));

    // Read-only resources and wrong types are refused; nothing changes.
    let e = s
        .server
        .write(
            s.ep,
            Path::resource(3, 0, 0),
            Value::String("x".into()),
            None,
        )
        .unwrap_err();
    assert_eq!(code(e), Code::METHOD_NOT_ALLOWED);
    let e = s
        .server
        .write(
            s.ep,
            COUNTER,
            Value::String("ten".into()),
            Some(Format::Text),
        )
        .unwrap_err();
    assert_eq!(code(e), Code::BAD_REQUEST);
    let e = s.server.read(s.ep, COUNTER, None).unwrap();
    assert_eq!(value_at(&e, COUNTER).as_i64(), Some(5));
    s.client.wait_log("server 1: Write (update) /32769/0");
}

#[test]
fn execute_create_and_delete() {
    let s = setup("e2e-exec", &[]);
    s.server
        .execute(s.ep, Path::resource(32769, 0, 2), None)
        .unwrap();
    s.server
        .execute(s.ep, Path::resource(32769, 0, 2), Some("0='x'"))
        .unwrap();
    let e = s.server.read(s.ep, COUNTER, None).unwrap();
    assert_eq!(value_at(&e, COUNTER).as_i64(), Some(2));
    s.server
        .execute(s.ep, Path::resource(3303, 0, 5605), None)
        .unwrap();
    let e = s.server.read(s.ep, Path::instance(3303, 0), None).unwrap();
    let v = celsius(value_at(&e, TEMPERATURE));
    assert!(celsius(value_at(&e, Path::resource(3303, 0, 5601))) <= v);
    // Not executable: 4.05.
    let e = s.server.execute(s.ep, COUNTER, None).unwrap_err();
    assert_eq!(code(e), Code::METHOD_NOT_ALLOWED);

    // Create in each hierarchical format: on `/32769/iid` the server
    // chooses the id; on `/32769` the client does (TLV then carries only
    // the resources; the other formats name an instance anyway).
    let mut created = Vec::new();
    for (i, &f) in HIERARCHICAL.iter().enumerate() {
        for server_chooses in [true, false] {
            let iid = 10 + 10 * u16::from(server_chooses) + i as u16;
            let entries = vec![Entry::new(
                Path::resource(32769, iid, 1),
                Value::Integer(i64::from(iid)),
            )];
            let target = if server_chooses {
                Path::instance(32769, iid)
            } else {
                Path::object(32769)
            };
            let at = s
                .server
                .create(s.ep, target, entries, Some(f))
                .unwrap_or_else(|e| panic!("Create {target} in {f:?}: {e}"))
                .unwrap_or_else(|| panic!("Create {target} in {f:?}: no Location-Path"));
            if server_chooses || f != Format::Tlv {
                assert_eq!(at, Path::instance(32769, iid), "{f:?}");
            }
            let e = s.server.read(s.ep, at, None).unwrap();
            assert_eq!(
                value_at(&e, Path::resource(32769, at.iid().unwrap(), 1)).as_i64(),
                Some(i64::from(iid)),
                "{f:?}"
            );
            created.push(at);
        }
    }
    // An existing id is refused.
    let again = vec![Entry::new(Path::resource(32769, 20, 1), Value::Integer(1))];
    let e = s
        .server
        .create(s.ep, Path::instance(32769, 20), again, Some(Format::Tlv))
        .unwrap_err();
    assert_eq!(code(e), Code::BAD_REQUEST);
    // The new instances reach the registration (an Update with the list).
    let end = Instant::now() + DEADLINE;
    loop {
        let r = s.server.registration(s.ep).unwrap().unwrap();
        if r.objects.instances(32769).count() == 1 + created.len() {
            break;
        }
        assert!(Instant::now() < end, "{}", r.objects.to_link_format());
        std::thread::sleep(Duration::from_millis(20));
    }
    for at in &created {
        s.server.delete(s.ep, *at).unwrap();
        let e = s.server.read(s.ep, *at, None).unwrap_err();
        assert_eq!(code(e), Code::NOT_FOUND);
    }
    let e = s.server.delete(s.ep, created[0]).unwrap_err();
    assert_eq!(code(e), Code::NOT_FOUND);
    // The Device object cannot be deleted.
    let e = s.server.delete(s.ep, Path::instance(3, 0)).unwrap_err();
    assert_eq!(code(e), Code::METHOD_NOT_ALLOWED);
    s.client.wait_log("server 1: Create /32769");
    s.client.wait_log("server 1: Delete /32769/20");
    s.client.wait_log("server 1: Execute /32769/0/2 (0='x')");
}

#[test]
fn discover_and_write_attributes() {
    let s = setup("e2e-discover", &[]);
    let links = s.server.discover(s.ep, Path::instance(32769, 0)).unwrap();
    let targets: Vec<&str> = links.iter().map(|l| l.target.as_str()).collect();
    for t in [
        "/32769/0",
        "/32769/0/0",
        "/32769/0/1",
        "/32769/0/2",
        "/32769/0/10",
    ] {
        assert!(targets.contains(&t), "{t} in {targets:?}");
    }
    s.server
        .write_attributes(s.ep, TEMPERATURE, "pmin=5&pmax=60&gt=30.5")
        .unwrap();
    let links = s.server.discover(s.ep, Path::instance(3303, 0)).unwrap();
    let l = links
        .iter()
        .find(|l| l.target == "/3303/0/5700")
        .unwrap_or_else(|| panic!("{links:?}"));
    assert_eq!(l.param("pmin"), Some(Some("5")));
    assert_eq!(l.param("pmax"), Some(Some("60")));
    assert_eq!(l.param("gt"), Some(Some("30.5")));
    // Removing one attribute.
    s.server.write_attributes(s.ep, TEMPERATURE, "gt").unwrap();
    let links = s.server.discover(s.ep, TEMPERATURE).unwrap();
    assert_eq!(links[0].param("gt"), None, "{links:?}");
    // Object level: every instance listed.
    let links = s.server.discover(s.ep, Path::object(3)).unwrap();
    assert!(links.iter().any(|l| l.target == "/3/0"), "{links:?}");
    // Bad attributes are refused (pmin beyond pmax).
    let e = s
        .server
        .write_attributes(s.ep, TEMPERATURE, "pmin=90&pmax=10")
        .unwrap_err();
    assert_eq!(code(e), Code::BAD_REQUEST);
    s.client
        .wait_log("server 1: Write-Attributes /3303/0/5700 ?pmin=5&pmax=60&gt=30.5");
    s.client.wait_log("server 1: Discover /3303/0");
}

/// The next notification's format and values.
fn notification(o: &lwm2m_server::driver::Observation) -> (Format, Vec<Entry<'static>>) {
    match o.notifications.recv_timeout(DEADLINE) {
        Ok(ObserveEvent::Notify {
            format, entries, ..
        }) => (format, entries),
        other => panic!("expected a notification, got {other:?}"),
    }
}

#[test]
fn observe_and_notify_in_every_format() {
    // The temperature steps every 50 ms: notifications come quickly.
    let s = setup("e2e-observe", &["--sensor-period", "0.05"]);
    for &f in SINGLE {
        let o = s
            .server
            .observe(s.ep, TEMPERATURE, Some(f))
            .unwrap_or_else(|e| panic!("Observe in {f:?}: {e}"));
        celsius(value_at(&o.initial, TEMPERATURE));
        for _ in 0..2 {
            let (got, e) = notification(&o);
            assert_eq!(got, f);
            celsius(value_at(&e, TEMPERATURE));
        }
        s.server.cancel_observation(o.id, true).unwrap();
    }
    // An instance: Increment Counter notifies its new value.
    for &f in HIERARCHICAL {
        let o = s
            .server
            .observe(s.ep, Path::instance(32769, 0), Some(f))
            .unwrap();
        let before = value_at(&o.initial, COUNTER).as_i64().unwrap();
        s.server
            .execute(s.ep, Path::resource(32769, 0, 2), None)
            .unwrap();
        let (got, e) = notification(&o);
        assert_eq!(got, f);
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(before + 1), "{f:?}");
        s.server.cancel_observation(o.id, true).unwrap();
    }
    // Observe-Composite over two objects.
    for &f in COMPOSITE {
        let o = s
            .server
            .observe_composite(s.ep, vec![COUNTER, Path::resource(3303, 0, 5701)], Some(f))
            .unwrap();
        let before = value_at(&o.initial, COUNTER).as_i64().unwrap();
        assert_eq!(
            value_at(&o.initial, Path::resource(3303, 0, 5701)).as_str(),
            Some("Cel")
        );
        s.server
            .execute(s.ep, Path::resource(32769, 0, 2), None)
            .unwrap();
        let (got, e) = notification(&o);
        assert_eq!(got, f);
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(before + 1), "{f:?}");
        s.server.cancel_observation(o.id, true).unwrap();
    }
    s.client.wait_log("server 1: Observe /3303/0/5700");
    s.client.wait_log("server 1: Observe-Composite");
    s.client.wait_log("notification");
}

#[test]
fn read_composite_and_write_composite() {
    let s = setup("e2e-composite", &[]);
    let paths = vec![
        Path::resource(3, 0, 0),
        Path::resource(3303, 0, 5701),
        COUNTER,
        Path::instance(6, 0),
    ];
    for &request_format in &[Format::SenmlCbor, Format::SenmlJson] {
        for &accept in COMPOSITE {
            let r = s
                .server
                .request(
                    s.ep,
                    Operation::ReadComposite {
                        paths: paths.clone(),
                        request_format,
                        accept: Some(accept),
                    },
                )
                .unwrap_or_else(|e| panic!("Read-Composite {request_format:?}/{accept:?}: {e}"));
            let Body::Entries { format, entries } = r.body else {
                panic!("{:?}", r.body)
            };
            assert_eq!(format, accept);
            assert_eq!(
                value_at(&entries, Path::resource(3, 0, 0)).as_str(),
                Some("lwm2m-rs")
            );
            assert_eq!(
                value_at(&entries, Path::resource(3303, 0, 5701)).as_str(),
                Some("Cel")
            );
            assert_eq!(value_at(&entries, COUNTER).as_i64(), Some(0));
            // The Location instance's latitude.
            let lat = value_at(&entries, Path::resource(6, 0, 0))
                .as_f64()
                .unwrap();
            assert!((lat - 48.8584).abs() < 1e-9, "{lat}");
        }
    }
    for (i, &f) in COMPOSITE.iter().enumerate() {
        let n = 300 + i as i64;
        let kind = format!("kind {i}");
        s.server
            .request(
                s.ep,
                Operation::WriteComposite {
                    format: Some(f),
                    entries: vec![
                        Entry::new(COUNTER, Value::Integer(n)),
                        Entry::new(
                            Path::resource(3303, 0, 5750),
                            Value::String(kind.clone().into()),
                        ),
                    ],
                },
            )
            .unwrap_or_else(|e| panic!("Write-Composite {f:?}: {e}"));
        let e = s
            .server
            .read_composite(s.ep, vec![COUNTER, Path::resource(3303, 0, 5750)], None)
            .unwrap();
        assert_eq!(value_at(&e, COUNTER).as_i64(), Some(n));
        assert_eq!(
            value_at(&e, Path::resource(3303, 0, 5750)).as_str(),
            Some(kind.as_str())
        );
    }
    // All or nothing: a Write-Composite with one bad value changes nothing.
    let e = s
        .server
        .request(
            s.ep,
            Operation::WriteComposite {
                format: Some(Format::SenmlCbor),
                entries: vec![
                    Entry::new(COUNTER, Value::Integer(-1)),
                    Entry::new(Path::resource(3, 0, 0), Value::String("x".into())),
                ],
            },
        )
        .unwrap_err();
    assert!(
        matches!(e, ServerError::Request(RequestError::Code(_))),
        "{e:?}"
    );
    let e = s.server.read(s.ep, COUNTER, None).unwrap();
    assert_eq!(value_at(&e, COUNTER).as_i64(), Some(302));
    s.client.wait_log("server 1: Read-Composite");
    s.client.wait_log("server 1: Write-Composite");
}
