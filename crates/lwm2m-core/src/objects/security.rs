//! The LwM2M Security object (ID 0; OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.1, object version 1.1): one instance per server account, the
//! Bootstrap-Server's included, with its URI, security mode and keys.
//!
//! The resource table follows the registry definition OMA-SUP-XML_0 1.1
//! (OpenMobileAlliance/lwm2m-registry `0.xml`; Eclipse Leshan
//! `leshan-core/src/main/resources/models/LWM2M_Security-v1_1_1.xml`):
//! resources 0–17, none readable or writable by a DM server (only the
//! Bootstrap-Server reaches them, [`crate::dm::access`] rule 2).
//!
//! Checked at commit ([`Object::validate`]): every URI parses
//! ([`super::uri`]), a DM-server account has a Short Server ID in
//! 1..=65534 that no other account uses, at most one account is the
//! Bootstrap-Server's, PSK / RPK / certificate modes have their keys, and
//! the enumerations are in range. A value that cannot even be stored (a
//! mode outside 0..=4, an SSID beyond 16 bits) is refused when written.
//!
//! Secret keys never appear in `Debug` output.
//!
//! The engine reads accounts through the [`Object`] trait with
//! [`endpoints`], so any implementation of object 0 works with it.

use super::instances;
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::convert::{self, bytes, int, objlnk, string, uint};
use super::uri;
use crate::dm::oids::SECURITY;
use crate::dm::{
    DataType, Iid, ObjLnk, Object, ObjectDef, Operations, Path, Registry, ResourceDef, Rid, Riid,
    Ssid, Txn, Value,
};
use crate::error::DmError;
use crate::session::{CertificateUsage, ClientParams, sni_host};
use crate::time::Duration;

/// Resource ids (E.1).
pub mod rid {
    use crate::dm::Rid;
    /// LwM2M Server URI.
    pub const URI: Rid = 0;
    /// Bootstrap-Server.
    pub const BOOTSTRAP: Rid = 1;
    /// Security Mode.
    pub const MODE: Rid = 2;
    /// Public Key or Identity.
    pub const PUBLIC_KEY_OR_IDENTITY: Rid = 3;
    /// Server Public Key.
    pub const SERVER_PUBLIC_KEY: Rid = 4;
    /// Secret Key.
    pub const SECRET_KEY: Rid = 5;
    /// SMS Security Mode.
    pub const SMS_SECURITY_MODE: Rid = 6;
    /// SMS Binding Key Parameters.
    pub const SMS_BINDING_KEY_PARAMETERS: Rid = 7;
    /// SMS Binding Secret Key(s).
    pub const SMS_BINDING_SECRET_KEYS: Rid = 8;
    /// LwM2M Server SMS Number.
    pub const SMS_NUMBER: Rid = 9;
    /// Short Server ID.
    pub const SSID: Rid = 10;
    /// Client Hold Off Time.
    pub const CLIENT_HOLD_OFF_TIME: Rid = 11;
    /// Bootstrap-Server Account Timeout.
    pub const BOOTSTRAP_ACCOUNT_TIMEOUT: Rid = 12;
    /// Matching Type (1.1).
    pub const MATCHING_TYPE: Rid = 13;
    /// SNI (1.1).
    pub const SNI: Rid = 14;
    /// Certificate Usage (1.1).
    pub const CERTIFICATE_USAGE: Rid = 15;
    /// DTLS/TLS Ciphersuite (1.1, multiple).
    pub const CIPHERSUITE: Rid = 16;
    /// OSCORE Security Mode (1.1).
    pub const OSCORE: Rid = 17;
}

const fn res(id: Rid, name: &'static str, t: DataType) -> ResourceDef {
    ResourceDef::new(id, name, Operations::None, t)
}

