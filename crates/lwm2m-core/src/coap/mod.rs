//! CoAP for LwM2M: RFC 7252 (messages, reliability, de-duplication),
//! RFC 7959 (block-wise) and RFC 7641 (Observe), sans-IO.
//!
//! This layer knows nothing of LwM2M: it never imports from `dm`, `content`
//! or `client`.
//!
//! | module | job |
//! |---|---|
//! | [`msg`], [`option`], [`block`] | the wire: message view and builder, options, Block values |
//! | [`reliability`] | transmission parameters, the CON retransmission schedule |
//! | [`dedup`] | message-ID de-duplication replaying cached responses |
//! | [`observe`] | server-role Observe registrations and sequence numbers |
//! | [`assembly`], [`snapshot`] | server-role Block1 reassembly, Block2 snapshots |
//! | [`block_client`] | client-role Block1 upload and Block2 download helpers |
//! | [`endpoint`] | the per-link endpoint tying them together |

pub mod assembly;
pub mod block;
pub mod block_client;
mod compose;
pub mod dedup;
pub mod endpoint;
mod exchange;
pub mod limits;
pub mod msg;
pub mod observe;
pub mod option;
pub mod reliability;
pub mod snapshot;

pub use assembly::{Block1Error, Block1Mode, Block1Outcome};
pub use block::{Block, BlockError};
pub use block_client::{Block1Sender, Block1Step, Block2Chunk, Block2FetchError, Block2Fetcher};
pub use compose::ResponseBuilder;
pub use endpoint::{
    Endpoint, Event, NotifyError, ObserveError, Received, Request, RequestId, RespondError, Stats,
};
pub use exchange::{Outgoing, Timer};
pub use limits::Limits;
pub use msg::{
    Code, EmitError, Header, Message, MessageBuilder, MsgType, OptionCheck, ParseError, Token,
    emit_empty,
};
pub use observe::Registered;
pub use option::CoapOption;
pub use reliability::TransmissionParams;
