//! Observations and stored notifications across a restart, when the
//! application asks for it (issue 6; persisted as extra sections of the
//! state file, `persist::extra_kind::{OBSERVATIONS, STORED_NOTIFICATIONS}`).
//!
//! [`Client::export_observations`] / [`Client::export_stored`] write them as
//! bytes; [`Client::import_observations`] / [`Client::import_stored`] take
//! them back before the client starts. A restored observation is re-created
//! on its server's link when the client is registered again, numbering its
//! notifications after the last one sent before the restart (RFC 7641
//! §3.4), and stored notifications are delivered in order after that.
//!
//! Format (big-endian), version 1:
//! ```text
//! observations: 0x01, count u16, then per observation:
//!   ssid u16, token_len u8, token, format u16, next_seq u32,
//!   paths u8, per path: len u8, ids u16 × len
//! stored:       0x01, count u16, then per notification:
//!   ssid u16, token_len u8, token, format u16, confirmable u8,
//!   len u32, payload
//! ```

use alloc::vec::Vec;

use super::Client;
use super::observe::ObsTarget;
use super::register::Stored;
use crate::coap::Token;
use crate::content::Format;
use crate::dm::{Path, Ssid};
use crate::time::Instant;

const VERSION: u8 = 1;

/// Saved observation or notification bytes that cannot be taken back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SavedError {
    /// Not version 1 of the format.
    Version,
    /// Cut short or inconsistent at byte `at`.
    Malformed {
        /// Offset of the problem.
        at: usize,
    },
    /// More than the client's bounds allow.
    TooMany,
}

impl core::fmt::Display for SavedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SavedError::Version => f.write_str("unknown saved-observation format"),
            SavedError::Malformed { at } => write!(f, "malformed saved observations at byte {at}"),
            SavedError::TooMany => f.write_str("more saved observations than the limits allow"),
        }
    }
}

/// An observation waiting for its server's registration.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedObservation {
    ssid: Ssid,
    token: Token,
    format: Format,
    next_seq: u32,
    target: ObsTarget,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SavedError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(SavedError::Malformed { at: self.at })?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or(SavedError::Malformed { at: self.at })?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, SavedError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(SavedError::Malformed { at: self.at })
    }
    fn u16(&mut self) -> Result<u16, SavedError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([
            s.first().copied().unwrap_or(0),
            s.get(1).copied().unwrap_or(0),
        ]))
    }
    fn u32(&mut self) -> Result<u32, SavedError> {
        let s = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        Ok(u32::from_be_bytes(a))
    }
    fn token(&mut self) -> Result<Token, SavedError> {
        let at = self.at;
        let n = self.u8()?;
        Token::new(self.take(usize::from(n))?).ok_or(SavedError::Malformed { at })
    }
    fn format(&mut self) -> Result<Format, SavedError> {
        let at = self.at;
        Format::from_number(self.u16()?).ok_or(SavedError::Malformed { at })
    }
    fn done(&self) -> Result<(), SavedError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(SavedError::Malformed { at: self.at })
        }
    }
}

fn put_token(out: &mut Vec<u8>, t: Token) {
    out.push(t.len() as u8);
    out.extend_from_slice(t.as_bytes());
}

