//! The canonical form (`docs/sexp.md` §4): the one byte sequence of a datum
//! that signatures are computed over.
//!
//! It is [`write_compact`] plus one rule: property lists `(S :k v …)` are
//! written with their pairs sorted by keyword name (UTF-8 bytes), and a
//! repeated keyword in one has no canonical form. Canonical text is a subset
//! of the grammar, so [`super::read()`] reads it back.

use super::{write_compact, Sexp};

/// Why a datum has no canonical form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// The keyword's written form, e.g. `:id` or `:"odd key"`.
    #[error(
        "keyword {0} appears twice in one property list, which therefore has no canonical form"
    )]
    RepeatedKeyword(String),
}

/// The canonical text of `datum`.
pub fn canonical(datum: &Sexp) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_canonical(&mut out, datum)?;
    Ok(out)
}

/// Appends the canonical text of `datum` to `out`; on error, `out` holds a
/// partial text that must not be used.
pub fn write_canonical(out: &mut String, datum: &Sexp) -> Result<(), CanonicalError> {
    let Sexp::List(items) = datum else {
        write_compact(out, datum);
        return Ok(());
    };
    out.push('(');
    match items.split_first() {
        Some((head, pairs)) if is_property_list(head, pairs) => {
            write_compact(out, head);
            let in_order = pairs
                .chunks_exact(2)
                .zip(pairs.chunks_exact(2).skip(1))
                .all(|(a, b)| key(&a[0]) < key(&b[0]));
            if in_order {
                // Already sorted and without repeats (the common case for
                // canonical input being checked again): no index to build.
                for pair in pairs {
                    out.push(' ');
                    write_canonical(out, pair)?;
                }
            } else {
                let mut sorted: Vec<&[Sexp]> = pairs.chunks_exact(2).collect();
                sorted.sort_unstable_by(|a, b| key(&a[0]).cmp(key(&b[0])));
                if let Some(twice) = sorted.windows(2).find(|w| key(&w[0][0]) == key(&w[1][0])) {
                    return Err(CanonicalError::RepeatedKeyword(twice[0][0].to_string()));
                }
                for pair in sorted.iter().flat_map(|pair| pair.iter()) {
                    out.push(' ');
                    write_canonical(out, pair)?;
                }
            }
        }
        _ => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_canonical(out, item)?;
            }
        }
    }
    out.push(')');
    Ok(())
}

/// `(S :k1 v1 … :kn vn)` with n ≥ 1: a symbol, then keyword–value pairs
/// only. Markup such as `(a :href "…" "text")` has an odd tail and is not one.
pub fn is_property_list(head: &Sexp, rest: &[Sexp]) -> bool {
    matches!(head, Sexp::Symbol(_))
        && !rest.is_empty()
        && rest.len() % 2 == 0
        && rest
            .chunks_exact(2)
            .all(|pair| matches!(pair[0], Sexp::Keyword(_)))
}

/// The name of a property list's keyword (always a keyword by
/// [`is_property_list`]).
fn key(datum: &Sexp) -> &str {
    match datum {
        Sexp::Keyword(k) => k,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::sexp::{read, Limits};

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        input: Option<String>,
        input_hex: Option<String>,
        canonical: Option<String>,
        error: Option<String>,
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn committed_vectors() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../../docs/sexp-vectors/canonical.json"))
                .unwrap();
        assert!(vectors.cases.len() > 50);
        for case in &vectors.cases {
            let name = &case.name;
            let input = match (&case.input, &case.input_hex) {
                (Some(text), None) => text.as_bytes().to_vec(),
                (None, Some(h)) => hex(h),
                _ => panic!("{name}: exactly one of input and input_hex"),
            };
            let read = read(&input, &Limits::default());
            match (&case.canonical, &case.error) {
                (Some(expected), None) => {
                    let datum = read.unwrap_or_else(|e| panic!("{name}: {e}"));
                    let text = canonical(&datum).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(&text, expected, "{name}");
                    // Idempotent: canonical text reads back to itself.
                    let again = super::super::read(text.as_bytes(), &Limits::default()).unwrap();
                    assert_eq!(canonical(&again).unwrap(), text, "{name}");
                }
                (None, Some(expected)) if expected == "no canonical form" => {
                    let datum = read.unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(canonical(&datum).is_err(), "{name}");
                }
                (None, Some(expected)) => {
                    let e = read.err().unwrap_or_else(|| panic!("{name}: read"));
                    let shown = e.to_string();
                    assert!(
                        shown.starts_with(&format!("{expected}: ")),
                        "{name}: {shown}"
                    );
                }
                _ => panic!("{name}: exactly one of canonical and error"),
            }
        }
    }

    fn canon(text: &str) -> Result<String, CanonicalError> {
        canonical(&read(text.as_bytes(), &Limits::default()).unwrap())
    }

    #[test]
    fn repeated_keywords_are_named() {
        assert_eq!(
            canon(r#"(Note :id "a" :to () :id "b")"#),
            Err(CanonicalError::RepeatedKeyword(":id".into()))
        );
        assert_eq!(
            canon(r#"(@ :"odd key" 1 :"odd key" 2)"#),
            Err(CanonicalError::RepeatedKeyword(r#":"odd key""#.into()))
        );
        // Sorted input takes the path without an index; it must still
        // catch a repeat.
        assert_eq!(
            canon("(@ :a 1 :a 2)"),
            Err(CanonicalError::RepeatedKeyword(":a".into()))
        );
        assert_eq!(
            CanonicalError::RepeatedKeyword(":id".into()).to_string(),
            "keyword :id appears twice in one property list, which therefore has no canonical form"
        );
    }

    #[test]
    fn property_lists() {
        let s = |x: &str| Sexp::Symbol(x.into());
        let k = |x: &str| Sexp::Keyword(x.into());
        assert!(is_property_list(&s("a"), &[k("x"), s("v")]));
        assert!(is_property_list(
            &s("a"),
            &[k("x"), k("y"), k("z"), Sexp::Nil]
        ));
        assert!(!is_property_list(&s("a"), &[]));
        assert!(!is_property_list(&s("a"), &[k("x"), s("v"), Sexp::Nil]));
        assert!(!is_property_list(&k("a"), &[k("x"), s("v")]));
        assert!(!is_property_list(&s("a"), &[s("x"), k("v")]));
    }

    #[test]
    fn canonical_of_atoms_is_compact() {
        for text in [
            r#""a\n\u{1}é""#,
            "-7",
            "1.0e3",
            "#t",
            "nil",
            r#":"a b""#,
            "Note",
        ] {
            let datum = read(text.as_bytes(), &Limits::default()).unwrap();
            assert_eq!(canonical(&datum).unwrap(), datum.to_string());
        }
    }
}
