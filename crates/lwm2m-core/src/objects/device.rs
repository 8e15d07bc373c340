//! The Device object (ID 3; OMA-TS-LightweightM2M_Core 1.1 Appendix E.4,
//! object version 1.1; resource table as in OMA-SUP-XML_3 1.1, Eclipse
//! Leshan `leshan-core/src/main/resources/models/LWM2M_Device-v1_1.xml`):
//! a single instance whose values the application supplies through the
//! small [`DeviceInfo`] trait.
//!
//! What the object keeps itself, transactionally: the Error Code list
//! (the application reports errors with [`Device::set_error`] and
//! [`Device::clear_error`]; Reset Error Code clears it), the UTC Offset and
//! Timezone servers write, and the offset servers set by writing Current
//! Time. The core has no clock: Current Time is the application's clock
//! ([`DeviceInfo::current_time`]) plus that offset.
//!
//! Reboot (4), Factory Reset (5), Reset Error Code (12) and a write of
//! Current Time (13) reach the application as [`ObjectEvent`]s once the
//! request commits.
//!
//! Optional resources are absent when the application returns `None` (or
//! an empty list) for them.

use alloc::string::String;
use alloc::vec::Vec;

use super::convert::{int, string};
use super::events::EventQueue;
use crate::dm::object::ObjectEvent;
use crate::dm::oids::DEVICE;
use crate::dm::{
    DataType, ExecuteArgs, Iid, ObjLnk, Object, ObjectDef, Operations, Path, ResourceDef, Rid,
    Riid, Txn, Value,
};
use crate::error::DmError;

/// Resource ids (E.4).
pub mod rid {
    use crate::dm::Rid;
    /// Manufacturer.
    pub const MANUFACTURER: Rid = 0;
    /// Model Number.
    pub const MODEL_NUMBER: Rid = 1;
    /// Serial Number.
    pub const SERIAL_NUMBER: Rid = 2;
    /// Firmware Version.
    pub const FIRMWARE_VERSION: Rid = 3;
    /// Reboot (E).
    pub const REBOOT: Rid = 4;
    /// Factory Reset (E).
    pub const FACTORY_RESET: Rid = 5;
    /// Available Power Sources (multiple).
    pub const POWER_SOURCES: Rid = 6;
    /// Power Source Voltage (multiple, mV).
    pub const POWER_SOURCE_VOLTAGE: Rid = 7;
    /// Power Source Current (multiple, mA).
    pub const POWER_SOURCE_CURRENT: Rid = 8;
    /// Battery Level (%).
    pub const BATTERY_LEVEL: Rid = 9;
    /// Memory Free (KiB).
    pub const MEMORY_FREE: Rid = 10;
    /// Error Code (multiple).
    pub const ERROR_CODE: Rid = 11;
    /// Reset Error Code (E).
    pub const RESET_ERROR_CODE: Rid = 12;
    /// Current Time.
    pub const CURRENT_TIME: Rid = 13;
    /// UTC Offset.
    pub const UTC_OFFSET: Rid = 14;
    /// Timezone.
    pub const TIMEZONE: Rid = 15;
    /// Supported Binding and Modes.
    pub const SUPPORTED_BINDINGS: Rid = 16;
    /// Device Type (1.1).
    pub const DEVICE_TYPE: Rid = 17;
    /// Hardware Version (1.1).
    pub const HARDWARE_VERSION: Rid = 18;
    /// Software Version (1.1).
    pub const SOFTWARE_VERSION: Rid = 19;
    /// Battery Status (1.1).
    pub const BATTERY_STATUS: Rid = 20;
    /// Memory Total (1.1, KiB).
    pub const MEMORY_TOTAL: Rid = 21;
    /// ExtDevInfo (1.1, multiple).
    pub const EXT_DEV_INFO: Rid = 22;
}

