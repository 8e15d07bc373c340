//! The Location object (ID 6; OMA-TS-LightweightM2M_Core 1.1 Appendix
//! E.7; resource table as in OMA-SUP-XML_6 1.0, Eclipse Leshan
//! `leshan-core/src/main/resources/models/LWM2M_Location-v1_0_2.xml`,
//! resources 0–6): a single read-only instance the application feeds with
//! each fix. The core has no clock: the fix's Timestamp comes with it.
//! After a change the application calls the client's `notify_changed`.

use alloc::vec::Vec;

use crate::dm::{DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value};
use crate::error::DmError;

/// Resource ids (E.7).
pub mod rid {
    use crate::dm::Rid;
    /// Latitude (degrees, WGS 84).
    pub const LATITUDE: Rid = 0;
    /// Longitude (degrees, WGS 84).
    pub const LONGITUDE: Rid = 1;
    /// Altitude (m).
    pub const ALTITUDE: Rid = 2;
    /// Radius (m).
    pub const RADIUS: Rid = 3;
    /// Velocity (3GPP TS 23.032 encoding).
    pub const VELOCITY: Rid = 4;
    /// Timestamp.
    pub const TIMESTAMP: Rid = 5;
    /// Speed (m/s).
    pub const SPEED: Rid = 6;
}

const R: Operations = Operations::R;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, "Latitude", R, DataType::Float).mandatory(),
    ResourceDef::new(1, "Longitude", R, DataType::Float).mandatory(),
    ResourceDef::new(2, "Altitude", R, DataType::Float),
    ResourceDef::new(3, "Radius", R, DataType::Float),
    ResourceDef::new(4, "Velocity", R, DataType::Opaque),
    ResourceDef::new(5, "Timestamp", R, DataType::Time).mandatory(),
    ResourceDef::new(6, "Speed", R, DataType::Float),
];

/// The object definition (E.7, version 1.0).
pub const DEF: ObjectDef = ObjectDef::new(6, RESOURCES);

/// A velocity in the "Description of Velocity" coding of 3GPP TS 23.032
/// §8 (the encoding the Velocity resource names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Velocity {
    /// Velocity type 0, "Horizontal Velocity": bearing clockwise from
    /// north (0..=359 degrees) and horizontal speed (km/h).
    Horizontal {
        /// Degrees, 0..=359 (taken modulo 360).
        bearing: u16,
        /// km/h.
        speed_kmh: u16,
    },
    /// Velocity type 1, "Horizontal with Vertical Velocity".
    HorizontalVertical {
        /// Degrees, 0..=359 (taken modulo 360).
        bearing: u16,
        /// km/h.
        speed_kmh: u16,
        /// Vertical speed, km/h.
        vertical_kmh: u8,
        /// Direction of the vertical speed: downward when true.
        downward: bool,
    },
}

impl Velocity {
    /// The encoded octets: the velocity type in the high nibble of the
    /// first octet, the 9-bit bearing across its lowest bit and the second
    /// octet, the 16-bit horizontal speed, then (type 1) the vertical
    /// speed, its direction flag in bit 2 of the first octet.
    pub fn encode(&self) -> Vec<u8> {
        let split = |bearing: u16| {
            let b = bearing % 360;
            (u8::from(b >= 256), (b & 0xff) as u8)
        };
        match *self {
            Velocity::Horizontal { bearing, speed_kmh } => {
                let (hi, lo) = split(bearing);
                let [s1, s2] = speed_kmh.to_be_bytes();
                alloc::vec![hi, lo, s1, s2]
            }
            Velocity::HorizontalVertical {
                bearing,
                speed_kmh,
                vertical_kmh,
                downward,
            } => {
                let (hi, lo) = split(bearing);
                let [s1, s2] = speed_kmh.to_be_bytes();
                let first = 0x10 | (u8::from(downward) << 1) | hi;
                alloc::vec![first, lo, s1, s2, vertical_kmh]
            }
        }
    }
}

/// The Location object: the last fix the application set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Location {
    latitude: f64,
    longitude: f64,
    altitude: Option<f64>,
    radius: Option<f64>,
    velocity: Option<Vec<u8>>,
    timestamp: i64,
    speed: Option<f64>,
}

impl Location {
    /// A location at `latitude`, `longitude` measured at `timestamp` (Unix
    /// seconds).
    pub fn new(latitude: f64, longitude: f64, timestamp: i64) -> Location {
        Location {
            latitude,
            longitude,
            timestamp,
            ..Location::default()
        }
    }

    /// A new fix: position and when it was measured. Altitude, radius,
    /// velocity and speed of the previous fix are kept; set them too.
    pub fn set_position(&mut self, latitude: f64, longitude: f64, timestamp: i64) -> &mut Self {
        self.latitude = latitude;
        self.longitude = longitude;
        self.timestamp = timestamp;
        self
    }
    /// Altitude (2), metres above sea level.
    pub fn set_altitude(&mut self, m: Option<f64>) -> &mut Self {
        self.altitude = m;
        self
    }
    /// Radius (3) of the uncertainty circle, metres.
    pub fn set_radius(&mut self, m: Option<f64>) -> &mut Self {
        self.radius = m;
        self
    }
    /// Velocity (4).
    pub fn set_velocity(&mut self, v: Option<Velocity>) -> &mut Self {
        self.velocity = v.map(|v| v.encode());
        self
    }
    /// Velocity (4) already encoded (other TS 23.032 velocity types).
    pub fn set_velocity_bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        self.velocity = v.map(<[u8]>::to_vec);
        self
    }
    /// Speed (6), m/s.
    pub fn set_speed(&mut self, mps: Option<f64>) -> &mut Self {
        self.speed = mps;
        self
    }

    /// Latitude and longitude.
    pub fn position(&self) -> (f64, f64) {
        (self.latitude, self.longitude)
    }
    /// Timestamp of the fix.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }
    /// The encoded velocity.
    pub fn velocity(&self) -> Option<&[u8]> {
        self.velocity.as_deref()
    }
}

impl Object for Location {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        iid == 0
            && match rid {
                rid::ALTITUDE => self.altitude.is_some(),
                rid::RADIUS => self.radius.is_some(),
                rid::VELOCITY => self.velocity.is_some(),
                rid::SPEED => self.speed.is_some(),
                _ => true,
            }
    }

    fn read(&self, iid: Iid, rid: Rid, _riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        let v = match rid {
            rid::LATITUDE => Some(Value::Float(self.latitude)),
            rid::LONGITUDE => Some(Value::Float(self.longitude)),
            rid::ALTITUDE => self.altitude.map(Value::Float),
            rid::RADIUS => self.radius.map(Value::Float),
            rid::VELOCITY => self.velocity.as_deref().map(Value::bytes),
            rid::TIMESTAMP => Some(Value::Time(self.timestamp)),
            rid::SPEED => self.speed.map(Value::Float),
            _ => None,
        };
        v.ok_or(DmError::NotFound)
    }
}

#[cfg(test)]
#[path = "location_tests.rs"]
mod tests;
