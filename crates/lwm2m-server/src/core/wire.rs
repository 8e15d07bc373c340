//! Operations to CoAP requests (Transport 1.1 §6.4 mapping, see
//! [`super::operation`]) and responses back to typed results: pure
//! functions, no state.

use lwm2m_core::buf::Writer;
use lwm2m_core::coap::{Block, Code, EmitError, Message, MessageBuilder, option};
use lwm2m_core::content::{
    DecodeLimits, Decoder, Encode, EncodeError, Entry, Format, senml_cbor, senml_json,
};
use lwm2m_core::dm::{Path, Value};

use super::link;
use super::model::KnownTypes;
use super::operation::{Body, Operation, RequestError, Response};

/// A request spelled out, ready to be emitted (once, or once per block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wire {
    pub(crate) code: Code,
    pub(crate) observe: Option<u32>,
    pub(crate) path: Vec<String>,
    pub(crate) content_format: Option<u16>,
    pub(crate) queries: Vec<String>,
    pub(crate) accept: Option<u16>,
    pub(crate) body: Vec<u8>,
}

impl Wire {
    fn new(code: Code, path: Vec<String>) -> Wire {
        Wire {
            code,
            observe: None,
            path,
            content_format: None,
            queries: Vec::new(),
            accept: None,
            body: Vec::new(),
        }
    }

    /// Emits the request with the given block options and payload slice,
    /// options in number order (RFC 7252 §3.1).
    pub(crate) fn emit(
        &self,
        b: &mut MessageBuilder<'_>,
        with_observe: bool,
        block2: Option<Block>,
        block1: Option<(Block, usize)>,
        payload: &[u8],
    ) -> Result<(), EmitError> {
        if let Some(o) = self.observe.filter(|_| with_observe) {
            b.uint_option(option::OBSERVE, o)?;
        }
        for seg in &self.path {
            b.option(option::URI_PATH, seg.as_bytes())?;
        }
        if let Some(cf) = self.content_format {
            b.uint_option(option::CONTENT_FORMAT, u32::from(cf))?;
        }
        for q in &self.queries {
            b.option(option::URI_QUERY, q.as_bytes())?;
        }
        if let Some(a) = self.accept {
            b.uint_option(option::ACCEPT, u32::from(a))?;
        }
        if let Some(b2) = block2 {
            b.block_option(option::BLOCK2, b2)?;
        }
        if let Some((b1, total)) = block1 {
            b.block_option(option::BLOCK1, b1)?;
            if b1.num == 0 {
                // RFC 7959 §4: Size1 tells the server the whole size early.
                b.uint_option(option::SIZE1, u32::try_from(total).unwrap_or(u32::MAX))?;
            }
        }
        b.payload(payload)?;
        Ok(())
    }
}

/// How to read the final response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Values (Read, Observe, Bootstrap-Read).
    Content,
    /// Link format (Discover).
    Links,
    /// Nothing (Write, Execute, Delete, Finish...).
    Nothing,
    /// Location-Path (Create).
    Location,
    /// Whatever came (Raw).
    Raw,
}

/// What the client is known to speak, for choosing formats.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientInfo {
    /// Alternate path root segments.
    pub(crate) root: Vec<String>,
    /// Content formats announced in the registration.
    pub(crate) formats: Vec<u16>,
}

/// A request encoded: the wire form, how to read the answer, and the base
/// path for decoding.
pub(crate) struct Encoded {
    pub(crate) wire: Wire,
    pub(crate) expect: Expect,
    pub(crate) base: Path,
}

fn segments(root: &[String], p: &Path) -> Vec<String> {
    root.iter()
        .cloned()
        .chain(p.ids().iter().map(u16::to_string))
        .collect()
}

/// The hierarchical format to use with a client when the caller chose none.
fn hierarchical(info: &ClientInfo) -> Format {
    for pref in [11542u16, 112, 110, 11544] {
        if info.formats.contains(&pref)
            && let Some(f) = Format::from_number(pref)
        {
            return f;
        }
    }
    Format::Tlv
}

