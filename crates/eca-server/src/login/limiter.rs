//! An in-memory limit on failed attempts per key, in fixed windows: failed logins per client
//! address, which slows down password guessing across many usernames (the per-user lockout
//! cannot see that), wrong device user codes per user (`oauth::activate`), and retrieves per
//! org (`metadata::soap`: each keeps its zip in the store for an hour). Being in
//! memory it is per server node; the per-user login lockout is in the database and shared.
//!
//! An IPv6 client counts by its /64 network: one host is usually given a whole /64, and
//! counting each address apart would give it 2^64 budgets.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use eca_core::Timestamp;

/// Past this many tracked addresses, windows that have ended are dropped. After a prune the
/// next waits until the map has doubled, so a map full of current windows is not scanned on
/// every attempt (each prune's cost is paid for by the insertions before it).
const PRUNE_AT: usize = 10_000;

#[derive(Debug)]
pub struct LoginLimiter<K: LimitKey = IpAddr> {
    max_failures: u32,
    window_ms: i64,
    windows: Mutex<Windows<K>>,
}

#[derive(Debug)]
struct Windows<K> {
    by_client: HashMap<K, Window>,
    prune_at: usize,
}

/// What attempts are counted by.
pub trait LimitKey: Eq + Hash + Clone + std::fmt::Debug {
    /// The key the attempts of `self` count under.
    fn counted_as(&self) -> Self;
}

impl LimitKey for IpAddr {
    fn counted_as(&self) -> Self {
        client_key(*self)
    }
}

impl LimitKey for eca_core::UserId {
    fn counted_as(&self) -> Self {
        self.clone()
    }
}

impl LimitKey for eca_core::OrgId {
    fn counted_as(&self) -> Self {
        self.clone()
    }
}

