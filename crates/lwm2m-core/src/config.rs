//! Configuration, and every bound of the core in one place ([`Limits`]).

use crate::content::DecodeLimits;
use crate::dm::DmLimits;

/// Every bound the core enforces. Exceeding one has a defined outcome (an
/// error code on the wire, a typed "full" result, or an evicted oldest
/// entry, as each field says); nothing grows without bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bounds of each CoAP endpoint (one per server link), including the
    /// largest datagram.
    pub coap: crate::coap::Limits,
    /// Bounds for payload decoders.
    pub decode: DecodeLimits,
    /// Bounds of the data model: attributes, Execute arguments, composite
    /// paths, link-format parsing.
    pub dm: DmLimits,
}
