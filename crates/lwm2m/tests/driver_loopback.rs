//! The std driver over real loopback UDP: a scripted LwM2M server sees the
//! whole life of a client run by `event_loop_run` in its own thread —
//! Register, a Read it sends, the Update it triggers, and the De-register
//! of `shutdown` after an interrupt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod driver_common;

use std::sync::mpsc;
use std::thread;

use driver_common::*;
use lwm2m::core::client::Event;
use lwm2m::core::coap::{Code, MsgType};
use lwm2m::{DriverStats, Exit};

/// What the client thread reports once it has stopped.
struct Outcome {
    clean: bool,
    events: Vec<Event>,
    stats: DriverStats,
}

/// Runs a client for `uri` in a thread until interrupted, then shuts it
/// down. The driver is built inside the thread: a `Client` holds
/// `dyn Object`s, which are not `Send`.
fn spawn_client(ep: &'static str, uri: String) -> (lwm2m::Interrupt, thread::JoinHandle<Outcome>) {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let mut d = driver(ep, &uri, 300);
        tx.send(d.interrupt_handle()).unwrap();
        let exit = d.event_loop_run(DEADLINE).unwrap();
        let mut events: Vec<Event> = std::iter::from_fn(|| d.poll_event()).collect();
        assert_eq!(exit, Exit::Interrupted, "never interrupted");
        let clean = d.shutdown(DEADLINE).unwrap();
        events.extend(std::iter::from_fn(|| d.poll_event()));
        Outcome {
            clean,
            events,
            stats: d.stats(),
        }
    });
    (rx.recv_timeout(DEADLINE).unwrap(), t)
}

#[test]
fn register_read_update_deregister() {
    let mut server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let (stop, client) = spawn_client("loopback-ep", server.uri());

    // Register (Core 1.1 §6.2.1): POST /rd?ep&lt&lwm2m&b with the object list.
    let reg = server.expect("Register", is_register);
    let q = queries(&reg.msg());
    for want in ["ep=loopback-ep", "lt=300", "lwm2m=1.1", "b=U"] {
        assert!(q.iter().any(|x| x == want), "{want} missing from {q:?}");
    }
    let list = String::from_utf8_lossy(reg.msg().payload()).into_owned();
    assert!(list.contains("</3/0>"), "object list {list}");
    server.ack(&reg, Code::CREATED, &["rd", "a1"]);

    // A Read from the server is answered (piggybacked 2.05).
    server.request(reg.from, Code::GET, &["3", "0", "0"], b"read");
    let resp = server.expect("2.05 to GET /3/0/0", |m| m.token_bytes() == b"read");
    let m = resp.msg();
    assert_eq!((m.mtype(), m.code()), (MsgType::Ack, Code::CONTENT));
    let body = String::from_utf8_lossy(m.payload());
    assert!(body.contains(MANUFACTURER), "payload {body:?}");

    // Registration Update Trigger (Execute /1/0/8) → 2.04, then an Update.
    server.request(reg.from, Code::POST, &["1", "0", "8"], b"exec");
    let resp = server.expect("2.04 to Execute /1/0/8", |m| m.token_bytes() == b"exec");
    assert_eq!(resp.msg().code(), Code::CHANGED);
    let upd = server.expect("Update", |m| {
        m.code() == Code::POST && path_is(m, &["rd", "a1"])
    });
    server.ack(&upd, Code::CHANGED, &[]);

    // Interrupt → shutdown → De-register (Core 1.1 §6.2.3).
    stop.interrupt();
    let dereg = server.expect("De-register", |m| {
        m.code() == Code::DELETE && path_is(m, &["rd", "a1"])
    });
    server.ack(&dereg, Code::DELETED, &[]);

    let out = client.join().unwrap();
    assert!(out.clean, "shutdown did not finish: {:?}", out.events);
    for want in [
        Event::Registered { ssid: 1 },
        Event::Updated { ssid: 1 },
        Event::Deregistered { ssid: 1 },
    ] {
        assert!(
            out.events.contains(&want),
            "{want:?} not in {:?}",
            out.events
        );
    }
    assert_eq!(out.stats.link_failures, 0, "{:?}", out.stats);
}

#[test]
fn registers_over_ipv6_loopback() {
    let Ok(mut server) = ScriptedServer::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let (stop, client) = spawn_client("loopback-v6", server.uri());
    let reg = server.expect("Register over IPv6", is_register);
    assert!(reg.from.is_ipv6());
    server.ack(&reg, Code::CREATED, &["rd", "v6"]);

    // A request proves the registered link is served, then stop.
    server.request(reg.from, Code::GET, &["3", "0", "0"], b"v6");
    let resp = server.expect("2.05 over IPv6", |m| m.token_bytes() == b"v6");
    assert_eq!(resp.msg().code(), Code::CONTENT);
    stop.interrupt();
    let dereg = server.expect("De-register over IPv6", |m| m.code() == Code::DELETE);
    server.ack(&dereg, Code::DELETED, &[]);
    let out = client.join().unwrap();
    assert!(out.clean);
    assert!(out.events.contains(&Event::Registered { ssid: 1 }));
}
