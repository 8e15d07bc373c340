//! The Firmware Update state machine (Core 1.1 Appendix E.6, Figure
//! E.6.1-1) through the data-model operations a server's requests run:
//! every transition, every Update Result, the application's steps called in
//! order, and transactions (a rolled-back request leaves no trace; an
//! abandoned PUSH leaves Idle with result 4).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::dm::ops::execute::execute;
use crate::dm::ops::write::{WriteMode, write, write_chunk};
use crate::dm::{Handle, Origin, Path, Registry};
use crate::objects::testutil::{e, p};

const S: Origin = Origin::Server(1);

/// An application that records its steps and fails where told.
#[derive(Debug, Default)]
pub(crate) struct App {
    pub log: Vec<String>,
    pub flash: Vec<u8>,
    /// Bytes the storage holds (0: unlimited).
    pub capacity: usize,
    pub fail_open: Option<FirmwareError>,
    /// The first byte of a package this device does not take.
    pub reject_first_byte: Option<u8>,
    pub fail_verify: Option<FirmwareError>,
    pub apply: Option<Result<Applied, FirmwareError>>,
    pub resumable: bool,
    pub clock: Option<i64>,
    pub largest_write: usize,
}

impl FirmwareApp for App {
    fn open(&mut self, size: Option<u64>) -> Result<(), FirmwareError> {
        self.log.push(format!("open {size:?}"));
        self.flash.clear();
        if let Some(e) = self.fail_open {
            return Err(e);
        }
        if self.capacity > 0 && size.is_some_and(|s| s > self.capacity as u64) {
            return Err(FirmwareError::NotEnoughFlash);
        }
        Ok(())
    }
    fn resume(&mut self, offset: u64) -> bool {
        self.log.push(format!("resume {offset}"));
        self.resumable && self.flash.len() as u64 == offset
    }
    fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), FirmwareError> {
        assert_eq!(offset, self.flash.len() as u64, "bytes arrive in order");
        if offset == 0
            && let (Some(b), Some(first)) = (self.reject_first_byte, bytes.first())
            && b == *first
        {
            return Err(FirmwareError::UnsupportedPackageType);
        }
        if self.capacity > 0 && self.flash.len() + bytes.len() > self.capacity {
            return Err(FirmwareError::NotEnoughFlash);
        }
        self.largest_write = self.largest_write.max(bytes.len());
        self.flash.extend_from_slice(bytes);
        Ok(())
    }
    fn verify(&mut self) -> Result<(), FirmwareError> {
        self.log.push("verify".into());
        self.fail_verify.map_or(Ok(()), Err)
    }
    fn apply(&mut self) -> Result<Applied, FirmwareError> {
        self.log.push("apply".into());
        self.apply.unwrap_or(Ok(Applied::Done))
    }
    fn reset(&mut self) {
        self.log.push("reset".into());
        self.flash.clear();
    }
    fn package_name(&self) -> Option<&str> {
        (!self.flash.is_empty()).then_some("fw.bin")
    }
    fn unix_time(&self) -> Option<i64> {
        self.clock
    }
}

fn setup(app: App) -> (Registry, Handle<Firmware>) {
    let mut reg = Registry::new();
    let h = reg.add_object(Firmware::new(app)).unwrap();
    (reg, h)
}

fn fw(reg: &Registry, h: Handle<Firmware>) -> &Firmware {
    reg.object(h).unwrap()
}

fn app(reg: &Registry, h: Handle<Firmware>) -> &App {
    fw(reg, h).app::<App>().unwrap()
}

fn app_mut(reg: &mut Registry, h: Handle<Firmware>) -> &mut App {
    reg.object_mut(h).unwrap().app_mut::<App>().unwrap()
}

fn sr(reg: &Registry, h: Handle<Firmware>) -> (State, UpdateResult) {
    (fw(reg, h).state(), fw(reg, h).update_result())
}

fn write_uri(reg: &mut Registry, uri: &str) -> Result<(), DmError> {
    let v = Value::String(String::from(uri).into());
    write(
        reg,
        S,
        &p("/5/0/1"),
        WriteMode::Replace,
        [Ok(e("/5/0/1", v))],
    )
}

