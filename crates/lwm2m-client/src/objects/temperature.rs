//! A simulated temperature sensor: IPSO object 3303 "Temperature" (OMA
//! LwM2M registry, object version 1.0; resources from the IPSO reusable
//! resource set: 5601 Min Measured Value, 5602 Max Measured Value, 5603 /
//! 5604 Min / Max Range Value, 5605 Reset Min and Max Measured Values, 5700
//! Sensor Value, 5701 Sensor Units, 5750 Application Type).
//!
//! The value is a pseudo-random walk in steps of 0.1 °C, one step per
//! [`Temperature::period`] of the time the application passes in: the same
//! seed and the same times give the same values, so tests need no clock.
//! Values are kept in tenths of a degree (integers), so they never drift.
//!
//! The object cannot reach the client engine, so it queues the paths whose
//! values changed ([`Temperature::take_changes`]); the application passes
//! them to `notify_changed`. A Reset Min/Max executed by a server queues
//! its changes inside the request's transaction, so a rolled-back request
//! notifies nothing.

use std::time::Duration;

use lwm2m_core::DmError;
use lwm2m_core::dm::{
    DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, Path, ResourceDef, Rid, Riid, Txn,
    Value,
};

/// Object ID.
pub const OID: u16 = 3303;

/// Resource ids.
pub mod rid {
    use lwm2m_core::dm::Rid;
    /// Min Measured Value (R, float).
    pub const MIN_MEASURED: Rid = 5601;
    /// Max Measured Value (R, float).
    pub const MAX_MEASURED: Rid = 5602;
    /// Min Range Value (R, float): the lowest value the sensor reports.
    pub const MIN_RANGE: Rid = 5603;
    /// Max Range Value (R, float): the highest value the sensor reports.
    pub const MAX_RANGE: Rid = 5604;
    /// Reset Min and Max Measured Values (E).
    pub const RESET_MIN_MAX: Rid = 5605;
    /// Sensor Value (R, float, mandatory).
    pub const VALUE: Rid = 5700;
    /// Sensor Units (R, string).
    pub const UNITS: Rid = 5701;
    /// Application Type (RW, string).
    pub const APPLICATION_TYPE: Rid = 5750;
}

const R: Operations = Operations::R;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(rid::MIN_MEASURED, "Min Measured Value", R, DataType::Float),
    ResourceDef::new(rid::MAX_MEASURED, "Max Measured Value", R, DataType::Float),
    ResourceDef::new(rid::MIN_RANGE, "Min Range Value", R, DataType::Float),
    ResourceDef::new(rid::MAX_RANGE, "Max Range Value", R, DataType::Float),
    ResourceDef::new(
        rid::RESET_MIN_MAX,
        "Reset Min and Max Measured Values",
        Operations::E,
        DataType::None,
    ),
    ResourceDef::new(rid::VALUE, "Sensor Value", R, DataType::Float).mandatory(),
    ResourceDef::new(rid::UNITS, "Sensor Units", R, DataType::String),
    ResourceDef::new(
        rid::APPLICATION_TYPE,
        "Application Type",
        Operations::RW,
        DataType::String,
    ),
];

/// The object definition (multiple-instance, as IPSO defines it; the demo
/// has instance 0).
pub const DEF: ObjectDef = ObjectDef::new(OID, RESOURCES).multiple();

/// The walk's bounds and start, in tenths of a degree Celsius.
const LOWEST: i64 = 150;
const HIGHEST: i64 = 350;
const START: i64 = 215;
/// Longest catch-up in one call: after a long suspension the walk skips
/// ahead instead of computing every missed step.
const MAX_STEPS_PER_CALL: u64 = 1024;
/// Longest Application Type accepted.
const MAX_APPLICATION_TYPE: usize = 64;

/// Bits of [`State::dirty`]: which resources changed since the last
/// [`Temperature::take_changes`].
const DIRTY_VALUE: u8 = 1;
const DIRTY_MIN: u8 = 2;
const DIRTY_MAX: u8 = 4;

/// What a transaction may change.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    /// Tenths of a degree.
    value: i64,
    min: i64,
    max: i64,
    application_type: String,
    dirty: u8,
}

/// The simulated sensor (instance 0 of object 3303).
#[derive(Debug)]
pub struct Temperature {
    seed: u64,
    period: Duration,
    /// Steps taken so far.
    step: u64,
    state: Txn<State>,
}

/// SplitMix64 (Steele, Lea, Flood 2014): one well-mixed 64-bit value per
/// input, so step `k` of a seed is the same whatever came before.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn celsius(tenths: i64) -> Value<'static> {
    // Tenths are small integers: the conversion is exact enough to print
    // as one decimal.
    Value::Float(tenths as f64 / 10.0)
}

