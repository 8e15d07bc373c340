//! SPEC §1 guarantee 7, "Notifications go through the scheduler":
//!
//! > `notify_changed(path)` and `notify_instances_changed(object)` only
//! > record the change, never send; `sched_run()` evaluates observations
//! > and sends Notify messages honouring pmin, pmax, gt, lt, st, epmin,
//! > epmax (and 1.2's edge, con, hqmax), confirmable when the server asks
//! > for it, and stores them while a server is offline or in queue mode
//! > when the Server object says so (/1/x/6).
//!
//! The links have no delay, so a notification's arrival instant is the
//! instant the client sent it: the tests check exact virtual instants.
//! Attribute semantics: OMA-TS-LightweightM2M_Core 1.1 §5.1.2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::client::{Event, Failure};
use lwm2m_core::coap::Code;
use lwm2m_core::dm::{Handle, Path, Value};
use lwm2m_core::time::{Duration, Instant};
use lwm2m_sim::objects::Sensor;
use lwm2m_sim::{Account, LinkProfile, Notification, OpId, Req, ScriptedServer, World};

const VALUE: Path = Path::resource(3303, 0, 5700);

struct Setup {
    w: World,
    sensor: Handle<Sensor>,
}

fn setup(seed: u64, account: Account) -> Setup {
    let mut w = World::new(seed, instant_link());
    let mut c = client(&w, "notify", seed, &[account], false);
    let sensor = c.add_object(Sensor::new(20.0)).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), seed);
    Setup { w, sensor }
}

/// Sets the sensor and tells the client, as an application does.
fn set(w: &mut World, h: Handle<Sensor>, v: f64) {
    let c = &mut cn_mut(w, C).client;
    c.object_mut(h).unwrap().value = v;
    c.notify_changed(VALUE);
    w.flush();
}

/// Write-Attributes `attrs` on the value, then Observe it; returns the
/// observation and the instant it was registered.
fn observe(w: &mut World, attrs: &str) -> (OpId, Instant) {
    let r = roundtrip(w, S1, C, Req::write_attributes("/3303/0/5700", attrs));
    assert_eq!(r.code, Code::CHANGED, "{attrs}");
    let op = request(w, S1, C, Req::observe("/3303/0/5700"));
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(1))
        .unwrap();
    let r = srv(w, S1).response(op).unwrap();
    assert!(r.observe.is_some());
    (op, r.at)
}

fn notes(w: &World, op: OpId) -> Vec<Notification> {
    srv(w, S1).notifications(op).to_vec()
}

fn value(n: &Notification) -> f64 {
    match n.value_at(VALUE) {
        Some(Value::String(s)) => s.parse().unwrap(),
        other => panic!("{other:?}"),
    }
}

/// `notify_changed` only records: nothing is transmitted until the client's
/// timer runs (it asks to run at once), and then the notification goes.
#[test]
fn notify_changed_only_records() {
    let Setup { mut w, sensor } = setup(1, Account::new(1, "coap://s1:5683"));
    let (op, _) = observe(&mut w, "pmin=0");
    let node = cn_mut(&mut w, C);
    node.client.object_mut(sensor).unwrap().value = 30.0;
    node.client.notify_changed(VALUE);
    let mut buf = [0u8; 2048];
    assert!(
        node.client.poll_transmit(&mut buf).is_none(),
        "sent from notify_changed"
    );
    let now = w.now();
    assert_eq!(cn(&w, C).client.poll_timeout(), Some(now), "due at once");
    run_to(&mut w, now);
    let n = notes(&w, op);
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].at, value(&n[0])), (now, 30.0));
}

