//! Link-preview metadata for a page's `head`: OpenGraph (what Mastodon,
//! chat apps and social sites read for a card), Twitter-card tags, and the
//! `rel="alternate"` links through which Mastodon finds the ActivityPub
//! document behind a page and feed readers find the Atom feed.

use maud::{html, Markup};

use crate::formats::as2::rfc3339;

/// What a shared link to a page should show.
pub struct Preview<'a> {
    /// `profile` or `article` (OpenGraph types).
    pub kind: &'a str,
    pub title: &'a str,
    /// Plain text; escaped here.
    pub description: &'a str,
    /// The page's own address.
    pub url: &'a str,
    /// An absolute image URL (the author's avatar).
    pub image: &'a str,
    pub site_name: &'a str,
    /// The ActivityPub document of what the page shows.
    pub activity_json: &'a str,
    /// The Atom feed, on profile pages.
    pub atom: Option<&'a str>,
    /// Unix milliseconds, on post pages.
    pub published: Option<i64>,
}

pub fn head(p: &Preview<'_>) -> Markup {
    html! {
        meta name="description" content=(p.description);
        link rel="canonical" href=(p.url);
        link rel="alternate" type="application/activity+json" href=(p.activity_json);
        @if let Some(atom) = p.atom {
            link rel="alternate" type="application/atom+xml" title=(p.title) href=(atom);
        }
        meta property="og:type" content=(p.kind);
        meta property="og:site_name" content=(p.site_name);
        meta property="og:title" content=(p.title);
        meta property="og:description" content=(p.description);
        meta property="og:url" content=(p.url);
        meta property="og:image" content=(p.image);
        @if let Some(published) = p.published {
            meta property="article:published_time" content=(rfc3339(published));
        }
        meta name="twitter:card" content="summary";
        meta name="twitter:title" content=(p.title);
        meta name="twitter:description" content=(p.description);
        meta name="twitter:image" content=(p.image);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        let hostile = r#""><script>alert(1)</script>"#;
        let markup = head(&Preview {
            kind: "article",
            title: hostile,
            description: hostile,
            url: "https://coop.example/@blog",
            image: "https://coop.example/actors/blog/avatar",
            site_name: "coop.example",
            activity_json: "https://coop.example/actors/blog",
            atom: Some("https://coop.example/@blog.atom"),
            published: Some(0),
        })
        .into_string();
        assert!(!markup.contains("<script>"), "{markup}");
        assert!(markup.contains(r#"property="og:title" content="&quot;&gt;&lt;script&gt;"#));
        assert!(markup.contains(
            r#"<link rel="alternate" type="application/activity+json" href="https://coop.example/actors/blog">"#
        ));
        assert!(markup.contains(r#"content="1970-01-01T00:00:00Z""#));
    }
}
