//! The server accounts the client works with, read from the Security (0)
//! and Server (1) objects through the `Object` trait (OMA-TS-LightweightM2M
//! Core 1.1 Appendix E.1, E.2), so any implementation of those objects
//! drives the engine.

use alloc::string::String;
use alloc::vec::Vec;

use crate::dm::oids::{SECURITY, SERVER};
use crate::dm::{Iid, Object, Registry, Rid, Ssid, Value};
use crate::session::SecurityMode;
use crate::time::Duration;

/// One Security instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityAccount {
    /// Its instance id.
    pub iid: Iid,
    /// LwM2M Server URI (0).
    pub uri: String,
    /// Bootstrap-Server (1).
    pub bootstrap: bool,
    /// Security Mode (2).
    pub mode: SecurityMode,
    /// Short Server ID (10); 0 when absent (bootstrap instances).
    pub ssid: Ssid,
    /// Client Hold Off Time (11), seconds.
    pub hold_off: u32,
    /// Bootstrap-Server Account Timeout (12), seconds; 0 = none.
    pub bootstrap_timeout: u32,
}

/// One Server instance, with the defaults of Appendix E.2 filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAccount {
    /// Its instance id.
    pub iid: Iid,
    /// Short Server ID (0).
    pub ssid: Ssid,
    /// Lifetime (1), seconds.
    pub lifetime: u32,
    /// Default Minimum Period (2).
    pub default_pmin: Option<u32>,
    /// Default Maximum Period (3).
    pub default_pmax: Option<u32>,
    /// Disable Timeout (5), seconds (default 86400).
    pub disable_timeout: u32,
    /// Notification Storing When Disabled or Offline (6).
    pub storing: bool,
    /// Binding (7).
    pub binding: String,
    /// Bootstrap on Registration Failure (16), default true.
    pub bootstrap_on_failure: bool,
    /// Communication Retry Count (17), default 5.
    pub retry_count: u32,
    /// Communication Retry Timer (18), default 60 s.
    pub retry_timer: u32,
    /// Communication Sequence Delay Timer (19), default 86400 s.
    pub sequence_delay: u32,
    /// Communication Sequence Retry Count (20), default 1.
    pub sequence_retry_count: u32,
    /// Mute Send (23).
    pub mute_send: bool,
}

impl ServerAccount {
    /// Queue mode: 1.0's `UQ` binding or 1.1's `Q` flag.
    pub fn queue_mode(&self) -> bool {
        self.binding.contains('Q')
    }

    /// The binding as sent in `b=`: the transport letters (1.1 moved `Q`
    /// out of the binding into its own parameter).
    pub fn transport_binding(&self) -> String {
        self.binding.chars().filter(|c| *c != 'Q').collect()
    }

    /// Delay before retry `attempt` (1-based) of a sequence: the retry timer
    /// doubled each time (Core 1.1 §6.2.1.1).
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        Duration::from_secs(u64::from(self.retry_timer).saturating_mul(1u64 << exp))
    }
}

fn read(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<Value<'_>> {
    if obj.def().resource(rid).is_none() || !obj.resource_present(iid, rid) {
        return None;
    }
    obj.read(iid, rid, None).ok()
}

fn int(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<i64> {
    read(obj, iid, rid).and_then(|v| v.as_i64())
}

fn uint32(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<u32> {
    int(obj, iid, rid).and_then(|v| u32::try_from(v).ok())
}

fn boolean(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<bool> {
    read(obj, iid, rid).and_then(|v| v.as_bool())
}

fn string(obj: &dyn Object, iid: Iid, rid: Rid) -> Option<String> {
    read(obj, iid, rid).and_then(|v| v.as_str().map(String::from))
}

fn instances(obj: &dyn Object) -> Vec<Iid> {
    let mut v = Vec::new();
    obj.instances(&mut |i| v.push(i));
    v
}

/// Every Security instance.
pub fn security_accounts(reg: &Registry) -> Vec<SecurityAccount> {
    let Some(obj) = reg.get(SECURITY) else {
        return Vec::new();
    };
    instances(obj)
        .into_iter()
        .filter_map(|iid| {
            Some(SecurityAccount {
                iid,
                uri: string(obj, iid, 0)?,
                bootstrap: boolean(obj, iid, 1).unwrap_or(false),
                mode: SecurityMode::from_resource(int(obj, iid, 2).unwrap_or(3))?,
                ssid: int(obj, iid, 10)
                    .and_then(|v| u16::try_from(v).ok())
                    .unwrap_or(0),
                hold_off: uint32(obj, iid, 11).unwrap_or(0),
                bootstrap_timeout: uint32(obj, iid, 12).unwrap_or(0),
            })
        })
        .collect()
}

/// Every Server instance.
pub fn server_accounts(reg: &Registry) -> Vec<ServerAccount> {
    let Some(obj) = reg.get(SERVER) else {
        return Vec::new();
    };
    instances(obj)
        .into_iter()
        .filter_map(|iid| {
            Some(ServerAccount {
                iid,
                ssid: int(obj, iid, 0).and_then(|v| u16::try_from(v).ok())?,
                lifetime: uint32(obj, iid, 1).unwrap_or(86400).max(1),
                default_pmin: uint32(obj, iid, 2),
                default_pmax: uint32(obj, iid, 3).filter(|p| *p > 0),
                disable_timeout: uint32(obj, iid, 5).unwrap_or(86400),
                storing: boolean(obj, iid, 6).unwrap_or(false),
                binding: string(obj, iid, 7).unwrap_or_else(|| String::from("U")),
                bootstrap_on_failure: boolean(obj, iid, 16).unwrap_or(true),
                retry_count: uint32(obj, iid, 17).unwrap_or(5).max(1),
                retry_timer: uint32(obj, iid, 18).unwrap_or(60),
                sequence_delay: uint32(obj, iid, 19).unwrap_or(86400),
                sequence_retry_count: uint32(obj, iid, 20).unwrap_or(1).max(1),
                mute_send: boolean(obj, iid, 23).unwrap_or(false),
            })
        })
        .collect()
}

/// The Short Server ID of Server instance `iid`.
pub fn ssid_of_server_instance(reg: &Registry, iid: Iid) -> Option<Ssid> {
    let obj = reg.get(SERVER)?;
    int(obj, iid, 0).and_then(|v| u16::try_from(v).ok())
}

/// Key material of Security instance `iid`: identity (3), server public
/// key (4), secret key (5), certificate usage (15).
pub struct KeyMaterial<'a> {
    /// Public Key or Identity.
    pub identity: Value<'a>,
    /// Server Public Key.
    pub server_key: Value<'a>,
    /// Secret Key.
    pub secret: Value<'a>,
    /// Certificate Usage, if set.
    pub certificate_usage: Option<i64>,
}

/// Reads the key material of Security instance `iid`.
pub fn key_material(reg: &Registry, iid: Iid) -> Option<KeyMaterial<'_>> {
    let obj = reg.get(SECURITY)?;
    let empty = || Value::bytes(&[]);
    Some(KeyMaterial {
        identity: read(obj, iid, 3).unwrap_or_else(empty),
        server_key: read(obj, iid, 4).unwrap_or_else(empty),
        secret: read(obj, iid, 5).unwrap_or_else(empty),
        certificate_usage: int(obj, iid, 15),
    })
}
