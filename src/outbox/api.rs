//! HTTP for publishing and for what was published.
//!
//! The publishing API (`/api/v1/apps/{name}/…`) takes `Authorization:
//! Bearer <token>` where the token was made by `rosefed apps token NAME`
//! and is stored as its SHA-256, or an OAuth client-credentials token of
//! the app's own client with the `publish` scope. A token acts only as its
//! own app; every handler takes the [`AppToken`] extractor, which checks it.
//!
//! | method + path | what |
//! |---|---|
//! | `POST /api/v1/apps/{name}/posts` | publish `{type?, name?, content, content_type?, in_reply_to?}`, or a sexp `(Note :content (p …) …)` |
//! | `POST /api/v1/apps/{name}/posts/update` | `{id, content, content_type?, name?}`, or `(Note :id … :content (p …))` |
//! | `POST /api/v1/apps/{name}/posts/delete` | `{id}` |
//! | `POST /api/v1/apps/{name}/{like,unlike,announce,unannounce}` | `{object}` |
//! | `POST /api/v1/apps/{name}/{follow,unfollow}` | `{target}`: actor URL or `@user@host` |
//! | `GET /api/v1/apps/{name}/follow-requests` | pending followers |
//! | `POST /api/v1/apps/{name}/follow-requests/{approve,reject}` | `{actor}` |
//! | `GET /api/v1/apps/{name}/notifications` | the app's notifications, newest first (`?max_id=`, `?limit=`) |
//! | `POST /api/v1/apps/{name}/reports` | `{target, objects?, comment?}`: report a remote actor to the admins |
//! | `GET /api/v1/objects?id=URL` | a stored post (ours or received), with counts |
//! | `GET /api/v1/timeline` | newest posts, ours and received, without what moderation hides; `?limit=`, and `next` names the next page (`?before=&before_id=`) |
//! | `GET /objects/{uuid}`, `/activities/{uuid}` | what we minted, by negotiation |

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::html;
use serde::Deserialize;
use serde_json::{json, Value};

use super::app_token::{self, AppToken};
use super::publish::{self, NewPost};
use crate::actors::AppName;
use crate::db;
use crate::error::AppError;
use crate::formats::{sexp, Format};
use crate::http::html::page;
use crate::http::negotiate::{as2, Format as Representation, Negotiated};
use crate::instance::AppState;
use crate::moderation;
use crate::pages::{self, PostView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{name}/posts", post(create_post))
        .route("/api/v1/apps/{name}/posts/update", post(update_post))
        .route("/api/v1/apps/{name}/posts/delete", post(delete_post))
        .route("/api/v1/apps/{name}/follow-requests", get(follow_requests))
        .route("/api/v1/apps/{name}/reports", post(file_report))
        .route("/api/v1/apps/{name}/notifications", get(notifications))
        .route(
            "/api/v1/apps/{name}/follow-requests/{decision}",
            post(decide),
        )
        .route("/api/v1/apps/{name}/{action}", post(action))
        .route("/api/v1/objects", get(lookup))
        .route("/api/v1/timeline", get(timeline))
        .route("/objects/{uuid}", get(object))
        .route("/activities/{uuid}", get(activity))
}

/// A post submitted as JSON (`NewPost`, with the post's `id` for updates)
/// or, with `Content-Type: application/sexp`, as a sexp object such as
/// `(Note :id "…" :name "…" :inReplyTo "…" :content (p "hi"))`.
struct Submitted {
    id: Option<String>,
    post: NewPost,
}

impl axum::extract::FromRequest<AppState> for Submitted {
    type Rejection = AppError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Submitted, AppError> {
        let content_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if Format::from_content_type(content_type) != Some(Format::Sexp) {
            let Json(body) = Json::<UpdateBody>::from_request(request, state)
                .await
                .map_err(|e| match e.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(format!(
                        "{}; a post is JSON or application/sexp",
                        e.body_text()
                    )),
                    StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(e.body_text()),
                    _ => AppError::BadRequest(e.body_text()),
                })?;
            return Ok(Submitted {
                id: body.id,
                post: body.post,
            });
        }
        let limit = 4 * publish::MAX_CONTENT;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| AppError::PayloadTooLarge(format!("body is larger than {limit} bytes")))?;
        let datum = sexp::read(&bytes, &sexp::Limits::default())
            .map_err(|e| AppError::BadRequest(format!("sexp {e}")))?;
        let doc = sexp::as2::to_json(&datum)?;
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
        let source = doc.get("source").and_then(|s| s.get("content"));
        let (content, content_type) = match source.and_then(Value::as_str) {
            Some(tree) => (tree.to_string(), Some(sexp::MEDIA_TYPE.to_string())),
            None => (text("content").unwrap_or_default(), None),
        };
        Ok(Submitted {
            id: text("id"),
            post: NewPost {
                kind: text("type"),
                name: text("name"),
                content,
                content_type,
                in_reply_to: text("inReplyTo"),
            },
        })
    }
}

