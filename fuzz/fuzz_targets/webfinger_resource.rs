//! The WebFinger query and `resource` parser: see
//! `rosefed::fuzzing::webfinger_resource`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::webfinger_resource(data));
