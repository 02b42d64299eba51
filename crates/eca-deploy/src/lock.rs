//! One deploy at a time per org: an async mutex per org id, with no runtime dependency (the
//! engine knows no executor). Deploys to different orgs never wait for each other.
//!
//! Waiters are served in the order they asked ([`OrgLocks::lock`] takes a ticket), so a busy
//! org cannot starve a deploy. A waiter that gives up (its future is dropped) leaves the
//! queue and passes its turn on. This serializes the deploys of one server process; several
//! server nodes on one PostgreSQL database are kept consistent by the store instead (every
//! change names the revision it read, so a deploy that lost a race is planned again).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use eca_core::OrgId;

/// The deploy locks of every org. Build one at start-up and share it.
#[derive(Debug, Default)]
pub struct OrgLocks {
    orgs: Mutex<HashMap<OrgId, Queue>>,
    tickets: AtomicU64,
}

#[derive(Debug, Default)]
struct Queue {
    held: bool,
    /// Waiting tickets, oldest first, with the waker of their last poll.
    waiters: BTreeMap<u64, Waker>,
}

impl Queue {
    fn wake_first(&self) {
        if let Some(waker) = self.waiters.values().next() {
            waker.wake_by_ref();
        }
    }
}

impl OrgLocks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the org's lock; it is held until the guard is dropped.
    pub fn lock(&self, org: &OrgId) -> Acquire<'_> {
        Acquire {
            locks: self,
            org: org.clone(),
            ticket: self.tickets.fetch_add(1, Ordering::Relaxed),
            acquired: false,
        }
    }

    /// Whether a deploy holds the org's lock now (for tests and metrics).
    pub fn is_locked(&self, org: &OrgId) -> bool {
        self.orgs().get(org).is_some_and(|q| q.held)
    }

    fn orgs(&self) -> MutexGuard<'_, HashMap<OrgId, Queue>> {
        // The map stays consistent whatever panicked while holding it: every change to it is
        // a single insert or remove.
        self.orgs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The future [`OrgLocks::lock`] returns.
#[derive(Debug)]
pub struct Acquire<'a> {
    locks: &'a OrgLocks,
    org: OrgId,
    ticket: u64,
    acquired: bool,
}

impl<'a> Future for Acquire<'a> {
    type Output = OrgGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OrgGuard<'a>> {
        let this = self.get_mut();
        let mut orgs = this.locks.orgs();
        let queue = orgs.entry(this.org.clone()).or_default();
        let first = queue.waiters.keys().next().copied();
        if !queue.held && first.is_none_or(|t| t == this.ticket) {
            queue.held = true;
            queue.waiters.remove(&this.ticket);
            this.acquired = true;
            Poll::Ready(OrgGuard {
                locks: this.locks,
                org: this.org.clone(),
            })
        } else {
            queue.waiters.insert(this.ticket, cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.acquired {
            return;
        }
        let mut orgs = self.locks.orgs();
        let Some(queue) = orgs.get_mut(&self.org) else {
            return;
        };
        queue.waiters.remove(&self.ticket);
        if !queue.held {
            // This waiter may have been woken for its turn: hand the turn on.
            queue.wake_first();
            if queue.waiters.is_empty() {
                orgs.remove(&self.org);
            }
        }
    }
}

/// Holds an org's deploy lock.
#[derive(Debug)]
pub struct OrgGuard<'a> {
    locks: &'a OrgLocks,
    org: OrgId,
}

impl Drop for OrgGuard<'_> {
    fn drop(&mut self) {
        let mut orgs = self.locks.orgs();
        let Some(queue) = orgs.get_mut(&self.org) else {
            return;
        };
        queue.held = false;
        if queue.waiters.is_empty() {
            orgs.remove(&self.org);
        } else {
            queue.wake_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::rng::DeterministicRng;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn poll<F: Future + Unpin>(f: &mut F, flag: &Arc<Flag>) -> Poll<F::Output> {
        let waker = Waker::from(flag.clone());
        Pin::new(f).poll(&mut Context::from_waker(&waker))
    }

    fn flag() -> Arc<Flag> {
        Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)))
    }

    #[test]
    fn one_holder_per_org_served_in_order() {
        let rng = DeterministicRng::new(1);
        let (a, b) = (OrgId::generate(&rng), OrgId::generate(&rng));
        let locks = OrgLocks::new();
        let (fa, fb, fc) = (flag(), flag(), flag());
        let mut first = locks.lock(&a);
        let Poll::Ready(guard) = poll(&mut first, &fa) else {
            panic!("a free lock is taken at once")
        };
        let mut second = locks.lock(&a);
        let mut third = locks.lock(&a);
        assert!(poll(&mut second, &fb).is_pending());
        assert!(poll(&mut third, &fc).is_pending());
        // Another org is independent.
        let mut other = locks.lock(&b);
        assert!(poll(&mut other, &fa).is_ready());
        assert!(locks.is_locked(&a));

        drop(guard);
        assert!(fb.0.load(Ordering::SeqCst), "the oldest waiter is woken");
        assert!(!fc.0.load(Ordering::SeqCst));
        // The third cannot jump the queue.
        assert!(poll(&mut third, &fc).is_pending());
        let Poll::Ready(guard) = poll(&mut second, &fb) else {
            panic!("the second waiter gets the lock")
        };
        drop(guard);
        assert!(poll(&mut third, &fc).is_ready());
    }

    #[test]
    fn a_waiter_that_gives_up_passes_its_turn_on() {
        let org = OrgId::generate(&DeterministicRng::new(2));
        let locks = OrgLocks::new();
        let (fa, fb, fc) = (flag(), flag(), flag());
        let mut first = locks.lock(&org);
        let Poll::Ready(guard) = poll(&mut first, &fa) else {
            panic!()
        };
        let mut second = locks.lock(&org);
        let mut third = locks.lock(&org);
        assert!(poll(&mut second, &fb).is_pending());
        assert!(poll(&mut third, &fc).is_pending());
        drop(guard);
        drop(second);
        assert!(
            fc.0.load(Ordering::SeqCst),
            "the turn moves on to the third"
        );
        let Poll::Ready(guard) = poll(&mut third, &fc) else {
            panic!()
        };
        drop(guard);
        drop(third);
        assert!(locks.orgs().is_empty(), "no entry is left behind");
    }
}
