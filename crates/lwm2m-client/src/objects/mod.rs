//! The demo's data model: the built-in objects of `lwm2m_core::objects`
//! with the factory configuration the command line describes, plus the
//! simulated sensor and the Test object.
//!
//! | object | source |
//! |---|---|
//! | Security (0), Server (1), Access Control (2) | factory configuration ([`Factory`]), then the state file or a Bootstrap-Server |
//! | Device (3) | [`device::DemoDevice`] |
//! | Firmware Update (5) | the built-in state machine over [`firmware::DemoFirmware`] (PUSH, PULL over `coap://`) |
//! | Connectivity Monitoring (4), Location (6) | fixed demo values |
//! | Temperature (3303) | [`temperature::Temperature`], a random walk |
//! | Test (32769) | [`test_object::TestObject`] |

pub mod device;
pub mod firmware;
pub mod temperature;
pub mod test_object;

use std::time::Duration;

use lwm2m::Driver;
use lwm2m::core::dm::{AccessMask, Handle, Oid, Path, Ssid, oids};
use lwm2m::core::objects::connectivity::bearer;
use lwm2m::core::objects::firmware::Protocol;
use lwm2m::core::objects::{
    AccessControl, AclInstance, ConnectivityMonitoring, Device, Firmware, Location, Security,
    SecurityInstance, Server, ServerInstance,
};

use device::DemoDevice;
use firmware::DemoFirmware;
use temperature::Temperature;
use test_object::TestObject;

/// The factory configuration: where the client goes when nothing else
/// (state file, Bootstrap-Server) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factory {
    /// DM server URIs; server `i` gets Short Server ID `i + 1`.
    pub servers: Vec<String>,
    /// The first URI is the Bootstrap-Server's instead.
    pub bootstrap: bool,
    /// Registration lifetime, seconds.
    pub lifetime: u32,
    /// Binding (`U` or `UQ`).
    pub binding: String,
}

/// The Short Server ID of the `i`-th `--server`.
pub fn ssid_of(i: usize) -> Ssid {
    u16::try_from(i).map_or(Ssid::MAX - 1, |i| i.saturating_add(1))
}

/// The objects the application reaches while it runs.
#[derive(Clone, Copy, Debug)]
pub struct Handles {
    /// Device (3).
    pub device: Handle<Device<DemoDevice>>,
    /// Firmware Update (5).
    pub firmware: Handle<Firmware>,
    /// Temperature (3303).
    pub temperature: Handle<Temperature>,
    /// Test object (32769).
    pub test: Handle<TestObject>,
}

/// Fixed position of the demo device (the Eiffel Tower).
const LATITUDE: f64 = 48.8584;
const LONGITUDE: f64 = 2.2945;

/// Adds every object to `driver`, Security / Server / Access Control with
/// the factory configuration. `seed` fixes the temperature's walk,
/// `period` its pace.
pub fn install(
    driver: &mut Driver,
    factory: &Factory,
    endpoint: &str,
    seed: u64,
    period: Duration,
) -> Result<Handles, lwm2m::Error> {
    let (security, server, acl) = factory_objects(factory);
    driver.add_object(security)?;
    driver.add_object(server)?;
    driver.add_object(acl)?;
    let device = driver.add_object(device::device(endpoint))?;
    // PULL over coap:// only: the demo has no DTLS credentials yet.
    let firmware = driver
        .add_object(Firmware::new(DemoFirmware::default()).with_protocols(&[Protocol::Coap]))?;
    let mut conn = ConnectivityMonitoring::new(bearer::ETHERNET);
    conn.set_ip_addresses(&["127.0.0.1"]);
    driver.add_object(conn)?;
    driver.add_object(Location::new(LATITUDE, LONGITUDE, 0))?;
    let temperature = driver.add_object(Temperature::new(seed, period))?;
    let test = driver.add_object(TestObject::new())?;
    Ok(Handles {
        device,
        firmware,
        temperature,
        test,
    })
}

/// Instances every server may use when there are several (Core 1.1 §7.3:
/// with more than one server, each instance needs an Access Control
/// instance), owned by the first server: `(object, instance)`, and
/// `(object, 65535)` for the right to Create.
const SHARED: &[(Oid, u16)] = &[
    (oids::DEVICE, 0),
    (4, 0),
    (oids::FIRMWARE_UPDATE, 0),
    (6, 0),
    (temperature::OID, 0),
    (test_object::OID, 0),
    (test_object::OID, u16::MAX),
];

