//! Building clients for simulations: the factory configuration (Security,
//! Server and Device objects) for a list of DM servers or a
//! Bootstrap-Server, in a few lines per test.

use lwm2m_core::client::{Client, ConfigError};
use lwm2m_core::config::Config;
use lwm2m_core::dm::Ssid;
use lwm2m_core::objects::{
    Device, Security, SecurityInstance, Server, ServerInstance, StaticDeviceInfo,
};
use lwm2m_core::time::Instant;

/// One DM server account of the factory configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Short Server ID.
    pub ssid: Ssid,
    /// Server URI (`coap://host:port`).
    pub uri: String,
    /// Lifetime, seconds.
    pub lifetime: i64,
    /// Binding (`"U"`, `"UQ"`).
    pub binding: String,
    /// Notification Storing When Disabled or Offline (/1/x/6).
    pub storing: bool,
    /// Mute Send (/1/x/23); absent means muted (Core 1.1 E.2), so the
    /// factory configuration sets it.
    pub mute_send: bool,
}

impl Account {
    /// Server `ssid` at `uri`, lifetime one day, binding U, storing on.
    pub fn new(ssid: Ssid, uri: &str) -> Account {
        Account {
            ssid,
            uri: uri.into(),
            lifetime: 86_400,
            binding: "U".into(),
            storing: true,
            mute_send: false,
        }
    }

    /// With a lifetime.
    pub fn lifetime(mut self, seconds: i64) -> Account {
        self.lifetime = seconds;
        self
    }

    /// With a binding.
    pub fn binding(mut self, b: &str) -> Account {
        self.binding = b.into();
        self
    }

    /// With Notification Storing set to `on`.
    pub fn storing(mut self, on: bool) -> Account {
        self.storing = on;
        self
    }
}

/// A client with Security, Server and Device objects for `accounts`
/// (Security instance i and Server instance i for account i) and, if
/// given, a Bootstrap-Server account (Security instance `accounts.len()`).
pub fn client(
    config: Config,
    now: Instant,
    seed: u64,
    accounts: &[Account],
    bootstrap: Option<&str>,
) -> Result<Client, ConfigError> {
    let mut c = Client::new(config, now, seed)?;
    let n = accounts.len() + 1;
    let mut sec = Security::new(n.max(4));
    let mut srv = Server::new(n.max(4));
    for (i, a) in accounts.iter().enumerate() {
        let iid = u16::try_from(i).unwrap_or(u16::MAX - 1);
        sec.insert(SecurityInstance::server(iid, a.ssid, &a.uri));
        let mut s = ServerInstance::new(iid, a.ssid, a.lifetime).with_binding(&a.binding);
        s.notification_storing = a.storing;
        s.mute_send = Some(a.mute_send);
        srv.insert(s);
    }
    if let Some(uri) = bootstrap {
        let iid = u16::try_from(accounts.len()).unwrap_or(u16::MAX - 1);
        sec.insert(SecurityInstance::bootstrap(iid, uri));
    }
    // A fresh client's registry is empty: adding cannot clash.
    let _ = c.add_object(sec);
    let _ = c.add_object(srv);
    let _ = c.add_object(Device::new(StaticDeviceInfo::default()));
    Ok(c)
}
