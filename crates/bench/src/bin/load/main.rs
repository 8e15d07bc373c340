//! Load benchmark: the bundled server drives one client over 127.0.0.1, and
//! every figure is printed beside a bare UDP echo measured by the same
//! request loop, in the same run, with the same datagram sizes.
//!
//! ```text
//! cargo run --release -p lwm2m-bench --bin load              # < 60 s
//! cargo run --release -p lwm2m-bench --bin load -- --quick   # CI smoke run
//! cargo run --release -p lwm2m-bench --bin load -- --callgrind
//! cargo run --release -p lwm2m-bench --bin load -- --help
//! ```
//!
//! Processes: this one holds the request loop (`harness`) and the bundled
//! server's sans-IO core; the client under load (std driver, Security,
//! Server, Device, Firmware Update), the echo floor and, for Register
//! round trips, a bundled server with its std driver run as children of
//! the same binary (`children`), so that their memory, heap allocations
//! and instructions are theirs alone.

mod callgrind;
mod children;
mod fleet;
mod harness;
mod objects;
mod procs;
mod requesters;

use std::alloc::System;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lwm2m::core::coap::Code;
use lwm2m::core::content::{Entry, Format};
use lwm2m::core::dm::{Path, Value};
use lwm2m_server::core::Operation;
use lwm2m_server::{ServerConfig, ServerEvent};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

use harness::{Io, Run, drive, pump, quantile};
use procs::{Proc, Report};
use requesters::{ClientReg, Raw, RawBlock1, ServerOp, Srv};

/// Counts heap allocations of whichever process this binary is: the
/// client child reports its own per request.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "\
load: the bundled LwM2M server drives one client over 127.0.0.1; every
figure is printed beside a bare UDP echo floor measured in the same run.

USAGE: load [OPTIONS]

  --quick              CI-sized smoke run (a few seconds)
  --requests N         Reads per run (default 20000; --quick 2000)
  --rounds N           runs of each case, floor and ours interleaved (3; --quick 1)
  --window N           Reads in flight for the second Read case (16)
  --write-kib N        size of the Block1 write, KiB (1024)
  --transfers N        Block1 writes per run (4; --quick 1)
  --registers N        Register round trips per run (3000; --quick 300)
  --register-pool N    endpoint names Registers cycle through, each Register
                       replacing the name's previous registration (100)
  --notifications N    timed notifications (2000; --quick 200)
  --fleet N            N sans-IO clients in one process, heap bytes each
                       (1000; --quick 100; 0: skip)
  --callgrind          instructions per Read under valgrind instead (see below)
  --counts A,B         --callgrind request counts (1000,11000)
  -h, --help           this text

--callgrind runs the client, then the echo floor, under
`valgrind --tool=callgrind` for A and then B Reads of /3/0 (TLV, one at a
time), and prints (total(B) - total(A)) / (B - A) for each and their ratio.
Output files stay in target/<profile>/callgrind/ for callgrind_annotate.
";

/// Command-line options.
#[derive(Clone, Debug)]
pub struct Opts {
    reads: usize,
    rounds: usize,
    window: usize,
    write_bytes: usize,
    transfers: usize,
    registers: usize,
    register_pool: usize,
    notifications: usize,
    fleet: usize,
    callgrind: bool,
    counts: (usize, usize),
}

