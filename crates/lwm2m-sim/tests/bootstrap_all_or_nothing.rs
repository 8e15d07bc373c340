//! SPEC §1 guarantee 6, "Bootstrap is all-or-nothing":
//!
//! > A bootstrap session (client- or server-initiated) runs in one
//! > transaction over the whole data model. During it only the Bootstrap
//! > Server's requests are handled. Bootstrap-Finish validates the whole
//! > configuration (every Server instance has a Security instance with the
//! > same Short Server ID, URIs parse, the mandatory resources are set, and
//! > so on); invalid → 4.06 Not Acceptable and the data model returns
//! > exactly to the state before the session; valid → commit, persist, then
//! > register with the configured servers. A session that times out or is
//! > abandoned rolls back too.
//!
//! The client is registered with server s1 (SSID 1), which observes a
//! sensor with attributes, then asks for a bootstrap (Execute of the
//! Bootstrap-Request Trigger /1/0/9). A scripted Bootstrap-Server deletes
//! everything and writes a new configuration, valid or not, with or without
//! Finish. "The state before" is a full Bootstrap-Read-level read of /0, /1
//! and /2 (every resource, the Security keys included) plus the attribute
//! store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::buf::Writer;
use lwm2m_core::client::{Event, Failure};
use lwm2m_core::coap::Code;
use lwm2m_core::content::{Encoder, Entry, Format};
use lwm2m_core::dm::ops::read;
use lwm2m_core::dm::{AttributeStore, Origin, Path, Value};
use lwm2m_core::objects::{AccessControl, AclInstance};
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::{Blob, Sensor};
use lwm2m_sim::{Account, OpId, Req, ScriptedBootstrapServer, ScriptedServer, World, encode};

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

/// Every resource of /0, /1 and /2 as the Bootstrap-Server would read them,
/// and the attributes.
#[derive(Debug, PartialEq)]
struct State {
    objects: Vec<String>,
    attrs: AttributeStore,
}

fn state(w: &World) -> State {
    let c = &cn(w, C).client;
    let objects = [0u16, 1, 2]
        .iter()
        .map(|&oid| {
            let mut buf = vec![0u8; 16 * 1024];
            let mut wr = Writer::new(&mut buf);
            let mut enc = Encoder::new(Format::SenmlJson, Path::object(oid)).unwrap();
            read::read(
                c.registry(),
                Origin::Bootstrap,
                &Path::object(oid),
                &mut enc,
                &mut wr,
            )
            .unwrap();
            let n = wr.len();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        })
        .collect();
    State {
        objects,
        attrs: c.attributes().clone(),
    }
}

fn security_instance(iid: u16, ssid: i64, uri: &str) -> Req {
    let base = Path::instance(0, iid);
    let r = |rid| Path::resource(0, iid, rid);
    let body = encode(
        Format::SenmlJson,
        base,
        &[
            Entry::new(r(0), Value::str(uri)),
            Entry::new(r(1), Value::Boolean(false)),
            Entry::new(r(2), Value::Integer(3)),
            Entry::new(r(3), Value::bytes(b"")),
            Entry::new(r(4), Value::bytes(b"")),
            Entry::new(r(5), Value::bytes(b"")),
            Entry::new(r(10), Value::Integer(ssid)),
        ],
    );
    Req::bootstrap_write(&format!("/0/{iid}"), Format::SenmlJson, body)
}

fn server_instance(iid: u16, ssid: i64) -> Req {
    let r = |rid| Path::resource(1, iid, rid);
    let body = encode(
        Format::SenmlJson,
        Path::instance(1, iid),
        &[
            Entry::new(r(0), Value::Integer(ssid)),
            Entry::new(r(1), Value::Integer(300)),
            Entry::new(r(6), Value::Boolean(false)),
            Entry::new(r(7), Value::str("U")),
        ],
    );
    Req::bootstrap_write(&format!("/1/{iid}"), Format::SenmlJson, body)
}

struct Setup {
    w: World,
    observation: OpId,
    before: State,
}

