#![no_main]
include!("../../crates/lwm2m-core/tests/fuzz_checks/link_format.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));
