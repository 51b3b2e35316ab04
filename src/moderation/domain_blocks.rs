//! Domain blocks: suspending a remote domain (and its subdomains), so its
//! servers are refused at the inbox. A domain is checked and put in its one
//! stored form (lower case, IDNA to ASCII, no trailing dot) before it is
//! stored, so `Evil.Example.` and `evil.example` are one block, a typo
//! such as `evil example` is refused rather than stored as a block that
//! never matches, and the hub cannot block itself.

use crate::config::Config;
use crate::db::{self, domain_blocks::DomainBlock, Db};
use crate::error::AppError;

/// The stored form of a domain an admin typed, or why it is not one.
pub fn domain(text: &str, config: &Config) -> Result<String, AppError> {
    let trimmed = text.trim().trim_end_matches('.');
    let refuse = |why: &str| AppError::BadRequest(format!("'{text}' {why}"));
    if trimmed.is_empty() || trimmed.contains(['/', ':', '@', '*']) {
        return Err(refuse(
            "is not a domain name (give just the host, e.g. spam.example)",
        ));
    }
    let domain = match url::Host::parse(trimmed) {
        Ok(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Ok(_) => return Err(refuse("is an IP address; block its domain name instead")),
        Err(_) => return Err(refuse("is not a domain name")),
    };
    if !domain.contains('.') {
        return Err(refuse("is not a public domain name (it has no dot)"));
    }
    let ours = config.domain().to_ascii_lowercase();
    if domain == ours || ours.ends_with(&format!(".{domain}")) {
        return Err(refuse("would block this hub itself"));
    }
    Ok(domain)
}

/// Suspends `text`'s domain; the answer is the domain as stored.
pub async fn suspend(
    db: &Db,
    config: &Config,
    text: &str,
    reason: &str,
) -> Result<String, AppError> {
    let domain = domain(text, config)?;
    db::domain_blocks::add(db, &domain, reason).await?;
    tracing::info!(domain = %domain, reason, "domain suspended");
    Ok(domain)
}

/// Lifts the suspension of `text`'s domain; NotFound if there was none.
pub async fn unsuspend(db: &Db, config: &Config, text: &str) -> Result<String, AppError> {
    let domain = domain(text, config)?;
    if !db::domain_blocks::remove(db, &domain).await? {
        return Err(AppError::NotFound(format!("{domain} is not blocked")));
    }
    tracing::info!(domain = %domain, "domain unsuspended");
    Ok(domain)
}

pub async fn list(db: &Db) -> Result<Vec<DomainBlock>, AppError> {
    db::domain_blocks::list(db).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HubArgs;

    fn config() -> Config {
        Config::from_args(&HubArgs::with_public_url("https://social.coop.example")).unwrap()
    }

    #[test]
    fn domains_are_checked_and_normalised() {
        let c = config();
        assert_eq!(domain(" Spam.Example. ", &c).unwrap(), "spam.example");
        assert_eq!(
            domain("bücher.example", &c).unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "spam example",
            "https://spam.example/",
            "spam.example:443",
            "user@spam.example",
            "*.spam.example",
            "192.0.2.1",
            "localhost",
            "social.coop.example",
            "coop.example",
        ] {
            assert!(domain(bad, &c).is_err(), "{bad:?} must be refused");
        }
    }
}