/// Security, Server and Access Control with the factory configuration.
pub fn factory_objects(f: &Factory) -> (Security, Server, AccessControl) {
    let mut security = Security::default();
    let mut server = Server::default();
    let mut acl = AccessControl::default();
    if f.bootstrap {
        if let Some(uri) = f.servers.first() {
            security.insert(SecurityInstance::bootstrap(0, uri));
        }
        return (security, server, acl);
    }
    for (i, uri) in f.servers.iter().enumerate() {
        let ssid = ssid_of(i);
        let iid = ssid - 1;
        security.insert(SecurityInstance::server(iid, ssid, uri));
        server
            .insert(ServerInstance::new(iid, ssid, i64::from(f.lifetime)).with_binding(&f.binding));
    }
    if f.servers.len() > 1 {
        let owner = ssid_of(0);
        let mut next = 0;
        for &(oid, iid) in SHARED {
            let mask = if iid == u16::MAX {
                AccessMask::CREATE
            } else {
                AccessMask::INSTANCE_FULL
            };
            // ACL resource instance 0 is the default for every server.
            acl.insert(AclInstance::new(next, oid, iid, owner).with(0, mask.0));
            next += 1;
        }
        // Each server manages its own Server instance.
        for i in 0..f.servers.len() {
            let ssid = ssid_of(i);
            acl.insert(
                AclInstance::new(next, oids::SERVER, ssid - 1, ssid)
                    .with(ssid, AccessMask::INSTANCE_FULL.0),
            );
            next += 1;
        }
    }
    (security, server, acl)
}

/// Updates the values that follow the clock (the device's Current Time,
/// the Test object's Timestamp, the temperature walk) and those the
/// objects changed on their own (Increment Counter, Reset Min/Max, an
/// installed firmware's version). Calls `changed` with each path whose
/// value changed (Current Time and Timestamp are not notified: they change
/// every second by nature).
pub fn tick(
    driver: &mut Driver,
    h: &Handles,
    unix: i64,
    elapsed: Duration,
    changed: &mut dyn FnMut(Path),
) {
    let installed = driver
        .object_mut(h.firmware)
        .and_then(|f| f.app_mut::<DemoFirmware>())
        .and_then(|f| {
            f.set_time(unix);
            f.take_installed()
        });
    if let Some(d) = driver.object_mut(h.device) {
        d.info_mut().set_time(unix);
        if let Some(v) = installed {
            // The new firmware runs: the Device object says so.
            d.info_mut().set_firmware_version(v);
            changed(Path::resource(oids::DEVICE, 0, 3));
        }
    }
    if let Some(t) = driver.object_mut(h.test) {
        t.set_time(unix);
        t.take_changes(changed);
    }
    if let Some(t) = driver.object_mut(h.temperature) {
        t.advance(elapsed);
        t.take_changes(changed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m::core::dm::Object;

    fn factory(servers: &[&str], bootstrap: bool) -> Factory {
        Factory {
            servers: servers.iter().map(|s| s.to_string()).collect(),
            bootstrap,
            lifetime: 120,
            binding: "UQ".into(),
        }
    }

    fn count(o: &dyn Object) -> usize {
        let mut n = 0;
        o.instances(&mut |_| n += 1);
        n
    }

    #[test]
    fn one_server_has_no_acl() {
        let (sec, srv, acl) = factory_objects(&factory(&["coap://127.0.0.1:5683"], false));
        assert_eq!(sec.get(0).unwrap().ssid, Some(1));
        assert_eq!(sec.get(0).unwrap().uri, "coap://127.0.0.1:5683");
        let s = srv.get(0).unwrap();
        assert_eq!((s.ssid, s.lifetime, s.binding.as_str()), (1, 120, "UQ"));
        assert_eq!(count(&acl), 0);
        assert!(sec.first_invalid().is_none() && srv.first_invalid().is_none());
    }

    #[test]
    fn two_servers_share_the_objects_through_acls() {
        let (sec, srv, acl) = factory_objects(&factory(
            &["coap://127.0.0.1:1", "coap://127.0.0.1:2"],
            false,
        ));
        assert_eq!(count(&sec), 2);
        assert_eq!(srv.get(1).unwrap().ssid, 2);
        let create = acl
            .entries()
            .iter()
            .find(|a| a.target_oid == test_object::OID && a.target_iid == u16::MAX)
            .unwrap();
        assert_eq!(create.acl, vec![(0, AccessMask::CREATE.0)]);
        let own = acl
            .entries()
            .iter()
            .find(|a| a.target_oid == oids::SERVER && a.target_iid == 1)
            .unwrap();
        assert_eq!(own.owner, 2);
    }

    #[test]
    fn bootstrap_has_only_the_bootstrap_account() {
        let (sec, srv, _) = factory_objects(&factory(&["coap://127.0.0.1:5783"], true));
        let b = sec.get(0).unwrap();
        assert!(b.bootstrap && b.ssid.is_none());
        assert_eq!(count(&srv), 0);
    }
}
