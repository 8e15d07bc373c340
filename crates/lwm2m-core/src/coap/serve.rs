//! The endpoint's commands: answering requests, notifying observers,
//! sending our own requests, and the block-wise and Observe bookkeeping the
//! upper layer drives.

use core::convert::Infallible;

use super::{Endpoint, Request, RequestId, Tx};
use crate::coap::assembly::{Block1Error, Block1Mode, Block1Outcome};
use crate::coap::block::Block;
use crate::coap::compose::{Head, Managed, ResponseBuilder};
use crate::coap::exchange::{Outgoing, State};
use crate::coap::msg::{Code, EmitError, MessageBuilder, MsgType, Token, emit_empty};
use crate::coap::observe::{ObserveFull, Registered};
use crate::coap::option;
use crate::time::Instant;

/// Token length of our requests: 8 random bytes (RFC 7252 §5.3.1).
pub const TOKEN_LEN: usize = 8;

/// Why an observation was not registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObserveError {
    /// The request does not carry Observe=0.
    NotARegistration,
    /// `Limits::observations` are registered: answer without Observe
    /// (RFC 7641 §4.1 allows it).
    Full,
}

impl From<ObserveFull> for ObserveError {
    fn from(_: ObserveFull) -> Self {
        ObserveError::Full
    }
}

/// Why a response, notification or request was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RespondError<E> {
    /// The caller's closure failed; nothing was sent (try again, for
    /// instance with an error code).
    Render(E),
    /// The message did not fit (`Limits::max_message_size`, or
    /// `Limits::snapshot_bytes` for a large payload), or misused options.
    Emit(EmitError),
    /// `Limits::pending` messages are already in progress.
    Full,
    /// A later block was asked for past the end of the body (answered
    /// 4.02 Bad Option).
    NoSuchBlock,
}

/// Why a notification was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyError<E> {
    /// No observation with this token.
    NotObserved,
    /// As for a response.
    Send(RespondError<E>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Dedup(usize),
    Out(usize),
}

impl Endpoint {
    pub(super) fn target_buf(&mut self, t: Target) -> Option<&mut [u8]> {
        match t {
            Target::Dedup(s) => self.dedup.buffer(s),
            Target::Out(i) => {
                let s = self.out.get_mut(i)?;
                Some(s.buf.as_mut_slice())
            }
        }
    }

    /// The response head and target for request `req`; `None` when a
    /// separate response finds no free slot.
    pub(super) fn response_target(
        &mut self,
        now: Instant,
        req: &RequestId,
        code: Code,
    ) -> Option<(Target, Head)> {
        let head = |mtype, mid| Head {
            mtype,
            code,
            mid,
            token: req.token,
        };
        if req.separate {
            // §5.2.2: a separate response is a new message of its own.
            let i = self.out.alloc()?;
            let mtype = if req.con { MsgType::Con } else { MsgType::Non };
            let mid = self.new_mid();
            return Some((Target::Out(i), head(mtype, mid)));
        }
        let slot = match self.dedup.slot_of(now, req.mid) {
            Some(s) => s,
            None => {
                let life = self.exchange_lifetime;
                self.dedup.insert(now, req.mid, now + life).slot()
            }
        };
        let h = if req.con {
            // §5.2.1: piggybacked on the ACK, same message ID.
            head(MsgType::Ack, req.mid)
        } else {
            // §5.2.3: a Non-confirmable request gets a Non-confirmable
            // response with a new message ID.
            let mid = self.new_mid();
            head(MsgType::Non, mid)
        };
        Some((Target::Dedup(slot), h))
    }

