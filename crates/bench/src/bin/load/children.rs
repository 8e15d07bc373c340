//! The processes the benchmark measures, each started as this binary with
//! a first argument naming its part: the client under load, the echo floor
//! and the bundled server (for Register round trips).
//!
//! Every child prints `port N` once it listens (client: once set up),
//! answers `stats` with its heap counters and memory, and exits when its
//! stdin closes.

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use lwm2m::core::config::Config;
use lwm2m::core::dm::Path;
use lwm2m::{Driver, Exit};
use lwm2m_server::ServerConfig;

use crate::harness::quantile;
use crate::objects;
use stats_alloc::Stats;

use crate::procs::{Cpu, Mem, Report};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Heap activity of earlier `stats` answers (the answers themselves),
/// left out of the counts they report. Only the command thread touches it.
static OWN: Mutex<Option<Stats>> = Mutex::new(None);

/// Prints the `stats` line: the counters as they were when asked, less
/// what earlier answers did on the heap.
fn answer_stats() {
    let before = crate::GLOBAL.stats();
    let mut own = OWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let zero = Stats {
        allocations: 0,
        deallocations: 0,
        reallocations: 0,
        bytes_allocated: 0,
        bytes_deallocated: 0,
        bytes_reallocated: 0,
    };
    let mut r = Report::heap(&before, own.as_ref().unwrap_or(&zero));
    r.mem = Mem::of_self();
    r.cpu = Cpu::of_self();
    let line = r.line();
    {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    drop(line);
    let after = crate::GLOBAL.stats();
    let mut acc = own.unwrap_or(zero);
    acc.allocations += after.allocations - before.allocations;
    acc.reallocations += after.reallocations - before.reallocations;
    acc.deallocations += after.deallocations - before.deallocations;
    acc.bytes_allocated += after.bytes_allocated - before.bytes_allocated;
    acc.bytes_deallocated += after.bytes_deallocated - before.bytes_deallocated;
    acc.bytes_reallocated += after.bytes_reallocated - before.bytes_reallocated;
    *own = Some(acc);
}

/// Reads commands until stdin closes, then exits the process (so that a
/// child never outlives its parent). `other` handles what `stats` is not.
fn serve_stdin(mut other: impl FnMut(&str) + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name("commands".into())
        .spawn(move || {
            let stdin = io::stdin();
            let mut lock = stdin.lock();
            let mut line = String::with_capacity(256);
            loop {
                line.clear();
                match lock.read_line(&mut line) {
                    Ok(0) | Err(_) => std::process::exit(0),
                    Ok(_) => {}
                }
                match line.trim() {
                    "stats" => answer_stats(),
                    cmd => other(cmd),
                }
            }
        })?;
    Ok(())
}

fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// A command for the client's own thread.
enum Cmd {
    /// `notify N SIZE PORT PAUSE`: N notifications, timed, PAUSE µs
    /// apart; the floor is a bare send of SIZE bytes to 127.0.0.1:PORT.
    Notify(usize, usize, u16, u64),
}

/// The client under load: the std driver's ready-made loop with Security,
/// Server, Device and Firmware Update, registered with `--server URI`. Like
/// an application, it takes the driver's events every second.
pub fn client(args: &[String]) -> Result<()> {
    let uri = arg(args, "--server").ok_or("--server URI is required")?;
    let endpoint = arg(args, "--endpoint").unwrap_or("bench-client");
    let mut d = Driver::new(Config::new(endpoint))?;
    let (sec, srv) = objects::account(uri);
    d.add_object(sec)?;
    d.add_object(srv)?;
    d.add_object(objects::device())?;
    d.add_object(objects::firmware())?;
    let interrupt = d.interrupt_handle();
    let (tx, rx) = mpsc::channel();
    serve_stdin(move |cmd| {
        let mut w = cmd.split_whitespace();
        if w.next() == Some("notify") {
            let mut num = || w.next().and_then(|s| s.parse::<usize>().ok());
            if let (Some(n), Some(size), Some(port), Some(pause)) = (num(), num(), num(), num()) {
                if tx
                    .send(Cmd::Notify(n, size, port as u16, pause as u64))
                    .is_ok()
                {
                    interrupt.interrupt();
                }
                return;
            }
        }
        say(&format!("error unknown command {cmd:?}"));
    })?;
    say("ready");
    loop {
        if d.event_loop_run(Duration::from_secs(1))? == Exit::Interrupted {
            while let Ok(cmd) = rx.try_recv() {
                match cmd {
                    Cmd::Notify(n, size, port, pause) => {
                        let line = notify(&mut d, n, size, port, Duration::from_micros(pause))?;
                        say(&line);
                    }
                }
            }
        }
        while d.poll_event().is_some() {}
    }
}

/// Times `n` notifications of /3/0/9 from `notify_changed` to the return
/// of the send that carries it, and beside each a bare send of `size`
/// bytes on a connected socket to the same receiver (the floor). With a
/// `pause`, the loop serves its sockets for that long after each send, so
/// that each starts from an idle process and finds the receiver asleep;
/// without, they follow each other at once.
fn notify(d: &mut Driver, n: usize, size: usize, port: u16, pause: Duration) -> Result<String> {
    let path = Path::resource(3, 0, 9);
    let floor_sock = UdpSocket::bind("127.0.0.1:0")?;
    floor_sock.connect(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let junk = vec![0u8; size];
    let mut ours = Vec::with_capacity(n);
    let mut floor = Vec::with_capacity(n);
    let sent_before = d.client().stats().notifications;
    let allocs_before = crate::GLOBAL.stats();
    for _ in 0..n {
        let t = Instant::now();
        d.notify_changed(path);
        d.sched_run();
        ours.push(t.elapsed().as_nanos() as u64);
        d.event_loop_run(pause)?;
        let t = Instant::now();
        floor_sock.send(&junk)?;
        floor.push(t.elapsed().as_nanos() as u64);
        d.event_loop_run(pause)?;
    }
    let allocs_after = crate::GLOBAL.stats();
    let sent = d.client().stats().notifications - sent_before;
    ours.sort_unstable();
    floor.sort_unstable();
    let allocs = (allocs_after.allocations + allocs_after.reallocations)
        .saturating_sub(allocs_before.allocations + allocs_before.reallocations);
    Ok(format!(
        "notify sent={sent} p50_ns={} p99_ns={} floor_p50_ns={} floor_p99_ns={} allocs={allocs}",
        quantile(&ours, 0.5),
        quantile(&ours, 0.99),
        quantile(&floor, 0.5),
        quantile(&floor, 0.99),
    ))
}

/// The echo floor: answers every datagram with the first `reply N` bytes
/// of its buffer (the request, then whatever was there before), its type
/// made ACK so the harness recognises it. Nothing else.
pub fn echo() -> Result<()> {
    static REPLY: AtomicUsize = AtomicUsize::new(64);
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    serve_stdin(
        |cmd| match cmd.strip_prefix("reply ").map(str::parse::<usize>) {
            Some(Ok(n)) => {
                REPLY.store(n, Ordering::Relaxed);
                say("ok");
            }
            _ => say(&format!("error unknown command {cmd:?}")),
        },
    )?;
    say(&format!("port {}", sock.local_addr()?.port()));
    let mut buf = vec![0u8; 65_536];
    loop {
        let (_, from) = sock.recv_from(&mut buf)?;
        if let Some(b) = buf.first_mut() {
            *b = (*b & 0xcf) | 0x20;
        }
        let n = REPLY.load(Ordering::Relaxed);
        sock.send_to(buf.get(..n).unwrap_or(&[]), from)?;
    }
}

/// The bundled server with its std driver, for Register round trips:
/// `--max-registrations N`.
pub fn server(args: &[String]) -> Result<()> {
    let mut cfg = ServerConfig::dm();
    if let Some(n) = arg(args, "--max-registrations").and_then(|s| s.parse().ok()) {
        cfg.limits.max_registrations = n;
    }
    let mut d = lwm2m_server::driver::Driver::bind(SocketAddr::from(([127, 0, 0, 1], 0)), cfg, 7)?;
    serve_stdin(|cmd| say(&format!("error unknown command {cmd:?}")))?;
    say(&format!("port {}", d.local_addr()?.port()));
    loop {
        d.run_once(Duration::from_millis(100))?;
        while d.poll_event().is_some() {}
    }
}
