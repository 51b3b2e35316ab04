//! Login throttling: sign-in attempts are counted per account and per
//! client IP in a sliding window; past the limit every attempt (even a
//! correct one) gets 429 with `Retry-After` until the window moves on.
//!
//! The counters are rows in the database (`db::login_attempts`), so every
//! process of a deployment shares them and the limits hold for the whole
//! deployment: N processes do not give an attacker N times the budget.
//! Sign-ins are rare and each costs an argon2id check, so the few extra
//! queries cost nothing that matters.
//!
//! An attempt is recorded *before* it is judged: of several attempts racing
//! from different processes, each sees the others' rows, so they can only
//! be refused too often, never let through too often. A refused attempt
//! takes its rows back (waiting is not failing); a successful one takes
//! back its IP row and clears its account's.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::OAuthArgs;
use crate::db::{self, login_attempts, Db};
use crate::error::AppError;
use crate::secrets;

#[derive(Debug)]
pub struct Throttle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
}

/// The throttle's answer to one attempt.
#[derive(Debug)]
pub enum Verdict {
    /// Go on and check the password; report success with the ticket.
    Allowed(Ticket),
    /// Refused: this account or IP must wait this long.
    Wait(Duration),
}

/// An allowed attempt's rows, for [`Throttle::succeeded`].
#[derive(Debug)]
pub struct Ticket {
    account_key: String,
    ip_row: String,
}

impl Throttle {
    pub fn new(args: &OAuthArgs) -> Throttle {
        Throttle {
            per_account: args.login_max_failures_per_account.max(1),
            per_ip: args.login_max_failures_per_ip.max(1),
            window: Duration::from_secs(args.login_window_secs.max(1)),
        }
    }

    /// Counts a sign-in attempt as a failure until [`Throttle::succeeded`]
    /// says otherwise, or refuses it when the account or the IP has used
    /// up its failures in the window.
    pub async fn attempt(&self, db: &Db, account: &str, ip: IpAddr) -> Result<Verdict, AppError> {
        let now = db::now_millis();
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let since = now.saturating_sub(window_ms);
        let account_key = format!("account:{}", account.to_lowercase());
        let ip_key = format!("ip:{ip}");
        let account_row = secrets::random_hex(16)?;
        let ip_row = secrets::random_hex(16)?;
        login_attempts::record(
            db,
            &[(&account_row, &account_key), (&ip_row, &ip_key)],
            now,
            since,
        )
        .await?;
        let mut longest = None;
        for (key, own, limit) in [
            (&account_key, &account_row, self.per_account),
            (&ip_key, &ip_row, self.per_ip),
        ] {
            let times = login_attempts::recent(db, key, since, own, limit).await?;
            longest = longest.max(wait(&times, limit, window_ms, now));
        }
        match longest {
            Some(wait) => {
                login_attempts::forget(db, &[&account_row, &ip_row]).await?;
                Ok(Verdict::Wait(wait))
            }
            None => Ok(Verdict::Allowed(Ticket {
                account_key,
                ip_row,
            })),
        }
    }

    /// A successful sign-in: the account's failures are cleared, and this
    /// attempt no longer counts against the IP (earlier failures from it
    /// still do: one good account must not launder guesses against others).
    pub async fn succeeded(&self, db: &Db, ticket: Ticket) -> Result<(), AppError> {
        login_attempts::clear(db, &ticket.account_key).await?;
        login_attempts::forget(db, &[&ticket.ip_row]).await
    }
}

/// How long to wait before one more attempt is allowed, given the other
/// attempts in the window (newest first, at most `limit` of them): none
/// while fewer than `limit`, else until the oldest of them leaves it.
fn wait(newest_first: &[i64], limit: u32, window_ms: i64, now: i64) -> Option<Duration> {
    let oldest_counted = *newest_first.get(usize::try_from(limit).ok()?.checked_sub(1)?)?;
    let left = window_ms.saturating_sub(now.saturating_sub(oldest_counted));
    Some(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_once_the_limit_is_used() {
        let window = 900_000;
        let now = 10_000_000;
        assert_eq!(wait(&[], 3, window, now), None);
        assert_eq!(wait(&[now - 10, now - 20], 3, window, now), None);
        // Three failures in the window, the oldest 100 s ago: 800 s left.
        let full = [now - 1_000, now - 50_000, now - 100_000];
        assert_eq!(wait(&full, 3, window, now), Some(Duration::from_secs(800)));
        // A failure from the window's very edge leaves nothing to wait.
        assert_eq!(
            wait(&[now, now, now - window], 3, window, now),
            Some(Duration::ZERO)
        );
        assert_eq!(wait(&full, 0, window, now), None);
    }
}
