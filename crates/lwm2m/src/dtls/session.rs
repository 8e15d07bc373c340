//! [`OpenSslSession`]: one DTLS association, either role, driven sans-IO.

use std::fmt;
use std::sync::Arc;

use lwm2m_core::session::{
    CertificateProblem, FailReason, HandshakeTimers, PeerIdentity, Session, SessionError,
    SessionState, SessionStats, record,
};
use lwm2m_core::time::Instant;
use openssl::error::ErrorStack;
use openssl::ssl::{self, ErrorCode, Ssl, SslContext, SslStream};
use openssl::x509::X509VerifyResult;

use super::ffi::{self, Resumable, Schedule};
use super::pipe::Pipe;

/// Per-SSL set-up of a server session (its cookie secret).
pub(crate) type SetupFn = dyn Fn(&mut ssl::SslRef) -> Result<(), ErrorStack> + Send + Sync;

/// What differs between the roles when a handshake (re)starts.
pub(crate) enum Role {
    Client {
        /// Per-session context: it holds this link's keys and verification.
        context: SslContext,
        /// SNI and verification host.
        server_name: Option<String>,
        /// Whether to check the certificate's name against `server_name`.
        check_host: bool,
        /// The last negotiated session, offered again by [`Session::start`].
        resume: Option<Resumable>,
        psk: bool,
    },
    Server {
        context: SslContext,
        setup: Arc<SetupFn>,
    },
}

/// One DTLS 1.2 association over OpenSSL, in the client or the server role.
///
/// Create one with [`super::OpenSslFactory`] (client) or
/// [`super::OpenSslServer`] (server) and drive it through the
/// [`Session`] trait.
///
/// # Timers
///
/// OpenSSL runs the retransmission timer of a handshake flight on the real
/// clock (`gettimeofday`) and offers no way to supply the time. The session
/// maps it onto the core's clock: after every call that received `now`,
/// [`Session::poll_timeout`] is `now` plus the time OpenSSL reports left, and
/// [`Session::handle_timeout`] asks OpenSSL to retransmit, which it does only
/// once that real time has passed. The retransmission intervals come from
/// [`HandshakeTimers`] (through `DTLS_set_timer_cb`, never below 20 ms);
/// the whole-handshake limit [`HandshakeTimers::handshake_timeout`] is
/// measured on the core's clock.
///
/// Consequence for virtual-time simulations: a handshake that loses a flight
/// recovers only as fast as the real clock runs (a simulation that jumps
/// ahead sees the deadline move forward instead of a retransmission), while
/// the handshake timeout fires in virtual time. Simulations with DTLS loss
/// should use short retransmission timers and let real time pass, bounded.
pub struct OpenSslSession {
    role: Role,
    stream: Option<SslStream<Pipe>>,
    /// Datagrams queued while no stream exists (or left by a replaced one).
    spare: Pipe,
    state: SessionState,
    timers: HandshakeTimers,
    mtu: u16,
    handshake_deadline: Option<Instant>,
    retransmit_at: Option<Instant>,
    stats: SessionStats,
    peer_certificate: Option<Vec<u8>>,
}

impl fmt::Debug for OpenSslSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenSslSession")
            .field(
                "role",
                &match self.role {
                    Role::Client { .. } => "client",
                    Role::Server { .. } => "server",
                },
            )
            .field("state", &self.state)
            .field("cipher", &self.cipher())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

const ERR_LIB_SSL: i32 = 20;
const SSL_AD_REASON_OFFSET: i32 = 1000;
const SSL_R_CERTIFICATE_VERIFY_FAILED: i32 = 134;
const SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 199;
const SSL_R_PSK_IDENTITY_NOT_FOUND: i32 = 223;
const SSL_R_READ_TIMEOUT_EXPIRED: i32 = 312;
const ALERT_BAD_RECORD_MAC: i32 = 20;
const ALERT_DECRYPT_ERROR: i32 = 51;
const ALERT_UNKNOWN_PSK_IDENTITY: i32 = 115;

