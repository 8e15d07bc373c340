//! Shared by the `driver_*` tests: a scripted LwM2M server on a real UDP
//! socket (Register → 2.01, requests of its own, checks of what arrives), a
//! Device-like object; the built-in Security and Server objects hold the
//! server account.
//!
//! Every wait loops until a condition holds or [`DEADLINE`] passes (then the
//! test fails saying what it waited for): nothing depends on timing to pass.
#![allow(dead_code)]

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use lwm2m::Driver;
use lwm2m::core::DmError;
use lwm2m::core::client::Event;
use lwm2m::core::coap::{Code, Message, MessageBuilder, MsgType, option};
use lwm2m::core::config::Config;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::{Security, SecurityInstance, Server, ServerInstance};

/// How long any one expected thing may take: generous, never reached when
/// the driver works.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub const MANUFACTURER: &str = "Loopback Test Maker";

/// Object 3 with only Manufacturer (0).
pub struct Device;

const DEVICE: ObjectDef = ObjectDef::new(
    3,
    &[ResourceDef::new(
        0,
        "Manufacturer",
        Operations::R,
        DataType::String,
    )],
)
.mandatory();

impl Object for Device {
    fn def(&self) -> &'static ObjectDef {
        &DEVICE
    }
    fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Ok(Value::str(MANUFACTURER))
    }
}

/// A driver for endpoint `ep` with one server at `uri` (SSID 1) and the
/// Device object.
pub fn driver(ep: &str, uri: &str, lifetime: u32) -> Driver {
    driver_with(Config::new(ep), uri, lifetime)
}

/// [`driver`] with a configuration of the test's own.
pub fn driver_with(config: Config, uri: &str, lifetime: u32) -> Driver {
    let mut d = Driver::new(config).unwrap();
    d.add_object(Security::default().with(SecurityInstance::server(0, 1, uri)))
        .unwrap();
    d.add_object(Server::default().with(ServerInstance::new(0, 1, lifetime.into())))
        .unwrap();
    d.add_object(Device).unwrap();
    d
}

/// A datagram the server received.
pub struct Received {
    pub bytes: Vec<u8>,
    pub from: SocketAddr,
}

impl Received {
    pub fn msg(&self) -> Message<'_> {
        Message::parse(&self.bytes).unwrap()
    }
}

pub fn path_is(m: &Message<'_>, segments: &[&str]) -> bool {
    m.uri_path().eq(segments.iter().map(|s| s.as_bytes()))
}

pub fn is_register(m: &Message<'_>) -> bool {
    m.mtype() == MsgType::Con && m.code() == Code::POST && path_is(m, &["rd"])
}

pub fn queries(m: &Message<'_>) -> Vec<String> {
    m.uri_query()
        .map(|q| String::from_utf8_lossy(q).into_owned())
        .collect()
}

/// The scripted server.
pub struct ScriptedServer {
    pub sock: UdpSocket,
    mid: u16,
}

impl ScriptedServer {
    /// Binds `addr` (`127.0.0.1:0`, `[::1]:0`).
    pub fn bind(addr: &str) -> io::Result<ScriptedServer> {
        let sock = UdpSocket::bind(addr)?;
        sock.set_read_timeout(Some(Duration::from_millis(20)))?;
        Ok(ScriptedServer { sock, mid: 0x4000 })
    }

    /// `coap://` URI of the server.
    pub fn uri(&self) -> String {
        match self.sock.local_addr().unwrap() {
            SocketAddr::V4(a) => format!("coap://{a}"),
            SocketAddr::V6(a) => format!("coap://[{}]:{}", a.ip(), a.port()),
        }
    }

    /// Receives until a datagram satisfies `want`, calling `pump` between
    /// attempts (the driver's turn, for single-threaded tests); other
    /// datagrams (retransmissions, earlier exchanges) are skipped.
    pub fn expect_pumped(
        &mut self,
        what: &str,
        want: impl Fn(&Message<'_>) -> bool,
        mut pump: impl FnMut(),
    ) -> Received {
        let end = Instant::now() + DEADLINE;
        let mut buf = [0u8; 2048];
        let mut skipped = 0;
        while Instant::now() < end {
            pump();
            match self.sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let bytes = buf[..n].to_vec();
                    if Message::parse(&bytes).is_ok_and(|m| want(&m)) {
                        return Received { bytes, from };
                    }
                    skipped += 1;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("server socket: {e}"),
            }
        }
        panic!("no {what} within {DEADLINE:?} ({skipped} other datagrams)");
    }

    /// [`ScriptedServer::expect_pumped`] for a driver running in another
    /// thread.
    pub fn expect(&mut self, what: &str, want: impl Fn(&Message<'_>) -> bool) -> Received {
        self.expect_pumped(what, want, || {})
    }

    /// Whether a datagram is waiting (never waits).
    pub fn has_datagram(&self) -> bool {
        self.sock.set_nonblocking(true).unwrap();
        let r = self.sock.peek_from(&mut [0u8; 1]);
        self.sock.set_nonblocking(false).unwrap();
        r.is_ok()
    }

    /// Acknowledges `req` with a piggybacked response.
    pub fn ack(&self, req: &Received, code: Code, location: &[&str]) {
        let m = req.msg();
        let mut buf = [0u8; 256];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid(), m.token_bytes()).unwrap();
        for seg in location {
            b.option(option::LOCATION_PATH, seg.as_bytes()).unwrap();
        }
        let n = b.finish();
        self.sock.send_to(&buf[..n], req.from).unwrap();
    }

    /// Sends a Confirmable request to the client at `to`.
    pub fn request(&mut self, to: SocketAddr, code: Code, path: &[&str], token: &[u8]) {
        self.mid = self.mid.wrapping_add(1);
        let mut buf = [0u8; 256];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, code, self.mid, token).unwrap();
        for seg in path {
            b.option(option::URI_PATH, seg.as_bytes()).unwrap();
        }
        let n = b.finish();
        self.sock.send_to(&buf[..n], to).unwrap();
    }

    /// Waits for the client's Register, answers 2.01 with Location-Path
    /// `rd/{location}`, and returns it.
    pub fn accept_register_pumped(&mut self, location: &str, pump: impl FnMut()) -> Received {
        let reg = self.expect_pumped("Register", is_register, pump);
        self.ack(&reg, Code::CREATED, &["rd", location]);
        reg
    }
}

/// Runs the driver's ready-made loop in short slices until `done` says so;
/// fails after [`DEADLINE`].
pub fn run_until(d: &mut Driver, what: &str, mut done: impl FnMut(&mut Driver) -> bool) {
    let end = Instant::now() + DEADLINE;
    while !done(d) {
        assert!(Instant::now() < end, "{what} not within {DEADLINE:?}");
        d.event_loop_run(Duration::from_millis(20)).unwrap();
    }
}

/// Registers `d` with `server` (single-threaded): returns the client's
/// address as the server sees it.
pub fn register(d: &mut Driver, server: &mut ScriptedServer, location: &str) -> SocketAddr {
    let reg = server.accept_register_pumped(location, || {
        d.event_loop_run(Duration::from_millis(5)).unwrap();
    });
    let mut events = Vec::new();
    run_until(d, "Registered event", |d| {
        events.extend(std::iter::from_fn(|| d.poll_event()));
        events.contains(&Event::Registered { ssid: 1 })
    });
    reg.from
}
