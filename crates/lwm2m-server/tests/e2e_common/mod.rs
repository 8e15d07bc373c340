//! Shared by the `dtls_*` tests: our client (the `lwm2m` std driver with the
//! OpenSSL backend) in its own thread, our server with a `coaps://` socket,
//! a lossy UDP proxy. Every wait loops until a condition holds or a
//! generous deadline passes: nothing depends on timing to pass.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant as StdInstant};

use lwm2m::Driver;
use lwm2m::core::DmError;
use lwm2m::core::client::{ClientStats, Event};
use lwm2m::core::coap::reliability::TransmissionParams;
use lwm2m::core::config::Config;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::{Security, SecurityInstance, Server, ServerInstance};
use lwm2m::core::session::{ClientParams, HandshakeTimers, Session, SessionError, SessionFactory};
use lwm2m::dtls::OpenSslFactory;
use lwm2m_server::ServerConfig;
use lwm2m_server::driver::{Driver as ServerDriver, ServerHandle};
use lwm2m_server::dtls::{Credentials, DtlsEvent, DtlsSessions};

/// Upper bound of any one wait.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub const MANUFACTURER: &str = "DTLS Test Maker";

/// Short DTLS retransmissions, so that a lost flight costs little.
pub fn fast_timers() -> HandshakeTimers {
    HandshakeTimers::new(
        Duration::from_millis(200),
        Duration::from_secs(2),
        Duration::from_secs(20),
    )
}

/// The OpenSSL client factory with other handshake timers (the engine
/// asks for the defaults of RFC 6347).
pub struct TimedFactory(pub HandshakeTimers);

impl SessionFactory for TimedFactory {
    fn open(&self, params: &ClientParams<'_>) -> Result<Box<dyn Session>, SessionError> {
        let mut p = *params;
        p.timers = self.0;
        OpenSslFactory::new().open(&p)
    }
}

/// Object 3 with Manufacturer (0) and a changing Battery Level (9).
pub struct Device {
    pub battery: Arc<AtomicI64>,
}

const DEVICE: ObjectDef = ObjectDef::new(
    3,
    &[
        ResourceDef::new(0, "Manufacturer", Operations::R, DataType::String),
        ResourceDef::new(9, "Battery Level", Operations::R, DataType::Integer),
    ],
)
.mandatory();

impl Object for Device {
    fn def(&self) -> &'static ObjectDef {
        &DEVICE
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        match rid {
            0 => Ok(Value::str(MANUFACTURER)),
            _ => Ok(Value::Integer(self.battery.load(Ordering::SeqCst))),
        }
    }
}

/// One server account of the client.
pub struct Account {
    pub security: SecurityInstance,
    pub server: ServerInstance,
}

impl Account {
    pub fn new(iid: u16, ssid: u16, uri: &str) -> Account {
        Account {
            security: SecurityInstance::server(iid, ssid, uri),
            server: ServerInstance::new(iid, ssid, 300),
        }
    }

    pub fn psk(mut self, identity: &[u8], key: &[u8]) -> Account {
        self.security = self.security.with_psk(identity, key);
        self
    }
}

/// What the test asks of the client thread.
pub enum Cmd {
    /// Set the battery level and notify observers.
    Battery(i64),
    /// Registration Update with every server now.
    Update,
    /// De-register and stop.
    Shutdown,
}

/// What the client thread hands back when it stops.
pub struct Outcome {
    pub clean: bool,
    pub stats: ClientStats,
}

/// Our client, running `event_loop_run` in its own thread (a `Driver` is
/// not `Send`: built in the thread).
pub struct TestClient {
    cmds: Sender<Cmd>,
    wake: lwm2m::Interrupt,
    pub events: Receiver<Event>,
    seen: Vec<Event>,
    join: Option<JoinHandle<Outcome>>,
}

impl TestClient {
    /// A client with only a Bootstrap-Server account.
    pub fn spawn_bootstrap_only(
        ep: &str,
        bootstrap: SecurityInstance,
        sessions: Arc<dyn SessionFactory>,
    ) -> TestClient {
        TestClient::spawn_with(ep, vec![], Some(bootstrap), sessions, None)
    }

