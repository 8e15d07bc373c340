//! Requests a scripted server sends to a client: one typed value per LwM2M
//! operation, mapped to CoAP as OMA-TS-LightweightM2M_Core 1.1 §6.3 and
//! §6.1 say (the same table as `lwm2m_core::dm::request`), built into a
//! datagram with the core's [`MessageBuilder`].

use lwm2m_core::coap::{Block, Code, EmitError, MessageBuilder, option};
use lwm2m_core::content::{Encode, EncodeError, Encoder, Entry, Format};
use lwm2m_core::dm::Path;

/// One request of a server to a client. Build it with the constructors
/// ([`Req::read`], [`Req::write`], ...) and adjust it with the `with_*`
/// methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Req {
    /// CoAP method.
    pub method: Code,
    /// Uri-Path segments (none for the root).
    pub path: Vec<String>,
    /// Uri-Query items.
    pub queries: Vec<String>,
    /// Content-Format of the body.
    pub content_format: Option<u16>,
    /// Accept.
    pub accept: Option<u16>,
    /// Observe (0 registers, 1 cancels).
    pub observe: Option<u32>,
    /// The whole body; sent with Block1 when larger than a block.
    pub body: Vec<u8>,
    /// Confirmable (the default) or not.
    pub confirmable: bool,
    /// Block size exponent for Block1 bodies and early Block2 negotiation
    /// (2^(szx+4) bytes; 6 = 1024).
    pub szx: u8,
    /// Ask for Block2 of this size in the first request (RFC 7959 §2.4
    /// early negotiation).
    pub early_block2: bool,
    /// Send only this one block of a Block1 body (M set) and take its answer
    /// as the outcome: to provoke 4.08 or to start a transfer and leave it.
    pub lone_block1: Option<u32>,
    /// Ask for only this one Block2 block and take it as the outcome.
    pub lone_block2: Option<u32>,
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

impl Req {
    /// A bare request: `method` on `path` (`"/3/0/1"`; `"/"` for the root).
    pub fn new(method: Code, path: &str) -> Req {
        Req {
            method,
            path: segments(path),
            queries: Vec::new(),
            content_format: None,
            accept: None,
            observe: None,
            body: Vec::new(),
            confirmable: true,
            szx: 6,
            early_block2: false,
            lone_block1: None,
            lone_block2: None,
        }
    }

    /// Read (GET).
    pub fn read(path: &str) -> Req {
        Req::new(Code::GET, path)
    }

    /// Discover (GET, Accept link-format).
    pub fn discover(path: &str) -> Req {
        Req::read(path).with_accept(Format::LinkFormat.number())
    }

    /// Observe (GET, Observe 0).
    pub fn observe(path: &str) -> Req {
        Req {
            observe: Some(0),
            ..Req::read(path)
        }
    }

    /// Write-replace (PUT) of `body` in `format`.
    pub fn write(path: &str, format: Format, body: Vec<u8>) -> Req {
        Req {
            content_format: Some(format.number()),
            body,
            ..Req::new(Code::PUT, path)
        }
    }

    /// Write partial update (POST) of `body` in `format`.
    pub fn write_update(path: &str, format: Format, body: Vec<u8>) -> Req {
        Req {
            content_format: Some(format.number()),
            body,
            ..Req::new(Code::POST, path)
        }
    }

    /// Execute (POST) with an argument list (`"0='a',1"`, or empty).
    pub fn execute(path: &str, args: &str) -> Req {
        Req {
            body: args.as_bytes().to_vec(),
            content_format: (!args.is_empty()).then_some(Format::Text.number()),
            ..Req::new(Code::POST, path)
        }
    }

    /// Create (POST on an object) with `body` in `format` (empty body:
    /// an instance with defaults and an id of the client's choice).
    pub fn create(oid: u16, format: Format, body: Vec<u8>) -> Req {
        Req {
            content_format: (!body.is_empty()).then_some(format.number()),
            body,
            ..Req::new(Code::POST, &format!("/{oid}"))
        }
    }

    /// Delete.
    pub fn delete(path: &str) -> Req {
        Req::new(Code::DELETE, path)
    }

    /// Write-Attributes (PUT with queries only): `attrs` like
    /// `"pmin=10&pmax=60"`.
    pub fn write_attributes(path: &str, attrs: &str) -> Req {
        Req {
            queries: attrs
                .split('&')
                .filter(|q| !q.is_empty())
                .map(String::from)
                .collect(),
            ..Req::new(Code::PUT, path)
        }
    }

