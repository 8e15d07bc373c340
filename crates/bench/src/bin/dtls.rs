//! DTLS benchmark (issue 7, item 5), over loopback UDP, in one run:
//!
//! 1. handshake time, median of N: PSK (TLS_PSK_WITH_AES_128_CCM_8),
//!    ECDHE-ECDSA (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, P-256) and a resumed
//!    PSK session, beside the UDP round trip on the same sockets (a full
//!    handshake with a HelloVerifyRequest is four round trips);
//! 2. the per-request cost of DTLS: the same Read loop (the bundled server
//!    reads /3/0/0 from our client, one request at a time) over NoSec and
//!    over DTLS PSK, and their ratio.
//!
//! `cargo run --release -p lwm2m-bench --bin dtls [-- --handshakes N --reads N]`
//! (defaults 200 and 5000: well under 30 s).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lwm2m::core::DmError;
use lwm2m::core::config::Config;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, Path, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::{Security, SecurityInstance, Server, ServerInstance};
use lwm2m::core::session::{ClientParams, Session, SessionState};
use lwm2m::core::time::Instant as CoreInstant;
use lwm2m::dtls::{OpenSslFactory, OpenSslServer, OpenSslSession, ServerConfig};
use lwm2m_server::core::{Operation, ServerEvent};
use lwm2m_server::driver::Driver as ServerDriver;
use lwm2m_server::dtls::{Credentials, DtlsSessions};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::{X509, X509NameBuilder};

const ID: &[u8] = b"bench-client";
const KEY: &[u8] = &[0x11; 16];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Two sockets on 127.0.0.1 and a clock for the sessions.
struct Wire {
    client: UdpSocket,
    server: UdpSocket,
    origin: Instant,
}

impl Wire {
    fn new() -> Wire {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&client, &server] {
            s.set_nonblocking(true).unwrap();
        }
        Wire {
            client,
            server,
            origin: Instant::now(),
        }
    }

    fn now(&self) -> CoreInstant {
        CoreInstant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    fn addrs(&self) -> (SocketAddr, SocketAddr) {
        (
            self.client.local_addr().unwrap(),
            self.server.local_addr().unwrap(),
        )
    }

    /// Median UDP round trip (client → server → client), the floor.
    fn round_trip_ns(&self, n: usize) -> f64 {
        let (c, s) = self.addrs();
        let mut buf = [0u8; 64];
        let spin = |sock: &UdpSocket, buf: &mut [u8]| while sock.recv_from(buf).is_err() {};
        let times = (0..n)
            .map(|_| {
                let t = Instant::now();
                self.client.send_to(&[1; 32], s).unwrap();
                spin(&self.server, &mut buf);
                self.server.send_to(&[2; 32], c).unwrap();
                spin(&self.client, &mut buf);
                t.elapsed().as_nanos() as f64
            })
            .collect();
        median(times)
    }

    /// Runs one handshake over the sockets; returns its duration. The
    /// sockets are polled without waiting, so no read timeout is counted.
    fn handshake(&self, client: &mut OpenSslSession, server: &mut OpenSslSession) -> Duration {
        let (c_addr, s_addr) = self.addrs();
        let mut buf = [0u8; 2048];
        let mut out = [0u8; 2048];
        let t = Instant::now();
        client.start(self.now()).unwrap();
        let deadline = t + Duration::from_secs(10);
        while client.state() != SessionState::Established
            || server.state() != SessionState::Established
        {
            assert!(
                Instant::now() < deadline,
                "handshake stuck: {client:?} {server:?}"
            );
            let now = self.now();
            while let Some(n) = client.poll_transmit(now, &mut buf) {
                self.client.send_to(&buf[..n], s_addr).unwrap();
            }
            while let Ok((n, _)) = self.server.recv_from(&mut buf) {
                let _ = server.handle_datagram(self.now(), &buf[..n], &mut out);
            }
            let now = self.now();
            while let Some(n) = server.poll_transmit(now, &mut buf) {
                self.server.send_to(&buf[..n], c_addr).unwrap();
            }
            while let Ok((n, _)) = self.client.recv_from(&mut buf) {
                let _ = client.handle_datagram(self.now(), &buf[..n], &mut out);
            }
            let now = self.now();
            for s in [&mut *client, &mut *server] {
                if s.poll_timeout().is_some_and(|d| d <= now) {
                    s.handle_timeout(now);
                }
            }
        }
        t.elapsed()
    }
}

fn certificate(cn: &str) -> (Vec<u8>, Vec<u8>) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (
        b.build().to_der().unwrap(),
        key.private_key_to_pkcs8().unwrap(),
    )
}

