//! Firmware update through the client engine, in virtual time: PUSH of a
//! 2 MiB image in 1 KiB Block1 blocks while a second server keeps being
//! served (SPEC §1 guarantees 2 and 3), abandoned PUSHes rolling back, and
//! PULL from a scripted CoAP file server (guarantee 8) with loss, a restart
//! half way, a changed ETag, and every Update Result of E.6.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::client::TimerReason;
use crate::coap::{Block, Code, Message, MessageBuilder, MsgType, option};
use crate::config::Config;
use crate::dm::{Handle, ObjectEvent, Path};
use crate::objects::firmware::tests::App;
use crate::objects::firmware::{
    Applied, DownloadState, Firmware, FirmwareError, FirmwareEvent, State, UpdateResult,
};
use crate::objects::{
    Device, Security, SecurityInstance, Server, ServerInstance, StaticDeviceInfo,
};
use crate::rand::Rng;
use crate::time::Duration;

const T0: Instant = Instant::from_secs(1000);
const FILE_HOST: &str = "files.example";
const FILE_URI: &str = "coap://files.example/fw/image.bin";
const MIB2: usize = 2 * 1024 * 1024;

/// A seeded pseudo-random image.
fn image(len: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut v = alloc::vec![0u8; len];
    r.fill(&mut v);
    v
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A CoAP file server: GET with Block2 on one path, piggybacked answers.
struct FileServer {
    path: Vec<&'static [u8]>,
    body: Vec<u8>,
    etag: Vec<u8>,
    /// Answer every request with this code instead.
    fail: Option<Code>,
    /// Whether Size2 is sent when asked.
    size2: bool,
    /// Block numbers asked for, in order.
    asked: Vec<u32>,
}

impl FileServer {
    fn new(body: Vec<u8>) -> FileServer {
        FileServer {
            path: alloc::vec![b"fw", b"image.bin"],
            body,
            etag: b"v1".to_vec(),
            fail: None,
            size2: true,
            asked: Vec::new(),
        }
    }

    fn answer(&mut self, req: &[u8]) -> Vec<u8> {
        let m = Message::parse(req).unwrap();
        assert_eq!((m.mtype(), m.code()), (MsgType::Con, Code::GET));
        let mut buf = [0u8; 1200];
        let mut code = self.fail.unwrap_or(Code::CONTENT);
        if m.uri_path().collect::<Vec<_>>() != self.path {
            code = Code::NOT_FOUND;
        }
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid(), m.token_bytes()).unwrap();
        if code == Code::CONTENT {
            let want = m.block2().map(|b| b.unwrap()).unwrap_or(Block {
                num: 0,
                more: false,
                szx: 6,
            });
            self.asked.push(want.num);
            let start = want.offset().min(self.body.len());
            let end = (start + want.size()).min(self.body.len());
            b.option(option::ETAG, &self.etag).unwrap();
            b.uint_option(option::CONTENT_FORMAT, 42).unwrap();
            let blk = Block {
                more: end < self.body.len(),
                ..want
            };
            b.block_option(option::BLOCK2, blk).unwrap();
            if self.size2 && m.size2().is_some() {
                b.uint_option(option::SIZE2, self.body.len() as u32)
                    .unwrap();
            }
            b.payload(&self.body[start..end]).unwrap();
        }
        let n = b.finish();
        buf[..n].to_vec()
    }
}

struct World {
    client: Client,
    fw: Handle<Firmware>,
    now: Instant,
    /// Datagrams for the DM servers.
    sent: Vec<(LinkId, Vec<u8>)>,
    events: Vec<Event>,
    files: FileServer,
    /// Links opened to the file server.
    file_links: Vec<LinkId>,
    /// Drop probability and its seeded generator.
    loss: Option<(f64, Rng)>,
    lost: usize,
    mid: u16,
    /// The two DM servers' links (SSID 101, 102).
    s1: LinkId,
    s2: LinkId,
}