impl OpenSslSession {
    pub(crate) fn new(role: Role, mtu: u16, timers: HandshakeTimers) -> OpenSslSession {
        OpenSslSession {
            role,
            stream: None,
            spare: Pipe::default(),
            state: SessionState::Idle,
            timers,
            mtu,
            handshake_deadline: None,
            retransmit_at: None,
            stats: SessionStats::default(),
            peer_certificate: None,
        }
    }

    /// The negotiated cipher suite's OpenSSL name (e.g. `PSK-AES128-CCM8`),
    /// once the handshake chose one.
    pub fn cipher(&self) -> Option<&'static str> {
        let c = self.stream.as_ref()?.ssl().current_cipher()?;
        Some(c.name())
    }

    /// The host name the client sent in SNI (server role).
    pub fn server_name(&self) -> Option<&str> {
        self.stream
            .as_ref()?
            .ssl()
            .servername(ssl::NameType::HOST_NAME)
    }

    fn is_psk_client(&self) -> bool {
        matches!(self.role, Role::Client { psk: true, .. })
    }

    /// A fresh SSL object and stream for a new handshake.
    fn new_stream(&mut self) -> Result<SslStream<Pipe>, SessionError> {
        let schedule = Schedule::new(self.timers.initial_retransmit, self.timers.max_retransmit);
        let ssl = match &self.role {
            Role::Client {
                context,
                server_name,
                check_host,
                resume,
                ..
            } => {
                let mut ssl = Ssl::new(context).map_err(|_| SessionError::Backend)?;
                ssl.set_connect_state();
                if let Some(name) = server_name {
                    ssl.set_hostname(name).map_err(|_| SessionError::Backend)?;
                    if *check_host {
                        ssl.param_mut()
                            .set_host(name)
                            .map_err(|_| SessionError::Backend)?;
                    }
                }
                if let Some(kept) = resume {
                    ffi::resume(&mut ssl, kept);
                }
                ssl
            }
            Role::Server { context, setup } => {
                let mut ssl = Ssl::new(context).map_err(|_| SessionError::Backend)?;
                ssl.set_accept_state();
                setup(&mut ssl).map_err(|_| SessionError::Backend)?;
                ssl
            }
        };
        let mut ssl = ssl;
        ssl.set_mtu(u32::from(self.mtu))
            .map_err(|_| SessionError::Backend)?;
        ffi::set_schedule(&mut ssl, schedule);
        SslStream::new(ssl, Pipe::default()).map_err(|_| SessionError::Backend)
    }

    /// Replaces the stream, keeping datagrams still queued by the old one.
    fn install(&mut self, stream: SslStream<Pipe>) {
        if let Some(mut old) = self.stream.take() {
            self.spare.take_outgoing(old.get_mut());
        }
        self.stream = Some(stream);
        self.peer_certificate = None;
        self.retransmit_at = None;
    }

    fn begin_handshake(&mut self, now: Instant) -> Result<(), SessionError> {
        let stream = self.new_stream()?;
        self.install(stream);
        self.state = SessionState::Handshaking;
        self.handshake_deadline = Some(now + self.timers.handshake_timeout);
        Ok(())
    }

    /// Runs the handshake as far as the input allows.
    fn drive_handshake(&mut self, now: Instant) -> Result<(), SessionError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(SessionError::NotOpen);
        };
        match stream.do_handshake() {
            Ok(()) => {
                self.on_established();
                Ok(())
            }
            Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => {
                self.update_timer(now);
                Ok(())
            }
            Err(e) => Err(self.fail_with(&e)),
        }
    }

    fn on_established(&mut self) {
        self.state = SessionState::Established;
        self.handshake_deadline = None;
        self.retransmit_at = None;
        let Some(stream) = self.stream.as_ref() else {
            return;
        };
        let ssl = stream.ssl();
        self.peer_certificate = ssl.peer_certificate().and_then(|c| c.to_der().ok());
        if let Role::Client { resume, .. } = &mut self.role {
            *resume = Resumable::of(ssl);
        }
    }

    fn update_timer(&mut self, now: Instant) {
        self.retransmit_at = self
            .stream
            .as_ref()
            .and_then(|s| ffi::timeout(s.ssl()))
            .map(|left| now + left);
    }

    /// Moves to `Failed` with the reason the OpenSSL error shows.
    fn fail_with(&mut self, e: &ssl::Error) -> SessionError {
        let reason = if e.code() == ErrorCode::ZERO_RETURN {
            self.state = SessionState::Closed;
            self.handshake_deadline = None;
            self.retransmit_at = None;
            return SessionError::NotOpen;
        } else {
            self.classify(e.ssl_error())
        };
        self.fail(reason)
    }

    fn fail(&mut self, reason: FailReason) -> SessionError {
        self.state = SessionState::Failed(reason);
        self.handshake_deadline = None;
        self.retransmit_at = None;
        if let Some(s) = self.stream.as_mut() {
            s.get_mut().clear_incoming();
        }
        SessionError::Failed(reason)
    }

    fn classify(&self, stack: Option<&ErrorStack>) -> FailReason {
        let psk = self.is_psk_client() || self.psk_server();
        for err in stack.map(|s| s.errors()).unwrap_or(&[]) {
            if err.library_code() != ERR_LIB_SSL {
                continue;
            }
            let reason = err.reason_code();
            if reason >= SSL_AD_REASON_OFFSET {
                let alert = reason - SSL_AD_REASON_OFFSET;
                if psk
                    && matches!(
                        alert,
                        ALERT_BAD_RECORD_MAC | ALERT_DECRYPT_ERROR | ALERT_UNKNOWN_PSK_IDENTITY
                    )
                {
                    return FailReason::BadPsk;
                }
                return FailReason::PeerAlert(u8::try_from(alert).unwrap_or(u8::MAX));
            }
            match reason {
                SSL_R_CERTIFICATE_VERIFY_FAILED => {
                    let result = self
                        .stream
                        .as_ref()
                        .map(|s| s.ssl().verify_result())
                        .unwrap_or(X509VerifyResult::APPLICATION_VERIFICATION);
                    return FailReason::BadCertificate(certificate_problem(result));
                }
                SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE => {
                    return FailReason::BadCertificate(CertificateProblem::Missing);
                }
                SSL_R_PSK_IDENTITY_NOT_FOUND => return FailReason::BadPsk,
                SSL_R_READ_TIMEOUT_EXPIRED => return self.timeout_reason(),
                _ => {}
            }
        }
        FailReason::Protocol
    }

    fn psk_server(&self) -> bool {
        matches!(self.role, Role::Server { .. })
            && self
                .stream
                .as_ref()
                .is_some_and(|s| s.ssl().psk_identity().is_some())
    }

    /// A PSK client whose Finished went unanswered most likely holds the
    /// wrong key: DTLS peers drop records they cannot authenticate (RFC 6347
    /// §4.1.2.7) and OpenSSL servers answer a bad Finished with silence.
    fn timeout_reason(&self) -> FailReason {
        let sent_finished = self.stream.as_ref().is_some_and(|s| s.get_ref().sent_ccs);
        if self.is_psk_client() && sent_finished {
            FailReason::BadPsk
        } else {
            FailReason::Timeout
        }
    }

    /// Whether `datagram` has a protected record (epoch above 0) too short
    /// to hold the negotiated cipher's nonce or IV and tag or MAC. OpenSSL
    /// ends the association on such a record instead of dropping it as RFC
    /// 6347 §4.1.2.7 asks, so one forged datagram from anyone who knows the
    /// address would do; it is dropped here first. The bound is the
    /// cipher's overhead on a full record (`DTLS_get_data_mtu`), which no
    /// genuine record is below.
    fn too_short_to_be_genuine(&self, datagram: &[u8]) -> bool {
        let Some(stream) = self.stream.as_ref() else {
            return false;
        };
        let room = ffi::data_mtu(stream.ssl());
        if room == 0 {
            return false;
        }
        let overhead = usize::from(self.mtu)
            .saturating_sub(record::HEADER_LEN)
            .saturating_sub(room);
        record::records(datagram)
            .any(|r| matches!(r, Ok(r) if r.epoch != 0 && r.fragment.len() < overhead))
    }

    /// Reads decrypted application data after a datagram was fed.
    fn read_application(&mut self, out: &mut [u8]) -> Result<Option<usize>, SessionError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(SessionError::NotOpen);
        };
        let first = match stream.ssl_read(out) {
            Ok(n) => Some(n),
            Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => None,
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                self.state = SessionState::Closed;
                return Ok(None);
            }
            Err(e) => return Err(self.fail_with(&e)),
        };
        // A record bigger than `out` is refused whole rather than cut. Any
        // further record of the same datagram is dropped and counted: the
        // caller takes one datagram's worth per call, and must not see it
        // surface with the next datagram.
        let mut scratch = [0u8; 256];
        let truncated = stream.ssl().pending() > 0;
        let mut extra = 0u64;
        loop {
            let starts_record = stream.ssl().pending() == 0;
            match stream.ssl_read(&mut scratch) {
                Ok(_) => extra = extra.saturating_add(u64::from(starts_record)),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.state = SessionState::Closed;
                    break;
                }
                Err(_) => break,
            }
        }
        self.stats.coalesced = self.stats.coalesced.saturating_add(extra);
        if truncated {
            return Err(SessionError::BufferTooSmall);
        }
        Ok(first)
    }
}

