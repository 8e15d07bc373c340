//! A PULL download's resumable state as bytes, for the extra section
//! `persist::extra_kind::FIRMWARE_DOWNLOAD` of the state file.
//!
//! # Format, version 1
//!
//! Every integer is big-endian.
//!
//! | size | field |
//! |---|---|
//! | 1 | version: 1 |
//! | 8 | offset: bytes stored so far |
//! | 1 | ETag length 0..=8, or `0xFF` for no ETag |
//! | n | the ETag |
//! | 1 | URI length 1..=255 |
//! | n | the Package URI, UTF-8 |
//!
//! Nothing may follow.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::buf::{Overflow, Writer};

/// Longest ETag kept (RFC 7252 §5.10.6: 1 to 8 bytes).
pub const MAX_ETAG_LEN: usize = 8;

const VERSION: u8 = 1;
const NO_ETAG: u8 = 0xFF;

/// A PULL download in progress: what the application persists to resume
/// it after a restart ([`super::Firmware::download_state`],
/// [`super::Firmware::restore_download`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadState {
    /// The Package URI.
    pub uri: String,
    /// Bytes of the package stored so far.
    pub offset: u64,
    /// The file's ETag when the download began (a different one on resume
    /// restarts it from byte 0).
    pub etag: Option<Vec<u8>>,
}

/// Why saved download-state bytes cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadStateError {
    /// A format version this build does not read.
    UnsupportedVersion(u8),
    /// The bytes end early, have bytes left over, or hold an ETag or URI
    /// out of bounds or not UTF-8.
    Malformed,
}

impl fmt::Display for DownloadStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadStateError::UnsupportedVersion(v) => {
                write!(f, "unsupported firmware download state version {v}")
            }
            DownloadStateError::Malformed => f.write_str("malformed firmware download state"),
        }
    }
}

impl DownloadState {
    /// Largest encoding.
    pub const MAX_ENCODED_LEN: usize = 1 + 8 + 1 + MAX_ETAG_LEN + 1 + 255;

    /// Writes the state in the format above. Fails when `w` is too small,
    /// or the ETag or URI is longer than the format holds.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        let uri_len = u8::try_from(self.uri.len()).map_err(|_| Overflow)?;
        w.put_u8(VERSION)?;
        w.put(&self.offset.to_be_bytes())?;
        match &self.etag {
            Some(e) if e.len() <= MAX_ETAG_LEN => {
                w.put_u8(e.len() as u8)?;
                w.put(e)?;
            }
            Some(_) => return Err(Overflow),
            None => w.put_u8(NO_ETAG)?,
        }
        w.put_u8(uri_len)?;
        w.put(self.uri.as_bytes())
    }

    /// The encoding as a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = [0u8; Self::MAX_ENCODED_LEN];
        let mut w = Writer::new(&mut buf);
        match self.encode(&mut w) {
            Ok(()) => w.written().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    /// Reads bytes written by [`DownloadState::encode`].
    pub fn decode(bytes: &[u8]) -> Result<DownloadState, DownloadStateError> {
        let (&version, rest) = bytes.split_first().ok_or(DownloadStateError::Malformed)?;
        if version != VERSION {
            return Err(DownloadStateError::UnsupportedVersion(version));
        }
        let (offset, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(DownloadStateError::Malformed)?;
        let (&etag_len, rest) = rest.split_first().ok_or(DownloadStateError::Malformed)?;
        let (etag, rest) = match etag_len {
            NO_ETAG => (None, rest),
            n if usize::from(n) <= MAX_ETAG_LEN => {
                let (e, rest) = rest
                    .split_at_checked(usize::from(n))
                    .ok_or(DownloadStateError::Malformed)?;
                (Some(e.to_vec()), rest)
            }
            _ => return Err(DownloadStateError::Malformed),
        };
        let (&uri_len, rest) = rest.split_first().ok_or(DownloadStateError::Malformed)?;
        if uri_len == 0 || rest.len() != usize::from(uri_len) {
            return Err(DownloadStateError::Malformed);
        }
        let uri = core::str::from_utf8(rest).map_err(|_| DownloadStateError::Malformed)?;
        Ok(DownloadState {
            uri: String::from(uri),
            offset: u64::from_be_bytes(*offset),
            etag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_exact_bytes() {
        let s = DownloadState {
            uri: "coap://h/fw".into(),
            offset: 0x0102,
            etag: Some(vec![0xaa, 0xbb]),
        };
        let bytes = s.to_vec();
        assert_eq!(
            bytes,
            [
                &[1u8, 0, 0, 0, 0, 0, 0, 1, 2, 2, 0xaa, 0xbb, 11][..],
                b"coap://h/fw"
            ]
            .concat()
        );
        assert_eq!(DownloadState::decode(&bytes), Ok(s));
        let none = DownloadState {
            uri: "coap://h".into(),
            offset: 0,
            etag: None,
        };
        assert_eq!(DownloadState::decode(&none.to_vec()), Ok(none));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let good = DownloadState {
            uri: "coap://h".into(),
            offset: 5,
            etag: Some(vec![1]),
        }
        .to_vec();
        assert_eq!(
            DownloadState::decode(&[2]),
            Err(DownloadStateError::UnsupportedVersion(2))
        );
        for n in 0..good.len() {
            assert_eq!(
                DownloadState::decode(&good[..n]),
                Err(DownloadStateError::Malformed),
                "{n}"
            );
        }
        let mut long = good.clone();
        long.push(b'x');
        assert!(DownloadState::decode(&long).is_err());
        let mut etag9 = good.clone();
        etag9[9] = 9;
        assert!(DownloadState::decode(&etag9).is_err());
        let mut bad_utf8 = good;
        *bad_utf8.last_mut().unwrap() = 0xff;
        assert!(DownloadState::decode(&bad_utf8).is_err());
        let too_long = DownloadState {
            uri: "x".repeat(256),
            offset: 0,
            etag: None,
        };
        assert!(too_long.to_vec().is_empty());
    }
}
