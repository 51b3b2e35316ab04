//! The admin area (`/admin/…`): server-rendered pages for the hub's
//! administrators, who sign in with the hub's own `/login` (members added
//! with `rosefed users add --admin`). Every handler takes an
//! [`AdminSession`](session::AdminSession), so no page or form can be
//! reached without the admin role; every form carries a CSRF token
//! ([`CsrfForm`](crate::oauth::endpoints::csrf_form::CsrfForm), or
//! [`CsrfMultipart`](multipart::CsrfMultipart) for uploads). Pages are
//! never framed or cached, and run no script.
//!
//! | path | what |
//! |---|---|
//! | `/admin` | the dashboard: what there is to administer |
//! | `/admin/apps` | the member apps |
//! | `/admin/apps/{name}` | an app's profile: name, summary, approval (GET, POST) |
//! | `/admin/apps/{name}/images` | its avatar and header (POST, multipart) |
//! | `/admin/apps/{name}/posts` | publish as the app (POST) |
//! | `/admin/domain_blocks` | domain blocks: list and add (GET, POST) |
//! | `/admin/domain_blocks/{edit,remove,import,export.csv}` | edit, remove, import with a preview, export |
//! | `/admin/timeline`, `POST /admin/timeline/action` | every post, with actions on posts and authors |
//! | `/admin/actors?domain=…` | the remote actors known, with actions on each |
//! | `/admin/reports`, `/admin/reports/view?id=…` | reports, and one report |
//! | `/admin/reports/{resolve,forward}` | resolve (with a domain block), forward (POST) |
//! | `/admin/audit_log`, `/admin/audit_log/export.csv` | the audit log, and as CSV |

pub mod actors;
pub mod apps;
pub mod audit_log;
pub mod dashboard;
pub mod domain_blocks;
pub mod multipart;
pub mod reports;
pub mod session;
pub mod timeline;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::instance::AppState;
use crate::oauth::endpoints::redirect;

/// Largest admin request: an avatar and a header at their limit, plus the
/// form around them.
pub const MAX_BODY: usize = 2 * crate::actors::media::MAX_BYTES + 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/apps", get(apps::list))
        .route("/admin/apps/{name}", get(apps::edit).post(apps::save))
        .route("/admin/apps/{name}/images", post(apps::save_images))
        .route("/admin/apps/{name}/posts", post(apps::publish))
        .route(
            domain_blocks::PATH,
            get(domain_blocks::list).post(domain_blocks::save),
        )
        .route("/admin/domain_blocks/edit", get(domain_blocks::edit))
        .route("/admin/domain_blocks/remove", post(domain_blocks::remove))
        .route("/admin/domain_blocks/import", post(domain_blocks::import))
        .route(
            "/admin/domain_blocks/export.csv",
            get(domain_blocks::export),
        )
        .route(timeline::PATH, get(timeline::list))
        .route(actors::PATH, get(actors::list))
        .route("/admin/timeline/action", post(timeline::act))
        .route(reports::PATH, get(reports::list))
        .route("/admin/reports/view", get(reports::view))
        .route("/admin/reports/resolve", post(reports::resolve))
        .route("/admin/reports/forward", post(reports::forward))
        .route("/admin/audit_log", get(audit_log::list))
        .route("/admin/audit_log/export.csv", get(audit_log::export))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// After a form did something: a 303 back to `path` with `pairs` in its
/// query (the page then says what was done), so reloading does not submit
/// the form again.
pub fn back_to(path: &str, pairs: &[(&str, &str)]) -> Response {
    redirect(&format!("{path}?{}", query(pairs)))
}

/// A URL query of `pairs`, encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.finish()
}

/// What a page shows of a `?done=` message (it comes from the URL, so it
/// is bounded; maud escapes it).
pub fn notice(done: &str) -> String {
    done.chars().take(200).collect()
}

/// A CSV answer the browser saves as `name`.
pub fn csv_download(csv: String, name: &'static str) -> Response {
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}
