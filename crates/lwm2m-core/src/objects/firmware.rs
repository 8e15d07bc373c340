//! The Firmware Update object (ID 5; OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.6 and its state machine, Figure E.6.1-1; object version 1.1
//! as defined by OMA-SUP-XML_5-V1_1-20201019-A, the OMNA lwm2m-registry
//! `5.xml`): the update state machine, with the application supplying only
//! the device steps through the small [`FirmwareApp`] trait.
//!
//! # Delivery
//!
//! - **PUSH**: a server writes the package to Package (/5/0/0). A block-wise
//!   write reaches [`FirmwareApp::write`] block by block, inside one
//!   transaction held open between datagrams (SPEC §1 guarantee 3), so a
//!   multi-megabyte image never sits in RAM: the object holds no package
//!   bytes at all. A transfer that is abandoned (it times out, a block
//!   arrives out of order and is answered 4.08, or block 0 starts it again)
//!   rolls back: the application's partial package is discarded
//!   ([`FirmwareApp::reset`]) and the object is Idle with Update Result 4
//!   (connection lost).
//! - **PULL**: a server writes a `coap://` or `coaps://` URI to Package URI
//!   (/5/0/1). The object checks the URI and enters Downloading; the client
//!   engine (`client::download`) fetches it block by block between the other
//!   requests it serves (SPEC §1 guarantee 8) and feeds each block to the
//!   application. [`Firmware::download_state`] / [`Firmware::restore_download`]
//!   carry a download over a restart.
//!
//! # State machine (E.6.1)
//!
//! | state | trigger | next state, Update Result |
//! |---|---|---|
//! | any but Updating | empty Package or empty Package URI written | Idle, 0 (package discarded) |
//! | Idle | Package block 0 (PUSH) | Downloading, 0 |
//! | Idle | Package URI written, scheme supported, URI valid | Downloading, 0 |
//! | Idle | Package URI with an unsupported scheme (`http`, `coap+tcp`, ...) | Idle, 9 |
//! | Idle | Package URI not a valid URI | Idle, 7 |
//! | Downloading | a step of the application fails | Idle, 2 / 3 / 5 / 6 |
//! | Downloading | PUSH abandoned, PULL connection lost for good | Idle, 4 |
//! | Downloading | PULL answered 4.xx by the file server | Idle, 7 |
//! | Downloading | last byte written and [`FirmwareApp::verify`] passed | Downloaded, 0 |
//! | Downloading, Downloaded | Cancel executed | Idle, 10 |
//! | Downloaded | Update executed | Updating, 0 |
//! | Updating | [`FirmwareApp::apply`] succeeded | Idle, 1 |
//! | Updating | the application deferred the update | Downloaded, 11 |
//! | Updating | integrity or package-type failure | Idle, 5 / 6 |
//! | Updating | any other failure | Downloaded, 8 |
//!
//! Anything else (writing a package while not Idle, Update when not
//! Downloaded, Cancel when Idle or Updating) is refused with 4.05 Method
//! Not Allowed, as E.6.1 says operations the state machine does not name
//! should be. Errors of the process itself are reported only through Update
//! Result: a write of a URI the client cannot use succeeds and sets 7 or 9.
//!
//! Update runs after its 2.04 has gone out: the engine calls
//! [`FirmwareApp::apply`] on its next step. An application whose update
//! completes after a reboot answers [`Applied::Pending`] and reports the
//! outcome later with [`Firmware::update_finished`].
//!
//! The application hears of every state change and of download progress
//! through [`ObjectEvent::Firmware`].

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::any::Any;

use super::convert::{int, string, uint};
use super::events::EventQueue;
use crate::dm::object::ObjectEvent;
use crate::dm::oids::FIRMWARE_UPDATE;
use crate::dm::{
    DataType, ExecuteArgs, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Txn, Value,
};
use crate::error::DmError;

