//! A small per-isolate cache with a time to live, for state read from KV on
//! the hot path (template states, API keys, revocations).
//!
//! Together with KV's own edge cache (`KV_CACHE_TTL`), an entry is at most
//! `TTL_MS + KV_CACHE_TTL` seconds old: under the 60 s the API promises for
//! deactivation and revocation to reach every location.

use std::collections::HashMap;

/// How long an isolate trusts what it read.
pub const TTL_MS: u64 = 20_000;
/// Seconds KV may serve a read from its edge cache (its minimum).
pub const KV_CACHE_TTL: u64 = 30;
/// Entries kept at most; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 10_000;

pub struct Cache<V> {
    entries: HashMap<String, (V, u64)>,
}

impl<V: Clone> Cache<V> {
    pub fn new() -> Self {
        Cache {
            entries: HashMap::new(),
        }
    }

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
