// Invariant for the Opaque decoder (fuzz target `opaque`), shared with the
// stable corpus replay.
//
// The decoded value is the payload itself (borrowed, never copied), and
// encoding it gives back exactly the payload.

include!("content_common.rs");

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::opaque::{OpaqueDecoder, OpaqueEncoder};
    use std::borrow::Cow;
    let path = Path::resource(5, 0, 0);
    let all: Vec<_> = OpaqueDecoder::new(data, path, limits()).collect();
    let [Ok(e)] = &all[..] else {
        assert!(data.len() > limits().max_value_len, "only too-large input fails");
        return;
    };
    match &e.value {
        Value::Opaque(Cow::Borrowed(b)) => assert!(std::ptr::eq(*b, data), "borrowed"),
        other => panic!("not a borrowed opaque value: {other:?}"),
    }
    assert_eq!(encode(&mut OpaqueEncoder::new(path), std::slice::from_ref(e), data.len()), data);
}