fn write_package(reg: &mut Registry, bytes: &[u8]) -> Result<(), DmError> {
    let v = Value::Opaque(bytes.to_vec().into());
    write(
        reg,
        S,
        &p("/5/0/0"),
        WriteMode::Replace,
        [Ok(e("/5/0/0", v))],
    )
}

fn exec(reg: &mut Registry, rid: Rid) -> Result<(), DmError> {
    execute(reg, S, &Path::resource(5, 0, rid), b"", 8)
}

fn events(reg: &mut Registry, h: Handle<Firmware>) -> Vec<FirmwareEvent> {
    let f = reg.object_mut(h).unwrap();
    let mut out = Vec::new();
    while let Some(ObjectEvent::Firmware(e)) = f.poll_event() {
        out.push(e);
    }
    out
}

fn changed(state: State, result: UpdateResult) -> FirmwareEvent {
    FirmwareEvent::StateChanged { state, result }
}

/// PUSH of `image` in `block`-byte chunks through one suspended
/// transaction, as the engine's streaming Block1 path runs it.
fn push(reg: &mut Registry, image: &[u8], block: usize) -> Result<(), DmError> {
    let path = p("/5/0/0");
    let mut held = None;
    let chunks: Vec<&[u8]> = image.chunks(block).collect();
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let mut t = match held.take() {
            Some(s) => reg.resume(s),
            None => reg.transaction(),
        };
        if let Err(e) = write_chunk(&mut t, S, &path, i * block, c, last) {
            t.rollback();
            return Err(e);
        }
        if last {
            return t.commit();
        }
        held = Some(t.suspend());
    }
    Ok(())
}

/// Downloads `image` to Downloaded by PUSH.
fn downloaded(image: &[u8]) -> (Registry, Handle<Firmware>) {
    let (mut reg, h) = setup(App::default());
    push(&mut reg, image, 16).unwrap();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    events(&mut reg, h);
    (reg, h)
}

#[test]
fn definition_and_initial_values() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string()), (5, "1.1".into()));
    const { assert!(!DEF.multiple) };
    let pkg = DEF.resource(rid::PACKAGE).unwrap();
    assert!(pkg.streaming && pkg.mandatory && pkg.operations == Operations::W);
    for r in [0, 1, 2, 3, 5, 9] {
        assert!(DEF.resource(r).unwrap().mandatory, "{r}");
    }
    assert!(DEF.resource(4).is_none());
    let (reg, h) = setup(App::default());
    let f = fw(&reg, h);
    let read = |r| f.read(0, r, None);
    assert_eq!(read(rid::STATE), Ok(Value::Integer(0)));
    assert_eq!(read(rid::UPDATE_RESULT), Ok(Value::Integer(0)));
    assert_eq!(read(rid::PACKAGE_URI), Ok(Value::str("")));
    assert_eq!(read(rid::DELIVERY_METHOD), Ok(Value::Integer(2)));
    assert_eq!(read(rid::SEVERITY), Ok(Value::Integer(1)));
    assert_eq!(read(rid::MAXIMUM_DEFER_PERIOD), Ok(Value::Unsigned(0)));
    let mut riids = Vec::new();
    f.resource_instances(0, rid::PROTOCOL_SUPPORT, &mut |r| riids.push(r));
    let protos: Vec<_> = riids
        .iter()
        .map(|r| f.read(0, rid::PROTOCOL_SUPPORT, Some(*r)).unwrap())
        .collect();
    assert_eq!(protos, [Value::Integer(0), Value::Integer(1)]);
    // No package, no clock: PkgName and Last State Change Time absent.
    assert!(!f.resource_present(0, rid::PKG_NAME));
    assert!(!f.resource_present(0, rid::LAST_STATE_CHANGE_TIME));
    assert!(f.resource_present(0, rid::CANCEL));
    assert!(!f.resource_present(1, rid::STATE));
    assert_eq!(f.read(1, rid::STATE, None), Err(DmError::NotFound));
}

