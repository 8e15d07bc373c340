//! A small, strict, streaming JSON tokenizer (RFC 8259) and the JSON output
//! helpers shared by SenML JSON ([`super::senml_json`]) and LwM2M JSON
//! ([`super::lwm2m_json`]).
//!
//! Why not `serde_json`: the decoders hand out one SenML record at a time out
//! of a top-level array while borrowing its strings from the payload, and the
//! core is `no_std`; `serde_json` either builds the whole document or needs a
//! typed `Deserialize` of the whole array, and `serde-json-core` cannot
//! unescape into an owned string. A pull tokenizer is all these formats need.
//!
//! Guarantees: every input either tokenizes or yields a
//! [`DecodeError`]; nothing panics; nesting, string length and the number of
//! tokens are bounded by [`Limits`]; the only allocation is the unescaped copy
//! of a string that contains escapes (at most `max_string_len` bytes).
//! Strings without escapes are borrowed from the payload.
//!
//! Numbers are exact: an integral literal that fits is an `i64` / `u64`,
//! anything else is the nearest `f64` (`core`'s correctly rounded parser);
//! a literal beyond the `f64` range is an error rather than an infinity.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use super::senml::Number;
use super::{DecodeError, EncodeError};
use crate::buf::Writer;

/// Bounds the tokenizer enforces (all exceeded → [`DecodeError::TooLarge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of arrays and objects (at most 64 in any case).
    pub max_depth: usize,
    /// Longest string or number literal, in bytes as written.
    pub max_string_len: usize,
    /// Most tokens in one document.
    pub max_tokens: usize,
}

/// The hard ceiling on nesting: the container stack is one `u64` bitmap.
const MAX_DEPTH: usize = 64;

