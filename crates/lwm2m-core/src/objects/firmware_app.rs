//! The values of the Firmware Update object (OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.6; enumerations as OMA-SUP-XML_5-V1_1-20201019-A defines
//! them) and the application's side: the [`FirmwareApp`] steps and the
//! [`FirmwareEvent`]s it hears.

use core::any::Any;

use crate::error::DmError;

/// State (/5/0/3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// 0: before downloading or after a successful update.
    Idle,
    /// 1: the package is on its way.
    Downloading,
    /// 2: the package is stored and verified.
    Downloaded,
    /// 3: the update is being applied.
    Updating,
}

impl State {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            State::Idle => 0,
            State::Downloading => 1,
            State::Downloaded => 2,
            State::Updating => 3,
        }
    }
}

/// Update Result (/5/0/5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateResult {
    /// 0: initial value; set again when a download or an update starts.
    Initial,
    /// 1: firmware updated successfully.
    Success,
    /// 2: not enough flash memory for the new package.
    NotEnoughFlash,
    /// 3: out of RAM during the download.
    OutOfRam,
    /// 4: connection lost during the download.
    ConnectionLost,
    /// 5: integrity check failure of the downloaded package.
    IntegrityCheckFailure,
    /// 6: unsupported package type.
    UnsupportedPackageType,
    /// 7: invalid URI.
    InvalidUri,
    /// 8: firmware update failed.
    UpdateFailed,
    /// 9: unsupported protocol (the Package URI's scheme).
    UnsupportedProtocol,
    /// 10: cancelled by Cancel (object 1.1).
    Cancelled,
    /// 11: update deferred (object 1.1).
    Deferred,
}

impl UpdateResult {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            UpdateResult::Initial => 0,
            UpdateResult::Success => 1,
            UpdateResult::NotEnoughFlash => 2,
            UpdateResult::OutOfRam => 3,
            UpdateResult::ConnectionLost => 4,
            UpdateResult::IntegrityCheckFailure => 5,
            UpdateResult::UnsupportedPackageType => 6,
            UpdateResult::InvalidUri => 7,
            UpdateResult::UpdateFailed => 8,
            UpdateResult::UnsupportedProtocol => 9,
            UpdateResult::Cancelled => 10,
            UpdateResult::Deferred => 11,
        }
    }
}

/// Firmware Update Protocol Support values (/5/0/8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// 0: CoAP (RFC 7252) with block-wise transfer.
    Coap,
    /// 1: CoAPS.
    Coaps,
    /// 2: HTTP 1.1.
    Http,
    /// 3: HTTPS 1.1.
    Https,
    /// 4: CoAP over TCP (RFC 8323).
    CoapTcp,
    /// 5: CoAP over TLS (RFC 8323).
    CoapsTcp,
}

impl Protocol {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            Protocol::Coap => 0,
            Protocol::Coaps => 1,
            Protocol::Http => 2,
            Protocol::Https => 3,
            Protocol::CoapTcp => 4,
            Protocol::CoapsTcp => 5,
        }
    }

    /// The protocol of a URI scheme (ASCII case-insensitive).
    pub fn of_scheme(scheme: &str) -> Option<Protocol> {
        [
            ("coap", Protocol::Coap),
            ("coaps", Protocol::Coaps),
            ("http", Protocol::Http),
            ("https", Protocol::Https),
            ("coap+tcp", Protocol::CoapTcp),
            ("coaps+tcp", Protocol::CoapsTcp),
        ]
        .into_iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, p)| p)
    }
}

/// Firmware Update Delivery Method (/5/0/9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryMethod {
    /// 0: pull only (Package URI).
    Pull,
    /// 1: push only (Package).
    Push,
    /// 2: both.
    Both,
}

impl DeliveryMethod {
    /// The resource value.
    pub const fn code(self) -> i64 {
        match self {
            DeliveryMethod::Pull => 0,
            DeliveryMethod::Push => 1,
            DeliveryMethod::Both => 2,
        }
    }
    pub(super) fn push(self) -> bool {
        self != DeliveryMethod::Pull
    }
    pub(super) fn pull(self) -> bool {
        self != DeliveryMethod::Push
    }
}

