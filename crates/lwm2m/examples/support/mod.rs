//! A Security (0) and a Server (1) object holding one NoSec server account
//! (OMA-TS-LightweightM2M_Core 1.1 Appendix E.1, E.2): the few resources
//! the engine reads to register. Stand-ins until the built-in objects of
//! `lwm2m::core::objects` land; then `add_server` becomes two lines.

use lwm2m::Driver;
use lwm2m::core::DmError;
use lwm2m::core::dm::{
    DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value,
};

const SECURITY: ObjectDef = ObjectDef::new(
    0,
    &[
        ResourceDef::new(0, "LWM2M Server URI", Operations::None, DataType::String).mandatory(),
        ResourceDef::new(1, "Bootstrap-Server", Operations::None, DataType::Boolean).mandatory(),
        ResourceDef::new(2, "Security Mode", Operations::None, DataType::Integer).mandatory(),
        ResourceDef::new(10, "Short Server ID", Operations::None, DataType::Integer),
    ],
)
.multiple()
.mandatory();

const SERVER: ObjectDef = ObjectDef::new(
    1,
    &[
        ResourceDef::new(0, "Short Server ID", Operations::R, DataType::Integer).mandatory(),
        ResourceDef::new(1, "Lifetime", Operations::R, DataType::Integer).mandatory(),
        ResourceDef::new(7, "Binding", Operations::R, DataType::String).mandatory(),
        ResourceDef::new(
            8,
            "Registration Update Trigger",
            Operations::E,
            DataType::None,
        )
        .mandatory(),
    ],
)
.multiple()
.mandatory();

/// Security instance 0: a NoSec (mode 3) DM server at `uri`.
pub struct Security {
    uri: String,
    ssid: u16,
}

impl Object for Security {
    fn def(&self) -> &'static ObjectDef {
        &SECURITY
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            0 => Ok(Value::str(&self.uri)),
            1 => Ok(Value::Boolean(false)),
            2 => Ok(Value::Integer(3)),
            10 => Ok(Value::Integer(self.ssid.into())),
            _ => Err(DmError::NotFound),
        }
    }
}

/// Server instance 0: its Short Server ID, lifetime and UDP binding.
pub struct Server {
    ssid: u16,
    lifetime: u32,
}

impl Object for Server {
    fn def(&self) -> &'static ObjectDef {
        &SERVER
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            0 => Ok(Value::Integer(self.ssid.into())),
            1 => Ok(Value::Integer(self.lifetime.into())),
            7 => Ok(Value::str("U")),
            _ => Err(DmError::NotFound),
        }
    }
    /// The engine sends the Update itself (Core 1.1 E.2, resource 8).
    fn execute(&mut self, _: Iid, rid: Rid, _: ExecuteArgs<'_>) -> Result<(), DmError> {
        match rid {
            8 => Ok(()),
            _ => Err(DmError::MethodNotAllowed),
        }
    }
}

/// Adds a DM server account: server `uri` (`coap://host:port`), Short
/// Server ID `ssid`, registration lifetime `lifetime` seconds.
pub fn add_server(
    driver: &mut Driver,
    uri: &str,
    ssid: u16,
    lifetime: u32,
) -> Result<(), lwm2m::Error> {
    driver.add_object(Security {
        uri: uri.into(),
        ssid,
    })?;
    driver.add_object(Server { ssid, lifetime })?;
    Ok(())
}
