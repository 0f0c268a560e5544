//! A small cache with a time to live, for state read from KV on the hot path
//! (template states, API keys, revocations). The shell keeps one per isolate.
//!
//! Together with KV's own edge cache (`KV_CACHE_TTL`), an entry is at most
//! `TTL_MS + KV_CACHE_TTL` seconds old: under the 60 s the API promises for
//! deactivation and revocation to reach every location.

use std::collections::HashMap;

/// How long an isolate trusts what it read.
pub const TTL_MS: u64 = 20_000;
/// Seconds KV may serve a read from its edge cache (its minimum).
pub const KV_CACHE_TTL: u64 = 30;
// An isolate's view plus KV's edge cache stay under the promised 60 s.
const _: () = assert!(KV_CACHE_TTL * 1000 + TTL_MS < 60_000);

/// Entries kept at most; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 10_000;

pub struct Cache<V> {
    entries: HashMap<String, (V, u64)>,
}

impl<V: Clone> Default for Cache<V> {
    fn default() -> Self {
        Cache {
            entries: HashMap::new(),
        }
    }
}

impl<V: Clone> Cache<V> {
    /// The value put at most `TTL_MS` before `now_ms`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(_, at)| now_ms < at + TTL_MS)
            .map(|(v, _)| v.clone())
    }

    pub fn put(&mut self, key: String, value: V, now_ms: u64) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(key, (value, now_ms));
    }

    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let mut c = Cache::default();
        c.put("a".into(), 1, 1_000);
        assert_eq!(c.get("a", 1_000), Some(1));
        assert_eq!(c.get("a", 1_000 + TTL_MS - 1), Some(1));
        assert_eq!(c.get("a", 1_000 + TTL_MS), None);
        assert_eq!(c.get("b", 1_000), None);
        c.forget("a");
        assert_eq!(c.get("a", 1_000), None);
    }

    #[test]
    fn bounded() {
        let mut c = Cache::default();
        for i in 0..MAX_ENTRIES {
            c.put(i.to_string(), i, 0);
        }
        assert_eq!(c.get("5", 0), Some(5));
        c.put("new".into(), 1, 0);
        assert_eq!(c.get("5", 0), None, "emptied when full");
        assert_eq!(c.get("new", 0), Some(1));
    }
}
