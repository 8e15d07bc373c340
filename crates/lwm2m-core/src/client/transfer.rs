//! Block-wise transfers of servers' requests (RFC 7959; SPEC §1 guarantees
//! 2 and 3): Block1 bodies assembled by the link's endpoint and applied in
//! one transaction at the last block, streaming resources written chunk by
//! chunk into one transaction held open between datagrams, and the holds
//! those transfers (and Block2 snapshots) put on their object while they
//! last: another server's request touching it is answered 5.03 with
//! Max-Age, everything else is served.

use super::Client;
use super::dispatch::touched;
use super::event::LinkId;
use alloc::vec::Vec;

use crate::coap::assembly::{Block1Mode, Block1Outcome};
use crate::coap::endpoint::{Request, RequestId};
use crate::coap::{Code, Message};
use crate::content::{Decoder, Format, senml_cbor, senml_json};
use crate::dm::ops::write;
use crate::dm::{Level, Oid, Operation, Origin, Path};
use crate::error::DmError;
use crate::time::Instant;

impl Client {
    /// The objects a request touches: the one its path names, or those its
    /// composite payload names. `None` for "possibly any": the root, or a
    /// composite payload not readable yet (a Block1 block of it).
    pub(super) fn touched_objects(&self, op: &Operation, msg: &Message<'_>) -> Option<Vec<Oid>> {
        if let Some(oid) = touched(op) {
            return Some(alloc::vec![oid]);
        }
        let limits = self.config.limits.decode;
        let payload = msg.payload();
        if msg.block1().is_some() {
            return None;
        }
        let fmt = Self::request_format(msg).ok()?;
        let paths: Vec<Path> = match op {
            Operation::ReadComposite
            | Operation::ObserveComposite
            | Operation::CancelObserveComposite => match fmt {
                Format::SenmlJson => senml_json::SenmlJsonPaths::new(payload, limits)
                    .collect::<Result<_, _>>()
                    .ok()?,
                Format::SenmlCbor => senml_cbor::SenmlCborPaths::new(payload, limits)
                    .collect::<Result<_, _>>()
                    .ok()?,
                _ => return None,
            },
            Operation::WriteComposite => {
                let defs = self.defs_for(None);
                Decoder::new(fmt, payload, Path::ROOT, &defs, limits)
                    .ok()?
                    .map(|e| e.map(|e| e.path))
                    .collect::<Result<_, _>>()
                    .ok()?
            }
            _ => return None,
        };
        paths.iter().map(Path::oid).collect()
    }

