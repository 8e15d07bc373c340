// Invariant for the SenML JSON decoder, shared by the fuzz target
// `senml_json` and the stable corpus replay test.
//
// Decoding never panics and stays within the limits; a payload that decodes
// re-encodes (under the root, full names) to a pack that decodes to the same
// entries, and encoding those again gives the same bytes (our output is a
// fixed point). The names-only decoder is run on the same input.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::senml_json::{SenmlJsonDecoder, SenmlJsonEncoder, SenmlJsonPaths};
    use lwm2m_core::content::{DecodeLimits, Entry};
    use lwm2m_core::dm::{DataType, Path};
    let limits = DecodeLimits::default();
    let none = |_: &Path| -> Option<DataType> { None };
    let paths = SenmlJsonPaths::new(data, limits).count();
    assert!(paths <= limits.max_entries + 1);
    let Ok(entries) = SenmlJsonDecoder::new(data, Path::ROOT, &none, limits)
        .collect::<Result<Vec<Entry<'_>>, _>>()
    else {
        return;
    };
    assert!(entries.len() <= limits.max_entries);
    let Some(first) = support::encode(&mut SenmlJsonEncoder::new(Path::ROOT), &entries, data.len())
    else {
        return;
    };
    let again: Vec<Entry<'_>> = SenmlJsonDecoder::new(&first, Path::ROOT, &none, limits)
        .collect::<Result<_, _>>()
        .expect("our own output decodes");
    support::assert_same(&entries, &again);
    let second = support::encode(&mut SenmlJsonEncoder::new(Path::ROOT), &again, data.len())
        .expect("re-encodes");
    assert_eq!(first, second, "encoding is a fixed point");
}

#[allow(dead_code)]
mod support {
    include!("senml_common.rs");
}
