//! Shared by the end-to-end tests: the demo client as a child process
//! (always killed when the test ends, pass or fail), its log collected from
//! standard error, and the bundled server on 127.0.0.1 (a free port).
//!
//! Every wait ends when its condition holds or after [`DEADLINE`] (then the
//! test fails saying what it waited for, with the client's log): nothing
//! depends on timing to pass.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use lwm2m_server::ServerEvent;
use lwm2m_server::core::{BootstrapConfig, ClientConfig, ServerConfig};
use lwm2m_server::driver::{ServerHandle, spawn};

/// How long any one expected thing may take: generous, never reached when
/// things work.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_lwm2m-client");

/// A bundled DM server on 127.0.0.1, its handle's calls bounded.
pub fn dm_server() -> ServerHandle {
    spawn(localhost(), ServerConfig::dm())
        .unwrap()
        .with_timeout(DEADLINE)
}

/// A Bootstrap-Server (no DM side) on 127.0.0.1 whose default
/// configuration is one DM server at `dm_uri`.
pub fn bootstrap_server(dm_uri: &str, ssid: u16, lifetime: u32) -> ServerHandle {
    let cfg = BootstrapConfig {
        clients: Default::default(),
        default: Some(ClientConfig::single_server(dm_uri, ssid, lifetime)),
    };
    spawn(localhost(), ServerConfig::bootstrap(cfg))
        .unwrap()
        .with_timeout(DEADLINE)
}

pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `coap://127.0.0.1:PORT` of a server.
pub fn uri(s: &ServerHandle) -> String {
    format!("coap://{}", s.local_addr())
}

/// A fresh directory for one test's files, removed when dropped.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory for one test's files.
pub fn temp_dir(test: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("lwm2m-client-e2e-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// Waits for the next event matching `pick`.
pub fn wait_event<T>(
    events: &Receiver<ServerEvent>,
    what: &str,
    mut pick: impl FnMut(&ServerEvent) -> Option<T>,
) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(e) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
            }
            Err(_) => panic!("no server event: {what}"),
        }
    }
}

/// What a child process wrote, line by line, shared with its reader
/// thread.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Output {
    fn wait_for(&self, needle: &str, what: &str) -> String {
        let end = Instant::now() + DEADLINE;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some(l) = lines.iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no line with {needle:?} in the {what}:\n{}",
                lines.join("\n")
            );
            lines = self.grew.wait_timeout(lines, left).unwrap().0;
        }
    }
}

fn collect(stream: impl Read + Send + 'static, out: Arc<Output>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            out.lines.lock().unwrap().push(line);
            out.grew.notify_all();
        }
    });
}

/// The demo client as a child process; killed on drop.
pub struct Client {
    child: Child,
    stderr: Arc<Output>,
    stdout: Arc<Output>,
    status: Option<ExitStatus>,
}

impl Client {
    /// Starts `lwm2m-client` with `args`.
    pub fn start(args: &[&str]) -> Client {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Output::default());
        let stdout = Arc::new(Output::default());
        collect(child.stderr.take().unwrap(), stderr.clone());
        collect(child.stdout.take().unwrap(), stdout.clone());
        Client {
            child,
            stderr,
            stdout,
            status: None,
        }
    }

    /// Starts a client of `server` (one `--server`) named `ep`, with `more`
    /// options.
    pub fn of(server: &ServerHandle, ep: &str, more: &[&str]) -> Client {
        let u = uri(server);
        let mut args = vec!["--endpoint", ep, "--server", u.as_str()];
        args.extend_from_slice(more);
        Client::start(&args)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log so far (standard error).
    pub fn log(&self) -> String {
        self.stderr.lines.lock().unwrap().join("\n")
    }

    /// Standard output so far.
    pub fn stdout(&self) -> String {
        self.stdout.lines.lock().unwrap().join("\n")
    }

    /// Waits until a log line contains `needle`; returns that line.
    pub fn wait_log(&self, needle: &str) -> String {
        self.stderr.wait_for(needle, "log")
    }

    /// Waits until a line of standard output contains `needle`.
    pub fn wait_stdout(&self, needle: &str) -> String {
        self.stdout.wait_for(needle, "standard output")
    }

    /// Number of log lines containing `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        let lines = self.stderr.lines.lock().unwrap();
        lines.iter().filter(|l| l.contains(needle)).count()
    }

    /// Sends a signal (`INT`, `TERM`, `KILL`).
    pub fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).unwrap();
        rustix::process::kill_process(pid, sig).unwrap();
    }

    /// Waits for the process to end (killing it after [`DEADLINE`]).
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                self.status = Some(s);
                // Let the reader threads take the last lines.
                let _ = self.child.stderr.take();
                return s;
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                panic!("the client did not exit; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        if let Ok(s) = self.child.wait() {
            self.status = Some(s);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.status.is_none() {
            self.kill();
        }
    }
}