async fn create_post(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Submitted { post, .. }: Submitted,
) -> Result<impl IntoResponse, AppError> {
    let (id, activity) = publish::create_post(&state, &app, &post).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "activity": activity })),
    ))
}

/// The app's notifications, newest first: `?limit=` (1–200, default 40)
/// and `?max_id=` (the last id seen) for older ones; the `Link` header
/// names the next page, as Mastodon's API does.
async fn notifications(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = query_param(query.as_deref(), "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(40)
        .clamp(1, 200);
    let max_id = query_param(query.as_deref(), "max_id");
    let list = db::notifications::list(&state.db, app.as_str(), max_id.as_deref(), limit).await?;
    let items: Vec<Value> = list.iter().map(crate::notifications::to_json).collect();
    let mut response = Json(Value::Array(items)).into_response();
    if list.len() as i64 == limit {
        if let Some(last) = list.last() {
            let next = state.config.url(&format!(
                "/api/v1/apps/{app}/notifications?limit={limit}&max_id={}",
                last.id
            ));
            if let Ok(v) = axum::http::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                response.headers_mut().insert(axum::http::header::LINK, v);
            }
        }
    }
    Ok(response)
}

/// A member app reports a remote actor (and some of its posts) to the
/// hub's admins, who may forward it to the actor's server.
async fn file_report(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Json(report): Json<moderation::reports::NewReport>,
) -> Result<impl IntoResponse, AppError> {
    let id = moderation::reports::file(&state, &app, &report).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct UpdateBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(flatten)]
    post: NewPost,
}

async fn update_post(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Submitted { id, post }: Submitted,
) -> Result<Json<Value>, AppError> {
    let id = id.ok_or_else(|| AppError::BadRequest("the post's id is missing".into()))?;
    let activity = publish::update_post(&state, &app, &id, &post).await?;
    Ok(Json(json!({ "id": id, "activity": activity })))
}

#[derive(Deserialize)]
struct IdBody {
    id: String,
}

async fn delete_post(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Json(body): Json<IdBody>,
) -> Result<Json<Value>, AppError> {
    let activity = publish::delete_post(&state, &app, &body.id).await?;
    Ok(Json(json!({ "id": body.id, "activity": activity })))
}

#[derive(Deserialize)]
struct ActionBody {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    actor: Option<String>,
}

async fn action(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Path((_, action)): Path<(String, String)>,
    Json(body): Json<ActionBody>,
) -> Result<Json<Value>, AppError> {
    let need = |v: Option<String>, field: &str| {
        v.filter(|s| !s.trim().is_empty())
            .ok_or_else(|| AppError::BadRequest(format!("'{action}' needs '{field}'")))
    };
    let activity = match action.as_str() {
        "like" => publish::react(&state, &app, "Like", &need(body.object, "object")?).await?,
        "announce" => {
            publish::react(&state, &app, "Announce", &need(body.object, "object")?).await?
        }
        "unlike" => publish::unreact(&state, &app, "Like", &need(body.object, "object")?).await?,
        "unannounce" => {
            publish::unreact(&state, &app, "Announce", &need(body.object, "object")?).await?
        }
        "follow" => publish::follow(&state, &app, &need(body.target, "target")?).await?,
        "unfollow" => publish::unfollow(&state, &app, &need(body.target, "target")?).await?,
        other => return Err(AppError::NotFound(format!("no action '{other}'"))),
    };
    Ok(Json(json!({ "activity": activity })))
}

async fn follow_requests(
    State(state): State<AppState>,
    AppToken(app): AppToken,
) -> Result<Json<Value>, AppError> {
    let pending = db::follows::followers_in_state(&state.db, &app, "pending").await?;
    let actors: Vec<&str> = pending.iter().map(|f| f.actor_id.as_str()).collect();
    Ok(Json(json!({ "pending": actors })))
}

async fn decide(
    State(state): State<AppState>,
    AppToken(app): AppToken,
    Path((_, decision)): Path<(String, String)>,
    Json(body): Json<ActionBody>,
) -> Result<Json<Value>, AppError> {
    let accept = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(AppError::NotFound(format!("no decision '{other}'"))),
    };
    let actor = body
        .actor
        .ok_or_else(|| AppError::BadRequest("needs 'actor'".into()))?;
    let activity = publish::decide_follow_request(&state, &app, &actor, accept).await?;
    Ok(Json(json!({ "activity": activity })))
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The reads below hand out what the ActivityStreams documents hold, so
/// with `--authorized-fetch` they are, like those documents, only for a
/// member app (its bearer token) or a request signed by a server that is
/// not suspended here.
struct AuthorizedRead;

