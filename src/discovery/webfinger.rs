//! `GET /.well-known/webfinger?resource=…` (RFC 7033).
//!
//! Resolves `acct:NAME@HOST` (and, as Mastodon does, an actor's own URL or
//! profile URL) to the actor. The instance actor answers to
//! `acct:DOMAIN@HOST` and to the hub's root URL (FEP-d556). Malformed input
//! is a 400, anything that is not an actor here a 404.

use activitypub_federation::fetch::webfinger::{Webfinger, WebfingerLink};
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use url::Url;

use crate::actors::AppName;
use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::http::negotiate::ACTIVITY_JSON;
use crate::instance::AppState;

/// Longest `resource` we look at; real ones are far shorter.
const MAX_RESOURCE: usize = 1024;

/// Who a resource names, before checking the database.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    App(AppName),
    Instance,
}

pub async fn webfinger(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (resource, rels) = parse_query(query.as_deref())?;
    let config = &state.config;
    let target = resolve(config, &resource)?;
    let mut doc = match target {
        Target::Instance => document(
            format!("acct:{}@{}", config.domain(), config.authority()),
            &config.instance_actor_id(),
            &config.url("/"),
        )?,
        Target::App(name) => {
            if db::apps::get(&state.db, &name).await?.is_none() {
                return Err(AppError::NotFound(format!(
                    "no account '{name}' on {}",
                    config.authority()
                )));
            }
            document(
                format!("acct:{name}@{}", config.authority()),
                &config.actor_id(&name),
                &config.url(&format!("/@{name}")),
            )?
        }
    };
    if !rels.is_empty() {
        doc.links
            .retain(|l| l.rel.as_ref().is_some_and(|r| rels.contains(r)));
    }
    // activitypub_federation's link type serialises absent members as
    // `null`; RFC 7033 omits them.
    let mut value = serde_json::to_value(&doc).map_err(AppError::internal)?;
    if let Some(links) = value.get_mut("links").and_then(|l| l.as_array_mut()) {
        for link in links.iter_mut().filter_map(|l| l.as_object_mut()) {
            link.retain(|_, v| !v.is_null());
        }
    }
    let mut response = Json(value).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json"),
    );
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

/// Splits the query into `resource` and any `rel` filters.
pub fn parse_query(query: Option<&str>) -> Result<(String, Vec<String>), AppError> {
    let mut resource = None;
    let mut rels = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "resource" if resource.is_none() => resource = Some(value.into_owned()),
            "resource" => {
                return Err(AppError::BadRequest(
                    "give exactly one resource parameter".into(),
                ))
            }
            "rel" => rels.push(value.into_owned()),
            _ => {}
        }
    }
    let resource = resource.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
        AppError::BadRequest(
            "missing resource parameter, e.g. ?resource=acct:blog@example.org".into(),
        )
    })?;
    if resource.len() > MAX_RESOURCE {
        return Err(AppError::BadRequest(format!(
            "resource is longer than {MAX_RESOURCE} bytes"
        )));
    }
    Ok((resource, rels))
}

/// Maps a resource to an actor of this hub, or says why it cannot.
pub fn resolve(config: &Config, resource: &str) -> Result<Target, AppError> {
    let resource = resource.trim();
    let not_here = || {
        AppError::NotFound(format!(
            "'{}' is not an account on {}",
            resource.escape_debug(),
            config.authority()
        ))
    };
    // Schemes are case-insensitive (RFC 3986 §3.1): `HTTPS://…` and
    // `ACCT:…` name what their lower-case forms do (found by the
    // webfinger_resource fuzz target).
    if has_prefix_ignore_case(resource, "http://") || has_prefix_ignore_case(resource, "https://") {
        let url = Url::parse(resource)
            .map_err(|e| AppError::BadRequest(format!("resource is not a valid URL: {e}")))?;
        let origin = url.origin().ascii_serialization();
        if origin != config.base() {
            return Err(not_here());
        }
        let path = url.path();
        if path == "/" || path == "/actor" {
            return Ok(Target::Instance);
        }
        let name = path
            .strip_prefix("/actors/")
            .or_else(|| path.strip_prefix("/@"))
            .ok_or_else(not_here)?;
        return AppName::parse(name)
            .map(Target::App)
            .map_err(|_| not_here());
    }

    let account = if has_prefix_ignore_case(resource, "acct:") {
        &resource["acct:".len()..]
    } else {
        resource
    };
    let account = account.strip_prefix('@').unwrap_or(account);
    let (user, host) = account.rsplit_once('@').ok_or_else(|| {
        AppError::BadRequest(format!(
            "resource '{}' is neither acct:NAME@HOST nor an http(s) URL",
            resource.escape_debug()
        ))
    })?;
    if user.is_empty() || host.is_empty() || user.contains('@') {
        return Err(AppError::BadRequest(format!(
            "resource '{}' is not of the form acct:NAME@HOST",
            resource.escape_debug()
        )));
    }
    if !host.eq_ignore_ascii_case(config.authority()) {
        return Err(not_here());
    }
    let user = user.to_ascii_lowercase();
    if user == config.domain() {
        return Ok(Target::Instance);
    }
    AppName::parse(&user)
        .map(Target::App)
        .map_err(|_| not_here())
}

