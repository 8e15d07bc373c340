//! Requests from servers: CoAP request → LwM2M operation → data model →
//! response (OMA-TS-LightweightM2M_Core 1.1 §6.1, §6.3, §6.4; the
//! operation-to-CoAP mapping is `dm::request`).
//!
//! Every request runs in one data-model transaction (the operations in
//! `dm::ops` open and commit it). A Block1 request body is assembled by the
//! link's endpoint and applied in one transaction when the last block
//! arrives, except for streaming resources (the firmware package), whose
//! chunks go into one transaction held open between datagrams. While a
//! block-wise transfer of one server holds an object, the other servers'
//! requests touching it get 5.03 Service Unavailable with Max-Age.

use alloc::vec::Vec;

use super::Client;
use super::event::Event;
use super::link::Role;
use crate::coap::endpoint::{Request, RequestId};
use crate::coap::{Code, EmitError, Message, option};
use crate::content::{Decoder, Format, TypeResolver, tlv};
use crate::dm::oids::{ACCESS_CONTROL, SECURITY, SERVER};
use crate::dm::ops::{
    attributes as attr_op, bootstrap as bs, composite, create, delete, execute, write,
};
use crate::dm::{
    DataType, Interface, Level, ObjectDef, Oid, Operation, Origin, Path, RequestHead, Target,
    WriteMode, classify,
};
use crate::error::DmError;
use crate::time::Instant;

/// Instance id used to decode a Create payload that names no instance.
const PLACEHOLDER_IID: u16 = 65534;

/// Resolves resource types from the `const` definitions, without borrowing
/// the registry (which the operation borrows mutably).
pub(super) struct Defs(Vec<&'static ObjectDef>);

impl TypeResolver for Defs {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        let def = self.0.iter().find(|d| Some(d.id) == path.oid())?;
        def.resource(path.rid()?).map(|r| r.data_type)
    }
}

pub(super) fn emit(e: EmitError) -> DmError {
    let _ = e;
    DmError::Internal
}

/// Which objects an operation touches; `None` for "possibly any"
/// (composite operations and the root).
pub(super) fn touched(op: &Operation) -> Option<Oid> {
    match op {
        Operation::Read(p)
        | Operation::Observe(p)
        | Operation::CancelObserve(p)
        | Operation::Discover(p)
        | Operation::WriteReplace(p)
        | Operation::WriteUpdate(p)
        | Operation::WriteAttributes(p)
        | Operation::Execute(p)
        | Operation::Delete(p)
        | Operation::BootstrapRead(p)
        | Operation::BootstrapWrite(p)
        | Operation::BootstrapDelete(p)
        | Operation::BootstrapDiscover(p) => p.oid(),
        Operation::Create(oid) => Some(*oid),
        _ => None,
    }
}

/// What a completed operation asks of the response.
enum Reply {
    /// A code and no payload.
    Code(Code),
    /// 2.01 Created with Location-Path `/oid/iid`.
    Created(Oid, u16),
}

impl Client {
    /// The format used for hierarchical payloads when the server expresses
    /// no preference: TLV for LwM2M 1.0, SenML CBOR from 1.1 on.
    pub(super) fn hierarchical_format(&self) -> Format {
        match self.config.version {
            crate::dm::Lwm2mVersion::V1_0 => Format::Tlv,
            _ => Format::SenmlCbor,
        }
    }

