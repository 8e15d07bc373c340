//! Execute (OMA-TS-LightweightM2M_Core 1.1 §6.3 "Device Management and
//! Service Enablement Interface", Execute: `POST /o/i/r` with optional
//! arguments) and the argument grammar the TS gives for its payload:
//!
//! ```text
//! arglist  = argument *( "," argument )
//! argument = digit [ "=" "'" *argval "'" ]
//! digit    = %x30-39
//! argval   = %x21 / %x23-26 / %x28-7E
//! ```
//!
//! An empty payload is an empty list. Anything else (two-digit names,
//! spaces, unquoted values, a stray comma) is 4.00.

use core::fmt;

use super::{check_instance, check_object, resource_def};
use crate::dm::access::{self, Action, Origin};
use crate::dm::path::{Level, Path};
use crate::dm::registry::Registry;
use crate::error::DmError;

/// One argument: its digit and, if given, its value (without the quotes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg<'a> {
    /// The argument number, 0 to 9.
    pub digit: u8,
    /// The quoted value, if any (printable ASCII without `"` and `'`).
    pub value: Option<&'a str>,
}

/// A validated argument list: a view over the payload, never copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ExecuteArgs<'a> {
    raw: &'a str,
    count: usize,
}

/// Why an argument list is invalid (4.00 Bad Request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// The payload does not follow the grammar (byte offset of the problem).
    Malformed {
        /// Offset of the first offending byte.
        at: usize,
    },
    /// More arguments than [`crate::dm::DmLimits::max_execute_args`].
    TooMany,
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::Malformed { at } => write!(f, "malformed execute arguments at byte {at}"),
            ArgsError::TooMany => f.write_str("too many execute arguments"),
        }
    }
}

impl From<ArgsError> for DmError {
    fn from(_: ArgsError) -> DmError {
        DmError::BadRequest
    }
}

fn is_argval(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x26 | 0x28..=0x7E)
}

/// Parses one argument at the start of `s`; returns it and the number of
/// bytes it used, or the offset (within `s`) of the first bad byte.
fn one(s: &[u8]) -> Result<(Arg<'_>, usize), usize> {
    let digit = match s.first() {
        Some(&d) if d.is_ascii_digit() => d - b'0',
        _ => return Err(0),
    };
    match s.get(1) {
        None | Some(b',') => {
            return Ok((Arg { digit, value: None }, 1));
        }
        Some(b'=') => {}
        Some(_) => return Err(1),
    }
    if s.get(2) != Some(&b'\'') {
        return Err(2);
    }
    let body = s.get(3..).unwrap_or(&[]);
    let len = body.iter().take_while(|&&b| is_argval(b)).count();
    if body.get(len) != Some(&b'\'') {
        return Err(3 + len);
    }
    // Only ASCII bytes were accepted, so this cannot fail.
    let value = body
        .get(..len)
        .and_then(|v| core::str::from_utf8(v).ok())
        .ok_or(3usize)?;
    Ok((
        Arg {
            digit,
            value: Some(value),
        },
        4 + len,
    ))
}

impl<'a> ExecuteArgs<'a> {
    /// Validates `payload` against the grammar; at most `max_args`
    /// arguments.
    pub fn parse(payload: &'a [u8], max_args: usize) -> Result<ExecuteArgs<'a>, ArgsError> {
        let mut at = 0;
        let mut count = 0;
        while at < payload.len() {
            let rest = payload.get(at..).unwrap_or(&[]);
            let (_, used) = one(rest).map_err(|e| ArgsError::Malformed { at: at + e })?;
            count += 1;
            if count > max_args {
                return Err(ArgsError::TooMany);
            }
            at += used;
            match payload.get(at) {
                None => break,
                Some(b',') if at + 1 < payload.len() => at += 1,
                Some(_) => return Err(ArgsError::Malformed { at }),
            }
        }
        // Every accepted byte is ASCII.
        let raw = core::str::from_utf8(payload).map_err(|e| ArgsError::Malformed {
            at: e.valid_up_to(),
        })?;
        Ok(ExecuteArgs { raw, count })
    }

    /// The arguments in payload order.
    pub fn iter(&self) -> ArgIter<'a> {
        ArgIter { rest: self.raw }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first argument with number `digit`.
    pub fn get(&self, digit: u8) -> Option<Arg<'a>> {
        self.iter().find(|a| a.digit == digit)
    }

    /// The payload as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
}

/// Iterator over validated arguments.
#[derive(Clone, Debug)]
pub struct ArgIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for ArgIter<'a> {
    type Item = Arg<'a>;
    fn next(&mut self) -> Option<Arg<'a>> {
        let rest: &'a str = self.rest;
        let (arg, used) = one(rest.as_bytes()).ok()?;
        let after = rest.get(used..).unwrap_or("");
        self.rest = after.strip_prefix(',').unwrap_or(after);
        Some(arg)
    }
}