/// pmin=10, pmax=60: a change 1 s after the registration is held until
/// pmin (10 s); without changes the next one comes at pmax (60 s after the
/// last); a change 5 s after that waits for pmin again.
#[test]
fn pmin_and_pmax_at_exact_instants() {
    let Setup { mut w, sensor } = setup(2, Account::new(1, "coap://s1:5683"));
    let (op, t0) = observe(&mut w, "pmin=10&pmax=60");
    run_to(&mut w, t0 + Duration::from_secs(1));
    set(&mut w, sensor, 21.0);
    run_to(&mut w, t0 + Duration::from_secs(9));
    assert!(notes(&w, op).is_empty(), "nothing before pmin");
    run_to(&mut w, t0 + Duration::from_secs(75));
    set(&mut w, sensor, 22.0);
    run_to(&mut w, t0 + Duration::from_secs(200));
    let at: Vec<u64> = notes(&w, op)
        .iter()
        .map(|n| (n.at - t0).as_millis() as u64)
        .collect();
    assert_eq!(at, [10_000, 70_000, 80_000, 140_000, 200_000]);
    let vals: Vec<f64> = notes(&w, op).iter().map(value).collect();
    assert_eq!(vals, [21.0, 21.0, 22.0, 22.0, 22.0]);
    let seqs: Vec<u32> = notes(&w, op).iter().map(|n| n.seq.unwrap()).collect();
    assert!(
        seqs.windows(2).all(|s| s[0] < s[1]),
        "Observe numbers increase: {seqs:?}"
    );
}

/// gt=25 and lt=15: a change notifies only when the value crosses a
/// threshold since the last notification.
#[test]
fn gt_and_lt_notify_on_crossings_only() {
    let Setup { mut w, sensor } = setup(3, Account::new(1, "coap://s1:5683"));
    let (op, t0) = observe(&mut w, "gt=25&lt=15");
    let steps = [22.0, 26.0, 27.0, 24.0, 14.0, 12.0, 16.0];
    for (i, v) in steps.iter().enumerate() {
        run_to(&mut w, t0 + Duration::from_secs(i as u64 + 1));
        set(&mut w, sensor, *v);
    }
    run_to(&mut w, t0 + Duration::from_secs(20));
    let got: Vec<(u64, f64)> = notes(&w, op)
        .iter()
        .map(|n| ((n.at - t0).as_secs(), value(n)))
        .collect();
    // 26 crosses gt; 24 crosses back; 14 crosses lt; 16 crosses back.
    assert_eq!(got, [(2, 26.0), (4, 24.0), (5, 14.0), (7, 16.0)]);
}

/// st=2: a change notifies only when the value moved by at least 2 since
/// the last notification.
#[test]
fn st_notifies_on_steps_from_the_last_notified_value() {
    let Setup { mut w, sensor } = setup(4, Account::new(1, "coap://s1:5683"));
    let (op, t0) = observe(&mut w, "st=2");
    let steps = [21.0, 22.5, 23.0, 24.0, 24.4, 20.0];
    for (i, v) in steps.iter().enumerate() {
        run_to(&mut w, t0 + Duration::from_secs(i as u64 + 1));
        set(&mut w, sensor, *v);
    }
    run_to(&mut w, t0 + Duration::from_secs(20));
    let got: Vec<f64> = notes(&w, op).iter().map(value).collect();
    // From 20: 22.5 (+2.5); from 22.5: 24.0 is only +1.5, 24.4 +1.9; 20 is -2.5.
    assert_eq!(got, [22.5, 20.0]);
}

/// con=1 (LwM2M 1.2) makes the notifications Confirmable; they are
/// acknowledged and keep coming.
#[test]
fn con_makes_notifications_confirmable() {
    let Setup { mut w, sensor } = setup(5, Account::new(1, "coap://s1:5683"));
    let (op, t0) = observe(&mut w, "con=1");
    for i in 1..=3u32 {
        run_to(&mut w, t0 + Duration::from_secs(u64::from(i)));
        set(&mut w, sensor, 20.0 + f64::from(i));
    }
    run_to(&mut w, t0 + Duration::from_secs(10));
    let n = notes(&w, op);
    assert_eq!(n.len(), 3);
    assert!(n.iter().all(|n| n.confirmable));
}

