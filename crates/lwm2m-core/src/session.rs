//! The security session the core drives for one link: the seam between the
//! sans-IO core and a DTLS backend.
//!
//! A link whose Security instance says NoSec (Core 1.1 Appendix E.1, mode 3)
//! has **no** session: the core keeps an `Option<Box<dyn Session>>` per link
//! and passes datagrams straight to CoAP when it is `None`. Every other mode
//! asks the application's [`SessionFactory`] (passed in the configuration)
//! for a session built from the Security instance ([`ClientParams`]).
//!
//! # Call order
//!
//! A session is a sans-IO state machine, like the core itself: records in,
//! records out, time as an argument.
//!
//! 1. [`Session::start`] at `now` begins a handshake (client role); it resumes
//!    the previous DTLS session when the backend kept one (RFC 5246 §7.3,
//!    abbreviated handshake), and falls back to a full handshake when the
//!    server has lost it. Calling it again on an open session starts over.
//! 2. After `start` and after every input, drain [`Session::poll_transmit`]
//!    until it returns `None` (handshake flights, retransmissions, alerts),
//!    then re-read [`Session::poll_timeout`] into the core's timer table.
//! 3. Every datagram received on the link goes to
//!    [`Session::handle_datagram`]; application data comes back decrypted,
//!    one datagram's worth at most. Records that fail to authenticate and
//!    garbage are dropped and counted ([`SessionStats`]), never returned.
//! 4. When the timer fires, call [`Session::handle_timeout`]: DTLS
//!    retransmits its last flight (RFC 6347 §4.2.4) or gives up.
//! 5. Once [`Session::state`] is [`SessionState::Established`],
//!    [`Session::encrypt`] turns one CoAP message into one record.
//! 6. [`Session::close`] queues a `close_notify` alert (RFC 5246 §7.2.1).
//!
//! The session tolerates any interleaving of these calls; a call that makes
//! no sense in the current state returns an error and changes nothing.
//!
//! # Secrets
//!
//! Keys never appear in `Debug` output or in errors: [`ClientParams`]
//! redacts the secret key, and errors name the Security resource that was
//! wrong, never its value.

use alloc::boxed::Box;
use core::fmt;
use core::net::IpAddr;

use crate::time::{Duration, Instant};

/// The Security Mode resource /0/x/2 (Core 1.1 Appendix E.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecurityMode {
    /// 0: DTLS with a pre-shared key (RFC 4279).
    Psk = 0,
    /// 1: DTLS with raw public keys (RFC 7250).
    RawPublicKey = 1,
    /// 2: DTLS with X.509 certificates.
    Certificate = 2,
    /// 3: no security: plain CoAP, no session at all.
    NoSec = 3,
    /// 4: certificates enrolled over EST (RFC 7030).
    CertificateEst = 4,
}

impl SecurityMode {
    /// The mode for a /0/x/2 value, or `None` outside 0–4.
    pub const fn from_resource(value: i64) -> Option<SecurityMode> {
        match value {
            0 => Some(SecurityMode::Psk),
            1 => Some(SecurityMode::RawPublicKey),
            2 => Some(SecurityMode::Certificate),
            3 => Some(SecurityMode::NoSec),
            4 => Some(SecurityMode::CertificateEst),
            _ => None,
        }
    }

    /// Whether the link needs a [`Session`] (every mode but NoSec).
    pub const fn needs_session(self) -> bool {
        !matches!(self, SecurityMode::NoSec)
    }
}

/// The Certificate Usage resource /0/x/15 (Core 1.1 Appendix E.1), with the
/// meanings of RFC 6698 §2.1.1 applied to the certificate in /0/x/4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CertificateUsage {
    /// 0, "CA constraint": the server's chain must pass PKIX validation
    /// against the trust store, and /0/x/4 must be one of its CAs.
    CaConstraint = 0,
    /// 1, "service certificate constraint": the chain must pass PKIX
    /// validation, and the end-entity certificate must be /0/x/4.
    ServiceCertificateConstraint = 1,
    /// 2, "trust anchor assertion": /0/x/4 is the only trust anchor the
    /// chain is validated against (dates and host name checked).
    TrustAnchorAssertion = 2,
    /// 3, "domain-issued certificate": the end-entity certificate must be
    /// exactly /0/x/4; nothing else is checked (RFC 7671 §5.1). The default
    /// when /0/x/15 is absent (Core 1.1 Appendix E.1).
    #[default]
    DomainIssuedCertificate = 3,
}