const RESOURCES: &[ResourceDef] = &[
    res(0, "LWM2M Server URI", DataType::String).mandatory(),
    res(1, "Bootstrap-Server", DataType::Boolean).mandatory(),
    res(2, "Security Mode", DataType::Integer).mandatory(),
    res(3, "Public Key or Identity", DataType::Opaque).mandatory(),
    res(4, "Server Public Key", DataType::Opaque).mandatory(),
    res(5, "Secret Key", DataType::Opaque).mandatory(),
    res(6, "SMS Security Mode", DataType::Integer),
    res(7, "SMS Binding Key Parameters", DataType::Opaque),
    res(8, "SMS Binding Secret Key(s)", DataType::Opaque),
    res(9, "LwM2M Server SMS Number", DataType::String),
    res(10, "Short Server ID", DataType::Integer),
    res(11, "Client Hold Off Time", DataType::Integer),
    res(12, "Bootstrap-Server Account Timeout", DataType::Integer),
    res(13, "Matching Type", DataType::UnsignedInteger),
    res(14, "SNI", DataType::String),
    res(15, "Certificate Usage", DataType::Integer),
    res(16, "DTLS/TLS Ciphersuite", DataType::Integer).multiple(),
    res(17, "OSCORE Security Mode", DataType::Objlnk),
];

/// The object definition (E.1, version 1.1).
pub const DEF: ObjectDef = ObjectDef::new(SECURITY, RESOURCES)
    .multiple()
    .mandatory()
    .version(1, 1);

/// Most ciphersuites one instance stores (more is refused with 5.00).
pub const MAX_CIPHERSUITES: usize = 32;

/// Security Mode (resource 2), shared with the DTLS seam.
pub use crate::session::SecurityMode;

fn mode_code(m: SecurityMode) -> i64 {
    m as i64
}

/// One Security instance. Fields are public for the factory
/// configuration; the secret ones are left out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecurityInstance {
    /// Instance id within object 0.
    pub iid: Iid,
    /// LwM2M Server URI (0).
    pub uri: String,
    /// Bootstrap-Server (1): this account is the Bootstrap-Server's.
    pub bootstrap: bool,
    /// Security Mode (2).
    pub mode: SecurityMode,
    /// Public Key or Identity (3): the client's certificate, raw public
    /// key, or PSK identity.
    pub public_key_or_identity: Vec<u8>,
    /// Server Public Key (4): the server's certificate, raw public key or
    /// trust anchor.
    pub server_public_key: Vec<u8>,
    /// Secret Key (5): the PSK or the client's private key.
    pub secret_key: Vec<u8>,
    /// SMS Security Mode (6), 0..=255; stored only.
    pub sms_security_mode: Option<u8>,
    /// SMS Binding Key Parameters (7); stored only.
    pub sms_binding_key_parameters: Option<Vec<u8>>,
    /// SMS Binding Secret Key(s) (8); stored only.
    pub sms_binding_secret_keys: Option<Vec<u8>>,
    /// LwM2M Server SMS Number (9); stored only.
    pub sms_number: Option<String>,
    /// Short Server ID (10); required unless `bootstrap`.
    pub ssid: Option<Ssid>,
    /// Client Hold Off Time (11), seconds.
    pub client_hold_off_time: Option<u32>,
    /// Bootstrap-Server Account Timeout (12), seconds; 0 or absent:
    /// never purged.
    pub bootstrap_account_timeout: Option<u32>,
    /// Matching Type (13), 0..=3.
    pub matching_type: Option<u8>,
    /// SNI (14).
    pub sni: Option<String>,
    /// Certificate Usage (15), 0..=3.
    pub certificate_usage: Option<u8>,
    /// DTLS/TLS Ciphersuites (16) by resource instance id, sorted.
    pub ciphersuites: Vec<(Riid, u32)>,
    /// OSCORE Security Mode (17): link to an OSCORE object instance;
    /// stored only.
    pub oscore: Option<ObjLnk>,
}