#[test]
fn push_streams_chunks_then_update_succeeds() {
    let (mut reg, h) = setup(App {
        clock: Some(1_700_000_000),
        ..App::default()
    });
    let image: Vec<u8> = (0..100u8).collect();
    push(&mut reg, &image, 16).unwrap();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    let a = app(&reg, h);
    assert_eq!(a.flash, image);
    assert_eq!(a.largest_write, 16, "one chunk at a time");
    assert_eq!(a.log, ["open None", "verify"]);
    assert_eq!(
        events(&mut reg, h),
        [
            changed(State::Downloading, UpdateResult::Initial),
            FirmwareEvent::Progress {
                received: 100,
                total: None
            },
            changed(State::Downloaded, UpdateResult::Initial),
        ]
    );
    assert_eq!(
        fw(&reg, h).read(0, rid::LAST_STATE_CHANGE_TIME, None),
        Ok(Value::Time(1_700_000_000))
    );
    assert_eq!(
        fw(&reg, h).read(0, rid::PKG_NAME, None),
        Ok(Value::str("fw.bin"))
    );
    // Update: Updating at once (result back to 0), applied afterwards.
    exec(&mut reg, rid::UPDATE).unwrap();
    assert_eq!(sr(&reg, h), (State::Updating, UpdateResult::Initial));
    assert!(fw(&reg, h).update_due());
    assert!(!app(&reg, h).log.contains(&"apply".into()));
    reg.object_mut(h).unwrap().perform_update();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Success));
    assert!(!fw(&reg, h).update_due());
    assert_eq!(
        events(&mut reg, h),
        [
            changed(State::Updating, UpdateResult::Initial),
            changed(State::Idle, UpdateResult::Success)
        ]
    );
    // Applying twice does nothing.
    reg.object_mut(h).unwrap().perform_update();
    assert_eq!(app(&reg, h).log.iter().filter(|l| *l == "apply").count(), 1);
}

#[test]
fn a_package_in_one_write_and_a_second_download_after_success() {
    let (mut reg, h) = setup(App::default());
    write_package(&mut reg, b"small image").unwrap();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    exec(&mut reg, rid::UPDATE).unwrap();
    reg.object_mut(h).unwrap().perform_update();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Success));
    // Idle after success takes a new package; the result returns to 0.
    write_package(&mut reg, b"next").unwrap();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
}

#[test]
fn package_uri_schemes_and_syntax_set_the_result() {
    for (uri, want) in [
        (
            "coap://fw.example/a/b.bin",
            (State::Downloading, UpdateResult::Initial),
        ),
        (
            "coaps://[2001:db8::1]:5684/fw",
            (State::Downloading, UpdateResult::Initial),
        ),
        ("COAP://h", (State::Downloading, UpdateResult::Initial)),
        (
            "http://fw.example/a.bin",
            (State::Idle, UpdateResult::UnsupportedProtocol),
        ),
        (
            "https://fw.example/a.bin",
            (State::Idle, UpdateResult::UnsupportedProtocol),
        ),
        (
            "coap+tcp://h/fw",
            (State::Idle, UpdateResult::UnsupportedProtocol),
        ),
        (
            "ftp://h/fw",
            (State::Idle, UpdateResult::UnsupportedProtocol),
        ),
        ("not a uri", (State::Idle, UpdateResult::InvalidUri)),
        ("coap://", (State::Idle, UpdateResult::InvalidUri)),
        ("coap://h:99999/fw", (State::Idle, UpdateResult::InvalidUri)),
        ("coap://h/fw#frag", (State::Idle, UpdateResult::InvalidUri)),
        ("://h", (State::Idle, UpdateResult::InvalidUri)),
    ] {
        let (mut reg, h) = setup(App::default());
        // Errors of the process are reported only through Update Result.
        assert_eq!(write_uri(&mut reg, uri), Ok(()), "{uri}");
        assert_eq!(sr(&reg, h), want, "{uri}");
        assert_eq!(fw(&reg, h).package_uri(), uri);
        assert_eq!(events(&mut reg, h), [changed(want.0, want.1)], "{uri}");
        assert_eq!(
            fw(&reg, h).download_state().is_some(),
            want.0 == State::Downloading
        );
    }
    // Longer than the resource's range: refused outright.
    let (mut reg, h) = setup(App::default());
    let long = format!("coap://h/{}", "a".repeat(250));
    assert_eq!(write_uri(&mut reg, &long), Err(DmError::BadRequest));
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
    // Without CoAPS in the protocol list, coaps is unsupported.
    let mut reg = Registry::new();
    let h = reg
        .add_object(Firmware::new(App::default()).with_protocols(&[Protocol::Coap]))
        .unwrap();
    write_uri(&mut reg, "coaps://h/fw").unwrap();
    assert_eq!(
        sr(&reg, h),
        (State::Idle, UpdateResult::UnsupportedProtocol)
    );
}

