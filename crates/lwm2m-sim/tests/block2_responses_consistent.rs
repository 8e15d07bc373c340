//! SPEC §1 guarantee 4, "Block2 responses are consistent":
//!
//! > A response too big for one datagram is rendered once into a snapshot
//! > with an ETag; later blocks come from that snapshot, so the server
//! > reassembles one consistent value even if the resource changes
//! > mid-transfer. Snapshots are bounded in number and memory and expire.
//!
//! The application changes the Blob value (/1100/x/0) while a scripted
//! server reads it block by block.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::coap::Code;
use lwm2m_core::coap::block_client::Block2FetchError;
use lwm2m_core::config::Config;
use lwm2m_core::dm::{Handle, Path};
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::Blob;
use lwm2m_sim::{Account, LinkProfile, OpError, Req, Response, ScriptedServer, World};

const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);

fn version(k: u8, len: usize) -> Vec<u8> {
    vec![k; len]
}

fn setup(
    seed: u64,
    profile: LinkProfile,
    cfg: Config,
    instances: u16,
    len: usize,
) -> (World, Handle<Blob>) {
    let mut w = World::new(seed, profile);
    let mut c = client_cfg(&w, cfg, seed, &[Account::new(1, "coap://s1:5683")], false);
    let mut blob = Blob::new(version(1, len));
    for i in 1..instances {
        blob.set_data(i, version(1 + i as u8 * 10, len));
    }
    let blob = c.add_object(blob).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, ScriptedServer::new(seed));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(600), seed);
    (w, blob)
}

fn change(w: &mut World, blob: Handle<Blob>, iid: u16, data: Vec<u8>) {
    let c = &mut cn_mut(w, C).client;
    c.object_mut(blob).unwrap().set_data(iid, data);
    c.notify_changed(Path::resource(1100, iid, 0));
    w.flush();
}

fn one_etag(r: &Response) -> bool {
    !r.etags.is_empty() && !r.etags[0].is_empty() && r.etags.windows(2).all(|e| e[0] == e[1])
}

/// The application writes a new value after the second of eight blocks:
/// the server still reassembles the first value, with one ETag; the next
/// read gets the new value under another ETag.
#[test]
fn change_mid_transfer_reassembles_the_first_rendering() {
    let (mut w, blob) = setup(1, delayed_link(5), Config::new("b2"), 1, 8192);
    let op = request(&mut w, S1, C, Req::read("/1100/0/0"));
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).blocks_received(op) >= 2)
        .unwrap();
    change(&mut w, blob, 0, version(2, 8192));
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(10))
        .unwrap();
    let first = srv(&w, S1).response(op).unwrap().clone();
    assert_eq!((first.code, first.blocks), (Code::CONTENT, 8));
    assert!(first.payload == version(1, 8192), "a mix of two values");
    assert!(one_etag(&first), "{:?}", first.etags);
    let second = roundtrip(&mut w, S1, C, Req::read("/1100/0/0"));
    assert!(second.payload == version(2, 8192));
    assert!(one_etag(&second));
    assert_ne!(
        first.etags[0], second.etags[0],
        "a new rendering, a new ETag"
    );
}

/// Later blocks come from the snapshot while it lives, whatever the value
/// does meanwhile; once it has expired (EXCHANGE_LIFETIME without use) a
/// later block is rendered anew, under a new ETag, which tells the server
/// to start over (RFC 7959 §2.4).
#[test]
fn later_blocks_come_from_the_snapshot_until_it_expires() {
    let (mut w, blob) = setup(2, instant_link(), Config::new("b2"), 1, 4096);
    let b0 = roundtrip(&mut w, S1, C, Req::read("/1100/0/0").with_lone_block2(0));
    assert_eq!((b0.code, b0.payload.len()), (Code::CONTENT, 1024));
    change(&mut w, blob, 0, version(9, 4096));
    w.run_for(EXCHANGE_LIFETIME - Duration::from_secs(10))
        .unwrap();
    let b2 = roundtrip(&mut w, S1, C, Req::read("/1100/0/0").with_lone_block2(2));
    assert_eq!(b2.etags, b0.etags, "same snapshot");
    assert!(
        b2.payload == version(1, 1024),
        "the old value, from the snapshot"
    );
    // Each use keeps it alive; a full EXCHANGE_LIFETIME without one ends it.
    w.run_for(EXCHANGE_LIFETIME + Duration::from_secs(1))
        .unwrap();
    let b1 = roundtrip(&mut w, S1, C, Req::read("/1100/0/0").with_lone_block2(1));
    assert_ne!(b1.etags, b0.etags, "rendered anew");
    assert!(b1.payload == version(9, 1024));
}

