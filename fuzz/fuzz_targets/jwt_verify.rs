//! Fuzz target: see `refresh_rotation_fuzz::jwt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| refresh_rotation_fuzz::jwt(data));
