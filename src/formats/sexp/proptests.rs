//! Property tests of the reader and the three printers together: every
//! datum survives being written and read back, the canonical form is
//! idempotent, and no input makes the reader panic.

use super::{canonical, is_symbol, pretty, read, Limits, Sexp};
use proptest::prelude::*;

fn symbol() -> impl Strategy<Value = Sexp> {
    prop_oneof![
        Just("@".to_owned()),
        Just(".".to_owned()),
        Just("-".to_owned()),
        prop::sample::select(vec![
            "Note",
            "Create",
            "p",
            "a",
            "em",
            "toot:Emoji",
            "-.5",
            "nil?"
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9!$%&*+./<=>?@^_~:#-]{1,12}".prop_filter("a symbol", |s: &String| is_symbol(s)),
    ]
    .prop_map(Sexp::Symbol)
}

/// Any text without NUL, biased towards what needs escaping.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s)[^\u{0}]{0,16}",
        "[a-z \"\\\\\t\n\r\u{1}\u{7f}\u{85}é🌹]{0,16}",
    ]
}

fn keyword() -> impl Strategy<Value = Sexp> {
    prop_oneof![
        3 => prop::sample::select(vec!["id", "type", "to", "actor", "object", "@context", "a", "b", "B", "_"])
            .prop_map(str::to_owned),
        2 => "[A-Za-z0-9!$%&*+./<=>?@^_~:#-]{1,10}".prop_map(|s: String| s),
        1 => text(),
    ]
    .prop_map(Sexp::Keyword)
}

fn decimal() -> impl Strategy<Value = Sexp> {
    let int = prop_oneof![Just("0".to_owned()), "[1-9][0-9]{0,6}"];
    let frac = prop::option::of("\\.[0-9]{1,4}");
    let exp = prop::option::of("[eE][+-]?[0-9]{1,3}");
    let fractional = (any::<bool>(), int, frac, exp)
        .prop_filter("a fraction or an exponent", |(_, _, f, e)| {
            f.is_some() || e.is_some()
        })
        .prop_map(|(neg, i, f, e)| {
            format!(
                "{}{i}{}{}",
                if neg { "-" } else { "" },
                f.unwrap_or_default(),
                e.unwrap_or_default()
            )
        });
    let beyond_i64 = prop_oneof![
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(|n| n.to_string()),
        (i128::MIN..i128::from(i64::MIN)).prop_map(|n| n.to_string()),
    ];
    prop_oneof![fractional, beyond_i64].prop_map(Sexp::Decimal)
}

fn atom() -> impl Strategy<Value = Sexp> {
    prop_oneof![
        symbol(),
        keyword(),
        text().prop_map(Sexp::String),
        any::<i64>().prop_map(Sexp::Integer),
        prop::sample::select(vec![0i64, -1, 1, i64::MIN, i64::MAX]).prop_map(Sexp::Integer),
        decimal(),
        any::<bool>().prop_map(Sexp::Bool),
        Just(Sexp::Nil),
    ]
}

/// Datums of bounded depth and size, valid by construction, with many
/// property lists (some with repeated keywords) so that sorting is tested.
fn datum() -> impl Strategy<Value = Sexp> {
    atom().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Sexp::List),
            (symbol(), prop::collection::vec((keyword(), inner), 1..6)).prop_map(
                |(head, pairs)| {
                    let mut items = vec![head];
                    for (k, v) in pairs {
                        items.push(k);
                        items.push(v);
                    }
                    Sexp::List(items)
                }
            ),
        ]
    })
}

/// Bytes that look like sexp more often than random bytes do.
fn sexpish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "(", ")", "\"", ";", " ", "\n", ":", "#t", "#", "nil", "-", "0", "1", ".", "e", "\\",
            "\\u{", "}", "41", "a", "Note", "é", "🌹", "'", "[", "\r", "\t", "\u{1}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat())
}

fn reread(text: &str) -> Sexp {
    read(text.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// What the fuzz target checks, for any document that reads.
fn printers_agree(datum: &Sexp) {
    assert_eq!(&reread(&datum.to_string()), datum);
    assert_eq!(&reread(&pretty(datum)), datum);
    if let Ok(text) = canonical(datum) {
        assert_eq!(canonical(&reread(&text)).as_ref(), Ok(&text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn compact_text_reads_back(x in datum()) {
        let text = x.to_string();
        prop_assert_eq!(reread(&text), x);
    }

    #[test]
    fn pretty_text_reads_back(x in datum()) {
        let text = pretty(&x);
        prop_assert_eq!(reread(&text), x);
    }

    #[test]
    fn canonical_form_is_idempotent(x in datum()) {
        if let Ok(text) = canonical(&x) {
            prop_assert_eq!(canonical(&reread(&text)), Ok(text));
        }
    }

    #[test]
    fn reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(d) = read(&bytes, &Limits::default()) {
            printers_agree(&d);
        }
    }

    #[test]
    fn reader_never_panics_on_near_sexp(bytes in sexpish()) {
        if let Ok(d) = read(&bytes, &Limits::default()) {
            printers_agree(&d);
        }
    }

    #[test]
    fn small_limits_never_panic(bytes in sexpish(), a in 0usize..8, b in 0usize..8, c in 0usize..8, d in 0usize..16) {
        let limits = Limits { max_bytes: 4 * d, max_depth: a, max_string_bytes: b, max_list_len: c, max_datums: d };
        let _ = read(&bytes, &limits);
    }
}
