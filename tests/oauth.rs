//! The authorization server end to end, with a cookie-keeping browser:
//! sign-in, consent, codes with PKCE, tokens, refresh rotation, userinfo,
//! id_tokens checked against the JWKS, revocation, introspection, SSO
//! across member apps, logout, and a table of bad inputs. Every test runs
//! on SQLite and on PostgreSQL.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::browser::{Browser, Page};
use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use rosefed::actors::AppName;
use serde_json::{json, Value};

on_both_databases!(
    browser_flow_with_pkce_refresh_userinfo_revoke_introspect,
    sso_across_member_apps_and_logout_ends_both,
    third_party_clients_register_and_get_a_consent_screen,
    pkce_challenge_survives_a_restart,
    bad_input_gets_rfc_answers_and_never_a_500,
    login_is_throttled_without_revealing_accounts,
    publishing_api_takes_client_credentials_bound_to_the_app,
    discovery_documents_describe_the_server,
    a_rotated_client_secret_works_at_once,
    concurrent_token_requests_are_each_stored_once,
    throttling_behind_a_trusted_proxy_counts_the_real_client,
    nul_in_any_text_input_is_a_400_never_a_5xx,
    a_code_presented_at_once_many_times_gives_no_usable_token,
    consent_is_remembered_for_the_same_or_fewer_scopes,
    authorized_apps_are_listed_and_revoking_one_ends_its_access,
);

const PASSWORD: &str = "correct horse battery";
const TUSKY_REDIRECT: &str = "http://127.0.0.1:9/tusky/callback";

fn redirect_for(app: &str) -> String {
    format!("http://127.0.0.1:9/{app}/callback")
}

/// A member `alice` and first-party clients for `blog` and `market`.
struct Fixture {
    app: TestApp,
    secrets: std::collections::HashMap<&'static str, String>,
}

async fn fixture(db: TestDatabase) -> Fixture {
    let app = TestApp::spawn(db).await;
    rosefed::oauth::users::add(
        &app.state.db,
        "alice",
        "alice@coop.example",
        PASSWORD,
        false,
    )
    .await
    .unwrap();
    let mut secrets = std::collections::HashMap::new();
    for name in ["blog", "market"] {
        let creds = rosefed::oauth::clients::register_app(
            &app.state.db,
            app.state.config.mode,
            &AppName::parse(name).unwrap(),
            &[redirect_for(name)],
        )
        .await
        .unwrap();
        assert_eq!(creds.client.client_id, name);
        secrets.insert(name, creds.secret.unwrap());
    }
    Fixture { app, secrets }
}

fn pkce() -> (String, String) {
    let verifier = rosefed::secrets::random_token("").unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

fn authorize_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.url(&format!("/oauth/authorize?{query}"))
}

fn standard_params<'a>(
    client: &'a str,
    redirect: &'a str,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Follows the authorize request through the login form; returns the
