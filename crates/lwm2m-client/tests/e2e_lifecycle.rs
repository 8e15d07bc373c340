//! End to end over loopback UDP, the client's life: bootstrap then
//! register (Core 1.1 §6.1, §6.2), a restart from the state file after a
//! kill (SPEC §4), SIGINT / SIGTERM de-registering (Core 1.1 §6.2.3) with
//! exit code 0, Reboot and Factory Reset (Core 1.1 Appendix E.4), and a
//! corrupt state file falling back to the factory configuration.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use lwm2m_core::dm::{Path, Value};
use lwm2m_server::ServerEvent;
use lwm2m_server::core::DeregisterReason;
use rustix::process::Signal;

use common::{Client, DEADLINE, bootstrap_server, dm_server, temp_dir, uri, wait_event};

/// Waits for a (new) Register of `ep`; returns its lifetime.
fn registered(events: &std::sync::mpsc::Receiver<ServerEvent>, ep: &str) {
    wait_event(events, "Register", |e| match e {
        ServerEvent::Registered { endpoint, .. } if endpoint == ep => Some(()),
        _ => None,
    })
}

#[test]
fn bootstrap_then_register_then_restart_from_the_state_file() {
    let dir = temp_dir("bootstrap");
    let state = dir.join("client.state");
    let state_arg = state.to_str().unwrap();
    let dm = dm_server();
    let dm_events = dm.subscribe().unwrap();
    let bs = bootstrap_server(&uri(&dm), 7, 77);
    let bs_events = bs.subscribe().unwrap();
    let ep = "e2e-bootstrap";
    let bs_uri = uri(&bs);
    let args = [
        "--endpoint",
        ep,
        "--server",
        bs_uri.as_str(),
        "--bootstrap",
        "--state-file",
        state_arg,
    ];
    let mut client = Client::start(&args);

    // The Bootstrap-Server's session ends well; the client registers with
    // the DM server it was given, with its lifetime.
    wait_event(&bs_events, "bootstrap finished", |e| match e {
        ServerEvent::BootstrapFinished { endpoint, result } if endpoint == ep => {
            assert_eq!(result, &Ok(()), "log:\n{}", client.log());
            Some(())
        }
        _ => None,
    });
    registered(&dm_events, ep);
    let r = dm.registration(ep).unwrap().unwrap();
    assert_eq!(r.lifetime, 77);
    client.wait_log("bootstrap finished: configuration committed");
    client.wait_log("registered with server 7");
    client.wait_log(&format!("state saved to {state_arg}"));

    // A DM server's change is saved too.
    dm.write(ep, Path::resource(1, 0, 1), Value::Integer(88), None)
        .unwrap();
    wait_event(&dm_events, "Update with the new lifetime", |e| match e {
        ServerEvent::Updated { endpoint, .. } if endpoint == ep => Some(()),
        _ => None,
    });
    assert_eq!(dm.registration(ep).unwrap().unwrap().lifetime, 88);
    // Persist comes with the write: wait for the second save.
    let end = std::time::Instant::now() + DEADLINE;
    while client.count_log("state saved to") < 2 {
        assert!(std::time::Instant::now() < end, "{}", client.log());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    // Killed without a word, started again with the same state file: it
    // registers with the DM server at once, with the configuration the
    // Bootstrap-Server wrote and the DM server changed; no new bootstrap.
    client.kill();
    let client = Client::start(&args);
    registered(&dm_events, ep);
    let r = dm.registration(ep).unwrap().unwrap();
    assert_eq!(r.lifetime, 88);
    client.wait_log("restored");
    client.wait_log("registered with server 7");
    assert_eq!(client.count_log("bootstrap session started"), 0);
    assert!(
        !bs_events
            .try_iter()
            .any(|e| matches!(e, ServerEvent::BootstrapStarted { .. })),
        "no second bootstrap"
    );
}

#[test]
fn sigint_and_sigterm_deregister_and_exit_zero() {
    for (sig, ep) in [(Signal::INT, "e2e-sigint"), (Signal::TERM, "e2e-sigterm")] {
        let server = dm_server();
        let events = server.subscribe().unwrap();
        let mut client = Client::of(&server, ep, &[]);
        server.wait_for_registration(ep, DEADLINE).unwrap();
        // The client knows it is registered (a signal while the Register
        // is in flight stops without a De-register: the core abandons it).
        client.wait_log("registered with server 1");
        client.signal(sig);
        wait_event(&events, "De-register", |e| match e {
            ServerEvent::Deregistered { endpoint, reason } if endpoint == ep => {
                assert_eq!(*reason, DeregisterReason::Client);
                Some(())
            }
            _ => None,
        });
        let status = client.wait_exit();
        assert_eq!(status.code(), Some(0), "{sig:?}; log:\n{}", client.log());
        client.wait_log("de-registered from server 1");
    }
}

#[test]
fn reboot_restores_the_state_and_factory_reset_the_factory_configuration() {
    let dir = temp_dir("reset");
    let state = dir.join("client.state");
    let server = dm_server();
    let events = server.subscribe().unwrap();
    let ep = "e2e-reset";
    let client = Client::of(
        &server,
        ep,
        &["--lifetime", "300", "--state-file", state.to_str().unwrap()],
    );
    registered(&events, ep);
    server
        .write(ep, Path::resource(1, 0, 1), Value::Integer(99), None)
        .unwrap();
    client.wait_log("state saved to");

    // Reboot: the client starts again from what it saved.
    server.execute(ep, Path::resource(3, 0, 4), None).unwrap();
    registered(&events, ep);
    assert_eq!(server.registration(ep).unwrap().unwrap().lifetime, 99);
    client.wait_log("Reboot executed: restarting the client");

    // Factory Reset: back to the command line's configuration.
    server.execute(ep, Path::resource(3, 0, 5), None).unwrap();
    registered(&events, ep);
    assert_eq!(server.registration(ep).unwrap().unwrap().lifetime, 300);
    client.wait_log("Factory Reset executed");
    // And the state file now says so too.
    let bytes = std::fs::read(&state).unwrap();
    assert!(bytes.starts_with(b"\x89LWM2MS\n"));
}

#[test]
fn a_corrupt_state_file_falls_back_to_the_factory_configuration() {
    let dir = temp_dir("corrupt");
    let state = dir.join("client.state");
    std::fs::write(&state, b"this is not a state file").unwrap();
    let server = dm_server();
    let ep = "e2e-corrupt";
    let client = Client::of(&server, ep, &["--state-file", state.to_str().unwrap()]);
    server.wait_for_registration(ep, DEADLINE).unwrap();
    let line = client.wait_log("starting from the factory configuration");
    assert!(line.contains(state.to_str().unwrap()), "{line}");
    assert!(line.contains("bad magic"), "{line}");
}