    /// The options the endpoint adds to a response to `req` with `code`.
    fn managed_for(&mut self, req: &RequestId, code: Code, mid: u16) -> Managed {
        let mut m = Managed::default();
        if req.observe == Some(0) && self.observations.get(req.token).is_some() {
            if code.is_success() {
                if let Some(seq) = self.observations.next_seq(req.token, mid) {
                    m.push(option::OBSERVE, seq);
                }
            } else {
                // RFC 7641 §4.1: an error response ends the registration.
                self.observations.cancel(req.token);
            }
        }
        if let Some(b1) = req.block1.filter(|_| code.is_success()) {
            // RFC 7959 §2.3: echo the block; a smaller SZX asks the client
            // to continue with smaller blocks (§2.5).
            let echo = Block {
                szx: b1.szx.min(self.limits.block_szx),
                ..b1
            };
            m.push(option::BLOCK1, echo.encode());
        }
        if code == Code::REQUEST_ENTITY_TOO_LARGE {
            // RFC 7959 §2.9.3: tell the client the largest body we take.
            let max = u32::try_from(self.assemblies.max_body()).unwrap_or(u32::MAX);
            m.push(option::SIZE1, max);
        }
        m
    }

    /// Answers request `req` with `code`; `render` adds options and the
    /// payload. A Confirmable request is answered piggybacked on its ACK
    /// (unless [`Endpoint::accept_later`] was called: then it is a separate
    /// Confirmable response), a Non-confirmable one with a Non-confirmable
    /// response. The answer is remembered for de-duplication.
    ///
    /// The endpoint adds Observe (when the request registered with
    /// [`Endpoint::observe`] and `code` is 2.xx; an error code ends the
    /// registration), the Block1 echo, Size1 with 4.13, and serves the
    /// payload block-wise when it is larger than the block size the request
    /// asked for or was written with [`ResponseBuilder::large_payload`].
    pub fn respond<E>(
        &mut self,
        now: Instant,
        req: &RequestId,
        code: Code,
        render: impl FnOnce(&mut ResponseBuilder<'_>) -> Result<(), E>,
    ) -> Result<(), RespondError<E>> {
        let (target, head) = self
            .response_target(now, req, code)
            .ok_or(RespondError::Full)?;
        let managed = self.managed_for(req, code, head.mid);
        let result = self.compose(now, target, head, managed, req.block2, req.key, render);
        let len = match result {
            Ok(len) => len,
            Err(e) => {
                if let Target::Out(i) = target {
                    self.out.free(i);
                }
                if let RespondError::NoSuchBlock = e {
                    self.respond_plain(now, req, Code::BAD_OPTION);
                }
                return Err(e);
            }
        };
        if req.block1.is_some_and(|b| !b.more) || code.class() >= 4 {
            self.assemblies.release(req.key);
        }
        self.commit_response(req, target, head, len);
        Ok(())
    }

    /// Answers with `code` and no payload (used for 4.02 / 4.00 / 4.08...).
    pub(crate) fn respond_plain(&mut self, now: Instant, req: &RequestId, code: Code) {
        let _ = self.respond(now, req, code, |_| Ok::<(), Infallible>(()));
    }

    /// Acknowledges a Confirmable request now with an empty ACK and returns
    /// the handle to answer it later with [`Endpoint::respond`] (a separate
    /// response, RFC 7252 §5.2.2). For a Non-confirmable request nothing is
    /// sent now.
    pub fn accept_later(&mut self, now: Instant, req: &RequestId) -> RequestId {
        if req.con && !req.separate {
            let slot = match self.dedup.slot_of(now, req.mid) {
                Some(s) => s,
                None => {
                    let life = self.exchange_lifetime;
                    self.dedup.insert(now, req.mid, now + life).slot()
                }
            };
            let mut b = [0u8; 4];
            if emit_empty(&mut b, MsgType::Ack, req.mid).is_ok() && self.dedup.store(slot, &b) {
                self.queue(Tx::Cached { slot, mid: req.mid });
            }
        }
        RequestId {
            separate: true,
            ..*req
        }
    }

    /// Registers the observation requested by `req` (a GET with Observe=0,
    /// RFC 7641 §3.1; a repeated token replaces its registration). Call
    /// before [`Endpoint::respond`], which then carries the first sequence
    /// number.
    pub fn observe(&mut self, req: &RequestId) -> Result<Registered, ObserveError> {
        if req.observe != Some(0) {
            return Err(ObserveError::NotARegistration);
        }
        let first = self.rng.next_u32() & 0xffff;
        Ok(self.observations.register(req.token, req.key, first)?)
    }

    /// Ends the observation of `token` (the upper layer's decision); whether
    /// there was one.
    pub fn cancel_observe(&mut self, token: Token) -> bool {
        self.observations.cancel(token)
    }

    /// Sends a notification to the observation `token` with the next
    /// sequence number. `confirmable` chooses CON or NON (RFC 7641 §4.5). A
    /// Confirmable notification still in flight for the same token is
    /// replaced by the new one, keeping its retransmission state (§4.5.2).
    /// A non-2.xx code ends the observation.
    pub fn notify<E>(
        &mut self,
        now: Instant,
        token: Token,
        code: Code,
        confirmable: bool,
        render: impl FnOnce(&mut ResponseBuilder<'_>) -> Result<(), E>,
    ) -> Result<(), NotifyError<E>> {
        let Some(obs) = self.observations.get(token).copied() else {
            return Err(NotifyError::NotObserved);
        };
        let reuse = self.out.notification_in_flight(token);
        let i = match reuse {
            Some(i) => i,
            None => self
                .out
                .alloc()
                .ok_or(NotifyError::Send(RespondError::Full))?,
        };
        let mid = self.new_mid();
        let mtype = if confirmable || reuse.is_some() {
            MsgType::Con
        } else {
            MsgType::Non
        };
        let head = Head {
            mtype,
            code,
            mid,
            token,
        };
        let mut managed = Managed::default();
        if code.is_success()
            && let Some(seq) = self.observations.next_seq(token, mid)
        {
            managed.push(option::OBSERVE, seq);
        }
        let result = self.compose(now, Target::Out(i), head, managed, None, obs.key, render);
        let len = match result {
            Ok(len) => len,
            Err(e) => {
                // A reused slot's old message was partly overwritten: it
                // cannot be retransmitted any more either.
                self.out.free(i);
                self.dequeue();
                return Err(NotifyError::Send(e));
            }
        };
        if !code.is_success() {
            // RFC 7641 §3.2: a non-2.xx notification ends the observation.
            self.observations.cancel(token);
        }
        if reuse.is_some() {
            if let Some(s) = self.out.get_mut(i) {
                s.mid = mid;
                s.len = len;
                if matches!(s.state, State::AwaitAck(_)) {
                    let generation = s.generation;
                    self.queue(Tx::Out {
                        slot: i,
                        generation,
                    });
                }
            }
        } else {
            self.launch(i, Outgoing::Notification, head, len);
        }
        Ok(())
    }

    /// Sends a request of ours, Confirmable or not; `build` adds options
    /// and payload. Returns its token, by which the response
    /// ([`super::Received::Response`]) or a give-up ([`super::Event::GaveUp`])
    /// is reported. Confirmable requests beyond NSTART wait in a queue.
    pub fn request<E>(
        &mut self,
        confirmable: bool,
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), E>,
    ) -> Result<Token, RespondError<E>> {
        let token = self.fresh_token();
        self.request_as(token, confirmable, code, build)
    }

    /// Sends a request of ours with a token the caller chose, as
    /// [`Endpoint::request`] does otherwise. This is for the requests that
    /// must reuse a token: an Observe deregistration (GET or FETCH with
    /// Observe=1) carries the token of the observation it cancels (RFC 7641
    /// §3.6). Fails with [`RespondError::Full`] while a request of ours with
    /// the same token still awaits its response.
    pub fn request_with_token<E>(
        &mut self,
        token: Token,
        confirmable: bool,
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), E>,
    ) -> Result<Token, RespondError<E>> {
        if self.out.request_by_token(token).is_some() {
            return Err(RespondError::Full);
        }
        self.request_as(token, confirmable, code, build)
    }

