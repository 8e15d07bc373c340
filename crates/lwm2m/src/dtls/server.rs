//! The server role, for the bundled LwM2M server: one shared context, one
//! session per client address.

use std::fmt;
use std::sync::{Arc, OnceLock};

use lwm2m_core::session::{HandshakeTimers, Param, ServerSessionFactory, Session, SessionError};
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslMethod, SslOptions, SslRef, SslVerifyMode};
use openssl::x509::X509;
use zeroize::{Zeroize, Zeroizing};

use super::client::{CERTIFICATE_CIPHERS, PSK_CIPHERS, anchor_store, base_builder, private_key};
use super::session::{OpenSslSession, Role, SetupFn};

/// Looks up the key for a PSK identity (RFC 4279 §2); `None` for an unknown
/// identity, which fails the handshake with `unknown_psk_identity`. The
/// returned key is wiped after use.
pub type PskLookup = dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync;

/// Which client certificates a certificate-mode server accepts.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ClientCertificates {
    /// Any certificate whose holder proves its key; the application decides
    /// from [`Session::peer_identity`] which endpoint it belongs to (pinning).
    #[default]
    Any,
    /// Only certificates that chain to one of these anchors (DER; need not be
    /// self-signed).
    TrustAnchors(Vec<Vec<u8>>),
}

/// The credentials and limits of a DTLS server.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    psk: Option<Arc<PskLookup>>,
    certificate: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
    client_certificates: ClientCertificates,
    /// Largest datagram sent, in bytes.
    pub mtu: u16,
    /// Handshake retransmission and give-up times.
    pub timers: HandshakeTimers,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("psk", &self.psk.is_some())
            .field("certificate", &self.certificate.is_some())
            .field("client_certificates", &self.client_certificates)
            .field("mtu", &self.mtu)
            .field("timers", &self.timers)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            psk: None,
            certificate: None,
            client_certificates: ClientCertificates::Any,
            mtu: 1280,
            timers: HandshakeTimers::default(),
        }
    }
}

impl ServerConfig {
    /// No credentials yet, MTU 1280, default timers.
    pub fn new() -> Self {
        ServerConfig::default()
    }

    /// Accepts PSK clients, with `lookup` mapping identities to keys.
    pub fn with_psk(
        mut self,
        lookup: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        self.psk = Some(Arc::new(lookup));
        self
    }

    /// Accepts certificate clients, presenting `certificate` (DER) signed by
    /// `private_key` (DER, PKCS#8 or SEC1).
    pub fn with_certificate(mut self, certificate: &[u8], private_key: &[u8]) -> Self {
        self.certificate = Some((certificate.to_vec(), Zeroizing::new(private_key.to_vec())));
        self
    }

    /// Which client certificates are accepted ([`ClientCertificates::Any`] by
    /// default).
    pub fn with_client_certificates(mut self, policy: ClientCertificates) -> Self {
        self.client_certificates = policy;
        self
    }
}

/// The OpenSSL DTLS server: build it once, then [`OpenSslServer::session`]
/// for each new client address, and feed that session every datagram from
/// the address.
///
/// - HelloVerifyRequest (RFC 6347 §4.2.1) is always on, so a spoofed address
///   gets one small datagram back and no handshake work. The session object
///   exists from the first ClientHello on, so the caller bounds how many
///   half-open sessions it keeps (and drops those that fail or time out).
/// - A session that failed or was closed restarts by itself on the next
///   ClientHello. One that is established ignores a new ClientHello (it is
///   unauthenticated); when
///   [`record::is_client_hello`](lwm2m_core::session::record::is_client_hello)
///   says a datagram is one, the caller may call [`Session::start`] and feed
///   it again to accept a client that lost its state (RFC 6347 §4.2.8).
/// - Sessions share the context's session cache, so clients resume.
pub struct OpenSslServer {
    context: SslContext,
    mtu: u16,
    timers: HandshakeTimers,
    setup: Arc<SetupFn>,
}

impl fmt::Debug for OpenSslServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenSslServer")
            .field("mtu", &self.mtu)
            .field("timers", &self.timers)
            .finish_non_exhaustive()
    }
}

const COOKIE_LEN: usize = 16;

fn cookie_index() -> Option<Index<Ssl, [u8; COOKIE_LEN]>> {
    static INDEX: OnceLock<Option<Index<Ssl, [u8; COOKIE_LEN]>>> = OnceLock::new();
    *INDEX.get_or_init(|| Ssl::new_ex_index().ok())
}

