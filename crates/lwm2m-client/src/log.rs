//! The client's log: one readable line per thing that happens, on standard
//! error, prefixed with the UTC time of day.
//!
//! Requests are logged from the datagram itself, peeked from the socket
//! before the driver serves it ([`describe_request`]): the driver has no
//! hook for requests, and peeking costs one system call per datagram. A
//! DTLS link's datagrams are encrypted and are not described.

use std::fmt;
use std::io::Write as _;

use lwm2m::core::client::Failure;
use lwm2m::core::coap::{Code, Message};
use lwm2m::core::content::Format;
use lwm2m::core::dm::{Interface, Operation, RequestHead, Target, classify};

use crate::clock::{Clock, time_of_day};

/// Where log lines go.
#[derive(Clone, Copy, Debug)]
pub struct Log {
    clock: Clock,
    on: bool,
}

impl Log {
    /// A log that writes when `on`.
    pub fn new(clock: Clock, on: bool) -> Log {
        Log { clock, on }
    }

    /// Writes one line.
    pub fn line(&self, what: fmt::Arguments<'_>) {
        if self.on {
            self.error(what);
        }
    }

    /// Writes one line even when the log is off (errors).
    pub fn error(&self, what: fmt::Arguments<'_>) {
        // One write(2) per line, so lines from the tour's thread on
        // standard output never cut into it.
        let line = format!("{} {what}\n", time_of_day(self.clock.unix_duration(), true));
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// Logs a line: `say!(log, "registered with {}", x)`.
#[macro_export]
macro_rules! say {
    ($log:expr, $($t:tt)*) => { $log.line(format_args!($($t)*)) };
}

/// A content format's short name.
pub fn format_name(n: u16) -> String {
    match Format::from_number(n) {
        Some(Format::Text) => "plain text".into(),
        Some(Format::LinkFormat) => "link format".into(),
        Some(Format::Opaque) => "opaque".into(),
        Some(Format::Cbor) => "CBOR".into(),
        Some(Format::SenmlJson) => "SenML JSON".into(),
        Some(Format::SenmlCbor) => "SenML CBOR".into(),
        Some(Format::Tlv) => "TLV".into(),
        Some(Format::Lwm2mJson) => "LwM2M JSON".into(),
        Some(Format::Lwm2mCbor) => "LwM2M CBOR".into(),
        _ => format!("format {n}"),
    }
}

/// Why a registration or bootstrap attempt failed, in words.
pub fn failure(f: &Failure) -> String {
    match f {
        Failure::Timeout => "no answer".into(),
        Failure::Rejected(c) => format!("refused with {}.{:02}", c.0 >> 5, c.0 & 31),
        Failure::Handshake => "DTLS handshake failed".into(),
        Failure::Unreachable => "server unreachable".into(),
        Failure::BadConfiguration => "unusable configuration".into(),
        other => format!("{other:?}"),
    }
}

/// `GET /3/0 (Accept TLV)` as LwM2M sees it: `Read /3/0 as TLV`. `None`
/// for what is not a request (responses, pings), for the later blocks of a
/// block-wise transfer (only the first is logged), and for what does not
/// parse.
pub fn describe_request(datagram: &[u8], interface: Interface) -> Option<String> {
    let msg = Message::parse(datagram).ok()?;
    let code = msg.code();
    if code == Code::EMPTY || code.0 >> 5 != 0 {
        return None;
    }
    let later_block = |b: Option<Result<lwm2m::core::coap::Block, _>>| {
        b.and_then(Result::ok).is_some_and(|b| b.num > 0)
    };
    if later_block(msg.block1()) || later_block(msg.block2()) {
        return None;
    }
    let target = Target::from_segments(msg.uri_path()).ok()?;
    let head = RequestHead {
        method: code,
        target,
        content_format: msg.content_format(),
        accept: msg.accept(),
        observe: msg.observe(),
        has_query: msg.uri_query().next().is_some(),
        has_payload: !msg.payload().is_empty(),
    };
    let op = classify(interface, &head).ok()?;
    let (name, path) = match op {
        Operation::Read(p) => ("Read", Some(p)),
        Operation::Observe(p) => ("Observe", Some(p)),
        Operation::CancelObserve(p) => ("Cancel Observation", Some(p)),
        Operation::Discover(p) => ("Discover", Some(p)),
        Operation::ReadComposite => ("Read-Composite", None),
        Operation::ObserveComposite => ("Observe-Composite", None),
        Operation::CancelObserveComposite => ("Cancel Observe-Composite", None),
        Operation::WriteReplace(p) => ("Write (replace)", Some(p)),
        Operation::WriteUpdate(p) => ("Write (update)", Some(p)),
        Operation::WriteComposite => ("Write-Composite", None),
        Operation::WriteAttributes(p) => ("Write-Attributes", Some(p)),
        Operation::Execute(p) => ("Execute", Some(p)),
        Operation::Create(oid) => ("Create", Some(lwm2m::core::dm::Path::object(oid))),
        Operation::Delete(p) => ("Delete", Some(p)),
        Operation::BootstrapRead(p) => ("Bootstrap-Read", Some(p)),
        Operation::BootstrapWrite(p) => ("Bootstrap-Write", Some(p)),
        Operation::BootstrapDelete(p) => ("Bootstrap-Delete", Some(p)),
        Operation::BootstrapDiscover(p) => ("Bootstrap-Discover", Some(p)),
        Operation::BootstrapFinish => ("Bootstrap-Finish", None),
        _ => ("Request", None),
    };
    let mut s = String::from(name);
    if let Some(p) = path {
        s.push(' ');
        s.push_str(&p.to_string());
    }
    if matches!(op, Operation::WriteAttributes(_)) {
        let q: Vec<String> = msg
            .uri_query()
            .map(|q| String::from_utf8_lossy(q).into_owned())
            .collect();
        s.push_str(&format!(" ?{}", q.join("&")));
    }
    let execute = matches!(op, Operation::Execute(_));
    if let (Some(cf), true, false) = (msg.content_format(), head.has_payload, execute) {
        s.push_str(&format!(", {}", format_name(cf)));
        if msg.block1().is_some() {
            s.push_str(" (block-wise)");
        }
    }
    if let Some(a) = msg
        .accept()
        .filter(|_| !matches!(op, Operation::Discover(_)))
    {
        s.push_str(&format!(", as {}", format_name(a)));
    }
    if execute && head.has_payload {
        s.push_str(&format!(" ({})", String::from_utf8_lossy(msg.payload())));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m::core::coap::{MessageBuilder, MsgType, option};

    /// A request with `path` and the other options `opts` (any order),
    /// and `payload`.
    fn request(code: Code, path: &[&str], opts: &[(u16, &[u8])], payload: &[u8]) -> Vec<u8> {
        let mut all: Vec<(u16, &[u8])> = path
            .iter()
            .map(|p| (option::URI_PATH, p.as_bytes()))
            .chain(opts.iter().copied())
            .collect();
        all.sort_by_key(|o| o.0);
        let mut buf = [0u8; 256];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, code, 7, &[1]).unwrap();
        for (n, v) in all {
            b.option(n, v).unwrap();
        }
        if !payload.is_empty() {
            b.payload(payload).unwrap();
        }
        let n = b.finish();
        buf[..n].to_vec()
    }

    fn dm(d: &[u8]) -> Option<String> {
        describe_request(d, Interface::DeviceManagement)
    }

    #[test]
    fn requests_are_described_as_lwm2m_operations() {
        // Accept 11542 (TLV) as a two-byte uint.
        let read = request(
            Code::GET,
            &["3", "0"],
            &[(option::ACCEPT, &[0x2d, 0x16])],
            b"",
        );
        assert_eq!(dm(&read).unwrap(), "Read /3/0, as TLV");
        let observe = request(
            Code::GET,
            &["3303", "0", "5700"],
            &[(option::OBSERVE, &[])],
            b"",
        );
        assert_eq!(dm(&observe).unwrap(), "Observe /3303/0/5700");
        let exec = request(Code::POST, &["1", "0", "8"], &[], b"");
        assert_eq!(dm(&exec).unwrap(), "Execute /1/0/8");
        let attrs = request(
            Code::PUT,
            &["3303", "0", "5700"],
            &[
                (option::URI_QUERY, b"pmin=1"),
                (option::URI_QUERY, b"pmax=2"),
            ],
            b"",
        );
        assert_eq!(
            dm(&attrs).unwrap(),
            "Write-Attributes /3303/0/5700 ?pmin=1&pmax=2"
        );
        let write = request(
            Code::PUT,
            &["1", "0", "1"],
            &[(option::CONTENT_FORMAT, &[])],
            b"60",
        );
        assert_eq!(dm(&write).unwrap(), "Write (replace) /1/0/1, plain text");
        let finish = request(Code::POST, &["bs"], &[], b"");
        assert_eq!(
            describe_request(&finish, Interface::Bootstrap).unwrap(),
            "Bootstrap-Finish"
        );
    }

    #[test]
    fn responses_pings_and_later_blocks_are_not_described() {
        let mut buf = [0u8; 64];
        let b = MessageBuilder::new(&mut buf, MsgType::Con, Code::EMPTY, 1, &[]).unwrap();
        let n = b.finish();
        assert_eq!(dm(&buf[..n]), None);
        let ack = request(Code::CONTENT, &[], &[], b"");
        assert_eq!(dm(&ack), None);
        // Block2 NUM 1, SZX 6: the second block of a read.
        let block = request(Code::GET, &["3", "0"], &[(option::BLOCK2, &[0x16])], b"");
        assert_eq!(dm(&block), None);
        assert_eq!(dm(b"\xff\x00"), None);
    }
}
