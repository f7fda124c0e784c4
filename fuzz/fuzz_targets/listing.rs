//! Fuzz target `listing`: [`bmcwall::fuzz::listing`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bmcwall::fuzz::listing(data));
