//! SPEC §1 guarantee 9, "Multiple servers":
//!
//! > Multiple servers are first-class: each has its own connection,
//! > registration state, observations and retransmission state; one
//! > failing server never stalls another.
//!
//! Two DM servers, s1 (SSID 1) and s2 (SSID 2), with an Access Control
//! object giving each its rights (OMA-TS-LightweightM2M_Core 1.1 §7.3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::coap::Code;
use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{AccessMask, Handle, Path, Value};
use lwm2m_core::objects::{AccessControl, AclInstance};
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::{Blob, Sensor};
use lwm2m_sim::{Account, Addr, LinkProfile, Req, ScriptedServer, World, encode};

const VALUE: Path = Path::resource(3303, 0, 5700);

fn acl() -> AccessControl {
    let read = AccessMask::READ.0;
    let all = AccessMask::INSTANCE_FULL.0;
    let mut ac = AccessControl::default();
    ac.insert(AclInstance::new(0, 3303, 0, 1).with(1, read).with(2, read));
    ac.insert(AclInstance::new(1, 1100, 0, 1).with(1, all).with(2, read));
    ac
}

fn setup(seed: u64) -> (World, Handle<Sensor>) {
    let mut w = World::new(seed, instant_link());
    let accounts = [
        Account::new(1, "coap://s1:5683").lifetime(120),
        Account::new(2, "coap://s2:5683").lifetime(120),
    ];
    let mut c = client(&w, "multi", seed, &accounts, false);
    c.add_object(acl()).unwrap();
    let sensor = c.add_object(Sensor::new(20.0)).unwrap();
    c.add_object(Blob::new(b"x".to_vec())).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    w.add_node_at(S2, ScriptedServer::new(seed + 1));
    (w, sensor)
}

fn set(w: &mut World, h: Handle<Sensor>, v: f64) {
    let c = &mut cn_mut(w, C).client;
    c.object_mut(h).unwrap().value = v;
    c.notify_changed(VALUE);
    w.flush();
}

fn cut(w: &mut World, s: Addr, loss: f64) {
    let p = if loss > 0.0 {
        LinkProfile::lossy(loss).with_delay(Duration::ZERO, Duration::ZERO)
    } else {
        instant_link()
    };
    w.net().set_profile(C, s, p);
    w.net().set_profile(s, C, p);
}

fn at(w: &World, s: Addr, o: lwm2m_sim::OpId, t0: lwm2m_core::time::Instant) -> Vec<u64> {
    srv(w, s)
        .notifications(o)
        .iter()
        .map(|n| (n.at - t0).as_secs())
        .collect()
}

fn label(v: &str) -> Vec<u8> {
    let p = Path::resource(1100, 0, 1);
    encode(Format::Text, p, &[Entry::new(p, Value::str(v))])
}

/// Each server has its own registration (its own location), its own
/// rights, its own observation with its own attributes, and cancelling
/// one observation leaves the other.
#[test]
fn each_server_has_its_own_registration_rights_and_observations() {
    let (mut w, sensor) = setup(1);
    await_registered(&mut w, C, S1, 1, Duration::from_secs(5), 1);
    await_registered(&mut w, C, S2, 2, Duration::from_secs(5), 1);
    let links: Vec<_> = cn(&w, C).client.links().map(|(l, _)| l).collect();
    assert_eq!(links.len(), 2, "one link per server");
    assert_eq!(srv(&w, S1).registration(C).unwrap().endpoint, "multi");
    assert_eq!(srv(&w, S2).registration(C).unwrap().endpoint, "multi");

    assert_eq!(
        roundtrip(
            &mut w,
            S1,
            C,
            Req::write("/1100/0/1", Format::Text, label("a"))
        )
        .code,
        Code::CHANGED
    );
    assert_eq!(
        roundtrip(
            &mut w,
            S2,
            C,
            Req::write("/1100/0/1", Format::Text, label("b"))
        )
        .code,
        Code::UNAUTHORIZED
    );
    assert_eq!(
        roundtrip(&mut w, S2, C, Req::read("/1100/0/1")).text(),
        Some("a")
    );

    for (s, attrs) in [(S1, "pmin=0"), (S2, "pmin=10")] {
        let r = roundtrip(&mut w, s, C, Req::write_attributes("/3303/0/5700", attrs));
        assert_eq!(r.code, Code::CHANGED);
    }
    let o1 = request(&mut w, S1, C, Req::observe("/3303/0/5700"));
    let o2 = request(&mut w, S2, C, Req::observe("/3303/0/5700"));
    let t0 = w.now();
    run_to(&mut w, t0);
    assert!(srv(&w, S1).is_observing(o1) && srv(&w, S2).is_observing(o2));
    assert_eq!(cn(&w, C).client.observation_count(), 2);
    run_to(&mut w, t0 + Duration::from_secs(1));
    set(&mut w, sensor, 21.0);
    run_to(&mut w, t0 + Duration::from_secs(12));
    assert_eq!(at(&w, S1, o1, t0), [1], "s1: pmin 0");
    assert_eq!(at(&w, S2, o2, t0), [10], "s2: its own pmin 10");

    // s1 forgets its observation: the next notification is reset, which
    // cancels it at the client; s2's goes on.
    w.with::<ScriptedServer, _>(S1, |s, _| s.cancel_observe(o1))
        .unwrap();
    set(&mut w, sensor, 22.0);
    run_to(&mut w, t0 + Duration::from_secs(13));
    assert_eq!(cn(&w, C).client.observation_count(), 1);
    run_to(&mut w, t0 + Duration::from_secs(25));
    set(&mut w, sensor, 23.0);
    run_to(&mut w, t0 + Duration::from_secs(31));
    // pmin 10 after each notification of s2's own.
    assert_eq!(at(&w, S2, o2, t0), [10, 20, 30]);
    assert_eq!(
        srv(&w, S1).notifications(o1).len(),
        1,
        "nothing after the reset"
    );
}

