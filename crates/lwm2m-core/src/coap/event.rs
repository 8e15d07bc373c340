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
    pub(crate) separate: bool,
}

impl RequestId {
    pub(crate) fn of(msg: &Message<'_>) -> RequestId {
        RequestId {
            mid: msg.mid(),
            token: msg.token(),
            con: msg.mtype() == MsgType::Con,
            key: block::request_key(msg),
            block1: msg.block1().and_then(Result::ok),
            block2: msg.block2().and_then(Result::ok),
            observe: msg.observe(),
            separate: false,
        }
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