    /// Handles one request from a server.
    pub(super) fn on_request(&mut self, now: Instant, li: usize, req: Request<'_>) {
        let Some(link) = self.links.get(li) else {
            return;
        };
        let (link_id, role) = (link.id, link.role);
        let (origin, interface) = match role {
            Role::Bootstrap => (Origin::Bootstrap, Interface::Bootstrap),
            Role::Server(ssid) => (Origin::Server(ssid), Interface::DeviceManagement),
            // Not a server: never served (on_coap keeps its datagrams).
            Role::Download => return,
        };
        let msg = req.msg;
        let id = req.id;
        let target = match Target::from_segments(msg.uri_path()) {
            Ok(t) => t,
            Err(_) => return self.reply_error(now, li, &id, DmError::NotFound),
        };
        // The endpoint read the options in one pass already.
        let head = RequestHead {
            method: msg.code(),
            target,
            content_format: id.content_format(),
            accept: id.accept(),
            observe: id.observe(),
            has_query: id.has_query(),
            has_payload: !msg.payload().is_empty(),
        };
        let op = match classify(interface, &head) {
            Ok(op) => op,
            Err(e) => return self.reply_error(now, li, &id, e),
        };
        // SPEC §1 guarantee 6: during a bootstrap session only the
        // Bootstrap-Server is served.
        if self.bootstrap.in_session() && origin != Origin::Bootstrap {
            self.stats.busy += 1;
            return self.reply_code(now, li, &id, Code::SERVICE_UNAVAILABLE, Some(30));
        }
        if origin == Origin::Bootstrap && !self.bootstrap_session_for_request(now) {
            return self.reply_error(now, li, &id, DmError::ServiceUnavailable);
        }
        // SPEC §1 guarantee 2: another server's open transfer on the object.
        // Nothing is held while no transfer is open (the usual case), and a
        // request naming one object needs no list of them: the hot path
        // makes no heap allocation.
        if !(self.locks.is_empty() && self.streams.is_empty()) {
            let held = match touched(&op) {
                Some(oid) => self.held_by_other(now, link_id, Some(&[oid])),
                None => {
                    let oids = self.touched_objects(&op, &msg);
                    self.held_by_other(now, link_id, oids.as_deref())
                }
            };
            if let Some(until) = held {
                return self.reply_busy(now, li, &id, until);
            }
        }
        if id.block1().is_some() {
            return self.on_block1(now, li, req, op, origin);
        }
        self.perform(now, li, &msg, &id, op, origin, msg.payload());
    }

