//! Server-rendered HTML for people: the one page layout. Pages are maud
//! templates, which escape every interpolated value unless it is marked
//! `PreEscaped` (done only for HTML the sanitizer produced). No
//! JavaScript; pages work everywhere.

use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Escapes text for XML and HTML content and double-quoted attributes, for
/// the few documents that are not maud templates (host-meta's XML, an
/// actor's `summary` property).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `url` when it is an absolute http(s) URL, the only kind a page may put
/// in an `href` that came from elsewhere (a remote id could be a
/// `javascript:` URL, which escaping alone would leave clickable).
pub fn web_link(url: &str) -> Option<&str> {
    (url.starts_with("https://") || url.starts_with("http://")).then_some(url)
}

/// A complete page around `body`, with the headers every page carries.
pub fn page(title: &str, body: Markup) -> Response {
    page_with_head(title, html! {}, body)
}

/// A page with more in its `head`: link-preview metadata, alternate
/// representations.
pub fn page_with_head(title: &str, extra_head: Markup, body: Markup) -> Response {
    let document = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                (extra_head)
                style { (PreEscaped(STYLE)) }
            }
            body {
                main { (body) }
                footer { "rosefed " (env!("CARGO_PKG_VERSION")) }
            }
        }
    };
    let mut response = document.into_string().into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    // Defence in depth: even if escaping were missed somewhere, no script runs.
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}\
img.icon{width:64px;height:64px;border-radius:8px;vertical-align:middle;margin-right:1rem}\
img.small{width:32px;height:32px;border-radius:4px;vertical-align:middle;margin-right:.5rem}\
img.header{width:100%;max-height:12rem;object-fit:cover;border-radius:8px;margin-bottom:1rem}\
h1{display:inline;vertical-align:middle}.handle,.meta{color:#666}ul{padding-left:1.2rem}\
article.post{border-top:1px solid #ddd;padding:.8rem 0}.meta{font-size:.9rem}\
.counts{list-style:none;padding:0;display:flex;gap:1rem}\
form.inline{display:inline;margin-right:.4rem}\
footer{margin-top:3rem;color:#888;font-size:.8rem}code{background:#f4f4f4;padding:0 .2rem}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_every_value() {
        let hostile = r#"<script>alert("x")</script>"#;
        let response = page(hostile, html! { p { (hostile) } a href=(hostile) { "x" } });
        let body = futures_body(response);
        assert!(!body.contains("<script>"), "{body}");
        assert!(
            body.contains("<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</title>"),
            "{body}"
        );
        assert!(
            body.contains(r#"href="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;""#),
            "{body}"
        );
        assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    }

    fn futures_body(response: Response) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn only_web_links() {
        assert_eq!(web_link("https://a.example/"), Some("https://a.example/"));
        assert_eq!(web_link("javascript:alert(1)"), None);
        assert_eq!(web_link(" https://a.example/"), None);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
