//! The std driver over real UDP sockets on 127.0.0.1: a raw CoAP client
//! (built from `lwm2m_core::coap::MessageBuilder`) registers, and the
//! handle's blocking helpers drive reads, writes and observations while the
//! test answers as the device.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use lwm2m_core::coap::{Block, Code, Message, MessageBuilder, MsgType, option};
use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::{Path, Value};
use lwm2m_server::core::{MemFiles, ServerConfig};
use lwm2m_server::driver::{ObserveEvent, ServerHandle, spawn};

struct Device {
    sock: UdpSocket,
    server: SocketAddr,
    mid: u16,
}

impl Device {
    fn new(server: SocketAddr) -> Device {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Device {
            sock,
            server,
            mid: 1,
        }
    }

    fn send(
        &mut self,
        mtype: MsgType,
        code: Code,
        mid: u16,
        token: &[u8],
        f: impl FnOnce(&mut MessageBuilder<'_>),
    ) {
        let mut buf = [0u8; 1500];
        let mut b = MessageBuilder::new(&mut buf, mtype, code, mid, token).unwrap();
        f(&mut b);
        let n = b.finish();
        self.sock.send_to(&buf[..n], self.server).unwrap();
    }

    fn send_raw(&self, f: impl FnOnce(&mut MessageBuilder<'_>)) {
        let mut buf = [0u8; 1500];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 4242, &[0x42]).unwrap();
        f(&mut b);
        let n = b.finish();
        self.sock.send_to(&buf[..n], self.server).unwrap();
    }

    fn recv(&self) -> Vec<u8> {
        let mut buf = [0u8; 2048];
        let (n, from) = self.sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, self.server);
        buf[..n].to_vec()
    }

    fn register(&mut self, ep: &str) -> String {
        self.mid += 1;
        let q = format!("ep={ep}");
        let mid = self.mid;
        self.send(MsgType::Con, Code::POST, mid, &[1, 2, 3], |b| {
            b.option(option::URI_PATH, b"rd").unwrap();
            b.uint_option(option::CONTENT_FORMAT, 40).unwrap();
            b.option(option::URI_QUERY, q.as_bytes()).unwrap();
            b.option(option::URI_QUERY, b"lt=60").unwrap();
            b.option(option::URI_QUERY, b"lwm2m=1.1").unwrap();
            b.payload(b"</1/0>,</3/0>,</3303/0>").unwrap();
        });
        let r = self.recv();
        let m = Message::parse(&r).unwrap();
        assert_eq!(
            (m.mtype(), m.mid(), m.code()),
            (MsgType::Ack, mid, Code::CREATED)
        );
        let loc: Vec<&[u8]> = m.location_path().collect();
        assert_eq!(loc[0], b"rd");
        String::from_utf8(loc[1].to_vec()).unwrap()
    }

    /// Receives a request from the server and answers it with `code`.
    fn serve_one(
        &self,
        code: Code,
        f: impl FnOnce(&Message<'_>, &mut MessageBuilder<'_>),
    ) -> Vec<u8> {
        let req = self.recv();
        let m = Message::parse(&req).unwrap();
        let mut buf = [0u8; 1500];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid(), m.token_bytes()).unwrap();
        f(&m, &mut b);
        let n = b.finish();
        self.sock.send_to(&buf[..n], self.server).unwrap();
        req
    }
}

