//! Interop: libcoap's `coap-client-notls` (an implementation we did not
//! write) registers with the server and downloads a file block-wise.
//! `scripts/test.sh` installs `libcoap3-bin`. Each client run is bounded by
//! its own `-B` wait and by a kill after a deadline; only 127.0.0.1 is used.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lwm2m_server::core::{MemFiles, ServerConfig};
use lwm2m_server::driver::{ServerHandle, spawn};

const CLIENT: &str = "coap-client-notls";

fn client(args: &[&str]) -> Output {
    let mut child = Command::new(CLIENT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{CLIENT} not runnable ({e}); scripts/test.sh installs libcoap3-bin")
        });
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn start(files: MemFiles) -> ServerHandle {
    let mut cfg = ServerConfig::dm();
    cfg.files = Some(Box::new(files));
    spawn("127.0.0.1:0".parse().unwrap(), cfg)
        .unwrap()
        .with_timeout(Duration::from_secs(10))
}

#[test]
fn libcoap_registers_and_gets_a_location() {
    let server = start(MemFiles::default());
    let events = server.subscribe().unwrap();
    let uri = format!(
        "coap://127.0.0.1:{}/rd?ep=libcoap-1&lt=60",
        server.local_addr().port()
    );
    // -v 7 prints the response's options (Location-Path) on stderr/stdout.
    let out = client(&[
        "-m",
        "post",
        "-B",
        "5",
        "-t",
        "40",
        "-e",
        "</1/0>,</3/0>",
        "-v",
        "7",
        &uri,
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let reg = server
        .wait_for_registration("libcoap-1", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(reg.lifetime, 60);
    assert_eq!(reg.objects.to_link_format(), "</1/0>,</3/0>");
    assert!(text.contains("2.01"), "{text}");
    assert!(
        text.contains(&reg.location),
        "Location-Path rd/{} not shown: {text}",
        reg.location
    );
    let first = events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        matches!(first, lwm2m_server::ServerEvent::Registered { .. }),
        "{first:?}"
    );
}

#[test]
fn libcoap_downloads_a_file_in_64_byte_blocks() {
    let body: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut files = MemFiles::default();
    files.insert("fw.bin", body.clone());
    let server = start(files);
    let dir = std::env::temp_dir().join(format!("lwm2m-server-fw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("out.bin");
    let uri = format!("coap://127.0.0.1:{}/fw/fw.bin", server.local_addr().port());
    let out = client(&["-b", "64", "-B", "10", "-o", dest.to_str().unwrap(), &uri]);
    let got = std::fs::read(&dest).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got.len(), body.len());
    assert!(got == body);
}
