//! End to end over loopback UDP: a firmware update of the demo client by
//! the bundled server (Core 1.1 Appendix E.6), PUSH (a block-wise Write of
//! Package /5/0/0) and PULL (Package URI /5/0/1 pointing at the bundled
//! server's own file server), then Update (/5/0/2): the Device object's
//! Firmware Version names the package the client received.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use lwm2m_core::content::Format;
use lwm2m_core::dm::{Path, Value};
use lwm2m_server::core::{MemFiles, ServerConfig};
use lwm2m_server::driver::{ServerHandle, spawn};

use common::{Client, DEADLINE, localhost};

const STATE: Path = Path::resource(5, 0, 3);
const RESULT: Path = Path::resource(5, 0, 5);
const FIRMWARE_VERSION: Path = Path::resource(3, 0, 3);

/// The version the demo reports for `package` (FNV-1a 64, as
/// `objects/firmware.rs` computes it).
fn version_of(package: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in package {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("demo-{h:016x} ({} bytes)", package.len())
}

fn package(len: u32, salt: u32) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + salt + i / 251) as u8).collect()
}

fn int(s: &ServerHandle, ep: &str, p: Path) -> i64 {
    s.read(ep, p, None).unwrap()[0].value.as_i64().unwrap()
}

/// Waits until /5/0/3 reads `state`.
fn wait_state(s: &ServerHandle, ep: &str, state: i64, client: &Client) {
    let end = Instant::now() + DEADLINE;
    loop {
        if int(s, ep, STATE) == state {
            return;
        }
        assert!(
            Instant::now() < end,
            "State never {state} (result {}); log:\n{}",
            int(s, ep, RESULT),
            client.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn update_and_check(s: &ServerHandle, ep: &str, client: &Client, image: &[u8]) {
    s.execute(ep, Path::resource(5, 0, 2), None).unwrap();
    wait_state(s, ep, 0, client);
    assert_eq!(int(s, ep, RESULT), 1, "Update Result: success");
    let end = Instant::now() + DEADLINE;
    let want = version_of(image);
    loop {
        let v = s.read(ep, FIRMWARE_VERSION, None).unwrap();
        if v[0].value.as_str() == Some(want.as_str()) {
            break;
        }
        assert!(Instant::now() < end, "{v:?}, want {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn push_then_update() {
    let server = spawn(localhost(), ServerConfig::dm())
        .unwrap()
        .with_timeout(DEADLINE);
    let ep = "e2e-fw-push";
    let client = Client::of(&server, ep, &[]);
    server.wait_for_registration(ep, DEADLINE).unwrap();
    assert_eq!(int(&server, ep, STATE), 0);
    // 20 KiB: twenty 1 KiB blocks streamed to the application.
    let image = package(20 * 1024, 1);
    server
        .write(
            ep,
            Path::resource(5, 0, 0),
            Value::Opaque(image.clone().into()),
            Some(Format::Opaque),
        )
        .unwrap();
    wait_state(&server, ep, 2, &client);
    update_and_check(&server, ep, &client, &image);
    client.wait_log("firmware: Downloaded");
    client.wait_log("update result 1 (Success)");
}

#[test]
fn pull_from_the_bundled_file_server_then_update() {
    let image = package(30_000, 7);
    let mut cfg = ServerConfig::dm();
    let mut files = MemFiles::default();
    files.insert("image.bin", image.clone());
    cfg.files = Some(Box::new(files));
    let server = spawn(localhost(), cfg).unwrap().with_timeout(DEADLINE);
    let ep = "e2e-fw-pull";
    let client = Client::of(&server, ep, &[]);
    server.wait_for_registration(ep, DEADLINE).unwrap();
    let uri = format!("coap://{}/fw/image.bin", server.local_addr());
    server
        .write(ep, Path::resource(5, 0, 1), Value::String(uri.into()), None)
        .unwrap();
    wait_state(&server, ep, 2, &client);
    client.wait_log("firmware: 30000 of 30000 bytes");
    update_and_check(&server, ep, &client, &image);

    // A URI with a scheme the demo does not offer: Update Result 9.
    server
        .write(
            ep,
            Path::resource(5, 0, 1),
            Value::String("http://127.0.0.1/x".into()),
            None,
        )
        .unwrap();
    assert_eq!(int(&server, ep, RESULT), 9);
}
