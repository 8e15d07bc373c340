//! A small CoAP server on `lwm2m_core::coap::Endpoint` over a real UDP
//! socket, for interoperability tests with independent clients (libcoap's
//! `coap-client`). Not LwM2M: plain CoAP resources.
//!
//! Resources:
//! - `GET /large`: a 3000-byte text, served block-wise (RFC 7959 Block2);
//! - `PUT /store` (Block1 accepted) then `GET /store`: stores and returns a body;
//! - `GET /obs` with Observe: a counter notified every 300 ms (RFC 7641);
//! - `GET /count`: how many times it was served (shows de-duplication).
//!
//! Run: `cargo run -p lwm2m --example coap_test_server -- 127.0.0.1:5683`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lwm2m_core::coap::endpoint::Received;
use lwm2m_core::coap::{
    Block1Mode, Block1Outcome, Code, EmitError, Endpoint, Limits, Request, ResponseBuilder, Token,
    TransmissionParams, option,
};
use lwm2m_core::time::Instant;

/// The 3000-byte body of `/large`.
pub fn large_body() -> Vec<u8> {
    (0..3000u32)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

struct Server {
    socket: UdpSocket,
    start: std::time::Instant,
    peers: HashMap<SocketAddr, Endpoint>,
    store: Vec<u8>,
    count: u32,
    observers: Vec<(SocketAddr, Token)>,
    tick: u32,
    next_notify: Instant,
}

fn write_body(r: &mut ResponseBuilder<'_>, body: &[u8]) -> Result<(), EmitError> {
    r.uint_option(option::CONTENT_FORMAT, 0)?;
    if r.payload()?.put(body).is_err() {
        r.large_payload()?.put(body)?;
    }
    Ok(())
}

impl Server {
    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    fn endpoint(&mut self, peer: SocketAddr) -> &mut Endpoint {
        let n = self.peers.len() as u64;
        self.peers.entry(peer).or_insert_with(|| {
            let mut limits = Limits::default();
            limits.block1_max_body = 64 * 1024;
            Endpoint::new(TransmissionParams::default(), limits, 0xc0a9 + n)
        })
    }

    fn on_request(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let path: Vec<&[u8]> = req.msg.uri_path().collect();
        let code = req.msg.code();
        let id = req.id;
        match (code, path.as_slice()) {
            (Code::GET, [b"large"]) => {
                let body = large_body();
                let ep = self.endpoint(peer);
                let _ = ep.respond(now, &id, Code::CONTENT, |r| write_body(r, &body));
            }
            (Code::GET, [b"store"]) => {
                let body = self.store.clone();
                let ep = self.endpoint(peer);
                let _ = ep.respond(now, &id, Code::CONTENT, |r| write_body(r, &body));
            }
            (Code::PUT, [b"store"]) => {
                let ep = self.peers.get_mut(&peer).unwrap();
                match ep.block1(now, &req, Block1Mode::Assemble) {
                    Ok(Block1Outcome::Continue) => {
                        let _ = ep.respond(now, &id, Code::CONTINUE, |_| Ok::<(), EmitError>(()));
                    }
                    Ok(Block1Outcome::Complete { .. }) => {
                        self.store = ep.block1_body(&id).unwrap_or_default().to_vec();
                        let _ = ep.respond(now, &id, Code::CHANGED, |_| Ok::<(), EmitError>(()));
                    }
                    Ok(Block1Outcome::Chunk { bytes, .. }) => {
                        self.store = bytes.to_vec();
                        let _ = ep.respond(now, &id, Code::CHANGED, |_| Ok::<(), EmitError>(()));
                    }
                    Err(e) => {
                        let _ = ep.respond(now, &id, e.code(), |_| Ok::<(), EmitError>(()));
                    }
                }
            }
            (Code::GET, [b"obs"]) => {
                let tick = self.tick;
                let ep = self.peers.get_mut(&peer).unwrap();
                if id.observe() == Some(0) && ep.observe(&id).is_ok() {
                    self.observers
                        .retain(|(p, t)| !(*p == peer && *t == id.token()));
                    self.observers.push((peer, id.token()));
                }
                let body = format!("n={tick}");
                let _ = ep.respond(now, &id, Code::CONTENT, |r| write_body(r, body.as_bytes()));
            }
            (Code::GET, [b"count"]) => {
                self.count += 1;
                let body = format!("{}", self.count);
                let ep = self.endpoint(peer);
                let _ = ep.respond(now, &id, Code::CONTENT, |r| write_body(r, body.as_bytes()));
            }
            _ => {
                let ep = self.endpoint(peer);
                let _ = ep.respond(now, &id, Code::NOT_FOUND, |_| Ok::<(), EmitError>(()));
            }
        }
    }

    fn notify(&mut self, now: Instant) {
        self.tick += 1;
        let body = format!("n={}", self.tick);
        let con = self.tick.is_multiple_of(3);
        let mut gone = Vec::new();
        for (peer, token) in &self.observers {
            let Some(ep) = self.peers.get_mut(peer) else {
                continue;
            };
            let r = ep.notify(now, *token, Code::CONTENT, con, |r| {
                write_body(r, body.as_bytes())
            });
            if r.is_err() {
                gone.push((*peer, *token));
            }
        }
        self.observers.retain(|o| !gone.contains(o));
    }

    fn flush(&mut self, now: Instant) {
        let mut buf = [0u8; 1500];
        for (peer, ep) in &mut self.peers {
            while let Some(n) = ep.poll_transmit(now, &mut buf) {
                let _ = self.socket.send_to(&buf[..n], peer);
            }
            while ep.poll_event().is_some() {}
        }
    }

    fn run(&mut self, stop: &AtomicBool) {
        let mut buf = [0u8; 1500];
        while !stop.load(Ordering::Relaxed) {
            match self.socket.recv_from(&mut buf) {
                Ok((n, peer)) => {
                    let now = self.now();
                    let dgram = buf[..n].to_vec();
                    let ep = self.endpoint(peer);
                    if let Received::Request(req) = ep.handle_datagram(now, &dgram) {
                        self.on_request(now, peer, req);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {}
            }
            let now = self.now();
            for ep in self.peers.values_mut() {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                }
            }
            if now >= self.next_notify {
                self.notify(now);
                self.next_notify = now + Duration::from_millis(300);
            }
            self.flush(now);
        }
    }
}

/// Serves on `socket` until `stop` is set (polling it every 20 ms).
pub fn serve(socket: UdpSocket, stop: Arc<AtomicBool>) {
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut s = Server {
        socket,
        start: std::time::Instant::now(),
        peers: HashMap::new(),
        store: Vec::new(),
        count: 0,
        observers: Vec::new(),
        tick: 0,
        next_notify: Instant::ZERO,
    };
    s.run(&stop);
}

#[allow(dead_code)]
fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5683".into());
    let socket = UdpSocket::bind(&addr).expect("bind");
    eprintln!("coap_test_server on {}", socket.local_addr().unwrap());
    serve(socket, Arc::new(AtomicBool::new(false)));
}
