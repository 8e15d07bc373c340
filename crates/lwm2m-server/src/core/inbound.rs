//! Requests from clients: Register, Update, De-register
//! (OMA-TS-LightweightM2M_Core 1.1 §6.2), Send (§6.4, `POST /dp`) and
//! Bootstrap-Request (§6.1, `POST /bs?ep=..`).
//!
//! | request | success | failures |
//! |---|---|---|
//! | `POST /rd?ep=..` + links | 2.01, `Location-Path: rd/<id>` | 4.00 bad query or payload, 4.12 version |
//! | `POST /rd/<id>?lt=..` | 2.04 | 4.00, 4.04 unknown location |
//! | `DELETE /rd/<id>` | 2.02 | 4.04 |
//! | `POST /dp` + SenML / LwM2M CBOR | 2.04 | 4.00 undecodable, 4.04 not registered, 4.15 format |
//! | `POST /bs?ep=..&pct=..` | 2.04, then the script | 4.00 unknown endpoint or bad query |
//! | `GET /bspack?ep=..` (1.2) | 2.05, the whole configuration in SenML CBOR | 4.00, 4.06 Accept |

use std::convert::Infallible;
use std::net::SocketAddr;

use lwm2m_core::coap::{Block1Mode, Block1Outcome, Code, Request, RequestId, option};
use lwm2m_core::content::Format;
use lwm2m_core::time::Instant;

use super::Server;
use super::event::{DeregisterReason, ServerEvent};
use super::registration::{self, QueryError, QueryLimits};
use super::registry::Registration;
use super::wire;

/// What to do with a request's payload.
enum Payload {
    /// Complete (reassembled if it came in blocks).
    Ready(Vec<u8>),
    /// Already answered (2.31 Continue, or a block-wise error).
    Answered,
}

fn query_code(e: &QueryError) -> Code {
    match e {
        QueryError::UnsupportedVersion(_) => Code::PRECONDITION_FAILED,
        _ => Code::BAD_REQUEST,
    }
}

impl Server {
    fn respond(&mut self, now: Instant, peer: SocketAddr, id: &RequestId, code: Code) {
        if let Some(p) = self.peers.get_mut(&peer) {
            let _ = p.coap.respond(now, id, code, |_| Ok::<(), Infallible>(()));
        }
    }

    fn reject(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        req: &Request<'_>,
        code: Code,
        reason: String,
    ) {
        self.respond(now, peer, &req.id, code);
        let path: Vec<String> = req
            .msg
            .uri_path()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        let method = match req.msg.code() {
            Code::GET => "GET",
            Code::POST => "POST",
            Code::PUT => "PUT",
            Code::DELETE => "DELETE",
            Code::FETCH => "FETCH",
            Code::IPATCH => "iPATCH",
            _ => "request",
        };
        self.event(ServerEvent::Rejected {
            peer,
            request: format!("{method} /{}", path.join("/")),
            code,
            reason,
        });
    }