const R: Operations = Operations::R;
const RW: Operations = Operations::RW;
const E: Operations = Operations::E;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, "Manufacturer", R, DataType::String),
    ResourceDef::new(1, "Model Number", R, DataType::String),
    ResourceDef::new(2, "Serial Number", R, DataType::String),
    ResourceDef::new(3, "Firmware Version", R, DataType::String),
    ResourceDef::new(4, "Reboot", E, DataType::None).mandatory(),
    ResourceDef::new(5, "Factory Reset", E, DataType::None),
    ResourceDef::new(6, "Available Power Sources", R, DataType::Integer).multiple(),
    ResourceDef::new(7, "Power Source Voltage", R, DataType::Integer).multiple(),
    ResourceDef::new(8, "Power Source Current", R, DataType::Integer).multiple(),
    ResourceDef::new(9, "Battery Level", R, DataType::Integer),
    ResourceDef::new(10, "Memory Free", R, DataType::Integer),
    ResourceDef::new(11, "Error Code", R, DataType::Integer)
        .multiple()
        .mandatory(),
    ResourceDef::new(12, "Reset Error Code", E, DataType::None),
    ResourceDef::new(13, "Current Time", RW, DataType::Time),
    ResourceDef::new(14, "UTC Offset", RW, DataType::String),
    ResourceDef::new(15, "Timezone", RW, DataType::String),
    ResourceDef::new(16, "Supported Binding and Modes", R, DataType::String).mandatory(),
    ResourceDef::new(17, "Device Type", R, DataType::String),
    ResourceDef::new(18, "Hardware Version", R, DataType::String),
    ResourceDef::new(19, "Software Version", R, DataType::String),
    ResourceDef::new(20, "Battery Status", R, DataType::Integer),
    ResourceDef::new(21, "Memory Total", R, DataType::Integer),
    ResourceDef::new(22, "ExtDevInfo", R, DataType::Objlnk).multiple(),
];

/// The object definition (E.4, version 1.1).
pub const DEF: ObjectDef = ObjectDef::new(DEVICE, RESOURCES).mandatory().version(1, 1);

/// Error Code values (resource 11).
pub mod error_code {
    /// No error.
    pub const NO_ERROR: i64 = 0;
    /// Low battery power.
    pub const LOW_BATTERY: i64 = 1;
    /// External power supply off.
    pub const EXTERNAL_POWER_OFF: i64 = 2;
    /// GPS module failure.
    pub const GPS_FAILURE: i64 = 3;
    /// Low received signal strength.
    pub const LOW_SIGNAL: i64 = 4;
    /// Out of memory.
    pub const OUT_OF_MEMORY: i64 = 5;
    /// SMS failure.
    pub const SMS_FAILURE: i64 = 6;
    /// IP connectivity failure.
    pub const IP_CONNECTIVITY_FAILURE: i64 = 7;
    /// Peripheral malfunction.
    pub const PERIPHERAL_MALFUNCTION: i64 = 8;
}

/// Most error codes the object keeps at once.
pub const MAX_ERROR_CODES: usize = 16;

/// Available Power Sources values (resource 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PowerSourceKind {
    /// 0: DC power.
    Dc,
    /// 1: internal battery.
    InternalBattery,
    /// 2: external battery.
    ExternalBattery,
    /// 3: fuel cell.
    FuelCell,
    /// 4: Power over Ethernet.
    PowerOverEthernet,
    /// 5: USB.
    Usb,
    /// 6: AC (mains) power.
    AcMains,
    /// 7: solar.
    Solar,
}

impl PowerSourceKind {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            PowerSourceKind::Dc => 0,
            PowerSourceKind::InternalBattery => 1,
            PowerSourceKind::ExternalBattery => 2,
            PowerSourceKind::FuelCell => 3,
            PowerSourceKind::PowerOverEthernet => 4,
            PowerSourceKind::Usb => 5,
            PowerSourceKind::AcMains => 6,
            PowerSourceKind::Solar => 7,
        }
    }
}

/// One power source; its index in [`DeviceInfo::power_sources`] is the
/// resource instance id shared by resources 6, 7 and 8 (E.4: "The same
/// Resource Instance ID MUST be used to associate a given Power Source ...
/// with its Present Voltage ... and its Present Current").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PowerSource {
    /// Kind (resource 6).
    pub kind: PowerSourceKind,
    /// Present voltage, mV (resource 7).
    pub voltage_mv: Option<i64>,
    /// Present current, mA (resource 8).
    pub current_ma: Option<i64>,
}