fn handshakes(n: usize) {
    let wire = Wire::new();
    let rtt = wire.round_trip_ns(500);
    println!("DTLS 1.2 handshakes over loopback UDP, median of {n}");
    println!("  floor: UDP round trip {:>10.1} µs", rtt / 1e3);

    let psk =
        OpenSslServer::new(ServerConfig::new().with_psk(|id| (id == ID).then(|| KEY.to_vec())))
            .unwrap();
    let params = ClientParams::psk(ID, KEY);
    let factory = OpenSslFactory::new();
    let times = (0..n)
        .map(|_| {
            let mut c = factory.client(&params).unwrap();
            let mut s = psk.session();
            wire.handshake(&mut c, &mut s).as_nanos() as f64
        })
        .collect();
    let full = median(times);
    println!(
        "  PSK-AES128-CCM8              {:>10.1} µs   {:>5.1} round trips' worth",
        full / 1e3,
        full / rtt
    );

    // Resumed: one client session reconnecting to the same server context.
    let mut c = factory.client(&params).unwrap();
    let mut s = psk.session();
    wire.handshake(&mut c, &mut s);
    let times = (0..n)
        .map(|_| {
            c.close();
            s = psk.session();
            let d = wire.handshake(&mut c, &mut s);
            assert!(c.resumed(), "not resumed");
            d.as_nanos() as f64
        })
        .collect();
    let resumed = median(times);
    println!(
        "  PSK-AES128-CCM8, resumed     {:>10.1} µs   {:>5.1} round trips' worth",
        resumed / 1e3,
        resumed / rtt
    );

    // The cryptographic part of a request and its answer, in memory: one
    // record each way (a 40-byte CoAP request, a 60-byte answer).
    let (req, resp) = ([0x42u8; 40], [0x61u8; 60]);
    let mut rec = [0u8; 256];
    let mut plain = [0u8; 256];
    let now = wire.now();
    let per = lwm2m_bench::median_ns(15, 2000, || {
        let n = c.encrypt(&req, &mut rec).unwrap();
        assert!(
            s.handle_datagram(now, &rec[..n], &mut plain)
                .unwrap()
                .is_some()
        );
        let n = s.encrypt(&resp, &mut rec).unwrap();
        assert!(
            c.handle_datagram(now, &rec[..n], &mut plain)
                .unwrap()
                .is_some()
        );
    });
    println!(
        "  records for a request and its answer, in memory: {:.2} µs (protect + unprotect, both ways)",
        per / 1e3
    );

    let (server_cert, server_key) = certificate("lwm2m.bench");
    let (client_cert, client_key) = certificate("bench-client");
    let ecdsa = OpenSslServer::new(ServerConfig::new().with_certificate(&server_cert, &server_key))
        .unwrap();
    let params = ClientParams::certificate(&client_cert, &client_key, &server_cert);
    let times = (0..n)
        .map(|_| {
            let mut c = factory.client(&params).unwrap();
            let mut s = ecdsa.session();
            let d = wire.handshake(&mut c, &mut s);
            assert_eq!(c.cipher(), Some("ECDHE-ECDSA-AES128-CCM8"));
            d.as_nanos() as f64
        })
        .collect();
    let cert = median(times);
    println!(
        "  ECDHE-ECDSA-AES128-CCM8      {:>10.1} µs   {:>5.1} round trips' worth",
        cert / 1e3,
        cert / rtt
    );
}

/// Object 3 with Manufacturer only.
struct Device;

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
        Ok(Value::str("Bench Maker"))
    }
}

/// Our client for `uri` (PSK when `psk`), run by its own thread until
/// `stop`.
fn client(
    ep: &'static str,
    uri: String,
    psk: bool,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut config = Config::new(ep);
        config.sessions = Some(Arc::new(OpenSslFactory::new()));
        let mut d = lwm2m::Driver::new(config).unwrap();
        let mut sec = SecurityInstance::server(0, 1, &uri);
        if psk {
            sec = sec.with_psk(ID, KEY);
        }
        d.add_object(Security::default().with(sec)).unwrap();
        d.add_object(Server::default().with(ServerInstance::new(0, 1, 3600)))
            .unwrap();
        d.add_object(Device).unwrap();
        while !stop.load(Ordering::SeqCst) {
            d.event_loop_run(Duration::from_millis(50)).unwrap();
            while d.poll_event().is_some() {}
        }
        let _ = d.shutdown(Duration::from_secs(2));
    })
}

