//! The application's own loop over real loopback UDP: `serve` reads at most
//! one datagram and never waits, a datagram from an address that is not
//! the server is never served (SPEC §5), and `time_to_next_job` is the
//! core's next timer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod driver_common;

use std::net::UdpSocket;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use driver_common::*;
use lwm2m::Driver;
use lwm2m::core::client::{LinkId, TimerReason};
use lwm2m::core::coap::{Code, Message};
use lwm2m::core::time::Instant as CoreInstant;

fn the_link(d: &Driver) -> LinkId {
    let links: Vec<LinkId> = d.sockets().map(|(l, _)| l).collect();
    assert_eq!(links.len(), 1, "one server, one socket");
    links[0]
}

/// Calls `serve` until it reads something; fails after the deadline.
fn serve_next(d: &mut Driver, link: LinkId) {
    let end = Instant::now() + DEADLINE;
    while !d.serve(link) {
        assert!(Instant::now() < end, "nothing to serve within {DEADLINE:?}");
        thread::yield_now();
    }
}

#[test]
fn serve_never_waits() {
    // The server is silent: the client's Register stays unanswered, so its
    // socket has nothing to read. Run in a thread so that a `serve` that
    // waited would fail the test instead of hanging it.
    let server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let uri = server.uri();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut d = driver("silent", &uri, 300);
        d.sched_run(); // Register goes out on a new socket.
        let link = the_link(&d);
        let r = (d.serve(link), d.serve(link), d.serve(LinkId(u16::MAX)));
        tx.send(r).unwrap();
    });
    let r = rx.recv_timeout(DEADLINE).expect("serve waited");
    assert_eq!(r, (false, false, false));
    drop(server);
}

#[test]
fn serve_reads_one_datagram_per_call() {
    let mut server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let mut d = driver("one-at-a-time", &server.uri(), 300);
    let client = register(&mut d, &mut server, "r1");
    let link = the_link(&d);

    server.request(client, Code::GET, &["3", "0", "0"], b"first");
    server.request(client, Code::GET, &["3", "0", "0"], b"second");

    // One serve answers exactly one request: the second answer does not
    // exist until the next serve.
    serve_next(&mut d, link);
    let r = server.expect("answer to the first", |m| m.token_bytes() == b"first");
    assert_eq!(r.msg().code(), Code::CONTENT);
    assert!(!server.has_datagram(), "one serve answered two requests");

    serve_next(&mut d, link);
    let r = server.expect("answer to the second", |m| m.token_bytes() == b"second");
    assert_eq!(r.msg().code(), Code::CONTENT);
}

#[test]
fn a_datagram_from_a_stranger_is_not_served() {
    let mut server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let mut d = driver("guarded", &server.uri(), 300);
    let client = register(&mut d, &mut server, "g1");

    // Another local socket sends the same request to the client's socket
    // first; then the server does.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = [0u8; 64];
    let n = {
        let mut b = lwm2m::core::coap::MessageBuilder::new(
            &mut buf,
            lwm2m::core::coap::MsgType::Con,
            Code::GET,
            7,
            b"evil",
        )
        .unwrap();
        for seg in ["3", "0", "0"] {
            b.option(lwm2m::core::coap::option::URI_PATH, seg.as_bytes())
                .unwrap();
        }
        b.finish()
    };
    stranger.send_to(&buf[..n], client).unwrap();
    server.request(client, Code::GET, &["3", "0", "0"], b"good");

    // Had the stranger's request been served, its answer would come first,
    // to the stranger or (from a driver answering only its server) here.
    let r = server.expect_pumped(
        "answer to the server",
        |m| {
            assert_ne!(m.token_bytes(), b"evil", "the stranger was served");
            m.token_bytes() == b"good"
        },
        || {
            d.event_loop_run(Duration::from_millis(5)).unwrap();
        },
    );
    assert_eq!(r.msg().code(), Code::CONTENT);
    stranger.set_nonblocking(true).unwrap();
    let got = stranger.recv_from(&mut buf);
    assert!(
        got.is_err(),
        "the stranger was answered: {:?}",
        got.ok()
            .map(|(n, _)| Message::parse(&buf[..n]).map(|m| m.code()))
    );
}

#[test]
fn time_to_next_job_is_the_cores_next_timer() {
    let mut server = ScriptedServer::bind("127.0.0.1:0").unwrap();
    let created = Instant::now();
    let mut d = driver("timers", &server.uri(), 300);

    // Not started yet: the first job (start, Register) is due at once.
    assert_eq!(d.time_to_next_job(), Some(Duration::ZERO));
    assert_eq!(
        d.client().next_timer().map(|(_, r)| r),
        Some(TimerReason::Immediate)
    );

    register(&mut d, &mut server, "t1");
    // Registered for 300 s: next is the Update, due 300 s - MAX_TRANSMIT_WAIT
    // (93 s) after registering.
    let (at, reason) = d.client().next_timer().unwrap();
    assert_eq!(reason, TimerReason::Update(1));
    let wait = d.time_to_next_job().unwrap();
    // The driver's clock started when it was created: its `now` lies
    // between 0 and the time elapsed since just before that.
    let elapsed = created.elapsed();
    let since_origin = at.saturating_duration_since(CoreInstant::ZERO);
    assert!(wait <= since_origin, "{wait:?} > {since_origin:?}");
    assert!(
        wait + elapsed >= since_origin,
        "{wait:?} + {elapsed:?} < {since_origin:?}"
    );
    assert!(since_origin >= Duration::from_secs(300 - 93));
}

/// A driver whose only server's host cannot be resolved: a label longer
/// than 63 bytes cannot be put in a DNS query, so the resolver refuses it
/// without asking the network.
fn unresolvable() -> Driver {
    use lwm2m::core::config::Config;
    let host = format!("{}.invalid", "a".repeat(64));
    let mut config = Config::new("unresolvable");
    config.transmission.ack_timeout = Duration::from_millis(10);
    config.transmission.max_retransmit = 1;
    driver_with(config, &format!("coap://{host}:5683"), 300)
}

#[test]
fn an_unresolvable_server_is_a_failed_link() {
    let mut d = unresolvable();
    d.sched_run();
    assert_eq!(d.stats().link_failures, 1);
    assert!(d.stats().last_link_error.is_some());
    assert_eq!(d.sockets().count(), 0);
    // The loop keeps going without the socket.
    assert_eq!(
        d.event_loop_run(Duration::ZERO).unwrap(),
        lwm2m::Exit::Elapsed
    );
}

/// What the core should make of `link_failed`: the attempt fails (and is
/// retried as the Server object says). Today the Register queued on the
/// failed link is never transmitted, so it never times out either and the
/// server stays "registering" for ever.
#[test]
fn a_failed_link_fails_the_registration_attempt() {
    use lwm2m::core::client::Event;
    let mut d = unresolvable();
    let mut events = Vec::new();
    run_until(&mut d, "RegistrationFailed", |d| {
        events.extend(std::iter::from_fn(|| d.poll_event()));
        events
            .iter()
            .any(|e| matches!(e, Event::RegistrationFailed { ssid: 1, .. }))
    });
}