#[test]
fn pull_steps_reach_downloaded_and_every_pull_failure_its_result() {
    let (mut reg, h) = setup(App::default());
    write_uri(&mut reg, "coap://h/fw").unwrap();
    let f = reg.object_mut(h).unwrap();
    let req = f.pull_request().unwrap();
    assert_eq!((req.uri, req.offset, req.etag), ("coap://h/fw", 0, None));
    assert!(f.pull_open(Some(8)));
    assert!(f.pull_write(b"abcd", Some(b"e1"), Some(8)));
    assert_eq!(
        f.download_state(),
        Some(DownloadState {
            uri: "coap://h/fw".into(),
            offset: 4,
            etag: Some(b"e1".to_vec())
        })
    );
    assert!(f.pull_write(b"efgh", Some(b"e1"), None));
    assert!(f.pull_finish());
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    assert_eq!(app(&reg, h).flash, b"abcdefgh");
    assert_eq!(fw(&reg, h).download_state(), None);
    let ev = events(&mut reg, h);
    assert!(ev.contains(&FirmwareEvent::Progress {
        received: 8,
        total: Some(8)
    }));
    assert_eq!(
        ev.last(),
        Some(&changed(State::Downloaded, UpdateResult::Initial))
    );

    // Each application failure during a PULL, and the engine's own.
    type Setup = fn(&mut App);
    let cases: [(Setup, UpdateResult); 4] = [
        (
            |a| a.fail_open = Some(FirmwareError::OutOfRam),
            UpdateResult::OutOfRam,
        ),
        (|a| a.capacity = 4, UpdateResult::NotEnoughFlash),
        (
            |a| a.reject_first_byte = Some(b'a'),
            UpdateResult::UnsupportedPackageType,
        ),
        (
            |a| a.fail_verify = Some(FirmwareError::IntegrityCheckFailure),
            UpdateResult::IntegrityCheckFailure,
        ),
    ];
    for (prepare, want) in cases {
        let (mut reg, h) = setup(App::default());
        prepare(app_mut(&mut reg, h));
        write_uri(&mut reg, "coap://h/fw").unwrap();
        let f = reg.object_mut(h).unwrap();
        let _ = f.pull_open(None)
            && f.pull_write(b"abcd", None, None)
            && f.pull_write(b"efgh", None, None)
            && f.pull_finish();
        assert_eq!(sr(&reg, h), (State::Idle, want));
        assert_eq!(app(&reg, h).log.last().map(String::as_str), Some("reset"));
        assert_eq!(fw(&reg, h).pull_request(), None);
    }
    for result in [UpdateResult::ConnectionLost, UpdateResult::InvalidUri] {
        let (mut reg, h) = setup(App::default());
        write_uri(&mut reg, "coap://h/fw").unwrap();
        reg.object_mut(h).unwrap().pull_failed(result);
        assert_eq!(sr(&reg, h), (State::Idle, result));
    }
}

