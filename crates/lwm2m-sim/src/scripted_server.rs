//! A scripted LwM2M Device Management server node: it answers the
//! Registration interface (OMA-TS-LightweightM2M_Core 1.1 §6.2: Register
//! 2.01 with a Location-Path, Update 2.04, De-register 2.02, and Send §6.4.6
//! 2.04), records every request, and lets the test issue DM requests
//! (through [`Exchanges`], which it dereferences to) and read their typed
//! outcomes. Its answers can be changed ([`RegScript`]) to provoke the
//! client's failure paths.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use lwm2m_core::coap::assembly::{Block1Mode, Block1Outcome};
use lwm2m_core::coap::endpoint::Request;
use lwm2m_core::coap::{Code, EmitError, Endpoint, Limits, TransmissionParams, option};
use lwm2m_core::time::Instant;

use crate::exchanges::Exchanges;
use crate::net::Addr;
use crate::response::{Recorded, strings};
use crate::world::Node;

/// How the server answers the Registration interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegScript {
    /// Answer to Register (2.01 registers the client).
    pub register: Code,
    /// Answer to an Update of a known registration (unknown ones get 4.04).
    pub update: Code,
    /// Answer to De-register.
    pub deregister: Code,
    /// Answer to Send.
    pub send: Code,
    /// Whether requests are answered at all (false: the server swallows
    /// them, as if it were down while the network still works).
    pub answer: bool,
}

impl Default for RegScript {
    fn default() -> Self {
        RegScript {
            register: Code::CREATED,
            update: Code::CHANGED,
            deregister: Code::DELETED,
            send: Code::CHANGED,
            answer: true,
        }
    }
}

/// A client's registration as the server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Endpoint Client Name (`ep=`).
    pub endpoint: String,
    /// Location-Path given to the client (`rd/{n}`).
    pub location: Vec<String>,
    /// Lifetime (`lt=`), as last sent.
    pub lifetime: Option<u32>,
    /// Binding (`b=`), as last sent.
    pub binding: Option<String>,
    /// LwM2M version (`lwm2m=`).
    pub version: Option<String>,
    /// Queue mode (`Q`, 1.1).
    pub queue: bool,
    /// The object list (link format), as last sent.
    pub objects: String,
    /// When it registered.
    pub registered_at: Instant,
    /// Updates received.
    pub updates: u32,
    /// When the last Register or Update arrived.
    pub last_seen: Instant,
}

/// A Send (Core 1.1 §6.4.6) the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Arrival (of the last block).
    pub at: Instant,
    /// Sender.
    pub from: Addr,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// The whole payload.
    pub payload: Vec<u8>,
}

/// The scripted DM server. See the module documentation.
#[derive(Debug)]
pub struct ScriptedServer {
    exchanges: Exchanges,
    /// How it answers.
    pub script: RegScript,
    regs: BTreeMap<Addr, Registration>,
    log: Vec<Recorded>,
    sends: Vec<Sent>,
    next_location: u32,
    registers: u32,
}

impl Deref for ScriptedServer {
    type Target = Exchanges;
    fn deref(&self) -> &Exchanges {
        &self.exchanges
    }
}

impl DerefMut for ScriptedServer {
    fn deref_mut(&mut self) -> &mut Exchanges {
        &mut self.exchanges
    }
}

impl ScriptedServer {
    /// A server with default CoAP parameters, seeded from `seed`.
    pub fn new(seed: u64) -> ScriptedServer {
        ScriptedServer::with(seed, TransmissionParams::default(), Limits::default())
    }

    /// A server with these CoAP parameters and limits.
    pub fn with(seed: u64, params: TransmissionParams, limits: Limits) -> ScriptedServer {
        ScriptedServer {
            exchanges: Exchanges::with(seed, params, limits),
            script: RegScript::default(),
            regs: BTreeMap::new(),
            log: Vec::new(),
            sends: Vec::new(),
            next_location: 0,
            registers: 0,
        }
    }

    /// The registration of the client at `addr`.
    pub fn registration(&self, addr: Addr) -> Option<&Registration> {
        self.regs.get(&addr)
    }

    /// Whether the client at `addr` is registered.
    pub fn is_registered(&self, addr: Addr) -> bool {
        self.regs.contains_key(&addr)
    }

    /// Every registration, by client address.
    pub fn registrations(&self) -> &BTreeMap<Addr, Registration> {
        &self.regs
    }

    /// Registers accepted so far (every 2.01 the server gave).
    pub fn register_count(&self) -> u32 {
        self.registers
    }

    /// Every request clients sent, in arrival order.
    pub fn requests(&self) -> &[Recorded] {
        &self.log
    }

    /// Every Send received.
    pub fn sends(&self) -> &[Sent] {
        &self.sends
    }

    /// Forgets every registration (a server restart that lost its state:
    /// the next Update gets 4.04).
    pub fn forget_registrations(&mut self) {
        self.regs.clear();
    }

