//! The LwM2M Server object (ID 1; OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.2, object version 1.1): one instance per DM server account,
//! with its registration, observation-default and retry settings.
//!
//! The resource table follows the registry definition OMA-SUP-XML_1
//! (OpenMobileAlliance/lwm2m-registry `1.xml`, resources 0–23 as defined
//! for 1.1; the OMA `LWM2M_Server-V1_1_1` table gives Integer for the
//! Lifetime, which 1.2 later made Unsigned). The 1.2 additions (24–30) are
//! not offered.
//!
//! The Execute resources act through the client engine: Disable (4),
//! Registration Update Trigger (8) and Bootstrap-Request Trigger (9)
//! record an [`ObjectEvent`] that the engine drains with
//! [`Object::poll_event`] once the request has committed.
//!
//! Checked at commit ([`Object::validate`]): Short Server IDs in 1..=65534
//! and unique, lifetime in 1..=2^32-1, periods and timeouts
//! non-negative, Default Minimum Period ≤ Default Maximum Period, a valid
//! Binding ([`Binding::parse`]) and Preferred Transport, an alert code in
//! 0..=255.
//!
//! The engine reads accounts through the [`Object`] trait with
//! [`accounts`], so any implementation of object 1 works with it.

use super::instances;
use alloc::string::String;
use alloc::vec::Vec;

use super::binding::preferred_transport;
pub use super::binding::{Binding, Transport};
use super::convert::{self, boolean, int, objlnk, string, uint};
use super::events::EventQueue;
use super::security::valid_ssid;
use crate::dm::object::ObjectEvent;
use crate::dm::oids::SERVER;
use crate::dm::{
    DataType, ExecuteArgs, Iid, ObjLnk, Object, ObjectDef, Operations, Path, Registry, ResourceDef,
    Rid, Riid, Ssid, Txn, Value,
};
use crate::error::DmError;
use crate::time::Duration;

/// Resource ids (E.2).
pub mod rid {
    use crate::dm::Rid;
    /// Short Server ID.
    pub const SSID: Rid = 0;
    /// Lifetime.
    pub const LIFETIME: Rid = 1;
    /// Default Minimum Period.
    pub const DEFAULT_MIN_PERIOD: Rid = 2;
    /// Default Maximum Period.
    pub const DEFAULT_MAX_PERIOD: Rid = 3;
    /// Disable (E).
    pub const DISABLE: Rid = 4;
    /// Disable Timeout.
    pub const DISABLE_TIMEOUT: Rid = 5;
    /// Notification Storing When Disabled or Offline.
    pub const NOTIFICATION_STORING: Rid = 6;
    /// Binding.
    pub const BINDING: Rid = 7;
    /// Registration Update Trigger (E).
    pub const REGISTRATION_UPDATE_TRIGGER: Rid = 8;
    /// Bootstrap-Request Trigger (E, 1.1).
    pub const BOOTSTRAP_REQUEST_TRIGGER: Rid = 9;
    /// APN Link (1.1).
    pub const APN_LINK: Rid = 10;
    /// TLS-DTLS Alert Code (1.1).
    pub const TLS_DTLS_ALERT_CODE: Rid = 11;
    /// Last Bootstrapped (1.1).
    pub const LAST_BOOTSTRAPPED: Rid = 12;
    /// Registration Priority Order (1.1).
    pub const REGISTRATION_PRIORITY_ORDER: Rid = 13;
    /// Initial Registration Delay Timer (1.1).
    pub const INITIAL_REGISTRATION_DELAY: Rid = 14;
    /// Registration Failure Block (1.1).
    pub const REGISTRATION_FAILURE_BLOCK: Rid = 15;
    /// Bootstrap on Registration Failure (1.1).
    pub const BOOTSTRAP_ON_REGISTRATION_FAILURE: Rid = 16;
    /// Communication Retry Count (1.1).
    pub const COMMUNICATION_RETRY_COUNT: Rid = 17;
    /// Communication Retry Timer (1.1).
    pub const COMMUNICATION_RETRY_TIMER: Rid = 18;
    /// Communication Sequence Delay Timer (1.1).
    pub const COMMUNICATION_SEQUENCE_DELAY_TIMER: Rid = 19;
    /// Communication Sequence Retry Count (1.1).
    pub const COMMUNICATION_SEQUENCE_RETRY_COUNT: Rid = 20;
    /// Trigger (1.1).
    pub const TRIGGER: Rid = 21;
    /// Preferred Transport (1.1).
    pub const PREFERRED_TRANSPORT: Rid = 22;
    /// Mute Send (1.1).
    pub const MUTE_SEND: Rid = 23;
}

