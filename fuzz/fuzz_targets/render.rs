//! Fuzzes the markup renderer (`docs/sexp.md` §5) on every datum the reader
//! accepts: it must not panic, and whatever HTML it writes holds only
//! allow-listed tags, `href` and `rel` only on `a`, and only absolute
//! http(s) or mailto links. A light scanner of its own checks the output,
//! independent of the renderer's code.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rosefed::formats::sexp::markup::{to_html, RenderLimits};
use rosefed::formats::sexp::{read, Limits};

const TAGS: [&str; 24] = [
    "p", "br", "hr", "a", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "span",
];

fn check(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        assert!(!rest[..open].contains('>'), "raw > in text of {html}");
        let tag = &rest[open + 1..];
        let end = tag.find('>').unwrap_or_else(|| panic!("unclosed tag in {html}"));
        let inside = &tag[..end];
        let name_end = inside.find(' ').unwrap_or(inside.len());
        let name = inside[..name_end].trim_start_matches('/');
        assert!(TAGS.contains(&name), "tag <{inside}> in {html}");
        let attrs = &inside[name_end..];
        if !attrs.is_empty() {
            assert_eq!(name, "a", "attributes on <{inside}>");
            let href = attrs
                .strip_prefix(" href=\"")
                .and_then(|a| a.strip_suffix("\" rel=\"nofollow noopener noreferrer\""))
                .unwrap_or_else(|| panic!("attributes of <{inside}>"));
            assert!(!href.contains('"') && !href.contains('<'), "{href}");
            // Schemes are case-insensitive; the renderer keeps the href as
            // written.
            let scheme = href.to_ascii_lowercase();
            assert!(
                scheme.starts_with("http://")
                    || scheme.starts_with("https://")
                    || scheme.starts_with("mailto:"),
                "href {href}"
            );
        }
        rest = &tag[end + 1..];
    }
    assert!(!rest.contains('>'), "raw > in text of {html}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(datum) = read(data, &Limits::default()) else {
        return;
    };
    if let Ok(html) = to_html(&datum, &RenderLimits::default()) {
        check(&html);
        // Deterministic: the AS2 mapping relies on it.
        assert_eq!(to_html(&datum, &RenderLimits::default()).ok(), Some(html));
    }
});
