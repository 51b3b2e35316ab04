//! Post bodies as markup trees (`docs/sexp.md` §5): renders a sexp body such
//! as `(p "Hello " (a :href "https://b.example/" "friends"))` to HTML.
//!
//! The renderer is the whole of the safety story for sexp posts, so it works
//! by allow-list and never by repair: the table's elements become markup,
//! checked `http`/`https`/`mailto` links become `<a>`, text is escaped, and
//! everything else comes out as the escaped compact text of its own sexp, so
//! nothing is hidden and nothing executes. Depth, node count and output size
//! are checked while rendering; exceeding one is an error, never a truncated
//! post. The output is a pure function of the tree, because the AS2 mapping
//! (§3) recognises a sexp post by `content == to_html(tree)`.

use super::{write_compact, Sexp};

#[cfg(test)]
pub(crate) mod check;
#[cfg(test)]
pub(crate) mod corpus;
#[cfg(test)]
mod props;

/// The `rel` of every rendered link: no endorsement for search engines, no
/// `window.opener` for the target, no `Referer` leaking the reader's page.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// The elements written as the same tag, without attributes (§5's first
/// row). The sanitiser of received HTML allows the same set.
pub const CONTAINERS: [&str; 21] = [
    "p",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "span",
];

/// The elements that have no children.
pub const VOIDS: [&str; 2] = ["br", "hr"];

/// Bounds on one rendering (`docs/sexp.md` §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderLimits {
    /// Deepest nesting of lists, the body itself counting as depth 1. This
    /// also bounds the renderer's recursion.
    pub max_depth: usize,
    /// Most datums visited, every datum of the body counting as one (head
    /// symbols, attribute keywords and values included).
    pub max_nodes: usize,
    /// Most bytes of HTML.
    pub max_output: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_depth: 32,
            max_nodes: 10_000,
            max_output: 256 * 1024,
        }
    }
}

/// Why a body could not be rendered: always a limit, since every tree has a
/// rendering (what is not markup becomes text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("markup nested deeper than the depth limit of {limit}")]
    TooDeep { limit: usize },
    #[error("markup has more than the node limit of {limit}")]
    TooManyNodes { limit: usize },
    #[error("rendered HTML larger than the output limit of {limit} bytes")]
    TooLarge { limit: usize },
}

/// Renders a post body to HTML by the rules of `docs/sexp.md` §5.
pub fn to_html(body: &Sexp, limits: &RenderLimits) -> Result<String, RenderError> {
    // Most posts are a few hundred bytes of HTML; reserving the whole limit
    // would cost 256 KiB per post, and doubling from here is amortised.
    const INITIAL_CAPACITY: usize = 1024;
    let mut renderer = Renderer {
        out: String::with_capacity(limits.max_output.min(INITIAL_CAPACITY)),
        limits,
        nodes: 0,
        scratch: String::new(),
    };
    renderer.node(body, 0)?;
    Ok(renderer.out)
}

