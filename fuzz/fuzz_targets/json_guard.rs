//! The inbox's JSON-LD guard and activity decoding: see
//! `rosefed::fuzzing::json_guard`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::json_guard(data));
