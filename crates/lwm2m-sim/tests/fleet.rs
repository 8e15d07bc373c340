//! A fleet in one process: 100 simulated clients registering with one
//! bundled server (`lwm2m-server`'s real core as a simulation node) over a
//! lossy network, in virtual time. Everything must be registered within a
//! bounded virtual time and number of events; the server then reads every
//! client and keeps every registration alive through Updates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::dm::Path;
use lwm2m_core::time::Duration;
use lwm2m_server::core::Operation;
use lwm2m_sim::objects::Sensor;
use lwm2m_sim::{Account, Addr, LinkProfile, ServerNode, World};

const CLIENTS: u32 = 100;

fn fleet(seed: u64, profile: LinkProfile) -> World {
    let mut w = World::new(seed, profile);
    for i in 0..CLIENTS {
        let account = Account::new(1, "coap://s1:5683").lifetime(120);
        let mut c = client(
            &w,
            &format!("dev-{i:03}"),
            seed * 1000 + u64::from(i),
            &[account],
            false,
        );
        c.add_object(Sensor::new(f64::from(i))).unwrap();
        w.add_node_at(Addr(1000 + i), node(c));
    }
    w.add_node_at(S1, ServerNode::dm(seed));
    w
}

fn server(w: &World) -> &ServerNode {
    w.node::<ServerNode>(S1).unwrap()
}

fn all_registered(w: &World) -> bool {
    (0..CLIENTS).all(|i| {
        cn(w, Addr(1000 + i)).client.is_registered(1)
            && server(w).is_registered(&format!("dev-{i:03}"))
    })
}

/// 100 clients, 5% loss and up to 50 ms of delay: all registered within a
/// minute of virtual time and 10,000 events; every one answers a Read;
/// ten minutes later (five Update rounds) all are still registered.
#[test]
fn hundred_clients_register_with_one_server() {
    let seed = 1;
    let mut w = fleet(
        seed,
        LinkProfile::lossy(0.05).with_delay(Duration::from_millis(1), Duration::from_millis(50)),
    );
    let end = w.now() + Duration::from_secs(60);
    w.run_until(end, |w| all_registered(w))
        .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
    assert!(w.steps() < 10_000, "{} events", w.steps());
    assert_eq!(server(&w).server.registrations().count(), CLIENTS as usize);

    let value = Path::resource(3303, 0, 5700);
    let ids: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let op = Operation::Read {
                path: value,
                accept: None,
            };
            w.with::<ServerNode, _>(S1, |s, now| s.request(now, &format!("dev-{i:03}"), op))
                .unwrap()
                .unwrap()
        })
        .collect();
    let end = w.now() + Duration::from_secs(120);
    w.run_until(end, |w| {
        ids.iter().all(|id| server(w).response(*id).is_some())
    })
    .unwrap();
    for (i, id) in ids.iter().enumerate() {
        let r = server(&w).response(*id).unwrap().as_ref().unwrap();
        let v = r.entries().iter().find(|e| e.path == value).unwrap();
        assert_eq!(v.value.as_f64(), Some(i as f64), "dev-{i:03}");
    }

    w.run_for(Duration::from_secs(600)).unwrap();
    assert!(all_registered(&w), "registrations kept alive by Updates");
}

/// The same fleet under 30% loss with duplication: slower, still all
/// registered within the bound.
#[test]
fn hundred_clients_register_under_heavy_loss() {
    let seed = 2;
    let profile = LinkProfile::lossy(0.3)
        .with_duplicate(0.1)
        .with_reorder(0.1, Duration::from_millis(60));
    let mut w = fleet(seed, profile);
    let end = w.now() + Duration::from_secs(1800);
    w.run_until(end, |w| all_registered(w))
        .unwrap_or_else(|e| panic!("seed {seed}: {e:?} at {:?}", w.now()));
    assert!(w.steps() < 100_000, "{} events", w.steps());
}