/// final redirect back to the client.
async fn sign_in_through(browser: &mut Browser, app: &TestApp, url: &str) -> Page {
    let first = browser.get(url).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let login = first.location.clone().unwrap();
    assert!(login.starts_with("/login?next="), "{login}");
    let form = browser.get(&app.url(&login)).await;
    assert_eq!(form.status, 200);
    let csrf = form.hidden("csrf").expect("login form has a CSRF token");
    let next = form.hidden("next").unwrap();
    assert!(next.starts_with("/oauth/authorize?"), "{next}");
    let signed_in = browser
        .post_form(
            &app.url("/login"),
            &[
                ("csrf", &csrf),
                ("next", &next),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location.as_deref(), Some(next.as_str()));
    let cookie = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("rosefed_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The authorize request again: a redirect with a code, or (for a
    // third party) the consent page.
    browser.get(&app.url(&next)).await
}

async fn token_request(
    app: &TestApp,
    client: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(client, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

/// Exchanges a code at the token endpoint, as a client does.
async fn redeem(
    app: &TestApp,
    client: &str,
    secret: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    token_request(
        app,
        client,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn introspect(app: &TestApp, client: &str, secret: &str, token: &str) -> Value {
    let r = app
        .client
        .post(app.url("/oauth/introspect"))
        .basic_auth(client, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Validates an id_token against the JWKS the server publishes.
async fn verify_id_token(app: &TestApp, id_token: &str, audience: &str) -> Value {
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the id_token's kid is in the JWKS");
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[app.base.as_str()]);
    jsonwebtoken::decode::<Value>(id_token, &decoding, &validation)
        .expect("id_token verifies against the JWKS")
        .claims
}

async fn browser_flow_with_pkce_refresh_userinfo_revoke_introspect(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let secret = &f.secrets["blog"];
    let redirect = redirect_for("blog");
    let (verifier, challenge) = pkce();
    let mut browser = Browser::new();
    let url = authorize_url(app, &standard_params("blog", &redirect, &challenge));
    let back = sign_in_through(&mut browser, app, &url).await;
    let location = back.location.clone().unwrap();
    assert!(location.starts_with(&redirect), "{location}");
    assert_eq!(back.location_param("state").as_deref(), Some("st-123"));
    assert_eq!(
        back.location_param("iss").as_deref(),
        Some(app.base.as_str())
    );
    // First party: no consent page, and the page forbids framing.
    assert_eq!(back.headers["x-frame-options"], "DENY");
    let code = back.location_param("code").unwrap();

    let (status, tokens, headers) = redeem(app, "blog", secret, &code, &redirect, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "email openid profile");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    // Stored hashed: the clear token appears nowhere in the database.
    let clear = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM oauth_tokens WHERE token_hash = '{access}'"
        ))
        .await;
    assert_eq!(clear, 0);

    let claims = verify_id_token(app, tokens["id_token"].as_str().unwrap(), "blog").await;
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["email"], "alice@coop.example");
    assert!(claims["auth_time"].as_i64().unwrap() > 1_700_000_000);
    let expected_at_hash = URL_SAFE_NO_PAD.encode(
        &aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes()).as_ref()[..16],
    );
    assert_eq!(claims["at_hash"], expected_at_hash.as_str());

    let info = app
        .client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@coop.example");

    let seen = introspect(app, "blog", secret, &access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["username"], "alice");
    assert_eq!(seen["client_id"], "blog");
    // Another member app (a resource server of the co-op) may introspect it.
    let by_market = introspect(app, "market", &f.secrets["market"], &access).await;
    assert_eq!(by_market["active"], true);

    // Refresh rotates: a new refresh token, and a narrower scope is allowed.
    let (status, renewed, _) = token_request(
        app,
        "blog",
        secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["scope"], "openid profile");
    let refresh2 = renewed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    let access2 = renewed["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        introspect(app, "blog", secret, &access2).await["active"],
        true
    );
    // The narrowing applies to the access token; the refresh token keeps
    // the grant's scope (RFC 6749 §6).
    assert_eq!(
        introspect(app, "blog", secret, &refresh2).await["scope"],
        "email openid profile"
    );

    // Revoking the access token ends it at once.
    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .basic_auth("blog", Some(secret))
        .form(&[("token", access2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        introspect(app, "blog", secret, &access2).await["active"],
        false
    );
    let after = app
        .client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert!(after.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));

    // Revoking the refresh token takes its family: the first access token too.
    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .basic_auth("blog", Some(secret))
        .form(&[
            ("token", refresh2.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        introspect(app, "blog", secret, &access).await["active"],
        false
    );
    let (status, body, _) = token_request(
        app,
        "blog",
        secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh2),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

async fn sso_across_member_apps_and_logout_ends_both(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let mut browser = Browser::new();
    let (v1, c1) = pkce();
    let blog_redirect = redirect_for("blog");
    let back = sign_in_through(
        &mut browser,
        app,
        &authorize_url(app, &standard_params("blog", &blog_redirect, &c1)),
    )
    .await;
    let blog_code = back.location_param("code").unwrap();

    // The second app: a code straight away, no login form.
    let (v2, c2) = pkce();
    let market_redirect = redirect_for("market");
    let market = browser
        .get(&authorize_url(
            app,
            &standard_params("market", &market_redirect, &c2),
        ))
        .await;
    assert_eq!(market.status, 303, "{}", market.body);
    let location = market.location.clone().unwrap();
    assert!(
        location.starts_with(&market_redirect),
        "no login form expected, got {location}"
    );
    let market_code = market.location_param("code").unwrap();

    let mut tokens = Vec::new();
    for (client, code, verifier, redirect) in [
        ("blog", &blog_code, &v1, &blog_redirect),
        ("market", &market_code, &v2, &market_redirect),
    ] {
        let (status, t, _) =
            redeem(app, client, &f.secrets[client], code, redirect, verifier).await;
        assert_eq!(status, 200, "{t}");
        tokens.push(t);
    }
    // Both id_tokens name the same member and the same SSO session.
    let blog_claims = verify_id_token(app, tokens[0]["id_token"].as_str().unwrap(), "blog").await;
    let market_claims =
        verify_id_token(app, tokens[1]["id_token"].as_str().unwrap(), "market").await;
    assert_eq!(blog_claims["sub"], market_claims["sub"]);
    assert_eq!(blog_claims["sid"], market_claims["sid"]);

    // A code issued under the session but not yet redeemed…
    let (pending_verifier, pending_challenge) = pkce();
    let pending = browser
        .get(&authorize_url(
            app,
            &standard_params("blog", &blog_redirect, &pending_challenge),
        ))
        .await
        .location_param("code")
        .unwrap();

    // Without an id_token_hint the member confirms, and a bare client_id
    // never makes the hub redirect anywhere.
    let unhinted = format!(
        "/oauth/logout?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "blog")
            .append_pair("post_logout_redirect_uri", &blog_redirect)
            .finish()
    );
    let confirm = browser.get(&app.url(&unhinted)).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.location.is_none());
    assert!(confirm.body.contains("Sign out?"));

    // RP-initiated logout from the blog, with its id_token as the hint:
    // immediate, and back to the registered address with the state.
    let logout_url = format!(
        "/oauth/logout?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", tokens[0]["id_token"].as_str().unwrap())
            .append_pair("post_logout_redirect_uri", &blog_redirect)
            .append_pair("state", "bye")
            .finish()
    );
    let out = browser.get(&app.url(&logout_url)).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some(format!("{blog_redirect}?state=bye").as_str())
    );

    // …is dead with the session.
    let (status, body, _) = redeem(
        app,
        "blog",
        &f.secrets["blog"],
        &pending,
        &blog_redirect,
        &pending_verifier,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Signed out, a bare client_id still redirects nowhere.
    let page = browser.get(&app.url(&unhinted)).await;
    assert_eq!(page.status, 200);
    assert!(page.location.is_none());

    // Both apps now send the member to the login form again…
    for (client, redirect) in [("blog", &blog_redirect), ("market", &market_redirect)] {
        let (_, c) = pkce();
        let again = browser
            .get(&authorize_url(app, &standard_params(client, redirect, &c)))
            .await;
        assert_eq!(again.status, 303);
        assert!(
            again.location.unwrap().starts_with("/login?next="),
            "{client}"
        );
    }
    // …and the tokens granted under the session are over.
    for (client, t) in [("blog", &tokens[0]), ("market", &tokens[1])] {
        let seen = introspect(
            app,
            client,
            &f.secrets[client],
            t["access_token"].as_str().unwrap(),
        )
        .await;
        assert_eq!(seen["active"], false, "{client}");
    }

    // Logout through the hub's own page works the same way (form + CSRF).
    let (_, c) = pkce();
    sign_in_through(
        &mut browser,
        app,
        &authorize_url(app, &standard_params("blog", &blog_redirect, &c)),
    )
    .await;
    let page = browser.get(&app.url("/logout")).await;
    let csrf = page.hidden("csrf").unwrap();
    let refused = browser.post_form(&app.url("/logout"), &[]).await;
    assert_eq!(refused.status, 403);
    let done = browser
        .post_form(&app.url("/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 200);
    assert!(browser.cookie("rosefed_session").is_none());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sessions").await, 0);
}

async fn register_mastodon_app(app: &TestApp, scopes: &str) -> (String, String) {
    register_named_app(app, "Tusky <script>", scopes).await
}

/// Registers a third-party client through `/api/v1/apps` with redirect URI
/// [`TUSKY_REDIRECT`]: (client_id, client_secret).
async fn register_named_app(app: &TestApp, name: &str, scopes: &str) -> (String, String) {
    let r = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", name),
            ("redirect_uris", TUSKY_REDIRECT),
            ("scopes", scopes),
            ("website", "https://tusky.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    (
        body["client_id"].as_str().unwrap().to_string(),
        body["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn third_party_clients_register_and_get_a_consent_screen(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let (client_id, secret) = register_mastodon_app(app, "read write").await;
    assert_eq!(client_id.len(), 32);
    let redirect = "http://127.0.0.1:9/tusky/callback";
    let mut browser = Browser::new();
    let params = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect),
        ("scope", "read write"),
        ("state", "s1"),
    ];
    // Sign in; instead of a code, a consent page listing the scopes.
    let page = sign_in_through(&mut browser, app, &authorize_url(app, &params)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Tusky &lt;script&gt;"),
        "name escaped: {}",
        page.body
    );
    assert!(page.body.contains("Read your account"));
    assert!(page.body.contains("Change your account"));
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let fields = page.hidden_fields();
    let mut form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    // Without the CSRF token: refused.
    let no_csrf: Vec<(&str, &str)> = form
        .iter()
        .copied()
        .filter(|(k, _)| *k != "csrf")
        .chain([("decision", "allow")])
        .collect();
    let refused = browser
        .post_form(&app.url("/oauth/authorize"), &no_csrf)
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.location.is_none());

    // Deny: back to the client with access_denied.
    let mut deny = form.clone();
    deny.push(("decision", "deny"));
    let denied = browser.post_form(&app.url("/oauth/authorize"), &deny).await;
    assert_eq!(denied.status, 303);
    assert_eq!(
        denied.location_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(denied.location_param("state").as_deref(), Some("s1"));

    form.push(("decision", "allow"));
    let allowed = browser.post_form(&app.url("/oauth/authorize"), &form).await;
    assert_eq!(allowed.status, 303, "{}", allowed.body);
    let code = allowed.location_param("code").unwrap();
    // A confidential third party may skip PKCE; the token carries its scopes.
    let (status, t, _) = token_request(
        app,
        &client_id,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["scope"], "read write");
    assert!(t.get("id_token").is_none());
    // A third party cannot introspect another client's token.
    let theirs = t["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(app, &client_id, &secret, theirs).await["active"],
        true
    );
    let (other, other_secret) = register_mastodon_app(app, "read").await;
    let peeked = introspect(app, &other, &other_secret, theirs).await;
    assert_eq!(peeked, json!({ "active": false }), "{peeked}");
    assert_eq!(
        introspect(app, &client_id, &secret, theirs).await["active"],
        true,
        "still active for its own client"
    );

    // RFC 7591: a public client (no secret) must use PKCE.
    let r = app
        .client
        .post(app.url("/oauth/register"))
        .json(&json!({
            "client_name": "Pocket SPA",
            "redirect_uris": ["http://127.0.0.1:9/spa/callback"],
            "token_endpoint_auth_method": "none",
            "scope": "openid profile read"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reg: Value = r.json().await.unwrap();
    assert!(reg.get("client_secret").is_none());
    let spa = reg["client_id"].as_str().unwrap().to_string();
    let spa_redirect = "http://127.0.0.1:9/spa/callback";
    let without_pkce = browser
        .get(&authorize_url(
            app,
            &[
                ("response_type", "code"),
                ("client_id", &spa),
                ("redirect_uri", spa_redirect),
                ("scope", "openid"),
                ("state", "x"),
            ],
        ))
        .await;
    assert_eq!(without_pkce.status, 303);
    assert_eq!(
        without_pkce.location_param("error").as_deref(),
        Some("invalid_request")
    );
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            app,
            &[
                ("response_type", "code"),
                ("client_id", &spa),
                ("redirect_uri", spa_redirect),
                ("scope", "openid profile"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("nonce", "spa-nonce"),
            ],
        ))
        .await;
    assert_eq!(page.status, 200, "consent for third parties");
    let mut form: Vec<(String, String)> = page.hidden_fields();
    form.push(("decision".into(), "allow".into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let allowed = browser.post_form(&app.url("/oauth/authorize"), &form).await;
    let code = allowed.location_param("code").unwrap();
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", spa_redirect),
            ("client_id", &spa),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let claims = verify_id_token(app, t["id_token"].as_str().unwrap(), &spa).await;
    assert_eq!(claims["nonce"], "spa-nonce");
    assert!(claims.get("email").is_none(), "email was not granted");

    // Bad registrations are refused with the RFC 7591 / Mastodon answers.
    for (body, error) in [
        (
            json!({"client_name": "x", "redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"client_name": "x", "redirect_uris": ["http://127.0.0.1:9/a"], "scope": "publish"}),
            "invalid_client_metadata",
        ),
        (
            json!({"client_name": "x", "redirect_uris": ["http://127.0.0.1:9/a"], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (json!({"client_name": "x"}), "invalid_redirect_uri"),
    ] {
        let r = app
            .client
            .post(app.url("/oauth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], error, "{body}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "x"),
            ("redirect_uris", "https://a.example/cb#frag"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

async fn pkce_challenge_survives_a_restart(db: TestDatabase) {
    let mut f = fixture(db).await;
    let secret = f.secrets["blog"].clone();
    let redirect = redirect_for("blog");
    let mut browser = Browser::new();
    let (_, challenge) = pkce();
    let back = sign_in_through(
        &mut browser,
        &f.app,
        &authorize_url(&f.app, &standard_params("blog", &redirect, &challenge)),
    )
    .await;
    let code = back.location_param("code").unwrap();
    f.app.restart().await;
    let (wrong_verifier, _) = pkce();
    let (status, body, _) =
        redeem(&f.app, "blog", &secret, &code, &redirect, &wrong_verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // And the right verifier works across a restart.
    let (verifier, challenge) = pkce();
    let back = browser
        .get(&authorize_url(
            &f.app,
            &standard_params("blog", &redirect, &challenge),
        ))
        .await;
    let code = back
        .location_param("code")
        .expect("the session survived the restart");
    f.app.restart().await;
    let (status, body, _) = redeem(&f.app, "blog", &secret, &code, &redirect, &verifier).await;
    assert_eq!(status, 200, "{body}");
}

/// A browser where alice has signed in through blog's authorization
/// request, with the PKCE pair it used: (browser, verifier, challenge).
async fn signed_in_for_blog(app: &TestApp) -> (Browser, String, String) {
    let mut browser = Browser::new();
    let (verifier, challenge) = pkce();
    let redirect = redirect_for("blog");
    let params = standard_params("blog", &redirect, &challenge);
    sign_in_through(&mut browser, app, &authorize_url(app, &params)).await;
    (browser, verifier, challenge)
}

/// A fresh code for `blog` through an already signed-in browser.
async fn fresh_code(browser: &mut Browser, app: &TestApp, challenge: &str) -> String {
    let redirect = redirect_for("blog");
    let back = browser
        .get(&authorize_url(
            app,
            &standard_params("blog", &redirect, challenge),
        ))
        .await;
    back.location_param("code")
        .unwrap_or_else(|| panic!("expected a code, got {:?} {}", back.location, back.body))
}

async fn bad_input_gets_rfc_answers_and_never_a_500(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let secret = f.secrets["blog"].as_str();
    let redirect = redirect_for("blog");
    let (mut browser, verifier, challenge) = signed_in_for_blog(app).await;

    // Front channel: problems before the redirect URI is trusted are pages,
    // never redirects.
    let long_state = "s".repeat(5000);
    let page_cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "unknown client",
            vec![
                ("response_type", "code"),
                ("client_id", "nobody"),
                ("redirect_uri", &redirect),
            ],
        ),
        (
            "unregistered redirect",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", "https://evil.example/cb"),
            ],
        ),
        (
            "redirect prefix",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                (
                    "redirect_uri",
                    "http://127.0.0.1:9/blog/callback/../../evil",
                ),
            ],
        ),
        (
            "redirect extension",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", "http://127.0.0.1:9/blog/callbackX"),
            ],
        ),
        (
            "redirect with extra query",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                (
                    "redirect_uri",
                    "http://127.0.0.1:9/blog/callback?next=https://evil.example",
                ),
            ],
        ),
        (
            "oversized state",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", &redirect),
                ("state", &long_state),
            ],
        ),
        (
            "repeated parameter",
            vec![("client_id", "blog"), ("client_id", "market")],
        ),
    ];
    for (what, params) in page_cases {
        let page = browser.get(&authorize_url(app, &params)).await;
        assert_eq!(page.status, 400, "{what}: {}", page.body);
        assert!(page.location.is_none(), "{what}: must not redirect");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
    }

    // Once client and redirect URI are known, errors go back to the client.
    let (_, c) = pkce();
    type RedirectCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let redirect_cases: Vec<RedirectCase> = vec![
        (
            "unknown scope",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", &redirect),
                ("scope", "openid admin"),
                ("state", "q"),
            ],
            "invalid_scope",
        ),
        (
            "token response type",
            vec![
                ("response_type", "token"),
                ("client_id", "blog"),
                ("redirect_uri", &redirect),
                ("state", "q"),
            ],
            "unsupported_response_type",
        ),
        (
            "plain PKCE",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", &redirect),
                ("scope", "openid"),
                ("code_challenge", &c),
                ("code_challenge_method", "plain"),
                ("state", "q"),
            ],
            "invalid_request",
        ),
        (
            "malformed challenge",
            vec![
                ("response_type", "code"),
                ("client_id", "blog"),
                ("redirect_uri", &redirect),
                ("scope", "openid"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
                ("state", "q"),
            ],
            "invalid_request",
        ),
    ];
    for (what, params, error) in redirect_cases {
        let page = browser.get(&authorize_url(app, &params)).await;
        assert_eq!(page.status, 303, "{what}: {}", page.body);
        assert!(
            page.location.as_deref().unwrap().starts_with(&redirect),
            "{what}"
        );
        assert_eq!(
            page.location_param("error").as_deref(),
            Some(error),
            "{what}"
        );
        assert_eq!(page.location_param("state").as_deref(), Some("q"), "{what}");
    }
    // Scope escalation by a third party registered for `read` only.
    let (tp, tp_secret) = register_mastodon_app(app, "read").await;
    let escalate = browser
        .get(&authorize_url(
            app,
            &[
                ("response_type", "code"),
                ("client_id", &tp),
                ("redirect_uri", "http://127.0.0.1:9/tusky/callback"),
                ("scope", "read write"),
            ],
        ))
        .await;
    assert_eq!(
        escalate.location_param("error").as_deref(),
        Some("invalid_scope")
    );

    // Back channel: a table of token requests and their RFC 6749 answers.
    let good_code = fresh_code(&mut browser, app, &challenge).await;
    let (status, first, _) = redeem(app, "blog", secret, &good_code, &redirect, &verifier).await;
    assert_eq!(status, 200);
    let first_access = first["access_token"].as_str().unwrap().to_string();
    let first_refresh = first["refresh_token"].as_str().unwrap().to_string();
    let (_, rotated, _) = token_request(
        app,
        "blog",
        secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    let rotated_access = rotated["access_token"].as_str().unwrap().to_string();

    let no_verifier_code = fresh_code(&mut browser, app, &challenge).await;
    let wrong_verifier_code = fresh_code(&mut browser, app, &challenge).await;
    let expired_code = fresh_code(&mut browser, app, &challenge).await;
    // A real code issued to blog, presented with market's credentials.
    let foreign_code = fresh_code(&mut browser, app, &challenge).await;
    let no_redirect_code = fresh_code(&mut browser, app, &challenge).await;
    let other_redirect_code = fresh_code(&mut browser, app, &challenge).await;
    let market_redirect = redirect_for("market");
    app.scalar(&format!(
        "UPDATE oauth_codes SET expires_at = 0 WHERE code_hash = '{}' RETURNING 1",
        rosefed::secrets::hash(&expired_code)
    ))
    .await;
    let huge = "x".repeat(3000);
    let wrong_verifier = pkce().0;
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "unknown client",
            "nobody",
            "x",
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            "wrong secret",
            "blog",
            "rfs_wrong",
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            "missing verifier",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &no_verifier_code),
                ("redirect_uri", &redirect),
            ],
            400,
            "invalid_grant",
        ),
        (
            "wrong verifier",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &wrong_verifier_code),
                ("redirect_uri", &redirect),
                ("code_verifier", &wrong_verifier),
            ],
            400,
            "invalid_grant",
        ),
        (
            "replayed code",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &good_code),
                ("redirect_uri", &redirect),
                ("code_verifier", &verifier),
            ],
            400,
            "invalid_grant",
        ),
        (
            "expired code",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &expired_code),
                ("redirect_uri", &redirect),
                ("code_verifier", &verifier),
            ],
            400,
            "invalid_grant",
        ),
        (
            "unknown code",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", "rfc_nothing"),
                ("redirect_uri", &redirect),
            ],
            400,
            "invalid_grant",
        ),
        (
            "another client's code",
            "market",
            &f.secrets["market"],
            vec![
                ("grant_type", "authorization_code"),
                ("code", &foreign_code),
                ("redirect_uri", &redirect),
                ("code_verifier", &verifier),
            ],
            400,
            "invalid_grant",
        ),
        (
            "refresh reuse",
            "blog",
            secret,
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &first_refresh),
            ],
            400,
            "invalid_grant",
        ),
        (
            "refresh widening",
            "blog",
            secret,
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &first_refresh),
                ("scope", "openid publish"),
            ],
            400,
            "invalid_scope",
        ),
        (
            "client credentials for a member's scope",
            "blog",
            secret,
            vec![("grant_type", "client_credentials"), ("scope", "openid")],
            400,
            "invalid_scope",
        ),
        (
            "third party client credentials beyond its scopes",
            &tp,
            &tp_secret,
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "read write"),
            ],
            400,
            "invalid_scope",
        ),
        (
            "redirect_uri missing though the request named it",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &no_redirect_code),
                ("code_verifier", &verifier),
            ],
            400,
            "invalid_request",
        ),
        (
            "redirect_uri differs from the authorization request's",
            "blog",
            secret,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &other_redirect_code),
                ("redirect_uri", &market_redirect),
                ("code_verifier", &verifier),
            ],
            400,
            "invalid_grant",
        ),
        (
            "unsupported grant",
            "blog",
            secret,
            vec![("grant_type", "password"), ("username", "alice")],
            400,
            "unsupported_grant_type",
        ),
        (
            "missing grant type",
            "blog",
            secret,
            vec![],
            400,
            "invalid_request",
        ),
        (
            "repeated parameter",
            "blog",
            secret,
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
        (
            "oversized parameter",
            "blog",
            secret,
            vec![("grant_type", "authorization_code"), ("code", &huge)],
            400,
            "invalid_request",
        ),
    ];
    for (what, client, secret, form, status, error) in cases {
        let (got, body, headers) = token_request(app, client, secret, &form).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{what}: {body}"
        );
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{what}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{what}");
        if what == "another client's code" {
            // Refused as someone else's code, not as an unknown one.
            assert!(
                body["error_description"]
                    .as_str()
                    .is_some_and(|d| d.contains("another client")),
                "{body}"
            );
        }
        if status == 401 {
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic"),
                "{what}"
            );
        }
    }
    // The replayed code revoked what it had issued; the reused refresh
    // token revoked its whole family.
    assert_eq!(
        introspect(app, "blog", secret, &first_access).await["active"],
        false
    );
    assert_eq!(
        introspect(app, "blog", secret, &rotated_access).await["active"],
        false
    );

    // A body over the limit, client secret by form and Basic at once, and
    // a form the wrong media type: all clear 4xx.
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth("blog", Some(secret))
        .body("a".repeat(100_000))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth("blog", Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // prompt=none: never a page, an error back to the client instead.
    let mut params = standard_params("blog", &redirect, &challenge);
    params.push(("prompt", "none"));
    let silent = Browser::new().get(&authorize_url(app, &params)).await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("login_required")
    );
    let tp_silent = browser
        .get(&authorize_url(
            app,
            &[
                ("response_type", "code"),
                ("client_id", &tp),
                ("redirect_uri", "http://127.0.0.1:9/tusky/callback"),
                ("scope", "read"),
                ("prompt", "none"),
            ],
        ))
        .await;
    assert_eq!(
        tp_silent.location_param("error").as_deref(),
        Some("consent_required")
    );

    // Login: missing CSRF, and open redirects through `next`.
    let mut stranger = Browser::new();
    let login = stranger.get(&app.url("/login")).await;
    let csrf = login.hidden("csrf").unwrap();
    let no_csrf = stranger
        .post_form(
            &app.url("/login"),
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(no_csrf.status, 403);
    let forged = stranger
        .post_form(
            &app.url("/login"),
            &[
                ("csrf", "forged-token-forged-token-forged-token-xxxx"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    for next in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = Browser::new();
        let login = b.get(&app.url("/login")).await;
        let csrf = login.hidden("csrf").unwrap();
        let done = b
            .post_form(
                &app.url("/login"),
                &[
                    ("csrf", &csrf),
                    ("next", next),
                    ("username", "alice"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{next}");
        assert_eq!(
            done.location.as_deref(),
            Some("/login"),
            "{next} must not leave the hub"
        );
    }
    let _ = csrf;
    // Nothing above produced a 500 or a 503, by the server's own request
    // counters (which did see the 400s and 401s).
    assert_eq!(app.state.metrics.responses_with_status(500), 0);
    assert_eq!(app.state.metrics.responses_with_status(503), 0);
    assert!(app.state.metrics.responses_with_status(400) > 20);
    assert!(app.state.metrics.responses_with_status(401) >= 3);
}

async fn attempt(app: &TestApp, browser: &mut Browser, user: &str, password: &str) -> Page {
    let url = app.url("/login");
    let form = browser.get(&url).await;
    let csrf = form.hidden("csrf").unwrap();
    browser
        .post_form(
            &url,
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await
}

/// The Prometheus text of the app's metrics listener.
async fn scrape_metrics(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = rosefed::http::metrics::router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    app.client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn login_is_throttled_without_revealing_accounts(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let mut browser = Browser::new();
    let unknown = attempt(app, &mut browser, "mallory", "whatever-password").await;
    let wrong = attempt(app, &mut browser, "alice", "wrong-password").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = |p: &Page| {
        p.body
            .split("role=\"alert\">")
            .nth(1)
            .map(|s| s.split("</p>").next().unwrap().to_string())
    };
    assert_eq!(
        message(&unknown),
        message(&wrong),
        "the same answer for unknown users and wrong passwords"
    );
    for _ in 0..4 {
        assert_eq!(
            attempt(app, &mut browser, "alice", "wrong-password")
                .await
                .status,
            401
        );
    }
    // The fifth failure reached the limit: even the right password waits.
    let locked = attempt(app, &mut browser, "alice", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 901, "{retry}");
    assert!(browser.cookie("rosefed_session").is_none());

    // Operators see it in the metrics.
    let scraped = scrape_metrics(app).await;
    assert!(
        scraped.contains("rosefed_oauth_events_total{event=\"login_failed\"} 6"),
        "{scraped}"
    );
    assert!(
        scraped.contains("rosefed_oauth_events_total{event=\"login_throttled\"} 1"),
        "{scraped}"
    );

    // A disabled member cannot sign in, with the same message.
    rosefed::oauth::users::add(&app.state.db, "bob", "bob@coop.example", PASSWORD, false)
        .await
        .unwrap();
    rosefed::oauth::users::disable(&app.state.db, "bob")
        .await
        .unwrap();
    let mut other = Browser::new();
    let form = other.get(&app.url("/login")).await;
    let csrf = form.hidden("csrf").unwrap();
    let disabled = other
        .post_form(
            &app.url("/login"),
            &[("csrf", &csrf), ("username", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(disabled.status, 401);
    assert_eq!(message(&disabled), message(&wrong));
}

async fn publishing_api_takes_client_credentials_bound_to_the_app(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let (status, t, headers) = token_request(
        app,
        "blog",
        &f.secrets["blog"],
        &[("grant_type", "client_credentials"), ("scope", "publish")],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["scope"], "publish");
    let token = t["access_token"].as_str().unwrap();
    let post = |path: &'static str, token: String| {
        let url = app.url(path);
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"content": "<p>hello from OAuth</p>"}))
                .send()
                .await
                .unwrap()
        }
    };
    let ok = post("/api/v1/apps/blog/posts", token.to_string()).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let other = post("/api/v1/apps/market/posts", token.to_string()).await;
    assert_eq!(other.status(), 403, "an app cannot publish as another app");

    let (_, read_only, _) = token_request(
        app,
        "blog",
        &f.secrets["blog"],
        &[("grant_type", "client_credentials"), ("scope", "read")],
    )
    .await;
    let no_scope = post(
        "/api/v1/apps/blog/posts",
        read_only["access_token"].as_str().unwrap().to_string(),
    )
    .await;
    assert_eq!(no_scope.status(), 403, "publish scope required");

    // Introspection says whom a client-credentials token acts as.
    let seen = introspect(app, "blog", &f.secrets["blog"], token).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["sub"], app.url("/actors/blog"));
    assert!(seen.get("username").is_none());

    // A third party registered through the Mastodon API gets an app-level
    // token (no member) for its registered scopes, as Mastodon gives one,
    // but never `publish`, and it cannot post.
    let (tp, tp_secret) = register_mastodon_app(app, "read follow").await;
    let (status, body, _) = token_request(
        app,
        &tp,
        &tp_secret,
        &[("grant_type", "client_credentials"), ("scope", "publish")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, tp_token, _) = token_request(
        app,
        &tp,
        &tp_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{tp_token}");
    assert_eq!(tp_token["scope"], "follow read");
    assert!(tp_token.get("refresh_token").is_none());
    let tp_access = tp_token["access_token"].as_str().unwrap().to_string();
    let seen = introspect(app, &tp, &tp_secret, &tp_access).await;
    assert_eq!(seen["active"], true);
    assert!(seen.get("username").is_none(), "no member: {seen}");
    assert_eq!(
        post("/api/v1/apps/blog/posts", tp_access).await.status(),
        403,
        "a third party's token does not publish"
    );
    let (status, read_only, _) = token_request(
        app,
        &tp,
        &tp_secret,
        &[("grant_type", "client_credentials"), ("scope", "read")],
    )
    .await;
    assert_eq!((status, read_only["scope"].as_str()), (200, Some("read")));

    // A member's token from the blog's own client has publish (first
    // party), yet it cannot post as the app: only client credentials can.
    let mut browser = Browser::new();
    let (verifier, challenge) = pkce();
    let redirect = redirect_for("blog");
    let mut params = standard_params("blog", &redirect, &challenge);
    params[3] = ("scope", "openid publish");
    let back = sign_in_through(&mut browser, app, &authorize_url(app, &params)).await;
    let code = back.location_param("code").unwrap();
    let (status, member, _) =
        redeem(app, "blog", &f.secrets["blog"], &code, &redirect, &verifier).await;
    assert_eq!(status, 200, "{member}");
    let as_member = post(
        "/api/v1/apps/blog/posts",
        member["access_token"].as_str().unwrap().to_string(),
    )
    .await;
    assert_eq!(as_member.status(), 403);
}

async fn discovery_documents_describe_the_server(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let meta: Value = app.get(path).await.json().await.unwrap();
        assert_eq!(meta["issuer"], app.base.as_str());
        assert_eq!(meta["authorization_endpoint"], app.url("/oauth/authorize"));
        assert_eq!(meta["token_endpoint"], app.url("/oauth/token"));
        assert_eq!(meta["jwks_uri"], app.url("/.well-known/jwks.json"));
        assert_eq!(meta["end_session_endpoint"], app.url("/oauth/logout"));
        assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
        assert!(meta["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "publish"));
    }
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key.get("d").is_none(), "never the private part");
    // The key is stable across restarts.
    let mut app = f.app;
    let kid = key["kid"].clone();
    app.restart().await;
    let again: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["keys"][0]["kid"], kid);
}

async fn a_rotated_client_secret_works_at_once(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let form = [("grant_type", "client_credentials"), ("scope", "publish")];
    // The first request puts the client in the process's cache…
    let (status, _, _) = token_request(app, "blog", &f.secrets["blog"], &form).await;
    assert_eq!(status, 200);
    // …and re-registering gives a new secret, accepted at once.
    let creds = rosefed::oauth::clients::register_app(
        &app.state.db,
        app.state.config.mode,
        &AppName::parse("blog").unwrap(),
        &[redirect_for("blog")],
    )
    .await
    .unwrap();
    let fresh = creds.secret.unwrap();
    let (status, body, _) = token_request(app, "blog", &fresh, &form).await;
    assert_eq!(status, 200, "{body}");
    // Once re-read, the old secret is refused.
    let (status, body, _) = token_request(app, "blog", &f.secrets["blog"], &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

/// Client-credentials tokens are committed in groups: under concurrent
/// requests every answered token must be stored (and only those).
async fn concurrent_token_requests_are_each_stored_once(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let secret = f.secrets["blog"].clone();
    let requests = (0..60).map(|_| {
        let client = app.client.clone();
        let url = app.url("/oauth/token");
        let secret = secret.clone();
        async move {
            let r = client
                .post(url)
                .basic_auth("blog", Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "publish")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            body["access_token"].as_str().unwrap().to_string()
        }
    });
    let tokens = futures_join_all(requests).await;
    let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 60);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM oauth_tokens WHERE kind = 'access'")
            .await,
        60
    );
    for t in &tokens {
        let stored = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM oauth_tokens WHERE token_hash = '{}'",
                rosefed::secrets::hash(t)
            ))
            .await;
        assert_eq!(stored, 1);
    }
    // A batch larger than one multi-row INSERT is stored whole.
    let rows: Vec<rosefed::db::oauth::NewToken> = (0..130)
        .map(|i| rosefed::db::oauth::NewToken {
            token_hash: rosefed::secrets::hash(&format!("batch-{i}")),
            kind: "access",
            client_id: "blog".into(),
            user_id: None,
            scope: "publish".into(),
            family_id: format!("family-{i}"),
            session_hash: None,
            auth_time: None,
            expires_at: i64::MAX / 2,
        })
        .collect();
    rosefed::db::oauth::insert_tokens(&app.state.db, &rows)
        .await
        .unwrap();
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM oauth_tokens WHERE family_id LIKE 'family-%'")
            .await,
        130
    );
}

/// Runs the futures concurrently on the runtime and collects their outputs
/// in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Failed sign-ins from `ip` (as a proxy reports it) for fresh names, then
/// the status of one more attempt from `then_from`.
async fn failures_then(app: &TestApp, ip: &str, then_from: &str) -> u16 {
    let mut browser = Browser::new();
    let url = app.url("/login");
    for i in 0..3 {
        let form = browser.get(&url).await;
        let csrf = form.hidden("csrf").unwrap();
        let name = format!("nobody{i}");
        let page = browser
            .post_form_via(
                &url,
                &[
                    ("csrf", &csrf),
                    ("username", &name),
                    ("password", "wrong-password"),
                ],
                Some(ip),
            )
            .await;
        assert_eq!(page.status, 401);
    }
    let form = browser.get(&url).await;
    let csrf = form.hidden("csrf").unwrap();
    browser
        .post_form_via(
            &url,
            &[
                ("csrf", &csrf),
                ("username", "someone"),
                ("password", "wrong-password"),
            ],
            Some(then_from),
        )
        .await
        .status
        .as_u16()
}

async fn throttling_behind_a_trusted_proxy_counts_the_real_client(db: TestDatabase) {
    // This test's client is the "proxy" at 127.0.0.1.
    let app = TestApp::spawn_with(db, |args| {
        args.oauth.login_max_failures_per_ip = 3;
        args.oauth.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    // The proxy's word is taken: one client's failures do not lock another.
    assert_eq!(failures_then(&app, "203.0.113.1", "203.0.113.2").await, 401);
    assert_eq!(failures_then(&app, "203.0.113.3", "203.0.113.3").await, 429);
    // A forged entry left of the proxy's own is ignored.
    assert_eq!(
        failures_then(&app, "203.0.113.4", "203.0.113.9, 203.0.113.4").await,
        429
    );
}

/// NUL cannot be stored (PostgreSQL refuses it in text), so every text
/// input refuses it up front as bad input: in a query, a form, a JSON body
/// or a path, signed in or not. Nothing here may answer 500 or 503.
async fn nul_in_any_text_input_is_a_400_never_a_5xx(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let mut browser = Browser::new();
    let redirect = redirect_for("blog");
    let (_, challenge) = pkce();

    let mut statuses = Vec::new();
    // Query strings: the authorize endpoint, before and after the client.
    for params in [
        vec![
            ("response_type", "code"),
            ("client_id", "bl\0og"),
            ("redirect_uri", redirect.as_str()),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", "blog"),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid"),
            ("nonce", "n\0once"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    ] {
        let page = browser.get(&authorize_url(app, &params)).await;
        statuses.push(("authorize", page.status.as_u16()));
    }
    // Forms: the token endpoint and the login page.
    let (status, _, _) = token_request(
        app,
        "bl\0og",
        "secret",
        &[("grant_type", "client_credentials")],
    )
    .await;
    statuses.push(("token client_id", status));
    let login = browser.get(&app.url("/login")).await;
    let csrf = login.hidden("csrf").unwrap_or_default();
    let page = browser
        .post_form(
            &app.url("/login"),
            &[
                ("csrf", &csrf),
                ("username", "al\0ice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    statuses.push(("login", page.status.as_u16()));
    // Registration, as a form and as JSON.
    let r = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Tu\0sky"),
            ("redirect_uris", "http://127.0.0.1:9/cb"),
        ])
        .send()
        .await
        .unwrap();
    statuses.push(("register form", r.status().as_u16()));
    let r = app
        .client
        .post(app.url("/api/v1/apps"))
        .json(&json!({"client_name": "Tu\u{0}sky", "redirect_uris": "http://127.0.0.1:9/cb"}))
        .send()
        .await
        .unwrap();
    statuses.push(("register json", r.status().as_u16()));
    // Paths and a public lookup.
    for path in [
        "/actors/bl%00og",
        "/@bl%00og",
        "/.well-known/webfinger?resource=acct:bl%00og@127.0.0.1",
        "/api/v1/objects?id=https://x.example/%00",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        statuses.push((path, r.status().as_u16()));
    }
    for (what, status) in &statuses {
        assert_eq!(*status, 400, "{what}");
    }
    for status in [500, 502, 503] {
        assert_eq!(
            app.state.metrics.responses_with_status(status),
            0,
            "{status} answered to one of {statuses:?}"
        );
    }
    // Should a NUL still reach PostgreSQL, its refusal is bad input, not a
    // busy database (SQLSTATE 22021 is not SQLite's code 5).
    if app.db.backend == federation_tests::database::Backend::Postgres {
        let e = sqlx::query("SELECT CAST($1 AS TEXT)")
            .bind("a\0b")
            .execute(app.state.db.pool())
            .await
            .unwrap_err();
        let mapped = rosefed::error::AppError::from(e);
        assert!(
            matches!(mapped, rosefed::error::AppError::BadRequest(_)),
            "{mapped:?}"
        );
    }
}

/// Eight redemptions of one code at the same moment: never two tokens, and
/// since all but one are replays, nothing issued from the code stays
/// usable.
async fn a_code_presented_at_once_many_times_gives_no_usable_token(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    let secret = f.secrets["blog"].clone();
    let redirect = redirect_for("blog");
    let (mut browser, verifier, challenge) = signed_in_for_blog(app).await;
    let code = fresh_code(&mut browser, app, &challenge).await;
    let attempts = (0..8).map(|_| {
        let client = app.client.clone();
        let url = app.url("/oauth/token");
        let form = [
            ("grant_type", "authorization_code".to_string()),
            ("code", code.clone()),
            ("redirect_uri", redirect.clone()),
            ("code_verifier", verifier.clone()),
        ];
        let secret = secret.clone();
        async move {
            let r = client
                .post(url)
                .basic_auth("blog", Some(secret))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or_default())
        }
    });
    let results = futures_join_all(attempts).await;
    let issued: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert!(issued.len() <= 1, "two tokens for one code: {results:?}");
    for (status, body) in &results {
        if *status != 200 {
            assert_eq!(
                (*status, body["error"].as_str()),
                (400, Some("invalid_grant"))
            );
        }
    }
    // The other presentations are replays, and a replayed code revokes
    // what it issued (RFC 6749 §4.1.2): nothing from it stays usable.
    for body in issued {
        let token = body["access_token"].as_str().unwrap_or_default();
        let seen = introspect(app, "blog", &secret, token).await;
        assert_eq!(seen["active"], false, "{seen}");
    }
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM oauth_tokens WHERE revoked_at IS NULL AND user_id IS NOT NULL"
        )
        .await,
        0
    );
}

/// A browser signed in as `username` at `/login` itself, as a member does
/// before going to their account pages.
async fn signed_in_as(app: &TestApp, username: &str) -> Browser {
    let mut browser = Browser::new();
    let form = browser.get(&app.url("/login")).await;
    let csrf = form.hidden("csrf").expect("login form has a CSRF token");
    let done = browser
        .post_form(
            &app.url("/login"),
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    browser
}

/// A third party's authorization request for `scope` (plus `extra`
/// parameters) through a signed-in browser.
async fn authorize_third_party(
    browser: &mut Browser,
    app: &TestApp,
    client_id: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Page {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", TUSKY_REDIRECT),
        ("scope", scope),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    browser.get(&authorize_url(app, &params)).await
}

/// Answers a consent page with `decision` ("allow" or "deny").
async fn answer_consent(browser: &mut Browser, app: &TestApp, page: &Page, decision: &str) -> Page {
    assert_eq!(
        page.status, 200,
        "a consent page: {:?} {}",
        page.location, page.body
    );
    assert!(page.body.contains("Authorize "), "{}", page.body);
    let mut form = page.hidden_fields();
    form.push(("decision".into(), decision.into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post_form(&app.url("/oauth/authorize"), &form).await
}

/// The code of a redirect back to the client, failing with what came
/// instead.
fn code_of(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    page.location_param("code")
        .unwrap_or_else(|| panic!("expected a code, got {:?} {}", page.location, page.body))
}

async fn consent_is_remembered_for_the_same_or_fewer_scopes(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    rosefed::oauth::users::add(&app.state.db, "bob", "bob@coop.example", PASSWORD, false)
        .await
        .unwrap();
    let (client_id, secret) = register_mastodon_app(app, "read write follow").await;
    let mut alice = signed_in_as(app, "alice").await;

    // Before any consent: prompt=none cannot skip the page.
    let silent =
        authorize_third_party(&mut alice, app, &client_id, "read", &[("prompt", "none")]).await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("consent_required"),
        "{:?}",
        silent.location
    );
    // Denying is not remembered.
    let page = authorize_third_party(&mut alice, app, &client_id, "read write", &[]).await;
    let denied = answer_consent(&mut alice, app, &page, "deny").await;
    assert_eq!(
        denied.location_param("error").as_deref(),
        Some("access_denied")
    );
    let silent =
        authorize_third_party(&mut alice, app, &client_id, "read", &[("prompt", "none")]).await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("consent_required"),
        "a denial is not remembered"
    );
    let page = authorize_third_party(&mut alice, app, &client_id, "read write", &[]).await;
    assert_eq!(page.status, 200, "asked again after a denial");
    let allowed = answer_consent(&mut alice, app, &page, "allow").await;
    code_of(&allowed);

    // The same scopes, in any order, or fewer: a code at once, no page.
    for scope in ["read write", "write read", "read", "write"] {
        let back = authorize_third_party(&mut alice, app, &client_id, scope, &[]).await;
        let code = code_of(&back);
        assert_eq!(back.location_param("state").as_deref(), Some("st"));
        if scope == "read" {
            // The code carries what was asked for now, not all remembered.
            let (status, t, _) = token_request(
                app,
                &client_id,
                &secret,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", TUSKY_REDIRECT),
                ],
            )
            .await;
            assert_eq!((status, t["scope"].as_str()), (200, Some("read")), "{t}");
        }
    }
    // prompt=none now succeeds.
    let silent =
        authorize_third_party(&mut alice, app, &client_id, "read", &[("prompt", "none")]).await;
    code_of(&silent);

    // prompt=consent asks anyway; allowing fewer scopes keeps the rest.
    let page = authorize_third_party(
        &mut alice,
        app,
        &client_id,
        "read",
        &[("prompt", "consent")],
    )
    .await;
    assert_eq!(page.status, 200, "prompt=consent shows the page");
    code_of(&answer_consent(&mut alice, app, &page, "allow").await);
    assert_eq!(
        app.text("SELECT scopes FROM oauth_consents")
            .await
            .as_deref(),
        Some("read write")
    );

    // More scopes than allowed: asked again, and a denial changes nothing.
    let more = authorize_third_party(&mut alice, app, &client_id, "read follow", &[]).await;
    assert_eq!(more.status, 200, "a new scope asks again");
    assert!(more.body.contains("Follow and unfollow"), "{}", more.body);
    assert!(
        more.body
            .contains("href=\"/oauth/authorized_applications\""),
        "the page says where to revoke: {}",
        more.body
    );
    let silent = authorize_third_party(
        &mut alice,
        app,
        &client_id,
        "read follow",
        &[("prompt", "none")],
    )
    .await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("consent_required")
    );
    answer_consent(&mut alice, app, &more, "deny").await;
    assert_eq!(
        app.text("SELECT scopes FROM oauth_consents")
            .await
            .as_deref(),
        Some("read write")
    );
    // Allowing them remembers the union.
    let more = authorize_third_party(&mut alice, app, &client_id, "read follow", &[]).await;
    code_of(&answer_consent(&mut alice, app, &more, "allow").await);
    assert_eq!(
        app.text("SELECT scopes FROM oauth_consents")
            .await
            .as_deref(),
        Some("follow read write")
    );
    let back = authorize_third_party(&mut alice, app, &client_id, "follow write read", &[]).await;
    code_of(&back);

    // Consent is the member's own: bob is asked.
    let mut bob = signed_in_as(app, "bob").await;
    let page = authorize_third_party(&mut bob, app, &client_id, "read", &[]).await;
    assert_eq!(
        page.status, 200,
        "another member is asked: {:?}",
        page.location
    );

    // First-party member apps are never asked and nothing is remembered.
    let (_, challenge) = pkce();
    let back = alice
        .get(&authorize_url(
            app,
            &standard_params("blog", &redirect_for("blog"), &challenge),
        ))
        .await;
    code_of(&back);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM oauth_consents").await, 1);
}

async fn authorized_apps_are_listed_and_revoking_one_ends_its_access(db: TestDatabase) {
    let f = fixture(db).await;
    let app = &f.app;
    rosefed::oauth::users::add(&app.state.db, "bob", "bob@coop.example", PASSWORD, false)
        .await
        .unwrap();
    let (tusky, tusky_secret) = register_mastodon_app(app, "read write").await;
    let (bobs_app, _) = register_named_app(app, "Bob's reader", "read").await;
    let (never, _) = register_named_app(app, "Never allowed", "read").await;

    // Not signed in: to the login form, and back here afterwards.
    let mut stranger = Browser::new();
    let r = stranger
        .get(&app.url("/oauth/authorized_applications"))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?next=%2Foauth%2Fauthorized_applications")
    );

    // alice allows Tusky and gets tokens; bob allows his reader.
    let mut alice = signed_in_as(app, "alice").await;
    let landing = alice.get(&app.url("/login")).await;
    assert!(
        landing
            .body
            .contains("href=\"/oauth/authorized_applications\""),
        "the signed-in page links the list: {}",
        landing.body
    );
    let page = authorize_third_party(&mut alice, app, &tusky, "read write", &[]).await;
    let code = code_of(&answer_consent(&mut alice, app, &page, "allow").await);
    let (status, tokens, _) = token_request(
        app,
        &tusky,
        &tusky_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", TUSKY_REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        introspect(app, &tusky, &tusky_secret, &access).await["active"],
        true
    );
    // A code issued under the remembered consent, not yet redeemed.
    let pending = code_of(&authorize_third_party(&mut alice, app, &tusky, "read", &[]).await);
    // And a first-party app, which is not listed.
    let (_, challenge) = pkce();
    code_of(
        &alice
            .get(&authorize_url(
                app,
                &standard_params("blog", &redirect_for("blog"), &challenge),
            ))
            .await,
    );
    let mut bob = signed_in_as(app, "bob").await;
    let page = authorize_third_party(&mut bob, app, &bobs_app, "read", &[]).await;
    code_of(&answer_consent(&mut bob, app, &page, "allow").await);

    // alice's list: Tusky, its name escaped, its permissions; nothing of
    // bob's, no member app.
    let list = alice.get(&app.url("/oauth/authorized_applications")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Tusky &lt;script&gt;"), "{}", list.body);
    assert!(!list.body.contains("Tusky <script>"), "{}", list.body);
    assert!(list.body.contains("Read your account"), "{}", list.body);
    assert!(list.body.contains("Change your account"), "{}", list.body);
    assert!(list.body.contains("Revoke access"), "{}", list.body);
    assert!(!list.body.contains("Bob"), "{}", list.body);
    let listed: Vec<String> = list
        .hidden_fields()
        .into_iter()
        .filter(|(k, _)| k == "client_id")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(listed, vec![tusky.clone()]);
    assert_eq!(
        list.headers["x-frame-options"], "DENY",
        "a page with buttons is never framed"
    );
    let csrf = list.hidden("csrf").unwrap();
    let bob_list = bob.get(&app.url("/oauth/authorized_applications")).await;
    assert!(bob_list.body.contains("Bob's reader"), "{}", bob_list.body);
    assert!(!bob_list.body.contains("Tusky"), "{}", bob_list.body);

    // Without a valid CSRF token nothing happens.
    let revoke_url = app.url("/oauth/authorized_applications/revoke");
    for form in [
        vec![("client_id", tusky.as_str())],
        vec![
            ("csrf", "forged-token-forged-token-forged-token-xxxx"),
            ("client_id", tusky.as_str()),
        ],
    ] {
        let refused = alice.post_form(&revoke_url, &form).await;
        assert_eq!(refused.status, 403, "{form:?}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM oauth_consents").await, 2);
    assert_eq!(
        introspect(app, &tusky, &tusky_secret, &access).await["active"],
        true
    );
    // An app alice never authorized, bob's, or none at all: 404, no change.
    for client_id in [never.as_str(), bobs_app.as_str(), "no-such-client"] {
        let r = alice
            .post_form(&revoke_url, &[("csrf", &csrf), ("client_id", client_id)])
            .await;
        assert_eq!(r.status, 404, "{client_id}: {}", r.body);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM oauth_consents").await, 2);
    // A stranger's browser (no session, no CSRF cookie) changes nothing.
    let r = stranger
        .post_form(&revoke_url, &[("csrf", &csrf), ("client_id", &tusky)])
        .await;
    assert_eq!(r.status, 403, "a stranger has no CSRF cookie");

    // Revoking: back to the list, which no longer shows Tusky.
    let done = alice
        .post_form(&revoke_url, &[("csrf", &csrf), ("client_id", &tusky)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/oauth/authorized_applications")
    );
    let list = alice.get(&app.url("/oauth/authorized_applications")).await;
    assert!(!list.body.contains("Tusky"), "{}", list.body);
    assert!(list
        .body
        .contains("You have not authorized any application"));
    // The access token (cached as active a moment ago) is inactive, the
    // refresh token and the pending code are refused.
    assert_eq!(
        introspect(app, &tusky, &tusky_secret, &access).await["active"],
        false
    );
    let (status, body, _) = token_request(
        app,
        &tusky,
        &tusky_secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body, _) = token_request(
        app,
        &tusky,
        &tusky_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &pending),
            ("redirect_uri", TUSKY_REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Revoking again finds nothing.
    let again = alice
        .post_form(&revoke_url, &[("csrf", &csrf), ("client_id", &tusky)])
        .await;
    assert_eq!(again.status, 404);
    // The next authorization asks again; bob's grant and alice's member
    // app are untouched.
    let page = authorize_third_party(&mut alice, app, &tusky, "read", &[]).await;
    assert_eq!(page.status, 200, "asked again: {:?}", page.location);
    let silent =
        authorize_third_party(&mut alice, app, &tusky, "read", &[("prompt", "none")]).await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("consent_required")
    );
    code_of(&authorize_third_party(&mut bob, app, &bobs_app, "read", &[]).await);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM oauth_tokens WHERE client_id = '{tusky}' AND revoked_at IS NULL"
        ))
        .await,
        0
    );
}