impl CertificateUsage {
    /// The usage for a /0/x/15 value, or `None` outside 0–3.
    pub const fn from_resource(value: i64) -> Option<CertificateUsage> {
        match value {
            0 => Some(CertificateUsage::CaConstraint),
            1 => Some(CertificateUsage::ServiceCertificateConstraint),
            2 => Some(CertificateUsage::TrustAnchorAssertion),
            3 => Some(CertificateUsage::DomainIssuedCertificate),
            _ => None,
        }
    }
}

/// The DTLS handshake's timers (RFC 6347 §4.2.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeTimers {
    /// First retransmission timeout of a flight (RFC 6347: 1 s).
    pub initial_retransmit: Duration,
    /// The doubling stops here (RFC 6347: at least 60 s).
    pub max_retransmit: Duration,
    /// The whole handshake fails with [`FailReason::Timeout`] when it is not
    /// done this long after [`Session::start`] (or, for a server session,
    /// after the first ClientHello). Measured on the core's clock.
    pub handshake_timeout: Duration,
}

impl HandshakeTimers {
    /// Timers with the given bounds.
    pub const fn new(
        initial_retransmit: Duration,
        max_retransmit: Duration,
        handshake_timeout: Duration,
    ) -> Self {
        HandshakeTimers {
            initial_retransmit,
            max_retransmit,
            handshake_timeout,
        }
    }
}

impl Default for HandshakeTimers {
    /// 1 s doubling to 60 s (RFC 6347 §4.2.4.1); the handshake gives up after
    /// 93 s, i.e. after the retransmissions at 1, 3, 7, 15, 31 and 63 s went
    /// unanswered, leaving the longer back-off to the client's retry logic.
    fn default() -> Self {
        HandshakeTimers {
            initial_retransmit: Duration::from_secs(1),
            max_retransmit: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(93),
        }
    }
}

/// What a backend needs to open a client session, borrowed from one Security
/// object instance (Core 1.1 Appendix E.1) and the link.
///
/// The backend copies what it keeps; the secret key is redacted from
/// `Debug`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientParams<'a> {
    /// /0/x/2.
    pub mode: SecurityMode,
    /// /0/x/3: the PSK identity (PSK mode) or the client's own certificate,
    /// DER (certificate mode).
    pub identity: &'a [u8],
    /// /0/x/4: the server's certificate, DER (certificate mode; its meaning
    /// set by [`ClientParams::certificate_usage`]), or empty.
    pub server_public_key: &'a [u8],
    /// /0/x/5: the PSK (PSK mode) or the client's private key, DER
    /// (certificate mode). Never printed.
    pub secret_key: &'a [u8],
    /// /0/x/15 (LwM2M 1.1); [`CertificateUsage::DomainIssuedCertificate`]
    /// when the resource is absent.
    pub certificate_usage: CertificateUsage,
    /// The host for SNI (RFC 6066 §3) and certificate name checks, from the
    /// server URI: `None` when the URI names an IP address (see
    /// [`sni_host`]).
    pub server_name: Option<&'a str>,
    /// Largest datagram the link carries (UDP payload), in bytes; the backend
    /// never emits a bigger one.
    pub mtu: u16,
    /// Handshake retransmission and give-up times.
    pub timers: HandshakeTimers,
}

impl<'a> ClientParams<'a> {
    /// Parameters for `mode` with empty keys, certificate usage 3, no host
    /// name, an MTU of 1280 bytes and the default timers; set the fields
    /// from the Security instance.
    pub const fn new(mode: SecurityMode) -> Self {
        ClientParams {
            mode,
            identity: &[],
            server_public_key: &[],
            secret_key: &[],
            certificate_usage: CertificateUsage::DomainIssuedCertificate,
            server_name: None,
            mtu: 1280,
            timers: HandshakeTimers {
                initial_retransmit: Duration::from_secs(1),
                max_retransmit: Duration::from_secs(60),
                handshake_timeout: Duration::from_secs(93),
            },
        }
    }

    /// PSK mode with `identity` (/0/x/3) and `key` (/0/x/5).
    pub const fn psk(identity: &'a [u8], key: &'a [u8]) -> Self {
        let mut p = ClientParams::new(SecurityMode::Psk);
        p.identity = identity;
        p.secret_key = key;
        p
    }