impl FromRequestParts<AppState> for AuthorizedRead {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if !state.config.federation.authorized_fetch {
            return Ok(AuthorizedRead);
        }
        if parts.headers.contains_key(AUTHORIZATION) {
            app_token::any_app(state, &parts.headers).await?;
        } else {
            crate::http::negotiate::authorize_fetch(state, parts).await?;
        }
        Ok(AuthorizedRead)
    }
}

/// A stored post with its counts, for apps and tests to observe.
async fn lookup(
    State(state): State<AppState>,
    _: AuthorizedRead,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let id = query_param(query.as_deref(), "id")
        .ok_or_else(|| AppError::BadRequest("give ?id=<object URL>".into()))?;
    crate::formats::as2::check_id(&id)?;
    let object = db::objects::get(&state.db, &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no post {id} here")))?;
    Ok(Json(publish::object_document(&state, &object).await?).into_response())
}

async fn timeline(
    State(state): State<AppState>,
    _: AuthorizedRead,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = query_param(query.as_deref(), "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(40)
        .clamp(1, 200);
    let cursor = match (
        query_param(query.as_deref(), "before").and_then(|b| b.parse::<i64>().ok()),
        query_param(query.as_deref(), "before_id"),
    ) {
        (Some(published), Some(id)) => Some(db::objects::Cursor { published, id }),
        _ => None,
    };
    let posts = db::objects::recent(&state.db, cursor.as_ref(), limit).await?;
    let ids: Vec<&str> = posts.iter().map(|o| o.id.as_str()).collect();
    let mut counts = db::objects::counts(&state.db, &ids).await?;
    let items: Vec<Value> = posts
        .iter()
        .map(|o| {
            let c = counts.remove(&o.id).unwrap_or_default();
            publish::object_document_with(&state.config, o, c)
        })
        .collect();
    let mut body = json!({ "orderedItems": items });
    if posts.len() as i64 == limit {
        if let Some(last) = posts.last() {
            let next = state.config.url(&format!(
                "/api/v1/timeline?limit={limit}&{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("before", &last.published.to_string())
                    .append_pair("before_id", &last.id)
                    .finish()
            ));
            body["next"] = json!(next);
        }
    }
    Ok(Json(body).into_response())
}

async fn object(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    Negotiated(format): Negotiated,
) -> Result<Response, AppError> {
    let id = state.config.url(&format!("/objects/{uuid}"));
    let stored = db::objects::get(&state.db, &id)
        .await?
        .filter(|o| o.local == 1)
        .ok_or_else(|| AppError::NotFound("no such post".into()))?;
    let status = if stored.deleted.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let mut response = match format {
        Representation::As2(syntax) => {
            as2(publish::object_document(&state, &stored).await?, syntax)?
        }
        Representation::Html if stored.deleted.is_some() => pages::post::deleted_page(),
        Representation::Html => {
            let app = match stored.app_name.as_deref().map(AppName::parse) {
                Some(Ok(name)) => db::apps::get(&state.db, &name).await?,
                _ => None,
            }
            .ok_or_else(|| AppError::NotFound("no such post".into()))?;
            let mut counts = db::objects::counts(&state.db, &[stored.id.as_str()]).await?;
            let replies =
                db::objects::replies(&state.db, &stored.id, pages::post::MAX_REPLIES).await?;
            let view = PostView {
                counts: counts.remove(&stored.id).unwrap_or_default(),
                object: &stored,
            };
            pages::post::post_page(&state.config, &app, &view, &replies)
        }
    };
    *response.status_mut() = status;
    Ok(response)
}

async fn activity(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    Negotiated(format): Negotiated,
) -> Result<Response, AppError> {
    let id = state.config.url(&format!("/activities/{uuid}"));
    let body = db::activities::local_body(&state.db, &id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such activity".into()))?;
    let doc: Value = serde_json::from_str(&body).map_err(AppError::internal)?;
    Ok(match format {
        Representation::As2(syntax) => as2(doc, syntax)?,
        // With authorized fetch the document is only for signed requests;
        // its HTML page does not hand it out either.
        Representation::Html if state.config.federation.authorized_fetch => page(
            "Activity",
            html! { p { "This server shares its activities with signed requests only." } },
        ),
        Representation::Html => page(
            "Activity",
            html! { pre { (serde_json::to_string_pretty(&doc).unwrap_or_default()) } },
        ),
    })
}
