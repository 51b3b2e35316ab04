//! A local post's page (`/objects/UUID` for browsers): its author, dates,
//! content and counts, and the replies it received, each with its author
//! and a link to the original on the replier's server.

use axum::response::Response;
use maud::{html, Markup, PreEscaped};

use super::preview::{self, Preview};
use super::{avatar_url, counts, post_title, profile_url, time, web_link, PostView};
use crate::actors::App;
use crate::config::Config;
use crate::db::objects::Reply;
use crate::http::html::{page, page_with_head};
use crate::net::authority_of;
use crate::sanitize::plain_text;

/// How many replies a post's page shows.
pub const MAX_REPLIES: i64 = 100;

pub fn post_page(config: &Config, app: &App, post: &PostView<'_>, replies: &[Reply]) -> Response {
    let o = post.object;
    let profile = profile_url(config, &app.name);
    let avatar = avatar_url(config, &app.name);
    let title = post_title(app, o);
    let description = plain_text(&o.content, 200);
    let head = preview::head(&Preview {
        kind: "article",
        title: &title,
        description: &description,
        url: &o.id,
        image: &avatar,
        site_name: config.authority(),
        activity_json: &o.id,
        atom: None,
        published: Some(o.published),
    });
    let body = html! {
        article.post {
            p {
                a href=(profile) {
                    img.small src=(avatar) alt="";
                    strong { (app.display_name) }
                }
                " "
                span.handle { (config.handle(&app.name)) }
            }
            @if let Some(name) = &o.name {
                h1 { (name) }
            }
            @if let Some(parent) = o.in_reply_to.as_deref() {
                p.meta {
                    "In reply to "
                    @if let Some(link) = web_link(parent) { a href=(link) { (parent) } } @else { (parent) }
                }
            }
            // Sanitised when it was stored.
            (PreEscaped(&o.content))
            p.meta {
                "Published " (time(o.published))
                @if let Some(updated) = o.updated { " · edited " (time(updated)) }
            }
            (counts(&post.counts))
        }
        section aria-labelledby="replies" {
            h2 #replies { "Replies" }
            @if replies.is_empty() {
                p { "No replies yet." }
            }
            @for reply in replies {
                (reply_view(config, reply))
            }
        }
    };
    page_with_head(&title, head, body)
}

/// A reply, local or remote. A remote author is shown by the name and
/// handle its own document gave (escaped), linked only to http(s) pages.
fn reply_view(config: &Config, reply: &Reply) -> Markup {
    let o = &reply.object;
    let author_link = reply
        .author_url
        .as_deref()
        .and_then(web_link)
        .or_else(|| web_link(&o.attributed_to));
    let name = reply.author_name.as_deref().unwrap_or(&o.attributed_to);
    // The handle's host is the actor id's authority (a port included), as
    // WebFinger resolves it.
    let handle = match (&reply.author_username, authority_of(&o.attributed_to)) {
        (Some(user), Some(host)) => Some(format!("@{user}@{host}")),
        _ => None,
    };
    let remote = o.local == 0;
    html! {
        article.post {
            p {
                @if let Some(link) = author_link { a href=(link) { strong { (name) } } } @else { strong { (name) } }
                @if let Some(handle) = handle { " " span.handle { (handle) } }
            }
            // Sanitised when it was stored, whoever wrote it.
            (PreEscaped(&o.content))
            p.meta {
                (time(o.published))
                @if remote {
                    @if let Some(original) = web_link(&o.id) {
                        " · " a href=(original) rel="nofollow noopener noreferrer" { "View the original" }
                    }
                } @else if o.id.starts_with(config.base()) {
                    " · " a href=(o.id) { "Open" }
                }
            }
        }
    }
}

/// The page of a post its author deleted (served with 410 Gone).
pub fn deleted_page() -> Response {
    page("Deleted post", html! { p { "This post was deleted." } })
}
