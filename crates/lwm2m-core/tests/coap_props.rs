//! Property tests of the CoAP codec and endpoint. The seed is fixed so that
//! every run tries the same cases; a failure prints the minimal one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use lwm2m_core::coap::{Block, Code, Message, MessageBuilder, MsgType, option};
use proptest::prelude::*;

#[path = "fuzz_checks/coap_endpoint.rs"]
mod endpoint_check;
#[path = "fuzz_checks/coap_message.rs"]
mod message_check;

fn mtype() -> impl Strategy<Value = MsgType> {
    prop_oneof![
        Just(MsgType::Con),
        Just(MsgType::Non),
        Just(MsgType::Ack),
        Just(MsgType::Rst)
    ]
}

fn code() -> impl Strategy<Value = Code> {
    // Classes 0, 2, 4, 5 (1, 6, 7 are reserved), never 0.00 here.
    (prop_oneof![Just(0u8), Just(2), Just(4), Just(5)], 0u8..32)
        .prop_filter("not empty", |(c, d)| *c != 0 || *d != 0)
        .prop_map(|(c, d)| Code((c << 5) | d))
}

fn options() -> impl Strategy<Value = Vec<(u16, Vec<u8>)>> {
    prop::collection::vec(
        (
            prop_oneof![0u16..70, 250u16..300, 1000u16..=65535],
            prop::collection::vec(any::<u8>(), 0..300),
        ),
        0..8,
    )
    .prop_map(|mut v| {
        v.sort_by_key(|(n, _)| *n);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00c0_a9a9),
        ..ProptestConfig::default()
    })]

    /// Emit then parse is the identity for arbitrary messages.
    #[test]
    fn emit_then_parse_is_identity(
        t in mtype(),
        c in code(),
        mid in any::<u16>(),
        token in prop::collection::vec(any::<u8>(), 0..=8),
        opts in options(),
        payload in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf, t, c, mid, &token).unwrap();
        for (n, v) in &opts {
            b.option(*n, v).unwrap();
        }
        b.payload(&payload).unwrap();
        let len = b.finish();
        let m = Message::parse(&buf[..len]).unwrap();
        prop_assert_eq!((m.mtype(), m.code(), m.mid()), (t, c, mid));
        prop_assert_eq!(m.token_bytes(), &token[..]);
        let got: Vec<(u16, Vec<u8>)> = m.options().map(|o| (o.number, o.value.to_vec())).collect();
        prop_assert_eq!(got, opts);
        prop_assert_eq!(m.payload(), &payload[..]);
        // And the bytes re-emit identically.
        message_check::check(&buf[..len]);
    }

    /// Parsing never panics on arbitrary bytes, and what parses re-emits.
    #[test]
    fn parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::parse(&data);
        message_check::check(&data);
    }

    /// Block values roundtrip through their option encoding.
    #[test]
    fn block_value_roundtrip(num in 0u32..=Block::MAX_NUM, more in any::<bool>(), szx in 0u8..=6) {
        let b = Block { num, more, szx };
        let (bytes, n) = option::encode_uint(b.encode());
        prop_assert!(n <= 3);
        prop_assert_eq!(Block::decode(&bytes[..n]), Ok(b));
        prop_assert_eq!(b.offset(), num as usize * (16 << szx));
    }

    /// The endpoint survives arbitrary datagram streams with its bounds.
    #[test]
    fn endpoint_survives_arbitrary_streams(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        endpoint_check::check(&data);
    }
}
