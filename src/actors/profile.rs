//! HTML for people: an app's profile page, the hub's front page listing the
//! apps, collection pages, and the generated SVG icon every app starts with.
//! Every interpolated string goes through [`escape`].

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::actors::document::summary_html;
use crate::actors::{App, AppName};
use crate::config::Config;
use crate::http::html::{escape, page};

/// Counts shown on a profile.
pub struct ProfileCounts {
    pub followers: i64,
    pub following: i64,
    pub posts: i64,
}

pub fn profile_page(config: &Config, app: &App, counts: &ProfileCounts) -> Response {
    let actor = config.actor_id(&app.name);
    let handle = config.handle(&app.name);
    let summary = summary_html(&app.summary);
    let body = format!(
        "<header><img class=\"icon\" src=\"{icon}\" alt=\"\"><h1>{name}</h1>\
         <p class=\"handle\">{handle}</p></header>{summary}\
         <ul><li><a href=\"{actor}/followers\">{followers} followers</a></li>\
         <li><a href=\"{actor}/following\">{following} following</a></li>\
         <li><a href=\"{actor}/outbox\">{posts} posts</a></li></ul>\
         <p>Follow it from any fediverse server (Mastodon, GoToSocial, Lemmy, …) by searching for \
         <code>{handle}</code>.</p>",
        icon = escape(&format!("{actor}/icon.svg")),
        name = escape(&app.display_name),
        handle = escape(&handle),
        actor = escape(&actor),
        followers = counts.followers,
        following = counts.following,
        posts = counts.posts,
    );
    page(&format!("{} ({handle})", app.display_name), &body)
}

pub fn home_page(config: &Config, apps: &[App]) -> Response {
    let items: String = apps
        .iter()
        .map(|app| {
            format!(
                "<li><a href=\"{}\">{}</a> <span class=\"handle\">{}</span></li>",
                escape(&config.url(&format!("/@{}", app.name))),
                escape(&app.display_name),
                escape(&config.handle(&app.name)),
            )
        })
        .collect();
    let list = if items.is_empty() {
        "<p>No member apps yet. Add one with <code>rosefed apps add NAME</code>.</p>".to_string()
    } else {
        format!("<ul>{items}</ul>")
    };
    let body = format!(
        "<h1>{}</h1><p>A Rose Ash co-op federation hub. Its member apps on the fediverse:</p>{list}",
        escape(config.authority())
    );
    page(config.authority(), &body)
}

/// A collection page for browsers: the item ids, linked when they are
/// http(s) URLs (ids come from remote servers; escaping alone would still
/// let a `javascript:` URL through as a link).
pub fn collection_page_html(
    title: &str,
    total: i64,
    items: &[String],
    prev: Option<String>,
    next: Option<String>,
) -> Response {
    let list: String = items
        .iter()
        .map(|i| {
            if i.starts_with("https://") || i.starts_with("http://") {
                format!("<li><a href=\"{0}\">{0}</a></li>", escape(i))
            } else {
                format!("<li>{}</li>", escape(i))
            }
        })
        .collect();
    let nav: String = [(prev, "← newer"), (next, "older →")]
        .into_iter()
        .filter_map(|(url, label)| url.map(|u| format!("<a href=\"{}\">{label}</a> ", escape(&u))))
        .collect();
    let body = format!(
        "<h1>{}</h1><p>{total} in all.</p><ul>{list}</ul><nav>{nav}</nav>",
        escape(title)
    );
    page(title, &body)
}

/// A square with the app's initial on a colour derived from its name, so
/// every app has a distinct icon from its first start.
pub fn icon_svg(app: &App) -> Response {
    let hue = fnv1a(app.name.as_str()) % 360;
    let initial = initial(&app.display_name, &app.name);
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\" viewBox=\"0 0 256 256\">\
         <rect width=\"256\" height=\"256\" rx=\"32\" fill=\"hsl({hue},55%,45%)\"/>\
         <text x=\"128\" y=\"128\" dy=\".35em\" text-anchor=\"middle\" font-family=\"sans-serif\" \
         font-size=\"140\" fill=\"#fff\">{}</text></svg>",
        escape(&initial)
    );
    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

fn initial(display_name: &str, name: &AppName) -> String {
    display_name
        .chars()
        .find(|c| c.is_alphanumeric())
        .or_else(|| name.as_str().chars().next())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials() {
        let n = AppName::parse("blog").unwrap();
        assert_eq!(initial("  «market»", &n), "M");
        assert_eq!(initial("", &n), "B");
        assert_ne!(fnv1a("blog") % 360, fnv1a("market") % 360);
    }
}