    /// Read-Composite (FETCH /) of `paths`, asked and answered in `format`
    /// (SenML JSON or CBOR).
    pub fn read_composite(paths: &[Path], format: Format) -> Req {
        Req {
            content_format: Some(format.number()),
            accept: Some(format.number()),
            body: encode_paths(format, paths),
            ..Req::new(Code::FETCH, "/")
        }
    }

    /// Observe-Composite (FETCH / with Observe 0).
    pub fn observe_composite(paths: &[Path], format: Format) -> Req {
        Req {
            observe: Some(0),
            ..Req::read_composite(paths, format)
        }
    }

    /// Write-Composite (iPATCH /) of `body` in `format`.
    pub fn write_composite(format: Format, body: Vec<u8>) -> Req {
        Req {
            content_format: Some(format.number()),
            body,
            ..Req::new(Code::IPATCH, "/")
        }
    }

    /// Bootstrap-Write (PUT) of `body` in `format`.
    pub fn bootstrap_write(path: &str, format: Format, body: Vec<u8>) -> Req {
        Req::write(path, format, body)
    }

    /// Bootstrap-Delete (DELETE; `"/"` deletes everything deletable).
    pub fn bootstrap_delete(path: &str) -> Req {
        Req::delete(path)
    }

    /// Bootstrap-Finish (POST /bs).
    pub fn bootstrap_finish() -> Req {
        Req::new(Code::POST, "/bs")
    }

    /// With Accept `format`.
    pub fn with_accept(mut self, format: u16) -> Req {
        self.accept = Some(format);
        self
    }

    /// With a Uri-Query item.
    pub fn with_query(mut self, q: &str) -> Req {
        self.queries.push(q.into());
        self
    }

    /// With block size exponent `szx` (Block1 bodies; Block2 when
    /// [`Req::with_early_block2`]).
    pub fn with_block_szx(mut self, szx: u8) -> Req {
        self.szx = szx.min(6);
        self
    }

    /// Asks for Block2 blocks of 2^(szx+4) bytes from the first request on.
    pub fn with_early_block2(mut self, szx: u8) -> Req {
        self.szx = szx.min(6);
        self.early_block2 = true;
        self
    }

    /// Sends only block `num` of the body (with M set) and ends with its
    /// answer.
    pub fn with_lone_block1(mut self, num: u32) -> Req {
        self.lone_block1 = Some(num);
        self
    }

    /// Asks only for block `num` (of the block size set with
    /// [`Req::with_block_szx`]) and ends with it.
    pub fn with_lone_block2(mut self, num: u32) -> Req {
        self.lone_block2 = Some(num);
        self
    }

    /// Non-confirmable.
    pub fn non_confirmable(mut self) -> Req {
        self.confirmable = false;
        self
    }

    /// The data-model path of the request (`None` for `/bs` or an
    /// unparsable one).
    pub fn dm_path(&self) -> Option<Path> {
        let ids: Option<Vec<u16>> = self.path.iter().map(|s| s.parse().ok()).collect();
        Path::new(&ids?)
    }

    /// Writes the request's options and `payload` in option-number order.
    pub(crate) fn emit(
        &self,
        m: &mut MessageBuilder<'_>,
        observe: Option<u32>,
        block2: Option<Block>,
        block1: Option<(Block, usize)>,
        payload: &[u8],
    ) -> Result<(), EmitError> {
        if let Some(o) = observe {
            m.uint_option(option::OBSERVE, o)?;
        }
        for seg in &self.path {
            m.option(option::URI_PATH, seg.as_bytes())?;
        }
        if let Some(cf) = self.content_format {
            m.uint_option(option::CONTENT_FORMAT, u32::from(cf))?;
        }
        for q in &self.queries {
            m.option(option::URI_QUERY, q.as_bytes())?;
        }
        if let Some(a) = self.accept {
            m.uint_option(option::ACCEPT, u32::from(a))?;
        }
        if let Some(b) = block2 {
            m.block_option(option::BLOCK2, b)?;
        }
        if let Some((b, total)) = block1 {
            m.block_option(option::BLOCK1, b)?;
            if b.num == 0 {
                // RFC 7959 §4: the total size with the first block.
                m.uint_option(option::SIZE1, u32::try_from(total).unwrap_or(u32::MAX))?;
            }
        }
        if !payload.is_empty() {
            m.payload(payload)?;
        }
        Ok(())
    }
}