/// What an element (a list headed by a symbol) renders as.
enum Shape<'a> {
    /// `<tag>children</tag>`.
    Container(&'a str),
    /// `<br>` or `<hr>`.
    Void(&'a str),
    /// `<a href=… rel=…>children</a>`.
    Link(&'a str),
    /// The children alone: an `a` without a usable `:href`.
    Unlinked,
    /// Escaped text of the whole list.
    Text,
}

struct Renderer<'l> {
    out: String,
    limits: &'l RenderLimits,
    nodes: usize,
    /// Reused for the compact text of one atom before it is escaped.
    scratch: String,
}

impl Renderer<'_> {
    /// Renders `datum` in node position; `depth` is the number of lists
    /// around it.
    fn node(&mut self, datum: &Sexp, depth: usize) -> Result<(), RenderError> {
        self.count(1)?;
        match datum {
            Sexp::String(text) => self.push_escaped(text),
            Sexp::List(items) => {
                let depth = self.enter(depth)?;
                match items.first() {
                    Some(Sexp::Symbol(tag)) => self.element(tag, items, depth),
                    _ => self.children(items, depth),
                }
            }
            atom => self.atom_text(atom),
        }
    }

    fn children(&mut self, items: &[Sexp], depth: usize) -> Result<(), RenderError> {
        items.iter().try_for_each(|child| self.node(child, depth))
    }

    /// `items` is the whole list, `items[0]` the symbol `tag`.
    fn element(&mut self, tag: &str, items: &[Sexp], depth: usize) -> Result<(), RenderError> {
        let (shape, first_child) = classify(tag, items);
        // The list itself was counted by `node`; its head and attributes are
        // counted here, the children as they are rendered.
        match shape {
            Shape::Text => self.list_text(items, depth),
            Shape::Container(name) => {
                self.count(first_child)?;
                self.push("<")?;
                self.push(name)?;
                self.push(">")?;
                self.children(&items[first_child..], depth)?;
                self.push("</")?;
                self.push(name)?;
                self.push(">")
            }
            Shape::Void(name) => {
                self.count(first_child)?;
                self.push("<")?;
                self.push(name)?;
                self.push(">")
            }
            Shape::Link(href) => {
                self.count(first_child)?;
                self.push("<a href=\"")?;
                self.push_escaped(href)?;
                self.push("\" rel=\"")?;
                self.push(LINK_REL)?;
                self.push("\">")?;
                self.children(&items[first_child..], depth)?;
                self.push("</a>")
            }
            Shape::Unlinked => {
                self.count(first_child)?;
                self.children(&items[first_child..], depth)
            }
        }
    }

    /// Writes a list as escaped compact sexp text, exactly what `Display`
    /// gives, but bounded by the same limits as markup. `depth` counts the
    /// list itself, which its caller has already counted as a node.
    fn list_text(&mut self, items: &[Sexp], depth: usize) -> Result<(), RenderError> {
        self.push("(")?;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(" ")?;
            }
            self.count(1)?;
            match item {
                Sexp::List(inner) => {
                    let inner_depth = self.enter(depth)?;
                    self.list_text(inner, inner_depth)?;
                }
                atom => self.atom_text(atom)?,
            }
        }
        self.push(")")
    }

    fn atom_text(&mut self, atom: &Sexp) -> Result<(), RenderError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // Only atoms reach here, so this writes one token, never recursing.
        write_compact(&mut scratch, atom);
        let written = self.push_escaped(&scratch);
        self.scratch = scratch;
        written
    }

    /// The depth of a list found at `depth`, refused before anything inside
    /// it is looked at (this is what bounds the recursion).
    fn enter(&self, depth: usize) -> Result<usize, RenderError> {
        let inner = depth.saturating_add(1);
        if inner > self.limits.max_depth {
            return Err(RenderError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        Ok(inner)
    }

    fn count(&mut self, n: usize) -> Result<(), RenderError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(RenderError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    fn push(&mut self, s: &str) -> Result<(), RenderError> {
        if s.len() > self.limits.max_output.saturating_sub(self.out.len()) {
            return Err(RenderError::TooLarge {
                limit: self.limits.max_output,
            });
        }
        self.out.push_str(s);
        Ok(())
    }

    /// Text and attribute values alike: escaping all five characters makes
    /// the same bytes safe between tags and inside a double-quoted value.
    fn push_escaped(&mut self, s: &str) -> Result<(), RenderError> {
        let mut start = 0;
        for (i, byte) in s.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            // `i` is at an ASCII byte, so both slices end on char boundaries.
            self.push(&s[start..i])?;
            self.push(entity)?;
            start = i + 1;
        }
        self.push(&s[start..])
    }
}

/// Decides what the element `items` (headed by the symbol `tag`) renders as,
/// and where its children start.
fn classify<'a>(tag: &'a str, items: &'a [Sexp]) -> (Shape<'a>, usize) {
    let mut href = None;
    let mut i = 1;
    while let Some(Sexp::Keyword(name)) = items.get(i) {
        let Some(Sexp::String(value)) = items.get(i + 1) else {
            // A keyword without a string after it: not well formed.
            return (Shape::Text, i);
        };
        // `:href` once, on `a`, is the only attribute there is; a second one
        // would leave it to each parser which of the two counts.
        if tag != "a" || name != "href" || href.is_some() {
            return (Shape::Text, i);
        }
        href = Some(value.as_str());
        i += 2;
    }
    let has_children = i < items.len();
    let shape = match tag {
        _ if CONTAINERS.contains(&tag) => Shape::Container(tag),
        _ if VOIDS.contains(&tag) && !has_children => Shape::Void(tag),
        "a" => match href {
            Some(href) if is_safe_href(href) => Shape::Link(href),
            _ => Shape::Unlinked,
        },
        _ => Shape::Text,
    };
    (shape, i)
}

