//! Which LwM2M operation a CoAP request is (OMA-TS-LightweightM2M_Core 1.1
//! §6.3 "Device Management and Service Enablement Interface" and §6.1
//! "Bootstrap Interface", the operation to CoAP method tables; Observe and
//! Cancel Observation from §6.4 "Information Reporting Interface").
//!
//! The caller extracts the method, Uri-Path, Content-Format, Accept,
//! Observe, whether there is a Uri-Query and whether there is a payload;
//! [`classify`] decides. No CoAP parsing happens here.
//!
//! Device Management interface:
//!
//! | method | path | condition | operation |
//! |---|---|---|---|
//! | GET | any | Accept: link-format (40) | Discover |
//! | GET | any | Observe 0 / 1 | Observe / Cancel Observation |
//! | GET | any | otherwise | Read |
//! | FETCH | `/` | Observe 0 / 1 / none | Observe-Composite / Cancel / Read-Composite |
//! | PUT | any | Content-Format, or a payload without Uri-Query | Write (replace) |
//! | PUT | any | otherwise | Write-Attributes |
//! | POST | `/o` | | Create |
//! | POST | `/o/i`, `/o/i/r/ri` | | Write (partial update) |
//! | POST | `/o/i/r` | hierarchical Content-Format | Write (partial update) |
//! | POST | `/o/i/r` | otherwise | Execute |
//! | iPATCH | `/` | | Write-Composite |
//! | DELETE | any | | Delete |
//!
//! Bootstrap interface: GET with Accept link-format is Bootstrap-Discover,
//! other GETs Bootstrap-Read; PUT is Bootstrap-Write; DELETE is
//! Bootstrap-Delete; POST `/bs` is Bootstrap-Finish.
//!
//! Anything else is 4.05 Method Not Allowed. Whether an operation accepts
//! its path depth is the operation's own check.

use crate::coap::Code;
use crate::content::Format;
use crate::dm::path::{Oid, Path, PathError};
use crate::error::DmError;

/// The interface a request arrives on: from the Bootstrap-Server, or from
/// a DM server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interface {
    /// Device Management and Service Enablement (and Information
    /// Reporting).
    DeviceManagement,
    /// Bootstrap.
    Bootstrap,
}

/// The target of a request: a data-model path, or `/bs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `/o/i/r/ri` or shorter.
    Path(Path),
    /// `/bs` (Bootstrap-Finish).
    Bs,
}

impl Target {
    /// The target for these Uri-Path segments (none is the root).
    pub fn from_segments<'s>(
        segments: impl IntoIterator<Item = &'s [u8]>,
    ) -> Result<Target, PathError> {
        let mut it = segments.into_iter();
        match it.next() {
            None => Ok(Target::Path(Path::ROOT)),
            Some(b"bs") => match it.next() {
                None => Ok(Target::Bs),
                Some(_) => Err(PathError::BadId),
            },
            Some(first) => Path::from_segments(core::iter::once(first).chain(it)).map(Target::Path),
        }
    }
}

/// What [`classify`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The request method.
    pub method: Code,
    /// The Uri-Path.
    pub target: Target,
    /// The Content-Format option, if present.
    pub content_format: Option<u16>,
    /// The Accept option, if present.
    pub accept: Option<u16>,
    /// The Observe option, if present.
    pub observe: Option<u32>,
    /// Whether at least one Uri-Query option is present.
    pub has_query: bool,
    /// Whether the payload is non-empty.
    pub has_payload: bool,
}

/// An LwM2M operation with its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Read.
    Read(Path),
    /// Observe (RFC 7641 registration).
    Observe(Path),
    /// Cancel Observation (GET with Observe 1).
    CancelObserve(Path),
    /// Discover.
    Discover(Path),
    /// Read-Composite.
    ReadComposite,
    /// Observe-Composite.
    ObserveComposite,
    /// Cancel Observe-Composite.
    CancelObserveComposite,
    /// Write, replace.
    WriteReplace(Path),
    /// Write, partial update.
    WriteUpdate(Path),
    /// Write-Composite.
    WriteComposite,
    /// Write-Attributes.
    WriteAttributes(Path),
    /// Execute.
    Execute(Path),
    /// Create an instance of an object.
    Create(Oid),
    /// Delete.
    Delete(Path),
    /// Bootstrap-Read.
    BootstrapRead(Path),
    /// Bootstrap-Write.
    BootstrapWrite(Path),
    /// Bootstrap-Delete.
    BootstrapDelete(Path),
    /// Bootstrap-Discover.
    BootstrapDiscover(Path),
    /// Bootstrap-Finish.
    BootstrapFinish,
}

