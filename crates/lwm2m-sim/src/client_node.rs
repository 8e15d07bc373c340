//! A sans-IO LwM2M client as a simulation node: links become addresses.

use std::collections::HashMap;

use lwm2m_core::client::{Client, Event, LinkId};
use lwm2m_core::time::Instant;

use crate::net::Addr;
use crate::world::Node;

/// A [`Client`] on the simulated network. Server URIs resolve through a
/// table of host names and ports to node addresses (`coap://server1:5683`
/// → `Addr(100)`); every event the client emits is kept for the test.
pub struct ClientNode {
    /// The client.
    pub client: Client,
    /// Host and port → address.
    pub dns: HashMap<(String, u16), Addr>,
    links: HashMap<LinkId, Addr>,
    /// Events emitted so far (Open / Close included).
    pub events: Vec<Event>,
    /// Datagrams that arrived from an address with no link (dropped).
    pub strays: u64,
}

impl ClientNode {
    /// Wraps `client`.
    pub fn new(client: Client) -> ClientNode {
        ClientNode {
            client,
            dns: HashMap::new(),
            links: HashMap::new(),
            events: Vec::new(),
            strays: 0,
        }
    }

    /// Resolves `host:port` to `addr`.
    pub fn resolve(mut self, host: &str, port: u16, addr: Addr) -> ClientNode {
        self.dns.insert((host.to_string(), port), addr);
        self
    }

    fn drain_events(&mut self, now: Instant) {
        while let Some(e) = self.client.poll_event() {
            match &e {
                Event::Open { link, uri } => match self.dns.get(&(uri.host.clone(), uri.port)) {
                    Some(a) => {
                        self.links.insert(*link, *a);
                    }
                    None => self.client.link_failed(now, *link),
                },
                Event::Close { link } => {
                    self.links.remove(link);
                }
                _ => {}
            }
            self.events.push(e);
        }
    }

    /// Swaps in `client` (a restarted device) and returns the old one. The
    /// old client's links are gone with it: datagrams still on their way to
    /// them arrive as strays. The events seen so far are kept.
    pub fn replace_client(&mut self, client: Client) -> Client {
        self.links.clear();
        std::mem::replace(&mut self.client, client)
    }

    /// Whether `e` was emitted.
    pub fn saw(&self, e: &Event) -> bool {
        self.events.contains(e)
    }
}

impl Node for ClientNode {
    fn handle_datagram(&mut self, now: Instant, from: Addr, bytes: &[u8]) {
        // A connected UDP socket only receives from its server: the driver's
        // filtering, reproduced here.
        let link = self
            .links
            .iter()
            .find(|(_, a)| **a == from)
            .map(|(l, _)| *l);
        match link {
            Some(l) => self.client.handle_datagram(now, l, bytes),
            None => self.strays += 1,
        }
        self.drain_events(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
        self.drain_events(now);
        loop {
            let t = self.client.poll_transmit(buf)?;
            if let Some(a) = self.links.get(&t.link) {
                return Some((*a, t.len));
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.client.handle_timeout(now);
        self.drain_events(now);
    }
}