#[test]
fn every_push_failure_rolls_back_to_idle_with_its_result() {
    type Setup = fn(&mut App);
    let cases: [(Setup, UpdateResult, DmError); 4] = [
        (
            |a| a.fail_open = Some(FirmwareError::OutOfRam),
            UpdateResult::OutOfRam,
            DmError::Internal,
        ),
        (
            |a| a.capacity = 40,
            UpdateResult::NotEnoughFlash,
            DmError::RequestEntityTooLarge,
        ),
        (
            |a| a.reject_first_byte = Some(0),
            UpdateResult::UnsupportedPackageType,
            DmError::UnsupportedContentFormat,
        ),
        (
            |a| a.fail_verify = Some(FirmwareError::IntegrityCheckFailure),
            UpdateResult::IntegrityCheckFailure,
            DmError::BadRequest,
        ),
    ];
    let image: Vec<u8> = (0..100u8).collect();
    for (prepare, want, code) in cases {
        let (mut reg, h) = setup(App::default());
        prepare(app_mut(&mut reg, h));
        assert_eq!(push(&mut reg, &image, 16), Err(code), "{want:?}");
        assert_eq!(sr(&reg, h), (State::Idle, want));
        assert!(app(&reg, h).flash.is_empty());
        assert_eq!(app(&reg, h).log.last().map(String::as_str), Some("reset"));
        assert_eq!(
            events(&mut reg, h).last(),
            Some(&changed(State::Idle, want))
        );
        // The object is free again: a new PUSH goes through.
        app_mut(&mut reg, h).fail_open = None;
        app_mut(&mut reg, h).capacity = 0;
        app_mut(&mut reg, h).reject_first_byte = None;
        app_mut(&mut reg, h).fail_verify = None;
        push(&mut reg, &image, 16).unwrap();
        assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    }
}

#[test]
fn abandoned_push_is_idle_with_connection_lost() {
    let (mut reg, h) = setup(App::default());
    let path = p("/5/0/0");
    let mut t = reg.transaction();
    write_chunk(&mut t, S, &path, 0, &[1; 16], false).unwrap();
    let held = t.suspend();
    // Meanwhile the object is held: another request gets 5.03.
    assert_eq!(
        write_uri(&mut reg, "coap://h/x"),
        Err(DmError::ServiceUnavailable)
    );
    assert_eq!(app(&reg, h).flash.len(), 16);
    // Timeout, 4.08 or a new block 0: the engine abandons the transaction.
    reg.abandon(held);
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::ConnectionLost));
    assert!(app(&reg, h).flash.is_empty());
    assert_eq!(
        events(&mut reg, h),
        [
            changed(State::Downloading, UpdateResult::Initial),
            FirmwareEvent::Progress {
                received: 16,
                total: None
            },
            changed(State::Idle, UpdateResult::ConnectionLost),
        ]
    );
    // A chunk out of order is refused and rolls back the same way.
    let mut t = reg.transaction();
    write_chunk(&mut t, S, &path, 0, &[1; 16], false).unwrap();
    assert_eq!(
        write_chunk(&mut t, S, &path, 32, &[1; 16], false),
        Err(DmError::BadRequest)
    );
    t.rollback();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::ConnectionLost));
}

#[test]
fn empty_package_or_uri_resets_to_idle_and_discards_at_commit() {
    for reset in [
        |r: &mut Registry| write_uri(r, ""),
        |r: &mut Registry| write_package(r, b""),
        |r: &mut Registry| write_package(r, b"\0"),
    ] {
        // From Downloaded (PUSH) ...
        let (mut reg, h) = downloaded(b"image");
        reset(&mut reg).unwrap();
        assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
        assert_eq!(app(&reg, h).log.last().map(String::as_str), Some("reset"));
        assert!(app(&reg, h).flash.is_empty());
        assert_eq!(
            events(&mut reg, h),
            [changed(State::Idle, UpdateResult::Initial)]
        );
        // ... from Downloading (PULL) ...
        let (mut reg, h) = setup(App::default());
        write_uri(&mut reg, "coap://h/fw").unwrap();
        reset(&mut reg).unwrap();
        assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
        assert_eq!(fw(&reg, h).package_uri(), "");
        // ... and from Idle after a failure: the result returns to 0.
        let (mut reg, h) = setup(App::default());
        write_uri(&mut reg, "http://h/fw").unwrap();
        reset(&mut reg).unwrap();
        assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
    }
    // Not while Updating.
    let (mut reg, h) = downloaded(b"image");
    exec(&mut reg, rid::UPDATE).unwrap();
    assert_eq!(write_uri(&mut reg, ""), Err(DmError::MethodNotAllowed));
    assert_eq!(sr(&reg, h), (State::Updating, UpdateResult::Initial));
}

