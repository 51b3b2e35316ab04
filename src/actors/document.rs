//! The documents of our actors, filled in from the configuration, the
//! apps and the instance keypair; their AS2 shape is
//! [`crate::formats::actor`]'s.

use serde_json::Value;

use crate::actors::media::AppMedia;
use crate::actors::{avatar, App};
use crate::config::Config;
use crate::error::AppError;
use crate::formats::actor::{self, ActorFields};
use crate::http::html::escape;
use crate::keys::InstanceKeys;

/// An app's virtual actor. `icon` is its avatar (the operator's, else the
/// generated PNG), `image` its header when one is set. Their URLs carry a
/// version (`?v=`), since Mastodon downloads a remote avatar or header
/// again only when its URL changes; the routes ignore it.
pub fn app_actor(
    config: &Config,
    keys: &InstanceKeys,
    app: &App,
    media: &AppMedia,
) -> Result<Value, AppError> {
    let id = config.actor_id(&app.name);
    let (icon_type, icon) = match &media.avatar {
        Some(set) => (
            set.media_type.as_str(),
            format!("{id}/avatar?v={}", set.updated_at),
        ),
        None => (
            "image/png",
            format!("{id}/avatar?v={}", avatar::generated_version(app)),
        ),
    };
    let header = media.header.as_ref().map(|set| {
        (
            set.media_type.as_str(),
            format!("{id}/header?v={}", set.updated_at),
        )
    });
    Ok(actor::render(&ActorFields {
        id: &id,
        kind: "Service",
        preferred_username: app.name.as_str(),
        name: &app.display_name,
        summary_html: &summary_html(&app.summary),
        url: &config.url(&format!("/@{}", app.name)),
        icon: Some((icon_type, &icon)),
        image: header.as_ref().map(|(t, url)| (*t, url.as_str())),
        follow_collections: true,
        shared_inbox: &config.url("/inbox"),
        manually_approves_followers: app.manually_approves_followers,
        discoverable: true,
        published: app.created_at,
        rsa_public_pem: keys.rsa_public_pem(),
        ed25519_multibase: &keys.ed25519_multibase(),
        accepts_sexp: !config.federation.no_sexp,
    })?)
}

/// The instance actor: signs fetches and instance-level activities.
pub fn instance_actor(config: &Config, keys: &InstanceKeys) -> Result<Value, AppError> {
    let id = config.instance_actor_id();
    Ok(actor::render(&ActorFields {
        id: &id,
        kind: "Application",
        preferred_username: config.domain(),
        name: config.authority(),
        summary_html: "<p>The instance actor of this rosefed hub. It signs requests made on behalf of the whole server.</p>",
        url: &config.url("/"),
        icon: None,
        image: None,
        follow_collections: false,
        shared_inbox: &config.url("/inbox"),
        manually_approves_followers: true,
        discoverable: false,
        published: keys.created_at,
        rsa_public_pem: keys.rsa_public_pem(),
        ed25519_multibase: &keys.ed25519_multibase(),
        accepts_sexp: !config.federation.no_sexp,
    })?)
}

/// Plain-text summary as the HTML `summary` property: escaped, paragraphs
/// kept.
pub fn summary_html(summary: &str) -> String {
    if summary.trim().is_empty() {
        return String::new();
    }
    format!("<p>{}</p>", escape(summary).replace('\n', "<br>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_escaped() {
        assert_eq!(
            summary_html("<b>hi</b>\nthere"),
            "<p>&lt;b&gt;hi&lt;/b&gt;<br>there</p>"
        );
        assert_eq!(summary_html("  "), "");
    }
}
