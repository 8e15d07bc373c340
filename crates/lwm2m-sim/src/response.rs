//! What comes back to a scripted server: responses (Block2 bodies
//! reassembled), notifications, failures, and the requests clients sent it,
//! all owned so that tests can keep them; payloads decode to typed
//! [`Entry`] values through the core's [`Decoder`].

use lwm2m_core::coap::{Block, Code, Message, MsgType};
use lwm2m_core::content::{DecodeError, DecodeLimits, Decoder, Entry, Format, TypeResolver};
use lwm2m_core::dm::{DataType, ObjectDef, Path, Value};
use lwm2m_core::time::Instant;

use crate::net::Addr;

/// The final response to a request (a Block2 body reassembled from its
/// blocks; a Block1 request's answer to its last block).
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// When it (its last block) arrived.
    pub at: Instant,
    /// Response code.
    pub code: Code,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// The whole payload.
    pub payload: Vec<u8>,
    /// The ETag of every block, in order (one entry per Block2 block).
    pub etags: Vec<Vec<u8>>,
    /// Max-Age, if present (5.03 carries one).
    pub max_age: Option<u32>,
    /// Location-Path segments (Create).
    pub location: Vec<String>,
    /// Size1 (with 4.13: the largest body the client takes).
    pub size1: Option<u32>,
    /// Observe sequence number of the (first) response.
    pub observe: Option<u32>,
    /// Number of Block2 blocks the body came in (1 without Block2).
    pub blocks: u32,
    /// The path the request named, for decoding.
    pub base: Path,
}

impl Response {
    /// The payload decoded in its Content-Format, without type hints
    /// (SenML, CBOR and TLV carry enough; Plain Text decodes as a string).
    pub fn entries(&self) -> Result<Vec<Entry<'static>>, DecodeError> {
        decode(self.content_format, &self.payload, self.base, &NoTypes)
    }

    /// The payload decoded with the resource types of `types`.
    pub fn entries_typed(
        &self,
        types: &dyn TypeResolver,
    ) -> Result<Vec<Entry<'static>>, DecodeError> {
        decode(self.content_format, &self.payload, self.base, types)
    }

    /// The value at `path` in the payload, if present.
    pub fn value_at(&self, path: Path) -> Option<Value<'static>> {
        self.entries()
            .ok()?
            .into_iter()
            .find(|e| e.path == path)
            .map(|e| e.value)
    }

    /// The payload as UTF-8 text.
    pub fn text(&self) -> Option<&str> {
        core::str::from_utf8(&self.payload).ok()
    }
}

/// One notification of an observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// When it (its first block) arrived.
    pub at: Instant,
    /// Code (2.05; 4.04 when the target was deleted).
    pub code: Code,
    /// Observe sequence number.
    pub seq: Option<u32>,
    /// Whether it came Confirmable.
    pub confirmable: bool,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// The whole payload (a block-wise notification completed with GET).
    pub payload: Vec<u8>,
    /// Number of blocks the payload came in.
    pub blocks: u32,
    /// The observed path, for decoding.
    pub base: Path,
}

impl Notification {
    /// The payload decoded in its Content-Format.
    pub fn entries(&self) -> Result<Vec<Entry<'static>>, DecodeError> {
        decode(self.content_format, &self.payload, self.base, &NoTypes)
    }

    /// The value at `path`, if present.
    pub fn value_at(&self, path: Path) -> Option<Value<'static>> {
        self.entries()
            .ok()?
            .into_iter()
            .find(|e| e.path == path)
            .map(|e| e.value)
    }
}

/// Why a request of a scripted server ended without a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    /// No answer after every retransmission (the endpoint gave up).
    Timeout,
    /// The client reset the request.
    Reset,
    /// The endpoint could not build or queue the request.
    Send,
    /// The test abandoned it ([`crate::Exchanges::abandon`]).
    Abandoned,
    /// A Block1 transfer got a bad 2.31 (or 4.13).
    Block1,
    /// A Block2 transfer broke off: the ETag changed, a block went missing
    /// or the body grew past the bound.
    Block2(lwm2m_core::coap::Block2FetchError),
}

/// A request a client sent to a scripted server, as it arrived (one entry
/// per block; retransmissions the endpoint recognised are not repeated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Arrival.
    pub at: Instant,
    /// Sender.
    pub from: Addr,
    /// Method.
    pub code: Code,
    /// Confirmable.
    pub confirmable: bool,
    /// Message ID.
    pub mid: u16,
    /// Uri-Path segments.
    pub path: Vec<String>,
    /// Uri-Query items.
    pub queries: Vec<String>,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// Block1 option.
    pub block1: Option<Block>,
    /// The datagram's payload.
    pub payload: Vec<u8>,
}

impl Recorded {
    pub(crate) fn of(at: Instant, from: Addr, m: &Message<'_>) -> Recorded {
        Recorded {
            at,
            from,
            code: m.code(),
            confirmable: m.mtype() == MsgType::Con,
            mid: m.mid(),
            path: strings(m.uri_path()),
            queries: strings(m.uri_query()),
            content_format: m.content_format(),
            block1: m.block1().and_then(Result::ok),
            payload: m.payload().to_vec(),
        }
    }

    /// The value of query `key=` if present.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.queries.iter().find_map(|q| {
            q.strip_prefix(key)
                .and_then(|r| r.strip_prefix('='))
                .or_else(|| (q == key).then_some(""))
        })
    }
}

pub(crate) fn strings<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    it.map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// A resolver that knows no types.
struct NoTypes;

impl TypeResolver for NoTypes {
    fn data_type(&self, _: &Path) -> Option<DataType> {
        None
    }
}

/// Resource types from object definitions, for decoding Plain Text and TLV.
#[derive(Clone, Debug, Default)]
pub struct Types(pub Vec<&'static ObjectDef>);

impl TypeResolver for Types {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        let def = self.0.iter().find(|d| Some(d.id) == path.oid())?;
        def.resource(path.rid()?).map(|r| r.data_type)
    }
}

/// Decodes `payload` in format `cf` about `base` into owned entries.
pub fn decode(
    cf: Option<u16>,
    payload: &[u8],
    base: Path,
    types: &dyn TypeResolver,
) -> Result<Vec<Entry<'static>>, DecodeError> {
    let format = cf
        .and_then(Format::from_number)
        .ok_or(DecodeError::UnsupportedFormat)?;
    let limits = DecodeLimits {
        max_entries: 1 << 16,
        max_depth: 16,
        max_value_len: 1 << 20,
    };
    Decoder::new(format, payload, base, types, limits)?
        .map(|e| {
            e.map(|e| Entry {
                path: e.path,
                value: e.value.into_owned(),
                time: e.time,
            })
        })
        .collect()
}