const fn res(id: Rid, name: &'static str, ops: Operations, t: DataType) -> ResourceDef {
    ResourceDef::new(id, name, ops, t)
}

const R: Operations = Operations::R;
const RW: Operations = Operations::RW;
const E: Operations = Operations::E;

const RESOURCES: &[ResourceDef] = &[
    res(0, "Short Server ID", R, DataType::Integer).mandatory(),
    res(1, "Lifetime", RW, DataType::Integer).mandatory(),
    res(2, "Default Minimum Period", RW, DataType::Integer),
    res(3, "Default Maximum Period", RW, DataType::Integer),
    res(4, "Disable", E, DataType::None),
    res(5, "Disable Timeout", RW, DataType::Integer),
    res(
        6,
        "Notification Storing When Disabled or Offline",
        RW,
        DataType::Boolean,
    )
    .mandatory(),
    res(7, "Binding", RW, DataType::String).mandatory(),
    res(8, "Registration Update Trigger", E, DataType::None).mandatory(),
    res(9, "Bootstrap-Request Trigger", E, DataType::None),
    res(10, "APN Link", RW, DataType::Objlnk),
    res(11, "TLS-DTLS Alert Code", R, DataType::UnsignedInteger),
    res(12, "Last Bootstrapped", R, DataType::Time),
    res(
        13,
        "Registration Priority Order",
        R,
        DataType::UnsignedInteger,
    ),
    res(
        14,
        "Initial Registration Delay Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    res(15, "Registration Failure Block", R, DataType::Boolean),
    res(
        16,
        "Bootstrap on Registration Failure",
        R,
        DataType::Boolean,
    ),
    res(
        17,
        "Communication Retry Count",
        RW,
        DataType::UnsignedInteger,
    ),
    res(
        18,
        "Communication Retry Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    res(
        19,
        "Communication Sequence Delay Timer",
        RW,
        DataType::UnsignedInteger,
    ),
    res(
        20,
        "Communication Sequence Retry Count",
        RW,
        DataType::UnsignedInteger,
    ),
    res(21, "Trigger", RW, DataType::Boolean),
    res(22, "Preferred Transport", RW, DataType::String),
    res(23, "Mute Send", RW, DataType::Boolean),
];

/// The object definition (E.2, version 1.1).
pub const DEF: ObjectDef = ObjectDef::new(SERVER, RESOURCES)
    .multiple()
    .mandatory()
    .version(1, 1);

/// Disable Timeout when the resource is absent (E.2: "a default timeout
/// value is 86400 (1 day)").
pub const DEFAULT_DISABLE_TIMEOUT: Duration = Duration::from_secs(86_400);

/// One Server instance. Optional resources are `None` when absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInstance {
    /// Instance id within object 1.
    pub iid: Iid,
    /// Short Server ID (0); 0 until set (invalid at commit).
    pub ssid: Ssid,
    /// Lifetime (1), seconds.
    pub lifetime: i64,
    /// Default Minimum Period (2), seconds.
    pub default_min_period: Option<i64>,
    /// Default Maximum Period (3), seconds.
    pub default_max_period: Option<i64>,
    /// Disable Timeout (5), seconds.
    pub disable_timeout: Option<i64>,
    /// Notification Storing When Disabled or Offline (6).
    pub notification_storing: bool,
    /// Binding (7), as written.
    pub binding: String,
    /// APN Link (10).
    pub apn_link: Option<ObjLnk>,
    /// TLS-DTLS Alert Code (11), kept by the client.
    pub tls_dtls_alert_code: Option<u64>,
    /// Last Bootstrapped (12), Unix time, kept by the client.
    pub last_bootstrapped: Option<i64>,
    /// Registration Priority Order (13).
    pub registration_priority_order: Option<u64>,
    /// Initial Registration Delay Timer (14), seconds.
    pub initial_registration_delay: Option<u64>,
    /// Registration Failure Block (15).
    pub registration_failure_block: Option<bool>,
    /// Bootstrap on Registration Failure (16).
    pub bootstrap_on_registration_failure: Option<bool>,
    /// Communication Retry Count (17).
    pub communication_retry_count: Option<u64>,
    /// Communication Retry Timer (18), seconds.
    pub communication_retry_timer: Option<u64>,
    /// Communication Sequence Delay Timer (19), seconds.
    pub communication_sequence_delay_timer: Option<u64>,
    /// Communication Sequence Retry Count (20).
    pub communication_sequence_retry_count: Option<u64>,
    /// Trigger (21): reachable over SMS.
    pub trigger: Option<bool>,
    /// Preferred Transport (22): one letter.
    pub preferred_transport: Option<String>,
    /// Mute Send (23).
    pub mute_send: Option<bool>,
}

