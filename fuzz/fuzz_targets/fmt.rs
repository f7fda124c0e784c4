//! Fuzz target `fmt`: [`bmcwall::fuzz::fmt`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bmcwall::fuzz::fmt(data));