#[path = "firmware_app.rs"]
mod app;
#[path = "firmware_state.rs"]
mod state;
pub use app::{
    Applied, DeliveryMethod, FirmwareApp, FirmwareError, FirmwareEvent, Protocol, State,
    UpdateResult,
};
pub use state::{DownloadState, DownloadStateError, MAX_ETAG_LEN};

/// Resource ids (E.6, object version 1.1).
pub mod rid {
    use crate::dm::Rid;
    /// Package (W, streaming).
    pub const PACKAGE: Rid = 0;
    /// Package URI.
    pub const PACKAGE_URI: Rid = 1;
    /// Update (E).
    pub const UPDATE: Rid = 2;
    /// State.
    pub const STATE: Rid = 3;
    /// Update Result.
    pub const UPDATE_RESULT: Rid = 5;
    /// PkgName.
    pub const PKG_NAME: Rid = 6;
    /// PkgVersion.
    pub const PKG_VERSION: Rid = 7;
    /// Firmware Update Protocol Support (multiple).
    pub const PROTOCOL_SUPPORT: Rid = 8;
    /// Firmware Update Delivery Method.
    pub const DELIVERY_METHOD: Rid = 9;
    /// Cancel (E, 1.1).
    pub const CANCEL: Rid = 10;
    /// Severity (1.1).
    pub const SEVERITY: Rid = 11;
    /// Last State Change Time (1.1).
    pub const LAST_STATE_CHANGE_TIME: Rid = 12;
    /// Maximum Defer Period (1.1, seconds).
    pub const MAXIMUM_DEFER_PERIOD: Rid = 13;
}

const R: Operations = Operations::R;
const W: Operations = Operations::W;
const RW: Operations = Operations::RW;
const E: Operations = Operations::E;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, "Package", W, DataType::Opaque)
        .mandatory()
        .streaming(),
    ResourceDef::new(1, "Package URI", RW, DataType::String).mandatory(),
    ResourceDef::new(2, "Update", E, DataType::None).mandatory(),
    ResourceDef::new(3, "State", R, DataType::Integer).mandatory(),
    ResourceDef::new(5, "Update Result", R, DataType::Integer).mandatory(),
    ResourceDef::new(6, "PkgName", R, DataType::String),
    ResourceDef::new(7, "PkgVersion", R, DataType::String),
    ResourceDef::new(8, "Firmware Update Protocol Support", R, DataType::Integer).multiple(),
    ResourceDef::new(9, "Firmware Update Delivery Method", R, DataType::Integer).mandatory(),
    ResourceDef::new(10, "Cancel", E, DataType::None),
    ResourceDef::new(11, "Severity", RW, DataType::Integer),
    ResourceDef::new(12, "Last State Change Time", R, DataType::Time),
    ResourceDef::new(13, "Maximum Defer Period", RW, DataType::UnsignedInteger),
];

/// The object definition (E.6, object version 1.1).
pub const DEF: ObjectDef = ObjectDef::new(FIRMWARE_UPDATE, RESOURCES).version(1, 1);

/// Longest Package URI stored (E.6 range "0..255" bytes).
pub const MAX_PACKAGE_URI_LEN: usize = 255;

/// A PULL download as the engine sees it: where from and where to resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PullRequest<'a> {
    pub uri: &'a str,
    pub offset: u64,
    pub etag: Option<&'a [u8]>,
}

/// What the object keeps, under transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Kept {
    state: State,
    result: UpdateResult,
    uri: String,
    /// PULL progress: bytes stored, the file's ETag, its size if known.
    offset: u64,
    etag: Option<Vec<u8>>,
    total: Option<u64>,
    severity: i64,
    max_defer: u64,
    last_change: Option<i64>,
    /// The stored package is to be discarded when the transaction commits.
    discard: bool,
    /// Update was executed: the engine calls `apply` next.
    apply_due: bool,
}

/// A PUSH in progress inside a transaction at nesting level `depth`.
#[derive(Clone, Copy, Debug)]
struct Push {
    depth: usize,
    received: u64,
    failure: Option<UpdateResult>,
}

