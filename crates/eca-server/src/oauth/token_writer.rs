//! Group commit of issued access tokens: concurrent grants share one transaction.
//!
//! Every opaque access token must be in the store before its response leaves (another node may
//! see it next; revocation and usage read it), and a write that returns `Ok` is durable
//! (`synchronous=FULL` on SQLite). One transaction per token makes the token endpoint as fast as
//! the disk can sync. Instead, a grant queues its record and waits; whichever waiting grant
//! holds the flush lock writes everything queued so far in one transaction
//! ([`TokenStore::create_access_tokens`]) and hands each grant its own result. Under load a
//! transaction carries as many tokens as arrived during the previous one; alone, a token is
//! written at once, as before. Nothing is acknowledged before it is committed.
//!
//! The flush runs in its own task holding the lock, so a grant whose client went away (its
//! future dropped) cannot abandon the records of the others. When a batch fails (a hash
//! clash, a user deleted meanwhile), each of its tokens is written again alone, so one bad
//! record fails only its own grant.
//!
//! [`TokenStore::create_access_tokens`]: eca_store::TokenStore::create_access_tokens

use std::sync::{Arc, Mutex};

use eca_store::{AccessTokenRecord, Store, StoreError, StoreResult};
use tokio::sync::oneshot;

/// At most this many tokens per transaction; the rest wait for the next one.
const MAX_BATCH: usize = 256;

type Waiter = (AccessTokenRecord, oneshot::Sender<StoreResult<()>>);

/// The queue and the flush lock; one per server process, in `AppState`.
#[derive(Default)]
pub struct TokenWriter {
    pending: Mutex<Vec<Waiter>>,
    flushing: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for TokenWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenWriter").finish_non_exhaustive()
    }
}

