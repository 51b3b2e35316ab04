//! Content negotiation for documents that exist as ActivityStreams (JSON
//! or sexp, for servers) and as HTML (for people): actors, collections,
//! objects, activities. [`Negotiated`] is the extractor handlers take;
//! [`as2`] answers with a document in the syntax that was asked for; and
//! [`sexp_errors`] turns the JSON error of a request that asked for sexp
//! into `(err :code … :message …)`.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::db;
use crate::error::AppError;
use crate::formats::sexp::{self, Sexp};
use crate::instance::AppState;
use crate::remote::{self, request::SignedRequest};

pub const ACTIVITY_JSON: &str = crate::formats::jsonld::MEDIA_TYPE;
pub const LD_JSON_AS: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
/// How sexp documents are labelled on the way out.
pub const SEXP_UTF8: &str = "application/sexp; charset=utf-8";

/// The syntax of an ActivityStreams answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// JSON; `ld` when the client asked for `application/ld+json`, so the
    /// answer uses the same media type.
    Json {
        ld: bool,
    },
    Sexp,
}

/// The representation a request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    As2(Syntax),
    Html,
}

/// Picks the best representation from `Accept`, honouring q-values. No
/// header (or `*/*`) means a browser-like client: HTML. `application/sexp`
/// counts only when the hub speaks sexp. A header naming only types we
/// cannot produce is a 406.
pub fn negotiate(headers: &HeaderMap, sexp: bool) -> Result<Format, AppError> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Format::Html);
    };
    if accept.trim().is_empty() {
        return Ok(Format::Html);
    }
    let json = |ld| Format::As2(Syntax::Json { ld });
    let mut best: Option<(f32, u8, Format)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f32;
        for param in parts {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        if q <= 0.0 {
            continue;
        }
        // Specificity breaks ties: an explicit AS type beats */* at equal q.
        let candidate = match media.as_str() {
            "application/activity+json" => Some((3, json(false))),
            "application/ld+json" => Some((3, json(true))),
            "application/sexp" if sexp => Some((3, Format::As2(Syntax::Sexp))),
            "application/json" => Some((2, json(false))),
            "text/html" | "application/xhtml+xml" => Some((2, Format::Html)),
            "application/*" => Some((1, json(false))),
            "text/*" => Some((1, Format::Html)),
            "*/*" => Some((0, Format::Html)),
            _ => None,
        };
        if let Some((rank, format)) = candidate {
            let better = match best {
                None => true,
                Some((bq, br, _)) => q > bq || (q == bq && rank > br),
            };
            if better {
                best = Some((q, rank, format));
            }
        }
    }
    best.map(|(_, _, f)| f).ok_or_else(|| {
        let sexp = if sexp { ", application/sexp" } else { "" };
        AppError::NotAcceptable(format!(
            "cannot produce any of '{accept}'; this resource is available as {ACTIVITY_JSON}, application/ld+json{sexp} and text/html"
        ))
    })
}

/// The representation the request asked for, as an extractor. With
/// `--authorized-fetch`, an ActivityStreams representation is only for a
/// request signed by a server that is not suspended here (401 unsigned,
/// 403 suspended); HTML stays open. Routes that must stay open to
/// everyone (the instance actor) take [`OpenNegotiated`] instead.
pub struct Negotiated(pub Format);

impl FromRequestParts<AppState> for Negotiated {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Negotiated, AppError> {
        let format = negotiate(&parts.headers, !state.config.federation.no_sexp)?;
        if matches!(format, Format::As2(_)) && state.config.federation.authorized_fetch {
            authorize_fetch(state, parts).await?;
        }
        Ok(Negotiated(format))
    }
}

/// As [`Negotiated`], open to unsigned requests even with
/// `--authorized-fetch`: what a server must read to verify our signatures
/// (the instance actor), as in Mastodon's secure mode.
pub struct OpenNegotiated(pub Format);

impl FromRequestParts<AppState> for OpenNegotiated {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<OpenNegotiated, AppError> {
        negotiate(&parts.headers, !state.config.federation.no_sexp).map(OpenNegotiated)
    }
}