impl fmt::Debug for SecurityInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityInstance")
            .field("iid", &self.iid)
            .field("uri", &self.uri)
            .field("bootstrap", &self.bootstrap)
            .field("mode", &self.mode)
            .field("ssid", &self.ssid)
            .field("public_key_or_identity", &self.public_key_or_identity.len())
            .field("server_public_key", &self.server_public_key.len())
            .field("secret_key", &Redacted(self.secret_key.len()))
            .field("client_hold_off_time", &self.client_hold_off_time)
            .field("bootstrap_account_timeout", &self.bootstrap_account_timeout)
            .field("sni", &self.sni)
            .finish_non_exhaustive()
    }
}

/// Prints a secret's length only.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}

impl SecurityInstance {
    /// An empty account (NoSec, no URI, no SSID): what Create makes
    /// before the Bootstrap-Server writes the values.
    pub fn empty(iid: Iid) -> SecurityInstance {
        SecurityInstance {
            iid,
            uri: String::new(),
            bootstrap: false,
            mode: SecurityMode::NoSec,
            public_key_or_identity: Vec::new(),
            server_public_key: Vec::new(),
            secret_key: Vec::new(),
            sms_security_mode: None,
            sms_binding_key_parameters: None,
            sms_binding_secret_keys: None,
            sms_number: None,
            ssid: None,
            client_hold_off_time: None,
            bootstrap_account_timeout: None,
            matching_type: None,
            sni: None,
            certificate_usage: None,
            ciphersuites: Vec::new(),
            oscore: None,
        }
    }

    /// A NoSec DM-server account.
    pub fn server(iid: Iid, ssid: Ssid, uri: &str) -> SecurityInstance {
        SecurityInstance {
            uri: uri.into(),
            ssid: Some(ssid),
            ..SecurityInstance::empty(iid)
        }
    }

    /// A NoSec Bootstrap-Server account.
    pub fn bootstrap(iid: Iid, uri: &str) -> SecurityInstance {
        SecurityInstance {
            uri: uri.into(),
            bootstrap: true,
            ..SecurityInstance::empty(iid)
        }
    }

    /// With PSK mode, `identity` and `key`.
    pub fn with_psk(mut self, identity: &[u8], key: &[u8]) -> SecurityInstance {
        self.mode = SecurityMode::Psk;
        self.public_key_or_identity = identity.into();
        self.secret_key = key.into();
        self
    }

    /// With a key-based mode (RPK or certificate): the client's public key
    /// or certificate, its private key, and the server's public key,
    /// certificate or trust anchor.
    pub fn with_keys(
        mut self,
        mode: SecurityMode,
        own: &[u8],
        private: &[u8],
        server: &[u8],
    ) -> SecurityInstance {
        self.mode = mode;
        self.public_key_or_identity = own.into();
        self.secret_key = private.into();
        self.server_public_key = server.into();
        self
    }

    fn is_present(&self, rid: Rid) -> bool {
        match rid {
            0..=5 => true,
            rid::SMS_SECURITY_MODE => self.sms_security_mode.is_some(),
            rid::SMS_BINDING_KEY_PARAMETERS => self.sms_binding_key_parameters.is_some(),
            rid::SMS_BINDING_SECRET_KEYS => self.sms_binding_secret_keys.is_some(),
            rid::SMS_NUMBER => self.sms_number.is_some(),
            rid::SSID => self.ssid.is_some(),
            rid::CLIENT_HOLD_OFF_TIME => self.client_hold_off_time.is_some(),
            rid::BOOTSTRAP_ACCOUNT_TIMEOUT => self.bootstrap_account_timeout.is_some(),
            rid::MATCHING_TYPE => self.matching_type.is_some(),
            rid::SNI => self.sni.is_some(),
            rid::CERTIFICATE_USAGE => self.certificate_usage.is_some(),
            rid::CIPHERSUITE => !self.ciphersuites.is_empty(),
            rid::OSCORE => self.oscore.is_some(),
            _ => false,
        }
    }

