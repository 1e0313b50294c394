//! Fuzz target: see `refresh_rotation_fuzz::refresh_token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| refresh_rotation_fuzz::refresh_token(data));
