//! [`CsrfMultipart`]: the upload forms' counterpart of
//! [`CsrfForm`](crate::oauth::endpoints::csrf_form::CsrfForm). It reads a
//! `multipart/form-data` body whole (the route's body limit bounds it),
//! then checks its `csrf` field against the browser's cookie before the
//! handler runs; refusals are the same pages and log lines as `CsrfForm`'s.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;

use crate::instance::AppState;
use crate::oauth::endpoints::{error_page, form_expired};
use crate::oauth::session;

/// Most fields an upload form may have.
const MAX_FIELDS: usize = 16;

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub struct Field {
    /// The file name the browser sent, for file fields.
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

impl Field {
    /// A file field that holds a file (browsers send an empty, nameless
    /// part for a file input left empty).
    pub fn file(&self) -> Option<&[u8]> {
        (self.file_name.as_deref().is_some_and(|n| !n.is_empty()) || !self.bytes.is_empty())
            .then_some(self.bytes.as_slice())
    }

    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

/// A multipart form whose CSRF token matched its cookie, by field name.
#[derive(Debug)]
pub struct CsrfMultipart(pub HashMap<String, Field>);

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let unreadable = |why: String| {
            tracing::info!(form = "upload", reason = %why, "form could not be read");
            error_page(
                StatusCode::BAD_REQUEST,
                "Bad upload",
                "The upload form could not be read (files must be at most 2 MiB each).",
            )
        };
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let mut fields = HashMap::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| unreadable(e.to_string()))?
        {
            if fields.len() == MAX_FIELDS {
                return Err(unreadable(format!("more than {MAX_FIELDS} fields")));
            }
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| unreadable(e.to_string()))?;
            fields.insert(
                name,
                Field {
                    file_name,
                    bytes: bytes.to_vec(),
                },
            );
        }
        let token = fields.get("csrf").and_then(Field::text);
        if !session::csrf_ok(state, &headers, token) {
            tracing::info!(form = "upload", "form without a valid CSRF token");
            return Err(form_expired("Reload the page and upload again."));
        }
        Ok(CsrfMultipart(fields))
    }
}