    fn read(&self, rid: Rid, riid: Option<Riid>) -> Option<Value<'_>> {
        let i = |v: Option<u32>| v.map(|v| Value::Integer(v.into()));
        Some(match rid {
            rid::URI => Value::str(&self.uri),
            rid::BOOTSTRAP => Value::Boolean(self.bootstrap),
            rid::MODE => Value::Integer(mode_code(self.mode)),
            rid::PUBLIC_KEY_OR_IDENTITY => Value::bytes(&self.public_key_or_identity),
            rid::SERVER_PUBLIC_KEY => Value::bytes(&self.server_public_key),
            rid::SECRET_KEY => Value::bytes(&self.secret_key),
            rid::SMS_SECURITY_MODE => Value::Integer(self.sms_security_mode?.into()),
            rid::SMS_BINDING_KEY_PARAMETERS => {
                Value::bytes(self.sms_binding_key_parameters.as_ref()?)
            }
            rid::SMS_BINDING_SECRET_KEYS => Value::bytes(self.sms_binding_secret_keys.as_ref()?),
            rid::SMS_NUMBER => Value::str(self.sms_number.as_ref()?),
            rid::SSID => Value::Integer(self.ssid?.into()),
            rid::CLIENT_HOLD_OFF_TIME => i(self.client_hold_off_time)?,
            rid::BOOTSTRAP_ACCOUNT_TIMEOUT => i(self.bootstrap_account_timeout)?,
            rid::MATCHING_TYPE => Value::Unsigned(self.matching_type?.into()),
            rid::SNI => Value::str(self.sni.as_ref()?),
            rid::CERTIFICATE_USAGE => Value::Integer(self.certificate_usage?.into()),
            rid::CIPHERSUITE => {
                let riid = riid?;
                let (_, v) = self.ciphersuites.iter().find(|c| c.0 == riid)?;
                Value::Integer((*v).into())
            }
            rid::OSCORE => Value::Objlnk(self.oscore?),
            _ => return None,
        })
    }

    fn write(&mut self, rid: Rid, riid: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        let narrow = |v: &Value<'_>| u32::try_from(int(v)?).map_err(|_| DmError::BadRequest);
        match rid {
            rid::URI => self.uri = string(v)?,
            rid::BOOTSTRAP => self.bootstrap = convert::boolean(&v)?,
            rid::MODE => {
                self.mode = SecurityMode::from_resource(int(&v)?).ok_or(DmError::BadRequest)?;
            }
            rid::PUBLIC_KEY_OR_IDENTITY => self.public_key_or_identity = bytes(v)?,
            rid::SERVER_PUBLIC_KEY => self.server_public_key = bytes(v)?,
            rid::SECRET_KEY => self.secret_key = bytes(v)?,
            rid::SMS_SECURITY_MODE => {
                self.sms_security_mode =
                    Some(u8::try_from(int(&v)?).map_err(|_| DmError::BadRequest)?);
            }
            rid::SMS_BINDING_KEY_PARAMETERS => self.sms_binding_key_parameters = Some(bytes(v)?),
            rid::SMS_BINDING_SECRET_KEYS => self.sms_binding_secret_keys = Some(bytes(v)?),
            rid::SMS_NUMBER => self.sms_number = Some(string(v)?),
            rid::SSID => {
                self.ssid = Some(u16::try_from(int(&v)?).map_err(|_| DmError::BadRequest)?);
            }
            rid::CLIENT_HOLD_OFF_TIME => self.client_hold_off_time = Some(narrow(&v)?),
            rid::BOOTSTRAP_ACCOUNT_TIMEOUT => self.bootstrap_account_timeout = Some(narrow(&v)?),
            rid::MATCHING_TYPE => {
                self.matching_type =
                    Some(u8::try_from(uint(&v)?).map_err(|_| DmError::BadRequest)?);
            }
            rid::SNI => self.sni = Some(string(v)?),
            rid::CERTIFICATE_USAGE => {
                self.certificate_usage =
                    Some(u8::try_from(int(&v)?).map_err(|_| DmError::BadRequest)?);
            }
            rid::CIPHERSUITE => {
                let riid = riid.ok_or(DmError::BadRequest)?;
                let suite = narrow(&v)?;
                match self.ciphersuites.binary_search_by_key(&riid, |c| c.0) {
                    Ok(at) => {
                        if let Some(c) = self.ciphersuites.get_mut(at) {
                            c.1 = suite;
                        }
                    }
                    Err(_) if self.ciphersuites.len() >= MAX_CIPHERSUITES => {
                        return Err(DmError::Internal);
                    }
                    Err(at) => self.ciphersuites.insert(at, (riid, suite)),
                }
            }
            rid::OSCORE => self.oscore = Some(objlnk(&v)?),
            _ => return Err(DmError::NotFound),
        }
        Ok(())
    }

    /// The first resource of this instance whose value is invalid on its
    /// own (cross-instance rules are [`Security::first_invalid`]'s).
    fn first_invalid(&self) -> Option<Rid> {
        if uri::parse(&self.uri).is_err() {
            return Some(rid::URI);
        }
        if !self.bootstrap && !self.ssid.is_some_and(valid_ssid) {
            return Some(rid::SSID);
        }
        let needs = match self.mode {
            SecurityMode::Psk | SecurityMode::Certificate => (true, false),
            SecurityMode::RawPublicKey => (true, true),
            SecurityMode::NoSec | SecurityMode::CertificateEst => (false, false),
        };
        if needs.0 && self.public_key_or_identity.is_empty() {
            return Some(rid::PUBLIC_KEY_OR_IDENTITY);
        }
        if needs.0 && self.secret_key.is_empty() {
            return Some(rid::SECRET_KEY);
        }
        if needs.1 && self.server_public_key.is_empty() {
            return Some(rid::SERVER_PUBLIC_KEY);
        }
        if self.matching_type.is_some_and(|m| m > 3) {
            return Some(rid::MATCHING_TYPE);
        }
        if self.certificate_usage.is_some_and(|c| c > 3) {
            return Some(rid::CERTIFICATE_USAGE);
        }
        None
    }
}

