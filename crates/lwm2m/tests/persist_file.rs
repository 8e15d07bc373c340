//! The state file (SPEC §4): "Security, Server and Access Control instances
//! and the observation attributes survive a restart. [...] A corrupt or
//! foreign file gives a clear error and a fallback to the factory
//! configuration; it never panics."
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod persist_common;

use std::io;

use lwm2m::core::persist::{self, FORMAT_VERSION, HEADER_LEN, PersistError};
use lwm2m::persist::{RestoreError, Source, StateFile};
use persist_common::{Dm, TempDir, apply_factory, config_a, config_b, factory};

/// Restores `file` into a fresh (empty-objects) data model the way the demo
/// client does at start.
fn restore(file: &StateFile) -> (Dm, Source) {
    let mut d = factory();
    // The objects are registered; their content is what the file or the
    // factory says.
    let r = file.restore(
        &mut d,
        |d, bytes| persist::load(bytes, &mut d.reg, &mut d.attrs).map(|_| ()),
        apply_factory,
    );
    (d, r.source)
}

#[test]
fn a_saved_configuration_survives_a_restart() {
    let dir = TempDir::new("roundtrip");
    let file = StateFile::new(dir.path().join("lwm2m.state"));
    let a = config_a();
    assert!(a.bytes().len() > 3000, "config A is a few KiB");
    file.save(&a.bytes()).unwrap();
    assert_eq!(file.load().unwrap(), Some(a.bytes()));
    let (d, source) = restore(&file);
    assert!(matches!(source, Source::File), "{source:?}");
    assert_eq!(d.bytes(), a.bytes());
    assert_eq!(d.attrs, a.attrs);
    // A later save replaces it whole.
    let b = config_b();
    file.save(&b.bytes()).unwrap();
    let (d, _) = restore(&file);
    assert_eq!(d.bytes(), b.bytes());
    assert!(!file.temp_path().exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the state file holds keys");
    }
}

#[test]
fn a_missing_file_means_factory_configuration_without_error() {
    let dir = TempDir::new("missing");
    let file = StateFile::new(dir.path().join("never-written"));
    assert_eq!(file.load().unwrap(), None);
    let mut d = config_a();
    let r = file.restore(
        &mut d,
        |_, _| panic!("nothing to load"),
        |d| {
            apply_factory(d);
            7
        },
    );
    assert!(matches!(r.source, Source::Missing));
    assert_eq!(r.value, 7);
    assert_eq!(d.bytes(), factory().bytes());
}

#[track_caller]
fn falls_back(contents: &[u8], want: PersistError) {
    let dir = TempDir::new("bad");
    let file = StateFile::new(dir.path().join("lwm2m.state"));
    std::fs::write(file.path(), contents).unwrap();
    let (d, source) = restore(&file);
    match &source {
        Source::Factory(RestoreError::Format(e)) => assert_eq!(*e, want),
        other => panic!("expected {want:?}, got {other:?}"),
    }
    assert_eq!(d.bytes(), factory().bytes(), "factory configuration in use");
    // The message names the file and the reason, on one line.
    let Source::Factory(err) = source else {
        unreachable!()
    };
    let msg = err.message(file.path());
    assert!(msg.contains(&file.path().display().to_string()), "{msg}");
    assert!(msg.contains(&want.to_string()), "{msg}");
    assert!(!msg.contains('\n'));
    // The file is left for inspection.
    assert_eq!(std::fs::read(file.path()).unwrap(), contents);
}

#[test]
fn corrupt_foreign_truncated_and_newer_files_fall_back_to_factory() {
    let good = config_a().bytes();
    let mut corrupt = good.clone();
    corrupt[good.len() / 2] ^= 0x01;
    falls_back(&corrupt, PersistError::ChecksumMismatch);
    falls_back(b"[security]\nuri = \"coap://x\"\n", PersistError::BadMagic);
    falls_back(
        &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0],
        PersistError::BadMagic,
    );
    falls_back(&good[..good.len() - 100], PersistError::Truncated);
    falls_back(&good[..HEADER_LEN - 1], PersistError::Truncated);
    falls_back(b"", PersistError::Truncated);
    let mut newer = good.clone();
    newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    falls_back(
        &newer,
        PersistError::UnsupportedVersion {
            version: FORMAT_VERSION + 1,
            flags: 0,
        },
    );
    let mut longer = good.clone();
    longer.extend_from_slice(b"junk");
    falls_back(&longer, PersistError::Malformed { at: good.len() });
}

#[test]
fn an_unreadable_or_oversized_file_falls_back_to_factory() {
    let dir = TempDir::new("unreadable");
    // A directory where the file should be cannot be read (permissions
    // would not stop a test run as root).
    let file = StateFile::new(dir.path().join("state"));
    std::fs::create_dir(file.path()).unwrap();
    assert!(file.load().is_err());
    let (d, source) = restore(&file);
    assert!(
        matches!(source, Source::Factory(RestoreError::Read(_))),
        "{source:?}"
    );
    assert_eq!(d.bytes(), factory().bytes());

    let file = StateFile::new(dir.path().join("big")).with_max_len(1000);
    std::fs::write(file.path(), config_a().bytes()).unwrap();
    let err = file.load().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    let (_, source) = restore(&file);
    let Source::Factory(RestoreError::Read(e)) = source else {
        panic!("{source:?}")
    };
    assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    // At the bound exactly it loads.
    let exact = StateFile::new(file.path()).with_max_len(config_a().bytes().len());
    assert_eq!(exact.load().unwrap(), Some(config_a().bytes()));
}

#[test]
fn a_temporary_file_left_by_a_crash_is_ignored_then_replaced() {
    let dir = TempDir::new("stale");
    let file = StateFile::new(dir.path().join("lwm2m.state"));
    assert_eq!(
        file.temp_path(),
        dir.path().join("lwm2m.state.tmp"),
        "same directory, so the rename stays on one file system"
    );
    let a = config_a();
    file.save(&a.bytes()).unwrap();
    // A crash half way through the next save.
    let b = config_b().bytes();
    std::fs::write(file.temp_path(), &b[..b.len() / 3]).unwrap();
    assert_eq!(file.load().unwrap(), Some(a.bytes()));
    let (d, source) = restore(&file);
    assert!(matches!(source, Source::File));
    assert_eq!(d.bytes(), a.bytes());
    file.save(&b).unwrap();
    assert!(!file.temp_path().exists());
    assert_eq!(file.load().unwrap(), Some(b));
}

#[test]
fn a_failed_save_keeps_the_old_file() {
    let dir = TempDir::new("failsave");
    let file = StateFile::new(dir.path().join("no-such-dir").join("lwm2m.state"));
    assert_eq!(file.save(b"x").unwrap_err().kind(), io::ErrorKind::NotFound);
    // A directory squatting on the target: the rename fails, the old
    // "file" is untouched and no temporary file stays behind.
    let file = StateFile::new(dir.path().join("target"));
    std::fs::create_dir(file.path()).unwrap();
    std::fs::write(file.path().join("inside"), b"keep").unwrap();
    assert!(file.save(&config_a().bytes()).is_err());
    assert!(!file.temp_path().exists());
    assert_eq!(std::fs::read(file.path().join("inside")).unwrap(), b"keep");
}