impl Temperature {
    /// A sensor at 21.5 °C whose walk is fixed by `seed`, one step every
    /// `period` (a zero period is taken as one millisecond).
    pub fn new(seed: u64, period: Duration) -> Temperature {
        Temperature {
            seed,
            period: period.max(Duration::from_millis(1)),
            step: 0,
            state: Txn::new(State {
                value: START,
                min: START,
                max: START,
                application_type: String::from("Room"),
                dirty: 0,
            }),
        }
    }

    /// How long after `elapsed` the next step is due.
    pub fn until_next_step(&self, elapsed: Duration) -> Duration {
        let next = u32::try_from(self.step.saturating_add(1))
            .map_or(Duration::MAX, |n| self.period.saturating_mul(n));
        next.saturating_sub(elapsed)
    }

    /// Walks to the value at `elapsed` (time since the sensor started, from
    /// the application's clock). Returns whether the value changed; the
    /// changed paths wait in [`Temperature::take_changes`]. Never called
    /// inside a transaction by the engine (the application calls it between
    /// requests).
    pub fn advance(&mut self, elapsed: Duration) -> bool {
        let target =
            u64::try_from(elapsed.as_nanos() / self.period.as_nanos().max(1)).unwrap_or(u64::MAX);
        if target <= self.step {
            return false;
        }
        let first = target
            .saturating_sub(MAX_STEPS_PER_CALL)
            .max(self.step.saturating_add(1));
        let before = self.state.value;
        for k in first..=target {
            // -5..=5 tenths per step, evenly.
            let delta = (mix(self.seed ^ mix(k)) % 11) as i64 - 5;
            let s = &mut *self.state;
            s.value = (s.value + delta).clamp(LOWEST, HIGHEST);
            if s.value < s.min {
                s.min = s.value;
                s.dirty |= DIRTY_MIN;
            }
            if s.value > s.max {
                s.max = s.value;
                s.dirty |= DIRTY_MAX;
            }
        }
        self.step = target;
        if self.state.value != before {
            self.state.dirty |= DIRTY_VALUE;
        }
        self.state.value != before
    }

    /// Hands each path whose value changed since the last call to `each`
    /// (for `notify_changed`), and forgets them.
    pub fn take_changes(&mut self, each: &mut dyn FnMut(Path)) {
        let dirty = std::mem::take(&mut self.state.dirty);
        for (bit, rid) in [
            (DIRTY_VALUE, rid::VALUE),
            (DIRTY_MIN, rid::MIN_MEASURED),
            (DIRTY_MAX, rid::MAX_MEASURED),
        ] {
            if dirty & bit != 0 {
                each(Path::resource(OID, 0, rid));
            }
        }
    }
}

