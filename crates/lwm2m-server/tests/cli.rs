//! The `lwm2m-server` binary at a desk: started on 127.0.0.1:0 with
//! `--json`, a raw CoAP device registers, and commands typed on standard
//! input come back as JSON lines; `quit` exits 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use lwm2m_core::coap::{Code, Message, MessageBuilder, MsgType, option};
use serde_json::Value;

struct Cli {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
}

impl Cli {
    fn start(extra: &[&str]) -> Cli {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
            .args(["--json", "--listen", "127.0.0.1:0", "--timeout", "5"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Cli {
            child,
            stdin,
            lines,
        }
    }

    fn next(&self, what: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("no matching line");
            if what(&v) {
                return v;
            }
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn register(server: SocketAddr, ep: &str) -> UdpSocket {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 1, &[7]).unwrap();
    b.option(option::URI_PATH, b"rd").unwrap();
    b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
    b.option(option::URI_QUERY, format!("ep={ep}").as_bytes())
        .unwrap();
    b.option(option::URI_QUERY, b"b=UQ").unwrap();
    b.payload(b"</1/0>,</3/0>").unwrap();
    let n = b.finish();
    sock.send_to(&buf[..n], server).unwrap();
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(Message::parse(&buf[..n]).unwrap().code(), Code::CREATED);
    sock
}

#[test]
fn json_session_list_read_and_quit() {
    let mut cli = Cli::start(&[]);
    let listening = cli.next(|v| v["event"] == "listening");
    let addr: SocketAddr = listening["address"].as_str().unwrap().parse().unwrap();
    let dev = register(addr, "desk-1");
    let reg = cli.next(|v| v["event"] == "registered");
    assert_eq!(reg["endpoint"], "desk-1");
    cli.say("list");
    let list = cli.next(|v| v["command"] == "list");
    assert_eq!(list["ok"], true);
    let c = &list["clients"][0];
    assert_eq!(
        (
            c["endpoint"].as_str(),
            c["binding"].as_str(),
            c["queue"].as_bool()
        ),
        (Some("desk-1"), Some("U"), Some(true))
    );
    assert_eq!(c["objects"], "</1/0>,</3/0>");

    cli.say("read desk-1 /3/0/0 text");
    let mut buf = [0u8; 512];
    let (n, from) = dev.recv_from(&mut buf).unwrap();
    let req = Message::parse(&buf[..n]).unwrap();
    assert_eq!((req.code(), req.accept()), (Code::GET, Some(0)));
    let mut out = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut out,
        MsgType::Ack,
        Code::CONTENT,
        req.mid(),
        req.token_bytes(),
    )
    .unwrap();
    b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
    b.payload(b"ACME").unwrap();
    let n = b.finish();
    dev.send_to(&out[..n], from).unwrap();
    let read = cli.next(|v| v["command"] == "read");
    assert_eq!(read["entries"][0]["path"], "/3/0/0");
    assert_eq!(read["entries"][0]["type"], "string");
    assert_eq!(read["entries"][0]["value"], "ACME");

    cli.say("write desk-1 /1/0/1 abc");
    let bad = cli.next(|v| v["command"] == "write");
    assert_eq!(bad["ok"], false);
    assert!(bad["error"].as_str().unwrap().contains("integer"), "{bad}");
    cli.say("frobnicate");
    assert_eq!(cli.next(|v| v["command"] == "frobnicate")["ok"], false);

    cli.say("quit");
    let status = cli.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn bad_options_and_the_example_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
    let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
        .arg("--example-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(lwm2m_server::config_file::parse_bootstrap_toml(&text).is_ok());
    let dir = std::env::temp_dir().join(format!("lwm2m-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[default]\nnonsense = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--bootstrap-config",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonsense"));
}

/// Without the `dtls` feature the DTLS options are still known, and each
/// fails with one line saying how to rebuild instead of being ignored.
#[cfg(not(feature = "dtls"))]
#[test]
fn without_dtls_every_dtls_option_says_how_to_rebuild() {
    for (args, option) in [
        (&["--psk", "dev1:00ff"][..], "--psk"),
        (&["--cert", "s.pem", "--key", "s.key"][..], "--cert"),
        (
            &["--cert", "s.pem", "--key", "s.key", "--client-ca", "ca.pem"][..],
            "--cert",
        ),
        (&["--coaps-listen", "127.0.0.1:0"][..], "--coaps-listen"),
        (
            &["--bootstrap-coaps-listen", "127.0.0.1:0"][..],
            "--bootstrap-coaps-listen",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
            .args(["--listen", "127.0.0.1:0", "--no-prompt"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err,
            format!(
                "lwm2m-server: {option}: this build has no DTLS support: rebuild with `--features dtls`\n"
            ),
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--psk <IDENTITY:HEXKEY>"), "{help}");
    assert!(help.contains("rebuild with `--features dtls`"), "{help}");
}
