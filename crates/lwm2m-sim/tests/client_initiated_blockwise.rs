//! SPEC §1 guarantee 5, "Client-initiated block-wise":
//!
//! > a Register / Update whose link payload exceeds the block size goes
//! > out with Block1; a Notify or Send bigger than one block is sent
//! > block-wise as RFC 7959 prescribes for that message.
//!
//! RFC 7959 §2.3 / §2.5 for requests (Block1, every block carrying the
//! request's options, the server may ask for smaller blocks), §2.6 for
//! notifications (the first block comes with the notification, the server
//! fetches the rest with GET and Block2).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::coap::{Code, Limits, TransmissionParams};
use lwm2m_core::content::Format;
use lwm2m_core::dm::{Handle, Path, Value};
use lwm2m_core::time::Duration;
use lwm2m_sim::objects::{Blob, Counter};
use lwm2m_sim::{Account, Recorded, Req, ScriptedServer, World};

const SEED: u64 = 5;

fn server(block_szx: u8) -> ScriptedServer {
    let mut limits = Limits::default();
    limits.block_szx = block_szx;
    ScriptedServer::with(SEED, TransmissionParams::default(), limits)
}

fn many_instances(n: u16) -> Blob {
    let mut b = Blob::new(vec![0]);
    for i in 1..n {
        b.set_data(i, vec![0]);
    }
    b
}

fn blocks_of(reqs: &[Recorded], path: &[&str]) -> Vec<Recorded> {
    reqs.iter()
        .filter(|r| r.path.iter().map(String::as_str).eq(path.iter().copied()))
        .cloned()
        .collect()
}

/// A Register whose object list outgrows 1024 bytes goes out with Block1;
/// every block carries the Uri-Path and Uri-Query of the Register; when the
/// server answers the first block asking for 256-byte blocks the client
/// continues at the same offset in 256-byte blocks; the server gets the
/// whole list.
#[test]
fn large_register_goes_block1_and_follows_the_server_block_size() {
    let mut w = World::new(SEED, instant_link());
    let mut c = client(&w, "big", SEED, &[Account::new(1, "coap://s1:5683")], false);
    c.add_object(many_instances(200)).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, server(4));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), SEED);
    let blocks = blocks_of(srv(&w, S1).requests(), &["rd"]);
    assert!(blocks.len() > 4, "{} blocks", blocks.len());
    let first = blocks[0].block1.unwrap();
    assert_eq!((first.num, first.size(), first.more), (0, 1024, true));
    let mut offset = 0;
    for (i, r) in blocks.iter().enumerate() {
        let b = r.block1.unwrap();
        assert_eq!(
            b.offset(),
            offset,
            "block {i} continues where the last ended"
        );
        assert_eq!(
            r.query("ep"),
            Some("big"),
            "block {i} carries the Register's options"
        );
        assert_eq!(r.query("lt"), Some("86400"));
        assert_eq!(r.content_format, Some(40));
        if i > 0 {
            assert_eq!(b.size(), 256, "block {i} in the size the server asked for");
        }
        assert_eq!(b.more, i + 1 < blocks.len());
        if b.more {
            assert_eq!(r.payload.len(), b.size());
        }
        offset += r.payload.len();
    }
    let objects = &srv(&w, S1).registration(C).unwrap().objects;
    assert_eq!(objects.len(), offset);
    assert!(objects.contains("</1100/0>") && objects.contains("</1100/199>"));
}

/// An Update carrying an object list that outgrew a block goes out with
/// Block1 to the registration's location.
#[test]
fn large_update_goes_block1() {
    let mut w = World::new(SEED, instant_link());
    let c = client(&w, "upd", SEED, &[Account::new(1, "coap://s1:5683")], false);
    w.add_node_at(C, node(c));
    w.add_node_at(S1, server(6));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), SEED);
    let loc = srv(&w, S1).registration(C).unwrap().location.clone();
    cn_mut(&mut w, C)
        .client
        .add_object(many_instances(150))
        .unwrap();
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| srv(w, S1).registration(C).unwrap().updates == 1)
        .unwrap();
    let path: Vec<&str> = loc.iter().map(String::as_str).collect();
    let blocks = blocks_of(srv(&w, S1).requests(), &path);
    assert!(blocks.len() >= 2, "{} blocks", blocks.len());
    assert!(
        blocks
            .iter()
            .all(|r| r.code == Code::POST && r.block1.is_some())
    );
    assert!(blocks[0].block1.unwrap().more);
    let objects = &srv(&w, S1).registration(C).unwrap().objects;
    assert!(objects.contains("</1100/149>"), "the whole list arrived");
}

/// A Send of more than a block goes out with Block1 (POST /dp) and the
/// server reassembles the whole SenML payload.
#[test]
fn large_send_goes_block1() {
    let mut w = World::new(SEED, instant_link());
    let mut c = client(
        &w,
        "send",
        SEED,
        &[Account::new(1, "coap://s1:5683")],
        false,
    );
    c.add_object(Blob::new(vec![0x5a; 3000])).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, server(6));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), SEED);
    let id = cn_mut(&mut w, C)
        .client
        .send_with(1, &[Path::resource(1100, 0, 0)], Format::SenmlJson)
        .unwrap();
    w.flush();
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| {
        cn(w, C).saw(&lwm2m_core::client::Event::SendDone { id, ok: true })
    })
    .unwrap();
    let blocks = blocks_of(srv(&w, S1).requests(), &["dp"]);
    assert!(blocks.len() >= 4, "{} blocks", blocks.len());
    let sent = &srv(&w, S1).sends()[0];
    assert_eq!(sent.content_format, Some(110));
    let entries = lwm2m_sim::decode(
        sent.content_format,
        &sent.payload,
        Path::ROOT,
        &lwm2m_sim::Types::default(),
    )
    .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].value, Value::Opaque(vec![0x5a; 3000].into()));
}

/// A notification larger than a block arrives as its first block (with
/// Observe and Block2); the server fetches the rest with GET, and the
/// reassembled notification is the whole new value.
#[test]
fn large_notification_is_completed_with_block2() {
    let mut w = World::new(SEED, instant_link());
    let mut c = client(
        &w,
        "notify",
        SEED,
        &[Account::new(1, "coap://s1:5683")],
        false,
    );
    let blob: Handle<Blob> = c.add_object(Blob::new(vec![1; 4000])).unwrap();
    c.add_object(Counter::new()).unwrap();
    w.add_node_at(C, node(c));
    w.add_node_at(S1, server(6));
    await_registered(&mut w, C, S1, 1, Duration::from_secs(10), SEED);
    let op = request(&mut w, S1, C, Req::observe("/1100/0/0"));
    w.await_op::<ScriptedServer>(S1, op, Duration::from_secs(10))
        .unwrap();
    let first = srv(&w, S1).response(op).unwrap().clone();
    assert_eq!((first.blocks, first.payload.len()), (4, 4000));
    assert!(first.observe.is_some() && srv(&w, S1).is_observing(op));
    {
        let c = &mut cn_mut(&mut w, C).client;
        c.object_mut(blob).unwrap().set_data(0, vec![2; 4000]);
        c.notify_changed(Path::resource(1100, 0, 0));
    }
    w.flush();
    let end = w.now() + Duration::from_secs(10);
    w.run_until(end, |w| !srv(w, S1).notifications(op).is_empty())
        .unwrap();
    let n = &srv(&w, S1).notifications(op)[0];
    assert_eq!((n.code, n.blocks), (Code::CONTENT, 4));
    assert!(n.seq.is_some());
    assert!(n.payload == vec![2; 4000], "the whole new value");
}
