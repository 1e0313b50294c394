//! Fuzz target: see `refresh_rotation_fuzz::wire_op`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| refresh_rotation_fuzz::wire_op(data));