const LINK_FORMAT: u16 = Format::LinkFormat.number();

/// Classifies a request; 4.05 when no operation matches.
pub fn classify(interface: Interface, head: &RequestHead) -> Result<Operation, DmError> {
    match interface {
        Interface::DeviceManagement => classify_dm(head),
        Interface::Bootstrap => classify_bootstrap(head),
    }
}

fn classify_dm(h: &RequestHead) -> Result<Operation, DmError> {
    let Target::Path(path) = h.target else {
        return Err(DmError::MethodNotAllowed);
    };
    Ok(match h.method {
        Code::GET if h.accept == Some(LINK_FORMAT) => Operation::Discover(path),
        Code::GET => match h.observe {
            Some(0) => Operation::Observe(path),
            Some(1) => Operation::CancelObserve(path),
            _ => Operation::Read(path),
        },
        Code::FETCH if path.is_root() => match h.observe {
            Some(0) => Operation::ObserveComposite,
            Some(1) => Operation::CancelObserveComposite,
            _ => Operation::ReadComposite,
        },
        Code::PUT if h.content_format.is_some() || (h.has_payload && !h.has_query) => {
            Operation::WriteReplace(path)
        }
        Code::PUT => Operation::WriteAttributes(path),
        Code::POST => match (path.oid(), path.iid(), path.rid(), path.riid()) {
            (None, ..) => return Err(DmError::MethodNotAllowed),
            (Some(oid), None, ..) => Operation::Create(oid),
            (Some(_), Some(_), Some(_), None) => {
                let hierarchical = h
                    .content_format
                    .and_then(Format::from_number)
                    .is_some_and(Format::is_hierarchical);
                if hierarchical {
                    Operation::WriteUpdate(path)
                } else {
                    Operation::Execute(path)
                }
            }
            _ => Operation::WriteUpdate(path),
        },
        Code::IPATCH if path.is_root() => Operation::WriteComposite,
        Code::DELETE => Operation::Delete(path),
        _ => return Err(DmError::MethodNotAllowed),
    })
}

