//! Actor documents: rendered for our actors (the apps' virtual actors and
//! the instance actor) and parsed from remote ones.
//!
//! Every one of our actors carries the instance's RSA key as `publicKey`
//! (owner = that actor, `keyId` = `<actor>#main-key`) and its Ed25519 key as
//! a FEP-521a `Multikey` in `assertionMethod`; only ids differ between
//! actors. A remote actor is only believed about keys it lists as its own.
//!
//! An actor whose inbox takes sexp says so in `inboxFormats`, the media
//! types its inbox takes, preferred first (`docs/sexp.md` §8).

use activitypub_federation::protocol::public_key::PublicKey;
use serde_json::{json, Value};
use url::Url;

use super::as2::{check_id, origin, rfc3339};
use super::sexp::MEDIA_TYPE;
use super::FormatError;

/// What differs between our actors' documents.
#[derive(Debug, Clone)]
pub struct ActorFields<'a> {
    pub id: &'a str,
    /// `Service` for apps, `Application` for the instance actor.
    pub kind: &'a str,
    pub preferred_username: &'a str,
    pub name: &'a str,
    /// Already HTML.
    pub summary_html: &'a str,
    /// The profile page.
    pub url: &'a str,
    /// (media type, URL) of the avatar.
    pub icon: Option<(&'a str, &'a str)>,
    /// (media type, URL) of the header, the profile's banner.
    pub image: Option<(&'a str, &'a str)>,
    /// Whether the actor has followers/following collections.
    pub follow_collections: bool,
    pub shared_inbox: &'a str,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    /// Unix milliseconds.
    pub published: i64,
    pub rsa_public_pem: &'a str,
    pub ed25519_multibase: &'a str,
    /// Whether the inbox takes `application/sexp`.
    pub accepts_sexp: bool,
}

/// The term an actor lists its inbox's media types under.
pub const INBOX_FORMATS: &str = "inboxFormats";

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
            // rosefed's own term (docs/sexp.md §8); a URN, as nothing needs
            // to be fetched to understand it.
            "inboxFormats": { "@id": "urn:rosefed:inboxFormats", "@container": "@list" },
        }
    ])
}

/// The AS2 document of one of our actors.
pub fn render(a: &ActorFields<'_>) -> Result<Value, FormatError> {
    let id = a.id;
    let owner = Url::parse(id).map_err(|e| FormatError::invalid(format!("actor id: {e}")))?;
    let public_key = PublicKey {
        id: format!("{id}#main-key"),
        owner,
        public_key_pem: a.rsa_public_pem.to_string(),
    };
    let public_key = serde_json::to_value(public_key)
        .map_err(|e| FormatError::invalid(format!("public key: {e}")))?;
    let mut doc = json!({
        "@context": context(),
        "id": id,
        "type": a.kind,
        "preferredUsername": a.preferred_username,
        "name": a.name,
        "summary": a.summary_html,
        "url": a.url,
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "endpoints": { "sharedInbox": a.shared_inbox },
        "manuallyApprovesFollowers": a.manually_approves_followers,
        "discoverable": a.discoverable,
        "published": rfc3339(a.published),
        "publicKey": public_key,
        "assertionMethod": [{
            "id": ed25519_key_id(id),
            "type": "Multikey",
            "controller": id,
            "publicKeyMultibase": a.ed25519_multibase,
        }],
    });
    if let Some((media_type, url)) = a.icon {
        doc["icon"] = json!({ "type": "Image", "mediaType": media_type, "url": url });
    }
    if let Some((media_type, url)) = a.image {
        doc["image"] = json!({ "type": "Image", "mediaType": media_type, "url": url });
    }
    if a.accepts_sexp {
        doc[INBOX_FORMATS] = json!([MEDIA_TYPE, super::jsonld::MEDIA_TYPE]);
    }
    if a.follow_collections {
        doc["followers"] = json!(format!("{id}/followers"));
        doc["following"] = json!(format!("{id}/following"));
    }
    Ok(doc)
}

