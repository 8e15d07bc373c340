//! The objects of the client under load: Security, Server, a Device with
//! typical values, and the Firmware Update object over an application that
//! keeps no package, for the Block1 write to its streaming /5/0/0.

use lwm2m::core::objects::device::{PowerSource, PowerSourceKind};
use lwm2m::core::objects::firmware::{Applied, FirmwareError};
use lwm2m::core::objects::{
    Device, Firmware, FirmwareApp, Security, SecurityInstance, Server, ServerInstance,
    StaticDeviceInfo,
};

/// Firmware steps that store nothing: the package's bytes are counted and
/// dropped, so the benchmark measures the protocol, not a flash.
#[derive(Debug, Default)]
pub struct Discard {
    /// Bytes received over every package.
    pub received: u64,
}

impl FirmwareApp for Discard {
    fn open(&mut self, _: Option<u64>) -> Result<(), FirmwareError> {
        Ok(())
    }
    fn write(&mut self, _: u64, bytes: &[u8]) -> Result<(), FirmwareError> {
        self.received += bytes.len() as u64;
        Ok(())
    }
    fn apply(&mut self) -> Result<Applied, FirmwareError> {
        Ok(Applied::Done)
    }
    fn reset(&mut self) {}
}

/// The Firmware Update object over [`Discard`].
pub fn firmware() -> Firmware {
    Firmware::new(Discard::default())
}

/// Device values of a typical small device: /3/0 in TLV is about 120 bytes.
pub fn device() -> Device<StaticDeviceInfo> {
    Device::new(StaticDeviceInfo {
        manufacturer: Some("Open Mobile Alliance".into()),
        model_number: Some("Lightweight M2M Client".into()),
        serial_number: Some("345000123".into()),
        firmware_version: Some("1.0".into()),
        power_sources: vec![
            PowerSource {
                kind: PowerSourceKind::Dc,
                voltage_mv: Some(5000),
                current_ma: Some(150),
            },
            PowerSource {
                kind: PowerSourceKind::InternalBattery,
                voltage_mv: Some(3800),
                current_ma: Some(125),
            },
        ],
        battery_level: Some(100),
        memory_free: Some(15),
        current_time: Some(1_367_491_215),
        supported_binding_modes: "U".into(),
        ..StaticDeviceInfo::default()
    })
}

/// The Security and Server objects of one DM server account (SSID 1) at
/// `uri`, with a lifetime long enough that no Update falls in a run.
pub fn account(uri: &str) -> (Security, Server) {
    (
        Security::default().with(SecurityInstance::server(0, 1, uri)),
        Server::default().with(ServerInstance::new(0, 1, 86_400)),
    )
}