    /// Certificate mode with the client's certificate (/0/x/3), its private
    /// key (/0/x/5) and the server's certificate (/0/x/4), all DER.
    pub const fn certificate(
        own_certificate: &'a [u8],
        own_private_key: &'a [u8],
        server_certificate: &'a [u8],
    ) -> Self {
        let mut p = ClientParams::new(SecurityMode::Certificate);
        p.identity = own_certificate;
        p.secret_key = own_private_key;
        p.server_public_key = server_certificate;
        p
    }
}

impl fmt::Debug for ClientParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientParams")
            .field("mode", &self.mode)
            .field("identity", &ByteLen(self.identity.len()))
            .field("server_public_key", &ByteLen(self.server_public_key.len()))
            .field("secret_key", &Redacted)
            .field("certificate_usage", &self.certificate_usage)
            .field("server_name", &self.server_name)
            .field("mtu", &self.mtu)
            .field("timers", &self.timers)
            .finish()
    }
}

struct ByteLen(usize);

impl fmt::Debug for ByteLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The host name to send in SNI for a URI's host, or `None` when the host is
/// an IP literal: RFC 6066 §3 forbids literal addresses in "HostName". A
/// bracketed IPv6 host (`[::1]`) counts as a literal; a trailing dot is
/// removed (the name is sent without it).
pub fn sni_host(uri_host: &str) -> Option<&str> {
    let host = uri_host.strip_suffix('.').unwrap_or(uri_host);
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || bare.parse::<IpAddr>().is_ok() || bare.contains(':') {
        return None;
    }
    Some(host)
}

/// Where a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Created, [`Session::start`] not called yet (a server session waits
    /// for its first ClientHello here).
    Idle,
    /// Handshake in progress.
    Handshaking,
    /// Application data flows.
    Established,
    /// Closed by either side with `close_notify`.
    Closed,
    /// The handshake or the association failed; [`Session::start`] tries
    /// again.
    Failed(FailReason),
}

/// Why a session failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// PSK mode: the peers' keys differ. Seen as a `decrypt_error` /
    /// `bad_record_mac` alert, or as silence after our Finished (RFC 6347
    /// §4.1.2.7 lets the peer drop a record it cannot authenticate).
    BadPsk,
    /// The peer's certificate was rejected (ours, as verifier).
    BadCertificate(CertificateProblem),
    /// The peer sent a fatal alert with this description (RFC 5246 §7.2).
    PeerAlert(u8),
    /// No answer within [`HandshakeTimers::handshake_timeout`].
    Timeout,
    /// The peer broke the protocol or no cipher suite is shared.
    Protocol,
}

/// What was wrong with the peer's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Its validity period has ended.
    Expired,
    /// Its validity period has not begun.
    NotYetValid,
    /// The chain does not lead to a trusted anchor.
    Untrusted,
    /// It is not valid for the host name.
    NameMismatch,
    /// It is not the certificate /0/x/4 requires (usages 0, 1, 3).
    NotPinned,
    /// The peer sent none.
    Missing,
    /// Any other verification failure (bad signature, wrong purpose, ...).
    Invalid,
}

/// A Security resource that cannot be used to open a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Param {
    /// /0/x/3 (PSK identity or own certificate).
    Identity,
    /// /0/x/4 (server certificate).
    ServerPublicKey,
    /// /0/x/5 (PSK or private key).
    SecretKey,
    /// /0/x/15.
    CertificateUsage,
    /// The MTU is below what DTLS needs.
    Mtu,
    /// The server's credentials (server role).
    ServerCredentials,
}

