//! The CoAP message: a zero-copy view ([`Message`]) and a builder that emits
//! into a caller's buffer ([`MessageBuilder`]). RFC 7252 §3.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Ver| T |  TKL  |      Code     |          Message ID           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Token (if any, TKL bytes) ...
//! |   Options (if any) ...
//! |1 1 1 1 1 1 1 1|    Payload (if any) ...
//! ```
//!
//! [`Message::parse`] checks the whole structure once (header, token, every
//! option's framing, the payload marker), so every accessor afterwards is
//! infallible and the payload is a sub-slice of the datagram, never a copy.

use core::fmt;

use super::block::{Block, BlockError};
use super::option::{self, CoapOption, OptionError, Options};
use crate::buf::{Overflow, Writer};

/// The message type (RFC 7252 §4.2, §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// Confirmable: retransmitted until acknowledged.
    Con = 0,
    /// Non-confirmable.
    Non = 1,
    /// Acknowledgement of a Confirmable message.
    Ack = 2,
    /// Reset: the recipient could not process a message.
    Rst = 3,
}

impl MsgType {
    const fn from_bits(b: u8) -> MsgType {
        match b & 3 {
            0 => MsgType::Con,
            1 => MsgType::Non,
            2 => MsgType::Ack,
            _ => MsgType::Rst,
        }
    }
}

/// A request method or response code, `class.detail` packed as on the wire
/// (RFC 7252 §3, §12.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u8);

impl Code {
    const fn new(class: u8, detail: u8) -> Code {
        Code((class << 5) | detail)
    }
    /// 0.00: an empty message.
    pub const EMPTY: Code = Code::new(0, 0);
    /// 0.01 GET.
    pub const GET: Code = Code::new(0, 1);
    /// 0.02 POST.
    pub const POST: Code = Code::new(0, 2);
    /// 0.03 PUT.
    pub const PUT: Code = Code::new(0, 3);
    /// 0.04 DELETE.
    pub const DELETE: Code = Code::new(0, 4);
    /// 0.05 FETCH (RFC 8132).
    pub const FETCH: Code = Code::new(0, 5);
    /// 0.06 PATCH (RFC 8132).
    pub const PATCH: Code = Code::new(0, 6);
    /// 0.07 iPATCH (RFC 8132).
    pub const IPATCH: Code = Code::new(0, 7);
    /// 2.01 Created.
    pub const CREATED: Code = Code::new(2, 1);
    /// 2.02 Deleted.
    pub const DELETED: Code = Code::new(2, 2);
    /// 2.03 Valid.
    pub const VALID: Code = Code::new(2, 3);
    /// 2.04 Changed.
    pub const CHANGED: Code = Code::new(2, 4);
    /// 2.05 Content.
    pub const CONTENT: Code = Code::new(2, 5);
    /// 2.31 Continue (RFC 7959 §2.9.1).
    pub const CONTINUE: Code = Code::new(2, 31);
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: Code = Code::new(4, 0);
    /// 4.01 Unauthorized.
    pub const UNAUTHORIZED: Code = Code::new(4, 1);
    /// 4.02 Bad Option.
    pub const BAD_OPTION: Code = Code::new(4, 2);
    /// 4.03 Forbidden.
    pub const FORBIDDEN: Code = Code::new(4, 3);
    /// 4.04 Not Found.
    pub const NOT_FOUND: Code = Code::new(4, 4);
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Code = Code::new(4, 5);
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: Code = Code::new(4, 6);
    /// 4.08 Request Entity Incomplete (RFC 7959 §2.9.2).
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code::new(4, 8);
    /// 4.09 Conflict (RFC 8132).
    pub const CONFLICT: Code = Code::new(4, 9);
    /// 4.12 Precondition Failed.
    pub const PRECONDITION_FAILED: Code = Code::new(4, 12);
    /// 4.13 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Code = Code::new(4, 13);
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_CONTENT_FORMAT: Code = Code::new(4, 15);
    /// 5.00 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Code = Code::new(5, 0);
    /// 5.01 Not Implemented.
    pub const NOT_IMPLEMENTED: Code = Code::new(5, 1);
    /// 5.02 Bad Gateway.
    pub const BAD_GATEWAY: Code = Code::new(5, 2);
    /// 5.03 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Code = Code::new(5, 3);
    /// 5.04 Gateway Timeout.
    pub const GATEWAY_TIMEOUT: Code = Code::new(5, 4);
    /// 5.05 Proxying Not Supported.
    pub const PROXYING_NOT_SUPPORTED: Code = Code::new(5, 5);

