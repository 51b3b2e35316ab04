//! A small in-memory memo in front of rows that rarely change and are read
//! on every request (who owns a key, whether a host is healthy, how a
//! sender is moderated). A leaf: it knows nothing of what it holds.
//!
//! The database stays the source of truth: an entry is trusted for a fixed
//! time, so what another hub process changes is seen within that time, and
//! this process forgets an entry as soon as it changes the row itself. The
//! memo is bounded: when full it is emptied, which costs a few reads again
//! and never a wrong answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
    ttl: Duration,
    capacity: usize,
    /// Bumped by every [`Memo::forget`]: a value read from the database
    /// before a forget must not be kept after it.
    generation: AtomicU64,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Memo<K, V> {
        Memo {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
            generation: AtomicU64::new(0),
        }
    }

    /// Taken before reading what will be kept, and given to [`Memo::put_if`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps `value` unless something was forgotten since `generation`
    /// was taken (it may have been read before that change).
    pub fn put_if(&self, generation: u64, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if self.generation.load(Ordering::SeqCst) != generation {
                return;
            }
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// The value kept for `key`, if it was kept less than the memo's time ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets every entry `stale` says is about a changed row.
    pub fn forget(&self, mut stale: impl FnMut(&K, &V) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|k, (_, v)| !stale(k, v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_are_forgotten_and_are_bounded() {
        let memo: Memo<String, u32> = Memo::new(Duration::from_millis(50), 2);
        memo.put("a".into(), 1);
        memo.put("b".into(), 2);
        assert_eq!(memo.get("a"), Some(1));
        memo.forget(|k, _| k == "a");
        assert_eq!(memo.get("a"), None);
        assert_eq!(memo.get("b"), Some(2));

        memo.put("c".into(), 3);
        memo.put("d".into(), 4); // full at 2: emptied first
        assert_eq!(memo.get("b"), None);
        assert_eq!(memo.get("d"), Some(4));

        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            memo.get("d"),
            None,
            "an entry older than the memo's time is not trusted"
        );
    }
}
