// Invariant for the LwM2M JSON (11543) decoder, shared by the fuzz target
// `lwm2m_json` and the stable corpus replay test.
//
// Decoding never panics and stays within the limits; a payload that decodes
// re-encodes (under the root, full names) to a document that decodes to the
// same entries, and encoding those again gives the same bytes.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::lwm2m_json::{Lwm2mJsonDecoder, Lwm2mJsonEncoder};
    use lwm2m_core::content::{DecodeLimits, Entry};
    use lwm2m_core::dm::{DataType, Path};
    let limits = DecodeLimits::default();
    let none = |_: &Path| -> Option<DataType> { None };
    let Ok(entries) = Lwm2mJsonDecoder::new(data, Path::ROOT, &none, limits)
        .collect::<Result<Vec<Entry<'_>>, _>>()
    else {
        return;
    };
    assert!(entries.len() <= limits.max_entries);
    let Some(first) = support::encode(&mut Lwm2mJsonEncoder::new(Path::ROOT), &entries, data.len())
    else {
        return;
    };
    let again: Vec<Entry<'_>> = Lwm2mJsonDecoder::new(&first, Path::ROOT, &none, limits)
        .collect::<Result<_, _>>()
        .expect("our own output decodes");
    support::assert_same(&entries, &again);
    let second = support::encode(&mut Lwm2mJsonEncoder::new(Path::ROOT), &again, data.len())
        .expect("re-encodes");
    assert_eq!(first, second, "encoding is a fixed point");
}

#[allow(dead_code)]
mod support {
    include!("senml_common.rs");
}