/// Most events kept outside transactions (state changes the engine or an
/// abandoned transfer caused, and one coalesced progress report).
const MAX_IMMEDIATE: usize = 16;

/// The Firmware Update object over the application's [`FirmwareApp`].
pub struct Firmware {
    app: Box<dyn FirmwareApp>,
    kept: Txn<Kept>,
    events: EventQueue,
    immediate: VecDeque<FirmwareEvent>,
    push: Option<Push>,
    /// Transaction nesting level (a request inside a bootstrap session is 2).
    depth: usize,
    changed: bool,
    protocols: Vec<Protocol>,
    delivery: DeliveryMethod,
}

impl core::fmt::Debug for Firmware {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Firmware")
            .field("state", &self.kept.state)
            .field("result", &self.kept.result)
            .field("uri", &self.kept.uri)
            .finish_non_exhaustive()
    }
}

impl Firmware {
    /// An Idle object over `app`, offering PUSH and PULL over CoAP and
    /// CoAPS.
    pub fn new<A: FirmwareApp>(app: A) -> Firmware {
        Firmware {
            app: Box::new(app),
            kept: Txn::new(Kept {
                state: State::Idle,
                result: UpdateResult::Initial,
                uri: String::new(),
                offset: 0,
                etag: None,
                total: None,
                severity: 1,
                max_defer: 0,
                last_change: None,
                discard: false,
                apply_due: false,
            }),
            events: EventQueue::default(),
            immediate: VecDeque::new(),
            push: None,
            depth: 0,
            changed: false,
            protocols: alloc::vec![Protocol::Coap, Protocol::Coaps],
            delivery: DeliveryMethod::Both,
        }
    }

    /// With the PULL protocols offered (/5/0/8); only `coap` and `coaps`
    /// can be downloaded by the engine, any other scheme is answered with
    /// Update Result 9.
    pub fn with_protocols(mut self, protocols: &[Protocol]) -> Firmware {
        self.protocols = protocols.to_vec();
        self
    }

    /// With the delivery methods offered (/5/0/9); the other one is
    /// refused with 4.05.
    pub fn with_delivery(mut self, delivery: DeliveryMethod) -> Firmware {
        self.delivery = delivery;
        self
    }

    /// The application, if it is an `A`.
    pub fn app<A: FirmwareApp>(&self) -> Option<&A> {
        let any: &dyn Any = self.app.as_ref();
        any.downcast_ref::<A>()
    }

    /// The application, mutably, if it is an `A`.
    pub fn app_mut<A: FirmwareApp>(&mut self) -> Option<&mut A> {
        let any: &mut dyn Any = self.app.as_mut();
        any.downcast_mut::<A>()
    }

    /// State (/5/0/3).
    pub fn state(&self) -> State {
        self.kept.state
    }

    /// Update Result (/5/0/5).
    pub fn update_result(&self) -> UpdateResult {
        self.kept.result
    }

    /// Package URI (/5/0/1), empty when none.
    pub fn package_uri(&self) -> &str {
        &self.kept.uri
    }

    /// Severity (/5/0/11): 0 critical, 1 mandatory (default), 2 optional.
    pub fn severity(&self) -> i64 {
        self.kept.severity
    }

    /// Maximum Defer Period (/5/0/13), seconds.
    pub fn maximum_defer_period(&self) -> u64 {
        self.kept.max_defer
    }

    /// The PULL download in progress, to persist (see
    /// [`DownloadState::encode`]) and hand to [`Firmware::restore_download`]
    /// after a restart. `None` unless a PULL is Downloading.
    pub fn download_state(&self) -> Option<DownloadState> {
        self.pull_request().map(|p| DownloadState {
            uri: String::from(p.uri),
            offset: p.offset,
            etag: p.etag.map(<[u8]>::to_vec),
        })
    }

