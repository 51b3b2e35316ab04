//! The sexp reader and printers: see `rosefed::fuzzing::read`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::read(data));