    fn payload(&mut self, now: Instant, peer: SocketAddr, req: &Request<'_>) -> Payload {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Payload::Answered;
        };
        match p.coap.block1(now, req, Block1Mode::Assemble) {
            Ok(Block1Outcome::Chunk { bytes, .. }) => Payload::Ready(bytes.to_vec()),
            Ok(Block1Outcome::Complete { .. }) => {
                Payload::Ready(p.coap.block1_body(&req.id).unwrap_or(&[]).to_vec())
            }
            Ok(Block1Outcome::Continue) => {
                self.respond(now, peer, &req.id, Code::CONTINUE);
                Payload::Answered
            }
            Err(e) => {
                self.respond(now, peer, &req.id, e.code());
                Payload::Answered
            }
        }
    }

    fn query_limits(&self) -> QueryLimits {
        QueryLimits {
            max_endpoint_len: self.config.limits.max_endpoint_len,
            strict: self.config.strict_queries,
        }
    }

    pub(crate) fn on_request(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let code = req.msg.code();
        let mut segs = req.msg.uri_path();
        let (first, second, third) = (segs.next(), segs.next(), segs.next());
        let dm = self.config.dm;
        let bs = self.config.bootstrap.is_some();
        match (code, first, second, third) {
            (Code::POST, Some(b"rd"), None, None) if dm => self.register(now, peer, req),
            (Code::POST, Some(b"rd"), Some(loc), None) if dm => {
                let loc = String::from_utf8_lossy(loc).into_owned();
                self.update(now, peer, req, &loc);
            }
            (Code::DELETE, Some(b"rd"), Some(loc), None) if dm => {
                let loc = String::from_utf8_lossy(loc).into_owned();
                self.deregister(now, peer, req, &loc);
            }
            (_, Some(b"rd"), _, _) if dm => {
                self.reject(
                    now,
                    peer,
                    &req,
                    Code::METHOD_NOT_ALLOWED,
                    "not a registration method".into(),
                );
            }
            (Code::POST, Some(b"dp"), None, None) if dm => self.send_op(now, peer, req),
            (Code::POST, Some(b"bs"), None, None) if bs => self.bootstrap_request(now, peer, req),
            (Code::GET, Some(b"bspack"), None, None) if bs => self.bootstrap_pack(now, peer, req),
            _ => self.reject(now, peer, &req, Code::NOT_FOUND, "no such resource".into()),
        }
    }

    fn register(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let q = match registration::parse_register(req.msg.uri_query(), self.query_limits()) {
            Ok(q) => q,
            Err(e) => return self.reject(now, peer, &req, query_code(&e), e.to_string()),
        };
        if req
            .msg
            .content_format()
            .is_some_and(|cf| cf != Format::LinkFormat.number())
        {
            return self.reject(
                now,
                peer,
                &req,
                Code::BAD_REQUEST,
                "payload is not link format".into(),
            );
        }
        let body = match self.payload(now, peer, &req) {
            Payload::Ready(b) => b,
            Payload::Answered => return,
        };
        let objects = match registration::parse_objects(&body, self.config.limits.max_object_links)
        {
            Ok(o) => o,
            Err(e) => return self.reject(now, peer, &req, Code::BAD_REQUEST, e.to_string()),
        };
        let replaced = self.registry.get(&q.endpoint).is_some();
        if !replaced && self.registry.len() >= self.config.limits.max_registrations {
            return self.reject(
                now,
                peer,
                &req,
                Code::SERVICE_UNAVAILABLE,
                "registrations full".into(),
            );
        }
        if replaced {
            self.end_registration(now, &q.endpoint, DeregisterReason::Replaced);
        }
        let location = loop {
            let l = format!("{:08x}", self.rng.next_u32());
            if !self.registry.has_location(&l) {
                break l;
            }
        };
        let endpoint = q.endpoint.clone();
        self.registry.insert(Registration {
            endpoint: q.endpoint,
            location: location.clone(),
            peer,
            lifetime: q.lifetime,
            version: q.version,
            binding: q.binding,
            queue: q.queue,
            sms: q.sms,
            objects,
            registered_at: now,
            updated_at: now,
            last_heard: now,
        });
        if let Some(p) = self.peers.get_mut(&peer) {
            p.endpoint = Some(endpoint.clone());
            let _ = p.coap.respond(now, &req.id, Code::CREATED, |r| {
                r.option(option::LOCATION_PATH, b"rd")?;
                r.option(option::LOCATION_PATH, location.as_bytes())?;
                Ok::<(), lwm2m_core::coap::EmitError>(())
            });
        }
        self.event(ServerEvent::Registered {
            endpoint,
            location,
            peer,
            replaced,
        });
    }

    fn update(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>, loc: &str) {
        let Some(endpoint) = self.registry.endpoint_at(loc).map(str::to_string) else {
            return self.reject(
                now,
                peer,
                &req,
                Code::NOT_FOUND,
                "unknown registration".into(),
            );
        };
        let q = match registration::parse_update(req.msg.uri_query(), self.query_limits()) {
            Ok(q) => q,
            Err(e) => return self.reject(now, peer, &req, Code::BAD_REQUEST, e.to_string()),
        };
        let body = match self.payload(now, peer, &req) {
            Payload::Ready(b) => b,
            Payload::Answered => return,
        };
        let objects = if body.is_empty() {
            None
        } else {
            match registration::parse_objects(&body, self.config.limits.max_object_links) {
                Ok(o) => Some(o),
                Err(e) => return self.reject(now, peer, &req, Code::BAD_REQUEST, e.to_string()),
            }
        };
        let Some(r) = self.registry.get_mut(&endpoint) else {
            return;
        };
        let old_peer = r.peer;
        if let Some(lt) = q.lifetime {
            r.lifetime = lt;
        }
        if let Some(b) = q.binding {
            r.binding = b;
        }
        if let Some(queue) = q.queue {
            r.queue = queue;
        }
        if q.sms.is_some() {
            r.sms = q.sms;
        }
        let objects_changed = objects.is_some();
        if let Some(o) = objects {
            r.objects = o;
        }
        r.updated_at = now;
        r.last_heard = now;
        r.peer = peer;
        if old_peer != peer {
            // The client moved (NAT rebinding): requests and notifications
            // follow it.
            if let Some(p) = self.peers.get_mut(&old_peer)
                && p.endpoint.as_deref() == Some(endpoint.as_str())
            {
                p.endpoint = None;
            }
            for o in self.ops.values_mut() {
                if o.endpoint == endpoint && o.token.is_none() {
                    o.peer = peer;
                }
            }
            self.move_observations(&endpoint, peer);
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.endpoint = Some(endpoint.clone());
        }
        self.respond(now, peer, &req.id, Code::CHANGED);
        self.event(ServerEvent::Updated {
            endpoint,
            peer,
            objects_changed,
        });
    }

    fn deregister(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>, loc: &str) {
        let Some(endpoint) = self.registry.endpoint_at(loc).map(str::to_string) else {
            return self.reject(
                now,
                peer,
                &req,
                Code::NOT_FOUND,
                "unknown registration".into(),
            );
        };
        self.respond(now, peer, &req.id, Code::DELETED);
        self.end_registration(now, &endpoint, DeregisterReason::Client);
    }

    fn send_op(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let endpoint = self
            .peers
            .get(&peer)
            .and_then(|p| p.endpoint.clone())
            .filter(|ep| self.registry.get(ep).is_some_and(|r| r.peer == peer));
        let Some(endpoint) = endpoint else {
            return self.reject(
                now,
                peer,
                &req,
                Code::NOT_FOUND,
                "Send from an unregistered client".into(),
            );
        };
        // Core 1.1 §6.4: SenML JSON / CBOR, or LwM2M CBOR (1.2).
        let format = req.msg.content_format().and_then(Format::from_number);
        let Some(format) = format
            .filter(|f| matches!(f, Format::SenmlJson | Format::SenmlCbor | Format::Lwm2mCbor))
        else {
            return self.reject(
                now,
                peer,
                &req,
                Code::UNSUPPORTED_CONTENT_FORMAT,
                "Send needs SenML or LwM2M CBOR".into(),
            );
        };
        let body = match self.payload(now, peer, &req) {
            Payload::Ready(b) => b,
            Payload::Answered => return,
        };
        let decoded = wire::decode_entries(
            Some(format.number()),
            &body,
            lwm2m_core::dm::Path::ROOT,
            self.config.limits.decode,
        );
        match decoded {
            Ok((format, entries)) => {
                self.respond(now, peer, &req.id, Code::CHANGED);
                self.event(ServerEvent::Send {
                    endpoint,
                    format,
                    entries,
                });
            }
            Err(e) => self.reject(now, peer, &req, Code::BAD_REQUEST, e.to_string()),
        }
    }

    fn bootstrap_request(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let mut ep = None;
        let mut pct = None;
        for item in req.msg.uri_query() {
            let s = String::from_utf8_lossy(item);
            match s.split_once('=') {
                Some(("ep", v))
                    if !v.is_empty() && v.len() <= self.config.limits.max_endpoint_len =>
                {
                    ep = Some(v.to_string());
                }
                Some(("pct", v)) => match v.parse::<u16>().ok().and_then(Format::from_number) {
                    Some(f) => pct = Some(f),
                    None => {
                        return self.reject(
                            now,
                            peer,
                            &req,
                            Code::BAD_REQUEST,
                            "invalid pct".into(),
                        );
                    }
                },
                _ if self.config.strict_queries => {
                    return self.reject(
                        now,
                        peer,
                        &req,
                        Code::BAD_REQUEST,
                        format!("bad parameter {s:?}"),
                    );
                }
                _ => {}
            }
        }
        let Some(ep) = ep else {
            return self.reject(now, peer, &req, Code::BAD_REQUEST, "missing ep".into());
        };
        let known = self
            .config
            .bootstrap
            .as_ref()
            .is_some_and(|c| c.for_endpoint(&ep).is_some());
        if !known {
            // Core 1.1 §6.1: 4.00 for an unknown Endpoint Client Name.
            return self.reject(
                now,
                peer,
                &req,
                Code::BAD_REQUEST,
                format!("no bootstrap configuration for {ep:?}"),
            );
        }
        if !self.sessions.contains_key(&ep)
            && self.sessions.len() >= self.config.limits.max_bootstrap_sessions
        {
            return self.reject(
                now,
                peer,
                &req,
                Code::SERVICE_UNAVAILABLE,
                "bootstrap sessions full".into(),
            );
        }
        self.respond(now, peer, &req.id, Code::CHANGED);
        let _ = self.start_session(now, &ep, peer, true, pct);
    }

    /// Bootstrap-Pack-Request (LwM2M 1.2 Core §6.1, Bootstrap-Pack-Request): the whole
    /// configuration of the endpoint in one response, SenML CBOR by default
    /// (LwM2M CBOR when the Accept asks), block-wise when large.
    fn bootstrap_pack(&mut self, now: Instant, peer: SocketAddr, req: Request<'_>) {
        let ep = req.msg.uri_query().find_map(|q| {
            std::str::from_utf8(q)
                .ok()
                .and_then(|s| s.strip_prefix("ep="))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        });
        let Some(ep) = ep else {
            return self.reject(now, peer, &req, Code::BAD_REQUEST, "missing ep".into());
        };
        let format = match req.msg.accept() {
            None | Some(112) => Format::SenmlCbor,
            Some(11544) => Format::Lwm2mCbor,
            Some(_) => {
                return self.reject(
                    now,
                    peer,
                    &req,
                    Code::NOT_ACCEPTABLE,
                    "Accept must be SenML CBOR or LwM2M CBOR".into(),
                );
            }
        };
        let entries: Option<Vec<_>> = self
            .config
            .bootstrap
            .as_ref()
            .and_then(|c| c.for_endpoint(&ep))
            .map(|c| {
                c.security
                    .iter()
                    .flat_map(|s| s.entries())
                    .chain(c.servers.iter().flat_map(|s| s.entries()))
                    .chain(c.acls.iter().flat_map(|a| a.entries()))
                    .collect()
            });
        let Some(entries) = entries else {
            return self.reject(
                now,
                peer,
                &req,
                Code::BAD_REQUEST,
                format!("no bootstrap configuration for {ep:?}"),
            );
        };
        let body = match wire::encode_entries(
            format,
            lwm2m_core::dm::Path::ROOT,
            &entries,
            self.config.coap.snapshot_bytes,
        ) {
            Ok(b) => b,
            Err(e) => {
                return self.reject(now, peer, &req, Code::INTERNAL_SERVER_ERROR, e.to_string());
            }
        };
        self.event(ServerEvent::BootstrapStarted {
            endpoint: ep.clone(),
            peer,
            requested: true,
        });
        if let Some(p) = self.peers.get_mut(&peer) {
            let sent = p.coap.respond(now, &req.id, Code::CONTENT, |r| {
                r.uint_option(option::CONTENT_FORMAT, u32::from(format.number()))?;
                if r.payload()?.put(&body).is_err() {
                    r.large_payload()?
                        .put(&body)
                        .map_err(|_| lwm2m_core::coap::EmitError::Overflow)?;
                }
                Ok::<(), lwm2m_core::coap::EmitError>(())
            });
            if sent.is_err() {
                self.respond(now, peer, &req.id, Code::INTERNAL_SERVER_ERROR);
            }
        }
        self.event(ServerEvent::BootstrapFinished {
            endpoint: ep,
            result: Ok(()),
        });
    }
}
