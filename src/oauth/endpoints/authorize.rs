//! `GET/POST /oauth/authorize`: the authorization code flow's front
//! channel.
//!
//! Order matters (RFC 6749 §4.1.2.1): until the client and its exact
//! redirect URI are known, every problem is a 400 page shown to the person
//! and never a redirect (or the endpoint becomes an open redirector). After
//! that, problems go back to the client as `error=` redirects with the
//! `state`. Then: sign in if there is no session, consent unless the client
//! is a first-party member app or the member allowed it these scopes
//! before ([`crate::oauth::consent`]), and a code back to the client.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use oxide_auth::primitives::scope::Scope;
use serde::{Deserialize, Serialize};
use url::Url;

use super::csrf_form::{CsrfForm, ProtectedForm};
use super::{error_page, oversized, redirect, sign_in_first};
use crate::db::{self, oauth::Client, users::Session};
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::consent::{self, Step};
use crate::oauth::error::Code;
use crate::oauth::{clients, grants, scopes, session};
use maud::html;

/// Mastodon's out-of-band redirect: the code is shown on a page.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    /// Set by the consent form only.
    #[serde(skip_serializing)]
    pub csrf: Option<String>,
    #[serde(skip_serializing)]
    pub decision: Option<String>,
}

impl AuthorizeParams {
    /// Every parameter, for the length check.
    pub fn values(&self) -> [&Option<String>; 11] {
        [
            &self.response_type,
            &self.client_id,
            &self.redirect_uri,
            &self.scope,
            &self.state,
            &self.code_challenge,
            &self.code_challenge_method,
            &self.nonce,
            &self.prompt,
            &self.csrf,
            &self.decision,
        ]
    }

    /// The query string that reproduces this request (for `next`).
    pub fn query(&self, without_prompt: bool) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let pairs = [
            ("response_type", &self.response_type),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("nonce", &self.nonce),
            ("prompt", if without_prompt { &None } else { &self.prompt }),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                out.append_pair(k, v);
            }
        }
        out.finish()
    }
}

/// A request whose client and redirect URI are established: from here on
/// errors go back to the client.
struct Checked {
    client: Client,
    redirect_uri: String,
    redirect_uri_given: bool,
    scope: Scope,
    pkce: Option<String>,
}

/// Client-side problems: a redirect back with `error=`.
struct Redirectable {
    code: &'static str,
    description: String,
}

enum Problem {
    /// Shown here; never redirected.
    Page(Response),
    Redirect(String, Redirectable),
}

async fn check(state: &AppState, p: &AuthorizeParams) -> Result<Checked, Problem> {
    if oversized(p.values()) {
        return Err(Problem::Page(error_page(
            StatusCode::BAD_REQUEST,
            "Request too large",
            "A parameter of this sign-in request is too long.",
        )));
    }
    let client_id = p.client_id.as_deref().unwrap_or_default();
    let client = match db::oauth::client(&state.db, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            tracing::info!(client_id = %client_id, "authorize: unknown client");
            return Err(Problem::Page(error_page(
                StatusCode::BAD_REQUEST,
                "Unknown application",
                "The application that sent you here is not registered with this hub.",
            )));
        }
        Err(e) => return Err(Problem::Page(e.into_response())),
    };
    let Some(redirect_uri) = clients::select_redirect_uri(&client, p.redirect_uri.as_deref())
    else {
        let given = p.redirect_uri.as_deref();
        tracing::warn!(client_id = %client.client_id, redirect_uri = ?given, "authorize: redirect_uri not registered");
        return Err(Problem::Page(error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect address",
            "The application asked to send you to an address it has not registered. \
             You have not been redirected.",
        )));
    };
    let fail = |code: &'static str, description: String| {
        Problem::Redirect(redirect_uri.clone(), Redirectable { code, description })
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(fail(
            Code::UnsupportedResponseType.as_str(),
            "only response_type=code is supported".into(),
        ));
    }
    let registered = scopes::parse(&client.scopes).map_err(|e| fail("server_error", e))?;
    let requested = p
        .scope
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(scopes::THIRD_PARTY_DEFAULT);
    let scope = scopes::parse(requested).map_err(|e| fail(Code::InvalidScope.as_str(), e))?;
    if !scopes::covers(&registered, &scope) {
        tracing::info!(client_id = %client.client_id, requested, registered = %client.scopes, "authorize: scope beyond registration");
        return Err(fail(
            Code::InvalidScope.as_str(),
            format!("this application may only ask for: {}", client.scopes),
        ));
    }
    let pkce = grants::pkce_challenge(
        &client,
        p.code_challenge_method.as_deref(),
        p.code_challenge.as_deref(),
    )
    .map_err(|e| fail(Code::InvalidRequest.as_str(), e))?;
    Ok(Checked {
        client,
        redirect_uri,
        redirect_uri_given: p.redirect_uri.is_some(),
        scope,
        pkce,
    })
}