/// The format of a write of `entries` at `path` when the caller chose none
/// (Core 1.1 §7.4: Plain Text / Opaque for one value, else hierarchical).
fn write_format(path: &Path, entries: &[Entry<'_>], info: &ClientInfo) -> Format {
    match entries {
        [one] if one.path == *path && path.len() >= 3 => match one.value {
            Value::Opaque(_) => Format::Opaque,
            _ => Format::Text,
        },
        _ => hierarchical(info),
    }
}

/// Encodes `entries` in `format` relative to `base`, growing the buffer up
/// to `max` bytes.
pub(crate) fn encode_entries(
    format: Format,
    base: Path,
    entries: &[Entry<'_>],
    max: usize,
) -> Result<Vec<u8>, RequestError> {
    let mut sorted: Vec<&Entry<'_>> = entries.iter().collect();
    sorted.sort_by_key(|e| e.path);
    let estimate: usize = sorted
        .iter()
        .map(|e| match &e.value {
            Value::String(s) | Value::Corelnk(s) => s.len() * 2 + 32,
            Value::Opaque(b) => b.len() / 3 * 4 + 40,
            _ => 48,
        })
        .sum::<usize>()
        .saturating_add(64);
    let mut cap = estimate.min(max).max(16);
    loop {
        let mut buf = vec![0u8; cap];
        let mut w = Writer::new(&mut buf);
        let mut enc = Encoder::new(format, base)
            .ok_or_else(|| RequestError::Invalid("link format carries no values".into()))?;
        let r = (|| {
            enc.begin(&mut w)?;
            for e in &sorted {
                enc.put(&mut w, e)?;
            }
            enc.end(&mut w)
        })();
        match r {
            Ok(()) => {
                let n = w.len();
                buf.truncate(n);
                return Ok(buf);
            }
            Err(EncodeError::Overflow) if cap < max => cap = cap.saturating_mul(2).min(max),
            Err(EncodeError::Overflow) => return Err(RequestError::TooLarge),
            Err(e) => return Err(RequestError::Encode(e)),
        }
    }
}

use lwm2m_core::content::Encoder;

fn composite_paths(format: Format, paths: &[Path]) -> Result<Vec<u8>, RequestError> {
    let mut buf = vec![0u8; 64 + paths.len() * 40];
    let mut w = Writer::new(&mut buf);
    let r = match format {
        Format::SenmlJson => senml_json::write_paths(&mut w, paths),
        Format::SenmlCbor => senml_cbor::write_paths(&mut w, paths),
        _ => {
            return Err(RequestError::Invalid(
                "composite requests carry SenML JSON or SenML CBOR".into(),
            ));
        }
    };
    r.map_err(RequestError::Encode)?;
    let n = w.len();
    buf.truncate(n);
    Ok(buf)
}

/// Encodes an operation (not [`Operation::CancelObserve`], which reuses
/// its observation's request).
pub(crate) fn encode(
    op: &Operation,
    info: &ClientInfo,
    max: usize,
) -> Result<Encoded, RequestError> {
    let root = &info.root;
    let num = |f: Format| f.number();
    let (wire, expect, base) = match op {
        Operation::Read { path, accept } | Operation::Observe { path, accept } => {
            let mut w = Wire::new(Code::GET, segments(root, path));
            w.accept = accept.map(num);
            if matches!(op, Operation::Observe { .. }) {
                w.observe = Some(0);
            }
            (w, Expect::Content, *path)
        }
        Operation::ReadComposite {
            paths,
            request_format,
            accept,
        }
        | Operation::ObserveComposite {
            paths,
            request_format,
            accept,
        } => {
            let mut w = Wire::new(Code::FETCH, root.clone());
            w.content_format = Some(request_format.number());
            w.accept = Some(accept.unwrap_or(*request_format).number());
            w.body = composite_paths(*request_format, paths)?;
            if matches!(op, Operation::ObserveComposite { .. }) {
                w.observe = Some(0);
            }
            (w, Expect::Content, Path::ROOT)
        }
        Operation::Discover { path, depth } => {
            let mut w = Wire::new(Code::GET, segments(root, path));
            w.accept = Some(Format::LinkFormat.number());
            if let Some(d) = depth {
                w.queries.push(format!("depth={d}"));
            }
            (w, Expect::Links, *path)
        }
        Operation::Write {
            path,
            replace,
            format,
            entries,
        } => {
            if path.len() < 2 {
                return Err(RequestError::Invalid(
                    "Write targets an instance or below".into(),
                ));
            }
            let code = if *replace { Code::PUT } else { Code::POST };
            let f = format.unwrap_or_else(|| write_format(path, entries, info));
            let mut w = Wire::new(code, segments(root, path));
            w.content_format = Some(f.number());
            w.body = encode_entries(f, *path, entries, max)?;
            (w, Expect::Nothing, *path)
        }
        Operation::WriteComposite { format, entries } => {
            let f = format.unwrap_or(Format::SenmlCbor);
            let mut w = Wire::new(Code::IPATCH, root.clone());
            w.content_format = Some(f.number());
            w.body = encode_entries(f, Path::ROOT, entries, max)?;
            (w, Expect::Nothing, Path::ROOT)
        }
        Operation::WriteAttributes { path, attributes } => {
            let mut w = Wire::new(Code::PUT, segments(root, path));
            w.queries = attributes.queries();
            (w, Expect::Nothing, *path)
        }
        Operation::Execute { path, args } => {
            if path.len() != 3 {
                return Err(RequestError::Invalid("Execute targets a resource".into()));
            }
            let mut w = Wire::new(Code::POST, segments(root, path));
            if let Some(a) = args.as_ref().filter(|a| !a.is_empty()) {
                w.content_format = Some(Format::Text.number());
                w.body = a.as_bytes().to_vec();
            }
            (w, Expect::Nothing, *path)
        }
        Operation::Create {
            path,
            format,
            entries,
        } => {
            let object = path.truncated(1);
            if path.is_empty() || path.len() > 2 {
                return Err(RequestError::Invalid("Create targets an object".into()));
            }
            // `/o/i`: the server chooses the id (an instance in the
            // payload); `/o`: the client does (resources only, Core 1.1
            // §6.3), encoded against the entries' own instance.
            let base = if path.len() == 2 {
                object
            } else {
                entries.first().map_or(object, |e| e.path.truncated(2))
            };
            let f = format.unwrap_or_else(|| hierarchical(info));
            let mut w = Wire::new(Code::POST, segments(root, &object));
            match (path.iid(), entries.is_empty()) {
                // An instance with no resource: only TLV can name its id
                // (an empty Object Instance TLV, Core 1.1 §7.4.3).
                (Some(iid), true) => {
                    w.content_format = Some(Format::Tlv.number());
                    w.body = match iid.to_be_bytes() {
                        [0, lo] => vec![0x00, lo],
                        [hi, lo] => vec![0x20, hi, lo],
                    };
                }
                _ => {
                    w.content_format = Some(f.number());
                    w.body = encode_entries(f, base, entries, max)?;
                }
            }
            (w, Expect::Location, object)
        }
        Operation::Delete { path } => (
            Wire::new(Code::DELETE, segments(root, path)),
            Expect::Nothing,
            *path,
        ),
        Operation::BootstrapDiscover { path } => {
            let mut w = Wire::new(Code::GET, segments(&[], path));
            w.accept = Some(Format::LinkFormat.number());
            (w, Expect::Links, *path)
        }
        Operation::BootstrapRead { path, accept } => {
            let mut w = Wire::new(Code::GET, segments(&[], path));
            w.accept = accept.map(num);
            (w, Expect::Content, *path)
        }
        Operation::BootstrapWrite {
            path,
            format,
            entries,
        } => {
            let f = format.unwrap_or(Format::Tlv);
            let mut w = Wire::new(Code::PUT, segments(&[], path));
            w.content_format = Some(f.number());
            w.body = encode_entries(f, *path, entries, max)?;
            (w, Expect::Nothing, *path)
        }
        Operation::BootstrapDelete { path } => (
            Wire::new(Code::DELETE, segments(&[], path)),
            Expect::Nothing,
            *path,
        ),
        Operation::BootstrapFinish => (
            Wire::new(Code::POST, vec!["bs".to_string()]),
            Expect::Nothing,
            Path::ROOT,
        ),
        Operation::Raw(r) => {
            let mut w = Wire::new(
                Code(r.code),
                root.iter().cloned().chain(r.path.clone()).collect(),
            );
            if !Code(r.code).is_request() {
                return Err(RequestError::Invalid("not a request method".into()));
            }
            w.content_format = r.content_format;
            w.queries = r.queries.clone();
            w.accept = r.accept;
            w.body = r.payload.clone();
            (w, Expect::Raw, Path::ROOT)
        }
        Operation::CancelObserve { .. } => {
            return Err(RequestError::Invalid("cancel needs its observation".into()));
        }
    };
    if wire.body.len() > max {
        return Err(RequestError::TooLarge);
    }
    Ok(Encoded { wire, expect, base })
}

/// Decodes a value payload.
pub(crate) fn decode_entries(
    content_format: Option<u16>,
    payload: &[u8],
    base: Path,
    limits: DecodeLimits,
) -> Result<(Format, Vec<Entry<'static>>), RequestError> {
    // An empty answer carries no values (a Read of an empty object).
    let format = match content_format {
        Some(n) => Format::from_number(n).ok_or(RequestError::Decode(
            lwm2m_core::content::DecodeError::UnsupportedFormat,
        ))?,
        None if payload.is_empty() => return Ok((Format::Text, Vec::new())),
        // LwM2M 1.0: a payload without Content-Format is Plain Text.
        None => Format::Text,
    };
    let dec =
        Decoder::new(format, payload, base, &KnownTypes, limits).map_err(RequestError::Decode)?;
    let mut out = Vec::new();
    for e in dec {
        let e = e.map_err(RequestError::Decode)?;
        out.push(Entry {
            path: e.path,
            value: e.value.into_owned(),
            time: e.time,
        });
    }
    Ok((format, out))
}

/// Turns a final response (with its reassembled payload) into a result.
pub(crate) fn finish(
    expect: Expect,
    base: Path,
    root: &[String],
    msg: &Message<'_>,
    payload: &[u8],
    limits: DecodeLimits,
    max_links: usize,
) -> Result<Response, RequestError> {
    let code = msg.code();
    if !code.is_success() {
        return Err(RequestError::Code(code));
    }
    let cf = msg.content_format();
    let body = match expect {
        Expect::Content if cf == Some(Format::LinkFormat.number()) => links(payload, max_links)?,
        Expect::Content => {
            let (format, entries) = decode_entries(cf, payload, base, limits)?;
            Body::Entries { format, entries }
        }
        Expect::Links => links(payload, max_links)?,
        Expect::Nothing => Body::Empty,
        Expect::Location => {
            let segs: Vec<&[u8]> = msg.location_path().skip(root.len()).collect();
            Body::Created(Path::from_segments(segs).ok().filter(|p| p.len() == 2))
        }
        Expect::Raw => Body::Bytes {
            content_format: cf,
            bytes: payload.to_vec(),
        },
    };
    Ok(Response { code, body })
}

fn links(payload: &[u8], max_links: usize) -> Result<Body, RequestError> {
    link::parse(payload, max_links, 32)
        .map(Body::Links)
        .map_err(|_| RequestError::Decode(lwm2m_core::content::DecodeError::Malformed { at: 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::operation::Attributes;
    use lwm2m_core::coap::MsgType;

    fn emit(op: &Operation) -> (Vec<u8>, Encoded) {
        let enc = encode(op, &ClientInfo::default(), 1 << 20).unwrap();
        let mut buf = vec![0u8; 2048];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, enc.wire.code, 1, &[9]).unwrap();
        let body = enc.wire.body.clone();
        enc.wire.emit(&mut b, true, None, None, &body).unwrap();
        let n = b.finish();
        buf.truncate(n);
        (buf, enc)
    }

    fn paths(m: &Message<'_>) -> Vec<String> {
        m.uri_path()
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn dm_operations_map_to_the_transport_table() {
        let (b, _) = emit(&Operation::Read {
            path: Path::resource(3, 0, 1),
            accept: Some(Format::Tlv),
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            (m.code(), paths(&m), m.accept()),
            (
                Code::GET,
                vec!["3".into(), "0".into(), "1".into()],
                Some(11542)
            )
        );
        assert_eq!(m.observe(), None);

        let (b, _) = emit(&Operation::Discover {
            path: Path::instance(3, 0),
            depth: Some(1),
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.code(), m.accept()), (Code::GET, Some(40)));
        assert_eq!(m.uri_query().collect::<Vec<_>>(), vec![&b"depth=1"[..]]);

        let (b, _) = emit(&Operation::Write {
            path: Path::resource(1, 0, 1),
            replace: true,
            format: None,
            entries: vec![Entry::new(Path::resource(1, 0, 1), Value::Integer(300))],
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            (m.code(), m.content_format(), m.payload()),
            (Code::PUT, Some(0), &b"300"[..])
        );

        let (b, _) = emit(&Operation::Write {
            path: Path::instance(1, 0),
            replace: false,
            format: Some(Format::Tlv),
            entries: vec![Entry::new(Path::resource(1, 0, 1), Value::Integer(300))],
        });
        let m = Message::parse(&b).unwrap();
        // TLV: resource id 1, 2-byte integer 300 (Core 1.1 §7.4).
        assert_eq!((m.code(), m.content_format()), (Code::POST, Some(11542)));
        assert_eq!(m.payload(), &[0xc2, 0x01, 0x01, 0x2c]);

        let (b, _) = emit(&Operation::WriteAttributes {
            path: Path::resource(3303, 0, 5700),
            attributes: Attributes::parse("pmin=10&pmax=60").unwrap(),
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(m.code(), Code::PUT);
        assert_eq!(
            m.uri_query().collect::<Vec<_>>(),
            vec![&b"pmin=10"[..], b"pmax=60"]
        );
        assert!(m.payload().is_empty());

        let (b, _) = emit(&Operation::Execute {
            path: Path::resource(3, 0, 4),
            args: Some("0='x'".into()),
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            (m.code(), m.content_format(), m.payload()),
            (Code::POST, Some(0), &b"0='x'"[..])
        );

        let (b, _) = emit(&Operation::Delete {
            path: Path::instance(32769, 1),
        });
        assert_eq!(Message::parse(&b).unwrap().code(), Code::DELETE);

        let (b, _) = emit(&Operation::Observe {
            path: Path::resource(3303, 0, 5700),
            accept: None,
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.code(), m.observe()), (Code::GET, Some(0)));

        let (b, _) = emit(&Operation::ReadComposite {
            paths: vec![Path::resource(3, 0, 0), Path::resource(3303, 0, 5700)],
            request_format: Format::SenmlJson,
            accept: None,
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            (m.code(), m.content_format(), m.accept()),
            (Code::FETCH, Some(110), Some(110))
        );
        assert_eq!(m.uri_path().count(), 0);
        assert_eq!(m.payload(), br#"[{"n":"/3/0/0"},{"n":"/3303/0/5700"}]"#);

        let (b, _) = emit(&Operation::WriteComposite {
            format: Some(Format::SenmlJson),
            entries: vec![Entry::new(Path::resource(1, 0, 1), Value::Integer(5))],
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.code(), m.content_format()), (Code::IPATCH, Some(110)));

        let (b, _) = emit(&Operation::Create {
            path: Path::instance(32769, 4),
            format: Some(Format::Tlv),
            entries: vec![Entry::new(Path::resource(32769, 4, 1), Value::Integer(1))],
        });
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            (m.code(), paths(&m)),
            (Code::POST, vec!["32769".to_string()])
        );
        // An Object Instance TLV with id 4 around resource 1.
        assert_eq!(m.payload(), &[0x03, 0x04, 0xc1, 0x01, 0x01]);

        let (b, _) = emit(&Operation::BootstrapFinish);
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.code(), paths(&m)), (Code::POST, vec!["bs".to_string()]));
        let (b, _) = emit(&Operation::BootstrapDelete { path: Path::ROOT });
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.code(), m.uri_path().count()), (Code::DELETE, 0));
    }

    #[test]
    fn alternate_root_prefixes_paths() {
        let info = ClientInfo {
            root: vec!["lwm2m".into()],
            formats: vec![],
        };
        let enc = encode(
            &Operation::Read {
                path: Path::resource(3, 0, 1),
                accept: None,
            },
            &info,
            100,
        )
        .unwrap();
        assert_eq!(enc.wire.path, vec!["lwm2m", "3", "0", "1"]);
    }

    #[test]
    fn bad_arguments_are_refused_before_sending() {
        let info = ClientInfo::default();
        assert!(
            encode(
                &Operation::Execute {
                    path: Path::instance(3, 0),
                    args: None
                },
                &info,
                100
            )
            .is_err()
        );
        assert!(
            encode(
                &Operation::Write {
                    path: Path::object(3),
                    replace: true,
                    format: None,
                    entries: vec![]
                },
                &info,
                100
            )
            .is_err()
        );
        let big = Operation::Write {
            path: Path::resource(5, 0, 0),
            replace: true,
            format: None,
            entries: vec![Entry::new(
                Path::resource(5, 0, 0),
                Value::Opaque(vec![0u8; 200].into()),
            )],
        };
        assert_eq!(encode(&big, &info, 100).err(), Some(RequestError::TooLarge));
        assert!(encode(&big, &info, 1000).is_ok());
    }
}

#[cfg(test)]
mod bootstrap_write_tests {
    use super::*;
    use crate::core::bootstrap::ClientConfig;

    #[test]
    fn bootstrap_writes_encode_in_every_hierarchical_format() {
        let mut cfg = ClientConfig::single_server("coap://127.0.0.1:5683", 1, 60);
        cfg.security[0].identity = b"id".to_vec();
        cfg.security[0].secret_key = vec![1, 2, 3];
        for f in [
            Format::Tlv,
            Format::SenmlJson,
            Format::SenmlCbor,
            Format::Lwm2mCbor,
        ] {
            for op in cfg.script(Some(f)) {
                let e = encode(&op, &ClientInfo::default(), 1 << 16)
                    .unwrap_or_else(|e| panic!("{f:?} {op:?}: {e}"));
                if let Operation::BootstrapWrite { path, entries, .. } = &op {
                    assert_eq!(e.wire.content_format, Some(f.number()));
                    let (_, back) = decode_entries(
                        Some(f.number()),
                        &e.wire.body,
                        *path,
                        DecodeLimits::default(),
                    )
                    .unwrap();
                    assert_eq!(&back, entries, "{f:?}");
                }
            }
        }
    }
}