/// Battery Status values (resource 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatteryStatus {
    /// 0: operating normally, not on power.
    Normal,
    /// 1: charging.
    Charging,
    /// 2: fully charged, still on power.
    ChargeComplete,
    /// 3: damaged.
    Damaged,
    /// 4: low on charge.
    Low,
    /// 5: not installed.
    NotInstalled,
    /// 6: information not available.
    Unknown,
}

impl BatteryStatus {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            BatteryStatus::Normal => 0,
            BatteryStatus::Charging => 1,
            BatteryStatus::ChargeComplete => 2,
            BatteryStatus::Damaged => 3,
            BatteryStatus::Low => 4,
            BatteryStatus::NotInstalled => 5,
            BatteryStatus::Unknown => 6,
        }
    }
}

/// The values the application supplies. Every method has a default
/// meaning "not available" (the resource is absent), except the mandatory
/// Supported Binding and Modes, which defaults to `U`.
pub trait DeviceInfo: 'static {
    /// Manufacturer (0).
    fn manufacturer(&self) -> Option<&str> {
        None
    }
    /// Model Number (1).
    fn model_number(&self) -> Option<&str> {
        None
    }
    /// Serial Number (2).
    fn serial_number(&self) -> Option<&str> {
        None
    }
    /// Firmware Version (3).
    fn firmware_version(&self) -> Option<&str> {
        None
    }
    /// Whether Factory Reset (5) is offered. Default: yes.
    fn factory_reset_supported(&self) -> bool {
        true
    }
    /// Power sources (6, 7, 8).
    fn power_sources(&self) -> &[PowerSource] {
        &[]
    }
    /// Battery Level (9), 0..=100 %.
    fn battery_level(&self) -> Option<u8> {
        None
    }
    /// Memory Free (10), KiB.
    fn memory_free(&self) -> Option<i64> {
        None
    }
    /// The device's clock as Unix time in seconds, before the offset
    /// servers set by writing Current Time (13). `None`: no clock, the
    /// resource is absent.
    fn current_time(&self) -> Option<i64> {
        None
    }
    /// Supported Binding and Modes (16). Default `U`.
    fn supported_binding_modes(&self) -> &str {
        "U"
    }
    /// Device Type (17).
    fn device_type(&self) -> Option<&str> {
        None
    }
    /// Hardware Version (18).
    fn hardware_version(&self) -> Option<&str> {
        None
    }
    /// Software Version (19).
    fn software_version(&self) -> Option<&str> {
        None
    }
    /// Battery Status (20).
    fn battery_status(&self) -> Option<BatteryStatus> {
        None
    }
    /// Memory Total (21), KiB.
    fn memory_total(&self) -> Option<i64> {
        None
    }
    /// ExtDevInfo (22): links to other Device object instances.
    fn ext_dev_info(&self) -> &[ObjLnk] {
        &[]
    }
}

/// Fixed values for applications whose device information does not
/// change (and for tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticDeviceInfo {
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model Number.
    pub model_number: Option<String>,
    /// Serial Number.
    pub serial_number: Option<String>,
    /// Firmware Version.
    pub firmware_version: Option<String>,
    /// Power sources.
    pub power_sources: Vec<PowerSource>,
    /// Battery Level.
    pub battery_level: Option<u8>,
    /// Memory Free.
    pub memory_free: Option<i64>,
    /// The clock (set it from the application's clock before reads).
    pub current_time: Option<i64>,
    /// Supported Binding and Modes (empty: `U`).
    pub supported_binding_modes: String,
    /// Device Type.
    pub device_type: Option<String>,
    /// Hardware Version.
    pub hardware_version: Option<String>,
    /// Software Version.
    pub software_version: Option<String>,
    /// Battery Status.
    pub battery_status: Option<BatteryStatus>,
    /// Memory Total.
    pub memory_total: Option<i64>,
    /// ExtDevInfo.
    pub ext_dev_info: Vec<ObjLnk>,
}

