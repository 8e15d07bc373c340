//! The Connectivity Monitoring object (ID 4; OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.5; resource table of object version 1.2 as in Eclipse Leshan
//! `leshan-core/src/main/resources/models/LWM2M_Connectivity_Monitoring-v1_2.xml`,
//! resources 0–12): a single read-only instance the application feeds
//! with setters. After changing a value the application calls the client's
//! `notify_changed` for it, as for any object of its own.

use alloc::string::String;
use alloc::vec::Vec;

use crate::dm::{DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value};
use crate::error::DmError;

/// Resource ids (E.5).
pub mod rid {
    use crate::dm::Rid;
    /// Network Bearer.
    pub const NETWORK_BEARER: Rid = 0;
    /// Available Network Bearer (multiple).
    pub const AVAILABLE_NETWORK_BEARER: Rid = 1;
    /// Radio Signal Strength (dBm).
    pub const RADIO_SIGNAL_STRENGTH: Rid = 2;
    /// Link Quality.
    pub const LINK_QUALITY: Rid = 3;
    /// IP Addresses (multiple).
    pub const IP_ADDRESSES: Rid = 4;
    /// Router IP Addresses (multiple).
    pub const ROUTER_IP_ADDRESSES: Rid = 5;
    /// Link Utilization (%).
    pub const LINK_UTILIZATION: Rid = 6;
    /// APN (multiple).
    pub const APN: Rid = 7;
    /// Cell ID.
    pub const CELL_ID: Rid = 8;
    /// SMNC.
    pub const SMNC: Rid = 9;
    /// SMCC.
    pub const SMCC: Rid = 10;
    /// SignalSNR (dB, 1.1).
    pub const SIGNAL_SNR: Rid = 11;
    /// LAC (1.2).
    pub const LAC: Rid = 12;
}

const R: Operations = Operations::R;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, "Network Bearer", R, DataType::Integer).mandatory(),
    ResourceDef::new(1, "Available Network Bearer", R, DataType::Integer)
        .multiple()
        .mandatory(),
    ResourceDef::new(2, "Radio Signal Strength", R, DataType::Integer).mandatory(),
    ResourceDef::new(3, "Link Quality", R, DataType::Integer),
    ResourceDef::new(4, "IP Addresses", R, DataType::String)
        .multiple()
        .mandatory(),
    ResourceDef::new(5, "Router IP Addresses", R, DataType::String).multiple(),
    ResourceDef::new(6, "Link Utilization", R, DataType::Integer),
    ResourceDef::new(7, "APN", R, DataType::String).multiple(),
    ResourceDef::new(8, "Cell ID", R, DataType::Integer),
    ResourceDef::new(9, "SMNC", R, DataType::Integer),
    ResourceDef::new(10, "SMCC", R, DataType::Integer),
    ResourceDef::new(11, "SignalSNR", R, DataType::Integer),
    ResourceDef::new(12, "LAC", R, DataType::Integer),
];

/// The object definition (E.5, version 1.2).
pub const DEF: ObjectDef = ObjectDef::new(4, RESOURCES).version(1, 2);

/// Network Bearer values (resource 0 and 1; 0–20 cellular, 21–40
/// wireless, 41–50 wireline).
pub mod bearer {
    /// GSM.
    pub const GSM: i64 = 0;
    /// TD-SCDMA.
    pub const TD_SCDMA: i64 = 1;
    /// WCDMA.
    pub const WCDMA: i64 = 2;
    /// CDMA2000.
    pub const CDMA2000: i64 = 3;
    /// WiMAX.
    pub const WIMAX: i64 = 4;
    /// LTE-TDD.
    pub const LTE_TDD: i64 = 5;
    /// LTE-FDD.
    pub const LTE_FDD: i64 = 6;
    /// NB-IoT.
    pub const NB_IOT: i64 = 7;
    /// WLAN.
    pub const WLAN: i64 = 21;
    /// Bluetooth.
    pub const BLUETOOTH: i64 = 22;
    /// IEEE 802.15.4.
    pub const IEEE_802_15_4: i64 = 23;
    /// Ethernet.
    pub const ETHERNET: i64 = 41;
    /// DSL.
    pub const DSL: i64 = 42;
    /// PLC.
    pub const PLC: i64 = 43;
}

/// The Connectivity Monitoring object: the values the application last
/// set. Optional resources are absent until set (multiple ones while
/// empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectivityMonitoring {
    network_bearer: i64,
    available_bearers: Vec<i64>,
    radio_signal_strength: i64,
    link_quality: Option<i64>,
    ip_addresses: Vec<String>,
    router_ip_addresses: Vec<String>,
    link_utilization: Option<i64>,
    apns: Vec<String>,
    cell_id: Option<i64>,
    smnc: Option<i64>,
    smcc: Option<i64>,
    signal_snr: Option<i64>,
    lac: Option<i64>,
}

impl ConnectivityMonitoring {
    /// The object for the current `bearer` (also listed as available),
    /// with signal strength 0 and no IP address.
    pub fn new(bearer: i64) -> ConnectivityMonitoring {
        ConnectivityMonitoring {
            network_bearer: bearer,
            available_bearers: alloc::vec![bearer],
            ..ConnectivityMonitoring::default()
        }
    }

