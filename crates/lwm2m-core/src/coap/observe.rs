//! Server-role Observe bookkeeping (RFC 7641).
//!
//! A registration is keyed by the token of the GET that carried Observe=0
//! (§3.1 / §4.1: a later registration with the same token replaces the
//! earlier one). Each notification carries the next 24-bit sequence number
//! (§4.4); the message ID of the last notification is remembered so that an
//! RST to it cancels the observation (§3.6 / §4.2). The number of
//! registrations is bounded; a new one beyond the bound is refused with
//! [`ObserveFull`], and the request is then answered without Observe, which
//! §4.1 allows.

use alloc::vec::Vec;

use super::msg::Token;

/// Observe sequence numbers are 24 bits (RFC 7641 §3.4).
pub const SEQ_MODULUS: u32 = 1 << 24;

/// The registration table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObserveFull;

/// The outcome of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// A new observation.
    New,
    /// The token was already observing: the old registration was replaced.
    Replaced,
}

/// One observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The token the notifications carry.
    pub token: Token,
    /// Fingerprint of the request options (block-wise key, RFC 7959 §2.4), so
    /// that the rest of a block-wise notification can be fetched.
    pub key: u64,
    /// The next sequence number to send.
    pub next_seq: u32,
    /// Message ID of the last notification sent, for RST matching.
    pub last_mid: Option<u16>,
}

/// The registrations of one peer.
#[derive(Debug)]
pub struct Observations {
    regs: Vec<Observation>,
    max: usize,
}

impl Observations {
    /// A table of at most `max` registrations (0 disables Observe).
    pub fn new(max: usize) -> Observations {
        Observations {
            regs: Vec::new(),
            max,
        }
    }

    /// Registers `token`, numbering its notifications from `first_seq`; a
    /// registration replacing one with the same token keeps counting from
    /// where the old one was.
    pub fn register(
        &mut self,
        token: Token,
        key: u64,
        first_seq: u32,
    ) -> Result<Registered, ObserveFull> {
        let fresh = Observation {
            token,
            key,
            next_seq: first_seq % SEQ_MODULUS,
            last_mid: None,
        };
        if let Some(r) = self.regs.iter_mut().find(|r| r.token == token) {
            // Keep counting up: the client compares with what it saw last
            // under this token (§4.4).
            *r = Observation {
                next_seq: r.next_seq,
                ..fresh
            };
            return Ok(Registered::Replaced);
        }
        if self.regs.len() >= self.max {
            return Err(ObserveFull);
        }
        self.regs.push(fresh);
        Ok(Registered::New)
    }

    /// Removes the registration of `token`; whether there was one.
    pub fn cancel(&mut self, token: Token) -> bool {
        let before = self.regs.len();
        self.regs.retain(|r| r.token != token);
        self.regs.len() != before
    }

    /// The registration whose last notification had message ID `mid`.
    pub fn by_mid(&self, mid: u16) -> Option<Token> {
        self.regs
            .iter()
            .find(|r| r.last_mid == Some(mid))
            .map(|r| r.token)
    }

    /// The registration of `token`.
    pub fn get(&self, token: Token) -> Option<&Observation> {
        self.regs.iter().find(|r| r.token == token)
    }

    /// Takes the next sequence number of `token` and records the message ID
    /// it goes out with.
    pub fn next_seq(&mut self, token: Token, mid: u16) -> Option<u32> {
        let r = self.regs.iter_mut().find(|r| r.token == token)?;
        let seq = r.next_seq;
        r.next_seq = (seq + 1) % SEQ_MODULUS;
        r.last_mid = Some(mid);
        Some(seq)
    }

    /// Number of registrations.
    pub fn len(&self) -> usize {
        self.regs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.regs.is_empty()
    }

    /// Every registration.
    pub fn iter(&self) -> impl Iterator<Item = &Observation> {
        self.regs.iter()
    }
}

/// Whether a notification (sequence `v2`, received at `t2_secs`) is newer
/// than an earlier-received one (`v1` at `t1_secs`): RFC 7641 §3.4's rule
/// for the client, which a server must keep true by counting up mod 2^24 and
/// never reusing a number within 128 seconds.
pub fn is_fresher(v1: u32, t1_secs: u64, v2: u32, t2_secs: u64) -> bool {
    let (v1, v2) = (v1 % SEQ_MODULUS, v2 % SEQ_MODULUS);
    (v1 < v2 && v2 - v1 < 1 << 23)
        || (v1 > v2 && v1 - v2 > 1 << 23)
        || t2_secs > t1_secs.saturating_add(128)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(b: u8) -> Token {
        Token::new(&[b]).unwrap()
    }

    #[test]
    fn register_replace_cancel_bounded() {
        let mut o = Observations::new(2);
        assert_eq!(o.register(tok(1), 11, 5), Ok(Registered::New));
        assert_eq!(o.register(tok(2), 22, 0), Ok(Registered::New));
        assert_eq!(o.register(tok(3), 33, 0), Err(ObserveFull));
        // Same token again: replaced, not a third entry.
        assert_eq!(o.register(tok(1), 44, 9), Ok(Registered::Replaced));
        assert_eq!(o.len(), 2);
        assert_eq!(o.get(tok(1)).unwrap().key, 44);
        assert_eq!(o.get(tok(1)).unwrap().next_seq, 5, "sequence kept");
        assert!(o.cancel(tok(2)));
        assert!(!o.cancel(tok(2)));
        assert_eq!(o.register(tok(3), 33, 0), Ok(Registered::New));
    }

    #[test]
    fn sequence_numbers_wrap_at_24_bits_and_map_mids() {
        let mut o = Observations::new(1);
        o.register(tok(1), 0, SEQ_MODULUS - 2).unwrap();
        assert_eq!(o.next_seq(tok(1), 100), Some(SEQ_MODULUS - 2));
        assert_eq!(o.next_seq(tok(1), 101), Some(SEQ_MODULUS - 1));
        assert_eq!(o.next_seq(tok(1), 102), Some(0));
        assert_eq!(o.by_mid(102), Some(tok(1)));
        assert_eq!(o.by_mid(101), None);
        assert_eq!(o.next_seq(tok(9), 1), None);
    }

    #[test]
    fn freshness_follows_rfc7641_3_4() {
        assert!(is_fresher(1, 0, 2, 0));
        assert!(!is_fresher(2, 0, 1, 0));
        // Wrapped: 2^24-1 then 0 is newer.
        assert!(is_fresher(SEQ_MODULUS - 1, 0, 0, 0));
        assert!(!is_fresher(0, 0, SEQ_MODULUS - 1, 0));
        // More than 128 s later anything is newer.
        assert!(is_fresher(5, 0, 1, 129));
        assert!(!is_fresher(5, 0, 1, 128));
    }
}