/// Errors of a [`Session`] or [`SessionFactory`]. None carries key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The handshake or the association failed (the session is now
    /// [`SessionState::Failed`]).
    Failed(FailReason),
    /// [`Session::encrypt`] before the handshake finished.
    NotEstablished,
    /// The session is idle, closed or failed: call [`Session::start`].
    NotOpen,
    /// The mode has no backend here (Raw Public Key until a backend offers
    /// RFC 7250, Certificate-EST, or NoSec which needs no session).
    UnsupportedMode(SecurityMode),
    /// A Security resource cannot be used.
    InvalidParam(Param),
    /// The output buffer cannot hold the record or the plaintext.
    BufferTooSmall,
    /// The plaintext does not fit one record within the MTU
    /// ([`Session::max_plaintext`]).
    TooLarge,
    /// The backend failed internally.
    Backend,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::BadPsk => f.write_str("the pre-shared keys differ"),
            FailReason::BadCertificate(p) => write!(f, "peer certificate rejected: {p}"),
            FailReason::PeerAlert(d) => write!(f, "peer sent fatal alert {d}"),
            FailReason::Timeout => f.write_str("handshake timed out"),
            FailReason::Protocol => f.write_str("protocol error or no shared cipher suite"),
        }
    }
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateProblem::Expired => "expired",
            CertificateProblem::NotYetValid => "not yet valid",
            CertificateProblem::Untrusted => "not issued by a trusted anchor",
            CertificateProblem::NameMismatch => "not valid for the host name",
            CertificateProblem::NotPinned => "not the certificate in /0/x/4",
            CertificateProblem::Missing => "none sent",
            CertificateProblem::Invalid => "invalid",
        })
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Param::Identity => "/0/x/3 (identity or own certificate)",
            Param::ServerPublicKey => "/0/x/4 (server public key)",
            Param::SecretKey => "/0/x/5 (secret key)",
            Param::CertificateUsage => "/0/x/15 (certificate usage)",
            Param::Mtu => "MTU",
            Param::ServerCredentials => "server credentials",
        })
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Failed(r) => write!(f, "DTLS session failed: {r}"),
            SessionError::NotEstablished => f.write_str("DTLS handshake not finished"),
            SessionError::NotOpen => f.write_str("DTLS session not open"),
            SessionError::UnsupportedMode(m) => write!(f, "security mode {m:?} not supported"),
            SessionError::InvalidParam(p) => write!(f, "unusable {p}"),
            SessionError::BufferTooSmall => f.write_str("buffer too small"),
            SessionError::TooLarge => f.write_str("plaintext does not fit one record"),
            SessionError::Backend => f.write_str("DTLS backend failure"),
        }
    }
}

impl core::error::Error for SessionError {}

/// Counters of what a session dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Datagrams that were not a sequence of DTLS records (garbage).
    pub malformed: u64,
    /// Datagrams with application data that yielded none: failed
    /// authentication, a replay, or a stale epoch (RFC 6347 §4.1.2.6–7).
    pub rejected: u64,
    /// Application records dropped because an earlier record of the same
    /// datagram was already returned (one datagram's worth per call; CoAP
    /// peers send one message per datagram).
    pub coalesced: u64,
    /// Outgoing datagrams lost because the caller's buffer was too small or
    /// the backend's queue was full.
    pub transmit_dropped: u64,
}

/// Who the peer proved to be, once established (useful in the server role).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerIdentity<'a> {
    /// The PSK identity the client sent (RFC 4279 §2).
    Psk(&'a [u8]),
    /// The peer's end-entity certificate, DER.
    Certificate(&'a [u8]),
}

/// One DTLS association over one link, driven by the sans-IO core. See the
/// module documentation for the call order.
pub trait Session: Send {
    /// Starts a handshake at `now` (client role), resuming the previous
    /// session when one is kept; a server session forgets its association
    /// and waits for a new ClientHello (RFC 6347 §4.2.8).
    fn start(&mut self, now: Instant) -> Result<(), SessionError>;

    /// Processes one received datagram. Returns the decrypted application
    /// data written to `plaintext_out` (at most one datagram's worth), or
    /// `None` for handshake traffic, a `close_notify`, or a record that was
    /// dropped and counted. `Err(Failed(..))` when this datagram ended the
    /// session.
    fn handle_datagram(
        &mut self,
        now: Instant,
        record: &[u8],
        plaintext_out: &mut [u8],
    ) -> Result<Option<usize>, SessionError>;

    /// Protects one application datagram into `out` (one record); returns
    /// its length.
    fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, SessionError>;

    /// The next handshake or alert datagram to send, written to `out` (which
    /// should hold the MTU), or `None` when there is nothing to send.
    fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<usize>;

    /// When [`Session::handle_timeout`] must be called next.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Retransmits the last flight if its timer expired, or fails the
    /// handshake once [`HandshakeTimers::handshake_timeout`] is over.
    fn handle_timeout(&mut self, now: Instant);

    /// Where the session is.
    fn state(&self) -> SessionState;

    /// Queues a `close_notify` alert and closes the session.
    fn close(&mut self);

    /// The largest plaintext [`Session::encrypt`] accepts with the current
    /// cipher suite and MTU.
    fn max_plaintext(&self) -> usize;

    /// What was dropped so far.
    fn stats(&self) -> SessionStats;

    /// Whether the last handshake resumed an earlier session.
    fn resumed(&self) -> bool {
        false
    }

    /// The authenticated peer, once established.
    fn peer_identity(&self) -> Option<PeerIdentity<'_>> {
        None
    }
}

