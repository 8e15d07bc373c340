//! The one place where errors become CoAP response codes.
//!
//! Handlers and codecs return small typed errors; the request dispatcher
//! turns them into a [`Code`] here and nowhere else, so "which code does a
//! failed write return" has a single answer.

use core::fmt;

use crate::coap::Code;

/// The outcomes a data-model handler, decoder or dispatcher may report, one
/// per CoAP response code (OMA-TS-LightweightM2M_Core 1.1 §6 response codes of
/// each operation; Appendix A.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DmError {
    /// 4.00: undetermined error, malformed payload, invalid value.
    BadRequest,
    /// 4.01: access right permission denied.
    Unauthorized,
    /// 4.02: an option the request must not carry.
    BadOption,
    /// 4.03: forbidden (used for the Security object outside bootstrap).
    Forbidden,
    /// 4.04: the target does not exist.
    NotFound,
    /// 4.05: the operation is not allowed on the target.
    MethodNotAllowed,
    /// 4.06: none of the preferred content formats can be produced, or a
    /// Bootstrap-Finish configuration is inconsistent.
    NotAcceptable,
    /// 4.08: a block-wise transfer is missing blocks.
    RequestEntityIncomplete,
    /// 4.09: conflicting state.
    Conflict,
    /// 4.12: a precondition (If-Match / If-None-Match) failed.
    PreconditionFailed,
    /// 4.13: the payload exceeds what the client accepts.
    RequestEntityTooLarge,
    /// 4.15: the payload's content format is not supported.
    UnsupportedContentFormat,
    /// 5.00: the handler failed.
    Internal,
    /// 5.01: not implemented.
    NotImplemented,
    /// 5.03: busy (for instance during another server's block-wise
    /// transfer on the same object); sent with Max-Age.
    ServiceUnavailable,
}

impl DmError {
    /// The response code for this outcome.
    pub const fn code(self) -> Code {
        match self {
            DmError::BadRequest => Code::BAD_REQUEST,
            DmError::Unauthorized => Code::UNAUTHORIZED,
            DmError::BadOption => Code::BAD_OPTION,
            DmError::Forbidden => Code::FORBIDDEN,
            DmError::NotFound => Code::NOT_FOUND,
            DmError::MethodNotAllowed => Code::METHOD_NOT_ALLOWED,
            DmError::NotAcceptable => Code::NOT_ACCEPTABLE,
            DmError::RequestEntityIncomplete => Code::REQUEST_ENTITY_INCOMPLETE,
            DmError::Conflict => Code::CONFLICT,
            DmError::PreconditionFailed => Code::PRECONDITION_FAILED,
            DmError::RequestEntityTooLarge => Code::REQUEST_ENTITY_TOO_LARGE,
            DmError::UnsupportedContentFormat => Code::UNSUPPORTED_CONTENT_FORMAT,
            DmError::Internal => Code::INTERNAL_SERVER_ERROR,
            DmError::NotImplemented => Code::NOT_IMPLEMENTED,
            DmError::ServiceUnavailable => Code::SERVICE_UNAVAILABLE,
        }
    }

    /// The outcome for a response code, if it is one of ours (used by the
    /// server side to report what a client answered).
    pub fn from_code(code: Code) -> Option<DmError> {
        Some(match code {
            Code::BAD_REQUEST => DmError::BadRequest,
            Code::UNAUTHORIZED => DmError::Unauthorized,
            Code::BAD_OPTION => DmError::BadOption,
            Code::FORBIDDEN => DmError::Forbidden,
            Code::NOT_FOUND => DmError::NotFound,
            Code::METHOD_NOT_ALLOWED => DmError::MethodNotAllowed,
            Code::NOT_ACCEPTABLE => DmError::NotAcceptable,
            Code::REQUEST_ENTITY_INCOMPLETE => DmError::RequestEntityIncomplete,
            Code::CONFLICT => DmError::Conflict,
            Code::PRECONDITION_FAILED => DmError::PreconditionFailed,
            Code::REQUEST_ENTITY_TOO_LARGE => DmError::RequestEntityTooLarge,
            Code::UNSUPPORTED_CONTENT_FORMAT => DmError::UnsupportedContentFormat,
            Code::INTERNAL_SERVER_ERROR => DmError::Internal,
            Code::NOT_IMPLEMENTED => DmError::NotImplemented,
            Code::SERVICE_UNAVAILABLE => DmError::ServiceUnavailable,
            _ => return None,
        })
    }
}

