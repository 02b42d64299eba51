//! A small map of recently read values that expire after a fixed time: what the hot paths keep
//! instead of reading the store on every request (the deployed apps in `oauth::registry`, the
//! orgs, users and their access in `directory`).
//!
//! Times come from the server's clock, so tests move them. A value loaded "in the future"
//! (the clock went back) counts as stale. When the map reaches its size limit it is emptied,
//! so a flood of distinct keys costs reloads, never unbounded memory. Only values that exist
//! are kept by the callers: an unknown key is read again every time, so nothing made up can
//! fill the map and a value created on another node is seen at once.
//!
//! **A load never undoes a forget.** A value read from the store before a change and put in
//! after this node dropped the entries for that change ([`TtlCache::clear`],
//! [`TtlCache::retain`], [`TtlCache::forget`]) would serve the old state for a whole TTL. So a load takes a
//! [`Ticket`] before it reads, and [`TtlCache::put`] keeps the value only when nothing was
//! forgotten since.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use eca_core::Timestamp;

/// Values by key, each used for `ttl_ms` after it was loaded.
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    max: usize,
    entries: RwLock<Entries<K, V>>,
}

struct Entries<K, V> {
    map: HashMap<K, (V, Timestamp)>,
    /// Counts forgets ([`TtlCache::clear`], [`TtlCache::retain`], [`TtlCache::forget`]).
    generation: u64,
}

/// Taken before a load reads the store ([`TtlCache::ticket`]); the loaded value goes in only if
/// nothing was forgotten meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

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
            entries: RwLock::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
        }
    }

    // Entries are inserted and removed whole under the write lock: a panic elsewhere cannot
    // leave one half-made, so a poisoned lock is still usable.
    fn read(&self) -> RwLockReadGuard<'_, Entries<K, V>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries<K, V>> {
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
        let (value, loaded_at) = entries.map.get(key)?;
        let age = now.millis() - loaded_at.millis();
        (age >= 0 && age < self.ttl_ms).then(|| value.clone())
    }

    /// What a load takes before it reads the store, for [`TtlCache::put`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.read().generation)
    }

    /// Keeps `value` for `key`, loaded at `now` by a load that took `ticket` before reading;
    /// nothing when entries were forgotten since (the value may predate the change).
    pub fn put(&self, key: K, value: V, now: Timestamp, ticket: Ticket) {
        let mut entries = self.write();
        if entries.generation != ticket.0 {
            return;
        }
        if entries.map.len() >= self.max && !entries.map.contains_key(&key) {
            // Room for new keys; nothing anyone asked to forget, so loads in flight may still
            // put what they read.
            entries.map.clear();
        }
        entries.map.insert(key, (value, now));
    }

    /// Drops the entry of `key`.
    pub fn forget<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.write();
        entries.generation += 1;
        entries.map.remove(key);
    }

    /// Drops the entries whose value fails `keep`.
    pub fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        let mut entries = self.write();
        entries.generation += 1;
        entries.map.retain(|_, (value, _)| keep(value));
    }

    /// Drops everything.
    pub fn clear(&self) {
        let mut entries = self.write();
        entries.generation += 1;
        entries.map.clear();
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
        cache.put("a".to_owned(), 1, at(5_000), cache.ticket());
        assert_eq!(cache.get("a", at(5_000)), Some(1));
        assert_eq!(cache.get("a", at(5_999)), Some(1));
        assert_eq!(cache.get("a", at(6_000)), None);
        assert_eq!(cache.get("a", at(4_999)), None, "the clock went back");
        assert_eq!(cache.get("b", at(5_000)), None);
    }

    #[test]
    fn a_full_cache_is_emptied_before_a_new_key_goes_in() {
        let cache = TtlCache::new(1_000, 2);
        cache.put(1, "one", at(0), cache.ticket());
        cache.put(2, "two", at(0), cache.ticket());
        cache.put(2, "two again", at(0), cache.ticket());
        assert_eq!(
            cache.get(&1, at(0)),
            Some("one"),
            "replacing a key is no growth"
        );
        cache.put(3, "three", at(0), cache.ticket());
        assert_eq!(cache.get(&1, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), None);
        assert_eq!(cache.get(&3, at(0)), Some("three"));
    }

    #[test]
    fn a_load_that_read_before_a_forget_puts_nothing() {
        let cache = TtlCache::new(1_000, 10);
        // A load reads "enabled" from the store...
        let before_clear = cache.ticket();
        let before_retain = cache.ticket();
        // ...the change is made and this node forgets what it had...
        cache.clear();
        // ...and the load finishes: its value is not kept.
        cache.put(1, "enabled", at(0), before_clear);
        assert_eq!(cache.get(&1, at(0)), None);
        // The same after a retain.
        let ticket = cache.ticket();
        cache.put(2, "kept", at(0), ticket);
        cache.retain(|_| true);
        cache.put(3, "stale", at(0), before_retain);
        cache.put(3, "stale", at(0), ticket);
        assert_eq!(cache.get(&3, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), Some("kept"));
        // A load that started after the forget is kept.
        cache.put(3, "fresh", at(0), cache.ticket());
        assert_eq!(cache.get(&3, at(0)), Some("fresh"));
    }

    #[test]
    fn retain_and_clear_forget() {
        let cache = TtlCache::new(1_000, 10);
        cache.put(1, 10, at(0), cache.ticket());
        cache.put(2, 20, at(0), cache.ticket());
        cache.retain(|v| *v != 10);
        assert_eq!(cache.get(&1, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), Some(20));
        cache.put(3, 30, at(0), cache.ticket());
        cache.forget(&3);
        assert_eq!(cache.get(&3, at(0)), None);
        assert_eq!(cache.get(&2, at(0)), Some(20));
        cache.clear();
        assert_eq!(cache.get(&2, at(0)), None);
    }
}
