//! The objects of the client under load: Security, Server, a Device with
//! typical values, and a sink with one streaming resource for the Block1
//! write (the Firmware object's /5/0/0 plays that part once it exists).

use lwm2m::core::DmError;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::device::{PowerSource, PowerSourceKind};
use lwm2m::core::objects::{
    Device, Security, SecurityInstance, Server, ServerInstance, StaticDeviceInfo,
};

/// Object id of the sink (private range).
pub const SINK_OID: u16 = 32770;

const SINK: ObjectDef = ObjectDef::new(
    SINK_OID,
    &[ResourceDef::new(0, "Package", Operations::W, DataType::Opaque).streaming()],
);

/// A streaming resource that counts the bytes written and keeps none.
#[derive(Debug, Default)]
pub struct Sink {
    /// Bytes received over every transfer.
    pub received: u64,
}

impl Object for Sink {
    fn def(&self) -> &'static ObjectDef {
        &SINK
    }
    fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Err(DmError::MethodNotAllowed)
    }
    fn write_chunk(
        &mut self,
        _: Iid,
        _: Rid,
        _: usize,
        bytes: &[u8],
        _: bool,
    ) -> Result<(), DmError> {
        self.received += bytes.len() as u64;
        Ok(())
    }
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
