//! Our requests to clients: submission, the per-client queue (NSTART,
//! queue mode), block-wise continuation in both directions (RFC 7959 §2.3,
//! §2.4, §2.5), completion into events, and bootstrap sessions stepping
//! through their script.

use std::net::SocketAddr;

use lwm2m_core::coap::block_client::{Block1SendError, Block1Sender, Block1Step};
use lwm2m_core::coap::endpoint::{Event as CoapEvent, Received};
use lwm2m_core::coap::{
    Block2FetchError, Block2Fetcher, Code, Message, Outgoing, RespondError, Token,
};
use lwm2m_core::content::Format;
use lwm2m_core::dm::Path;
use lwm2m_core::time::Instant;

use super::Server;
use super::bootstrap::{self, BootstrapError, Next, Session};
use super::event::{DeregisterReason, ObservationEnd, ServerEvent};
use super::operation::{Body, Operation, ReqId, RequestError, Response};
use super::wire::{self, ClientInfo, Expect, Wire};

/// Why an op exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A caller's request: its result is a `Response` event.
    User,
    /// A step of a bootstrap session.
    Bootstrap,
    /// The rest of a block-wise notification (RFC 7959 §2.6).
    Notification { observation: u64, seq: Option<u32> },
}

pub(crate) struct Download {
    fetcher: Block2Fetcher,
    body: Vec<u8>,
}

/// One request of ours, queued or in flight.
pub(crate) struct Op {
    pub(crate) id: ReqId,
    pub(crate) endpoint: String,
    pub(crate) peer: SocketAddr,
    pub(crate) wire: Wire,
    pub(crate) expect: Expect,
    pub(crate) base: Path,
    pub(crate) root: Vec<String>,
    pub(crate) purpose: Purpose,
    /// The token of the request in flight.
    pub(crate) token: Option<Token>,
    /// A token the first transmission must use (Observe cancellation).
    pub(crate) fixed_token: Option<Token>,
    upload: Option<Block1Sender>,
    download: Option<Download>,
    /// For Observe: the paths, and the token and sequence number of the
    /// first response.
    pub(crate) observe: Option<(Vec<Path>, bool)>,
    observe_token: Option<Token>,
    observed_seq: Option<u32>,
    /// Times the transfer was started over.
    restarts: u8,
    /// Queued while the client was unreachable (queue mode).
    waited: bool,
}

impl Server {
    fn client_info(&self, endpoint: &str) -> ClientInfo {
        match self.registry.get(endpoint) {
            Some(r) => ClientInfo {
                root: r
                    .objects
                    .root
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                formats: r.objects.formats.clone(),
            },
            None => ClientInfo::default(),
        }
    }

    /// Sends `op` to the registered client `endpoint` (or, for Bootstrap
    /// operations, to the client in a bootstrap session of that name). The
    /// result comes back as [`ServerEvent::Response`] with the returned
    /// handle; an Observe's notifications carry the same handle.
    ///
    /// A queue-mode client that has not been heard from within
    /// `ServerConfig::queue_awake` gets the request when it next sends
    /// something (an Update, typically).
    pub fn request(
        &mut self,
        now: Instant,
        endpoint: &str,
        op: Operation,
    ) -> Result<ReqId, RequestError> {
        let peer = if op.is_bootstrap() {
            self.sessions
                .get(endpoint)
                .map(|s| s.peer)
                .ok_or(RequestError::UnknownEndpoint)?
        } else {
            self.registry
                .get(endpoint)
                .map(|r| r.peer)
                .ok_or(RequestError::UnknownEndpoint)?
        };
        self.submit(now, endpoint, peer, op, Purpose::User)
    }

    /// Ends observation `observation`: `active` sends a cancelling GET /
    /// FETCH with Observe=1 on its token (Core 1.1 §6.4; its answer comes
    /// as a `Response` event of the returned handle); otherwise it is
    /// forgotten and the next notification is answered with RST (RFC 7641
    /// §3.6). Either way [`ServerEvent::ObservationEnded`] follows at once.
    pub fn cancel_observation(
        &mut self,
        now: Instant,
        observation: ReqId,
        active: bool,
    ) -> Result<Option<ReqId>, RequestError> {
        let obs = self
            .observations
            .get(&observation.0)
            .map(|o| (o.endpoint.clone(), o.peer))
            .ok_or(RequestError::UnknownObservation)?;
        let id = if active {
            Some(self.submit(
                now,
                &obs.0,
                obs.1,
                Operation::CancelObserve { observation },
                Purpose::User,
            )?)
        } else {
            None
        };
        self.end_observation(observation.0, ObservationEnd::Cancelled);
        Ok(id)
    }

