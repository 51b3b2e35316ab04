//! The sexp markup renderer: see `rosefed::fuzzing::render`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::render(data));
