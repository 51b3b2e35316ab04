//! RFC 9421's Signature-Input and Signature fields, the checks and the
//! signature base after them, and the public-key reader: see
//! `rosefed::fuzzing::signature_input`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosefed::fuzzing::signature_input(data));