    /// Asks the registered client `endpoint` to bootstrap again: Execute on
    /// its Server instance's Bootstrap-Request Trigger (/1/x/9, Core 1.1
    /// Appendix E.2). The client then sends Bootstrap-Request to its
    /// Bootstrap Server.
    pub fn trigger_bootstrap(
        &mut self,
        now: Instant,
        endpoint: &str,
    ) -> Result<ReqId, RequestError> {
        let iid = self
            .registry
            .get(endpoint)
            .ok_or(RequestError::UnknownEndpoint)?
            .objects
            .instances(1)
            .next()
            .unwrap_or(0);
        self.request(
            now,
            endpoint,
            Operation::Execute {
                path: Path::resource(1, iid, 9),
                args: None,
            },
        )
    }

    pub(crate) fn submit(
        &mut self,
        now: Instant,
        endpoint: &str,
        peer: SocketAddr,
        op: Operation,
        purpose: Purpose,
    ) -> Result<ReqId, RequestError> {
        let limits = &self.config.limits;
        if self.ops.values().filter(|o| o.endpoint == endpoint).count()
            >= limits.max_requests_per_client
        {
            return Err(RequestError::QueueFull);
        }
        let info = self.client_info(endpoint);
        let (wire, expect, base, fixed_token, observe) = match &op {
            Operation::CancelObserve { observation } => {
                let o = self
                    .observations
                    .get(&observation.0)
                    .ok_or(RequestError::UnknownObservation)?;
                let mut w = o.wire.clone();
                w.observe = Some(1);
                (w, o.expect, o.base, Some(o.token), None)
            }
            _ => {
                if matches!(
                    op,
                    Operation::Observe { .. } | Operation::ObserveComposite { .. }
                ) && self
                    .observations
                    .values()
                    .filter(|o| o.endpoint == endpoint)
                    .count()
                    >= limits.max_observations_per_client
                {
                    return Err(RequestError::QueueFull);
                }
                let e = wire::encode(&op, &info, limits.max_request_body)?;
                let observe = match &op {
                    Operation::Observe { path, .. } => Some((vec![*path], false)),
                    Operation::ObserveComposite { paths, .. } => Some((paths.clone(), true)),
                    _ => None,
                };
                (e.wire, e.expect, e.base, None, observe)
            }
        };
        let id = self.fresh_id();
        self.ops.insert(
            id.0,
            Op {
                id,
                endpoint: endpoint.to_string(),
                peer,
                wire,
                expect,
                base,
                root: info.root,
                purpose,
                token: None,
                fixed_token,
                upload: None,
                download: None,
                observe,
                observe_token: None,
                observed_seq: None,
                restarts: 0,
                waited: false,
            },
        );
        self.pump(now, peer);
        Ok(id)
    }

    /// Starts the rest of a block-wise notification of observation `obs`
    /// whose first block is `first`.
    pub(crate) fn continue_notification(
        &mut self,
        now: Instant,
        obs: u64,
        seq: Option<u32>,
        first: &Message<'_>,
    ) {
        let limits = &self.config.limits;
        let mut fetcher = Block2Fetcher::new(limits.block_szx, limits.max_response_body);
        let Ok(chunk) = fetcher.on_response(first) else {
            return;
        };
        let Some(o) = self.observations.get(&obs) else {
            return;
        };
        // Bounded like any other request of ours to this client.
        let busy = self
            .ops
            .values()
            .filter(|x| x.endpoint == o.endpoint)
            .count();
        if busy >= limits.max_requests_per_client {
            self.stats.dropped += 1;
            return;
        }
        let mut wire = o.wire.clone();
        wire.observe = None;
        let op = Op {
            id: ReqId(0),
            endpoint: o.endpoint.clone(),
            peer: o.peer,
            wire,
            expect: o.expect,
            base: o.base,
            root: o.root.clone(),
            purpose: Purpose::Notification {
                observation: obs,
                seq,
            },
            token: None,
            fixed_token: None,
            upload: None,
            download: Some(Download {
                fetcher,
                body: chunk.bytes.to_vec(),
            }),
            observe: None,
            observe_token: None,
            observed_seq: None,
            restarts: 0,
            waited: false,
        };
        let id = self.fresh_id();
        let peer = op.peer;
        self.ops.insert(id.0, Op { id, ..op });
        self.pump(now, peer);
    }