#[test]
fn a_rolled_back_request_leaves_no_trace() {
    // A reset inside a transaction that fails: the package survives.
    let (mut reg, h) = downloaded(b"image");
    let mut t = reg.transaction();
    t.object_mut(5)
        .unwrap()
        .write(0, rid::PACKAGE_URI, None, Value::str(""))
        .unwrap();
    t.rollback();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    assert_eq!(app(&reg, h).flash, b"image");
    assert!(!app(&reg, h).log.contains(&"reset".into()));
    assert_eq!(events(&mut reg, h), []);
    // A URI write that rolls back starts nothing.
    let (mut reg, h) = setup(App::default());
    let mut t = reg.transaction();
    t.object_mut(5)
        .unwrap()
        .write(0, rid::PACKAGE_URI, None, Value::str("coap://h/fw"))
        .unwrap();
    t.rollback();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
    assert_eq!(fw(&reg, h).pull_request(), None);
    assert_eq!(events(&mut reg, h), []);
}

#[test]
fn operations_the_state_machine_does_not_name_are_refused() {
    // Update only from Downloaded.
    let (mut reg, h) = setup(App::default());
    assert_eq!(exec(&mut reg, rid::UPDATE), Err(DmError::MethodNotAllowed));
    write_uri(&mut reg, "coap://h/fw").unwrap();
    assert_eq!(exec(&mut reg, rid::UPDATE), Err(DmError::MethodNotAllowed));
    // No new package or URI while Downloading.
    assert_eq!(
        write_uri(&mut reg, "coap://h/other"),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        write_package(&mut reg, b"x"),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(sr(&reg, h), (State::Downloading, UpdateResult::Initial));
    assert_eq!(fw(&reg, h).package_uri(), "coap://h/fw");
    // Nor while Downloaded or Updating.
    let (mut reg, h) = downloaded(b"image");
    assert_eq!(
        write_package(&mut reg, b"x"),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        write_uri(&mut reg, "coap://h/fw"),
        Err(DmError::MethodNotAllowed)
    );
    exec(&mut reg, rid::UPDATE).unwrap();
    assert_eq!(exec(&mut reg, rid::UPDATE), Err(DmError::MethodNotAllowed));
    assert_eq!(exec(&mut reg, rid::CANCEL), Err(DmError::MethodNotAllowed));
    assert_eq!(sr(&reg, h), (State::Updating, UpdateResult::Initial));
    // Cancel with nothing to cancel.
    let (mut reg, _) = setup(App::default());
    assert_eq!(exec(&mut reg, rid::CANCEL), Err(DmError::MethodNotAllowed));
    // Read-only and executable resources.
    let (mut reg, _) = setup(App::default());
    let f = reg.object_mut(h).unwrap();
    assert_eq!(
        f.write(0, rid::STATE, None, Value::Integer(2)),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        f.write_chunk(0, rid::PACKAGE_URI, 0, b"x", true),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        f.write_chunk(1, rid::PACKAGE, 0, b"x", true),
        Err(DmError::NotFound)
    );
}

#[test]
fn cancel_from_downloading_and_downloaded() {
    let (mut reg, h) = setup(App::default());
    write_uri(&mut reg, "coap://h/fw").unwrap();
    exec(&mut reg, rid::CANCEL).unwrap();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Cancelled));
    assert_eq!(fw(&reg, h).pull_request(), None);
    let (mut reg, h) = downloaded(b"image");
    exec(&mut reg, rid::CANCEL).unwrap();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Cancelled));
    assert!(app(&reg, h).flash.is_empty());
    assert_eq!(
        events(&mut reg, h),
        [changed(State::Idle, UpdateResult::Cancelled)]
    );
}

