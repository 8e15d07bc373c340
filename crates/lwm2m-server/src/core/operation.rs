//! The typed requests the server sends and what comes back
//! (OMA-TS-LightweightM2M_Core 1.1 §6.1 Bootstrap, §6.3 Device Management,
//! §6.4 Information Reporting; the CoAP mapping of Transport 1.1 §6.4).
//!
//! | operation | CoAP |
//! |---|---|
//! | Read | GET /o/i/r (Accept optional) → 2.05 |
//! | Read-Composite | FETCH / with SenML paths, Content-Format + Accept → 2.05 |
//! | Discover | GET /o[/i[/r]] Accept: 40 (`?depth=` 1.1) → 2.05 |
//! | Write (replace) | PUT /o/i[/r[/ri]] with Content-Format → 2.04 |
//! | Write (partial update) | POST /o/i[/r] with Content-Format → 2.04 |
//! | Write-Composite | iPATCH / with Content-Format → 2.04 |
//! | Write-Attributes | PUT /o[/i[/r[/ri]]]?pmin=..&pmax=.. → 2.04 |
//! | Execute | POST /o/i/r, text arguments optional → 2.04 |
//! | Create | POST /o with Content-Format → 2.01 |
//! | Delete | DELETE /o/i → 2.02 |
//! | Observe / Cancel | GET Observe=0 / Observe=1 → 2.05 |
//! | Observe-Composite / Cancel | FETCH Observe=0 / Observe=1 → 2.05 |
//! | Bootstrap-Discover | GET / or /o, Accept: 40 → 2.05 |
//! | Bootstrap-Read | GET /1[/i] or /2[/i] → 2.05 |
//! | Bootstrap-Write | PUT /o[/i[/r]] → 2.04 |
//! | Bootstrap-Delete | DELETE /, /o or /o/i → 2.02 |
//! | Bootstrap-Finish | POST /bs → 2.04 |

use std::fmt;

use lwm2m_core::coap::Code;
use lwm2m_core::content::{DecodeError, EncodeError, Entry, Format};
use lwm2m_core::dm::Path;

use super::link::Link;

/// The handle of one request of ours (and of the observation it starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReqId(pub u64);

impl fmt::Display for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Write-Attributes parameters (Core 1.1 §5.1 (attributes)): each
/// `name=value`, or `name` alone to remove the attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes(pub Vec<(String, Option<String>)>);

/// Why an attribute string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeError(pub String);

impl fmt::Display for AttributeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad attribute: {}", self.0)
    }
}

impl std::error::Error for AttributeError {}

impl Attributes {
    /// The attribute names LwM2M 1.1 / 1.2 define for Write-Attributes.
    pub const KNOWN: &'static [&'static str] = &[
        "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax",
    ];

    /// Parses `pmin=10&pmax=60&gt` (a bare name removes the attribute).
    /// Names must be known; integers for the periods, numbers for the
    /// thresholds, 0/1 for `edge` and `con`.
    pub fn parse(s: &str) -> Result<Attributes, AttributeError> {
        let mut out = Vec::new();
        for item in s.split('&').filter(|i| !i.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (item, None),
            };
            if !Self::KNOWN.contains(&name) {
                return Err(AttributeError(format!("unknown attribute {name:?}")));
            }
            if out.iter().any(|(n, _): &(String, _)| n == name) {
                return Err(AttributeError(format!("{name} given twice")));
            }
            if let Some(v) = value {
                let ok = match name {
                    "pmin" | "pmax" | "epmin" | "epmax" | "hqmax" => v.parse::<u32>().is_ok(),
                    "gt" | "lt" | "st" => v.parse::<f64>().is_ok_and(f64::is_finite),
                    _ => v == "0" || v == "1",
                };
                if !ok {
                    return Err(AttributeError(format!("{name}={v}")));
                }
            }
            out.push((name.to_string(), value.map(str::to_string)));
        }
        if out.is_empty() {
            return Err(AttributeError("no attributes".into()));
        }
        Ok(Attributes(out))
    }

    /// The Uri-Query items.
    pub fn queries(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(n, v)| match v {
                Some(v) => format!("{n}={v}"),
                None => n.clone(),
            })
            .collect()
    }
}

