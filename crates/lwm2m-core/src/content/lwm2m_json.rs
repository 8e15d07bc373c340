//! LwM2M JSON, `application/vnd.oma.lwm2m+json` (11543): the LwM2M 1.0
//! format (OMA-TS-LightweightM2M 1.0 §6.4.4 "JSON"; kept in Core 1.1 for
//! 1.0 peers).
//!
//! ```text
//! {"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},...]}
//! ```
//!
//! One object with an optional base name `bn`, an optional base time `bt`
//! and the array `e` of records, each with an optional name `n` (relative
//! to `bn`), an optional time `t` (relative to `bt`) and one value: `v`
//! (numbers: Integer, Unsigned, Float, Time), `bv` (Boolean), `ov` (Objlnk
//! `"oid:iid"`), `sv` (everything else; Opaque as standard base64).
//!
//! Names are joined to the base with exactly one slash whatever the peer
//! wrote (`"/3/0/"`+`"0"` as in the TS, `"/3/0"`+`"/0"` as Anjay writes);
//! without `bn` they are relative to the request path (the TS 1.0 Device
//! example has no `bn`). `bt` may come after `e` (the TS 1.0 historical
//! example puts it last), so the decoder first scans the top-level object
//! for the base fields, then streams the records.
//!
//! The encoder writes the TS form, compact: `bn` = the request path with a
//! trailing slash (or the exact path for a single value), relative names,
//! `t` absolute on timed records.

use alloc::borrow::Cow;

use super::base64;
use super::json::{self, Token, Tokenizer};
use super::senml::{Namer, Number, PathText, check_value_path, parse_name};
use super::senml_json::{json_limits, write_time};
use super::{DecodeError, DecodeLimits, Encode, EncodeError, Entry, TypeResolver};
use crate::buf::Writer;
use crate::dm::{DataType, ObjLnk, Path, Value};

/// Encodes entries as LwM2M JSON. Allocation-free; the header (`bn`) is
/// written with the first entry, when the base name's form is known.
#[derive(Clone, Debug)]
pub struct Lwm2mJsonEncoder {
    namer: Namer,
    started: bool,
    first: bool,
}

impl Lwm2mJsonEncoder {
    /// An encoder for a response to a request on `base`.
    pub fn new(base: Path) -> Self {
        Lwm2mJsonEncoder {
            namer: Namer::new(base),
            started: false,
            first: true,
        }
    }

    fn header(&mut self, w: &mut Writer<'_>, first: Option<&Path>) -> Result<(), EncodeError> {
        self.started = true;
        match self.namer.header(first)? {
            Some(bn) => {
                w.put(b"{\"bn\":\"")?;
                bn.write(w)?;
                w.put(b"\",\"e\":[")?;
            }
            None => w.put(b"{\"e\":[")?,
        }
        Ok(())
    }
}

impl Encode for Lwm2mJsonEncoder {
    fn put(&mut self, w: &mut Writer<'_>, entry: &Entry<'_>) -> Result<(), EncodeError> {
        if !self.started {
            self.header(w, Some(&entry.path))?;
        }
        let names = self.namer.names(&entry.path, true)?;
        if !self.first {
            w.put_u8(b',')?;
        }
        self.first = false;
        w.put_u8(b'{')?;
        if let Some(n) = names.n {
            w.put(b"\"n\":\"")?;
            n.write(w)?;
            w.put(b"\",")?;
        }
        match &entry.value {
            Value::Integer(i) | Value::Time(i) => {
                w.put(b"\"v\":")?;
                json::write_int(w, i)?;
            }
            Value::Unsigned(u) => {
                w.put(b"\"v\":")?;
                json::write_int(w, u)?;
            }
            Value::Float(f) => {
                w.put(b"\"v\":")?;
                json::write_f64(w, *f)?;
            }
            Value::Boolean(b) => w.put(if *b { b"\"bv\":true" } else { b"\"bv\":false" })?,
            Value::String(s) | Value::Corelnk(s) => {
                w.put(b"\"sv\":")?;
                json::write_str(w, s)?;
            }
            Value::Opaque(d) => {
                w.put(b"\"sv\":\"")?;
                base64::write_base64(w, d, base64::Base64::StdPadded)?;
                w.put_u8(b'"')?;
            }
            Value::Objlnk(l) => {
                w.put(b"\"ov\":")?;
                json::write_int(w, format_args!("\"{}:{}\"", l.oid, l.iid))?;
            }
        }
        if let Some(t) = entry.time {
            w.put(b",\"t\":")?;
            write_time(w, t)?;
        }
        w.put_u8(b'}')?;
        Ok(())
    }

    fn end(&mut self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if !self.started {
            self.header(w, None)?;
        }
        w.put(b"]}")?;
        Ok(())
    }
}

