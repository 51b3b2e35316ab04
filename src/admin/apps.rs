//! The admin pages for member apps: the list, and each app's profile
//! (display name, summary, follower approval) and images (avatar and
//! header), changed through [`crate::outbox::profile::update_profile`], the
//! same rules and the same `Update` to followers as `rosefed apps set`.
//! A refused change shows the form again with the reason and what was
//! typed; a saved one redirects (so reloading does not resubmit). An admin
//! can also publish as the app, through the same path as its API.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::back_to;
use super::multipart::{CsrfMultipart, Field};
use super::session::AdminSession;
use crate::actors::{App, AppName};
use crate::db;
use crate::error::AppError;
use crate::formats::sexp;
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::endpoints::csrf_form::{CsrfForm, ProtectedForm};
use crate::oauth::session;
use crate::outbox::profile::{self, MediaChange, ProfileChange};
use crate::outbox::publish::{self, NewPost};

/// `/admin/apps`: every app, linked to its page.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let apps = db::apps::list(&state.db).await?;
    let config = &state.config;
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Member apps" }
        table {
            thead { tr { th scope="col" { "App" } th scope="col" { "Handle" } th scope="col" { "Approves followers" } } }
            tbody {
                @for app in &apps {
                    tr {
                        td {
                            img.small src={ (config.actor_id(&app.name)) "/avatar" } alt="";
                            a href={ "/admin/apps/" (app.name) } { (app.display_name) }
                        }
                        td { (config.handle(&app.name)) }
                        td { @if app.manually_approves_followers { "by hand" } @else { "at once" } }
                    }
                }
            }
        }
        p { "New apps are added with " code { "rosefed apps add NAME" } "." }
    };
    Ok(page("Member apps", body))
}

#[derive(Deserialize)]
pub struct EditQuery {
    saved: Option<String>,
    published: Option<String>,
}

/// `GET /admin/apps/{name}`: the app's forms.
pub async fn edit(
    _admin: AdminSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<EditQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let app = load(&state, &name).await?;
    let shown = Shown::of(&app);
    let notice = match (query.saved, query.published) {
        (_, Some(id)) => Some(Notice::Published(id)),
        (Some(_), None) => Some(Notice::Saved),
        (None, None) => None,
    };
    Ok(edit_page(&state, &headers, &app, &shown, notice, StatusCode::OK).await)
}

/// The profile form as submitted.
#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: Option<String>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    /// A checkbox: present ("on") when ticked.
    manually_approves_followers: Option<String>,
}

