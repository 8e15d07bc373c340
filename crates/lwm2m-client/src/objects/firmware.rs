//! The demo's firmware "device": the [`FirmwareApp`] steps behind the
//! built-in Firmware Update object (5; Core 1.1 Appendix E.6). Nothing is
//! flashed: the package is counted and hashed as it arrives (never held in
//! memory), and "installing" it makes the Device object's Firmware Version
//! name the package's hash, so a server sees the update took.

use lwm2m::core::objects::firmware::{Applied, FirmwareApp, FirmwareError};

/// Largest package accepted; more is Update Result 2 (not enough flash).
pub const MAX_PACKAGE: u64 = 64 * 1024 * 1024;

/// FNV-1a, 64 bits (Fowler, Noll, Vo): a fingerprint of the package, not a
/// security check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn value(self) -> u64 {
        self.0
    }
}

/// The Firmware Version a package becomes once installed.
pub fn version_of(size: u64, hash: Fnv) -> String {
    format!("demo-{:016x} ({size} bytes)", hash.value())
}

/// The demo's firmware steps.
#[derive(Debug, Default)]
pub struct DemoFirmware {
    received: u64,
    hash: Fnv,
    /// The version of the last package installed, until the application
    /// takes it ([`DemoFirmware::take_installed`]).
    installed: Option<String>,
    /// Unix seconds, set by the application (Last State Change Time).
    now: Option<i64>,
}

impl DemoFirmware {
    /// Sets the clock (Unix seconds).
    pub fn set_time(&mut self, unix: i64) {
        self.now = Some(unix);
    }

    /// The version installed by the last successful update, once.
    pub fn take_installed(&mut self) -> Option<String> {
        self.installed.take()
    }
}

impl FirmwareApp for DemoFirmware {
    fn open(&mut self, size: Option<u64>) -> Result<(), FirmwareError> {
        self.reset();
        match size {
            Some(s) if s > MAX_PACKAGE => Err(FirmwareError::NotEnoughFlash),
            _ => Ok(()),
        }
    }

    fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), FirmwareError> {
        if offset != self.received {
            // The object feeds bytes in order; anything else is a bug worth
            // failing the update for rather than a wrong hash.
            return Err(FirmwareError::UpdateFailed);
        }
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let total = self.received.saturating_add(len);
        if total > MAX_PACKAGE {
            return Err(FirmwareError::NotEnoughFlash);
        }
        self.hash.update(bytes);
        self.received = total;
        Ok(())
    }

    fn verify(&mut self) -> Result<(), FirmwareError> {
        if self.received == 0 {
            return Err(FirmwareError::IntegrityCheckFailure);
        }
        Ok(())
    }

    fn apply(&mut self) -> Result<Applied, FirmwareError> {
        self.installed = Some(version_of(self.received, self.hash));
        Ok(Applied::Done)
    }

    fn reset(&mut self) {
        self.received = 0;
        self.hash = Fnv::default();
    }

    fn package_name(&self) -> Option<&str> {
        (self.received > 0).then_some("demo-firmware")
    }

    fn unix_time(&self) -> Option<i64> {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_vectors() {
        // FNV-1a 64 test vectors (draft-eastlake-fnv, section 6 / the FNV
        // reference test suite): "" and "a".
        assert_eq!(Fnv::default().value(), 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv::default();
        h.update(b"a");
        assert_eq!(h.value(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_package_is_hashed_in_order_and_installed() {
        let mut f = DemoFirmware::default();
        f.open(Some(6)).unwrap();
        f.write(0, b"abc").unwrap();
        assert_eq!(f.write(0, b"abc"), Err(FirmwareError::UpdateFailed));
        f.write(3, b"def").unwrap();
        f.verify().unwrap();
        assert_eq!(f.apply(), Ok(Applied::Done));
        let mut h = Fnv::default();
        h.update(b"abcdef");
        assert_eq!(f.take_installed(), Some(version_of(6, h)));
        assert_eq!(f.take_installed(), None);
        f.reset();
        assert_eq!(f.verify(), Err(FirmwareError::IntegrityCheckFailure));
        assert_eq!(
            f.open(Some(MAX_PACKAGE + 1)),
            Err(FirmwareError::NotEnoughFlash)
        );
    }
}