/// Registered with s1, which observes /3303/0/5700 with pmax 10; then s1
/// triggers a bootstrap with `script`.
fn setup(seed: u64, script: Vec<Req>) -> Setup {
    let mut w = World::new(seed, instant_link());
    let mut c = client(&w, "bs", seed, &[Account::new(1, "coap://s1:5683")], true);
    let mut acl = AccessControl::default();
    acl.insert(AclInstance::new(0, 3303, 0, 1).with(1, 0b1111));
    c.add_object(acl).unwrap();
    c.add_object(Sensor::new(20.0)).unwrap();
    c.add_object(Blob::new(b"x".to_vec())).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    w.add_node_at(S2, ScriptedServer::new(seed + 1));
    w.add_node_at(BS, ScriptedBootstrapServer::new(seed + 2, script));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), seed);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write_attributes("/3303/0/5700", "pmax=10"),
    );
    assert_eq!(r.code, Code::CHANGED);
    // Attributes on an instance the Bootstrap-Delete of the root removes.
    let r = roundtrip(&mut w, S1, C, Req::write_attributes("/1100/0", "pmin=5"));
    assert_eq!(r.code, Code::CHANGED);
    let observation = request(&mut w, S1, C, Req::observe("/3303/0/5700"));
    w.await_op::<ScriptedServer>(S1, observation, Duration::from_secs(5))
        .unwrap();
    let before = state(&w);
    assert!(before.objects[0].contains("coap://bs:5683") && before.objects[2].contains("3303"));
    assert_eq!(before.attrs.len(), 2);
    let r = roundtrip(&mut w, S1, C, Req::execute("/1/0/9", ""));
    assert_eq!(r.code, Code::CHANGED);
    Setup {
        w,
        observation,
        before,
    }
}

fn bs(w: &World) -> &ScriptedBootstrapServer {
    w.node::<ScriptedBootstrapServer>(BS).unwrap()
}

fn broken_script() -> Vec<Req> {
    vec![
        Req::bootstrap_delete("/"),
        security_instance(5, 9, "coap://s2:5683"),
        // A Server instance whose SSID no Security instance has.
        server_instance(5, 77),
        Req::bootstrap_finish(),
    ]
}

/// Bootstrap-Finish of an inconsistent configuration is answered 4.06 and
/// everything the session did (a Bootstrap-Delete of the root, two
/// Bootstrap-Writes) is undone: /0, /1, /2 and the attributes are exactly
/// as before; the registration and the observation of s1 carry on.
#[test]
fn inconsistent_configuration_gets_4_06_and_a_full_rollback() {
    let Setup {
        mut w,
        observation,
        before,
    } = setup(1, broken_script());
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| {
        bs(w).sessions(C).first().is_some_and(|s| s.is_complete(4))
    })
    .unwrap();
    let session = &bs(&w).sessions(C)[0];
    assert_eq!(session.endpoint, "bs");
    let codes: Vec<_> = (0..4).map(|i| session.code(i)).collect();
    assert_eq!(
        codes,
        [
            Some(Code::DELETED),
            Some(Code::CHANGED),
            Some(Code::CHANGED),
            Some(Code::NOT_ACCEPTABLE)
        ]
    );
    assert!(cn(&w, C).saw(&Event::BootstrapFailed {
        reason: Failure::Rejected(Code::NOT_ACCEPTABLE)
    }));
    assert!(!cn(&w, C).client.in_bootstrap());
    assert_eq!(state(&w), before, "the data model is exactly as before");
    // Still registered with s1, which is served again and still notified.
    assert!(cn(&w, C).client.is_registered(1));
    let r = roundtrip(&mut w, S1, C, Req::read("/1/0/1"));
    assert_eq!((r.code, r.text()), (Code::CONTENT, Some("86400")));
    let n0 = srv(&w, S1).notifications(observation).len();
    w.run_for(Duration::from_secs(25)).unwrap();
    let n1 = srv(&w, S1).notifications(observation).len();
    assert!(n1 >= n0 + 2, "the observation survived: {n0} → {n1}");
    assert!(
        srv(&w, S2).registrations().is_empty(),
        "nothing registered with s2"
    );
}