    /// If another link's open block-wise transfer holds an object the
    /// request touches (`oids`, from [`Client::touched_objects`]; `None`
    /// for any): until when.
    pub(super) fn held_by_other(
        &mut self,
        now: Instant,
        link: LinkId,
        oids: Option<&[Oid]>,
    ) -> Option<Instant> {
        let links = &self.links;
        self.locks.retain(|k| {
            links
                .iter()
                .find(|l| l.id == k.link)
                .and_then(|l| l.endpoint.transfer_open_until(now, k.key))
                .is_some()
        });
        let mut until: Option<Instant> = None;
        for k in &self.locks {
            if k.link == link || oids.is_some_and(|os| !os.contains(&k.oid)) {
                continue;
            }
            let t = self
                .links
                .iter()
                .find(|l| l.id == k.link)
                .and_then(|l| l.endpoint.transfer_open_until(now, k.key));
            until = match (until, t) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        if until.is_none() && self.streams.iter().any(|s| s.link != link) {
            // A streaming write's suspended transaction: the registry
            // refuses its objects; give the server a retry hint.
            return oids
                .filter(|os| os.iter().any(|o| self.dm.check_unlocked(*o).is_err()))
                .map(|_| now + crate::time::Duration::from_secs(5));
        }
        until
    }

    pub(super) fn lock(&mut self, link: LinkId, oid: Option<Oid>, key: u64) {
        let Some(oid) = oid else {
            return;
        };
        if !self.locks.iter().any(|k| k.link == link && k.key == key) {
            self.locks.push(super::Lock { link, oid, key });
        }
    }

    /// A request carrying Block1 (RFC 7959 §2.3): assembled, or streamed
    /// into a held transaction for streaming resources.
    pub(super) fn on_block1(
        &mut self,
        now: Instant,
        li: usize,
        req: Request<'_>,
        op: Operation,
        origin: Origin,
    ) {
        let id = req.id;
        let Some(link_id) = self.links.get(li).map(|l| l.id) else {
            return;
        };
        let stream_path = match op {
            Operation::WriteReplace(p) | Operation::WriteUpdate(p)
                if p.level() == Level::Resource
                    && self.dm.resource_def(&p).is_some_and(|r| r.streaming) =>
            {
                Some(p)
            }
            _ => None,
        };
        let mode = if stream_path.is_some() {
            Block1Mode::Stream
        } else {
            Block1Mode::Assemble
        };
        let outcome = match self.links.get_mut(li) {
            Some(l) => l.endpoint.block1(now, &req, mode),
            None => return,
        };
        let key = id.transfer();
        match outcome {
            Err(e) => {
                self.abandon_stream(link_id, key);
                self.reply_code(now, li, &id, e.code(), None);
            }
            Ok(Block1Outcome::Continue) => {
                self.lock(link_id, touched(&op), key);
                self.reply_code(now, li, &id, Code::CONTINUE, None);
            }
            Ok(Block1Outcome::Complete { .. }) => {
                let body = self
                    .links
                    .get(li)
                    .and_then(|l| l.endpoint.block1_body(&id))
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                self.locks.retain(|k| !(k.link == link_id && k.key == key));
                self.perform(now, li, &req.msg, &id, op, origin, &body);
            }
            Ok(Block1Outcome::Chunk {
                offset,
                bytes,
                last,
            }) => {
                let Some(path) = stream_path else {
                    return self.reply_error(now, li, &id, DmError::BadRequest);
                };
                self.stream_chunk(now, li, link_id, &id, origin, path, offset, bytes, last);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn stream_chunk(
        &mut self,
        now: Instant,
        li: usize,
        link: LinkId,
        id: &RequestId,
        origin: Origin,
        path: Path,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) {
        let key = id.transfer();
        let held = self
            .streams
            .iter()
            .position(|s| s.link == link && s.key == key)
            .map(|i| self.streams.swap_remove(i));
        let mut txn = match (offset, held) {
            (0, Some(old)) => {
                self.dm.abandon(old.txn);
                self.dm.transaction()
            }
            (0, None) => self.dm.transaction(),
            (_, Some(s)) => self.dm.resume(s.txn),
            (_, None) => return self.reply_error(now, li, id, DmError::RequestEntityIncomplete),
        };
        if let Err(e) = write::write_chunk(&mut txn, origin, &path, offset, bytes, last) {
            txn.rollback();
            self.locks.retain(|k| !(k.link == link && k.key == key));
            return self.reply_error(now, li, id, e);
        }
        if last {
            let r = txn.commit();
            self.locks.retain(|k| !(k.link == link && k.key == key));
            match r {
                Ok(()) => {
                    self.after_write(now, origin, &[path]);
                    self.reply_code(now, li, id, Code::CHANGED, None);
                }
                Err(e) => self.reply_error(now, li, id, e),
            }
        } else {
            let txn = txn.suspend();
            self.streams.push(super::Stream { link, key, txn });
            self.lock(link, path.oid(), key);
            self.reply_code(now, li, id, Code::CONTINUE, None);
        }
    }

    /// A response that went out block-wise holds its object until the last
    /// block is fetched (SPEC §1 guarantee 2).
    pub(super) fn lock_if_snapshot(
        &mut self,
        now: Instant,
        li: usize,
        id: &RequestId,
        oid: Option<Oid>,
    ) {
        let Some(l) = self.links.get(li) else {
            return;
        };
        let link = l.id;
        if l.endpoint.transfer_open_until(now, id.transfer()).is_some() {
            self.lock(link, oid, id.transfer());
        }
    }
}
