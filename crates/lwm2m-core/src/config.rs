//! Configuration, and every bound of the core in one place ([`Limits`]).

use crate::content::DecodeLimits;
use crate::dm::DmLimits;

/// Every bound the core enforces. Exceeding one has a defined outcome (an
/// error code on the wire, a typed "full" result, or an evicted oldest
/// entry, as each field says); nothing grows without bound.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest datagram sent or accepted, in bytes (RFC 7252 §4.6: 1152
    /// fits an IPv6 path MTU of 1280 with room for DTLS).
    pub max_message_size: usize,
    /// Bounds for payload decoders.
    pub decode: DecodeLimits,
    /// Bounds of the data model: attributes, Execute arguments, composite
    /// paths, link-format parsing.
    pub dm: DmLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 1152,
            decode: DecodeLimits::default(),
            dm: DmLimits::default(),
        }
    }
}
