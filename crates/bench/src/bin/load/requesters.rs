//! The requesters of the cases: prebuilt datagrams (raw), the bundled
//! server's core, and a sans-IO client registering.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;

use lwm2m::core::client::{Client, Event, LinkId};
use lwm2m::core::coap::{Block, Code, EmitError, MessageBuilder, MsgType, option};
use lwm2m::core::config::Config;
use lwm2m_server::core::{Operation, Server, ServerEvent};

use crate::harness::{Io, Requester};
use crate::objects;

/// CoAP message type of a datagram's first byte.
fn mtype(bytes: &[u8]) -> Option<u8> {
    bytes.first().map(|b| (b >> 4) & 3)
}

fn mid_of(bytes: &[u8]) -> Option<u16> {
    match bytes.get(2..4) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// Writes `mid` into a datagram's header.
fn set_mid(buf: &mut [u8], mid: u16) {
    if let Some(m) = buf.get_mut(2..4) {
        m.copy_from_slice(&mid.to_be_bytes());
    }
}

/// Writes `seq` into the token of a datagram (its first up to 4 bytes), so
/// that every request in flight has its own.
fn set_token(buf: &mut [u8], seq: usize) {
    let tkl = usize::from(buf.first().map_or(0, |b| b & 0x0f)).min(4);
    let seq = (seq as u32).to_be_bytes();
    if let (Some(t), Some(s)) = (buf.get_mut(4..4 + tkl), seq.get(4 - tkl..)) {
        t.copy_from_slice(s);
    }
}

const ACK: u8 = 2;

/// Writes request `seq` into the buffer.
type Make = Box<dyn FnMut(usize, &mut Vec<u8>)>;

/// Prebuilt Confirmable requests, matched to their piggybacked answers
/// (or the echo's) by message ID.
pub struct Raw {
    peer: SocketAddr,
    make: Make,
    buf: Vec<u8>,
    /// By message ID: the request's `seq + 1`, 0 when none is in flight.
    slots: Vec<u32>,
    mid_base: u16,
    expect: Option<Code>,
    errors: u64,
    /// Length of the latest answer.
    pub answer_len: usize,
}

impl Raw {
    /// Requests made by `make(seq, buf)` (the header's message ID and token
    /// are overwritten), sent to `peer`; `expect` is the answer's code
    /// (`None` for the echo, which answers garbage of the right size).
    pub fn new(
        peer: SocketAddr,
        mid_base: u16,
        expect: Option<Code>,
        make: impl FnMut(usize, &mut Vec<u8>) + 'static,
    ) -> Raw {
        Raw {
            peer,
            make: Box::new(make),
            buf: Vec::with_capacity(2048),
            slots: vec![0; 65_536],
            mid_base,
            expect,
            errors: 0,
            answer_len: 0,
        }
    }

    /// Copies of `template` with a new message ID and token each.
    pub fn template(
        peer: SocketAddr,
        mid_base: u16,
        expect: Option<Code>,
        template: Vec<u8>,
    ) -> Raw {
        Raw::new(peer, mid_base, expect, move |_, buf| {
            buf.clear();
            buf.extend_from_slice(&template);
        })
    }
}

impl Requester for Raw {
    fn start(&mut self, io: &mut Io, seq: usize) -> io::Result<()> {
        (self.make)(seq, &mut self.buf);
        let mid = self.mid_base.wrapping_add(seq as u16);
        set_mid(&mut self.buf, mid);
        set_token(&mut self.buf, seq);
        if let Some(s) = self.slots.get_mut(usize::from(mid)) {
            *s = seq as u32 + 1;
        }
        io.send(self.peer, &self.buf)
    }

    fn datagram(
        &mut self,
        _: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        done: &mut Vec<usize>,
    ) -> io::Result<()> {
        if from != self.peer || mtype(bytes) != Some(ACK) {
            return Ok(());
        }
        let Some(slot) = mid_of(bytes).and_then(|m| self.slots.get_mut(usize::from(m))) else {
            return Ok(());
        };
        if *slot == 0 {
            return Ok(());
        }
        let seq = *slot as usize - 1;
        *slot = 0;
        if let Some(c) = self.expect
            && bytes.get(1) != Some(&c.0)
        {
            self.errors += 1;
        }
        self.answer_len = bytes.len();
        done.push(seq);
        Ok(())
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}

/// Block1 writes (RFC 7959 §2.5) of `body` to `path`, one block in flight,
/// each followed by a Write of an empty value (which puts the Firmware
/// Update object back to Idle, OMA LwM2M Core 1.1 E.6, ready for the next
/// package): each request of the harness is one whole transfer and its
/// reset.
pub struct RawBlock1 {
    peer: SocketAddr,
    path: Vec<Vec<u8>>,
    body: &'static [u8],
    szx: u8,
    mid: u16,
    /// The transfer in progress: its seq and the block in flight (the
    /// number of blocks for the reset).
    cur: Option<(usize, u32)>,
    buf: Vec<u8>,
    echo: bool,
    errors: u64,
    /// Datagram sizes seen: (first block request, continue answer).
    pub sizes: (usize, usize),
}

impl RawBlock1 {
    /// Transfers of `body` to `path` (`/oid/iid/rid`) in blocks of
    /// 2^(szx+4) bytes; `echo` when the peer is the echo (no code check).
    pub fn new(
        peer: SocketAddr,
        path: &str,
        body: &'static [u8],
        szx: u8,
        echo: bool,
        mid: u16,
    ) -> RawBlock1 {
        RawBlock1 {
            peer,
            path: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            body,
            szx,
            mid,
            cur: None,
            buf: vec![0; 2048],
            echo,
            errors: 0,
            sizes: (0, 0),
        }
    }

    fn block_len(&self) -> usize {
        1usize << (self.szx + 4)
    }

    fn blocks(&self) -> u32 {
        self.body.len().div_ceil(self.block_len()) as u32
    }

    /// Sends block `num` of transfer `seq`, or the empty Write when `num`
    /// is past the last block.
    fn send(&mut self, io: &mut Io, seq: usize, num: u32) -> io::Result<()> {
        self.mid = self.mid.wrapping_add(1);
        let len = self.block_len();
        let reset = num >= self.blocks();
        let start = num as usize * len;
        let chunk = if reset {
            &[][..]
        } else {
            self.body
                .get(start..(start + len).min(self.body.len()))
                .unwrap_or(&[])
        };
        let more = num + 1 < self.blocks();
        let token = (seq as u32).to_be_bytes();
        let n = {
            let mut b =
                MessageBuilder::new(&mut self.buf, MsgType::Con, Code::PUT, self.mid, &token)
                    .map_err(|e| io::Error::other(format!("{e:?}")))?;
            let emit = |b: &mut MessageBuilder<'_>| -> Result<(), EmitError> {
                for seg in &self.path {
                    b.option(option::URI_PATH, seg)?;
                }
                b.uint_option(option::CONTENT_FORMAT, 42)?;
                if reset {
                    return Ok(());
                }
                b.block_option(
                    option::BLOCK1,
                    Block {
                        num,
                        more,
                        szx: self.szx,
                    },
                )?;
                if num == 0 {
                    b.uint_option(option::SIZE1, self.body.len() as u32)?;
                }
                b.payload(chunk)?;
                Ok(())
            };
            emit(&mut b).map_err(|e| io::Error::other(format!("{e:?}")))?;
            b.finish()
        };
        if num == 0 {
            self.sizes.0 = n;
        }
        self.cur = Some((seq, num));
        io.send(self.peer, self.buf.get(..n).unwrap_or(&[]))
    }
}

impl Requester for RawBlock1 {
    fn start(&mut self, io: &mut Io, seq: usize) -> io::Result<()> {
        self.send(io, seq, 0)
    }

    fn datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        done: &mut Vec<usize>,
    ) -> io::Result<()> {
        let Some((seq, num)) = self.cur else {
            return Ok(());
        };
        if from != self.peer || mtype(bytes) != Some(ACK) || mid_of(bytes) != Some(self.mid) {
            return Ok(());
        }
        let more = num + 1 < self.blocks();
        if !self.echo {
            let want = if more { Code::CONTINUE } else { Code::CHANGED };
            if bytes.get(1) != Some(&want.0) {
                self.errors += 1;
                self.cur = None;
                done.push(seq);
                return Ok(());
            }
        }
        if more {
            self.sizes.1 = bytes.len();
        }
        if num < self.blocks() {
            return self.send(io, seq, num + 1);
        }
        self.cur = None;
        done.push(seq);
        Ok(())
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}

/// The bundled server's sans-IO core on the harness socket.
pub struct Srv {
    /// The core.
    pub core: Server,
    tx: Vec<u8>,
    /// Keep a copy of every datagram the core sends (probes only).
    pub capture: bool,
    /// The datagrams captured.
    pub captured: Vec<Vec<u8>>,
    /// Events other than responses, kept for the caller (bounded).
    pub events: VecDeque<ServerEvent>,
    /// Length of the latest CoAP datagram received.
    pub last_rx_len: usize,
}

impl Srv {
    /// A core with `config`.
    pub fn new(config: lwm2m_server::ServerConfig) -> Srv {
        Srv {
            core: Server::new(config, 0x5eed),
            tx: vec![0; 2048],
            capture: false,
            captured: Vec::new(),
            events: VecDeque::new(),
            last_rx_len: 0,
        }
    }

    /// Sends everything the core has to send.
    pub fn flush(&mut self, io: &mut Io) -> io::Result<()> {
        let now = io.now();
        while let Some((to, n)) = self.core.poll_transmit(now, &mut self.tx) {
            let d = self.tx.get(..n).unwrap_or(&[]);
            if self.capture {
                self.captured.push(d.to_vec());
            }
            io.send(to, d)?;
        }
        Ok(())
    }

    fn keep(&mut self, e: ServerEvent) {
        if self.events.len() >= 1024 {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }
}

impl Requester for Srv {
    fn start(&mut self, _: &mut Io, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        _: &mut Vec<usize>,
    ) -> io::Result<()> {
        if bytes.first().is_some_and(|b| b >> 6 == 1) {
            self.last_rx_len = bytes.len();
        }
        self.core.handle_datagram(io.now(), from, bytes);
        while let Some(e) = self.core.poll_event() {
            self.keep(e);
        }
        self.flush(io)
    }

    fn tick(&mut self, io: &mut Io) -> io::Result<()> {
        let now = io.now();
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_timeout(now);
            self.flush(io)?;
        }
        Ok(())
    }
}

/// Operations sent by the bundled server's core to a registered client.
pub struct ServerOp<'a> {
    srv: &'a mut Srv,
    endpoint: String,
    ops: Vec<Operation>,
    /// By the core's request handle: the harness's request and the index
    /// of the operation in `ops`.
    ids: HashMap<u64, (usize, usize)>,
    errors: u64,
}