    /// Takes up a PULL download saved before a restart: Downloading from
    /// `state.uri`, resuming at `state.offset` if the application's
    /// [`FirmwareApp::resume`] agrees. Only while Idle (call it before the
    /// client starts); 4.05 otherwise, 4.00 if the URI is not one the
    /// object would download.
    pub fn restore_download(&mut self, state: DownloadState) -> Result<(), DmError> {
        if self.kept.state != State::Idle || !self.delivery.pull() {
            return Err(DmError::MethodNotAllowed);
        }
        if self.classify_uri(&state.uri) != Ok(())
            || state.etag.as_ref().is_some_and(|e| e.len() > MAX_ETAG_LEN)
        {
            return Err(DmError::BadRequest);
        }
        self.kept.uri = state.uri;
        self.kept.offset = state.offset;
        self.kept.etag = state.etag;
        self.kept.total = None;
        self.set(State::Downloading, UpdateResult::Initial, false);
        Ok(())
    }

    /// The outcome of an update that answered [`Applied::Pending`]
    /// (possibly reported by the new firmware after a reboot, on a fresh
    /// object): `Ok` is Idle with Update Result 1, a failure as for
    /// [`FirmwareApp::apply`]. Call `Client::notify_changed` for /5/0
    /// afterwards so that observers hear of it.
    pub fn update_finished(&mut self, outcome: Result<(), FirmwareError>) {
        self.kept.apply_due = false;
        match outcome {
            Ok(()) => self.set(State::Idle, UpdateResult::Success, false),
            Err(e) => self.update_failed(e),
        }
    }

    /// Starts an update the user deferred (Downloaded with Update Result
    /// 11) as if Update were executed; the engine applies it next. `false`
    /// when not Downloaded.
    pub fn request_update(&mut self) -> bool {
        if self.kept.state != State::Downloaded {
            return false;
        }
        self.kept.apply_due = true;
        self.set(State::Updating, UpdateResult::Initial, false);
        true
    }

    /// Applies the package now if Update was executed and not yet applied
    /// (the engine calls this once the Execute's response is out).
    pub fn perform_update(&mut self) {
        if self.kept.state != State::Updating || !self.kept.apply_due {
            return;
        }
        self.kept.apply_due = false;
        match self.app.apply() {
            Ok(Applied::Done) => self.set(State::Idle, UpdateResult::Success, false),
            Ok(Applied::Pending) => {}
            Ok(Applied::Deferred) => self.set(State::Downloaded, UpdateResult::Deferred, false),
            Err(e) => self.update_failed(e),
        }
    }

    fn update_failed(&mut self, e: FirmwareError) {
        match e {
            // The package itself is bad: nothing worth keeping (E.6: "an
            // Integrity Check Failure results in the client moving to the
            // Idle state").
            FirmwareError::IntegrityCheckFailure | FirmwareError::UnsupportedPackageType => {
                self.app.reset();
                self.set(State::Idle, e.result(), false);
            }
            _ => self.set(State::Downloaded, UpdateResult::UpdateFailed, false),
        }
    }

    /// Moves the state machine; `in_txn` events wait for the commit,
    /// others are delivered at once.
    fn set(&mut self, state: State, result: UpdateResult, in_txn: bool) {
        if state != self.kept.state {
            self.kept.last_change = self.app.unix_time().or(self.kept.last_change);
        }
        if state != State::Downloading {
            self.kept.offset = 0;
            self.kept.etag = None;
            self.kept.total = None;
        }
        self.kept.state = state;
        self.kept.result = result;
        self.changed = true;
        let e = FirmwareEvent::StateChanged { state, result };
        if in_txn && self.depth > 0 {
            // Held until the commit; dropped by a rollback.
            let _ = self.events.push(ObjectEvent::Firmware(e));
        } else {
            self.immediate_event(e);
        }
    }

    fn immediate_event(&mut self, e: FirmwareEvent) {
        if let (FirmwareEvent::Progress { .. }, Some(last @ FirmwareEvent::Progress { .. })) =
            (e, self.immediate.back_mut())
        {
            *last = e;
            return;
        }
        if self.immediate.len() >= MAX_IMMEDIATE {
            self.immediate.pop_front();
        }
        self.immediate.push_back(e);
    }

