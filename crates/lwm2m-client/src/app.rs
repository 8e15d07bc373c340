//! Running the client: the driver with the demo's objects, the
//! application's own `poll(2)` loop, the log, the state file, signals, and
//! the in-process restarts that Reboot and Factory Reset ask for.
//!
//! The loop is the driver's "own loop" shape (`lwm2m` crate docs): wait on
//! the stop pipe and every link socket for at most the driver's
//! `time_to_next_job` (and the sensor's next step), then move the
//! simulation on, serve each readable socket once, run the due jobs, and
//! act on the events. Owning the loop lets the client peek each request to
//! log it before the driver serves it.

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use lwm2m::Driver;
use lwm2m::core::client::{Event, LinkId, uri};
use lwm2m::core::config::Config;
use lwm2m::core::dm::{Interface, ObjectEvent};
use lwm2m::core::objects::firmware::FirmwareEvent;
use lwm2m::core::objects::security;
use lwm2m::persist::StateFile;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use signal_hook::SigId;
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::cli::Options;
use crate::clock::Clock;
use crate::log::{Log, describe_request, failure};
use crate::objects::{self, Factory, Handles};
use crate::say;
use crate::state;
use crate::stop::StopPipe;

/// How long a stopping client waits for its De-registers.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The loop wakes at least this often (Current Time and Timestamp follow
/// the clock).
const MAX_WAIT: Duration = Duration::from_secs(1);
/// Bytes peeked from a datagram to log it (the options and the start of
/// the payload are enough).
const PEEK_BYTES: usize = 512;

/// Why a session's loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Stop: de-register and exit.
    Stopped,
    /// Reboot (from the state file) or Factory Reset (from the factory
    /// configuration): de-register and start again.
    Restart { factory: bool },
}

/// The factory configuration the options describe.
pub fn factory(o: &Options) -> Factory {
    Factory {
        servers: o.servers.clone(),
        bootstrap: o.bootstrap,
        lifetime: o.lifetime,
        binding: o.binding.clone(),
        dtls: o.dtls.clone(),
    }
}

/// Runs the client until `stop`: registers, serves, restarts on Reboot and
/// Factory Reset, de-registers. An error is a set-up failure, in one line.
pub fn run(o: &Options, stop: &StopPipe, log: Log, clock: Clock) -> Result<(), String> {
    let factory = factory(o);
    let mut from_factory = false;
    loop {
        let mut s = Session::start(o, &factory, from_factory, log, clock)
            .map_err(|e| format!("cannot start the client: {e}"))?;
        let end = s.run(stop).map_err(|e| format!("waiting failed: {e}"))?;
        s.shutdown();
        match end {
            Ending::Stopped => return Ok(()),
            Ending::Restart { factory } => from_factory = factory,
        }
    }
}

/// One life of the client, from start to de-registration.
struct Session {
    driver: Driver,
    objects: Handles,
    state: Option<StateFile>,
    log: Log,
    clock: Clock,
    /// Notifications sent, as last logged.
    notified: u64,
    /// Firmware download progress as last logged (tenths, or 64 KiB).
    progress: std::cell::Cell<u64>,
    peek: Vec<u8>,
}

impl Session {
    fn start(
        o: &Options,
        factory: &Factory,
        from_factory: bool,
        log: Log,
        clock: Clock,
    ) -> Result<Session, lwm2m::Error> {
        let mut config = Config::new(&o.endpoint);
        config.version = o.version;
        // coaps:// accounts (from the options, the state file or a
        // Bootstrap-Server) handshake through OpenSSL. Without the `dtls`
        // feature they fail as unsupported (`Event::SessionFailed`).
        #[cfg(feature = "dtls")]
        {
            config.sessions = Some(std::sync::Arc::new(lwm2m::dtls::OpenSslFactory::new()));
        }
        let mut driver = Driver::new(config)?;
        let objects = objects::install(&mut driver, factory, &o.endpoint, o.seed, o.sensor_period)?;
        let state = o.state_file.as_ref().map(StateFile::new);
        if let Some(file) = &state {
            if from_factory {
                state::save(&driver, file, &log);
            } else {
                state::restore(&mut driver, file, &log);
            }
        }
        let s = Session {
            driver,
            objects,
            state,
            log,
            clock,
            notified: 0,
            progress: std::cell::Cell::new(u64::MAX),
            peek: vec![0; PEEK_BYTES],
        };
        s.say_accounts(&o.endpoint, o.version.as_str());
        Ok(s)
    }