impl ServerInstance {
    /// An account for server `ssid` with `lifetime` seconds, binding `U`,
    /// notification storing on, every optional resource absent.
    pub fn new(iid: Iid, ssid: Ssid, lifetime: i64) -> ServerInstance {
        ServerInstance {
            iid,
            ssid,
            lifetime,
            default_min_period: None,
            default_max_period: None,
            disable_timeout: None,
            notification_storing: true,
            binding: String::from("U"),
            apn_link: None,
            tls_dtls_alert_code: None,
            last_bootstrapped: None,
            registration_priority_order: None,
            initial_registration_delay: None,
            registration_failure_block: None,
            bootstrap_on_registration_failure: None,
            communication_retry_count: None,
            communication_retry_timer: None,
            communication_sequence_delay_timer: None,
            communication_sequence_retry_count: None,
            trigger: None,
            preferred_transport: None,
            mute_send: None,
        }
    }

    /// With Binding `binding`.
    pub fn with_binding(mut self, binding: &str) -> ServerInstance {
        self.binding = binding.into();
        self
    }

    /// Back to the defaults of [`ServerInstance::new`] for every resource a
    /// DM server may write; read-only ones are kept (Write-replace).
    fn reset_writable(&mut self) {
        let fresh = ServerInstance::new(self.iid, self.ssid, 86_400);
        *self = ServerInstance {
            tls_dtls_alert_code: self.tls_dtls_alert_code,
            last_bootstrapped: self.last_bootstrapped,
            registration_priority_order: self.registration_priority_order,
            registration_failure_block: self.registration_failure_block,
            bootstrap_on_registration_failure: self.bootstrap_on_registration_failure,
            ..fresh
        };
    }

    fn is_present(&self, rid: Rid) -> bool {
        match rid {
            0 | 1 | 4 | 6..=9 => true,
            rid::DEFAULT_MIN_PERIOD => self.default_min_period.is_some(),
            rid::DEFAULT_MAX_PERIOD => self.default_max_period.is_some(),
            rid::DISABLE_TIMEOUT => self.disable_timeout.is_some(),
            rid::APN_LINK => self.apn_link.is_some(),
            rid::TLS_DTLS_ALERT_CODE => self.tls_dtls_alert_code.is_some(),
            rid::LAST_BOOTSTRAPPED => self.last_bootstrapped.is_some(),
            rid::REGISTRATION_PRIORITY_ORDER => self.registration_priority_order.is_some(),
            rid::INITIAL_REGISTRATION_DELAY => self.initial_registration_delay.is_some(),
            rid::REGISTRATION_FAILURE_BLOCK => self.registration_failure_block.is_some(),
            rid::BOOTSTRAP_ON_REGISTRATION_FAILURE => {
                self.bootstrap_on_registration_failure.is_some()
            }
            rid::COMMUNICATION_RETRY_COUNT => self.communication_retry_count.is_some(),
            rid::COMMUNICATION_RETRY_TIMER => self.communication_retry_timer.is_some(),
            rid::COMMUNICATION_SEQUENCE_DELAY_TIMER => {
                self.communication_sequence_delay_timer.is_some()
            }
            rid::COMMUNICATION_SEQUENCE_RETRY_COUNT => {
                self.communication_sequence_retry_count.is_some()
            }
            rid::TRIGGER => self.trigger.is_some(),
            rid::PREFERRED_TRANSPORT => self.preferred_transport.is_some(),
            rid::MUTE_SEND => self.mute_send.is_some(),
            _ => false,
        }
    }

