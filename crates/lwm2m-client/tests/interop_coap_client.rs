//! Interop with a peer we did not write: libcoap's `coap-client-notls`
//! (`scripts/test.sh` installs `libcoap3-bin`) plays the LwM2M server of
//! the `lwm2m-client` process and sends it Read (TLV, SenML JSON, plain
//! text, opaque), Write (PUT), Execute (POST), Discover (link format) and
//! Block2 reads (RFC 7959) with 32-byte blocks.
//!
//! # The scheme: one port, handed over
//!
//! The client's socket is `connect()`ed to its server's address, so the
//! kernel hands it only datagrams from that address: coap-client must send
//! from the very address the client registered with. So:
//!
//! 1. the test binds a UDP socket on 127.0.0.1:0; the kernel picks a free
//!    port P;
//! 2. the client starts with `--server coap://127.0.0.1:P`;
//! 3. the test receives its Register on that socket, learns the client's
//!    port C from the source address, and answers 2.01 Created;
//! 4. the test closes its socket, and each `coap-client-notls -p P ...
//!    coap://127.0.0.1:C/...` binds P for one exchange (one run at a time,
//!    each bounded by `-B` and a kill deadline);
//! 5. at the end the test binds P again, sends SIGINT, and answers the
//!    client's De-register; the client exits 0.
//!
//! Between the hand-overs nobody holds P; the client sends nothing in that
//! time (no observation, lifetime 300 s). Only 127.0.0.1 is used, and the
//! child processes are killed when the test ends, pass or fail.
//!
//! The tests of this file run one at a time ([`ONE_AT_A_TIME`]): a process
//! spawned by another test thread holds a copy of every open descriptor
//! until it executes its program, the test's socket on P included, and a
//! coap-client started in that instant finds P taken.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lwm2m_core::coap::{Code, Message, MessageBuilder, MsgType, option};
use lwm2m_core::content::{DecodeLimits, Decoder, Entry, Format};
use lwm2m_core::dm::{DataType, Path, Value};
use lwm2m_core::objects::device;
use rustix::process::Signal;

use common::{Client, DEADLINE, temp_dir};

const COAP_CLIENT: &str = "coap-client-notls";

/// Held for a whole test: see the module documentation.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The client, registered with a server address the test hands over.
struct Peer {
    client: Client,
    /// The server address the client knows (P).
    server: SocketAddr,
    /// The client's address (C).
    me: SocketAddr,
}

fn socket(addr: SocketAddr) -> UdpSocket {
    let s = UdpSocket::bind(addr).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

/// Receives one request and answers it with `code` (piggybacked ACK);
/// returns the request's bytes and source.
fn answer(s: &UdpSocket, code: Code, location: &[&str]) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = s.recv_from(&mut buf).expect("a request from the client");
    let req = Message::parse(&buf[..n]).unwrap();
    let mut out = [0u8; 256];
    let mut b =
        MessageBuilder::new(&mut out, MsgType::Ack, code, req.mid(), req.token_bytes()).unwrap();
    for seg in location {
        b.option(option::LOCATION_PATH, seg.as_bytes()).unwrap();
    }
    let len = b.finish();
    s.send_to(&out[..len], from).unwrap();
    (buf[..n].to_vec(), from)
}

fn start(ep: &str) -> Peer {
    let s = socket("127.0.0.1:0".parse().unwrap());
    let server = s.local_addr().unwrap();
    let u = format!("coap://{server}");
    let client = Client::start(&["--endpoint", ep, "--server", &u]);
    let (reg, me) = answer(&s, Code::CREATED, &["rd", "interop"]);
    let reg = Message::parse(&reg).unwrap();
    assert_eq!(reg.code(), Code::POST);
    assert_eq!(reg.uri_path().collect::<Vec<_>>(), vec![&b"rd"[..]]);
    client.wait_log("registered with server 1");
    drop(s);
    Peer { client, server, me }
}

impl Peer {
    /// Runs coap-client from the server's port with `args` against
    /// `path`; returns what it printed.
    fn coap(&self, args: &[&str], path: &str) -> Output {
        let port = self.server.port().to_string();
        let uri = format!("coap://{}{path}", self.me);
        let mut child = Command::new(COAP_CLIENT)
            .args(["-p", &port, "-B", "10"])
            .args(args)
            .arg(&uri)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{COAP_CLIENT} not runnable ({e}); scripts/test.sh installs libcoap3-bin")
            });
        let end = Instant::now() + DEADLINE;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() >= end {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{COAP_CLIENT} {args:?} {uri}: {:?}\n{}{}\nclient log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.client.log()
        );
        out
    }

    /// Takes the server's port back, stops the client with SIGINT and
    /// answers its De-register.
    fn stop(mut self) {
        let s = socket(self.server);
        self.client.signal(Signal::INT);
        let (req, _) = answer(&s, Code::DELETED, &[]);
        let req = Message::parse(&req).unwrap();
        assert_eq!(req.code(), Code::DELETE);
        assert_eq!(
            req.uri_path().collect::<Vec<_>>(),
            vec![&b"rd"[..], b"interop"]
        );
        assert_eq!(self.client.wait_exit().code(), Some(0));
    }
}

/// Declared types of the Device and Test objects (TLV carries none).
fn types(p: &Path) -> Option<DataType> {
    match p.oid()? {
        3 => device::DEF.resource(p.rid()?).map(|r| r.data_type),
        32769 => Some(match p.rid()? {
            0 => DataType::Time,
            1 => DataType::Integer,
            _ => DataType::Opaque,
        }),
        _ => None,
    }
}