    fn say_accounts(&self, endpoint: &str, version: &str) {
        let reg = self.driver.client().registry();
        let servers = security::endpoints(reg).filter(|e| !e.bootstrap).count();
        for e in security::endpoints(reg) {
            match (e.bootstrap, e.ssid) {
                (true, _) if servers == 0 => say!(
                    self.log,
                    "{endpoint}: LwM2M {version}, bootstrapping from {}",
                    e.uri
                ),
                (true, _) => say!(self.log, "{endpoint}: Bootstrap-Server at {}", e.uri),
                (false, ssid) => say!(
                    self.log,
                    "{endpoint}: LwM2M {version}, registering with server {} at {}",
                    ssid.unwrap_or(0),
                    e.uri
                ),
            }
        }
        if security::endpoints(reg).next().is_none() {
            say!(self.log, "{endpoint}: no server configured; waiting");
        }
    }

    /// The loop; returns why it ended.
    fn run(&mut self, stop: &StopPipe) -> io::Result<Ending> {
        loop {
            let elapsed = self.clock.elapsed();
            let step = self
                .driver
                .object(self.objects.temperature)
                .map_or(MAX_WAIT, |t| t.until_next_step(elapsed));
            let wait = self
                .driver
                .time_to_next_job()
                .map_or(MAX_WAIT, |d| d.min(MAX_WAIT))
                .min(step);
            let ready = self.wait(stop, wait)?;
            if stop.take() {
                return Ok(Ending::Stopped);
            }
            self.tick();
            for link in ready {
                self.log_request(link);
                self.driver.serve(link);
            }
            // Executes may have changed values (Increment Counter, Reset
            // Min/Max): notify before the jobs run.
            self.tick();
            self.driver.sched_run();
            if let Some(end) = self.events() {
                return Ok(end);
            }
            self.log_notifications();
        }
    }

    /// Waits for the stop pipe, a socket or `wait`; returns the links whose
    /// socket is readable.
    fn wait(&self, stop: &StopPipe, wait: Duration) -> io::Result<Vec<LinkId>> {
        let mut fds = vec![PollFd::new(stop, PollFlags::IN)];
        let mut links = Vec::new();
        for (link, socket) in self.driver.sockets() {
            fds.push(PollFd::new(socket, PollFlags::IN));
            links.push(link);
        }
        let timeout = Timespec::try_from(wait).map_err(io::Error::other)?;
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(links
            .into_iter()
            .zip(fds.iter().skip(1))
            .filter(|(_, f)| !f.revents().is_empty())
            .map(|(l, _)| l)
            .collect())
    }

    /// Moves the clock-driven values on and notifies what changed.
    fn tick(&mut self) {
        let (unix, elapsed) = (self.clock.unix(), self.clock.elapsed());
        let mut changed = Vec::new();
        objects::tick(&mut self.driver, &self.objects, unix, elapsed, &mut |p| {
            changed.push(p)
        });
        for p in changed {
            self.driver.notify_changed(p);
        }
    }

    /// Logs the request waiting on `link`'s socket, if it is one.
    fn log_request(&mut self, link: LinkId) {
        let Some((_, socket)) = self.driver.sockets().find(|(l, _)| *l == link) else {
            return;
        };
        let Ok(n) = socket.peek(&mut self.peek) else {
            return;
        };
        let (who, interface) = self.link_label(link);
        let datagram = self.peek.get(..n).unwrap_or(&[]);
        if let Some(what) = describe_request(datagram, interface) {
            say!(self.log, "{who}: {what}");
        }
    }

    /// `server 1` or `bootstrap server`, and the interface its requests
    /// arrive on, from the Security instance whose URI the link goes to.
    fn link_label(&self, link: LinkId) -> (String, Interface) {
        let client = self.driver.client();
        let Some((_, target)) = client.links().find(|(l, _)| *l == link) else {
            return ("server".into(), Interface::DeviceManagement);
        };
        let mut bootstrap = false;
        for e in security::endpoints(client.registry()) {
            if uri::parse(&e.uri).as_ref() != Some(target) {
                continue;
            }
            match e.ssid {
                Some(ssid) if !e.bootstrap => {
                    return (format!("server {ssid}"), Interface::DeviceManagement);
                }
                _ => bootstrap = true,
            }
        }
        if bootstrap {
            ("bootstrap server".into(), Interface::Bootstrap)
        } else {
            (
                format!("{}:{}", target.host, target.port),
                Interface::DeviceManagement,
            )
        }
    }

    fn log_notifications(&mut self) {
        let n = self.driver.client().stats().notifications;
        if n > self.notified {
            let new = n - self.notified;
            let s = if new == 1 { "" } else { "s" };
            say!(self.log, "sent {new} notification{s} ({n} in all)");
            self.notified = n;
        }
    }

