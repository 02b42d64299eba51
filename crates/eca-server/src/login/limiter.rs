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

    /// Whether `ip` has used up its failures in the current window.
    pub fn is_blocked(&self, ip: IpAddr, now: Timestamp) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows
            .get(&ip)
            .is_some_and(|w| self.is_current(w, now) && w.failures >= self.max_failures)
    }

    /// Counts a failed login from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Timestamp) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
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
}
