//! Inbox: receiving activities from other servers.
//!
//! `POST /inbox` (shared) and `POST /actors/{name}/inbox`. Every request
//! goes through the same pipeline, cheapest checks first, so nothing is
//! fetched for a request that a size, shape or block check already refuses:
//!
//! 1. media type (415), body size (413), then decoding into the activity
//!    model ([`crate::formats`]): nesting, syntax and shape (400);
//! 2. suspended domain or actor (403), from what [`db::gate`] remembers;
//! 3. replay: a known activity id is answered 202 and changes nothing
//!    (found by the write; asked before only when it matters, see below);
//! 4. who sent it ([`verify`], 401): the activity's own proof (a sexp
//!    envelope, or FEP-8b32 on JSON-LD) when it has one, whoever delivered
//!    it; else the request's HTTP signature (RFC 9421 or draft-cavage),
//!    with its digest and time; either way by a key the actor owns;
//! 5. origin: the activity id shares the actor's origin; an embedded object
//!    from elsewhere is refetched from its own origin (400 if it cannot be),
//!    and the actor's own object's proof, if it has one, must hold;
//! 6. the activity is stored and handled in one transaction
//!    ([`activities`]), so a crash leaves it either fully applied or not
//!    recorded (and a retry applies it).
//!
//! Every rejection is one log line with the reason and the peer.

pub mod activities;
pub mod verify;

use std::net::SocketAddr;

use crate::actors::AppName;
use crate::db;
use crate::error::AppError;
use crate::formats::{self, as2::origin, sexp, DecodeLimits, Format};
use crate::instance::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", post(shared_inbox))
        .route("/actors/{name}/inbox", post(actor_inbox))
}

async fn shared_inbox(State(state): State<AppState>, request: Request) -> Response {
    receive(state, None, request).await
}

async fn actor_inbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    receive(state, Some(name), request).await
}

/// Runs the pipeline and turns its outcome into a response and a log line.
async fn receive(state: AppState, app: Option<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut who = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_else(|| "unknown peer".into());
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    match pipeline(
        &state,
        app,
        &parts.method,
        &path,
        &parts.headers,
        body,
        &mut who,
    )
    .await
    {
        Ok(Accepted {
            outcome,
            format,
            kind,
        }) => {
            state.metrics.record_inbox(format.name(), &kind);
            tracing::info!(peer = %who, outcome, format = format.name(), "inbox accepted");
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            tracing::warn!(peer = %who, status = e.status().as_u16(), reason = %e, "inbox rejected");
            e.into_response()
        }
    }
}

/// What an accepted request came to, for the log and the metrics.
struct Accepted {
    outcome: &'static str,
    format: Format,
    kind: String,
}

