//! Fuzz target `parse`: [`bmcwall::fuzz::parse`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bmcwall::fuzz::parse(data));
