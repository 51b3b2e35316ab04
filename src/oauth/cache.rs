//! Short-lived in-memory caches in front of the two lookups every token
//! and introspection request makes: the client (by id) and an active
//! access token (by hash).
//!
//! Why: profiling the token and introspection endpoints showed about half
//! of the hub's CPU in the hand-off between request tasks and the
//! database's connection threads, not in SQL; a lookup that does not reach
//! the database is several times cheaper. The price is bounded staleness
//! across processes, so the rules are:
//! - Only *positive* results are cached (an active token, an existing
//!   client), never "unknown", so nothing new is ever refused by the cache.
//! - Any revocation in this process (revoke, logout, replayed code, reused
//!   refresh token) clears the token cache at once; another process sharing
//!   the database sees it within `--token-cache-secs` (default 5 s; 0
//!   turns the caches off).
//! - A client whose presented secret does not match the cached one is
//!   re-read from the database, so a rotated secret works at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past it the cache starts over (cheap and rare).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }

    pub fn clear(&self) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_zero_ttl_disables() {
        let cache = TtlCache::new(Duration::from_millis(30));
        cache.put("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
        let off = TtlCache::new(Duration::ZERO);
        off.put("a", 1);
        assert_eq!(off.get(&"a"), None);
        cache.put("b", 2);
        cache.clear();
        assert_eq!(cache.get(&"b"), None);
    }
}
