//! The state file: the bytes of [`lwm2m_core::persist`] written atomically
//! (SPEC §4: "a process killed at any instant leaves either the old or the
//! new state, never a corrupt one").
//!
//! [`StateFile::save`] writes a temporary file beside the target
//! (`<path>.tmp`, created afresh with mode 0600 because it holds keys),
//! `fsync`s it, renames it over the target, then `fsync`s the directory so
//! the rename itself survives a power cut. A rename within one file system
//! replaces the name atomically (POSIX `rename(2)`), so a reader, or the
//! next start after a crash, finds the complete old file or the complete new
//! one. A temporary file left behind by a crash is never read, and the next
//! save replaces it.
//!
//! [`StateFile::restore`] is the start-up policy: load the file; if it is
//! missing, or cannot be read or decoded, use the factory configuration, and
//! in the latter case say why on one line naming the file.
//!
//! ```no_run
//! use lwm2m::core::dm::{AttributeStore, Registry};
//! use lwm2m::core::persist::{self, DEFAULT_OBJECTS};
//! use lwm2m::persist::{Source, StateFile};
//!
//! # fn factory(_: &mut Registry, _: &mut AttributeStore) {}
//! let file = StateFile::new("/var/lib/my-device/lwm2m.state");
//! let mut dm = (Registry::new(), AttributeStore::new(64));
//! // ... add the Security, Server and Access Control objects to dm.0 ...
//! let restored = file.restore(
//!     &mut dm,
//!     |(reg, attrs), bytes| persist::load(bytes, reg, attrs).map(|_| ()),
//!     |(reg, attrs)| factory(reg, attrs),
//! );
//! if let Source::Factory(why) = &restored.source {
//!     // Already logged; the application may also report it.
//!     let _ = why;
//! }
//! // After every committed change to /0, /1, /2 or the attributes:
//! let bytes = persist::save_to_vec(&dm.0, &dm.1, &DEFAULT_OBJECTS, &[], 1 << 20).unwrap();
//! file.save(&bytes).unwrap();
//! ```

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use lwm2m_core::persist::PersistError;

/// A state file at a fixed path, read and written whole.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
    tmp: PathBuf,
    max_len: usize,
}

impl StateFile {
    /// The default bound on the file size [`StateFile::load`] accepts.
    pub const DEFAULT_MAX_LEN: usize = 1 << 20;

    /// The state file at `path`; its temporary file is `<path>.tmp`.
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        let path = path.into();
        let mut tmp = OsString::from(path.as_os_str());
        tmp.push(".tmp");
        StateFile {
            path,
            tmp: PathBuf::from(tmp),
            max_len: StateFile::DEFAULT_MAX_LEN,
        }
    }

    /// Refuses to load files larger than `max_len` bytes.
    pub fn with_max_len(mut self, max_len: usize) -> StateFile {
        self.max_len = max_len;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file a save writes before renaming it.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Replaces the file's contents with `bytes` atomically (see the module
    /// documentation). On error the old file is intact and no temporary file
    /// is left behind (as far as removing it succeeds).
    pub fn save(&self, bytes: &[u8]) -> io::Result<()> {
        let r = self.write_and_rename(bytes);
        if r.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        r
    }

    fn write_and_rename(&self, bytes: &[u8]) -> io::Result<()> {
        // A stale temporary file (a crash mid-save) is removed, not reused:
        // `create_new` then makes a fresh file with our mode and never
        // follows a link planted in its place.
        match fs::remove_file(&self.tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&self.tmp, &self.path)?;
        sync_dir(&self.path)
    }

    /// The file's contents; `Ok(None)` if it does not exist. A file larger
    /// than the bound ([`StateFile::with_max_len`]) is an error of kind
    /// [`io::ErrorKind::FileTooLarge`], read no further.
    pub fn load(&self) -> io::Result<Option<Vec<u8>>> {
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let limit = u64::try_from(self.max_len).unwrap_or(u64::MAX);
        let mut bytes = Vec::new();
        f.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() > self.max_len {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("larger than {} bytes", self.max_len),
            ));
        }
        Ok(Some(bytes))
    }

    /// Start-up policy: reads the file and hands its bytes to `load`; when
    /// the file is missing, uses `factory` instead, and when it cannot be
    /// read or `load` fails, writes one line naming the file and the reason
    /// to standard error ([`RestoreError::message`]) and uses `factory`.
    /// `ctx` is what both closures change (the data model), passed to
    /// whichever runs.
    ///
    /// `load` must leave `ctx` as it was when it fails, as
    /// [`lwm2m_core::persist::load`] does. The file is left in place; the
    /// next save replaces it.
    pub fn restore<C: ?Sized, T>(
        &self,
        ctx: &mut C,
        load: impl FnOnce(&mut C, &[u8]) -> Result<T, PersistError>,
        factory: impl FnOnce(&mut C) -> T,
    ) -> Restored<T> {
        let err = match self.load() {
            Ok(None) => {
                return Restored {
                    value: factory(ctx),
                    source: Source::Missing,
                };
            }
            Ok(Some(bytes)) => match load(ctx, &bytes) {
                Ok(value) => {
                    return Restored {
                        value,
                        source: Source::File,
                    };
                }
                Err(e) => RestoreError::Format(e),
            },
            Err(e) => RestoreError::Read(e),
        };
        eprintln!("{}", err.message(&self.path));
        Restored {
            value: factory(ctx),
            source: Source::Factory(err),
        }
    }
}

/// Makes a rename in `file`'s directory durable.
#[cfg(unix)]
fn sync_dir(file: &Path) -> io::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened for syncing here; the rename is as durable
/// as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

/// What [`StateFile::restore`] produced and from where.
#[derive(Debug)]
pub struct Restored<T> {
    /// What `load` or `factory` returned.
    pub value: T,
    /// Which of them ran, and why.
    pub source: Source,
}

/// Where the configuration came from.
#[derive(Debug)]
#[non_exhaustive]
pub enum Source {
    /// The state file.
    File,
    /// The factory configuration: there was no state file (first start).
    Missing,
    /// The factory configuration: the state file could not be used.
    Factory(RestoreError),
}

/// Why a state file could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum RestoreError {
    /// Reading it failed (permissions, a directory in its place, too large).
    Read(io::Error),
    /// Its contents are not a usable state ([`PersistError`]).
    Format(PersistError),
}

impl RestoreError {
    /// The one-line message [`StateFile::restore`] logs for `path`.
    pub fn message(&self, path: &Path) -> String {
        format!(
            "lwm2m: state file {}: {self}; starting from the factory configuration",
            path.display()
        )
    }
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Read(e) => write!(f, "cannot be read: {e}"),
            RestoreError::Format(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RestoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RestoreError::Read(e) => Some(e),
            RestoreError::Format(e) => Some(e),
        }
    }
}