/// One JSON token.
#[derive(Clone, Debug, PartialEq)]
pub enum Token<'a> {
    /// `{`
    BeginObject,
    /// `}`
    EndObject,
    /// `[`
    BeginArray,
    /// `]`
    EndArray,
    /// An object member name (the `:` after it is consumed).
    Key(Cow<'a, str>),
    /// A string value.
    String(Cow<'a, str>),
    /// A number value.
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A value must follow (document start, after `:` or `,` in an array).
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrEnd,
    /// Just after `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// After a complete value: `,`, a closing bracket, or the end.
    AfterValue,
}

/// A pull tokenizer over one JSON document.
///
/// Call [`Tokenizer::next_token`] until it returns `Ok(None)` (the document
/// ended and only whitespace followed) or an error; after an error the
/// tokenizer keeps returning errors.
#[derive(Debug)]
pub struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Bit `i` set: the container at depth `i + 1` is an object.
    stack: u64,
    depth: usize,
    state: State,
    tokens: usize,
    token_start: usize,
    limits: Limits,
    failed: Option<DecodeError>,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer at the start of `src`.
    pub fn new(src: &'a [u8], limits: Limits) -> Self {
        Tokenizer {
            src,
            pos: 0,
            stack: 0,
            depth: 0,
            state: State::Value,
            tokens: 0,
            token_start: 0,
            limits,
            failed: None,
        }
    }

    /// Byte offset where the last token returned started.
    pub fn token_start(&self) -> usize {
        self.token_start
    }

    /// Current nesting depth (0 outside any container).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The next token, `Ok(None)` at the end of the document.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.step();
        if let Err(e) = r {
            self.failed = Some(e);
        }
        r
    }

    /// The next token, which must exist (`None` becomes an error).
    pub fn expect_token(&mut self) -> Result<Token<'a>, DecodeError> {
        match self.next_token()? {
            Some(t) => Ok(t),
            None => Err(self.fail_at(self.pos)),
        }
    }

    /// Consumes the next value whole (a scalar, or a container with
    /// everything inside it).
    pub fn skip_value(&mut self) -> Result<(), DecodeError> {
        let outer = self.depth;
        match self.expect_token()? {
            Token::BeginArray | Token::BeginObject => {
                while self.depth > outer {
                    self.expect_token()?;
                }
                Ok(())
            }
            Token::Key(_) | Token::EndArray | Token::EndObject => {
                Err(self.fail_at(self.token_start))
            }
            _ => Ok(()),
        }
    }

    fn fail_at(&mut self, at: usize) -> DecodeError {
        let e = DecodeError::Malformed { at };
        self.failed = Some(e);
        e
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn step(&mut self) -> Result<Option<Token<'a>>, DecodeError> {
        loop {
            self.skip_ws();
            self.token_start = self.pos;
            let at = self.pos;
            let token = match self.state {
                State::AfterValue if self.depth == 0 => {
                    return match self.peek() {
                        None => Ok(None),
                        Some(_) => Err(DecodeError::Malformed { at }),
                    };
                }
                State::AfterValue => {
                    let in_object = self.in_object();
                    match self.peek() {
                        Some(b',') => {
                            self.pos += 1;
                            self.state = if in_object { State::Key } else { State::Value };
                            continue;
                        }
                        Some(b']') if !in_object => self.close(Token::EndArray),
                        Some(b'}') if in_object => self.close(Token::EndObject),
                        _ => return Err(DecodeError::Malformed { at }),
                    }
                }
                State::ValueOrEnd if self.peek() == Some(b']') => self.close(Token::EndArray),
                State::Value | State::ValueOrEnd => self.value()?,
                State::KeyOrEnd if self.peek() == Some(b'}') => self.close(Token::EndObject),
                State::KeyOrEnd | State::Key => {
                    if self.peek() != Some(b'"') {
                        return Err(DecodeError::Malformed { at });
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(DecodeError::Malformed { at: self.pos });
                    }
                    self.pos += 1;
                    self.state = State::Value;
                    Token::Key(key)
                }
            };
            self.tokens += 1;
            if self.tokens > self.limits.max_tokens {
                return Err(DecodeError::TooLarge);
            }
            return Ok(Some(token));
        }
    }

    fn in_object(&self) -> bool {
        self.depth > 0 && (self.stack >> (self.depth - 1)) & 1 == 1
    }

    fn close(&mut self, token: Token<'a>) -> Token<'a> {
        self.pos += 1;
        self.depth -= 1;
        self.stack &= !(1u64.checked_shl(self.depth as u32).unwrap_or(0));
        self.state = State::AfterValue;
        token
    }

    fn open(&mut self, object: bool) -> Result<Token<'a>, DecodeError> {
        if self.depth >= self.limits.max_depth.min(MAX_DEPTH) {
            return Err(DecodeError::TooLarge);
        }
        self.pos += 1;
        if object {
            self.stack |= 1u64.checked_shl(self.depth as u32).unwrap_or(0);
        }
        self.depth += 1;
        Ok(if object {
            self.state = State::KeyOrEnd;
            Token::BeginObject
        } else {
            self.state = State::ValueOrEnd;
            Token::BeginArray
        })
    }

    fn value(&mut self) -> Result<Token<'a>, DecodeError> {
        let at = self.pos;
        let token = match self.peek() {
            Some(b'{') => return self.open(true),
            Some(b'[') => return self.open(false),
            Some(b'"') => Token::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Token::Number(self.number()?),
            Some(b't') => self.literal(b"true", Token::Bool(true))?,
            Some(b'f') => self.literal(b"false", Token::Bool(false))?,
            Some(b'n') => self.literal(b"null", Token::Null)?,
            _ => return Err(DecodeError::Malformed { at }),
        };
        self.state = State::AfterValue;
        Ok(token)
    }

    fn literal(&mut self, word: &[u8], token: Token<'a>) -> Result<Token<'a>, DecodeError> {
        let end = self.pos.saturating_add(word.len());
        if self.src.get(self.pos..end) != Some(word) {
            return Err(DecodeError::Malformed { at: self.pos });
        }
        self.pos = end;
        Ok(token)
    }

    /// A string starting at the opening quote; borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        let open = self.pos;
        let start = open + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let Some(&b) = self.src.get(i) else {
                return Err(DecodeError::Malformed { at: open });
            };
            if i - start > self.limits.max_string_len {
                return Err(DecodeError::TooLarge);
            }
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                0x00..=0x1f => return Err(DecodeError::Malformed { at: i }),
                _ => i += 1,
            }
        }
        let raw = self
            .src
            .get(start..i)
            .ok_or(DecodeError::Malformed { at: open })?;
        self.pos = i + 1;
        if !escaped {
            return core::str::from_utf8(raw).map(Cow::Borrowed).map_err(|e| {
                DecodeError::Malformed {
                    at: start + e.valid_up_to(),
                }
            });
        }
        unescape(raw, start).map(Cow::Owned)
    }

    fn number(&mut self) -> Result<Number, DecodeError> {
        let start = self.pos;
        let digits = |s: &Self, mut i: usize| {
            while let Some(b'0'..=b'9') = s.src.get(i) {
                i += 1;
            }
            i
        };
        let mut i = start;
        let negative = self.src.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        match self.src.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(self, i),
            _ => return Err(DecodeError::Malformed { at: i }),
        }
        let mut integral = true;
        if self.src.get(i) == Some(&b'.') {
            integral = false;
            let j = digits(self, i + 1);
            if j == i + 1 {
                return Err(DecodeError::Malformed { at: j });
            }
            i = j;
        }
        if let Some(b'e' | b'E') = self.src.get(i) {
            integral = false;
            i += 1;
            if let Some(b'+' | b'-') = self.src.get(i) {
                i += 1;
            }
            let j = digits(self, i);
            if j == i {
                return Err(DecodeError::Malformed { at: j });
            }
            i = j;
        }
        if i - start > self.limits.max_string_len {
            return Err(DecodeError::TooLarge);
        }
        let text = self
            .src
            .get(start..i)
            .and_then(|b| core::str::from_utf8(b).ok())
            .ok_or(DecodeError::Malformed { at: start })?;
        self.pos = i;
        parse_number(text, integral).ok_or(DecodeError::Malformed { at: start })
    }
}

