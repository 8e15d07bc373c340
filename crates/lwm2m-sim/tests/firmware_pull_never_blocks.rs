//! SPEC §1 guarantee 8, "Firmware PULL never blocks":
//!
//! > Downloading from the Package URI (coap, coaps; http(s) where offered)
//! > is a sequence of scheduled steps interleaved with normal serving,
//! > resumable after a lost connection, with progress reported to the
//! > application.
//!
//! A client registered with two bundled servers (s1, s2: `lwm2m-server`'s
//! real core) is told by s1 to download a 2 MiB image from a third bundled
//! server acting as a CoAP file server (`coap://files:5683/fw/image.bin`,
//! Block2 with an ETag), over paths that lose 10% of the datagrams. The
//! image must arrive byte for byte (the device's app verifies its digest and
//! the test compares the flash), with progress reported, while s2's Reads
//! of /3/0 every 10 s are answered within one round trip (s2 probes over a
//! clean path, so the latency is the client's alone); across a client
//! restart half way (resuming from the saved offset: the file server is
//! asked only for the rest) and across an outage of the file server's path
//! (resuming after the back-off from the next block).
//!
//! Each test has a fixed seed, printed by every assertion;
//! `LWM2M_SIM_SEED` replays another, and `scan_seeds` runs all four over
//! `LWM2M_SIM_SEEDS` more seeds (3 by default).
//!
//! The file server is a node of its own: the simulated client has one
//! address, and [`lwm2m_sim::ClientNode`] routes arriving datagrams to a
//! link by their source, so two links to one address could not be told
//! apart (a real driver gives each link its own socket).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use lwm2m_core::client::{Client, DownloadPolicy, Event, LinkId};
use lwm2m_core::coap::{Code, TransmissionParams};
use lwm2m_core::content::Entry;
use lwm2m_core::dm::{Handle, ObjectEvent, Path, Value};
use lwm2m_core::objects::firmware::{DownloadState, Firmware, FirmwareEvent, State, UpdateResult};
use lwm2m_core::persist::{self, Extra, extra_kind};
use lwm2m_core::rand::Rng;
use lwm2m_core::time::Duration;
use lwm2m_server::core::{MemFiles, Operation, ReqId};
use lwm2m_sim::firmware::digest;
use lwm2m_sim::{Addr, ClientNode, FlashApp, LinkProfile, ServerNode, World};

/// The client's endpoint name.
const EP: &str = "fw-dev";
/// The file server's address (`coap://files:5683`).
const FILES: Addr = Addr(400);
/// The Package URI s1 writes.
const URI: &str = "coap://files:5683/fw/image.bin";
/// The image's name on the file server.
const NAME: &str = "image.bin";
/// Image size: 2 MiB, 2048 blocks of 1 KiB.
const SIZE: usize = 2 * 1024 * 1024;
const BLOCK: usize = 1024;
const BLOCKS: u32 = (SIZE / BLOCK) as u32;
/// How often s2 reads /3/0 while the download runs.
const READ_EVERY: Duration = Duration::from_secs(10);
/// How soon s2's Reads must be answered: one round trip on its clean path
/// (at most 2 × 20 ms), with room to spare; a client held by the download
/// would answer after it, minutes later.
const PROMPT: Duration = Duration::from_millis(100);