fn has_prefix_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn document(subject: String, actor_id: &str, profile: &str) -> Result<Webfinger, AppError> {
    let actor = Url::parse(actor_id).map_err(AppError::internal)?;
    let profile = Url::parse(profile).map_err(AppError::internal)?;
    Ok(Webfinger {
        subject,
        aliases: vec![actor.clone(), profile.clone()],
        links: vec![
            WebfingerLink {
                rel: Some("self".into()),
                kind: Some(ACTIVITY_JSON.into()),
                href: Some(actor),
                ..Default::default()
            },
            WebfingerLink {
                rel: Some("http://webfinger.net/rel/profile-page".into()),
                kind: Some("text/html".into()),
                href: Some(profile),
                ..Default::default()
            },
        ],
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HubArgs;

    fn config() -> Config {
        Config::from_args(&HubArgs::with_public_url("https://coop.example")).unwrap()
    }

    fn app(n: &str) -> Target {
        Target::App(AppName::parse(n).unwrap())
    }

    #[test]
    fn resolves_accounts_and_urls() {
        let c = config();
        assert_eq!(resolve(&c, "acct:blog@coop.example").unwrap(), app("blog"));
        assert_eq!(resolve(&c, "acct:Blog@COOP.example").unwrap(), app("blog"));
        assert_eq!(resolve(&c, "@blog@coop.example").unwrap(), app("blog"));
        assert_eq!(
            resolve(&c, "https://coop.example/actors/blog").unwrap(),
            app("blog")
        );
        assert_eq!(
            resolve(&c, "https://coop.example/@blog").unwrap(),
            app("blog")
        );
        assert_eq!(
            resolve(&c, "acct:coop.example@coop.example").unwrap(),
            Target::Instance
        );
        assert_eq!(
            resolve(&c, "https://coop.example/").unwrap(),
            Target::Instance
        );
    }

    #[test]
    fn schemes_are_case_insensitive() {
        let c = config();
        for resource in [
            "ACCT:blog@coop.example",
            "Acct:blog@coop.example",
            "HTTPS://coop.example/actors/blog",
            "httPs://coop.example/@blog",
        ] {
            assert_eq!(resolve(&c, resource).unwrap(), app("blog"), "{resource}");
        }
        // A multi-byte character where the prefix would end is no prefix.
        assert!(resolve(&c, "acctü@coop.example").is_err());
    }

    #[test]
    fn malformed_is_400_foreign_is_404() {
        let c = config();
        for bad in [
            "acct:",
            "acct:blog",
            "blog",
            "acct:@coop.example",
            "acct:blog@",
            "acct:a@b@coop.example",
            "http://[::1",
        ] {
            assert!(
                matches!(resolve(&c, bad), Err(AppError::BadRequest(_))),
                "{bad}"
            );
        }
        for foreign in [
            "acct:blog@other.example",
            "https://other.example/actors/blog",
            "acct:no.such@coop.example",
            "https://coop.example/elsewhere",
            "http://coop.example/actors/blog",
        ] {
            assert!(
                matches!(resolve(&c, foreign), Err(AppError::NotFound(_))),
                "{foreign}"
            );
        }
    }

    #[test]
    fn query_parsing() {
        assert!(parse_query(None).is_err());
        assert!(parse_query(Some("resource=")).is_err());
        assert!(parse_query(Some("resource=a&resource=b")).is_err());
        let long = format!("resource={}", "a".repeat(MAX_RESOURCE + 1));
        assert!(parse_query(Some(&long)).is_err());
        let (r, rels) = parse_query(Some("resource=acct%3Ablog%40h&rel=self")).unwrap();
        assert_eq!(r, "acct:blog@h");
        assert_eq!(rels, vec!["self".to_string()]);
    }
}