impl<'a> ServerOp<'a> {
    /// `op` to `endpoint`, once per request.
    pub fn new(srv: &'a mut Srv, endpoint: &str, op: Operation) -> ServerOp<'a> {
        ServerOp::sequence(srv, endpoint, vec![op])
    }

    /// `ops` to `endpoint` one after the other, per request.
    pub fn sequence(srv: &'a mut Srv, endpoint: &str, ops: Vec<Operation>) -> ServerOp<'a> {
        ServerOp {
            srv,
            endpoint: endpoint.to_string(),
            ops,
            ids: HashMap::new(),
            errors: 0,
        }
    }

    fn submit(&mut self, io: &mut Io, seq: usize, step: usize) -> io::Result<()> {
        let op = self
            .ops
            .get(step)
            .cloned()
            .ok_or_else(|| io::Error::other("no operation"))?;
        let id = self
            .srv
            .core
            .request(io.now(), &self.endpoint, op)
            .map_err(|e| io::Error::other(format!("request refused: {e:?}")))?;
        self.ids.insert(id.0, (seq, step));
        self.srv.flush(io)
    }
}

impl Requester for ServerOp<'_> {
    fn start(&mut self, io: &mut Io, seq: usize) -> io::Result<()> {
        self.submit(io, seq, 0)
    }

    fn datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        done: &mut Vec<usize>,
    ) -> io::Result<()> {
        self.srv.core.handle_datagram(io.now(), from, bytes);
        let mut next = Vec::new();
        while let Some(e) = self.srv.core.poll_event() {
            match e {
                ServerEvent::Response {
                    request, result, ..
                } => {
                    if let Some((seq, step)) = self.ids.remove(&request.0) {
                        if result.is_err() {
                            self.errors += 1;
                        }
                        if result.is_ok() && step + 1 < self.ops.len() {
                            next.push((seq, step + 1));
                        } else {
                            done.push(seq);
                        }
                    }
                }
                other => self.srv.keep(other),
            }
        }
        for (seq, step) in next {
            self.submit(io, seq, step)?;
        }
        self.srv.flush(io)
    }