#[test]
fn every_apply_outcome() {
    let cases = [
        (
            Ok(Applied::Done),
            (State::Idle, UpdateResult::Success),
            false,
        ),
        (
            Ok(Applied::Deferred),
            (State::Downloaded, UpdateResult::Deferred),
            false,
        ),
        (
            Ok(Applied::Pending),
            (State::Updating, UpdateResult::Initial),
            false,
        ),
        (
            Err(FirmwareError::UpdateFailed),
            (State::Downloaded, UpdateResult::UpdateFailed),
            false,
        ),
        (
            Err(FirmwareError::NotEnoughFlash),
            (State::Downloaded, UpdateResult::UpdateFailed),
            false,
        ),
        (
            Err(FirmwareError::IntegrityCheckFailure),
            (State::Idle, UpdateResult::IntegrityCheckFailure),
            true,
        ),
        (
            Err(FirmwareError::UnsupportedPackageType),
            (State::Idle, UpdateResult::UnsupportedPackageType),
            true,
        ),
    ];
    for (outcome, want, discarded) in cases {
        let (mut reg, h) = downloaded(b"image");
        app_mut(&mut reg, h).apply = Some(outcome);
        exec(&mut reg, rid::UPDATE).unwrap();
        reg.object_mut(h).unwrap().perform_update();
        assert_eq!(sr(&reg, h), want, "{outcome:?}");
        assert_eq!(app(&reg, h).flash.is_empty(), discarded, "{outcome:?}");
    }
    // Deferred: Update again, or the user accepts it.
    let (mut reg, h) = downloaded(b"image");
    app_mut(&mut reg, h).apply = Some(Ok(Applied::Deferred));
    exec(&mut reg, rid::UPDATE).unwrap();
    reg.object_mut(h).unwrap().perform_update();
    app_mut(&mut reg, h).apply = None;
    assert!(reg.object_mut(h).unwrap().request_update());
    assert!(fw(&reg, h).update_due());
    reg.object_mut(h).unwrap().perform_update();
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Success));
    assert!(!reg.object_mut(h).unwrap().request_update());
    // Pending (a reboot): the outcome comes later, even on a fresh object.
    let (mut reg, h) = downloaded(b"image");
    app_mut(&mut reg, h).apply = Some(Ok(Applied::Pending));
    exec(&mut reg, rid::UPDATE).unwrap();
    reg.object_mut(h).unwrap().perform_update();
    reg.object_mut(h)
        .unwrap()
        .update_finished(Err(FirmwareError::UpdateFailed));
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::UpdateFailed));
    let (mut reg, h) = setup(App::default());
    reg.object_mut(h).unwrap().update_finished(Ok(()));
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Success));
}

#[test]
fn delivery_method_limits_push_or_pull() {
    let mut reg = Registry::new();
    let h = reg
        .add_object(Firmware::new(App::default()).with_delivery(DeliveryMethod::Push))
        .unwrap();
    assert_eq!(
        write_uri(&mut reg, "coap://h/fw"),
        Err(DmError::MethodNotAllowed)
    );
    assert_eq!(
        fw(&reg, h).read(0, rid::DELIVERY_METHOD, None),
        Ok(Value::Integer(1))
    );
    write_package(&mut reg, b"ok").unwrap();
    let mut reg = Registry::new();
    let h = reg
        .add_object(Firmware::new(App::default()).with_delivery(DeliveryMethod::Pull))
        .unwrap();
    assert_eq!(
        write_package(&mut reg, b"x"),
        Err(DmError::MethodNotAllowed)
    );
    write_uri(&mut reg, "coap://h/fw").unwrap();
    assert_eq!(sr(&reg, h), (State::Downloading, UpdateResult::Initial));
}

#[test]
fn severity_and_defer_period() {
    let (mut reg, h) = setup(App::default());
    let w = |reg: &mut Registry, r: &str, v: Value<'static>| {
        write(reg, S, &p(r), WriteMode::Replace, [Ok(e(r, v))])
    };
    w(&mut reg, "/5/0/11", Value::Integer(0)).unwrap();
    assert_eq!(
        w(&mut reg, "/5/0/11", Value::Integer(3)),
        Err(DmError::BadRequest)
    );
    w(&mut reg, "/5/0/13", Value::Unsigned(3600)).unwrap();
    assert_eq!(
        (fw(&reg, h).severity(), fw(&reg, h).maximum_defer_period()),
        (0, 3600)
    );
}

