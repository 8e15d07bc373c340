use super::*;

const EXP: Instant = Instant::from_secs(100);

fn blk(num: u32, more: bool, szx: u8) -> Block {
    Block { num, more, szx }
}

#[test]
fn assembles_in_order_and_accepts_a_smaller_size_midway() {
    // RFC 7959 §2.5 Figure 6: 1:0/1/128, then (after the server asked for
    // 32) 1:4/1/32, 1:5/1/32, 1:6/0/32.
    let mut a = Assemblies::new(1, 1024);
    let body: Vec<u8> = (0..=200u8).collect();
    let m = Block1Mode::Assemble;
    let (r, _) = a.push(EXP, 9, blk(0, true, 3), None, &body[..128], m);
    assert_eq!(r, Ok(Block1Outcome::Continue));
    let (r, _) = a.push(EXP, 9, blk(4, true, 1), None, &body[128..160], m);
    assert_eq!(r, Ok(Block1Outcome::Continue));
    let (r, _) = a.push(EXP, 9, blk(5, true, 1), None, &body[160..192], m);
    assert_eq!(r, Ok(Block1Outcome::Continue));
    assert_eq!(a.body(9), None, "not complete yet");
    let (r, _) = a.push(EXP, 9, blk(6, false, 1), None, &body[192..], m);
    assert_eq!(r, Ok(Block1Outcome::Complete { len: 201 }));
    assert_eq!(a.body(9), Some(&body[..]));
    a.release(9);
    assert_eq!(a.body(9), None);
}

#[test]
fn gaps_unknown_transfers_and_wrong_sizes_are_refused() {
    let mut a = Assemblies::new(1, 1024);
    let m = Block1Mode::Assemble;
    let p = [0u8; 16];
    // Block 1 of a transfer never started: 4.08.
    assert_eq!(
        a.push(EXP, 1, blk(1, true, 0), None, &p, m).0,
        Err(Block1Error::Incomplete)
    );
    a.push(EXP, 1, blk(0, true, 0), None, &p, m).0.unwrap();
    // Skipping block 1: 4.08, and the transfer is gone.
    assert_eq!(
        a.push(EXP, 1, blk(2, true, 0), None, &p, m).0,
        Err(Block1Error::Incomplete)
    );
    assert_eq!(
        a.push(EXP, 1, blk(1, true, 0), None, &p, m).0,
        Err(Block1Error::Incomplete)
    );
    // M set but a short payload: 4.00.
    assert_eq!(
        a.push(EXP, 1, blk(0, true, 0), None, &p[..5], m).0,
        Err(Block1Error::BadBlockSize)
    );
}

#[test]
fn limit_is_enforced_by_size1_and_by_accumulation() {
    let mut a = Assemblies::new(1, 40);
    let m = Block1Mode::Assemble;
    let p = [7u8; 16];
    assert_eq!(
        a.push(EXP, 1, blk(0, true, 0), Some(41), &p, m).0,
        Err(Block1Error::TooLarge { limit: 40 })
    );
    a.push(EXP, 1, blk(0, true, 0), Some(40), &p, m).0.unwrap();
    a.push(EXP, 1, blk(1, true, 0), None, &p, m).0.unwrap();
    assert_eq!(
        a.push(EXP, 1, blk(2, true, 0), None, &p, m).0,
        Err(Block1Error::TooLarge { limit: 40 })
    );
    // Streams are not buffered, so not limited here.
    let (r, _) = a.push(
        EXP,
        2,
        blk(0, false, 0),
        Some(10_000),
        &p,
        Block1Mode::Stream,
    );
    assert!(matches!(r, Ok(Block1Outcome::Chunk { last: true, .. })));
}

#[test]
fn block_zero_restarts_and_streams_report_offsets() {
    let mut a = Assemblies::new(1, 1024);
    let s = Block1Mode::Stream;
    let p = [1u8; 32];
    a.push(EXP, 5, blk(0, true, 1), None, &p, s).0.unwrap();
    let (r, _) = a.push(EXP, 5, blk(1, true, 1), None, &p, s);
    assert_eq!(
        r,
        Ok(Block1Outcome::Chunk {
            offset: 32,
            bytes: &p[..],
            last: false
        })
    );
    // Restart: offset 0 again, then block 1 continues from 32.
    let (r, _) = a.push(EXP, 5, blk(0, true, 1), None, &p, s);
    assert!(matches!(r, Ok(Block1Outcome::Chunk { offset: 0, .. })));
    let (r, _) = a.push(EXP, 5, blk(1, false, 1), None, &p[..3], s);
    assert!(matches!(
        r,
        Ok(Block1Outcome::Chunk {
            offset: 32,
            last: true,
            ..
        })
    ));
}

#[test]
fn bounded_transfers_abandon_the_oldest_and_expire() {
    let mut a = Assemblies::new(2, 64);
    let m = Block1Mode::Assemble;
    let p = [0u8; 16];
    a.push(Instant::from_secs(10), 1, blk(0, true, 0), None, &p, m)
        .0
        .unwrap();
    a.push(EXP, 2, blk(0, true, 0), None, &p, m).0.unwrap();
    let (r, abandoned) = a.push(EXP, 3, blk(0, true, 0), None, &p, m);
    assert_eq!((r, abandoned), (Ok(Block1Outcome::Continue), Some(1)));
    assert_eq!(a.next_expiry(), Some(EXP));
    let mut gone = Vec::new();
    a.expire_with(EXP, |k| gone.push(k));
    gone.sort();
    assert_eq!(gone, vec![2, 3]);
    assert_eq!(a.next_expiry(), None);
}
