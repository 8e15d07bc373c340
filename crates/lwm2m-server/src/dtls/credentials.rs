//! What the `coaps://` server accepts: PSKs by identity and its own
//! certificate, gathered from the bootstrap configuration, the command line
//! and PEM files, and turned into the OpenSSL backend.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use lwm2m::dtls::{ClientCertificates, OpenSslServer, ServerConfig};
use lwm2m_core::session::HandshakeTimers;
use openssl::pkey::PKey;
use openssl::x509::X509;
use zeroize::Zeroizing;

use crate::core::BootstrapConfig;

/// Why credentials were refused. Names the file or the option, never a
/// key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialError(pub String);

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CredentialError {}

fn err(s: impl Into<String>) -> CredentialError {
    CredentialError(s.into())
}

/// Security Mode 0 (PSK) in a Security instance (Core 1.1 Appendix E.1).
const MODE_PSK: i64 = 0;

/// OpenSSL's bounds (`PSK_MAX_IDENTITY_LEN`, `PSK_MAX_PSK_LEN`).
const MAX_IDENTITY: usize = 128;
const MAX_PSK: usize = 256;

/// The PSKs and the certificate a DTLS server accepts. Keys are wiped when
/// dropped and never printed (`Debug` shows counts).
#[derive(Clone, Default)]
pub struct Credentials {
    psk: BTreeMap<Vec<u8>, Zeroizing<Vec<u8>>>,
    certificate: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
    client_cas: Vec<Vec<u8>>,
    timers: HandshakeTimers,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("psk_identities", &self.psk.len())
            .field("certificate", &self.certificate.is_some())
            .field("client_cas", &self.client_cas.len())
            .field("timers", &self.timers)
            .finish()
    }
}

impl Credentials {
    /// None yet; handshake timers of RFC 6347 (1 s doubling to 60 s).
    pub fn new() -> Credentials {
        Credentials::default()
    }

    /// With other handshake timers.
    pub fn with_timers(mut self, timers: HandshakeTimers) -> Credentials {
        self.timers = timers;
        self
    }

    /// Whether there is nothing to accept clients with.
    pub fn is_empty(&self) -> bool {
        self.psk.is_empty() && self.certificate.is_none()
    }

    /// PSK identities known.
    pub fn psk_identities(&self) -> usize {
        self.psk.len()
    }

    /// Whether a server certificate is set.
    pub fn has_certificate(&self) -> bool {
        self.certificate.is_some()
    }

    /// Accepts `identity` with `key`. The same identity twice must come with
    /// the same key.
    pub fn add_psk(&mut self, identity: &[u8], key: &[u8]) -> Result<(), CredentialError> {
        let shown = identity.escape_ascii().to_string();
        if identity.is_empty() || identity.len() > MAX_IDENTITY {
            return Err(err(format!(
                "PSK identity \"{shown}\": 1 to {MAX_IDENTITY} bytes"
            )));
        }
        if key.is_empty() || key.len() > MAX_PSK {
            return Err(err(format!(
                "PSK of identity \"{shown}\": 1 to {MAX_PSK} bytes"
            )));
        }
        match self.psk.get(identity) {
            Some(k) if k.as_slice() != key => Err(err(format!(
                "PSK identity \"{shown}\" is given twice with different keys"
            ))),
            Some(_) => Ok(()),
            None => {
                self.psk
                    .insert(identity.to_vec(), Zeroizing::new(key.to_vec()));
                Ok(())
            }
        }
    }

