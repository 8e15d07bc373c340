//! The Binding (Server resource 7) and Preferred Transport (resource 22)
//! values (OMA-TS-LightweightM2M_Core 1.1 Appendix E.2; the binding letters
//! of the Registration interface: U, T, S, N, and Q for queue mode as in
//! LwM2M 1.0).

use core::fmt;

/// A transport of the Binding and Preferred Transport resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `U`: UDP.
    Udp,
    /// `T`: TCP (1.1).
    Tcp,
    /// `S`: SMS.
    Sms,
    /// `N`: Non-IP (1.1).
    NonIp,
}

impl Transport {
    /// The transport for its letter.
    pub const fn from_letter(c: u8) -> Option<Transport> {
        Some(match c {
            b'U' => Transport::Udp,
            b'T' => Transport::Tcp,
            b'S' => Transport::Sms,
            b'N' => Transport::NonIp,
            _ => return None,
        })
    }
    /// The letter.
    pub const fn letter(self) -> char {
        match self {
            Transport::Udp => 'U',
            Transport::Tcp => 'T',
            Transport::Sms => 'S',
            Transport::NonIp => 'N',
        }
    }
}

/// A Binding value (resource 7): the transports the server may use and
/// whether queue mode is on. LwM2M 1.1 letters are U, T, S, N, with Q for
/// queue mode kept from 1.0 (whose values are U, UQ, S, SQ, US, UQS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Binding {
    /// `U`.
    pub udp: bool,
    /// `T`.
    pub tcp: bool,
    /// `S`.
    pub sms: bool,
    /// `N`.
    pub non_ip: bool,
    /// `Q`: queue mode.
    pub queue: bool,
}

impl Binding {
    /// `U`.
    pub const UDP: Binding = Binding {
        udp: true,
        tcp: false,
        sms: false,
        non_ip: false,
        queue: false,
    };

    /// Parses a binding: letters from U, T, S, N, Q, each at most once, in
    /// any order, with at least one transport.
    pub fn parse(s: &str) -> Option<Binding> {
        let mut b = Binding::default();
        for c in s.bytes() {
            let flag = match c {
                b'U' => &mut b.udp,
                b'T' => &mut b.tcp,
                b'S' => &mut b.sms,
                b'N' => &mut b.non_ip,
                b'Q' => &mut b.queue,
                _ => return None,
            };
            if *flag {
                return None;
            }
            *flag = true;
        }
        (b.udp || b.tcp || b.sms || b.non_ip).then_some(b)
    }

    /// Whether `t` is one of the transports.
    pub const fn has(&self, t: Transport) -> bool {
        match t {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
            Transport::Sms => self.sms,
            Transport::NonIp => self.non_ip,
        }
    }
}

/// In the 1.0-compatible order: `U`, then `Q` after the first transport,
/// then the others (`UQ`, `UQS`, `SQ`).
impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut queued = !self.queue;
        for (on, c) in [
            (self.udp, 'U'),
            (self.tcp, 'T'),
            (self.sms, 'S'),
            (self.non_ip, 'N'),
        ] {
            if on {
                write!(f, "{c}")?;
                if !queued {
                    f.write_str("Q")?;
                    queued = true;
                }
            }
        }
        Ok(())
    }
}

/// A Preferred Transport value: exactly one transport letter (E.2: "Only
/// a single transport binding SHALL be present").
pub(crate) fn preferred_transport(s: &str) -> Option<Transport> {
    match s.as_bytes() {
        [c] => Transport::from_letter(*c),
        _ => None,
    }
}