    pub fn spawn(
        ep: &str,
        accounts: Vec<Account>,
        sessions: Arc<dyn SessionFactory>,
        transmission: Option<TransmissionParams>,
    ) -> TestClient {
        TestClient::spawn_with(ep, accounts, None, sessions, transmission)
    }

    fn spawn_with(
        ep: &str,
        accounts: Vec<Account>,
        bootstrap: Option<SecurityInstance>,
        sessions: Arc<dyn SessionFactory>,
        transmission: Option<TransmissionParams>,
    ) -> TestClient {
        let (cmd_tx, cmd_rx) = mpsc::channel::<Cmd>();
        let (ev_tx, ev_rx) = mpsc::channel::<Event>();
        let (wake_tx, wake_rx) = mpsc::channel();
        let ep = ep.to_string();
        let join = thread::spawn(move || {
            let mut config = Config::new(&ep);
            config.sessions = Some(sessions);
            if let Some(t) = transmission {
                config.transmission = t;
            }
            let mut d = Driver::new(config).unwrap();
            let mut sec = Security::default();
            let mut srv = Server::default();
            for a in accounts {
                sec = sec.with(a.security);
                srv = srv.with(a.server);
            }
            if let Some(b) = bootstrap {
                sec = sec.with(b);
            }
            d.add_object(sec).unwrap();
            d.add_object(srv).unwrap();
            let battery = Arc::new(AtomicI64::new(50));
            d.add_object(Device {
                battery: battery.clone(),
            })
            .unwrap();
            wake_tx.send(d.interrupt_handle()).unwrap();
            let end = StdInstant::now() + DEADLINE * 4;
            loop {
                assert!(StdInstant::now() < end, "the test never stopped the client");
                d.event_loop_run(Duration::from_millis(200)).unwrap();
                while let Some(e) = d.poll_event() {
                    let _ = ev_tx.send(e);
                }
                match cmd_rx.try_recv() {
                    Ok(Cmd::Battery(v)) => {
                        battery.store(v, Ordering::SeqCst);
                        d.notify_changed(lwm2m::core::dm::Path::resource(3, 0, 9));
                    }
                    Ok(Cmd::Update) => d.client_mut().trigger_update(None),
                    Ok(Cmd::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => break,
                    Err(mpsc::TryRecvError::Empty) => {}
                }
            }
            let clean = d.shutdown(DEADLINE).unwrap();
            while let Some(e) = d.poll_event() {
                let _ = ev_tx.send(e);
            }
            Outcome {
                clean,
                stats: d.client().stats(),
            }
        });
        TestClient {
            cmds: cmd_tx,
            wake: wake_rx.recv_timeout(DEADLINE).unwrap(),
            events: ev_rx,
            seen: Vec::new(),
            join: Some(join),
        }
    }

    pub fn send(&self, cmd: Cmd) {
        self.cmds.send(cmd).unwrap();
        self.wake.interrupt();
    }

    /// Waits for an event matching `want` (events before it are kept for
    /// [`TestClient::seen`]); fails after [`DEADLINE`] saying what came.
    pub fn wait_event(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        let end = StdInstant::now() + DEADLINE;
        while StdInstant::now() < end {
            if let Ok(e) = self.events.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(e.clone());
                if want(&e) {
                    return e;
                }
            }
        }
        panic!("no {what} within {DEADLINE:?}; events: {:?}", self.seen);
    }

    /// Waits until some event, received before or now, matches `want`.
    pub fn wait_seen(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        if let Some(e) = self.seen().iter().find(|e| want(e)) {
            return e.clone();
        }
        self.wait_event(what, want)
    }

    /// Every event received so far.
    pub fn seen(&mut self) -> &[Event] {
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e);
        }
        &self.seen
    }

    /// De-registers, stops, and returns what the thread reports.
    pub fn stop(mut self) -> (Outcome, Vec<Event>) {
        self.send(Cmd::Shutdown);
        let out = self.join.take().unwrap().join().unwrap();
        let seen = self.seen().to_vec();
        (out, seen)
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        if let Some(j) = self.join.take() {
            let _ = self.cmds.send(Cmd::Shutdown);
            self.wake.interrupt();
            let _ = j.join();
        }
    }
}

/// Our server with a `coap://` and a `coaps://` socket on 127.0.0.1, and
/// its DTLS events.
pub struct TestServer {
    pub handle: ServerHandle,
    pub dtls: Receiver<DtlsEvent>,
    seen: Vec<DtlsEvent>,
}

