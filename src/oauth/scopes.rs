//! Scopes: which ones exist, and the subset rule ("a client only gets
//! scopes it was registered for"). Parsing and comparison are
//! oxide-auth's `Scope` (RFC 6749 §3.3 syntax, set semantics).

use oxide_auth::primitives::scope::Scope;

/// Every scope the hub grants. `openid profile email` are OIDC's;
/// `read write follow` Mastodon's coarse scopes; `publish` lets a member
/// app publish as its actor through the publishing API.
pub const SUPPORTED: &[&str] = &[
    "openid", "profile", "email", "read", "write", "follow", "publish",
];

/// What a member app's client is registered for.
pub const FIRST_PARTY: &str = "openid profile email read write follow publish";

/// What a third-party client gets when it names none (Mastodon's default).
pub const THIRD_PARTY_DEFAULT: &str = "read";

/// Parses a space-separated scope list, refusing bad syntax and scopes the
/// hub does not know. The error is a sentence for `error_description`.
pub fn parse(text: &str) -> Result<Scope, String> {
    if text.len() > 1024 {
        return Err("scope is longer than 1024 characters".into());
    }
    let scope: Scope = text
        .parse()
        .map_err(|_| "scope contains characters RFC 6749 does not allow".to_string())?;
    if let Some(unknown) = scope.iter().find(|s| !SUPPORTED.contains(s)) {
        return Err(format!(
            "unknown scope '{unknown}' (supported: {})",
            SUPPORTED.join(" ")
        ));
    }
    Ok(scope)
}

/// Whether `granted` covers every scope in `requested`.
pub fn covers(granted: &Scope, requested: &Scope) -> bool {
    granted.priviledged_to(requested)
}

/// What a scope lets a client do, in words for the member (consent page,
/// authorized apps).
pub fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "Confirm who you are",
        "profile" => "See your user name",
        "email" => "See your email address",
        "read" => "Read your account's data",
        "write" => "Change your account's data",
        "follow" => "Follow and unfollow accounts for you",
        "publish" => "Publish as a co-op app",
        _ => "Unknown permission",
    }
}

pub fn has(scope: &Scope, name: &str) -> bool {
    scope.iter().any(|s| s == name)
}

/// A scope string as stored: deduplicated, in a stable order.
pub fn normalise(scope: &Scope) -> String {
    let mut names: Vec<&str> = scope.iter().collect();
    names.sort_unstable();
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_rule() {
        let registered = parse("openid profile read").unwrap();
        assert!(covers(&registered, &parse("read openid").unwrap()));
        assert!(covers(&registered, &parse("").unwrap()));
        assert!(!covers(&registered, &parse("read write").unwrap()));
    }

    #[test]
    fn refuses_unknown_and_malformed() {
        assert!(parse("read admin").unwrap_err().contains("admin"));
        assert!(parse("read \"x\"").is_err());
        assert!(parse(&"read ".repeat(300)).is_err());
        assert_eq!(
            normalise(&parse("read  read openid").unwrap()),
            "openid read"
        );
    }
}
