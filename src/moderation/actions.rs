//! What an admin does to one remote actor or one post, as Mastodon's
//! account and status actions: silence an actor (its posts leave the
//! timeline unless an app follows it), suspend it (refused at the inbox,
//! follows ended both ways, its posts hidden), lift either; hide a post from
//! this hub's timeline and pages (reversible), or remove a remote post
//! here. Each is one transaction with its audit entry.

use serde_json::json;

use crate::config::Config;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::formats::as2::{check_id, origin};

/// One admin action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SilenceActor,
    SuspendActor,
    /// Lifts a silence or a suspension.
    UnmoderateActor,
    HidePost,
    ShowPost,
    RemovePost,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, AppError> {
        Ok(match text {
            "silence_actor" => Action::SilenceActor,
            "suspend_actor" => Action::SuspendActor,
            "unmoderate_actor" => Action::UnmoderateActor,
            "hide_post" => Action::HidePost,
            "show_post" => Action::ShowPost,
            "remove_post" => Action::RemovePost,
            other => {
                return Err(AppError::BadRequest(format!(
                    "unknown action '{}'",
                    other.escape_debug()
                )))
            }
        })
    }

    /// The audit log's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Action::SilenceActor => "actor.silence",
            Action::SuspendActor => "actor.suspend",
            Action::UnmoderateActor => "actor.unmoderate",
            Action::HidePost => "post.hide",
            Action::ShowPost => "post.show",
            Action::RemovePost => "post.remove",
        }
    }
}

/// Applies `action` to `target` (an actor id, or a post id) as `by`.
pub async fn apply(
    db: &Db,
    config: &Config,
    by: &str,
    action: Action,
    target: &str,
    comment: &str,
) -> Result<(), AppError> {
    check_id(target).map_err(|e| AppError::BadRequest(e.to_string()))?;
    super::check_comment("comment", comment)?;
    let ours = origin(target).as_deref() == Some(config.base());
    let mut tx = db.begin().await?;
    let details = match action {
        Action::SilenceActor | Action::SuspendActor => {
            if ours {
                return Err(AppError::BadRequest(
                    "the hub's own actors are managed as apps, not moderated".into(),
                ));
            }
            let severity = if action == Action::SuspendActor {
                "suspend"
            } else {
                "silence"
            };
            db::actor_moderation::set(&mut tx, target, severity, comment).await?;
            let severed = if action == Action::SuspendActor {
                db::actor_moderation::sever_follows(&mut tx, target).await?
            } else {
                0
            };
            json!({ "severity": severity, "follows_severed": severed })
        }
        Action::UnmoderateActor => {
            if !db::actor_moderation::clear(&mut tx, target).await? {
                return Err(AppError::NotFound("that actor is not moderated".into()));
            }
            json!({})
        }
        Action::HidePost | Action::ShowPost => {
            if !db::objects::set_hidden(&mut tx, target, action == Action::HidePost).await? {
                return Err(AppError::NotFound("no such post here".into()));
            }
            json!({})
        }
        Action::RemovePost => {
            if ours {
                return Err(AppError::BadRequest(
                    "the apps' own posts are deleted by the apps, so followers hear of it".into(),
                ));
            }
            if !db::objects::tombstone(&mut tx, target).await? {
                return Err(AppError::NotFound("no such post here".into()));
            }
            json!({})
        }
    };
    db::audit_log::append(&mut tx, by, action.name(), target, comment, &details).await?;
    db::gate::commit(db, tx).await?;
    tracing::info!(by, action = action.name(), %target, "moderation action");
    Ok(())
}
