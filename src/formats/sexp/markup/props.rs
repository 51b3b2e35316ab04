//! Test-only: property tests of the renderer over generated markup trees
//! that mix the allow-list with hostile tags, attributes, URLs and text.

use proptest::prelude::*;
use proptest::sample::select;

use super::check::check;
use super::corpus::{el, kw, sym, text};
use super::{to_html, RenderError, RenderLimits};
use crate::formats::sexp::Sexp;

const TAGS: &[&str] = &[
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
    "h6",
    "span",
    "br",
    "hr",
    "a",
    "a",
    "a",
    "script",
    "style",
    "img",
    "svg",
    "math",
    "iframe",
    "object",
    "embed",
    "form",
    "noscript",
    "textarea",
    "title",
    "P",
    "A",
    "SCRIPT",
];

const ATTRIBUTES: &[&str] = &[
    "href",
    "href",
    "href",
    "HREF",
    "rel",
    "onclick",
    "onerror",
    "style",
    "src",
    "srcdoc",
    "xlink:href",
    "title",
    "x onclick",
    "\"onclick",
];

const URLS: &[&str] = &[
    "https://ok.example/",
    "http://ok.example/a?b=c&d=e#f",
    "mailto:someone@ok.example",
    "HTTPS://OK.EXAMPLE/",
    "https://ok.example/\"onmouseover=\"alert(1)",
    "https://ok.example/'><script>alert(1)</script>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\u{0}script:alert(1)",
    "&#106;avascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "/relative",
    "java\u{200B}script:alert(1)",
    "\u{202E}https://ok.example/",
    "",
];

const TEXTS: &[&str] = &[
    "hello",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
    "<!-- x -->",
    "<![CDATA[x]]>",
    "</p>",
    "&lt;b&gt;",
    "&amp;",
    "\u{202E}gpj.exe",
    "zero\u{200B}width",
    "\n",
    "",
];

fn atom() -> impl Strategy<Value = Sexp> {
    prop_oneof![
        6 => select(TEXTS).prop_map(text),
        3 => "\\PC{0,12}".prop_map(|s: String| Sexp::String(s)),
        2 => select(URLS).prop_map(text),
        1 => any::<String>().prop_map(Sexp::String),
        1 => select(TAGS).prop_map(sym),
        1 => select(ATTRIBUTES).prop_map(kw),
        1 => any::<i64>().prop_map(Sexp::Integer),
        1 => Just(Sexp::Decimal("2.50".into())),
        1 => any::<bool>().prop_map(Sexp::Bool),
        1 => Just(Sexp::Nil),
    ]
}

/// Markup trees of bounded size: elements with zero to three attributes
/// (mostly string values, sometimes a tree where a string belongs),
/// fragments, and atoms.
fn tree() -> impl Strategy<Value = Sexp> {
    atom().prop_recursive(8, 96, 6, |inner| {
        let value = prop_oneof![
            6 => select(URLS).prop_map(text),
            2 => select(TEXTS).prop_map(text),
            1 => inner.clone(),
        ];
        let attribute = (select(ATTRIBUTES), value).prop_map(|(name, value)| [kw(name), value]);
        prop_oneof![
            4 => (
                select(TAGS),
                prop::collection::vec(attribute, 0..3),
                prop::collection::vec(inner.clone(), 0..5),
            )
                .prop_map(|(tag, attributes, children)| {
                    el(tag, attributes.into_iter().flatten().chain(children))
                }),
            1 => prop::collection::vec(inner, 0..5).prop_map(Sexp::List),
        ]
    })
}

fn limits() -> impl Strategy<Value = RenderLimits> {
    (0usize..12, 0usize..200, 0usize..2_000).prop_map(|(max_depth, max_nodes, max_output)| {
        RenderLimits {
            max_depth,
            max_nodes,
            max_output,
        }
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

proptest! {
    #[test]
    fn renders_deterministically_to_clean_html(body in tree()) {
        let limits = RenderLimits::default();
        let first = to_html(&body, &limits);
        prop_assert_eq!(&first, &to_html(&body, &limits));
        if let Ok(html) = first {
            if let Err(violations) = check(&html) {
                prop_assert!(false, "{:?} in {:?} from {}", violations, html, body);
            }
        }
    }

    #[test]
    fn any_limits_are_kept_or_reported(body in tree(), limits in limits()) {
        match to_html(&body, &limits) {
            Ok(html) => {
                prop_assert!(html.len() <= limits.max_output);
                // Whatever passes tight limits passes the defaults, the same.
                prop_assert_eq!(Ok(html), to_html(&body, &RenderLimits::default()));
            }
            Err(RenderError::TooDeep { limit }) => prop_assert_eq!(limit, limits.max_depth),
            Err(RenderError::TooManyNodes { limit }) => prop_assert_eq!(limit, limits.max_nodes),
            Err(RenderError::TooLarge { limit }) => prop_assert_eq!(limit, limits.max_output),
        }
    }

    #[test]
    fn escaped_text_is_the_display_text(body in tree()) {
        let wrapped = el("script", [body]);
        if let Ok(html) = to_html(&wrapped, &RenderLimits::default()) {
            prop_assert_eq!(html, html_escape(&wrapped.to_string()));
        }
    }
}
