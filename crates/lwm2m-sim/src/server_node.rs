//! The bundled server ([`lwm2m_server::Server`], its sans-IO core) as a
//! simulation node, so tests can run the real server against real
//! clients in virtual time. Node addresses map to IPv4 socket addresses
//! (`Addr(n)` is `n` as an IPv4 address, port 5683) and back.
//!
//! Prefer it where a test is about behaviour between a client and a real
//! server (fleets, life cycles); keep [`crate::ScriptedServer`] for
//! wire-level checks and for provoking exact failures.

use std::net::{Ipv4Addr, SocketAddr};

use lwm2m_core::time::Instant;
use lwm2m_server::core::{Operation, ReqId, RequestError, Response};
use lwm2m_server::{Server, ServerConfig, ServerEvent};

use crate::net::Addr;
use crate::world::Node;

/// The socket address a node has for the bundled server.
pub fn sock(a: Addr) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::from(a.0), 5683))
}

/// The node address of a socket address from [`sock`].
pub fn addr_of(s: SocketAddr) -> Option<Addr> {
    match s {
        SocketAddr::V4(v4) => Some(Addr(u32::from(*v4.ip()))),
        SocketAddr::V6(_) => None,
    }
}

/// The bundled server on the simulated network; every event it emits is
/// kept with its instant.
pub struct ServerNode {
    /// The server core.
    pub server: Server,
    /// Events so far.
    pub events: Vec<(Instant, ServerEvent)>,
    /// Datagrams for addresses that are not simulation nodes (dropped).
    pub unroutable: u64,
}

impl ServerNode {
    /// A server with `config`, seeded from `seed`.
    pub fn new(config: ServerConfig, seed: u64) -> ServerNode {
        ServerNode {
            server: Server::new(config, seed),
            events: Vec::new(),
            unroutable: 0,
        }
    }

    /// A DM server with the default configuration.
    pub fn dm(seed: u64) -> ServerNode {
        ServerNode::new(ServerConfig::dm(), seed)
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.server.poll_event() {
            self.events.push((now, e));
        }
    }

    /// Sends `op` to the registered client `endpoint`.
    pub fn request(
        &mut self,
        now: Instant,
        endpoint: &str,
        op: Operation,
    ) -> Result<ReqId, RequestError> {
        let r = self.server.request(now, endpoint, op);
        self.drain(now);
        r
    }

    /// Whether `endpoint` is registered.
    pub fn is_registered(&self, endpoint: &str) -> bool {
        self.server.registration(endpoint).is_some()
    }

    /// The outcome of request `id`, once it came.
    pub fn response(&self, id: ReqId) -> Option<&Result<Response, RequestError>> {
        self.events.iter().find_map(|(_, e)| match e {
            ServerEvent::Response {
                request, result, ..
            } if *request == id => Some(result),
            _ => None,
        })
    }

    /// The notifications of observation `id`: arrival and event.
    pub fn notifications(&self, id: ReqId) -> Vec<&(Instant, ServerEvent)> {
        self.events
            .iter()
            .filter(|(_, e)| {
                matches!(e, ServerEvent::Notification { observation, .. } if *observation == id)
            })
            .collect()
    }
}

impl Node for ServerNode {
    fn handle_datagram(&mut self, now: Instant, from: Addr, bytes: &[u8]) {
        self.server.handle_datagram(now, sock(from), bytes);
        self.drain(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
        loop {
            let (to, n) = self.server.poll_transmit(now, buf)?;
            match addr_of(to) {
                Some(a) => return Some((a, n)),
                None => self.unroutable += 1,
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.server.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
        self.drain(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_both_ways() {
        for a in [Addr(1), Addr(100), Addr(0x0a00_0001), Addr(u32::MAX)] {
            assert_eq!(addr_of(sock(a)), Some(a));
        }
    }
}