impl TestServer {
    pub fn start(creds: &Credentials) -> TestServer {
        TestServer::start_at(
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
            creds,
        )
    }

    pub fn start_at(plain: SocketAddr, secure: SocketAddr, creds: &Credentials) -> TestServer {
        let backend = Arc::new(creds.openssl_server().unwrap());
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let hook = DtlsSessions::new(backend).with_observer(move |e| {
            let _ = tx.lock().unwrap().send(e.clone());
        });
        let mut d = ServerDriver::bind(plain, ServerConfig::dm(), 7).unwrap();
        d.bind_secure(secure, Box::new(hook)).unwrap();
        TestServer {
            handle: d.spawn().unwrap(),
            dtls: rx,
            seen: Vec::new(),
        }
    }

    pub fn coaps_uri(&self) -> String {
        format!("coaps://{}", self.handle.secure_addr().unwrap())
    }

    pub fn coap_uri(&self) -> String {
        format!("coap://{}", self.handle.local_addr())
    }

    pub fn wait_dtls(&mut self, what: &str, want: impl Fn(&DtlsEvent) -> bool) -> DtlsEvent {
        let end = StdInstant::now() + DEADLINE;
        while StdInstant::now() < end {
            if let Ok(e) = self.dtls.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(e.clone());
                if want(&e) {
                    return e;
                }
            }
        }
        panic!(
            "no {what} within {DEADLINE:?}; DTLS events: {:?}",
            self.seen
        );
    }
}

/// A plain server (no DTLS) on 127.0.0.1.
pub fn plain_server() -> ServerHandle {
    lwm2m_server::driver::spawn("127.0.0.1:0".parse().unwrap(), ServerConfig::dm()).unwrap()
}

/// A UDP proxy between one client and `upstream` that drops datagrams
/// carrying DTLS handshake records (content types 20 and 22) when
/// `drop_next` says so. Runs until dropped.
pub struct LossyProxy {
    pub addr: SocketAddr,
    pub dropped: Arc<AtomicUsize>,
    pub passed_handshake: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl LossyProxy {
    pub fn start(
        upstream: SocketAddr,
        mut drop_next: impl FnMut() -> bool + Send + 'static,
    ) -> LossyProxy {
        let front = UdpSocket::bind("127.0.0.1:0").unwrap();
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        front
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        back.set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        let addr = front.local_addr().unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, p, s) = (dropped.clone(), passed.clone(), stop.clone());
        let join = thread::spawn(move || {
            let mut client: Option<SocketAddr> = None;
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::SeqCst) {
                let mut forward = |data: &[u8], out: &UdpSocket, to: SocketAddr| {
                    let handshake = matches!(data.first(), Some(20 | 22));
                    if handshake && drop_next() {
                        d.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    if handshake {
                        p.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = out.send_to(data, to);
                };
                if let Ok((n, from)) = front.recv_from(&mut buf) {
                    client = Some(from);
                    forward(&buf[..n], &back, upstream);
                }
                if let (Ok((n, _)), Some(c)) = (back.recv_from(&mut buf), client) {
                    forward(&buf[..n], &front, c);
                }
            }
        });
        LossyProxy {
            addr,
            dropped,
            passed_handshake: passed,
            stop,
            join: Some(join),
        }
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// A deterministic generator (xorshift64*) that says "drop" with
/// probability `percent`/100.
pub fn seeded_loss(seed: u64, percent: u64) -> impl FnMut() -> bool + Send + 'static {
    let mut x = seed.max(1);
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100 < percent
    }
}

/// A UDP "server" that answers anything with bytes that are not DTLS.
pub struct GarbageServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl GarbageServer {
    pub fn start() -> GarbageServer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let join = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            while !s.load(Ordering::SeqCst) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    // Same length as what came, random bytes; the first one
                    // never a DTLS content type.
                    for b in buf[..n].iter_mut() {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        *b = x as u8;
                    }
                    buf[0] = 0x99;
                    let _ = sock.send_to(&buf[..n], from);
                }
            }
        });
        GarbageServer {
            addr,
            stop,
            join: Some(join),
        }
    }
}

impl Drop for GarbageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}
