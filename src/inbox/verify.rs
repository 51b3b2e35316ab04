//! Who sent this? Resolves a signature's `keyId` to a remote actor (cache
//! first, then a signed fetch as the instance actor), verifies the HTTP
//! signature, refetching the key once on failure (key rotation), and checks
//! that the key's owner is the activity's actor.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::db::{self, now_millis, remote::RemoteActor};
use crate::error::AppError;
use crate::instance::AppState;
use crate::signatures::{self, PublicKey, Requirements, Signature};

/// The string form of an id that may be given inline as an object.
pub fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Verifies the request's signature and returns the actor it proves.
/// Cheap checks (coverage, Date, Digest) run before any fetch.
pub async fn authenticate(
    state: &AppState,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    let unauthorized = |why: String| AppError::Unauthorized(why);
    let raw = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized(signatures::SignatureError::Missing.to_string()))?;
    let sig = Signature::parse(raw).map_err(|e| unauthorized(e.to_string()))?;
    let requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(state.config.federation.signature_max_skew_secs),
    };
    signatures::check_request(&sig, headers, body, &requirements, SystemTime::now())
        .map_err(|e| unauthorized(e.to_string()))?;
    // The signed Host must be ours: a request signed for another server
    // cannot be replayed here.
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !host.eq_ignore_ascii_case(state.config.authority()) {
        return Err(unauthorized(format!(
            "signed for host '{host}', not {}",
            state.config.authority()
        )));
    }
    let signing_string = signatures::signing_string(method, path_and_query, headers, &sig)
        .map_err(|e| unauthorized(e.to_string()))?;

    // The key must belong to the claimed actor: refuse before fetching a
    // key from some other origin.
    if origin(&sig.key_id) != origin(claimed_actor) {
        return Err(unauthorized(format!(
            "keyId {} is not on the actor's origin",
            sig.key_id
        )));
    }

    let mut actor = resolve_key(state, &sig.key_id, false).await?;
    let mut verified = verify_with(&actor, &signing_string, &sig.signature);
    if verified.is_err() && may_refetch(&sig.key_id) {
        // The peer may have rotated its key: refetch once (and not again
        // for a while, so bad signatures cannot make us hammer a server).
        actor = resolve_key(state, &sig.key_id, true).await?;
        verified = verify_with(&actor, &signing_string, &sig.signature);
    }
    verified?;
    if actor.id != claimed_actor {
        return Err(unauthorized(format!(
            "key {} belongs to {}, not to the activity's actor {claimed_actor}",
            sig.key_id, actor.id
        )));
    }
    Ok(actor)
}

/// When each key was last refetched after a failed verification.
static REFETCHED: LazyLock<Mutex<HashMap<String, std::time::Instant>>> =
    LazyLock::new(Default::default);
/// How long a refetched key is trusted before another refetch is allowed.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

/// Whether a failed verification may refetch `key_id` now (at most once a
/// minute per key and process).
fn may_refetch(key_id: &str) -> bool {
    let Ok(mut seen) = REFETCHED.lock() else {
        return true;
    };
    let now = std::time::Instant::now();
    if seen
        .get(key_id)
        .is_some_and(|at| now.duration_since(*at) < REFETCH_EVERY)
    {
        return false;
    }
    if seen.len() >= MAX_PARSED_KEYS {
        seen.clear();
    }
    seen.insert(key_id.to_string(), now);
    true
}

/// Parsed keys by PEM: parsing is a large share of a verification's cost.
/// A pure cache (the database stays the source of truth), bounded by
/// clearing it when full.
type KeyCache = Mutex<HashMap<String, Arc<PublicKey>>>;
static PARSED_KEYS: LazyLock<KeyCache> = LazyLock::new(Default::default);
const MAX_PARSED_KEYS: usize = 10_000;

fn parsed_key(pem: &str) -> Result<Arc<PublicKey>, AppError> {
    if let Some(key) = PARSED_KEYS.lock().ok().and_then(|m| m.get(pem).cloned()) {
        return Ok(key);
    }
    let key =
        Arc::new(PublicKey::from_pem(pem).map_err(|e| AppError::Unauthorized(e.to_string()))?);
    if let Ok(mut map) = PARSED_KEYS.lock() {
        if map.len() >= MAX_PARSED_KEYS {
            map.clear();
        }
        map.insert(pem.to_string(), key.clone());
    }
    Ok(key)
}

fn verify_with(
    actor: &RemoteActor,
    signing_string: &str,
    signature: &[u8],
) -> Result<(), AppError> {
    parsed_key(&actor.public_key_pem)?
        .verify(signing_string, signature)
        .map_err(|e| AppError::Unauthorized(e.to_string()))
}

