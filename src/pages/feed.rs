//! An app's Atom feed (`/@NAME.atom`, RFC 4287), as Mastodon and GoToSocial
//! offer one per account: its newest public posts, each with its page, its
//! dates and its (sanitised) HTML.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use super::{avatar_url, feed_url, post_title, profile_url};
use crate::actors::App;
use crate::config::Config;
use crate::db::objects::StoredObject;
use crate::formats::as2::rfc3339;
use crate::http::html::escape;

/// The feed document. `posts` are newest first.
pub fn atom(config: &Config, app: &App, posts: &[StoredObject]) -> String {
    let last_change = |o: &StoredObject| o.updated.unwrap_or(o.published);
    // RFC 4287 §4.2.15: when the feed last changed in a significant way.
    let updated = posts
        .iter()
        .map(last_change)
        .max()
        .unwrap_or(app.created_at);
    let profile = profile_url(config, &app.name);
    let mut xml = String::with_capacity(1024 + posts.len() * 1024);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(&mut xml, "id", &profile);
    element(&mut xml, "title", &app.display_name);
    if !app.summary.trim().is_empty() {
        element(&mut xml, "subtitle", &app.summary);
    }
    element(&mut xml, "updated", &rfc3339(updated));
    link(&mut xml, "alternate", "text/html", &profile);
    link(
        &mut xml,
        "self",
        "application/atom+xml",
        &feed_url(config, &app.name),
    );
    xml.push_str("<author>");
    element(&mut xml, "name", &app.display_name);
    element(&mut xml, "uri", &config.actor_id(&app.name));
    xml.push_str("</author>\n");
    element(&mut xml, "icon", &avatar_url(config, &app.name));
    xml.push_str(&format!(
        "<generator version=\"{}\">rosefed</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for o in posts {
        xml.push_str("<entry>\n");
        element(&mut xml, "id", &o.id);
        element(&mut xml, "title", &post_title(app, o));
        link(&mut xml, "alternate", "text/html", &o.id);
        element(&mut xml, "published", &rfc3339(o.published));
        element(&mut xml, "updated", &rfc3339(last_change(o)));
        xml.push_str("<content type=\"html\">");
        xml.push_str(&escape(&xml_text(&o.content)));
        xml.push_str("</content>\n</entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

/// The feed as a response.
pub fn response(xml: String) -> Response {
    let mut response = xml.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

fn element(xml: &mut String, name: &str, text: &str) {
    xml.push_str(&format!("<{name}>{}</{name}>\n", escape(&xml_text(text))));
}

fn link(xml: &mut String, rel: &str, kind: &str, href: &str) {
    xml.push_str(&format!(
        "<link rel=\"{rel}\" type=\"{kind}\" href=\"{}\"/>\n",
        escape(&xml_text(href))
    ));
}

/// XML 1.0 forbids most control characters even escaped; stored text can
/// hold them (an operator's summary keeps newlines, remote names are
/// cleaned, but nothing else promises it), so they are dropped.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::AppName;
    use crate::config::HubArgs;

    #[test]
    fn escapes_and_lists_posts() {
        let config = Config::from_args(&HubArgs::with_public_url("https://coop.example")).unwrap();
        let app = App {
            name: AppName::parse("blog").unwrap(),
            display_name: "<Blog & co>".into(),
            summary: "sum\u{1}mary".into(),
            manually_approves_followers: false,
            created_at: 0,
        };
        let post = StoredObject {
            id: "https://coop.example/objects/1".into(),
            app_name: Some("blog".into()),
            attributed_to: config.actor_id(&app.name),
            object_type: "Note".into(),
            name: None,
            content: "<p>hi &amp; <em>bye</em></p>".into(),
            source_sexp: None,
            in_reply_to: None,
            local: 1,
            published: 1_000,
            updated: Some(5_000),
            deleted: None,
        };
        let xml = atom(&config, &app, &[post]);
        assert!(
            xml.contains("<title>&lt;Blog &amp; co&gt;</title>"),
            "{xml}"
        );
        assert!(xml.contains("<subtitle>summary</subtitle>"), "{xml}");
        assert!(
            xml.contains("<content type=\"html\">&lt;p&gt;hi &amp;amp; &lt;em&gt;"),
            "{xml}"
        );
        assert!(
            xml.contains("<updated>1970-01-01T00:00:05Z</updated>"),
            "{xml}"
        );
        assert_eq!(xml.matches("<entry>").count(), 1);
    }
}