    fn request_as<E>(
        &mut self,
        token: Token,
        confirmable: bool,
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), E>,
    ) -> Result<Token, RespondError<E>> {
        let i = self.out.alloc().ok_or(RespondError::Full)?;
        let mid = self.new_mid();
        let mtype = if confirmable {
            MsgType::Con
        } else {
            MsgType::Non
        };
        let built = match self.target_buf(Target::Out(i)) {
            Some(buf) => MessageBuilder::new(buf, mtype, code, mid, token.as_bytes()),
            None => Err(EmitError::Overflow),
        };
        let len = match built {
            Ok(mut b) => match build(&mut b) {
                Ok(()) => b.finish(),
                Err(e) => {
                    self.out.free(i);
                    return Err(RespondError::Render(e));
                }
            },
            Err(e) => {
                self.out.free(i);
                return Err(RespondError::Emit(e));
            }
        };
        let head = Head {
            mtype,
            code,
            mid,
            token,
        };
        self.launch(i, Outgoing::Request, head, len);
        Ok(token)
    }

    /// Forgets our request `token` (no event follows); whether it was known.
    pub fn cancel_request(&mut self, token: Token) -> bool {
        match self.out.request_by_token(token) {
            Some(i) => {
                self.out.free(i);
                self.dequeue();
                true
            }
            None => false,
        }
    }

    fn fresh_token(&mut self) -> Token {
        let mut bytes = [0u8; TOKEN_LEN];
        loop {
            self.rng.fill(&mut bytes);
            let t = Token::new(&bytes).unwrap_or_default();
            // 2^-64 odds of a clash; the loop ends.
            if self.out.request_by_token(t).is_none() && self.observations.get(t).is_none() {
                return t;
            }
        }
    }

    /// Records a built message in slot `i` and queues it.
    pub(super) fn launch(&mut self, i: usize, kind: Outgoing, head: Head, len: usize) {
        let con = head.mtype == MsgType::Con;
        let nstart = self.params.nstart();
        let Some(s) = self.out.get_mut(i) else {
            return;
        };
        s.kind = kind;
        s.token = head.token;
        s.mid = head.mid;
        s.con = con;
        s.len = len;
        let generation = s.generation;
        let now = if con {
            self.out.launch_con(i, nstart)
        } else {
            s.state = State::Unsent;
            true
        };
        if now {
            self.queue(Tx::Out {
                slot: i,
                generation,
            });
        }
    }

    /// Feeds a block of a Block1 request (RFC 7959 §2.3) to its transfer.
    /// Call it for requests with [`RequestId::block1`]; then answer with
    /// [`Endpoint::respond`]: 2.31 Continue for
    /// [`Block1Outcome::Continue`] or a non-last chunk, the final response
    /// once complete, or [`Block1Error::code`] on error. A request without
    /// Block1 is one whole chunk.
    pub fn block1<'a>(
        &mut self,
        now: Instant,
        req: &Request<'a>,
        mode: Block1Mode,
    ) -> Result<Block1Outcome<'a>, Block1Error> {
        let payload = req.msg.payload();
        let Some(block) = req.id.block1 else {
            return Ok(Block1Outcome::Chunk {
                offset: 0,
                bytes: payload,
                last: true,
            });
        };
        let expires = now + self.exchange_lifetime;
        let size1 = req.msg.size1();
        let (r, abandoned) = self
            .assemblies
            .push(expires, req.id.key, block, size1, payload, mode);
        if let Some(transfer) = abandoned {
            self.event(super::Event::TransferAbandoned { transfer });
        }
        r
    }

    /// The body of a completed [`Block1Mode::Assemble`] transfer; read it
    /// before sending the final response (which releases it).
    pub fn block1_body(&self, req: &RequestId) -> Option<&[u8]> {
        self.assemblies.body(req.key)
    }

    pub(super) fn commit_response(
        &mut self,
        req: &RequestId,
        target: Target,
        head: Head,
        len: usize,
    ) {
        match target {
            Target::Dedup(slot) => {
                self.dedup.set_len(slot, len);
                self.queue(Tx::Cached { slot, mid: req.mid });
            }
            Target::Out(i) => self.launch(i, Outgoing::Response, head, len),
        }
    }
}