/// Creates client sessions; the application passes one in the configuration.
/// One `Box<dyn Session>` per link: links are few.
pub trait SessionFactory: Send + Sync {
    /// A new, idle session for `params`. NoSec has no session, and a mode
    /// the backend lacks gives [`SessionError::UnsupportedMode`].
    fn open(&self, params: &ClientParams<'_>) -> Result<Box<dyn Session>, SessionError>;
}

/// Creates server sessions, one per client address (the bundled server).
pub trait ServerSessionFactory: Send + Sync {
    /// A new, idle server session: it waits for a ClientHello.
    fn accept(&self) -> Result<Box<dyn Session>, SessionError>;
}

/// DTLS record framing (RFC 6347 §4.1), enough to count and classify
/// datagrams without a backend: 13 header bytes, then the fragment.
///
/// ```text
/// type(1) version(2) epoch(2) sequence_number(6) length(2) fragment(length)
/// ```
pub mod record {
    /// change_cipher_spec (RFC 5246 §6.2.1).
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// alert.
    pub const ALERT: u8 = 21;
    /// handshake.
    pub const HANDSHAKE: u8 = 22;
    /// application_data.
    pub const APPLICATION_DATA: u8 = 23;
    /// Header length.
    pub const HEADER_LEN: usize = 13;
    /// The ClientHello handshake type (RFC 5246 §7.4).
    pub const CLIENT_HELLO: u8 = 1;

    /// One record: its header fields and a view of its fragment.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Record<'a> {
        /// Content type.
        pub content_type: u8,
        /// Protocol version: 0xFEFD for DTLS 1.2, 0xFEFF for DTLS 1.0
        /// (which a ClientHello may carry).
        pub version: u16,
        /// Epoch: 0 before the first ChangeCipherSpec.
        pub epoch: u16,
        /// 48-bit sequence number.
        pub sequence: u64,
        /// The (possibly protected) fragment.
        pub fragment: &'a [u8],
    }