impl ProtectedForm for ProfileForm {
    const NAME: &'static str = "app profile";
    const RETRY: &'static str = "Reload the page and save again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/apps/{name}`: saves the profile.
pub async fn save(
    admin: AdminSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, AppError> {
    let app = load(&state, &name).await?;
    // Browsers send a textarea's line breaks as CRLF; summaries keep LF.
    let summary = form.summary.replace("\r\n", "\n");
    let change = ProfileChange {
        display_name: Some(form.display_name.clone()),
        summary: Some(summary.clone()),
        manually_approves_followers: Some(form.manually_approves_followers.is_some()),
        ..ProfileChange::default()
    };
    let shown = Shown {
        display_name: &form.display_name,
        summary: &summary,
        manual: form.manually_approves_followers.is_some(),
        ..Shown::of(&app)
    };
    apply(&state, &admin, &headers, &app, change, &shown).await
}

/// `POST /admin/apps/{name}/images`: sets or removes the avatar and header.
pub async fn save_images(
    admin: AdminSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    CsrfMultipart(fields): CsrfMultipart,
) -> Result<Response, AppError> {
    let app = load(&state, &name).await?;
    let wanted = |file: &str, remove: &str| {
        if fields.contains_key(remove) {
            Some(MediaChange::Remove)
        } else {
            fields
                .get(file)
                .and_then(Field::file)
                .map(|bytes| MediaChange::Set(bytes.to_vec()))
        }
    };
    let change = ProfileChange {
        avatar: wanted("avatar", "remove_avatar"),
        header: wanted("header", "remove_header"),
        ..ProfileChange::default()
    };
    let shown = Shown::of(&app);
    apply(&state, &admin, &headers, &app, change, &shown).await
}

/// The compose form as submitted.
#[derive(Deserialize)]
pub struct ComposeForm {
    csrf: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
    /// A checkbox.
    sexp: Option<String>,
}

impl ProtectedForm for ComposeForm {
    const NAME: &'static str = "compose";
    const RETRY: &'static str = "Reload the page and publish again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/apps/{name}/posts`: publishes as the app, as its API does.
pub async fn publish(
    admin: AdminSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ComposeForm>,
) -> Result<Response, AppError> {
    let app = load(&state, &name).await?;
    let title = form.title.trim();
    let post = NewPost {
        kind: Some(if title.is_empty() { "Note" } else { "Article" }.into()),
        name: (!title.is_empty()).then(|| title.to_string()),
        content: form.content.replace("\r\n", "\n"),
        content_type: form.sexp.is_some().then(|| sexp::MEDIA_TYPE.to_string()),
        in_reply_to: None,
    };
    match publish::create_post(&state, &app.name, &post).await {
        Ok((id, _)) => {
            tracing::info!(admin = %admin.user.username, app = %app.name, post = %id, "admin published as an app");
            Ok(back_to(
                &format!("/admin/apps/{}", app.name),
                &[("published", &id)],
            ))
        }
        Err(AppError::BadRequest(why)) => {
            let shown = Shown {
                title,
                content: &post.content,
                sexp: form.sexp.is_some(),
                ..Shown::of(&app)
            };
            Ok(edit_page(
                &state,
                &headers,
                &app,
                &shown,
                Some(Notice::Refused(why)),
                StatusCode::BAD_REQUEST,
            )
            .await)
        }
        Err(e) => Err(e),
    }
}

/// Applies a change: a redirect to the page when saved, the page again with
/// the reason when refused.
async fn apply(
    state: &AppState,
    admin: &AdminSession,
    headers: &HeaderMap,
    app: &App,
    change: ProfileChange,
    shown: &Shown<'_>,
) -> Result<Response, AppError> {
    match profile::update_profile(state, &app.name, change).await {
        Ok(done) => {
            if !done.changes.is_empty() {
                tracing::info!(
                    admin = %admin.user.username,
                    app = %app.name,
                    changes = ?done.changes,
                    update_queued_for = done.update_queued_for,
                    "admin changed an app's profile"
                );
            }
            Ok(back_to(
                &format!("/admin/apps/{}", app.name),
                &[("saved", "1")],
            ))
        }
        Err(AppError::BadRequest(why)) => Ok(edit_page(
            state,
            headers,
            app,
            shown,
            Some(Notice::Refused(why)),
            StatusCode::BAD_REQUEST,
        )
        .await),
        Err(e) => Err(e),
    }
}

async fn load(state: &AppState, name: &str) -> Result<App, AppError> {
    let unknown = || AppError::NotFound(format!("no app named '{}'", name.escape_debug()));
    let name = AppName::parse(name).map_err(|_| unknown())?;
    db::apps::get(&state.db, &name).await?.ok_or_else(unknown)
}

/// What the profile form shows: the app's values, or what was typed.
struct Shown<'a> {
    display_name: &'a str,
    summary: &'a str,
    manual: bool,
    /// The compose form's title, content and sexp box, as typed.
    title: &'a str,
    content: &'a str,
    sexp: bool,
}

impl<'a> Shown<'a> {
    /// The app as stored, and an empty compose form.
    fn of(app: &'a App) -> Shown<'a> {
        Shown {
            display_name: &app.display_name,
            summary: &app.summary,
            manual: app.manually_approves_followers,
            title: "",
            content: "",
            sexp: false,
        }
    }
}

enum Notice {
    Saved,
    Published(String),
    Refused(String),
}

async fn edit_page(
    state: &AppState,
    headers: &HeaderMap,
    app: &App,
    shown: &Shown<'_>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let (csrf, cookie) = session::csrf_token(state, headers);
    let actor = state.config.actor_id(&app.name);
    let has_header = matches!(
        db::media::info(&state.db, &app.name).await,
        Ok(media) if media.header.is_some()
    );
    let action = format!("/admin/apps/{}", app.name);
    let body = html! {
        p { a href="/admin/apps" { "← Member apps" } }
        h1 { (app.display_name) " " span.handle { (state.config.handle(&app.name)) } }
        @match &notice {
            Some(Notice::Saved) => { p role="status" { "Saved. Followers' servers are sent the new profile." } }
            Some(Notice::Published(id)) => {
                // The id comes from the query string: linked only when it is
                // one of this hub's posts.
                p role="status" { "Published. " @if id.starts_with(&state.config.url("/objects/")) { a href=(id) { "See the post" } } }
            }
            Some(Notice::Refused(why)) => { p role="alert" { strong { "Not saved: " } (why) } }
            None => {}
        }
        p { a href=(state.config.url(&format!("/@{}", app.name))) { "View the public profile" } }
        section aria-labelledby="profile" {
            h2 #profile { "Profile" }
            form method="post" action=(action) {
                (hidden_csrf(&csrf))
                p {
                    label for="display_name" { "Display name" } br;
                    input #display_name type="text" name="display_name" value=(shown.display_name) maxlength="100";
                }
                p {
                    label for="summary" { "Summary (plain text)" } br;
                    textarea #summary name="summary" rows="4" cols="60" maxlength="500" { (shown.summary) }
                }
                p {
                    input #manual type="checkbox" name="manually_approves_followers" checked[shown.manual];
                    " "
                    label for="manual" { "Approve new followers by hand" }
                }
                button type="submit" { "Save profile" }
            }
        }
        section aria-labelledby="compose" {
            h2 #compose { "Publish as " (app.display_name) }
            form method="post" action={ (action) "/posts" } {
                (hidden_csrf(&csrf))
                p {
                    label for="title" { "Title (makes it an article; optional)" } br;
                    input #title type="text" name="title" maxlength="300" value=(shown.title);
                }
                p {
                    label for="content" { "Content" } br;
                    textarea #content name="content" rows="5" cols="60" required { (shown.content) }
                }
                p {
                    input #sexp type="checkbox" name="sexp" checked[shown.sexp];
                    " " label for="sexp" { "The content is a sexp markup tree, e.g. " code { "(p \"Hello \" (em \"you\"))" } }
                }
                button type="submit" { "Publish" }
            }
        }
        section aria-labelledby="images" {
            h2 #images { "Images" }
            p { "PNG, JPEG, GIF or WebP, at most 2 MiB and 4096 pixels a side." }
            form method="post" action={ (action) "/images" } enctype="multipart/form-data" {
                (hidden_csrf(&csrf))
                fieldset {
                    legend { "Avatar" }
                    img.icon src={ (actor) "/avatar" } alt="Current avatar";
                    label for="avatar" { "New avatar" } " "
                    input #avatar type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp";
                    br;
                    input #remove_avatar type="checkbox" name="remove_avatar";
                    " " label for="remove_avatar" { "Use the generated avatar" }
                }
                fieldset {
                    legend { "Header" }
                    @if has_header {
                        img.header src={ (actor) "/header" } alt="Current header";
                    } @else {
                        p { "No header set." }
                    }
                    label for="header" { "New header" } " "
                    input #header type="file" name="header" accept="image/png,image/jpeg,image/gif,image/webp";
                    br;
                    input #remove_header type="checkbox" name="remove_header";
                    " " label for="remove_header" { "Remove the header" }
                }
                button type="submit" { "Save images" }
            }
        }
    };
    let mut response =
        (status, page(&format!("{} · admin", app.display_name), body)).into_response();
    session::with_cookie(response.headers_mut(), cookie);
    response
}

fn hidden_csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
