//! Wire vectors for the message codec. Sources are cited per vector.

use super::*;
use crate::coap::option::{self as opt};

/// RFC 7252 Appendix A, Figure 16 (byte layout in the figure beside it):
/// CON GET MID 0x7d34, no token, Uri-Path "temperature".
const FIG16_REQUEST: &[u8] = &[
    0x40, 0x01, 0x7d, 0x34, 0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r', b'e',
];
/// RFC 7252 Appendix A, Figure 16: ACK 2.05 MID 0x7d34, payload "22.3 C".
const FIG16_RESPONSE: &[u8] = &[
    0x60, 0x45, 0x7d, 0x34, 0xff, b'2', b'2', b'.', b'3', b' ', b'C',
];
/// RFC 7252 Appendix A, Figure 17: the same with token 0x20 and MID 0x7d35.
const FIG17_REQUEST: &[u8] = &[
    0x41, 0x01, 0x7d, 0x35, 0x20, 0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r',
    b'e',
];
/// RFC 7252 Appendix A, Figure 17: ACK 2.05, token 0x20, "22.5 C".
const FIG17_RESPONSE: &[u8] = &[
    0x61, 0x45, 0x7d, 0x35, 0x20, 0xff, b'2', b'2', b'.', b'5', b' ', b'C',
];

#[test]
fn rfc7252_figure16_decodes() {
    let m = Message::parse(FIG16_REQUEST).unwrap();
    assert_eq!(m.mtype(), MsgType::Con);
    assert_eq!(m.code(), Code::GET);
    assert_eq!(m.mid(), 0x7d34);
    assert!(m.token_bytes().is_empty());
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"temperature"[..]]);
    assert!(m.payload().is_empty());

    let r = Message::parse(FIG16_RESPONSE).unwrap();
    assert_eq!(
        (r.mtype(), r.code(), r.mid()),
        (MsgType::Ack, Code::CONTENT, 0x7d34)
    );
    assert_eq!(r.payload(), b"22.3 C");
}

#[test]
fn rfc7252_figure16_and_17_encode_byte_exact() {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0x7d34, &[]).unwrap();
    b.option(opt::URI_PATH, b"temperature").unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], FIG16_REQUEST);

    let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 0x7d34, &[]).unwrap();
    b.payload(b"22.3 C").unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], FIG16_RESPONSE);

    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0x7d35, &[0x20]).unwrap();
    b.option(opt::URI_PATH, b"temperature").unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], FIG17_REQUEST);

    let mut b =
        MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 0x7d35, &[0x20]).unwrap();
    b.payload(b"22.5 C").unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], FIG17_RESPONSE);
}

#[test]
fn typical_lwm2m_read_roundtrip() {
    // LwM2M Read of /3/0 asking for TLV (Accept 11542 = 0x2d16): the request
    // the codec benchmark uses.
    let expected: &[u8] = &[
        0x44, 0x01, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, // CON GET, TKL 4
        0xb1, b'3', // Uri-Path "3" (delta 11)
        0x01, b'0', // Uri-Path "0" (delta 0)
        0x62, 0x2d, 0x16, // Accept (delta 6) = 11542
    ];
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MsgType::Con,
        Code::GET,
        0x1234,
        &[0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();
    b.option(opt::URI_PATH, b"3").unwrap();
    b.option(opt::URI_PATH, b"0").unwrap();
    b.uint_option(opt::ACCEPT, 11542).unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], expected);
    let m = Message::parse(expected).unwrap();
    assert_eq!(m.accept(), Some(11542));
    assert_eq!(m.token(), Token::new(&[0xde, 0xad, 0xbe, 0xef]).unwrap());
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"3"[..], &b"0"[..]]);
    assert_eq!(m.check_options(), Ok(()));
}

#[test]
fn empty_messages() {
    // RFC 7252 §4.1: an empty message is the 4-byte header only.
    let mut buf = [0u8; 4];
    let n = emit_empty(&mut buf, MsgType::Rst, 0xbeef).unwrap();
    assert_eq!(&buf[..n], &[0x70, 0x00, 0xbe, 0xef]);
    let m = Message::parse(&buf).unwrap();
    assert_eq!((m.mtype(), m.code()), (MsgType::Rst, Code::EMPTY));
    // CoAP ping: an empty CON.
    let m = Message::parse(&[0x40, 0, 0, 1]).unwrap();
    assert!(m.code().is_empty());
    // An empty message with a token or anything after the header is a
    // message format error.
    assert_eq!(
        Message::parse(&[0x41, 0, 0, 1, 7]),
        Err(ParseError::NonEmptyEmpty)
    );
    assert_eq!(
        Message::parse(&[0x40, 0, 0, 1, 0xff, 1]),
        Err(ParseError::NonEmptyEmpty)
    );
}

