//! The std driver: one UDP socket (IPv4 or IPv6), the clock, and a loop
//! that serves the sans-IO [`Server`]; plus [`ServerHandle`], a thread-safe
//! handle with blocking helpers for tests, benchmarks and the demo.
//!
//! Two ways to run it:
//! - own the loop: [`Driver::bind`], then [`Driver::run_once`] in your loop
//!   (a benchmark that wants no thread hops), reaching the core through
//!   [`Driver::server_mut`];
//! - in a background thread: [`Driver::spawn`] (or [`spawn`]) returns a
//!   [`ServerHandle`]; `handle.read(ep, path, None)` and friends block the
//!   calling thread until the answer (or the handle's timeout).
//!
//! This file holds the crate's only reads of the clock.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{Path, Value};
use lwm2m_core::time::Instant;

use crate::core::{
    BootstrapConfig, BootstrapError, FileSource, Link, ObservationEnd, Operation, Registration,
    ReqId, RequestError, Response, Server, ServerConfig, ServerEvent,
};

/// Where a DTLS layer (`coaps://`) plugs in: it sees every datagram between
/// its socket and the core, keyed by the same peer address as the core's
/// peer table. `crate::dtls::DtlsSessions` is the DTLS one (feature
/// `dtls`); install it with `Driver::bind_secure` (feature `dtls`: a
/// `coaps://` socket beside the `coap://` one)
/// or [`Driver::set_session_hook`] (the only socket speaks DTLS).
pub trait SessionHook: Send {
    /// A datagram from `peer`: writes the CoAP message it carried into
    /// `out` and returns its length, or `None` when it was consumed
    /// (handshake, alert) or refused.
    fn inbound(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
        out: &mut [u8],
    ) -> Option<usize>;
    /// A CoAP message for `peer`: writes the datagram to send into `out`.
    fn outbound(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        message: &[u8],
        out: &mut [u8],
    ) -> Option<usize>;
    /// A datagram of its own (handshake flight, retransmission, alert).
    fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<(SocketAddr, usize)>;
    /// Its next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Runs its timers.
    fn handle_timeout(&mut self, now: Instant);
    /// Whether messages for `peer` go through the hook. With a secure
    /// socket beside the plain one, the core's messages for peers the hook
    /// does not know go out in plain CoAP on the plain socket.
    fn has_peer(&self, peer: SocketAddr) -> bool {
        let _ = peer;
        true
    }
}

/// Files from a directory, for the file server (`--serve-dir`).
#[derive(Clone, Debug)]
pub struct DirFiles(pub PathBuf);

impl FileSource for DirFiles {
    fn load(&mut self, name: &str, max: usize) -> Option<Arc<[u8]>> {
        let path = self.0.join(name);
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > max as u64 {
            return None;
        }
        std::fs::read(path).ok().map(Arc::from)
    }
}

/// The server core on one UDP socket, or on a `coap://` and a `coaps://`
/// socket (`Driver::bind_secure`, feature `dtls`).
pub struct Driver {
    socket: UdpSocket,
    /// The `coaps://` socket, whose datagrams all go through `hook`.
    secure: Option<UdpSocket>,
    server: Server,
    origin: std::time::Instant,
    rx: Vec<u8>,
    tx: Vec<u8>,
    wire: Vec<u8>,
    hook: Option<Box<dyn SessionHook>>,
    /// The socket's read timeout, to skip setting it again (a system call).
    read_timeout: Option<Duration>,
}

