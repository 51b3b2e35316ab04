//! The admin pages for domain blocks: the list with a form to add one,
//! each block's edit form and remove button, CSV import with a preview
//! (nothing changes until the admin confirms what the preview shows) and
//! CSV export, all through [`crate::moderation::domain_blocks`], so each
//! change is in the audit log under the admin's name.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::session::AdminSession;
use super::{back_to, csv_download, notice};
use crate::db::domain_blocks::DomainBlock;
use crate::error::AppError;
use crate::formats::as2::rfc3339;
use crate::http::html::page;
use crate::instance::AppState;
use crate::moderation::domain_blocks::{self, BlockSpec, Outcome, Planned, Severity};
use crate::oauth::endpoints::csrf_form::{CsrfForm, ProtectedForm};
use crate::oauth::session;

pub const PATH: &str = "/admin/domain_blocks";

/// The add/edit form as submitted.
#[derive(Deserialize, Default)]
pub struct BlockForm {
    csrf: Option<String>,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    severity: String,
    reject_media: Option<String>,
    reject_reports: Option<String>,
    obfuscate: Option<String>,
    #[serde(default)]
    private_comment: String,
    #[serde(default)]
    public_comment: String,
}

impl ProtectedForm for BlockForm {
    const NAME: &'static str = "domain block";
    const RETRY: &'static str = "Reload the page and submit again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

impl BlockForm {
    fn of(b: &DomainBlock) -> BlockForm {
        let on = |v: i64| (v != 0).then(|| "on".to_string());
        BlockForm {
            csrf: None,
            domain: b.domain.clone(),
            severity: b.severity.clone(),
            reject_media: on(b.reject_media),
            reject_reports: on(b.reject_reports),
            obfuscate: on(b.obfuscate),
            private_comment: b.private_comment.clone(),
            public_comment: b.public_comment.clone(),
        }
    }

