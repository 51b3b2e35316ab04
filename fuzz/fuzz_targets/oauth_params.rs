//! OAuth form decoding and redirect-URI checking and matching: see
//! `rosefed::fuzzing::oauth_params`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::oauth_params(data));
