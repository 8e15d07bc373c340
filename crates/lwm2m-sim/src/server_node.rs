//! The bundled server ([`lwm2m_server::Server`], its sans-IO core) as a
//! simulation node, so tests can run the real server against real
//! clients in virtual time. Node addresses map to IPv4 socket addresses
//! (`Addr(n)` is `n` as an IPv4 address, port 5683) and back.
//!
//! Prefer it where a test is about behaviour between a client and a real
//! server (fleets, life cycles); keep [`crate::ScriptedServer`] for
//! wire-level checks and for provoking exact failures.

use std::net::{Ipv4Addr, SocketAddr};

use lwm2m_core::coap::{Block, Message};
use lwm2m_core::time::Instant;
use lwm2m_server::core::{FileSource, Operation, ReqId, RequestError, Response};
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

/// A request to the file server, as it arrived (retransmissions and
/// duplicates included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileGet {
    /// When it arrived.
    pub at: Instant,
    /// Who asked.
    pub from: Addr,
    /// The file name (the Uri-Path after the prefix).
    pub name: String,
    /// The Block2 option asked for, if any.
    pub block: Option<Block>,
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
    /// Requests to the file server, when it was enabled with
    /// [`ServerNode::serve_files`].
    pub file_gets: Vec<FileGet>,
    file_prefix: Option<String>,
}

impl ServerNode {
    /// A server with `config`, seeded from `seed`.
    pub fn new(config: ServerConfig, seed: u64) -> ServerNode {
        ServerNode {
            server: Server::new(config, seed),
            events: Vec::new(),
            unroutable: 0,
            file_gets: Vec::new(),
            file_prefix: None,
        }
    }

    /// With the file server on (`GET /fw/<name>`, Block2 and an ETag; see
    /// `lwm2m_server::core::files`), serving `source`; every file request
    /// that arrives is logged in [`ServerNode::file_gets`].
    pub fn serve_files(mut self, source: impl FileSource + 'static) -> ServerNode {
        self.server.set_file_source(Box::new(source));
        self.file_prefix = Some(self.server.config().file_prefix.clone());
        self
    }

    /// The distinct Block2 numbers of `name` asked for at or after `since`
    /// (a request without Block2 counts as block 0), in ascending order.
    pub fn blocks_asked(&self, name: &str, since: Instant) -> Vec<u32> {
        let mut nums: Vec<u32> = self
            .file_gets
            .iter()
            .filter(|g| g.at >= since && g.name == name)
            .map(|g| g.block.map_or(0, |b| b.num))
            .collect();
        nums.sort_unstable();
        nums.dedup();
        nums
    }

    fn log_file_get(&mut self, now: Instant, from: Addr, bytes: &[u8]) {
        let Some(prefix) = &self.file_prefix else {
            return;
        };
        let Ok(m) = Message::parse(bytes) else {
            return;
        };
        let mut path = m.uri_path();
        if !m.code().is_request() || path.next() != Some(prefix.as_bytes()) {
            return;
        }
        let name = path
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect::<Vec<_>>()
            .join("/");
        self.file_gets.push(FileGet {
            at: now,
            from,
            name,
            block: m.block2().and_then(Result::ok),
        });
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
        self.log_file_get(now, from, bytes);
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
