//! The bounds of one CoAP endpoint.

/// Every bound of a [`super::Endpoint`]; each says what happens at the bound.
/// Buffers are allocated on first use, up to these sizes, and reused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest datagram sent or accepted, in bytes (RFC 7252 §4.6: 1152
    /// fits an IPv6 path MTU of 1280 with room for DTLS). A larger incoming
    /// datagram is dropped (counted); a larger outgoing message fails to
    /// build, and a block-wise answer shrinks its blocks to fit.
    pub max_message_size: usize,
    /// Messages remembered for de-duplication (RFC 7252 §4.5); beyond it
    /// the oldest is forgotten (counted in `Stats::dedup_evictions`).
    pub dedup_entries: usize,
    /// Messages we originate that are in flight or queued (requests,
    /// Confirmable notifications, separate responses); beyond it sending
    /// fails with a typed error.
    pub pending: usize,
    /// Observe registrations (RFC 7641); beyond it a request is answered
    /// without Observe.
    pub observations: usize,
    /// Largest request body reassembled from Block1 blocks (RFC 7959); beyond
    /// it 4.13 with Size1.
    pub block1_max_body: usize,
    /// Concurrent Block1 transfers; a new one abandons the oldest.
    pub block1_transfers: usize,
    /// Block2 snapshots kept (RFC 7959 §2.4); a new one evicts the oldest.
    pub snapshots: usize,
    /// Largest response body held in one snapshot.
    pub snapshot_bytes: usize,
    /// Block size exponent we prefer (2^(szx+4) bytes, 0..=6); a peer may ask
    /// for smaller blocks.
    pub block_szx: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 1152,
            dedup_entries: 32,
            pending: 8,
            observations: 32,
            block1_max_body: 16 * 1024,
            block1_transfers: 2,
            snapshots: 2,
            snapshot_bytes: 16 * 1024,
            block_szx: 6,
        }
    }
}