/// The client's redirect URI with our answer appended (existing query
/// kept, RFC 6749 §3.1.2), plus `iss` (RFC 9207).
fn back_to_client(
    state: &AppState,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    st: Option<&str>,
) -> Response {
    let Some(location) = redirect_location(redirect_uri, pairs, st, state.config.base()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect address",
            "The registered redirect address cannot be used.",
        );
    };
    redirect(&location)
}

/// Where [`back_to_client`] sends the browser: `redirect_uri` with `pairs`,
/// `state` and `iss` appended to its query. `None` if it is not a URL.
pub fn redirect_location(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    st: Option<&str>,
    iss: &str,
) -> Option<String> {
    let mut url = Url::parse(redirect_uri).ok()?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = st {
            q.append_pair("state", s);
        }
        q.append_pair("iss", iss);
    }
    Some(url.into())
}

fn problem_response(state: &AppState, problem: Problem, st: Option<&str>) -> Response {
    match problem {
        Problem::Page(r) => r,
        Problem::Redirect(uri, _) if uri == OOB => error_page(
            StatusCode::BAD_REQUEST,
            "Authorization failed",
            "The application's request was invalid.",
        ),
        Problem::Redirect(uri, e) => back_to_client(
            state,
            &uri,
            &[("error", e.code), ("error_description", &e.description)],
            st,
        ),
    }
}

pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad authorization request",
            "The request's parameters could not be read (a parameter repeated or malformed).",
        );
    };
    let checked = match check(&state, &p).await {
        Ok(c) => c,
        Err(problem) => return problem_response(&state, problem, p.state.as_deref()),
    };
    let current = match session::current(&state, &headers).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let prompt = p.prompt.as_deref().unwrap_or_default();
    let session = match current {
        Some(s) if !prompt.split(' ').any(|x| x == "login") => s,
        _ if prompt.split(' ').any(|x| x == "none") => {
            return back_to_client(
                &state,
                &checked.redirect_uri,
                &[
                    ("error", "login_required"),
                    ("error_description", "the member is not signed in"),
                ],
                p.state.as_deref(),
            )
        }
        _ => {
            return sign_in_first(&format!("/oauth/authorize?{}", p.query(true)));
        }
    };
    let remembered = match consent::remembered(&state, &session.user_id, &checked.client).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match consent::step(
        checked.client.is_first_party(),
        prompt,
        remembered.as_deref(),
        &checked.scope,
    ) {
        Step::Grant => {
            if remembered.is_some() {
                tracing::info!(client_id = %checked.client.client_id, user_id = %session.user_id, scope = %checked.scope, "authorize: consent remembered; not asked again");
            }
            grant(&state, &checked, &session, &p).await
        }
        Step::Refuse => problem_response(
            &state,
            Problem::Redirect(
                checked.redirect_uri,
                Redirectable {
                    code: "consent_required",
                    description: "the member has not consented to this application".into(),
                },
            ),
            p.state.as_deref(),
        ),
        Step::Ask => consent_page(&state, &headers, &checked, &p),
    }
}

fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    c: &Checked,
    p: &AuthorizeParams,
) -> Response {
    let (csrf, cookie) = session::csrf_token(state, headers);
    let hidden: Vec<(String, String)> = url::form_urlencoded::parse(p.query(true).as_bytes())
        .into_owned()
        .collect();
    let name = &c.client.name;
    let body = html! {
        h1 { "Authorize " (name) "?" }
        @if let Some(website) = &c.client.website {
            p { "Website: " code { (website) } }
        }
        p { b { (name) } " asks to:" }
        ul {
            @for s in c.scope.iter() {
                li { (scopes::describe(s)) " " code { (s) } }
            }
        }
        p { "You will be sent back to " code { (c.redirect_uri) } "." }
        // Only a third party's consent is remembered (see `consent`).
        @if !c.client.is_first_party() {
            p {
                "You will not be asked again for these permissions. You can revoke the                  application's access at any time from your "
                a href=(super::authorized_apps::PATH) { "authorized apps" } "."
            }
        }
        form method="post" action="/oauth/authorize" {
            input type="hidden" name="csrf" value=(csrf);
            @for (k, v) in &hidden {
                input type="hidden" name=(k) value=(v);
            }
            button type="submit" name="decision" value="allow" { "Allow" }
            " "
            button type="submit" name="decision" value="deny" { "Deny" }
        }
    };
    let mut response = page("Authorize application", body);
    session::with_cookie(response.headers_mut(), cookie);
    response
}

async fn grant(state: &AppState, c: &Checked, session: &Session, p: &AuthorizeParams) -> Response {
    let nonce = p.nonce.clone().filter(|n| !n.is_empty());
    let approved = grants::Approved {
        client: &c.client,
        redirect_uri: &c.redirect_uri,
        redirect_uri_given: c.redirect_uri_given,
        scope: &c.scope,
        nonce,
        pkce: c.pkce.clone(),
    };
    let code = match grants::issue_code(state, session, approved).await {
        Ok(code) => code,
        Err(e) => return e.into_response(),
    };
    tracing::info!(client_id = %c.client.client_id, user_id = %session.user_id, scope = %c.scope, "authorize: code issued");
    if c.redirect_uri == OOB {
        return page(
            "Authorization code",
            html! {
                h1 { "Authorization code" }
                p { "Copy this code into " (c.client.name) ":" }
                p { code { (code) } }
            },
        );
    }
    back_to_client(
        state,
        &c.redirect_uri,
        &[("code", &code)],
        p.state.as_deref(),
    )
}

impl ProtectedForm for AuthorizeParams {
    const NAME: &'static str = "consent";
    const RETRY: &'static str = "Go back to the application and start again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The consent form's answer.
pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(p): CsrfForm<AuthorizeParams>,
) -> Response {
    let checked = match check(&state, &p).await {
        Ok(c) => c,
        Err(problem) => return problem_response(&state, problem, p.state.as_deref()),
    };
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error_page(
                StatusCode::UNAUTHORIZED,
                "Signed out",
                "Your session ended. Go back to the application and start again.",
            )
        }
        Err(e) => return e.into_response(),
    };
    match p.decision.as_deref() {
        Some("allow") => {
            if let Err(e) =
                consent::remember(&state, &session.user_id, &checked.client, &checked.scope).await
            {
                return e.into_response();
            }
            grant(&state, &checked, &session, &p).await
        }
        _ => {
            tracing::info!(client_id = %checked.client.client_id, user_id = %session.user_id, "authorize: member denied consent");
            if checked.redirect_uri == OOB {
                return error_page(
                    StatusCode::OK,
                    "Denied",
                    "You denied the application's request.",
                );
            }
            back_to_client(
                &state,
                &checked.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the member denied the request"),
                ],
                p.state.as_deref(),
            )
        }
    }
}
