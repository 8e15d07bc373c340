//! The interrupt handle stops `event_loop_run` from another thread and from
//! a signal handler (through `signal-hook`'s self-pipe registration, as the
//! examples hook Ctrl-C); an interrupt sent while nobody waits is kept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod driver_common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use driver_common::DEADLINE;
use lwm2m::core::config::Config;
use lwm2m::{Driver, Exit, Interrupt};

/// A client with no server account at all: nothing to do, so its loop only
/// waits.
fn idle_driver() -> Driver {
    Driver::new(Config::new("idle")).unwrap()
}

#[test]
fn the_handle_is_shareable() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Interrupt>();
}

#[test]
fn another_thread_stops_the_loop() {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut d = idle_driver();
        tx.send(d.interrupt_handle()).unwrap();
        // Far longer than the test's deadline: only the interrupt ends it.
        let exit = d.event_loop_run(Duration::from_secs(24 * 3600)).unwrap();
        done_tx.send(exit).unwrap();
    });
    let stop = rx.recv_timeout(DEADLINE).unwrap();
    stop.clone().interrupt();
    let exit = done_rx
        .recv_timeout(DEADLINE)
        .expect("loop not interrupted");
    assert_eq!(exit, Exit::Interrupted);
}

#[test]
fn an_interrupt_before_the_loop_is_kept_and_taken_once() {
    let mut d = idle_driver();
    let stop = d.interrupt_handle();
    stop.interrupt();
    stop.interrupt();
    assert_eq!(d.event_loop_run(DEADLINE).unwrap(), Exit::Interrupted);
    // Both interrupts were taken by that one return.
    assert_eq!(d.event_loop_run(Duration::ZERO).unwrap(), Exit::Elapsed);
}

#[test]
fn a_signal_through_signal_hook_stops_the_loop() {
    let mut d = idle_driver();
    let fd = d.interrupt_handle().try_clone_fd().unwrap();
    let id = signal_hook::low_level::pipe::register(signal_hook::consts::SIGUSR1, fd).unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
    assert_eq!(d.event_loop_run(DEADLINE).unwrap(), Exit::Interrupted);
    signal_hook::low_level::unregister(id);
}

#[test]
fn shutdown_without_servers_is_immediate_and_clean() {
    let mut d = idle_driver();
    assert!(d.shutdown(DEADLINE).unwrap());
}

#[test]
fn an_interrupt_abandons_a_shutdown_the_server_does_not_answer() {
    use driver_common::{ScriptedServer, driver, path_is, register};
    use lwm2m::core::coap::Code;

    let mut server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let mut d = driver("second-ctrl-c", &server.uri(), 300);
    register(&mut d, &mut server, "s1");

    // A second Ctrl-C while de-registering: the De-register goes out, the
    // server never answers, and shutdown gives up at once.
    d.interrupt_handle().interrupt();
    assert!(!d.shutdown(DEADLINE).unwrap());
    server.expect("De-register", |m| {
        m.code() == Code::DELETE && path_is(m, &["rd", "s1"])
    });
    assert!(!d.client().is_stopped());
}
