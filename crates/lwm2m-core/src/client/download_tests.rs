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

/// A deterministic image: every byte depends on its offset.
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

#[test]
fn push_of_2_mib_streams_block_by_block_while_another_server_is_served() {
    let img = image(MIB2, 1);
    let mut w = World::new(App::default(), Vec::new());
    let blocks = (MIB2 / 1024) as u32;
    for num in 0..blocks {
        let r = w.push_block(&img, num, 6);
        let m = Message::parse(&r).unwrap();
        if num + 1 < blocks {
            assert_eq!(m.code(), Code::CONTINUE, "block {num}");
            assert_eq!(m.block1().unwrap().unwrap().num, num);
        } else {
            assert_eq!(m.code(), Code::CHANGED);
        }
        // Each block reached the application as it arrived: nothing
        // waits for the whole image.
        assert_eq!(w.app().flash.len(), (num as usize + 1) * 1024);
        if num % 256 == 100 {
            // Server 2 reads the Device object: served during the transfer.
            let (code, _) = {
                let r = w.request(w.s2, Code::GET, "/3/0/0", |_| {});
                let m = Message::parse(&r).unwrap();
                (m.code(), m.payload().to_vec())
            };
            assert_eq!(code, Code::CONTENT);
            // Its request touching the object held by the transfer: 5.03
            // with Max-Age (guarantee 2).
            let r = w.request(w.s2, Code::GET, "/5/0/3", |_| {});
            let m = Message::parse(&r).unwrap();
            assert_eq!(m.code(), Code::SERVICE_UNAVAILABLE);
            assert!(m.max_age().is_some());
        }
    }
    assert_eq!(
        w.app().largest_write,
        1024,
        "never more than a block at once"
    );
    assert_eq!(fnv(&w.app().flash), fnv(&img));
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert_eq!(w.read_text(w.s2, "/5/0/3"), (Code::CONTENT, "2".into()));
    let ev = w.firmware_events();
    assert_eq!(
        ev.first(),
        Some(&FirmwareEvent::StateChanged {
            state: State::Downloading,
            result: UpdateResult::Initial
        })
    );
    assert!(ev.contains(&FirmwareEvent::Progress {
        received: MIB2 as u64,
        total: None
    }));

    // Update: the 2.04 goes out before the application applies.
    let r = w.request(w.s1, Code::POST, "/5/0/2", |_| {});
    assert_eq!(code_of(&r), Code::CHANGED);
    assert!(!w.app().log.contains(&"apply".into()));
    assert_eq!(
        w.client.poll_timeout(),
        Some(w.now),
        "applied on the next step"
    );
    w.step();
    assert!(w.app().log.contains(&"apply".into()));
    assert_eq!(
        (w.state(), w.result()),
        (State::Idle, UpdateResult::Success)
    );
    assert_eq!(w.read_text(w.s1, "/5/0/5"), (Code::CONTENT, "1".into()));
}

#[test]
fn abandoned_push_rolls_back_to_idle_with_connection_lost() {
    let img = image(8 * 1024, 2);
    // 1. The transfer stops: it expires after EXCHANGE_LIFETIME.
    let mut w = World::new(App::default(), Vec::new());
    for num in 0..3 {
        assert_eq!(code_of(&w.push_block(&img, num, 6)), Code::CONTINUE);
    }
    assert_eq!(w.app().flash.len(), 3 * 1024);
    for _ in 0..20 {
        if w.state() == State::Idle {
            break;
        }
        w.now += Duration::from_secs(30);
        w.step();
    }
    assert_eq!(
        (w.state(), w.result()),
        (State::Idle, UpdateResult::ConnectionLost)
    );
    assert!(w.app().flash.is_empty(), "partial package discarded");
    assert_eq!(w.read_text(w.s2, "/5/0/5"), (Code::CONTENT, "4".into()));
    assert_eq!(
        w.state_events().last(),
        Some(&(State::Idle, UpdateResult::ConnectionLost))
    );

    // 2. A block out of order: 4.08, rolled back.
    let mut w = World::new(App::default(), Vec::new());
    assert_eq!(code_of(&w.push_block(&img, 0, 6)), Code::CONTINUE);
    assert_eq!(code_of(&w.push_block(&img, 1, 6)), Code::CONTINUE);
    assert_eq!(
        code_of(&w.push_block(&img, 3, 6)),
        Code::REQUEST_ENTITY_INCOMPLETE
    );
    assert_eq!(
        (w.state(), w.result()),
        (State::Idle, UpdateResult::ConnectionLost)
    );
    assert_eq!(w.read_text(w.s2, "/5/0/3"), (Code::CONTENT, "0".into()));

    // 3. Block 0 again: the old transfer is abandoned, the new one runs.
    let mut w = World::new(App::default(), Vec::new());
    assert_eq!(code_of(&w.push_block(&img, 0, 6)), Code::CONTINUE);
    assert_eq!(code_of(&w.push_block(&img, 1, 6)), Code::CONTINUE);
    for num in 0..8 {
        w.push_block(&img, num, 6);
    }
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert!(w.app().flash == img, "the same bytes");
    assert_eq!(
        w.state_events(),
        [
            (State::Downloading, UpdateResult::Initial),
            (State::Idle, UpdateResult::ConnectionLost),
            (State::Downloading, UpdateResult::Initial),
            (State::Downloaded, UpdateResult::Initial),
        ]
    );
}

