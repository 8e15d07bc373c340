//! The CoAP side of a scripted server: one core [`Endpoint`] per client
//! address (so message IDs, retransmission, NSTART and de-duplication are
//! the real ones), the requests the test issues ([`OpId`]) with their
//! block-wise continuations, and the observations they opened.
//!
//! Requests larger than a block go out with Block1 (RFC 7959 §2.3, §2.5,
//! following the client's 2.31 and its block size); responses with Block2
//! are followed block by block until `M` is clear, the ETag checked on each
//! (§2.4, [`Block2Fetcher`]). Notifications (RFC 7641 §4.2) are taken
//! before the endpoint, which only knows request/response exchanges: a
//! Confirmable one is acknowledged, duplicates (same message ID) are
//! dropped, one larger than a block is completed with GET and Block2
//! (RFC 7959 §2.6), and one on a cancelled observation is reset (RFC 7641
//! §3.6).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use lwm2m_core::coap::block_client::Block1Step;
use lwm2m_core::coap::endpoint::{Event as CoapEvent, Received, Request};
use lwm2m_core::coap::{
    Block, Block1Sender, Block2Fetcher, Code, Endpoint, Limits, Message, MsgType, RespondError,
    Token, TransmissionParams, emit_empty,
};
use lwm2m_core::dm::Path;
use lwm2m_core::rand::Rng;
use lwm2m_core::time::Instant;

use crate::net::Addr;
use crate::request::Req;
use crate::response::{Notification, OpError, Response, strings};

/// A request issued through [`Exchanges::request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub usize);

/// How many notification message IDs an observation remembers.
const RECENT_MIDS: usize = 32;

/// The first (or only) response's head.
#[derive(Clone, Debug)]
struct Head {
    code: Code,
    content_format: Option<u16>,
    max_age: Option<u32>,
    location: Vec<String>,
    size1: Option<u32>,
    observe: Option<u32>,
}

#[derive(Debug)]
struct Op {
    to: Addr,
    req: Req,
    started: Instant,
    /// The message in flight.
    token: Option<Token>,
    /// Messages sent for this request (blocks included).
    sent: u32,
    block1: Option<Block1Sender>,
    block2: Option<Block2Fetcher>,
    body: Vec<u8>,
    etags: Vec<Vec<u8>>,
    blocks: u32,
    head: Option<Head>,
    interim: Vec<(Instant, Code)>,
    outcome: Option<Result<Response, OpError>>,
    /// The token of the Observe registration (the first message's).
    obs_token: Option<Token>,
    notifications: Vec<Notification>,
    recent_mids: VecDeque<u16>,
    /// A continuation fetching the rest of a notification of `parent`.
    parent: Option<(usize, Notification)>,
    /// The token the request must carry (an Observe cancellation reuses
    /// the observation's, RFC 7641 §3.6).
    fixed_token: Option<Token>,
}

impl Op {
    fn new(now: Instant, to: Addr, req: Req) -> Op {
        Op {
            to,
            req,
            started: now,
            token: None,
            sent: 0,
            block1: None,
            block2: None,
            body: Vec::new(),
            etags: Vec::new(),
            blocks: 0,
            head: None,
            interim: Vec::new(),
            outcome: None,
            obs_token: None,
            notifications: Vec::new(),
            recent_mids: VecDeque::new(),
            parent: None,
            fixed_token: None,
        }
    }

    fn base(&self) -> Path {
        self.req.dm_path().unwrap_or(Path::ROOT)
    }
}

/// Endpoints, requests and observations of one scripted server.
#[derive(Debug)]
pub struct Exchanges {
    params: TransmissionParams,
    limits: Limits,
    rng: Rng,
    endpoints: BTreeMap<Addr, Endpoint>,
    ops: Vec<Op>,
    in_flight: HashMap<(Addr, Token), usize>,
    observations: HashMap<(Addr, Token), usize>,
    cancelled: HashSet<(Addr, Token)>,
    raw: VecDeque<(Addr, Vec<u8>)>,
    completed: VecDeque<OpId>,
    /// Ops waiting for a free slot in their endpoint (`Limits::pending`).
    backlog: VecDeque<usize>,
    max_body: usize,
}

/// What the owner does with a request from a client.
pub(crate) type OnRequest<'h> = dyn FnMut(Instant, Addr, &mut Endpoint, Request<'_>) + 'h;