/// Whether `ssid` may name a DM server (E.1: "The values ID:0 and ID:65535
/// values MUST NOT be used").
pub const fn valid_ssid(ssid: Ssid) -> bool {
    ssid != 0 && ssid != u16::MAX
}

/// The Security object: instances sorted by id, transactional, bounded.
#[derive(Clone, Debug)]
pub struct Security {
    state: Txn<Vec<SecurityInstance>>,
    max_instances: usize,
}

impl Default for Security {
    fn default() -> Self {
        Security::new(8)
    }
}

impl Security {
    /// An empty object holding at most `max_instances` instances (Create
    /// beyond is refused with 5.00).
    pub fn new(max_instances: usize) -> Security {
        Security {
            state: Txn::new(Vec::new()),
            max_instances,
        }
    }

    /// Adds or replaces an instance (factory configuration).
    pub fn insert(&mut self, inst: SecurityInstance) {
        instances::insert(&mut self.state, inst);
    }

    /// With an instance added (factory configuration).
    pub fn with(mut self, inst: SecurityInstance) -> Security {
        self.insert(inst);
        self
    }

    /// The instances, by id.
    pub fn entries(&self) -> &[SecurityInstance] {
        &self.state
    }

    /// The instance with id `iid`.
    pub fn get(&self, iid: Iid) -> Option<&SecurityInstance> {
        instances::get(&self.state, iid)
    }

    fn get_mut(&mut self, iid: Iid) -> Result<&mut SecurityInstance, DmError> {
        instances::get_mut(&mut self.state, iid)
    }

    /// The first invalid resource, by the rules of the module
    /// documentation; `None` when the object is consistent.
    pub fn first_invalid(&self) -> Option<Path> {
        let mut bootstrap_seen = false;
        let mut ssids: Vec<Ssid> = Vec::with_capacity(self.state.len());
        for i in self.state.iter() {
            if let Some(r) = i.first_invalid() {
                return Some(Path::resource(SECURITY, i.iid, r));
            }
            if i.bootstrap {
                if bootstrap_seen {
                    return Some(Path::resource(SECURITY, i.iid, rid::BOOTSTRAP));
                }
                bootstrap_seen = true;
            } else if let Some(s) = i.ssid {
                if ssids.contains(&s) {
                    return Some(Path::resource(SECURITY, i.iid, rid::SSID));
                }
                ssids.push(s);
            }
        }
        None
    }
}