/// One value field of a record.
enum Field<'a> {
    Number(Number),
    Bool(bool),
    String(Cow<'a, str>),
    ObjLnk(Cow<'a, str>),
}

/// The streaming part, once the base fields are known.
struct Stream<'a> {
    tok: Tokenizer<'a>,
    bn: Option<Cow<'a, str>>,
    bt: Option<f64>,
    /// The request path as text, the prefix when there is no `bn`.
    base_text: [u8; 26],
    base_len: usize,
    in_array: bool,
    count: usize,
}

/// Decodes an LwM2M JSON payload into entries.
///
/// Every entry is at a resource or resource instance under `base` (else
/// [`DecodeError::Path`]), has exactly one value field (else
/// [`DecodeError::Malformed`]) converted to the type `resolver` declares
/// (else [`DecodeError::Type`]); `sv` of an Opaque resource is base64.
/// After the first error the iterator ends.
pub struct Lwm2mJsonDecoder<'a, 'r> {
    payload: &'a [u8],
    base: Path,
    resolver: &'r dyn TypeResolver,
    limits: DecodeLimits,
    stream: Option<Stream<'a>>,
    done: bool,
}

impl<'a, 'r> Lwm2mJsonDecoder<'a, 'r> {
    /// A decoder over `payload` for a request on `base`.
    pub fn new(
        payload: &'a [u8],
        base: Path,
        resolver: &'r dyn TypeResolver,
        limits: DecodeLimits,
    ) -> Self {
        Lwm2mJsonDecoder {
            payload,
            base,
            resolver,
            limits,
            stream: None,
            done: false,
        }
    }

    fn tokenizer(&self) -> Tokenizer<'a> {
        Tokenizer::new(self.payload, json_limits(&self.limits, 8))
    }

    /// First pass: the whole document is checked and `bn`, `bt` found.
    fn prescan(&self) -> Result<(Option<Cow<'a, str>>, Option<f64>), DecodeError> {
        let mut tok = self.tokenizer();
        let bad = |t: &Tokenizer<'_>| DecodeError::Malformed {
            at: t.token_start(),
        };
        if tok.expect_token()? != Token::BeginObject {
            return Err(bad(&tok));
        }
        let (mut bn, mut bt, mut e) = (None, None, false);
        loop {
            let key = match tok.expect_token()? {
                Token::EndObject => break,
                Token::Key(k) => k,
                _ => return Err(bad(&tok)),
            };
            let dup = match &*key {
                "bn" => match tok.expect_token()? {
                    Token::String(s) if s.len() > self.limits.max_value_len => {
                        return Err(DecodeError::TooLarge);
                    }
                    Token::String(s) => bn.replace(s).is_some(),
                    _ => return Err(bad(&tok)),
                },
                "bt" => match tok.expect_token()? {
                    Token::Number(n) => bt.replace(n.as_f64()).is_some(),
                    _ => return Err(bad(&tok)),
                },
                "e" => {
                    if tok.expect_token()? != Token::BeginArray {
                        return Err(bad(&tok));
                    }
                    while tok.depth() > 1 {
                        tok.expect_token()?;
                    }
                    core::mem::replace(&mut e, true)
                }
                _ => {
                    tok.skip_value()?;
                    false
                }
            };
            if dup {
                return Err(bad(&tok));
            }
        }
        if tok.next_token()?.is_some() || !e {
            return Err(DecodeError::Malformed { at: 0 });
        }
        Ok((bn, bt))
    }

    fn start(&self) -> Result<Stream<'a>, DecodeError> {
        let (bn, bt) = self.prescan()?;
        let mut base_text = [0u8; 26];
        let mut w = Writer::new(&mut base_text);
        PathText::full(self.base)
            .write(&mut w)
            .map_err(|_| DecodeError::Path)?;
        let base_len = w.len();
        let mut tok = self.tokenizer();
        // The prescan validated the document: skip to the "e" array.
        tok.expect_token()?;
        loop {
            match tok.expect_token()? {
                Token::Key(k) if k == "e" => break,
                Token::Key(_) => tok.skip_value()?,
                _ => return Err(DecodeError::Malformed { at: 0 }),
            }
        }
        tok.expect_token()?;
        Ok(Stream {
            tok,
            bn,
            bt,
            base_text,
            base_len,
            in_array: true,
            count: 0,
        })
    }

    fn step(&mut self) -> Result<Option<Entry<'a>>, DecodeError> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => self.stream.insert(self.start()?),
        };
        if !stream.in_array {
            return Ok(None);
        }
        match stream.tok.expect_token()? {
            Token::BeginObject => {}
            // The prescan checked everything after the array.
            Token::EndArray => {
                stream.in_array = false;
                return Ok(None);
            }
            _ => {
                return Err(DecodeError::Malformed {
                    at: stream.tok.token_start(),
                });
            }
        }
        let at = stream.tok.token_start();
        stream.count += 1;
        if stream.count > self.limits.max_entries {
            return Err(DecodeError::TooLarge);
        }
        let (name, time, field) = read_record(&mut stream.tok, &self.limits)?;
        let field = field.ok_or(DecodeError::Malformed { at })?;
        let path = match (&stream.bn, &name) {
            (Some(bn), n) => join(bn, n.as_deref().unwrap_or(""))?,
            (None, n) => {
                let base = stream.base_text.get(..stream.base_len).unwrap_or(&[]);
                let base = core::str::from_utf8(base).map_err(|_| DecodeError::Path)?;
                join(base, n.as_deref().unwrap_or(""))?
            }
        };
        check_value_path(&path, &self.base)?;
        let time = match (stream.bt, time) {
            (None, None) => None,
            (bt, t) => Some(bt.unwrap_or(0.0) + t.unwrap_or(0.0)),
        };
        let value = value(field, &path, self.resolver, &self.limits)?;
        Ok(Some(Entry { path, value, time }))
    }
}

