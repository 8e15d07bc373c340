//! SPEC §1 guarantee 2, "Block-wise never blocks the loop":
//!
//! > A block-wise transfer is a sequence of `serve()` / `sched_run()`
//! > calls; its state lives in the client. [...] While server A's transfer
//! > on object X is open, a request from server B that touches X gets 5.03
//! > with Max-Age; a request that does not touch X is served normally.
//!
//! Server A (SSID 1) writes 64 KiB to the Blob object X with Block1, or
//! reads it with Block2, over a link with 10 ms of delay each way; server B
//! (SSID 2) sends requests in the middle of the transfer. Nothing touching
//! X is ever visible half-written, to B, to A or to the application.
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
use lwm2m_core::dm::{Handle, Path, Value};
use lwm2m_core::time::{Duration, Instant};
use lwm2m_sim::objects::{Blob, Sensor};
use lwm2m_sim::{Account, LinkProfile, OpId, Req, Response, ScriptedServer, World, encode};

const SEED: u64 = 2;

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn old_value() -> Vec<u8> {
    vec![0xaa; 64 * 1024]
}

fn new_value() -> Vec<u8> {
    (0..64 * 1024u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn setup() -> (World, Handle<Blob>) {
    let link =
        LinkProfile::perfect().with_delay(Duration::from_millis(10), Duration::from_millis(10));
    let mut w = World::new(SEED, link);
    let accounts = [
        Account::new(1, "coap://s1:5683"),
        Account::new(2, "coap://s2:5683"),
    ];
    let mut c = client(&w, "bw", SEED, &accounts, false);
    let blob = c.add_object(Blob::new(old_value())).unwrap();
    c.add_object(Sensor::new(21.5)).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(SEED));
    w.add_node_at(S2, ScriptedServer::new(SEED + 1));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), SEED);
    await_registered(&mut w, C, S2, 2, Duration::from_secs(10), SEED);
    (w, blob)
}

fn outcome(w: &World, s: lwm2m_sim::Addr, op: OpId) -> Response {
    srv(w, s).response(op).cloned().unwrap_or_else(|| {
        panic!("{op:?}: {:?}", srv(w, s).outcome(op));
    })
}

fn app_sees(w: &World, blob: Handle<Blob>) -> Vec<u8> {
    cn(w, C)
        .client
        .object(blob)
        .unwrap()
        .get(0)
        .unwrap()
        .data
        .clone()
}

fn busy(r: &Response, what: &str) {
    assert_eq!(r.code, Code::SERVICE_UNAVAILABLE, "{what}: {r:?}");
    let age = r
        .max_age
        .unwrap_or_else(|| panic!("{what}: 5.03 without Max-Age"));
    assert!((1..=300).contains(&age), "{what}: Max-Age {age}");
}

/// A 64 KiB Block1 Write from A to X interleaved with B's requests: B's
/// read of another object is answered before A finishes; B's requests
/// touching X get 5.03 with Max-Age; X never shows a partial value; after
/// the last block X holds exactly the new value, written by one handler
/// call in one committed transaction.
#[test]
fn block1_write_from_a_does_not_block_b() {
    let (mut w, blob) = setup();
    let new = new_value();
    let write = request(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, new.clone()),
    );
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| srv(w, S1).interim(write).len() >= 8)
        .unwrap();
    assert!(
        app_sees(&w, blob) == old_value(),
        "nothing applied mid-transfer"
    );

    let other = request(&mut w, S2, C, Req::read("/3303/0/5700"));
    let read_x = request(&mut w, S2, C, Req::read("/1100/0/0"));
    let label = encode(
        Format::Text,
        p("/1100/0/1"),
        &[Entry::new(p("/1100/0/1"), Value::str("b"))],
    );
    let write_x = request(
        &mut w,
        S2,
        C,
        Req::write("/1100/0/1", Format::Text, label.clone()),
    );
    let read_obj = request(&mut w, S2, C, Req::read("/1100"));
    let discover_x = request(&mut w, S2, C, Req::discover("/1100/0"));
    let b_ops = [other, read_x, write_x, read_obj, discover_x];
    let mut last_b = Instant::ZERO;
    w.run_until(end, |w| b_ops.iter().all(|op| srv(w, S2).is_done(*op)))
        .unwrap();
    assert!(
        !srv(&w, S1).is_done(write),
        "B was served while A's transfer is open"
    );
    for op in b_ops {
        last_b = last_b.max(outcome(&w, S2, op).at);
    }
    let r = outcome(&w, S2, other);
    assert_eq!((r.code, r.text()), (Code::CONTENT, Some("21.5")));
    busy(&outcome(&w, S2, read_x), "read of X");
    busy(&outcome(&w, S2, write_x), "write of X");
    busy(&outcome(&w, S2, read_obj), "read of object X");
    busy(&outcome(&w, S2, discover_x), "discover of X");
    assert!(app_sees(&w, blob) == old_value());
    assert!(cn(&w, C).client.stats().busy >= 4);

    // The application looks after every event: the old value until the
    // last block arrived, then exactly the new one; never anything between.
    let mut blocks_seen = srv(&w, S1).interim(write).len();
    let mut switched = false;
    while !srv(&w, S1).is_done(write) {
        w.step();
        let now = srv(&w, S1).interim(write).len();
        let seen = app_sees(&w, blob);
        if seen == new {
            switched = true;
            assert_eq!(now, 63, "new value before the last block");
        } else {
            assert!(
                seen == old_value() && !switched,
                "partial value at block {now}"
            );
        }
        blocks_seen = blocks_seen.max(now);
    }
    let done = outcome(&w, S1, write);
    assert_eq!(done.code, Code::CHANGED);
    assert_eq!(blocks_seen, 63, "64 blocks of 1 KiB: 63 Continue");
    assert!(last_b < done.at, "B's answers came before A finished");
    let b = cn(&w, C).client.object(blob).unwrap();
    assert_eq!(
        b.writes,
        [(0, 0, 64 * 1024)],
        "one handler call, whole body"
    );
    assert_eq!((b.commits, b.rollbacks), (1, 0));
    assert!(app_sees(&w, blob) == new, "X holds exactly the new value");

    // Once A is done, B is served: it reads exactly the new value.
    let r = roundtrip(&mut w, S2, C, Req::read("/1100/0/0"));
    assert_eq!((r.code, r.blocks), (Code::CONTENT, 64));
    assert!(r.etags.windows(2).all(|e| e[0] == e[1]));
    assert!(r.payload == new, "B reads exactly the new value");
    let r = roundtrip(&mut w, S2, C, Req::write("/1100/0/1", Format::Text, label));
    assert_eq!(r.code, Code::CHANGED);
}

