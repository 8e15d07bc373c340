//! What the single-value formats (Plain Text, Opaque, CBOR) share: a
//! payload is the value of exactly one resource or resource instance, the
//! one the request names (OMA-TS-LightweightM2M_Core 1.1 §7.4.1, §7.4.2;
//! 1.2 §7.4.6).

use super::{DecodeError, EncodeError, Entry};
use crate::dm::Path;

/// Whether `path` names something that has a single value.
pub(crate) fn is_value_path(path: &Path) -> bool {
    path.len() >= 3
}

/// Encoder side: accepts one entry at the base path, then nothing else.
#[derive(Clone, Copy, Debug)]
pub(crate) struct One {
    base: Path,
    written: bool,
}

impl One {
    pub(crate) fn new(base: Path) -> One {
        One {
            base,
            written: false,
        }
    }

    /// Checks that `entry` may be written; marks the value as written.
    pub(crate) fn admit(&mut self, entry: &Entry<'_>) -> Result<(), EncodeError> {
        if self.written || entry.path != self.base || !is_value_path(&self.base) {
            return Err(EncodeError::Unrepresentable);
        }
        self.written = true;
        Ok(())
    }

    /// A single-value payload without its value (an empty multiple
    /// resource, say) has no representation.
    pub(crate) fn finish(&self) -> Result<(), EncodeError> {
        if self.written {
            Ok(())
        } else {
            Err(EncodeError::Unrepresentable)
        }
    }
}

/// Decoder side: the state of a one-entry iterator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Once {
    Pending,
    Done,
}

impl Once {
    /// The path to decode at, once; `None` when already done.
    pub(crate) fn take(&mut self, base: &Path) -> Option<Result<Path, DecodeError>> {
        if *self == Once::Done {
            return None;
        }
        *self = Once::Done;
        if is_value_path(base) {
            Some(Ok(*base))
        } else {
            // Core §7.4.1: these formats are for a single resource (instance);
            // asked at an instance or object they are the wrong format.
            Some(Err(DecodeError::UnsupportedFormat))
        }
    }
}