    fn read(&self, rid: Rid) -> Option<Value<'_>> {
        let u = |v: Option<u64>| v.map(Value::Unsigned);
        let b = |v: Option<bool>| v.map(Value::Boolean);
        Some(match rid {
            rid::SSID => Value::Integer(self.ssid.into()),
            rid::LIFETIME => Value::Integer(self.lifetime),
            rid::DEFAULT_MIN_PERIOD => Value::Integer(self.default_min_period?),
            rid::DEFAULT_MAX_PERIOD => Value::Integer(self.default_max_period?),
            rid::DISABLE_TIMEOUT => Value::Integer(self.disable_timeout?),
            rid::NOTIFICATION_STORING => Value::Boolean(self.notification_storing),
            rid::BINDING => Value::str(&self.binding),
            rid::APN_LINK => Value::Objlnk(self.apn_link?),
            rid::TLS_DTLS_ALERT_CODE => u(self.tls_dtls_alert_code)?,
            rid::LAST_BOOTSTRAPPED => Value::Time(self.last_bootstrapped?),
            rid::REGISTRATION_PRIORITY_ORDER => u(self.registration_priority_order)?,
            rid::INITIAL_REGISTRATION_DELAY => u(self.initial_registration_delay)?,
            rid::REGISTRATION_FAILURE_BLOCK => b(self.registration_failure_block)?,
            rid::BOOTSTRAP_ON_REGISTRATION_FAILURE => b(self.bootstrap_on_registration_failure)?,
            rid::COMMUNICATION_RETRY_COUNT => u(self.communication_retry_count)?,
            rid::COMMUNICATION_RETRY_TIMER => u(self.communication_retry_timer)?,
            rid::COMMUNICATION_SEQUENCE_DELAY_TIMER => u(self.communication_sequence_delay_timer)?,
            rid::COMMUNICATION_SEQUENCE_RETRY_COUNT => u(self.communication_sequence_retry_count)?,
            rid::TRIGGER => b(self.trigger)?,
            rid::PREFERRED_TRANSPORT => Value::str(self.preferred_transport.as_ref()?),
            rid::MUTE_SEND => b(self.mute_send)?,
            _ => return None,
        })
    }

    fn write(&mut self, rid: Rid, v: Value<'_>) -> Result<(), DmError> {
        match rid {
            rid::SSID => self.ssid = u16::try_from(int(&v)?).map_err(|_| DmError::BadRequest)?,
            rid::LIFETIME => self.lifetime = int(&v)?,
            rid::DEFAULT_MIN_PERIOD => self.default_min_period = Some(int(&v)?),
            rid::DEFAULT_MAX_PERIOD => self.default_max_period = Some(int(&v)?),
            rid::DISABLE_TIMEOUT => self.disable_timeout = Some(int(&v)?),
            rid::NOTIFICATION_STORING => self.notification_storing = boolean(&v)?,
            rid::BINDING => self.binding = string(v)?,
            rid::APN_LINK => self.apn_link = Some(objlnk(&v)?),
            rid::TLS_DTLS_ALERT_CODE => self.tls_dtls_alert_code = Some(uint(&v)?),
            rid::LAST_BOOTSTRAPPED => self.last_bootstrapped = Some(int(&v)?),
            rid::REGISTRATION_PRIORITY_ORDER => self.registration_priority_order = Some(uint(&v)?),
            rid::INITIAL_REGISTRATION_DELAY => self.initial_registration_delay = Some(uint(&v)?),
            rid::REGISTRATION_FAILURE_BLOCK => self.registration_failure_block = Some(boolean(&v)?),
            rid::BOOTSTRAP_ON_REGISTRATION_FAILURE => {
                self.bootstrap_on_registration_failure = Some(boolean(&v)?);
            }
            rid::COMMUNICATION_RETRY_COUNT => self.communication_retry_count = Some(uint(&v)?),
            rid::COMMUNICATION_RETRY_TIMER => self.communication_retry_timer = Some(uint(&v)?),
            rid::COMMUNICATION_SEQUENCE_DELAY_TIMER => {
                self.communication_sequence_delay_timer = Some(uint(&v)?);
            }
            rid::COMMUNICATION_SEQUENCE_RETRY_COUNT => {
                self.communication_sequence_retry_count = Some(uint(&v)?);
            }
            rid::TRIGGER => self.trigger = Some(boolean(&v)?),
            rid::PREFERRED_TRANSPORT => self.preferred_transport = Some(string(v)?),
            rid::MUTE_SEND => self.mute_send = Some(boolean(&v)?),
            _ => return Err(DmError::NotFound),
        }
        Ok(())
    }

    /// The first resource whose value is invalid on its own or against the
    /// instance's other values.
    fn first_invalid(&self) -> Option<Rid> {
        let secs = |v: i64| u32::try_from(v).is_ok();
        if !valid_ssid(self.ssid) {
            return Some(rid::SSID);
        }
        if self.lifetime <= 0 || !secs(self.lifetime) {
            return Some(rid::LIFETIME);
        }
        if self.default_min_period.is_some_and(|p| !secs(p)) {
            return Some(rid::DEFAULT_MIN_PERIOD);
        }
        if self.default_max_period.is_some_and(|p| !secs(p)) {
            return Some(rid::DEFAULT_MAX_PERIOD);
        }
        if let (Some(min), Some(max)) = (self.default_min_period, self.default_max_period)
            && min > max
        {
            return Some(rid::DEFAULT_MAX_PERIOD);
        }
        if self.disable_timeout.is_some_and(|t| !secs(t)) {
            return Some(rid::DISABLE_TIMEOUT);
        }
        if Binding::parse(&self.binding).is_none() {
            return Some(rid::BINDING);
        }
        if self.tls_dtls_alert_code.is_some_and(|c| c > 255) {
            return Some(rid::TLS_DTLS_ALERT_CODE);
        }
        if self
            .preferred_transport
            .as_deref()
            .is_some_and(|t| preferred_transport(t).is_none())
        {
            return Some(rid::PREFERRED_TRANSPORT);
        }
        None
    }
}