/// A's Block2 read of X holds X for other servers until its last block, and
/// only X: B's write to X gets 5.03, B's read of another object is served,
/// and once A has the last block B's write goes through.
#[test]
fn block2_read_from_a_holds_only_x() {
    let (mut w, blob) = setup();
    let read = request(&mut w, S1, C, Req::read("/1100/0/0"));
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| srv(w, S1).blocks_received(read) >= 4)
        .unwrap();
    let body = encode(
        Format::Opaque,
        p("/1100/0/0"),
        &[Entry::new(p("/1100/0/0"), Value::bytes(b"tiny"))],
    );
    let write_x = request(
        &mut w,
        S2,
        C,
        Req::write("/1100/0/0", Format::Opaque, body.clone()),
    );
    let other = request(&mut w, S2, C, Req::read("/3303/0"));
    w.run_until(end, |w| {
        srv(w, S2).is_done(write_x) && srv(w, S2).is_done(other)
    })
    .unwrap();
    assert!(!srv(&w, S1).is_done(read));
    busy(&outcome(&w, S2, write_x), "write of X during A's read");
    assert_eq!(outcome(&w, S2, other).code, Code::CONTENT);
    w.await_op::<ScriptedServer>(S1, read, Duration::from_secs(60))
        .unwrap();
    let r = outcome(&w, S1, read);
    assert!(
        r.payload == old_value(),
        "A's read is the value it started with"
    );
    let r = roundtrip(&mut w, S2, C, Req::write("/1100/0/0", Format::Opaque, body));
    assert_eq!(r.code, Code::CHANGED);
    assert_eq!(app_sees(&w, blob), b"tiny");
}

/// A composite request of B that names only other objects does not touch
/// X, so it is served while A's transfer on X is open; one that names X
/// gets 5.03.
#[test]
fn composite_requests_are_held_only_when_they_name_x() {
    let (mut w, _) = setup();
    let write = request(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, new_value()),
    );
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| srv(w, S1).interim(write).len() >= 4)
        .unwrap();
    let not_x = request(
        &mut w,
        S2,
        C,
        Req::read_composite(&[p("/3303/0/5700"), p("/3/0/0")], Format::SenmlJson),
    );
    let with_x = request(
        &mut w,
        S2,
        C,
        Req::read_composite(&[p("/3303/0/5700"), p("/1100/0/1")], Format::SenmlJson),
    );
    w.run_until(end, |w| {
        srv(w, S2).is_done(not_x) && srv(w, S2).is_done(with_x)
    })
    .unwrap();
    assert!(!srv(&w, S1).is_done(write));
    let r = outcome(&w, S2, not_x);
    assert_eq!(r.code, Code::CONTENT, "{r:?}");
    assert_eq!(r.value_at(p("/3303/0/5700")), Some(Value::Float(21.5)));
    busy(&outcome(&w, S2, with_x), "composite read naming X");
}
