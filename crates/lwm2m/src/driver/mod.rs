//! The std driver: SPEC §1's event-loop API around the sans-IO
//! [`Client`].
//!
//! A [`Driver`] owns the client, one connected UDP socket per server link,
//! the clock and the buffers. It owns no thread and never sleeps on its
//! own: the application drives it, in one of two ways.
//!
//! **The ready-made loop.** [`Driver::event_loop_run`] waits on every
//! socket and the [`Interrupt`] handle for at most `max_wait`, serving what
//! arrives and running jobs when they are due:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use lwm2m::{Driver, Exit};
//!
//! let mut driver = Driver::new(lwm2m::core::config::Config::new("my-device"))?;
//! // ... add the Security and Server objects and the application's own ...
//! let stop = driver.interrupt_handle();
//! signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, stop.try_clone_fd()?)?;
//! while driver.event_loop_run(Duration::from_secs(1))? == Exit::Elapsed {
//!     while let Some(event) = driver.poll_event() {
//!         println!("{event:?}");
//!     }
//! }
//! driver.shutdown(Duration::from_secs(10))?; // De-register
//! # Ok(()) }
//! ```
//!
//! **The application's own loop.** Poll [`Driver::sockets`] for
//! readability with whatever the application already uses (`poll(2)`,
//! `epoll`, `mio`), for at most [`Driver::time_to_next_job`]; then call
//! [`Driver::serve`] for each readable socket and [`Driver::sched_run`].
//! The set of sockets changes as links open and close, so rebuild the poll
//! set from `sockets()` before each wait (with `epoll`, compare the
//! [`LinkId`]s). `examples/own_loop.rs` shows it with `poll(2)`.
//!
//! After every input (`serve`, `sched_run`) the driver drains the core: it
//! opens and closes sockets as [`Event::Open`] and [`Event::Close`] ask,
//! queues every other event for [`Driver::poll_event`], and sends each
//! datagram of [`Client::poll_transmit`] on its link's socket.
//!
//! Two limits to know: a host name in a server URI is resolved with the
//! system resolver when its link opens, which may wait for DNS (IP literals
//! never wait); and a `Driver` is not `Send` (the client holds
//! `dyn Object`s), so a driver meant to run in another thread is built in
//! that thread and only its [`Interrupt`] handle crosses over.
//!
//! Commands made through [`Driver::client_mut`] (or the pass-throughs
//! [`Driver::notify_changed`], [`Driver::add_object`], ...) only record
//! work and make a job due at once; an application with its own loop calls
//! [`Driver::sched_run`] after them (or lets its next wait, bounded by
//! [`Driver::time_to_next_job`], return at once).

mod interrupt;
mod wait;

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::Duration;

use lwm2m_core::client::{Client, ConfigError, Event, LinkId};
use lwm2m_core::config::Config;
use lwm2m_core::dm::{Handle, Object, Oid, Path, RegistryError};
use lwm2m_core::time::Instant;

pub use interrupt::Interrupt;

use crate::clock::Clock;
use crate::net::{self, LinkSocket, Recv};

/// Room for the DTLS record around a CoAP message: the session writes at
/// most `max_message_size + 64` bytes (its MTU); the rest is slack for a
/// server's larger records.
const RECORD_HEADROOM: usize = 256;

/// Events kept for the application; beyond it the oldest is dropped and
/// counted in [`DriverStats::events_dropped`].
const MAX_EVENTS: usize = 256;

/// Datagrams taken from each readable socket per wait of the ready-made loop.
const BURST: usize = 16;

/// Why [`Driver::event_loop_run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// The [`Interrupt`] handle was used.
    Interrupted,
    /// `max_wait` elapsed.
    Elapsed,
}

