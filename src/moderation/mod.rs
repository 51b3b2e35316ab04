//! Moderation: the rules an admin's actions follow, in plain functions the
//! CLI, the admin pages and the API call: domain blocks (severities,
//! options, CSV import and export), actions on one actor or post
//! (silence, suspend, hide, remove), reports (filed, resolved, forwarded)
//! and the audit log every action is recorded in. Storage is in
//! `db::domain_blocks`, `db::actor_moderation`, `db::objects`,
//! `db::reports` and `db::audit_log`.

pub mod actions;
pub mod audit;
pub mod domain_blocks;
pub mod reports;

use crate::error::AppError;

/// Longest comment on any moderation action, in characters.
pub const MAX_COMMENT: usize = 1000;

/// Checks an admin's comment (kept in the audit log and shown on admin
/// pages): at most [`MAX_COMMENT`] characters, no control characters but
/// line breaks.
pub fn check_comment(what: &str, text: &str) -> Result<(), AppError> {
    if text.chars().count() > MAX_COMMENT {
        return Err(AppError::BadRequest(format!(
            "the {what} is longer than {MAX_COMMENT} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::BadRequest(format!(
            "the {what} contains control characters"
        )));
    }
    Ok(())
}
