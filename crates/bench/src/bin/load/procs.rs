//! Child processes and what they report: the protocol between the
//! benchmark (parent) and the processes it measures (children).
//!
//! The parent writes one command per line on a child's stdin; the child
//! answers with one line on stdout. A child exits as soon as its stdin
//! closes, so a parent that dies takes its children with it.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use stats_alloc::Stats;

/// Memory figures of `/proc/self/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mem {
    /// Resident set size.
    pub rss: u64,
    /// Peak resident set size.
    pub hwm: u64,
    /// Resident anonymous memory (heap, stacks).
    pub anon: u64,
    /// Resident file mappings (the binary, shared libraries).
    pub file: u64,
}

impl Mem {
    /// This process's figures (zeros where `/proc` is missing).
    pub fn of_self() -> Mem {
        Mem::parse(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
    }

    /// Process `pid`'s figures, if it exists.
    pub fn of_pid(pid: u32) -> Option<Mem> {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .map(|s| Mem::parse(&s))
    }

    fn parse(status: &str) -> Mem {
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Mem {
            rss: field("VmRSS:"),
            hwm: field("VmHWM:"),
            anon: field("RssAnon:"),
            file: field("RssFile:"),
        }
    }
}

/// CPU time of this process: the main thread's time on a CPU (ns, from
/// `/proc/self/schedstat`), and the process's user and system time (clock
/// ticks, from `/proc/self/stat`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// Main thread on a CPU, ns.
    pub ns: u64,
    /// User time, ticks.
    pub user: u64,
    /// System time, ticks.
    pub sys: u64,
}

impl Cpu {
    /// This process's figures (zeros where `/proc` is missing).
    pub fn of_self() -> Cpu {
        Cpu::parse(
            &std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default(),
            &std::fs::read_to_string("/proc/self/stat").unwrap_or_default(),
        )
    }

    fn parse(sched: &str, stat: &str) -> Cpu {
        // Fields after the command name, which may hold spaces: state is
        // field 3, utime 14, stime 15.
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let mut f = after.split_whitespace().skip(11);
        let mut next = || f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        let (user, sys) = (next(), next());
        Cpu {
            ns: sched
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            user,
            sys,
        }
    }
}

/// One `stats` answer: heap counters, memory and CPU time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    /// Heap allocations so far (reallocations included).
    pub allocs: u64,
    /// Bytes allocated so far.
    pub bytes: u64,
    /// Heap bytes live now.
    pub live: i64,
    /// Memory figures.
    pub mem: Mem,
    /// CPU time.
    pub cpu: Cpu,
}

impl Report {
    /// The answer line.
    pub fn line(&self) -> String {
        let (m, c) = (&self.mem, &self.cpu);
        format!(
            "stats allocs={} bytes={} live={} rss={} hwm={} anon={} file={} cpu_ns={} user={} sys={}",
            self.allocs, self.bytes, self.live, m.rss, m.hwm, m.anon, m.file, c.ns, c.user, c.sys
        )
    }

    /// Heap counters of `s` (allocations count reallocations), less what
    /// `own` says the reports themselves did.
    pub fn heap(s: &Stats, own: &Stats) -> Report {
        let total = |s: &Stats| (s.allocations + s.reallocations) as u64;
        let live = |s: &Stats| {
            s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
        };
        Report {
            allocs: total(s).saturating_sub(total(own)),
            bytes: (s.bytes_allocated as u64).saturating_sub(own.bytes_allocated as u64),
            live: live(s) - live(own),
            ..Report::default()
        }
    }

    /// Parses a `stats` line.
    pub fn parse(line: &str) -> Option<Report> {
        let mut r = Report::default();
        for kv in line.strip_prefix("stats ")?.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            match k {
                "allocs" => r.allocs = v.parse().ok()?,
                "bytes" => r.bytes = v.parse().ok()?,
                "live" => r.live = v.parse().ok()?,
                "rss" => r.mem.rss = v.parse().ok()?,
                "hwm" => r.mem.hwm = v.parse().ok()?,
                "anon" => r.mem.anon = v.parse().ok()?,
                "file" => r.mem.file = v.parse().ok()?,
                "cpu_ns" => r.cpu.ns = v.parse().ok()?,
                "user" => r.cpu.user = v.parse().ok()?,
                "sys" => r.cpu.sys = v.parse().ok()?,
                _ => {}
            }
        }
        Some(r)
    }
}