impl OpenSslServer {
    /// A server for `config`. Fails with
    /// [`Param::ServerCredentials`] when it has neither PSK nor certificate,
    /// or when the certificate or key cannot be used.
    pub fn new(config: ServerConfig) -> Result<OpenSslServer, SessionError> {
        let bad = SessionError::InvalidParam(Param::ServerCredentials);
        if config.mtu < 256 {
            return Err(SessionError::InvalidParam(Param::Mtu));
        }
        let mut b = base_builder(SslMethod::dtls_server())?;
        b.set_options(SslOptions::COOKIE_EXCHANGE | SslOptions::CIPHER_SERVER_PREFERENCE);
        // Lets clients resume sessions from this context's cache, also when
        // they presented a certificate.
        b.set_session_id_context(b"lwm2m-dtls")
            .map_err(|_| SessionError::Backend)?;
        let mut ciphers = Vec::new();
        if let Some(lookup) = config.psk.clone() {
            ciphers.push(PSK_CIPHERS);
            b.set_psk_server_callback(move |_ssl, identity, psk_out| {
                let Some(mut key) = identity.and_then(|id| lookup(id)) else {
                    return Ok(0);
                };
                let n = key.len();
                let copied = match psk_out.get_mut(..n) {
                    Some(dst) => {
                        dst.copy_from_slice(&key);
                        true
                    }
                    None => false,
                };
                key.zeroize();
                Ok(if copied { n } else { 0 })
            });
        }
        if let Some((cert, key)) = &config.certificate {
            ciphers.push(CERTIFICATE_CIPHERS);
            let cert = X509::from_der(cert).map_err(|_| bad)?;
            let key = private_key(key).map_err(|_| bad)?;
            b.set_certificate(&cert).map_err(|_| bad)?;
            b.set_private_key(&key).map_err(|_| bad)?;
            b.check_private_key().map_err(|_| bad)?;
            let mode = SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT;
            match &config.client_certificates {
                ClientCertificates::Any => b.set_verify_callback(mode, |_ok, _ctx| true),
                ClientCertificates::TrustAnchors(anchors) => {
                    let anchors = anchors
                        .iter()
                        .map(|a| X509::from_der(a))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| bad)?;
                    b.set_verify_cert_store(anchor_store(anchors)?)
                        .map_err(|_| SessionError::Backend)?;
                    b.set_verify(mode);
                }
            }
        }
        if ciphers.is_empty() {
            return Err(bad);
        }
        b.set_cipher_list(&ciphers.join(":"))
            .map_err(|_| SessionError::Backend)?;
        // The cookie is a per-session random value: the session is bound to
        // one client address anyway, so the cookie only has to prove that the
        // client receives at that address (RFC 6347 §4.2.1).
        b.set_cookie_generate_cb(|ssl, out| {
            let cookie = cookie_index().and_then(|i| ssl.ex_data(i).copied());
            match (cookie, out.get_mut(..COOKIE_LEN)) {
                (Some(c), Some(dst)) => {
                    dst.copy_from_slice(&c);
                    Ok(COOKIE_LEN)
                }
                _ => Err(ErrorStack::get()),
            }
        });
        b.set_cookie_verify_cb(|ssl, cookie| {
            cookie_index()
                .and_then(|i| ssl.ex_data(i))
                .is_some_and(|c| cookie.len() == COOKIE_LEN && openssl::memcmp::eq(c, cookie))
        });
        let setup = Arc::new(|ssl: &mut SslRef| {
            let mut cookie = [0u8; COOKIE_LEN];
            openssl::rand::rand_bytes(&mut cookie)?;
            if let Some(i) = cookie_index() {
                ssl.set_ex_data(i, cookie);
            }
            Ok(())
        });
        Ok(OpenSslServer {
            context: b.build(),
            mtu: config.mtu,
            timers: config.timers,
            setup,
        })
    }

    /// A new server session for one client address; it waits for a
    /// ClientHello.
    pub fn session(&self) -> OpenSslSession {
        let role = Role::Server {
            context: self.context.clone(),
            setup: self.setup.clone(),
        };
        OpenSslSession::new(role, self.mtu, self.timers)
    }
}

impl ServerSessionFactory for OpenSslServer {
    fn accept(&self) -> Result<Box<dyn Session>, SessionError> {
        Ok(Box::new(self.session()))
    }
}
