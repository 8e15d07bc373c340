//! N sans-IO clients in one process, registered with the bundled server's
//! core over an in-memory network: heap bytes per registered client.

use std::net::SocketAddr;

use lwm2m::core::client::{Client, Event};
use lwm2m::core::config::Config;
use lwm2m::core::time::Instant;
use lwm2m_server::{ServerConfig, core::Server};

use crate::{GLOBAL, Result, objects};

fn live() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

/// Client `i`'s made-up address.
fn addr(i: usize) -> SocketAddr {
    let i = i as u32;
    SocketAddr::from(([127, (i >> 16) as u8, (i >> 8) as u8, i as u8], 5683))
}

/// Creates `n` clients, registers each, and prints the heap they hold.
pub fn run(n: usize) -> Result<()> {
    let now = Instant::from_secs(1);
    let base = live();
    let mut clients: Vec<Client> = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = Client::new(Config::new(&format!("fleet-{i:07}")), now, i as u64 + 1)
            .map_err(|e| format!("{e:?}"))?;
        let (sec, srv) = objects::account("coap://127.0.0.1:5683");
        c.add_object(sec)
            .and_then(|_| c.add_object(srv))
            .and_then(|_| c.add_object(objects::device()))
            .map_err(|e| format!("{e:?}"))?;
        clients.push(c);
    }
    let created = live();
    let mut cfg = ServerConfig::dm();
    cfg.limits.max_registrations = n + 16;
    cfg.limits.max_peers = n + 16;
    let mut server = Server::new(cfg, 3);
    let mut buf = vec![0u8; 2048];
    let mut registered = 0usize;
    for (i, c) in clients.iter_mut().enumerate() {
        c.handle_timeout(now);
        let mut link = None;
        while let Some(e) = c.poll_event() {
            if let Event::Open { link: l, .. } = e {
                link = Some(l);
            }
        }
        let link = link.ok_or("no link")?;
        while let Some(t) = c.poll_transmit(&mut buf) {
            server.handle_datagram(now, addr(i), buf.get(..t.len).unwrap_or(&[]));
        }
        while let Some((_, len)) = server.poll_transmit(now, &mut buf) {
            c.handle_datagram(now, link, buf.get(..len).unwrap_or(&[]));
        }
        while server.poll_event().is_some() {}
        while let Some(e) = c.poll_event() {
            if matches!(e, Event::Registered { .. }) {
                registered += 1;
            }
        }
    }
    let with_server = live();
    drop(server);
    let after = live();
    let per = |b: i64| b as f64 / n as f64;
    println!(
        "\nFleet: {n} sans-IO clients in one process, {registered} registered (no floor: a memory figure)"
    );
    println!(
        "  heap per registered client: {:.0} B ({:.0} B when created, before registering; Client value {} B of it)",
        per(after - base),
        per(created - base),
        std::mem::size_of::<Client>()
    );
    println!(
        "  bundled server core: {:.0} B per registration",
        per(with_server - after)
    );
    drop(clients);
    Ok(())
}