    fn tick(&mut self, io: &mut Io) -> io::Result<()> {
        self.srv.tick(io)
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}

/// A new sans-IO client per request, registering with the server at
/// `server` under `bench-c<seq % pool>`: Register + 2.01 with everything a
/// new client does before it (configuration, objects, the first datagram).
pub struct ClientReg {
    server: SocketAddr,
    pool: usize,
    uri: String,
    cur: Option<(usize, Client, LinkId)>,
    seed: u64,
    /// Message IDs of recent Registers: the server de-duplicates by peer
    /// and message ID, and every client here shares the harness's address.
    recent: VecDeque<u16>,
    tx: Vec<u8>,
    errors: u64,
    /// The latest Register datagram and the length of its answer.
    pub last: (Vec<u8>, usize),
}

impl ClientReg {
    /// Clients registering with `server` under `pool` names in turn.
    pub fn new(server: SocketAddr, pool: usize) -> ClientReg {
        ClientReg {
            server,
            pool: pool.max(1),
            uri: format!("coap://{server}"),
            cur: None,
            seed: 1,
            recent: VecDeque::new(),
            tx: vec![0; 2048],
            errors: 0,
            last: (Vec::new(), 0),
        }
    }

    /// The endpoint name of request `seq`: fixed width, so every Register
    /// has the same size.
    pub fn name(seq: usize) -> String {
        format!("bench-c{seq:08}")
    }
}

impl Requester for ClientReg {
    fn start(&mut self, io: &mut Io, seq: usize) -> io::Result<()> {
        loop {
            let now = io.now();
            self.seed += 1;
            let mut c = Client::new(
                Config::new(&ClientReg::name(seq % self.pool)),
                now,
                self.seed,
            )
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
            let (sec, srv) = objects::account(&self.uri);
            let added = c
                .add_object(sec)
                .and_then(|_| c.add_object(srv))
                .and_then(|_| c.add_object(objects::device()));
            added.map_err(|e| io::Error::other(format!("{e:?}")))?;
            c.handle_timeout(now);
            let mut link = None;
            while let Some(e) = c.poll_event() {
                if let Event::Open { link: l, .. } = e {
                    link = Some(l);
                }
            }
            let Some(t) = c.poll_transmit(&mut self.tx) else {
                return Err(io::Error::other("the client sent no Register"));
            };
            let d = self.tx.get(..t.len).unwrap_or(&[]);
            let mid = mid_of(d).unwrap_or(0);
            if self.recent.contains(&mid) {
                continue;
            }
            if self.recent.len() >= 64 {
                self.recent.pop_front();
            }
            self.recent.push_back(mid);
            self.last.0.clear();
            self.last.0.extend_from_slice(d);
            io.send(self.server, d)?;
            let link = link.ok_or_else(|| io::Error::other("no link opened"))?;
            self.cur = Some((seq, c, link));
            return Ok(());
        }
    }