/// The key an address counts under: IPv4 as it is (also when mapped into IPv6), IPv6 by its
/// /64 network.
fn client_key(ip: IpAddr) -> IpAddr {
    match crate::proxy::canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// An attempt under way, counted as a failure until it [succeeds](LoginLimiter::succeeded).
#[derive(Debug)]
#[must_use = "an attempt that succeeds must be given back"]
pub struct Attempt<K = IpAddr> {
    key: K,
    started: Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
}

impl<K: LimitKey> LoginLimiter<K> {
    pub fn new(max_failures: u32, window_ms: i64) -> Self {
        Self {
            max_failures,
            window_ms,
            windows: Mutex::new(Windows {
                by_client: HashMap::new(),
                prune_at: PRUNE_AT,
            }),
        }
    }

    /// Whether `ip` has used up its failures in the current window (the tests' view; the
    /// server asks [`LoginLimiter::try_begin`], which tests and counts at once).
    #[cfg(test)]
    fn is_blocked(&self, key: K, now: Timestamp) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.blocked(&windows, &key, now)
    }

    fn blocked(&self, windows: &Windows<K>, key: &K, now: Timestamp) -> bool {
        windows
            .by_client
            .get(&key.counted_as())
            .is_some_and(|w| self.is_current(w, now) && w.failures >= self.max_failures)
    }

    /// Counts a failed attempt of `key`.
    pub fn record_failure(&self, key: K, now: Timestamp) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.count(&mut windows, &key, now);
    }

    /// Starts an attempt of `key`: `None` when it has used up its failures, else the
    /// attempt, already counted as a failure. Counting before the check, under the same lock
    /// as the test, means a burst of concurrent attempts gets no more checks than the limit;
    /// an attempt that succeeds gives its count back ([`LoginLimiter::succeeded`]).
    pub fn try_begin(&self, key: K, now: Timestamp) -> Option<Attempt<K>> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if self.blocked(&windows, &key, now) {
            return None;
        }
        let started = self.count(&mut windows, &key, now);
        Some(Attempt { key, started })
    }

    /// Gives back the count of an attempt that did not fail, if its window is still current.
    pub fn succeeded(&self, attempt: Attempt<K>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.by_client.get_mut(&attempt.key.counted_as())
            && w.started == attempt.started
        {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    /// Counts one failure for `key`; the start of the window it went into.
    fn count(&self, windows: &mut Windows<K>, key: &K, now: Timestamp) -> Timestamp {
        if windows.by_client.len() >= windows.prune_at {
            windows
                .by_client
                .retain(|_, w| now.millis() - w.started.millis() < self.window_ms);
            windows.prune_at = PRUNE_AT.max(2 * windows.by_client.len());
        }
        let window = windows.by_client.entry(key.counted_as()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if !self.is_current(window, now) {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        window.started
    }

    fn is_current(&self, w: &Window, now: Timestamp) -> bool {
        now.millis() - w.started.millis() < self.window_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_within_the_window_only() {
        let limiter: LoginLimiter = LoginLimiter::new(3, 60_000);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Timestamp::from_secs(1000);
        for _ in 0..3 {
            assert!(!limiter.is_blocked(ip, t));
            limiter.record_failure(ip, t);
        }
        assert!(limiter.is_blocked(ip, t.plus_secs(59)));
        assert!(!limiter.is_blocked(other, t));
        assert!(!limiter.is_blocked(ip, t.plus_secs(60)));
        limiter.record_failure(ip, t.plus_secs(60));
        assert!(!limiter.is_blocked(ip, t.plus_secs(61)));
    }

    #[test]
    fn attempts_count_when_they_start_and_successes_give_theirs_back() {
        let limiter: LoginLimiter = LoginLimiter::new(2, 60_000);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Timestamp::from_secs(1000);
        let first = limiter.try_begin(ip, t).unwrap();
        let second = limiter.try_begin(ip, t).unwrap();
        // Two attempts under way use up the limit before either is decided.
        assert!(limiter.try_begin(ip, t).is_none());
        limiter.succeeded(first);
        let third = limiter.try_begin(ip, t).unwrap();
        assert!(limiter.is_blocked(ip, t));
        drop((second, third));
        // A success from a window that has ended gives nothing back to the next one.
        let late = limiter.try_begin(ip, t.plus_secs(60)).unwrap();
        let old = Attempt {
            key: ip,
            started: t,
        };
        limiter.succeeded(old);
        assert!(limiter.try_begin(ip, t.plus_secs(61)).is_some());
        assert!(limiter.is_blocked(ip, t.plus_secs(61)));
        limiter.succeeded(late);
        assert!(!limiter.is_blocked(ip, t.plus_secs(61)));
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network() {
        let limiter: LoginLimiter = LoginLimiter::new(2, 60_000);
        let t = Timestamp::from_secs(1000);
        limiter.record_failure("2001:db8:1:2::1".parse().unwrap(), t);
        limiter.record_failure("2001:db8:1:2:ffff::9".parse().unwrap(), t);
        assert!(limiter.is_blocked("2001:db8:1:2:abcd::7".parse().unwrap(), t));
        assert!(!limiter.is_blocked("2001:db8:1:3::1".parse().unwrap(), t));
        // An IPv4 client reached through a dual-stack socket counts as itself.
        limiter.record_failure("192.0.2.7".parse().unwrap(), t);
        limiter.record_failure("::ffff:192.0.2.7".parse().unwrap(), t);
        assert!(limiter.is_blocked("192.0.2.7".parse().unwrap(), t));
    }

    #[test]
    fn a_map_of_current_windows_is_not_pruned_on_every_attempt() {
        let limiter: LoginLimiter = LoginLimiter::new(5, 60_000);
        let t = Timestamp::from_secs(1000);
        let v4 = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        for n in 0..=PRUNE_AT as u32 {
            limiter.record_failure(v4(n), t);
        }
        let windows = limiter.windows.lock().unwrap();
        assert_eq!(windows.by_client.len(), PRUNE_AT + 1);
        // Nothing could be dropped, so the next prune waits for twice as many.
        assert_eq!(windows.prune_at, 2 * PRUNE_AT);
    }
}
