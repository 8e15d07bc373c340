//! End to end over loopback UDP: one client, two bundled DM servers at
//! once (`--server` twice; SPEC §1 guarantee 9), with the Access Control
//! the demo's factory configuration sets up for several servers (Core 1.1
//! §7.3, Appendix E.3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use lwm2m_core::coap::Code;
use lwm2m_core::content::Entry;
use lwm2m_core::dm::{Path, Value};
use lwm2m_server::core::RequestError;
use lwm2m_server::driver::ServerError;
use rustix::process::Signal;

use common::{Client, DEADLINE, dm_server, uri};

const COUNTER: Path = Path::resource(32769, 0, 1);

fn int(entries: &[Entry<'static>], path: Path) -> i64 {
    entries
        .iter()
        .find(|e| e.path == path)
        .and_then(|e| e.value.as_i64())
        .unwrap_or_else(|| panic!("no {path} in {entries:?}"))
}

fn code(e: ServerError) -> Code {
    match e {
        ServerError::Request(RequestError::Code(c)) => c,
        other => panic!("expected an error code, got {other:?}"),
    }
}

#[test]
fn two_servers_at_once() {
    let a = dm_server();
    let b = dm_server();
    let ep = "e2e-two";
    let (ua, ub) = (uri(&a), uri(&b));
    let mut client = Client::start(&["--endpoint", ep, "--server", &ua, "--server", &ub]);
    let ra = a.wait_for_registration(ep, DEADLINE).unwrap();
    let rb = b.wait_for_registration(ep, DEADLINE).unwrap();
    // Both registrations list both Server instances and the shared
    // objects.
    for r in [&ra, &rb] {
        assert!(r.objects.instances(1).any(|i| i == 0));
        assert!(r.objects.instances(1).any(|i| i == 1));
        assert!(r.objects.instances(32769).any(|i| i == 0));
    }
    client.wait_log("registered with server 1");
    client.wait_log("registered with server 2");

    // One server writes, the other reads the same value.
    a.write(ep, COUNTER, Value::Integer(41), None).unwrap();
    b.execute(ep, Path::resource(32769, 0, 2), None).unwrap();
    assert_eq!(int(&a.read(ep, COUNTER, None).unwrap(), COUNTER), 42);
    assert_eq!(int(&b.read(ep, COUNTER, None).unwrap(), COUNTER), 42);

    // Each server manages its own Server instance only.
    b.write(ep, Path::resource(1, 1, 1), Value::Integer(120), None)
        .unwrap();
    let e = b
        .write(ep, Path::resource(1, 0, 1), Value::Integer(120), None)
        .unwrap_err();
    assert_eq!(code(e), Code::UNAUTHORIZED);

    // Both may create (the default ACL grants Create); the creator owns
    // the new instance: the other server may read it but not delete it.
    let at = b
        .create(
            ep,
            Path::instance(32769, 5),
            vec![Entry::new(Path::resource(32769, 5, 1), Value::Integer(5))],
            None,
        )
        .unwrap()
        .unwrap();
    assert_eq!(at, Path::instance(32769, 5));
    let e = a.delete(ep, at).unwrap_err();
    assert_eq!(code(e), Code::UNAUTHORIZED);
    b.delete(ep, at).unwrap();

    // Ctrl-C leaves both.
    client.signal(Signal::INT);
    a.wait_for_deregistration(ep, DEADLINE).unwrap();
    b.wait_for_deregistration(ep, DEADLINE).unwrap();
    assert_eq!(client.wait_exit().code(), Some(0));
    client.wait_log("de-registered from server 1");
    client.wait_log("de-registered from server 2");
}

#[test]
fn one_server_down_does_not_stall_the_other() {
    let a = dm_server();
    // A port nobody answers on: bind it, note it, release it.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead_uri = format!("coap://{}", dead.local_addr().unwrap());
    drop(dead);
    let ep = "e2e-one-down";
    let ua = uri(&a);
    let client = Client::start(&["--endpoint", ep, "--server", &dead_uri, "--server", &ua]);
    a.wait_for_registration(ep, DEADLINE).unwrap();
    let e = a.read(ep, Path::resource(3, 0, 0), None).unwrap();
    assert_eq!(e[0].value.as_str(), Some("lwm2m-rs"));
    client.wait_log("registered with server 2");
}
