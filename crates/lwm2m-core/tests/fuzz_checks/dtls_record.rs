// Invariant for the DTLS record framing view (`session::record`), shared by
// the fuzz target `dtls_record` and the stable corpus replay test.
//
// Iterating never panics and ends; the records of a well-formed datagram
// tile it exactly: re-emitting each header from its fields followed by its
// fragment gives back the datagram (RFC 6347 §4.1 framing has one encoding).
// The classifiers agree with the iterator.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::session::record;
    let mut out = Vec::with_capacity(data.len());
    let mut ok = true;
    let mut count = 0usize;
    for r in record::records(data) {
        count += 1;
        assert!(count <= data.len() / record::HEADER_LEN + 1, "iterator must end");
        let Ok(r) = r else {
            ok = false;
            continue;
        };
        out.push(r.content_type);
        out.extend_from_slice(&r.version.to_be_bytes());
        out.extend_from_slice(&r.epoch.to_be_bytes());
        out.extend_from_slice(&r.sequence.to_be_bytes()[2..]);
        out.extend_from_slice(&(r.fragment.len() as u16).to_be_bytes());
        out.extend_from_slice(r.fragment);
    }
    assert_eq!(record::is_well_formed(data), ok && !data.is_empty());
    if ok {
        assert_eq!(out, data, "records tile the datagram");
    } else {
        assert!(data.starts_with(&out), "good records come first");
    }
    if record::is_client_hello(data) {
        let first = record::records(data).next().unwrap().unwrap();
        assert_eq!((first.content_type, first.epoch), (record::HANDSHAKE, 0));
    }
    if record::has_application_data(data) {
        assert!(count > 0);
    }
}