    /// The class: 0 request, 2 success, 4 client error, 5 server error.
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }
    /// The detail (0–31).
    pub const fn detail(self) -> u8 {
        self.0 & 0x1f
    }
    /// 0.00.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// A request method (0.01–0.31).
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.detail() != 0
    }
    /// A response (classes 2–5).
    pub const fn is_response(self) -> bool {
        matches!(self.class(), 2..=5)
    }
    /// A 2.xx response.
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Code::GET => f.write_str("GET"),
            Code::POST => f.write_str("POST"),
            Code::PUT => f.write_str("PUT"),
            Code::DELETE => f.write_str("DELETE"),
            Code::FETCH => f.write_str("FETCH"),
            Code::PATCH => f.write_str("PATCH"),
            Code::IPATCH => f.write_str("iPATCH"),
            c => write!(f, "{}.{:02}", c.class(), c.detail()),
        }
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A token of 0 to 8 bytes (RFC 7252 §5.3.1), stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Token {
    len: u8,
    bytes: [u8; 8],
}

impl Token {
    /// The empty token.
    pub const EMPTY: Token = Token {
        len: 0,
        bytes: [0; 8],
    };

    /// A token holding `bytes`; `None` if longer than 8 bytes.
    pub fn new(bytes: &[u8]) -> Option<Token> {
        let mut t = Token::EMPTY;
        t.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        t.len = bytes.len() as u8;
        Some(t)
    }

    /// The token bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the token is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// The fixed four-byte header (RFC 7252 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Message type.
    pub mtype: MsgType,
    /// Token length nibble as received (may be invalid, 9–15).
    pub tkl: u8,
    /// Method or response code.
    pub code: Code,
    /// Message ID.
    pub mid: u16,
}

impl Header {
    /// Reads the header of a datagram that may be malformed beyond it;
    /// `None` if shorter than four bytes or not version 1. This is what lets
    /// a receiver answer an unparseable Confirmable message with RST
    /// (RFC 7252 §4.2).
    pub fn peek(datagram: &[u8]) -> Option<Header> {
        let [b0, code, m0, m1, ..] = *datagram else {
            return None;
        };
        if b0 >> 6 != 1 {
            return None;
        }
        Some(Header {
            mtype: MsgType::from_bits(b0 >> 4),
            tkl: b0 & 0x0f,
            code: Code(code),
            mid: u16::from_be_bytes([m0, m1]),
        })
    }
}

/// Why a datagram is not a well-formed CoAP message (RFC 7252 §3, §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Fewer than four bytes.
    TooShort,
    /// Version other than 1 (silently ignored, §3).
    BadVersion,
    /// TKL 9–15 (§3: a message format error).
    BadTokenLength,
    /// The token runs past the end.
    TruncatedToken,
    /// The option area is malformed.
    BadOption(OptionError),
    /// A payload marker followed by nothing (§3).
    EmptyPayload,
    /// An Empty message (0.00) with a token, options or payload (§4.1).
    NonEmptyEmpty,
    /// A code of class 1, 6 or 7, reserved (§12.1).
    ReservedClass,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooShort => f.write_str("shorter than the 4-byte header"),
            ParseError::BadVersion => f.write_str("not CoAP version 1"),
            ParseError::BadTokenLength => f.write_str("token length 9-15 is reserved"),
            ParseError::TruncatedToken => f.write_str("token runs past the end"),
            ParseError::BadOption(e) => write!(f, "bad option: {e}"),
            ParseError::EmptyPayload => f.write_str("payload marker without payload"),
            ParseError::NonEmptyEmpty => f.write_str("empty message with content"),
            ParseError::ReservedClass => f.write_str("reserved code class"),
        }
    }
}