async fn pipeline(
    state: &AppState,
    app: Option<String>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Body,
    who: &mut String,
) -> Result<Accepted, AppError> {
    let fed = &state.config.federation;
    let format = media_type(headers, !fed.no_sexp)?;
    let body = read_body(body, headers, fed.max_body_bytes).await?;
    let limits = DecodeLimits {
        max_json_depth: fed.max_json_depth,
        sexp: sexp::Limits {
            max_bytes: fed.max_body_bytes,
            ..sexp::Limits::default()
        },
    };
    let formats::Received {
        activity, envelope, ..
    } = formats::decode(format, &body, &limits)?;
    let kind = activity.kind.clone();
    let accepted = |outcome| Accepted {
        outcome,
        format,
        kind: kind.clone(),
    };
    let actor_id = activity.actor.clone();
    *who = format!("{actor_id} ({who})");
    let actor_url = url::Url::parse(&actor_id)
        .map_err(|_| AppError::BadRequest("actor is not a URL".into()))?;
    let domain = actor_url.host_str().unwrap_or_default();
    let gate = db::gate::ask(&state.db, domain, Some(&actor_id)).await?;
    let block = gate.domain_block;
    if block.as_ref().is_some_and(|b| b.severity == "suspend") {
        return Err(AppError::Forbidden(format!(
            "domain {domain} is suspended here"
        )));
    }
    if gate.actor_severity.as_deref() == Some("suspend") {
        return Err(AppError::Forbidden(format!("{actor_id} is suspended here")));
    }
    let target = match app {
        Some(name) => {
            let name = AppName::parse(&name)
                .map_err(|_| AppError::NotFound(format!("no actor named '{name}'")))?;
            if db::apps::get(&state.db, &name).await?.is_none() {
                return Err(AppError::NotFound(format!("no actor named '{name}'")));
            }
            Some(name)
        }
        None => None,
    };

    // A replay (an activity already recorded) is answered 202 and changes
    // nothing. Asking first would cost a query on every request, and the
    // write finds replays anyway (it records each id once); so the
    // question is asked only where the answer changes what happens: when
    // the sender cannot be verified (a peer retrying after its signature
    // expired must still hear that it can stop), and before fetching.
    let proven = async {
        // A signed envelope or an object proof proves the activity by
        // itself, whoever delivered it (a forward, a relay); otherwise
        // the request's own signature must be the actor's.
        let proof = verify::proof_of(&activity.doc)?;
        let by_request = if headers.contains_key("signature-input") {
            "rfc9421"
        } else {
            "cavage"
        };
        Ok::<_, AppError>(match (&envelope, &proof) {
            (Some(envelope), _) => (
                verify::authenticate_envelope(state, envelope, &actor_id).await?,
                "envelope",
            ),
            (None, Some(proof)) => {
                let actor =
                    verify::authenticate_proof(state, &activity.doc, proof, &actor_id).await?;
                // A proof made long ago proves the activity but could be a
                // replay once its id has been pruned: then the request
                // itself must be signed by the actor, as without a proof.
                if verify::fresh(state, proof) {
                    (actor, "proof")
                } else {
                    (
                        verify::authenticate(
                            state,
                            method.as_str(),
                            path,
                            headers,
                            &body,
                            &actor_id,
                        )
                        .await?,
                        by_request,
                    )
                }
            }
            (None, None) => (
                verify::authenticate(state, method.as_str(), path, headers, &body, &actor_id)
                    .await?,
                by_request,
            ),
        })
    }
    .await;
    let (actor, proven_by) = match proven {
        Ok(proven) => proven,
        Err(_) if db::gate::known(&state.db, &activity.id).await? => {
            return Ok(accepted("replay ignored"))
        }
        Err(e) => return Err(e),
    };
    // Hearing from a host makes it deliverable again: the actor's own host
    // and those of its inboxes (which may differ).
    let mut hosts = actor.inbox_hosts();
    hosts.extend(crate::net::authority_of(&actor.id));
    hosts.sort();
    hosts.dedup();
    for host in hosts {
        crate::remote::heard_from(state, &host).await?;
    }
    if origin(&activity.id) != origin(&actor.id) {
        return Err(AppError::BadRequest(format!(
            "activity id {} is not on the actor's origin",
            activity.id
        )));
    }
    if activities::fetches_object(&activity) && db::gate::known(&state.db, &activity.id).await? {
        return Ok(accepted("replay ignored"));
    }
    let activity = activities::authoritative_object(state, activity).await?;
    let body = match format {
        Format::JsonLd => String::from_utf8_lossy(&body).into_owned(),
        // Kept as the AS2 JSON every other stored activity is.
        Format::Sexp => {
            String::from_utf8_lossy(&formats::jsonld::encode(&activity.doc)).into_owned()
        }
    };
    state.metrics.record_proven_by(proven_by);
    let done = activities::apply(
        state,
        activities::Received {
            actor,
            activity,
            target,
            body,
            domain_block: block,
        },
    )
    .await?;
    Ok(accepted(done))
}

/// The format of the request body, from its `Content-Type`; sexp only
/// when the hub speaks it.
fn media_type(headers: &HeaderMap, sexp: bool) -> Result<Format, AppError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match Format::from_content_type(ct) {
        Some(Format::JsonLd) => Ok(Format::JsonLd),
        Some(Format::Sexp) if sexp => Ok(Format::Sexp),
        _ => Err(AppError::UnsupportedMediaType(format!(
            "content type '{}' is not ActivityStreams JSON{}",
            ct.to_ascii_lowercase(),
            if sexp { " or application/sexp" } else { "" }
        ))),
    }
}

async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, AppError> {
    let too_large = || AppError::PayloadTooLarge(format!("body is larger than {limit} bytes"));
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}