fn start() -> ServerHandle {
    let mut cfg = ServerConfig::dm();
    let mut files = MemFiles::default();
    files.insert(
        "image.bin",
        (0..3000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
    );
    cfg.files = Some(Box::new(files));
    spawn("127.0.0.1:0".parse().unwrap(), cfg)
        .unwrap()
        .with_timeout(Duration::from_secs(10))
}

#[test]
fn register_then_read_write_execute_through_the_handle() {
    let server = start();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    let mut dev = Device::new(addr);
    let loc = dev.register("loop-1");
    let reg = server
        .wait_for_registration("loop-1", Duration::from_secs(5))
        .unwrap();
    assert_eq!(reg.location, loc);
    assert_eq!(reg.peer, dev.sock.local_addr().unwrap());
    assert_eq!(server.registrations().unwrap().len(), 1);

    // Read in a thread, answer as the device.
    let h = server.clone();
    let reader = std::thread::spawn(move || h.read("loop-1", Path::resource(3, 0, 0), None));
    let req = dev.serve_one(Code::CONTENT, |_, b| {
        b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
        b.payload(b"ACME Corp").unwrap();
    });
    let m = Message::parse(&req).unwrap();
    assert_eq!((m.mtype(), m.code()), (MsgType::Con, Code::GET));
    assert_eq!(
        m.uri_path().collect::<Vec<_>>(),
        vec![&b"3"[..], b"0", b"0"]
    );
    assert_eq!(
        reader.join().unwrap().unwrap(),
        vec![Entry::new(Path::resource(3, 0, 0), Value::str("ACME Corp"))]
    );

    let h = server.clone();
    let writer = std::thread::spawn(move || {
        h.write("loop-1", Path::resource(1, 0, 1), Value::Integer(120), None)
    });
    let req = dev.serve_one(Code::CHANGED, |_, _| {});
    let m = Message::parse(&req).unwrap();
    assert_eq!(
        (m.code(), m.content_format(), m.payload()),
        (Code::PUT, Some(0), &b"120"[..])
    );
    writer.join().unwrap().unwrap();

    let h = server.clone();
    let exec = std::thread::spawn(move || h.execute("loop-1", Path::resource(3, 0, 4), None));
    let req = dev.serve_one(Code::METHOD_NOT_ALLOWED, |_, _| {});
    assert_eq!(Message::parse(&req).unwrap().code(), Code::POST);
    let err = exec.join().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "client answered 4.05");

    // De-register.
    dev.mid += 1;
    let mid = dev.mid;
    dev.send(MsgType::Con, Code::DELETE, mid, &[4], |b| {
        b.option(option::URI_PATH, b"rd").unwrap();
        b.option(option::URI_PATH, loc.as_bytes()).unwrap();
    });
    assert_eq!(Message::parse(&dev.recv()).unwrap().code(), Code::DELETED);
    server
        .wait_for_deregistration("loop-1", Duration::from_secs(5))
        .unwrap();
}

