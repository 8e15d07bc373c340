//! Building responses and notifications in the endpoint's buffers.
//!
//! The caller writes its options and payload through a [`ResponseBuilder`];
//! the endpoint adds the options it manages (Observe, Block1, Block2, Size1,
//! Size2, and the ETag of a block-wise body) in option-number order. A body
//! too large for one message goes to a snapshot ([`ResponseBuilder::large_payload`])
//! and the message is then re-emitted as one block of it.

use super::block::Block;
use super::msg::{Code, EmitError, MessageBuilder, MsgType, Token};
use super::option::{self, Options};
use super::snapshot::Snapshots;
use crate::buf::Writer;
use crate::time::Instant;

/// The options only the endpoint may set on a response.
pub(crate) const fn is_managed(number: u16) -> bool {
    matches!(
        number,
        option::OBSERVE | option::BLOCK1 | option::BLOCK2 | option::SIZE1 | option::SIZE2
    )
}

/// Up to three managed options, in number order, to merge into a message.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Managed {
    items: [(u16, u32); 4],
    len: usize,
}

impl Managed {
    /// Adds `(number, value)`; callers add in increasing number order.
    pub(crate) fn push(&mut self, number: u16, value: u32) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (number, value);
            self.len += 1;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u16, u32)> + '_ {
        self.items.iter().take(self.len).copied()
    }
}

/// Writes one response or notification. Obtained from
/// [`super::Endpoint::respond`] or [`super::Endpoint::notify`] inside their
/// closure.
///
/// Add options in non-decreasing number order with [`ResponseBuilder::option`],
/// then write the payload with [`ResponseBuilder::payload`]. If the payload
/// does not fit (the writer returns [`crate::buf::Overflow`]), write it again
/// from the start with [`ResponseBuilder::large_payload`]: the endpoint then
/// serves it block-wise from a snapshot (RFC 7959 §2.4).
#[derive(Debug)]
pub struct ResponseBuilder<'r> {
    b: MessageBuilder<'r>,
    managed: Managed,
    flushed: usize,
    now: Instant,
    snaps: Option<&'r mut Snapshots>,
    large: Option<(usize, Writer<'r>)>,
}

impl<'r> ResponseBuilder<'r> {
    pub(crate) fn new(
        b: MessageBuilder<'r>,
        managed: Managed,
        now: Instant,
        snaps: &'r mut Snapshots,
    ) -> Self {
        ResponseBuilder {
            b,
            managed,
            flushed: 0,
            now,
            snaps: Some(snaps),
            large: None,
        }
    }

    fn flush_below(&mut self, number: u16) -> Result<(), EmitError> {
        while let Some((n, v)) = self.managed.items.get(self.flushed).copied() {
            if self.flushed >= self.managed.len || n > number {
                break;
            }
            self.b.uint_option(n, v)?;
            self.flushed += 1;
        }
        Ok(())
    }

    /// Appends an option; `number` must not be below the previous one, nor
    /// one the endpoint manages.
    pub fn option(&mut self, number: u16, value: &[u8]) -> Result<&mut Self, EmitError> {
        if is_managed(number) {
            return Err(EmitError::ManagedOption);
        }
        self.flush_below(number)?;
        self.b.option(number, value)?;
        Ok(self)
    }

    /// Appends an unsigned-integer option in its shortest form.
    pub fn uint_option(&mut self, number: u16, value: u32) -> Result<&mut Self, EmitError> {
        let (b, n) = option::encode_uint(value);
        self.option(number, b.get(..n).unwrap_or(&[]))
    }

    /// The writer for a payload that fits in one message.
    pub fn payload(&mut self) -> Result<&mut Writer<'r>, EmitError> {
        self.flush_below(u16::MAX)?;
        self.b.payload_writer()
    }

    /// The writer for a payload of up to `Limits::snapshot_bytes`, served
    /// block-wise. Anything written through [`ResponseBuilder::payload`] is
    /// discarded. Fails with [`EmitError::Overflow`] when snapshots are
    /// disabled.
    pub fn large_payload(&mut self) -> Result<&mut Writer<'r>, EmitError> {
        if self.large.is_none() {
            let snaps = self.snaps.take().ok_or(EmitError::Overflow)?;
            let slot = snaps.take(self.now).ok_or(EmitError::Overflow)?;
            let body = snaps.body_mut(slot).ok_or(EmitError::Overflow)?;
            self.large = Some((slot, Writer::new(body)));
        }
        match &mut self.large {
            Some((_, w)) => Ok(w),
            None => Err(EmitError::Overflow),
        }
    }

    /// Ends building: the message length, and the snapshot slot and body
    /// length if a large payload was written.
    pub(crate) fn finish(mut self) -> Result<(usize, Option<(usize, usize)>), EmitError> {
        let large = self.large.take().map(|(slot, w)| (slot, w.len()));
        if large.is_none() {
            self.flush_below(u16::MAX)?;
        }
        Ok((self.b.finish(), large))
    }
}

/// The fixed part of a message to emit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    pub(crate) mtype: MsgType,
    pub(crate) code: Code,
    pub(crate) mid: u16,
    pub(crate) token: Token,
}

/// Emits one block of a snapshot: `head`, the caller's options merged with
/// the ETag, the managed options and Block2 / Size2, then `bytes`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_block(
    buf: &mut [u8],
    head: Head,
    caller_options: &[u8],
    etag: &[u8],
    managed: Managed,
    block: Block,
    size2: usize,
    bytes: &[u8],
) -> Result<usize, EmitError> {
    let mut extra = Managed::default();
    for (n, v) in managed.iter() {
        if n < option::BLOCK2 {
            extra.push(n, v);
        }
    }
    extra.push(option::BLOCK2, block.encode());
    for (n, v) in managed.iter() {
        if n > option::BLOCK2 && n != option::SIZE2 {
            extra.push(n, v);
        }
    }
    // Size2 only with the first block (RFC 7959 §4 lets it ride along).
    let mut b = MessageBuilder::new(buf, head.mtype, head.code, head.mid, head.token.as_bytes())?;
    let mut extras = extra.iter().peekable();
    let mut etag_done = false;
    let mut size2_done = block.num != 0;
    let mut emit_up_to = |b: &mut MessageBuilder<'_>,
                          n: u16,
                          extras: &mut core::iter::Peekable<_>|
     -> Result<(), EmitError> {
        if !etag_done && option::ETAG <= n {
            b.option(option::ETAG, etag)?;
            etag_done = true;
        }
        while let Some((en, ev)) = extras.next_if(|(en, _): &(u16, u32)| *en <= n) {
            if !size2_done && option::SIZE2 <= en {
                b.uint_option(option::SIZE2, size2 as u32)?;
                size2_done = true;
            }
            b.uint_option(en, ev)?;
        }
        if !size2_done && option::SIZE2 <= n {
            b.uint_option(option::SIZE2, size2 as u32)?;
            size2_done = true;
        }
        Ok(())
    };
    for o in Options::new(caller_options) {
        if is_managed(o.number) || o.number == option::ETAG {
            continue;
        }
        emit_up_to(&mut b, o.number, &mut extras)?;
        b.option(o.number, o.value)?;
    }
    emit_up_to(&mut b, u16::MAX, &mut extras)?;
    b.payload(bytes)?;
    Ok(b.finish())
}
