//! The `lwm2m-server` binary speaking `coaps://`: PSKs from `--psk` and
//! from the bootstrap TOML, a certificate from PEM files; our client
//! registers over DTLS and a command typed at the prompt reads from it.
#![cfg(feature = "dtls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../lwm2m/tests/dtls_common/mod.rs"]
mod dtls_common;
mod e2e_common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};

use dtls_common::{Cert, TempDir};
use e2e_common::*;
use lwm2m::core::client::Event;
use lwm2m::core::objects::SecurityMode;
use lwm2m::dtls::OpenSslFactory;
use serde_json::Value;

struct Cli {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
}

impl Cli {
    fn start(extra: &[&str]) -> Cli {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
            .args([
                "--json",
                "--listen",
                "127.0.0.1:0",
                "--coaps-listen",
                "127.0.0.1:0",
                "--bootstrap-listen",
                "127.0.0.1:0",
                "--bootstrap-coaps-listen",
                "127.0.0.1:0",
                "--timeout",
                "20",
            ])
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

    fn next(&self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self
                .lines
                .recv_timeout(DEADLINE)
                .unwrap_or_else(|_| panic!("no {what} line"));
            if want(&v) {
                return v;
            }
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The DM server's `coaps://` URI from its `listening` line.
    fn dm_coaps(&self) -> String {
        let l = self.next("listening", |v| {
            v["event"] == "listening" && v["server"] == "DM"
        });
        format!("coaps://{}", l["secure_address"].as_str().unwrap())
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers `ep` with `account`, checks the DTLS and registration lines,
/// reads /3/0/0 at the prompt, and stops the client.
fn register_and_read(cli: &mut Cli, ep: &str, account: Account) {
    let mut client = TestClient::spawn(ep, vec![account], Arc::new(OpenSslFactory::new()), None);
    client.wait_event("Registered", |e| *e == Event::Registered { ssid: 1 });
    let est = cli.next("dtls_established", |v| v["event"] == "dtls_established");
    assert_eq!(est["server"], "dm");
    let reg = cli.next("registered", |v| {
        v["event"] == "registered" && v["endpoint"] == ep
    });
    assert_eq!(reg["address"], est["address"], "{reg} / {est}");
    cli.say(&format!("read {ep} /3/0/0 text"));
    let read = cli.next("read result", |v| v["command"] == "read");
    assert_eq!(read["ok"], true, "{read}");
    assert!(read.to_string().contains(MANUFACTURER), "{read}");
    let (out, events) = client.stop();
    assert!(out.clean, "{events:?}");
}

#[test]
fn psk_from_the_command_line_and_from_the_bootstrap_toml() {
    let dir = TempDir::new("dtls-cli");
    let toml = dir.path("bs.toml");
    std::fs::write(
        &toml,
        r#"
[[clients."toml-ep".security]]
id = 1
uri = "coaps://127.0.0.1:5684"
short_server_id = 1
mode = "psk"
identity = "toml-identity"
secret_key_hex = "a1a2a3a4a5a6a7a8"
[[clients."toml-ep".server]]
id = 0
short_server_id = 1
"#,
    )
    .unwrap();
    let mut cli = Cli::start(&[
        "--psk",
        "urn:cli:identity:00112233445566778899aabbccddeeff",
        "--bootstrap-config",
        toml.to_str().unwrap(),
    ]);
    let uri = cli.dm_coaps();
    let bs = cli.next("Bootstrap listening", |v| {
        v["event"] == "listening" && v["server"] == "Bootstrap"
    });
    assert!(bs["secure_address"].is_string(), "{bs}");

    let key: Vec<u8> = (0..16).map(|i| i * 0x11).collect();
    let account = Account::new(0, 1, &uri).psk(b"urn:cli:identity", &key);
    register_and_read(&mut cli, "cli-ep", account);

    let key = [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8];
    let account = Account::new(0, 1, &uri).psk(b"toml-identity", &key);
    register_and_read(&mut cli, "toml-ep", account);

    cli.say("quit");
    assert!(cli.child.wait().unwrap().success());
}

#[test]
fn certificate_from_pem_files() {
    let dir = TempDir::new("dtls-cli-cert");
    let server = Cert::new("lwm2m.test", -1, 30, None, false);
    let (cert, key) = server.write_pem(&dir, "server");
    let mut cli = Cli::start(&[
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let uri = cli.dm_coaps();
    let me = Cert::new("cli-cert-ep", -1, 30, None, false);
    let mut account = Account::new(0, 1, &uri);
    account.security =
        account
            .security
            .with_keys(SecurityMode::Certificate, &me.der, &me.key_der, &server.der);
    register_and_read(&mut cli, "cli-cert-ep", account);
}

#[test]
fn bad_credentials_are_refused_at_start_without_echoing_keys() {
    for (args, needle) in [
        (vec!["--psk", "no-key-here"], "IDENTITY:HEXKEY"),
        (vec!["--psk", "id:c0ffeeZZ"], "hexadecimal"),
        (
            vec!["--cert", "/nonexistent.pem", "--key", "/nonexistent.key"],
            "nonexistent",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
            .args([
                "--no-prompt",
                "--listen",
                "127.0.0.1:0",
                "--coaps-listen",
                "127.0.0.1:0",
            ])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("c0ffee"), "{err}");
    }
}
