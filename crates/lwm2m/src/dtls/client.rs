//! The client role: a per-link OpenSSL context built from a Security object
//! instance.

use lwm2m_core::session::{
    CertificateUsage, ClientParams, Param, SecurityMode, Session, SessionError, SessionFactory,
};
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    SslContext, SslContextBuilder, SslMethod, SslOptions, SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509StoreContextRef, X509VerifyResult};
use zeroize::Zeroizing;

use super::session::{OpenSslSession, Role};

/// Cipher suites a PSK client offers, most preferred first: the mandatory
/// TLS_PSK_WITH_AES_128_CCM_8 (RFC 7925 §4.2, adopted by LwM2M Transport
/// Bindings 1.1 §5.2), then TLS_PSK_WITH_AES_128_CBC_SHA256 for older
/// servers.
pub const PSK_CIPHERS: &str = "PSK-AES128-CCM8:PSK-AES128-CBC-SHA256";

/// Cipher suites a certificate client offers, most preferred first: the
/// mandatory TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7925 §4.4), then
/// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 for older servers.
pub const CERTIFICATE_CIPHERS: &str = "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-SHA256";

/// Elliptic curves offered for ECDHE, secp256r1 first (RFC 7925 §4.4.3).
pub(crate) const GROUPS: &str = "P-256:X25519:P-384";

/// OpenSSL's bounds on a PSK identity and key (`PSK_MAX_IDENTITY_LEN`,
/// `PSK_MAX_PSK_LEN` in OpenSSL 3).
const MAX_IDENTITY: usize = 128;
const MAX_PSK: usize = 256;

/// The OpenSSL backend's [`SessionFactory`]: PSK (mode 0) and certificate
/// (mode 2) client sessions. Raw Public Key and Certificate-EST answer
/// [`SessionError::UnsupportedMode`]; NoSec needs no session.
#[derive(Clone, Debug, Default)]
pub struct OpenSslFactory {
    _private: (),
}

impl OpenSslFactory {
    /// The factory.
    pub fn new() -> Self {
        OpenSslFactory { _private: () }
    }

    /// A client session for `params`, as its concrete type (for tests and
    /// drivers that want [`OpenSslSession::cipher`]).
    pub fn client(&self, params: &ClientParams<'_>) -> Result<OpenSslSession, SessionError> {
        if params.mtu < 256 {
            return Err(SessionError::InvalidParam(Param::Mtu));
        }
        let psk = match params.mode {
            SecurityMode::Psk => true,
            SecurityMode::Certificate => false,
            other => return Err(SessionError::UnsupportedMode(other)),
        };
        let mut b = base_builder(SslMethod::dtls_client())?;
        let check_host = if psk {
            configure_psk(&mut b, params)?;
            false
        } else {
            configure_certificate(&mut b, params)?
        };
        let role = Role::Client {
            context: b.build(),
            server_name: params.server_name.map(str::to_owned),
            check_host,
            resume: None,
            psk,
        };
        Ok(OpenSslSession::new(role, params.mtu, params.timers))
    }
}

impl SessionFactory for OpenSslFactory {
    fn open(&self, params: &ClientParams<'_>) -> Result<Box<dyn Session>, SessionError> {
        Ok(Box::new(self.client(params)?))
    }
}

/// DTLS 1.2 only, no MTU discovery (the MTU is set on every session).
pub(crate) fn base_builder(method: SslMethod) -> Result<SslContextBuilder, SessionError> {
    let backend = |_: ErrorStack| SessionError::Backend;
    let mut b = SslContext::builder(method).map_err(backend)?;
    b.set_min_proto_version(Some(SslVersion::DTLS1_2))
        .map_err(backend)?;
    b.set_max_proto_version(Some(SslVersion::DTLS1_2))
        .map_err(backend)?;
    b.set_options(SslOptions::NO_QUERY_MTU);
    b.set_groups_list(GROUPS).map_err(backend)?;
    Ok(b)
}

fn configure_psk(b: &mut SslContextBuilder, p: &ClientParams<'_>) -> Result<(), SessionError> {
    if p.identity.is_empty() || p.identity.len() > MAX_IDENTITY || p.identity.contains(&0) {
        return Err(SessionError::InvalidParam(Param::Identity));
    }
    if p.secret_key.is_empty() || p.secret_key.len() > MAX_PSK {
        return Err(SessionError::InvalidParam(Param::SecretKey));
    }
    b.set_cipher_list(PSK_CIPHERS)
        .map_err(|_| SessionError::Backend)?;
    let identity = p.identity.to_vec();
    let key = Zeroizing::new(p.secret_key.to_vec());
    b.set_psk_client_callback(move |_ssl, _hint, identity_out, psk_out| {
        // OpenSSL wants the identity as a NUL-terminated C string.
        let (Some(id_dst), Some(key_dst)) = (
            identity_out.get_mut(..=identity.len()),
            psk_out.get_mut(..key.len()),
        ) else {
            return Err(ErrorStack::get());
        };
        if let Some((nul, id)) = id_dst.split_last_mut() {
            id.copy_from_slice(&identity);
            *nul = 0;
        }
        key_dst.copy_from_slice(&key);
        Ok(key.len())
    });
    Ok(())
}