/// The id of an actor's Ed25519 key (its `assertionMethod` Multikey).
pub fn ed25519_key_id(actor_id: &str) -> String {
    format!("{actor_id}#ed25519-key")
}

/// What the hub keeps of a remote actor's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorDocument {
    pub id: String,
    /// The host of `id`.
    pub domain: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    /// The key asked for (or the first `publicKey`), and its text: PEM, or
    /// a Multikey's `publicKeyMultibase`.
    pub key_id: String,
    pub public_key: String,
    /// Every key the document lists that the actor owns (on its origin;
    /// `owner` or `controller` is the actor): ids and texts. What it no
    /// longer lists is no longer its key.
    pub listed_keys: Vec<(String, String)>,
    /// Whether its inbox takes `application/sexp`.
    pub accepts_sexp: bool,
    /// What our pages show of it.
    pub profile: ActorProfile,
}

/// The parts of an actor's document our pages show: all optional, all
/// bounded; a field that is too long, not text or (for URLs) not an http(s)
/// URL is dropped rather than refusing the actor, whose keys and inbox are
/// what federation needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorProfile {
    /// Display name, control characters removed.
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    /// Its profile page.
    pub url: Option<String>,
    /// Its avatar.
    pub icon_url: Option<String>,
}

/// Longest display name kept, in characters (Mastodon allows 30, Lemmy 20,
/// GoToSocial 50; some servers more).
const MAX_DISPLAY_NAME: usize = 200;
/// Longest `preferredUsername` kept, in characters.
const MAX_USERNAME: usize = 100;

impl ActorProfile {
    /// Reads the profile fields of an actor document.
    pub fn parse(doc: &Value) -> ActorProfile {
        let text = |field: &str, max: usize| {
            let value: String = doc
                .get(field)?
                .as_str()?
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            let value = value.trim();
            (!value.is_empty() && value.chars().count() <= max).then(|| value.to_string())
        };
        ActorProfile {
            name: text("name", MAX_DISPLAY_NAME),
            preferred_username: text("preferredUsername", MAX_USERNAME),
            url: doc.get("url").and_then(link).filter(|u| web_url(u)),
            icon_url: doc.get("icon").and_then(link).filter(|u| web_url(u)),
        }
    }
}

/// The first URL of a link-valued property: a string, an object with a
/// `url` or `href`, or a list of those.
fn link(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("url").or_else(|| o.get("href")).and_then(link),
        Value::Array(list) => list.iter().find_map(link),
        _ => None,
    }
}