#[test]
fn pull_of_2_mib_completes_with_the_same_bytes_while_serving() {
    let img = image(MIB2, 3);
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    // The link to the file server and the first GET went out on that call.
    let open = w.events.iter().find_map(|e| match e {
        Event::Open { link, uri } if uri.host == FILE_HOST => Some((*link, uri.clone())),
        _ => None,
    });
    let (link, uri) = open.expect("an Open for the file server");
    assert_eq!(
        (uri.port, uri.secure, uri.path.as_str()),
        (5683, false, "/fw/image.bin")
    );
    assert_eq!(w.client.download_link(), Some(link));
    let first = w.sent.iter().find(|(l, _)| *l == link).unwrap().1.clone();
    let m = Message::parse(&first).unwrap();
    assert_eq!(m.uri_path().collect::<Vec<_>>(), [&b"fw"[..], b"image.bin"]);
    assert_eq!(
        m.block2().unwrap().unwrap(),
        Block {
            num: 0,
            more: false,
            szx: 6
        }
    );
    assert_eq!(m.size2(), Some(0), "asks for the size (RFC 7959 §4)");
    assert_eq!(m.option(option::URI_HOST), Some(FILE_HOST.as_bytes()));
    // Half the file, then the DM servers are served between blocks.
    while w.app().flash.len() < MIB2 / 2 {
        w.deliver_one();
    }
    assert_eq!(w.read_text(w.s1, "/5/0/3"), (Code::CONTENT, "1".into()));
    assert_eq!(w.read_text(w.s2, "/3/0/0"), (Code::CONTENT, "Acme".into()));
    assert_eq!(
        w.client.firmware_download_state().map(|s| s.offset),
        Some((MIB2 / 2) as u64)
    );
    w.run_download(10);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert_eq!(w.app().flash.len(), MIB2);
    assert_eq!(fnv(&w.app().flash), fnv(&img));
    assert_eq!(w.app().largest_write, 1024);
    assert_eq!(
        w.app().log.first().map(String::as_str),
        Some("open Some(2097152)")
    );
    assert_eq!(w.files.asked.len(), MIB2 / 1024, "each block fetched once");
    assert!(w.events.contains(&Event::Close { link }));
    assert_eq!(w.client.download_link(), None);
    assert!(w.firmware_events().contains(&FirmwareEvent::Progress {
        received: MIB2 as u64,
        total: Some(MIB2 as u64)
    }));
    assert_eq!(w.read_text(w.s2, "/5/0/3"), (Code::CONTENT, "2".into()));
}

#[test]
fn pull_with_10_percent_loss_completes_in_virtual_time() {
    let img = image(MIB2, 4);
    let mut w = World::new(App::default(), img.clone());
    w.loss = Some((0.10, Rng::new(0x5eed)));
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    let start = w.now;
    w.run_download(100_000);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert_eq!(fnv(&w.app().flash), fnv(&img));
    assert!(w.lost > 300, "the link really lost datagrams: {}", w.lost);
    assert!(w.now > start, "retransmissions took virtual time");
}

