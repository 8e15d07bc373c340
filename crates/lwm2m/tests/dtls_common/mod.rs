//! Shared by the `interop_dtls_*` tests: a UDP driver for one session on
//! 127.0.0.1, peer processes that are killed when dropped, and certificates
//! made on the fly. Every wait loops until a result or a generous deadline;
//! nothing depends on timing to pass.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as StdInstant};

use lwm2m::core::session::{HandshakeTimers, Session, SessionState};
use lwm2m::core::time::Instant;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

/// Upper bound for any single wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Short retransmissions so a peer that is still starting up costs little.
pub fn timers() -> HandshakeTimers {
    HandshakeTimers::new(
        Duration::from_millis(200),
        Duration::from_secs(2),
        Duration::from_secs(15),
    )
}

/// Whether `program` is on the PATH. Outside CI a missing peer skips the
/// test loudly, so `cargo test` works on a bare machine; under CI (`CI` set)
/// it fails, because `scripts/test.sh` installs every peer.
pub fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not installed; scripts/test.sh installs it"
        );
        eprintln!("SKIPPED: {program} is not installed (scripts/test.sh installs it)");
    }
    found
}

/// A UDP port on 127.0.0.1 that is free now, and `port + 1` too when `pair`.
pub fn free_port(pair: bool) -> u16 {
    for _ in 0..50 {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port();
        if !pair {
            return port;
        }
        if port < u16::MAX && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

/// A peer process; killed and reaped when dropped. Its stdout and stderr are
/// collected for assertions and failure messages.
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
    name: String,
}

impl Peer {
    pub fn spawn(program: &str, args: &[&str]) -> Peer {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Peer {
            stdin: child.stdin.take(),
            child,
            output,
            name: format!("{program} {}", args.join(" ")),
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the output contains `needle`; false at the deadline.
    pub fn wait_for(&self, needle: &str, within: Duration) -> bool {
        let end = StdInstant::now() + within;
        while StdInstant::now() < end {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    pub fn write_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        // One write, so that the peer reads the line in one piece.
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the process to exit by itself; false at the deadline.
    pub fn wait_exit(&mut self, within: Duration) -> bool {
        let end = StdInstant::now() + within;
        while StdInstant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Let the reader threads catch the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    pub fn describe(&self) -> String {
        format!("{}:\n{}", self.name, self.output())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One session on one UDP socket, driven like the std driver will: every
/// input followed by draining transmits, timers from `poll_timeout`.
pub struct Link<S: Session> {
    pub sock: UdpSocket,
    pub session: S,
    origin: StdInstant,
    pub peer: Option<SocketAddr>,
    /// Every datagram sent by `flush`, for assertions on the handshake.
    pub sent: Vec<Vec<u8>>,
}

impl<S: Session> Link<S> {
    /// A client link: a socket on 127.0.0.1 talking to `peer`.
    pub fn client(session: S, peer: SocketAddr) -> Link<S> {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        Link {
            sock,
            session,
            origin: StdInstant::now(),
            peer: Some(peer),
            sent: Vec::new(),
        }
    }

    /// A server link listening on 127.0.0.1:`port`; the peer is whoever
    /// sends first.
    pub fn server(session: S, port: u16) -> Link<S> {
        let sock = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        Link {
            sock,
            session,
            origin: StdInstant::now(),
            peer: None,
            sent: Vec::new(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    pub fn flush(&mut self) -> usize {
        let mut buf = [0u8; 2048];
        let mut sent = 0;
        let now = self.now();
        while let Some(n) = self.session.poll_transmit(now, &mut buf) {
            if let Some(peer) = self.peer {
                // A peer that is not up yet answers with ICMP; retransmission
                // covers it.
                let _ = self.sock.send_to(&buf[..n], peer);
                if self.sent.len() < 100 {
                    self.sent.push(buf[..n].to_vec());
                }
                sent += 1;
            }
        }
        sent
    }

    /// Receives one datagram from the peer within `wait`.
    pub fn recv_raw(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let wait = wait.max(Duration::from_millis(1));
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        match self.sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                if self.peer.is_none() {
                    self.peer = Some(from);
                }
                (Some(from) == self.peer).then(|| buf[..n].to_vec())
            }
            Err(_) => None,
        }
    }

    /// Feeds one datagram; returns decrypted application data.
    pub fn feed(&mut self, datagram: &[u8]) -> Option<Vec<u8>> {
        let mut out = [0u8; 2048];
        let now = self.now();
        let r = self.session.handle_datagram(now, datagram, &mut out);
        self.flush();
        match r {
            Ok(Some(n)) => Some(out[..n].to_vec()),
            _ => None,
        }
    }

    /// One step: flush, wait for a datagram or the session's timer, feed or
    /// fire. Returns application data if some arrived.
    pub fn step(&mut self) -> Option<Vec<u8>> {
        self.flush();
        let now = self.now();
        let wait = self
            .session
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(100))
            .min(Duration::from_millis(100));
        let got = self.recv_raw(wait);
        let data = got.and_then(|d| self.feed(&d));
        let now = self.now();
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
        self.flush();
        data
    }

    /// Starts (client) and runs the handshake until it ends; returns the
    /// final state.
    pub fn handshake(&mut self) -> SessionState {
        if self.peer.is_some() {
            let now = self.now();
            self.session.start(now).unwrap();
        }
        let end = StdInstant::now() + DEADLINE;
        while StdInstant::now() < end {
            self.step();
            match self.session.state() {
                SessionState::Handshaking | SessionState::Idle => {}
                s => return s,
            }
        }
        self.session.state()
    }

    pub fn send(&mut self, plaintext: &[u8]) {
        let mut rec = [0u8; 2048];
        let n = self.session.encrypt(plaintext, &mut rec).unwrap();
        self.sock.send_to(&rec[..n], self.peer.unwrap()).unwrap();
    }

    /// Application data arriving within the deadline, or `None`.
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        let end = StdInstant::now() + DEADLINE;
        while StdInstant::now() < end {
            if let Some(d) = self.step() {
                return Some(d);
            }
            if !matches!(
                self.session.state(),
                SessionState::Established | SessionState::Handshaking | SessionState::Idle
            ) {
                return None;
            }
        }
        None
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lwm2m-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ECDSA P-256 certificate and its key.
pub struct Cert {
    pub der: Vec<u8>,
    pub key_der: Vec<u8>,
    pub x509: X509,
    pub key: PKey<Private>,
}

impl Cert {
    /// A certificate for `cn` (also its DNS name unless `ca`), valid from
    /// `from_days` to `to_days` around now, signed by `issuer` or itself.
    pub fn new(cn: &str, from_days: i64, to_days: i64, issuer: Option<&Cert>, ca: bool) -> Cert {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        let mut serial = BigNum::new().unwrap();
        serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(issuer.map_or(&name, |i| i.x509.subject_name()))
            .unwrap();
        b.set_pubkey(&key).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        b.set_not_before(&Asn1Time::from_unix(now + from_days * 86400).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_unix(now + to_days * 86400).unwrap())
            .unwrap();
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
        } else {
            let san = SubjectAlternativeName::new()
                .dns(cn)
                .build(&b.x509v3_context(issuer.map(|i| &*i.x509), None))
                .unwrap();
            b.append_extension(san).unwrap();
        }
        b.sign(issuer.map_or(&key, |i| &i.key), MessageDigest::sha256())
            .unwrap();
        let x509 = b.build();
        Cert {
            der: x509.to_der().unwrap(),
            key_der: key.private_key_to_pkcs8().unwrap(),
            x509,
            key,
        }
    }

    /// Writes `<name>.pem` (certificate) and `<name>.key` (key) into `dir`.
    pub fn write_pem(&self, dir: &TempDir, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.path(&format!("{name}.pem"));
        let key = dir.path(&format!("{name}.key"));
        std::fs::write(&cert, self.x509.to_pem().unwrap()).unwrap();
        std::fs::write(&key, self.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (cert, key)
    }
}

/// Whether `datagram` starts with a HelloVerifyRequest (RFC 6347 §4.2.1:
/// handshake type 3).
pub fn is_hello_verify_request(datagram: &[u8]) -> bool {
    datagram.first() == Some(&22) && datagram.get(13) == Some(&3)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