#[test]
fn observe_through_the_handle_receives_notifications() {
    let server = start();
    let mut dev = Device::new(server.local_addr());
    dev.register("loop-2");
    server
        .wait_for_registration("loop-2", Duration::from_secs(5))
        .unwrap();
    let h = server.clone();
    let p = Path::resource(3303, 0, 5700);
    let obs = std::thread::spawn(move || h.observe("loop-2", p, Some(Format::SenmlJson)));
    let req = dev.serve_one(Code::CONTENT, |m, b| {
        assert_eq!(m.observe(), Some(0));
        assert_eq!(m.accept(), Some(110));
        b.uint_option(option::OBSERVE, 1).unwrap();
        b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
        b.payload(br#"[{"n":"/3303/0/5700","v":20.5}]"#).unwrap();
    });
    let token = Message::parse(&req).unwrap().token_bytes().to_vec();
    let obs = obs.join().unwrap().unwrap();
    assert_eq!(obs.initial, vec![Entry::new(p, Value::Float(20.5))]);
    for (i, v) in [21.0f64, 22.5].iter().enumerate() {
        let body = format!(r#"[{{"n":"/3303/0/5700","v":{v}}}]"#);
        dev.send(MsgType::Con, Code::CONTENT, 7000 + i as u16, &token, |b| {
            b.uint_option(option::OBSERVE, 2 + i as u32).unwrap();
            b.uint_option(option::CONTENT_FORMAT, 110).unwrap();
            b.payload(body.as_bytes()).unwrap();
        });
        let ack = dev.recv();
        let a = Message::parse(&ack).unwrap();
        assert_eq!((a.mtype(), a.mid()), (MsgType::Ack, 7000 + i as u16));
        match obs
            .notifications
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
        {
            ObserveEvent::Notify { seq, entries, .. } => {
                assert_eq!(seq, Some(2 + i as u32));
                assert_eq!(entries, vec![Entry::new(p, Value::Float(*v))]);
            }
            other => panic!("{other:?}"),
        }
    }
    let h = server.clone();
    let id = obs.id;
    let cancel = std::thread::spawn(move || h.cancel_observation(id, true));
    let req = dev.serve_one(Code::CONTENT, |_, b| {
        b.payload(b"1").unwrap();
    });
    let m = Message::parse(&req).unwrap();
    assert_eq!((m.observe(), m.token_bytes()), (Some(1), &token[..]));
    cancel.join().unwrap().unwrap();
    assert!(matches!(
        obs.notifications
            .recv_timeout(Duration::from_secs(5))
            .unwrap(),
        ObserveEvent::Ended(_)
    ));
}

#[test]
fn file_server_block2_download_over_udp() {
    let server = start();
    let dev = Device::new(server.local_addr());
    let mut got = Vec::new();
    let mut etag: Option<Vec<u8>> = None;
    let mut num = 0;
    loop {
        let mut buf = [0u8; 64];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 300 + num as u16, &[9]).unwrap();
        b.option(option::URI_PATH, b"fw").unwrap();
        b.option(option::URI_PATH, b"image.bin").unwrap();
        b.block_option(
            option::BLOCK2,
            Block {
                num,
                more: false,
                szx: 4,
            },
        )
        .unwrap();
        let n = b.finish();
        dev.sock.send_to(&buf[..n], dev.server).unwrap();
        let r = dev.recv();
        let m = Message::parse(&r).unwrap();
        assert_eq!(m.code(), Code::CONTENT);
        let e = m.etag().unwrap().to_vec();
        assert!(etag.as_ref().is_none_or(|x| *x == e));
        etag = Some(e);
        got.extend_from_slice(m.payload());
        let b2 = m.block2().unwrap().unwrap();
        assert_eq!((b2.num, b2.szx), (num, 4));
        if !b2.more {
            break;
        }
        num += 1;
    }
    assert_eq!(
        got,
        (0..3000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>()
    );
}

#[test]
fn bootstrap_request_over_udp_runs_the_configured_script() {
    use lwm2m_server::core::{BootstrapConfig, ClientConfig};
    let mut bs = BootstrapConfig::default();
    bs.clients.insert(
        "bs-dev".into(),
        ClientConfig::single_server("coap://127.0.0.1:5683", 3, 120),
    );
    let server = spawn("127.0.0.1:0".parse().unwrap(), ServerConfig::bootstrap(bs))
        .unwrap()
        .with_timeout(Duration::from_secs(10));
    let done = server.bootstrap_waiter("bs-dev").unwrap();
    let dev = Device::new(server.local_addr());
    dev.send_raw(|b| {
        b.option(option::URI_PATH, b"bs").unwrap();
        b.option(option::URI_QUERY, b"ep=bs-dev").unwrap();
    });
    let ack = dev.recv();
    assert_eq!(Message::parse(&ack).unwrap().code(), Code::CHANGED);
    let mut seen = Vec::new();
    loop {
        let req = dev.serve_one(Code::CHANGED, |_, _| {});
        let m = Message::parse(&req).unwrap();
        let path: Vec<String> = m
            .uri_path()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        seen.push(format!("{} /{}", m.code(), path.join("/")));
        if m.code() == Code::POST {
            break;
        }
    }
    assert_eq!(
        seen,
        ["DELETE /0", "DELETE /1", "PUT /0/1", "PUT /1/0", "POST /bs"]
    );
    assert_eq!(done.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(()));
}

#[test]
fn ipv6_loopback_when_available() {
    let Ok(server) = spawn("[::1]:0".parse().unwrap(), ServerConfig::dm()) else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let server = server.with_timeout(Duration::from_secs(10));
    let Ok(sock) = UdpSocket::bind("[::1]:0") else {
        return;
    };
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut dev = Device {
        sock,
        server: server.local_addr(),
        mid: 1,
    };
    dev.register("v6");
    let reg = server
        .wait_for_registration("v6", Duration::from_secs(5))
        .unwrap();
    assert!(reg.peer.is_ipv6());
}