    /// Acts on the driver's events; `Some` when the session must end.
    fn events(&mut self) -> Option<Ending> {
        let mut end = None;
        while let Some(e) = self.driver.poll_event() {
            match e {
                Event::Registered { ssid } => {
                    say!(self.log, "registered with server {ssid}")
                }
                Event::Updated { ssid } => {
                    say!(self.log, "registration updated with server {ssid}")
                }
                Event::Deregistered { ssid } => {
                    say!(self.log, "de-registered from server {ssid}")
                }
                Event::RegistrationFailed { ssid, reason } => say!(
                    self.log,
                    "registration with server {ssid} failed: {}; will retry",
                    failure(&reason)
                ),
                Event::SessionFailed { ssid, error } => {
                    // Without the feature every coaps:// account (from the
                    // state file or a Bootstrap-Server) ends here.
                    let hint = if cfg!(feature = "dtls") {
                        String::new()
                    } else {
                        format!(" ({})", crate::cli::NO_DTLS)
                    };
                    match ssid {
                        Some(ssid) => say!(self.log, "DTLS with server {ssid}: {error}{hint}"),
                        None => say!(
                            self.log,
                            "DTLS with the Bootstrap-Server or a download: {error}{hint}"
                        ),
                    }
                }
                Event::BootstrapStarted => say!(self.log, "bootstrap session started"),
                Event::BootstrapFinished => {
                    say!(self.log, "bootstrap finished: configuration committed")
                }
                Event::BootstrapFailed { reason } => {
                    say!(
                        self.log,
                        "bootstrap failed: {}; will retry",
                        failure(&reason)
                    )
                }
                Event::Persist => {
                    if let Some(f) = &self.state {
                        state::save(&self.driver, f, &self.log);
                    }
                }
                Event::Object(o) => end = end.or(self.object_event(o)),
                Event::Written(_) => {}
                other => say!(self.log, "{other:?}"),
            }
        }
        end
    }

    fn object_event(&self, e: ObjectEvent) -> Option<Ending> {
        match e {
            ObjectEvent::Reboot => {
                say!(self.log, "Reboot executed: restarting the client");
                return Some(Ending::Restart { factory: false });
            }
            ObjectEvent::FactoryReset => {
                say!(
                    self.log,
                    "Factory Reset executed: restarting from the factory configuration"
                );
                return Some(Ending::Restart { factory: true });
            }
            ObjectEvent::ErrorCodesReset => say!(self.log, "error codes reset"),
            ObjectEvent::CurrentTimeWritten { offset, .. } => {
                say!(self.log, "Current Time set: clock offset now {offset} s")
            }
            ObjectEvent::RegistrationUpdateTrigger { ssid } => say!(
                self.log,
                "Registration Update Trigger: updating with server {ssid}"
            ),
            ObjectEvent::BootstrapRequestTrigger { .. } => {
                say!(self.log, "Bootstrap-Request Trigger: bootstrapping")
            }
            ObjectEvent::Firmware(f) => self.firmware_event(f),
            ObjectEvent::Disable { ssid, timeout } => say!(
                self.log,
                "server {ssid} disabled for {} s",
                timeout.as_secs()
            ),
            other => say!(self.log, "{other:?}"),
        }
        None
    }

    fn firmware_event(&self, e: FirmwareEvent) {
        match e {
            FirmwareEvent::StateChanged { state, result } => {
                self.progress.set(u64::MAX);
                say!(
                    self.log,
                    "firmware: {state:?}, update result {} ({result:?})",
                    result.code()
                )
            }
            FirmwareEvent::Progress { received, total } => {
                let step = self.progress.get();
                // A line per tenth (or per 64 KiB when the size is unknown).
                let now = match total {
                    Some(t) if t > 0 => received.saturating_mul(10) / t,
                    _ => received / (64 * 1024),
                };
                if now != step {
                    self.progress.set(now);
                    match total {
                        Some(t) => say!(self.log, "firmware: {received} of {t} bytes"),
                        None => say!(self.log, "firmware: {received} bytes"),
                    }
                }
            }
            other => say!(self.log, "firmware: {other:?}"),
        }
    }

    /// De-registers from every server; a second SIGINT / SIGTERM cuts it
    /// short.
    fn shutdown(mut self) {
        let registered = self.driver.client().registered_servers().count();
        if registered > 0 {
            say!(self.log, "de-registering");
        }
        let ids = self.interrupt_on_signals();
        let clean = self.driver.shutdown(SHUTDOWN_TIMEOUT);
        for id in ids {
            signal_hook::low_level::unregister(id);
        }
        self.events();
        match clean {
            Ok(true) => {}
            Ok(false) => say!(self.log, "stopped before every server confirmed"),
            Err(e) => self
                .log
                .error(format_args!("lwm2m-client: stopping failed: {e}")),
        }
    }

    /// A second signal interrupts [`Driver::shutdown`].
    fn interrupt_on_signals(&self) -> Vec<SigId> {
        let handle = self.driver.interrupt_handle();
        let mut ids = Vec::new();
        for sig in [SIGINT, SIGTERM] {
            let fd: io::Result<OwnedFd> = handle.try_clone_fd();
            if let Ok(fd) = fd
                && let Ok(id) = signal_hook::low_level::pipe::register(sig, fd)
            {
                ids.push(id);
            }
        }
        ids
    }
}