/// The signed GET of authorized fetch: who signed it, and that their
/// server (and they) are not suspended here.
pub async fn authorize_fetch(state: &AppState, parts: &Parts) -> Result<(), AppError> {
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let request = SignedRequest {
        method: parts.method.as_str(),
        path_and_query,
        headers: &parts.headers,
        body: None,
    };
    let refused = |e: AppError| {
        tracing::info!(path = %path_and_query, reason = %e, "authorized fetch: refused");
        match e {
            AppError::Unauthorized(why) => AppError::Unauthorized(format!(
                "this server requires signed fetches (authorized fetch): {why}"
            )),
            other => other,
        }
    };
    let prepared = remote::request::prepare(state, &request).map_err(refused)?;
    // A suspended server is refused before its key is fetched.
    let key_domain = url::Url::parse(&prepared.key_id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    suspended(state, &key_domain, None).await?;
    let signer = prepared.verify(state, None).await.map_err(refused)?;
    suspended(state, &signer.domain, Some(&signer.id)).await
}

/// 403 when `domain` (or `actor`) is suspended here.
async fn suspended(state: &AppState, domain: &str, actor: Option<&str>) -> Result<(), AppError> {
    let gate = db::gate::ask(&state.db, domain, actor).await?;
    if gate.domain_block.is_some_and(|b| b.severity == "suspend")
        || gate.actor_severity.as_deref() == Some("suspend")
    {
        tracing::info!(%domain, ?actor, "authorized fetch: the signer is suspended here");
        return Err(AppError::Forbidden(format!(
            "{} is suspended here",
            actor.unwrap_or(domain)
        )));
    }
    Ok(())
}

/// An ActivityStreams document in the syntax the client asked for: JSON
/// with the media type it named, or sexp laid out for reading.
pub fn as2(value: Value, syntax: Syntax) -> Result<Response, AppError> {
    let mut response = match syntax {
        Syntax::Json { ld } => {
            let mut response = Json(value).into_response();
            let media = if ld { LD_JSON_AS } else { ACTIVITY_JSON };
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(media));
            response
        }
        Syntax::Sexp => {
            // Documents can embed what peers sent; one that sexp cannot
            // write (docs/sexp.md §3) is refused as a representation, not
            // treated as a fault.
            let datum = sexp::as2::from_json(&value).map_err(|e| {
                AppError::NotAcceptable(format!(
                    "this document cannot be written in sexp ({e}); ask for {ACTIVITY_JSON}"
                ))
            })?;
            (
                [(CONTENT_TYPE, HeaderValue::from_static(SEXP_UTF8))],
                sexp::pretty(&datum),
            )
                .into_response()
        }
    };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// Longest JSON error body converted to sexp.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// When the client asked for sexp, an error answer (JSON, from
/// [`AppError`] or the router's own `json_errors`) becomes
/// `(err :code N :message "…")` with the same status.
pub async fn sexp_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let wants_sexp = matches!(
        negotiate(request.headers(), !state.config.federation.no_sexp),
        Ok(Format::As2(Syntax::Sexp))
    );
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !wants_sexp || !is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let message = ["error_description", "error"]
        .iter()
        .find_map(|k| json.get(*k).and_then(Value::as_str))
        .or_else(|| status.canonical_reason())
        .unwrap_or("error");
    let err = Sexp::List(vec![
        Sexp::Symbol("err".into()),
        Sexp::Keyword("code".into()),
        Sexp::Integer(i64::from(status.as_u16())),
        Sexp::Keyword("message".into()),
        Sexp::String(message.replace('\0', "")),
    ]);
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(SEXP_UTF8));
    parts
        .headers
        .insert(VARY, HeaderValue::from_static("Accept"));
    Response::from_parts(parts, axum::body::Body::from(format!("{err}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick_with(accept: Option<&str>, sexp: bool) -> Result<Format, AppError> {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        negotiate(&h, sexp)
    }

    fn pick(accept: Option<&str>) -> Result<Format, AppError> {
        pick_with(accept, true)
    }

    #[test]
    fn a_document_sexp_cannot_write_is_not_acceptable_as_sexp() {
        let odd = serde_json::json!({"type": "Note", "content": ["a", "b"]});
        assert!(matches!(
            as2(odd.clone(), Syntax::Sexp),
            Err(AppError::NotAcceptable(_))
        ));
        assert!(as2(odd, Syntax::Json { ld: false }).is_ok());
        let note = serde_json::json!({"type": "Note", "content": "<p>x</p>"});
        let response = as2(note, Syntax::Sexp).unwrap();
        assert_eq!(response.headers()[CONTENT_TYPE], SEXP_UTF8);
    }

    #[test]
    fn sexp_when_asked_and_spoken() {
        let sexp = Format::As2(Syntax::Sexp);
        assert_eq!(pick(Some("application/sexp")).unwrap(), sexp);
        assert_eq!(
            pick(Some("application/activity+json;q=0.5, application/sexp")).unwrap(),
            sexp
        );
        assert_eq!(
            pick(Some("application/sexp;q=0.5, application/activity+json")).unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
        assert!(matches!(
            pick_with(Some("application/sexp"), false),
            Err(AppError::NotAcceptable(_))
        ));
        assert_eq!(
            pick_with(
                Some("application/sexp, application/activity+json;q=0.1"),
                false
            )
            .unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
    }

    #[test]
    fn activitypub_clients_get_json() {
        assert_eq!(
            pick(Some("application/activity+json")).unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
        assert_eq!(
            pick(Some(LD_JSON_AS)).unwrap(),
            Format::As2(Syntax::Json { ld: true })
        );
        // Mastodon's fetcher.
        assert_eq!(
            pick(Some("application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", text/html;q=0.1")).unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
        assert_eq!(
            pick(Some("application/activity+json, */*")).unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
        assert_eq!(
            pick(Some("application/*")).unwrap(),
            Format::As2(Syntax::Json { ld: false })
        );
    }

    #[test]
    fn browsers_get_html() {
        assert_eq!(pick(None).unwrap(), Format::Html);
        assert_eq!(pick(Some("*/*")).unwrap(), Format::Html);
        assert_eq!(
            pick(Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            ))
            .unwrap(),
            Format::Html
        );
        assert_eq!(
            pick(Some("application/activity+json;q=0.1, text/html")).unwrap(),
            Format::Html
        );
    }

    #[test]
    fn unsupported_types_are_406() {
        assert!(matches!(
            pick(Some("image/png")),
            Err(AppError::NotAcceptable(_))
        ));
        assert!(matches!(
            pick(Some("text/html;q=0")),
            Err(AppError::NotAcceptable(_))
        ));
        assert!(matches!(
            pick(Some(";;;,,")),
            Err(AppError::NotAcceptable(_))
        ));
    }
}
