//! The CoAP file server for firmware PULL (OMA-TS-LightweightM2M_Core 1.1
//! §E.6 Package URI, `coap://host:port/fw/<name>`): `GET /<prefix>/<name>`
//! answered with Block2 (RFC 7959 §2.4) and an ETag that is a hash of the
//! content, so a download that resumes after a break, or runs again after
//! a server restart, sees the same ETag for the same bytes.
//!
//! The core does no I/O: a [`FileSource`] supplies the bytes (the std driver
//! reads a directory; tests use [`MemFiles`]). The last few files are kept in
//! memory; block 0 of a transfer reloads the file, so a replaced file gets a
//! new ETag from the next download on.

use std::collections::HashMap;
use std::sync::Arc;

use lwm2m_core::coap::{Block, Code, EmitError, Message, MessageBuilder, MsgType, option};

/// Where file contents come from.
pub trait FileSource: Send {
    /// The content of `name` (one path segment, not starting with `.`), at
    /// most `max` bytes; `None` if there is no such file or it is larger.
    fn load(&mut self, name: &str, max: usize) -> Option<Arc<[u8]>>;
}

/// Files held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemFiles(pub HashMap<String, Arc<[u8]>>);

impl MemFiles {
    /// Adds or replaces a file.
    pub fn insert(&mut self, name: &str, bytes: impl Into<Arc<[u8]>>) {
        self.0.insert(name.to_string(), bytes.into());
    }
}

impl FileSource for MemFiles {
    fn load(&mut self, name: &str, max: usize) -> Option<Arc<[u8]>> {
        self.0.get(name).filter(|b| b.len() <= max).cloned()
    }
}

/// FNV-1a, 64 bits: a content hash for ETags (not a security property).
pub fn etag_of(bytes: &[u8]) -> [u8; 8] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.to_be_bytes()
}

struct Cached {
    name: String,
    data: Arc<[u8]>,
    etag: [u8; 8],
    used: u64,
}

/// What a file request produced.
pub(crate) struct Served {
    /// The response datagram.
    pub(crate) len: usize,
    /// Set when the last block of `name` (of this size) went out.
    pub(crate) done: Option<(String, usize)>,
}

/// The file server's state.
pub(crate) struct Files {
    source: Box<dyn FileSource>,
    cache: Vec<Cached>,
    max_cached: usize,
    max_bytes: usize,
    clock: u64,
}

/// Whether a name is one plain file name.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 255
        && !name.contains(['/', '\\', '\0'])
}

impl Files {
    pub(crate) fn new(source: Box<dyn FileSource>, max_cached: usize, max_bytes: usize) -> Files {
        Files {
            source,
            cache: Vec::new(),
            max_cached: max_cached.max(1),
            max_bytes,
            clock: 0,
        }
    }

