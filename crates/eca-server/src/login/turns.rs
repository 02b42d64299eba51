//! One password check at a time per username on this node.
//!
//! A login attempt is counted as a failure when it starts (`check_password`) and given back
//! when the password is right. Several logins of one user in flight at once (an integration's
//! workers starting together) would add up to the lockout limit and lock a user who never
//! typed a wrong password; taking turns keeps at most one attempt per user and node counted
//! at a time, so only real failures accumulate. Across nodes the count stays exact (it is one
//! statement in the store); at most one attempt per node is in flight for a user.
//!
//! Turns are by username (ignoring case), taken before the user is looked up, so that an
//! unknown username waits its turn as a real one does: attempts answered one after another
//! for real users and all at once for unknown ones would tell which usernames exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

/// Past this many users with a lock entry, entries nobody holds or waits for are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginTurns {
    users: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The user's turn; the next attempt for the user goes when it is dropped.
#[derive(Debug)]
pub struct Turn(#[allow(dead_code)] OwnedMutexGuard<()>);

impl LoginTurns {
    /// Waits for the turn of `username` (any case).
    pub async fn take(&self, username: &str) -> Turn {
        let lock = {
            let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            if users.len() >= PRUNE_AT {
                users.retain(|_, l| Arc::strong_count(l) > 1);
            }
            // By a hash: usernames are anyone's input (up to a request body long), and the
            // entries stay until the map is pruned.
            let key = eca_core::crypto::token_hash(&username.to_lowercase());
            Arc::clone(users.entry(key).or_default())
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
        let (alice, bob) = ("alice@example.com", "bob@example.com");
        let first = turns.take(alice).await;
        // Bob does not wait for Alice.
        let _bob = turns.take(bob).await;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            turns.take("Alice@Example.COM"),
        );
        assert!(waiting.await.is_err(), "a second turn of Alice waits");
        drop(first);
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), turns.take(alice));
        assert!(again.await.is_ok());
    }
}
