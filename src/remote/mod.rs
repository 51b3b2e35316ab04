//! Remote actors: who they are and which keys they own. Fetches actor
//! documents (signed, through the guarded client), keeps them in the
//! database as the key cache, and proves that a signature was made with a
//! key its claimed actor owns ([`request`]: who signed an HTTP request).
//! Used by the inbox (HTTP signatures, sexp envelopes, object proofs), by
//! authorized fetch, and by the outbox (where to deliver).

pub mod request;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::db::{self, now_millis, remote::RemoteActor};
use crate::error::AppError;
use crate::formats::actor::{self, ActorDocument};
use crate::formats::as2::origin;
use crate::instance::AppState;
use crate::memo::Memo;
use crate::signatures::PublicKey;

/// What one hub remembers of remote parties between requests. One per
/// hub (in [`crate::instance::AppState`]), not per process: hubs started in
/// one process on different databases (as the tests do) share nothing.
pub struct Remembered {
    /// Who owns which key, and the key's text (see `remote::resolve_key`).
    pub key_owners: Memo<String, (RemoteActor, String)>,
    /// Hosts found healthy (not failing, not unavailable).
    pub healthy_hosts: Memo<String, ()>,
}

impl Default for Remembered {
    fn default() -> Self {
        Remembered {
            // Another process's change of a key is seen within this.
            key_owners: Memo::new(Duration::from_secs(30), 10_000),
            // Another process's "failing" mark is cleared at most this
            // much later.
            healthy_hosts: Memo::new(Duration::from_secs(10), 10_000),
        }
    }
}

impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Remembered")
    }
}

impl RemoteActor {
    fn from_document(doc: &ActorDocument) -> RemoteActor {
        RemoteActor {
            id: doc.id.clone(),
            domain: doc.domain.clone(),
            inbox: doc.inbox.clone(),
            shared_inbox: doc.shared_inbox.clone(),
            key_id: doc.key_id.clone(),
            public_key_pem: doc.public_key.clone(),
            fetched_at: now_millis(),
            name: doc.profile.name.clone(),
            preferred_username: doc.profile.preferred_username.clone(),
            profile_url: doc.profile.url.clone(),
            icon_url: doc.profile.icon_url.clone(),
        }
    }

    /// The hosts (`host[:port]`) of the actor's inbox and shared inbox, which
    /// may differ from its own.
    pub fn inbox_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = [Some(self.inbox.as_str()), self.shared_inbox.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(crate::net::authority_of)
            .collect();
        hosts.dedup();
        hosts
    }
}

/// Keeps a freshly fetched actor: its row (the key cache), its keys, and
/// whether the hosts of its inboxes take sexp, which decides the format of
/// what is delivered there.
///
/// All in one transaction: apart, a first contact with an actor cost four
/// commits, each waiting for the disk. A transaction of its own, not a
/// piece of the group writer's ([`db::group`]): the request waits for the
/// key before anything else, and only first contacts come this way.
async fn remember(state: &AppState, doc: &ActorDocument) -> Result<RemoteActor, AppError> {
    let actor = RemoteActor::from_document(doc);
    let mut tx = state.db.begin().await?;
    db::remote::upsert_in(&mut tx, &actor).await?;
    db::remote::reconcile_keys(&mut tx, &actor.id, &doc.listed_keys).await?;
    for host in actor.inbox_hosts() {
        db::hosts::set_sexp_in(&mut tx, &host, doc.accepts_sexp).await?;
    }
    tx.commit().await?;
    forget(state, &actor.id);
    Ok(actor)
}

/// Proves that `key_id` belongs to `claimed_actor` and that `check` (a
/// signature verification) passes with that key; returns the actor.
///
/// The key's origin must be the actor's (refused before any fetch). The key
/// comes from the cache, else from the actor's document; when `check` fails
/// the key is refetched once, in case the actor rotated it, but not more
/// than once a minute per key, so bad signatures cannot make us hammer a
/// server.
pub async fn verify_with_key_of(
    state: &AppState,
    key_id: &str,
    claimed_actor: &str,
    check: impl Fn(&PublicKey) -> Result<(), String>,
) -> Result<RemoteActor, AppError> {
    if origin(key_id) != origin(claimed_actor) {
        return Err(AppError::Unauthorized(format!(
            "keyId {key_id} is not on the actor's origin"
        )));
    }
    let actor = verify_with_key(state, key_id, check).await?;
    if actor.id != claimed_actor {
        return Err(AppError::Unauthorized(format!(
            "key {key_id} belongs to {}, not to the activity's actor {claimed_actor}",
            actor.id
        )));
    }
    Ok(actor)
}