    /// Accepts every PSK the bootstrap configuration hands out: the
    /// identity (/0/x/3) and key (/0/x/5) of each Security instance in
    /// mode 0, for every endpoint and the default. Returns how many
    /// instances were taken.
    pub fn add_bootstrap_psks(
        &mut self,
        config: &BootstrapConfig,
    ) -> Result<usize, CredentialError> {
        let mut n = 0;
        let clients = config.default.iter().chain(config.clients.values());
        for c in clients {
            for s in c.security.iter().filter(|s| s.mode == MODE_PSK) {
                self.add_psk(&s.identity, &s.secret_key)
                    .map_err(|e| err(format!("bootstrap configuration, security {}: {e}", s.id)))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Presents `certificate` (PEM; the first certificate is ours, any
    /// others are ignored) proven with `private_key` (PEM, PKCS#8 or SEC1).
    pub fn set_certificate_pem(
        &mut self,
        certificate: &[u8],
        private_key: &[u8],
    ) -> Result<(), CredentialError> {
        let cert = X509::from_pem(certificate)
            .and_then(|c| c.to_der())
            .map_err(|_| err("the server certificate is not a PEM certificate"))?;
        let key = PKey::private_key_from_pem(private_key)
            .and_then(|k| k.private_key_to_pkcs8())
            .map_err(|_| err("the server key is not a PEM private key"))?;
        self.certificate = Some((cert, Zeroizing::new(key)));
        Ok(())
    }

    /// [`Credentials::set_certificate_pem`] from files.
    pub fn load_certificate(
        &mut self,
        certificate: &Path,
        key: &Path,
    ) -> Result<(), CredentialError> {
        let c = read(certificate)?;
        let k = Zeroizing::new(read(key)?);
        self.set_certificate_pem(&c, &k).map_err(|e| {
            err(format!(
                "{} / {}: {e}",
                certificate.display(),
                key.display()
            ))
        })
    }

    /// Presents `certificate` (DER) proven with `private_key` (DER).
    pub fn set_certificate_der(&mut self, certificate: &[u8], private_key: &[u8]) {
        self.certificate = Some((certificate.to_vec(), Zeroizing::new(private_key.to_vec())));
    }

    /// Accepts only client certificates issued by the certificates in
    /// `pem` (one or more). Without any, a certificate client is accepted
    /// whenever it proves its key (the application pins it).
    pub fn add_client_cas_pem(&mut self, pem: &[u8]) -> Result<usize, CredentialError> {
        let certs = X509::stack_from_pem(pem).map_err(|_| err("not PEM certificates"))?;
        if certs.is_empty() {
            return Err(err("no certificate in the file"));
        }
        for c in &certs {
            self.client_cas
                .push(c.to_der().map_err(|_| err("unusable certificate"))?);
        }
        Ok(certs.len())
    }

    /// [`Credentials::add_client_cas_pem`] from a file.
    pub fn load_client_cas(&mut self, path: &Path) -> Result<usize, CredentialError> {
        self.add_client_cas_pem(&read(path)?)
            .map_err(|e| err(format!("{}: {e}", path.display())))
    }

    /// The OpenSSL DTLS server for these credentials: PSK-AES128-CCM8 when
    /// PSKs are set, ECDHE-ECDSA-AES128-CCM8 when a certificate is,
    /// HelloVerifyRequest cookies always.
    pub fn openssl_server(&self) -> Result<OpenSslServer, CredentialError> {
        if self.is_empty() {
            return Err(err(
                "no PSK and no certificate: nothing to accept clients with",
            ));
        }
        let mut config = ServerConfig::new();
        if !self.psk.is_empty() {
            let table = Arc::new(self.psk.clone());
            config = config.with_psk(move |id| table.get(id).map(|k| k.to_vec()));
        }
        if let Some((cert, key)) = &self.certificate {
            config = config.with_certificate(cert, key);
            if !self.client_cas.is_empty() {
                config = config.with_client_certificates(ClientCertificates::TrustAnchors(
                    self.client_cas.clone(),
                ));
            }
        }
        config.timers = self.timers;
        OpenSslServer::new(config).map_err(|e| err(format!("DTLS server: {e}")))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CredentialError> {
    std::fs::read(path).map_err(|e| err(format!("{}: {e}", path.display())))
}

/// Parses the `--psk IDENTITY:KEY` option: the identity as text, the key in
/// hexadecimal after the last `:` (so an identity may contain `:`, as
/// `urn:imei:...` does).
pub fn parse_psk_option(s: &str) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), CredentialError> {
    let (id, key) = s
        .rsplit_once(':')
        .ok_or_else(|| err("--psk wants IDENTITY:HEXKEY"))?;
    if id.is_empty() {
        return Err(err("--psk: empty identity"));
    }
    let key = hex(key).ok_or_else(|| {
        err(format!(
            "--psk {id}:...: the key is not an even number of hexadecimal digits"
        ))
    })?;
    Ok((id.as_bytes().to_vec(), key))
}

/// Hexadecimal digits to bytes; `None` when odd or not hexadecimal.
fn hex(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    let digits = s.as_bytes();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks_exact(2) {
        let text = std::str::from_utf8(pair).ok()?;
        out.push(u8::from_str_radix(text, 16).ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_file::parse_bootstrap_toml;

    #[test]
    fn psk_option_splits_at_the_last_colon_and_never_echoes_the_key() {
        let (id, key) = parse_psk_option("urn:imei:4901:00ff10").unwrap();
        assert_eq!(id, b"urn:imei:4901");
        assert_eq!(key.as_slice(), &[0x00, 0xff, 0x10]);
        for bad in ["nokey", ":00", "id:0", "id:zz", "id:"] {
            assert!(parse_psk_option(bad).is_err(), "{bad}");
        }
        let e = parse_psk_option("dev:c0ffeeX").unwrap_err().to_string();
        assert!(!e.contains("c0ffee"), "{e}");
    }

    #[test]
    fn bootstrap_psks_are_collected_and_conflicts_refused() {
        let cfg = parse_bootstrap_toml(
            r#"
[[default.security]]
id = 1
uri = "coaps://127.0.0.1:5684"
short_server_id = 1
mode = "psk"
identity = "shared"
secret_key_hex = "0102"
[[clients."ep-a".security]]
id = 1
uri = "coaps://127.0.0.1:5684"
short_server_id = 1
mode = "psk"
identity = "ep-a"
secret_key_hex = "a0a1"
[[clients."ep-b".security]]
id = 1
uri = "coap://127.0.0.1:5683"
short_server_id = 1
"#,
        )
        .unwrap();
        let mut c = Credentials::new();
        assert_eq!(c.add_bootstrap_psks(&cfg).unwrap(), 2);
        assert_eq!(c.psk_identities(), 2);
        assert!(!c.is_empty());
        c.add_psk(b"ep-a", &[0xa0, 0xa1]).unwrap();
        let e = c.add_psk(b"ep-a", &[0xa0, 0xa2]).unwrap_err().to_string();
        assert!(e.contains("different keys") && !e.contains("a2"), "{e}");
        assert!(!format!("{c:?}").contains("161"));
        assert!(c.openssl_server().is_ok());
        assert!(Credentials::new().openssl_server().is_err());
    }

    #[test]
    fn pem_that_is_not_pem_is_refused_by_name() {
        let mut c = Credentials::new();
        let e = c.set_certificate_pem(b"junk", b"junk").unwrap_err();
        assert!(e.0.contains("certificate"), "{e}");
        assert!(c.add_client_cas_pem(b"junk").is_err());
    }
}