fn parse_opts(args: &[String]) -> Result<Option<Opts>> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Opts {
        reads: if quick { 2_000 } else { 20_000 },
        rounds: if quick { 1 } else { 3 },
        window: 16,
        write_bytes: 1024 * 1024,
        transfers: if quick { 1 } else { 4 },
        registers: if quick { 300 } else { 3_000 },
        register_pool: 100,
        notifications: if quick { 200 } else { 2_000 },
        fleet: if quick { 100 } else { 1_000 },
        callgrind: false,
        counts: (1_000, 11_000),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<usize> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            let n: usize = v
                .parse()
                .map_err(|_| format!("{name}: not a number: {v}"))?;
            if n == 0 && name != "--fleet" {
                return Err(format!("{name} must be at least 1").into());
            }
            Ok(n)
        };
        match a.as_str() {
            "--quick" => {}
            "--requests" => o.reads = num(a)?,
            "--rounds" => o.rounds = num(a)?,
            "--window" => o.window = num(a)?,
            "--write-kib" => o.write_bytes = num(a)? * 1024,
            "--transfers" => o.transfers = num(a)?,
            "--registers" => o.registers = num(a)?,
            "--register-pool" => o.register_pool = num(a)?,
            "--notifications" => o.notifications = num(a)?,
            "--fleet" => o.fleet = num(a)?,
            "--callgrind" => o.callgrind = true,
            "--counts" => {
                let v = it.next().ok_or("--counts needs A,B")?;
                let (x, y) = v.split_once(',').ok_or("--counts: A,B")?;
                let (x, y): (usize, usize) = (x.trim().parse()?, y.trim().parse()?);
                if x == 0 || y <= x {
                    return Err("--counts: 0 < A < B".into());
                }
                o.counts = (x, y);
            }
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            other => return Err(format!("unknown option {other} (try --help)").into()),
        }
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let r = match args.first().map(String::as_str) {
        Some("child-client") => children::client(rest),
        Some("child-echo") => children::echo(),
        Some("child-server") => children::server(rest),
        _ => match parse_opts(&args) {
            Ok(Some(o)) if o.callgrind => callgrind::run(&o),
            Ok(Some(o)) => bench(&o),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        },
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// No progress for this long fails a run (nothing is lost on loopback,
/// and the raw requests are not retransmitted).
const STALL: Duration = Duration::from_secs(5);

/// The echo floor as a child process, and its address.
pub fn start_echo(wrap: &[String]) -> Result<(Proc, SocketAddr)> {
    let mut p = spawn_child("echo", "child-echo", &[], wrap)?;
    let port = p.expect("port ", Duration::from_secs(120))?;
    let port: u16 = port.trim_start_matches("port ").parse()?;
    Ok((p, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// Tells the echo how long its answers are.
pub fn echo_reply(echo: &mut Proc, len: usize) -> Result<()> {
    echo.send(&format!("reply {len}"))?;
    echo.expect("ok", Duration::from_secs(60))?;
    Ok(())
}

/// Starts this binary in child `mode`, under `wrap` (valgrind) if given.
pub fn spawn_child(
    name: &'static str,
    mode: &str,
    args: &[String],
    wrap: &[String],
) -> Result<Proc> {
    Ok(match wrap.split_first() {
        None => Proc::spawn_self(name, mode, args)?,
        Some((prog, pre)) => {
            let mut all = pre.to_vec();
            all.push(std::env::current_exe()?.to_string_lossy().into_owned());
            all.push(mode.to_string());
            all.extend_from_slice(args);
            Proc::spawn(name, prog, &all)?
        }
    })
}

/// The bundled server's core on the harness socket with a client child
/// registered to it.
pub struct Rig {
    /// The request loop's socket.
    pub io: Io,
    /// The server core.
    pub srv: Srv,
    /// The client process.
    pub client: Proc,
    /// Its address.
    pub client_addr: SocketAddr,
    /// Its endpoint name.
    pub endpoint: String,
}

impl Rig {
    /// Starts the client (under `wrap` if given) and waits for its Register.
    pub fn start(wrap: &[String], timeout: Duration) -> Result<Rig> {
        let mut io = Io::bind()?;
        let mut cfg = ServerConfig::dm();
        // 16 requests in flight to one client (RFC 7252 §4.7 NSTART).
        cfg.transmission.nstart = 16;
        let mut srv = Srv::new(cfg);
        let endpoint = "bench-client".to_string();
        let args = vec![
            "--server".to_string(),
            format!("coap://{}", io.local_addr()?),
            "--endpoint".to_string(),
            endpoint.clone(),
        ];
        let mut client = spawn_child("client", "child-client", &args, wrap)?;
        client.expect("ready", timeout)?;
        let end = Instant::now() + timeout;
        let client_addr = loop {
            if Instant::now() > end {
                return Err("the client did not register".into());
            }
            pump(&mut io, &mut srv, Duration::from_millis(20))?;
            if let Some(peer) = srv.events.iter().find_map(|e| match e {
                ServerEvent::Registered { peer, .. } => Some(*peer),
                _ => None,
            }) {
                break peer;
            }
        };
        srv.events.clear();
        Ok(Rig {
            io,
            srv,
            client,
            client_addr,
            endpoint,
        })
    }

    /// One Read of /3/0 in TLV by the server core, captured: the request
    /// datagram (the raw requests' template) and the answer's length.
    pub fn probe_read(&mut self) -> Result<(Vec<u8>, usize)> {
        self.srv.capture = true;
        self.srv.captured.clear();
        let mut q = ServerOp::new(&mut self.srv, &self.endpoint, read_op());
        drive(&mut self.io, &mut q, 1, 1, STALL)?;
        self.srv.capture = false;
        let template = self
            .srv
            .captured
            .first()
            .cloned()
            .ok_or("the server sent no Read")?;
        let mut raw = Raw::template(
            self.client_addr,
            0x8000,
            Some(Code::CONTENT),
            template.clone(),
        );
        let run = drive(&mut self.io, &mut raw, 1, 1, STALL)?;
        if run.errors > 0 {
            return Err("the client did not answer the Read with 2.05".into());
        }
        Ok((template, raw.answer_len))
    }
}

fn read_op() -> Operation {
    Operation::Read {
        path: Path::instance(3, 0),
        accept: Some(Format::Tlv),
    }
}

/// What a measured process spent over some requests: heap allocations and
/// CPU time, from its `stats` answers before and after.
#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    allocs: u64,
    bytes: u64,
    cpu_ns: u64,
    user: u64,
    sys: u64,
    requests: u64,
    /// The request loop's own thread on a CPU, ns (this process).
    loop_ns: u64,
}

impl Acc {
    fn add(&mut self, before: &Report, after: &Report, requests: usize) {
        self.allocs += after.allocs.saturating_sub(before.allocs);
        self.bytes += after.bytes.saturating_sub(before.bytes);
        self.cpu_ns += after.cpu.ns.saturating_sub(before.cpu.ns);
        self.user += after.cpu.user.saturating_sub(before.cpu.user);
        self.sys += after.cpu.sys.saturating_sub(before.cpu.sys);
        self.requests += requests as u64;
    }

    fn n(&self) -> f64 {
        self.requests.max(1) as f64
    }

    /// Allocations and bytes allocated per request.
    fn allocs_per(&self) -> (f64, f64) {
        (self.allocs as f64 / self.n(), self.bytes as f64 / self.n())
    }

    /// µs on a CPU per request: the loop thread's, and the process's user
    /// and system time (10 ms ticks).
    fn cpu_per_us(&self) -> (f64, f64, f64) {
        let tick_us = 10_000.0;
        (
            self.cpu_ns as f64 / 1000.0 / self.n(),
            self.user as f64 * tick_us / self.n(),
            self.sys as f64 * tick_us / self.n(),
        )
    }
}

/// Runs `f` between two `stats` of `p`, adding what `p` spent to `acc`.
fn measured(
    p: &mut Proc,
    acc: &mut Acc,
    requests: usize,
    f: impl FnOnce() -> Result<Run>,
) -> Result<Run> {
    let before = p.stats()?;
    let own = procs::Cpu::of_self();
    let run = f()?;
    acc.loop_ns += procs::Cpu::of_self().ns.saturating_sub(own.ns);
    let after = p.stats()?;
    if std::env::var_os("LOAD_DEBUG").is_some() {
        eprintln!(
            "run: {requests} requests, {} allocs",
            after.allocs - before.allocs
        );
    }
    acc.add(&before, &after, requests);
    Ok(run)
}

/// One line of the table: ours and its floor, several rounds each.
#[derive(Clone)]
struct Row {
    name: String,
    sizes: String,
    /// Units of work per request (bytes for Block1, 1 otherwise).
    per_req: f64,
    unit: &'static str,
    floor: Vec<Run>,
    ours: Vec<Run>,
    /// The measured process of ours (client, server) and what it spent.
    who: &'static str,
    ours_acc: Acc,
    floor_acc: Acc,
    /// Datagrams each way per request (blocks for Block1).
    exchanges: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn pooled(runs: &[Run]) -> Vec<u64> {
    let mut v: Vec<u64> = runs.iter().flat_map(|r| r.lat_ns.iter().copied()).collect();
    v.sort_unstable();
    v
}

impl Row {
    fn ratio(&self) -> f64 {
        median(
            self.ours
                .iter()
                .zip(&self.floor)
                .map(|(o, f)| o.rate() / f.rate().max(1e-9))
                .collect(),
        )
    }

    fn print(&self) {
        let rate = |runs: &[Run]| median(runs.iter().map(|r| r.rate() * self.per_req).collect());
        let scale = if self.unit == "MiB/s" {
            1.0 / (1024.0 * 1024.0)
        } else {
            1.0
        };
        let lat = |runs: &[Run]| {
            let v = pooled(runs);
            (quantile(&v, 0.5) / 1000.0, quantile(&v, 0.99) / 1000.0)
        };
        let (o50, o99) = lat(&self.ours);
        let (f50, f99) = lat(&self.floor);
        let errors: u64 = self.ours.iter().map(|r| r.errors).sum();
        println!(
            "{:<50} {:>9} {:>9.0} {:>8.1} {:>8.1} | {:>9.0} {:>8.1} {:>8.1} | {:>5.2}{}",
            self.name,
            self.sizes,
            rate(&self.ours) * scale,
            o50,
            o99,
            rate(&self.floor) * scale,
            f50,
            f99,
            self.ratio(),
            if errors > 0 {
                format!("  ({errors} errors!)")
            } else {
                String::new()
            }
        );
    }

    fn print_cpu(&self) {
        let x = self.exchanges.max(1.0);
        let per = |a: &Acc| {
            let (t, u, s) = a.cpu_per_us();
            (t / x, u / x, s / x)
        };
        let lp = |a: &Acc| a.loop_ns as f64 / 1000.0 / a.n() / x;
        let (ot, ou, os) = per(&self.ours_acc);
        let (ft, fu, fs) = per(&self.floor_acc);
        println!(
            "{:<50} {:>6} {:>7.1} {:>6.1}/{:<6.1} {:>6.1} {:>7.3} | {:>7.1} {:>6.1}/{:<6.1} {:>6.1} | {:>5.2}",
            self.name,
            self.who,
            ot,
            ou,
            os,
            lp(&self.ours_acc),
            self.ours_acc.allocs_per().0 / x,
            ft,
            fu,
            fs,
            lp(&self.floor_acc),
            ot / ft.max(1e-9)
        );
    }
}

fn header() {
    println!(
        "{:<50} {:>9} {:>9} {:>8} {:>8} | {:>9} {:>8} {:>8} | {:>5}",
        "case", "req/resp", "rate", "p50 µs", "p99 µs", "floor", "p50 µs", "p99 µs", "ratio"
    );
}

/// What the run found, for the summary against the targets.
#[derive(Default)]
struct Found {
    read_window_ratio: (f64, f64),
    write_ratio: (f64, f64),
    allocs_per_read: (f64, f64),
    notify_p50_us: (f64, f64),
    idle_rss_kib: u64,
}

/// Which side of a case a run is: the floor, ours driven raw, ours driven
/// by the server core (or, for Register, a new sans-IO client).
#[derive(Clone, Copy)]
enum Side {
    Floor,
    Raw,
    Server,
}

/// The three sides of a round, in alternating order so that neither
/// always runs first.
fn order(round: usize) -> [Side; 3] {
    if round.is_multiple_of(2) {
        [Side::Floor, Side::Raw, Side::Server]
    } else {
        [Side::Server, Side::Raw, Side::Floor]
    }
}

fn bench(o: &Opts) -> Result<()> {
    let started = Instant::now();
    println!(
        "lwm2m load benchmark: 127.0.0.1, {} round(s) of each case, ours and the echo floor interleaved",
        o.rounds
    );
    println!(
        "machine: {} CPU(s), load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "\"raw\": prebuilt datagrams from the request loop, as the floor gets them; \
         \"server\": the bundled server's core in the loop's thread.\n"
    );
    let (mut echo, echo_addr) = start_echo(&[])?;
    let mut rig = Rig::start(&[], Duration::from_secs(10))?;
    let mut found = Found::default();

    // Memory of an idle registered client, beside the idle echo process.
    pump(&mut rig.io, &mut rig.srv, Duration::from_millis(300))?;
    let idle = rig.client.stats()?;
    let echo_idle = echo.stats()?;
    found.idle_rss_kib = idle.mem.rss;

    // Reads of /3/0 in TLV.
    let (template, answer) = rig.probe_read()?;
    echo_reply(&mut echo, answer)?;
    let sizes = format!("{}/{}", template.len(), answer);
    let mut mid: u16 = 0x8000;
    // Warm up: the client's bounded caches fill on first use.
    let warm = (o.reads / 10).max(100);
    let mut q = Raw::template(rig.client_addr, mid, Some(Code::CONTENT), template.clone());
    drive(&mut rig.io, &mut q, o.window, warm, STALL)?;
    let mut q = ServerOp::new(&mut rig.srv, &rig.endpoint, read_op());
    drive(&mut rig.io, &mut q, o.window, warm, STALL)?;
    let mut rows = Vec::new();
    for window in [1, o.window] {
        let (mut floor, mut raw, mut server) = (Vec::new(), Vec::new(), Vec::new());
        let (mut floor_acc, mut raw_acc, mut server_acc) =
            (Acc::default(), Acc::default(), Acc::default());
        for round in 0..o.rounds {
            for side in order(round) {
                mid = mid.wrapping_add(o.reads as u16);
                let n = o.reads;
                let (io, srv, ep) = (&mut rig.io, &mut rig.srv, &rig.endpoint);
                match side {
                    Side::Floor => floor.push(measured(&mut echo, &mut floor_acc, n, || {
                        let mut q = Raw::template(echo_addr, mid, None, template.clone());
                        Ok(drive(io, &mut q, window, n, STALL)?)
                    })?),
                    Side::Raw => raw.push(measured(&mut rig.client, &mut raw_acc, n, || {
                        let mut q = Raw::template(
                            rig.client_addr,
                            mid,
                            Some(Code::CONTENT),
                            template.clone(),
                        );
                        Ok(drive(io, &mut q, window, n, STALL)?)
                    })?),
                    Side::Server => {
                        server.push(measured(&mut rig.client, &mut server_acc, n, || {
                            let mut q = ServerOp::new(srv, ep, read_op());
                            Ok(drive(io, &mut q, window, n, STALL)?)
                        })?)
                    }
                }
            }
        }
        for (who, ours, acc) in [("raw", raw, raw_acc), ("server", server, server_acc)] {
            rows.push(Row {
                name: format!("Read /3/0 TLV, {window} in flight ({who})"),
                sizes: sizes.clone(),
                per_req: 1.0,
                unit: "req/s",
                floor: floor.clone(),
                ours,
                who: "client",
                ours_acc: acc,
                floor_acc,
                exchanges: 1.0,
            });
        }
    }
    if let [_, _, r, s, ..] = rows.as_slice() {
        found.read_window_ratio = (r.ratio(), s.ratio());
    }
    let read_allocs = |rows: &[Row], who: &str| {
        let mut a = Acc::default();
        for r in rows
            .iter()
            .filter(|r| r.name.ends_with(&format!("({who})")))
        {
            a.allocs += r.ours_acc.allocs;
            a.bytes += r.ours_acc.bytes;
            a.requests += r.ours_acc.requests;
        }
        a
    };
    let (allocs_raw, allocs_srv) = (read_allocs(&rows, "raw"), read_allocs(&rows, "server"));
    found.allocs_per_read = (allocs_raw.allocs_per().0, allocs_srv.allocs_per().0);

    // A Block1 write to a streaming resource.
    let body: &'static [u8] = Box::leak(
        (0..o.write_bytes)
            .map(|i| (i * 7 + i / 1024) as u8)
            .collect::<Vec<u8>>()
            .into_boxed_slice(),
    );
    let blocks = o.write_bytes.div_ceil(1024) as f64;
    // The Firmware Update object's Package (/5/0/0), then an empty write
    // that makes it Idle again for the next package.
    let sink = "/5/0/0";
    let sink_path = Path::resource(5, 0, 0);
    let write = |bytes: &'static [u8]| Operation::Write {
        path: sink_path,
        replace: true,
        format: Some(Format::Opaque),
        entries: vec![Entry::new(sink_path, Value::Opaque(Cow::Borrowed(bytes)))],
    };
    let write_ops = vec![write(body), write(&[])];
    let mut probe = RawBlock1::new(rig.client_addr, sink, body, 6, false, 0x4000);
    let run = drive(&mut rig.io, &mut probe, 1, 1, STALL)?;
    if run.errors > 0 {
        return Err("the client refused the Block1 write".into());
    }
    echo_reply(&mut echo, probe.sizes.1)?;
    let block_sizes = format!("{}/{}", probe.sizes.0, probe.sizes.1);
    let (mut floor, mut raw, mut server) = (Vec::new(), Vec::new(), Vec::new());
    let (mut floor_acc, mut raw_acc, mut server_acc) =
        (Acc::default(), Acc::default(), Acc::default());
    let mut block_mid: u16 = 0x4000;
    for round in 0..o.rounds {
        for side in order(round) {
            block_mid = block_mid.wrapping_add(4096);
            let n = o.transfers;
            let (io, srv, ep) = (&mut rig.io, &mut rig.srv, &rig.endpoint);
            match side {
                Side::Floor => floor.push(measured(&mut echo, &mut floor_acc, n, || {
                    let mut q = RawBlock1::new(echo_addr, sink, body, 6, true, block_mid);
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
                Side::Raw => raw.push(measured(&mut rig.client, &mut raw_acc, n, || {
                    let mut q = RawBlock1::new(rig.client_addr, sink, body, 6, false, block_mid);
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
                Side::Server => server.push(measured(&mut rig.client, &mut server_acc, n, || {
                    let mut q = ServerOp::sequence(srv, ep, write_ops.clone());
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
            }
        }
    }
    let kib = o.write_bytes / 1024;
    for (who, ours, acc) in [("raw", raw, raw_acc), ("server", server, server_acc)] {
        rows.push(Row {
            name: format!("Block1 {kib} KiB to /5/0/0, 1 KiB blocks ({who})"),
            sizes: block_sizes.clone(),
            per_req: o.write_bytes as f64,
            unit: "MiB/s",
            floor: floor.clone(),
            ours,
            who: "client",
            ours_acc: acc,
            floor_acc,
            exchanges: blocks,
        });
    }
    if let [.., r, s] = rows.as_slice() {
        found.write_ratio = (r.ratio(), s.ratio());
    }

    // Register round trips against a bundled server process.
    rows.extend(registers(o, &mut echo, echo_addr, &mut rig.io)?);

    // Notifications: observe /3/0/9, then let the client time them.
    let notify = notifications(o, &mut rig)?;
    found.notify_p50_us = (notify.0.p50, notify.1.p50);

    // Peak memory, after everything; and references.
    let peak = rig.client.stats()?;
    let echo_peak = echo.stats()?;
    let sleep_rss = sleep_rss();
    let minimal = minimal_rss(&mut rig)?;

    println!(
        "Throughput and latency (rate: median over rounds; p50 / p99 pooled; ratio: ours / floor, median of rounds)"
    );
    header();
    for r in rows.iter().filter(|r| r.unit == "req/s") {
        r.print();
    }
    println!("  (Register: Register + 2.01 per second; floor: the same datagrams to the echo)");
    for r in rows.iter().filter(|r| r.unit == "MiB/s") {
        r.print();
    }
    println!(
        "  (Block1: MiB/s; latency: one whole {kib} KiB transfer and the empty Write that resets the object)\n"
    );

    println!(
        "CPU time per request: the measured process's loop thread on a CPU (µs), its user/sys time (10 ms ticks), the request loop's own (loop); heap allocations of ours"
    );
    println!(
        "{:<50} {:>6} {:>7} {:>13} {:>6} {:>7} | {:>7} {:>13} {:>6} | {:>5}",
        "case",
        "ours",
        "µs",
        "user/sys µs",
        "loop",
        "allocs",
        "echo µs",
        "user/sys µs",
        "loop",
        "ratio"
    );
    for r in &rows {
        r.print_cpu();
    }
    println!("  (Block1: per block; Register: the server process)\n");

    println!("Client process (the std driver's ready-made loop, a process of its own)");
    let (warm_n, idle_n, nsize) = &notify;
    for (label, n) in [("back to back", warm_n), ("100 µs apart", idle_n)] {
        println!(
            "  notification ({label}), notify_changed -> its send returned: p50 {:.1} µs, p99 {:.1} µs | floor (bare send of {nsize} B): p50 {:.1} µs, p99 {:.1} µs | ratio {:.2}; {} of {} sent, {:.2} allocations each",
            n.p50,
            n.p99,
            n.floor_p50,
            n.floor_p99,
            n.p50 / n.floor_p50.max(1e-9),
            n.sent,
            o.notifications,
            n.allocs
        );
    }
    let (ar, br) = allocs_raw.allocs_per();
    let (as_, bs) = allocs_srv.allocs_per();
    println!(
        "  heap allocations per Read (after {} warm-up Reads): {ar:.4} ({br:.1} B) raw, {as_:.4} ({bs:.1} B) server-driven, over {} Reads",
        2 * warm,
        allocs_raw.requests + allocs_srv.requests
    );
    let mem = |m: &procs::Mem| format!("{} KiB (anon {}, file {})", m.rss, m.anon, m.file);
    println!(
        "  RSS idle registered: {} | floor (idle echo process, same binary): {} | difference {} KiB",
        mem(&idle.mem),
        mem(&echo_idle.mem),
        idle.mem.rss as i64 - echo_idle.mem.rss as i64
    );
    println!(
        "  peak RSS (VmHWM) after the run: {} KiB | floor (echo VmHWM): {} KiB | difference {} KiB; client heap live now {} B",
        peak.mem.hwm,
        echo_peak.mem.hwm,
        peak.mem.hwm as i64 - echo_peak.mem.hwm as i64,
        peak.live
    );
    if let Some(m) = sleep_rss {
        println!("  reference: `sleep` (C, glibc), idle: {}", mem(&m));
    }
    match minimal {
        Some(m) => println!(
            "  reference: the lwm2m `minimal` example (a smaller binary), idle registered: {}",
            mem(&m)
        ),
        None => println!(
            "  (build `cargo build --release -p lwm2m --example minimal` to also measure the minimal example's RSS)"
        ),
    }

    if o.fleet > 0 {
        fleet::run(o.fleet)?;
    }

    summary(&found);
    println!("\n(total {:.1} s)", started.elapsed().as_secs_f64());
    rig.client.finish(Duration::from_secs(5))?;
    echo.finish(Duration::from_secs(5))?;
    Ok(())
}

/// RSS of an idle `sleep` process: what any glibc process costs here.
fn sleep_rss() -> Option<procs::Mem> {
    let mut child = std::process::Command::new("sleep")
        .arg("5")
        .stdin(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(100));
    let m = procs::Mem::of_pid(child.id());
    let _ = child.kill();
    let _ = child.wait();
    m
}

/// The `minimal` example's RSS once registered with the server core, if it
/// was built next to this binary.
fn minimal_rss(rig: &mut Rig) -> Result<Option<procs::Mem>> {
    let Some(dir) = std::env::current_exe()?
        .parent()
        .map(|d| d.join("examples"))
    else {
        return Ok(None);
    };
    let exe = dir.join("minimal");
    if !exe.exists() {
        return Ok(None);
    }
    let uri = format!("coap://{}", rig.io.local_addr()?);
    let p = Proc::spawn("minimal", &exe.to_string_lossy(), &[uri])?;
    rig.srv.events.clear();
    let end = Instant::now() + Duration::from_secs(10);
    while !rig
        .srv
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::Registered { endpoint, .. } if endpoint == "minimal-rs"))
    {
        if Instant::now() > end {
            return Err("the minimal example did not register".into());
        }
        pump(&mut rig.io, &mut rig.srv, Duration::from_millis(20))?;
    }
    pump(&mut rig.io, &mut rig.srv, Duration::from_millis(300))?;
    let m = procs::Mem::of_pid(p.id());
    drop(p);
    rig.srv.events.clear();
    Ok(m)
}

/// Register + 2.01 round trips: raw Registers and new sans-IO clients
/// against a bundled server process, each beside the same datagrams
/// echoed.
fn registers(o: &Opts, echo: &mut Proc, echo_addr: SocketAddr, io: &mut Io) -> Result<Vec<Row>> {
    let pool = o.register_pool;
    let max = 2 * pool + 16;
    let mut server = spawn_child(
        "server",
        "child-server",
        &["--max-registrations".to_string(), max.to_string()],
        &[],
    )?;
    let port: u16 = server
        .expect("port ", Duration::from_secs(10))?
        .trim_start_matches("port ")
        .parse()?;
    let server_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut probe = ClientReg::new(server_addr, 1);
    let run = drive(io, &mut probe, 1, 1, STALL)?;
    if run.errors > 0 {
        return Err("the probe client could not register".into());
    }
    let (template, answer) = probe.last.clone();
    echo_reply(echo, answer)?;
    // Raw Registers: the client's datagram with `bench-r<n>` for its name.
    let at = template
        .windows(10)
        .position(|w| w == b"ep=bench-c")
        .ok_or("no ep=bench-c in the Register")?
        + 9;
    let raw_make = move |pool: usize| {
        let t = template.clone();
        move |seq: usize, buf: &mut Vec<u8>| {
            buf.clear();
            buf.extend_from_slice(&t);
            let name = format!("r{:08}", seq % pool);
            if let Some(dst) = buf.get_mut(at..at + 9) {
                dst.copy_from_slice(name.as_bytes());
            }
        }
    };
    let (mut floor, mut raw, mut client) = (Vec::new(), Vec::new(), Vec::new());
    let (mut floor_acc, mut raw_acc, mut client_acc) =
        (Acc::default(), Acc::default(), Acc::default());
    let mut mid: u16 = 0x2000;
    for round in 0..o.rounds {
        for side in order(round) {
            mid = mid.wrapping_add(o.registers as u16);
            let n = o.registers;
            match side {
                Side::Floor => floor.push(measured(echo, &mut floor_acc, n, || {
                    let mut q = Raw::new(echo_addr, mid, None, raw_make(pool));
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
                Side::Raw => raw.push(measured(&mut server, &mut raw_acc, n, || {
                    let mut q = Raw::new(server_addr, mid, Some(Code::CREATED), raw_make(pool));
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
                Side::Server => client.push(measured(&mut server, &mut client_acc, n, || {
                    let mut q = ClientReg::new(server_addr, pool);
                    Ok(drive(io, &mut q, 1, n, STALL)?)
                })?),
            }
        }
    }
    server.finish(Duration::from_secs(5))?;
    let sizes = format!("{}/{}", probe.last.0.len(), answer);
    let row = |name: &str, ours: Vec<Run>, acc: Acc| Row {
        name: name.into(),
        sizes: sizes.clone(),
        per_req: 1.0,
        unit: "req/s",
        floor: floor.clone(),
        ours,
        who: "server",
        ours_acc: acc,
        floor_acc,
        exchanges: 1.0,
    };
    Ok(vec![
        row(
            &format!("Register, {pool} endpoints in turn (raw)"),
            raw,
            raw_acc,
        ),
        row(
            &format!("Register, new sans-IO client each ({pool} names)"),
            client,
            client_acc,
        ),
    ])
}

/// Starts an observation of /3/0/9 by the server core.
pub fn observe(rig: &mut Rig) -> Result<()> {
    let observe = Operation::Observe {
        path: Path::resource(3, 0, 9),
        accept: None,
    };
    let mut q = ServerOp::new(&mut rig.srv, &rig.endpoint, observe);
    let run = drive(&mut rig.io, &mut q, 1, 1, STALL)?;
    if run.errors > 0 {
        return Err("the Observe failed".into());
    }
    Ok(())
}

/// Has the client send `n` timed notifications (floor datagrams of `size`
/// bytes) while the server core takes them; returns the client's report
/// and the size of the last notification.
pub fn notify(
    rig: &mut Rig,
    n: usize,
    size: usize,
    pause_us: u64,
    timeout: Duration,
) -> Result<(String, usize)> {
    let port = rig.io.local_addr()?.port();
    rig.srv.last_rx_len = 0;
    rig.client
        .send(&format!("notify {n} {size} {port} {pause_us}"))?;
    let end = Instant::now() + timeout;
    let line = loop {
        pump(&mut rig.io, &mut rig.srv, Duration::from_millis(10))?;
        if let Some(l) = rig.client.try_expect("notify ") {
            break l;
        }
        if Instant::now() > end {
            return Err("no notification result".into());
        }
    };
    pump(&mut rig.io, &mut rig.srv, Duration::from_millis(20))?;
    rig.srv.events.clear();
    Ok((line, rig.srv.last_rx_len.max(1)))
}

/// A `key=value` number of a child's report line.
pub fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Notification timings (µs) and counts.
struct Notified {
    p50: f64,
    p99: f64,
    floor_p50: f64,
    floor_p99: f64,
    sent: u64,
    allocs: f64,
}

/// Observes /3/0/9 and has the client time `o.notifications`
/// notifications, back to back and 100 µs apart; returns those two and the
/// datagram size.
fn notifications(o: &Opts, rig: &mut Rig) -> Result<(Notified, Notified, usize)> {
    observe(rig)?;
    // A first short pass learns the notification's size.
    let (_, size) = notify(rig, 10, 16, 0, Duration::from_secs(60))?;
    let mut get = |pause: u64| -> Result<Notified> {
        let (l, _) = notify(rig, o.notifications, size, pause, Duration::from_secs(60))?;
        let sent = field(&l, "sent") as u64;
        Ok(Notified {
            p50: field(&l, "p50_ns") / 1000.0,
            p99: field(&l, "p99_ns") / 1000.0,
            floor_p50: field(&l, "floor_p50_ns") / 1000.0,
            floor_p99: field(&l, "floor_p99_ns") / 1000.0,
            sent,
            allocs: field(&l, "allocs") / (sent.max(1) as f64),
        })
    };
    let warm = get(0)?;
    let idle = get(100)?;
    Ok((warm, idle, size))
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn summary(f: &Found) {
    println!("\nTargets (issue 5 item 4)");
    let (raw, srv) = f.read_window_ratio;
    println!(
        "  Reads, 16 in flight >= 0.80 of the echo floor: raw {raw:.2} {}, server {srv:.2} {}",
        verdict(raw >= 0.8),
        verdict(srv >= 0.8)
    );
    let (raw, srv) = f.write_ratio;
    println!(
        "  Block1 write >= 0.80 of the floor's byte rate: raw {raw:.2} {}, server {srv:.2} {}",
        verdict(raw >= 0.8),
        verdict(srv >= 0.8)
    );
    let (raw, srv) = f.allocs_per_read;
    println!(
        "  no heap allocation per Read: raw {raw:.3}, server {srv:.3} {}",
        verdict(raw < 0.01 && srv < 0.01)
    );
    let (warm, idle) = f.notify_p50_us;
    println!(
        "  notification within 10 µs (median): back to back {warm:.1} µs {}, 100 µs apart {idle:.1} µs {}",
        verdict(warm <= 10.0),
        verdict(idle <= 10.0)
    );
    println!(
        "  idle registered client under 1.5 MB RSS: {} KiB = {:.2} MB {}",
        f.idle_rss_kib,
        f.idle_rss_kib as f64 * 1024.0 / 1e6,
        verdict(f.idle_rss_kib as f64 * 1024.0 < 1.5e6)
    );
    println!("  instructions per Read <= 3x the echo floor: see `--callgrind`");
}
