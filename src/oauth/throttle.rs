//! Login throttling: failed sign-ins are counted per account and per
//! client IP in a sliding window; past the limit every attempt (even a
//! correct one) gets 429 with `Retry-After` until the window moves on.
//!
//! The counters live in memory: they guard one process, reset on restart
//! and cost nothing on the hot path. Behind several processes the limit is
//! per process, which still bounds guessing to a small multiple.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::OAuthArgs;

#[derive(Debug)]
pub struct Throttle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Ip(IpAddr),
}

/// Most distinct keys remembered; beyond it the oldest-failing are dropped
/// so a spray of random names cannot grow memory without bound.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub fn new(args: &OAuthArgs) -> Throttle {
        Throttle {
            per_account: args.login_max_failures_per_account.max(1),
            per_ip: args.login_max_failures_per_ip.max(1),
            window: Duration::from_secs(args.login_window_secs.max(1)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a sign-in attempt, or refuses it: `Some(wait)` when this
    /// account or IP must wait. The attempt is counted as a failure at once,
    /// under the lock, so parallel requests cannot all slip through before
    /// the first one's password check ends; [`Throttle::succeeded`] takes
    /// it back.
    pub fn attempt(&self, account: &str, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let keys = [
            (Key::Account(account.to_lowercase()), self.per_account),
            (Key::Ip(ip), self.per_ip),
        ];
        let wait = keys
            .iter()
            .filter_map(|(key, limit)| {
                let times = map.get_mut(key)?;
                while times.front().is_some_and(|t| now - *t >= self.window) {
                    times.pop_front();
                }
                if times.len() as u32 >= *limit {
                    times.front().map(|first| self.window - (now - *first))
                } else {
                    None
                }
            })
            .max();
        if wait.is_some() {
            return wait;
        }
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, times| times.back().is_some_and(|t| now - *t < window));
        }
        for (key, limit) in keys {
            let times = map.entry(key).or_default();
            times.push_back(now);
            // Only the newest `limit` failures matter.
            while times.len() > limit as usize {
                times.pop_front();
            }
        }
        None
    }

    /// A successful sign-in: the account's failures are cleared, and this
    /// attempt no longer counts against the IP (earlier failures from it
    /// still do: one good account must not launder guesses against others).
    pub fn succeeded(&self, account: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Key::Account(account.to_lowercase()));
        if let Some(times) = map.get_mut(&Key::Ip(ip)) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(&OAuthArgs {
            login_max_failures_per_account: 3,
            login_max_failures_per_ip: 5,
            ..OAuthArgs::default()
        })
    }

    #[test]
    fn locks_an_account_after_its_limit() {
        let t = throttle();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.attempt("alice", ip).is_none());
        }
        let wait = t.attempt("Alice", ip).unwrap();
        assert!(wait > Duration::from_secs(800) && wait <= Duration::from_secs(900));
        // Another account from another IP is unaffected.
        assert!(t.attempt("bob", "10.0.0.2".parse().unwrap()).is_none());
    }

    #[test]
    fn locks_an_ip_spraying_many_accounts() {
        let t = throttle();
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        for i in 0..5 {
            assert!(t.attempt(&format!("user{i}"), ip).is_none());
        }
        assert!(t.attempt("someone-else", ip).is_some());
        let elsewhere: IpAddr = "10.0.0.8".parse().unwrap();
        assert!(t.attempt("someone-else", elsewhere).is_none());
    }

    #[test]
    fn success_takes_its_attempt_back() {
        let t = throttle();
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        for _ in 0..10 {
            assert!(t.attempt("carol", ip).is_none());
            t.succeeded("carol", ip);
        }
        assert!(t.attempt("carol", ip).is_none());
    }
}