#[test]
fn format_errors_are_typed() {
    assert_eq!(Message::parse(&[0x40, 1, 0]), Err(ParseError::TooShort));
    assert_eq!(
        Message::parse(&[0x80, 1, 0, 0]),
        Err(ParseError::BadVersion)
    );
    assert_eq!(
        Message::parse(&[0x49, 1, 0, 0]),
        Err(ParseError::BadTokenLength)
    );
    assert_eq!(
        Message::parse(&[0x42, 1, 0, 0, 1]),
        Err(ParseError::TruncatedToken)
    );
    assert_eq!(
        Message::parse(&[0x40, 1, 0, 0, 0xff]),
        Err(ParseError::EmptyPayload)
    );
    assert_eq!(
        Message::parse(&[0x40, 0x21, 0, 0]),
        Err(ParseError::ReservedClass)
    );
    assert_eq!(
        Message::parse(&[0x40, 1, 0, 0, 0xb5, b'a']),
        Err(ParseError::BadOption(OptionError::Truncated))
    );
    assert_eq!(
        Message::parse(&[0x40, 1, 0, 0, 0xf1, 0]),
        Err(ParseError::BadOption(OptionError::ReservedNibble))
    );
    // The header stays readable so that a CON can be answered with RST.
    let h = Header::peek(&[0x49, 1, 0x12, 0x34, 0]).unwrap();
    assert_eq!((h.mtype, h.mid), (MsgType::Con, 0x1234));
}

#[test]
fn option_checks_follow_rfc7252_5_4() {
    let mut buf = [0u8; 64];
    // Unknown critical option 2049 (odd): BadCritical.
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).unwrap();
    b.option(opt::URI_PATH, b"3").unwrap();
    b.option(2049, b"x").unwrap();
    let n = b.finish();
    assert_eq!(
        Message::parse(&buf[..n]).unwrap().check_options(),
        Err(OptionCheck::BadCritical(2049))
    );
    // Unknown elective option 2048 (even): ignored.
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).unwrap();
    b.option(2048, b"x").unwrap();
    let n = b.finish();
    assert_eq!(Message::parse(&buf[..n]).unwrap().check_options(), Ok(()));
    // Content-Format (elective... no: 12 is even, elective) with 3 bytes: ignored.
    // Accept is 17, critical: 3 bytes is out of range, so BadCritical.
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).unwrap();
    b.option(opt::ACCEPT, &[1, 2, 3]).unwrap();
    let n = b.finish();
    assert_eq!(
        Message::parse(&buf[..n]).unwrap().check_options(),
        Err(OptionCheck::BadCritical(opt::ACCEPT))
    );
    // A repeated non-repeatable critical option (Block2 twice).
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).unwrap();
    b.uint_option(opt::BLOCK2, 2).unwrap();
    b.uint_option(opt::BLOCK2, 3).unwrap();
    let n = b.finish();
    assert_eq!(
        Message::parse(&buf[..n]).unwrap().check_options(),
        Err(OptionCheck::BadCritical(opt::BLOCK2))
    );
    // Repeatable Uri-Path and empty If-None-Match are fine.
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::PUT, 1, &[]).unwrap();
    b.option(opt::IF_NONE_MATCH, &[]).unwrap();
    b.option(opt::URI_PATH, b"a").unwrap();
    b.option(opt::URI_PATH, b"b").unwrap();
    let n = b.finish();
    assert_eq!(Message::parse(&buf[..n]).unwrap().check_options(), Ok(()));
}

#[test]
fn builder_rejects_misuse() {
    let mut buf = [0u8; 16];
    assert_eq!(
        MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[0; 9]).unwrap_err(),
        EmitError::TokenTooLong
    );
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).unwrap();
    b.option(opt::URI_PATH, b"a").unwrap();
    assert_eq!(
        b.option(opt::ETAG, b"a").unwrap_err(),
        EmitError::OptionOrder
    );
    assert_eq!(
        b.option(opt::URI_QUERY, &[0; 20]).unwrap_err(),
        EmitError::Overflow
    );
    // The failed option left nothing behind.
    assert_eq!(b.len(), 6);
    let n = b.finish();
    assert_eq!(Message::parse(&buf[..n]).unwrap().uri_path().count(), 1);
}

#[test]
fn empty_payload_writes_no_marker() {
    let mut buf = [0u8; 16];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::CONTENT, 9, &[]).unwrap();
    b.payload_writer().unwrap();
    let n = b.finish();
    assert_eq!(n, 4);
}

#[test]
fn extended_option_deltas_roundtrip() {
    // Size1 (60) needs a one-byte extended delta, No-Response (258) too,
    // option 2048 a two-byte one; a 300-byte value a two-byte length.
    let long = [0x5a; 300];
    let mut buf = [0u8; 400];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 7, &[1, 2]).unwrap();
    b.uint_option(opt::SIZE1, 70_000).unwrap();
    b.uint_option(opt::NO_RESPONSE, 26).unwrap();
    b.option(2048, &long).unwrap();
    b.payload(b"p").unwrap();
    let n = b.finish();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.size1(), Some(70_000));
    assert_eq!(m.uint_option(opt::NO_RESPONSE), Some(26));
    assert_eq!(m.option(2048), Some(&long[..]));
    assert_eq!(m.payload(), b"p");
}
