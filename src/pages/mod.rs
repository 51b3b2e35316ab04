//! What people see of the hub in a browser or a feed reader: an app's
//! profile page with its posts, a post's page with its replies, the Atom
//! feed of each app, and the link-preview metadata (OpenGraph, Twitter
//! cards, alternate representations) the pages carry.
//!
//! Pure rendering: the handlers in [`crate::actors::routes`] and
//! [`crate::outbox::api`] load the rows, these functions turn them into
//! HTML (maud, every value escaped) or Atom XML (escaped by
//! [`crate::http::html::escape`]). Post content is HTML the sanitizer
//! produced when it was stored, the only markup passed through unescaped.
//! The one page no other module serves, `/about/blocks` ([`about`]), has
//! its handler here ([`routes`]).

pub mod about;
pub mod feed;
pub mod post;
pub mod preview;
pub mod profile;

use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::actors::{App, AppName};
use crate::config::Config;
use crate::db::objects::{Counts, Cursor, StoredObject};
use crate::formats::as2::rfc3339;
use crate::http::html::web_link;

pub fn routes() -> Router<crate::instance::AppState> {
    Router::new().route("/about/blocks", get(about::blocks))
}

/// How many posts a profile page or a feed shows.
pub const POSTS_PER_PAGE: i64 = 20;

/// A local post with its counts, as a page lists it.
pub struct PostView<'a> {
    pub object: &'a StoredObject,
    pub counts: Counts,
}

/// The avatar every page shows for an app (the generated one until an
/// operator sets one).
pub fn avatar_url(config: &Config, app: &AppName) -> String {
    format!("{}/avatar", config.actor_id(app))
}

/// An app's profile page.
pub fn profile_url(config: &Config, app: &AppName) -> String {
    config.url(&format!("/@{app}"))
}

/// An app's Atom feed.
pub fn feed_url(config: &Config, app: &AppName) -> String {
    config.url(&format!("/@{app}.atom"))
}

/// A date people read, with the machine-readable one beside it.
fn time(millis: i64) -> Markup {
    let shown = chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%-d %b %Y, %H:%M UTC").to_string())
        .unwrap_or_default();
    html! { time datetime=(rfc3339(millis)) { (shown) } }
}

/// Likes, shares and replies of a post.
fn counts(counts: &Counts) -> Markup {
    let plural = |n: i64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    html! {
        ul.counts {
            li { (counts.likes) " " (plural(counts.likes, "like", "likes")) }
            li { (counts.shares) " " (plural(counts.shares, "share", "shares")) }
            li { (counts.replies) " " (plural(counts.replies, "reply", "replies")) }
        }
    }
}

/// Splits what [`POSTS_PER_PAGE`]` + 1` posts loaded into the page and,
/// when there are older ones, the cursor after the page's last post, as
/// `?before=` carries it: `PUBLISHED.UUID` (our post ids end in a UUID).
pub fn page_of(
    config: &Config,
    mut posts: Vec<StoredObject>,
) -> (Vec<StoredObject>, Option<String>) {
    if (posts.len() as i64) <= POSTS_PER_PAGE {
        return (posts, None);
    }
    posts.truncate(POSTS_PER_PAGE as usize);
    let cursor = cursor_after(config, posts.last());
    (posts, cursor)
}

fn cursor_after(config: &Config, last: Option<&StoredObject>) -> Option<String> {
    let last = last?;
    let uuid = last.id.strip_prefix(&config.url("/objects/"))?;
    Some(format!("{}.{uuid}", last.published))
}

/// Reads a `?before=` cursor; `None` when it is not one of ours.
pub fn parse_cursor(config: &Config, text: &str) -> Option<Cursor> {
    let (published, uuid) = text.split_once('.')?;
    let published = published.parse::<i64>().ok()?;
    let ok = !uuid.is_empty()
        && uuid.len() <= 64
        && uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| Cursor {
        published,
        id: config.url(&format!("/objects/{uuid}")),
    })
}

/// The title a post goes by where a title is needed: its own, or the start
/// of its text.
fn post_title(app: &App, object: &StoredObject) -> String {
    match &object.name {
        Some(name) if !name.trim().is_empty() => name.clone(),
        _ => {
            let text = crate::sanitize::plain_text(&object.content, 60);
            if text.is_empty() {
                format!("A post by {}", app.display_name)
            } else {
                format!("{}: “{text}”", app.display_name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HubArgs;

    fn config() -> Config {
        Config::from_args(&HubArgs::with_public_url("https://coop.example")).unwrap()
    }

    #[test]
    fn cursors_round_trip_and_refuse_strangers() {
        let config = config();
        let c = parse_cursor(&config, "1733000000000.0193-abc").unwrap();
        assert_eq!(c.published, 1_733_000_000_000);
        assert_eq!(c.id, "https://coop.example/objects/0193-abc");
        for bad in ["", "x.y", "12", "12.", "12.a/b", "12.a?b", "12.<s>"] {
            assert_eq!(parse_cursor(&config, bad), None, "{bad}");
        }
    }

    #[test]
    fn a_page_has_an_older_link_only_when_older_posts_exist() {
        let config = config();
        let post = |i: i64| StoredObject {
            id: config.url(&format!("/objects/p{i}")),
            app_name: Some("blog".into()),
            attributed_to: String::new(),
            object_type: "Note".into(),
            name: None,
            content: String::new(),
            source_sexp: None,
            in_reply_to: None,
            local: 1,
            published: 1_000 - i,
            updated: None,
            deleted: None,
        };
        let exactly_a_page: Vec<_> = (0..POSTS_PER_PAGE).map(post).collect();
        let (shown, older) = page_of(&config, exactly_a_page);
        assert_eq!((shown.len() as i64, older), (POSTS_PER_PAGE, None));
        let one_more: Vec<_> = (0..=POSTS_PER_PAGE).map(post).collect();
        let (shown, older) = page_of(&config, one_more);
        assert_eq!(shown.len() as i64, POSTS_PER_PAGE);
        let cursor = older.expect("a cursor");
        assert_eq!(
            cursor,
            format!("{}.p{}", 1_000 - (POSTS_PER_PAGE - 1), POSTS_PER_PAGE - 1)
        );
        assert_eq!(
            parse_cursor(&config, &cursor).map(|c| c.id),
            Some(shown[shown.len() - 1].id.clone())
        );
    }
}
