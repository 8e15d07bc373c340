// Invariant for the Plain Text decoder (fuzz target `text`), shared with
// the stable corpus replay. The first byte picks the resource of test
// object 1000 (and so the declared type); the rest is the payload.
//
// Decoding never panics; a value that decodes re-encodes, and that text
// decodes to the same value (text → value → text is a fixpoint after one
// round: the encoder's form is canonical).

include!("content_common.rs");

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::text::{TextDecoder, TextEncoder};
    let Some((&sel, payload)) = data.split_first() else { return };
    let path = Path::resource(1000, 0, u16::from(sel % 10));
    let Ok(first) = owned(TextDecoder::new(payload, path, &types, limits())) else { return };
    assert_eq!(first.len(), 1, "one value");
    let cap = payload.len() * 2 + 64;
    let text = encode(&mut TextEncoder::new(path), &first, cap);
    let again = owned(TextDecoder::new(&text, path, &types, limits())).expect("re-decodes");
    assert!(same(&first, &again), "{first:?} != {again:?}");
    assert_eq!(encode(&mut TextEncoder::new(path), &again, cap), text, "canonical");
}
