//! The resource types of the standard objects the server knows
//! (OMA-TS-LightweightM2M_Core 1.1 Appendix E for 0–7, the OMNA registry for
//! 3303), so that formats without types on the wire (Plain Text, TLV) decode
//! into typed values, and a person can write `write ep /1/0/1 300` without
//! naming the type. Unknown resources decode as TLV opaque / text string.

use lwm2m_core::content::TypeResolver;
use lwm2m_core::dm::{DataType, Path};

/// One resource's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    /// Resource ID.
    pub id: u16,
    /// Name for display.
    pub name: &'static str,
    /// Data type ([`DataType::None`] for executables).
    pub ty: DataType,
    /// Whether it has resource instances.
    pub multiple: bool,
}

/// One object's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectDef {
    /// Object ID.
    pub id: u16,
    /// Name.
    pub name: &'static str,
    /// Resources.
    pub resources: &'static [ResourceDef],
}

const fn r(id: u16, name: &'static str, ty: DataType) -> ResourceDef {
    ResourceDef {
        id,
        name,
        ty,
        multiple: false,
    }
}

const fn m(id: u16, name: &'static str, ty: DataType) -> ResourceDef {
    ResourceDef {
        id,
        name,
        ty,
        multiple: true,
    }
}

use DataType::{
    Boolean as B, Float as F, Integer as I, None as E, Objlnk as L, Opaque as O, String as S,
    Time as T, UnsignedInteger as U,
};

const SECURITY: &[ResourceDef] = &[
    r(0, "LwM2M Server URI", S),
    r(1, "Bootstrap-Server", B),
    r(2, "Security Mode", I),
    r(3, "Public Key or Identity", O),
    r(4, "Server Public Key", O),
    r(5, "Secret Key", O),
    r(6, "SMS Security Mode", I),
    r(7, "SMS Binding Key Parameters", O),
    r(8, "SMS Binding Secret Key(s)", O),
    r(9, "LwM2M Server SMS Number", S),
    r(10, "Short Server ID", I),
    r(11, "Client Hold Off Time", I),
    r(12, "Bootstrap-Server Account Timeout", I),
    r(13, "Matching Type", U),
    r(14, "SNI", S),
    r(15, "Certificate Usage", U),
    m(16, "DTLS/TLS Ciphersuite", U),
    r(17, "OSCORE Security Mode", L),
];

const SERVER: &[ResourceDef] = &[
    r(0, "Short Server ID", I),
    r(1, "Lifetime", I),
    r(2, "Default Minimum Period", I),
    r(3, "Default Maximum Period", I),
    r(4, "Disable", E),
    r(5, "Disable Timeout", I),
    r(6, "Notification Storing When Disabled or Offline", B),
    r(7, "Binding", S),
    r(8, "Registration Update Trigger", E),
    r(9, "Bootstrap-Request Trigger", E),
    r(10, "APN Link", L),
    r(11, "TLS-DTLS Alert Code", U),
    r(12, "Last Bootstrapped", T),
    r(13, "Registration Priority Order", U),
    r(14, "Initial Registration Delay Timer", U),
    r(15, "Registration Failure Block", B),
    r(16, "Bootstrap on Registration Failure", B),
    r(17, "Communication Retry Count", U),
    r(18, "Communication Retry Timer", U),
    r(19, "Communication Sequence Delay Timer", U),
    r(20, "Communication Sequence Retry Count", U),
    r(21, "Trigger", B),
    r(22, "Preferred Transport", S),
    r(23, "Mute Send", B),
];

const ACCESS_CONTROL: &[ResourceDef] = &[
    r(0, "Object ID", I),
    r(1, "Object Instance ID", I),
    m(2, "ACL", I),
    r(3, "Access Control Owner", I),
];

const DEVICE: &[ResourceDef] = &[
    r(0, "Manufacturer", S),
    r(1, "Model Number", S),
    r(2, "Serial Number", S),
    r(3, "Firmware Version", S),
    r(4, "Reboot", E),
    r(5, "Factory Reset", E),
    m(6, "Available Power Sources", I),
    m(7, "Power Source Voltage", I),
    m(8, "Power Source Current", I),
    r(9, "Battery Level", I),
    r(10, "Memory Free", I),
    m(11, "Error Code", I),
    r(12, "Reset Error Code", E),
    r(13, "Current Time", T),
    r(14, "UTC Offset", S),
    r(15, "Timezone", S),
    r(16, "Supported Binding and Modes", S),
    r(17, "Device Type", S),
    r(18, "Hardware Version", S),
    r(19, "Software Version", S),
    r(20, "Battery Status", I),
    r(21, "Memory Total", I),
    m(22, "ExtDevInfo", L),
];