/// Why a request's options cannot be processed (RFC 7252 §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionCheck {
    /// An unrecognized critical option, or a recognized one with a bad
    /// length or repeated though not repeatable: 4.02 Bad Option for a
    /// request, reject for a response (§5.4.1, §5.4.3, §5.4.5).
    BadCritical(u16),
}

/// A parsed CoAP message borrowing the datagram it came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    header: Header,
    token: &'a [u8],
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Parses and validates the framing of a whole datagram.
    pub fn parse(datagram: &'a [u8]) -> Result<Message<'a>, ParseError> {
        if datagram.len() < 4 {
            return Err(ParseError::TooShort);
        }
        let header = Header::peek(datagram).ok_or(ParseError::BadVersion)?;
        if header.tkl > 8 {
            return Err(ParseError::BadTokenLength);
        }
        if matches!(header.code.class(), 1 | 6 | 7) {
            return Err(ParseError::ReservedClass);
        }
        let tkl = usize::from(header.tkl);
        let token = datagram.get(4..4 + tkl).ok_or(ParseError::TruncatedToken)?;
        let rest = datagram.get(4 + tkl..).unwrap_or(&[]);
        if header.code.is_empty() && (tkl != 0 || !rest.is_empty()) {
            return Err(ParseError::NonEmptyEmpty);
        }
        let mut pos = 0;
        let mut prev = 0;
        while let Some(opt) =
            option::next_option(rest, &mut pos, prev).map_err(ParseError::BadOption)?
        {
            prev = opt.number;
        }
        let options = rest.get(..pos).unwrap_or(&[]);
        let payload = match rest.get(pos..) {
            Some([0xff]) => return Err(ParseError::EmptyPayload),
            Some([0xff, payload @ ..]) => payload,
            _ => &[],
        };
        Ok(Message {
            header,
            token,
            options,
            payload,
        })
    }

    /// The fixed header.
    pub fn header(&self) -> Header {
        self.header
    }
    /// Message type.
    pub fn mtype(&self) -> MsgType {
        self.header.mtype
    }
    /// Method or response code.
    pub fn code(&self) -> Code {
        self.header.code
    }
    /// Message ID.
    pub fn mid(&self) -> u16 {
        self.header.mid
    }
    /// Token bytes.
    pub fn token_bytes(&self) -> &'a [u8] {
        self.token
    }
    /// The token, inline.
    pub fn token(&self) -> Token {
        Token::new(self.token).unwrap_or_default()
    }
    /// Payload bytes (empty if none).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The raw option area.
    pub fn option_bytes(&self) -> &'a [u8] {
        self.options
    }
    /// All options in order.
    #[inline]
    pub fn options(&self) -> Options<'a> {
        Options::new(self.options)
    }

    /// Values of every instance of option `number`, in order.
    pub fn option_values(&self, number: u16) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.options()
            .skip_while(move |o| o.number < number)
            .take_while(move |o| o.number == number)
            .map(|o| o.value)
    }

    /// The first value of option `number`.
    pub fn option(&self, number: u16) -> Option<&'a [u8]> {
        self.option_values(number).next()
    }

    /// Option `number` decoded as an unsigned integer; `None` if absent or
    /// longer than four bytes.
    pub fn uint_option(&self, number: u16) -> Option<u32> {
        self.option(number).and_then(option::decode_uint)
    }

    /// The Uri-Path segments.
    pub fn uri_path(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.option_values(option::URI_PATH)
    }
    /// The Uri-Query items.
    pub fn uri_query(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.option_values(option::URI_QUERY)
    }
    /// The Location-Path segments.
    pub fn location_path(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.option_values(option::LOCATION_PATH)
    }
    /// Content-Format.
    pub fn content_format(&self) -> Option<u16> {
        self.uint_option(option::CONTENT_FORMAT)
            .and_then(|v| u16::try_from(v).ok())
    }
    /// Accept.
    pub fn accept(&self) -> Option<u16> {
        self.uint_option(option::ACCEPT)
            .and_then(|v| u16::try_from(v).ok())
    }
    /// Observe (RFC 7641): 0 register / 1 deregister in requests, a
    /// sequence number in notifications.
    pub fn observe(&self) -> Option<u32> {
        self.uint_option(option::OBSERVE)
    }
    /// Max-Age in seconds.
    pub fn max_age(&self) -> Option<u32> {
        self.uint_option(option::MAX_AGE)
    }
    /// The first ETag.
    pub fn etag(&self) -> Option<&'a [u8]> {
        self.option(option::ETAG)
    }
    /// Block1, if present; `Err` for a malformed or reserved value (4.00).
    pub fn block1(&self) -> Option<Result<Block, BlockError>> {
        self.option(option::BLOCK1).map(Block::decode)
    }
    /// Block2, if present; `Err` for a malformed or reserved value (4.00).
    pub fn block2(&self) -> Option<Result<Block, BlockError>> {
        self.option(option::BLOCK2).map(Block::decode)
    }
    /// Size1.
    pub fn size1(&self) -> Option<u32> {
        self.uint_option(option::SIZE1)
    }
    /// Size2.
    pub fn size2(&self) -> Option<u32> {
        self.uint_option(option::SIZE2)
    }

    /// Checks the options against what this implementation recognizes
    /// (RFC 7252 §5.4.1: unrecognized critical options; §5.4.3: a recognized
    /// option with a length outside its range is treated as unrecognized;
    /// §5.4.5: a non-repeatable option repeated likewise). Elective options
    /// that fail these checks are to be ignored and are not reported.
    pub fn check_options(&self) -> Result<(), OptionCheck> {
        let mut prev: Option<u16> = None;
        for CoapOption { number, value } in self.options() {
            check_option(number, value.len(), prev == Some(number))?;
            prev = Some(number);
        }
        Ok(())
    }
}

