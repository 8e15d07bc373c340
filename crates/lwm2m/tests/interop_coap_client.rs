//! Interop: libcoap's `coap-client-notls` (an implementation we did not
//! write) against a CoAP server built on `lwm2m_core::coap::Endpoint` over a
//! real loopback UDP socket. `scripts/test.sh` installs `libcoap3-bin`.
//!
//! Every client run is bounded twice: by its own `-B` wait option and by a
//! kill after a deadline. Only 127.0.0.1 is used.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../examples/coap_test_server.rs"]
mod server;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lwm2m_core::coap::{Code, Message, MessageBuilder, MsgType, option};

const CLIENT: &str = "coap-client-notls";

struct Running {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn start() -> Running {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::spawn(move || server::serve(socket, s));
    Running {
        addr,
        stop,
        thread: Some(thread),
    }
}

/// Runs the client with `args`, killing it after `limit`.
fn client(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(CLIENT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{CLIENT} not runnable ({e}); scripts/test.sh installs libcoap3-bin")
        });
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{CLIENT} {args:?} failed: {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lwm2m-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn uri(r: &Running, path: &str) -> String {
    format!("coap://{}/{path}", r.addr)
}

/// RFC 7959 Block2 with early negotiation: the client asks for 32- and
/// 64-byte blocks; the 3000-byte body arrives whole and identical.
#[test]
fn block2_get_with_small_blocks() {
    let r = start();
    for size in ["32", "64"] {
        let out = tmp(&format!("large-{size}"));
        let o = out.to_str().unwrap();
        client(
            &["-B", "10", "-b", size, "-o", o, &uri(&r, "large")],
            Duration::from_secs(20),
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            server::large_body(),
            "-b {size}"
        );
    }
}

/// RFC 7959 Block1: a 1500-byte file PUT in 64-byte blocks reads back
/// identical.
#[test]
fn block1_put_then_read_back() {
    let r = start();
    let file = tmp("upload.bin");
    let body: Vec<u8> = (0..1500u32).map(|i| (i * 7 + i / 256) as u8).collect();
    std::fs::write(&file, &body).unwrap();
    let f = file.to_str().unwrap();
    client(
        &[
            "-B",
            "10",
            "-m",
            "put",
            "-b",
            "64",
            "-f",
            f,
            &uri(&r, "store"),
        ],
        Duration::from_secs(20),
    );
    let back = tmp("download.bin");
    let b = back.to_str().unwrap();
    client(
        &["-B", "10", "-o", b, &uri(&r, "store")],
        Duration::from_secs(20),
    );
    assert_eq!(std::fs::read(&back).unwrap(), body);
}

/// RFC 7641: observing for 2 s yields the first response and several
/// notifications (every 300 ms, some Confirmable), in increasing order.
#[test]
fn observe_receives_notifications() {
    let r = start();
    let out = client(
        &["-B", "4", "-w", "-s", "2", &uri(&r, "obs")],
        Duration::from_secs(15),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let values: Vec<u32> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("n=")?.parse().ok())
        .collect();
    assert!(values.len() >= 4, "too few notifications: {text:?}");
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
}

/// RFC 7252 §4.5: the same Confirmable datagram twice gets the identical
/// cached response, and the request is processed once.
#[test]
fn repeated_message_gets_the_identical_cached_response() {
    let r = start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let get = |mid: u16| {
        let mut buf = [0u8; 64];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, mid, &[1, 2]).unwrap();
        b.option(option::URI_PATH, b"count").unwrap();
        let n = b.finish();
        buf[..n].to_vec()
    };
    let exchange = |d: &[u8]| {
        sock.send_to(d, r.addr).unwrap();
        let mut buf = [0u8; 1500];
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        buf[..n].to_vec()
    };
    let req = get(0x4242);
    let first = exchange(&req);
    let again = exchange(&req);
    assert_eq!(first, again, "the cached response, byte for byte");
    let m = Message::parse(&first).unwrap();
    assert_eq!(
        (m.mtype(), m.mid(), m.code()),
        (MsgType::Ack, 0x4242, Code::CONTENT)
    );
    let n: u32 = std::str::from_utf8(m.payload()).unwrap().parse().unwrap();
    // A new message ID is a new request: processed once more.
    let next = exchange(&get(0x4243));
    let m = Message::parse(&next).unwrap();
    let n2: u32 = std::str::from_utf8(m.payload()).unwrap().parse().unwrap();
    assert_eq!(n2, n + 1, "the duplicate was not processed again");
}