/// The actor owning `key_id`, from the cache unless `refresh`.
pub async fn resolve_key(
    state: &AppState,
    key_id: &str,
    refresh: bool,
) -> Result<RemoteActor, AppError> {
    if !refresh {
        if let Some(actor) = db::remote::by_key_id(&state.db, key_id).await? {
            return Ok(actor);
        }
    }
    let unauthorized = |why: String| AppError::Unauthorized(why);
    let url = key_id.split('#').next().unwrap_or(key_id);
    let doc = fetch(state, url)
        .await
        .map_err(|e| unauthorized(e.to_string()))?;
    // keyId usually names the actor (with a fragment); some servers serve a
    // key document with an `owner`, or the actor under the key's URL.
    let owner = if doc.get("publicKey").is_some() {
        doc.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    } else if let Some(owner) = doc.get("owner").and_then(Value::as_str) {
        owner.to_string()
    } else {
        return Err(unauthorized(format!("{url} is neither an actor nor a key")));
    };
    if origin(&owner) != origin(url) {
        return Err(unauthorized(format!(
            "key {key_id} names an owner on another origin"
        )));
    }
    // Only the actor's own document, fetched from its own id, may vouch for
    // a key: a document elsewhere on the site (an upload, a redirect) that
    // claims to be the actor is not believed.
    let actor_doc = if owner == url && doc.get("publicKey").is_some() {
        doc
    } else {
        fetch(state, &owner)
            .await
            .map_err(|e| unauthorized(e.to_string()))?
    };
    let actor = parse_actor(&actor_doc, Some(key_id))?;
    if actor.id != owner {
        return Err(unauthorized(format!(
            "{owner} served the actor {}",
            actor.id
        )));
    }
    db::remote::upsert(&state.db, &actor).await?;
    Ok(actor)
}

/// A remote actor by id, from the cache or fetched (for delivering to it).
/// Failures are the remote server's (502) or its document's (400), never
/// the caller's credentials.
pub async fn actor_by_id(state: &AppState, id: &str) -> Result<RemoteActor, AppError> {
    if let Some(actor) = db::remote::by_id(&state.db, id).await? {
        return Ok(actor);
    }
    let doc = fetch(state, id)
        .await
        .map_err(|e| AppError::BadGateway(e.to_string()))?;
    let actor = parse_actor(&doc, None).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if actor.id != id {
        return Err(AppError::BadRequest(format!(
            "{id} served the actor {}",
            actor.id
        )));
    }
    db::remote::upsert(&state.db, &actor).await?;
    Ok(actor)
}

async fn fetch(state: &AppState, url: &str) -> Result<Value, crate::fetch::FetchError> {
    state.fetcher.get_activity_json(url).await
}

/// Reads the fields we keep from an actor document. With `key_id`, the
/// key with that id must be present and owned by the actor.
pub fn parse_actor(doc: &Value, key_id: Option<&str>) -> Result<RemoteActor, AppError> {
    let bad = |why: &str| AppError::Unauthorized(format!("unusable actor document: {why}"));
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
    let keys: Vec<&Value> = match doc.get("publicKey") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(bad("no publicKey")),
    };
    let key = match key_id {
        Some(wanted) => keys
            .into_iter()
            .find(|k| k.get("id").and_then(Value::as_str) == Some(wanted))
            .ok_or_else(|| bad("the signing key is not listed"))?,
        None => keys.into_iter().next().ok_or_else(|| bad("no publicKey"))?,
    };
    let key_id_found = key.get("id").and_then(Value::as_str).unwrap_or_default();
    if origin(key_id_found) != origin(id) {
        return Err(bad("key id is not on the actor's origin"));
    }
    let owner = key
        .get("owner")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("key has no owner"))?;
    if owner != id {
        return Err(bad("key owner is not the actor"));
    }
    let pem = key
        .get("publicKeyPem")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("key has no publicKeyPem"))?;
    let domain = Url::parse(id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| bad("id is not a URL"))?;
    Ok(RemoteActor {
        id: id.to_string(),
        domain,
        inbox: inbox.to_string(),
        shared_inbox,
        key_id: key
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        public_key_pem: pem.to_string(),
        fetched_at: now_millis(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actor_documents() {
        let doc = json!({
            "id": "https://r.example/u/a", "inbox": "https://r.example/u/a/inbox",
            "endpoints": {"sharedInbox": "https://r.example/inbox"},
            "publicKey": {"id": "https://r.example/u/a#main-key", "owner": "https://r.example/u/a", "publicKeyPem": "PEM"}
        });
        let a = parse_actor(&doc, Some("https://r.example/u/a#main-key")).unwrap();
        assert_eq!(a.shared_inbox.as_deref(), Some("https://r.example/inbox"));
        assert_eq!(a.domain, "r.example");
        assert!(parse_actor(&doc, Some("https://r.example/u/a#other")).is_err());
        let mut stolen = doc.clone();
        stolen["publicKey"]["owner"] = json!("https://r.example/u/b");
        assert!(parse_actor(&stolen, None).is_err());
    }

    #[test]
    fn ids_and_origins() {
        assert_eq!(id_of(&json!("x")), Some("x"));
        assert_eq!(id_of(&json!({"id": "y"})), Some("y"));
        assert_eq!(id_of(&json!(3)), None);
        assert_eq!(origin("http://a:1/x").as_deref(), Some("http://a:1"));
        assert_ne!(origin("http://a:1/x"), origin("http://a:2/x"));
    }
}