impl DeviceInfo for StaticDeviceInfo {
    fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }
    fn model_number(&self) -> Option<&str> {
        self.model_number.as_deref()
    }
    fn serial_number(&self) -> Option<&str> {
        self.serial_number.as_deref()
    }
    fn firmware_version(&self) -> Option<&str> {
        self.firmware_version.as_deref()
    }
    fn power_sources(&self) -> &[PowerSource] {
        &self.power_sources
    }
    fn battery_level(&self) -> Option<u8> {
        self.battery_level
    }
    fn memory_free(&self) -> Option<i64> {
        self.memory_free
    }
    fn current_time(&self) -> Option<i64> {
        self.current_time
    }
    fn supported_binding_modes(&self) -> &str {
        if self.supported_binding_modes.is_empty() {
            "U"
        } else {
            &self.supported_binding_modes
        }
    }
    fn device_type(&self) -> Option<&str> {
        self.device_type.as_deref()
    }
    fn hardware_version(&self) -> Option<&str> {
        self.hardware_version.as_deref()
    }
    fn software_version(&self) -> Option<&str> {
        self.software_version.as_deref()
    }
    fn battery_status(&self) -> Option<BatteryStatus> {
        self.battery_status
    }
    fn memory_total(&self) -> Option<i64> {
        self.memory_total
    }
    fn ext_dev_info(&self) -> &[ObjLnk] {
        &self.ext_dev_info
    }
}

/// What the object itself keeps, under transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Kept {
    /// Error codes by resource instance id; `[0]` when there is no error.
    errors: Vec<i64>,
    utc_offset: Option<String>,
    timezone: Option<String>,
    time_offset: i64,
}

