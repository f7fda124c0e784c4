//! Fuzz target `check`: [`bmcwall::fuzz::check`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bmcwall::fuzz::check(data));
