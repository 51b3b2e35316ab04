//! Actors: the member apps' virtual actors and the instance actor.
//!
//! Every actor here is a projection of the one instance keypair (see
//! [`crate::keys`]): each has its own id and `keyId`, and all share the key
//! material. This module owns the app model and its rules ([`apps`]), the
//! ActivityStreams documents ([`document`]), the front and collection
//! pages ([`profile`]; profile pages and feeds are in [`crate::pages`]), the
//! generated avatar ([`avatar`]), the rules for operator-set avatars and
//! headers ([`media`]) and the HTTP routes that serve them ([`routes`]).

pub mod apps;
pub mod avatar;
pub mod document;
pub mod media;
pub mod profile;
pub mod routes;

use std::fmt;

use crate::error::AppError;

/// Longest app name; matches Mastodon's username limit.
const MAX_NAME_LEN: usize = 30;

/// A member app's name, which is also its actor's `preferredUsername`:
/// 1–30 characters of `a-z`, `0-9` and `_`, so it is safe in URLs, handles
/// and HTML without escaping and can never collide with the instance
/// actor's dotted name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppName(String);

impl AppName {
    pub fn parse(raw: &str) -> Result<AppName, AppError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_NAME_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(AppName(raw.to_string()))
        } else {
            Err(AppError::BadRequest(format!(
                "invalid app name '{}': use 1-{MAX_NAME_LEN} characters of a-z, 0-9 and _",
                raw.escape_debug()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "blog" → "Blog": the display name when none is given.
    pub fn default_display_name(&self) -> String {
        let mut chars = self.0.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so width and alignment flags work in tables.
        f.pad(&self.0)
    }
}

/// A member app as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub name: AppName,
    pub display_name: String,
    /// Plain text; escaped wherever it is rendered.
    pub summary: String,
    pub manually_approves_followers: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for good in ["blog", "a", "market_2", "x".repeat(30).as_str()] {
            assert!(AppName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Blog",
            "a.b",
            "a-b",
            "ü",
            "a b",
            "x".repeat(31).as_str(),
            "<s>",
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            AppName::parse("blog").unwrap().default_display_name(),
            "Blog"
        );
    }
}