/// With Notification Storing on, notifications produced while the server
/// is unreachable (its Update timed out) are stored and delivered, in
/// order, once the client is registered again.
#[test]
fn stored_while_unreachable_and_delivered_in_order() {
    let account = Account::new(1, "coap://s1:5683").lifetime(60);
    let Setup { mut w, sensor } = setup(6, account);
    let (op, _) = observe(&mut w, "pmin=0");
    cut(&mut w, 1.0);
    let end = w.now() + Duration::from_secs(600);
    w.run_until(end, |w| {
        cn(w, C).events.iter().any(|e| {
            matches!(
                e,
                Event::RegistrationFailed {
                    ssid: 1,
                    reason: Failure::Timeout
                }
            )
        })
    })
    .unwrap();
    assert!(!cn(&w, C).client.is_registered(1));
    let before = notes(&w, op).len();
    for i in 1..=5u32 {
        w.run_for(Duration::from_secs(5)).unwrap();
        set(&mut w, sensor, 30.0 + f64::from(i));
    }
    w.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(notes(&w, op).len(), before, "nothing got through the cut");
    let healed = w.now();
    cut(&mut w, 0.0);
    let end = w.now() + Duration::from_secs(900);
    w.run_until(end, |w| notes(w, op).len() >= before + 5)
        .unwrap();
    let after: Vec<Notification> = notes(&w, op)[before..].to_vec();
    assert!(after.iter().all(|n| n.at >= healed));
    let vals: Vec<f64> = after.iter().map(value).collect();
    assert_eq!(
        vals,
        [31.0, 32.0, 33.0, 34.0, 35.0],
        "all of them, in order"
    );
    assert!(cn(&w, C).client.is_registered(1));
}

/// With Notification Storing off, what happened while unreachable is not
/// replayed: after the client is back, only new changes are notified.
#[test]
fn not_stored_when_the_server_object_says_so() {
    let account = Account::new(1, "coap://s1:5683")
        .lifetime(60)
        .storing(false);
    let Setup { mut w, sensor } = setup(7, account);
    let (op, _) = observe(&mut w, "pmin=0");
    cut(&mut w, 1.0);
    let end = w.now() + Duration::from_secs(600);
    w.run_until(end, |w| !cn(w, C).client.is_registered(1))
        .unwrap();
    let before = notes(&w, op).len();
    for i in 1..=3u32 {
        w.run_for(Duration::from_secs(5)).unwrap();
        set(&mut w, sensor, 40.0 + f64::from(i));
    }
    cut(&mut w, 0.0);
    await_registered(&mut w, C, S1, 1, Duration::from_secs(900), 7);
    w.run_for(Duration::from_secs(5)).unwrap();
    assert_eq!(notes(&w, op).len(), before, "nothing replayed");
    set(&mut w, sensor, 50.0);
    w.run_for(Duration::from_secs(1)).unwrap();
    let n = notes(&w, op);
    assert_eq!(n.len(), before + 1);
    assert_eq!(value(&n[before]), 50.0);
}

/// Cuts (loss 1.0) or heals (0.0) both directions between the client and s1.
fn cut(w: &mut World, loss: f64) {
    let p = if loss > 0.0 {
        LinkProfile::lossy(loss).with_delay(Duration::ZERO, Duration::ZERO)
    } else {
        instant_link()
    };
    w.net().set_profile(C, S1, p);
    w.net().set_profile(S1, C, p);
}

/// epmax=5: the value is re-read every 5 s even when the application never
/// calls `notify_changed`, and a change found that way is notified at the
/// evaluation instant; epmin=3 delays the evaluation of a recorded change.
#[test]
fn epmin_and_epmax_evaluate_on_their_own_clock() {
    let Setup { mut w, sensor } = setup(8, Account::new(1, "coap://s1:5683"));
    let (op, t0) = observe(&mut w, "epmin=3&epmax=5");
    run_to(&mut w, t0 + Duration::from_secs(1));
    // Changed silently: found by the epmax evaluation at +5.
    cn_mut(&mut w, C).client.object_mut(sensor).unwrap().value = 23.0;
    run_to(&mut w, t0 + Duration::from_secs(6));
    // Changed and recorded at +6: evaluated no sooner than epmin after the
    // last evaluation (+5), so at +8.
    set(&mut w, sensor, 24.0);
    run_to(&mut w, t0 + Duration::from_secs(9));
    let got: Vec<(u64, f64)> = notes(&w, op)
        .iter()
        .map(|n| ((n.at - t0).as_secs(), value(n)))
        .collect();
    assert_eq!(got, [(5, 23.0), (8, 24.0)]);
}