/// The seed of a test: its own, or `LWM2M_SIM_SEED` to replay another.
fn seed(fixed: u64) -> u64 {
    std::env::var("LWM2M_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(fixed)
}

fn image(seed: u64) -> Vec<u8> {
    let mut img = vec![0u8; SIZE];
    Rng::new(seed).fill(&mut img);
    img
}

/// RFC 7252 §4.8.2 MAX_TRANSMIT_WAIT: the longest one Confirmable exchange
/// can take before the requester gives up (93 s with the defaults). A
/// request that waits for a download to end would take far longer.
fn exchange_bound() -> Duration {
    TransmissionParams::default().max_transmit_wait()
}

struct Sim {
    w: World,
    fw: Handle<Firmware>,
    img: Vec<u8>,
    seed: u64,
}

/// A client with two DM accounts (s1, s2), the Device object and the
/// Firmware Update object over a [`FlashApp`] expecting `img`.
fn device(w: &World, seed: u64, img: &[u8], flash: Vec<u8>) -> (Client, Handle<Firmware>) {
    let mut c = client(w, EP, seed, &two_accounts(), false);
    let app = FlashApp::expecting(digest(img)).resuming(flash);
    let fw = c.add_object(Firmware::new(app)).unwrap();
    (c, fw)
}

fn client_node(c: Client) -> ClientNode {
    node(c).resolve("files", 5683, FILES)
}

/// Everything on paths with `loss`, the client registered with s1 and s2.
fn setup(seed: u64, loss: f64) -> Sim {
    let img = image(seed);
    let mut w = World::new(seed, LinkProfile::lossy(loss));
    let (c, fw) = device(&w, seed, &img, Vec::new());
    w.add_node_at(C, client_node(c));
    w.add_node_at(S1, ServerNode::dm(seed + 1));
    w.add_node_at(S2, ServerNode::dm(seed + 2));
    let mut files = MemFiles::default();
    files.insert(NAME, img.clone());
    w.add_node_at(FILES, ServerNode::dm(seed + 3).serve_files(files));
    // s2 probes the client over a clean path, so that a Read's latency
    // measures the client alone.
    w.net().set_profile(C, S2, LinkProfile::lossy(0.0));
    w.net().set_profile(S2, C, LinkProfile::lossy(0.0));
    let end = w.now() + Duration::from_secs(300);
    let r = w.run_until(end, |w| {
        let c = &cn(w, C).client;
        c.is_registered(1)
            && c.is_registered(2)
            && sn(w, S1).is_registered(EP)
            && sn(w, S2).is_registered(EP)
    });
    assert_eq!(r, Ok(()), "seed {seed}: registration");
    Sim { w, fw, img, seed }
}

fn sn(w: &World, a: Addr) -> &ServerNode {
    w.node::<ServerNode>(a).unwrap()
}

fn request(w: &mut World, s: Addr, op: Operation) -> ReqId {
    w.with::<ServerNode, _>(s, |n, now| n.request(now, EP, op))
        .unwrap()
        .unwrap()
}

/// The code of the response to `id` at `s` (0.00 for a failed request),
/// once it came.
fn answered(w: &World, s: Addr, id: ReqId) -> Option<Code> {
    sn(w, s).events.iter().find_map(|(_, e)| match e {
        lwm2m_server::ServerEvent::Response {
            request, result, ..
        } if *request == id => Some(result.as_ref().map_or(Code::EMPTY, |r| r.code)),
        _ => None,
    })
}

impl Sim {
    fn fw_object(&self) -> &Firmware {
        cn(&self.w, C).client.object(self.fw).unwrap()
    }

    fn state(&self) -> (State, UpdateResult) {
        let f = self.fw_object();
        (f.state(), f.update_result())
    }

    fn app(&self) -> &FlashApp {
        self.fw_object().app::<FlashApp>().unwrap()
    }

    fn stored(&self) -> usize {
        self.app().flash.len()
    }

    /// Runs until at least `bytes` of the image are stored.
    fn run_until_stored(&mut self, bytes: usize) {
        let fw = self.fw;
        let end = self.w.now() + Duration::from_secs(4 * 3600);
        let r = self.w.run_until(end, |w| {
            let f = cn(w, C).client.object(fw).unwrap();
            f.app::<FlashApp>().unwrap().flash.len() >= bytes
        });
        assert_eq!(r, Ok(()), "seed {}: {bytes} bytes stored", self.seed);
    }

    /// s1 writes the Package URI; the write is answered 2.04.
    fn write_uri(&mut self) {
        let path = Path::resource(5, 0, 1);
        let op = Operation::Write {
            path,
            replace: true,
            format: None,
            entries: vec![Entry::new(path, Value::str(URI).into_owned())],
        };
        let id = request(&mut self.w, S1, op);
        let end = self.w.now() + exchange_bound();
        let seed = self.seed;
        self.w
            .run_until(end, |w| answered(w, S1, id).is_some())
            .unwrap_or_else(|e| panic!("seed {seed}: write of /5/0/1: {e:?}"));
        assert_eq!(answered(&self.w, S1, id), Some(Code::CHANGED));
        assert_eq!(self.state().0, State::Downloading, "seed {seed}");
    }

    /// s2 reads /3/0 over its clean path: the answer must come within
    /// [`PROMPT`], one round trip, whatever the download is doing.
    fn read_device(&mut self) {
        let t0 = self.w.now();
        let id = request(
            &mut self.w,
            S2,
            Operation::Read {
                path: Path::instance(3, 0),
                accept: None,
            },
        );
        let seed = self.seed;
        let r = self
            .w
            .run_until(t0 + PROMPT, |w| answered(w, S2, id).is_some());
        assert_eq!(
            r,
            Ok(()),
            "seed {seed}: Read /3/0 at {t0:?} unanswered within {PROMPT:?}; {} bytes stored, {:?}",
            self.stored(),
            self.state()
        );
        assert_eq!(
            answered(&self.w, S2, id),
            Some(Code::CONTENT),
            "seed {seed}: Read /3/0 at {t0:?}"
        );
    }

    /// Reads /3/0 every [`READ_EVERY`] until `done` holds (failing after
    /// `within`); returns how many reads were answered while the download
    /// was running.
    fn read_while(&mut self, within: Duration, mut done: impl FnMut(&Sim) -> bool) -> usize {
        let end = self.w.now() + within;
        let mut during = 0;
        while !done(self) {
            assert!(
                self.w.now() < end,
                "seed {}: not done by {end:?}; {} bytes stored, {:?}",
                self.seed,
                self.stored(),
                self.state()
            );
            let next = self.w.now() + READ_EVERY;
            self.read_device();
            if self.state().0 == State::Downloading {
                during += 1;
            }
            let fw = self.fw;
            let _ = self.w.run_until(next, |w| {
                cn(w, C).client.object(fw).unwrap().state() != State::Downloading
            });
        }
        during
    }

    fn downloaded(&self) -> bool {
        self.state().0 != State::Downloading
    }

    /// The image arrived whole: Downloaded, the app's digest check passed,
    /// the flash holds exactly the image, written in order.
    fn assert_same_bytes(&self) {
        let seed = self.seed;
        assert_eq!(
            self.state(),
            (State::Downloaded, UpdateResult::Initial),
            "seed {seed}: {:?}",
            self.app().log
        );
        let app = self.app();
        assert!(app.did("verify"), "seed {seed}");
        assert_eq!(app.misplaced, 0, "seed {seed}: writes out of order");
        assert_eq!(app.flash.len(), SIZE, "seed {seed}");
        assert_eq!(digest(&app.flash), digest(&self.img), "seed {seed}");
        assert!(app.flash == self.img, "seed {seed}: not the same bytes");
        assert_eq!(app.largest_write, BLOCK, "seed {seed}: 1 KiB blocks");
    }

    /// The client's firmware events from index `from` on.
    fn fw_events(&self, from: usize) -> Vec<FirmwareEvent> {
        cn(&self.w, C).events[from..]
            .iter()
            .filter_map(|e| match e {
                Event::Object(ObjectEvent::Firmware(f)) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// The links the client opened to the file server.
    fn file_links(&self) -> Vec<LinkId> {
        cn(&self.w, C)
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Open { link, uri } if uri.host == "files" => Some(*link),
                _ => None,
            })
            .collect()
    }
}

/// The Progress events are increasing, end at the whole size, and came
/// block by block (coalesced at most), with the total known throughout (a
/// resumed download asks for Size2 with every block, RFC 7959 §4).
fn assert_progress(events: &[FirmwareEvent], from: u64, seed: u64) {
    let progress: Vec<(u64, Option<u64>)> = events
        .iter()
        .filter_map(|e| match e {
            FirmwareEvent::Progress { received, total } => Some((*received, *total)),
            _ => None,
        })
        .collect();
    let blocks = (SIZE as u64 - from) / BLOCK as u64;
    assert!(
        progress.len() as u64 >= blocks / 2,
        "seed {seed}: {} progress events for {blocks} blocks",
        progress.len()
    );
    assert!(
        progress
            .first()
            .is_some_and(|p| p.0 > from && p.0 <= from + 2 * BLOCK as u64),
        "seed {seed}: first progress {:?} after {from}",
        progress.first()
    );
    assert!(
        progress.windows(2).all(|p| p[0].0 < p[1].0),
        "seed {seed}: progress goes forward"
    );
    assert_eq!(
        progress.last().map(|p| p.0),
        Some(SIZE as u64),
        "seed {seed}"
    );
    for (received, total) in &progress {
        assert!(
            *total == Some(SIZE as u64),
            "seed {seed}: total {total:?} at {received}"
        );
    }
    assert!(
        events.contains(&FirmwareEvent::StateChanged {
            state: State::Downloaded,
            result: UpdateResult::Initial
        }),
        "seed {seed}: Downloaded reported"
    );
}

/// 2 MiB pulled from the bundled file server through 10% loss arrive byte
/// for byte, with progress reported; meanwhile s2 reads /3/0 every 10 s and
/// every read is answered within one round trip: the download never holds
/// the client.
#[test]
fn pull_of_2_mib_under_loss_completes_while_reads_are_served() {
    pull_of_2_mib_under_loss_completes_while_reads_are_served_with(seed(81));
}

fn pull_of_2_mib_under_loss_completes_while_reads_are_served_with(seed: u64) {
    let mut s = setup(seed, 0.10);
    let events_before = cn(&s.w, C).events.len();
    let start = s.w.now();
    s.write_uri();
    let during = s.read_while(Duration::from_secs(4 * 3600), Sim::downloaded);
    let took = s.w.now() - start;
    s.assert_same_bytes();
    assert_progress(&s.fw_events(events_before), 0, seed);

    // The download took many exchanges' worth of time, and s2's Reads
    // were answered within a round trip all along.
    assert!(
        took > exchange_bound() * 5,
        "seed {seed}: the download took only {took:?}"
    );
    assert!(
        during >= 50,
        "seed {seed}: {during} reads overlapped the download"
    );

    // The loss was real and the file server saw every block at least once,
    // some more than once (retransmissions), and only blocks of this file.
    let net = s.w.net().stats();
    assert!(net.lost * 20 >= net.sent, "seed {seed}: {net:?}");
    let files = sn(&s.w, FILES);
    assert_eq!(
        files.blocks_asked(NAME, start),
        (0..BLOCKS).collect::<Vec<_>>()
    );
    assert!(files.file_gets.len() > BLOCKS as usize, "seed {seed}");
    assert!(
        files
            .file_gets
            .iter()
            .all(|g| g.name == NAME && g.from == C)
    );
    // One download from byte 0 (a block that met five losses in a row
    // costs a reconnection, not a restart); its links are all closed.
    assert_eq!(
        s.app().log.iter().filter(|l| l.starts_with("open")).count(),
        1,
        "seed {seed}: {:?}",
        s.app().log
    );
    for link in s.file_links() {
        assert!(cn(&s.w, C).saw(&Event::Close { link }), "seed {seed}");
    }
    assert_eq!(cn(&s.w, C).client.download_link(), None);
}

/// Half way through, the client is restarted: the application persisted
/// the download state (as the state file's extra section) and keeps its
/// flash. The new client, restored from the state file, resumes at the
/// saved offset: the file server is asked only for the remaining blocks,
/// the application is asked to resume, never to open, and the image
/// arrives byte for byte.
#[test]
fn pull_resumes_from_the_saved_offset_after_a_restart() {
    pull_resumes_from_the_saved_offset_after_a_restart_with(seed(82));
}

fn pull_resumes_from_the_saved_offset_after_a_restart_with(seed: u64) {
    let mut s = setup(seed, 0.10);
    s.write_uri();
    s.run_until_stored(SIZE / 2);

    // What the application saves: the state file with the download as an
    // extra section, and its flash.
    let client = &cn(&s.w, C).client;
    let state = client.firmware_download_state().unwrap();
    let offset = state.offset;
    assert_eq!(offset as usize, s.stored(), "seed {seed}");
    assert_eq!(offset % BLOCK as u64, 0, "seed {seed}");
    assert_eq!(state.uri, URI);
    assert!(state.etag.is_some(), "seed {seed}: the file's ETag is kept");
    let saved = state.to_vec();
    let file = persist::save_to_vec(
        client.registry(),
        client.attributes(),
        &persist::DEFAULT_OBJECTS,
        &[Extra::new(extra_kind::FIRMWARE_DOWNLOAD, &saved)],
        1 << 16,
    )
    .unwrap();
    let flash = cn_mut(&mut s.w, C)
        .client
        .object_mut(s.fw)
        .unwrap()
        .app_mut::<FlashApp>()
        .unwrap()
        .take_flash();

    // The restart: a new client from the factory configuration, the state
    // file loaded over it, the download restored.
    let restart = s.w.now();
    let (mut c, fw) = device(&s.w, seed + 100, &s.img, flash);
    let mut attrs = c.attributes().clone();
    persist::load(&file, c.registry_mut(), &mut attrs).unwrap();
    *c.attributes_mut() = attrs;
    let extra = persist::extras(&file)
        .unwrap()
        .find(|e| e.kind == extra_kind::FIRMWARE_DOWNLOAD)
        .unwrap();
    let restored = DownloadState::decode(extra.data).unwrap();
    assert_eq!(restored, state);
    c.object_mut(fw)
        .unwrap()
        .restore_download(restored)
        .unwrap();
    let events_before = cn(&s.w, C).events.len();
    s.w.with::<ClientNode, _>(C, |n, _| drop(n.replace_client(c)));
    s.fw = fw;

    let end = s.w.now() + Duration::from_secs(300);
    s.w.run_until(end, |w| {
        let c = &cn(w, C).client;
        c.is_registered(1) && c.is_registered(2)
    })
    .unwrap_or_else(|e| panic!("seed {seed}: registered again: {e:?}"));
    let during = s.read_while(Duration::from_secs(4 * 3600), Sim::downloaded);
    s.assert_same_bytes();
    assert!(during >= 20, "seed {seed}: {during} reads during the rest");
    let app = s.app();
    assert_eq!(
        app.log.first().map(String::as_str),
        Some(format!("resume {offset}").as_str()),
        "seed {seed}: {:?}",
        app.log
    );
    assert!(
        !app.log.iter().any(|l| l.starts_with("open")),
        "seed {seed}: the new client started over: {:?}",
        app.log
    );
    assert_eq!(app.writes, (SIZE as u64 - offset) / BLOCK as u64);
    assert_progress(&s.fw_events(events_before), offset, seed);

    // Only the remainder was asked for after the restart, each block at
    // least once and nothing before the offset.
    let first = (offset / BLOCK as u64) as u32;
    let files = sn(&s.w, FILES);
    assert_eq!(
        files.blocks_asked(NAME, restart),
        (first..BLOCKS).collect::<Vec<_>>(),
        "seed {seed}"
    );
    let after: Vec<_> = files.file_gets.iter().filter(|g| g.at >= restart).collect();
    assert!(
        after.len() < (BLOCKS - first) as usize * 3 / 2,
        "seed {seed}: {} GETs for {} blocks",
        after.len(),
        BLOCKS - first
    );
}

/// Mid-download the file server's path goes dark for 150 s (the DM
/// servers' paths stay up): reads of /3/0 go on being answered; the CoAP
/// layer gives up on the block after MAX_TRANSMIT_WAIT, the link is
/// closed, a new one is opened after the back-off, and once the path is
/// back the download continues from the next block, not from the start.
#[test]
fn pull_resumes_after_the_connection_is_lost() {
    pull_resumes_after_the_connection_is_lost_with(seed(83));
}

fn pull_resumes_after_the_connection_is_lost_with(seed: u64) {
    let mut s = setup(seed, 0.10);
    s.write_uri();
    s.run_until_stored(SIZE / 4);

    let outage = Duration::from_secs(150);
    let cut = s.w.now();
    let dark = LinkProfile::lossy(1.0);
    s.w.net().set_profile(C, FILES, dark);
    s.w.net().set_profile(FILES, C, dark);
    let links_at_cut = s.file_links();
    let link_at_cut = *links_at_cut.last().unwrap();
    let reads_dark = s.read_while(outage, |s| s.w.now() >= cut + outage);
    let heal = s.w.now();
    s.w.net().set_profile(C, FILES, LinkProfile::lossy(0.10));
    s.w.net().set_profile(FILES, C, LinkProfile::lossy(0.10));
    let stored_at_heal = s.stored();
    assert!(
        reads_dark >= 14,
        "seed {seed}: s2 served through the outage: {reads_dark} reads"
    );
    // Nothing arrived while dark beyond what was in flight at the cut.
    assert!(
        stored_at_heal <= SIZE / 4 + 2 * BLOCK,
        "seed {seed}: {stored_at_heal}"
    );
    // The link in use was given up and another opened (after the first
    // failure's back-off of 4 s, a second one fails after 62 to 93 s more).
    assert!(
        cn(&s.w, C).saw(&Event::Close { link: link_at_cut }),
        "seed {seed}: the lost link was closed"
    );
    let opened = s.file_links().len() - links_at_cut.len();
    assert!(
        (1..=2).contains(&opened),
        "seed {seed}: {opened} links opened in the outage"
    );
    assert_eq!(s.state().0, State::Downloading, "seed {seed}");

    let during = s.read_while(Duration::from_secs(4 * 3600), Sim::downloaded);
    s.assert_same_bytes();
    assert!(during >= 20, "seed {seed}: {during} reads after the outage");
    let app = s.app();
    assert_eq!(
        app.log.iter().filter(|l| l.starts_with("open")).count(),
        1,
        "seed {seed}: never started over: {:?}",
        app.log
    );
    // After the outage only blocks from the next one on were asked for.
    let next = (stored_at_heal / BLOCK) as u32;
    let asked = sn(&s.w, FILES).blocks_asked(NAME, heal);
    assert_eq!(
        asked,
        (next..BLOCKS).collect::<Vec<_>>(),
        "seed {seed}: resumed at block {next}"
    );
}

/// The back-off between the lost link and the next: the file server's
/// path is cut for good; the link is closed after MAX_TRANSMIT_WAIT and
/// the next opened [`DownloadPolicy::backoff`] later, doubling each time,
/// until the retries are spent and the download ends with Update Result 4
/// (connection lost).
#[test]
fn pull_backs_off_between_reconnections_and_gives_up_with_result_4() {
    pull_backs_off_between_reconnections_and_gives_up_with_result_4_with(seed(84));
}

fn pull_backs_off_between_reconnections_and_gives_up_with_result_4_with(seed: u64) {
    let mut s = setup(seed, 0.0);
    let policy = DownloadPolicy::default();
    s.write_uri();
    s.run_until_stored(64 * BLOCK);
    let dark = LinkProfile::lossy(1.0);
    s.w.net().set_profile(C, FILES, dark);
    s.w.net().set_profile(FILES, C, dark);

    // Each link's close and the next one's open, in virtual time.
    let mut closes = Vec::new();
    let mut opens = Vec::new();
    let end = s.w.now() + Duration::from_secs(3600);
    loop {
        let links = s.file_links();
        let last = *links.last().unwrap();
        let r = s.w.run_until(end, |w| {
            cn(w, C).saw(&Event::Close { link: last })
                || cn(w, C).client.object(s.fw).unwrap().state() != State::Downloading
        });
        assert_eq!(r, Ok(()), "seed {seed}");
        closes.push(s.w.now());
        if s.state().0 != State::Downloading {
            break;
        }
        let n = links.len();
        s.w.run_until(end, |w| {
            cn(w, C)
                .events
                .iter()
                .filter(|e| matches!(e, Event::Open { uri, .. } if uri.host == "files"))
                .count()
                > n
        })
        .unwrap();
        opens.push(s.w.now());
    }
    assert_eq!(
        s.state(),
        (State::Idle, UpdateResult::ConnectionLost),
        "seed {seed}"
    );
    assert_eq!(opens.len(), usize::from(policy.max_retries), "seed {seed}");
    for (i, open) in opens.iter().enumerate() {
        let waited = *open - closes[i];
        let want = policy.backoff * (1u32 << i);
        assert_eq!(waited, want, "seed {seed}: back-off {i}");
    }
    assert!(s.app().did("reset"), "seed {seed}: partial package dropped");
    assert_eq!(cn(&s.w, C).client.download_link(), None);
}

/// The four scenarios over more seeds: three by default (a few seconds),
/// `LWM2M_SIM_SEEDS=40` for a longer sweep (about a minute in a debug
/// build).
#[test]
fn scan_seeds() {
    let n = std::env::var("LWM2M_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    for seed in 100..100 + n {
        eprintln!("seed {seed}");
        pull_of_2_mib_under_loss_completes_while_reads_are_served_with(seed);
        pull_resumes_from_the_saved_offset_after_a_restart_with(seed);
        pull_resumes_after_the_connection_is_lost_with(seed);
        pull_backs_off_between_reconnections_and_gives_up_with_result_4_with(seed);
    }
}
