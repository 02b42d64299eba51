//! An in-memory limit on failed logins per client address, in fixed windows. It slows down
//! password guessing across many usernames, which the per-user lockout cannot see. Being in
//! memory it is per server node; the per-user lockout is in the database and shared.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use eca_core::Timestamp;

/// Past this many tracked addresses, windows that have ended are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window_ms: i64,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

/// An attempt under way, counted as a failure until it [succeeds](LoginLimiter::succeeded).
#[derive(Debug)]
#[must_use = "an attempt that succeeds must be given back"]
pub struct Attempt {
    ip: IpAddr,
    started: Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_ms: i64) -> Self {
        Self {
            max_failures,
            window_ms,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` has used up its failures in the current window (the tests' view; the
    /// server asks [`LoginLimiter::try_begin`], which tests and counts at once).
    #[cfg(test)]
    fn is_blocked(&self, ip: IpAddr, now: Timestamp) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.blocked(&windows, ip, now)
    }

    fn blocked(&self, windows: &HashMap<IpAddr, Window>, ip: IpAddr, now: Timestamp) -> bool {
        windows
            .get(&ip)
            .is_some_and(|w| self.is_current(w, now) && w.failures >= self.max_failures)
    }

    /// Counts a failed login from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Timestamp) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.count(&mut windows, ip, now);
    }

    /// Starts an attempt from `ip`: `None` when the address has used up its failures, else the
    /// attempt, already counted as a failure. Counting before the check, under the same lock
    /// as the test, means a burst of concurrent attempts gets no more checks than the limit;
    /// an attempt that succeeds gives its count back ([`LoginLimiter::succeeded`]).
    pub fn try_begin(&self, ip: IpAddr, now: Timestamp) -> Option<Attempt> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if self.blocked(&windows, ip, now) {
            return None;
        }
        let started = self.count(&mut windows, ip, now);
        Some(Attempt { ip, started })
    }

    /// Gives back the count of an attempt that did not fail, if its window is still current.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(&attempt.ip)
            && w.started == attempt.started
        {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    /// Counts one failure for `ip`; the start of the window it went into.
    fn count(
        &self,
        windows: &mut HashMap<IpAddr, Window>,
        ip: IpAddr,
        now: Timestamp,
    ) -> Timestamp {
        if windows.len() >= PRUNE_AT {
            windows.retain(|_, w| now.millis() - w.started.millis() < self.window_ms);
        }
        let window = windows.entry(ip).or_insert(Window {
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
        let limiter = LoginLimiter::new(3, 60_000);
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
        let limiter = LoginLimiter::new(2, 60_000);
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
        let old = Attempt { ip, started: t };
        limiter.succeeded(old);
        assert!(limiter.try_begin(ip, t.plus_secs(61)).is_some());
        assert!(limiter.is_blocked(ip, t.plus_secs(61)));
        limiter.succeeded(late);
        assert!(!limiter.is_blocked(ip, t.plus_secs(61)));
    }
}