    /// Whether requests may go to `peer` now (Core 1.1, Queue Mode).
    fn reachable(&self, now: Instant, peer: SocketAddr) -> bool {
        let Some(ep) = self.peers.get(&peer).and_then(|p| p.endpoint.as_deref()) else {
            return true;
        };
        match self.registry.get(ep) {
            Some(r) if r.queue && r.peer == peer => now < r.last_heard + self.config.queue_awake,
            _ => true,
        }
    }

    /// Sends queued requests to `peer` while its in-flight bound allows.
    pub(crate) fn pump(&mut self, now: Instant, peer: SocketAddr) {
        if !self.reachable(now, peer) {
            for o in self
                .ops
                .values_mut()
                .filter(|o| o.peer == peer && o.token.is_none())
            {
                o.waited = true;
            }
            return;
        }
        let mut in_flight = self
            .ops
            .values()
            .filter(|o| o.peer == peer && o.token.is_some())
            .count();
        let queued: Vec<(u64, bool)> = self
            .ops
            .values()
            .filter(|o| o.peer == peer && o.token.is_none())
            .map(|o| (o.id.0, o.waited))
            .collect();
        let mut flushed = 0;
        for (id, waited) in queued {
            if in_flight >= self.config.limits.max_in_flight_per_client {
                break;
            }
            // A failure below completes an op, which pumps again: this list
            // may be stale.
            if self.ops.get(&id).is_none_or(|o| o.token.is_some()) {
                continue;
            }
            match self.send(id) {
                Ok(()) => {
                    in_flight += 1;
                    flushed += usize::from(waited);
                }
                Err(None) => break,
                Err(Some(e)) => self.complete(now, id, Err(e), None),
            }
        }
        self.mark_ready(peer);
        if flushed > 0
            && let Some(endpoint) = self.peers.get(&peer).and_then(|p| p.endpoint.clone())
        {
            self.event(ServerEvent::QueueFlushed {
                endpoint,
                count: flushed,
            });
        }
    }

