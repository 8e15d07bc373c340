//! PUSH through the engine (SPEC §1 guarantees 2 and 3) and the Update
//! step: a 2 MiB image in 1 KiB Block1 blocks while another server is
//! served, abandoned transfers rolling back, Update applied after its 2.04,
//! and observers hearing of state changes.

use super::*;

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