impl instances::HasIid for SecurityInstance {
    fn iid(&self) -> Iid {
        self.iid
    }
}

impl Object for Security {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.iter().for_each(|i| each(i.iid));
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        self.get(iid).is_some_and(|i| i.is_present(rid))
    }

    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if let (rid::CIPHERSUITE, Some(i)) = (rid, self.get(iid)) {
            i.ciphersuites.iter().for_each(|c| each(c.0));
        }
    }

    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        self.get(iid)
            .and_then(|i| i.read(rid, riid))
            .ok_or(DmError::NotFound)
    }

    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        self.get_mut(iid)?.write(rid, riid, value)
    }

    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        instances::create(&mut self.state, self.max_instances, iid, |iid| {
            SecurityInstance::empty(iid)
        })
    }

    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        instances::delete(&mut self.state, iid)
    }

    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let inst = self.get_mut(iid)?;
        match rid {
            None => *inst = SecurityInstance::empty(iid),
            Some(rid::CIPHERSUITE) => inst.ciphersuites.clear(),
            Some(_) => {}
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), DmError> {
        match self.first_invalid() {
            None => Ok(()),
            Some(_) => Err(DmError::BadRequest),
        }
    }

    fn begin(&mut self) {
        self.state.begin();
    }
    fn commit(&mut self) {
        self.state.commit();
    }
    fn rollback(&mut self) {
        self.state.rollback();
    }
}

/// One server account from the Security object, as the engine needs it:
/// read through the [`Object`] trait, key material borrowed where the
/// object lends it. The secret key is left out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// Instance id within object 0.
    pub iid: Iid,
    /// LwM2M Server URI (parse it with [`uri::parse`]).
    pub uri: Cow<'a, str>,
    /// Whether this is the Bootstrap-Server's account.
    pub bootstrap: bool,
    /// Security Mode.
    pub mode: SecurityMode,
    /// Short Server ID (absent for the Bootstrap-Server).
    pub ssid: Option<Ssid>,
    /// Client Hold Off Time: wait before a client-initiated bootstrap.
    pub client_hold_off: Option<Duration>,
    /// Bootstrap-Server Account Timeout; `None` when absent or 0 (the
    /// account is never purged).
    pub bootstrap_account_timeout: Option<Duration>,
    /// Public Key or Identity: own certificate, raw public key or PSK
    /// identity.
    pub public_key_or_identity: Cow<'a, [u8]>,
    /// Server Public Key: the server's certificate, raw key or trust anchor.
    pub server_public_key: Cow<'a, [u8]>,
    /// Secret Key: the PSK or own private key.
    pub secret_key: Cow<'a, [u8]>,
    /// Server Name Indication for the handshake.
    pub sni: Option<Cow<'a, str>>,
    /// Matching Type (0 exact when absent).
    pub matching_type: Option<u8>,
    /// Certificate Usage (3, domain-issued certificate, when absent).
    pub certificate_usage: Option<u8>,
    /// Ciphersuites to offer, in resource-instance order (IANA values).
    pub ciphersuites: Vec<u32>,
}

impl fmt::Debug for Endpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("iid", &self.iid)
            .field("uri", &self.uri)
            .field("bootstrap", &self.bootstrap)
            .field("mode", &self.mode)
            .field("ssid", &self.ssid)
            .field("client_hold_off", &self.client_hold_off)
            .field("bootstrap_account_timeout", &self.bootstrap_account_timeout)
            .field("public_key_or_identity", &self.public_key_or_identity.len())
            .field("server_public_key", &self.server_public_key.len())
            .field("secret_key", &Redacted(self.secret_key.len()))
            .field("sni", &self.sni)
            .field("ciphersuites", &self.ciphersuites)
            .finish_non_exhaustive()
    }
}

