//! The rules for member apps: what a valid app is, adding, changing its
//! profile (telling its followers with an `Update`), removing (which
//! refuses while remote followers depend on the actor) and the first-start
//! seeding. Shared by the CLI and, later, the admin API.

use crate::actors::media::{self, MediaKind};
use crate::actors::{document, App, AppName};
use crate::config::Config;
use crate::db::{self, now_millis, Db};
use crate::error::AppError;
use crate::formats::activity;
use crate::instance::AppState;
use crate::outbox;

const MAX_DISPLAY_NAME: usize = 100;
const MAX_SUMMARY: usize = 500;

/// Builds a valid app from operator input, filling in defaults.
pub fn new_app(
    name: AppName,
    display_name: Option<&str>,
    summary: Option<&str>,
) -> Result<App, AppError> {
    let display_name = match display_name.map(str::trim) {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => name.default_display_name(),
    };
    let summary = match summary.map(str::trim) {
        Some(s) => s.to_string(),
        None => format!("{display_name}, a member app of this Rose Ash co-op."),
    };
    check_text("display name", &display_name, MAX_DISPLAY_NAME)?;
    check_text("summary", &summary, MAX_SUMMARY)?;
    Ok(App {
        name,
        display_name,
        summary,
        manually_approves_followers: false,
        created_at: now_millis(),
    })
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), AppError> {
    if text.chars().count() > max {
        return Err(AppError::BadRequest(format!(
            "{what} is longer than {max} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::BadRequest(format!(
            "{what} contains control characters"
        )));
    }
    Ok(())
}

/// Adds an app. Its name must not be the instance actor's (the host name,
/// which can be a valid app name on a dot-less host such as `localhost`).
pub async fn add(db: &Db, config: &Config, app: &App) -> Result<(), AppError> {
    if app.name.as_str() == config.domain() {
        return Err(AppError::Conflict(format!(
            "'{}' is the instance actor's name on this host; choose another app name",
            app.name
        )));
    }
    db::apps::insert(db, app).await
}

/// Removes an app. Remote servers keep following an actor until told
/// otherwise, so an app with followers is only removed when `force` is set.
/// The follower check and the delete are one statement, so a follower
/// arriving in between cannot be orphaned.
pub async fn remove(db: &Db, name: &AppName, force: bool) -> Result<(), AppError> {
    if db::apps::delete(db, name, force).await? {
        return Ok(());
    }
    if db::apps::get(db, name).await?.is_none() {
        return Err(AppError::NotFound(format!("no app named '{name}'")));
    }
    let followers = db::collections::followers_any_state(db, name).await?;
    Err(AppError::Conflict(format!(
        "app '{name}' has {followers} follower(s); removing it leaves them following an actor that is gone. Use --force to remove it anyway"
    )))
}

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

    let mut tx = state.db.pool().begin().await?;
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
        queued = outbox::send(&mut tx, config, name, &update, Some(&actor_id), &inboxes).await?;
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

/// Creates the configured apps if this database has never been seeded
/// (skipping one named like the instance actor, with a warning).
pub async fn seed(db: &Db, config: &Config) -> Result<Vec<AppName>, AppError> {
    let apps = config
        .seed_apps
        .iter()
        .filter(|n| {
            let clash = n.as_str() == config.domain();
            if clash {
                tracing::warn!(app = %n, "not creating an app named like the instance actor");
            }
            !clash
        })
        .map(|n| new_app(n.clone(), None, None))
        .collect::<Result<Vec<_>, _>>()?;
    db::apps::seed_once(db, &apps).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        let app = new_app(AppName::parse("events").unwrap(), None, None).unwrap();
        assert_eq!(app.display_name, "Events");
        assert!(app.summary.contains("Events"));
        assert!(new_app(AppName::parse("x").unwrap(), Some(&"a".repeat(101)), None).is_err());
        assert!(new_app(AppName::parse("x").unwrap(), None, Some("bell\u{7}")).is_err());
        let custom = new_app(AppName::parse("x").unwrap(), Some("  Shop "), Some("")).unwrap();
        assert_eq!(custom.display_name, "Shop");
        assert_eq!(custom.summary, "");
    }
}
