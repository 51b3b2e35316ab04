//! The HTTP `Signature` header parser and the checks after it: see
//! `rosefed::fuzzing::signature_header`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::signature_header(data));
