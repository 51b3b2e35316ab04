//! The rules for member apps: what a valid app is, adding, removing (which
//! refuses while remote followers depend on the actor) and the first-start
//! seeding. Shared by the CLI and the admin pages; changing a profile (and
//! telling followers) is `outbox::profile`'s.

use crate::actors::{App, AppName};
use crate::config::Config;
use crate::db::{self, now_millis, Db};
use crate::error::AppError;

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
