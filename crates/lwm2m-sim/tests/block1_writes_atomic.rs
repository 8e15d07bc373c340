//! SPEC §1 guarantee 3, "Block1 writes are atomic":
//!
//! > Incoming blocks are assembled (bounded by a configurable limit, 4.13
//! > Request Entity Too Large with Size1 beyond it) and applied in one
//! > transaction when the last block arrives, except for streaming
//! > resources (firmware package), which receive chunks as they arrive
//! > inside one open transaction that is rolled back if the transfer is
//! > abandoned (timeout, 4.08 Request Entity Incomplete, a new transfer).
//!
//! The Blob object (/1100) is an ordinary resource, the Package object
//! (/1102) a streaming one; both record every handler call, commit and
//! rollback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::coap::Code;
use lwm2m_core::config::Config;
use lwm2m_core::content::Format;
use lwm2m_core::dm::Handle;
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::{Blob, Package};
use lwm2m_sim::{LinkProfile, OpError, Req, ScriptedServer, World};

/// EXCHANGE_LIFETIME with the default transmission parameters (RFC 7252
/// §4.8.2): how long an idle transfer stays open.
const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);

struct Setup {
    w: World,
    blob: Handle<Blob>,
    pkg: Handle<Package>,
}

fn setup(seed: u64, profile: LinkProfile, max_body: usize) -> Setup {
    let mut w = World::new(seed, profile);
    let mut cfg = Config::new("b1");
    cfg.limits.coap.block1_max_body = max_body;
    let mut c = client_cfg(&w, cfg, seed, &two_accounts(), false);
    let blob = c.add_object(Blob::new(b"old".to_vec())).unwrap();
    let pkg = c
        .add_object(Package::new(b"factory image".to_vec()))
        .unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    w.add_node_at(S2, ScriptedServer::new(seed + 1));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(600), seed);
    await_registered(&mut w, C, S2, 2, Duration::from_secs(600), seed);
    Setup { w, blob, pkg }
}

fn body(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

fn blob_of(w: &World, h: Handle<Blob>) -> &Blob {
    cn(w, C).client.object(h).unwrap()
}

fn pkg_of(w: &World, h: Handle<Package>) -> &Package {
    cn(w, C).client.object(h).unwrap()
}

/// 20 KiB in 80 blocks of 256 bytes: the write handler runs once, with the
/// whole body, when the last block has arrived; before, the object never
/// changes.
#[test]
fn assembled_body_is_applied_once_after_the_last_block() {
    let Setup { mut w, blob, .. } = setup(1, delayed_link(5), 64 * 1024);
    let new = body(20 * 1024, 1);
    let op = request(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, new.clone()).with_block_szx(4),
    );
    while !srv(&w, S1).is_done(op) {
        w.step();
        let b = blob_of(&w, blob);
        if b.writes.is_empty() {
            assert_eq!(b.get(0).unwrap().data, b"old");
            assert_eq!(b.commits, 0);
        } else {
            assert_eq!(
                srv(&w, S1).interim(op).len(),
                79,
                "applied before the last block"
            );
        }
    }
    assert_eq!(srv(&w, S1).response(op).unwrap().code, Code::CHANGED);
    let b = blob_of(&w, blob);
    assert_eq!(b.writes, [(0, 0, 20 * 1024)]);
    assert_eq!((b.commits, b.rollbacks), (1, 0));
    assert!(b.get(0).unwrap().data == new);
}

/// Under 30% loss with duplication and reordering, retransmitted and
/// duplicated blocks never add bytes twice: the value is exact, applied by
/// one handler call.
#[test]
fn lost_and_duplicated_blocks_do_not_corrupt_the_body() {
    for seed in 100..120u64 {
        let profile = LinkProfile::lossy(0.3)
            .with_duplicate(0.2)
            .with_reorder(0.1, Duration::from_millis(40));
        let Setup { mut w, blob, .. } = setup(seed, profile, 64 * 1024);
        let new = body(12 * 1024, seed as u8);
        let op = request(
            &mut w,
            S1,
            C,
            Req::write("/1100/0/0", Format::Opaque, new.clone()),
        );
        w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(3600))
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        let b = blob_of(&w, blob);
        match srv(&w, S1).outcome(op).unwrap() {
            Ok(r) if r.code == Code::CHANGED => {
                assert_eq!(b.writes, [(0, 0, 12 * 1024)], "seed {seed}");
                assert!(b.get(0).unwrap().data == new, "seed {seed}: corrupted body");
            }
            // The server gave up on a block: nothing may have been applied.
            other => {
                assert!(b.writes.is_empty(), "seed {seed}: {other:?} yet written");
                assert_eq!(b.get(0).unwrap().data, b"old", "seed {seed}");
            }
        }
    }
}

/// A body beyond `limits.coap.block1_max_body` is refused with 4.13 and
/// Size1 giving the limit (RFC 7959 §2.9.3); nothing is written.
#[test]
fn body_beyond_the_limit_gets_4_13_with_size1() {
    let Setup { mut w, blob, .. } = setup(2, instant_link(), 8192);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, body(16 * 1024, 2)),
    );
    assert_eq!(r.code, Code::REQUEST_ENTITY_TOO_LARGE);
    assert_eq!(r.size1, Some(8192));
    assert!(blob_of(&w, blob).writes.is_empty());
    // Exactly at the limit is fine.
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, body(8192, 3)),
    );
    assert_eq!(r.code, Code::CHANGED);
}

