//! Scaffolding shared by the simulation tests: worlds with clients and
//! scripted servers at fixed addresses, and helpers that fail with the seed.
#![allow(dead_code)]

use lwm2m_core::client::Client;
use lwm2m_core::config::Config;
use lwm2m_core::time::{Duration, Instant};
use lwm2m_sim::{
    Account, Addr, ClientNode, LinkProfile, OpId, Req, Response, ScriptedServer, World, setup,
};

/// Address of the first DM server (`coap://s1:5683`).
pub const S1: Addr = Addr(100);
/// Address of the second DM server (`coap://s2:5683`).
pub const S2: Addr = Addr(200);
/// Address of the Bootstrap-Server (`coap://bs:5683`).
pub const BS: Addr = Addr(300);
/// Address of the first client.
pub const C: Addr = Addr(1);

/// A perfect link without delay: arrival instants equal send instants.
pub fn instant_link() -> LinkProfile {
    LinkProfile::perfect().with_delay(Duration::ZERO, Duration::ZERO)
}

/// A client node resolving s1, s2 and bs.
pub fn node(client: Client) -> ClientNode {
    ClientNode::new(client)
        .resolve("s1", 5683, S1)
        .resolve("s2", 5683, S2)
        .resolve("bs", 5683, BS)
}

/// A client `name` for `accounts` (and optionally the Bootstrap-Server).
pub fn client(w: &World, name: &str, seed: u64, accounts: &[Account], bs: bool) -> Client {
    setup::client(
        Config::new(name),
        w.now(),
        seed,
        accounts,
        bs.then_some("coap://bs:5683"),
    )
    .unwrap()
}

/// The client node at `addr`.
pub fn cn(w: &World, addr: Addr) -> &ClientNode {
    w.node::<ClientNode>(addr).unwrap()
}

/// The client node at `addr`, mutably (flush the world afterwards).
pub fn cn_mut(w: &mut World, addr: Addr) -> &mut ClientNode {
    w.node_mut::<ClientNode>(addr).unwrap()
}

/// The scripted server at `addr`.
pub fn srv(w: &World, addr: Addr) -> &ScriptedServer {
    w.node::<ScriptedServer>(addr).unwrap()
}

/// Runs until the client at `c` is registered with `ssid` (and the server
/// at `s` knows it), within `within`.
#[track_caller]
pub fn await_registered(w: &mut World, c: Addr, s: Addr, ssid: u16, within: Duration, seed: u64) {
    let end = w.now() + within;
    let r = w.run_until(end, |w| {
        cn(w, c).client.is_registered(ssid) && srv(w, s).is_registered(c)
    });
    assert_eq!(
        r,
        Ok(()),
        "seed {seed}: client {c:?} not registered with {ssid} by {end:?}"
    );
}

/// Issues `req` from server `s` to client `c`.
pub fn request(w: &mut World, s: Addr, c: Addr, req: Req) -> OpId {
    w.request::<ScriptedServer>(s, c, req).unwrap()
}

/// Issues `req` and runs until its response arrives (within 300 s).
#[track_caller]
pub fn roundtrip(w: &mut World, s: Addr, c: Addr, req: Req) -> Response {
    let what = format!("{} /{}", req.method, req.path.join("/"));
    let op = request(w, s, c, req);
    let r = w.await_op::<ScriptedServer>(s, op, Duration::from_secs(300));
    assert_eq!(r, Ok(()), "{what} did not complete");
    match srv(w, s).outcome(op).unwrap() {
        Ok(resp) => resp.clone(),
        Err(e) => panic!("{what} failed: {e:?}"),
    }
}

/// Virtual instant `secs` seconds after `t`.
pub fn after(t: Instant, secs: u64) -> Instant {
    t + Duration::from_secs(secs)
}

/// A client with `config` for `accounts` (and optionally the
/// Bootstrap-Server).
pub fn client_cfg(w: &World, config: Config, seed: u64, accounts: &[Account], bs: bool) -> Client {
    setup::client(
        config,
        w.now(),
        seed,
        accounts,
        bs.then_some("coap://bs:5683"),
    )
    .unwrap()
}

/// Two servers s1 (SSID 1) and s2 (SSID 2).
pub fn two_accounts() -> [Account; 2] {
    [
        Account::new(1, "coap://s1:5683"),
        Account::new(2, "coap://s2:5683"),
    ]
}

/// A link with a fixed one-way delay of `ms` milliseconds.
pub fn delayed_link(ms: u64) -> LinkProfile {
    let d = Duration::from_millis(ms);
    LinkProfile::perfect().with_delay(d, d)
}

/// Runs the world up to exactly `t` (events at `t` included).
#[track_caller]
pub fn run_to(w: &mut World, t: Instant) {
    assert!(w.now() <= t, "{:?} is past {t:?}", w.now());
    let _ = w.run_until(t, |_| false);
    assert_eq!(w.now(), t);
}
