//! Fuzzes the sexp inbox decoder (`docs/sexp.md` §3, §8): reading, the
//! envelope, the head check and the mapping to the AS2 tree must never
//! panic, and a decoded tree must map back to sexp and again to the very
//! same tree (the round trip the mapping promises).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rosefed::formats::sexp::as2::{decode_activity, from_json, to_json};
use rosefed::formats::sexp::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok((doc, _envelope)) = decode_activity(data, &Limits::default()) else {
        return;
    };
    let datum = from_json(&doc).unwrap_or_else(|e| panic!("decoded tree does not map back: {e}\n{doc}"));
    let again = to_json(&datum).unwrap_or_else(|e| panic!("{e}\n{datum}"));
    assert_eq!(again, doc);
});