/// An absolute http(s) URL within the stored-id bound: safe to put in an
/// `href` (no `javascript:`) and to store.
fn web_url(url: &str) -> bool {
    check_id(url).is_ok() && Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// Reads the fields we keep from an actor document. With `key_id`, the key
/// with that id must be listed (in `publicKey`, or as a FEP-521a Multikey
/// in `assertionMethod`), on the actor's origin and owned by the actor;
/// without, the first `publicKey` must be.
pub fn parse(doc: &Value, key_id: Option<&str>) -> Result<ActorDocument, FormatError> {
    let bad = |why: &str| FormatError::invalid(format!("unusable actor document: {why}"));
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no id"))?;
    let inbox = doc
        .get("inbox")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no inbox"))?;
    let shared_inbox = doc
        .get("endpoints")
        .and_then(|e| e.get("sharedInbox"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (found_key_id, public_key) = listed_key(doc, id, key_id).map_err(bad)?;
    // Every one of these is stored, and several are indexed.
    for url in [
        Some(id),
        Some(inbox),
        shared_inbox.as_deref(),
        Some(found_key_id.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        check_id(url).map_err(|e| bad(&e.to_string()))?;
    }
    let domain = Url::parse(id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| bad("id is not a URL"))?;
    let accepts_sexp = doc
        .get(INBOX_FORMATS)
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some(MEDIA_TYPE)));
    Ok(ActorDocument {
        id: id.to_string(),
        domain,
        inbox: inbox.to_string(),
        shared_inbox,
        key_id: found_key_id,
        public_key,
        listed_keys: listed_keys(doc, id),
        accepts_sexp,
        profile: ActorProfile::parse(doc),
    })
}

/// Most keys read from one actor document.
const MAX_KEYS: usize = 16;
/// Longest key text kept (an RSA-8192 PEM is about 1,500 bytes).
const MAX_KEY_TEXT: usize = 8192;

/// The entries of a key property (`publicKey`, `assertionMethod`): one
/// object or a list, at most [`MAX_KEYS`].
fn keys_in<'a>(doc: &'a Value, field: &str) -> Vec<&'a Value> {
    match doc.get(field) {
        Some(Value::Array(list)) => list.iter().take(MAX_KEYS).collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Every key `doc` lists that the actor `id` owns, with its text.
fn listed_keys(doc: &Value, id: &str) -> Vec<(String, String)> {
    keys_in(doc, "publicKey")
        .into_iter()
        .chain(keys_in(doc, "assertionMethod"))
        .filter_map(|key| key.get("id").and_then(Value::as_str))
        .filter_map(|key_id| listed_key(doc, id, Some(key_id)).ok())
        .collect()
}

/// The id and text of the key `wanted` (else the first `publicKey`) that
/// the actor `id` lists and owns.
fn listed_key(
    doc: &Value,
    id: &str,
    wanted: Option<&str>,
) -> Result<(String, String), &'static str> {
    let text = |v: &Value, field: &str| v.get(field).and_then(Value::as_str).map(str::to_string);
    let public_keys = keys_in(doc, "publicKey");
    let key = match wanted {
        None => public_keys.first().copied().ok_or("no publicKey")?,
        Some(wanted) => {
            let is_wanted = |k: &&Value| k.get("id").and_then(Value::as_str) == Some(wanted);
            match public_keys.iter().copied().find(is_wanted) {
                Some(key) => key,
                None => {
                    // FEP-521a: a Multikey, owned through `controller`.
                    let key = keys_in(doc, "assertionMethod")
                        .into_iter()
                        .find(is_wanted)
                        .ok_or("the signing key is not listed")?;
                    if text(key, "type").as_deref() != Some("Multikey") {
                        return Err("assertionMethod key is not a Multikey");
                    }
                    if origin(wanted) != origin(id) {
                        return Err("key id is not on the actor's origin");
                    }
                    if text(key, "controller").as_deref() != Some(id) {
                        return Err("key controller is not the actor");
                    }
                    let multibase =
                        text(key, "publicKeyMultibase").ok_or("key has no publicKeyMultibase")?;
                    if multibase.len() > MAX_KEY_TEXT {
                        return Err("key is too long");
                    }
                    return Ok((wanted.to_string(), multibase));
                }
            }
        }
    };
    let key_id = text(key, "id").unwrap_or_default();
    if origin(&key_id) != origin(id) {
        return Err("key id is not on the actor's origin");
    }
    if text(key, "owner").as_deref() != Some(id) {
        return Err(if key.get("owner").is_some() {
            "key owner is not the actor"
        } else {
            "key has no owner"
        });
    }
    let pem = text(key, "publicKeyPem").ok_or("key has no publicKeyPem")?;
    if pem.len() > MAX_KEY_TEXT {
        return Err("key is too long");
    }
    Ok((key_id, pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_fields_are_bounded_and_only_web_links() {
        let doc = json!({
            "name": " Ada\u{7} <b>L</b> ", "preferredUsername": "ada",
            "url": [{"type": "Link", "href": "https://r.example/@ada"}],
            "icon": {"type": "Image", "url": "https://r.example/ada.png"},
        });
        assert_eq!(
            ActorProfile::parse(&doc),
            ActorProfile {
                name: Some("Ada <b>L</b>".into()),
                preferred_username: Some("ada".into()),
                url: Some("https://r.example/@ada".into()),
                icon_url: Some("https://r.example/ada.png".into()),
            }
        );
        let hostile = json!({
            "name": "x".repeat(201), "preferredUsername": 7,
            "url": "javascript:alert(1)", "icon": {"url": "data:image/png;base64,AAAA"},
        });
        assert_eq!(ActorProfile::parse(&hostile), ActorProfile::default());
    }

    #[test]
    fn remote_actor_documents() {
        let doc = json!({
            "id": "https://r.example/u/a", "inbox": "https://r.example/u/a/inbox",
            "endpoints": {"sharedInbox": "https://r.example/inbox"},
            "publicKey": {"id": "https://r.example/u/a#main-key", "owner": "https://r.example/u/a", "publicKeyPem": "PEM"}
        });
        let a = parse(&doc, Some("https://r.example/u/a#main-key")).unwrap();
        assert_eq!(a.shared_inbox.as_deref(), Some("https://r.example/inbox"));
        assert_eq!(a.domain, "r.example");
        assert!(parse(&doc, Some("https://r.example/u/a#other")).is_err());
        let mut stolen = doc.clone();
        stolen["publicKey"]["owner"] = json!("https://r.example/u/b");
        assert!(parse(&stolen, None).is_err());
        for (field, value) in [
            (
                "inbox",
                json!(format!("https://r.example/{}", "i".repeat(3000))),
            ),
            ("inbox", json!("javascript:alert(1)")),
        ] {
            let mut long = doc.clone();
            long[field] = value;
            assert!(parse(&long, None).is_err(), "{field}");
        }
        let mut long_shared = doc.clone();
        long_shared["endpoints"]["sharedInbox"] =
            json!(format!("https://r.example/{}", "s".repeat(3000)));
        assert!(parse(&long_shared, None).is_err());
        let mut long_key = doc.clone();
        let key = format!("https://r.example/u/a#{}", "k".repeat(3000));
        long_key["publicKey"]["id"] = json!(key);
        assert!(parse(&long_key, Some(&key)).is_err());
        let mut elsewhere = doc.clone();
        elsewhere["publicKey"]["id"] = json!("https://evil.example/k");
        assert!(parse(&elsewhere, None).is_err());
    }

    #[test]
    fn our_actor_documents_parse_back() {
        let fields = ActorFields {
            id: "https://h.example/actors/blog",
            kind: "Service",
            preferred_username: "blog",
            name: "Blog",
            summary_html: "<p>hi</p>",
            url: "https://h.example/@blog",
            icon: Some(("image/png", "https://h.example/actors/blog/avatar")),
            image: None,
            follow_collections: true,
            shared_inbox: "https://h.example/inbox",
            manually_approves_followers: false,
            discoverable: true,
            published: 0,
            rsa_public_pem: "PEM",
            ed25519_multibase: "z6Mk",
            accepts_sexp: true,
        };
        let doc = render(&fields).unwrap();
        assert!(parse(&doc, None).unwrap().accepts_sexp);
        let json_only = render(&ActorFields {
            accepts_sexp: false,
            ..fields.clone()
        })
        .unwrap();
        assert!(json_only.get(INBOX_FORMATS).is_none());
        assert!(!parse(&json_only, None).unwrap().accepts_sexp);
        assert_eq!(doc["followers"], "https://h.example/actors/blog/followers");
        assert_eq!(doc["icon"]["mediaType"], "image/png");
        assert!(doc.get("image").is_none());
        let with_header = render(&ActorFields {
            image: Some(("image/jpeg", "https://h.example/actors/blog/header")),
            ..fields.clone()
        })
        .unwrap();
        assert_eq!(
            with_header["image"],
            json!({"type": "Image", "mediaType": "image/jpeg", "url": "https://h.example/actors/blog/header"})
        );
        let parsed = parse(&doc, Some("https://h.example/actors/blog#main-key")).unwrap();
        assert_eq!(parsed.inbox, "https://h.example/actors/blog/inbox");
        assert_eq!(parsed.public_key, "PEM");
    }
}
