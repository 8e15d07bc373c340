// Invariant for the LwM2M CBOR decoder (fuzz target `lwm2m_cbor`), shared
// with the stable corpus replay. The first byte picks the request path;
// the rest is the payload.
//
// Decoding never panics; entries that decode in path order re-encode, the
// re-encoded payload decodes to the same entries, and re-encoding those
// gives the same bytes.

include!("content_common.rs");

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::lwm2m_cbor::{Lwm2mCborDecoder, Lwm2mCborEncoder};
    let Some((&sel, payload)) = data.split_first() else { return };
    let bases = [
        Path::ROOT,
        Path::object(1000),
        Path::instance(1000, 0),
        Path::resource(1000, 0, 4),
        Path::object(3),
        Path::instance(3, 0),
    ];
    let base = bases[usize::from(sel) % bases.len()];
    let Ok(first) = owned(Lwm2mCborDecoder::new(payload, base, &types, limits())) else { return };
    if !in_order(&first) {
        return;
    }
    let cap = payload.len() * 2 + 64;
    let bytes = encode(&mut Lwm2mCborEncoder::new(base), &first, cap);
    let again = owned(Lwm2mCborDecoder::new(&bytes, base, &types, limits())).expect("re-decodes");
    assert!(same(&first, &again), "{first:?} != {again:?}");
    assert_eq!(encode(&mut Lwm2mCborEncoder::new(base), &again, cap), bytes, "canonical");
}
