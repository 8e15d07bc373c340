//! The smallest LwM2M client: one object, the ready-made event loop, and a
//! De-register on Ctrl-C.
//!
//! ```text
//! cargo run -p lwm2m --example minimal -- coap://127.0.0.1:5683
//! ```

use std::time::Duration;

use lwm2m::core::DmError;
use lwm2m::core::config::Config;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::{Security, SecurityInstance, Server, ServerInstance};
use lwm2m::{Driver, Exit};

/// A temperature sensor (IPSO object 3303) that always reads 21.5 °C.
struct Temperature;

const TEMPERATURE: ObjectDef = ObjectDef::new(
    3303,
    &[
        ResourceDef::new(5700, "Sensor Value", Operations::R, DataType::Float).mandatory(),
        ResourceDef::new(5701, "Sensor Units", Operations::R, DataType::String),
    ],
)
.multiple();

impl Object for Temperature {
    fn def(&self) -> &'static ObjectDef {
        &TEMPERATURE
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Ok(if rid == 5700 {
            Value::Float(21.5)
        } else {
            Value::str("Cel")
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args().nth(1);
    let server = server.as_deref().unwrap_or("coap://127.0.0.1:5683");

    let mut client = Driver::new(Config::new("minimal-rs"))?;
    // One DM server account: Security and Server instance 0, Short Server ID 1.
    client.add_object(Security::default().with(SecurityInstance::server(0, 1, server)))?;
    client.add_object(Server::default().with(ServerInstance::new(0, 1, 60)))?;
    client.add_object(Temperature)?;

    // Ctrl-C writes one byte to the driver's interrupt pipe.
    let stop = client.interrupt_handle().try_clone_fd()?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, stop)?;

    while client.event_loop_run(Duration::from_secs(1))? == Exit::Elapsed {
        while let Some(event) = client.poll_event() {
            println!("{event:?}");
        }
    }
    let clean = client.shutdown(Duration::from_secs(10))?;
    println!("de-registered: {clean}");
    Ok(())
}