fn classify_bootstrap(h: &RequestHead) -> Result<Operation, DmError> {
    Ok(match (h.method, h.target) {
        (Code::POST, Target::Bs) => Operation::BootstrapFinish,
        (Code::GET, Target::Path(p)) if h.accept == Some(LINK_FORMAT) => {
            Operation::BootstrapDiscover(p)
        }
        (Code::GET, Target::Path(p)) => Operation::BootstrapRead(p),
        (Code::PUT, Target::Path(p)) => Operation::BootstrapWrite(p),
        (Code::DELETE, Target::Path(p)) => Operation::BootstrapDelete(p),
        _ => return Err(DmError::MethodNotAllowed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: Code, path: &str) -> RequestHead {
        RequestHead {
            method,
            target: Target::Path(Path::parse(path).unwrap()),
            content_format: None,
            accept: None,
            observe: None,
            has_query: false,
            has_payload: false,
        }
    }
    fn dm(h: RequestHead) -> Result<Operation, DmError> {
        classify(Interface::DeviceManagement, &h)
    }
    fn bs(h: RequestHead) -> Result<Operation, DmError> {
        classify(Interface::Bootstrap, &h)
    }
    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn targets_from_segments() {
        assert_eq!(Target::from_segments([&b"bs"[..]]), Ok(Target::Bs));
        assert_eq!(
            Target::from_segments([&b"3"[..], b"0"]),
            Ok(Target::Path(p("/3/0")))
        );
        assert_eq!(
            Target::from_segments(core::iter::empty()),
            Ok(Target::Path(Path::ROOT))
        );
        assert_eq!(
            Target::from_segments([&b"bs"[..], b"1"]),
            Err(PathError::BadId)
        );
        assert_eq!(Target::from_segments([&b"x"[..]]), Err(PathError::BadId));
    }

    #[test]
    fn get_variants() {
        assert_eq!(dm(head(Code::GET, "/3/0")), Ok(Operation::Read(p("/3/0"))));
        let mut h = head(Code::GET, "/3/0/1");
        h.accept = Some(40);
        assert_eq!(dm(h), Ok(Operation::Discover(p("/3/0/1"))));
        h.accept = Some(11542);
        assert_eq!(dm(h), Ok(Operation::Read(p("/3/0/1"))));
        h.observe = Some(0);
        assert_eq!(dm(h), Ok(Operation::Observe(p("/3/0/1"))));
        h.observe = Some(1);
        assert_eq!(dm(h), Ok(Operation::CancelObserve(p("/3/0/1"))));
        h.observe = Some(7);
        assert_eq!(dm(h), Ok(Operation::Read(p("/3/0/1"))));
    }

    #[test]
    fn composite_variants_need_the_root() {
        let mut h = head(Code::FETCH, "/");
        assert_eq!(dm(h), Ok(Operation::ReadComposite));
        h.observe = Some(0);
        assert_eq!(dm(h), Ok(Operation::ObserveComposite));
        h.observe = Some(1);
        assert_eq!(dm(h), Ok(Operation::CancelObserveComposite));
        assert_eq!(dm(head(Code::FETCH, "/3")), Err(DmError::MethodNotAllowed));
        assert_eq!(dm(head(Code::IPATCH, "/")), Ok(Operation::WriteComposite));
        assert_eq!(
            dm(head(Code::IPATCH, "/3/0")),
            Err(DmError::MethodNotAllowed)
        );
    }

    #[test]
    fn put_write_or_write_attributes() {
        let mut h = head(Code::PUT, "/3/0/13");
        h.content_format = Some(0);
        h.has_payload = true;
        assert_eq!(dm(h), Ok(Operation::WriteReplace(p("/3/0/13"))));
        let mut h = head(Code::PUT, "/3/0/13");
        h.has_query = true;
        assert_eq!(dm(h), Ok(Operation::WriteAttributes(p("/3/0/13"))));
        // no query, no payload: an empty Write-Attributes
        assert_eq!(
            dm(head(Code::PUT, "/3")),
            Ok(Operation::WriteAttributes(p("/3")))
        );
        // a payload without Content-Format is a Write (the caller answers 4.15
        // or assumes its default format)
        let mut h = head(Code::PUT, "/3/0");
        h.has_payload = true;
        assert_eq!(dm(h), Ok(Operation::WriteReplace(p("/3/0"))));
    }

    #[test]
    fn post_by_depth_and_format() {
        assert_eq!(dm(head(Code::POST, "/")), Err(DmError::MethodNotAllowed));
        assert_eq!(dm(head(Code::POST, "/1")), Ok(Operation::Create(1)));
        assert_eq!(
            dm(head(Code::POST, "/1/0")),
            Ok(Operation::WriteUpdate(p("/1/0")))
        );
        assert_eq!(
            dm(head(Code::POST, "/3/0/4")),
            Ok(Operation::Execute(p("/3/0/4")))
        );
        let mut h = head(Code::POST, "/3/0/4");
        h.content_format = Some(0);
        h.has_payload = true;
        assert_eq!(dm(h), Ok(Operation::Execute(p("/3/0/4"))));
        for cf in [11542, 110, 112, 11544] {
            h.content_format = Some(cf);
            assert_eq!(dm(h), Ok(Operation::WriteUpdate(p("/3/0/4"))), "{cf}");
        }
        assert_eq!(
            dm(head(Code::POST, "/3/0/4/1")),
            Ok(Operation::WriteUpdate(p("/3/0/4/1")))
        );
    }

    #[test]
    fn delete_and_unknown_methods() {
        assert_eq!(
            dm(head(Code::DELETE, "/5/0")),
            Ok(Operation::Delete(p("/5/0")))
        );
        assert_eq!(
            dm(head(Code::PATCH, "/5/0")),
            Err(DmError::MethodNotAllowed)
        );
        assert_eq!(dm(head(Code(0x08), "/5/0")), Err(DmError::MethodNotAllowed));
        let mut h = head(Code::POST, "/");
        h.target = Target::Bs;
        assert_eq!(dm(h), Err(DmError::MethodNotAllowed));
    }

    #[test]
    fn bootstrap_interface() {
        assert_eq!(
            bs(head(Code::GET, "/1")),
            Ok(Operation::BootstrapRead(p("/1")))
        );
        let mut h = head(Code::GET, "/");
        h.accept = Some(40);
        assert_eq!(bs(h), Ok(Operation::BootstrapDiscover(Path::ROOT)));
        assert_eq!(
            bs(head(Code::PUT, "/0/1")),
            Ok(Operation::BootstrapWrite(p("/0/1")))
        );
        assert_eq!(
            bs(head(Code::DELETE, "/")),
            Ok(Operation::BootstrapDelete(Path::ROOT))
        );
        let mut h = head(Code::POST, "/");
        h.target = Target::Bs;
        assert_eq!(bs(h), Ok(Operation::BootstrapFinish));
        assert_eq!(bs(head(Code::POST, "/1")), Err(DmError::MethodNotAllowed));
        assert_eq!(bs(head(Code::FETCH, "/")), Err(DmError::MethodNotAllowed));
        let mut h = head(Code::GET, "/");
        h.target = Target::Bs;
        assert_eq!(bs(h), Err(DmError::MethodNotAllowed));
    }
}