    /// Whether `uri` is one the engine would download: `Ok`, or the Update
    /// Result that refuses it.
    fn classify_uri(&self, uri: &str) -> Result<(), UpdateResult> {
        let Some((scheme, _)) = uri.split_once("://") else {
            return Err(UpdateResult::InvalidUri);
        };
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(UpdateResult::InvalidUri);
        }
        match Protocol::of_scheme(scheme) {
            Some(p @ (Protocol::Coap | Protocol::Coaps)) if self.protocols.contains(&p) => {
                super::uri::parse(uri)
                    .map(|_| ())
                    .map_err(|_| UpdateResult::InvalidUri)
            }
            _ => Err(UpdateResult::UnsupportedProtocol),
        }
    }

    /// Empty Package or Package URI: back to Idle (E.6 "resets the Firmware
    /// Update State Machine"), the package discarded at commit.
    fn reset_machine(&mut self) -> Result<(), DmError> {
        if self.kept.state == State::Updating {
            return Err(DmError::MethodNotAllowed);
        }
        self.kept.uri.clear();
        self.discard_package();
        self.kept.apply_due = false;
        self.set(State::Idle, UpdateResult::Initial, true);
        Ok(())
    }

    fn write_uri(&mut self, uri: String) -> Result<(), DmError> {
        if uri.is_empty() {
            return self.reset_machine();
        }
        if uri.len() > MAX_PACKAGE_URI_LEN {
            return Err(DmError::BadRequest);
        }
        if self.kept.state != State::Idle || !self.delivery.pull() {
            return Err(DmError::MethodNotAllowed);
        }
        match self.classify_uri(&uri) {
            Ok(()) => {
                self.kept.uri = uri;
                self.set(State::Downloading, UpdateResult::Initial, true);
            }
            Err(result) => {
                self.kept.uri = uri;
                self.set(State::Idle, result, true);
            }
        }
        Ok(())
    }

    fn push_chunk(&mut self, offset: usize, bytes: &[u8], last: bool) -> Result<(), DmError> {
        let depth = self.depth();
        if offset == 0 && last && matches!(bytes, [] | [0]) {
            // E.6: an empty Package (or NULL, '\0') resets the machine.
            return self.reset_machine();
        }
        let offset = offset as u64;
        if offset == 0 {
            if self.kept.state != State::Idle || !self.delivery.push() || depth == 0 {
                return Err(DmError::MethodNotAllowed);
            }
            self.push = Some(Push {
                depth,
                received: 0,
                failure: None,
            });
            self.kept.uri.clear();
            // Immediate: an abandoned transfer reports its own outcome.
            self.set(State::Downloading, UpdateResult::Initial, false);
            if let Err(e) = self.app.open(None) {
                return Err(self.push_failed(e));
            }
        }
        let Some(push) = self
            .push
            .filter(|p| p.received == offset && p.failure.is_none())
        else {
            return Err(DmError::BadRequest);
        };
        if let Err(e) = self.app.write(offset, bytes) {
            return Err(self.push_failed(e));
        }
        let received = push.received.saturating_add(bytes.len() as u64);
        if let Some(p) = self.push.as_mut() {
            p.received = received;
        }
        self.immediate_event(FirmwareEvent::Progress {
            received,
            total: None,
        });
        if last {
            if let Err(e) = self.app.verify() {
                return Err(self.push_failed(e));
            }
            self.push = None;
            self.set(State::Downloaded, UpdateResult::Initial, true);
        }
        Ok(())
    }

    /// A PUSH step failed: remembered for the rollback that follows.
    fn push_failed(&mut self, e: FirmwareError) -> DmError {
        if let Some(p) = self.push.as_mut() {
            p.failure = Some(e.result());
        }
        e.dm()
    }

    fn depth(&self) -> usize {
        self.depth
    }

    /// Discards the stored package when the transaction commits (at once
    /// outside a transaction).
    fn discard_package(&mut self) {
        if self.depth == 0 {
            self.app.reset();
        } else {
            self.kept.discard = true;
        }
    }

    // ---- the engine's side (client::download) ----

    /// The PULL to run: Downloading from a URI and no PUSH in progress.
    pub(crate) fn pull_request(&self) -> Option<PullRequest<'_>> {
        (self.kept.state == State::Downloading && self.push.is_none() && !self.kept.uri.is_empty())
            .then(|| PullRequest {
                uri: &self.kept.uri,
                offset: self.kept.offset,
                etag: self.kept.etag.as_deref(),
            })
    }

    /// Starts (or restarts, after a changed ETag) the PULL from byte 0.
    pub(crate) fn pull_open(&mut self, size: Option<u64>) -> bool {
        self.kept.offset = 0;
        self.kept.etag = None;
        self.kept.total = size;
        match self.app.open(size) {
            Ok(()) => true,
            Err(e) => {
                self.pull_failed(e.result());
                false
            }
        }
    }

    /// Whether a restored PULL may continue at `offset`.
    pub(crate) fn pull_resume(&mut self, offset: u64) -> bool {
        self.app.resume(offset)
    }

    /// One block of the PULL; `false` when the application failed (the
    /// object is then Idle with the failure's result).
    pub(crate) fn pull_write(
        &mut self,
        bytes: &[u8],
        etag: Option<&[u8]>,
        total: Option<u64>,
    ) -> bool {
        let offset = self.kept.offset;
        if let Err(e) = self.app.write(offset, bytes) {
            self.pull_failed(e.result());
            return false;
        }
        let received = offset.saturating_add(bytes.len() as u64);
        self.kept.offset = received;
        let etag = etag.filter(|e| e.len() <= MAX_ETAG_LEN);
        if self.kept.etag.as_deref() != etag {
            self.kept.etag = etag.map(<[u8]>::to_vec);
        }
        if total.is_some() {
            self.kept.total = total;
        }
        self.immediate_event(FirmwareEvent::Progress {
            received,
            total: self.kept.total,
        });
        true
    }

    /// The last block of the PULL arrived: verify, then Downloaded.
    pub(crate) fn pull_finish(&mut self) -> bool {
        match self.app.verify() {
            Ok(()) => {
                self.set(State::Downloaded, UpdateResult::Initial, false);
                true
            }
            Err(e) => {
                self.pull_failed(e.result());
                false
            }
        }
    }

    /// The PULL failed for good: Idle with `result`.
    pub(crate) fn pull_failed(&mut self, result: UpdateResult) {
        self.app.reset();
        self.set(State::Idle, result, false);
    }

    /// Whether Update was executed and the package awaits `apply`.
    pub(crate) fn update_due(&self) -> bool {
        self.kept.state == State::Updating && self.kept.apply_due
    }

    /// Whether a value changed since the last call (for observers).
    pub(crate) fn take_changed(&mut self) -> bool {
        core::mem::take(&mut self.changed)
    }
}