    fn get(&mut self, name: &str, reload: bool) -> Option<(Arc<[u8]>, [u8; 8])> {
        self.clock += 1;
        let clock = self.clock;
        if !reload && let Some(c) = self.cache.iter_mut().find(|c| c.name == name) {
            c.used = clock;
            return Some((c.data.clone(), c.etag));
        }
        let data = self.source.load(name, self.max_bytes);
        self.cache.retain(|c| c.name != name);
        let data = data?;
        let etag = etag_of(&data);
        if self.cache.len() >= self.max_cached
            && let Some(i) = self
                .cache
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| c.used)
                .map(|(i, _)| i)
        {
            self.cache.swap_remove(i);
        }
        self.cache.push(Cached {
            name: name.to_string(),
            data: data.clone(),
            etag,
            used: clock,
        });
        Some((data, etag))
    }

    /// Answers `req` (a request whose first Uri-Path segment is the file
    /// prefix) into `out`. `mid` is used for a Non-confirmable answer.
    pub(crate) fn serve(
        &mut self,
        req: &Message<'_>,
        mid: u16,
        pref_szx: u8,
        out: &mut [u8],
    ) -> Result<Served, EmitError> {
        let con = req.mtype() == MsgType::Con;
        let (mtype, mid) = if con {
            (MsgType::Ack, req.mid())
        } else {
            (MsgType::Non, mid)
        };
        let token = req.token_bytes();
        let plain = |out: &mut [u8], code: Code| -> Result<Served, EmitError> {
            let b = MessageBuilder::new(out, mtype, code, mid, token)?;
            Ok(Served {
                len: b.finish(),
                done: None,
            })
        };
        if req.code() != Code::GET {
            return plain(out, Code::METHOD_NOT_ALLOWED);
        }
        let mut segs = req.uri_path().skip(1);
        let name = match (segs.next(), segs.next()) {
            (Some(n), None) => std::str::from_utf8(n).ok().filter(|n| safe_name(n)),
            _ => None,
        };
        let Some(name) = name else {
            return plain(out, Code::NOT_FOUND);
        };
        let want = match req.block2() {
            None => None,
            Some(Ok(b)) => Some(b),
            Some(Err(_)) => return plain(out, Code::BAD_REQUEST),
        };
        let reload = want.is_none_or(|b| b.num == 0);
        let Some((data, etag)) = self.get(name, reload) else {
            return plain(out, Code::NOT_FOUND);
        };
        // Header, token, ETag, Content-Format, Block2, Size2, marker.
        let overhead = 4 + token.len() + 9 + 3 + 4 + 6 + 1;
        let mut szx = want.map_or(pref_szx, |b| b.szx.min(pref_szx)).min(6);
        while szx > 0 && (1usize << (szx + 4)) + overhead > out.len() {
            szx -= 1;
        }
        let size = 1usize << (szx + 4);
        // A smaller block size than asked starts at the same byte offset
        // (RFC 7959 §2.4).
        let offset = want.map_or(0, |b| b.offset());
        if offset > data.len() || (offset == data.len() && offset > 0) {
            // RFC 7959 §2.2: a block past the end.
            return plain(out, Code::BAD_OPTION);
        }
        let end = offset.saturating_add(size).min(data.len());
        let more = end < data.len();
        let blockwise = want.is_some() || more;
        let mut b = MessageBuilder::new(out, mtype, Code::CONTENT, mid, token)?;
        b.option(option::ETAG, &etag)?;
        b.uint_option(option::CONTENT_FORMAT, 42)?;
        if blockwise {
            let num = u32::try_from(offset / size).map_err(|_| EmitError::Overflow)?;
            b.block_option(option::BLOCK2, Block { num, more, szx })?;
            // RFC 7959 §4: with the first block, and whenever the request
            // asks with a Size2 option (a client resuming a download).
            if offset == 0 || req.size2().is_some() {
                let total = u32::try_from(data.len()).unwrap_or(u32::MAX);
                b.uint_option(option::SIZE2, total)?;
            }
        }
        b.payload(data.get(offset..end).unwrap_or(&[]))?;
        let done = (!more).then(|| (name.to_string(), data.len()));
        Ok(Served {
            len: b.finish(),
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &[&str], block: Option<Block>, buf: &mut [u8]) -> usize {
        let mut b = MessageBuilder::new(buf, MsgType::Con, Code::GET, 7, &[1, 2]).unwrap();
        for p in path {
            b.option(option::URI_PATH, p.as_bytes()).unwrap();
        }
        if let Some(bl) = block {
            b.block_option(option::BLOCK2, bl).unwrap();
        }
        b.finish()
    }

    fn files() -> Files {
        let mut m = MemFiles::default();
        m.insert("fw.bin", (0..3000u32).map(|i| i as u8).collect::<Vec<u8>>());
        m.insert("small", b"hi".to_vec());
        Files::new(Box::new(m), 2, 1 << 20)
    }

    #[test]
    fn serves_blocks_with_a_content_etag() {
        let mut f = files();
        let (mut req, mut out) = ([0u8; 64], [0u8; 1152]);
        let n = get(
            &["fw", "fw.bin"],
            Some(Block {
                num: 0,
                more: false,
                szx: 6,
            }),
            &mut req,
        );
        let s = f
            .serve(&Message::parse(&req[..n]).unwrap(), 0, 6, &mut out)
            .unwrap();
        let m = Message::parse(&out[..s.len]).unwrap();
        assert_eq!(
            (m.mtype(), m.mid(), m.code()),
            (MsgType::Ack, 7, Code::CONTENT)
        );
        assert_eq!(m.token_bytes(), &[1, 2]);
        let b = m.block2().unwrap().unwrap();
        assert_eq!((b.num, b.more, b.szx), (0, true, 6));
        assert_eq!(m.size2(), Some(3000));
        assert_eq!(m.content_format(), Some(42));
        let etag = m.etag().unwrap().to_vec();
        assert_eq!(
            etag,
            etag_of(&(0..3000u32).map(|i| i as u8).collect::<Vec<_>>())
        );
        assert_eq!(m.payload().len(), 1024);
        assert!(s.done.is_none());
        // The last block (smaller size, same offset arithmetic).
        let n = get(
            &["fw", "fw.bin"],
            Some(Block {
                num: 2,
                more: false,
                szx: 6,
            }),
            &mut req,
        );
        let s = f
            .serve(&Message::parse(&req[..n]).unwrap(), 0, 6, &mut out)
            .unwrap();
        let m = Message::parse(&out[..s.len]).unwrap();
        assert_eq!(m.payload().len(), 3000 - 2048);
        assert!(!m.block2().unwrap().unwrap().more);
        assert_eq!(m.etag().unwrap(), &etag[..]);
        assert_eq!(s.done, Some(("fw.bin".to_string(), 3000)));
        // Past the end.
        let n = get(
            &["fw", "fw.bin"],
            Some(Block {
                num: 3,
                more: false,
                szx: 6,
            }),
            &mut req,
        );
        let s = f
            .serve(&Message::parse(&req[..n]).unwrap(), 0, 6, &mut out)
            .unwrap();
        assert_eq!(
            Message::parse(&out[..s.len]).unwrap().code(),
            Code::BAD_OPTION
        );
    }

    #[test]
    fn small_file_whole_and_errors() {
        let mut f = files();
        let (mut req, mut out) = ([0u8; 64], [0u8; 1152]);
        let n = get(&["fw", "small"], None, &mut req);
        let s = f
            .serve(&Message::parse(&req[..n]).unwrap(), 0, 6, &mut out)
            .unwrap();
        let m = Message::parse(&out[..s.len]).unwrap();
        assert_eq!(m.payload(), b"hi");
        assert!(m.block2().is_none());
        for path in [
            &["fw"][..],
            &["fw", "nope"],
            &["fw", ".."],
            &["fw", "a", "b"],
        ] {
            let n = get(path, None, &mut req);
            let s = f
                .serve(&Message::parse(&req[..n]).unwrap(), 0, 6, &mut out)
                .unwrap();
            assert_eq!(
                Message::parse(&out[..s.len]).unwrap().code(),
                Code::NOT_FOUND
            );
        }
    }
}
