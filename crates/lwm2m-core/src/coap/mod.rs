//! CoAP for LwM2M: RFC 7252 (messages, reliability, de-duplication),
//! RFC 7959 (block-wise) and RFC 7641 (Observe), sans-IO.
//!
//! This layer knows nothing of LwM2M: it never imports from `dm`, `content`
//! or `client`.

pub mod block;
pub mod msg;
pub mod option;

pub use block::{Block, BlockError};
pub use msg::{
    Code, EmitError, Header, Message, MessageBuilder, MsgType, OptionCheck, ParseError, Token,
    emit_empty,
};
pub use option::CoapOption;