impl World {
    fn new(app: App, body: Vec<u8>) -> World {
        World::with(app, FileServer::new(body), |_| {})
    }

    /// A client whose Firmware object `prepare` sets up before it starts.
    fn with(app: App, files: FileServer, prepare: impl FnOnce(&mut Firmware)) -> World {
        let mut client = Client::new(Config::new("fw-ep"), T0, 11).unwrap();
        let sec = Security::new(4)
            .with(SecurityInstance::server(1, 101, "coap://s1.example"))
            .with(SecurityInstance::server(2, 102, "coap://s2.example"));
        client.add_object(sec).unwrap();
        let srv = Server::new(4)
            .with(ServerInstance::new(0, 101, 86400))
            .with(ServerInstance::new(1, 102, 86400));
        client.add_object(srv).unwrap();
        let info = StaticDeviceInfo {
            manufacturer: Some("Acme".into()),
            ..StaticDeviceInfo::default()
        };
        client.add_object(Device::new(info)).unwrap();
        let mut fw = Firmware::new(app);
        prepare(&mut fw);
        let fw = client.add_object(fw).unwrap();
        let mut w = World {
            client,
            fw,
            now: T0,
            sent: Vec::new(),
            events: Vec::new(),
            files,
            file_links: Vec::new(),
            loss: None,
            lost: 0,
            mid: 0x200,
            s1: LinkId(0),
            s2: LinkId(0),
        };
        w.register();
        w
    }

    fn drain(&mut self) {
        while let Some(e) = self.client.poll_event() {
            if let Event::Open { link, uri } = &e
                && uri.host == FILE_HOST
            {
                self.file_links.push(*link);
            }
            self.events.push(e);
        }
        let mut buf = [0u8; 2048];
        while let Some(t) = self.client.poll_transmit(&mut buf) {
            self.sent.push((t.link, buf[..t.len].to_vec()));
        }
    }

    fn lose(&mut self) -> bool {
        let lost = self.loss.as_mut().is_some_and(|(p, r)| r.unit() < *p);
        self.lost += usize::from(lost);
        lost
    }

    /// Delivers what the client sent to the file server and its answers
    /// back (each way subject to loss) until nothing moves; DM-server
    /// traffic stays in `sent`.
    fn pump(&mut self) {
        loop {
            self.drain();
            let (files, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.sent)
                .into_iter()
                .partition(|(l, _)| self.file_links.contains(l));
            self.sent = rest;
            if files.is_empty() {
                return;
            }
            for (link, req) in files {
                if self.lose() {
                    continue;
                }
                let resp = self.files.answer(&req);
                if self.lose() {
                    continue;
                }
                self.client.handle_datagram(self.now, link, &resp);
            }
        }
    }

    /// Answers exactly one request the client sent to the file server.
    fn deliver_one(&mut self) {
        self.drain();
        let i = self
            .sent
            .iter()
            .position(|(l, _)| self.file_links.contains(l))
            .expect("a request to the file server");
        let (l, req) = self.sent.remove(i);
        let resp = self.files.answer(&req);
        self.client.handle_datagram(self.now, l, &resp);
        self.drain();
    }

    /// Runs every timer due now, then jumps to the next one.
    fn step(&mut self) {
        self.pump();
        if let Some((t, _)) = self.client.next_timer() {
            self.now = self.now.max(t);
        }
        self.client.handle_timeout(self.now);
        self.pump();
    }

    /// Steps until the firmware is no longer Downloading (or `limit`).
    fn run_download(&mut self, limit: usize) {
        for _ in 0..limit {
            self.pump();
            if self.state() != State::Downloading {
                return;
            }
            self.step();
        }
        panic!("download did not finish: {:?}", self.state());
    }

    fn fw(&self) -> &Firmware {
        self.client.object(self.fw).unwrap()
    }

    fn app(&self) -> &App {
        self.fw().app::<App>().unwrap()
    }

    fn state(&self) -> State {
        self.fw().state()
    }

    fn result(&self) -> UpdateResult {
        self.fw().update_result()
    }