    /// Transmits the next message of op `id`. `Err(None)`: no room in the
    /// endpoint now (try later); `Err(Some(e))`: the op failed.
    fn send(&mut self, id: u64) -> Result<(), Option<RequestError>> {
        let confirmable = self.config.confirmable;
        let szx = self.config.limits.block_szx;
        let Server {
            ops, peers, tokens, ..
        } = self;
        let op = ops.get_mut(&id).ok_or(None)?;
        let p = peers
            .get_mut(&op.peer)
            .ok_or(Some(RequestError::Cancelled))?;
        let block2 = op.download.as_ref().map(|d| d.fetcher.next_block());
        let with_observe = op.download.is_none() && op.purpose == Purpose::User;
        let whole = op.wire.body.len();
        // FETCH repeats its payload with every block (RFC 8132 §2.3.2);
        // GET has none.
        let (block1, range) = if block2.is_some() {
            (
                None,
                0..if op.wire.code == Code::FETCH {
                    whole
                } else {
                    0
                },
            )
        } else if whole > (1usize << (szx + 4)) || op.upload.is_some() {
            let up = op
                .upload
                .get_or_insert_with(|| Block1Sender::new(whole, szx));
            let (b, r) = up.next_block();
            (Some((b, whole)), r)
        } else {
            (None, 0..whole)
        };
        let fixed = op.fixed_token.take();
        let wire = &op.wire;
        let payload = wire.body.get(range).unwrap_or(&[]);
        let build = |b: &mut lwm2m_core::coap::MessageBuilder<'_>| {
            wire.emit(b, with_observe, block2, block1, payload)
        };
        let sent = match fixed {
            Some(t) => p.coap.request_with_token(t, confirmable, wire.code, build),
            None => p.coap.request(confirmable, wire.code, build),
        };
        match sent {
            Ok(token) => {
                op.waited = false;
                op.token = Some(token);
                if op.observe_token.is_none() {
                    op.observe_token = Some(token);
                }
                tokens.insert((op.peer, token), id);
                Ok(())
            }
            Err(RespondError::Full) => {
                // Keep the token an Observe cancellation must reuse.
                op.fixed_token = fixed;
                Err(None)
            }
            Err(_) => Err(Some(RequestError::TooLarge)),
        }
    }

    /// Dispatches what the endpoint reported for a datagram.
    pub(crate) fn on_received(&mut self, now: Instant, peer: SocketAddr, r: Received<'_>) {
        match r {
            Received::Request(req) => self.on_request(now, peer, req),
            Received::Response { token, msg } => self.on_response(now, peer, token, &msg),
            Received::Reset {
                token,
                what: Outgoing::Request,
            } => {
                if let Some(id) = self.tokens.remove(&(peer, token)) {
                    self.complete(now, id, Err(RequestError::Reset), None);
                }
            }
            _ => {}
        }
    }

    /// Handles what the endpoint reported on its own (give-ups).
    pub(crate) fn drain_endpoint(&mut self, now: Instant, peer: SocketAddr) {
        loop {
            let Some(e) = self.peers.get_mut(&peer).and_then(|p| p.coap.poll_event()) else {
                return;
            };
            if let CoapEvent::GaveUp {
                token,
                what: Outgoing::Request,
            } = e
                && let Some(id) = self.tokens.remove(&(peer, token))
            {
                self.on_timeout(now, id);
            }
        }
    }

    fn on_timeout(&mut self, now: Instant, id: u64) {
        let Some(op) = self.ops.get_mut(&id) else {
            return;
        };
        op.token = None;
        let ep = op.endpoint.clone();
        let queue = self.registry.get(&ep).is_some_and(|r| r.queue);
        if queue && op.restarts == 0 && op.purpose == Purpose::User {
            // The queue-mode client went to sleep: keep the request until
            // it is heard from again (Core 1.1, Queue Mode).
            op.restarts += 1;
            op.upload = None;
            op.download = None;
            op.observe_token = None;
            let awake = self.config.queue_awake;
            if let Some(r) = self.registry.get_mut(&ep) {
                // Asleep until heard from: last heard a whole window ago.
                r.last_heard = now.saturating_sub(awake);
            }
            return;
        }
        self.complete(now, id, Err(RequestError::Timeout), None);
    }

    fn on_response(&mut self, now: Instant, peer: SocketAddr, token: Token, msg: &Message<'_>) {
        let Some(id) = self.tokens.remove(&(peer, token)) else {
            return;
        };
        let max = self.config.limits.max_response_body;
        let szx = self.config.limits.block_szx;
        let Some(op) = self.ops.get_mut(&id) else {
            return;
        };
        op.token = None;
        if let Some(up) = op.upload.as_mut() {
            match up.on_response(msg) {
                Ok(Block1Step::SendNext) => return self.resend(now, id),
                Ok(Block1Step::Done) => op.upload = None,
                Err(Block1SendError::TooLarge { .. }) => {
                    return self.complete(now, id, Err(RequestError::TooLarge), None);
                }
                Err(_) => {
                    return self.complete(
                        now,
                        id,
                        Err(RequestError::BlockWise("bad 2.31 Continue")),
                        None,
                    );
                }
            }
        }
        if op.download.is_none() && op.observed_seq.is_none() {
            op.observed_seq = msg.observe();
        }
        let blockwise = msg.code().is_success()
            && (op.download.is_some() || msg.block2().is_some_and(|b| b.is_ok_and(|b| b.more)));
        if !blockwise {
            let result = self.finish(id, msg, None);
            return self.complete(now, id, result, msg.observe());
        }
        let dl = op.download.get_or_insert_with(|| Download {
            fetcher: Block2Fetcher::new(szx, max),
            body: Vec::new(),
        });
        match dl.fetcher.on_response(msg) {
            Ok(chunk) => {
                dl.body.extend_from_slice(chunk.bytes);
                if chunk.more {
                    return self.resend(now, id);
                }
                let body = std::mem::take(&mut dl.body);
                let result = self.finish(id, msg, Some(&body));
                let seq = self.ops.get(&id).and_then(|o| o.observed_seq);
                self.complete(now, id, result, seq);
            }
            Err(Block2FetchError::EtagChanged) if op.restarts < 2 => {
                // RFC 7959 §2.4: the representation changed; start over.
                op.restarts += 1;
                op.download = None;
                self.resend(now, id);
            }
            Err(e) => {
                let err = match e {
                    Block2FetchError::TooLarge => RequestError::TooLarge,
                    Block2FetchError::Failed(c) => RequestError::Code(c),
                    Block2FetchError::EtagChanged => RequestError::BlockWise("ETag changed"),
                    _ => RequestError::BlockWise("unexpected block"),
                };
                self.complete(now, id, Err(err), None);
            }
        }
    }

    fn resend(&mut self, now: Instant, id: u64) {
        let peer = self.ops.get(&id).map(|o| o.peer);
        match self.send(id) {
            Ok(()) => {}
            // No room right now: it goes out with the next pump.
            Err(None) => {}
            Err(Some(e)) => self.complete(now, id, Err(e), None),
        }
        if let Some(p) = peer {
            self.mark_ready(p);
        }
    }

    fn finish(
        &self,
        id: u64,
        msg: &Message<'_>,
        body: Option<&[u8]>,
    ) -> Result<Response, RequestError> {
        let Some(op) = self.ops.get(&id) else {
            return Err(RequestError::Cancelled);
        };
        let payload = body.unwrap_or(msg.payload());
        wire::finish(
            op.expect,
            op.base,
            &op.root,
            msg,
            payload,
            self.config.limits.decode,
            self.config.limits.max_object_links,
        )
    }

    /// Ends op `id` with `result`: events, observations, bootstrap steps.
    pub(crate) fn complete(
        &mut self,
        now: Instant,
        id: u64,
        result: Result<Response, RequestError>,
        seq: Option<u32>,
    ) {
        let Some(op) = self.ops.remove(&id) else {
            return;
        };
        if let Some(t) = op.token {
            self.tokens.remove(&(op.peer, t));
            if let Some(p) = self.peers.get_mut(&op.peer) {
                p.coap.cancel_request(t);
            }
        }
        match op.purpose {
            Purpose::User => {
                if let (Some((paths, _)), Ok(_), Some(token)) =
                    (&op.observe, &result, op.observe_token)
                    && op.observed_seq.or(seq).is_some()
                {
                    self.add_observation(now, &op, paths.clone(), token, op.observed_seq.or(seq));
                }
                self.event(ServerEvent::Response {
                    endpoint: op.endpoint,
                    request: op.id,
                    result,
                });
            }
            Purpose::Bootstrap => {
                let step = result.map(|r| r.code);
                self.on_step(now, &op.endpoint, op.id, step);
            }
            Purpose::Notification { observation, seq } => match result {
                Ok(Response {
                    body: Body::Entries { format, entries },
                    ..
                }) => self.event(ServerEvent::Notification {
                    endpoint: op.endpoint,
                    observation: ReqId(observation),
                    seq,
                    format,
                    entries,
                }),
                // One broken notification does not end the observation;
                // the next one may well arrive whole.
                _ => self.stats.dropped += 1,
            },
        }
        self.pump(now, op.peer);
    }

    /// Removes a registration and everything that hangs on it.
    pub(crate) fn end_registration(
        &mut self,
        now: Instant,
        endpoint: &str,
        reason: DeregisterReason,
    ) {
        let Some(reg) = self.registry.remove(endpoint) else {
            return;
        };
        if let Some(p) = self.peers.get_mut(&reg.peer)
            && p.endpoint.as_deref() == Some(endpoint)
        {
            p.endpoint = None;
        }
        let doomed: Vec<u64> = self
            .ops
            .values()
            .filter(|o| o.endpoint == endpoint && o.purpose != Purpose::Bootstrap)
            .map(|o| o.id.0)
            .collect();
        for id in doomed {
            self.complete(now, id, Err(RequestError::Cancelled), None);
        }
        let obs: Vec<u64> = self
            .observations
            .values()
            .filter(|o| o.endpoint == endpoint)
            .map(|o| o.id.0)
            .collect();
        for id in obs {
            self.end_observation(id, ObservationEnd::Deregistered);
        }
        if reason != DeregisterReason::Replaced {
            self.event(ServerEvent::Deregistered {
                endpoint: endpoint.to_string(),
                reason,
            });
        }
    }

    /// Starts a bootstrap session with `endpoint` at `peer`: the script of
    /// its configuration. `requested` is false for a server-initiated
    /// bootstrap (Core 1.1, Server-Initiated Bootstrap). `preferred` is the client's `pct`.
    pub fn start_bootstrap(
        &mut self,
        now: Instant,
        endpoint: &str,
        peer: SocketAddr,
    ) -> Result<(), BootstrapError> {
        self.start_session(now, endpoint, peer, false, None)
    }

    pub(crate) fn start_session(
        &mut self,
        now: Instant,
        endpoint: &str,
        peer: SocketAddr,
        requested: bool,
        preferred: Option<Format>,
    ) -> Result<(), BootstrapError> {
        let script = self
            .config
            .bootstrap
            .as_ref()
            .and_then(|c| c.for_endpoint(endpoint))
            .map(|c| c.script(preferred))
            .ok_or(BootstrapError::UnknownEndpoint)?;
        if self.sessions.contains_key(endpoint) {
            self.abort_session(now, endpoint, BootstrapError::Superseded);
        }
        if self.peer_mut(now, peer).is_none() {
            return Err(BootstrapError::Superseded);
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.bootstrap = Some(endpoint.to_string());
        }
        self.sessions.insert(
            endpoint.to_string(),
            Session {
                peer,
                steps: script.into(),
                current: None,
            },
        );
        self.event(ServerEvent::BootstrapStarted {
            endpoint: endpoint.to_string(),
            peer,
            requested,
        });
        self.next_step(now, endpoint);
        Ok(())
    }

    fn next_step(&mut self, now: Instant, endpoint: &str) {
        let Some(s) = self.sessions.get_mut(endpoint) else {
            return;
        };
        let Some(op) = s.steps.pop_front() else {
            return self.end_session(endpoint, Ok(()));
        };
        let peer = s.peer;
        let desc = bootstrap::describe(&op);
        let finish = matches!(op, Operation::BootstrapFinish);
        match self.submit(now, endpoint, peer, op, Purpose::Bootstrap) {
            Ok(id) => {
                if let Some(s) = self.sessions.get_mut(endpoint) {
                    // The op may already have completed (a send failure).
                    if self.ops.contains_key(&id.0) {
                        s.current = Some((id, desc, finish));
                    }
                }
            }
            Err(error) => {
                self.end_session(endpoint, Err(BootstrapError::Step { step: desc, error }));
            }
        }
    }

    fn on_step(
        &mut self,
        now: Instant,
        endpoint: &str,
        id: ReqId,
        result: Result<Code, RequestError>,
    ) {
        let Some(s) = self.sessions.get_mut(endpoint) else {
            return;
        };
        if s.current.as_ref().map(|c| c.0) != Some(id) {
            return;
        }
        let step = s.current.as_ref().map(|c| c.1.clone()).unwrap_or_default();
        let next = s.on_answer(&result);
        self.event(ServerEvent::BootstrapStep {
            endpoint: endpoint.to_string(),
            step,
            result,
        });
        match next {
            Next::Continue => self.next_step(now, endpoint),
            Next::Done(r) => self.end_session(endpoint, r),
        }
    }

    fn abort_session(&mut self, now: Instant, endpoint: &str, why: BootstrapError) {
        let current = self
            .sessions
            .get_mut(endpoint)
            .and_then(|s| s.current.take());
        self.end_session(endpoint, Err(why));
        if let Some((id, _, _)) = current {
            self.complete(now, id.0, Err(RequestError::Cancelled), None);
        }
    }

    fn end_session(&mut self, endpoint: &str, result: Result<(), BootstrapError>) {
        if let Some(s) = self.sessions.remove(endpoint)
            && let Some(p) = self.peers.get_mut(&s.peer)
            && p.bootstrap.as_deref() == Some(endpoint)
        {
            p.bootstrap = None;
        }
        self.event(ServerEvent::BootstrapFinished {
            endpoint: endpoint.to_string(),
            result,
        });
    }
}