/// Why a device step failed: the error kinds of E.6's Update Result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FirmwareError {
    /// Not enough storage for the package (Update Result 2).
    NotEnoughFlash,
    /// Out of RAM while downloading (3).
    OutOfRam,
    /// The package failed its integrity check (5).
    IntegrityCheckFailure,
    /// The package is of a type the device does not take (6).
    UnsupportedPackageType,
    /// Installing the package failed (8).
    UpdateFailed,
}

impl FirmwareError {
    /// The Update Result this failure sets.
    pub const fn result(self) -> UpdateResult {
        match self {
            FirmwareError::NotEnoughFlash => UpdateResult::NotEnoughFlash,
            FirmwareError::OutOfRam => UpdateResult::OutOfRam,
            FirmwareError::IntegrityCheckFailure => UpdateResult::IntegrityCheckFailure,
            FirmwareError::UnsupportedPackageType => UpdateResult::UnsupportedPackageType,
            FirmwareError::UpdateFailed => UpdateResult::UpdateFailed,
        }
    }

    /// What a PUSH write that failed this way is answered with.
    pub(super) fn dm(self) -> DmError {
        match self {
            FirmwareError::NotEnoughFlash => DmError::RequestEntityTooLarge,
            FirmwareError::UnsupportedPackageType => DmError::UnsupportedContentFormat,
            FirmwareError::IntegrityCheckFailure => DmError::BadRequest,
            FirmwareError::OutOfRam | FirmwareError::UpdateFailed => DmError::Internal,
        }
    }
}

/// What [`FirmwareApp::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Applied {
    /// The new firmware runs: Idle, Update Result 1.
    Done,
    /// The update goes on (typically across a reboot); the application
    /// reports the outcome with [`Firmware::update_finished`](super::Firmware::update_finished).
    Pending,
    /// The user deferred the update: Downloaded, Update Result 11.
    Deferred,
}

/// The device steps of a firmware update. The object calls them as the
/// state machine moves; each fallible step fails with the TS's error kind
/// and the object sets the matching Update Result.
///
/// Package bytes arrive in order, in pieces no larger than one CoAP block:
/// write them to storage as they come.
pub trait FirmwareApp: Any {
    /// A new package begins; discard any partial one. `size` is the total
    /// when the sender announced it (a file server's Size2).
    fn open(&mut self, size: Option<u64>) -> Result<(), FirmwareError>;
    /// A download restored after a restart continues at byte `offset`:
    /// whether the first `offset` bytes written before are still stored.
    /// `false` (the default) starts the download over with
    /// [`FirmwareApp::open`].
    fn resume(&mut self, offset: u64) -> bool {
        let _ = offset;
        false
    }
    /// `bytes` of the package at `offset` (the bytes written so far).
    fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), FirmwareError>;
    /// The whole package is written: check it (signature, checksum,
    /// type). Default: accepted.
    fn verify(&mut self) -> Result<(), FirmwareError> {
        Ok(())
    }
    /// Install the verified package.
    fn apply(&mut self) -> Result<Applied, FirmwareError>;
    /// Forget the stored package, complete or not.
    fn reset(&mut self);
    /// PkgName (/5/0/6) of the stored package, if known.
    fn package_name(&self) -> Option<&str> {
        None
    }
    /// PkgVersion (/5/0/7) of the stored package, if known.
    fn package_version(&self) -> Option<&str> {
        None
    }
    /// The device's clock as Unix time, for Last State Change Time
    /// (/5/0/12; absent without a clock).
    fn unix_time(&self) -> Option<i64> {
        None
    }
}

/// What the Firmware Update object tells the application (inside
/// [`ObjectEvent::Firmware`](crate::dm::ObjectEvent::Firmware)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FirmwareEvent {
    /// State or Update Result changed: a download began, the package is
    /// Downloaded, an update started (the engine applies it next), finished,
    /// or failed with `result`.
    StateChanged {
        /// The new State.
        state: State,
        /// The new Update Result.
        result: UpdateResult,
    },
    /// Package bytes received so far (coalesced: at most one is queued).
    /// A PULL application may save [`Firmware::download_state`](super::Firmware::download_state) now.
    Progress {
        /// Bytes stored.
        received: u64,
        /// The total, when known.
        total: Option<u64>,
    },
}