fn decode(format: Format, payload: &[u8], base: Path) -> Vec<Entry<'static>> {
    Decoder::new(format, payload, base, &types, DecodeLimits::default())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            Entry {
                value: e.value.into_owned(),
                ..e
            }
        })
        .collect()
}

fn value_at<'a>(entries: &'a [Entry<'static>], path: Path) -> &'a Value<'static> {
    &entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no {path} in {entries:?}"))
        .value
}

#[test]
fn read_write_execute_and_discover_from_coap_client() {
    let _serial = one_at_a_time();
    let peer = start("interop-rw");
    let dev = Path::instance(3, 0);

    // Read /3/0 in TLV and in SenML JSON.
    // Binary payloads go to a file: on standard output coap-client adds a
    // line feed.
    let dir = temp_dir("interop-rw");
    let out = dir.join("device.tlv");
    let o = out.to_str().unwrap();
    peer.coap(&["-m", "get", "-A", "11542", "-o", o], "/3/0");
    let tlv = std::fs::read(&out).unwrap();
    let e = decode(Format::Tlv, &tlv, dev);
    assert_eq!(
        value_at(&e, Path::resource(3, 0, 0)).as_str(),
        Some("lwm2m-rs")
    );
    assert_eq!(
        value_at(&e, Path::resource_instance(3, 0, 7, 1)).as_i64(),
        Some(3700)
    );
    let json = peer.coap(&["-m", "get", "-A", "110"], "/3/0").stdout;
    let e = decode(Format::SenmlJson, &json, dev);
    assert_eq!(
        value_at(&e, Path::resource(3, 0, 1)).as_str(),
        Some("lwm2m-client demo")
    );

    // Write the Counter in plain text, read it back; Execute increments.
    peer.coap(&["-m", "put", "-t", "0", "-e", "41"], "/32769/0/1");
    let text = peer.coap(&["-m", "get", "-A", "0"], "/32769/0/1").stdout;
    assert_eq!(String::from_utf8_lossy(&text).trim(), "41");
    peer.coap(&["-m", "post"], "/32769/0/2");
    let text = peer.coap(&["-m", "get", "-A", "0"], "/32769/0/1").stdout;
    assert_eq!(String::from_utf8_lossy(&text).trim(), "42");

    // Discover: link format with the resources and their dimensions.
    let links = peer.coap(&["-m", "get", "-A", "40"], "/3/0").stdout;
    let links = String::from_utf8(links).unwrap();
    for l in ["</3/0>", "</3/0/0>", "</3/0/7>;dim=2", "</3/0/11>;dim=1"] {
        assert!(links.contains(l), "{l} in {links}");
    }

    // What is not there is 4.04; an instance in plain text 4.06.
    let missing = peer.coap(&["-m", "get"], "/3/0/99");
    let all = [missing.stdout, missing.stderr].concat();
    assert!(String::from_utf8_lossy(&all).contains("4.04"), "{all:?}");
    let text = peer.coap(&["-m", "get", "-A", "0"], "/3/0");
    let all = [text.stdout, text.stderr].concat();
    assert!(String::from_utf8_lossy(&all).contains("4.06"), "{all:?}");

    peer.client.wait_log("server 1: Read /3/0, as TLV");
    peer.client
        .wait_log("server 1: Write (replace) /32769/0/1, plain text");
    peer.client.wait_log("server 1: Execute /32769/0/2");
    peer.client.wait_log("server 1: Discover /3/0");
    peer.stop();
}

#[test]
fn block2_reads_with_32_byte_blocks() {
    let _serial = one_at_a_time();
    let peer = start("interop-block2");
    let dir = temp_dir("interop-block2");

    // Opaque bytes larger than many blocks, written with coap-client's own
    // Block1 and read back with Block2, both in 32-byte blocks.
    let body: Vec<u8> = (0..700u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let file = dir.join("raw.bin");
    std::fs::write(&file, &body).unwrap();
    let f = file.to_str().unwrap();
    peer.coap(
        &["-m", "put", "-t", "42", "-b", "32", "-f", f],
        "/32769/0/10",
    );
    let out = dir.join("read.bin");
    let o = out.to_str().unwrap();
    peer.coap(
        &["-m", "get", "-A", "42", "-b", "32", "-o", o],
        "/32769/0/10",
    );
    assert_eq!(std::fs::read(&out).unwrap(), body);

    // The Device object in SenML JSON, block by block, is the same
    // document as in one piece (but for Current Time, which moves).
    let whole = peer.coap(&["-m", "get", "-A", "110"], "/3/0").stdout;
    let out = dir.join("device.json");
    let o = out.to_str().unwrap();
    peer.coap(&["-m", "get", "-A", "110", "-b", "32", "-o", o], "/3/0");
    let blocks = std::fs::read(&out).unwrap();
    assert!(blocks.len() > 10 * 32, "{} bytes", blocks.len());
    let dev = Path::instance(3, 0);
    let strip = |v: Vec<Entry<'static>>| -> Vec<Entry<'static>> {
        v.into_iter()
            .filter(|e| e.path != Path::resource(3, 0, 13))
            .collect()
    };
    assert_eq!(
        strip(decode(Format::SenmlJson, &blocks, dev)),
        strip(decode(Format::SenmlJson, &whole, dev))
    );
    // Only the first block of each transfer is logged.
    assert_eq!(peer.client.count_log("server 1: Read /32769/0/10"), 1);
    peer.stop();
}