impl Exchanges {
    /// Endpoints with the default transmission parameters and limits,
    /// seeded from `seed`.
    pub fn new(seed: u64) -> Exchanges {
        Exchanges::with(seed, TransmissionParams::default(), Limits::default())
    }

    /// Endpoints with these parameters and limits (`limits.block_szx` is
    /// the block size the server asks clients to use for Block1 bodies).
    pub fn with(seed: u64, params: TransmissionParams, limits: Limits) -> Exchanges {
        Exchanges {
            params,
            limits,
            rng: Rng::new(seed),
            endpoints: BTreeMap::new(),
            ops: Vec::new(),
            in_flight: HashMap::new(),
            observations: HashMap::new(),
            cancelled: HashSet::new(),
            raw: VecDeque::new(),
            completed: VecDeque::new(),
            backlog: VecDeque::new(),
            max_body: 1 << 20,
        }
    }

    fn endpoint_for(&mut self, addr: Addr) -> &mut Endpoint {
        let Exchanges {
            endpoints,
            params,
            limits,
            rng,
            ..
        } = self;
        endpoints
            .entry(addr)
            .or_insert_with(|| Endpoint::new(params.clone(), limits.clone(), rng.next_u64()))
    }

    /// The endpoint talking to `addr`, if it exists (for its counters).
    pub fn endpoint(&self, addr: Addr) -> Option<&Endpoint> {
        self.endpoints.get(&addr)
    }

    /// Sends `req` to the client at `to`; the outcome is read with
    /// [`Exchanges::outcome`] once the world has run.
    pub fn request(&mut self, now: Instant, to: Addr, req: Req) -> OpId {
        let id = self.ops.len();
        let mut op = Op::new(now, to, req);
        let size = 1usize << (op.req.szx + 4);
        if op.req.body.len() > size && op.req.lone_block1.is_none() {
            op.block1 = Some(Block1Sender::new(op.req.body.len(), op.req.szx));
        }
        self.ops.push(op);
        self.send(id);
        OpId(id)
    }