/// The Server object: instances sorted by id, transactional, bounded, with
/// the events its Execute resources raise.
#[derive(Clone, Debug)]
pub struct Server {
    state: Txn<Vec<ServerInstance>>,
    events: EventQueue,
    max_instances: usize,
}

impl Default for Server {
    fn default() -> Self {
        Server::new(8)
    }
}

impl Server {
    /// An empty object holding at most `max_instances` instances (Create
    /// beyond is refused with 5.00).
    pub fn new(max_instances: usize) -> Server {
        Server {
            state: Txn::new(Vec::new()),
            events: EventQueue::default(),
            max_instances,
        }
    }

    /// Adds or replaces an instance (factory configuration).
    pub fn insert(&mut self, inst: ServerInstance) {
        instances::insert(&mut self.state, inst);
    }

    /// With an instance added (factory configuration).
    pub fn with(mut self, inst: ServerInstance) -> Server {
        self.insert(inst);
        self
    }

    /// The instances, by id.
    pub fn entries(&self) -> &[ServerInstance] {
        &self.state
    }

    /// The instance with id `iid`.
    pub fn get(&self, iid: Iid) -> Option<&ServerInstance> {
        instances::get(&self.state, iid)
    }

    fn get_mut(&mut self, iid: Iid) -> Result<&mut ServerInstance, DmError> {
        instances::get_mut(&mut self.state, iid)
    }

    /// The first invalid resource by the rules of the module documentation;
    /// `None` when the object is consistent.
    pub fn first_invalid(&self) -> Option<Path> {
        let mut ssids: Vec<Ssid> = Vec::with_capacity(self.state.len());
        for i in self.state.iter() {
            if let Some(r) = i.first_invalid() {
                return Some(Path::resource(SERVER, i.iid, r));
            }
            if ssids.contains(&i.ssid) {
                return Some(Path::resource(SERVER, i.iid, rid::SSID));
            }
            ssids.push(i.ssid);
        }
        None
    }
}

impl instances::HasIid for ServerInstance {
    fn iid(&self) -> Iid {
        self.iid
    }
}

