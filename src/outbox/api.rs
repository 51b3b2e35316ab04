//! HTTP for publishing and for what was published.
//!
//! The publishing API (`/api/v1/apps/{name}/…`) takes `Authorization:
//! Bearer <token>` where the token was made by `rosefed apps token NAME`
//! and is stored as its SHA-256. A token acts only as its own app. The
//! OAuth issue will accept client-credentials tokens here as well; the
//! check is one function ([`authorize`]).
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
//! | `GET /api/v1/objects?id=URL` | a stored post (ours or received), with counts |
//! | `GET /api/v1/timeline` | newest posts, ours and received |
//! | `GET /objects/{uuid}`, `/activities/{uuid}` | what we minted, by negotiation |

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::publish::{self, NewPost};
use crate::actors::AppName;
use crate::db;
use crate::error::AppError;
use crate::formats::{sexp, Format};
use crate::http::html::{escape, page};
use crate::http::negotiate::{as2, Format as Representation, Negotiated};
use crate::instance::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{name}/posts", post(create_post))
        .route("/api/v1/apps/{name}/posts/update", post(update_post))
        .route("/api/v1/apps/{name}/posts/delete", post(delete_post))
        .route("/api/v1/apps/{name}/follow-requests", get(follow_requests))
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

/// The stored form of a publishing-API token.
pub fn token_hash(token: &str) -> String {
    crate::secrets::hash(token)
}

/// A new random publishing-API token.
pub fn new_token() -> Result<String, AppError> {
    crate::secrets::random_token("rft_")
}

/// The app a request may act as: its bearer token's, and only if that is
/// the app named in the path.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
) -> Result<AppName, AppError> {
    let token = crate::oauth::grants::bearer_of(headers)
        .ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    let app = match db::activities::app_for_token(&state.db, &token_hash(token)).await? {
        Some(app) => app,
        None => oauth_app(state, token).await?,
    };
    if app != name {
        return Err(AppError::Forbidden(format!(
            "this token acts as '{app}', not as '{name}'"
        )));
    }
    AppName::parse(&app)
}

/// The member app an OAuth access token acts as: a token of that app's own
/// client with the `publish` scope (client credentials, typically).
async fn oauth_app(state: &AppState, token: &str) -> Result<String, AppError> {
    let found = crate::oauth::grants::bearer(state, token)
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown or expired token".into()))?;
    if found.user_id.is_some() {
        return Err(AppError::Forbidden(
            "a member's token cannot publish as an app: use the app's client credentials".into(),
        ));
    }
    let app = found.app_name.clone().ok_or_else(|| {
        AppError::Forbidden("this token belongs to a client that is not a member app".into())
    })?;
    if !found.scope.split(' ').any(|s| s == "publish") {
        return Err(AppError::Forbidden(
            "this token lacks the publish scope".into(),
        ));
    }
    Ok(app)
}

fn with_www_authenticate(e: AppError) -> Response {
    let unauthorized = matches!(e, AppError::Unauthorized(_));
    let mut response = e.into_response();
    if unauthorized {
        response.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("Bearer realm=\"rosefed\""),
        );
    }
    response
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
    Path(name): Path<String>,
    headers: HeaderMap,
    Submitted { post, .. }: Submitted,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let (id, activity) = publish::create_post(&state, &app, &post).await?;
        Ok::<_, AppError>((
            StatusCode::CREATED,
            Json(json!({ "id": id, "activity": activity })),
        ))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
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
    Path(name): Path<String>,
    headers: HeaderMap,
    Submitted { id, post }: Submitted,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let id = id.ok_or_else(|| AppError::BadRequest("the post's id is missing".into()))?;
        let activity = publish::update_post(&state, &app, &id, &post).await?;
        Ok::<_, AppError>(Json(json!({ "id": id, "activity": activity })))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
}

#[derive(Deserialize)]
struct IdBody {
    id: String,
}

async fn delete_post(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<IdBody>,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let activity = publish::delete_post(&state, &app, &body.id).await?;
        Ok::<_, AppError>(Json(json!({ "id": body.id, "activity": activity })))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
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
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<ActionBody>,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let need = |v: Option<String>, field: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| AppError::BadRequest(format!("'{action}' needs '{field}'")))
        };
        let activity = match action.as_str() {
            "like" => publish::react(&state, &app, "Like", &need(body.object, "object")?).await?,
            "announce" => {
                publish::react(&state, &app, "Announce", &need(body.object, "object")?).await?
            }
            "unlike" => {
                publish::unreact(&state, &app, "Like", &need(body.object, "object")?).await?
            }
            "unannounce" => {
                publish::unreact(&state, &app, "Announce", &need(body.object, "object")?).await?
            }
            "follow" => publish::follow(&state, &app, &need(body.target, "target")?).await?,
            "unfollow" => publish::unfollow(&state, &app, &need(body.target, "target")?).await?,
            other => return Err(AppError::NotFound(format!("no action '{other}'"))),
        };
        Ok::<_, AppError>(Json(json!({ "activity": activity })))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
}

async fn follow_requests(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let pending = db::follows::followers_in_state(&state.db, &app, "pending").await?;
        let actors: Vec<&str> = pending.iter().map(|f| f.actor_id.as_str()).collect();
        Ok::<_, AppError>(Json(json!({ "pending": actors })))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
}

async fn decide(
    State(state): State<AppState>,
    Path((name, decision)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<ActionBody>,
) -> Response {
    let result = async {
        let app = authorize(&state, &headers, &name).await?;
        let accept = match decision.as_str() {
            "approve" => true,
            "reject" => false,
            other => return Err(AppError::NotFound(format!("no decision '{other}'"))),
        };
        let actor = body
            .actor
            .ok_or_else(|| AppError::BadRequest("needs 'actor'".into()))?;
        let activity = publish::decide_follow_request(&state, &app, &actor, accept).await?;
        Ok::<_, AppError>(Json(json!({ "activity": activity })))
    };
    result
        .await
        .map_or_else(with_www_authenticate, IntoResponse::into_response)
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A stored post with its counts, for apps and tests to observe.
async fn lookup(
    State(state): State<AppState>,
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
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = query_param(query.as_deref(), "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(40)
        .clamp(1, 200);
    let mut items = Vec::new();
    for o in db::objects::recent(&state.db, limit).await? {
        items.push(publish::object_document(&state, &o).await?);
    }
    Ok(Json(json!({ "orderedItems": items })).into_response())
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
    let doc = publish::object_document(&state, &stored).await?;
    let status = if stored.deleted.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let mut response = match format {
        Representation::As2(syntax) => as2(doc, syntax)?,
        Representation::Html => {
            let body = if stored.deleted.is_some() {
                "<p>This post was deleted.</p>".to_string()
            } else {
                // Content was sanitised when it was stored.
                format!(
                    "{}<article>{}</article><p><a href=\"{}\">{}</a></p>",
                    stored
                        .name
                        .as_deref()
                        .map(|n| format!("<h1>{}</h1>", escape(n)))
                        .unwrap_or_default(),
                    stored.content,
                    escape(&stored.attributed_to),
                    escape(&stored.attributed_to),
                )
            };
            page("Post", &body)
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
        Representation::Html => page(
            "Activity",
            &format!(
                "<pre>{}</pre>",
                escape(&serde_json::to_string_pretty(&doc).unwrap_or_default())
            ),
        ),
    })
}
