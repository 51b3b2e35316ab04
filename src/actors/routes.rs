//! HTTP routes for actors. Handlers stay thin: parse, load, hand over to
//! [`document`](super::document) or [`profile`](super::profile).
//!
//! | path | what |
//! |---|---|
//! | `/` | front page listing the apps (HTML) |
//! | `/actor`, `/actor/outbox` | the instance actor |
//! | `/actors/{name}` | an app's actor (AS2 JSON or its profile page) |
//! | `/actors/{name}/{outbox,followers,following}` | paged collections |
//! | `/actors/{name}/avatar` | the app's avatar: the operator's, else the generated PNG |
//! | `/actors/{name}/header` | the app's header, if the operator set one |
//! | `/actors/{name}/icon.svg` | the app's generated icon as SVG |
//! | `/@{name}` | the app's profile page with its posts (`?before=` pages back) |
//! | `/@{name}.atom` | the app's Atom feed |
//! | `/@{name}/follow?account=…` | remote follow: off to the visitor's server |

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::media::MediaKind;
use super::profile;
use super::{avatar, document};
use super::{App, AppName};
use crate::db::collections::{self, Collection};
use crate::db::{self};
use crate::error::AppError;
use crate::formats::collection::{self, PAGE_SIZE};
use crate::http::negotiate::{as2, Format, Negotiated, OpenNegotiated};
use crate::instance::AppState;
use crate::pages::profile::{Profile, ProfileCounts};
use crate::pages::{self, PostView, POSTS_PER_PAGE};

/// Deepest page served; keeps OFFSET arithmetic far from overflow.
const MAX_PAGE: i64 = 1_000_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/actor", get(instance_actor))
        .route("/actor/outbox", get(instance_outbox))
        .route("/actors/{name}", get(app_actor))
        // Static routes win over the {collection} parameter.
        .route("/actors/{name}/icon.svg", get(icon))
        .route("/actors/{name}/avatar", get(avatar))
        .route("/actors/{name}/header", get(header))
        .route("/actors/{name}/{collection}", get(collection))
        .route("/@{name}", get(profile_page))
        .route("/@{name}/follow", get(remote_follow))
}

async fn load_app(state: &AppState, name: &str) -> Result<App, AppError> {
    let unknown = || AppError::NotFound(format!("no actor named '{}'", name.escape_debug()));
    let name = AppName::parse(name).map_err(|_| unknown())?;
    db::apps::get(&state.db, &name).await?.ok_or_else(unknown)
}

async fn home(State(state): State<AppState>) -> Result<Response, AppError> {
    let apps = db::apps::list(&state.db).await?;
    Ok(profile::home_page(&state.config, &apps))
}

async fn instance_actor(
    State(state): State<AppState>,
    OpenNegotiated(format): OpenNegotiated,
) -> Result<Response, AppError> {
    match format {
        Format::As2(syntax) => as2(
            document::instance_actor(&state.config, &state.keys)?,
            syntax,
        ),
        Format::Html => home(State(state)).await,
    }
}

/// The instance actor publishes nothing; its outbox is a real, empty
/// collection (with a real first page) because ActivityPub requires every
/// actor to have one.
async fn instance_outbox(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    Negotiated(format): Negotiated,
) -> Result<Response, AppError> {
    let id = state.config.url("/actor/outbox");
    match (format, parse_page(query.as_deref())?) {
        (Format::As2(syntax), None) => as2(collection::collection(&id, 0), syntax),
        (Format::As2(syntax), Some(page)) => {
            as2(collection::page(&id, page, 0, Vec::new()), syntax)
        }
        (Format::Html, _) => Ok(profile::collection_page_html(
            "Instance actor outbox",
            0,
            &[],
            None,
            None,
        )),
    }
}

async fn app_actor(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Negotiated(format): Negotiated,
) -> Result<Response, AppError> {
    let app = load_app(&state, &name).await?;
    match format {
        Format::As2(syntax) => {
            let media = db::media::info(&state.db, &app.name).await?;
            as2(
                document::app_actor(&state.config, &state.keys, &app, &media)?,
                syntax,
            )
        }
        Format::Html => render_profile(&state, &app, None).await,
    }
}

#[derive(serde::Deserialize)]
struct ProfileQuery {
    before: Option<String>,
}

/// `/@NAME`, or `/@NAME.atom` (one route: the router cannot split a
/// segment at a dot).
async fn profile_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<ProfileQuery>,
) -> Result<Response, AppError> {
    if let Some(name) = name.strip_suffix(".atom") {
        let app = load_app(&state, name).await?;
        let posts =
            db::objects::app_posts(&state.db, app.name.as_str(), None, POSTS_PER_PAGE).await?;
        return Ok(pages::feed::response(pages::feed::atom(
            &state.config,
            &app,
            &posts,
        )));
    }
    let app = load_app(&state, &name).await?;
    let before = match query.before.as_deref() {
        None => None,
        Some(text) => Some(pages::parse_cursor(&state.config, text).ok_or_else(|| {
            AppError::BadRequest("before is not a cursor this page gave out".into())
        })?),
    };
    render_profile(&state, &app, before).await
}