/// `base` and `name` joined with exactly one slash.
fn join(base: &str, name: &str) -> Result<Path, DecodeError> {
    let name = name.strip_prefix('/').unwrap_or(name);
    if name.is_empty() {
        return parse_name(&[base]);
    }
    let base = base.strip_suffix('/').unwrap_or(base);
    parse_name(&[base, "/", name])
}

type Parts<'a> = (Option<Cow<'a, str>>, Option<f64>, Option<Field<'a>>);

/// Reads a record object whose `{` was just consumed.
fn read_record<'a>(tok: &mut Tokenizer<'a>, l: &DecodeLimits) -> Result<Parts<'a>, DecodeError> {
    let (mut name, mut time, mut field) = (None, None, None);
    loop {
        let key = match tok.expect_token()? {
            Token::EndObject => return Ok((name, time, field)),
            Token::Key(k) => k,
            _ => {
                return Err(DecodeError::Malformed {
                    at: tok.token_start(),
                });
            }
        };
        let key_at = tok.token_start();
        if !matches!(&*key, "n" | "t" | "v" | "bv" | "sv" | "ov") {
            tok.skip_value()?;
            continue;
        }
        let v = tok.expect_token()?;
        let bad = DecodeError::Malformed {
            at: tok.token_start(),
        };
        if let Token::String(s) = &v
            && s.len() > l.max_value_len.saturating_mul(4) / 3 + 4
        {
            return Err(DecodeError::TooLarge);
        }
        let dup = match (&*key, v) {
            ("n", Token::String(s)) => name.replace(s).is_some(),
            ("t", Token::Number(n)) => time.replace(n.as_f64()).is_some(),
            ("v", Token::Number(n)) => field.replace(Field::Number(n)).is_some(),
            ("bv", Token::Bool(b)) => field.replace(Field::Bool(b)).is_some(),
            ("sv", Token::String(s)) => field.replace(Field::String(s)).is_some(),
            ("ov", Token::String(s)) => field.replace(Field::ObjLnk(s)).is_some(),
            _ => return Err(bad),
        };
        if dup {
            return Err(DecodeError::Malformed { at: key_at });
        }
    }
}

fn value<'a>(
    field: Field<'a>,
    path: &Path,
    resolver: &dyn TypeResolver,
    l: &DecodeLimits,
) -> Result<Value<'a>, DecodeError> {
    let declared = resolver.data_type(&path.truncated(3));
    let v = match field {
        Field::Number(Number::Int(i)) => Value::Integer(i),
        Field::Number(Number::Uint(u)) => Value::Unsigned(u),
        Field::Number(Number::Float(f)) => Value::Float(f),
        Field::Bool(b) => Value::Boolean(b),
        Field::String(s) if declared == Some(DataType::Opaque) => {
            let d = base64::decode_base64(&s).ok_or(DecodeError::Type)?;
            if d.len() > l.max_value_len {
                return Err(DecodeError::TooLarge);
            }
            return Ok(Value::Opaque(Cow::Owned(d)));
        }
        Field::String(s) => {
            if s.len() > l.max_value_len {
                return Err(DecodeError::TooLarge);
            }
            Value::String(s)
        }
        Field::ObjLnk(s) => Value::Objlnk(ObjLnk::parse(&s).ok_or(DecodeError::Type)?),
    };
    match declared {
        Some(dt) => v.coerce(dt).map_err(|_| DecodeError::Type),
        None => Ok(v),
    }
}

impl<'a> Iterator for Lwm2mJsonDecoder<'a, '_> {
    type Item = Result<Entry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step();
        self.done = !matches!(r, Ok(Some(_)));
        r.transpose()
    }
}

#[cfg(test)]
#[path = "lwm2m_json_tests.rs"]
mod tests;
