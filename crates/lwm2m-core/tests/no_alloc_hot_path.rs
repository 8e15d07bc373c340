//! The hot path allocates nothing (STYLE: "Hot paths don't allocate"): once
//! the endpoint's bounded buffers are warm, answering a Confirmable request
//! piggybacked, replaying a duplicate and sending and completing a request
//! of ours make no heap allocation. Counted with an instrumented global
//! allocator; the file runs without the test harness (`harness = false`)
//! so that no other thread allocates while it counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::System;

use lwm2m_core::coap::endpoint::Received;
use lwm2m_core::coap::{
    Code, EmitError, Endpoint, Limits, Message, MessageBuilder, MsgType, TransmissionParams, option,
};
use lwm2m_core::time::{Duration, Instant};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn get(mid: u16, buf: &mut [u8]) -> usize {
    let mut b = MessageBuilder::new(buf, MsgType::Con, Code::GET, mid, &[1, 2, 3, 4]).unwrap();
    b.option(option::URI_PATH, b"3").unwrap();
    b.option(option::URI_PATH, b"0").unwrap();
    b.uint_option(option::ACCEPT, 11542).unwrap();
    b.finish()
}

/// One round: a request served piggybacked, its duplicate replayed, and a
/// request of ours answered.
fn round(ep: &mut Endpoint, now: Instant, mid: u16) {
    let mut req = [0u8; 64];
    let mut out = [0u8; 1500];
    let n = get(mid, &mut req);
    for dup in [false, true] {
        match ep.handle_datagram(now, &req[..n]) {
            Received::Request(r) => {
                assert!(!dup);
                let id = r.id;
                ep.respond(now, &id, Code::CONTENT, |b| {
                    b.uint_option(option::CONTENT_FORMAT, 0)?;
                    b.payload()?.put(b"22.3").map_err(EmitError::from)?;
                    Ok::<(), EmitError>(())
                })
                .unwrap();
            }
            Received::Duplicate => assert!(dup),
            other => panic!("{other:?}"),
        }
        assert!(ep.poll_transmit(now, &mut out).is_some());
    }
    let token = ep
        .request(true, Code::POST, |b| {
            b.option(option::URI_PATH, b"rd")?;
            b.payload(b"</1/0>")?;
            Ok::<(), EmitError>(())
        })
        .unwrap();
    let n = ep.poll_transmit(now, &mut out).unwrap();
    let ours_mid = Message::parse(&out[..n]).unwrap().mid();
    let mut ack = [0u8; 32];
    let mut b = MessageBuilder::new(
        &mut ack,
        MsgType::Ack,
        Code::CREATED,
        ours_mid,
        token.as_bytes(),
    )
    .unwrap();
    b.option(option::LOCATION_PATH, b"rd").unwrap();
    let n = b.finish();
    assert!(matches!(
        ep.handle_datagram(now, &ack[..n]),
        Received::Response { .. }
    ));
    assert!(ep.poll_transmit(now, &mut out).is_none());
}

fn main() {
    steady_state_makes_no_heap_allocation();
    println!("no_alloc_hot_path: 1 passed, 0 failed");
}

fn steady_state_makes_no_heap_allocation() {
    let mut ep = Endpoint::new(TransmissionParams::default(), Limits::default(), 9);
    let mut now = Instant::from_secs(1);
    let entries = Limits::default().dedup_entries as u16;
    // Warm-up: fill every de-dup entry and outgoing slot once.
    for mid in 0..entries * 2 {
        round(&mut ep, now, mid);
        now += Duration::from_millis(10);
    }
    let region = Region::new(GLOBAL);
    for mid in entries * 2..entries * 20 {
        round(&mut ep, now, mid);
        now += Duration::from_millis(10);
    }
    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "allocations on the hot path: {stats:?}"
    );
}
