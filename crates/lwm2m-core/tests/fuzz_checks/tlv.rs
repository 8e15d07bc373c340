// Invariant for the TLV decoder (fuzz target `tlv`), shared with the stable
// corpus replay. The first byte picks the request path the payload is read
// against; the rest is the payload.
//
// Decoding never panics; entries that decode in path order re-encode, the
// re-encoded payload decodes to the same entries, and re-encoding those
// gives the same bytes (the encoder's output is canonical: minimal lengths
// and integer widths).

include!("content_common.rs");

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::tlv::{TlvDecoder, TlvEncoder};
    let Some((&sel, payload)) = data.split_first() else { return };
    let bases = [
        Path::object(1000),
        Path::instance(1000, 0),
        Path::resource(1000, 0, 4),
        Path::resource_instance(1000, 0, 4, 1),
        Path::object(3),
        Path::instance(3, 0),
        Path::resource(3, 0, 7),
    ];
    let base = bases[usize::from(sel) % bases.len()];
    let Ok(first) = owned(TlvDecoder::new(payload, base, &types, limits())) else { return };
    if !in_order(&first) {
        return;
    }
    let cap = payload.len() * 2 + 64;
    let bytes = encode(&mut TlvEncoder::new(base), &first, cap);
    let again = owned(TlvDecoder::new(&bytes, base, &types, limits())).expect("re-decodes");
    assert!(same(&first, &again), "{first:?} != {again:?}");
    assert_eq!(encode(&mut TlvEncoder::new(base), &again, cap), bytes, "canonical");
}