/// Why a [`Driver`] could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client's configuration is unusable.
    Config(ConfigError),
    /// An object could not be added.
    Registry(RegistryError),
    /// The operating system refused (the interrupt pipe, the entropy
    /// source, waiting).
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "configuration: {e}"),
            Error::Registry(e) => write!(f, "data model: {e}"),
            Error::Io(e) => write!(f, "I/O: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::Config(e)
    }
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Error {
        Error::Registry(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

/// What the driver dropped or gave up on, counted (the core counts its own
/// in [`Client::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverStats {
    /// Datagrams received that filled the whole receive buffer (possibly
    /// truncated by the kernel): dropped unread.
    pub oversized: u64,
    /// Datagrams not sent for a transient reason (full send buffer, an
    /// earlier ICMP error); CoAP retransmits them like lost ones.
    pub send_dropped: u64,
    /// Links reported to the core as failed: resolution, socket set-up, or
    /// a send or receive error.
    pub link_failures: u64,
    /// The error behind the latest link failure.
    pub last_link_error: Option<io::ErrorKind>,
    /// Events the application did not poll in time.
    pub events_dropped: u64,
}

impl DriverStats {
    fn link_failed(&mut self, e: &io::Error) {
        self.link_failures += 1;
        self.last_link_error = Some(e.kind());
    }
}

/// The std driver of an LwM2M [`Client`]: sockets, clock and event loop.
/// See the [module documentation](self) for the two ways to run it.
pub struct Driver {
    client: Client,
    clock: Clock,
    sockets: Vec<LinkSocket>,
    events: VecDeque<Event>,
    interrupt: Interrupt,
    waker: interrupt::Waker,
    /// Transmit buffer: one datagram.
    tx: Vec<u8>,
    /// Receive buffer: one datagram, plus one byte to detect truncation.
    rx: Vec<u8>,
    /// The poll set of the ready-made loop, reused: the interrupt pipe,
    /// then one entry per link of `polled`.
    pollfds: Vec<libc::pollfd>,
    polled: Vec<LinkId>,
    /// Links found readable by the last poll.
    ready: Vec<LinkId>,
    stats: DriverStats,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("client", &self.client)
            .field("sockets", &self.sockets)
            .field("events", &self.events.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver around a new [`Client`] for `config`, its random generator
    /// seeded from the operating system's entropy source. Nothing happens
    /// on the network before the first [`Driver::sched_run`] (or
    /// [`Driver::event_loop_run`]): add the objects first.
    pub fn new(config: Config) -> Result<Driver, Error> {
        let seed =
            getrandom::u64().map_err(|e| io::Error::other(format!("no entropy source: {e}")))?;
        let clock = Clock::new();
        let max = config.limits.coap.max_message_size;
        let client = Client::new(config, clock.now(), seed)?;
        let (interrupt, waker) = interrupt::pair()?;
        Ok(Driver {
            client,
            clock,
            sockets: Vec::new(),
            events: VecDeque::new(),
            interrupt,
            waker,
            tx: vec![0; max.saturating_add(RECORD_HEADROOM)],
            rx: vec![0; max.saturating_add(RECORD_HEADROOM + 1)],
            pollfds: Vec::new(),
            polled: Vec::new(),
            ready: Vec::new(),
            stats: DriverStats::default(),
        })
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client, mutably: for commands the driver does not pass through
    /// ([`Client::send`], [`Client::trigger_update`], the registry). They
    /// only record work; see the module documentation.
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Adds an object ([`Client::add_object`]).
    pub fn add_object<T: Object>(&mut self, obj: T) -> Result<Handle<T>, Error> {
        Ok(self.client.add_object(obj)?)
    }

    /// The object behind `h`.
    pub fn object<T: Object>(&self, h: Handle<T>) -> Option<&T> {
        self.client.object(h)
    }

    /// The object behind `h`, mutably; call [`Driver::notify_changed`] after
    /// changing a value servers may observe.
    pub fn object_mut<T: Object>(&mut self, h: Handle<T>) -> Option<&mut T> {
        self.client.object_mut(h)
    }

    /// Records that the value at `path` changed ([`Client::notify_changed`]);
    /// notifications go out on the next [`Driver::sched_run`].
    pub fn notify_changed(&mut self, path: Path) {
        self.client.notify_changed(path);
    }

    /// Records that instances of `oid` were created or deleted by the
    /// application ([`Client::notify_instances_changed`]).
    pub fn notify_instances_changed(&mut self, oid: Oid) {
        self.client.notify_instances_changed(oid);
    }

    /// A handle that stops [`Driver::event_loop_run`] from another thread
    /// or a signal handler.
    pub fn interrupt_handle(&self) -> Interrupt {
        self.interrupt.clone()
    }

    /// The next event for the application (registration, bootstrap,
    /// persistence requests, Send completions, server writes). Socket
    /// events are handled by the driver and never appear here.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Counters of what the driver dropped.
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// The sockets to poll for readability, one per open link (SPEC §1
    /// `sockets()`): pass the [`LinkId`] to [`Driver::serve`] when its
    /// socket is readable. The set changes as links open and close.
    pub fn sockets(&self) -> impl Iterator<Item = (LinkId, &UdpSocket)> + '_ {
        self.sockets
            .iter()
            .filter(|s| !s.failed)
            .map(|s| (s.link, &s.udp))
    }

    /// Reads at most one datagram from the socket of `link`, hands it to
    /// the core and drains the core's output (SPEC §1 `serve(socket)`).
    /// Never waits: returns `false` at once when nothing was there (or the
    /// link is gone). Call it again while it returns `true` to empty an
    /// edge-triggered socket.
    pub fn serve(&mut self, link: LinkId) -> bool {
        let Some(s) = self
            .sockets
            .iter_mut()
            .find(|s| s.link == link && !s.failed)
        else {
            return false;
        };
        let got = net::recv(&s.udp, &mut self.rx);
        let now = self.clock.now();
        let read = match got {
            Recv::Datagram(n) => {
                let datagram = self.rx.get(..n).unwrap_or(&[]);
                self.client.handle_datagram(now, link, datagram);
                true
            }
            Recv::Oversized => {
                self.stats.oversized += 1;
                true
            }
            Recv::Nothing => false,
            Recv::Failed(e) => {
                s.failed = true;
                self.stats.link_failed(&e);
                self.client.link_failed(now, link);
                false
            }
        };
        self.drain(now);
        read
    }

    /// Runs every job that is due ([`Client::handle_timeout`]) and drains
    /// the core's output (SPEC §1 `sched_run()`). Cheap when nothing is due.
    pub fn sched_run(&mut self) {
        let now = self.clock.now();
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.drain(now);
    }

    /// How long the application may wait before [`Driver::sched_run`] is
    /// due (SPEC §1 `time_to_next_job()`): zero when a job is due now,
    /// `None` when the client has nothing scheduled.
    pub fn time_to_next_job(&self) -> Option<Duration> {
        let now = self.clock.now();
        self.client
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now))
    }

    /// The ready-made loop (SPEC §1 `event_loop_run`): waits on every
    /// socket and the [`Interrupt`] handle for at most
    /// `min(max_wait, time_to_next_job)` at a time, serves each readable
    /// socket (one datagram per socket per wake-up, so one busy server
    /// cannot starve another), runs the jobs that are due, and repeats.
    ///
    /// Returns [`Exit::Interrupted`] as soon as the handle is used (also
    /// when it was used before the call), [`Exit::Elapsed`] once `max_wait`
    /// is over; `max_wait` zero makes one pass without waiting. An error
    /// is the operating system refusing to wait, which should not happen.
    pub fn event_loop_run(&mut self, max_wait: Duration) -> io::Result<Exit> {
        let deadline = self.clock.now() + max_wait;
        self.sched_run();
        loop {
            if self.turn(deadline)? {
                return Ok(Exit::Interrupted);
            }
            if self.clock.now() >= deadline {
                return Ok(Exit::Elapsed);
            }
        }
    }

    /// De-registers from every server ([`Client::deregister`]) and keeps
    /// serving until the client has stopped, `timeout` passes, or the
    /// [`Interrupt`] handle is used (a second Ctrl-C). Returns whether the
    /// client stopped cleanly. The sockets stay open until the driver is
    /// dropped; [`Event::Deregistered`] events wait in
    /// [`Driver::poll_event`].
    pub fn shutdown(&mut self, timeout: Duration) -> io::Result<bool> {
        let deadline = self.clock.now() + timeout;
        self.client.deregister();
        self.sched_run();
        while !self.client.is_stopped() {
            if self.clock.now() >= deadline || self.turn(deadline)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One wait of the ready-made loop: polls until a socket is readable,
    /// the interrupt pipe is, a job is due, or `deadline`; serves, runs
    /// jobs. Returns whether it was interrupted.
    fn turn(&mut self, deadline: Instant) -> io::Result<bool> {
        let now = self.clock.now();
        let mut wait = deadline.saturating_duration_since(now);
        if let Some(job) = self.client.poll_timeout() {
            wait = wait.min(job.saturating_duration_since(now));
        }
        self.pollfds.clear();
        self.polled.clear();
        self.pollfds.push(wait::readable(self.waker.raw_fd()));
        for s in self.sockets.iter().filter(|s| !s.failed) {
            self.pollfds.push(wait::readable(s.udp.as_raw_fd()));
            self.polled.push(s.link);
        }
        wait::poll(&mut self.pollfds, wait)?;
        if self.pollfds.first().is_some_and(wait::is_ready) && self.waker.take() {
            return Ok(true);
        }
        // Under load a readable socket usually holds several datagrams:
        // take up to BURST of them per wait, round-robin over the ready
        // sockets so that no server starves another, instead of paying a
        // poll() for each. `serve` itself still reads one at a time.
        self.ready.clear();
        for i in 0..self.polled.len() {
            let ready = self.pollfds.get(i + 1).is_some_and(wait::is_ready);
            if let (true, Some(&link)) = (ready, self.polled.get(i)) {
                self.ready.push(link);
            }
        }
        for _ in 0..BURST {
            let mut any = false;
            for i in 0..self.ready.len() {
                if let Some(&link) = self.ready.get(i) {
                    any |= self.serve(link);
                }
            }
            if !any {
                break;
            }
        }
        self.sched_run();
        Ok(false)
    }

    /// Drains the core after an input: socket events acted on, other
    /// events queued, every datagram sent on its link's socket.
    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.client.poll_event() {
            match e {
                Event::Open { link, uri } => {
                    self.sockets.retain(|s| s.link != link);
                    match net::open(link, &uri) {
                        Ok(s) => self.sockets.push(s),
                        Err(e) => {
                            self.stats.link_failed(&e);
                            self.client.link_failed(now, link);
                        }
                    }
                }
                Event::Close { link } => self.sockets.retain(|s| s.link != link),
                other => {
                    if self.events.len() >= MAX_EVENTS {
                        self.events.pop_front();
                        self.stats.events_dropped += 1;
                    }
                    self.events.push_back(other);
                }
            }
        }
        while let Some(t) = self.client.poll_transmit(&mut self.tx) {
            let datagram = self.tx.get(..t.len).unwrap_or(&[]);
            // No socket: opening it failed, which the core already knows.
            let Some(s) = self
                .sockets
                .iter_mut()
                .find(|s| s.link == t.link && !s.failed)
            else {
                continue;
            };
            match net::send(&s.udp, datagram) {
                Ok(true) => {}
                Ok(false) => self.stats.send_dropped += 1,
                Err(e) => {
                    s.failed = true;
                    self.stats.link_failed(&e);
                    self.client.link_failed(now, t.link);
                }
            }
        }
    }
}
