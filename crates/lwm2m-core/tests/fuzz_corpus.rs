//! Replays every fuzz corpus under `fuzz/corpus/<target>/` through the same
//! invariant the fuzz target checks (`tests/fuzz_checks/<target>.rs`), so CI
//! covers what fuzzing found without a nightly toolchain or libFuzzer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
        .into_iter()
        .map(|p| {
            let d = std::fs::read(&p).unwrap();
            (p, d)
        })
        .collect()
}

macro_rules! replay {
    ($($target:ident),* $(,)?) => {$(
        mod $target {
            include!(concat!("fuzz_checks/", stringify!($target), ".rs"));
        }
        #[test]
        fn $target() {
            for (path, data) in corpus(stringify!($target)) {
                let r = std::panic::catch_unwind(|| $target::check(&data));
                assert!(r.is_ok(), "invariant broken by {}", path.display());
            }
        }
    )*};
}

replay!(
    coap_message,
    coap_block,
    coap_endpoint,
    text,
    opaque,
    tlv,
    cbor,
    lwm2m_cbor,
    senml_json,
    senml_cbor,
    lwm2m_json,
    dtls_record,
    link_format,
    persist_load,
    objects_write,
    firmware_state,
);