    /// Runs `op` with `payload` (the request's, or an assembled Block1
    /// body) and answers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn perform(
        &mut self,
        now: Instant,
        li: usize,
        msg: &Message<'_>,
        id: &RequestId,
        op: Operation,
        origin: Origin,
        payload: &[u8],
    ) {
        let link = self.links.get(li).map(|l| l.id);
        let result = match op {
            Operation::Read(path) => {
                return self.respond_read(now, li, id, origin, path, false);
            }
            Operation::Observe(path) => {
                return self.respond_read(now, li, id, origin, path, true);
            }
            Operation::CancelObserve(path) => {
                self.cancel_observation(li, id);
                return self.respond_read(now, li, id, origin, path, false);
            }
            Operation::Discover(path) => {
                return self.respond_discover(now, li, msg, id, origin, path);
            }
            Operation::ReadComposite => {
                return self.respond_composite(now, li, msg, id, origin, payload, false);
            }
            Operation::ObserveComposite => {
                return self.respond_composite(now, li, msg, id, origin, payload, true);
            }
            Operation::CancelObserveComposite => {
                self.cancel_observation(li, id);
                return self.respond_composite(now, li, msg, id, origin, payload, false);
            }
            Operation::BootstrapRead(path) => {
                return self.respond_bootstrap_read(now, li, msg, id, path);
            }
            Operation::BootstrapDiscover(path) => {
                return self.respond_bootstrap_discover(now, li, id, path);
            }
            Operation::WriteReplace(path) => {
                self.do_write(now, msg, origin, path, WriteMode::Replace, payload)
            }
            Operation::WriteUpdate(path) => {
                self.do_write(now, msg, origin, path, WriteMode::Update, payload)
            }
            Operation::WriteComposite => self.do_write_composite(now, msg, origin, payload),
            Operation::WriteAttributes(path) => {
                let r = attr_op::write_attributes(
                    &self.dm,
                    &mut self.attrs,
                    origin,
                    &path,
                    msg.uri_query(),
                );
                if r.is_ok() {
                    self.attributes_changed(&path);
                }
                r.map(|()| Reply::Code(Code::CHANGED))
            }
            Operation::Execute(path) => self.do_execute(now, origin, path, payload),
            Operation::Create(oid) => self.do_create(now, msg, origin, oid, payload),
            Operation::Delete(path) => {
                let r = delete::delete(&mut self.dm, &mut self.attrs, origin, &path);
                if r.is_ok() {
                    self.after_delete(now, &path);
                }
                r.map(|()| Reply::Code(Code::DELETED))
            }
            Operation::BootstrapWrite(path) => self.do_bootstrap_write(msg, path, payload),
            Operation::BootstrapDelete(path) => {
                // Observations stay until the session commits (then every
                // registration restarts): a rollback keeps them valid.
                bs::bootstrap_delete(&mut self.dm, &mut self.attrs, &path)
                    .map(|()| Reply::Code(Code::DELETED))
            }
            Operation::BootstrapFinish => self
                .bootstrap_finish(now)
                .map(|()| Reply::Code(Code::CHANGED)),
        };
        // The operation may have closed links (a committed bootstrap, a
        // deleted Server instance), moving ours in `self.links`.
        let Some(li) = link.and_then(|l| self.link_index(l)) else {
            return;
        };
        match result {
            Ok(Reply::Code(code)) => self.reply_code(now, li, id, code, None),
            Ok(Reply::Created(oid, iid)) => {
                if let Some(l) = self.links.get_mut(li) {
                    let _ = l.endpoint.respond(now, id, Code::CREATED, |rb| {
                        let mut b = itoa_buf();
                        rb.option(option::LOCATION_PATH, itoa(&mut b, oid))?;
                        let mut b = itoa_buf();
                        rb.option(option::LOCATION_PATH, itoa(&mut b, iid))?;
                        Ok::<(), EmitError>(())
                    });
                }
                if self.bootstrap.in_session() {
                    self.bootstrap_activity(now);
                }
            }
            Err(e) => self.reply_error(now, li, id, e),
        }
        if origin == Origin::Bootstrap {
            self.bootstrap_activity(now);
        }
    }

    pub(super) fn request_format(msg: &Message<'_>) -> Result<Format, DmError> {
        let cf = msg
            .content_format()
            .ok_or(DmError::UnsupportedContentFormat)?;
        Format::from_number(cf).ok_or(DmError::UnsupportedContentFormat)
    }

    pub(super) fn defs_for(&self, oid: Option<Oid>) -> Defs {
        Defs(match oid {
            Some(o) => self.dm.def(o).into_iter().collect(),
            None => self.dm.iter().map(|o| o.def()).collect(),
        })
    }

    fn do_write(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        origin: Origin,
        path: Path,
        mode: WriteMode,
        payload: &[u8],
    ) -> Result<Reply, DmError> {
        let fmt = Self::request_format(msg)?;
        let defs = self.defs_for(path.oid());
        let limits = self.config.limits.decode;
        let dec = Decoder::new(fmt, payload, path, &defs, limits)?;
        write::write(&mut self.dm, origin, &path, mode, dec)?;
        self.after_write(now, origin, &[path]);
        Ok(Reply::Code(Code::CHANGED))
    }

    fn do_write_composite(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        origin: Origin,
        payload: &[u8],
    ) -> Result<Reply, DmError> {
        let fmt = Self::request_format(msg)?;
        let defs = self.defs_for(None);
        let limits = self.config.limits.decode;
        // Collect the written paths for notifications; the decode is cheap.
        let paths: Vec<Path> = Decoder::new(fmt, payload, Path::ROOT, &defs, limits)?
            .filter_map(|e| e.ok().map(|e| e.path))
            .collect();
        let dec = Decoder::new(fmt, payload, Path::ROOT, &defs, limits)?;
        composite::write_composite(&mut self.dm, origin, dec)?;
        self.after_write(now, origin, &paths);
        Ok(Reply::Code(Code::CHANGED))
    }

    fn do_bootstrap_write(
        &mut self,
        msg: &Message<'_>,
        path: Path,
        payload: &[u8],
    ) -> Result<Reply, DmError> {
        let fmt = Self::request_format(msg)?;
        let defs = self.defs_for(path.oid());
        let limits = self.config.limits.decode;
        let base = if fmt == Format::Tlv
            && path.level() == Level::Object
            && !tlv::starts_with_instance(payload)
        {
            return Err(DmError::BadRequest);
        } else {
            path
        };
        let dec = Decoder::new(fmt, payload, base, &defs, limits)?;
        bs::bootstrap_write(&mut self.dm, &path, dec)?;
        Ok(Reply::Code(Code::CHANGED))
    }

    fn do_execute(
        &mut self,
        now: Instant,
        origin: Origin,
        path: Path,
        payload: &[u8],
    ) -> Result<Reply, DmError> {
        let max_args = self.config.limits.dm.max_execute_args;
        execute::execute(&mut self.dm, origin, &path, payload, max_args)?;
        self.drain_object_events(now);
        Ok(Reply::Code(Code::CHANGED))
    }

    fn do_create(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        origin: Origin,
        oid: Oid,
        payload: &[u8],
    ) -> Result<Reply, DmError> {
        let defs = self.defs_for(Some(oid));
        let limits = self.config.limits.decode;
        let (base, explicit) = if payload.is_empty() {
            (Path::object(oid), true)
        } else {
            let fmt = Self::request_format(msg)?;
            if fmt == Format::Tlv && !tlv::starts_with_instance(payload) {
                (Path::instance(oid, PLACEHOLDER_IID), false)
            } else {
                (Path::object(oid), true)
            }
        };
        let (requested, iid) = if payload.is_empty() {
            (
                None,
                create::create(&mut self.dm, origin, oid, None, core::iter::empty())?,
            )
        } else {
            let fmt = Self::request_format(msg)?;
            let requested = if !explicit {
                None
            } else if fmt == Format::Tlv {
                // The id is in the Object Instance header, which may hold no
                // resource at all.
                tlv::first_instance_id(payload)
            } else {
                Decoder::new(fmt, payload, base, &defs, limits)?
                    .next()
                    .and_then(Result::ok)
                    .and_then(|e| e.path.iid())
                    .filter(|i| *i != PLACEHOLDER_IID)
            };
            let dec = Decoder::new(fmt, payload, base, &defs, limits)?;
            (
                requested,
                create::create(&mut self.dm, origin, oid, requested, dec)?,
            )
        };
        let _ = requested;
        self.after_create(now, origin, oid);
        Ok(Reply::Created(oid, iid))
    }

    /// After a committed write: observers, persistence, engine reactions.
    pub(super) fn after_write(&mut self, now: Instant, origin: Origin, paths: &[Path]) {
        let mut persist = false;
        let mut servers = false;
        for p in paths {
            self.mark_changed(p);
            match p.oid() {
                Some(SERVER) => {
                    persist = true;
                    servers = true;
                }
                Some(SECURITY | ACCESS_CONTROL) => persist = true,
                _ => {}
            }
            if matches!(origin, Origin::Server(_)) {
                self.push_event(Event::Written(*p));
            }
        }
        if persist && !self.bootstrap.in_session() {
            self.push_event(Event::Persist);
        }
        if servers && !self.bootstrap.in_session() {
            self.server_object_changed(now);
        }
        self.drain_object_events(now);
        self.kick = true;
    }

    fn after_create(&mut self, now: Instant, origin: Origin, oid: Oid) {
        self.after_write(now, origin, &[Path::object(oid)]);
        if matches!(oid, SECURITY | SERVER | ACCESS_CONTROL) || self.dm.contains(ACCESS_CONTROL) {
            self.push_event(Event::Persist);
        }
        self.objects_changed();
    }

    fn after_delete(&mut self, now: Instant, path: &Path) {
        self.observation_target_deleted(now, path);
        self.attrs.remove_under(path);
        self.mark_changed(&path.truncated(1));
        if matches!(path.oid(), Some(SECURITY | SERVER | ACCESS_CONTROL))
            || self.dm.contains(ACCESS_CONTROL)
        {
            self.push_event(Event::Persist);
        }
        if path.oid() == Some(SERVER) {
            self.server_object_changed(now);
        }
        self.objects_changed();
    }

    fn attributes_changed(&mut self, path: &Path) {
        self.push_event(Event::Persist);
        self.attributes_updated(path);
        self.kick = true;
    }

    /// Takes what the objects ask after a committed request: the Server
    /// object's triggers act on the engine (Core 1.1 E.2); everything is
    /// also reported to the application ([`Event::Object`]).
    pub(super) fn drain_object_events(&mut self, now: Instant) {
        use crate::dm::ObjectEvent;
        let mut got = Vec::new();
        for oid in self.dm.iter().map(|o| o.def().id).collect::<Vec<_>>() {
            if let Some(obj) = self.dm.get_mut(oid) {
                while let Some(e) = obj.poll_event() {
                    got.push(e);
                }
            }
        }
        for e in got {
            match &e {
                ObjectEvent::RegistrationUpdateTrigger { ssid } => self.update_trigger(*ssid),
                ObjectEvent::BootstrapRequestTrigger { .. } => self.request_bootstrap(now, false),
                ObjectEvent::Disable { ssid, timeout } => self.disable_server(now, *ssid, *timeout),
                _ => {}
            }
            self.push_event(Event::Object(e));
        }
    }
}

fn itoa_buf() -> [u8; 5] {
    [0; 5]
}

/// Formats a u16 in decimal into `buf` without `core::fmt`.
fn itoa(buf: &mut [u8; 5], mut v: u16) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_formats_every_width() {
        for v in [0u16, 7, 10, 99, 100, 65535, 12345] {
            let mut b = itoa_buf();
            assert_eq!(itoa(&mut b, v), alloc::format!("{v}").as_bytes());
        }
    }

    #[test]
    fn decode_errors_map_to_codes() {
        let e: DmError = crate::content::DecodeError::UnsupportedFormat.into();
        assert_eq!(e.code(), Code::UNSUPPORTED_CONTENT_FORMAT);
    }
}