/// One option of [`Message::check_options`]: `repeated` when the previous
/// option had the same number.
#[inline]
pub(crate) fn check_option(number: u16, len: usize, repeated: bool) -> Result<(), OptionCheck> {
    let ok = match option::known(number) {
        None => false,
        Some(def) => {
            len >= usize::from(def.min_len)
                && len <= usize::from(def.max_len)
                && (def.repeatable || !repeated)
        }
    };
    if !ok && option::is_critical(number) {
        return Err(OptionCheck::BadCritical(number));
    }
    Ok(())
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} mid={} {:?}",
            self.mtype(),
            self.code(),
            self.mid(),
            self.token()
        )?;
        for o in self.options() {
            write!(f, " {}={:02x?}", option::name(o.number), o.value)?;
        }
        if !self.payload.is_empty() {
            write!(f, " +{}B", self.payload.len())?;
        }
        Ok(())
    }
}

/// Why a message could not be emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The buffer is too small.
    Overflow,
    /// Options must be added in non-decreasing number order.
    OptionOrder,
    /// An option value longer than the encoding allows.
    OptionTooLong,
    /// A token longer than 8 bytes.
    TokenTooLong,
    /// An option the endpoint manages itself (Observe, Block1, Block2,
    /// Size1, Size2) set by the caller of a response builder.
    ManagedOption,
}

impl From<Overflow> for EmitError {
    fn from(_: Overflow) -> Self {
        EmitError::Overflow
    }
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmitError::Overflow => "message does not fit the buffer",
            EmitError::OptionOrder => "options out of order",
            EmitError::OptionTooLong => "option value too long",
            EmitError::TokenTooLong => "token longer than 8 bytes",
            EmitError::ManagedOption => "option is set by the endpoint",
        })
    }
}

/// Emits a message into a caller's buffer: header and token first, then
/// options in non-decreasing number order, then at most one payload.
///
/// ```
/// use lwm2m_core::coap::{MessageBuilder, MsgType, Code, option, Message};
/// let mut buf = [0u8; 64];
/// let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0x1234, &[0xab]).unwrap();
/// b.option(option::URI_PATH, b"3").unwrap();
/// b.option(option::URI_PATH, b"0").unwrap();
/// b.uint_option(option::ACCEPT, 11542).unwrap();
/// let len = b.finish();
/// let m = Message::parse(&buf[..len]).unwrap();
/// assert_eq!(m.accept(), Some(11542));
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'a> {
    w: Writer<'a>,
    last_option: u16,
    /// Offset of the payload marker once a payload was started.
    payload_at: Option<usize>,
}