impl Object for Temperature {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        let s = &*self.state;
        Ok(match rid {
            rid::MIN_MEASURED => celsius(s.min),
            rid::MAX_MEASURED => celsius(s.max),
            rid::MIN_RANGE => celsius(LOWEST),
            rid::MAX_RANGE => celsius(HIGHEST),
            rid::VALUE => celsius(s.value),
            rid::UNITS => Value::str("Cel"),
            rid::APPLICATION_TYPE => Value::str(&s.application_type),
            _ => return Err(DmError::NotFound),
        })
    }

    fn write(&mut self, _: Iid, rid: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
        match (rid, v.as_str()) {
            (rid::APPLICATION_TYPE, Some(s)) if s.len() <= MAX_APPLICATION_TYPE => {
                self.state.application_type = s.to_string();
                Ok(())
            }
            (rid::APPLICATION_TYPE, Some(_)) => Err(DmError::RequestEntityTooLarge),
            _ => Err(DmError::BadRequest),
        }
    }

    fn execute(&mut self, _: Iid, rid: Rid, _: ExecuteArgs<'_>) -> Result<(), DmError> {
        if rid != rid::RESET_MIN_MAX {
            return Err(DmError::MethodNotAllowed);
        }
        let s = &mut *self.state;
        if s.min != s.value {
            s.min = s.value;
            s.dirty |= DIRTY_MIN;
        }
        if s.max != s.value {
            s.max = s.value;
            s.dirty |= DIRTY_MAX;
        }
        Ok(())
    }

    fn reset(&mut self, _: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        // Write-replace of the instance: the one writable resource back to
        // its default.
        match rid {
            None => {
                self.state.application_type = String::from("Room");
                Ok(())
            }
            Some(_) => Err(DmError::MethodNotAllowed),
        }
    }

    fn begin(&mut self) {
        self.state.begin();
    }

    fn commit(&mut self) {
        self.state.commit();
    }

    fn rollback(&mut self) {
        self.state.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(t: &mut Temperature) -> Vec<Path> {
        let mut v = Vec::new();
        t.take_changes(&mut |p| v.push(p));
        v
    }

    #[test]
    fn the_walk_is_deterministic_and_bounded() {
        let period = Duration::from_secs(1);
        let mut a = Temperature::new(7, period);
        let mut b = Temperature::new(7, period);
        let mut values = Vec::new();
        for s in 1..=500u64 {
            a.advance(Duration::from_secs(s));
            values.push(a.state.value);
            assert!((LOWEST..=HIGHEST).contains(&a.state.value));
        }
        // The same seed reaches the same value whether it walks step by
        // step or catches up at once.
        b.advance(Duration::from_secs(500));
        assert_eq!(b.state.value, a.state.value);
        // It moves: not stuck at the start, and more than one value seen.
        values.sort_unstable();
        values.dedup();
        assert!(values.len() > 10, "{values:?}");
        // Another seed walks elsewhere.
        let mut c = Temperature::new(8, period);
        let walked: Vec<i64> = (1..=20u64)
            .map(|s| {
                c.advance(Duration::from_secs(s));
                c.state.value
            })
            .collect();
        let mut d = Temperature::new(7, period);
        let other: Vec<i64> = (1..=20u64)
            .map(|s| {
                d.advance(Duration::from_secs(s));
                d.state.value
            })
            .collect();
        assert_ne!(walked, other);
    }

    #[test]
    fn changes_are_reported_once_and_only_when_the_value_moves() {
        let mut t = Temperature::new(1, Duration::from_millis(100));
        assert!(!t.advance(Duration::from_millis(99)), "no step yet");
        assert!(changes(&mut t).is_empty());
        // Find a step that moves the value.
        let mut ms = 100;
        while !t.advance(Duration::from_millis(ms)) {
            assert!(changes(&mut t).is_empty(), "a still step reports nothing");
            ms += 100;
        }
        let c = changes(&mut t);
        assert!(c.contains(&Path::resource(OID, 0, rid::VALUE)));
        assert!(changes(&mut t).is_empty(), "taken once");
        // Min and max follow the value.
        let v = t.read(0, rid::VALUE, None).unwrap().as_f64().unwrap();
        let min = t
            .read(0, rid::MIN_MEASURED, None)
            .unwrap()
            .as_f64()
            .unwrap();
        let max = t
            .read(0, rid::MAX_MEASURED, None)
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(min <= v && v <= max && min < max);
        assert_eq!(
            t.until_next_step(Duration::from_millis(ms)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn reset_min_max_is_transactional() {
        let mut t = Temperature::new(3, Duration::from_secs(1));
        let mut s = 1;
        while !t.advance(Duration::from_secs(s)) {
            s += 1;
        }
        changes(&mut t);
        let v = t.state.value;
        // Rolled back: nothing changes, nothing to notify.
        t.begin();
        t.execute(0, rid::RESET_MIN_MAX, ExecuteArgs::parse(b"", 0).unwrap())
            .unwrap();
        t.rollback();
        assert!(changes(&mut t).is_empty());
        assert_ne!((t.state.min, t.state.max), (v, v));
        // Committed: min = max = value, both notified.
        t.begin();
        t.execute(0, rid::RESET_MIN_MAX, ExecuteArgs::parse(b"", 0).unwrap())
            .unwrap();
        t.commit();
        assert_eq!((t.state.min, t.state.max), (v, v));
        let c = changes(&mut t);
        assert!(
            c.contains(&Path::resource(OID, 0, rid::MIN_MEASURED))
                || c.contains(&Path::resource(OID, 0, rid::MAX_MEASURED))
        );
    }

    #[test]
    fn resources_read_and_write() {
        let mut t = Temperature::new(0, Duration::from_secs(1));
        assert_eq!(t.read(0, rid::UNITS, None), Ok(Value::str("Cel")));
        assert_eq!(t.read(0, rid::VALUE, None), Ok(Value::Float(21.5)));
        assert_eq!(t.read(0, rid::MIN_RANGE, None), Ok(Value::Float(15.0)));
        t.write(0, rid::APPLICATION_TYPE, None, Value::str("Lab"))
            .unwrap();
        assert_eq!(
            t.read(0, rid::APPLICATION_TYPE, None),
            Ok(Value::str("Lab"))
        );
        let long = "x".repeat(MAX_APPLICATION_TYPE + 1);
        assert_eq!(
            t.write(0, rid::APPLICATION_TYPE, None, Value::str(&long)),
            Err(DmError::RequestEntityTooLarge)
        );
        t.reset(0, None).unwrap();
        assert_eq!(
            t.read(0, rid::APPLICATION_TYPE, None),
            Ok(Value::str("Room"))
        );
    }
}