/// Parses a literal already checked against the RFC 8259 number grammar.
fn parse_number(text: &str, integral: bool) -> Option<Number> {
    if integral {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Some(Number::Uint(u));
        }
    }
    let f = text.parse::<f64>().ok()?;
    f.is_finite().then_some(Number::Float(f))
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at.checked_add(4)?)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + char::from(d).to_digit(16)?;
    }
    Some(v)
}

/// Unescapes the body of a string (RFC 8259 §7). `base` is its offset in the
/// payload, for errors.
fn unescape(raw: &[u8], base: usize) -> Result<String, DecodeError> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    let bad = |i: usize| DecodeError::Malformed { at: base + i };
    while let Some(&b) = raw.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let simple = match raw.get(i + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => 0,
            _ => return Err(bad(i)),
        };
        if raw.get(i + 1) != Some(&b'u') {
            out.push(simple);
            i += 2;
            continue;
        }
        let hi = hex4(raw, i + 2).ok_or(bad(i))?;
        i += 6;
        let code = match hi {
            0xd800..=0xdbff => {
                // A high surrogate must be followed by an escaped low one.
                if raw.get(i) != Some(&b'\\') || raw.get(i + 1) != Some(&b'u') {
                    return Err(bad(i));
                }
                let lo = hex4(raw, i + 2).ok_or(bad(i))?;
                if !(0xdc00..=0xdfff).contains(&lo) {
                    return Err(bad(i));
                }
                i += 6;
                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(bad(i - 6)),
            c => c,
        };
        let c = char::from_u32(code).ok_or(bad(i))?;
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
    String::from_utf8(out).map_err(|e| bad(e.utf8_error().valid_up_to()))
}

// ---------------------------------------------------------------------------
// Output helpers (allocation-free: everything goes straight into the Writer).

/// Writes `s` as a JSON string, escaping `"`, `\` and control characters
/// (RFC 8259 §7).
pub(crate) fn write_str(w: &mut Writer<'_>, s: &str) -> Result<(), EncodeError> {
    w.put_u8(b'"')?;
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        w.put(bytes.get(run..i).unwrap_or(&[]))?;
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let hex = |n: u8| HEX.get(usize::from(n & 0xf)).copied().unwrap_or(b'0');
            w.put(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b)])?;
        } else {
            w.put(esc)?;
        }
        run = i + 1;
    }
    w.put(bytes.get(run..).unwrap_or(&[]))?;
    w.put_u8(b'"')?;
    Ok(())
}

