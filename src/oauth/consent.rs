//! Remembered consent, as Mastodon does it: a member who allowed a
//! third-party client some scopes is not asked again when it comes back for
//! the same or fewer; asking for more shows the consent page again, and
//! "Allow" then remembers the union. `prompt=consent` always asks. A member
//! revokes an app from the list of authorized apps, which also ends every
//! token and code that app holds for them, so its next request asks again.
//!
//! First-party member apps are trusted without consent and have nothing to
//! remember. The decisions here are pure functions; storage is
//! [`crate::db::consents`].

use std::collections::BTreeSet;

use oxide_auth::primitives::scope::Scope;

use super::scopes;
use crate::db::{self, oauth::Client};
use crate::error::AppError;
use crate::instance::AppState;

/// What the authorization endpoint does for a signed-in member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Issue a code without asking.
    Grant,
    /// Show the consent page.
    Ask,
    /// Consent is needed but the client said `prompt=none`:
    /// `consent_required`.
    Refuse,
}

/// The step for a request of `requested` scopes by a client (first party
/// or not) with this `prompt`, given the scopes the member allowed it
/// before (`remembered`, as stored).
pub fn step(first_party: bool, prompt: &str, remembered: Option<&str>, requested: &Scope) -> Step {
    let prompt_has = |value: &str| prompt.split(' ').any(|p| p == value);
    let trusted = first_party || covered(remembered, requested);
    if trusted && !prompt_has("consent") {
        Step::Grant
    } else if prompt_has("none") {
        Step::Refuse
    } else {
        Step::Ask
    }
}

/// Whether the remembered consent covers every requested scope. Nothing
/// remembered, or a stored value that no longer parses, covers nothing: the
/// member is asked, never let through by accident.
pub fn covered(remembered: Option<&str>, requested: &Scope) -> bool {
    remembered
        .and_then(|text| text.parse::<Scope>().ok())
        .is_some_and(|granted| scopes::covers(&granted, requested))
}

/// What to remember after the member allowed `granted`: everything allowed
/// before and now, deduplicated and sorted as scopes are stored
/// ([`scopes::normalise`]). Allowing fewer scopes than before never takes
/// any away; revoking the app does.
pub fn merged(previous: Option<&str>, granted: &Scope) -> String {
    let all: BTreeSet<&str> = previous
        .unwrap_or_default()
        .split_whitespace()
        .chain(granted.iter())
        .collect();
    all.into_iter().collect::<Vec<_>>().join(" ")
}

/// The scopes this member allowed this client before; always `None` for a
/// first-party client (nothing is remembered for those).
pub async fn remembered(
    state: &AppState,
    user_id: &str,
    client: &Client,
) -> Result<Option<String>, AppError> {
    if client.is_first_party() {
        return Ok(None);
    }
    db::consents::granted(&state.db, user_id, &client.client_id).await
}

/// Records that the member allowed `granted` to a third-party client
/// (nothing for a first-party one).
pub async fn remember(
    state: &AppState,
    user_id: &str,
    client: &Client,
    granted: &Scope,
) -> Result<(), AppError> {
    if client.is_first_party() {
        return Ok(());
    }
    let stored = db::consents::record(&state.db, user_id, &client.client_id, |previous| {
        merged(previous, granted)
    })
    .await?;
    tracing::info!(client_id = %client.client_id, user_id = %user_id, scope = %stored, "consent: member allowed the client; remembered");
    Ok(())
}

/// Revokes a member's authorization of a client: the remembered consent
/// and every token and code the client holds for them. Returns false,
/// changing nothing, when the member had not authorized it.
pub async fn revoke(state: &AppState, user_id: &str, client_id: &str) -> Result<bool, AppError> {
    let revoked = db::consents::revoke(&state.db, user_id, client_id).await?;
    if revoked {
        // This process's cache of active tokens must not keep answering
        // for tokens just revoked.
        state.oauth.tokens.clear();
        tracing::info!(client_id = %client_id, user_id = %user_id, "consent: member revoked the client's access");
    } else {
        tracing::info!(client_id = %client_id, user_id = %user_id, "consent: revoke for a client the member had not authorized; nothing changed");
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> Scope {
        scopes::parse(text).unwrap()
    }

    #[test]
    fn remembered_consent_covers_the_same_or_fewer_scopes_only() {
        let read_write = Some("read write");
        assert!(covered(read_write, &scope("read write")));
        assert!(covered(read_write, &scope("write read")));
        assert!(covered(read_write, &scope("read")));
        assert!(!covered(read_write, &scope("read write follow")));
        assert!(!covered(read_write, &scope("openid")));
        assert!(!covered(None, &scope("read")));
        assert!(!covered(Some("read \"bad\""), &scope("read")));
    }

    #[test]
    fn steps_for_each_prompt() {
        let read = scope("read");
        let remembered = Some("read write");
        // A third party: asked until it was allowed, then not any more.
        assert_eq!(step(false, "", None, &read), Step::Ask);
        assert_eq!(step(false, "", remembered, &read), Step::Grant);
        assert_eq!(step(false, "", remembered, &scope("follow")), Step::Ask);
        // prompt=none never shows a page.
        assert_eq!(step(false, "none", None, &read), Step::Refuse);
        assert_eq!(step(false, "none", remembered, &read), Step::Grant);
        // prompt=consent always asks, remembered or first party.
        assert_eq!(step(false, "consent", remembered, &read), Step::Ask);
        assert_eq!(step(false, "login consent", remembered, &read), Step::Ask);
        assert_eq!(step(true, "consent", None, &read), Step::Ask);
        assert_eq!(step(true, "", None, &read), Step::Grant);
        assert_eq!(step(true, "none", None, &read), Step::Grant);
    }

    #[test]
    fn allowing_adds_to_what_was_allowed_and_never_removes() {
        assert_eq!(merged(None, &scope("write read")), "read write");
        assert_eq!(
            merged(Some("read write"), &scope("follow read")),
            "follow read write"
        );
        assert_eq!(merged(Some("read write"), &scope("read")), "read write");
        assert_eq!(
            merged(Some("read write"), &scope("read write")),
            scopes::normalise(&scope("read write"))
        );
    }
}