impl From<DmError> for Code {
    fn from(e: DmError) -> Code {
        e.code()
    }
}

impl fmt::Display for DmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self, self.code())
    }
}

impl From<crate::content::DecodeError> for DmError {
    fn from(e: crate::content::DecodeError) -> DmError {
        match e {
            crate::content::DecodeError::UnsupportedFormat => DmError::UnsupportedContentFormat,
            crate::content::DecodeError::TooLarge => DmError::RequestEntityTooLarge,
            _ => DmError::BadRequest,
        }
    }
}

impl From<crate::coap::BlockError> for DmError {
    fn from(_: crate::coap::BlockError) -> DmError {
        // RFC 7959 §2.2: a reserved SZX in a request is 4.00.
        DmError::BadRequest
    }
}

impl crate::coap::Block1Error {
    /// The response code for a refused block (RFC 7959 §2.9).
    pub const fn code(self) -> Code {
        match self {
            crate::coap::Block1Error::Incomplete => Code::REQUEST_ENTITY_INCOMPLETE,
            crate::coap::Block1Error::TooLarge { .. } => Code::REQUEST_ENTITY_TOO_LARGE,
            crate::coap::Block1Error::BadBlockSize => Code::BAD_REQUEST,
        }
    }
}

impl From<crate::coap::Block1Error> for DmError {
    fn from(e: crate::coap::Block1Error) -> DmError {
        match e {
            crate::coap::Block1Error::Incomplete => DmError::RequestEntityIncomplete,
            crate::coap::Block1Error::TooLarge { .. } => DmError::RequestEntityTooLarge,
            crate::coap::Block1Error::BadBlockSize => DmError::BadRequest,
        }
    }
}

impl crate::coap::BlockError {
    /// The response code for a malformed Block option in a request
    /// (RFC 7959 §2.2: 4.00).
    pub const fn code(self) -> Code {
        Code::BAD_REQUEST
    }
}

impl crate::coap::OptionCheck {
    /// The response code for a request whose options cannot be processed
    /// (RFC 7252 §5.4.1: 4.02 Bad Option).
    pub const fn code(self) -> Code {
        match self {
            crate::coap::OptionCheck::BadCritical(_) => Code::BAD_OPTION,
        }
    }
}

impl From<crate::dm::PathError> for DmError {
    fn from(_: crate::dm::PathError) -> DmError {
        DmError::BadRequest
    }
}

impl From<crate::dm::TypeMismatch> for DmError {
    fn from(_: crate::dm::TypeMismatch) -> DmError {
        DmError::BadRequest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_maps_to_its_code_and_back() {
        let all = [
            DmError::BadRequest,
            DmError::Unauthorized,
            DmError::BadOption,
            DmError::Forbidden,
            DmError::NotFound,
            DmError::MethodNotAllowed,
            DmError::NotAcceptable,
            DmError::RequestEntityIncomplete,
            DmError::Conflict,
            DmError::PreconditionFailed,
            DmError::RequestEntityTooLarge,
            DmError::UnsupportedContentFormat,
            DmError::Internal,
            DmError::NotImplemented,
            DmError::ServiceUnavailable,
        ];
        for e in all {
            assert!(e.code().class() >= 4);
            assert_eq!(DmError::from_code(e.code()), Some(e));
        }
        assert_eq!(DmError::NotFound.code(), Code::NOT_FOUND);
        assert_eq!(Code::from(DmError::UnsupportedContentFormat).detail(), 15);
        assert_eq!(DmError::from_code(Code::CONTENT), None);
    }
}