impl Driver {
    /// Binds `addr` (port 0 picks a free port; see [`Driver::local_addr`]).
    pub fn bind(addr: SocketAddr, config: ServerConfig, seed: u64) -> io::Result<Driver> {
        let socket = UdpSocket::bind(addr)?;
        let size = config.coap.max_message_size.max(1152) + 64;
        Ok(Driver {
            socket,
            secure: None,
            server: Server::new(config, seed),
            origin: std::time::Instant::now(),
            rx: vec![0; 65_536],
            tx: vec![0; size],
            wire: vec![0; size + 64],
            hook: None,
            read_timeout: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Now, on the core's clock.
    pub fn now(&self) -> Instant {
        let us = self.origin.elapsed().as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// The core.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The core, to send commands; call [`Driver::flush`] after.
    pub fn server_mut(&mut self) -> &mut Server {
        &mut self.server
    }

    /// Installs a session layer (DTLS) between the socket and the core:
    /// every datagram of the socket goes through it.
    pub fn set_session_hook(&mut self, hook: Box<dyn SessionHook>) {
        self.hook = Some(hook);
    }

    /// Adds a `coaps://` socket bound to `addr` (port 0 picks a free port;
    /// see [`Driver::secure_addr`]) whose datagrams go through `hook`
    /// (normally `crate::dtls::DtlsSessions`); the first socket keeps
    /// serving plain `coap://`. One core serves both, so registrations,
    /// commands and events do not care which a client uses. A client must
    /// not use one address for both.
    #[cfg(feature = "dtls")]
    pub fn bind_secure(&mut self, addr: SocketAddr, hook: Box<dyn SessionHook>) -> io::Result<()> {
        let secure = UdpSocket::bind(addr)?;
        secure.set_nonblocking(true)?;
        self.socket.set_nonblocking(true)?;
        self.read_timeout = None;
        self.secure = Some(secure);
        self.hook = Some(hook);
        let size = self.wire.len().max(2048);
        self.wire.resize(size, 0);
        Ok(())
    }

    /// The `coaps://` socket's address, if `Driver::bind_secure` added one.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure.as_ref().and_then(|s| s.local_addr().ok())
    }

    /// Sends everything the core (and the session layer) has to send.
    pub fn flush(&mut self) -> io::Result<()> {
        let now = self.now();
        while let Some((to, n)) = self.server.poll_transmit(now, &mut self.tx) {
            let msg = self.tx.get(..n).unwrap_or(&[]);
            let via_hook = self
                .hook
                .as_ref()
                .is_some_and(|h| self.secure.is_none() || h.has_peer(to));
            let sent = match self.hook.as_mut() {
                Some(h) if via_hook => match h.outbound(now, to, msg, &mut self.wire) {
                    Some(m) => {
                        let socket = self.secure.as_ref().unwrap_or(&self.socket);
                        socket.send_to(self.wire.get(..m).unwrap_or(&[]), to)
                    }
                    None => continue,
                },
                _ => self.socket.send_to(msg, to),
            };
            ignore_transient(sent.map(|_| ()))?;
        }
        if let Some(h) = self.hook.as_mut() {
            let socket = self.secure.as_ref().unwrap_or(&self.socket);
            while let Some((to, n)) = h.poll_transmit(now, &mut self.wire) {
                ignore_transient(
                    socket
                        .send_to(self.wire.get(..n).unwrap_or(&[]), to)
                        .map(|_| ()),
                )?;
            }
        }
        Ok(())
    }

    /// Hands the datagram in `rx[..n]` from `from` to the core, through the
    /// hook when it came on the secure socket (or the hook owns the only
    /// one).
    fn deliver(&mut self, n: usize, from: SocketAddr, secure: bool) {
        if n == 0 {
            return;
        }
        let now = self.now();
        let data = self.rx.get(..n).unwrap_or(&[]);
        let via_hook = secure || self.secure.is_none();
        match self.hook.as_mut() {
            Some(h) if via_hook => {
                if let Some(m) = h.inbound(now, from, data, &mut self.wire) {
                    let msg = self.wire.get(..m).unwrap_or(&[]);
                    self.server.handle_datagram(now, from, msg);
                }
            }
            _ => self.server.handle_datagram(now, from, data),
        }
    }

    /// Waits up to `wait` on both sockets and reads what arrived (one
    /// datagram from each at most). Returns whether any arrived.
    fn receive_two(&mut self, wait: Duration) -> io::Result<bool> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let ready = match &self.secure {
            Some(secure) => {
                let mut fds = [
                    PollFd::new(&self.socket, PollFlags::IN),
                    PollFd::new(secure, PollFlags::IN),
                ];
                let timeout = Timespec::try_from(wait).map_err(io::Error::other)?;
                match poll(&mut fds, Some(&timeout)) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
                let any = PollFlags::IN | PollFlags::ERR | PollFlags::HUP;
                fds.map(|f| f.revents().intersects(any))
            }
            None => return Ok(false),
        };
        let mut got = false;
        for (secure, is_ready) in [(false, ready[0]), (true, ready[1])] {
            if !is_ready {
                continue;
            }
            let socket = match &self.secure {
                Some(s) if secure => s,
                _ => &self.socket,
            };
            match socket.recv_from(&mut self.rx) {
                Ok((n, from)) => {
                    got = true;
                    self.deliver(n, from, secure);
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let a = self.server.poll_timeout();
        let b = self.hook.as_ref().and_then(|h| h.poll_timeout());
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Waits up to `max_wait` for one datagram or the next timer, handles
    /// it, runs due timers and sends what there is to send. Returns whether
    /// a datagram arrived (a zero-length one counts: it is how a
    /// [`ServerHandle`] wakes the loop).
    pub fn run_once(&mut self, max_wait: Duration) -> io::Result<bool> {
        self.flush()?;
        let now = self.now();
        let wait = match self.next_deadline() {
            Some(t) => Duration::from_micros(t.saturating_duration_since(now).as_micros() as u64)
                .min(max_wait),
            None => max_wait,
        };
        let mut got = false;
        if !wait.is_zero() && self.secure.is_some() {
            got = self.receive_two(wait)?;
        } else if !wait.is_zero() {
            if self.read_timeout != Some(wait) {
                self.socket.set_read_timeout(Some(wait))?;
                self.read_timeout = Some(wait);
            }
            match self.socket.recv_from(&mut self.rx) {
                Ok((n, from)) => {
                    got = true;
                    self.deliver(n, from, false);
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let now = self.now();
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        if let Some(h) = self.hook.as_mut()
            && h.poll_timeout().is_some_and(|t| t <= now)
        {
            h.handle_timeout(now);
        }
        self.flush()?;
        Ok(got)
    }

    /// The next event of the core.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.server.poll_event()
    }

    /// Runs the loop in a background thread.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let secure_addr = self.secure_addr();
        let wake_to = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
            }
            _ => addr,
        };
        let waker = UdpSocket::bind(SocketAddr::new(
            if wake_to.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            },
            0,
        ))
        .or_else(|_| UdpSocket::bind(SocketAddr::new(wake_to.ip(), 0)))?;
        let (tx, rx) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("lwm2m-server".into())
            .spawn(move || run_loop(self, rx))?;
        Ok(ServerHandle {
            inner: Arc::new(Inner {
                addr,
                secure_addr,
                tx: Mutex::new(tx),
                waker,
                wake_to,
                thread: Mutex::new(Some(thread)),
            }),
            timeout: Duration::from_secs(30),
        })
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

fn ignore_transient(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e)
            if !is_transient(&e)
                && e.kind() != io::ErrorKind::HostUnreachable
                && e.kind() != io::ErrorKind::NetworkUnreachable =>
        {
            Err(e)
        }
        _ => Ok(()),
    }
}

/// Binds `addr` and runs the server in a background thread.
pub fn spawn(addr: SocketAddr, config: ServerConfig) -> io::Result<ServerHandle> {
    Driver::bind(addr, config, 0x5eed)?.spawn()
}

/// Why a handle call failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerError {
    /// The request failed (client error code, timeout at the CoAP layer...).
    Request(RequestError),
    /// No answer within the handle's timeout.
    Timeout,
    /// The server thread has stopped.
    Stopped,
    /// The answer did not have the expected shape.
    Unexpected(String),
    /// A bootstrap command failed.
    Bootstrap(BootstrapError),
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Request(e) => write!(f, "{e}"),
            ServerError::Timeout => f.write_str("timed out waiting for the answer"),
            ServerError::Stopped => f.write_str("the server has stopped"),
            ServerError::Unexpected(s) => write!(f, "unexpected answer: {s}"),
            ServerError::Bootstrap(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServerError {}

impl From<RequestError> for ServerError {
    fn from(e: RequestError) -> Self {
        ServerError::Request(e)
    }
}

/// What an observation's receiver gets.
#[derive(Clone, Debug, PartialEq)]
pub enum ObserveEvent {
    /// A notification.
    Notify {
        /// Observe sequence number.
        seq: Option<u32>,
        /// Format of the payload.
        format: Format,
        /// The values.
        entries: Vec<Entry<'static>>,
    },
    /// The observation ended; nothing follows.
    Ended(ObservationEnd),
}

/// An established observation.
#[derive(Debug)]
pub struct Observation {
    /// Its handle (for [`ServerHandle::cancel_observation`]).
    pub id: ReqId,
    /// The values of the first response.
    pub initial: Vec<Entry<'static>>,
    /// Notifications, in arrival order.
    pub notifications: Receiver<ObserveEvent>,
}

/// What the loop thread keeps for the handles.
#[derive(Default)]
struct Routes {
    waiters: HashMap<ReqId, Sender<Result<Response, RequestError>>>,
    observers: HashMap<ReqId, Sender<ObserveEvent>>,
    /// Notifications that arrived before the observer was attached.
    early: HashMap<ReqId, Vec<ObserveEvent>>,
    registered: Vec<(String, Sender<Registration>)>,
    deregistered: Vec<(String, Sender<()>)>,
    bootstrapped: Vec<(String, Sender<Result<(), BootstrapError>>)>,
    subscribers: Vec<Sender<ServerEvent>>,
}

/// What a command runs on the loop thread.
pub struct Loop<'a> {
    /// The core.
    pub server: &'a mut Server,
    /// Now.
    pub now: Instant,
    routes: &'a mut Routes,
}

type Command = Box<dyn FnOnce(&mut Loop<'_>) + Send>;

fn run_loop(mut d: Driver, rx: Receiver<Command>) {
    let mut routes = Routes::default();
    loop {
        loop {
            match rx.try_recv() {
                Ok(cmd) => {
                    let now = d.now();
                    cmd(&mut Loop {
                        server: &mut d.server,
                        now,
                        routes: &mut routes,
                    });
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
        while let Some(e) = d.server.poll_event() {
            route(&mut routes, e);
        }
        if d.run_once(Duration::from_millis(500)).is_err() {
            // A socket error other than the transient ones: keep serving
            // after a pause instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
        }
        while let Some(e) = d.server.poll_event() {
            route(&mut routes, e);
        }
        wake_registered(&mut routes, &d.server);
    }
}

/// Removes and returns the waiters for `endpoint`.
fn take_matching<T>(v: &mut Vec<(String, T)>, endpoint: &str) -> Vec<(String, T)> {
    let (hit, keep): (Vec<_>, Vec<_>) = std::mem::take(v)
        .into_iter()
        .partition(|(ep, _)| ep == endpoint);
    *v = keep;
    hit
}

/// Wakes the registration waiters whose endpoint is now registered.
fn wake_registered(r: &mut Routes, server: &Server) {
    if r.registered.is_empty() {
        return;
    }
    for (ep, tx) in std::mem::take(&mut r.registered) {
        match server.registration(&ep) {
            Some(reg) => {
                let _ = tx.send(reg.clone());
            }
            None => r.registered.push((ep, tx)),
        }
    }
}

fn route(r: &mut Routes, e: ServerEvent) {
    match &e {
        ServerEvent::Response {
            request, result, ..
        } => {
            if let Some(tx) = r.waiters.remove(request) {
                let _ = tx.send(result.clone());
            }
        }
        ServerEvent::Notification {
            observation,
            seq,
            format,
            entries,
            ..
        } => {
            let n = ObserveEvent::Notify {
                seq: *seq,
                format: *format,
                entries: entries.clone(),
            };
            match r.observers.get(observation) {
                Some(tx) => {
                    let _ = tx.send(n);
                }
                None => {
                    let q = r.early.entry(*observation).or_default();
                    if q.len() < 64 {
                        q.push(n);
                    }
                }
            }
        }
        ServerEvent::ObservationEnded {
            observation,
            reason,
            ..
        } => {
            if let Some(tx) = r.observers.remove(observation) {
                let _ = tx.send(ObserveEvent::Ended(*reason));
            }
            r.early.remove(observation);
        }
        ServerEvent::Deregistered { endpoint, .. } => {
            for (_, tx) in take_matching(&mut r.deregistered, endpoint) {
                let _ = tx.send(());
            }
        }
        ServerEvent::BootstrapFinished { endpoint, result } => {
            for (_, tx) in take_matching(&mut r.bootstrapped, endpoint) {
                let _ = tx.send(result.clone());
            }
        }
        _ => {}
    }
    r.subscribers.retain(|tx| tx.send(e.clone()).is_ok());
}

struct Inner {
    addr: SocketAddr,
    secure_addr: Option<SocketAddr>,
    tx: Mutex<Sender<Command>>,
    waker: UdpSocket,
    wake_to: SocketAddr,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping the sender ends the loop at its next wake-up.
        if let Ok(mut tx) = self.tx.lock() {
            let (dead, _) = mpsc::channel();
            *tx = dead;
        }
        let _ = self.waker.send_to(&[], self.wake_to);
        if let Ok(mut t) = self.thread.lock()
            && let Some(t) = t.take()
        {
            let _ = t.join();
        }
    }
}

/// A handle on a server running in a background thread; cheap to clone.
/// The server stops when the last handle is dropped (or on
/// [`ServerHandle::shutdown`]).
#[derive(Clone)]
pub struct ServerHandle {
    inner: Arc<Inner>,
    timeout: Duration,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.inner.addr)
            .finish()
    }
}

impl ServerHandle {
    /// The server's bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The `coaps://` socket's address, if the driver had one
    /// (`Driver::bind_secure`).
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.inner.secure_addr
    }

    /// A handle whose blocking calls wait at most `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> ServerHandle {
        ServerHandle {
            inner: self.inner.clone(),
            timeout,
        }
    }

    /// Runs `f` on the server thread and returns its result.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Loop<'_>) -> R + Send + 'static,
    ) -> Result<R, ServerError> {
        let (tx, rx) = mpsc::channel();
        self.post(Box::new(move |l: &mut Loop<'_>| {
            let _ = tx.send(f(l));
        }))?;
        rx.recv_timeout(self.timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => ServerError::Timeout,
            RecvTimeoutError::Disconnected => ServerError::Stopped,
        })
    }