#[test]
fn restore_download_resumes_a_saved_pull() {
    let saved = DownloadState {
        uri: "coap://h/fw".into(),
        offset: 2048,
        etag: Some(vec![7; 4]),
    };
    let (mut reg, h) = setup(App::default());
    reg.object_mut(h)
        .unwrap()
        .restore_download(saved.clone())
        .unwrap();
    assert_eq!(sr(&reg, h), (State::Downloading, UpdateResult::Initial));
    assert_eq!(fw(&reg, h).download_state(), Some(saved.clone()));
    let req = fw(&reg, h).pull_request().unwrap();
    assert_eq!((req.offset, req.etag), (2048, Some(&[7u8; 4][..])));
    // Only when Idle, and only a URI the object would download.
    assert_eq!(
        reg.object_mut(h).unwrap().restore_download(saved.clone()),
        Err(DmError::MethodNotAllowed)
    );
    let (mut reg, h) = setup(App::default());
    let bad = DownloadState {
        uri: "http://h/fw".into(),
        ..saved
    };
    assert_eq!(
        reg.object_mut(h).unwrap().restore_download(bad),
        Err(DmError::BadRequest)
    );
    assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
}

#[test]
fn resources_read_and_written_in_every_format() {
    use crate::content::Format;
    use crate::objects::testutil::{ALL, HIERARCHICAL, read_as, write_as};
    let instance = |uri: &str| {
        alloc::vec![
            e("/5/0/1", Value::String(String::from(uri).into())),
            e("/5/0/3", Value::Integer(1)),
            e("/5/0/5", Value::Integer(0)),
            e("/5/0/8/0", Value::Integer(0)),
            e("/5/0/8/1", Value::Integer(1)),
            e("/5/0/9", Value::Integer(2)),
            e("/5/0/11", Value::Integer(2)),
            e("/5/0/13", Value::Unsigned(60)),
        ]
    };
    let writable = [
        e("/5/0/1", Value::str("coap://h/fw")),
        e("/5/0/11", Value::Integer(2)),
        e("/5/0/13", Value::Unsigned(60)),
    ];
    for f in HIERARCHICAL {
        let (mut reg, _) = setup(App::default());
        write_as(&mut reg, S, "/5/0", WriteMode::Update, f, &writable).unwrap();
        let got = read_as(&reg, S, "/5/0", f).unwrap();
        assert_eq!(got, instance("coap://h/fw"), "{f:?}");
        // An invalid Severity in the same request: nothing changes.
        let (mut reg, h) = setup(App::default());
        let bad = [
            e("/5/0/1", Value::str("coap://h/fw")),
            e("/5/0/11", Value::Integer(7)),
        ];
        assert_eq!(
            write_as(&mut reg, S, "/5/0", WriteMode::Update, f, &bad),
            Err(DmError::BadRequest),
            "{f:?}"
        );
        assert_eq!(sr(&reg, h), (State::Idle, UpdateResult::Initial));
        assert_eq!((fw(&reg, h).package_uri(), fw(&reg, h).severity()), ("", 1));
    }
    for f in ALL {
        let (mut reg, _) = setup(App::default());
        for v in &writable {
            let path = v.path.to_string();
            write_as(
                &mut reg,
                S,
                &path,
                WriteMode::Replace,
                f,
                core::slice::from_ref(v),
            )
            .unwrap();
            assert_eq!(
                read_as(&reg, S, &path, f).unwrap(),
                core::slice::from_ref(v),
                "{f:?}"
            );
        }
        assert_eq!(
            read_as(&reg, S, "/5/0/3", f).unwrap(),
            [e("/5/0/3", Value::Integer(1))]
        );
    }
    // The package as Opaque (42), whole.
    let (mut reg, h) = setup(App::default());
    let pkg = [e("/5/0/0", Value::Opaque(b"\x7fELF".to_vec().into()))];
    write_as(
        &mut reg,
        S,
        "/5/0/0",
        WriteMode::Replace,
        Format::Opaque,
        &pkg,
    )
    .unwrap();
    assert_eq!(sr(&reg, h), (State::Downloaded, UpdateResult::Initial));
    assert_eq!(app(&reg, h).flash, b"\x7fELF");
}