impl Object for Server {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.iter().for_each(|i| each(i.iid));
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        self.get(iid).is_some_and(|i| i.is_present(rid))
    }

    fn read(&self, iid: Iid, rid: Rid, _riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        self.get(iid)
            .and_then(|i| i.read(rid))
            .ok_or(DmError::NotFound)
    }

    /// Every non-executable resource: the core lets DM servers write only
    /// the RW ones; the Bootstrap-Server and the engine (TLS-DTLS Alert
    /// Code, Last Bootstrapped) write the others.
    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        _riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        self.get_mut(iid)?.write(rid, value)
    }

    fn execute(&mut self, iid: Iid, rid: Rid, _args: ExecuteArgs<'_>) -> Result<(), DmError> {
        let inst = self.get(iid).ok_or(DmError::NotFound)?;
        let ssid = inst.ssid;
        let event = match rid {
            rid::DISABLE => ObjectEvent::Disable {
                ssid,
                timeout: inst
                    .disable_timeout
                    .and_then(|t| u64::try_from(t).ok())
                    .map_or(DEFAULT_DISABLE_TIMEOUT, Duration::from_secs),
            },
            rid::REGISTRATION_UPDATE_TRIGGER => ObjectEvent::RegistrationUpdateTrigger { ssid },
            rid::BOOTSTRAP_REQUEST_TRIGGER => ObjectEvent::BootstrapRequestTrigger { ssid },
            _ => return Err(DmError::MethodNotAllowed),
        };
        self.events.push(event)
    }

    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        // SSID 0 fails validation until one is written.
        instances::create(&mut self.state, self.max_instances, iid, |iid| {
            ServerInstance::new(iid, 0, 86_400)
        })
    }

    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        instances::delete(&mut self.state, iid)
    }

    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let inst = self.get_mut(iid)?;
        if rid.is_none() {
            inst.reset_writable();
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
        self.events.begin();
    }
    fn commit(&mut self) {
        self.state.commit();
        self.events.commit();
    }
    fn rollback(&mut self) {
        self.state.rollback();
        self.events.rollback();
    }

    fn poll_event(&mut self) -> Option<ObjectEvent> {
        self.events.pop()
    }
}

/// Registration retry settings (Core 1.1 §6.2.1.1; E.2 resources 17–20),
/// with the TS defaults for absent resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Communication Retry Count: attempts in one sequence (default 5).
    pub retry_count: u64,
    /// Communication Retry Timer: delay before the first retry, doubled
    /// for each further attempt (default 60 s).
    pub retry_timer: Duration,
    /// Communication Sequence Delay Timer: delay between sequences
    /// (default 86400 s).
    pub sequence_delay: Duration,
    /// Communication Sequence Retry Count: sequences before registration
    /// is considered failed (default 1).
    pub sequence_retry_count: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retry_count: 5,
            retry_timer: Duration::from_secs(60),
            sequence_delay: Duration::from_secs(86_400),
            sequence_retry_count: 1,
        }
    }
}

/// One DM server account from the Server object, as the engine needs it:
/// read through the [`Object`] trait, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAccount {
    /// Instance id within object 1.
    pub iid: Iid,
    /// Short Server ID.
    pub ssid: Ssid,
    /// Lifetime, seconds (the `lt` of Register and Update).
    pub lifetime: u32,
    /// Default Minimum Period, seconds (absent: 0 applies).
    pub default_pmin: Option<u32>,
    /// Default Maximum Period, seconds (absent: no maximum).
    pub default_pmax: Option<u32>,
    /// Disable Timeout (default [`DEFAULT_DISABLE_TIMEOUT`]).
    pub disable_timeout: Duration,
    /// Notification Storing When Disabled or Offline.
    pub notification_storing: bool,
    /// Binding (`U` if the value does not parse).
    pub binding: Binding,
    /// Preferred Transport.
    pub preferred_transport: Option<Transport>,
    /// Mute Send (default true: Send is off unless the server says false).
    pub mute_send: bool,
    /// Registration Priority Order (absent: not ordered).
    pub registration_priority_order: Option<u64>,
    /// Initial Registration Delay Timer (default 0).
    pub initial_registration_delay: Duration,
    /// Registration Failure Block (default false).
    pub registration_failure_block: bool,
    /// Bootstrap on Registration Failure (default true).
    pub bootstrap_on_registration_failure: bool,
    /// Communication retry settings.
    pub retry: RetryPolicy,
    /// Trigger: reachable over SMS (default false).
    pub trigger: bool,
    /// APN Link.
    pub apn_link: Option<ObjLnk>,
}

