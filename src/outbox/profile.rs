//! An app's profile changed by its operator (`rosefed apps set`, the admin
//! pages): display name, summary, follower approval, avatar and header,
//! checked by [`crate::actors::apps`]' and [`crate::actors::media`]'s rules
//! and published to the app's followers as an `Update` of its actor.

use crate::actors::apps::new_app;
use crate::actors::media::{self, MediaKind};
use crate::actors::{document, AppName};
use crate::db;
use crate::error::AppError;
use crate::formats::activity;
use crate::instance::AppState;
use crate::outbox;

/// What to do with one of an app's images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaChange {
    /// Set it to this file (checked by [`media::check`]).
    Set(Vec<u8>),
    /// Remove it (the avatar falls back to the generated one).
    Remove,
}

/// A change to an app's profile; `None` leaves that part as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileChange {
    /// An empty one means the default (the name capitalised).
    pub display_name: Option<String>,
    /// Plain text; may be empty.
    pub summary: Option<String>,
    pub manually_approves_followers: Option<bool>,
    pub avatar: Option<MediaChange>,
    pub header: Option<MediaChange>,
}

/// What [`update_profile`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdated {
    /// One line per change, for people (`avatar set: image/png, 400×400`).
    pub changes: Vec<String>,
    /// Inboxes the actor's `Update` was queued for (shared inboxes
    /// collapsed); none when nothing changed or nobody follows the app.
    pub update_queued_for: usize,
}

/// Changes an app's profile: display name and summary (the same rules as
/// [`new_app`]), whether it approves followers by hand, its avatar and
/// header ([`media::check`]'s rules). Everything is checked before
/// anything is written, and written in one transaction with an `Update` of
/// the actor queued to its followers, as Mastodon expects on a profile
/// change. With no followers nothing is sent (and no activity is stored).
pub async fn update_profile(
    state: &AppState,
    name: &AppName,
    change: ProfileChange,
) -> Result<ProfileUpdated, AppError> {
    let check = |kind, c: Option<MediaChange>| -> Result<_, AppError> {
        Ok(match c {
            Some(MediaChange::Set(bytes)) => Some(Some(media::check(kind, bytes)?)),
            Some(MediaChange::Remove) => Some(None),
            None => None,
        })
    };
    let avatar = check(MediaKind::Avatar, change.avatar)?;
    let header = check(MediaKind::Header, change.header)?;
    let existing = db::apps::get(&state.db, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no app named '{name}'")))?;
    let mut app = new_app(
        name.clone(),
        Some(
            change
                .display_name
                .as_deref()
                .unwrap_or(&existing.display_name),
        ),
        Some(change.summary.as_deref().unwrap_or(&existing.summary)),
    )?;
    app.manually_approves_followers = change
        .manually_approves_followers
        .unwrap_or(existing.manually_approves_followers);
    app.created_at = existing.created_at;

    let mut changes = Vec::new();
    if app.display_name != existing.display_name {
        changes.push(format!("display name: {}", app.display_name));
    }
    if app.summary != existing.summary {
        changes.push("summary changed".to_string());
    }
    if app.manually_approves_followers != existing.manually_approves_followers {
        changes.push(format!(
            "manually approves followers: {}",
            app.manually_approves_followers
        ));
    }

    let mut tx = state.db.begin().await?;
    if !db::apps::update_profile(&mut tx, &app).await? {
        return Err(AppError::NotFound(format!("no app named '{name}'")));
    }
    for (kind, wanted) in [(MediaKind::Avatar, avatar), (MediaKind::Header, header)] {
        match wanted {
            Some(Some(image)) => {
                db::media::put(&mut tx, name, kind, &image).await?;
                changes.push(format!(
                    "{kind} set: {}, {}×{}, {} bytes",
                    image.media_type,
                    image.width,
                    image.height,
                    image.bytes.len()
                ));
            }
            Some(None) => {
                // Removing what was never set is no change.
                let removed = db::media::remove(&mut tx, name, kind).await?;
                changes.extend(removed.then(|| format!("{kind} removed")));
            }
            None => {}
        }
    }
    if changes.is_empty() {
        tx.rollback().await?;
        return Ok(ProfileUpdated::default());
    }
    let inboxes = db::follows::delivery_inboxes(&mut tx, name).await?;
    let mut queued = 0;
    if !inboxes.is_empty() {
        let config = &state.config;
        let media = db::media::info_in(&mut tx, name).await?;
        let actor = document::app_actor(config, &state.keys, &app, &media)?;
        let actor_id = config.actor_id(name);
        let update = activity::wrap(
            "Update",
            &outbox::new_id(config, "activities"),
            &actor_id,
            &actor,
            &format!("{actor_id}/followers"),
        );
        queued = outbox::send(
            &mut tx,
            config,
            &state.keys,
            name,
            &update,
            Some(&actor_id),
            &inboxes,
        )
        .await?;
    }
    tx.commit().await?;
    if queued > 0 {
        state.delivery_wakeup.notify_one();
    }
    Ok(ProfileUpdated {
        changes,
        update_queued_for: queued,
    })
}