/// Writes an integer.
pub(crate) fn write_int(w: &mut Writer<'_>, n: impl core::fmt::Display) -> Result<(), EncodeError> {
    write!(w, "{n}").map_err(|_| EncodeError::Overflow)
}

/// Writes a float so that it parses back to the same `f64` and still reads
/// as a float (`3.0`, not `3`): shortest round-trip digits, plain notation
/// for moderate magnitudes, exponent notation otherwise. NaN and infinities
/// have no JSON form.
pub(crate) fn write_f64(w: &mut Writer<'_>, f: f64) -> Result<(), EncodeError> {
    if !f.is_finite() {
        return Err(EncodeError::Unrepresentable);
    }
    let start = w.len();
    let a = f.abs();
    let plain = a == 0.0 || (1e-5..1e16).contains(&a);
    let r = if plain {
        write!(w, "{f}")
    } else {
        write!(w, "{f:e}")
    };
    r.map_err(|_| EncodeError::Overflow)?;
    let looks_integral = w
        .written()
        .get(start..)
        .is_some_and(|s| !s.iter().any(|&c| c == b'.' || c == b'e'));
    if looks_integral {
        w.put(b".0")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::base64::{Base64, decode_base64, write_base64};

    const L: Limits = Limits {
        max_depth: 8,
        max_string_len: 64,
        max_tokens: 64,
    };

    fn all(s: &str) -> Result<Vec<Token<'_>>, DecodeError> {
        let mut t = Tokenizer::new(s.as_bytes(), L);
        let mut v = Vec::new();
        while let Some(tok) = t.next_token()? {
            v.push(tok);
        }
        Ok(v)
    }

    #[test]
    fn tokens_of_a_senml_pack() {
        let v = all(r#" [ {"bn":"/3/0/","n":"0","v":-1.5e2,"vb":true}, {"x":null} ] "#).unwrap();
        assert_eq!(
            v,
            vec![
                Token::BeginArray,
                Token::BeginObject,
                Token::Key("bn".into()),
                Token::String("/3/0/".into()),
                Token::Key("n".into()),
                Token::String("0".into()),
                Token::Key("v".into()),
                Token::Number(Number::Float(-150.0)),
                Token::Key("vb".into()),
                Token::Bool(true),
                Token::EndObject,
                Token::BeginObject,
                Token::Key("x".into()),
                Token::Null,
                Token::EndObject,
                Token::EndArray,
            ]
        );
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut t = Tokenizer::new(br#"["plain","a\"b\u00e9\ud83d\ude00\n"]"#, L);
        t.next_token().unwrap();
        assert!(matches!(
            t.next_token().unwrap(),
            Some(Token::String(Cow::Borrowed("plain")))
        ));
        match t.next_token().unwrap() {
            Some(Token::String(Cow::Owned(s))) => assert_eq!(s, "a\"b\u{e9}\u{1f600}\n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_are_exact() {
        let v = all("[0,-0,9223372036854775807,-9223372036854775808,18446744073709551615,18446744073709551616,1.5,1e2,0.1]").unwrap();
        let nums: Vec<_> = v
            .into_iter()
            .filter_map(|t| match t {
                Token::Number(n) => Some(n),
                _ => None,
            })
            .collect();
        assert_eq!(
            nums,
            vec![
                Number::Int(0),
                Number::Int(0),
                Number::Int(i64::MAX),
                Number::Int(i64::MIN),
                Number::Uint(u64::MAX),
                Number::Float(18446744073709551616.0),
                Number::Float(1.5),
                Number::Float(100.0),
                Number::Float(0.1),
            ]
        );
    }

    #[test]
    fn grammar_violations_are_errors() {
        for bad in [
            "",
            "[",
            "]",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{1:2}",
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "[-]",
            "[+1]",
            "[tru]",
            "[nul]",
            "[\"a]",
            "[\"\\x\"]",
            "[\"\\ud800\"]",
            "[\"\\udc00\"]",
            "[\"\\u12\"]",
            "[\"a\u{1}\"]",
            "[1] [2]",
            "[1]x",
            "{\"a\":1]",
            "[1}",
            "[NaN]",
            "[1e400]",
            "\u{feff}[]",
        ] {
            assert!(
                matches!(all(bad), Err(DecodeError::Malformed { .. })),
                "{bad:?} accepted: {:?}",
                all(bad)
            );
        }
        // Invalid UTF-8 inside a string.
        let mut t = Tokenizer::new(b"[\"\xff\"]", L);
        t.next_token().unwrap();
        assert!(t.next_token().is_err());
        // Errors are sticky.
        assert!(t.next_token().is_err());
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(all("[[[[[[[[[1]]]]]]]]]"), Err(DecodeError::TooLarge));
        assert!(all("[[[[[[[[1]]]]]]]]").is_ok());
        let long = alloc::format!("[\"{}\"]", "a".repeat(65));
        assert_eq!(all(&long), Err(DecodeError::TooLarge));
        let many = alloc::format!("[{}0]", "0,".repeat(70));
        assert_eq!(all(&many), Err(DecodeError::TooLarge));
        let deep = Limits {
            max_depth: 1000,
            ..L
        };
        let s = "[".repeat(100);
        let mut t = Tokenizer::new(s.as_bytes(), deep);
        let r = (0..100).try_for_each(|_| t.next_token().map(drop));
        assert_eq!(r, Err(DecodeError::TooLarge), "capped at 64");
    }

    #[test]
    fn skip_value_skips_containers() {
        let mut t = Tokenizer::new(br#"{"a":[1,{"b":[]}],"c":2}"#, L);
        t.next_token().unwrap();
        t.next_token().unwrap();
        t.skip_value().unwrap();
        assert_eq!(t.next_token().unwrap(), Some(Token::Key("c".into())));
    }

    fn out(f: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>) -> String {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        f(&mut w).unwrap();
        String::from_utf8(w.written().to_vec()).unwrap()
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            out(|w| write_str(w, "a\"\\\n\u{1}\u{7f}é")),
            "\"a\\\"\\\\\\n\\u0001\u{7f}é\""
        );
    }

    #[test]
    fn floats_round_trip_and_stay_floats() {
        for (f, s) in [
            (3.0, "3.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.276020076001e9, "1276020076.001"),
            (1e300, "1e300"),
            (1.5e-7, "1.5e-7"),
            (123456789012345680.0, "1.2345678901234568e17"),
        ] {
            let got = out(|w| write_f64(w, f));
            assert_eq!(got, s);
            assert_eq!(got.parse::<f64>().unwrap().to_bits(), f.to_bits());
        }
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        assert_eq!(
            write_f64(&mut w, f64::NAN),
            Err(EncodeError::Unrepresentable)
        );
        assert_eq!(
            write_f64(&mut w, f64::INFINITY),
            Err(EncodeError::Unrepresentable)
        );
    }

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 §10 test vectors.
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(
                out(|w| write_base64(w, raw.as_bytes(), Base64::StdPadded)),
                enc
            );
            let nopad = enc.trim_end_matches('=');
            assert_eq!(
                out(|w| write_base64(w, raw.as_bytes(), Base64::UrlNoPad)),
                nopad
            );
            assert_eq!(decode_base64(enc).unwrap(), raw.as_bytes());
            assert_eq!(decode_base64(nopad).unwrap(), raw.as_bytes());
        }
        assert_eq!(
            out(|w| write_base64(w, &[0xfb, 0xff], Base64::UrlNoPad)),
            "-_8"
        );
        assert_eq!(decode_base64("+/8=").unwrap(), [0xfb, 0xff]);
        for bad in ["A", "Zg=", "Zg===", "Z=g=", "Zm9v!", "=", "Zm8=Zm8="] {
            assert!(decode_base64(bad).is_none(), "{bad}");
        }
    }
}