impl TokenWriter {
    /// Records `token`, returning once it is committed (or failed).
    pub async fn write(&self, store: &Arc<dyn Store>, token: AccessTokenRecord) -> StoreResult<()> {
        let (done, mut result) = oneshot::channel();
        self.queue().push((token, done));
        loop {
            let guard = Arc::clone(&self.flushing).lock_owned().await;
            match result.try_recv() {
                Ok(outcome) => return outcome,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err(StoreError::Database(
                        "the access token writer stopped before writing the token".to_owned(),
                    ));
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch = {
                let mut pending = self.queue();
                // Oldest first: the tail beyond MAX_BATCH waits for the next flush.
                let cut = pending.len().min(MAX_BATCH);
                let rest = pending.split_off(cut);
                std::mem::replace(&mut *pending, rest)
            };
            let store = Arc::clone(store);
            // Our own record may be beyond this batch: then we wait for the next flush.
            let flush = tokio::spawn(async move {
                let _guard = guard;
                flush(store.as_ref(), batch).await;
            });
            // A panic in the flush drops the senders: the waiters get `Closed` above.
            let _ = flush.await;
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiter>> {
        // A panic while holding this lock cannot leave the Vec half-changed (push and
        // split_off/replace do not panic midway), so a poisoned lock is still usable.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn flush(store: &dyn Store, batch: Vec<Waiter>) {
    if batch.is_empty() {
        return;
    }
    let records: Vec<AccessTokenRecord> = batch.iter().map(|(t, _)| t.clone()).collect();
    match store.create_access_tokens(&records).await {
        Ok(()) => {
            for (_, done) in batch {
                let _ = done.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some((_, done)) = batch.into_iter().next() {
                let _ = done.send(Err(e));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size = batch.len(), "token batch failed: writing one by one");
            for (token, done) in batch {
                let _ = done.send(store.create_access_token(&token).await);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::domain::User;
    use eca_core::rng::DeterministicRng;
    use eca_core::time::ManualClock;
    use eca_core::{Rng, Timestamp};
    use eca_store::{AccessTokenFormat, ConsumerId};

    use crate::bootstrap::{ADMIN_USERNAME, BootstrapOptions, INTEGRATION_USERNAME, bootstrap};

    async fn seeded() -> (Arc<dyn Store>, User, User) {
        let store = eca_store::open("sqlite::memory:").await.unwrap();
        let clock = ManualClock::new(Timestamp(1_764_000_000_000));
        let rng: Arc<dyn Rng> = Arc::new(DeterministicRng::new(7));
        let options = BootstrapOptions {
            admin_password: None,
            demo: true,
        };
        bootstrap(store.as_ref(), &clock, rng, &options)
            .await
            .unwrap();
        let admin = store
            .user_by_username(ADMIN_USERNAME)
            .await
            .unwrap()
            .unwrap();
        let integration = store
            .user_by_username(INTEGRATION_USERNAME)
            .await
            .unwrap()
            .unwrap();
        (store, admin, integration)
    }

    fn token(user: &User, hash: String) -> AccessTokenRecord {
        AccessTokenRecord {
            token_hash: hash,
            org_id: user.org_id.clone(),
            app_name: "Demo_App".to_owned(),
            consumer_id: ConsumerId::generate(&DeterministicRng::new(1)),
            user_id: user.id.clone(),
            scopes: "api".to_owned(),
            format: AccessTokenFormat::Opaque,
            refresh_hash: None,
            issued_at: Timestamp(1_764_000_000_000),
            expires_at: Timestamp(1_764_000_000_000 + 7_200_000),
            revoked_at: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_all_committed_and_each_gets_its_own_result() {
        let (store, admin, integration) = seeded().await;
        store
            .create_access_token(&token(&admin, "taken".to_owned()))
            .await
            .unwrap();
        let writer = Arc::new(TokenWriter::default());
        let mut tasks = Vec::new();
        for i in 0..600 {
            let (writer, store) = (Arc::clone(&writer), Arc::clone(&store));
            // Every 50th token reuses a stored hash: only those grants fail.
            let hash = if i % 50 == 49 {
                "taken".to_owned()
            } else {
                format!("t{i}")
            };
            let user = if i % 2 == 0 { &admin } else { &integration };
            let record = token(user, hash);
            tasks.push(tokio::spawn(
                async move { writer.write(&store, record).await },
            ));
        }
        let mut failed = 0;
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(()) => {
                    assert!(i % 50 != 49, "token {i} reuses a hash and must fail");
                    let stored = store.access_token(&format!("t{i}")).await.unwrap();
                    assert!(stored.is_some(), "token {i} acknowledged but not stored");
                }
                Err(StoreError::Conflict { .. }) => {
                    assert_eq!(i % 50, 49, "token {i} failed");
                    failed += 1;
                }
                Err(e) => panic!("token {i}: unexpected error {e}"),
            }
        }
        assert_eq!(failed, 12);
    }

    #[tokio::test]
    async fn a_dropped_caller_does_not_lose_the_others_tokens() {
        let (store, admin, _) = seeded().await;
        let writer = Arc::new(TokenWriter::default());
        // Hold the flush lock so that the writes below queue up.
        let held = Arc::clone(&writer.flushing).lock_owned().await;
        let first = {
            let (writer, store, record) = (
                Arc::clone(&writer),
                Arc::clone(&store),
                token(&admin, "a".to_owned()),
            );
            tokio::spawn(async move { writer.write(&store, record).await })
        };
        let second = {
            let (writer, store, record) = (
                Arc::clone(&writer),
                Arc::clone(&store),
                token(&admin, "b".to_owned()),
            );
            tokio::spawn(async move { writer.write(&store, record).await })
        };
        tokio::task::yield_now().await;
        while writer.queue().len() < 2 {
            tokio::task::yield_now().await;
        }
        first.abort();
        drop(held);
        second.await.unwrap().unwrap();
        // The aborted grant's token was queued, so it is written with the batch (its client
        // never sees it; it simply expires unused).
        assert!(store.access_token("b").await.unwrap().is_some());
    }
}