/// While the session is open only the Bootstrap-Server is served: s1 gets
/// 5.03 with a Max-Age, and gets no notification (the observation's pmax
/// passes meanwhile without waking the client in a loop); once the
/// session has timed out and rolled back, the observation carries on.
#[test]
fn only_the_bootstrap_server_is_served_during_the_session() {
    // Writes only, no Finish: the session stays open.
    let Setup {
        mut w, observation, ..
    } = setup(2, broken_script()[1..3].to_vec());
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| {
        bs(w).sessions(C).first().is_some_and(|s| s.is_complete(2))
    })
    .unwrap();
    assert!(cn(&w, C).client.in_bootstrap());
    let r = roundtrip(&mut w, S1, C, Req::read("/3303/0/5700"));
    assert_eq!(r.code, Code::SERVICE_UNAVAILABLE);
    assert!(r.max_age.is_some_and(|a| a > 0));
    let n0 = srv(&w, S1).notifications(observation).len();
    let steps = w.steps();
    w.run_for(Duration::from_secs(60)).unwrap();
    assert!(
        w.steps() - steps < 100,
        "the client kept waking up: {}",
        w.steps() - steps
    );
    assert_eq!(
        srv(&w, S1).notifications(observation).len(),
        n0,
        "silent during the session"
    );
    w.run_until(w.now() + Duration::from_secs(300), |w| {
        !cn(w, C).client.in_bootstrap()
    })
    .unwrap();
    w.run_for(Duration::from_secs(25)).unwrap();
    assert!(srv(&w, S1).notifications(observation).len() >= n0 + 2);
}

/// A session that goes quiet (no Finish) is rolled back when it times out
/// (the configured 247 s): the data model is exactly as before.
#[test]
fn session_that_times_out_is_rolled_back() {
    let Setup { mut w, before, .. } = setup(3, broken_script()[..3].to_vec());
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| cn(w, C).client.in_bootstrap())
        .unwrap();
    let started = w.now();
    w.run_until(started + Duration::from_secs(600), |w| {
        cn(w, C).saw(&Event::BootstrapFailed {
            reason: Failure::Timeout,
        })
    })
    .unwrap();
    let took = w.now() - started;
    assert!(
        took >= Duration::from_secs(240) && took <= Duration::from_secs(260),
        "timed out after {took:?}"
    );
    assert!(!cn(&w, C).client.in_bootstrap());
    assert_eq!(state(&w), before, "rolled back exactly");
    let r = roundtrip(&mut w, S1, C, Req::read("/3303/0/5700"));
    assert_eq!(r.code, Code::CONTENT, "s1 is served again");
}

/// The same session with a consistent configuration commits at Finish
/// (2.04), asks for persistence, and the client registers with the new
/// server (s2, SSID 9) and no longer with s1.
#[test]
fn consistent_configuration_commits_and_registers() {
    let script = vec![
        Req::bootstrap_delete("/"),
        security_instance(5, 9, "coap://s2:5683"),
        server_instance(5, 9),
        Req::bootstrap_finish(),
    ];
    let Setup { mut w, before, .. } = setup(4, script);
    let end = w.now() + Duration::from_secs(60);
    await_registered(&mut w, C, S2, 9, Duration::from_secs(60), 4);
    w.run_until(end, |w| bs(w).sessions(C)[0].is_complete(4))
        .unwrap();
    let session = &bs(&w).sessions(C)[0];
    assert_eq!(session.code(3), Some(Code::CHANGED));
    assert!(cn(&w, C).saw(&Event::BootstrapFinished));
    assert!(cn(&w, C).saw(&Event::Persist));
    assert!(cn(&w, C).client.is_registered(9));
    assert!(!cn(&w, C).client.is_registered(1));
    let after = state(&w);
    assert_ne!(after, before);
    assert!(after.objects[0].contains("coap://s2:5683"));
    assert!(
        after.objects[0].contains("coap://bs:5683"),
        "the bootstrap account stays"
    );
    assert!(!after.objects[0].contains("coap://s1:5683"));
    assert_eq!(srv(&w, S2).registration(C).unwrap().lifetime, Some(300));
    let _ = p("/");
}
