//! S-expressions as the co-op writes them: `(Note :id "…" :content (p "hi"))`.
//!
//! [`Sexp`] is the data; the grammar, the canonical form and the mapping to
//! ActivityStreams are specified in `docs/sexp.md`. The modules:
//!
//! - [`read`](mod@read): text to a datum ([`read()`]), within [`Limits`], with
//!   `line:column` errors ([`ReadError`]);
//! - this module: the compact writer ([`write_compact`], [`Display`]) and
//!   the name and string helpers every printer shares;
//! - [`canonical`](mod@canonical): the canonical form that signatures cover
//!   ([`canonical()`], [`CanonicalError`]);
//! - [`pretty`](mod@pretty): the indented layout served to people ([`pretty()`]);
//! - [`envelope`]: the signed envelope `(signed … PAYLOAD)` as data
//!   ([`Envelope`], [`EnvelopeError`]); no cryptography;
//! - [`markup`]: a post body's markup tree rendered to safe HTML through an
//!   allow-list, with depth, node and output limits (§5);
//! - [`as2`]: ActivityStreams trees written as sexp and read back,
//!   losslessly (§3).
//!
//! [`Display`]: std::fmt::Display

pub mod as2;
pub mod canonical;
pub mod envelope;
pub mod markup;
pub mod pretty;
#[cfg(test)]
mod proptests;
pub mod read;

pub use canonical::{canonical, CanonicalError};
pub use envelope::{Envelope, EnvelopeError};
pub use pretty::pretty;
pub use read::{read, Limits, ReadError, ReadErrorKind};

/// The media type of sexp documents.
pub const MEDIA_TYPE: &str = "application/sexp";

/// One S-expression datum.
///
/// Numbers keep their kind: an [`Sexp::Integer`] and a [`Sexp::Decimal`]
/// never compare equal, and a decimal keeps the exact text it was written
/// with, so nothing is lost to binary floating point between reading and
/// signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sexp {
    /// `(a b c)`; `()` is the empty list.
    List(Vec<Sexp>),
    /// A bare name such as `Create` or `p`.
    Symbol(String),
    /// `:name`, stored without the colon.
    Keyword(String),
    /// `"text"`, any UTF-8 except NUL.
    String(String),
    /// `-12`, within `i64`.
    Integer(i64),
    /// `3.25`, `-0.5e-3`: the literal's text, as written.
    Decimal(String),
    /// `#t` or `#f`.
    Bool(bool),
    /// `nil`, the absence of a value (JSON's `null`), distinct from `()`.
    Nil,
}

impl Sexp {
    /// The symbol at the head of a list, e.g. `Note` in `(Note :id "…")`.
    pub fn head(&self) -> Option<&str> {
        match self {
            Sexp::List(items) => match items.first() {
                Some(Sexp::Symbol(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Sexp::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(items) => Some(items),
            _ => None,
        }
    }
}

/// Whether `name` can be written bare, as a symbol's or keyword's name:
/// one or more of the ASCII name characters of `docs/sexp.md` §1.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'$'
                        | b'%'
                        | b'&'
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'/'
                        | b'<'
                        | b'='
                        | b'>'
                        | b'?'
                        | b'@'
                        | b'^'
                        | b'_'
                        | b'~'
                        | b':'
                        | b'#'
                )
        })
}

/// Whether `name` reads back as a symbol (a name that is not a number,
/// keyword, boolean or `nil`).
pub fn is_symbol(name: &str) -> bool {
    let bytes = name.as_bytes();
    let starts_number = matches!(
        bytes,
        [b'0'..=b'9', ..] | [b'+' | b'-' | b'.', b'0'..=b'9', ..]
    );
    is_name(name) && !starts_number && !matches!(bytes.first(), Some(b':' | b'#')) && name != "nil"
}

/// Writes `s` as a sexp string literal with the canonical escapes
/// (`docs/sexp.md` §4, rule 3).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes one atom or list compactly: §4's rules 1 and 3–5, keeping every
/// list in its given order (the canonical form also sorts property lists).
pub fn write_compact(out: &mut String, datum: &Sexp) {
    match datum {
        Sexp::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_compact(out, item);
            }
            out.push(')');
        }
        Sexp::Symbol(s) => out.push_str(s),
        Sexp::Keyword(k) => {
            out.push(':');
            if is_name(k) {
                out.push_str(k);
            } else {
                write_string(out, k);
            }
        }
        Sexp::String(s) => write_string(out, s),
        Sexp::Integer(n) => out.push_str(&n.to_string()),
        Sexp::Decimal(d) => out.push_str(d),
        Sexp::Bool(true) => out.push_str("#t"),
        Sexp::Bool(false) => out.push_str("#f"),
        Sexp::Nil => out.push_str("nil"),
    }
}

/// The compact text of a datum (see [`write_compact`]).
impl std::fmt::Display for Sexp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        write_compact(&mut out, self);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_symbols() {
        assert!(is_symbol("Create"));
        assert!(is_symbol("@"));
        assert!(is_symbol("toot:Emoji"));
        assert!(!is_symbol("nil"));
        assert!(!is_symbol("1x"));
        assert!(!is_symbol("-1"));
        assert!(!is_symbol(":k"));
        assert!(!is_symbol("#t"));
        assert!(!is_symbol("odd name"));
        assert!(is_name("@context"));
        assert!(!is_name("ünïcode"));
    }

    #[test]
    fn compact_text_escapes_and_keeps_order() {
        let d = Sexp::List(vec![
            Sexp::Symbol("Note".into()),
            Sexp::Keyword("to".into()),
            Sexp::List(vec![]),
            Sexp::Keyword("odd key".into()),
            Sexp::String("a\"b\\c\n\u{1}\u{7f}é".into()),
            Sexp::Keyword("n".into()),
            Sexp::Integer(-3),
            Sexp::Decimal("1.50".into()),
            Sexp::Bool(true),
            Sexp::Nil,
        ]);
        assert_eq!(
            d.to_string(),
            r#"(Note :to () :"odd key" "a\"b\\c\n\u{1}\u{7f}é" :n -3 1.50 #t nil)"#
        );
    }
}
