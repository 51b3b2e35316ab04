//! One handler per activity type (following, content, reactions, flags);
//! [`apply`] records the activity and runs its handler in one transaction.

pub mod content;
pub mod flag;
pub mod following;
pub mod reactions;
pub mod undo;

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use sqlx::AnyConnection;

use crate::actors::AppName;
use crate::config::Config;
use crate::db::{self, domain_blocks::DomainBlock, remote::RemoteActor};
use crate::error::AppError;
use crate::formats::activity::Activity;
use crate::formats::as2::{id_of, origin};
use crate::inbox::verify;
use crate::instance::AppState;

/// What a handler sees.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    /// The sender, proven by its signature.
    pub actor: &'a RemoteActor,
    pub activity: &'a Activity,
    /// The app whose inbox was posted to, for per-actor inboxes.
    pub target: Option<&'a AppName>,
    /// The block on the sender's domain short of a suspension (which never
    /// gets this far), for the options it sets.
    pub domain_block: Option<&'a DomainBlock>,
    /// Set when handling queued a delivery (an Accept, a webhook's
    /// notification).
    queued: &'a AtomicBool,
}

impl Ctx<'_> {
    /// Notes that a delivery was queued: the worker is woken once the
    /// activity's transaction has committed. Only then: a wake-up after
    /// every received activity was a claim that found nothing, mostly.
    pub fn queued(&self, queued: bool) {
        if queued {
            self.queued.store(true, Ordering::Relaxed);
        }
    }

    pub fn id(&self) -> &str {
        &self.activity.id
    }

    pub fn object(&self) -> &Value {
        self.activity.object()
    }
}

/// The app a local actor id names, if any.
pub fn local_app(config: &Config, id: &str) -> Option<AppName> {
    let rest = id.strip_prefix(config.base())?.strip_prefix("/actors/")?;
    AppName::parse(rest).ok()
}

/// Whether [`authoritative_object`] will fetch the object: a Create or
/// Update whose object is not embedded or is not on the actor's origin.
pub fn fetches_object(activity: &Activity) -> bool {
    matches!(activity.kind.as_str(), "Create" | "Update")
        && activity
            .doc
            .get("object")
            .is_some_and(|object| !own_embedded(object, &activity.actor))
}

/// Whether `object` is embedded (not only an id) and on `actor`'s origin.
fn own_embedded(object: &Value, actor: &str) -> bool {
    object.is_object()
        && object.get("type").is_some()
        && id_of(object).is_some_and(|id| origin(id) == origin(actor))
}

/// For Create and Update, an embedded object not on the actor's origin
/// could be forged: replace it with the copy its own origin serves.
pub async fn authoritative_object(
    state: &AppState,
    mut activity: Activity,
) -> Result<Activity, AppError> {
    let kind = activity.kind.as_str();
    if !matches!(kind, "Create" | "Update") {
        return Ok(activity);
    }
    let Some(object) = activity.doc.get("object") else {
        return Err(AppError::BadRequest(format!("{kind} without an object")));
    };
    let object_id = id_of(object)
        .ok_or_else(|| AppError::BadRequest(format!("{kind} object has no id")))?
        .to_string();
    if own_embedded(object, &activity.actor) {
        // The actor's own object may carry its own proof (FEP-8b32): a bad
        // one refuses the activity. A third party's object is refetched
        // from its origin below, proof or not: an old signed version must
        // not stand in for the current one.
        if let Some(proof) = verify::proof_of(object)? {
            let author = object.get("attributedTo").and_then(id_of);
            if author == Some(activity.actor.as_str()) {
                verify::authenticate_proof(state, object, &proof, &activity.actor).await?;
            }
        }
        return Ok(activity);
    }
    let fetched = state
        .fetcher
        .get_activity_json(&object_id)
        .await
        .map_err(|e| {
            AppError::BadRequest(format!("cannot fetch the object from its origin: {e}"))
        })?;
    if fetched.get("id").and_then(Value::as_str) != Some(object_id.as_str()) {
        return Err(AppError::BadRequest(format!(
            "{object_id} served another object"
        )));
    }
    activity.doc["object"] = fetched;
    Ok(activity)
}

