//! OAuth's own error answers (RFC 6749 §4.1.2.1 and §5.2): a machine code
//! (`invalid_client`, `invalid_grant`, …) and a sentence, as JSON for
//! back-channel endpoints or as a redirect for the authorize endpoint.
//! Storage failures become `server_error`/`temporarily_unavailable`, so
//! no client ever sees a bare 500 with an HTML body.

use axum::http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    /// `invalid_request`, for a body over the limit (413).
    RequestTooLarge,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    InvalidToken,
    InsufficientScope,
    InvalidRedirectUri,
    InvalidClientMetadata,
    ServerError,
    TemporarilyUnavailable,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest | Code::RequestTooLarge => "invalid_request",
            Code::InvalidClient => "invalid_client",
            Code::InvalidGrant => "invalid_grant",
            Code::UnauthorizedClient => "unauthorized_client",
            Code::UnsupportedGrantType => "unsupported_grant_type",
            Code::UnsupportedResponseType => "unsupported_response_type",
            Code::InvalidScope => "invalid_scope",
            Code::AccessDenied => "access_denied",
            Code::InvalidToken => "invalid_token",
            Code::InsufficientScope => "insufficient_scope",
            Code::InvalidRedirectUri => "invalid_redirect_uri",
            Code::InvalidClientMetadata => "invalid_client_metadata",
            Code::ServerError => "server_error",
            Code::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Code::InvalidClient | Code::InvalidToken => StatusCode::UNAUTHORIZED,
            Code::InsufficientScope => StatusCode::FORBIDDEN,
            Code::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Code::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An OAuth error with its description.
#[derive(Debug)]
pub struct OAuthError {
    pub code: Code,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: Code, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }
    pub fn request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(Code::InvalidRequest, description)
    }
    pub fn client(description: impl Into<String>) -> OAuthError {
        OAuthError::new(Code::InvalidClient, description)
    }
    pub fn grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(Code::InvalidGrant, description)
    }
}

impl From<axum::extract::rejection::FormRejection> for OAuthError {
    fn from(e: axum::extract::rejection::FormRejection) -> OAuthError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::new(Code::RequestTooLarge, "the request body is too large")
        } else {
            OAuthError::request(format!(
                "the body must be application/x-www-form-urlencoded with each parameter once: {e}"
            ))
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> OAuthError {
        match e {
            AppError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "oauth: storage unavailable");
                OAuthError::new(Code::TemporarilyUnavailable, "try again shortly")
            }
            AppError::BadRequest(msg) => OAuthError::request(msg),
            other => {
                tracing::error!(error = %other, "oauth: internal failure");
                OAuthError::new(Code::ServerError, "internal error")
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let mut response = (
            status,
            Json(json!({ "error": self.code.as_str(), "error_description": self.description })),
        )
            .into_response();
        let headers = response.headers_mut();
        no_store(headers);
        match self.code {
            // RFC 6749 §5.2: a failed client authentication names the scheme.
            Code::InvalidClient => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"rosefed\""),
                );
            }
            // RFC 6750 §3 for protected resources (userinfo).
            Code::InvalidToken | Code::InsufficientScope => {
                let value = format!("Bearer realm=\"rosefed\", error=\"{}\"", self.code.as_str());
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(WWW_AUTHENTICATE, v);
                }
            }
            _ => {}
        }
        response
    }
}

/// Token responses and errors must never be cached (RFC 6749 §5.1).
pub fn no_store(headers: &mut axum::http::HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}