impl Object for Firmware {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        iid == 0
            && match rid {
                rid::PKG_NAME => self.app.package_name().is_some(),
                rid::PKG_VERSION => self.app.package_version().is_some(),
                rid::PROTOCOL_SUPPORT => !self.protocols.is_empty(),
                rid::LAST_STATE_CHANGE_TIME => self.kept.last_change.is_some(),
                _ => DEF.resource(rid).is_some(),
            }
    }

    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if iid == 0 && rid == rid::PROTOCOL_SUPPORT {
            (0..self.protocols.len())
                .filter_map(|i| Riid::try_from(i).ok())
                .for_each(each);
        }
    }

    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        let k = &self.kept;
        let v = match rid {
            rid::PACKAGE_URI => Some(Value::str(&k.uri)),
            rid::STATE => Some(Value::Integer(k.state.code())),
            rid::UPDATE_RESULT => Some(Value::Integer(k.result.code())),
            rid::PKG_NAME => self.app.package_name().map(Value::str),
            rid::PKG_VERSION => self.app.package_version().map(Value::str),
            rid::PROTOCOL_SUPPORT => riid
                .and_then(|r| self.protocols.get(usize::from(r)))
                .map(|p| Value::Integer(p.code())),
            rid::DELIVERY_METHOD => Some(Value::Integer(self.delivery.code())),
            rid::SEVERITY => Some(Value::Integer(k.severity)),
            rid::LAST_STATE_CHANGE_TIME => k.last_change.map(Value::Time),
            rid::MAXIMUM_DEFER_PERIOD => Some(Value::Unsigned(k.max_defer)),
            _ => None,
        };
        v.ok_or(DmError::NotFound)
    }

    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        _riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        match rid {
            rid::PACKAGE_URI => self.write_uri(string(value)?),
            rid::SEVERITY => {
                let s = int(&value)?;
                if !(0..=2).contains(&s) {
                    return Err(DmError::BadRequest);
                }
                self.kept.severity = s;
                Ok(())
            }
            rid::MAXIMUM_DEFER_PERIOD => {
                self.kept.max_defer = uint(&value)?;
                Ok(())
            }
            _ => Err(DmError::MethodNotAllowed),
        }
    }

    fn write_chunk(
        &mut self,
        iid: Iid,
        rid: Rid,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        if rid != rid::PACKAGE {
            return Err(DmError::MethodNotAllowed);
        }
        self.push_chunk(offset, bytes, last)
    }

    fn execute(&mut self, iid: Iid, rid: Rid, _args: ExecuteArgs<'_>) -> Result<(), DmError> {
        if iid != 0 {
            return Err(DmError::NotFound);
        }
        match (rid, self.kept.state) {
            // E.6: "only executable when the value of the State Resource is
            // Downloaded".
            (rid::UPDATE, State::Downloaded) => {
                self.kept.apply_due = true;
                self.set(State::Updating, UpdateResult::Initial, true);
                Ok(())
            }
            // Cancel: "can be executed if the device has not initiated the
            // Update process"; with nothing to cancel it is refused too.
            (rid::CANCEL, State::Downloading | State::Downloaded) => {
                self.kept.uri.clear();
                self.discard_package();
                self.set(State::Idle, UpdateResult::Cancelled, true);
                Ok(())
            }
            _ => Err(DmError::MethodNotAllowed),
        }
    }

    fn begin(&mut self) {
        self.depth = self.depth.saturating_add(1);
        self.kept.begin();
        self.events.begin();
    }

    fn commit(&mut self) {
        let depth = self.depth();
        if self.push.is_some_and(|p| p.depth == depth) {
            // Committed with the PUSH unfinished: only a bootstrap session
            // nests that way; the partial package cannot be kept.
            self.push = None;
        }
        self.depth = depth.saturating_sub(1);
        self.kept.commit();
        self.events.commit();
        // Committed events join the others in the order they happened.
        while let Some(ObjectEvent::Firmware(e)) = self.events.pop() {
            self.immediate_event(e);
        }
        if !self.kept.in_transaction() && core::mem::take(&mut self.kept.discard) {
            self.app.reset();
        }
    }

    fn rollback(&mut self) {
        let depth = self.depth();
        let push = self.push.filter(|p| p.depth == depth);
        self.depth = depth.saturating_sub(1);
        self.kept.rollback();
        self.events.rollback();
        if let Some(p) = push {
            // An abandoned or failed PUSH: the partial package is useless.
            self.push = None;
            self.app.reset();
            let result = p.failure.unwrap_or(UpdateResult::ConnectionLost);
            self.set(State::Idle, result, false);
        }
    }

    fn poll_event(&mut self) -> Option<ObjectEvent> {
        self.immediate.pop_front().map(ObjectEvent::Firmware)
    }
}

#[cfg(test)]
#[path = "firmware_tests.rs"]
pub(crate) mod tests;
