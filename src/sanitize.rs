//! HTML sanitising for post content, ours and received: a small allow-list
//! (paragraphs, line breaks, emphasis, lists, quotes, code, links) through
//! ammonia, which parses with html5ever as a browser would, so no markup
//! trick survives. Links get `rel="nofollow noopener noreferrer"` and only
//! http(s) and mailto URLs.

use std::collections::HashSet;
use std::sync::OnceLock;

pub fn html(input: &str) -> String {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut b = ammonia::Builder::empty();
            b.add_tags([
                "p",
                "br",
                "a",
                "strong",
                "b",
                "em",
                "i",
                "u",
                "s",
                "del",
                "ul",
                "ol",
                "li",
                "blockquote",
                "code",
                "pre",
                "span",
                "h1",
                "h2",
                "h3",
                "h4",
            ])
            .add_tag_attributes("a", ["href"])
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .link_rel(Some("nofollow noopener noreferrer"));
            b
        })
        .clean(input)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_what_could_run() {
        let dirty = r#"<p onclick="x()">hi <script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">j</a><a href="https://ok.example/">ok</a></p><style>*{}</style>"#;
        let clean = html(dirty);
        for bad in [
            "script",
            "onerror",
            "onclick",
            "javascript:",
            "<img",
            "<style",
            "alert(1)",
        ] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains(r#"href="https://ok.example/""#), "{clean}");
        assert!(clean.contains("nofollow"), "{clean}");
        assert_eq!(
            html("<p>plain <em>text</em></p>"),
            "<p>plain <em>text</em></p>"
        );
    }
}
