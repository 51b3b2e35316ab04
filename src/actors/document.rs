//! ActivityStreams 2.0 documents for actors and their collections.
//!
//! Every actor carries the instance's RSA key as `publicKey` (owner = that
//! actor, `keyId` = `<actor>#main-key`) and its Ed25519 key as a FEP-521a
//! `Multikey` in `assertionMethod`; only ids differ between actors.

use activitypub_federation::protocol::public_key::PublicKey;
use serde_json::{json, Value};
use url::Url;

use crate::actors::App;
use crate::config::Config;
use crate::error::AppError;
use crate::http::html::escape;
use crate::keys::InstanceKeys;

/// Items per collection page.
pub const PAGE_SIZE: i64 = 40;

fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://w3id.org/security/multikey/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            // Not defined by security/v1 or multikey/v1 at the top level.
            "assertionMethod": {
                "@id": "https://w3id.org/security#assertionMethod",
                "@type": "@id",
                "@container": "@set",
            },
        }
    ])
}

/// The key fields shared by every actor document.
fn key_fields(id: &str, keys: &InstanceKeys) -> Result<(Value, Value), AppError> {
    let owner = Url::parse(id).map_err(AppError::internal)?;
    let public_key = PublicKey {
        id: format!("{id}#main-key"),
        owner,
        public_key_pem: keys.rsa_public_pem().to_string(),
    };
    let assertion = json!([{
        "id": format!("{id}#ed25519-key"),
        "type": "Multikey",
        "controller": id,
        "publicKeyMultibase": keys.ed25519_multibase(),
    }]);
    Ok((
        serde_json::to_value(public_key).map_err(AppError::internal)?,
        assertion,
    ))
}

/// An app's virtual actor.
pub fn app_actor(config: &Config, keys: &InstanceKeys, app: &App) -> Result<Value, AppError> {
    let id = config.actor_id(&app.name);
    let (public_key, assertion) = key_fields(&id, keys)?;
    Ok(json!({
        "@context": context(),
        "id": id,
        "type": "Service",
        "preferredUsername": app.name.as_str(),
        "name": app.display_name,
        "summary": summary_html(&app.summary),
        "url": config.url(&format!("/@{}", app.name)),
        "icon": {
            "type": "Image",
            "mediaType": "image/svg+xml",
            "url": format!("{id}/icon.svg"),
        },
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "endpoints": { "sharedInbox": config.url("/inbox") },
        "manuallyApprovesFollowers": app.manually_approves_followers,
        "discoverable": true,
        "published": rfc3339(app.created_at),
        "publicKey": public_key,
        "assertionMethod": assertion,
    }))
}

/// The instance actor: signs fetches and instance-level activities.
pub fn instance_actor(config: &Config, keys: &InstanceKeys) -> Result<Value, AppError> {
    let id = config.instance_actor_id();
    let (public_key, assertion) = key_fields(&id, keys)?;
    Ok(json!({
        "@context": context(),
        "id": id,
        "type": "Application",
        "preferredUsername": config.domain(),
        "name": config.authority(),
        "summary": "<p>The instance actor of this rosefed hub. It signs requests made on behalf of the whole server.</p>",
        "url": config.url("/"),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "endpoints": { "sharedInbox": config.url("/inbox") },
        "manuallyApprovesFollowers": true,
        "discoverable": false,
        "published": rfc3339(keys.created_at),
        "publicKey": public_key,
        "assertionMethod": assertion,
    }))
}

/// The top of a collection: its size and a link to the first page.
pub fn collection(id: &str, total: i64) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": format!("{id}?page=1"),
    })
}

/// One page of a collection (1-based `page`).
pub fn collection_page(id: &str, page: i64, total: i64, items: Vec<Value>) -> Value {
    let mut doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    if page * PAGE_SIZE < total {
        doc["next"] = json!(format!("{id}?page={}", page + 1));
    }
    if page > 1 {
        doc["prev"] = json!(format!("{id}?page={}", page - 1));
    }
    doc
}

/// Plain-text summary as the HTML `summary` property: escaped, paragraphs
/// kept.
pub fn summary_html(summary: &str) -> String {
    if summary.trim().is_empty() {
        return String::new();
    }
    format!("<p>{}</p>", escape(summary).replace('\n', "<br>"))
}

fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_forward_and_back() {
        let id = "https://h/actors/a/followers";
        let p1 = collection_page(id, 1, PAGE_SIZE + 1, vec![]);
        assert_eq!(p1["next"], format!("{id}?page=2"));
        assert!(p1.get("prev").is_none());
        let p2 = collection_page(id, 2, PAGE_SIZE + 1, vec![]);
        assert!(p2.get("next").is_none());
        assert_eq!(p2["prev"], format!("{id}?page=1"));
        assert_eq!(collection(id, 0)["totalItems"], 0);
    }

    #[test]
    fn summaries_are_escaped() {
        assert_eq!(
            summary_html("<b>hi</b>\nthere"),
            "<p>&lt;b&gt;hi&lt;/b&gt;<br>there</p>"
        );
        assert_eq!(summary_html("  "), "");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