/// Whether `s` is an ISO 8601 UTC offset as the UTC Offset resource holds
/// it (E.4 "UTC+X [ISO 8601]"): `Z`, or `±hh`, `±hhmm`, `±hh:mm`, with an
/// optional `UTC` prefix, hours ≤ 14 and minutes < 60.
pub fn valid_utc_offset(s: &str) -> bool {
    let s = s.strip_prefix("UTC").unwrap_or(s);
    if s == "Z" {
        return true;
    }
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    let digits = |t: &str| -> Option<u8> {
        (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (h, m) = match rest.len() {
        2 => (rest, "00"),
        4 => (rest.get(..2).unwrap_or(""), rest.get(2..).unwrap_or("")),
        5 if rest.as_bytes().get(2) == Some(&b':') => {
            (rest.get(..2).unwrap_or(""), rest.get(3..).unwrap_or(""))
        }
        _ => return false,
    };
    matches!((digits(h), digits(m)), (Some(h), Some(m)) if h <= 14 && m < 60)
}

/// Whether `s` looks like an IANA time zone name (E.4 Timezone): 1 to 64
/// printable ASCII characters without spaces.
pub fn valid_timezone(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The Device object over the application's [`DeviceInfo`].
#[derive(Debug)]
pub struct Device<I> {
    info: I,
    kept: Txn<Kept>,
    events: EventQueue,
}

impl<I: DeviceInfo> Device<I> {
    /// The object over `info`, with no error, no UTC Offset and no
    /// Timezone.
    pub fn new(info: I) -> Device<I> {
        Device {
            info,
            kept: Txn::new(Kept {
                errors: alloc::vec![error_code::NO_ERROR],
                ..Kept::default()
            }),
            events: EventQueue::default(),
        }
    }

    /// With UTC Offset `offset` (not checked until the next commit).
    pub fn with_utc_offset(mut self, offset: &str) -> Device<I> {
        self.kept.utc_offset = Some(offset.into());
        self
    }

    /// With Timezone `tz`.
    pub fn with_timezone(mut self, tz: &str) -> Device<I> {
        self.kept.timezone = Some(tz.into());
        self
    }

    /// The application's values.
    pub fn info(&self) -> &I {
        &self.info
    }

    /// The application's values, mutable (the application then calls
    /// `notify_changed` for what it changed).
    pub fn info_mut(&mut self) -> &mut I {
        &mut self.info
    }

    /// The current error codes (`[0]` when there is none).
    pub fn error_codes(&self) -> &[i64] {
        &self.kept.errors
    }

    /// Reports error `code` (1..=8, or a vendor value); a no-op when it is
    /// already reported or [`MAX_ERROR_CODES`] are.
    pub fn set_error(&mut self, code: i64) {
        let errors = &mut self.kept.errors;
        if code == error_code::NO_ERROR || errors.contains(&code) {
            return;
        }
        errors.retain(|&c| c != error_code::NO_ERROR);
        if errors.len() < MAX_ERROR_CODES {
            errors.push(code);
        }
    }

    /// Withdraws error `code`; with none left the list is `[0]` again.
    pub fn clear_error(&mut self, code: i64) {
        let errors = &mut self.kept.errors;
        errors.retain(|&c| c != code);
        if errors.is_empty() {
            errors.push(error_code::NO_ERROR);
        }
    }

    /// UTC Offset (14), if set.
    pub fn utc_offset(&self) -> Option<&str> {
        self.kept.utc_offset.as_deref()
    }

    /// Timezone (15), if set.
    pub fn timezone(&self) -> Option<&str> {
        self.kept.timezone.as_deref()
    }

    /// Seconds servers have added to the application's clock by writing
    /// Current Time.
    pub fn time_offset(&self) -> i64 {
        self.kept.time_offset
    }

    /// Sets the offset (to 0 once the application has set its own clock,
    /// or to a persisted value at start).
    pub fn set_time_offset(&mut self, offset: i64) {
        self.kept.time_offset = offset;
    }

    /// Current Time as servers see it.
    pub fn current_time(&self) -> Option<i64> {
        self.info
            .current_time()
            .map(|t| t.saturating_add(self.kept.time_offset))
    }

    /// The first invalid resource (a UTC Offset or Timezone that does not
    /// parse); `None` when the object is consistent.
    pub fn first_invalid(&self) -> Option<Path> {
        if self
            .kept
            .utc_offset
            .as_deref()
            .is_some_and(|s| !valid_utc_offset(s))
        {
            return Some(Path::resource(DEVICE, 0, rid::UTC_OFFSET));
        }
        if self
            .kept
            .timezone
            .as_deref()
            .is_some_and(|s| !valid_timezone(s))
        {
            return Some(Path::resource(DEVICE, 0, rid::TIMEZONE));
        }
        None
    }

    fn power_value(&self, rid: Rid, riid: Riid) -> Option<i64> {
        let src = self.info.power_sources().get(usize::from(riid))?;
        match rid {
            rid::POWER_SOURCES => Some(src.kind.code()),
            rid::POWER_SOURCE_VOLTAGE => src.voltage_mv,
            rid::POWER_SOURCE_CURRENT => src.current_ma,
            _ => None,
        }
    }
}

fn s(v: Option<&str>) -> Option<Value<'_>> {
    v.map(Value::str)
}

impl<I: DeviceInfo> Object for Device<I> {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        let i = &self.info;
        iid == 0
            && match rid {
                rid::MANUFACTURER => i.manufacturer().is_some(),
                rid::MODEL_NUMBER => i.model_number().is_some(),
                rid::SERIAL_NUMBER => i.serial_number().is_some(),
                rid::FIRMWARE_VERSION => i.firmware_version().is_some(),
                rid::FACTORY_RESET => i.factory_reset_supported(),
                rid::POWER_SOURCES => !i.power_sources().is_empty(),
                rid::POWER_SOURCE_VOLTAGE => {
                    i.power_sources().iter().any(|p| p.voltage_mv.is_some())
                }
                rid::POWER_SOURCE_CURRENT => {
                    i.power_sources().iter().any(|p| p.current_ma.is_some())
                }
                rid::BATTERY_LEVEL => i.battery_level().is_some(),
                rid::MEMORY_FREE => i.memory_free().is_some(),
                rid::CURRENT_TIME => i.current_time().is_some(),
                rid::UTC_OFFSET => self.kept.utc_offset.is_some(),
                rid::TIMEZONE => self.kept.timezone.is_some(),
                rid::DEVICE_TYPE => i.device_type().is_some(),
                rid::HARDWARE_VERSION => i.hardware_version().is_some(),
                rid::SOFTWARE_VERSION => i.software_version().is_some(),
                rid::BATTERY_STATUS => i.battery_status().is_some(),
                rid::MEMORY_TOTAL => i.memory_total().is_some(),
                rid::EXT_DEV_INFO => !i.ext_dev_info().is_empty(),
                rid::REBOOT | rid::ERROR_CODE | rid::RESET_ERROR_CODE | rid::SUPPORTED_BINDINGS => {
                    true
                }
                _ => false,
            }
    }

    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if iid != 0 {
            return;
        }
        let ids = |n: usize, each: &mut dyn FnMut(Riid)| {
            (0..n)
                .filter_map(|i| Riid::try_from(i).ok())
                .for_each(&mut *each);
        };
        match rid {
            rid::POWER_SOURCES | rid::POWER_SOURCE_VOLTAGE | rid::POWER_SOURCE_CURRENT => {
                for riid in
                    (0..self.info.power_sources().len()).filter_map(|i| Riid::try_from(i).ok())
                {
                    if self.power_value(rid, riid).is_some() {
                        each(riid);
                    }
                }
            }
            rid::ERROR_CODE => ids(self.kept.errors.len(), each),
            rid::EXT_DEV_INFO => ids(self.info.ext_dev_info().len(), each),
            _ => {}
        }
    }

    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        let i = &self.info;
        let int = |v: Option<i64>| v.map(Value::Integer);
        let at = riid.map(usize::from);
        let v = match rid {
            rid::MANUFACTURER => s(i.manufacturer()),
            rid::MODEL_NUMBER => s(i.model_number()),
            rid::SERIAL_NUMBER => s(i.serial_number()),
            rid::FIRMWARE_VERSION => s(i.firmware_version()),
            rid::POWER_SOURCES | rid::POWER_SOURCE_VOLTAGE | rid::POWER_SOURCE_CURRENT => {
                int(riid.and_then(|r| self.power_value(rid, r)))
            }
            rid::BATTERY_LEVEL => int(i.battery_level().map(i64::from)),
            rid::MEMORY_FREE => int(i.memory_free()),
            rid::ERROR_CODE => int(at.and_then(|a| self.kept.errors.get(a).copied())),
            rid::CURRENT_TIME => self.current_time().map(Value::Time),
            rid::UTC_OFFSET => s(self.kept.utc_offset.as_deref()),
            rid::TIMEZONE => s(self.kept.timezone.as_deref()),
            rid::SUPPORTED_BINDINGS => Some(Value::str(i.supported_binding_modes())),
            rid::DEVICE_TYPE => s(i.device_type()),
            rid::HARDWARE_VERSION => s(i.hardware_version()),
            rid::SOFTWARE_VERSION => s(i.software_version()),
            rid::BATTERY_STATUS => int(i.battery_status().map(BatteryStatus::code)),
            rid::MEMORY_TOTAL => int(i.memory_total()),
            rid::EXT_DEV_INFO => at
                .and_then(|a| i.ext_dev_info().get(a).copied())
                .map(Value::Objlnk),
            _ => None,
        };
        v.ok_or(DmError::NotFound)
    }

    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        _riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        match rid {
            rid::CURRENT_TIME => {
                let time = int(&value)?;
                let clock = self.info.current_time().ok_or(DmError::NotFound)?;
                let offset = time.saturating_sub(clock);
                self.kept.time_offset = offset;
                self.events
                    .push(ObjectEvent::CurrentTimeWritten { time, offset })
            }
            rid::UTC_OFFSET => {
                self.kept.utc_offset = Some(string(value)?);
                Ok(())
            }
            rid::TIMEZONE => {
                self.kept.timezone = Some(string(value)?);
                Ok(())
            }
            _ => Err(DmError::MethodNotAllowed),
        }
    }

    fn execute(&mut self, iid: Iid, rid: Rid, _args: ExecuteArgs<'_>) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        let event = match rid {
            rid::REBOOT => ObjectEvent::Reboot,
            rid::FACTORY_RESET => ObjectEvent::FactoryReset,
            rid::RESET_ERROR_CODE => {
                self.kept.errors.clear();
                self.kept.errors.push(error_code::NO_ERROR);
                ObjectEvent::ErrorCodesReset
            }
            _ => return Err(DmError::MethodNotAllowed),
        };
        self.events.push(event)
    }

    /// Write-replace of /3/0: UTC Offset and Timezone become absent and
    /// the Current Time offset 0.
    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        if rid.is_none() {
            self.kept.utc_offset = None;
            self.kept.timezone = None;
            self.kept.time_offset = 0;
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
        self.kept.begin();
        self.events.begin();
    }
    fn commit(&mut self) {
        self.kept.commit();
        self.events.commit();
    }
    fn rollback(&mut self) {
        self.kept.rollback();
        self.events.rollback();
    }

    fn poll_event(&mut self) -> Option<ObjectEvent> {
        self.events.pop()
    }
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
