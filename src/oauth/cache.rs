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
//!   refresh token) clears the token cache at once. Another process sharing
//!   the database clears its caches when PostgreSQL notifies it (see
//!   `db::revocations`), and on SQLite, or if a notification is lost,
//!   within `--token-cache-secs` (default 5 s; 0 turns the caches off).
//! - A lookup that started before a clear cannot put its (possibly
//!   revoked) result back afterwards: entries are only stored if no clear
//!   happened since the lookup began (a generation counter).
//! - A client whose presented secret does not match the cached one is
//!   re-read from the database, so a rotated secret works at once (the old
//!   one keeps working in a process that cached it for up to the TTL).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past it the cache starts over (cheap and rare).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<Entries<K, V>>,
}

#[derive(Debug)]
struct Entries<K, V> {
    /// Bumped by every clear.
    generation: u64,
    map: HashMap<K, (Instant, V)>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            entries: Mutex::new(Entries {
                generation: 0,
                map: HashMap::new(),
            }),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .map
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// The current generation: take it *before* the lookup whose result
    /// will be [`TtlCache::put`].
    pub fn generation(&self) -> u64 {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation
    }

    /// Stores a value looked up since `generation`, unless the cache was
    /// cleared meanwhile (the value may be stale then).
    pub fn put(&self, generation: u64, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.generation != generation {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.map.remove(key);
    }

    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.generation += 1;
        entries.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_zero_ttl_disables() {
        let cache = TtlCache::new(Duration::from_millis(30));
        cache.put(cache.generation(), "a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
        let off = TtlCache::new(Duration::ZERO);
        off.put(0, "a", 1);
        assert_eq!(off.get(&"a"), None);
        cache.put(cache.generation(), "b", 2);
        cache.clear();
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn a_lookup_older_than_a_clear_is_not_stored() {
        let cache = TtlCache::new(Duration::from_secs(60));
        let before = cache.generation();
        // A revocation clears while the lookup is in flight…
        cache.clear();
        // …so its result, read before the revocation, is dropped.
        cache.put(before, "token", "active");
        assert_eq!(cache.get(&"token"), None);
        cache.put(cache.generation(), "token", "active");
        assert_eq!(cache.get(&"token"), Some("active"));
    }
}