#[test]
fn pull_survives_a_lost_connection_and_resumes_after_a_backoff() {
    let img = image(64 * 1024, 5);
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    // Half the file, then the file server goes silent.
    while w.app().flash.len() < 32 * 1024 {
        w.deliver_one();
    }
    let flash_at_cut = w.app().flash.len();
    w.loss = Some((1.0, Rng::new(1)));
    let cut = w.now;
    // CoAP gives up after MAX_TRANSMIT_WAIT; the link is closed and the
    // download waits out its back-off before opening a new one.
    let first = w.file_links[0];
    while !w.events.contains(&Event::Close { link: first }) {
        w.step();
        assert!(w.now < cut + Duration::from_secs(100));
    }
    let closed = w.now;
    // RFC 7252 §4.8.2: 62 to 93 s of retransmissions before giving up.
    assert!(closed >= cut + Duration::from_secs(62), "{closed:?}");
    assert_eq!(
        w.client.next_timer(),
        Some((closed + Duration::from_secs(4), TimerReason::Firmware))
    );
    while w.file_links.len() < 2 {
        w.step();
    }
    assert_eq!(w.state(), State::Downloading);
    assert_eq!(w.now, closed + Duration::from_secs(4), "after the back-off");
    w.loss = None;
    w.files.asked.clear();
    w.run_download(100);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert!(w.app().flash == img, "the same bytes");
    assert_eq!(
        w.files.asked.first().copied(),
        Some((flash_at_cut / 1024) as u32),
        "resumed from the next block, not from 0"
    );
}

#[test]
fn pull_resumes_after_a_client_restart() {
    let img = image(MIB2, 6);
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    while w.app().flash.len() < MIB2 / 2 {
        w.deliver_one();
    }
    // What the application persists: the object's download state (as the
    // state file's extra section) and its own storage.
    let saved = w.client.firmware_download_state().unwrap().to_vec();
    let flash = w.app().flash.clone();
    drop(w);

    let state = DownloadState::decode(&saved).unwrap();
    assert_eq!(
        (state.uri.as_str(), state.offset, state.etag.as_deref()),
        (FILE_URI, (MIB2 / 2) as u64, Some(&b"v1"[..]))
    );
    let app = App {
        flash,
        resumable: true,
        ..App::default()
    };
    let files = FileServer::new(img.clone());
    let mut w = World::with(app, files, |fw| fw.restore_download(state).unwrap());
    w.run_download(10);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert_eq!(fnv(&w.app().flash), fnv(&img));
    assert_eq!(w.files.asked.first(), Some(&((MIB2 / 2 / 1024) as u32)));
    assert_eq!(w.files.asked.len(), MIB2 / 2 / 1024, "only the second half");
    assert_eq!(
        w.app().log.first().map(String::as_str),
        Some("resume 1048576")
    );
    assert!(!w.app().log.iter().any(|l| l.starts_with("open")));

    // An application that lost its partial package starts over.
    let state = DownloadState::decode(&saved).unwrap();
    let files = FileServer::new(img.clone());
    let mut w = World::with(App::default(), files, |fw| {
        fw.restore_download(state).unwrap()
    });
    w.run_download(10);
    assert!(w.app().flash == img, "the same bytes");
    assert_eq!(w.files.asked.first(), Some(&0));
}

#[test]
fn a_changed_etag_restarts_the_download_from_zero() {
    let old = image(16 * 1024, 7);
    let new = image(20 * 1024, 8);
    let mut w = World::new(App::default(), old);
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    for _ in 0..5 {
        w.deliver_one();
    }
    assert_eq!(w.app().flash.len(), 5 * 1024);
    // The file is replaced on the server.
    w.files.body = new.clone();
    w.files.etag = b"v2".to_vec();
    w.files.asked.clear();
    w.run_download(10);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert_eq!(fnv(&w.app().flash), fnv(&new));
    // Block 5 came back with the new ETag; the client went back to 0.
    assert_eq!(&w.files.asked[..2], [5, 0]);
    assert_eq!(
        w.app().log.iter().filter(|l| l.starts_with("open")).count(),
        2
    );

    // The same after a restart: the saved ETag no longer matches.
    let state = DownloadState {
        uri: FILE_URI.into(),
        offset: 4096,
        etag: Some(b"v1".to_vec()),
    };
    let app = App {
        flash: image(4096, 9),
        resumable: true,
        ..App::default()
    };
    let mut files = FileServer::new(new.clone());
    files.etag = b"v2".to_vec();
    let mut w = World::with(app, files, |fw| fw.restore_download(state).unwrap());
    w.run_download(10);
    assert_eq!(fnv(&w.app().flash), fnv(&new));
    assert_eq!(&w.files.asked[..2], [4, 0]);
}