/// Encodes `entries` (in path order) as a `format` payload about `base`.
/// Empty when the format cannot carry them.
pub fn encode(format: Format, base: Path, entries: &[Entry<'_>]) -> Vec<u8> {
    let mut cap = 4096usize;
    while cap <= 64 << 20 {
        let mut buf = vec![0u8; cap];
        let Some(mut enc) = Encoder::new(format, base) else {
            return Vec::new();
        };
        let mut w = lwm2m_core::buf::Writer::new(&mut buf);
        let r = (|| {
            enc.begin(&mut w)?;
            for e in entries {
                enc.put(&mut w, e)?;
            }
            enc.end(&mut w)
        })();
        match r {
            Ok(()) => {
                let n = w.len();
                buf.truncate(n);
                return buf;
            }
            Err(EncodeError::Overflow) => {}
            Err(_) => return Vec::new(),
        }
        cap *= 4;
    }
    Vec::new()
}

/// A SenML list of paths (the body of Read-Composite / Observe-Composite).
fn encode_paths(format: Format, paths: &[Path]) -> Vec<u8> {
    let mut out = String::new();
    match format {
        Format::SenmlJson => {
            out.push('[');
            for (i, p) in paths.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"n\":\"{p}\"}}"));
            }
            out.push(']');
            out.into_bytes()
        }
        Format::SenmlCbor => {
            // array(n) of map(1) { 0 (name): text }
            let mut b = Vec::new();
            cbor_head(&mut b, 4, paths.len());
            for p in paths {
                let s = p.to_string();
                cbor_head(&mut b, 5, 1);
                b.push(0x00);
                cbor_head(&mut b, 3, s.len());
                b.extend_from_slice(s.as_bytes());
            }
            b
        }
        _ => Vec::new(),
    }
}

fn cbor_head(b: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    match n {
        0..=23 => b.push(m | n as u8),
        24..=0xff => b.extend_from_slice(&[m | 24, n as u8]),
        _ => {
            b.push(m | 25);
            b.extend_from_slice(&(n.min(0xffff) as u16).to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m_core::coap::{Message, MsgType};
    use lwm2m_core::dm::Value;

    #[test]
    fn options_come_out_in_order_and_parse_back() {
        let r = Req::observe("/3303/0/5700")
            .with_accept(110)
            .with_query("pmin=1");
        let mut buf = [0u8; 256];
        let mut m = MessageBuilder::new(&mut buf, MsgType::Con, r.method, 1, &[1]).unwrap();
        r.emit(
            &mut m,
            r.observe,
            Some(Block {
                num: 0,
                more: false,
                szx: 2,
            }),
            None,
            &[],
        )
        .unwrap();
        let n = m.finish();
        let msg = Message::parse(&buf[..n]).unwrap();
        assert_eq!(msg.observe(), Some(0));
        assert_eq!(msg.uri_path().count(), 3);
        assert_eq!(msg.accept(), Some(110));
        assert_eq!(msg.block2().unwrap().unwrap().size(), 64);
        assert_eq!(r.dm_path(), Path::new(&[3303, 0, 5700]));
    }

    #[test]
    fn encode_grows_for_large_values() {
        let big = vec![7u8; 100_000];
        let p = Path::new(&[1, 0, 0]).unwrap();
        let body = encode(Format::Opaque, p, &[Entry::new(p, Value::bytes(&big))]);
        assert_eq!(body, big);
        let text = encode(Format::SenmlJson, p, &[Entry::new(p, Value::Integer(3))]);
        assert!(String::from_utf8(text).unwrap().contains("\"v\":3"));
    }

    #[test]
    fn composite_path_lists() {
        let ps = [Path::new(&[3, 0, 1]).unwrap(), Path::new(&[1, 0]).unwrap()];
        let j = encode_paths(Format::SenmlJson, &ps);
        assert_eq!(j, br#"[{"n":"/3/0/1"},{"n":"/1/0"}]"#);
        let c = encode_paths(Format::SenmlCbor, &ps);
        assert_eq!(&c[..4], &[0x82, 0xa1, 0x00, 0x66]);
    }
}
