//! Send (OMA-TS-LightweightM2M_Core 1.1 §6.4.6): the client pushes values
//! to a server with `POST /dp` in SenML, Confirmable; "Mute Send" (/1/x/23)
//! forbids it. A payload larger than one block goes out with Block1.

use super::Client;
use super::link::Purpose;
use super::outgoing::OutRequest;
use crate::buf::Writer;
use crate::coap::Code;
use crate::content::{Encoder, Format};
use crate::dm::ops::composite;
use crate::dm::{Origin, Path, Ssid};
use crate::error::DmError;

/// Why a Send cannot go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// Not registered with that server.
    NotRegistered,
    /// The server's account has Mute Send set.
    Muted,
    /// Only SenML JSON and SenML CBOR (and LwM2M CBOR) carry a Send.
    BadFormat,
    /// Reading or encoding the values failed.
    Read(DmError),
    /// Too many requests in flight on that link.
    Busy,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SendError::NotRegistered => f.write_str("not registered with that server"),
            SendError::Muted => f.write_str("Mute Send is set for that server"),
            SendError::BadFormat => f.write_str("format cannot carry a Send"),
            SendError::Read(e) => write!(f, "reading the values failed: {e}"),
            SendError::Busy => f.write_str("too many requests in flight"),
        }
    }
}

impl Client {
    /// Sends the current values of `paths` to server `ssid` in SenML CBOR.
    /// Returns the id that [`super::Event::SendDone`] reports.
    pub fn send(&mut self, ssid: Ssid, paths: &[Path]) -> Result<u32, SendError> {
        self.send_with(ssid, paths, Format::SenmlCbor)
    }

    /// As [`Client::send`], in `format` (SenML JSON, SenML CBOR or LwM2M CBOR).
    pub fn send_with(
        &mut self,
        ssid: Ssid,
        paths: &[Path],
        format: Format,
    ) -> Result<u32, SendError> {
        if !matches!(
            format,
            Format::SenmlJson | Format::SenmlCbor | Format::Lwm2mCbor
        ) {
            return Err(SendError::BadFormat);
        }
        let server = self
            .servers
            .iter()
            .find(|s| s.ssid == ssid && s.is_registered())
            .ok_or(SendError::NotRegistered)?;
        if server.account.mute_send {
            return Err(SendError::Muted);
        }
        let link = server.link.ok_or(SendError::NotRegistered)?;
        let mut buf = alloc::vec![0u8; self.config.limits.coap.snapshot_bytes.max(1024)];
        let len = {
            let mut w = Writer::new(&mut buf);
            let mut enc = Encoder::new(format, Path::ROOT).ok_or(SendError::BadFormat)?;
            composite::read_composite(
                &self.dm,
                Origin::Server(ssid),
                paths.iter().map(|p| Ok(*p)),
                self.config.limits.dm.max_composite_paths,
                &mut enc,
                &mut w,
            )
            .map_err(SendError::Read)?;
            w.len()
        };
        buf.truncate(len);
        let id = self.next_send_id;
        self.next_send_id = self.next_send_id.wrapping_add(1).max(1);
        let li = self.link_index(link).ok_or(SendError::NotRegistered)?;
        let req = OutRequest {
            purpose: Purpose::Send(id),
            code: Code::POST,
            path: &["dp"],
            queries: &[],
            content_format: Some(format.number()),
            body: &buf,
        };
        let now = self.now;
        self.start_request(now, li, req).ok_or(SendError::Busy)?;
        Ok(id)
    }
}