    fn spec(&self) -> Result<BlockSpec, AppError> {
        Ok(BlockSpec {
            domain: self.domain.clone(),
            severity: Severity::parse(&self.severity)?,
            reject_media: self.reject_media.is_some(),
            reject_reports: self.reject_reports.is_some(),
            // Browsers send a textarea's line breaks as CRLF.
            private_comment: self.private_comment.replace("\r\n", "\n"),
            public_comment: self.public_comment.replace("\r\n", "\n"),
            obfuscate: self.obfuscate.is_some(),
        })
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
}

/// `GET /admin/domain_blocks`.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let notice = query.done.map(|what| Notice::Done(notice(&what)));
    list_page(
        &state,
        &headers,
        &BlockForm::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct EditQuery {
    domain: String,
}

/// `GET /admin/domain_blocks/edit?domain=…`.
pub async fn edit(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(query): Query<EditQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let blocks = domain_blocks::list(&state.db).await?;
    let block = blocks
        .iter()
        .find(|b| b.domain == query.domain)
        .ok_or_else(|| AppError::NotFound(format!("{} is not blocked", query.domain)))?;
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let body = html! {
        p { a href=(PATH) { "← Domain blocks" } }
        h1 { "Block of " (block.domain) }
        p.meta { "Blocked " (rfc3339(block.created_at)) "; last changed " (rfc3339(block.updated_at)) "." }
        (block_form(&csrf, &BlockForm::of(block), true))
    };
    Ok(with_cookie(page("Edit domain block", body), cookie))
}

/// `POST /admin/domain_blocks`: adds or changes a block.
pub async fn save(
    admin: AdminSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<BlockForm>,
) -> Result<Response, AppError> {
    let applied = match form.spec() {
        Ok(spec) => {
            domain_blocks::apply(&state.db, &state.config, &admin.user.username, &spec).await
        }
        Err(e) => Err(e),
    };
    match applied {
        Ok((domain, outcome)) => {
            let what = match outcome {
                Outcome::Created => format!("Blocked {domain}."),
                Outcome::Updated => format!("Changed the block of {domain}."),
                Outcome::Unchanged => format!("The block of {domain} was already so."),
            };
            Ok(done(&what))
        }
        Err(AppError::BadRequest(why)) => {
            list_page(
                &state,
                &headers,
                &form,
                Some(Notice::Refused(why)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    domain: String,
}

impl ProtectedForm for RemoveForm {
    const NAME: &'static str = "remove block";
    const RETRY: &'static str = "Reload the page and remove it again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/domain_blocks/remove`.
pub async fn remove(
    admin: AdminSession,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Result<Response, AppError> {
    let domain =
        domain_blocks::remove(&state.db, &state.config, &admin.user.username, &form.domain).await?;
    Ok(done(&format!("Unblocked {domain}.")))
}

#[derive(Deserialize)]
pub struct ImportForm {
    csrf: Option<String>,
    #[serde(default)]
    csv: String,
    /// Present on the preview's confirm button.
    confirm: Option<String>,
}

impl ProtectedForm for ImportForm {
    const NAME: &'static str = "import";
    const RETRY: &'static str = "Reload the page and import again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/domain_blocks/import`: a preview of what the CSV would
/// change, or (confirmed) the import itself.
pub async fn import(
    admin: AdminSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ImportForm>,
) -> Result<Response, AppError> {
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let specs = match domain_blocks::parse_csv(&form.csv, &state.config) {
        Ok(specs) => specs,
        Err(errors) => {
            let body = html! {
                p { a href=(PATH) { "← Domain blocks" } }
                h1 { "Nothing imported" }
                p role="alert" { "The file has " (errors.len()) " bad line(s); fix them and import again:" }
                ul { @for e in &errors { li { "Line " (e.line) ": " (e.why) } } }
                (import_form(&csrf, &form.csv))
            };
            let response = (StatusCode::BAD_REQUEST, page("Import refused", body)).into_response();
            return Ok(with_cookie(response, cookie));
        }
    };
    if form.confirm.is_some() {
        let done_list =
            domain_blocks::import(&state.db, &state.config, &admin.user.username, &specs).await?;
        let count = |o: Outcome| done_list.iter().filter(|p| p.outcome == o).count();
        return Ok(done(&format!(
            "Imported: {} new, {} changed, {} unchanged.",
            count(Outcome::Created),
            count(Outcome::Updated),
            count(Outcome::Unchanged)
        )));
    }
    let plan = domain_blocks::plan(&state.db, &state.config, &specs).await?;
    let body = html! {
        p { a href=(PATH) { "← Domain blocks" } }
        h1 { "Import: what would change" }
        (plan_table(&plan))
        form method="post" action={ (PATH) "/import" } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="csv" value=(form.csv);
            button type="submit" name="confirm" value="1" { "Import these " (plan.len()) " blocks" }
            " " a href=(PATH) { "Cancel" }
        }
    };
    Ok(with_cookie(page("Import preview", body), cookie))
}

/// `GET /admin/domain_blocks/export.csv`.
pub async fn export(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let csv = domain_blocks::to_csv(&domain_blocks::list(&state.db).await?)?;
    Ok(csv_download(csv, "domain_blocks.csv"))
}

fn done(what: &str) -> Response {
    back_to(PATH, &[("done", what)])
}

enum Notice {
    Done(String),
    Refused(String),
}

async fn list_page(
    state: &AppState,
    headers: &HeaderMap,
    form: &BlockForm,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let blocks = domain_blocks::list(&state.db).await?;
    let (csrf, cookie) = session::csrf_token(state, headers);
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Domain blocks" }
        @match &notice {
            Some(Notice::Done(what)) => { p role="status" { (what) } }
            Some(Notice::Refused(why)) => { p role="alert" { strong { "Not saved: " } (why) } }
            None => {}
        }
        @if blocks.is_empty() {
            p { "No domain is blocked." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Domain" } th scope="col" { "Severity" } th scope="col" { "Options" }
                    th scope="col" { "Public comment" } th scope="col" { "Private comment" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for b in &blocks {
                        tr {
                            td { (b.domain) }
                            td { (b.severity) }
                            td { (options(b)) }
                            td { (b.public_comment) }
                            td { (b.private_comment) }
                            td {
                                a href={ (PATH) "/edit?domain=" (b.domain) } { "Edit" }
                                form method="post" action={ (PATH) "/remove" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="domain" value=(b.domain);
                                    button type="submit" { "Remove block of " (b.domain) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href={ (PATH) "/export.csv" } { "Export as CSV" } " (Mastodon's format; private comments are left out)" }
        h2 { "Block a domain" }
        (block_form(&csrf, form, false))
        h2 { "Import" }
        p { "Paste a CSV in Mastodon's format (" code { (domain_blocks::CSV_HEADER.join(",")) } "). You see what would change before anything does." }
        (import_form(&csrf, ""))
    };
    let response = (status, page("Domain blocks", body)).into_response();
    Ok(with_cookie(response, cookie))
}

fn options(b: &DomainBlock) -> String {
    [
        (b.reject_media, "reject media"),
        (b.reject_reports, "reject reports"),
        (b.obfuscate, "obfuscated"),
    ]
    .into_iter()
    .filter(|(set, _)| *set != 0)
    .map(|(_, name)| name)
    .collect::<Vec<_>>()
    .join(", ")
}

fn block_form(csrf: &str, f: &BlockForm, editing: bool) -> Markup {
    let severity = if f.severity.is_empty() {
        "suspend"
    } else {
        f.severity.as_str()
    };
    html! {
        form method="post" action=(PATH) {
            input type="hidden" name="csrf" value=(csrf);
            @if editing {
                input type="hidden" name="domain" value=(f.domain);
            } @else {
                p {
                    label for="domain" { "Domain (its subdomains too)" } br;
                    input #domain type="text" name="domain" value=(f.domain) required placeholder="spam.example";
                }
            }
            p {
                label for="severity" { "Severity" } br;
                select #severity name="severity" {
                    @for (value, label) in [
                        ("suspend", "Suspend: refuse its servers, sever follows, hide its content"),
                        ("silence", "Silence: keep its posts off the timeline unless an app follows the author"),
                        ("noop", "None: only the options below"),
                    ] {
                        option value=(value) selected[severity == value] { (label) }
                    }
                }
            }
            p {
                input #reject_media type="checkbox" name="reject_media" checked[f.reject_media.is_some()];
                " " label for="reject_media" { "Reject media" }
                br;
                input #reject_reports type="checkbox" name="reject_reports" checked[f.reject_reports.is_some()];
                " " label for="reject_reports" { "Reject reports" }
                br;
                input #obfuscate type="checkbox" name="obfuscate" checked[f.obfuscate.is_some()];
                " " label for="obfuscate" { "Obfuscate the domain on the public list" }
            }
            p {
                label for="private_comment" { "Private comment (admins only)" } br;
                textarea #private_comment name="private_comment" rows="2" cols="60" { (f.private_comment) }
            }
            p {
                label for="public_comment" { "Public comment" } br;
                textarea #public_comment name="public_comment" rows="2" cols="60" { (f.public_comment) }
            }
            button type="submit" { @if editing { "Save block" } @else { "Block" } }
        }
    }
}

fn import_form(csrf: &str, csv: &str) -> Markup {
    html! {
        form method="post" action={ (PATH) "/import" } {
            input type="hidden" name="csrf" value=(csrf);
            p {
                label for="csv" { "CSV" } br;
                textarea #csv name="csv" rows="6" cols="80" required { (csv) }
            }
            button type="submit" { "Preview import" }
        }
    }
}

fn plan_table(plan: &[Planned]) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { "Domain" } th scope="col" { "Severity" } th scope="col" { "Change" } } }
            tbody {
                @for p in plan {
                    tr {
                        td { (p.domain) }
                        td { (p.severity.as_str()) }
                        td { @match p.outcome {
                            Outcome::Created => "new block",
                            Outcome::Updated => "changed",
                            Outcome::Unchanged => "unchanged",
                        } }
                    }
                }
            }
        }
    }
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    session::with_cookie(response.headers_mut(), cookie);
    response
}