impl<'a> MessageBuilder<'a> {
    /// Starts a message: writes the header and the token.
    pub fn new(
        buf: &'a mut [u8],
        mtype: MsgType,
        code: Code,
        mid: u16,
        token: &[u8],
    ) -> Result<Self, EmitError> {
        if token.len() > 8 {
            return Err(EmitError::TokenTooLong);
        }
        let mut w = Writer::new(buf);
        let [m0, m1] = mid.to_be_bytes();
        w.put(&[
            0x40 | ((mtype as u8) << 4) | token.len() as u8,
            code.0,
            m0,
            m1,
        ])?;
        w.put(token)?;
        Ok(MessageBuilder {
            w,
            last_option: 0,
            payload_at: None,
        })
    }

    /// Appends an option; `number` must not be below the previous one.
    #[inline]
    pub fn option(&mut self, number: u16, value: &[u8]) -> Result<&mut Self, EmitError> {
        if self.payload_at.is_some() || number < self.last_option {
            return Err(EmitError::OptionOrder);
        }
        let mut hdr = [0u8; 5];
        let n = option::encode_header(self.last_option, number, value.len(), &mut hdr)
            .ok_or(EmitError::OptionTooLong)?;
        if self.w.remaining() < n + value.len() {
            return Err(EmitError::Overflow);
        }
        for b in hdr.iter().take(n) {
            self.w.put_u8(*b)?;
        }
        self.w.put(value)?;
        self.last_option = number;
        Ok(self)
    }

    /// Appends an unsigned-integer option in its shortest form.
    #[inline]
    pub fn uint_option(&mut self, number: u16, value: u32) -> Result<&mut Self, EmitError> {
        let (b, n) = option::encode_uint(value);
        self.option(number, b.get(..n).unwrap_or(&[]))
    }

    /// Appends a Block1 or Block2 option.
    pub fn block_option(&mut self, number: u16, block: Block) -> Result<&mut Self, EmitError> {
        self.uint_option(number, block.encode())
    }

    /// Appends every segment of a path as Uri-Path (or Location-Path) options.
    pub fn path_options<'s>(
        &mut self,
        number: u16,
        segments: impl IntoIterator<Item = &'s [u8]>,
    ) -> Result<&mut Self, EmitError> {
        for s in segments {
            self.option(number, s)?;
        }
        Ok(self)
    }

    /// Starts the payload and returns the writer to put it with. An empty
    /// payload is dropped at [`MessageBuilder::finish`] (no bare marker).
    pub fn payload_writer(&mut self) -> Result<&mut Writer<'a>, EmitError> {
        if self.payload_at.is_none() {
            self.payload_at = Some(self.w.len());
            self.w.put_u8(0xff)?;
        }
        Ok(&mut self.w)
    }

    /// Appends `bytes` as (part of) the payload.
    #[inline]
    pub fn payload(&mut self, bytes: &[u8]) -> Result<&mut Self, EmitError> {
        if !bytes.is_empty() {
            self.payload_writer()?.put(bytes)?;
        }
        Ok(self)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Always false: a message has at least a header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Replaces the method or response code already written (for a
    /// response whose outcome is known only after its payload was rendered).
    pub fn set_code(&mut self, code: Code) {
        let _ = self.w.patch(1, &[code.0]);
    }

    /// Ends the message and returns its length.
    #[inline]
    pub fn finish(mut self) -> usize {
        if let Some(at) = self.payload_at
            && self.w.len() == at + 1
        {
            self.w.truncate(at);
        }
        self.w.len()
    }
}

/// Writes an Empty message (ACK or RST, RFC 7252 §4.1) into `buf`.
pub fn emit_empty(buf: &mut [u8], mtype: MsgType, mid: u16) -> Result<usize, EmitError> {
    Ok(MessageBuilder::new(buf, mtype, Code::EMPTY, mid, &[])?.finish())
}

#[cfg(test)]
#[path = "msg_tests.rs"]
mod tests;