    /// The records of a datagram, in order; stops with `Err(())` at the first
    /// malformed one (unknown type or version, or a length past the end).
    pub fn records(datagram: &[u8]) -> Records<'_> {
        Records { rest: datagram }
    }

    /// Iterator of [`records`].
    #[derive(Clone, Debug)]
    pub struct Records<'a> {
        rest: &'a [u8],
    }

    impl<'a> Iterator for Records<'a> {
        type Item = Result<Record<'a>, ()>;

        fn next(&mut self) -> Option<Self::Item> {
            if self.rest.is_empty() {
                return None;
            }
            let parsed = parse(self.rest);
            match parsed {
                Some((rec, rest)) => {
                    self.rest = rest;
                    Some(Ok(rec))
                }
                None => {
                    self.rest = &[];
                    Some(Err(()))
                }
            }
        }
    }

    fn parse(bytes: &[u8]) -> Option<(Record<'_>, &[u8])> {
        let (hdr, body) = bytes.split_at_checked(HEADER_LEN)?;
        let [ct, v0, v1, e0, e1, s0, s1, s2, s3, s4, s5, l0, l1] = *hdr else {
            return None;
        };
        if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ct) {
            return None;
        }
        let version = u16::from_be_bytes([v0, v1]);
        if version != 0xFEFD && version != 0xFEFF {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let (fragment, rest) = body.split_at_checked(len)?;
        Some((
            Record {
                content_type: ct,
                version,
                epoch: u16::from_be_bytes([e0, e1]),
                sequence: u64::from_be_bytes([0, 0, s0, s1, s2, s3, s4, s5]),
                fragment,
            },
            rest,
        ))
    }

    /// Whether the whole datagram is a sequence of well-formed records.
    pub fn is_well_formed(datagram: &[u8]) -> bool {
        !datagram.is_empty() && records(datagram).all(|r| r.is_ok())
    }

    /// Whether the datagram carries application data.
    pub fn has_application_data(datagram: &[u8]) -> bool {
        records(datagram).any(|r| matches!(r, Ok(r) if r.content_type == APPLICATION_DATA))
    }

    /// Whether the datagram starts a new association: its first record is an
    /// epoch-0 ClientHello. A server that sees one on an established
    /// association starts a new session (RFC 6347 §4.2.8).
    pub fn is_client_hello(datagram: &[u8]) -> bool {
        match records(datagram).next() {
            Some(Ok(r)) => {
                r.content_type == HANDSHAKE
                    && r.epoch == 0
                    && r.fragment.first() == Some(&CLIENT_HELLO)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn modes_and_usages_map_from_resources() {
        assert_eq!(SecurityMode::from_resource(0), Some(SecurityMode::Psk));
        assert_eq!(
            SecurityMode::from_resource(2),
            Some(SecurityMode::Certificate)
        );
        assert_eq!(SecurityMode::from_resource(3), Some(SecurityMode::NoSec));
        assert_eq!(SecurityMode::from_resource(5), None);
        assert_eq!(SecurityMode::from_resource(-1), None);
        assert!(!SecurityMode::NoSec.needs_session());
        assert!(SecurityMode::Psk.needs_session());
        assert_eq!(
            CertificateUsage::from_resource(2),
            Some(CertificateUsage::TrustAnchorAssertion)
        );
        assert_eq!(CertificateUsage::from_resource(4), None);
        assert_eq!(
            CertificateUsage::default(),
            CertificateUsage::DomainIssuedCertificate
        );
    }

    #[test]
    fn debug_never_shows_the_secret_key() {
        let key = [0xAB_u8, 0xCD, 0xEF, 0x42];
        let p = ClientParams::psk(b"client-1", &key);
        let shown = format!("{p:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        for needle in ["171", "ab", "AB", "0xab", "205", "239", "66"] {
            assert!(!shown.contains(needle), "{needle} in {shown}");
        }
        let err = format!("{}", SessionError::InvalidParam(Param::SecretKey));
        assert_eq!(err, "unusable /0/x/5 (secret key)");
    }

    #[test]
    fn sni_is_never_an_ip_literal() {
        // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted".
        assert_eq!(sni_host("lwm2m.example.com"), Some("lwm2m.example.com"));
        assert_eq!(sni_host("lwm2m.example.com."), Some("lwm2m.example.com"));
        assert_eq!(sni_host("localhost"), Some("localhost"));
        assert_eq!(sni_host("127.0.0.1"), None);
        assert_eq!(sni_host("[::1]"), None);
        assert_eq!(sni_host("[fe80::1%25eth0]"), None);
        assert_eq!(sni_host("::1"), None);
        assert_eq!(sni_host(""), None);
    }

    // A DTLS 1.2 ClientHello record header as laid out in RFC 6347 §4.1:
    // type 22, version {254, 255}, epoch 0, sequence 0, length 4, then the
    // first bytes of a handshake message of type client_hello (1).
    const CLIENT_HELLO: [u8; 17] = [22, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0x2C];

    #[test]
    fn record_framing() {
        let recs: alloc::vec::Vec<_> = record::records(&CLIENT_HELLO).collect();
        assert_eq!(recs.len(), 1);
        let r = recs[0].unwrap();
        assert_eq!(r.content_type, record::HANDSHAKE);
        assert_eq!(r.version, 0xFEFF);
        assert_eq!(r.epoch, 0);
        assert_eq!(r.fragment, &[1, 0, 0, 0x2C]);
        assert!(record::is_client_hello(&CLIENT_HELLO));
        assert!(record::is_well_formed(&CLIENT_HELLO));
        assert!(!record::has_application_data(&CLIENT_HELLO));

        // Two records in one datagram: an epoch-1 application_data record
        // (sequence 0x0102030405 06, length 2) after the ClientHello.
        let mut two = alloc::vec::Vec::from(CLIENT_HELLO);
        two.extend_from_slice(&[23, 0xFE, 0xFD, 0, 1, 1, 2, 3, 4, 5, 6, 0, 2, 9, 9]);
        let r2 = record::records(&two).nth(1).unwrap().unwrap();
        assert_eq!(r2.epoch, 1);
        assert_eq!(r2.sequence, 0x0102_0304_0506);
        assert!(record::has_application_data(&two));
        assert!(record::is_well_formed(&two));

        // Truncated fragment, unknown type, unknown version, empty.
        assert!(!record::is_well_formed(&two[..two.len() - 1]));
        let mut bad = CLIENT_HELLO;
        bad[0] = 24;
        assert!(!record::is_well_formed(&bad));
        let mut bad = CLIENT_HELLO;
        bad[2] = 0xFD;
        bad[1] = 0x03;
        assert!(!record::is_well_formed(&bad));
        assert!(!record::is_well_formed(&[]));
        assert!(!record::is_client_hello(&two[17..]));
    }
}