/// A block other than the first of a transfer the client does not know is
/// 4.08 Request Entity Incomplete (RFC 7959 §2.9.2), for assembled and
/// streaming resources alike; nothing is written or begun.
#[test]
fn block_without_its_predecessors_gets_4_08() {
    let Setup { mut w, blob, pkg } = setup(3, instant_link(), 64 * 1024);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, body(4096, 4)).with_lone_block1(2),
    );
    assert_eq!(r.code, Code::REQUEST_ENTITY_INCOMPLETE);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1102/0/0", Format::Opaque, body(4096, 4)).with_lone_block1(2),
    );
    assert_eq!(r.code, Code::REQUEST_ENTITY_INCOMPLETE);
    assert!(blob_of(&w, blob).writes.is_empty());
    let p = pkg_of(&w, pkg);
    assert!(p.chunks.is_empty());
    assert_eq!(p.data(), b"factory image");
}

/// An assembled transfer left half-way changes nothing; it holds its
/// object for other servers only until it expires.
#[test]
fn abandoned_assembled_transfer_changes_nothing() {
    let Setup { mut w, blob, .. } = setup(4, instant_link(), 64 * 1024);
    let op = request(
        &mut w,
        S1,
        C,
        Req::write("/1100/0/0", Format::Opaque, body(8192, 5)),
    );
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).interim(op).len() >= 3)
        .unwrap();
    w.with::<ScriptedServer, _>(S1, |s, _| s.abandon(op))
        .unwrap();
    let r = roundtrip(&mut w, S2, C, Req::read("/1100/0/1"));
    assert_eq!(r.code, Code::SERVICE_UNAVAILABLE);
    w.run_for(EXCHANGE_LIFETIME + Duration::from_secs(1))
        .unwrap();
    let r = roundtrip(&mut w, S2, C, Req::read("/1100/0/0"));
    assert_eq!((r.code, r.payload.as_slice()), (Code::CONTENT, &b"old"[..]));
    let b = blob_of(&w, blob);
    assert!(b.writes.is_empty());
    assert_eq!((b.commits, b.rollbacks), (0, 0));
}

/// A streaming resource gets each block's bytes as it arrives, all inside
/// one transaction (begun once, committed once at the end) that holds the
/// object for other servers meanwhile.
#[test]
fn streaming_chunks_arrive_in_one_open_transaction() {
    let Setup { mut w, pkg, .. } = setup(5, delayed_link(5), 64 * 1024);
    let image = body(8 * 1024, 6);
    let op = request(
        &mut w,
        S1,
        C,
        Req::write("/1102/0/0", Format::Opaque, image.clone()),
    );
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).interim(op).len() >= 3)
        .unwrap();
    let p = pkg_of(&w, pkg);
    assert!(p.chunks.len() >= 3, "chunks handed over as they arrive");
    assert!(p.in_transaction());
    assert_eq!((p.begins, p.commits), (1, 0));
    let r = roundtrip(&mut w, S2, C, Req::read("/1102/0/1"));
    assert_eq!(
        r.code,
        Code::SERVICE_UNAVAILABLE,
        "held by the open transaction"
    );
    assert!(r.max_age.is_some());
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(10))
        .unwrap();
    assert_eq!(srv(&w, S1).response(op).unwrap().code, Code::CHANGED);
    let p = pkg_of(&w, pkg);
    assert_eq!((p.begins, p.commits, p.rollbacks), (1, 1, 0));
    assert_eq!(p.chunks.len(), 8);
    assert_eq!(p.chunks.last(), Some(&(7 * 1024, 1024, true)));
    assert!(p.data() == image.as_slice());
    let r = roundtrip(&mut w, S2, C, Req::read("/1102/0/1"));
    assert_eq!(r.text(), Some("8192"));
}

/// A streaming transfer that goes quiet is rolled back when it expires:
/// the package is the factory image again.
#[test]
fn abandoned_stream_is_rolled_back_on_timeout() {
    let Setup { mut w, pkg, .. } = setup(6, instant_link(), 64 * 1024);
    let op = request(
        &mut w,
        S1,
        C,
        Req::write("/1102/0/0", Format::Opaque, body(8192, 7)),
    );
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).interim(op).len() >= 3)
        .unwrap();
    w.with::<ScriptedServer, _>(S1, |s, _| s.abandon(op))
        .unwrap();
    assert!(pkg_of(&w, pkg).data().len() >= 3 * 1024);
    w.run_for(EXCHANGE_LIFETIME + Duration::from_secs(1))
        .unwrap();
    let p = pkg_of(&w, pkg);
    assert_eq!((p.begins, p.commits, p.rollbacks), (1, 0, 1));
    assert!(!p.in_transaction());
    assert_eq!(p.data(), b"factory image");
    let r = roundtrip(&mut w, S2, C, Req::read("/1102/0/1"));
    assert_eq!(r.text(), Some("13"), "released for other servers");
}

/// A new transfer to the streaming resource rolls back the one left open,
/// then commits on its own: nothing of the first survives.
#[test]
fn new_stream_transfer_replaces_the_open_one() {
    let Setup { mut w, pkg, .. } = setup(7, instant_link(), 64 * 1024);
    let first = request(
        &mut w,
        S1,
        C,
        Req::write("/1102/0/0", Format::Opaque, body(8192, 8)),
    );
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).interim(first).len() >= 3)
        .unwrap();
    w.with::<ScriptedServer, _>(S1, |s, _| s.abandon(first))
        .unwrap();
    assert_eq!(srv(&w, S1).outcome(first), Some(&Err(OpError::Abandoned)));
    let second = body(5000, 9);
    let r = roundtrip(
        &mut w,
        S1,
        C,
        Req::write("/1102/0/0", Format::Opaque, second.clone()),
    );
    assert_eq!(r.code, Code::CHANGED);
    let p = pkg_of(&w, pkg);
    assert_eq!((p.begins, p.commits, p.rollbacks), (2, 1, 1));
    assert!(p.data() == second.as_slice());
}