/// What [`apply`] records, owned, so the database's writer can run it
/// (again, if its group rolls back).
pub struct Received {
    pub actor: RemoteActor,
    pub activity: Activity,
    /// The app whose inbox was posted to, for per-actor inboxes.
    pub target: Option<AppName>,
    /// The activity as stored: the body as received (JSON-LD).
    pub body: String,
    pub domain_block: Option<DomainBlock>,
}

/// Records the activity and applies it atomically, in a transaction the
/// database may share with other activities arriving at the same time
/// ([`db::group`], which stores the activities of a group in one
/// statement); returns once it has committed. A replay (the id is already
/// recorded, or comes twice in the group) changes nothing.
pub async fn apply(state: &AppState, received: Received) -> Result<&'static str, AppError> {
    // An Update or Delete may change or remove the actor's keys.
    let rekeys = matches!(received.activity.kind.as_str(), "Update" | "Delete");
    let actor_id = received.actor.id.clone();
    let Received {
        actor,
        activity,
        target,
        body,
        domain_block,
    } = received;
    let row = db::activities::Received {
        id: activity.id.clone(),
        actor: actor.id.clone(),
        activity_type: activity.kind.clone(),
        object_id: id_of(activity.object()).map(str::to_string),
        body,
    };
    let job = std::sync::Arc::new((
        state.clone(),
        Handled {
            actor,
            activity,
            target,
            domain_block,
            queued: AtomicBool::new(false),
        },
    ));
    let handled = job.clone();
    let state = state.clone();
    // A task of its own: if the peer hangs up while the activity waits for
    // its group, what follows the commit still happens.
    let done = tokio::spawn(async move {
        let outcome = state
            .db
            .group()
            .record(row, move |conn, new| {
                let job = job.clone();
                Box::pin(async move {
                    if !new {
                        return Ok(REPLAY);
                    }
                    let (state, handled) = &*job;
                    handle(state, handled, conn).await
                })
            })
            .await?;
        if outcome != REPLAY && handled.1.queued.load(Ordering::Relaxed) {
            state.delivery_wakeup.notify_one();
        }
        if rekeys {
            // Committed now: what is remembered of its keys is read again.
            crate::remote::forget(&state, &actor_id);
        }
        Ok(outcome)
    });
    done.await
        .map_err(|e| AppError::Internal(format!("storing the activity failed: {e}")))?
}

const REPLAY: &str = "replay ignored";

/// A received activity once stored: what its handler needs.
struct Handled {
    actor: RemoteActor,
    activity: Activity,
    target: Option<AppName>,
    domain_block: Option<DomainBlock>,
    queued: AtomicBool,
}

/// Runs the handler of a newly stored activity.
async fn handle(
    state: &AppState,
    handled: &Handled,
    conn: &mut AnyConnection,
) -> Result<&'static str, AppError> {
    let ctx = &Ctx {
        state,
        actor: &handled.actor,
        activity: &handled.activity,
        target: handled.target.as_ref(),
        domain_block: handled.domain_block.as_ref(),
        queued: &handled.queued,
    };
    let kind = handled.activity.kind.as_str();
    match kind {
        "Follow" => following::follow(ctx, conn).await,
        "Accept" => following::accept(ctx, conn).await,
        "Reject" => following::reject(ctx, conn).await,
        "Undo" => undo::undo(ctx, conn).await,
        "Create" => content::create(ctx, conn).await,
        "Update" => content::update(ctx, conn).await,
        "Delete" => content::delete(ctx, conn).await,
        "Like" | "Announce" => reactions::react(ctx, conn, kind).await,
        "Flag" => flag::flag(ctx, conn).await,
        other => {
            tracing::info!(activity = %ctx.id(), kind = other, "ignoring an activity type we do not handle");
            Ok("ignored: unsupported type")
        }
    }
}