/// s2 never answers (every datagram to or from it is lost): the client
/// keeps retrying it, and meanwhile s1 registers at once and every s1
/// request is answered without delay; once s2 is reachable it registers.
#[test]
fn an_unreachable_server_never_stalls_the_other() {
    let (mut w, sensor) = setup(2);
    cut(&mut w, S2, 1.0);
    let start = w.now();
    await_registered(&mut w, C, S1, 1, Duration::from_secs(1), 2);
    assert!(w.now() - start < Duration::from_millis(10));
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write_attributes("/3303/0/5700", "pmin=0"),
    );
    assert_eq!(r.code, Code::CHANGED);
    let obs = request(&mut w, S1, C, Req::observe("/3303/0/5700"));
    // Ten minutes of s2 retries; s1 is served promptly all along.
    for i in 0..60u32 {
        w.run_for(Duration::from_secs(10)).unwrap();
        let asked = w.now();
        let r = roundtrip(&mut w, S1, C, Req::read("/3303/0"));
        assert_eq!(r.code, Code::CONTENT);
        assert!(r.at - asked < Duration::from_millis(10), "s1 waited at {i}");
        set(&mut w, sensor, f64::from(i));
    }
    w.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(
        srv(&w, S1).notifications(obs).len(),
        60,
        "every change reached s1"
    );
    assert!(cn(&w, C).client.is_registered(1), "s1's Updates went on");
    assert!(srv(&w, S1).registration(C).unwrap().updates >= 5);
    let failures = cn(&w, C)
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                lwm2m_core::client::Event::RegistrationFailed { ssid: 2, .. }
            )
        })
        .count();
    assert!(failures >= 2, "s2 was retried: {failures}");
    assert!(srv(&w, S2).requests().is_empty());
    cut(&mut w, S2, 0.0);
    await_registered(&mut w, C, S2, 2, Duration::from_secs(3600), 2);
}

/// Both registered, then s2's path turns lossy (60%): s1's exchanges are
/// never held behind s2's retransmissions, and s2's registration survives
/// or recovers on its own.
#[test]
fn a_lossy_server_keeps_its_retransmissions_to_itself() {
    let (mut w, _) = setup(3);
    await_registered(&mut w, C, S1, 1, Duration::from_secs(5), 3);
    await_registered(&mut w, C, S2, 2, Duration::from_secs(5), 3);
    cut(&mut w, S2, 0.6);
    let mut s2_ops = Vec::new();
    for _ in 0..30 {
        s2_ops.push(request(&mut w, S2, C, Req::read("/3303/0/5700")));
        let asked = w.now();
        let r = roundtrip(&mut w, S1, C, Req::read("/3303/0/5700"));
        assert!(r.at - asked < Duration::from_millis(10));
        w.run_for(Duration::from_secs(3)).unwrap();
    }
    cut(&mut w, S2, 0.0);
    w.run_for(Duration::from_secs(300)).unwrap();
    let answered = s2_ops
        .iter()
        .filter(|op| srv(&w, S2).response(**op).is_some())
        .count();
    assert!(answered > 10, "s2 got {answered} answers through the loss");
    await_registered(&mut w, C, S2, 2, Duration::from_secs(600), 3);
}
