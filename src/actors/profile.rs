//! HTML for people: the hub's front page listing the apps, collection pages, and the generated SVG icon every app starts with.
//! Pages are maud templates (every value escaped); the SVG escapes its one
//! interpolated character itself.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::actors::{avatar, App};
use crate::config::Config;
use crate::http::html::{escape, page, web_link};
use maud::html;

pub fn home_page(config: &Config, apps: &[App]) -> Response {
    let body = html! {
        h1 { (config.authority()) }
        p { "A Rose Ash co-op federation hub. Its member apps on the fediverse:" }
        @if apps.is_empty() {
            p { "No member apps yet. Add one with " code { "rosefed apps add NAME" } "." }
        } @else {
            ul {
                @for app in apps {
                    li {
                        a href=(config.url(&format!("/@{}", app.name))) { (app.display_name) }
                        " "
                        span.handle { (config.handle(&app.name)) }
                    }
                }
            }
        }
    };
    page(config.authority(), body)
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
    let body = html! {
        h1 { (title) }
        p { (total) " in all." }
        ul {
            @for item in items {
                @if let Some(url) = web_link(item) {
                    li { a href=(url) { (item) } }
                } @else {
                    li { (item) }
                }
            }
        }
        nav {
            @for (url, label) in [(prev, "← newer"), (next, "older →")] {
                @if let Some(url) = url {
                    a href=(url) { (label) } " "
                }
            }
        }
    };
    page(title, body)
}

/// A square with the app's initial on a colour derived from its name, so
/// every app has a distinct icon from its first start.
pub fn icon_svg(app: &App) -> Response {
    let hue = avatar::hue(&app.name);
    let initial = avatar::initial(&app.display_name, &app.name);
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
