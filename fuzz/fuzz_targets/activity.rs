//! The sexp inbox decoder: see `rosefed::fuzzing::activity`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::activity(data));