/// Runs a PULL to its end and returns the Update Result as server 2 reads
/// it.
fn pull_result(w: &mut World, uri: &str) -> String {
    assert_eq!(w.write_uri(uri), Code::CHANGED, "{uri}");
    w.run_download(200);
    assert_eq!(w.state(), State::Idle);
    let (code, text) = w.read_text(w.s2, "/5/0/5");
    assert_eq!(code, Code::CONTENT);
    text
}

#[test]
fn every_pull_error_reaches_its_update_result() {
    let img = image(8 * 1024, 10);
    let app = |f: fn(&mut App)| {
        let mut a = App::default();
        f(&mut a);
        a
    };
    // 2: not enough storage, from the announced size ...
    let mut w = World::new(app(|a| a.capacity = 4096), img.clone());
    assert_eq!(pull_result(&mut w, FILE_URI), "2");
    // ... from the bytes written (a server that never tells the size) ...
    let mut files = FileServer::new(img.clone());
    files.size2 = false;
    let mut w = World::with(app(|a| a.capacity = 4096), files, |_| {});
    assert_eq!(pull_result(&mut w, FILE_URI), "2");
    assert_eq!(w.app().log.first().map(String::as_str), Some("open None"));
    // ... and beyond the engine's bound.
    let mut w = World::new(App::default(), img.clone());
    let policy = DownloadPolicy {
        max_size: 4096,
        ..DownloadPolicy::default()
    };
    w.client.set_download_policy(policy);
    assert_eq!(pull_result(&mut w, FILE_URI), "2");
    // 3: out of memory.
    let mut w = World::new(
        app(|a| a.fail_open = Some(FirmwareError::OutOfRam)),
        img.clone(),
    );
    assert_eq!(pull_result(&mut w, FILE_URI), "3");
    // 5: integrity check failure.
    let mut w = World::new(
        app(|a| a.fail_verify = Some(FirmwareError::IntegrityCheckFailure)),
        img.clone(),
    );
    assert_eq!(pull_result(&mut w, FILE_URI), "5");
    assert!(w.app().flash.is_empty());
    // 6: unsupported package type.
    let first = img[0];
    let mut w = World::new(App::default(), img.clone());
    w.client
        .object_mut(w.fw)
        .unwrap()
        .app_mut::<App>()
        .unwrap()
        .reject_first_byte = Some(first);
    assert_eq!(pull_result(&mut w, FILE_URI), "6");
    // 7: invalid URI: malformed, not on the server, bad escapes.
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(pull_result(&mut w, "coap://files.example:0/x"), "7");
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(pull_result(&mut w, "coap://files.example/nothing"), "7");
    let mut w = World::new(App::default(), img.clone());
    assert_eq!(pull_result(&mut w, "coap://files.example/fw/%zz"), "7");
    // 9: unsupported protocol: HTTP(S), and CoAPS without a DTLS backend.
    for uri in [
        "http://files.example/fw",
        "https://files.example/fw",
        "coaps://files.example/fw",
    ] {
        let mut w = World::new(App::default(), img.clone());
        assert_eq!(pull_result(&mut w, uri), "9", "{uri}");
        assert!(w.file_links.is_empty(), "no link opened for {uri}");
    }
}

#[test]
fn connection_lost_for_good_is_result_4_after_bounded_retries() {
    let img = image(8 * 1024, 11);
    let mut w = World::new(App::default(), img);
    w.loss = Some((1.0, Rng::new(2)));
    let policy = DownloadPolicy {
        max_retries: 2,
        ..DownloadPolicy::default()
    };
    w.client.set_download_policy(policy);
    assert_eq!(pull_result(&mut w, FILE_URI), "4");
    assert_eq!(w.file_links.len(), 3, "the first attempt and two retries");
    for l in &w.file_links {
        assert!(w.events.contains(&Event::Close { link: *l }));
    }
    assert_eq!(w.client.download_link(), None);
    // 5.03 from the file server counts as a lost connection too.
    let mut w = World::new(App::default(), image(4096, 12));
    w.files.fail = Some(Code::SERVICE_UNAVAILABLE);
    w.client.set_download_policy(policy);
    assert_eq!(pull_result(&mut w, FILE_URI), "4");
}

