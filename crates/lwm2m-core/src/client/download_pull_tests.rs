//! PULL through the engine (SPEC §1 guarantee 8): 2 MiB from a scripted
//! file server, with loss, across a lost connection and a restart, with a
//! changed ETag, over `coaps`, and every Update Result of E.6.

use super::*;

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
    use crate::persist::{self, Extra, extra_kind};
    let saved = w.client.firmware_download_state().unwrap().to_vec();
    let file = persist::save_to_vec(
        w.client.registry(),
        w.client.attributes(),
        &persist::DEFAULT_OBJECTS,
        &[Extra::new(extra_kind::FIRMWARE_DOWNLOAD, &saved)],
        1 << 16,
    )
    .unwrap();
    let flash = w.app().flash.clone();
    drop(w);

    let extra = persist::extras(&file)
        .unwrap()
        .find(|e| e.kind == extra_kind::FIRMWARE_DOWNLOAD)
        .unwrap();
    let state = DownloadState::decode(extra.data).unwrap();
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
