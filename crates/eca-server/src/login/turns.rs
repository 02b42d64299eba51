//! One password check at a time per user on this node.
//!
//! A login attempt is counted as a failure when it starts (`check_password`) and given back
//! when the password is right. Several logins of one user in flight at once (an integration's
//! workers starting together) would add up to the lockout limit and lock a user who never
//! typed a wrong password; taking turns keeps at most one attempt per user and node counted
//! at a time, so only real failures accumulate. Across nodes the count stays exact (it is one
//! statement in the store); at most one attempt per node is in flight for a user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use eca_core::UserId;
use tokio::sync::OwnedMutexGuard;

/// Past this many users with a lock entry, entries nobody holds or waits for are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginTurns {
    users: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>,
}

/// The user's turn; the next attempt for the user goes when it is dropped.
#[derive(Debug)]
pub struct Turn(#[allow(dead_code)] OwnedMutexGuard<()>);

impl LoginTurns {
    /// Waits for the user's turn.
    pub async fn take(&self, user: &UserId) -> Turn {
        let lock = {
            let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            if users.len() >= PRUNE_AT {
                users.retain(|_, l| Arc::strong_count(l) > 1);
            }
            Arc::clone(users.entry(user.clone()).or_default())
        };
        Turn(lock.lock_owned().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_user_at_a_time() {
        let turns = LoginTurns::default();
        let rng = eca_core::rng::DeterministicRng::new(1);
        let (alice, bob) = (UserId::generate(&rng), UserId::generate(&rng));
        let first = turns.take(&alice).await;
        // Bob does not wait for Alice.
        let _bob = turns.take(&bob).await;
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), turns.take(&alice));
        assert!(waiting.await.is_err(), "a second turn of Alice waits");
        drop(first);
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), turns.take(&alice));
        assert!(again.await.is_ok());
    }
}