#[test]
fn update_failure_is_result_8_and_the_package_stays() {
    let img = image(4096, 13);
    let app = App {
        apply: Some(Err(FirmwareError::UpdateFailed)),
        ..App::default()
    };
    let mut w = World::new(app, img.clone());
    assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
    w.run_download(10);
    assert_eq!(w.state(), State::Downloaded);
    assert_eq!(
        code_of(&w.request(w.s1, Code::POST, "/5/0/2", |_| {})),
        Code::CHANGED
    );
    w.step();
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::UpdateFailed)
    );
    assert_eq!(w.read_text(w.s2, "/5/0/5"), (Code::CONTENT, "8".into()));
    assert!(w.app().flash == img, "the same bytes");
    // Pending across a "reboot": reported by the application later.
    let app = App {
        apply: Some(Ok(Applied::Pending)),
        ..App::default()
    };
    let mut w = World::new(app, img);
    w.write_uri(FILE_URI);
    w.run_download(10);
    w.request(w.s1, Code::POST, "/5/0/2", |_| {});
    w.step();
    assert_eq!(w.state(), State::Updating);
    w.client.object_mut(w.fw).unwrap().update_finished(Ok(()));
    w.client.notify_changed(Path::instance(5, 0));
    assert_eq!(w.read_text(w.s2, "/5/0/5"), (Code::CONTENT, "1".into()));
}

#[test]
fn reset_or_cancel_during_a_pull_drops_the_download() {
    let img = image(64 * 1024, 14);
    for (how, want) in [("reset", "0"), ("cancel", "10")] {
        let mut w = World::new(App::default(), img.clone());
        assert_eq!(w.write_uri(FILE_URI), Code::CHANGED);
        let link = w.client.download_link().unwrap();
        let r = match how {
            "reset" => w.request(w.s1, Code::PUT, "/5/0/1", |b| {
                b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
            }),
            _ => w.request(w.s1, Code::POST, "/5/0/10", |_| {}),
        };
        assert_eq!(code_of(&r), Code::CHANGED, "{how}");
        assert_eq!(w.state(), State::Idle);
        assert!(w.events.contains(&Event::Close { link }), "{how}");
        assert_eq!(w.client.download_link(), None);
        assert_eq!(w.read_text(w.s2, "/5/0/5"), (Code::CONTENT, want.into()));
        assert!(w.app().log.contains(&"reset".into()));
        // Nothing more goes to the file server.
        w.step();
        assert!(!w.sent.iter().any(|(l, _)| *l == link));
    }
}

#[test]
fn state_changes_notify_observers_of_the_firmware_object() {
    let img = image(4096, 15);
    let mut w = World::new(App::default(), img);
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 7, &[7]).unwrap();
    b.uint_option(option::OBSERVE, 0).unwrap();
    for seg in [&b"5"[..], b"0", b"3"] {
        b.option(option::URI_PATH, seg).unwrap();
    }
    b.uint_option(option::ACCEPT, 0).unwrap();
    let n = b.finish();
    w.client.handle_datagram(w.now, w.s2, &buf[..n]);
    w.drain();
    let first = w.sent.pop().unwrap().1;
    let m = Message::parse(&first).unwrap();
    assert_eq!((m.code(), m.payload()), (Code::CONTENT, &b"0"[..]));
    assert_eq!(w.client.observation_count(), 1);
    w.write_uri(FILE_URI);
    w.run_download(10);
    w.step();
    let notes: Vec<Vec<u8>> = w
        .sent
        .iter()
        .filter(|(l, r)| *l == w.s2 && Message::parse(r).is_ok_and(|m| m.observe().is_some()))
        .map(|(_, r)| Message::parse(r).unwrap().payload().to_vec())
        .collect();
    assert_eq!(
        notes.last().map(Vec::as_slice),
        Some(&b"2"[..]),
        "{notes:?}"
    );
}

/// A DTLS stand-in: established at once, records are the plaintext. It
/// records the credentials each session was opened with.
struct ClearSession;