fn u32_of(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn account_of(obj: &dyn Object, iid: Iid) -> Option<ServerAccount> {
    let ssid = convert::read_i64(obj, iid, rid::SSID).and_then(|s| u16::try_from(s).ok())?;
    let lifetime = u32_of(convert::read_i64(obj, iid, rid::LIFETIME))?;
    let u = |r| convert::read_u64(obj, iid, r);
    let b = |r| convert::read_bool(obj, iid, r);
    let defaults = RetryPolicy::default();
    Some(ServerAccount {
        iid,
        ssid,
        lifetime,
        default_pmin: u32_of(convert::read_i64(obj, iid, rid::DEFAULT_MIN_PERIOD)),
        default_pmax: u32_of(convert::read_i64(obj, iid, rid::DEFAULT_MAX_PERIOD)),
        disable_timeout: u32_of(convert::read_i64(obj, iid, rid::DISABLE_TIMEOUT))
            .map_or(DEFAULT_DISABLE_TIMEOUT, |s| Duration::from_secs(s.into())),
        notification_storing: b(rid::NOTIFICATION_STORING).unwrap_or(true),
        binding: convert::read_str(obj, iid, rid::BINDING)
            .and_then(|s| Binding::parse(&s))
            .unwrap_or(Binding::UDP),
        preferred_transport: convert::read_str(obj, iid, rid::PREFERRED_TRANSPORT)
            .and_then(|s| preferred_transport(&s)),
        mute_send: b(rid::MUTE_SEND).unwrap_or(true),
        registration_priority_order: u(rid::REGISTRATION_PRIORITY_ORDER),
        initial_registration_delay: Duration::from_secs(
            u(rid::INITIAL_REGISTRATION_DELAY).unwrap_or(0),
        ),
        registration_failure_block: b(rid::REGISTRATION_FAILURE_BLOCK).unwrap_or(false),
        bootstrap_on_registration_failure: b(rid::BOOTSTRAP_ON_REGISTRATION_FAILURE)
            .unwrap_or(true),
        retry: RetryPolicy {
            retry_count: u(rid::COMMUNICATION_RETRY_COUNT).unwrap_or(defaults.retry_count),
            retry_timer: u(rid::COMMUNICATION_RETRY_TIMER)
                .map_or(defaults.retry_timer, Duration::from_secs),
            sequence_delay: u(rid::COMMUNICATION_SEQUENCE_DELAY_TIMER)
                .map_or(defaults.sequence_delay, Duration::from_secs),
            sequence_retry_count: u(rid::COMMUNICATION_SEQUENCE_RETRY_COUNT)
                .unwrap_or(defaults.sequence_retry_count),
        },
        trigger: b(rid::TRIGGER).unwrap_or(false),
        apn_link: convert::read(obj, iid, rid::APN_LINK, None).and_then(|v| match v {
            Value::Objlnk(l) => Some(l),
            _ => None,
        }),
    })
}

/// Every account of the registry's Server object (any implementation of
/// object 1), in instance order; instances without a readable SSID or
/// lifetime are skipped (a committed configuration has none).
pub fn accounts(reg: &Registry) -> impl Iterator<Item = ServerAccount> + '_ {
    let obj = reg.get(SERVER);
    let iids = obj.map(convert::instances).unwrap_or_default();
    iids.into_iter()
        .filter_map(move |iid| account_of(obj?, iid))
}

/// The account of server `ssid`.
pub fn account(reg: &Registry, ssid: Ssid) -> Option<ServerAccount> {
    accounts(reg).find(|a| a.ssid == ssid)
}

fn write_for(reg: &mut Registry, ssid: Ssid, rid: Rid, v: Value<'_>) -> Result<(), DmError> {
    let iid = account(reg, ssid).ok_or(DmError::NotFound)?.iid;
    let obj = reg.get_mut(SERVER).ok_or(DmError::NotFound)?;
    obj.write(iid, rid, None, v)
}

/// Records the last TLS / DTLS alert received from server `ssid`
/// (resource 11), for the Bootstrap-Server to see. 4.04 without such an
/// account.
pub fn set_tls_dtls_alert_code(reg: &mut Registry, ssid: Ssid, code: u8) -> Result<(), DmError> {
    write_for(
        reg,
        ssid,
        rid::TLS_DTLS_ALERT_CODE,
        Value::Unsigned(code.into()),
    )
}

/// Records when the Bootstrap-Server last updated account `ssid`
/// (resource 12, Unix time from the application's clock).
pub fn set_last_bootstrapped(
    reg: &mut Registry,
    ssid: Ssid,
    unix_time: i64,
) -> Result<(), DmError> {
    write_for(reg, ssid, rid::LAST_BOOTSTRAPPED, Value::Time(unix_time))
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
