//! Fuzzes the sexp reader (`docs/sexp.md` §1–2) with the default limits,
//! and the printers on everything it accepts: the canonical text, when
//! there is one, reads back to a datum with the same canonical text, and
//! the pretty text reads back to the very same datum.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rosefed::formats::sexp::{canonical, pretty, read, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(datum) = read(data, &Limits::default()) else {
        return;
    };
    // Printed text may be longer than the input (a raw tab becomes `\t`,
    // pretty adds indentation), so it is read back without a size limit;
    // every other limit still holds, as the datum is the same.
    let reread = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    if let Ok(text) = canonical(&datum) {
        let again = read(text.as_bytes(), &reread)
            .unwrap_or_else(|e| panic!("canonical text does not read: {e}\n{text}"));
        assert_eq!(canonical(&again).as_ref(), Ok(&text));
    }
    let text = pretty(&datum);
    let again = read(text.as_bytes(), &reread)
        .unwrap_or_else(|e| panic!("pretty text does not read: {e}\n{text}"));
    assert_eq!(again, datum, "{text}");
});