/// As [`verify_with_key_of`] for a signer who claims nothing but the key
/// (a signed GET): returns whichever actor proved it owns `key_id`.
pub async fn verify_with_key(
    state: &AppState,
    key_id: &str,
    check: impl Fn(&PublicKey) -> Result<(), String>,
) -> Result<RemoteActor, AppError> {
    let verify = |key: &str| -> Result<(), AppError> {
        check(&*parsed_key(key)?).map_err(AppError::Unauthorized)
    };
    let (mut actor, mut key) = resolve_key(state, key_id, false).await?;
    let mut verified = verify(&key);
    if verified.is_err() && may_refetch(key_id) {
        (actor, key) = resolve_key(state, key_id, true).await?;
        verified = verify(&key);
    }
    verified?;
    Ok(actor)
}

/// When each key was last refetched after a failed verification.
static REFETCHED: LazyLock<Mutex<HashMap<String, Instant>>> = LazyLock::new(Default::default);
/// How long a refetched key is trusted before another refetch is allowed.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

/// Whether a failed verification may refetch `key_id` now.
fn may_refetch(key_id: &str) -> bool {
    let Ok(mut seen) = REFETCHED.lock() else {
        return true;
    };
    let now = Instant::now();
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

/// Parsed keys by their text: parsing is a large share of a verification's cost.
/// A pure cache (the database stays the source of truth), bounded by
/// clearing it when full.
type KeyCache = Mutex<HashMap<String, Arc<PublicKey>>>;
static PARSED_KEYS: LazyLock<KeyCache> = LazyLock::new(Default::default);
const MAX_PARSED_KEYS: usize = 10_000;

fn parsed_key(text: &str) -> Result<Arc<PublicKey>, AppError> {
    if let Some(key) = PARSED_KEYS.lock().ok().and_then(|m| m.get(text).cloned()) {
        return Ok(key);
    }
    let key = Arc::new(PublicKey::parse(text).map_err(|e| AppError::Unauthorized(e.to_string()))?);
    if let Ok(mut map) = PARSED_KEYS.lock() {
        if map.len() >= MAX_PARSED_KEYS {
            map.clear();
        }
        map.insert(text.to_string(), key.clone());
    }
    Ok(key)
}

/// Forgets what is remembered of `actor_id`'s keys: it updated or deleted
/// itself. Who owns which key is remembered (`AppState::remembered`, 30 s)
/// because every signed request asks, and the answer changes only when an
/// actor rotates a key (which a failed verification notices and
/// refetches) or updates or deletes itself (which this is told of).
pub fn forget(state: &AppState, actor_id: &str) {
    state
        .remembered
        .key_owners
        .forget(|_, (actor, _)| actor.id == actor_id);
}

/// The actor owning `key_id` and the key's text, from the cache unless
/// `refresh`.
async fn resolve_key(
    state: &AppState,
    key_id: &str,
    refresh: bool,
) -> Result<(RemoteActor, String), AppError> {
    if !refresh {
        let owners = &state.remembered.key_owners;
        if let Some(owned) = owners.get(key_id) {
            return Ok(owned);
        }
        let generation = owners.generation();
        if let Some(owned) = db::remote::by_key_id(&state.db, key_id).await? {
            owners.put_if(generation, key_id.to_string(), owned.clone());
            return Ok(owned);
        }
    }
    state.remembered.key_owners.forget(|k, _| k == key_id);
    let unauthorized = |why: String| AppError::Unauthorized(why);
    let url = key_id.split('#').next().unwrap_or(key_id);
    let doc = fetch_key_document(state, url).await.map_err(unauthorized)?;
    // keyId usually names the actor (with a fragment); some servers serve a
    // key document with an `owner` (a FEP-521a Multikey: a `controller`),
    // or the actor under the key's URL.
    let is_actor = doc.get("publicKey").is_some() || doc.get("assertionMethod").is_some();
    let owner = if is_actor {
        doc.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    } else if let Some(owner) = ["owner", "controller"]
        .into_iter()
        .find_map(|field| doc.get(field).and_then(Value::as_str))
    {
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
    let actor_doc = if owner == url && is_actor {
        doc
    } else {
        fetch(state, &owner)
            .await
            .map_err(|e| unauthorized(e.to_string()))?
    };
    let doc = actor::parse(&actor_doc, Some(key_id)).map_err(|e| unauthorized(e.to_string()))?;
    if doc.id != owner {
        return Err(unauthorized(format!("{owner} served the actor {}", doc.id)));
    }
    // Proven both ways: the key's URL names the owner, and the owner's own
    // document lists the key. Only now is the key id mapped to the actor.
    let actor = remember(state, &doc).await?;
    db::remote::claim_key(&state.db, key_id, &actor.id, &doc.public_key).await?;
    Ok((actor, doc.public_key))
}

/// Hearing from `host` (or delivering to it) makes it deliverable again.
/// Hosts found healthy are remembered for 10 s (`AppState::remembered`),
/// so most requests need not ask the database.
pub async fn heard_from(state: &AppState, host: &str) -> Result<(), AppError> {
    let healthy = &state.remembered.healthy_hosts;
    if healthy.get(host).is_some() {
        return Ok(());
    }
    let generation = healthy.generation();
    db::hosts::alive(&state.db, host).await?;
    healthy.put_if(generation, host.to_string(), ());
    Ok(())
}

/// `host` failed to take a delivery: the next success must clear the mark.
pub fn failing(state: &AppState, host: &str) {
    state.remembered.healthy_hosts.forget(|h, ()| h == host);
}

/// Key documents whose fetch failed lately, with why: a request naming a
/// key at such a URL is refused without fetching it again, so unsigned or
/// badly signed requests (any GET under authorized fetch) cannot make the
/// hub send a fetch each to the same place. Bounded by clearing it when
/// full.
static FAILED_FETCHES: LazyLock<Mutex<HashMap<String, (Instant, String)>>> =
    LazyLock::new(Default::default);
/// How long a failed key-document fetch is not tried again.
const FAILED_FETCH_TTL: Duration = Duration::from_secs(30);

/// The document at a key's URL (fragment removed), unless fetching it
/// failed within [`FAILED_FETCH_TTL`].
async fn fetch_key_document(state: &AppState, url: &str) -> Result<Value, String> {
    let recent = FAILED_FETCHES
        .lock()
        .ok()
        .and_then(|m| m.get(url).cloned())
        .filter(|(at, _)| at.elapsed() < FAILED_FETCH_TTL);
    if let Some((_, why)) = recent {
        return Err(format!("{why} (not fetched again yet)"));
    }
    fetch(state, url).await.map_err(|e| {
        let why = e.to_string();
        if let Ok(mut failed) = FAILED_FETCHES.lock() {
            if failed.len() >= MAX_PARSED_KEYS {
                failed.clear();
            }
            failed.insert(url.to_string(), (Instant::now(), why.clone()));
        }
        why
    })
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
    let doc = actor::parse(&doc, None).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if doc.id != id {
        return Err(AppError::BadRequest(format!(
            "{id} served the actor {}",
            doc.id
        )));
    }
    remember(state, &doc).await
}

/// An actor's document as an `Update` carried it, once the inbox has
/// checked that the actor updates itself, with the keys it lists.
pub fn from_update(doc: &Value) -> Result<(RemoteActor, Vec<(String, String)>), AppError> {
    actor::parse(doc, None)
        .map(|doc| (RemoteActor::from_document(&doc), doc.listed_keys))
        .map_err(|e| AppError::BadRequest(e.to_string()))
}

/// Where to send a visitor who wants `account` (theirs, `@user@host`) to
/// follow `ours` (`name@authority`): their server's remote-follow page for
/// our actor.
pub async fn follow_page(state: &AppState, account: &str, ours: &str) -> Result<String, AppError> {
    let account = account.trim().trim_start_matches('@');
    // Usernames as Mastodon, GoToSocial, Lemmy and Pleroma allow them; a
    // host name, IP literal or host:port.
    let well_formed = account.len() <= 300
        && account.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty()
                && !host.is_empty()
                && user
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && host
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
    if !well_formed {
        return Err(AppError::BadRequest(format!(
            "'{}' is not a fediverse handle such as @you@your.server",
            account.escape_debug()
        )));
    }
    let template = state
        .fetcher
        .subscribe_template(account)
        .await
        .map_err(|e| {
            tracing::info!(%account, error = %e, "remote follow: no subscribe template");
            AppError::BadGateway(format!(
                "could not ask your server how to follow: {e}. Search for @{ours} on your server instead."
            ))
        })?;
    let uri: String =
        url::form_urlencoded::byte_serialize(format!("acct:{ours}").as_bytes()).collect();
    let target = template.replace("{uri}", &uri);
    // The visitor is sent only to their own server: a template pointing
    // anywhere else would make this hub an open redirect for whoever
    // controls a WebFinger answer.
    let their_host = account.rsplit_once('@').map(|(_, host)| {
        host.rsplit_once(':')
            .map_or(host, |(h, _)| h)
            .to_ascii_lowercase()
    });
    match url::Url::parse(&target) {
        Ok(u)
            if matches!(u.scheme(), "https" | "http")
                && u.host_str().map(str::to_ascii_lowercase) == their_host =>
        {
            // The parsed form: what was checked is what is sent.
            Ok(u.to_string())
        }
        _ => Err(AppError::BadGateway(format!(
            "your server's remote-follow address is not a web address on your server. Search for @{ours} on your server instead."
        ))),
    }
}

async fn fetch(state: &AppState, url: &str) -> Result<Value, crate::fetch::FetchError> {
    state.fetcher.get_activity_json(url).await
}
