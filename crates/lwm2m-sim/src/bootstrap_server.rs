//! A scripted LwM2M Bootstrap-Server node (OMA-TS-LightweightM2M_Core 1.1
//! §6.1): it answers Bootstrap-Request (`POST /bs?ep=...`) with a
//! configured code (2.04), then sends its script — Bootstrap-Write, Delete,
//! Discover, Read, Finish, each a [`Req`] — one after the other, each when
//! the previous one got its answer (or failed). Every session and every
//! step's outcome is kept for the test.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use lwm2m_core::coap::endpoint::Request;
use lwm2m_core::coap::{Code, Endpoint};
use lwm2m_core::time::Instant;

use crate::exchanges::{Exchanges, OpId};
use crate::net::Addr;
use crate::request::Req;
use crate::response::{OpError, Recorded, Response, strings};
use crate::scripted_server::respond;
use crate::world::Node;

/// One bootstrap session with one client.
#[derive(Clone, Debug, PartialEq)]
pub struct BsSession {
    /// When the Bootstrap-Request arrived (or the server started it).
    pub started_at: Instant,
    /// The client's Endpoint Client Name (`ep=`).
    pub endpoint: String,
    /// Each step sent so far and its outcome (`None` while in flight).
    pub steps: Vec<(Req, Option<Result<Response, OpError>>)>,
}

impl BsSession {
    /// Whether every step of the script has its outcome.
    pub fn is_complete(&self, script_len: usize) -> bool {
        self.steps.len() == script_len && self.steps.iter().all(|(_, o)| o.is_some())
    }

    /// The response code of step `i`, if it got one.
    pub fn code(&self, i: usize) -> Option<Code> {
        match self.steps.get(i)?.1.as_ref()? {
            Ok(r) => Some(r.code),
            Err(_) => None,
        }
    }
}

/// The scripted Bootstrap-Server. See the module documentation.
#[derive(Debug)]
pub struct ScriptedBootstrapServer {
    exchanges: Exchanges,
    /// The answer to Bootstrap-Request.
    pub request_code: Code,
    /// The steps sent after each accepted Bootstrap-Request.
    pub script: Vec<Req>,
    sessions: BTreeMap<Addr, Vec<BsSession>>,
    running: BTreeMap<OpId, (Addr, usize)>,
    to_start: Vec<(Addr, String)>,
    log: Vec<Recorded>,
}

impl Deref for ScriptedBootstrapServer {
    type Target = Exchanges;
    fn deref(&self) -> &Exchanges {
        &self.exchanges
    }
}

impl DerefMut for ScriptedBootstrapServer {
    fn deref_mut(&mut self) -> &mut Exchanges {
        &mut self.exchanges
    }
}

impl ScriptedBootstrapServer {
    /// A Bootstrap-Server that sends `script` to every client that asks.
    pub fn new(seed: u64, script: Vec<Req>) -> ScriptedBootstrapServer {
        ScriptedBootstrapServer {
            exchanges: Exchanges::new(seed),
            request_code: Code::CHANGED,
            script,
            sessions: BTreeMap::new(),
            running: BTreeMap::new(),
            to_start: Vec::new(),
            log: Vec::new(),
        }
    }

    /// The sessions with the client at `addr`, oldest first.
    pub fn sessions(&self, addr: Addr) -> &[BsSession] {
        self.sessions.get(&addr).map_or(&[], Vec::as_slice)
    }

    /// Every request clients sent, in arrival order.
    pub fn requests(&self) -> &[Recorded] {
        &self.log
    }

    /// Starts the script towards `addr` without a Bootstrap-Request
    /// (server-initiated bootstrap; the client must have a link to us).
    pub fn start(&mut self, now: Instant, addr: Addr) {
        self.begin(now, addr, String::new());
    }

    fn begin(&mut self, now: Instant, addr: Addr, endpoint: String) {
        self.sessions.entry(addr).or_default().push(BsSession {
            started_at: now,
            endpoint,
            steps: Vec::new(),
        });
        self.next_step(now, addr);
    }

    fn next_step(&mut self, now: Instant, addr: Addr) {
        let Some(session) = self.sessions.get_mut(&addr).and_then(|s| s.last_mut()) else {
            return;
        };
        let i = session.steps.len();
        let Some(req) = self.script.get(i).cloned() else {
            return;
        };
        session.steps.push((req.clone(), None));
        let op = self.exchanges.request(now, addr, req);
        self.running.insert(op, (addr, i));
        self.advance(now);
    }

    /// Records finished steps and sends the next ones.
    fn advance(&mut self, now: Instant) {
        while let Some(op) = self.exchanges.take_completed() {
            let Some((addr, i)) = self.running.remove(&op) else {
                continue;
            };
            let outcome = self.exchanges.outcome(op).cloned();
            if let Some(step) = self
                .sessions
                .get_mut(&addr)
                .and_then(|s| s.last_mut())
                .and_then(|s| s.steps.get_mut(i))
            {
                step.1 = outcome;
            }
            self.next_step(now, addr);
        }
        for (addr, ep) in std::mem::take(&mut self.to_start) {
            self.begin(now, addr, ep);
        }
    }

    fn on_request(
        code: Code,
        log: &mut Vec<Recorded>,
        to_start: &mut Vec<(Addr, String)>,
        now: Instant,
        from: Addr,
        ep: &mut Endpoint,
        req: Request<'_>,
    ) {
        let msg = req.msg;
        let rec = Recorded::of(now, from, &msg);
        let path = strings(msg.uri_path());
        let is_request = msg.code() == Code::POST && path == ["bs"];
        let name = rec.query("ep").unwrap_or_default().to_string();
        log.push(rec);
        if !is_request {
            return respond(now, ep, &req, Code::NOT_FOUND, &[]);
        }
        respond(now, ep, &req, code, &[]);
        if code.is_success() {
            to_start.push((from, name));
        }
    }
}

impl Node for ScriptedBootstrapServer {
    fn handle_datagram(&mut self, now: Instant, from: Addr, bytes: &[u8]) {
        let ScriptedBootstrapServer {
            exchanges,
            request_code,
            log,
            to_start,
            ..
        } = self;
        let code = *request_code;
        exchanges.handle_datagram(now, from, bytes, &mut |now, from, ep, req| {
            ScriptedBootstrapServer::on_request(code, log, to_start, now, from, ep, req)
        });
        self.advance(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
        self.exchanges.poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.exchanges.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.exchanges.handle_timeout(now);
        self.advance(now);
    }
}
