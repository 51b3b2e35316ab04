//! The reader: sexp text (`docs/sexp.md` §1) to one [`Sexp`], within the
//! limits of §2, with `line:column` errors.
//!
//! It owns the grammar's edge cases (token classification, numbers, escapes,
//! what is refused and where the error points) and nothing else: printing is
//! in [`super::write_compact`], [`super::canonical()`] and
//! [`super::pretty()`].
//!
//! Design, because input comes from any peer on the network:
//! - one forward pass over the bytes with an explicit stack of open lists,
//!   so nesting costs heap (bounded by [`Limits::max_depth`]) and never
//!   native stack;
//! - every limit is checked before the allocation it guards;
//! - positions are byte offsets while reading and are turned into
//!   `line:column` only when an error is reported, so the hot loop does not
//!   count lines or characters;
//! - UTF-8 only matters inside strings and comments (tokens are ASCII), so
//!   it is validated per span there, not as a separate pass.

use super::{is_name, is_symbol, Sexp};

/// How much a reader accepts (`docs/sexp.md` §2). [`Limits::default`] is
/// rosefed's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total size of the input in bytes.
    pub max_bytes: usize,
    /// Nesting depth of lists: `()` is depth 1.
    pub max_depth: usize,
    /// Length of one string, or quoted keyword, in bytes after unescaping.
    pub max_string_bytes: usize,
    /// Elements in one list.
    pub max_list_len: usize,
    /// Datums in the whole document, lists and atoms alike.
    pub max_datums: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_string_bytes: 256 * 1024,
            max_list_len: 10_000,
            max_datums: 100_000,
        }
    }
}

/// Why a text is not a sexp document, and where: `line:column: what`, both
/// counted from 1, the column in characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {kind}")]
pub struct ReadError {
    pub line: u32,
    pub column: u32,
    pub kind: ReadErrorKind,
}

