//! A firmware application for simulations: [`FlashApp`] stores the package
//! in a simulated flash as the Firmware Update object streams it, checks it
//! against an expected digest at verify time, and logs every step, so a
//! test can prove from the device's side what a PUSH or PULL delivered.
//!
//! The flash is the device's storage, not the client's: a test that
//! restarts the client moves it into the new client's app
//! ([`FlashApp::take_flash`], [`FlashApp::resuming`]).

use lwm2m_core::objects::firmware::{Applied, FirmwareApp, FirmwareError};

/// FNV-1a, 64 bits: a content digest for comparing packages (not a
/// security property).
pub fn digest(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A [`FirmwareApp`] writing to memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlashApp {
    /// The stored package, complete or partial.
    pub flash: Vec<u8>,
    /// The digest [`FirmwareApp::verify`] requires, if any (a device
    /// checking the package's signature).
    pub expected: Option<u64>,
    /// Every step: `open Some(n)`, `resume n`, `verify`, `apply`, `reset`.
    pub log: Vec<String>,
    /// Writes that arrived at another offset than the end of the flash
    /// (refused with an integrity failure).
    pub misplaced: u32,
    /// Number of writes.
    pub writes: u64,
    /// Largest single write.
    pub largest_write: usize,
}

impl FlashApp {
    /// An empty flash; verify passes only for a package with `digest`.
    pub fn expecting(digest: u64) -> FlashApp {
        FlashApp {
            expected: Some(digest),
            ..FlashApp::default()
        }
    }

    /// After a restart: the flash as the previous client left it.
    pub fn resuming(mut self, flash: Vec<u8>) -> FlashApp {
        self.flash = flash;
        self
    }

    /// Takes the flash out (what survives the client's restart).
    pub fn take_flash(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.flash)
    }

    /// Whether `step` was logged.
    pub fn did(&self, step: &str) -> bool {
        self.log.iter().any(|l| l == step)
    }
}

impl FirmwareApp for FlashApp {
    fn open(&mut self, size: Option<u64>) -> Result<(), FirmwareError> {
        self.log.push(format!("open {size:?}"));
        self.flash.clear();
        Ok(())
    }

    fn resume(&mut self, offset: u64) -> bool {
        self.log.push(format!("resume {offset}"));
        // The device may have stored more than the state it saved last.
        match usize::try_from(offset) {
            Ok(n) if n <= self.flash.len() => {
                self.flash.truncate(n);
                true
            }
            _ => false,
        }
    }

    fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), FirmwareError> {
        self.writes += 1;
        self.largest_write = self.largest_write.max(bytes.len());
        if usize::try_from(offset).ok() != Some(self.flash.len()) {
            self.misplaced += 1;
            return Err(FirmwareError::IntegrityCheckFailure);
        }
        self.flash.extend_from_slice(bytes);
        Ok(())
    }

    fn verify(&mut self) -> Result<(), FirmwareError> {
        self.log.push("verify".into());
        match self.expected {
            Some(d) if d != digest(&self.flash) => Err(FirmwareError::IntegrityCheckFailure),
            _ => Ok(()),
        }
    }

    fn apply(&mut self) -> Result<Applied, FirmwareError> {
        self.log.push("apply".into());
        Ok(Applied::Done)
    }

    fn reset(&mut self) {
        self.log.push("reset".into());
        self.flash.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_in_order_and_verifies_the_digest() {
        let pkg: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let mut app = FlashApp::expecting(digest(&pkg));
        app.open(Some(3000)).unwrap();
        app.write(0, &pkg[..1024]).unwrap();
        assert_eq!(
            app.write(2048, &pkg[2048..]),
            Err(FirmwareError::IntegrityCheckFailure),
            "a gap is refused"
        );
        app.write(1024, &pkg[1024..]).unwrap();
        assert_eq!(app.verify(), Ok(()));
        assert_eq!((app.misplaced, app.writes, app.largest_write), (1, 3, 1976));
        // Resuming keeps what the saved offset covers.
        let mut next = FlashApp::expecting(digest(&pkg)).resuming(app.take_flash());
        assert!(next.resume(1024));
        assert_eq!(next.flash.len(), 1024);
        assert!(!next.resume(2048), "bytes that are not stored");
        next.flash[0] ^= 1;
        next.write(1024, &pkg[1024..]).unwrap();
        assert_eq!(next.verify(), Err(FirmwareError::IntegrityCheckFailure));
    }
}