/// A request the server can send to a client.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Operation {
    /// Read (Core 1.1 §6.3); `accept` asks for a format.
    Read {
        /// Target.
        path: Path,
        /// Accept.
        accept: Option<Format>,
    },
    /// Read-Composite (Core 1.1 §6.3): FETCH with the paths as SenML.
    ReadComposite {
        /// Targets.
        paths: Vec<Path>,
        /// Format of the request payload (SenML JSON or SenML CBOR).
        request_format: Format,
        /// Accept.
        accept: Option<Format>,
    },
    /// Discover (Core 1.1 §6.3).
    Discover {
        /// Target.
        path: Path,
        /// `depth=` (LwM2M 1.1).
        depth: Option<u8>,
    },
    /// Write (Core 1.1 §6.3): replace (PUT) or partial update (POST).
    Write {
        /// Target.
        path: Path,
        /// Replace (true) or partial update (false).
        replace: bool,
        /// Payload format; chosen from the path and the client when `None`.
        format: Option<Format>,
        /// Values, in path order.
        entries: Vec<Entry<'static>>,
    },
    /// Write-Composite (Core 1.1 §6.3): iPATCH on the root.
    WriteComposite {
        /// Payload format (SenML JSON / CBOR, LwM2M CBOR); SenML CBOR when
        /// `None`.
        format: Option<Format>,
        /// Values at absolute paths.
        entries: Vec<Entry<'static>>,
    },
    /// Write-Attributes (Core 1.1 §6.3).
    WriteAttributes {
        /// Target.
        path: Path,
        /// Attributes to set or remove.
        attributes: Attributes,
    },
    /// Execute (Core 1.1 §6.3) with optional arguments (`0='a',1`).
    Execute {
        /// Target resource.
        path: Path,
        /// Arguments (Core 1.1 Execute argument grammar), sent as text.
        args: Option<String>,
    },
    /// Create (Core 1.1 §6.3) under an object (or `/o/i` to choose the id).
    Create {
        /// The object, or the instance to create.
        path: Path,
        /// Payload format.
        format: Option<Format>,
        /// Resource values of the new instance.
        entries: Vec<Entry<'static>>,
    },
    /// Delete (Core 1.1 §6.3).
    Delete {
        /// Target instance.
        path: Path,
    },
    /// Observe (Core 1.1 §6.4); notifications follow as events.
    Observe {
        /// Target.
        path: Path,
        /// Accept.
        accept: Option<Format>,
    },
    /// Observe-Composite (Core 1.1 §6.4).
    ObserveComposite {
        /// Targets.
        paths: Vec<Path>,
        /// Format of the request payload.
        request_format: Format,
        /// Accept.
        accept: Option<Format>,
    },
    /// Active cancellation of an observation (Core 1.1 §6.4: GET / FETCH
    /// with Observe=1 and the observation's token).
    CancelObserve {
        /// The observation (the [`ReqId`] of its Observe).
        observation: ReqId,
    },
    /// Bootstrap-Discover (Core 1.1 §6.1).
    BootstrapDiscover {
        /// `/` or an object.
        path: Path,
    },
    /// Bootstrap-Read (Core 1.1 §6.1): Server or Access Control objects.
    BootstrapRead {
        /// Target.
        path: Path,
        /// Accept.
        accept: Option<Format>,
    },
    /// Bootstrap-Write (Core 1.1 §6.1).
    BootstrapWrite {
        /// Target.
        path: Path,
        /// Payload format.
        format: Option<Format>,
        /// Values.
        entries: Vec<Entry<'static>>,
    },
    /// Bootstrap-Delete (Core 1.1 §6.1).
    BootstrapDelete {
        /// `/`, an object or an instance.
        path: Path,
    },
    /// Bootstrap-Finish (Core 1.1 §6.1).
    BootstrapFinish,
    /// Any CoAP request, for tests and debugging.
    Raw(RawRequest),
}

impl Operation {
    /// A short name for logs and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Read { .. } => "read",
            Operation::ReadComposite { .. } => "read-composite",
            Operation::Discover { .. } => "discover",
            Operation::Write { replace: true, .. } => "write",
            Operation::Write { replace: false, .. } => "write-update",
            Operation::WriteComposite { .. } => "write-composite",
            Operation::WriteAttributes { .. } => "write-attributes",
            Operation::Execute { .. } => "execute",
            Operation::Create { .. } => "create",
            Operation::Delete { .. } => "delete",
            Operation::Observe { .. } => "observe",
            Operation::ObserveComposite { .. } => "observe-composite",
            Operation::CancelObserve { .. } => "cancel-observe",
            Operation::BootstrapDiscover { .. } => "bootstrap-discover",
            Operation::BootstrapRead { .. } => "bootstrap-read",
            Operation::BootstrapWrite { .. } => "bootstrap-write",
            Operation::BootstrapDelete { .. } => "bootstrap-delete",
            Operation::BootstrapFinish => "bootstrap-finish",
            Operation::Raw(_) => "raw",
        }
    }

    /// Whether this operation belongs to the Bootstrap interface (sent to a
    /// client in a bootstrap session, not to a registration).
    pub fn is_bootstrap(&self) -> bool {
        matches!(
            self,
            Operation::BootstrapDiscover { .. }
                | Operation::BootstrapRead { .. }
                | Operation::BootstrapWrite { .. }
                | Operation::BootstrapDelete { .. }
                | Operation::BootstrapFinish
        )
    }
}