/// Execute on `/o/i/r` with the raw payload as arguments.
///
/// Errors: 4.05 for any other path depth or a resource that is not
/// executable; 4.04 for a missing object, instance or resource; 4.01 when
/// access control denies it (and always for the Security object from a DM
/// server); 4.00 for arguments outside the grammar; whatever the handler
/// returns. The handler runs in a transaction like any other request.
pub fn execute(
    reg: &mut Registry,
    origin: Origin,
    path: &Path,
    payload: &[u8],
    max_args: usize,
) -> Result<(), DmError> {
    if path.level() != Level::Resource {
        return Err(DmError::MethodNotAllowed);
    }
    let (oid, iid, rid) = match (path.oid(), path.iid(), path.rid()) {
        (Some(o), Some(i), Some(r)) => (o, i, r),
        _ => return Err(DmError::MethodNotAllowed),
    };
    let rdef = {
        let obj = check_object(reg, origin, oid)?;
        check_instance(obj, iid)?;
        resource_def(obj, iid, rid)?
    };
    access::check(reg, origin, Action::Execute, oid, iid)?;
    if !rdef.operations.executable() {
        return Err(DmError::MethodNotAllowed);
    }
    let args = ExecuteArgs::parse(payload, max_args)?;
    let mut txn = reg.transaction();
    txn.object_mut(oid)?.execute(iid, rid, args)?;
    txn.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn args(s: &str) -> Result<Vec<(u8, Option<&str>)>, ArgsError> {
        ExecuteArgs::parse(s.as_bytes(), 10).map(|a| a.iter().map(|a| (a.digit, a.value)).collect())
    }

    #[test]
    fn valid_lists_from_the_grammar() {
        assert_eq!(args(""), Ok(Vec::new()));
        assert_eq!(args("0"), Ok([(0, None)].to_vec()));
        // The TS's own example shape: `0='a',1`.
        assert_eq!(args("0='a',1"), Ok([(0, Some("a")), (1, None)].to_vec()));
        assert_eq!(
            args("2='60',0='https://x.example/a?b=c,d'"),
            Ok([(2, Some("60")), (0, Some("https://x.example/a?b=c,d"))].to_vec())
        );
        assert_eq!(args("5=''"), Ok([(5, Some(""))].to_vec()));
        assert_eq!(args("0,1,2,3,4,5,6,7,8,9").map(|v| v.len()), Ok(10));
        let a = ExecuteArgs::parse(b"3='x',3", 10).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.get(3),
            Some(Arg {
                digit: 3,
                value: Some("x")
            })
        );
        assert_eq!(a.get(4), None);
        assert_eq!(a.as_str(), "3='x',3");
    }

    #[test]
    fn invalid_lists() {
        for (s, at) in [
            ("a", 0),
            ("10", 1),
            ("0,", 1),
            (",0", 0),
            ("0 ", 1),
            (" 0", 0),
            ("0=", 2),
            ("0=a", 2),
            ("0='a", 4),
            ("0='a b'", 4),
            ("0='a\"'", 4),
            ("0='it's'", 6),
            ("0='a'1", 5),
            ("0,,1", 2),
            ("0='é'", 3),
        ] {
            assert_eq!(
                ExecuteArgs::parse(s.as_bytes(), 10),
                Err(ArgsError::Malformed { at }),
                "{s:?}"
            );
        }
        assert_eq!(ExecuteArgs::parse(b"0,1,2", 2), Err(ArgsError::TooMany));
        assert_eq!(DmError::from(ArgsError::TooMany), DmError::BadRequest);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_iterates_what_it_counted(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Ok(a) = ExecuteArgs::parse(&data, 64) {
                proptest::prop_assert_eq!(a.iter().count(), a.len());
                for arg in a.iter() {
                    proptest::prop_assert!(arg.digit <= 9);
                }
            }
        }

        #[test]
        fn valid_lists_round_trip(list in proptest::collection::vec((0u8..10, proptest::option::of("[!#-&(-~]{0,8}")), 0..8)) {
            let mut s = alloc::string::String::new();
            for (i, (d, v)) in list.iter().enumerate() {
                if i > 0 { s.push(','); }
                s.push(char::from(b'0' + d));
                if let Some(v) = v { s.push_str("='"); s.push_str(v); s.push('\''); }
            }
            let a = ExecuteArgs::parse(s.as_bytes(), 8).unwrap();
            let back: Vec<(u8, Option<alloc::string::String>)> =
                a.iter().map(|a| (a.digit, a.value.map(alloc::string::String::from))).collect();
            proptest::prop_assert_eq!(back, list);
        }
    }
}