fn certificate_problem(result: X509VerifyResult) -> CertificateProblem {
    // X509_V_ERR_* values from <openssl/x509_vfy.h>.
    match result.as_raw() {
        10 => CertificateProblem::Expired,
        9 => CertificateProblem::NotYetValid,
        62 => CertificateProblem::NameMismatch,
        50 => CertificateProblem::NotPinned,
        2 | 18 | 19 | 20 | 21 | 27 => CertificateProblem::Untrusted,
        _ => CertificateProblem::Invalid,
    }
}

impl Session for OpenSslSession {
    fn start(&mut self, now: Instant) -> Result<(), SessionError> {
        match self.role {
            Role::Client { .. } => {
                self.begin_handshake(now)?;
                self.drive_handshake(now)
            }
            Role::Server { .. } => {
                // The next ClientHello starts a new association.
                if let Some(mut old) = self.stream.take() {
                    self.spare.take_outgoing(old.get_mut());
                }
                self.state = SessionState::Idle;
                self.handshake_deadline = None;
                self.retransmit_at = None;
                self.peer_certificate = None;
                Ok(())
            }
        }
    }

    fn handle_datagram(
        &mut self,
        now: Instant,
        datagram: &[u8],
        plaintext_out: &mut [u8],
    ) -> Result<Option<usize>, SessionError> {
        if !record::is_well_formed(datagram) {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return Ok(None);
        }
        // A server session that has no live association starts one on a
        // ClientHello (after a failure or close too: the client retries).
        // An established one keeps its association: the caller decides with
        // `start` (RFC 6347 §4.2.8), since a ClientHello is unauthenticated.
        if matches!(self.role, Role::Server { .. })
            && matches!(
                self.state,
                SessionState::Idle | SessionState::Failed(_) | SessionState::Closed
            )
        {
            if !record::is_client_hello(datagram) {
                return Ok(None);
            }
            self.begin_handshake(now)?;
        }
        if matches!(
            self.state,
            SessionState::Handshaking | SessionState::Established
        ) && self.too_short_to_be_genuine(datagram)
        {
            self.stats.rejected = self.stats.rejected.saturating_add(1);
            return Ok(None);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(SessionError::NotOpen);
        };
        match self.state {
            SessionState::Handshaking => {
                stream.get_mut().feed(datagram);
                let r = self.drive_handshake(now);
                let data = match (&r, self.state) {
                    // Application data right behind the peer's Finished.
                    (Ok(()), SessionState::Established) => self.read_application(plaintext_out),
                    _ => Ok(None),
                };
                if let Some(s) = self.stream.as_mut() {
                    s.get_mut().clear_incoming();
                }
                r?;
                data
            }
            SessionState::Established => {
                stream.get_mut().feed(datagram);
                let r = self.read_application(plaintext_out);
                if let Some(s) = self.stream.as_mut() {
                    s.get_mut().clear_incoming();
                }
                if matches!(r, Ok(None)) && record::has_application_data(datagram) {
                    self.stats.rejected = self.stats.rejected.saturating_add(1);
                }
                r
            }
            _ => Err(SessionError::NotOpen),
        }
    }

    fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, SessionError> {
        match self.state {
            SessionState::Established => {}
            SessionState::Handshaking => return Err(SessionError::NotEstablished),
            _ => return Err(SessionError::NotOpen),
        }
        if plaintext.len() > self.max_plaintext() {
            return Err(SessionError::TooLarge);
        }
        if plaintext.is_empty() {
            return Ok(0);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(SessionError::NotOpen);
        };
        // Anything queued before (a retransmitted Finished) goes out through
        // `poll_transmit`; this record is the newest datagram.
        let before = stream.get_ref().queued();
        match stream.ssl_write(plaintext) {
            Ok(_) => {}
            Err(e) => return Err(self.fail_with(&e)),
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(SessionError::NotOpen);
        };
        if stream.get_ref().queued() <= before {
            return Err(SessionError::Backend);
        }
        match stream.get_mut().pop_back_into(out) {
            Some(Ok(n)) => Ok(n),
            _ => Err(SessionError::BufferTooSmall),
        }
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut [u8]) -> Option<usize> {
        loop {
            let popped = match self.spare.pop_into(out) {
                Some(r) => r,
                None => self.stream.as_mut()?.get_mut().pop_into(out)?,
            };
            match popped {
                Ok(n) => return Some(n),
                Err(_) => {
                    self.stats.transmit_dropped = self.stats.transmit_dropped.saturating_add(1);
                }
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match (self.retransmit_at, self.handshake_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.state != SessionState::Handshaking {
            return;
        }
        if self.handshake_deadline.is_some_and(|d| now >= d) {
            let reason = self.timeout_reason();
            self.fail(reason);
            return;
        }
        if self.retransmit_at.is_none_or(|t| now < t) {
            return;
        }
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        if ffi::handle_timeout(stream) < 0 {
            let reason = self.timeout_reason();
            self.fail(reason);
            return;
        }
        self.update_timer(now);
    }

    fn state(&self) -> SessionState {
        self.state
    }

    fn close(&mut self) {
        if let Some(s) = self.stream.as_mut()
            && matches!(
                self.state,
                SessionState::Established | SessionState::Handshaking
            )
        {
            // Queues close_notify; a DTLS peer never answers it.
            let _ = s.shutdown();
        }
        self.state = SessionState::Closed;
        self.handshake_deadline = None;
        self.retransmit_at = None;
    }

    fn max_plaintext(&self) -> usize {
        match (self.state, self.stream.as_ref()) {
            (SessionState::Established, Some(s)) => ffi::data_mtu(s.ssl()),
            _ => 0,
        }
    }

    fn stats(&self) -> SessionStats {
        let mut s = self.stats;
        let queued_drops = self
            .spare
            .dropped
            .saturating_add(self.stream.as_ref().map_or(0, |st| st.get_ref().dropped));
        s.transmit_dropped = s.transmit_dropped.saturating_add(queued_drops);
        s
    }

    fn resumed(&self) -> bool {
        self.state == SessionState::Established
            && self
                .stream
                .as_ref()
                .is_some_and(|s| s.ssl().session_reused())
    }

    fn peer_identity(&self) -> Option<PeerIdentity<'_>> {
        if self.state != SessionState::Established {
            return None;
        }
        if let Some(der) = &self.peer_certificate {
            return Some(PeerIdentity::Certificate(der));
        }
        match self.role {
            Role::Server { .. } => self
                .stream
                .as_ref()?
                .ssl()
                .psk_identity()
                .map(PeerIdentity::Psk),
            Role::Client { .. } => None,
        }
    }
}
