//! An app's profile page (`/@NAME`, and `/actors/NAME` for browsers): who
//! it is, its counts, how to follow it from another server, and its public
//! posts, newest first, a page at a time.

use axum::response::Response;
use maud::{html, PreEscaped};

use super::preview::{self, Preview};
use super::{avatar_url, counts, feed_url, profile_url, time, PostView};
use crate::actors::document::summary_html;
use crate::actors::App;
use crate::config::Config;
use crate::http::html::page_with_head;

/// The counts shown under an app's name.
pub struct ProfileCounts {
    pub followers: i64,
    pub following: i64,
    pub posts: i64,
}

/// What a profile page shows.
pub struct Profile<'a> {
    pub app: &'a App,
    pub counts: ProfileCounts,
    pub posts: Vec<PostView<'a>>,
    /// The `?before=` cursor of the next (older) page, if there is one.
    pub older: Option<String>,
    /// Whether this is a later page (not the newest posts).
    pub later_page: bool,
    /// The header image, when the operator set one.
    pub header_url: Option<String>,
}

pub fn profile_page(config: &Config, p: &Profile<'_>) -> Response {
    let app = p.app;
    let actor = config.actor_id(&app.name);
    let handle = config.handle(&app.name);
    let profile = profile_url(config, &app.name);
    let avatar = avatar_url(config, &app.name);
    // Built by escaping the operator's plain-text summary.
    let summary = PreEscaped(summary_html(&app.summary));
    let title = format!("{} ({handle})", app.display_name);
    let feed = feed_url(config, &app.name);
    let head = preview::head(&Preview {
        kind: "profile",
        title: &title,
        description: &app.summary,
        url: &profile,
        image: &avatar,
        site_name: config.authority(),
        activity_json: &actor,
        atom: Some(&feed),
        published: None,
    });
    let body = html! {
        header {
            @if let Some(header) = &p.header_url {
                img.header src=(header) alt="";
            }
            img.icon src=(avatar) alt={ "Avatar of " (app.display_name) };
            h1 { (app.display_name) }
            p.handle { (handle) }
        }
        (summary)
        ul.counts {
            li { a href={ (actor) "/followers" } { (p.counts.followers) " followers" } }
            li { a href={ (actor) "/following" } { (p.counts.following) " following" } }
            li { a href={ (actor) "/outbox" } { (p.counts.posts) " posts" } }
            li { a href=(feed) { "Atom feed" } }
        }
        section aria-labelledby="follow" {
            h2 #follow { "Follow" }
            p {
                "Search for " code { (handle) } " on your fediverse server (Mastodon, GoToSocial, Lemmy, …), or give your handle and we send you to your server to confirm:"
            }
            form method="get" action={ (profile) "/follow" } {
                label for="account" { "Your handle" }
                " "
                input #account type="text" name="account" placeholder="@you@your.server" required autocomplete="username";
                " "
                button type="submit" { "Follow" }
            }
        }
        section aria-labelledby="posts" {
            h2 #posts { "Posts" }
            @if p.posts.is_empty() {
                p { @if p.later_page { "No older posts." } @else { "Nothing posted yet." } }
            }
            @for post in &p.posts {
                article.post {
                    @if let Some(name) = &post.object.name {
                        h3 { a href=(post.object.id) { (name) } }
                    }
                    // Sanitised when it was stored.
                    (PreEscaped(&post.object.content))
                    p.meta {
                        a href=(post.object.id) { (time(post.object.published)) }
                        @if post.object.updated.is_some() { " (edited)" }
                    }
                    (counts(&post.counts))
                }
            }
            nav aria-label="More posts" {
                @if p.later_page {
                    a href=(profile) { "← Newest posts" } " "
                }
                @if let Some(cursor) = &p.older {
                    a href={ (profile) "?before=" (cursor) } rel="next" { "Older posts →" }
                }
            }
        }
    };
    page_with_head(&title, head, body)
}
