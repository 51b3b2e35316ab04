//! The human-readable layout served for `Accept: application/sexp`, as in
//! the example at the top of `docs/sexp.md`:
//!
//! ```text
//! (Create :id "https://a.example/activities/1"
//!         :object (Note :id "https://a.example/objects/1"
//!                       :content (p "Hello " (a :href "https://b.example/" "friends"))))
//! ```
//!
//! A list that fits in the line (100 characters, counting the closing
//! parentheses that follow it) is written compactly. A longer list breaks
//! after its head: each `:key value` pair, or other element, on its own
//! line, aligned under the first one. The layout depends only on the datum,
//! never on how it was written, and only whitespace differs from
//! [`write_compact`], so the text reads back to the same datum (property
//! lists keep their order: this is not the canonical form).

use super::{write_compact, Sexp};

/// Line width, as rustfmt's default.
const WIDTH: usize = 100;

/// The pretty text of `datum`, ending with a newline.
pub fn pretty(datum: &Sexp) -> String {
    let mut printer = Printer {
        out: String::new(),
        scratch: String::new(),
    };
    printer.datum(datum, 0, 0);
    printer.out.push('\n');
    printer.out
}

struct Printer {
    out: String,
    /// Reused for measuring atoms, so measuring allocates once.
    scratch: String,
}

impl Printer {
    /// Writes `datum`, which starts at column `col` and is followed on its
    /// line by `trail` closing parentheses.
    fn datum(&mut self, datum: &Sexp, col: usize, trail: usize) {
        let Sexp::List(items) = datum else {
            write_compact(&mut self.out, datum);
            return;
        };
        if items.is_empty()
            || self
                .flat_width(datum, WIDTH.saturating_sub(col + trail))
                .is_some()
        {
            write_compact(&mut self.out, datum);
            return;
        }
        self.out.push('(');
        let (rest, indent) = match items.split_first() {
            Some((head @ Sexp::Symbol(s), rest)) if !rest.is_empty() => {
                write_compact(&mut self.out, head);
                self.out.push(' ');
                (rest, col + 1 + s.chars().count() + 1)
            }
            _ => (&items[..], col + 1),
        };
        let mut i = 0;
        while i < rest.len() {
            if i > 0 {
                self.out.push('\n');
                self.out.extend(std::iter::repeat_n(' ', indent));
            }
            match (&rest[i], rest.get(i + 1)) {
                (key @ Sexp::Keyword(_), Some(value)) => {
                    let start = self.out.len();
                    write_compact(&mut self.out, key);
                    let key_width = self.out[start..].chars().count();
                    self.out.push(' ');
                    let last = i + 2 == rest.len();
                    self.datum(
                        value,
                        indent + key_width + 1,
                        if last { trail + 1 } else { 0 },
                    );
                    i += 2;
                }
                (item, _) => {
                    let last = i + 1 == rest.len();
                    self.datum(item, indent, if last { trail + 1 } else { 0 });
                    i += 1;
                }
            }
        }
        self.out.push(')');
    }

    /// The width in characters of `datum` written compactly, if it is at
    /// most `budget`; gives up as soon as it is over, so measuring a large
    /// list costs no more than the budget.
    fn flat_width(&mut self, datum: &Sexp, budget: usize) -> Option<usize> {
        let width = match datum {
            Sexp::List(items) => {
                let mut width = 2 + items.len().saturating_sub(1);
                if width > budget {
                    return None;
                }
                for item in items {
                    width += self.flat_width(item, budget - width)?;
                }
                width
            }
            Sexp::Symbol(s) | Sexp::Keyword(s) | Sexp::String(s) | Sexp::Decimal(s) => {
                // Each character is at least one byte of UTF-8 and at most
                // four, and escaping only widens: a text over four bytes per
                // budgeted character cannot fit.
                if s.len() > budget.saturating_mul(4) {
                    return None;
                }
                self.atom_width(datum)
            }
            _ => self.atom_width(datum),
        };
        (width <= budget).then_some(width)
    }

