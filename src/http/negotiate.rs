//! Content negotiation for documents that exist both as ActivityStreams JSON
//! (for servers) and as HTML (for people): actors, collections, objects.

use axum::http::header::{ACCEPT, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::AppError;

pub const ACTIVITY_JSON: &str = crate::formats::jsonld::MEDIA_TYPE;
pub const LD_JSON_AS: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// The representation a request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ActivityStreams JSON; `ld` when the client asked for
    /// `application/ld+json`, so the answer uses the same media type.
    ActivityJson {
        ld: bool,
    },
    Html,
}

/// Picks the best representation from `Accept`, honouring q-values. No
/// header (or `*/*`) means a browser-like client: HTML. A header naming only
/// types we cannot produce is a 406.
pub fn negotiate(headers: &HeaderMap) -> Result<Format, AppError> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Format::Html);
    };
    if accept.trim().is_empty() {
        return Ok(Format::Html);
    }
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
            "application/activity+json" => Some((3, Format::ActivityJson { ld: false })),
            "application/ld+json" => Some((3, Format::ActivityJson { ld: true })),
            "application/json" => Some((2, Format::ActivityJson { ld: false })),
            "text/html" | "application/xhtml+xml" => Some((2, Format::Html)),
            "application/*" => Some((1, Format::ActivityJson { ld: false })),
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
        AppError::NotAcceptable(format!(
            "cannot produce any of '{accept}'; this resource is available as {ACTIVITY_JSON}, application/ld+json and text/html"
        ))
    })
}

/// An ActivityStreams JSON response with the media type the client asked for.
pub fn activity_json(value: serde_json::Value, ld: bool) -> Response {
    let media = if ld { LD_JSON_AS } else { ACTIVITY_JSON };
    let mut response = Json(value).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: Option<&str>) -> Result<Format, AppError> {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        negotiate(&h)
    }

    #[test]
    fn activitypub_clients_get_json() {
        assert_eq!(
            pick(Some("application/activity+json")).unwrap(),
            Format::ActivityJson { ld: false }
        );
        assert_eq!(
            pick(Some(LD_JSON_AS)).unwrap(),
            Format::ActivityJson { ld: true }
        );
        // Mastodon's fetcher.
        assert_eq!(
            pick(Some("application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", text/html;q=0.1")).unwrap(),
            Format::ActivityJson { ld: false }
        );
        assert_eq!(
            pick(Some("application/activity+json, */*")).unwrap(),
            Format::ActivityJson { ld: false }
        );
        assert_eq!(
            pick(Some("application/*")).unwrap(),
            Format::ActivityJson { ld: false }
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