/// A CoAP request spelled out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRequest {
    /// Method.
    pub code: u8,
    /// Uri-Path segments (below the client's alternate root, if any).
    pub path: Vec<String>,
    /// Content-Format of `payload`.
    pub content_format: Option<u16>,
    /// Uri-Query items.
    pub queries: Vec<String>,
    /// Accept.
    pub accept: Option<u16>,
    /// Payload (sent with Block1 when larger than a block).
    pub payload: Vec<u8>,
}

/// What a successful response carried.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// Nothing (Write, Execute, Delete...).
    Empty,
    /// Values decoded from a value format.
    Entries {
        /// The response's format.
        format: Format,
        /// The values.
        entries: Vec<Entry<'static>>,
    },
    /// A link-format answer (Discover).
    Links(Vec<Link>),
    /// A created instance (Create: Location-Path).
    Created(Option<Path>),
    /// A payload in a format we do not decode (Raw requests).
    Bytes {
        /// Content-Format, if given.
        content_format: Option<u16>,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// A successful response (2.xx).
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The response code.
    pub code: Code,
    /// What it carried.
    pub body: Body,
}

impl Response {
    /// The decoded values, if any.
    pub fn entries(&self) -> &[Entry<'static>] {
        match &self.body {
            Body::Entries { entries, .. } => entries,
            _ => &[],
        }
    }
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RequestError {
    /// No registration (or bootstrap session) by that endpoint name.
    UnknownEndpoint,
    /// No observation with that handle.
    UnknownObservation,
    /// `ServerLimits::max_requests_per_client` or observations reached.
    QueueFull,
    /// The request body exceeds `ServerLimits::max_request_body`, or the
    /// response body `max_response_body`, or the client refused the size.
    TooLarge,
    /// The operation does not fit its arguments (a Text write of two
    /// values, Create on an instance path...).
    Invalid(String),
    /// The payload could not be encoded.
    Encode(EncodeError),
    /// The client answered with an error code (4.xx, 5.xx).
    Code(Code),
    /// The response could not be decoded.
    Decode(DecodeError),
    /// A block-wise transfer broke (wrong block, ETag changed twice).
    BlockWise(&'static str),
    /// No response: retransmissions exhausted or EXCHANGE_LIFETIME passed.
    Timeout,
    /// The client answered with a reset.
    Reset,
    /// The registration ended (De-register, expiry, re-registration) or the
    /// server gave up the request before an answer.
    Cancelled,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::UnknownEndpoint => f.write_str("unknown endpoint"),
            RequestError::UnknownObservation => f.write_str("unknown observation"),
            RequestError::QueueFull => f.write_str("too many requests queued for this client"),
            RequestError::TooLarge => f.write_str("payload too large"),
            RequestError::Invalid(s) => write!(f, "invalid request: {s}"),
            RequestError::Encode(e) => write!(f, "cannot encode: {e}"),
            RequestError::Code(c) => write!(f, "client answered {c}"),
            RequestError::Decode(e) => write!(f, "cannot decode the response: {e}"),
            RequestError::BlockWise(s) => write!(f, "block-wise transfer failed: {s}"),
            RequestError::Timeout => f.write_str("no response (timeout)"),
            RequestError::Reset => f.write_str("the client reset the request"),
            RequestError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_parse_and_render() {
        let a = Attributes::parse("pmin=10&pmax=60&gt=20.5&st").unwrap();
        assert_eq!(a.queries(), vec!["pmin=10", "pmax=60", "gt=20.5", "st"]);
        assert!(Attributes::parse("pmin=x").is_err());
        assert!(Attributes::parse("foo=1").is_err());
        assert!(Attributes::parse("pmin=1&pmin=2").is_err());
        assert!(Attributes::parse("").is_err());
        assert!(Attributes::parse("gt=inf").is_err());
        assert!(Attributes::parse("con=2").is_err());
        assert!(Attributes::parse("edge=1").is_ok());
    }
}