    fn atom_width(&mut self, datum: &Sexp) -> usize {
        self.scratch.clear();
        write_compact(&mut self.scratch, datum);
        self.scratch.chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::sexp::{read, Limits};

    fn datum(text: &str) -> Sexp {
        read(text.as_bytes(), &Limits::default()).unwrap()
    }

    /// Pretty-prints `text` and checks the result reads back to the datum.
    fn layout(text: &str) -> String {
        let d = datum(text);
        let out = pretty(&d);
        assert_eq!(datum(&out), d, "{out}");
        out
    }

    const EXAMPLE: &str = r#"(Create :id "https://a.example/activities/1"
        :actor "https://a.example/actors/blog"
        :object (Note :id "https://a.example/objects/1"
                      :attributedTo "https://a.example/actors/blog"
                      :to ("https://www.w3.org/ns/activitystreams#Public")
                      :content (p "Hello " (a :href "https://b.example/" "friends"))))
"#;

    #[test]
    fn the_example_of_the_spec() {
        let compact = datum(EXAMPLE).to_string();
        assert_eq!(layout(&compact), EXAMPLE);
    }

    #[test]
    fn short_lists_stay_on_one_line() {
        assert_eq!(
            layout("(Follow :id \"x\"\n :actor \"y\"   :object \"z\")"),
            "(Follow :id \"x\" :actor \"y\" :object \"z\")\n"
        );
        assert_eq!(layout("()"), "()\n");
        assert_eq!(layout("\"a\\nb\""), "\"a\\nb\"\n");
        assert_eq!(layout(":\"odd key\""), ":\"odd key\"\n");
    }

    #[test]
    fn long_arrays_align_under_the_first_element() {
        let items: Vec<String> = (0..12)
            .map(|i| format!("\"https://x.example/{i}\""))
            .collect();
        let out = layout(&format!("({})", items.join(" ")));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 12);
        assert_eq!(lines[0], "(\"https://x.example/0\"");
        assert_eq!(lines[1], " \"https://x.example/1\"");
        assert_eq!(lines[11], " \"https://x.example/11\")");
    }

    #[test]
    fn markup_children_go_one_per_line_when_long() {
        let out = layout(
            r#"(Note :content (p "A fairly long first sentence of the post, " (em "emphasised") " and then some more text to break the line." (a :href "https://b.example/" "a link")))"#,
        );
        assert_eq!(
            out,
            r#"(Note :content (p "A fairly long first sentence of the post, "
                  (em "emphasised")
                  " and then some more text to break the line."
                  (a :href "https://b.example/" "a link")))
"#
        );
    }

    #[test]
    fn the_width_counts_characters_and_closing_parentheses() {
        // 97 characters (180 bytes) of compact text.
        let x = format!("(p :x \"{}\" :y 1)", "é".repeat(83));
        assert_eq!(x.chars().count(), 97);
        assert_eq!(layout(&x), format!("{x}\n"));
        // At column 3 followed by nothing on its line: 100 characters, fits.
        assert_eq!(layout(&format!("(A {x} b)")), format!("(A {x}\n   b)\n"));
        // At column 3 followed by the `)` of its parent: 101, breaks.
        assert_eq!(
            layout(&format!("(A b {x})")),
            format!("(A b\n   (p :x \"{}\"\n      :y 1))\n", "é".repeat(83))
        );
    }

    #[test]
    fn atoms_longer_than_the_line_are_left_whole() {
        let long = "x".repeat(150);
        let out = layout(&format!("(Note :id \"{long}\" :to (\"{long}\" \"b\"))"));
        assert_eq!(
            out,
            format!("(Note :id \"{long}\"\n      :to (\"{long}\"\n           \"b\"))\n")
        );
    }

    #[test]
    fn a_dangling_keyword_and_a_long_head() {
        let head = "h".repeat(120);
        assert_eq!(layout(&format!("({head})")), format!("({head})\n"));
        let out = layout(&format!("(p :k \"{}\" :dangling)", "v".repeat(100)));
        assert_eq!(
            out,
            format!("(p :k \"{}\"\n   :dangling)\n", "v".repeat(100))
        );
    }

    #[test]
    fn layout_ignores_how_the_input_was_written() {
        let a = pretty(&datum(EXAMPLE));
        let b = pretty(&datum(&datum(EXAMPLE).to_string()));
        assert_eq!(a, b);
    }
}
