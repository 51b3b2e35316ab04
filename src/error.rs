//! The one application error type. Domain code, storage and handlers all
//! return [`AppError`]; it maps to an HTTP status with a JSON body a peer can
//! act on, and to a one-line message for the CLI.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller sent something malformed or invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no valid proof of who sent it (signatures).
    #[error("{0}")]
    Unauthorized(String),
    /// The sender is known and refused (a suspended domain, another app's
    /// token).
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than this endpoint takes.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's media type is not one this endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The thing asked for is gone for good (a deleted post).
    #[error("{0}")]
    Gone(String),
    /// The thing asked for does not exist here.
    #[error("{0}")]
    NotFound(String),
    /// None of the media types in `Accept` can be produced.
    #[error("{0}")]
    NotAcceptable(String),
    /// The request conflicts with what is stored (a unique name taken, a
    /// removal that would orphan data).
    #[error("{0}")]
    Conflict(String),
    /// A remote server failed us (unreachable, or answered badly).
    #[error("{0}")]
    BadGateway(String),
    /// A dependency (the database) is down; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details go to the log, not the peer.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }
}

impl From<crate::formats::FormatError> for AppError {
    fn from(e: crate::formats::FormatError) -> AppError {
        match e {
            crate::formats::FormatError::Invalid(why) => AppError::BadRequest(why),
            crate::formats::FormatError::TooLarge(why) => AppError::PayloadTooLarge(why),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        match &e {
            // Constraint and table names stay in the log; callers that know
            // what clashed (e.g. `db::apps::insert`) say so in their own words.
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                tracing::debug!(error = %db, "unique violation");
                AppError::Conflict("already exists".into())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                tracing::debug!(error = %db, "foreign key violation");
                AppError::Conflict("refers to something that does not exist".into())
            }
            sqlx::Error::Database(db) => match classify(db.as_ref()) {
                Class::Busy => AppError::Unavailable(format!("database busy: {e}")),
                Class::Unstorable => {
                    tracing::warn!(error = %db, "a value the database cannot store");
                    AppError::BadRequest(
                        "a value is too long or holds characters that cannot be stored".into(),
                    )
                }
                Class::Other => AppError::Internal(format!("database: {e}")),
            },
            sqlx::Error::RowNotFound => AppError::NotFound("not found".into()),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => {
                AppError::Unavailable(format!("database unavailable: {e}"))
            }
            _ => AppError::Internal(format!("database: {e}")),
        }
    }
}

/// What a database error means for the caller, by backend: SQLite's
/// result codes and PostgreSQL's SQLSTATEs are different number spaces
/// (SQLSTATE 22021, a NUL byte, would read as SQLite's code 5, busy).
enum Class {
    /// Retryable: a lock held too long, the server shutting down or out of
    /// resources, a serialization failure.
    Busy,
    /// The value itself cannot be stored (PostgreSQL's data exceptions and
    /// program limits, such as an index entry too large): bad input.
    Unstorable,
    Other,
}

fn classify(db: &dyn sqlx::error::DatabaseError) -> Class {
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = pg.code();
        return match code.get(..2).unwrap_or("") {
            "08" | "40" | "53" | "57" => Class::Busy,
            "22" | "54" => Class::Unstorable,
            _ => Class::Other,
        };
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // BUSY and LOCKED (primary codes 5 and 6, and their extended codes):
        // another writer held the lock past busy_timeout.
        let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        if matches!(code & 0xff, 5 | 6) {
            return Class::Busy;
        }
    }
    Class::Other
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "internal error".to_string()
            }
            AppError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "request failed: dependency unavailable");
                "service temporarily unavailable".to_string()
            }
            other => other.to_string(),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(AppError::BadRequest("x".into()).status(), 400);
        assert_eq!(AppError::NotFound("x".into()).status(), 404);
        assert_eq!(AppError::NotAcceptable("x".into()).status(), 406);
        assert_eq!(AppError::Conflict("x".into()).status(), 409);
        assert_eq!(AppError::Unavailable("x".into()).status(), 503);
        assert_eq!(AppError::from(sqlx::Error::PoolClosed).status(), 503);
    }

    #[tokio::test]
    async fn internal_details_stay_out_of_the_body() {
        let resp = AppError::Internal("secret path /etc".into()).into_response();
        assert_eq!(resp.status(), 500);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("secret"), "{body}");
        assert!(body.contains("internal error"), "{body}");
    }
}