async fn render_profile(
    state: &AppState,
    app: &App,
    before: Option<db::objects::Cursor>,
) -> Result<Response, AppError> {
    let counts = ProfileCounts {
        followers: collections::count(&state.db, &app.name, Collection::Followers).await?,
        following: collections::count(&state.db, &app.name, Collection::Following).await?,
        posts: db::objects::count_app_posts(&state.db, app.name.as_str()).await?,
    };
    // One more than a page, to know whether there is an older page.
    let loaded = db::objects::app_posts(
        &state.db,
        app.name.as_str(),
        before.as_ref(),
        POSTS_PER_PAGE + 1,
    )
    .await?;
    let (posts, older) = pages::page_of(&state.config, loaded);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let mut post_counts = db::objects::counts(&state.db, &ids).await?;
    let header_url = db::media::info(&state.db, &app.name)
        .await?
        .header
        .map(|set| {
            format!(
                "{}/header?v={}",
                state.config.actor_id(&app.name),
                set.updated_at
            )
        });
    let views = posts
        .iter()
        .map(|object| PostView {
            object,
            counts: post_counts.remove(&object.id).unwrap_or_default(),
        })
        .collect();
    Ok(pages::profile::profile_page(
        &state.config,
        &Profile {
            app,
            counts,
            posts: views,
            older,
            later_page: before.is_some(),
            header_url,
        },
    ))
}

#[derive(serde::Deserialize)]
struct FollowQuery {
    account: String,
}

/// Remote follow, as Mastodon's profile pages offered it: the visitor gives
/// their handle, the hub asks their server (WebFinger, through the guarded
/// fetcher) where it confirms follows, and sends them there.
async fn remote_follow(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<FollowQuery>,
) -> Result<Response, AppError> {
    let app = load_app(&state, &name).await?;
    let ours = format!("{}@{}", app.name, state.config.authority());
    let target = crate::remote::follow_page(&state, &query.account, &ours).await?;
    Ok(Redirect::to(&target).into_response())
}

async fn icon(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let app = load_app(&state, &name).await?;
    Ok(profile::icon_svg(&app))
}

/// The avatar: the operator's if set, else the generated PNG.
async fn avatar(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let app = load_app(&state, &name).await?;
    match db::media::get(&state.db, &app.name, MediaKind::Avatar).await? {
        Some(set) => image_response(&set.media_type, set.bytes),
        None => image_response("image/png", avatar::generated_png(&app)?),
    }
}

/// The header, if the operator set one.
async fn header(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let app = load_app(&state, &name).await?;
    let set = db::media::get(&state.db, &app.name, MediaKind::Header)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("app '{}' has no header", app.name)))?;
    image_response(&set.media_type, set.bytes)
}

/// An image with its type, cacheable by anyone for an hour (actor
/// documents link versioned URLs, so a change is seen at once there), and
/// never sniffed as anything else.
fn image_response(media_type: &str, bytes: Vec<u8>) -> Result<Response, AppError> {
    let content_type = HeaderValue::from_str(media_type)
        .map_err(|_| AppError::Internal(format!("stored media type '{media_type}' is invalid")))?;
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response())
}

async fn collection(
    State(state): State<AppState>,
    Path((name, segment)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    Negotiated(format): Negotiated,
) -> Result<Response, AppError> {
    let which =
        Collection::parse(&segment).ok_or_else(|| AppError::NotFound("no such resource".into()))?;
    let page = parse_page(query.as_deref())?;
    let app = load_app(&state, &name).await?;
    let id = format!("{}/{}", state.config.actor_id(&app.name), which.segment());
    let total = collections::count(&state.db, &app.name, which).await?;

    let wanted = match (format, page) {
        (Format::As2(syntax), None) => return as2(collection::collection(&id, total), syntax),
        (_, page) => page.unwrap_or(1),
    };
    let rows = collections::page(
        &state.db,
        &app.name,
        which,
        PAGE_SIZE,
        (wanted - 1) * PAGE_SIZE,
    )
    .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .filter_map(|row| match which {
            Collection::Outbox => match serde_json::from_str(&row) {
                Ok(activity) => Some(activity),
                Err(e) => {
                    tracing::warn!(app = %app.name, error = %e, "skipping unreadable outbox activity");
                    None
                }
            },
            Collection::Followers | Collection::Following => Some(Value::String(row)),
        })
        .collect();
    match format {
        Format::As2(syntax) => as2(collection::page(&id, wanted, total, items), syntax),
        Format::Html => {
            let ids: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    other => other.get("id").and_then(Value::as_str).map(str::to_string),
                })
                .collect();
            let title = format!("{} · {}", app.display_name, which.segment());
            let prev = (wanted > 1).then(|| format!("{id}?page={}", wanted - 1));
            let next = (wanted * PAGE_SIZE < total).then(|| format!("{id}?page={}", wanted + 1));
            Ok(profile::collection_page_html(&title, total, &ids, prev, next).into_response())
        }
    }
}

/// `?page=N` (1-based); absent means the collection itself.
fn parse_page(query: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(query) = query else { return Ok(None) };
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key == "page" {
            return match value.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(Some(n)),
                _ => Err(AppError::BadRequest(format!(
                    "page must be a whole number from 1 to {MAX_PAGE}, got '{}'",
                    value.escape_debug()
                ))),
            };
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        assert_eq!(parse_page(None).unwrap(), None);
        assert_eq!(parse_page(Some("x=1")).unwrap(), None);
        assert_eq!(parse_page(Some("page=3")).unwrap(), Some(3));
        for bad in [
            "page=0",
            "page=-1",
            "page=abc",
            "page=99999999999999999999",
            "page=",
        ] {
            assert!(parse_page(Some(bad)).is_err(), "{bad}");
        }
    }
}
