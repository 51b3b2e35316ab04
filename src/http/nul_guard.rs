//! NUL is refused at every text input. PostgreSQL cannot store it in text
//! (and a NUL reaching a query there is an error, not a row), no protocol
//! the hub speaks needs it, and refusing it in one place means no handler
//! has to remember to. Checked: the path and query (`%00`), and bodies that
//! are forms or JSON (`%00`, `\u0000`, a raw NUL byte). The inbox's own
//! formats check their bodies themselves (`crate::formats`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::instance::AppState;

/// The smallest body limit a form or JSON body is read up to here; larger
/// inbox limits raise it.
const MIN_BODY_LIMIT: usize = 2 * 1024 * 1024;

fn refused() -> Response {
    AppError::BadRequest("NUL characters are not accepted".into()).into_response()
}

fn has_encoded_nul(text: &[u8]) -> bool {
    text.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"))
}

pub async fn refuse_nul(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    if has_encoded_nul(path_and_query.as_bytes()) {
        return refused();
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.starts_with("application/json");
    if !form && !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limit = state.config.federation.max_body_bytes.max(MIN_BODY_LIMIT);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return AppError::PayloadTooLarge(format!("body is larger than {limit} bytes"))
            .into_response();
    };
    let nul = bytes.contains(&0)
        || (form && has_encoded_nul(&bytes))
        || (json && bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")));
    if nul {
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::has_encoded_nul;

    #[test]
    fn encoded_nul_in_any_case() {
        assert!(has_encoded_nul(b"/actors/a%00b"));
        assert!(has_encoded_nul(b"?x=%00"));
        assert!(!has_encoded_nul(b"?x=%200"));
        assert!(!has_encoded_nul(b"/plain"));
    }
}