    fn datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        done: &mut Vec<usize>,
    ) -> io::Result<()> {
        if from != self.server {
            return Ok(());
        }
        let Some((seq, c, link)) = self.cur.as_mut() else {
            return Ok(());
        };
        c.handle_datagram(io.now(), *link, bytes);
        let mut finished = None;
        while let Some(e) = c.poll_event() {
            match e {
                Event::Registered { .. } => finished = Some(true),
                Event::RegistrationFailed { .. } => finished = Some(false),
                _ => {}
            }
        }
        while let Some(t) = c.poll_transmit(&mut self.tx) {
            io.send(self.server, self.tx.get(..t.len).unwrap_or(&[]))?;
        }
        if let Some(ok) = finished {
            self.last.1 = bytes.len();
            if !ok {
                self.errors += 1;
            }
            done.push(*seq);
            self.cur = None;
        }
        Ok(())
    }

    fn tick(&mut self, io: &mut Io) -> io::Result<()> {
        let now = io.now();
        if let Some((_, c, _)) = self.cur.as_mut()
            && c.poll_timeout().is_some_and(|t| t <= now)
        {
            c.handle_timeout(now);
            while let Some(t) = c.poll_transmit(&mut self.tx) {
                io.send(self.server, self.tx.get(..t.len).unwrap_or(&[]))?;
            }
        }
        Ok(())
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_and_token_are_rewritten_in_place() {
        // CON GET, token of 8 bytes, Uri-Path "3".
        let mut d = vec![0x48, 0x01, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0xb1, b'3'];
        set_mid(&mut d, 0xbeef);
        set_token(&mut d, 0x0102_0304);
        assert_eq!(mid_of(&d), Some(0xbeef));
        assert_eq!(&d[4..12], &[1, 2, 3, 4, 9, 9, 9, 9]);
        assert_eq!(&d[12..], &[0xb1, b'3']);
        // A one-byte token takes the low byte.
        let mut d = vec![0x41, 0x01, 0, 0, 0];
        set_token(&mut d, 0x0102_0304);
        assert_eq!(d[4], 4);
        assert_eq!(mtype(&[0x60]), Some(ACK));
    }
}