    fn post(&self, cmd: Command) -> Result<(), ServerError> {
        self.inner
            .tx
            .lock()
            .map_err(|_| ServerError::Stopped)?
            .send(cmd)
            .map_err(|_| ServerError::Stopped)?;
        let _ = self.inner.waker.send_to(&[], self.inner.wake_to);
        Ok(())
    }

    fn wait<T>(&self, rx: &Receiver<T>) -> Result<T, ServerError> {
        rx.recv_timeout(self.timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => ServerError::Timeout,
            RecvTimeoutError::Disconnected => ServerError::Stopped,
        })
    }

    /// Stops the server thread and waits for it.
    pub fn shutdown(&self) {
        if let Ok(mut tx) = self.inner.tx.lock() {
            let (dead, _) = mpsc::channel();
            *tx = dead;
        }
        let _ = self.inner.waker.send_to(&[], self.inner.wake_to);
        if let Ok(mut t) = self.inner.thread.lock()
            && let Some(t) = t.take()
        {
            let _ = t.join();
        }
    }

    /// Every event from now on (for logs and the CLI).
    pub fn subscribe(&self) -> Result<Receiver<ServerEvent>, ServerError> {
        let (tx, rx) = mpsc::channel();
        self.call(move |l| l.routes.subscribers.push(tx))?;
        Ok(rx)
    }

    /// The registration of `endpoint` now.
    pub fn registration(&self, endpoint: &str) -> Result<Option<Registration>, ServerError> {
        let ep = endpoint.to_string();
        self.call(move |l| l.server.registration(&ep).cloned())
    }

    /// Every registration now, sorted by endpoint name.
    pub fn registrations(&self) -> Result<Vec<Registration>, ServerError> {
        self.call(|l| {
            let mut v: Vec<Registration> = l.server.registrations().cloned().collect();
            v.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
            v
        })
    }

    /// Waits until `endpoint` is registered (returns at once if it is).
    pub fn wait_for_registration(
        &self,
        endpoint: &str,
        timeout: Duration,
    ) -> Result<Registration, ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        self.call(move |l| match l.server.registration(&ep) {
            Some(r) => {
                let _ = tx.send(r.clone());
            }
            None => l.routes.registered.push((ep, tx)),
        })?;
        // Registrations are announced by the event router below.
        self.with_timeout(timeout).wait(&rx)
    }

    /// Waits until `endpoint` is no longer registered.
    pub fn wait_for_deregistration(
        &self,
        endpoint: &str,
        timeout: Duration,
    ) -> Result<(), ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        self.call(move |l| match l.server.registration(&ep) {
            None => {
                let _ = tx.send(());
            }
            Some(_) => l.routes.deregistered.push((ep, tx)),
        })?;
        self.with_timeout(timeout).wait(&rx)
    }

    /// Sends `op` to `endpoint` and waits for the response.
    pub fn request(&self, endpoint: &str, op: Operation) -> Result<Response, ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        let id = self.call(move |l| {
            let id = l.server.request(l.now, &ep, op)?;
            l.routes.waiters.insert(id, tx);
            Ok::<ReqId, RequestError>(id)
        })??;
        let _ = id;
        Ok(self.wait(&rx)??)
    }

    /// Reads `path` (Core 1.1 §6.3), asking for `format` if given.
    pub fn read(
        &self,
        endpoint: &str,
        path: Path,
        format: Option<Format>,
    ) -> Result<Vec<Entry<'static>>, ServerError> {
        let r = self.request(
            endpoint,
            Operation::Read {
                path,
                accept: format,
            },
        )?;
        Ok(entries_of(r))
    }

    /// Reads several paths at once (Read-Composite, SenML CBOR request).
    pub fn read_composite(
        &self,
        endpoint: &str,
        paths: Vec<Path>,
        format: Option<Format>,
    ) -> Result<Vec<Entry<'static>>, ServerError> {
        let r = self.request(
            endpoint,
            Operation::ReadComposite {
                paths,
                request_format: Format::SenmlCbor,
                accept: format,
            },
        )?;
        Ok(entries_of(r))
    }

    /// Writes one value to a resource (replace), in `format` or the default.
    pub fn write(
        &self,
        endpoint: &str,
        path: Path,
        value: Value<'static>,
        format: Option<Format>,
    ) -> Result<(), ServerError> {
        self.write_entries(endpoint, path, true, vec![Entry::new(path, value)], format)
    }

    /// Writes values under `path`: replace (PUT) or partial update (POST).
    pub fn write_entries(
        &self,
        endpoint: &str,
        path: Path,
        replace: bool,
        entries: Vec<Entry<'static>>,
        format: Option<Format>,
    ) -> Result<(), ServerError> {
        self.request(
            endpoint,
            Operation::Write {
                path,
                replace,
                format,
                entries,
            },
        )?;
        Ok(())
    }

    /// Executes a resource with optional arguments.
    pub fn execute(
        &self,
        endpoint: &str,
        path: Path,
        args: Option<&str>,
    ) -> Result<(), ServerError> {
        self.request(
            endpoint,
            Operation::Execute {
                path,
                args: args.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// Creates an instance; returns its path when the client said.
    pub fn create(
        &self,
        endpoint: &str,
        path: Path,
        entries: Vec<Entry<'static>>,
        format: Option<Format>,
    ) -> Result<Option<Path>, ServerError> {
        let r = self.request(
            endpoint,
            Operation::Create {
                path,
                format,
                entries,
            },
        )?;
        match r.body {
            crate::core::Body::Created(p) => Ok(p),
            other => Err(ServerError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Deletes an instance.
    pub fn delete(&self, endpoint: &str, path: Path) -> Result<(), ServerError> {
        self.request(endpoint, Operation::Delete { path })?;
        Ok(())
    }

    /// Discovers `path`.
    pub fn discover(&self, endpoint: &str, path: Path) -> Result<Vec<Link>, ServerError> {
        match self
            .request(endpoint, Operation::Discover { path, depth: None })?
            .body
        {
            crate::core::Body::Links(l) => Ok(l),
            other => Err(ServerError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Write-Attributes (`pmin=10&pmax=60`).
    pub fn write_attributes(
        &self,
        endpoint: &str,
        path: Path,
        attributes: &str,
    ) -> Result<(), ServerError> {
        let attributes = crate::core::Attributes::parse(attributes)
            .map_err(|e| ServerError::Request(RequestError::Invalid(e.0)))?;
        self.request(endpoint, Operation::WriteAttributes { path, attributes })?;
        Ok(())
    }

    /// Observes `path`: the first values and a receiver of notifications.
    pub fn observe(
        &self,
        endpoint: &str,
        path: Path,
        format: Option<Format>,
    ) -> Result<Observation, ServerError> {
        self.observe_op(
            endpoint,
            Operation::Observe {
                path,
                accept: format,
            },
        )
    }

    /// Observes several paths at once (Observe-Composite).
    pub fn observe_composite(
        &self,
        endpoint: &str,
        paths: Vec<Path>,
        format: Option<Format>,
    ) -> Result<Observation, ServerError> {
        self.observe_op(
            endpoint,
            Operation::ObserveComposite {
                paths,
                request_format: Format::SenmlCbor,
                accept: format,
            },
        )
    }

    fn observe_op(&self, endpoint: &str, op: Operation) -> Result<Observation, ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        let id = self.call(move |l| {
            let id = l.server.request(l.now, &ep, op)?;
            l.routes.waiters.insert(id, tx);
            Ok::<ReqId, RequestError>(id)
        })??;
        let r = self.wait(&rx)??;
        let ep = endpoint.to_string();
        let (ntx, nrx) = mpsc::channel();
        let established = self.call(move |l| {
            let live = l.server.observations_of(&ep).iter().any(|(o, _)| *o == id);
            if live {
                for n in l.routes.early.remove(&id).unwrap_or_default() {
                    let _ = ntx.send(n);
                }
                l.routes.observers.insert(id, ntx);
            }
            live
        })?;
        if !established {
            return Err(ServerError::Unexpected(
                "the client answered without Observe".into(),
            ));
        }
        Ok(Observation {
            id,
            initial: entries_of(r),
            notifications: nrx,
        })
    }

    /// Ends an observation: `active` sends Observe=1 (and waits for its
    /// answer), otherwise it is forgotten (the next notification is reset).
    pub fn cancel_observation(&self, observation: ReqId, active: bool) -> Result<(), ServerError> {
        let (tx, rx) = mpsc::channel();
        let sent = self.call(move |l| {
            let id = l.server.cancel_observation(l.now, observation, active)?;
            if let Some(id) = id {
                l.routes.waiters.insert(id, tx);
            }
            Ok::<bool, RequestError>(id.is_some())
        })??;
        if sent {
            self.wait(&rx)??;
        }
        Ok(())
    }

    /// Replaces the bootstrap configuration.
    pub fn set_bootstrap_config(&self, config: BootstrapConfig) -> Result<(), ServerError> {
        self.call(move |l| l.server.set_bootstrap_config(config))
    }

    /// Replaces the file server's source.
    pub fn set_file_source(&self, source: Box<dyn FileSource>) -> Result<(), ServerError> {
        self.call(move |l| l.server.set_file_source(source))
    }

    /// Waits until the bootstrap session of `endpoint` ends (registers
    /// the waiter first: call it before the client starts).
    pub fn bootstrap_waiter(
        &self,
        endpoint: &str,
    ) -> Result<Receiver<Result<(), BootstrapError>>, ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        self.call(move |l| l.routes.bootstrapped.push((ep, tx)))?;
        Ok(rx)
    }

    /// Server-initiated bootstrap of `endpoint` at `peer`; waits for the end.
    pub fn bootstrap(&self, endpoint: &str, peer: SocketAddr) -> Result<(), ServerError> {
        let rx = self.bootstrap_waiter(endpoint)?;
        let ep = endpoint.to_string();
        self.call(move |l| l.server.start_bootstrap(l.now, &ep, peer))?
            .map_err(ServerError::Bootstrap)?;
        self.wait(&rx)?.map_err(ServerError::Bootstrap)
    }

    /// Executes the Bootstrap-Request Trigger of a registered client.
    pub fn trigger_bootstrap(&self, endpoint: &str) -> Result<(), ServerError> {
        let (tx, rx) = mpsc::channel();
        let ep = endpoint.to_string();
        self.call(move |l| {
            let id = l.server.trigger_bootstrap(l.now, &ep)?;
            l.routes.waiters.insert(id, tx);
            Ok::<(), RequestError>(())
        })??;
        self.wait(&rx)??;
        Ok(())
    }
}

impl Loop<'_> {
    /// Registers a waiter for the response to `id` (for commands that
    /// submit through [`Loop::server`] directly).
    pub fn on_response(&mut self, id: ReqId) -> Receiver<Result<Response, RequestError>> {
        let (tx, rx) = mpsc::channel();
        self.routes.waiters.insert(id, tx);
        rx
    }
}

fn entries_of(r: Response) -> Vec<Entry<'static>> {
    match r.body {
        crate::core::Body::Entries { entries, .. } => entries,
        _ => Vec::new(),
    }
}