impl Endpoint<'_> {
    /// The DTLS parameters of this account for the security seam: mode,
    /// keys, Certificate Usage (3 when absent) and the server name (the
    /// SNI resource, else the URI's host unless it is an IP address).
    /// MTU and timers are the defaults of [`ClientParams::new`]; the
    /// engine sets them from its configuration.
    pub fn client_params(&self) -> ClientParams<'_> {
        let mut p = ClientParams::new(self.mode);
        p.identity = &self.public_key_or_identity;
        p.server_public_key = &self.server_public_key;
        p.secret_key = &self.secret_key;
        p.certificate_usage = self
            .certificate_usage
            .and_then(|c| CertificateUsage::from_resource(c.into()))
            .unwrap_or_default();
        p.server_name = match &self.sni {
            Some(sni) => Some(sni),
            None => uri::parse(&self.uri).ok().and_then(|u| sni_host(u.host)),
        };
        p
    }
}

fn secs(v: Option<i64>) -> Option<Duration> {
    v.and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
}

fn endpoint_of(obj: &dyn Object, iid: Iid) -> Option<Endpoint<'_>> {
    let empty = || Cow::Borrowed(&[][..]);
    Some(Endpoint {
        iid,
        uri: convert::read_str(obj, iid, rid::URI)?,
        bootstrap: convert::read_bool(obj, iid, rid::BOOTSTRAP).unwrap_or(false),
        mode: SecurityMode::from_resource(convert::read_i64(obj, iid, rid::MODE)?)?,
        ssid: convert::read_i64(obj, iid, rid::SSID).and_then(|s| u16::try_from(s).ok()),
        client_hold_off: secs(convert::read_i64(obj, iid, rid::CLIENT_HOLD_OFF_TIME)),
        bootstrap_account_timeout: secs(convert::read_i64(
            obj,
            iid,
            rid::BOOTSTRAP_ACCOUNT_TIMEOUT,
        ))
        .filter(|d| !d.is_zero()),
        public_key_or_identity: convert::read_bytes(obj, iid, rid::PUBLIC_KEY_OR_IDENTITY)
            .unwrap_or_else(empty),
        server_public_key: convert::read_bytes(obj, iid, rid::SERVER_PUBLIC_KEY)
            .unwrap_or_else(empty),
        secret_key: convert::read_bytes(obj, iid, rid::SECRET_KEY).unwrap_or_else(empty),
        sni: convert::read_str(obj, iid, rid::SNI),
        matching_type: convert::read_u64(obj, iid, rid::MATCHING_TYPE)
            .and_then(|v| u8::try_from(v).ok()),
        certificate_usage: convert::read_i64(obj, iid, rid::CERTIFICATE_USAGE)
            .and_then(|v| u8::try_from(v).ok()),
        ciphersuites: convert::read_multi(obj, iid, rid::CIPHERSUITE)
            .into_iter()
            .filter_map(|(_, v)| u32::try_from(v.as_i64()?).ok())
            .collect(),
    })
}

/// Every account of the registry's Security object (any implementation of
/// object 0), in instance order; instances without a URI or with a mode
/// out of range are skipped (a committed configuration has none).
pub fn endpoints(reg: &Registry) -> impl Iterator<Item = Endpoint<'_>> + '_ {
    let obj = reg.get(SECURITY);
    let iids = obj.map(convert::instances).unwrap_or_default();
    iids.into_iter()
        .filter_map(move |iid| endpoint_of(obj?, iid))
}

/// The account of DM server `ssid`.
pub fn endpoint(reg: &Registry, ssid: Ssid) -> Option<Endpoint<'_>> {
    endpoints(reg).find(|e| !e.bootstrap && e.ssid == Some(ssid))
}

/// The Bootstrap-Server's account.
pub fn bootstrap_endpoint(reg: &Registry) -> Option<Endpoint<'_>> {
    endpoints(reg).find(|e| e.bootstrap)
}

#[cfg(test)]
#[path = "security_tests.rs"]
mod tests;
