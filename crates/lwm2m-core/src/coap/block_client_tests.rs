use super::*;
use crate::coap::{MessageBuilder, MsgType, option as o};

fn response(buf: &mut [u8], code: Code, opts: &[(u16, u32)], etag: &[u8], payload: &[u8]) -> usize {
    let mut b = MessageBuilder::new(buf, MsgType::Ack, code, 1, &[]).unwrap();
    if !etag.is_empty() {
        b.option(o::ETAG, etag).unwrap();
    }
    for (n, v) in opts {
        b.uint_option(*n, *v).unwrap();
    }
    b.payload(payload).unwrap();
    b.finish()
}

#[test]
fn block1_sender_follows_continue_and_a_smaller_size() {
    // RFC 7959 §2.5 Figure 6: 1:0/1/128 answered with 1:0/1/32, then
    // 1:4/1/32, 1:5/1/32, 1:6/0/32.
    let mut s = Block1Sender::new(200, 3);
    let (b, r) = s.next_block();
    assert_eq!((b.num, b.more, b.size(), r), (0, true, 128, 0..128));
    let mut buf = [0u8; 64];
    let echo = Block {
        num: 0,
        more: true,
        szx: 1,
    };
    let n = response(
        &mut buf,
        Code::CONTINUE,
        &[(o::BLOCK1, echo.encode())],
        &[],
        &[],
    );
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(s.on_response(&m), Ok(Block1Step::SendNext));
    let mut seen = Vec::new();
    loop {
        let (b, r) = s.next_block();
        seen.push((b.num, b.more, b.size(), r.clone()));
        if !b.more {
            break;
        }
        let n = response(
            &mut buf,
            Code::CONTINUE,
            &[(o::BLOCK1, b.encode())],
            &[],
            &[],
        );
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(s.on_response(&m), Ok(Block1Step::SendNext));
    }
    assert_eq!(
        seen,
        vec![
            (4, true, 32, 128..160),
            (5, true, 32, 160..192),
            (6, false, 32, 192..200)
        ]
    );
    assert!(s.is_last());
    let n = response(&mut buf, Code::CHANGED, &[], &[], &[]);
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(s.on_response(&m), Ok(Block1Step::Done));
}

#[test]
fn block1_sender_reports_bad_continue_and_4_13() {
    let mut s = Block1Sender::new(100, 1);
    let mut buf = [0u8; 64];
    let n = response(&mut buf, Code::CONTINUE, &[], &[], &[]);
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(s.on_response(&m), Err(Block1SendError::BadContinue));
    let n = response(
        &mut buf,
        Code::REQUEST_ENTITY_TOO_LARGE,
        &[(o::SIZE1, 64)],
        &[],
        &[],
    );
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(
        s.on_response(&m),
        Err(Block1SendError::TooLarge { size1: Some(64) })
    );
}

#[test]
fn block2_fetcher_follows_more_and_checks_etag() {
    // RFC 7959 §3.2 Figure 3 shape: the client asks 2:0/0/64 up front.
    let body: Vec<u8> = (0..150u8).collect();
    let mut f = Block2Fetcher::new(2, 1000);
    let mut buf = [0u8; 128];
    let mut got = Vec::new();
    loop {
        let want = f.next_block();
        let start = want.offset();
        let end = (start + 64).min(body.len());
        let blk = Block {
            more: end < body.len(),
            ..want
        };
        let n = response(
            &mut buf,
            Code::CONTENT,
            &[(o::BLOCK2, blk.encode())],
            b"v1",
            &body[start..end],
        );
        let m = Message::parse(&buf[..n]).unwrap();
        let c = f.on_response(&m).unwrap();
        assert_eq!(c.offset, start);
        got.extend_from_slice(c.bytes);
        if !c.more {
            break;
        }
    }
    assert_eq!(got, body);

    // The ETag changes between blocks: refused.
    let mut f = Block2Fetcher::new(2, 1000);
    let b0 = Block {
        num: 0,
        more: true,
        szx: 2,
    };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, b0.encode())],
        b"v1",
        &body[..64],
    );
    f.on_response(&Message::parse(&buf[..n]).unwrap()).unwrap();
    let b1 = Block { num: 1, ..b0 };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, b1.encode())],
        b"v2",
        &body[64..128],
    );
    assert_eq!(
        f.on_response(&Message::parse(&buf[..n]).unwrap()),
        Err(Block2FetchError::EtagChanged)
    );
}

#[test]
fn block2_fetcher_bounds_total_and_rejects_wrong_blocks() {
    let body = [9u8; 64];
    let mut f = Block2Fetcher::new(2, 100);
    let mut buf = [0u8; 128];
    let b0 = Block {
        num: 0,
        more: true,
        szx: 2,
    };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, b0.encode())],
        &[],
        &body,
    );
    f.on_response(&Message::parse(&buf[..n]).unwrap()).unwrap();
    // Block 2 when 1 was expected.
    let b2 = Block { num: 2, ..b0 };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, b2.encode())],
        &[],
        &body,
    );
    assert_eq!(
        f.on_response(&Message::parse(&buf[..n]).unwrap()),
        Err(Block2FetchError::UnexpectedBlock)
    );
    let b1 = Block { num: 1, ..b0 };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, b1.encode())],
        &[],
        &body,
    );
    assert_eq!(
        f.on_response(&Message::parse(&buf[..n]).unwrap()),
        Err(Block2FetchError::TooLarge)
    );
    // A plain response (no Block2) is the whole body.
    let mut f = Block2Fetcher::new(6, 100);
    let n = response(&mut buf, Code::CONTENT, &[], &[], b"small");
    let c = f.on_response(&Message::parse(&buf[..n]).unwrap()).unwrap();
    assert_eq!((c.bytes, c.more), (&b"small"[..], false));
    let n = response(&mut buf, Code::NOT_FOUND, &[], &[], &[]);
    assert_eq!(
        f.on_response(&Message::parse(&buf[..n]).unwrap()),
        Err(Block2FetchError::Failed(Code::NOT_FOUND))
    );
}

#[test]
fn block2_fetcher_resumes_at_an_offset_with_its_etag() {
    let body: Vec<u8> = (0..150u8).collect();
    let mut buf = [0u8; 128];
    let mut f = Block2Fetcher::resume(2, 1000, 64, Some(b"v1"));
    assert_eq!(f.etag(), Some(&b"v1"[..]));
    let want = f.next_block();
    assert_eq!((want.num, want.szx), (1, 2));
    let blk = Block { more: true, ..want };
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, blk.encode())],
        b"v1",
        &body[64..128],
    );
    let c = f.on_response(&Message::parse(&buf[..n]).unwrap()).unwrap();
    assert_eq!((c.offset, c.more, f.received()), (64, true, 128));
    // Another ETag on resume: the file changed while the client was away.
    let mut f = Block2Fetcher::resume(2, 1000, 64, Some(b"v1"));
    let n = response(
        &mut buf,
        Code::CONTENT,
        &[(o::BLOCK2, blk.encode())],
        b"v2",
        &body[64..128],
    );
    assert_eq!(
        f.on_response(&Message::parse(&buf[..n]).unwrap()),
        Err(Block2FetchError::EtagChanged)
    );
}