impl crate::session::Session for ClearSession {
    fn start(&mut self, _: Instant) -> Result<(), crate::session::SessionError> {
        Ok(())
    }
    fn handle_datagram(
        &mut self,
        _: Instant,
        record: &[u8],
        out: &mut [u8],
    ) -> Result<Option<usize>, crate::session::SessionError> {
        out[..record.len()].copy_from_slice(record);
        Ok(Some(record.len()))
    }
    fn encrypt(&mut self, p: &[u8], out: &mut [u8]) -> Result<usize, crate::session::SessionError> {
        out[..p.len()].copy_from_slice(p);
        Ok(p.len())
    }
    fn poll_transmit(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn state(&self) -> crate::session::SessionState {
        crate::session::SessionState::Established
    }
    fn close(&mut self) {}
    fn max_plaintext(&self) -> usize {
        1200
    }
    fn stats(&self) -> crate::session::SessionStats {
        crate::session::SessionStats::default()
    }
}

#[derive(Default)]
struct ClearFactory {
    identities: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl crate::session::SessionFactory for ClearFactory {
    fn open(
        &self,
        params: &crate::session::ClientParams<'_>,
    ) -> Result<alloc::boxed::Box<dyn crate::session::Session>, crate::session::SessionError> {
        self.identities
            .lock()
            .unwrap()
            .push(params.identity.to_vec());
        Ok(alloc::boxed::Box::new(ClearSession))
    }
}

#[test]
fn coaps_pull_uses_the_credentials_of_the_security_instance_for_that_host() {
    let img = image(8 * 1024, 16);
    let factory = alloc::sync::Arc::new(ClearFactory::default());
    let mut config = Config::new("fw-ep");
    config.sessions = Some(factory.clone());
    let mut client = Client::new(config, T0, 11).unwrap();
    let sec = Security::new(4)
        .with(SecurityInstance::server(1, 101, "coap://s1.example"))
        .with(SecurityInstance::server(2, 102, "coap://s2.example"))
        .with(
            SecurityInstance::server(3, 103, "coaps://FILES.example:5690").with_psk(b"fw-id", b"k"),
        );
    client.add_object(sec).unwrap();
    let srv = Server::new(4)
        .with(ServerInstance::new(0, 101, 86400))
        .with(ServerInstance::new(1, 102, 86400));
    client.add_object(srv).unwrap();
    client
        .add_object(Device::new(StaticDeviceInfo::default()))
        .unwrap();
    let fw = client.add_object(Firmware::new(App::default())).unwrap();
    let mut w = World {
        client,
        fw,
        now: T0,
        sent: Vec::new(),
        events: Vec::new(),
        files: FileServer::new(img.clone()),
        file_links: Vec::new(),
        loss: None,
        lost: 0,
        mid: 0x200,
        s1: LinkId(0),
        s2: LinkId(0),
    };
    w.register();
    assert_eq!(
        w.write_uri("coaps://files.example/fw/image.bin"),
        Code::CHANGED
    );
    let uri = w.events.iter().find_map(|e| match e {
        Event::Open { uri, .. } if uri.host == FILE_HOST => Some(uri.clone()),
        _ => None,
    });
    assert_eq!(uri.map(|u| (u.secure, u.port)), Some((true, 5684)));
    assert_eq!(*factory.identities.lock().unwrap(), [b"fw-id".to_vec()]);
    w.run_download(10);
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Initial)
    );
    assert!(w.app().flash == img, "the same bytes");
    // A host no Security instance names: no credentials, result 9.
    w.request(w.s1, Code::PUT, "/5/0/1", |b| {
        b.uint_option(option::CONTENT_FORMAT, 0).unwrap();
    });
    assert_eq!(pull_result(&mut w, "coaps://other.example/fw"), "9");
}

#[test]
fn a_deferred_update_is_applied_when_the_user_accepts_it() {
    let app = App {
        apply: Some(Ok(Applied::Deferred)),
        ..App::default()
    };
    let mut w = World::new(app, image(4096, 17));
    w.write_uri(FILE_URI);
    w.run_download(10);
    w.request(w.s1, Code::POST, "/5/0/2", |_| {});
    w.step();
    assert_eq!(
        (w.state(), w.result()),
        (State::Downloaded, UpdateResult::Deferred)
    );
    assert_eq!(w.read_text(w.s2, "/5/0/5"), (Code::CONTENT, "11".into()));
    // Later, between two inputs, the user accepts: the client asks to run
    // at once and applies on its own.
    let f = w.client.object_mut(w.fw).unwrap();
    f.app_mut::<App>().unwrap().apply = None;
    assert!(f.request_update());
    assert_eq!(w.client.next_timer(), Some((w.now, TimerReason::Firmware)));
    w.step();
    w.step();
    assert_eq!(
        (w.state(), w.result()),
        (State::Idle, UpdateResult::Success)
    );
    assert_eq!(
        w.app().log.iter().filter(|l| *l == "apply").count(),
        2,
        "deferred once, applied once"
    );
}
