//! Block-wise answers (RFC 7959 §2.4): a body too large for one message,
//! or larger than the block size the peer asked for, goes into a snapshot,
//! and each block is cut from it with the snapshot's ETag.

use super::Endpoint;
use super::serve::{RespondError, Target};
use crate::coap::block::Block;
use crate::coap::compose::{Head, Managed, ResponseBuilder, emit_block};
use crate::coap::endpoint::RequestId;
use crate::coap::msg::{Code, EmitError, Message, MessageBuilder};
use crate::time::Instant;

impl Endpoint {
    /// Serves block `want` of snapshot `snap` as the answer to `req`
    /// (RFC 7959 §2.4: later blocks come from the snapshot).
    pub(crate) fn serve_snapshot(
        &mut self,
        now: Instant,
        req: &RequestId,
        snap: usize,
        want: Block,
    ) {
        let Some((target, head)) = self.response_target(now, req, Code::CONTENT) else {
            return;
        };
        match self.emit_from_snapshot(now, target, head, Managed::default(), snap, want) {
            Ok(len) => self.commit_response(req, target, head, len),
            // The block starts past the end of the body.
            Err(_) => self.respond_plain(now, req, Code::BAD_OPTION),
        }
    }

    /// Writes block `want` of snapshot `snap` into `target` with the
    /// snapshot's code, and returns the message length. The block shrinks
    /// until the message fits `Limits::max_message_size`.
    fn emit_from_snapshot(
        &mut self,
        now: Instant,
        target: Target,
        head: Head,
        managed: Managed,
        snap: usize,
        want: Block,
    ) -> Result<usize, EmitError> {
        let exp = now + self.exchange_lifetime;
        let max = self.limits.max_message_size;
        let pref = self.limits.block_szx;
        self.snapshots.touch(snap, exp);
        let Endpoint {
            snapshots,
            dedup,
            out,
            ..
        } = self;
        let (code, _, etag, opts) = snapshots.head(snap).ok_or(EmitError::Overflow)?;
        // Header, token, options, ETag, Observe, Block2, Size2, marker.
        let overhead = 4 + head.token.len() + opts.len() + 5 + 4 + 4 + 5 + 4 + 1;
        let mut szx = want.szx.min(pref);
        while szx > 0 && (1usize << (szx + 4)) + overhead > max {
            szx -= 1;
        }
        // The client counts in its block size; a smaller one of ours starts
        // at the same byte offset (RFC 7959 §2.4, late negotiation).
        let num = want.num << (want.szx.saturating_sub(szx));
        let cut = snapshots.cut(snap, num, szx).ok_or(EmitError::Overflow)?;
        let buf = match target {
            Target::Dedup(s) => dedup.buffer(s),
            Target::Out(i) => out.get_mut(i).map(|s| s.buf.as_mut_slice()),
        }
        .ok_or(EmitError::Overflow)?;
        let head = Head { code, ..head };
        let n = emit_block(
            buf, head, opts, &etag, managed, cut.block, cut.total, cut.bytes,
        )?;
        if !cut.block.more {
            snapshots.release(snap);
        }
        Ok(n)
    }

    /// Builds a response or notification into `target`: the caller's
    /// `render`, then either the message as written or, for a large body or
    /// a smaller requested block size, block `block2`'s number of a new
    /// snapshot. Returns the message length.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compose<E>(
        &mut self,
        now: Instant,
        target: Target,
        head: Head,
        managed: Managed,
        block2: Option<Block>,
        key: u64,
        render: impl FnOnce(&mut ResponseBuilder<'_>) -> Result<(), E>,
    ) -> Result<usize, RespondError<E>> {
        let (len, large) = {
            let Endpoint {
                snapshots,
                dedup,
                out,
                ..
            } = self;
            let buf = match target {
                Target::Dedup(s) => dedup.buffer(s),
                Target::Out(i) => out.get_mut(i).map(|s| s.buf.as_mut_slice()),
            }
            .ok_or(RespondError::Emit(EmitError::Overflow))?;
            let token = head.token;
            let b = MessageBuilder::new(buf, head.mtype, head.code, head.mid, token.as_bytes())
                .map_err(RespondError::Emit)?;
            let mut rb = ResponseBuilder::new(b, managed, now, snapshots);
            render(&mut rb).map_err(RespondError::Render)?;
            rb.finish().map_err(RespondError::Emit)?
        };
        if large.is_none() && block2.is_none() {
            // The common case: the message as written is the answer.
            return Ok(len);
        }
        let written = self.target_buf(target).and_then(|b| b.get(..len));
        let Some(msg) = written.and_then(|b| Message::parse(b).ok()) else {
            return Err(RespondError::Emit(EmitError::Overflow));
        };
        // Error responses are never cut into blocks, so a 4.02 for a
        // block past the end is itself a plain message.
        let payload_len = msg.payload().len();
        let blockwise = large.is_some()
            || (head.code.is_success()
                && block2.is_some_and(|b| b.num > 0 || payload_len > b.size()));
        if !blockwise {
            return Ok(len);
        }
        // Move the caller's options (and a small payload) into a snapshot.
        let slot = match large {
            Some((slot, _)) => slot,
            None => self
                .snapshots
                .take(now)
                .ok_or(RespondError::Emit(EmitError::Overflow))?,
        };
        let body_len = large.map_or(payload_len, |(_, n)| n);
        {
            let Endpoint {
                snapshots,
                dedup,
                out,
                ..
            } = self;
            let written = match target {
                Target::Dedup(s) => dedup.buffer_ref(s),
                Target::Out(i) => out.get(i).map(|s| s.buf.as_slice()),
            };
            let msg = written
                .and_then(|b| b.get(..len))
                .and_then(|b| Message::parse(b).ok())
                .ok_or(RespondError::Emit(EmitError::Overflow))?;
            if large.is_none() {
                let body = snapshots
                    .body_mut(slot)
                    .and_then(|b| b.get_mut(..body_len))
                    .ok_or(RespondError::Emit(EmitError::Overflow))?;
                body.copy_from_slice(msg.payload());
            }
            let opts = snapshots
                .options_mut(slot)
                .ok_or(RespondError::Emit(EmitError::Overflow))?;
            opts.clear();
            opts.extend_from_slice(msg.option_bytes());
        }
        let mut etag = [0u8; 4];
        self.rng.fill(&mut etag);
        let exp = now + self.exchange_lifetime;
        self.snapshots
            .commit(slot, key, etag, head.code, None, body_len, exp);
        let want = block2.unwrap_or(Block {
            num: 0,
            more: false,
            szx: self.limits.block_szx,
        });
        self.emit_from_snapshot(now, target, head, managed, slot, want)
            .map_err(|_| RespondError::NoSuchBlock)
    }
}
