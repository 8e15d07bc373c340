#![no_main]
include!("../../crates/lwm2m-core/tests/fuzz_checks/firmware_state.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));