pub(crate) fn private_key(der: &[u8]) -> Result<PKey<Private>, SessionError> {
    PKey::private_key_from_der(der)
        .or_else(|_| PKey::private_key_from_pkcs8(der))
        .map_err(|_| SessionError::InvalidParam(Param::SecretKey))
}

/// Own certificate and key, cipher suites, and server verification per the
/// Certificate Usage. Returns whether the host name must be checked.
fn configure_certificate(
    b: &mut SslContextBuilder,
    p: &ClientParams<'_>,
) -> Result<bool, SessionError> {
    let cert =
        X509::from_der(p.identity).map_err(|_| SessionError::InvalidParam(Param::Identity))?;
    let key = private_key(p.secret_key)?;
    b.set_certificate(&cert)
        .map_err(|_| SessionError::InvalidParam(Param::Identity))?;
    b.set_private_key(&key)
        .map_err(|_| SessionError::InvalidParam(Param::SecretKey))?;
    b.check_private_key()
        .map_err(|_| SessionError::InvalidParam(Param::SecretKey))?;
    b.set_cipher_list(CERTIFICATE_CIPHERS)
        .map_err(|_| SessionError::Backend)?;
    configure_verification(b, p.certificate_usage, p.server_public_key)
}

/// Server certificate verification for the Certificate Usage values 0–3
/// (Core 1.1 Appendix E.1 /0/x/15; RFC 6698 §2.1.1, RFC 7671 §5).
fn configure_verification(
    b: &mut SslContextBuilder,
    usage: CertificateUsage,
    server_public_key: &[u8],
) -> Result<bool, SessionError> {
    let bad_server_key = |_: ErrorStack| SessionError::InvalidParam(Param::ServerPublicKey);
    let pinned = if server_public_key.is_empty() {
        None
    } else {
        Some(X509::from_der(server_public_key).map_err(bad_server_key)?)
    };
    let pinned_der = match &pinned {
        Some(c) => Some(c.to_der().map_err(bad_server_key)?),
        None => None,
    };
    match usage {
        CertificateUsage::DomainIssuedCertificate => {
            // DANE-EE: the end-entity certificate is /0/x/4, byte for byte;
            // no path, date or name checks (RFC 7671 §5.1).
            let pinned = pinned_der.ok_or(SessionError::InvalidParam(Param::ServerPublicKey))?;
            b.set_verify_callback(SslVerifyMode::PEER, move |_ok, ctx| {
                if ctx.error_depth() != 0 {
                    return true;
                }
                require(ctx, leaf_is(ctx, &pinned))
            });
            Ok(false)
        }
        CertificateUsage::TrustAnchorAssertion => {
            // DANE-TA: /0/x/4 is the only anchor; a full PKIX check to it.
            let anchor = pinned.ok_or(SessionError::InvalidParam(Param::ServerPublicKey))?;
            b.set_verify_cert_store(anchor_store(vec![anchor])?)
                .map_err(|_| SessionError::Backend)?;
            b.set_verify(SslVerifyMode::PEER);
            Ok(true)
        }
        CertificateUsage::CaConstraint => {
            // PKIX-TA: a PKIX path from the system trust store that passes
            // through /0/x/4.
            b.set_default_verify_paths()
                .map_err(|_| SessionError::Backend)?;
            b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
                if !ok || ctx.error_depth() != 0 {
                    return ok;
                }
                let found = match &pinned_der {
                    None => true,
                    Some(p) => ctx.chain().is_some_and(|chain| {
                        chain
                            .iter()
                            .skip(1)
                            .any(|c| c.to_der().is_ok_and(|d| &d == p))
                    }),
                };
                require(ctx, found)
            });
            Ok(true)
        }
        CertificateUsage::ServiceCertificateConstraint => {
            // PKIX-EE: a PKIX path from the system trust store, ending in
            // /0/x/4.
            b.set_default_verify_paths()
                .map_err(|_| SessionError::Backend)?;
            b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
                if !ok || ctx.error_depth() != 0 {
                    return ok;
                }
                let matches = pinned_der.as_ref().is_none_or(|p| leaf_is(ctx, p));
                require(ctx, matches)
            });
            Ok(true)
        }
        _ => Err(SessionError::InvalidParam(Param::CertificateUsage)),
    }
}

fn leaf_is(ctx: &X509StoreContextRef, der: &[u8]) -> bool {
    ctx.current_cert()
        .and_then(|c| c.to_der().ok())
        .is_some_and(|d| d == der)
}

/// Passes `ok` through, recording a mismatch as an application failure
/// (surfaced as [`lwm2m_core::session::CertificateProblem::NotPinned`]).
fn require(ctx: &mut X509StoreContextRef, ok: bool) -> bool {
    if !ok {
        ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
    }
    ok
}

/// A store trusting exactly `anchors`, which need not be self-signed.
pub(crate) fn anchor_store(
    anchors: Vec<X509>,
) -> Result<openssl::x509::store::X509Store, SessionError> {
    let mut s = X509StoreBuilder::new().map_err(|_| SessionError::Backend)?;
    for a in anchors {
        s.add_cert(a).map_err(|_| SessionError::Backend)?;
    }
    s.set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(|_| SessionError::Backend)?;
    Ok(s.build())
}
