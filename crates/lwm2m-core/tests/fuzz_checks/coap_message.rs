// Invariant for the CoAP message decoder, shared by the fuzz target
// `coap_message` and the stable corpus replay test.
//
// Parsing never panics; a datagram that parses re-emits, option by option
// through the builder, to exactly the same bytes (option framing is
// canonical in RFC 7252 §3.1, so the view loses nothing); the options
// iterator covers the whole option area.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::coap::{Message, MessageBuilder};
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let _ = m.check_options();
    let mut out = vec![0u8; data.len() + 8];
    let mut b = MessageBuilder::new(&mut out, m.mtype(), m.code(), m.mid(), m.token_bytes())
        .expect("token of a parsed message fits");
    for o in m.options() {
        b.option(o.number, o.value)
            .expect("options of a parsed message re-emit");
    }
    b.payload(m.payload()).expect("payload fits");
    let n = b.finish();
    assert_eq!(&out[..n], data, "parse then emit is the identity");
}