/// One variant per way a document can be refused. The position of the
/// error is the offending character, except where noted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadErrorKind {
    #[error("unexpected `)`: no list is open")]
    UnexpectedClose,
    /// At the `(` that is never closed (the innermost one).
    #[error("unterminated list: this `(` has no matching `)`")]
    UnterminatedList,
    /// At the opening `"`.
    #[error("unterminated string: this `\"` has no closing `\"`")]
    UnterminatedString,
    /// At the backslash.
    #[error("bad escape: {0}")]
    BadEscape(&'static str),
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// Raw, or written as `\u{0}` (then at the backslash).
    #[error("NUL (U+0000) is not allowed anywhere")]
    Nul,
    /// A raw control character inside a string (tab, LF and CR are allowed).
    #[error("raw control character U+{0:04X} in a string: write it as \\u{{{0:x}}}")]
    ControlCharacter(u32),
    /// At the start of the token.
    #[error("malformed token: not a symbol, keyword, number, boolean or nil")]
    MalformedToken,
    /// At the start of the token.
    #[error("malformed number: neither an integer nor a decimal")]
    BadNumber,
    /// At the start of the token.
    #[error("-0 is not an integer: write 0")]
    NegativeZero,
    #[error("a second datum after the first: a document is exactly one datum")]
    TrailingDatum,
    #[error("empty input: expected one datum")]
    Empty,
    /// At the first byte beyond the limit.
    #[error("input longer than {0} bytes")]
    TooLarge(usize),
    /// At the `(` one level too deep.
    #[error("lists nested deeper than {0}")]
    TooDeep(usize),
    /// At the opening `"`.
    #[error("string longer than {0} bytes")]
    StringTooLong(usize),
    /// At the first element beyond the limit.
    #[error("list longer than {0} elements")]
    ListTooLong(usize),
    /// At the first datum beyond the limit.
    #[error("more than {0} datums in the document")]
    TooManyDatums(usize),
    /// Lisp syntax that sexp leaves out (quote, vectors, brackets, …).
    #[error("unsupported syntax: {0}")]
    Unsupported(&'static str),
}

/// Reads exactly one datum, surrounded by optional whitespace and comments.
pub fn read(input: &[u8], limits: &Limits) -> Result<Sexp, ReadError> {
    if input.len() > limits.max_bytes {
        return Err(locate(
            input,
            limits.max_bytes,
            ReadErrorKind::TooLarge(limits.max_bytes),
        ));
    }
    let mut reader = Reader {
        input,
        pos: 0,
        limits,
        datums: 0,
    };
    reader
        .document()
        .map_err(|Fail { at, kind }| locate(input, at, kind))
}

/// An error at a byte offset, before it is located as `line:column`.
struct Fail {
    at: usize,
    kind: ReadErrorKind,
}

fn fail<T>(at: usize, kind: ReadErrorKind) -> Result<T, Fail> {
    Err(Fail { at, kind })
}

/// Turns a byte offset into `line:column`. Only called for an error, so the
/// rescan of the input before it costs nothing on the success path. Columns
/// count characters as UTF-8 lead bytes; everything before the offset has
/// been validated (only [`ReadErrorKind::TooLarge`] is located in unread
/// input, where the count is still a fair answer).
fn locate(input: &[u8], at: usize, kind: ReadErrorKind) -> ReadError {
    let before = &input[..at.min(input.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let lines = before[..line_start].iter().filter(|&&b| b == b'\n').count();
    let chars = before[line_start..]
        .iter()
        .filter(|&&b| !is_continuation(b))
        .count();
    ReadError {
        line: u32::try_from(lines + 1).unwrap_or(u32::MAX),
        column: u32::try_from(chars + 1).unwrap_or(u32::MAX),
        kind,
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Bytes that end a token (besides whitespace and the end of input).
fn is_delimiter(b: u8) -> bool {
    is_whitespace(b) || matches!(b, b'(' | b')' | b'"' | b';')
}

/// A list being read: its elements so far and where its `(` is.
struct Open {
    items: Vec<Sexp>,
    at: usize,
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    datums: usize,
}

impl Reader<'_> {
    fn document(&mut self) -> Result<Sexp, Fail> {
        let mut stack: Vec<Open> = Vec::new();
        let mut done: Option<Sexp> = None;
        loop {
            self.skip_filler()?;
            let at = self.pos;
            let Some(&b) = self.input.get(at) else {
                if let Some(open) = stack.last() {
                    return fail(open.at, ReadErrorKind::UnterminatedList);
                }
                return done.ok_or(Fail {
                    at,
                    kind: ReadErrorKind::Empty,
                });
            };
            if b == b')' {
                let Some(open) = stack.pop() else {
                    return fail(at, ReadErrorKind::UnexpectedClose);
                };
                self.pos += 1;
                let list = Sexp::List(open.items);
                match stack.last_mut() {
                    Some(parent) => parent.items.push(list),
                    None => done = Some(list),
                }
                continue;
            }

            // A datum starts here: the checks that bound the document's size
            // come before anything is read or allocated for it.
            if stack.is_empty() && done.is_some() {
                return fail(at, ReadErrorKind::TrailingDatum);
            }
            self.datums += 1;
            if self.datums > self.limits.max_datums {
                return fail(at, ReadErrorKind::TooManyDatums(self.limits.max_datums));
            }
            if let Some(parent) = stack.last() {
                if parent.items.len() >= self.limits.max_list_len {
                    return fail(at, ReadErrorKind::ListTooLong(self.limits.max_list_len));
                }
            }
            let datum = match b {
                b'(' => {
                    if stack.len() >= self.limits.max_depth {
                        return fail(at, ReadErrorKind::TooDeep(self.limits.max_depth));
                    }
                    stack.push(Open {
                        items: Vec::new(),
                        at,
                    });
                    self.pos += 1;
                    continue;
                }
                b'"' => Sexp::String(self.string()?),
                _ => self.token()?,
            };
            match stack.last_mut() {
                Some(parent) => parent.items.push(datum),
                None => done = Some(datum),
            }
        }
    }

    fn skip_filler(&mut self) -> Result<(), Fail> {
        while let Some(&b) = self.input.get(self.pos) {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b';' {
                self.comment()?;
            } else {
                break;
            }
        }
        Ok(())
    }

    /// Skips a `;` comment up to (not including) its LF. Its text is never
    /// kept, but it is still part of a UTF-8 document without NUL.
    fn comment(&mut self) -> Result<(), Fail> {
        let start = self.pos + 1;
        let rest = &self.input[start..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == 0)
            .unwrap_or(rest.len());
        utf8(&rest[..end], start)?;
        if rest.get(end) == Some(&0) {
            return fail(start + end, ReadErrorKind::Nul);
        }
        self.pos = start + end;
        Ok(())
    }

    /// Reads a string from its opening `"`, unescaping into one `String`:
    /// runs of plain bytes are validated and copied as slices, never char by
    /// char.
    fn string(&mut self) -> Result<String, Fail> {
        let open = self.pos;
        let mut out = String::new();
        let mut run = open + 1;
        let mut i = run;
        loop {
            let Some(&b) = self.input.get(i) else {
                return fail(open, ReadErrorKind::UnterminatedString);
            };
            match b {
                b'"' => {
                    self.append(&mut out, run, i, open)?;
                    self.pos = i + 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.append(&mut out, run, i, open)?;
                    let (c, next) = self.escape(i, open)?;
                    if out.len() + c.len_utf8() > self.limits.max_string_bytes {
                        return fail(
                            open,
                            ReadErrorKind::StringTooLong(self.limits.max_string_bytes),
                        );
                    }
                    out.push(c);
                    run = next;
                    i = next;
                }
                0 => {
                    self.append(&mut out, run, i, open)?;
                    return fail(i, ReadErrorKind::Nul);
                }
                0x01..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F => {
                    self.append(&mut out, run, i, open)?;
                    return fail(i, ReadErrorKind::ControlCharacter(u32::from(b)));
                }
                _ => i += 1,
            }
        }
    }

    /// Appends the raw bytes `from..to` of a string that opened at `open`.
    fn append(&self, out: &mut String, from: usize, to: usize, open: usize) -> Result<(), Fail> {
        let text = utf8(&self.input[from..to], from)?;
        if out.len() + text.len() > self.limits.max_string_bytes {
            return fail(
                open,
                ReadErrorKind::StringTooLong(self.limits.max_string_bytes),
            );
        }
        out.push_str(text);
        Ok(())
    }

    /// Decodes the escape whose backslash is at `at`; returns the character
    /// and the offset after the escape.
    fn escape(&self, at: usize, open: usize) -> Result<(char, usize), Fail> {
        let simple = match self.input.get(at + 1) {
            None => return fail(open, ReadErrorKind::UnterminatedString),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(at, open),
            Some(_) => {
                return fail(
                    at,
                    ReadErrorKind::BadEscape("only \\\" \\\\ \\n \\r \\t and \\u{hex} are escapes"),
                )
            }
        };
        Ok((simple, at + 2))
    }

    /// `\u{1F339}`: one to six hex digits naming a scalar value other than NUL.
    fn unicode_escape(&self, at: usize, open: usize) -> Result<(char, usize), Fail> {
        const SHAPE: &str = "\\u must be followed by 1 to 6 hex digits in braces, as in \\u{1F339}";
        match self.input.get(at + 2) {
            None => return fail(open, ReadErrorKind::UnterminatedString),
            Some(b'{') => {}
            Some(_) => return fail(at, ReadErrorKind::BadEscape(SHAPE)),
        }
        let mut value: u32 = 0;
        let mut digits = 0;
        let mut i = at + 3;
        loop {
            match self.input.get(i) {
                None => return fail(open, ReadErrorKind::UnterminatedString),
                Some(b'}') => break,
                Some(&b) => {
                    let Some(d) = char::from(b).to_digit(16) else {
                        return fail(at, ReadErrorKind::BadEscape(SHAPE));
                    };
                    digits += 1;
                    if digits > 6 {
                        return fail(at, ReadErrorKind::BadEscape(SHAPE));
                    }
                    value = value * 16 + d;
                    i += 1;
                }
            }
        }
        if digits == 0 {
            return fail(at, ReadErrorKind::BadEscape(SHAPE));
        }
        if value == 0 {
            return fail(at, ReadErrorKind::Nul);
        }
        match char::from_u32(value) {
            Some(c) => Ok((c, i + 1)),
            None => fail(
                at,
                ReadErrorKind::BadEscape(
                    "\\u{…} must name a Unicode scalar value (not a surrogate, at most 10FFFF)",
                ),
            ),
        }
    }

    /// Reads a token (every datum but a list or a string) and classifies it:
    /// the whole token must match one form.
    fn token(&mut self) -> Result<Sexp, Fail> {
        let start = self.pos;
        if let Some(what) = self.input.get(start).copied().and_then(unsupported) {
            return fail(start, ReadErrorKind::Unsupported(what));
        }
        let mut end = start;
        while let Some(&b) = self.input.get(end) {
            if is_delimiter(b) {
                break;
            }
            if b == 0 {
                return fail(end, ReadErrorKind::Nul);
            }
            end += 1;
        }
        self.pos = end;
        let token = &self.input[start..end];
        let next = self.input.get(end).copied();
        let kind = match (token, next) {
            (b":", Some(b'"')) => return Ok(Sexp::Keyword(self.string()?)),
            (b"#t", _) => return Ok(Sexp::Bool(true)),
            (b"#f", _) => return Ok(Sexp::Bool(false)),
            (b"nil", _) => return Ok(Sexp::Nil),
            (b"#", Some(b'(')) => ReadErrorKind::Unsupported("vectors `#(…)`"),
            (b"#", Some(b';')) => ReadErrorKind::Unsupported("datum comments `#;`"),
            ([b'#', b'\\', ..], _) => ReadErrorKind::Unsupported("characters `#\\a`"),
            ([b'#', b'|', ..], _) => ReadErrorKind::Unsupported("block comments `#|…|#`"),
            ([b':', name @ ..], _) => match std::str::from_utf8(name) {
                Ok(name) if is_name(name) => return Ok(Sexp::Keyword(name.to_owned())),
                _ => ReadErrorKind::MalformedToken,
            },
            ([b'0'..=b'9', ..] | [b'+' | b'-' | b'.', b'0'..=b'9', ..], _) => match number(token) {
                Ok(n) => return Ok(n),
                Err(kind) => kind,
            },
            _ => match std::str::from_utf8(token) {
                Ok(name) if is_symbol(name) => return Ok(Sexp::Symbol(name.to_owned())),
                _ => ReadErrorKind::MalformedToken,
            },
        };
        fail(start, kind)
    }
}

/// Validates the UTF-8 of a span that starts at offset `at`.
fn utf8(bytes: &[u8], at: usize) -> Result<&str, Fail> {
    std::str::from_utf8(bytes).map_err(|e| Fail {
        at: at + e.valid_up_to(),
        kind: ReadErrorKind::InvalidUtf8,
    })
}

/// Lisp syntax a reader might expect that sexp leaves out, named by the byte
/// that starts it, so the error says what was meant rather than "malformed".
fn unsupported(b: u8) -> Option<&'static str> {
    Some(match b {
        b'\'' => "quote `'`",
        b'`' => "quasiquote `` ` ``",
        b',' => "unquote `,`",
        b'[' | b']' => "brackets `[ ]`",
        b'{' | b'}' => "braces `{ }`",
        b'|' => "`|symbols|`",
        _ => return None,
    })
}

/// Classifies a token that starts like a number: `-`? then digits, with a
/// fraction and/or exponent for a decimal. An integer beyond `i64` is a
/// decimal, kept as written.
fn number(token: &[u8]) -> Result<Sexp, ReadErrorKind> {
    let digits = |from: usize| {
        token
            .get(from..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let sign = usize::from(token.first() == Some(&b'-'));
    let int = digits(sign);
    if int == 0 || (int > 1 && token[sign] == b'0') {
        return Err(ReadErrorKind::BadNumber);
    }
    let mut i = sign + int;
    let mut decimal = false;
    if token.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return Err(ReadErrorKind::BadNumber);
        }
        i += 1 + frac;
        decimal = true;
    }
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return Err(ReadErrorKind::BadNumber);
        }
        i += exp;
        decimal = true;
    }
    if i != token.len() {
        return Err(ReadErrorKind::BadNumber);
    }
    let text = std::str::from_utf8(token).map_err(|_| ReadErrorKind::BadNumber)?;
    if decimal {
        return Ok(Sexp::Decimal(text.to_owned()));
    }
    if text == "-0" {
        return Err(ReadErrorKind::NegativeZero);
    }
    // The syntax is an integer's, so parsing fails only beyond i64.
    Ok(match text.parse::<i64>() {
        Ok(n) => Sexp::Integer(n),
        Err(_) => Sexp::Decimal(text.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReadErrorKind as K;

    fn ok(text: &str) -> Sexp {
        read(text.as_bytes(), &Limits::default()).unwrap()
    }

    /// `line:column` and kind of the error for `input`.
    fn err_bytes(input: &[u8], limits: &Limits) -> (String, ReadErrorKind) {
        let e = read(input, limits).unwrap_err();
        (format!("{}:{}", e.line, e.column), e.kind)
    }

    fn err(text: &str) -> (String, ReadErrorKind) {
        err_bytes(text.as_bytes(), &Limits::default())
    }

    fn at(pos: &str, kind: ReadErrorKind) -> (String, ReadErrorKind) {
        (pos.to_owned(), kind)
    }

    fn sym(s: &str) -> Sexp {
        Sexp::Symbol(s.into())
    }
    fn kw(s: &str) -> Sexp {
        Sexp::Keyword(s.into())
    }
    fn st(s: &str) -> Sexp {
        Sexp::String(s.into())
    }
    fn dec(s: &str) -> Sexp {
        Sexp::Decimal(s.into())
    }
    fn list(items: Vec<Sexp>) -> Sexp {
        Sexp::List(items)
    }

    #[test]
    fn limits_default_to_the_spec() {
        let l = Limits::default();
        assert_eq!(l.max_bytes, 1 << 20);
        assert_eq!(l.max_depth, 64);
        assert_eq!(l.max_string_bytes, 256 << 10);
        assert_eq!(l.max_list_len, 10_000);
        assert_eq!(l.max_datums, 100_000);
    }

    #[test]
    fn every_kind_of_datum() {
        assert_eq!(
            ok(r#"(Note :id "a" :n -42 :d 3.25 :t #t :f #f :x nil :e () :"odd key" 1)"#),
            list(vec![
                sym("Note"),
                kw("id"),
                st("a"),
                kw("n"),
                Sexp::Integer(-42),
                kw("d"),
                dec("3.25"),
                kw("t"),
                Sexp::Bool(true),
                kw("f"),
                Sexp::Bool(false),
                kw("x"),
                Sexp::Nil,
                kw("e"),
                list(vec![]),
                kw("odd key"),
                Sexp::Integer(1),
            ])
        );
        assert_eq!(ok("@"), sym("@"));
        assert_eq!(ok("toot:Emoji"), sym("toot:Emoji"));
        assert_eq!(ok(":@context"), kw("@context"));
        assert_eq!(ok(":toot:discoverable"), kw("toot:discoverable"));
        assert_eq!(ok("::a"), kw(":a"));
        assert_eq!(ok(":1"), kw("1"));
        assert_eq!(ok(r#":"""#), kw(""));
        assert_eq!(
            ok(r#":"http://schema.org#value""#),
            kw("http://schema.org#value")
        );
        assert_eq!(ok(r#""""#), st(""));
        // Symbols that start like numbers but are not followed by a digit.
        assert_eq!(ok("-"), sym("-"));
        assert_eq!(ok("+"), sym("+"));
        assert_eq!(ok("..."), sym("..."));
        assert_eq!(ok("-a"), sym("-a"));
        assert_eq!(ok("-.5"), sym("-.5"));
        assert_eq!(ok("-."), sym("-."));
        assert_eq!(ok("NIL"), sym("NIL"));
        assert_eq!(ok("nil?"), sym("nil?"));
    }

    #[test]
    fn dot_is_a_symbol_not_a_pair() {
        assert_eq!(ok("(a . b)"), list(vec![sym("a"), sym("."), sym("b")]));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            ok(r#""q\" b\\ n\n r\r t\t u\u{41}\u{1F339}\u{00e9}\u{10FFFF}""#),
            st("q\" b\\ n\n r\r t\t uA\u{1F339}é\u{10FFFF}")
        );
        // Tab, LF and CR may appear raw and mean themselves.
        assert_eq!(ok("\"a\tb\nc\r\""), st("a\tb\nc\r"));
        assert_eq!(ok(r#""\u{7f}\u{1}""#), st("\u{7f}\u{1}"));
    }

    #[test]
    fn bad_escapes_point_at_the_backslash() {
        let bad = |what| K::BadEscape(what);
        let shape = "\\u must be followed by 1 to 6 hex digits in braces, as in \\u{1F339}";
        let scalar = "\\u{…} must name a Unicode scalar value (not a surrogate, at most 10FFFF)";
        assert_eq!(
            err(r#""ab\x""#),
            at(
                "1:4",
                bad("only \\\" \\\\ \\n \\r \\t and \\u{hex} are escapes")
            )
        );
        assert_eq!(err(r#""\u41""#), at("1:2", bad(shape)));
        assert_eq!(err(r#""\u{}""#), at("1:2", bad(shape)));
        assert_eq!(err(r#""\u{1234567}""#), at("1:2", bad(shape)));
        assert_eq!(err(r#""\u{12g}""#), at("1:2", bad(shape)));
        assert_eq!(err(r#""\u{12""#), at("1:2", bad(shape)));
        assert_eq!(err(r#""\u{D800}""#), at("1:2", bad(scalar)));
        assert_eq!(err(r#""\u{DFFF}""#), at("1:2", bad(scalar)));
        assert_eq!(err(r#""\u{110000}""#), at("1:2", bad(scalar)));
        assert_eq!(err(r#""é\u{0}""#), at("1:3", K::Nul));
        assert_eq!(err(r#""\u{000000}""#), at("1:2", K::Nul));
    }

    #[test]
    fn unterminated_strings_point_at_the_opening_quote() {
        assert_eq!(err("(a\n  \"abc"), at("2:3", K::UnterminatedString));
        assert_eq!(err("\"abc\\"), at("1:1", K::UnterminatedString));
        assert_eq!(err("\"\\u"), at("1:1", K::UnterminatedString));
        assert_eq!(err("\"\\u{1"), at("1:1", K::UnterminatedString));
        assert_eq!(err(":\"key"), at("1:2", K::UnterminatedString));
    }

    #[test]
    fn lists_and_parentheses() {
        assert_eq!(ok("()"), list(vec![]));
        assert_eq!(ok("(())"), list(vec![list(vec![])]));
        assert_eq!(
            ok(" ( a ( b ) c ) "),
            list(vec![sym("a"), list(vec![sym("b")]), sym("c")])
        );
        assert_eq!(err(")"), at("1:1", K::UnexpectedClose));
        assert_eq!(err("(a))"), at("1:4", K::UnexpectedClose));
        assert_eq!(err("a )"), at("1:3", K::UnexpectedClose));
        assert_eq!(err("(a\n (b) (c"), at("2:6", K::UnterminatedList));
        assert_eq!(err("(("), at("1:2", K::UnterminatedList));
        assert_eq!(err("(a ; no close )"), at("1:1", K::UnterminatedList));
    }

    #[test]
    fn whitespace_between_tokens() {
        // A string or list needs no whitespace around it.
        assert_eq!(ok(r#"(a"b")"#), list(vec![sym("a"), st("b")]));
        assert_eq!(
            ok(r#"("a""b"c(d))"#),
            list(vec![st("a"), st("b"), sym("c"), list(vec![sym("d")])])
        );
        assert_eq!(ok(r#"(:k"v")"#), list(vec![kw("k"), st("v")]));
        // A token runs to the next delimiter, so two datums at top level are
        // a trailing datum, whatever separates them.
        assert_eq!(err("1 2"), at("1:3", K::TrailingDatum));
        assert_eq!(err(r#"ab"c""#), at("1:3", K::TrailingDatum));
        assert_eq!(err(r#""a"b"#), at("1:4", K::TrailingDatum));
        assert_eq!(err("()()"), at("1:3", K::TrailingDatum));
        assert_eq!(err("a;c\nb"), at("2:1", K::TrailingDatum));
        assert_eq!(ok("\t\r\n a \r\n"), sym("a"));
    }

    #[test]
    fn comments() {
        assert_eq!(
            ok("; lead\n(a ; inner ( \" \n b) ; trail"),
            list(vec![sym("a"), sym("b")])
        );
        assert_eq!(ok("a;comment right after"), sym("a"));
        assert_eq!(ok("a ; no final newline"), sym("a"));
        assert_eq!(ok(";\n;\n\"x\";"), st("x"));
        assert_eq!(ok("(a;é 🌹\nb)"), list(vec![sym("a"), sym("b")]));
        assert_eq!(err("; only a comment\n"), at("2:1", K::Empty));
        assert_eq!(err("a ; é\0"), at("1:6", K::Nul));
        assert_eq!(
            err_bytes(b"a ; \xff\n", &Limits::default()),
            at("1:5", K::InvalidUtf8)
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(err(""), at("1:1", K::Empty));
        assert_eq!(err("  \n "), at("2:2", K::Empty));
    }

    #[test]
    fn numbers() {
        assert_eq!(ok("0"), Sexp::Integer(0));
        assert_eq!(ok("-42"), Sexp::Integer(-42));
        assert_eq!(ok("9223372036854775807"), Sexp::Integer(i64::MAX));
        assert_eq!(ok("-9223372036854775808"), Sexp::Integer(i64::MIN));
        // Beyond i64: a decimal, kept as written.
        assert_eq!(ok("9223372036854775808"), dec("9223372036854775808"));
        assert_eq!(ok("-9223372036854775809"), dec("-9223372036854775809"));
        assert_eq!(ok("18446744073709551615"), dec("18446744073709551615"));
        for d in [
            "3.25", "-0.5e-3", "1E6", "1e+6", "0.0", "-0.0", "-0e5", "1.50", "0.000", "12.5E-0",
        ] {
            assert_eq!(ok(d), dec(d), "{d}");
        }
        assert_eq!(ok("(1 1.0)"), list(vec![Sexp::Integer(1), dec("1.0")]));
        assert_eq!(err("-0"), at("1:1", K::NegativeZero));
        assert_eq!(err("(a -0)"), at("1:4", K::NegativeZero));
        for bad in [
            "01", "-01", "00", "1.", "1.e5", "1e", "1e+", "1E-", "1.5.2", "1e5e5", "12ab", "1-2",
            "+1", "+0.5", ".5", "1..2", "0x10", "1_000", "1.5f",
        ] {
            assert_eq!(err(bad), at("1:1", K::BadNumber), "{bad}");
        }
        assert_eq!(err(" (x\n   007)"), at("2:4", K::BadNumber));
    }

    #[test]
    fn malformed_tokens() {
        for bad in [
            "#", "#true", "#T", ":", "a\\b", "a'b", "a[b", "é", "ab\u{1}", "a|b", "#x",
        ] {
            assert_eq!(err(bad), at("1:1", K::MalformedToken), "{bad:?}");
        }
        assert_eq!(err("(x :bad\u{e9}key)"), at("1:4", K::MalformedToken));
        assert_eq!(err("(é)"), at("1:2", K::MalformedToken));
        // The column counts characters, not bytes.
        assert_eq!(err("(\"é🌹\" \u{7f})"), at("1:7", K::MalformedToken));
    }

    #[test]
    fn unsupported_lisp_syntax() {
        let u = K::Unsupported;
        assert_eq!(err("'a"), at("1:1", u("quote `'`")));
        assert_eq!(err("(a `b)"), at("1:4", u("quasiquote `` ` ``")));
        assert_eq!(err("(a ,b)"), at("1:4", u("unquote `,`")));
        assert_eq!(err("[a]"), at("1:1", u("brackets `[ ]`")));
        assert_eq!(err("(a ])"), at("1:4", u("brackets `[ ]`")));
        assert_eq!(err("{}"), at("1:1", u("braces `{ }`")));
        assert_eq!(err("|odd symbol|"), at("1:1", u("`|symbols|`")));
        assert_eq!(err("#(1 2)"), at("1:1", u("vectors `#(…)`")));
        assert_eq!(err("(a #\\b)"), at("1:4", u("characters `#\\a`")));
        assert_eq!(err("#| block |# a"), at("1:1", u("block comments `#|…|#`")));
        assert_eq!(err("(#;a b)"), at("1:2", u("datum comments `#;`")));
    }

    #[test]
    fn nul_is_refused_everywhere() {
        assert_eq!(err("\0"), at("1:1", K::Nul));
        assert_eq!(err("(a\0)"), at("1:3", K::Nul));
        assert_eq!(err("(ab \"c\0\")"), at("1:7", K::Nul));
        assert_eq!(err("a\n;\0"), at("2:2", K::Nul));
    }

    #[test]
    fn raw_controls_in_strings() {
        assert_eq!(err("\"a\u{1}\""), at("1:3", K::ControlCharacter(1)));
        assert_eq!(err("\"\u{b}\""), at("1:2", K::ControlCharacter(0xb)));
        assert_eq!(err("\"\u{c}\""), at("1:2", K::ControlCharacter(0xc)));
        assert_eq!(err("\"\u{1f}\""), at("1:2", K::ControlCharacter(0x1f)));
        assert_eq!(err("\"\u{7f}\""), at("1:2", K::ControlCharacter(0x7f)));
        assert_eq!(
            ReadError {
                line: 1,
                column: 2,
                kind: K::ControlCharacter(0x7f)
            }
            .to_string(),
            "1:2: raw control character U+007F in a string: write it as \\u{7f}"
        );
    }

    #[test]
    fn utf8() {
        assert_eq!(ok("\"é 🌹 中\""), st("é 🌹 中"));
        assert_eq!(ok(":\"clé\""), kw("clé"));
        let bad = |bytes: &[u8]| err_bytes(bytes, &Limits::default());
        assert_eq!(bad(b"\"ab\xff\""), at("1:4", K::InvalidUtf8));
        // Columns count the characters before the error, not the bytes.
        assert_eq!(
            bad("(\"é🌹\" \""
                .as_bytes()
                .iter()
                .chain(b"\xc3\x28\"")
                .copied()
                .collect::<Vec<_>>()
                .as_slice()),
            at("1:8", K::InvalidUtf8)
        );
        assert_eq!(bad(b"\"\xc0\x80\""), at("1:2", K::InvalidUtf8)); // overlong NUL
        assert_eq!(bad(b"\"\xed\xa0\x80\""), at("1:2", K::InvalidUtf8)); // a surrogate
        assert_eq!(bad(b"\"\xf4\x90\x80\x80\""), at("1:2", K::InvalidUtf8)); // beyond U+10FFFF
                                                                             // Cut short by the end of input: the string is what is unfinished.
        assert_eq!(bad(b"\"a\xe2\x82"), at("1:1", K::UnterminatedString));
        assert_eq!(bad(b"\"a\xe2\x82\""), at("1:3", K::InvalidUtf8));
        assert_eq!(bad(b"\"\x80\\n\""), at("1:2", K::InvalidUtf8)); // before an escape
                                                                    // An earlier invalid byte is reported before a later control.
        assert_eq!(bad(b"\"\xff\x01\""), at("1:2", K::InvalidUtf8));
        // Outside strings and comments a non-ASCII byte is part of a token.
        assert_eq!(bad(b"(a \xff)"), at("1:4", K::MalformedToken));
        // Lines count LF; CR is an ordinary character of the line.
        assert_eq!(
            err("(a\r\n\"\u{e9}\"\r\n  ))"),
            at("3:4", K::UnexpectedClose)
        );
        assert_eq!(err("(a\r\n  é)"), at("2:3", K::MalformedToken));
    }

    #[test]
    fn errors_display_as_line_colon_column() {
        let e = read(b"(a\n  b))", &Limits::default()).unwrap_err();
        assert_eq!(e.to_string(), "2:5: unexpected `)`: no list is open");
        let e = read(b"", &Limits::default()).unwrap_err();
        assert_eq!(e.to_string(), "1:1: empty input: expected one datum");
    }

    #[test]
    fn limit_total_size() {
        let limits = Limits {
            max_bytes: 5,
            ..Limits::default()
        };
        assert_eq!(
            read(b"(a b)", &limits).unwrap(),
            list(vec![sym("a"), sym("b")])
        );
        assert_eq!(err_bytes(b"(a  b)", &limits), at("1:6", K::TooLarge(5)));
        assert_eq!(
            err_bytes(
                b"(a\nbc)",
                &Limits {
                    max_bytes: 4,
                    ..limits
                }
            ),
            at("2:2", K::TooLarge(4))
        );
        let big = vec![b' '; (1 << 20) + 1];
        assert_eq!(
            read(&big, &Limits::default()).unwrap_err().kind,
            K::TooLarge(1 << 20)
        );
    }

    #[test]
    fn limit_depth() {
        let nested = |n: usize| format!("{}{}", "(".repeat(n), ")".repeat(n));
        assert!(read(nested(64).as_bytes(), &Limits::default()).is_ok());
        assert_eq!(err(&nested(65)), at("1:65", K::TooDeep(64)));
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert_eq!(
            err_bytes(b"(a (b) (c (d)))", &limits),
            at("1:11", K::TooDeep(2))
        );
        // Atoms need no depth.
        let flat = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        assert_eq!(read(b"x", &flat).unwrap(), sym("x"));
        assert_eq!(err_bytes(b"()", &flat), at("1:1", K::TooDeep(0)));
    }

    #[test]
    fn deep_input_cannot_overflow_the_stack() {
        // A million open lists: the reader keeps them on the heap and
        // reports the innermost one, with no recursion to overflow.
        let deep = "(".repeat(1_000_000);
        let limits = Limits {
            max_depth: usize::MAX,
            max_datums: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(
            err_bytes(deep.as_bytes(), &limits),
            at("1:1000000", K::UnterminatedList)
        );
        assert_eq!(err(&deep).1, K::TooDeep(64));
    }

    #[test]
    fn limit_string_length_after_unescaping() {
        let limits = Limits {
            max_string_bytes: 4,
            ..Limits::default()
        };
        assert_eq!(read(b"\"abcd\"", &limits).unwrap(), st("abcd"));
        // Escapes count as what they mean: 4 bytes, though 10 were written.
        assert_eq!(read(br#""\u{41}\n\"\\""#, &limits).unwrap(), st("A\n\"\\"));
        assert_eq!(
            read(
                "\"é🌹\"".as_bytes(),
                &Limits {
                    max_string_bytes: 6,
                    ..limits.clone()
                }
            )
            .unwrap(),
            st("é🌹")
        );
        assert_eq!(
            err_bytes(b"(a \"abcde\")", &limits),
            at("1:4", K::StringTooLong(4))
        );
        assert_eq!(
            err_bytes(br#"(a "abcd\n")"#, &limits),
            at("1:4", K::StringTooLong(4))
        );
        assert_eq!(
            err_bytes(br#"(a "abc\u{e9}")"#, &limits),
            at("1:4", K::StringTooLong(4))
        );
        assert_eq!(
            err_bytes("\"é🌹\"".as_bytes(), &limits),
            at("1:1", K::StringTooLong(4))
        );
        // Quoted keywords are strings too.
        assert_eq!(
            err_bytes(br#":"abcde""#, &limits),
            at("1:2", K::StringTooLong(4))
        );
        let long = format!("\"{}\"", "x".repeat((256 << 10) + 1));
        assert_eq!(err(&long), at("1:1", K::StringTooLong(256 << 10)));
        assert!(read(
            format!("\"{}\"", "x".repeat(256 << 10)).as_bytes(),
            &Limits::default()
        )
        .is_ok());
    }

    #[test]
    fn limit_list_length() {
        let limits = Limits {
            max_list_len: 3,
            ..Limits::default()
        };
        assert!(read(b"(a b c)", &limits).is_ok());
        assert!(read(b"((a b c) (d e f) (g h i))", &limits).is_ok());
        assert_eq!(
            err_bytes(b"(a b c\n  d)", &limits),
            at("2:3", K::ListTooLong(3))
        );
        assert_eq!(
            err_bytes(b"(a b c ())", &limits),
            at("1:8", K::ListTooLong(3))
        );
        let items = |n: usize| format!("({})", "x ".repeat(n));
        assert!(read(items(10_000).as_bytes(), &Limits::default()).is_ok());
        assert_eq!(err(&items(10_001)).1, K::ListTooLong(10_000));
    }

    #[test]
    fn limit_datums() {
        let limits = Limits {
            max_datums: 4,
            ..Limits::default()
        };
        // Every list and atom counts: (, a, (, b.
        assert!(read(b"(a (b))", &limits).is_ok());
        assert_eq!(
            err_bytes(b"(a (b) c)", &limits),
            at("1:8", K::TooManyDatums(4))
        );
        assert_eq!(
            err_bytes(b"(a (b ()))", &limits),
            at("1:7", K::TooManyDatums(4))
        );
        let many = |n: usize| format!("({})", "(x) ".repeat(n));
        // 1 + 2 × 49,999 = 99,999 datums, then 100,001.
        assert!(read(
            many(49_999).as_bytes(),
            &Limits {
                max_list_len: usize::MAX,
                ..Limits::default()
            }
        )
        .is_ok());
        assert_eq!(
            err_bytes(
                many(50_000).as_bytes(),
                &Limits {
                    max_list_len: usize::MAX,
                    ..Limits::default()
                }
            )
            .1,
            K::TooManyDatums(100_000)
        );
    }
}