/// A child process of this benchmark, seen from the parent.
pub struct Proc {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Proc {
    /// Starts `program args...` with piped stdin / stdout.
    pub fn spawn(name: &'static str, program: &str, args: &[String]) -> io::Result<Proc> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Proc {
            name,
            child,
            stdin,
            lines,
        })
    }

    /// The same binary as this one, in child mode `mode`.
    pub fn spawn_self(name: &'static str, mode: &str, args: &[String]) -> io::Result<Proc> {
        let exe = std::env::current_exe()?;
        let mut all = vec![mode.to_string()];
        all.extend_from_slice(args);
        Proc::spawn(name, &exe.to_string_lossy(), &all)
    }

    /// Sends one command line.
    pub fn send(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("stdin closed"))?;
        writeln!(stdin, "{line}")?;
        stdin.flush()
    }

    /// The next line starting with `prefix` within `timeout` (other lines
    /// are printed, as diagnostics).
    pub fn expect(&mut self, prefix: &str, timeout: Duration) -> io::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Ok(l),
                Ok(l) => eprintln!("[{}] {l}", self.name),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{}: no `{prefix}` line within {timeout:?}", self.name),
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(io::Error::other(format!(
                        "{}: exited before `{prefix}`",
                        self.name
                    )));
                }
            }
        }
    }

    /// A line starting with `prefix` if one has arrived (without waiting).
    pub fn try_expect(&mut self, prefix: &str) -> Option<String> {
        while let Ok(l) = self.lines.try_recv() {
            if l.starts_with(prefix) {
                return Some(l);
            }
            eprintln!("[{}] {l}", self.name);
        }
        None
    }

    /// Asks for and parses a `stats` line.
    pub fn stats(&mut self) -> io::Result<Report> {
        self.send("stats")?;
        let l = self.expect("stats ", Duration::from_secs(30))?;
        Report::parse(&l).ok_or_else(|| io::Error::other(format!("bad stats line: {l}")))
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Closes stdin (the child exits) and waits up to `timeout` for it,
    /// killing it after that.
    pub fn finish(mut self, timeout: Duration) -> io::Result<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + timeout;
        loop {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.child.kill()?;
                self.child.wait()?;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} did not exit; killed", self.name),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if matches!(self.child.try_wait(), Ok(None)) {
            // Give it a moment to exit on the closed stdin, then make sure.
            std::thread::sleep(Duration::from_millis(50));
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_line_round_trips() {
        let r = Report {
            allocs: 7,
            bytes: 1024,
            live: -3,
            mem: Mem {
                rss: 3000,
                hwm: 3100,
                anon: 240,
                file: 2760,
            },
            cpu: Cpu {
                ns: 123_456_789,
                user: 4,
                sys: 9,
            },
        };
        let back = Report::parse(&r.line()).unwrap();
        assert_eq!(back.line(), r.line());
        assert_eq!((back.allocs, back.mem.hwm, back.cpu.sys), (7, 3100, 9));
        assert!(Report::parse("notify sent=1").is_none());
    }

    #[test]
    fn heap_counts_leave_out_own_activity() {
        let s = |a, r, b, d| Stats {
            allocations: a,
            deallocations: d,
            reallocations: r,
            bytes_allocated: b,
            bytes_deallocated: d * 10,
            bytes_reallocated: 0,
        };
        let h = Report::heap(&s(100, 20, 5000, 50), &s(30, 15, 900, 40));
        // Reallocations count as allocations; the reports' own are left out.
        assert_eq!((h.allocs, h.bytes), (75, 4100));
        assert_eq!(h.live, (5000 - 500) - (900 - 400));
    }

    #[test]
    fn proc_status_and_stat_are_parsed() {
        let m = Mem::parse(
            "Name:\tload\nVmHWM:\t    3096 kB\nVmRSS:\t    3072 kB\nRssAnon:\t     244 kB\nRssFile:\t    2828 kB\n",
        );
        assert_eq!((m.rss, m.hwm, m.anon, m.file), (3072, 3096, 244, 2828));
        // The command name may hold spaces and parentheses.
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0";
        let c = Cpu::parse("987654 111 3\n", stat);
        assert_eq!((c.ns, c.user, c.sys), (987_654, 17, 5));
    }
}