    /// Sends the next message of op `id`.
    fn send(&mut self, id: usize) {
        let Exchanges {
            ops,
            endpoints,
            params,
            limits,
            rng,
            in_flight,
            ..
        } = self;
        let Some(op) = ops.get_mut(id) else {
            return;
        };
        let first = op.sent == 0;
        let observe = op.req.observe.filter(|_| first && op.parent.is_none());
        let block2 = match &op.block2 {
            Some(f) => Some(f.next_block()),
            None if op.req.lone_block2.is_some() => Some(Block {
                num: op.req.lone_block2.unwrap_or(0),
                more: false,
                szx: op.req.szx,
            }),
            None if op.req.early_block2 => Some(Block {
                num: 0,
                more: false,
                szx: op.req.szx,
            }),
            None => None,
        };
        let (block1, payload) = match (&op.block1, op.req.lone_block1) {
            (_, Some(num)) => {
                let size = 1usize << (op.req.szx + 4);
                let start = (num as usize).saturating_mul(size);
                let end = start.saturating_add(size).min(op.req.body.len());
                let b = Block {
                    num,
                    more: true,
                    szx: op.req.szx,
                };
                (
                    Some((b, op.req.body.len())),
                    op.req.body.get(start..end).unwrap_or(&[]),
                )
            }
            (Some(s), None) => {
                let (b, r) = s.next_block();
                (
                    Some((b, op.req.body.len())),
                    op.req.body.get(r).unwrap_or(&[]),
                )
            }
            (None, None) => (None, op.req.body.as_slice()),
        };
        let block2 = if block1.is_some_and(|(b, _)| b.more) {
            None
        } else {
            block2
        };
        let ep = endpoints
            .entry(op.to)
            .or_insert_with(|| Endpoint::new(params.clone(), limits.clone(), rng.next_u64()));
        let req = &op.req;
        let build = |m: &mut lwm2m_core::coap::MessageBuilder<'_>| {
            req.emit(m, observe, block2, block1, payload)
        };
        let r = match op.fixed_token.filter(|_| first) {
            Some(t) => ep.request_with_token(t, req.confirmable, req.method, build),
            None => ep.request(req.confirmable, req.method, build),
        };
        match r {
            Ok(token) => {
                op.sent += 1;
                op.token = Some(token);
                if observe == Some(0) {
                    op.obs_token = Some(token);
                }
                in_flight.insert((op.to, token), id);
            }
            Err(RespondError::Full) => self.backlog.push_back(id),
            Err(_) => self.finish(id, Err(OpError::Send)),
        }
    }

    /// Sends what waited for a free slot, in order, as far as slots allow.
    fn retry_backlog(&mut self) {
        let n = self.backlog.len();
        for _ in 0..n {
            let Some(id) = self.backlog.pop_front() else {
                return;
            };
            let before = self.backlog.len();
            self.send(id);
            if self.backlog.len() > before {
                // Still full: keep the rest in order behind it.
                if let Some(back) = self.backlog.pop_back() {
                    self.backlog.push_front(back);
                }
                return;
            }
        }
    }

    fn finish(&mut self, id: usize, outcome: Result<Response, OpError>) {
        let Some(op) = self.ops.get_mut(id) else {
            return;
        };
        op.token = None;
        if let (Some((parent, mut n)), Ok(r)) = (op.parent.take(), &outcome) {
            n.payload = r.payload.clone();
            n.blocks = r.blocks;
            if let Some(p) = self.ops.get_mut(parent) {
                p.notifications.push(n);
            }
        }
        if let Some(op) = self.ops.get_mut(id) {
            op.outcome = Some(outcome);
        }
        self.completed.push_back(OpId(id));
        self.retry_backlog();
    }

    /// Takes a datagram from `from`: notifications here, the rest through
    /// the endpoint; requests go to `on_request`.
    pub(crate) fn handle_datagram(
        &mut self,
        now: Instant,
        from: Addr,
        bytes: &[u8],
        on_request: &mut OnRequest<'_>,
    ) {
        if self.intercept_notification(now, from, bytes) {
            return;
        }
        let received = self.endpoint_for(from).handle_datagram(now, bytes);
        match received {
            Received::Request(r) => {
                if let Some(ep) = self.endpoints.get_mut(&from) {
                    on_request(now, from, ep, r);
                }
            }
            Received::Response { token, msg } => self.on_response(now, from, token, &msg),
            Received::Reset { token, .. } => {
                if let Some(id) = self.in_flight.remove(&(from, token)) {
                    self.finish(id, Err(OpError::Reset));
                }
            }
            _ => {}
        }
        self.drain_events();
    }

    fn intercept_notification(&mut self, now: Instant, from: Addr, bytes: &[u8]) -> bool {
        let Ok(m) = Message::parse(bytes) else {
            return false;
        };
        let con = m.mtype() == MsgType::Con;
        if !(con || m.mtype() == MsgType::Non) || !m.code().is_response() {
            return false;
        }
        let key = (from, m.token());
        if self.in_flight.contains_key(&key) {
            return false;
        }
        let reply = |mtype| {
            let mut b = [0u8; 4];
            emit_empty(&mut b, mtype, m.mid())
                .ok()
                .and_then(|n| b.get(..n).map(<[u8]>::to_vec))
        };
        let Some(&id) = self.observations.get(&key) else {
            if self.cancelled.contains(&key) {
                if let Some(rst) = reply(MsgType::Rst) {
                    self.raw.push_back((from, rst));
                }
                return true;
            }
            return false;
        };
        if con && let Some(ack) = reply(MsgType::Ack) {
            self.raw.push_back((from, ack));
        }
        let Some(op) = self.ops.get_mut(id) else {
            return true;
        };
        if op.recent_mids.contains(&m.mid()) {
            return true;
        }
        if op.recent_mids.len() >= RECENT_MIDS {
            op.recent_mids.pop_front();
        }
        op.recent_mids.push_back(m.mid());
        let n = Notification {
            at: now,
            code: m.code(),
            seq: m.observe(),
            confirmable: con,
            content_format: m.content_format(),
            payload: m.payload().to_vec(),
            blocks: 1,
            base: op.base(),
        };
        if !m.code().is_success() {
            // RFC 7641 §3.2: an error notification ends the observation.
            self.observations.remove(&key);
        }
        let more = m.block2().and_then(Result::ok).filter(|b| b.more);
        match more {
            Some(b) if m.code().is_success() => {
                // RFC 7959 §2.6: fetch the rest with GET (no Observe).
                let mut fetcher = Block2Fetcher::new(b.szx, self.max_body);
                let req = Req {
                    observe: None,
                    early_block2: false,
                    ..op.req.clone()
                };
                let mut child = Op::new(now, from, req);
                child.blocks = 1;
                if let Ok(chunk) = fetcher.on_response(&m) {
                    child.body.extend_from_slice(chunk.bytes);
                }
                child.etags.push(m.etag().unwrap_or_default().to_vec());
                child.block2 = Some(fetcher);
                child.head = Some(head_of(&m));
                child.parent = Some((id, n));
                child.sent = 1;
                let cid = self.ops.len();
                self.ops.push(child);
                self.send(cid);
            }
            _ => op.notifications.push(n),
        }
        true
    }

    fn on_response(&mut self, now: Instant, from: Addr, token: Token, msg: &Message<'_>) {
        let Some(id) = self.in_flight.remove(&(from, token)) else {
            return;
        };
        let max_body = self.max_body;
        let Some(op) = self.ops.get_mut(id) else {
            return;
        };
        op.token = None;
        let code = msg.code();
        if let Some(mut s) = op.block1.take() {
            match s.on_response(msg) {
                Ok(Block1Step::SendNext) => {
                    op.block1 = Some(s);
                    op.interim.push((now, code));
                    return self.send(id);
                }
                Ok(Block1Step::Done) => {}
                Err(_) if code == Code::CONTINUE => return self.finish(id, Err(OpError::Block1)),
                Err(_) => {}
            }
        }
        if op.head.is_none() {
            let h = head_of(msg);
            if h.observe.is_some()
                && code.is_success()
                && op.req.observe == Some(0)
                && let Some(t) = op.obs_token
            {
                self.observations.insert((from, t), id);
            }
            op.head = Some(h);
        }
        let Some(op) = self.ops.get_mut(id) else {
            return;
        };
        let mut final_code = op.head.as_ref().map_or(code, |h| h.code);
        if code.is_success() && msg.block2().is_some() && op.req.lone_block2.is_some() {
            op.etags.push(msg.etag().unwrap_or_default().to_vec());
            op.body = msg.payload().to_vec();
            op.blocks = 1;
        } else if code.is_success() && msg.block2().is_some() {
            op.etags.push(msg.etag().unwrap_or_default().to_vec());
            let szx = op.req.szx;
            let f = op
                .block2
                .get_or_insert_with(|| Block2Fetcher::new(szx, max_body));
            match f.on_response(msg) {
                Ok(chunk) => {
                    op.body.extend_from_slice(chunk.bytes);
                    op.blocks += 1;
                    if chunk.more && op.req.lone_block2.is_none() {
                        return self.send(id);
                    }
                }
                Err(e) => return self.finish(id, Err(OpError::Block2(e))),
            }
        } else if op.block2.is_some() {
            // A later block failed: that answer is the outcome.
            final_code = code;
            op.body = msg.payload().to_vec();
        } else {
            op.body = msg.payload().to_vec();
            op.blocks = 1;
        }
        let h = op.head.clone().unwrap_or_else(|| head_of(msg));
        let resp = Response {
            at: now,
            code: final_code,
            content_format: h.content_format,
            payload: op.body.clone(),
            etags: op.etags.clone(),
            max_age: h.max_age,
            location: h.location,
            size1: h.size1,
            observe: h.observe,
            blocks: op.blocks.max(1),
            base: op.base(),
        };
        self.finish(id, Ok(resp));
    }

    fn drain_events(&mut self) {
        let mut gave_up = Vec::new();
        for (addr, ep) in &mut self.endpoints {
            while let Some(e) = ep.poll_event() {
                if let CoapEvent::GaveUp { token, .. } = e {
                    gave_up.push((*addr, token));
                }
            }
        }
        for key in gave_up {
            if let Some(id) = self.in_flight.remove(&key) {
                self.finish(id, Err(OpError::Timeout));
            }
        }
    }

    /// Retransmissions and give-ups due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for ep in self.endpoints.values_mut() {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        self.drain_events();
    }

    /// The next deadline of any endpoint.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.endpoints
            .values()
            .filter_map(Endpoint::poll_timeout)
            .min()
    }

    /// The next datagram to send.
    pub(crate) fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
        if let Some((to, bytes)) = self.raw.pop_front() {
            let dst = buf.get_mut(..bytes.len())?;
            dst.copy_from_slice(&bytes);
            return Some((to, bytes.len()));
        }
        for (addr, ep) in &mut self.endpoints {
            if let Some(n) = ep.poll_transmit(now, buf) {
                return Some((*addr, n));
            }
        }
        None
    }

    /// The next request that ended (response or failure) since last asked.
    pub(crate) fn take_completed(&mut self) -> Option<OpId> {
        self.completed.pop_front()
    }

    /// How `id` ended, once it has.
    pub fn outcome(&self, id: OpId) -> Option<&Result<Response, OpError>> {
        self.ops.get(id.0)?.outcome.as_ref()
    }

    /// The response to `id`, once it arrived.
    pub fn response(&self, id: OpId) -> Option<&Response> {
        self.outcome(id)?.as_ref().ok()
    }

    /// Block2 blocks received so far for `id`.
    pub fn blocks_received(&self, id: OpId) -> u32 {
        self.ops.get(id.0).map_or(0, |o| o.blocks)
    }

    /// Stops request `id` where it is: its message in flight is forgotten
    /// (no retransmission) and no further block is sent. The outcome is
    /// [`OpError::Abandoned`].
    pub fn abandon(&mut self, id: OpId) {
        let Some(op) = self.ops.get_mut(id.0) else {
            return;
        };
        if op.outcome.is_some() {
            return;
        }
        if let Some(t) = op.token.take() {
            self.in_flight.remove(&(op.to, t));
            if let Some(ep) = self.endpoints.get_mut(&op.to) {
                ep.cancel_request(t);
            }
        }
        self.finish(id.0, Err(OpError::Abandoned));
    }

    /// Whether `id` ended.
    pub fn is_done(&self, id: OpId) -> bool {
        self.outcome(id).is_some()
    }

    /// When `id` was issued.
    pub fn started_at(&self, id: OpId) -> Option<Instant> {
        self.ops.get(id.0).map(|o| o.started)
    }

    /// The intermediate responses of `id` (2.31 Continue per Block1 block).
    pub fn interim(&self, id: OpId) -> &[(Instant, Code)] {
        self.ops.get(id.0).map_or(&[], |o| o.interim.as_slice())
    }

    /// The notifications of observation `id`, in arrival order.
    pub fn notifications(&self, id: OpId) -> &[Notification] {
        self.ops
            .get(id.0)
            .map_or(&[], |o| o.notifications.as_slice())
    }

    /// Whether observation `id` is live (registered and not ended).
    pub fn is_observing(&self, id: OpId) -> bool {
        self.ops.get(id.0).is_some_and(|o| {
            o.obs_token
                .is_some_and(|t| self.observations.contains_key(&(o.to, t)))
        })
    }

    /// Forgets observation `id`: its next notification is answered with
    /// RST, which cancels it at the client (RFC 7641 §3.6).
    pub fn cancel_observe(&mut self, id: OpId) {
        if let Some(o) = self.ops.get(id.0)
            && let Some(t) = o.obs_token
        {
            self.observations.remove(&(o.to, t));
            self.cancelled.insert((o.to, t));
        }
    }

    /// Cancels observation `id` actively: a GET (FETCH for a composite)
    /// with Observe=1 on the observation's token (RFC 7641 §3.6, Core 1.1
    /// §6.4). Returns the cancelling request, whose response is the
    /// current value.
    pub fn cancel_observe_active(&mut self, now: Instant, id: OpId) -> Option<OpId> {
        let o = self.ops.get(id.0)?;
        let token = o.obs_token?;
        let (to, req) = (o.to, o.req.clone());
        self.cancel_observe(id);
        let cid = self.ops.len();
        let mut op = Op::new(
            now,
            to,
            Req {
                observe: Some(1),
                ..req
            },
        );
        op.fixed_token = Some(token);
        self.ops.push(op);
        self.send(cid);
        Some(OpId(cid))
    }

    /// Number of requests issued so far.
    pub fn op_count(&self) -> usize {
        self.ops.len()
    }
}

fn head_of(m: &Message<'_>) -> Head {
    Head {
        code: m.code(),
        content_format: m.content_format(),
        max_age: m.max_age(),
        location: strings(m.location_path()),
        size1: m.size1(),
        observe: m.observe(),
    }
}
