//! What the endpoint reports: what a datagram brought ([`Received`]), the
//! handle to answer a request ([`RequestId`]), timer and side-effect
//! [`Event`]s, and counters ([`Stats`]).

use crate::coap::block::{self, Block};
use crate::coap::exchange::Outgoing;
use crate::coap::msg::{Message, MsgType, Token};

/// What a datagram brought.
#[derive(Debug)]
#[non_exhaustive]
pub enum Received<'a> {
    /// A new request: answer it with [`super::Endpoint::respond`].
    Request(Request<'a>),
    /// A response to our request `token` (piggybacked or separate; a
    /// separate Confirmable response has been acknowledged).
    Response {
        /// The token of our request.
        token: Token,
        /// The response.
        msg: Message<'a>,
    },
    /// The peer reset our message: a request (it will not answer) or a
    /// notification (the observation is cancelled, RFC 7641 §3.6).
    Reset {
        /// The token of the message.
        token: Token,
        /// What it was.
        what: Outgoing,
    },
    /// A repeated message (RFC 7252 §4.5): the stored answer, if any, was
    /// queued again; the upper layer must not act on it again.
    Duplicate,
    /// Handled here; nothing for the upper layer.
    Handled,
}

/// A request from the peer, borrowing the datagram.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The message.
    pub msg: Message<'a>,
    /// What the endpoint needs to answer it; keep it to answer later.
    pub id: RequestId,
}

/// The handle to answer a request, small and `Copy` so that a separate
/// response can be sent after the datagram is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestId {
    pub(crate) mid: u16,
    pub(crate) token: Token,
    pub(crate) con: bool,
    pub(crate) key: u64,
    pub(crate) block1: Option<Block>,
    pub(crate) block2: Option<Block>,
    pub(crate) observe: Option<u32>,
    pub(crate) content_format: Option<u16>,
    pub(crate) accept: Option<u16>,
    pub(crate) has_query: bool,
    /// What the options are wrong with, if anything: 4.02 or 4.00.
    pub(crate) invalid: Option<crate::coap::Code>,
    pub(crate) separate: bool,
}

impl RequestId {
    /// Everything the endpoint and the upper layer need from the request's
    /// options, in one pass over them (this runs for every request).
    pub(crate) fn of(msg: &Message<'_>) -> RequestId {
        use crate::coap::option as o;
        let mut id = RequestId {
            mid: msg.mid(),
            token: msg.token(),
            con: msg.mtype() == MsgType::Con,
            key: 0,
            block1: None,
            block2: None,
            observe: None,
            content_format: None,
            accept: None,
            has_query: false,
            invalid: None,
            separate: false,
        };
        let mut key = block::KeyHasher::new(msg.code());
        let mut prev = None;
        for opt in msg.options() {
            let first = prev != Some(opt.number);
            prev = Some(opt.number);
            if let Err(e) = crate::coap::msg::check_option(opt.number, opt.value.len(), !first) {
                // RFC 7252 §5.4.1: the first bad critical option decides.
                id.invalid = id.invalid.or(Some(e.code()));
            }
            let uint = || o::decode_uint(opt.value);
            let block = |v: &[u8], bad: &mut Option<crate::coap::Code>| match Block::decode(v) {
                Ok(b) => Some(b),
                Err(e) => {
                    // RFC 7959 §2.2: a reserved SZX is 4.00.
                    *bad = bad.or(Some(e.code()));
                    None
                }
            };
            match opt.number {
                o::BLOCK1 if first => id.block1 = block(opt.value, &mut id.invalid),
                o::BLOCK2 if first => id.block2 = block(opt.value, &mut id.invalid),
                o::OBSERVE if first => id.observe = uint(),
                o::CONTENT_FORMAT if first => {
                    id.content_format = uint().and_then(|v| u16::try_from(v).ok());
                }
                o::ACCEPT if first => id.accept = uint().and_then(|v| u16::try_from(v).ok()),
                o::URI_QUERY => id.has_query = true,
                _ => {}
            }
            key.option(opt.number, opt.value);
        }
        id.key = key.finish();
        id
    }

    /// Content-Format of the request.
    pub fn content_format(&self) -> Option<u16> {
        self.content_format
    }

    /// Accept of the request.
    pub fn accept(&self) -> Option<u16> {
        self.accept
    }

    /// Whether the request has at least one Uri-Query option.
    pub fn has_query(&self) -> bool {
        self.has_query
    }

    /// The request's token.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Whether the request was Confirmable.
    pub fn is_confirmable(&self) -> bool {
        self.con
    }

    /// The block-wise transfer this request belongs to (RFC 7959 §2.4), as
    /// reported by [`Event::TransferAbandoned`].
    pub fn transfer(&self) -> u64 {
        self.key
    }

    /// The request's Block1 option, if valid.
    pub fn block1(&self) -> Option<Block> {
        self.block1
    }

    /// The request's Block2 option, if valid. A request that reaches the
    /// upper layer with a block number above 0 continues a transfer whose
    /// snapshot is gone: render the resource again and respond; the endpoint
    /// serves the requested block with a new ETag.
    pub fn block2(&self) -> Option<Block> {
        self.block2
    }

    /// Observe: `Some(0)` asks to register ([`super::Endpoint::observe`]),
    /// `Some(1)` deregisters (the endpoint has already removed the
    /// registration of this token, RFC 7641 §3.6).
    pub fn observe(&self) -> Option<u32> {
        self.observe
    }
}

/// Something that happened on a timer or as a side effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Our message `token` was abandoned: a Confirmable message not
    /// acknowledged after MAX_RETRANSMIT retransmissions, or a request
    /// without a response within EXCHANGE_LIFETIME. For a notification the
    /// observation is cancelled (RFC 7641 §4.5).
    GaveUp {
        /// The token of the message.
        token: Token,
        /// What it was.
        what: Outgoing,
    },
    /// A Block1 transfer stopped before its last block (idle past
    /// EXCHANGE_LIFETIME, or displaced by a newer one): a streaming consumer
    /// rolls back.
    TransferAbandoned {
        /// [`RequestId::transfer`] of its requests.
        transfer: u64,
    },
}

/// Counters of what the endpoint did on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams dropped: unparseable, too large, unexpected.
    pub dropped: u64,
    /// RSTs sent (pings, rejected messages).
    pub resets_sent: u64,
    /// Duplicates detected.
    pub duplicates: u64,
    /// De-duplication entries evicted while still live.
    pub dedup_evictions: u64,
    /// Transmissions dropped because the queue or the caller's buffer was
    /// too small.
    pub tx_dropped: u64,
    /// Events dropped because they were not polled.
    pub events_dropped: u64,
    /// Retransmissions.
    pub retransmissions: u64,
}