    fn register(&mut self) {
        self.step();
        let regs = core::mem::take(&mut self.sent);
        assert_eq!(regs.len(), 2, "a Register to each server");
        for (link, req) in regs {
            self.answer(link, &req, Code::CREATED, |b| {
                b.option(option::LOCATION_PATH, b"rd").unwrap();
                b.option(option::LOCATION_PATH, b"x").unwrap();
            });
        }
        assert!(self.client.is_registered(101) && self.client.is_registered(102));
        for (link, uri) in self.client.links() {
            match uri.host.as_str() {
                "s1.example" => self.s1 = link,
                "s2.example" => self.s2 = link,
                _ => {}
            }
        }
    }

    fn answer(
        &mut self,
        link: LinkId,
        req: &[u8],
        code: Code,
        build: impl FnOnce(&mut MessageBuilder<'_>),
    ) {
        let m = Message::parse(req).unwrap();
        let mut buf = [0u8; 512];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid(), m.token_bytes()).unwrap();
        build(&mut b);
        let n = b.finish();
        self.client.handle_datagram(self.now, link, &buf[..n]);
        self.drain();
    }

    /// A DM server's Confirmable request; returns the client's response.
    fn request(
        &mut self,
        link: LinkId,
        code: Code,
        path: &str,
        build: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Vec<u8> {
        self.mid = self.mid.wrapping_add(1);
        let mid = self.mid;
        let mut buf = [0u8; 1200];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Con, code, mid, &mid.to_be_bytes()).unwrap();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            b.option(option::URI_PATH, seg.as_bytes()).unwrap();
        }
        build(&mut b);
        let n = b.finish();
        self.client.handle_datagram(self.now, link, &buf[..n]);
        self.drain();
        let i = self
            .sent
            .iter()
            .position(|(l, r)| {
                *l == link
                    && Message::parse(r).is_ok_and(|m| m.mid() == mid && m.mtype() == MsgType::Ack)
            })
            .expect("a piggybacked response");
        self.sent.remove(i).1
    }

    fn read_text(&mut self, link: LinkId, path: &str) -> (Code, String) {
        let r = self.request(link, Code::GET, path, |b| {
            b.uint_option(option::ACCEPT, 0).unwrap();
        });
        let m = Message::parse(&r).unwrap();
        (m.code(), String::from_utf8(m.payload().to_vec()).unwrap())
    }

    fn write_uri(&mut self, uri: &str) -> Code {
        let r = self.request(self.s1, Code::PUT, "/5/0/1", |b| {
            b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
            b.payload(uri.as_bytes()).unwrap();
        });
        Message::parse(&r).unwrap().code()
    }

    /// One Block1 block of a PUSH from server 1.
    fn push_block(&mut self, image: &[u8], num: u32, szx: u8) -> Vec<u8> {
        let size = 1usize << (szx + 4);
        let start = num as usize * size;
        let end = (start + size).min(image.len());
        let blk = Block {
            num,
            more: end < image.len(),
            szx,
        };
        self.request(self.s1, Code::PUT, "/5/0/0", |b| {
            b.uint_option(option::CONTENT_FORMAT, 42).unwrap();
            b.block_option(option::BLOCK1, blk).unwrap();
            b.payload(&image[start..end]).unwrap();
        })
    }

    fn firmware_events(&self) -> Vec<FirmwareEvent> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Object(ObjectEvent::Firmware(f)) => Some(*f),
                _ => None,
            })
            .collect()
    }

    fn state_events(&self) -> Vec<(State, UpdateResult)> {
        self.firmware_events()
            .into_iter()
            .filter_map(|e| match e {
                FirmwareEvent::StateChanged { state, result } => Some((state, result)),
                _ => None,
            })
            .collect()
    }
}

fn code_of(r: &[u8]) -> Code {
    Message::parse(r).unwrap().code()
}

#[path = "download_pull_tests.rs"]
mod pull;
#[path = "download_push_tests.rs"]
mod push;
