//! Fuzz target `compile`: [`bmcwall::fuzz::compile`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bmcwall::fuzz::compile(data));
