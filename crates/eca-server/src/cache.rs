//! A small map of recently read values that expire after a fixed time: what the hot paths keep
//! instead of reading the store on every request (the deployed apps in `oauth::registry`, the
//! orgs, users and their access in `directory`).
//!
//! Times come from the server's clock, so tests move them. A value loaded "in the future"
//! (the clock went back) counts as stale. When the map reaches its size limit it is emptied,
//! so a flood of distinct keys costs reloads, never unbounded memory. Only values that exist
//! are kept by the callers: an unknown key is read again every time, so nothing made up can
//! fill the map and a value created on another node is seen at once.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use eca_core::Timestamp;

/// Values by key, each used for `ttl_ms` after it was loaded.
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    max: usize,
    entries: RwLock<HashMap<K, (V, Timestamp)>>,
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache")
            .field("ttl_ms", &self.ttl_ms)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    /// A cache whose values live `ttl_ms` and that holds at most `max` of them.
    pub fn new(ttl_ms: i64, max: usize) -> Self {
        Self {
            ttl_ms,
            max,
            entries: RwLock::new(HashMap::new()),
        }
    }

    // Entries are inserted and removed whole under the write lock: a panic elsewhere cannot
    // leave one half-made, so a poisoned lock is still usable.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, (V, Timestamp)>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, (V, Timestamp)>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value of `key` if it was loaded less than the TTL before `now`.
    pub fn get<Q>(&self, key: &Q, now: Timestamp) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.read();
        let (value, loaded_at) = entries.get(key)?;
        let age = now.millis() - loaded_at.millis();
        (age >= 0 && age < self.ttl_ms).then(|| value.clone())
    }

    /// Keeps `value` for `key`, loaded at `now`.
    pub fn put(&self, key: K, value: V, now: Timestamp) {
        let mut entries = self.write();
        if entries.len() >= self.max && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (value, now));
    }

    /// Drops the entries whose value fails `keep`.
    pub fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        self.write().retain(|_, (value, _)| keep(value));
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn values_expire_after_the_ttl_and_never_come_from_the_future() {
        let cache = TtlCache::new(1_000, 10);
        cache.put("a".to_owned(), 1, at(5_000));
        assert_eq!(cache.get("a", at(5_000)), Some(1));
        assert_eq!(cache.get("a", at(5_999)), Some(1));
        assert_eq!(cache.get("a", at(6_000)), None);
        assert_eq!(cache.get("a", at(4_999)), None, "the clock went back");
        assert_eq!(cache.get("b", at(5_000)), None);
    }

    #[test]
    fn a_full_cache_is_emptied_before_a_new_key_goes_in() {
        let cache = TtlCache::new(1_000, 2);
        cache.put(1, "one", at(0));
        cache.put(2, "two", at(0));
        cache.put(2, "two again", at(0));
        assert_eq!(
            cache.get(&1, at(0)),
            Some("one"),
            "replacing a key is no growth"
        );
        cache.put(3, "three", at(0));
        assert_eq!(cache.get(&1, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), None);
        assert_eq!(cache.get(&3, at(0)), Some("three"));
    }

    #[test]
    fn retain_and_clear_forget() {
        let cache = TtlCache::new(1_000, 10);
        cache.put(1, 10, at(0));
        cache.put(2, 20, at(0));
        cache.retain(|v| *v != 10);
        assert_eq!(cache.get(&1, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), Some(20));
        cache.clear();
        assert_eq!(cache.get(&2, at(0)), None);
    }
}
