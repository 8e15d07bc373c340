// Invariant for the CBOR (60) single-value decoder (fuzz target `cbor`),
// shared with the stable corpus replay. The first byte picks the resource
// of test object 1000 (and so the declared type); the rest is the payload.
//
// Decoding never panics; a value that decodes re-encodes, decodes to the
// same value, and re-encodes to the same bytes.

include!("content_common.rs");

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::cbor::{CborDecoder, CborEncoder};
    let Some((&sel, payload)) = data.split_first() else { return };
    let path = Path::resource(1000, 0, u16::from(sel % 10));
    let Ok(first) = owned(CborDecoder::new(payload, path, &types, limits())) else { return };
    let cap = payload.len() + 64;
    let bytes = encode(&mut CborEncoder::new(path), &first, cap);
    let again = owned(CborDecoder::new(&bytes, path, &types, limits())).expect("re-decodes");
    assert!(same(&first, &again), "{first:?} != {again:?}");
    assert_eq!(encode(&mut CborEncoder::new(path), &again, cap), bytes, "canonical");
}