/// hqmax=2 (LwM2M 1.2): of the notifications stored while the server is
/// unreachable, only the 2 latest of the observation are kept.
#[test]
fn hqmax_bounds_what_is_stored_per_observation() {
    let account = Account::new(1, "coap://s1:5683").lifetime(60);
    let Setup { mut w, sensor } = setup(9, account);
    let (op, _) = observe(&mut w, "pmin=0&hqmax=2");
    cut(&mut w, 1.0);
    let end = w.now() + Duration::from_secs(600);
    w.run_until(end, |w| !cn(w, C).client.is_registered(1))
        .unwrap();
    let before = notes(&w, op).len();
    for i in 1..=5u32 {
        w.run_for(Duration::from_secs(5)).unwrap();
        set(&mut w, sensor, 60.0 + f64::from(i));
    }
    cut(&mut w, 0.0);
    await_registered(&mut w, C, S1, 1, Duration::from_secs(900), 9);
    w.run_for(Duration::from_secs(5)).unwrap();
    let vals: Vec<f64> = notes(&w, op)[before..].iter().map(value).collect();
    assert_eq!(vals, [64.0, 65.0]);
    assert!(cn(&w, C).client.stats().stored_dropped >= 3);
}

/// A GET with Observe=1 on the observation's token cancels it (RFC 7641
/// §3.6): answered with the current value, and no notification follows.
#[test]
fn get_with_observe_1_cancels() {
    let Setup { mut w, sensor } = setup(10, Account::new(1, "coap://s1:5683"));
    let (op, _) = observe(&mut w, "pmin=0");
    set(&mut w, sensor, 25.0);
    w.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(notes(&w, op).len(), 1);
    let cancel = w
        .with::<ScriptedServer, _>(S1, |s, now| s.cancel_observe_active(now, op))
        .unwrap()
        .unwrap();
    w.await_op::<ScriptedServer>(S1, cancel, Duration::from_secs(5))
        .unwrap();
    let r = srv(&w, S1).response(cancel).unwrap();
    assert_eq!((r.code, r.observe), (Code::CONTENT, None));
    assert_eq!(cn(&w, C).client.observation_count(), 0);
    set(&mut w, sensor, 26.0);
    w.run_for(Duration::from_secs(5)).unwrap();
    assert_eq!(notes(&w, op).len(), 1, "nothing after the cancellation");
}

/// Deleting an observed instance ends its observation with a final 4.04
/// notification (Core 1.1 §6.4.2).
#[test]
fn deleting_the_observed_instance_ends_with_4_04() {
    let mut w = World::new(11, instant_link());
    let mut c = client(&w, "del", 11, &[Account::new(1, "coap://s1:5683")], false);
    c.add_object(lwm2m_sim::objects::Counter::new()).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(11));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), 11);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::create(1101, lwm2m_core::content::Format::Tlv, vec![]),
    );
    let path = format!("/1101/{}", r.location[1]);
    let op = request(&mut w, S1, C, Req::observe(&path));
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(1))
        .unwrap();
    assert!(srv(&w, S1).is_observing(op));
    let r = roundtrip(&mut w, S1, C, Req::delete(&path));
    assert_eq!(r.code, Code::DELETED);
    w.run_for(Duration::from_secs(1)).unwrap();
    let n = notes(&w, op);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].code, Code::NOT_FOUND);
    assert!(!srv(&w, S1).is_observing(op));
    assert_eq!(cn(&w, C).client.observation_count(), 0);
}
