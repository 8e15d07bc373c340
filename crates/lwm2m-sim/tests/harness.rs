//! The simulation harness itself: a client registers with a scripted
//! server, which then reads, writes, executes, creates, observes and
//! follows block-wise responses through its CoAP endpoint, and decodes the
//! answers into typed values.
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
use lwm2m_core::dm::{Path, Value};
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::{Blob, Counter, Sensor};
use lwm2m_sim::{Account, Req, ScriptedServer, World, encode};

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

#[test]
fn register_read_write_execute_create_observe() {
    let seed = 1;
    let mut w = World::new(seed, instant_link());
    let mut c = client(
        &w,
        "harness",
        seed,
        &[Account::new(1, "coap://s1:5683")],
        false,
    );
    let blob = c.add_object(Blob::new(vec![1, 2, 3])).unwrap();
    let counter = c.add_object(Counter::new()).unwrap();
    c.add_object(Sensor::new(20.0)).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), seed);
    let reg = srv(&w, S1).registration(C).unwrap().clone();
    assert_eq!(reg.endpoint, "harness");
    assert!(reg.objects.contains("</1100/0>"), "{}", reg.objects);

    let r = roundtrip(&mut w, S1, C, Req::read("/3303/0/5700"));
    assert_eq!(r.code, Code::CONTENT);
    assert_eq!(
        r.value_at(p("/3303/0/5700")),
        Some(Value::String("20".into()))
    );
    let r = roundtrip(&mut w, S1, C, Req::read("/3303/0").with_accept(110));
    assert_eq!(r.value_at(p("/3303/0/5700")), Some(Value::Float(20.0)));

    let body = encode(
        Format::Opaque,
        p("/1100/0/0"),
        &[Entry::new(p("/1100/0/0"), Value::bytes(b"xyz"))],
    );
    let r = roundtrip(&mut w, S1, C, Req::write("/1100/0/0", Format::Opaque, body));
    assert_eq!(r.code, Code::CHANGED);
    assert_eq!(
        cn(&w, C).client.object(blob).unwrap().get(0).unwrap().data,
        b"xyz"
    );

    let r = roundtrip(&mut w, S1, C, Req::execute("/1101/0/1", "0='a'"));
    assert_eq!(r.code, Code::CHANGED);
    let r = roundtrip(&mut w, S1, C, Req::create(1101, Format::Tlv, vec![]));
    assert_eq!(r.code, Code::CREATED);
    assert_eq!(r.location, ["1101", "1"]);
    let ctr = cn(&w, C).client.object(counter).unwrap();
    assert_eq!(ctr.executions(), &[(0, "0='a'".to_string())]);
    assert_eq!(ctr.created(), &[1]);

    // Block1 write of 5000 bytes, then a Block2 read of it.
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, big.clone()),
    );
    assert_eq!(r.code, Code::CHANGED);
    let r = roundtrip(&mut w, S1, C, Req::read("/1100/0/0"));
    assert_eq!((r.code, r.blocks), (Code::CONTENT, 5));
    assert_eq!(r.payload, big);
    assert!(r.etags.windows(2).all(|e| e[0] == e[1]) && !r.etags[0].is_empty());

    // Observe with pmin/pmax.
    roundtrip(
        &mut w,
        S1,
        C,
        Req::write_attributes("/3303/0/5700", "pmax=10"),
    );
    let op = request(&mut w, S1, C, Req::observe("/3303/0/5700"));
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(5))
        .unwrap();
    assert!(srv(&w, S1).is_observing(op));
    w.run_for(Duration::from_secs(35)).unwrap();
    let n = srv(&w, S1).notifications(op);
    assert_eq!(n.len(), 3, "{n:?}");
}