const CONNECTIVITY: &[ResourceDef] = &[
    r(0, "Network Bearer", I),
    m(1, "Available Network Bearer", I),
    r(2, "Radio Signal Strength", I),
    r(3, "Link Quality", I),
    m(4, "IP Addresses", S),
    m(5, "Router IP Addresses", S),
    r(6, "Link Utilization", I),
    m(7, "APN", S),
    r(8, "Cell ID", I),
    r(9, "SMNC", I),
    r(10, "SMCC", I),
    r(11, "SignalSNR", I),
    r(12, "LAC", I),
];

const FIRMWARE: &[ResourceDef] = &[
    r(0, "Package", O),
    r(1, "Package URI", S),
    r(2, "Update", E),
    r(3, "State", I),
    r(5, "Update Result", I),
    r(6, "PkgName", S),
    r(7, "PkgVersion", S),
    m(8, "Firmware Update Protocol Support", I),
    r(9, "Firmware Update Delivery Method", I),
];

const LOCATION: &[ResourceDef] = &[
    r(0, "Latitude", F),
    r(1, "Longitude", F),
    r(2, "Altitude", F),
    r(3, "Radius", F),
    r(4, "Velocity", O),
    r(5, "Timestamp", T),
    r(6, "Speed", F),
];

const TEMPERATURE: &[ResourceDef] = &[
    r(5601, "Min Measured Value", F),
    r(5602, "Max Measured Value", F),
    r(5603, "Min Range Value", F),
    r(5604, "Max Range Value", F),
    r(5605, "Reset Min and Max Measured Values", E),
    r(5700, "Sensor Value", F),
    r(5701, "Sensor Units", S),
    r(5750, "Application Type", S),
];

/// The project's interoperability Test object (issue 5: private range).
const TEST: &[ResourceDef] = &[
    r(0, "Timestamp", T),
    r(1, "Counter", I),
    r(2, "Increment Counter", E),
    r(10, "Raw Bytes", O),
];

/// The objects the server knows.
pub const OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        id: 0,
        name: "Security",
        resources: SECURITY,
    },
    ObjectDef {
        id: 1,
        name: "Server",
        resources: SERVER,
    },
    ObjectDef {
        id: 2,
        name: "Access Control",
        resources: ACCESS_CONTROL,
    },
    ObjectDef {
        id: 3,
        name: "Device",
        resources: DEVICE,
    },
    ObjectDef {
        id: 4,
        name: "Connectivity Monitoring",
        resources: CONNECTIVITY,
    },
    ObjectDef {
        id: 5,
        name: "Firmware Update",
        resources: FIRMWARE,
    },
    ObjectDef {
        id: 6,
        name: "Location",
        resources: LOCATION,
    },
    ObjectDef {
        id: 3303,
        name: "Temperature",
        resources: TEMPERATURE,
    },
    ObjectDef {
        id: 32769,
        name: "Test",
        resources: TEST,
    },
];

/// The object `oid`, if known.
pub fn object(oid: u16) -> Option<&'static ObjectDef> {
    OBJECTS.iter().find(|o| o.id == oid)
}

/// The resource a path (`/o/i/r` or deeper) names, if known.
pub fn resource(path: &Path) -> Option<&'static ResourceDef> {
    let o = object(path.oid()?)?;
    let rid = path.rid()?;
    o.resources.iter().find(|r| r.id == rid)
}

/// The declared type of a resource path, if known.
pub fn data_type(path: &Path) -> Option<DataType> {
    resource(path).map(|r| r.ty)
}

/// [`TypeResolver`] over [`OBJECTS`].
#[derive(Clone, Copy, Debug, Default)]
pub struct KnownTypes;

impl TypeResolver for KnownTypes {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        data_type(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(data_type(&Path::resource(1, 0, 1)), Some(DataType::Integer));
        assert_eq!(
            data_type(&Path::resource_instance(3, 0, 11, 2)),
            Some(DataType::Integer)
        );
        assert_eq!(
            data_type(&Path::resource(3303, 0, 5700)),
            Some(DataType::Float)
        );
        assert_eq!(data_type(&Path::resource(3, 0, 999)), None);
        assert_eq!(data_type(&Path::instance(3, 0)), None);
        assert_eq!(object(5).map(|o| o.name), Some("Firmware Update"));
        for o in OBJECTS {
            let mut ids: Vec<u16> = o.resources.iter().map(|r| r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), o.resources.len(), "duplicate ids in {}", o.name);
        }
    }
}