impl Client {
    /// The active observations, as bytes for the state file.
    pub fn export_observations(&self) -> Vec<u8> {
        let mut out = alloc::vec![VERSION];
        let n = u16::try_from(self.observations.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for o in self.observations.iter().take(usize::from(n)) {
            let seq = self
                .links
                .iter()
                .find(|l| l.id == o.link)
                .and_then(|l| l.endpoint.observation_next_seq(o.token))
                .unwrap_or(0);
            out.extend_from_slice(&o.ssid.to_be_bytes());
            put_token(&mut out, o.token);
            out.extend_from_slice(&o.format.number().to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
            let paths: &[Path] = match &o.target {
                ObsTarget::Single(p) => core::slice::from_ref(p),
                ObsTarget::Composite(ps) => ps,
            };
            let composite = matches!(o.target, ObsTarget::Composite(_));
            // A single observation is one path; a composite one is flagged by
            // a path count with the top bit set.
            let count = (paths.len().min(127) as u8) | if composite { 0x80 } else { 0 };
            out.push(count);
            for p in paths.iter().take(127) {
                out.push(p.len() as u8);
                for id in p.ids() {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
        }
        out
    }

    /// Takes back observations saved by [`Client::export_observations`];
    /// they come back to life when their server is registered again.
    /// Returns how many were restored.
    pub fn import_observations(&mut self, bytes: &[u8]) -> Result<usize, SavedError> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.u8()? != VERSION {
            return Err(SavedError::Version);
        }
        let n = usize::from(r.u16()?);
        if n > self.config.max_observations {
            return Err(SavedError::TooMany);
        }
        let mut saved = Vec::with_capacity(n);
        for _ in 0..n {
            let ssid = r.u16()?;
            let token = r.token()?;
            let format = r.format()?;
            let next_seq = r.u32()?;
            let at = r.at;
            let count = r.u8()?;
            let composite = count & 0x80 != 0;
            let mut paths = Vec::new();
            for _ in 0..(count & 0x7f) {
                let at = r.at;
                let len = usize::from(r.u8()?);
                if len > 4 {
                    return Err(SavedError::Malformed { at });
                }
                let mut ids = [0u16; 4];
                for id in ids.iter_mut().take(len) {
                    *id = r.u16()?;
                }
                paths.push(
                    Path::new(ids.get(..len).unwrap_or(&[])).ok_or(SavedError::Malformed { at })?,
                );
            }
            let target = match (composite, paths.as_slice()) {
                (false, [p]) => ObsTarget::Single(*p),
                (true, _) => ObsTarget::Composite(paths),
                _ => return Err(SavedError::Malformed { at }),
            };
            saved.push(SavedObservation {
                ssid,
                token,
                format,
                next_seq,
                target,
            });
        }
        r.done()?;
        let count = saved.len();
        self.saved_observations = saved;
        Ok(count)
    }

    /// The notifications stored for servers that could not take them, as
    /// bytes for the state file.
    pub fn export_stored(&self) -> Vec<u8> {
        let mut out = alloc::vec![VERSION];
        let all: Vec<(Ssid, &Stored)> = self
            .servers
            .iter()
            .flat_map(|s| s.stored.iter().map(move |x| (s.ssid, x)))
            .collect();
        let n = u16::try_from(all.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for (ssid, s) in all.into_iter().take(usize::from(n)) {
            out.extend_from_slice(&ssid.to_be_bytes());
            put_token(&mut out, s.token);
            out.extend_from_slice(&s.format.to_be_bytes());
            out.push(u8::from(s.confirmable));
            let len = u32::try_from(s.payload.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(s.payload.get(..len as usize).unwrap_or(&[]));
        }
        out
    }

    /// Takes back notifications saved by [`Client::export_stored`]; they
    /// are delivered in order once their server is registered again.
    pub fn import_stored(&mut self, bytes: &[u8]) -> Result<usize, SavedError> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.u8()? != VERSION {
            return Err(SavedError::Version);
        }
        let n = usize::from(r.u16()?);
        let cap = self.config.max_stored_notifications.saturating_mul(4);
        if n > cap {
            return Err(SavedError::TooMany);
        }
        let mut saved = Vec::with_capacity(n);
        for _ in 0..n {
            let ssid = r.u16()?;
            let token = r.token()?;
            let format = r.u16()?;
            let confirmable = r.u8()? != 0;
            let len = r.u32()? as usize;
            if len > self.config.limits.coap.snapshot_bytes.max(1024) {
                return Err(SavedError::TooMany);
            }
            let payload = r.take(len)?.to_vec();
            saved.push((
                ssid,
                Stored {
                    token,
                    format,
                    confirmable,
                    payload,
                },
            ));
        }
        r.done()?;
        let count = saved.len();
        self.saved_stored = saved;
        Ok(count)
    }

    /// Server `ssid` is registered again: its restored observations and
    /// notifications come back.
    pub(super) fn revive_saved(&mut self, now: Instant, ssid: Ssid) {
        let Some(link) = self
            .servers
            .iter()
            .find(|s| s.ssid == ssid)
            .and_then(|s| s.link)
        else {
            return;
        };
        let (mine, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.saved_observations)
            .into_iter()
            .partition(|o| o.ssid == ssid);
        self.saved_observations = rest;
        for o in mine {
            let adopted = self
                .links
                .iter_mut()
                .find(|l| l.id == link)
                .is_some_and(|l| l.endpoint.adopt_observation(o.token, o.next_seq).is_ok());
            if adopted {
                self.add_observation(now, link, ssid, o.token, o.target, o.format);
            }
        }
        let (mine, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.saved_stored)
            .into_iter()
            .partition(|(s, _)| *s == ssid);
        self.saved_stored = rest;
        if let Some(s) = self.servers.iter_mut().find(|s| s.ssid == ssid) {
            for (_, n) in mine.into_iter().rev() {
                s.stored.push_front(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_panicking() {
        let mut c = Client::new(crate::config::Config::new("x"), Instant::ZERO, 1).unwrap();
        for bad in [&[][..], &[2, 0, 0], &[1, 0, 1, 0], &[1, 0, 1, 0, 1, 9]] {
            assert!(c.import_observations(bad).is_err(), "{bad:?}");
            assert!(c.import_stored(bad).is_err(), "{bad:?}");
        }
        assert_eq!(c.import_observations(&[1, 0, 0]), Ok(0));
        assert_eq!(
            c.import_observations(&[1, 0xff, 0xff]),
            Err(SavedError::TooMany)
        );
    }
}