    /// Network Bearer (0).
    pub fn set_network_bearer(&mut self, bearer: i64) -> &mut Self {
        self.network_bearer = bearer;
        self
    }
    /// Available Network Bearer (1).
    pub fn set_available_bearers(&mut self, bearers: &[i64]) -> &mut Self {
        self.available_bearers = bearers.to_vec();
        self
    }
    /// Radio Signal Strength (2), dBm.
    pub fn set_radio_signal_strength(&mut self, dbm: i64) -> &mut Self {
        self.radio_signal_strength = dbm;
        self
    }
    /// Link Quality (3).
    pub fn set_link_quality(&mut self, q: Option<i64>) -> &mut Self {
        self.link_quality = q;
        self
    }
    /// IP Addresses (4).
    pub fn set_ip_addresses<S: AsRef<str>>(&mut self, addrs: &[S]) -> &mut Self {
        self.ip_addresses = addrs.iter().map(|a| a.as_ref().into()).collect();
        self
    }
    /// Router IP Addresses (5).
    pub fn set_router_ip_addresses<S: AsRef<str>>(&mut self, addrs: &[S]) -> &mut Self {
        self.router_ip_addresses = addrs.iter().map(|a| a.as_ref().into()).collect();
        self
    }
    /// Link Utilization (6), %.
    pub fn set_link_utilization(&mut self, pct: Option<i64>) -> &mut Self {
        self.link_utilization = pct;
        self
    }
    /// APN (7).
    pub fn set_apns<S: AsRef<str>>(&mut self, apns: &[S]) -> &mut Self {
        self.apns = apns.iter().map(|a| a.as_ref().into()).collect();
        self
    }
    /// Cell ID (8).
    pub fn set_cell_id(&mut self, id: Option<i64>) -> &mut Self {
        self.cell_id = id;
        self
    }
    /// SMNC (9) and SMCC (10).
    pub fn set_mobile_codes(&mut self, smnc: Option<i64>, smcc: Option<i64>) -> &mut Self {
        self.smnc = smnc;
        self.smcc = smcc;
        self
    }
    /// SignalSNR (11), dB.
    pub fn set_signal_snr(&mut self, snr: Option<i64>) -> &mut Self {
        self.signal_snr = snr;
        self
    }
    /// LAC (12).
    pub fn set_lac(&mut self, lac: Option<i64>) -> &mut Self {
        self.lac = lac;
        self
    }

    /// Network Bearer.
    pub fn network_bearer(&self) -> i64 {
        self.network_bearer
    }
    /// Radio Signal Strength.
    pub fn radio_signal_strength(&self) -> i64 {
        self.radio_signal_strength
    }
    /// IP Addresses.
    pub fn ip_addresses(&self) -> &[String] {
        &self.ip_addresses
    }

    fn single(&self, rid: Rid) -> Option<i64> {
        match rid {
            rid::NETWORK_BEARER => Some(self.network_bearer),
            rid::RADIO_SIGNAL_STRENGTH => Some(self.radio_signal_strength),
            rid::LINK_QUALITY => self.link_quality,
            rid::LINK_UTILIZATION => self.link_utilization,
            rid::CELL_ID => self.cell_id,
            rid::SMNC => self.smnc,
            rid::SMCC => self.smcc,
            rid::SIGNAL_SNR => self.signal_snr,
            rid::LAC => self.lac,
            _ => None,
        }
    }

    fn strings(&self, rid: Rid) -> Option<&[String]> {
        match rid {
            rid::IP_ADDRESSES => Some(&self.ip_addresses),
            rid::ROUTER_IP_ADDRESSES => Some(&self.router_ip_addresses),
            rid::APN => Some(&self.apns),
            _ => None,
        }
    }

    fn count(&self, rid: Rid) -> Option<usize> {
        match rid {
            rid::AVAILABLE_NETWORK_BEARER => Some(self.available_bearers.len()),
            _ => self.strings(rid).map(<[String]>::len),
        }
    }
}

impl Object for ConnectivityMonitoring {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    /// Mandatory resources are always present (an empty list reads as
    /// nothing); optional ones when set.
    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        iid == 0
            && match rid {
                rid::AVAILABLE_NETWORK_BEARER | rid::IP_ADDRESSES => true,
                rid::ROUTER_IP_ADDRESSES | rid::APN => self.count(rid).unwrap_or(0) > 0,
                _ => self.single(rid).is_some(),
            }
    }

    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if iid != 0 {
            return;
        }
        let n = self.count(rid).unwrap_or(0);
        (0..n).filter_map(|i| Riid::try_from(i).ok()).for_each(each);
    }

    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        let at = riid.map(usize::from);
        let v = match rid {
            rid::AVAILABLE_NETWORK_BEARER => at
                .and_then(|a| self.available_bearers.get(a))
                .map(|b| Value::Integer(*b)),
            rid::IP_ADDRESSES | rid::ROUTER_IP_ADDRESSES | rid::APN => at
                .and_then(|a| self.strings(rid)?.get(a))
                .map(|s| Value::str(s)),
            _ => self.single(rid).map(Value::Integer),
        };
        v.ok_or(DmError::NotFound)
    }
}

#[cfg(test)]
#[path = "connectivity_tests.rs"]
mod tests;