/// Serves until `ep` is registered.
fn wait_registered(d: &mut ServerDriver, ep: &str) {
    let end = Instant::now() + Duration::from_secs(20);
    while d.server().registration(ep).is_none() {
        assert!(Instant::now() < end, "{ep} never registered");
        d.run_once(Duration::from_millis(20)).unwrap();
        while d.poll_event().is_some() {}
    }
}

/// CPU time of this process so far, ns: every thread's run time from
/// `/proc/self/task/*/schedstat` (Linux), the server's and both clients'.
/// Unlike wall time it does not count waiting for a core on a busy machine.
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Reads /3/0/0 from `ep` `n` times, one at a time; returns the wall time
/// and the process CPU time per Read, ns.
fn read_loop(d: &mut ServerDriver, ep: &str, n: usize) -> (f64, f64) {
    let cpu = process_cpu_ns();
    let t = Instant::now();
    for _ in 0..n {
        let now = d.now();
        let op = Operation::Read {
            path: Path::resource(3, 0, 0),
            accept: None,
        };
        let id = d.server_mut().request(now, ep, op).unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        let mut done = false;
        while !done {
            assert!(Instant::now() < end, "Read on {ep} never answered");
            d.run_once(Duration::from_millis(20)).unwrap();
            while let Some(e) = d.poll_event() {
                if let ServerEvent::Response {
                    request, result, ..
                } = e
                    && request == id
                {
                    assert!(result.is_ok(), "{result:?}");
                    done = true;
                }
            }
        }
    }
    let wall = t.elapsed().as_nanos() as f64 / n as f64;
    let cpu = process_cpu_ns().saturating_sub(cpu) as f64 / n as f64;
    (wall, cpu)
}

fn reads(n: usize) {
    let mut creds = Credentials::new();
    creds.add_psk(ID, KEY).unwrap();
    let backend = Arc::new(creds.openssl_server().unwrap());
    let mut d = ServerDriver::bind(
        "127.0.0.1:0".parse().unwrap(),
        lwm2m_server::ServerConfig::dm(),
        1,
    )
    .unwrap();
    d.bind_secure(
        "127.0.0.1:0".parse().unwrap(),
        Box::new(DtlsSessions::new(backend)),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let nosec = client(
        "bench-nosec",
        format!("coap://{}", d.local_addr().unwrap()),
        false,
        stop.clone(),
    );
    let dtls = client(
        "bench-dtls",
        format!("coaps://{}", d.secure_addr().unwrap()),
        true,
        stop.clone(),
    );
    wait_registered(&mut d, "bench-nosec");
    wait_registered(&mut d, "bench-dtls");
    // Warm up both, then measure alternately (NoSec, DTLS, NoSec, DTLS) and
    // keep the medians: the machine's noise hits both alike.
    read_loop(&mut d, "bench-nosec", 200);
    read_loop(&mut d, "bench-dtls", 200);
    let (mut plain, mut secure) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        plain.push(read_loop(&mut d, "bench-nosec", n / 10));
        secure.push(read_loop(&mut d, "bench-dtls", n / 10));
    }
    let wall = |v: &[(f64, f64)]| median(v.iter().map(|x| x.0).collect());
    let cpu = |v: &[(f64, f64)]| median(v.iter().map(|x| x.1).collect());
    let (pw, pc, sw, sc) = (wall(&plain), cpu(&plain), wall(&secure), cpu(&secure));
    println!(
        "Read /3/0/0 loop, bundled server <-> our client over loopback, one at a time, {n} each"
    );
    println!("                               wall µs/request   CPU µs/request (server + client)");
    println!(
        "  NoSec                        {:>10.1}        {:>10.1}",
        pw / 1e3,
        pc / 1e3
    );
    println!(
        "  DTLS PSK-AES128-CCM8         {:>10.1}        {:>10.1}",
        sw / 1e3,
        sc / 1e3
    );
    println!(
        "  DTLS / NoSec                 {:>10.2}x       {:>10.2}x   (CPU +{:.1} µs per request and answer)",
        sw / pw,
        sc / pc,
        (sc - pc) / 1e3
    );
    stop.store(true, Ordering::SeqCst);
    // The clients de-register while the server still serves.
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end && !(nosec.is_finished() && dtls.is_finished()) {
        d.run_once(Duration::from_millis(20)).unwrap();
    }
    let _ = nosec.join();
    let _ = dtls.join();
}

fn main() {
    let t = Instant::now();
    handshakes(arg("--handshakes", 200));
    println!();
    reads(arg("--reads", 5000));
    println!("\n(total {:.1} s)", t.elapsed().as_secs_f64());
}