/// Whether `href` may become a link as written: an absolute `http`, `https`
/// or `mailto` URL by the WHATWG URL standard (which the `url` crate and
/// browsers implement), with nothing a parser would strip or a reader would
/// not see.
///
/// The URL parser forgives what an author should not rely on: it trims
/// spaces and controls, drops tabs and newlines inside (`java\tscript:`),
/// and reads `https:host` relative to the page when the page is https too.
/// Refusing those up front means the string written into the page is the
/// very URL that was checked, in every parser.
pub fn is_safe_href(href: &str) -> bool {
    if href.chars().any(is_hidden_in_url) {
        return false;
    }
    let Ok(url) = url::Url::parse(href) else {
        return false;
    };
    match url.scheme() {
        // The scheme was ASCII and `url` lowercases it, so its length is
        // that of the written one, which must be followed by `://`.
        "http" | "https" => href
            .get(url.scheme().len()..)
            .is_some_and(|rest| rest.starts_with("://")),
        "mailto" => true,
        _ => false,
    }
}

/// Whitespace, controls, and the invisible characters (zero-width, bidi
/// controls, BOM) that make a URL read differently from what it is.
fn is_hidden_in_url(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::corpus::{a, el, frag, kw, sym, text};
    use super::*;

    fn render(body: &Sexp) -> String {
        to_html(body, &RenderLimits::default()).expect("renders")
    }

    /// Nested `(span (span … "x"))`, `depth` lists in all.
    fn nested(tag: &str, depth: usize) -> Sexp {
        (1..depth).fold(el(tag, [text("x")]), |inner, _| el(tag, [inner]))
    }

    #[test]
    fn defaults_are_the_documented_limits() {
        assert_eq!(
            RenderLimits::default(),
            RenderLimits {
                max_depth: 32,
                max_nodes: 10_000,
                max_output: 262_144,
            }
        );
    }

    #[test]
    fn the_example_of_the_spec() {
        let body = el(
            "p",
            [text("Hello "), a("https://b.example/", [text("friends")])],
        );
        assert_eq!(
            render(&body),
            r#"<p>Hello <a href="https://b.example/" rel="nofollow noopener noreferrer">friends</a></p>"#
        );
    }

    #[test]
    fn row_plain_containers() {
        for tag in CONTAINERS {
            assert_eq!(
                render(&el(tag, [text("x"), el("em", [text("y")])])),
                format!("<{tag}>x<em>y</em></{tag}>")
            );
            assert_eq!(render(&el(tag, [])), format!("<{tag}></{tag}>"));
            // No attribute at all is allowed on them.
            assert_eq!(
                render(&el(tag, [kw("title"), text("t"), text("x")])),
                format!("({tag} :title &quot;t&quot; &quot;x&quot;)")
            );
        }
    }

    #[test]
    fn row_br_and_hr() {
        assert_eq!(render(&el("br", [])), "<br>");
        assert_eq!(render(&el("hr", [])), "<hr>");
        assert_eq!(
            render(&el("p", [text("a"), el("br", []), text("b")])),
            "<p>a<br>b</p>"
        );
        // Children refused: the whole element is text.
        assert_eq!(render(&el("br", [text("x")])), "(br &quot;x&quot;)");
        assert_eq!(
            render(&el("hr", [el("p", [text("x")])])),
            "(hr (p &quot;x&quot;))"
        );
        assert_eq!(
            render(&el("br", [kw("id"), text("x")])),
            "(br :id &quot;x&quot;)"
        );
    }

    #[test]
    fn row_a_with_a_usable_href() {
        for href in [
            "https://b.example/",
            "http://b.example/path?q=1#f",
            "mailto:someone@b.example",
            "HTTPS://B.example/",
            "MailTo:someone@b.example",
            "https://b.example/ü",
        ] {
            assert_eq!(
                render(&a(href, [text("x")])),
                format!(r#"<a href="{href}" rel="nofollow noopener noreferrer">x</a>"#)
            );
        }
        // Written as given, escaped for the attribute.
        assert_eq!(
            render(&a("https://b.example/?a=1&b='2'\"", [])),
            r#"<a href="https://b.example/?a=1&amp;b=&#39;2&#39;&quot;" rel="nofollow noopener noreferrer"></a>"#
        );
    }

    #[test]
    fn row_a_without_a_usable_href() {
        assert_eq!(
            render(&el("a", [text("x "), el("em", [text("y")])])),
            "x <em>y</em>"
        );
        for href in [
            "javascript:alert(1)",
            "/relative",
            "//b.example/",
            "https:b.example",
            "https:/b.example",
            " https://b.example/",
            "https://b.example/ ",
            "https://b.example/\u{200B}",
            "ftp://b.example/",
            "data:text/html,x",
            "",
        ] {
            assert_eq!(
                render(&el(
                    "a",
                    [kw("href"), text(href), text("x "), el("em", [text("y")])]
                )),
                "x <em>y</em>",
                "{href:?}"
            );
        }
    }

    #[test]
    fn any_other_attribute_on_a_makes_it_text() {
        assert_eq!(
            render(&el(
                "a",
                [
                    kw("href"),
                    text("https://b.example/"),
                    kw("rel"),
                    text("opener"),
                    text("x")
                ]
            )),
            "(a :href &quot;https://b.example/&quot; :rel &quot;opener&quot; &quot;x&quot;)"
        );
        // A second :href, even a good one, is not a choice left to parsers.
        assert_eq!(
            render(&el(
                "a",
                [
                    kw("href"),
                    text("https://b.example/"),
                    kw("href"),
                    text("javascript:x")
                ]
            )),
            "(a :href &quot;https://b.example/&quot; :href &quot;javascript:x&quot;)"
        );
        // Attribute names are exact.
        assert_eq!(
            render(&el(
                "a",
                [kw("HREF"), text("https://b.example/"), text("x")]
            )),
            "(a :HREF &quot;https://b.example/&quot; &quot;x&quot;)"
        );
    }

    #[test]
    fn unknown_elements_are_their_own_text() {
        assert_eq!(render(&el("script", [text("x")])), "(script &quot;x&quot;)");
        assert_eq!(render(&el("P", [text("x")])), "(P &quot;x&quot;)");
        assert_eq!(
            render(&el(
                "p",
                [
                    text("a"),
                    el(
                        "img",
                        [kw("src"), text("x"), kw("onerror"), text("alert('1')")]
                    )
                ]
            )),
            "<p>a(img :src &quot;x&quot; :onerror &quot;alert(&#39;1&#39;)&quot;)</p>"
        );
    }

    #[test]
    fn lists_that_are_not_well_formed_are_text() {
        // A keyword with no value, or with a value that is not a string.
        assert_eq!(render(&el("p", [kw("x")])), "(p :x)");
        assert_eq!(
            render(&el("a", [kw("href"), Sexp::Integer(1), text("x")])),
            "(a :href 1 &quot;x&quot;)"
        );
        assert_eq!(
            render(&el(
                "a",
                [kw("href"), frag([text("https://b.example/")]), text("x")]
            )),
            "(a :href (&quot;https://b.example/&quot;) &quot;x&quot;)"
        );
        assert_eq!(render(&el("p", [kw("a"), kw("b")])), "(p :a :b)");
    }

    #[test]
    fn atoms_in_node_position_are_their_own_text() {
        let body = el(
            "p",
            [
                Sexp::Integer(-3),
                Sexp::Decimal("1.50".into()),
                Sexp::Bool(true),
                Sexp::Bool(false),
                Sexp::Nil,
                kw("k"),
                kw("odd <key>"),
                sym("s&p"),
            ],
        );
        assert_eq!(
            render(&body),
            "<p>-31.50#t#fnil:k:&quot;odd &lt;key&gt;&quot;s&amp;p</p>"
        );
        assert_eq!(render(&Sexp::Nil), "nil");
        assert_eq!(render(&sym("p")), "p");
        // A keyword after the first child is a child, not an attribute.
        assert_eq!(
            render(&el("p", [text("x"), kw("onclick"), text("y")])),
            "<p>x:onclicky</p>"
        );
    }

    #[test]
    fn fragments_and_text() {
        assert_eq!(
            render(&frag([el("p", [text("one")]), el("p", [text("two")])])),
            "<p>one</p><p>two</p>"
        );
        assert_eq!(render(&frag([])), "");
        assert_eq!(render(&frag([frag([text("a")]), text("b")])), "ab");
        assert_eq!(render(&text(r#"<b>&"'"#)), "&lt;b&gt;&amp;&quot;&#39;");
        // A list headed by a string or a keyword is a fragment.
        assert_eq!(render(&frag([text("script"), text("x")])), "scriptx");
        assert_eq!(render(&frag([kw("href"), text("x")])), ":hrefx");
    }

    #[test]
    fn escaped_text_is_display_escaped() {
        let body = el(
            "script",
            [
                text("a\"b\\c\n\u{1}é"),
                frag([]),
                kw("odd key"),
                Sexp::Nil,
                el("p", [text("<x>")]),
            ],
        );
        let shown = body.to_string();
        assert_eq!(
            render(&body),
            shown
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;")
        );
    }

    #[test]
    fn deterministic() {
        let body = corpus::cases()
            .iter_mut()
            .take(40)
            .map(|case| std::mem::replace(&mut case.body, Sexp::Nil))
            .collect::<Vec<_>>();
        let body = Sexp::List(body);
        let limits = RenderLimits {
            max_nodes: usize::MAX,
            max_output: usize::MAX,
            ..RenderLimits::default()
        };
        let first = to_html(&body, &limits);
        assert!(first.is_ok());
        assert_eq!(first, to_html(&body, &limits));
    }

    #[test]
    fn depth_limit() {
        // 32 lists deep is the limit: `(span … (span "x"))`.
        assert!(to_html(&nested("span", 32), &RenderLimits::default()).is_ok());
        let err = to_html(&nested("span", 33), &RenderLimits::default()).unwrap_err();
        assert_eq!(err, RenderError::TooDeep { limit: 32 });
        assert_eq!(
            err.to_string(),
            "markup nested deeper than the depth limit of 32"
        );
        // The same for fragments, escaped text and unlinked `a`.
        for tag in ["a", "script"] {
            assert!(to_html(&nested(tag, 32), &RenderLimits::default()).is_ok());
            assert_eq!(
                to_html(&nested(tag, 33), &RenderLimits::default()),
                Err(RenderError::TooDeep { limit: 32 })
            );
        }
        let deep_fragment = (1..33).fold(frag([text("x")]), |inner, _| frag([inner]));
        assert_eq!(
            to_html(&deep_fragment, &RenderLimits::default()),
            Err(RenderError::TooDeep { limit: 32 })
        );
        let small = RenderLimits {
            max_depth: 1,
            ..RenderLimits::default()
        };
        assert_eq!(
            to_html(&el("p", [text("x")]), &small).as_deref(),
            Ok("<p>x</p>")
        );
        assert_eq!(
            to_html(
                &text("x"),
                &RenderLimits {
                    max_depth: 0,
                    ..small
                }
            )
            .as_deref(),
            Ok("x")
        );
    }

    #[test]
    fn depth_is_refused_before_recursing() {
        // Far deeper than any stack would take if the renderer recursed
        // without looking at the limit.
        let deep = corpus::deep("script", 200_000);
        assert_eq!(
            to_html(&deep, &RenderLimits::default()),
            Err(RenderError::TooDeep { limit: 32 })
        );
        corpus::dismantle(deep);
    }

    #[test]
    fn node_limit() {
        // A fragment of n strings is n + 1 datums.
        let strings = |n: usize| frag((0..n).map(|_| text("x")));
        let limits = RenderLimits::default();
        assert_eq!(
            to_html(&strings(9_999), &limits).map(|s| s.len()),
            Ok(9_999)
        );
        let err = to_html(&strings(10_000), &limits).unwrap_err();
        assert_eq!(err, RenderError::TooManyNodes { limit: 10_000 });
        assert_eq!(
            err.to_string(),
            "markup has more than the node limit of 10000"
        );

        // Head symbols and attributes count, in markup and in escaped text.
        let five = RenderLimits {
            max_nodes: 5,
            ..limits
        };
        let link = a("https://b.example/", [text("x")]); // list, a, :href, value, "x"
        assert!(to_html(&link, &five).is_ok());
        assert_eq!(
            to_html(&frag([link]), &five),
            Err(RenderError::TooManyNodes { limit: 5 })
        );
        let script = el("script", [text("1"), text("2"), text("3")]); // 5 datums
        assert!(to_html(&script, &five).is_ok());
        assert_eq!(
            to_html(
                &el("script", [text("1"), text("2"), text("3"), Sexp::Nil]),
                &five
            ),
            Err(RenderError::TooManyNodes { limit: 5 })
        );
    }

    #[test]
    fn output_limit() {
        let limits = RenderLimits::default();
        // Within the reader's string limit, but four times that as HTML.
        let body = el("p", [text(&"<".repeat(100_000))]);
        let err = to_html(&body, &limits).unwrap_err();
        assert_eq!(err, RenderError::TooLarge { limit: 262_144 });
        assert_eq!(
            err.to_string(),
            "rendered HTML larger than the output limit of 262144 bytes"
        );
        let exact = el("p", [text(&"x".repeat(262_144 - 7))]);
        assert_eq!(to_html(&exact, &limits).map(|s| s.len()), Ok(262_144));

        // Checked byte by byte against the limit, markup and entities too.
        let eight = RenderLimits {
            max_output: 8,
            ..limits
        };
        assert_eq!(
            to_html(&el("p", [text("x")]), &eight).as_deref(),
            Ok("<p>x</p>")
        );
        assert_eq!(
            to_html(&el("p", [text("xy")]), &eight),
            Err(RenderError::TooLarge { limit: 8 })
        );
        assert_eq!(
            to_html(&text("a&amp"), &eight),
            Err(RenderError::TooLarge { limit: 8 })
        );
        assert_eq!(
            to_html(
                &text("&&"),
                &RenderLimits {
                    max_output: 9,
                    ..limits
                }
            ),
            Err(RenderError::TooLarge { limit: 9 })
        );
        assert_eq!(
            to_html(
                &text("&&"),
                &RenderLimits {
                    max_output: 10,
                    ..limits
                }
            )
            .as_deref(),
            Ok("&amp;&amp;")
        );
        assert_eq!(
            to_html(
                &el("script", [text("xy")]),
                &RenderLimits {
                    max_output: 16,
                    ..limits
                }
            ),
            Err(RenderError::TooLarge { limit: 16 })
        );
    }

    #[test]
    fn hrefs() {
        for good in [
            "https://b.example",
            "http://b.example:8080/a/b?c=d#e",
            "https://user@b.example/",
            "https://b.example/'\"<>",
            "mailto:a@b.example?subject=hi",
            "mailto:",
            "hTtP://b.example/",
        ] {
            assert!(is_safe_href(good), "{good:?}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "java\tscript:alert(1)",
            "\u{1}https://b.example/",
            "https://b.example/\n",
            "https://b.ex ample/",
            "https://b.example/\u{202E}",
            "\u{FEFF}https://b.example/",
            "//b.example/",
            "https:b.example",
            "https:\\\\b.example",
            "https://",
            "&#106;avascript:alert(1)",
            "file:///etc/passwd",
            "b.example",
            "",
        ] {
            assert!(!is_safe_href(bad), "{bad:?}");
        }
    }
}
