//! CoAP codec benchmark: parse + emit of a typical LwM2M request and of a
//! 1 KiB Block2 response, in ns per message, beside a memcpy of the same
//! bytes measured in the same run; plus the endpoint's hot path (a CON
//! request answered piggybacked).
//!
//! `cargo run --release -p lwm2m-bench --bin codec`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use lwm2m_bench::{median_ns, report};
use lwm2m_core::coap::endpoint::Received;
use lwm2m_core::coap::{
    Block, Code, EmitError, Endpoint, Limits, Message, MessageBuilder, MsgType, TransmissionParams,
    option,
};
use lwm2m_core::time::Instant;

const BATCHES: usize = 15;
const ITERS: u64 = 20_000;

/// CON GET /3/0, token de ad be ef, Accept 11542 (TLV).
fn request() -> Vec<u8> {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MsgType::Con,
        Code::GET,
        0x1234,
        &[0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();
    b.option(option::URI_PATH, b"3").unwrap();
    b.option(option::URI_PATH, b"0").unwrap();
    b.uint_option(option::ACCEPT, 11542).unwrap();
    let n = b.finish();
    buf[..n].to_vec()
}

/// ACK 2.05, token, ETag, Content-Format TLV, Block2 1/1/1024, Size2, 1 KiB.
fn block2_response() -> Vec<u8> {
    let mut buf = [0u8; 1200];
    let mut b = MessageBuilder::new(
        &mut buf,
        MsgType::Ack,
        Code::CONTENT,
        0x1234,
        &[0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();
    b.option(option::ETAG, &[1, 2, 3, 4]).unwrap();
    b.uint_option(option::CONTENT_FORMAT, 11542).unwrap();
    b.block_option(
        option::BLOCK2,
        Block {
            num: 1,
            more: true,
            szx: 6,
        },
    )
    .unwrap();
    b.uint_option(option::SIZE2, 4096).unwrap();
    let payload: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
    b.payload(&payload).unwrap();
    let n = b.finish();
    buf[..n].to_vec()
}

/// Parses `dgram` and emits an equivalent message into `out`.
fn parse_emit(dgram: &[u8], out: &mut [u8]) -> usize {
    let m = Message::parse(dgram).unwrap();
    let mut b = MessageBuilder::new(out, m.mtype(), m.code(), m.mid(), m.token_bytes()).unwrap();
    for o in m.options() {
        b.option(o.number, o.value).unwrap();
    }
    b.payload(m.payload()).unwrap();
    b.finish()
}

fn codec(name: &str, dgram: &[u8]) {
    let mut out = vec![0u8; 1500];
    assert_eq!(parse_emit(dgram, &mut out), dgram.len());
    let floor = median_ns(BATCHES, ITERS, || {
        let src = black_box(dgram);
        let dst = &mut out[..src.len()];
        dst.copy_from_slice(src);
        black_box(dst);
    });
    let ns = median_ns(BATCHES, ITERS, || {
        black_box(parse_emit(black_box(dgram), &mut out));
    });
    report(name, dgram.len(), ns, "memcpy", floor);
}

fn endpoint_hot_path(dgram: &[u8]) {
    let mut ep = Endpoint::new(TransmissionParams::default(), Limits::default(), 1);
    let mut req = dgram.to_vec();
    let mut out = [0u8; 1500];
    let mut mid: u16 = 0;
    let now = Instant::from_secs(1);
    let mut step = |req: &mut Vec<u8>, out: &mut [u8]| {
        // A new message ID each time, so nothing is a duplicate.
        mid = mid.wrapping_add(1);
        req[2..4].copy_from_slice(&mid.to_be_bytes());
        if let Received::Request(r) = ep.handle_datagram(now, black_box(req)) {
            let id = r.id;
            ep.respond(now, &id, Code::CONTENT, |b| {
                b.uint_option(option::CONTENT_FORMAT, 0)?;
                b.payload()?.put(b"22.3").map_err(EmitError::from)?;
                Ok::<(), EmitError>(())
            })
            .unwrap();
        }
        let n = ep.poll_transmit(now, out).unwrap();
        black_box(&out[..n]);
    };
    let floor = {
        let src = dgram.to_vec();
        let mut dst = [0u8; 64];
        median_ns(BATCHES, ITERS, || {
            let s = black_box(&src[..]);
            dst[..s.len()].copy_from_slice(s);
            black_box(&dst);
        })
    };
    let ns = median_ns(BATCHES, ITERS, || step(&mut req, &mut out));
    report(
        "endpoint: CON GET -> piggybacked ACK",
        dgram.len(),
        ns,
        "memcpy",
        floor,
    );
}

fn main() {
    println!("CoAP codec, median of {BATCHES} batches of {ITERS} (release build recommended)");
    let req = request();
    codec("parse+emit GET /3/0 (token, Accept)", &req);
    let resp = block2_response();
    codec("parse+emit 1 KiB Block2 response", &resp);
    endpoint_hot_path(&req);
}
