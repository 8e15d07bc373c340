//! The demo's [`DeviceInfo`]: what the Device object (3) reports. Fixed
//! identity, a simulated battery and memory, and the clock the application
//! sets.

use lwm2m_core::objects::device::{BatteryStatus, PowerSource, PowerSourceKind};
use lwm2m_core::objects::{Device, DeviceInfo};

/// Values of the demo device.
#[derive(Clone, Debug)]
pub struct DemoDevice {
    serial: String,
    firmware: String,
    /// Unix seconds, set by the application from its clock.
    now: Option<i64>,
    power: [PowerSource; 2],
}

impl DemoDevice {
    /// The device whose serial number names `endpoint`.
    pub fn new(endpoint: &str) -> DemoDevice {
        DemoDevice {
            serial: format!("DEMO-{endpoint}"),
            firmware: String::from(env!("CARGO_PKG_VERSION")),
            now: None,
            power: [
                PowerSource {
                    kind: PowerSourceKind::Dc,
                    voltage_mv: Some(5000),
                    current_ma: Some(120),
                },
                PowerSource {
                    kind: PowerSourceKind::InternalBattery,
                    voltage_mv: Some(3700),
                    current_ma: Some(0),
                },
            ],
        }
    }

    /// Sets Firmware Version (after an update).
    pub fn set_firmware_version(&mut self, version: String) {
        self.firmware = version;
    }

    /// Sets the clock (Unix seconds) Current Time reads.
    pub fn set_time(&mut self, unix: i64) {
        self.now = Some(unix);
    }
}

impl DeviceInfo for DemoDevice {
    fn manufacturer(&self) -> Option<&str> {
        Some("lwm2m-rs")
    }
    fn model_number(&self) -> Option<&str> {
        Some("lwm2m-client demo")
    }
    fn serial_number(&self) -> Option<&str> {
        Some(&self.serial)
    }
    fn firmware_version(&self) -> Option<&str> {
        Some(&self.firmware)
    }
    fn power_sources(&self) -> &[PowerSource] {
        &self.power
    }
    fn battery_level(&self) -> Option<u8> {
        Some(87)
    }
    fn memory_free(&self) -> Option<i64> {
        Some(3072)
    }
    fn current_time(&self) -> Option<i64> {
        self.now
    }
    fn supported_binding_modes(&self) -> &str {
        "UQ"
    }
    fn device_type(&self) -> Option<&str> {
        Some("demo")
    }
    fn hardware_version(&self) -> Option<&str> {
        Some("1.0")
    }
    fn software_version(&self) -> Option<&str> {
        Some(env!("CARGO_PKG_VERSION"))
    }
    fn battery_status(&self) -> Option<BatteryStatus> {
        Some(BatteryStatus::Normal)
    }
    fn memory_total(&self) -> Option<i64> {
        Some(4096)
    }
}

/// The Device object of the demo: UTC, no error.
pub fn device(endpoint: &str) -> Device<DemoDevice> {
    Device::new(DemoDevice::new(endpoint))
        .with_utc_offset("+00:00")
        .with_timezone("Etc/UTC")
}