    #[allow(clippy::too_many_arguments)]
    fn on_request(
        script: RegScript,
        regs: &mut BTreeMap<Addr, Registration>,
        log: &mut Vec<Recorded>,
        sends: &mut Vec<Sent>,
        next_location: &mut u32,
        registers: &mut u32,
        now: Instant,
        from: Addr,
        ep: &mut Endpoint,
        req: Request<'_>,
    ) {
        let msg = req.msg;
        log.push(Recorded::of(now, from, &msg));
        if !script.answer {
            return;
        }
        let body = match ep.block1(now, &req, Block1Mode::Assemble) {
            Err(e) => return respond(now, ep, &req, e.code(), &[]),
            Ok(Block1Outcome::Continue) => return respond(now, ep, &req, Code::CONTINUE, &[]),
            Ok(Block1Outcome::Complete { .. }) => ep
                .block1_body(&req.id)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            Ok(Block1Outcome::Chunk { bytes, .. }) => bytes.to_vec(),
        };
        let path = strings(msg.uri_path());
        let rec = Recorded::of(now, from, &msg);
        let text = String::from_utf8_lossy(&body).into_owned();
        let segs: Vec<&str> = path.iter().map(String::as_str).collect();
        match (msg.code(), segs.as_slice()) {
            (Code::POST, ["rd"]) => {
                if script.register != Code::CREATED {
                    return respond(now, ep, &req, script.register, &[]);
                }
                *next_location += 1;
                *registers += 1;
                let location = vec!["rd".to_string(), next_location.to_string()];
                let reg = Registration {
                    endpoint: rec.query("ep").unwrap_or_default().to_string(),
                    location: location.clone(),
                    lifetime: rec.query("lt").and_then(|v| v.parse().ok()),
                    binding: rec.query("b").map(String::from),
                    version: rec.query("lwm2m").map(String::from),
                    queue: rec.query("Q").is_some(),
                    objects: text,
                    registered_at: now,
                    updates: 0,
                    last_seen: now,
                };
                regs.insert(from, reg);
                let loc: Vec<&[u8]> = location.iter().map(|s| s.as_bytes()).collect();
                respond(now, ep, &req, Code::CREATED, &loc);
            }
            (Code::POST, ["rd", _]) => {
                let found = regs
                    .iter()
                    .find(|(_, r)| r.location == path)
                    .map(|(a, _)| *a);
                let Some(old) = found else {
                    return respond(now, ep, &req, Code::NOT_FOUND, &[]);
                };
                if script.update.is_success()
                    && let Some(mut reg) = regs.remove(&old)
                {
                    reg.updates += 1;
                    reg.last_seen = now;
                    if let Some(lt) = rec.query("lt").and_then(|v| v.parse().ok()) {
                        reg.lifetime = Some(lt);
                    }
                    if let Some(b) = rec.query("b") {
                        reg.binding = Some(b.into());
                    }
                    if !body.is_empty() {
                        reg.objects = text;
                    }
                    // The client may have moved (NAT rebinding).
                    regs.insert(from, reg);
                }
                respond(now, ep, &req, script.update, &[]);
            }
            (Code::DELETE, ["rd", _]) => {
                let found = regs
                    .iter()
                    .find(|(_, r)| r.location == path)
                    .map(|(a, _)| *a);
                match found {
                    Some(a) => {
                        if script.deregister.is_success() {
                            regs.remove(&a);
                        }
                        respond(now, ep, &req, script.deregister, &[]);
                    }
                    None => respond(now, ep, &req, Code::NOT_FOUND, &[]),
                }
            }
            (Code::POST, ["dp"]) => {
                sends.push(Sent {
                    at: now,
                    from,
                    content_format: msg.content_format(),
                    payload: body,
                });
                respond(now, ep, &req, script.send, &[]);
            }
            _ => respond(now, ep, &req, Code::NOT_FOUND, &[]),
        }
    }
}

pub(crate) fn respond(
    now: Instant,
    ep: &mut Endpoint,
    req: &Request<'_>,
    code: Code,
    location: &[&[u8]],
) {
    let _ = ep.respond(now, &req.id, code, |rb| {
        for seg in location {
            rb.option(option::LOCATION_PATH, seg)?;
        }
        Ok::<(), EmitError>(())
    });
}

impl Node for ScriptedServer {
    fn handle_datagram(&mut self, now: Instant, from: Addr, bytes: &[u8]) {
        let ScriptedServer {
            exchanges,
            script,
            regs,
            log,
            sends,
            next_location,
            registers,
        } = self;
        let script = *script;
        exchanges.handle_datagram(now, from, bytes, &mut |now, from, ep, req| {
            ScriptedServer::on_request(
                script,
                regs,
                log,
                sends,
                next_location,
                registers,
                now,
                from,
                ep,
                req,
            )
        });
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(Addr, usize)> {
        self.exchanges.poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.exchanges.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.exchanges.handle_timeout(now);
    }
}