/// At most `limits.coap.snapshots` (2 here) are kept per server: a third
/// transfer evicts the oldest, whose next block then comes under a new
/// ETag; the two others go on from their snapshots.
#[test]
fn snapshots_are_bounded_in_number() {
    let mut cfg = Config::new("b2");
    cfg.limits.coap.snapshots = 2;
    let (mut w, _) = setup(3, instant_link(), cfg, 3, 3000);
    let first: Vec<Response> = (0..3)
        .map(|i| {
            roundtrip(
                &mut w,
                S1,
                C,
                Req::read(&format!("/1100/{i}/0")).with_lone_block2(0),
            )
        })
        .collect();
    // Newest first, so that no re-rendering evicts a snapshot still asked.
    let next: Vec<Response> = (0..3)
        .rev()
        .map(|i| {
            roundtrip(
                &mut w,
                S1,
                C,
                Req::read(&format!("/1100/{i}/0")).with_lone_block2(1),
            )
        })
        .collect();
    assert_eq!(first[2].etags, next[0].etags, "the newest survived");
    assert_eq!(first[1].etags, next[1].etags, "and the one before");
    assert_ne!(first[0].etags, next[2].etags, "the oldest was evicted");
}

/// A value larger than a snapshot may hold (`limits.coap.snapshot_bytes`)
/// is refused whole with 5.00; never cut short.
#[test]
fn snapshots_are_bounded_in_memory() {
    let mut cfg = Config::new("b2");
    cfg.limits.coap.snapshot_bytes = 4096;
    let (mut w, _) = setup(4, instant_link(), cfg, 1, 6000);
    let r = roundtrip(&mut w, S1, C, Req::read("/1100/0/0"));
    assert_eq!(r.code, Code::INTERNAL_SERVER_ERROR);
    assert!(r.payload.is_empty());
}

/// Under loss, duplication and reordering, with the value changing every
/// 50 ms, each read either reassembles exactly one version or is stopped
/// by an ETag change; never a body mixing two versions.
#[test]
fn reads_under_churn_and_loss_are_never_mixed() {
    let (mut complete, mut restarted) = (0, 0);
    for seed in 20..30u64 {
        let profile = LinkProfile::lossy(0.2)
            .with_duplicate(0.1)
            .with_reorder(0.1, Duration::from_millis(30));
        let mut cfg = Config::new("b2");
        cfg.limits.coap.snapshots = 1;
        let (mut w, blob) = setup(seed, profile, cfg, 1, 6144);
        let ops: Vec<_> = (0..4)
            .map(|_| request(&mut w, S1, C, Req::read("/1100/0/0").with_early_block2(4)))
            .collect();
        let mut k = 2u8;
        let end = w.now() + Duration::from_secs(3600);
        while !ops.iter().all(|op| srv(&w, S1).is_done(*op)) {
            assert!(w.now() < end, "seed {seed}: reads never ended");
            w.run_for(Duration::from_millis(50)).unwrap();
            change(&mut w, blob, 0, version(k, 6144));
            k = k.wrapping_add(1).max(2);
        }
        for op in ops {
            match srv(&w, S1).outcome(op).unwrap() {
                Ok(r) if r.code == Code::CONTENT => {
                    let v = r.payload[0];
                    assert!(
                        r.payload.len() == 6144 && r.payload.iter().all(|b| *b == v),
                        "seed {seed}: mixed body"
                    );
                    assert!(one_etag(r), "seed {seed}");
                    complete += 1;
                }
                Ok(r) => panic!("seed {seed}: {}", r.code),
                Err(OpError::Block2(Block2FetchError::EtagChanged)) => restarted += 1,
                Err(OpError::Timeout) => {}
                Err(e) => panic!("seed {seed}: {e:?}"),
            }
        }
    }
    assert!(complete >= 5, "only {complete} reads completed");
    assert!(restarted > 0, "the churn never reached a transfer");
}
