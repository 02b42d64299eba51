//! Writing issued access tokens: group commit, and on SQLite, write-behind.
//!
//! **Group commit.** One transaction per token makes the token endpoint as fast as the disk
//! can sync. Instead, grants send their records to one writer task, which takes everything
//! queued (up to [`MAX_BATCH`]), writes it in one transaction
//! ([`TokenStore::create_access_tokens`]) and reports back. Under load a transaction carries
//! as many tokens as arrived during the previous one; alone, a token is written at once. When
//! a batch fails (a hash clash, a user deleted meanwhile), each of its tokens is written again
//! alone, so one bad record fails only its own grant.
//!
//! **When a grant answers** ([`TokenWrites`]):
//! - `Commit` (PostgreSQL, where many nodes share the database): after the token is committed,
//!   so any node finds it as soon as the client has it.
//! - `Behind` (SQLite, one node): as soon as the token is queued. Until it is committed it is
//!   in this process's pending set, where every lookup ([`TokenWriter::pending`]) finds it, so
//!   the client sees no difference. Revocation, usage listings and deploys first wait for the
//!   queue to drain ([`TokenWriter::sync`]), so they see and revoke every token issued before
//!   them: revocation stays immediate. What a crash or power cut can lose is the tokens of the
//!   last few milliseconds; their clients get `401` and authenticate again (a lost token never
//!   grants anything). `eca serve` closes the queue before it exits ([`TokenWriter::close`]):
//!   every token handed out is committed, and a request still running past the shutdown's
//!   drain time gets an error instead of a token.
//!
//! Under load, written behind, nobody waits for a batch, so the writer lets it fill before
//! writing, in steps of [`GATHER`], until it holds [`GATHER_UNTIL`] jobs or has gathered for
//! about [`GATHER_AT_MOST`] ([`done_gathering`]): a few large transactions cost less per token
//! than many small ones (at 35,000 tokens/s, batches grew from about 110 to about 340 tokens
//! and the server's CPU time per token request fell by about a tenth; at 7,000 RS256 tokens/s,
//! from about 55 to about 120, and SQLite's thread spent 7 instead of 10 us per token). A sync
//! or an awaited grant ends the gathering at the next step. "Under load" means the previous batch
//! held at least [`GATHER_FROM`] tokens, or was written less than [`STEADY`] ago: tokens
//! arriving steadily one at a time (RS256 JWTs, a modest request rate) would otherwise cost a
//! commit and two thread wake-ups each. A token after a quiet spell is written at once, and so
//! is a batch that a grant or a sync waits for. Until its batch commits, a token written
//! behind is found only through [`TokenWriter::pending`]: code (and tests) that read tokens
//! straight from the store call [`TokenWriter::sync`] first.
//!
//! The queue holds at most [`MAX_PENDING`] tokens: beyond that a grant waits for room, so a
//! writer slower than the load slows the grants down instead of growing memory. The writer is
//! a task of its own, so a grant whose client went away cannot abandon anyone's record. It
//! starts with the first write, and again if its runtime went away (tests run one runtime
//! each).
//!
//! [`TokenStore::create_access_tokens`]: eca_store::TokenStore::create_access_tokens

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use eca_core::Timestamp;
use eca_store::{AccessTokenRecord, RefreshUse, Store, StoreError, StoreResult};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// At most this many tokens per transaction; the rest wait for the next one.
const MAX_BATCH: usize = 512;
/// One step of a batch written behind filling up, under load: a sync waits at most this much
/// longer.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);
/// Under load, a batch gathers in steps of [`GATHER`] until it holds this many jobs...
const GATHER_UNTIL: usize = 256;
/// ...or for at most about this long. RS256 grants arrive a few thousand a second: batches of
/// a hundred tokens and more cost SQLite's thread a third less per token than batches of
/// fifty (docs/benchmarks.md, "The 2026-11-28 10:00 machine").
const GATHER_AT_MOST: std::time::Duration = std::time::Duration::from_millis(16);
// A full gathering fits in one batch.
const _: () = assert!(GATHER_UNTIL <= MAX_BATCH);
/// A previous batch at least this large means load.
const GATHER_FROM: usize = 64;
/// A previous batch written less than this long ago also means load: tokens arriving steadily,
/// one or two at a time (slow grants such as RS256 JWTs, or a modest request rate).
const STEADY: std::time::Duration = std::time::Duration::from_millis(5);
/// At most this many tokens queued or being written at once.
pub const MAX_PENDING: usize = 2_048;
/// At most this many syncs at shutdown ([`TokenWriter::close`]), and at most this long.
const CLOSE_SYNCS: usize = 100;
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// When a grant that issued an access token answers its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenWrites {
    /// Once the token is committed (multi-node PostgreSQL).
    Commit,
    /// Once the token is queued; lookups find it in the pending set meanwhile (SQLite).
    Behind,
}

impl TokenWrites {
    /// The mode for a store backend: `Behind` for `sqlite`, `Commit` otherwise.
    pub fn for_backend(backend: &str) -> Self {
        if backend == "sqlite" {
            TokenWrites::Behind
        } else {
            TokenWrites::Commit
        }
    }
}

/// What the writer task is asked to do.
// Nearly every job is a token: boxing it would cost an allocation per token for the rare sync.
#[allow(clippy::large_enum_variant)]
enum Job {
    /// Write a token, then report to the grant (when it waits) and free its room.
    Token {
        record: Arc<AccessTokenRecord>,
        done: Option<oneshot::Sender<StoreResult<()>>>,
        _room: OwnedSemaphorePermit,
    },
    /// Count a use of a refresh token (its use count and last use, for the Connect usage API
    /// and inactivity policies), with the batch.
    RefreshUse {
        token_hash: String,
        at: Timestamp,
        _room: OwnedSemaphorePermit,
    },
    /// Report once everything queued before is written.
    Sync(oneshot::Sender<()>),
}

/// The way to the writer task; one per server process, in `AppState`.
pub struct TokenWriter {
    mode: TokenWrites,
    sender: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// Tokens queued or being written (`Behind` only), by hash.
    /// Shared with the job that writes it: queuing a token copies none of its fields.
    pending: Arc<Mutex<HashMap<String, Arc<AccessTokenRecord>>>>,
    room: Arc<Semaphore>,
    /// Calls of [`TokenWriter::sync`] so far.
    syncs: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenWriter")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The pending set is only ever changed by whole inserts and removes: a panic elsewhere cannot
/// leave it half-changed, so a poisoned lock is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TokenWriter {
    pub fn new(mode: TokenWrites) -> Self {
        Self {
            mode,
            sender: Mutex::new(None),
            pending: Arc::new(Mutex::new(HashMap::new())),
            room: Arc::new(Semaphore::new(MAX_PENDING)),
            syncs: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Records `token`: returns once it is committed (`Commit`) or queued (`Behind`).
    pub async fn write(&self, store: &Arc<dyn Store>, token: AccessTokenRecord) -> StoreResult<()> {
        let room = Arc::clone(&self.room)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Database("the access token queue is closed".to_owned()))?;
        let token = Arc::new(token);
        if self.mode == TokenWrites::Behind {
            lock(&self.pending).insert(token.token_hash.clone(), Arc::clone(&token));
            self.send(
                Job::Token {
                    record: token,
                    done: None,
                    _room: room,
                },
                store,
            );
            return Ok(());
        }
        let (done, result) = oneshot::channel();
        self.send(
            Job::Token {
                record: token,
                done: Some(done),
                _room: room,
            },
            store,
        );
        // A panic in the writer drops the senders of its batch.
        result.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the access token writer stopped before writing the token".to_owned(),
            ))
        })
    }

    /// Queues a use of the refresh token with this hash, to be counted with the next batch
    /// (one UPDATE per token and batch instead of one transaction per use; the issue's
    /// "usage counters and last-use times can be batched"). Whether the token is live was
    /// checked by the caller; revocation never waits for this.
    pub async fn count_refresh_use(&self, store: &Arc<dyn Store>, token_hash: &str, at: Timestamp) {
        let Ok(room) = Arc::clone(&self.room).acquire_owned().await else {
            return;
        };
        self.send(
            Job::RefreshUse {
                token_hash: token_hash.to_owned(),
                at,
                _room: room,
            },
            store,
        );
    }

    /// The token with this hash if it is queued and not yet committed.
    pub fn pending(&self, token_hash: &str) -> Option<AccessTokenRecord> {
        if self.mode == TokenWrites::Commit {
            return None;
        }
        lock(&self.pending)
            .get(token_hash)
            .map(|record| AccessTokenRecord::clone(record))
    }

    /// Returns once every token queued before the call is written (or failed). Call it
    /// before revoking or listing tokens. A batch already gathering delays it by at most
    /// [`GATHER`].
    pub async fn sync(&self) {
        self.syncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, synced) = oneshot::channel();
        let sent = lock(&self.sender)
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Sync(done)).is_ok());
        if sent {
            // The writer answers after its batch; if it dies instead, its queue died with it.
            let _ = synced.await;
        }
    }

    /// At shutdown: refuses every later write (its grant fails instead of handing out a token
    /// the stopped process would lose) and returns once every token acknowledged before is
    /// committed (or failed). Requests still running past the drain time are why: their
    /// tasks outlive the server loop.
    pub async fn close(&self) {
        self.room.close();
        // A grant holds its room from before it queues its token until the token is written:
        // once all the room is back, nothing acknowledged is still waiting. A grant that took
        // room just before the close may queue its token after a sync; the next sync sees it.
        // Bounded in syncs and in time, in case the database no longer answers.
        let drained = async {
            for _ in 0..CLOSE_SYNCS {
                if self.room.available_permits() == MAX_PENDING {
                    return true;
                }
                self.sync().await;
                tokio::task::yield_now().await;
            }
            false
        };
        if tokio::time::timeout(CLOSE_WAIT, drained)
            .await
            .unwrap_or(false)
        {
            return;
        }
        tracing::warn!(
            tokens = MAX_PENDING - self.room.available_permits(),
            "access tokens still unwritten at shutdown; their clients will have to authenticate again"
        );
    }

    /// How many times [`TokenWriter::sync`] was called. Each one ends the writer's gathering
    /// early, so callers that anyone may make (revocation) sync only when there is something to
    /// wait for; tests count them.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues `job` for the writer task, starting one (on the current runtime) when there is
    /// none or the last one is gone.
    fn send(&self, job: Job, store: &Arc<dyn Store>) {
        let mut sender = lock(&self.sender);
        let job = match sender.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        // The receiver is alive: this send cannot fail.
        let _ = tx.send(job);
        tokio::spawn(run(
            Arc::clone(store),
            rx,
            Arc::clone(&self.pending),
            self.mode,
        ));
        *sender = Some(tx);
    }
}

impl Job {
    /// Whether someone waits for this job to be done: a grant in `Commit` mode, or a sync.
    fn is_awaited(&self) -> bool {
        match self {
            Job::Token { done, .. } => done.is_some(),
            Job::RefreshUse { .. } => false,
            Job::Sync(_) => true,
        }
    }
}

/// The writer's last batch of tokens: how large it was and when it was written.
#[derive(Debug, Clone, Copy)]
struct LastBatch {
    tokens: usize,
    written: Option<tokio::time::Instant>,
}

impl LastBatch {
    /// Whether the next batch, written behind, should gather first: the last one was
    /// large ([`GATHER_FROM`]) or recent ([`STEADY`]).
    fn means_load(&self, now: tokio::time::Instant) -> bool {
        self.tokens >= GATHER_FROM
            || self
                .written
                .is_some_and(|at| now.saturating_duration_since(at) < STEADY)
    }
}

/// Whether a batch that has gathered for `gathered` so far, and holds `jobs` jobs, is written
/// now rather than after another [`GATHER`]: it holds [`GATHER_UNTIL`] jobs, someone waits
/// for it (a sync, or a grant in `Commit` mode), or another step would take it past
/// [`GATHER_AT_MOST`].
fn done_gathering(jobs: usize, awaited: bool, gathered: std::time::Duration) -> bool {
    jobs >= GATHER_UNTIL || awaited || gathered + GATHER > GATHER_AT_MOST
}

/// The writer task: one batch at a time, each everything queued meanwhile (the queue is
/// bounded by [`MAX_PENDING`]); written behind under load, a batch first gathers
/// ([`done_gathering`]).
async fn run(
    store: Arc<dyn Store>,
    mut queue: mpsc::UnboundedReceiver<Job>,
    pending: Arc<Mutex<HashMap<String, Arc<AccessTokenRecord>>>>,
    mode: TokenWrites,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut last = LastBatch {
        tokens: 0,
        written: None,
    };
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        if mode == TokenWrites::Behind
            && jobs.len() < MAX_BATCH
            && !jobs.iter().any(Job::is_awaited)
            && last.means_load(tokio::time::Instant::now())
        {
            let started = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(GATHER).await;
                while jobs.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                if done_gathering(
                    jobs.len(),
                    jobs.iter().any(Job::is_awaited),
                    started.elapsed(),
                ) {
                    break;
                }
            }
        }
        let mut records = Vec::with_capacity(jobs.len());
        let mut waiters = Vec::with_capacity(jobs.len());
        let mut synced = Vec::new();
        let mut uses: HashMap<String, RefreshUse> = HashMap::new();
        let mut rooms = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Token {
                    record,
                    done,
                    _room,
                } => {
                    records.push(record);
                    waiters.push((done, _room));
                }
                Job::RefreshUse {
                    token_hash,
                    at,
                    _room,
                } => {
                    let entry = uses.entry(token_hash.clone()).or_insert(RefreshUse {
                        token_hash,
                        count: 0,
                        last_used_at: at,
                    });
                    entry.count += 1;
                    entry.last_used_at = entry.last_used_at.max(at);
                    rooms.push(_room);
                }
                Job::Sync(done) => synced.push(done),
            }
        }
        flush(store.as_ref(), &records, waiters).await;
        if !records.is_empty() {
            last = LastBatch {
                tokens: records.len(),
                written: Some(tokio::time::Instant::now()),
            };
        }
        if !uses.is_empty() {
            let uses: Vec<RefreshUse> = uses.into_values().collect();
            if let Err(e) = store.record_refresh_uses(&uses).await {
                tracing::warn!(error = %e, tokens = uses.len(), "refresh token uses could not be counted");
            }
        }
        drop(rooms);
        // Committed (or failed): lookups read the store from now on.
        {
            let mut pending = lock(&pending);
            for record in &records {
                pending.remove(&record.token_hash);
            }
        }
        for done in synced {
            let _ = done.send(());
        }
    }
}

/// Who waits for a token's write (its grant, in `Commit` mode), and the token's room in the
/// queue, freed once the write is done.
type Waiter = (
    Option<oneshot::Sender<StoreResult<()>>>,
    OwnedSemaphorePermit,
);

/// Writes `records` in one transaction, or one by one when that fails, and reports each
/// outcome to its grant (`waiters`, in the same order). A token written behind that fails is
/// lost: its client gets `401`.
async fn flush(store: &dyn Store, records: &[Arc<AccessTokenRecord>], waiters: Vec<Waiter>) {
    if records.is_empty() {
        return;
    }
    let batch: Vec<&AccessTokenRecord> = records.iter().map(|record| &**record).collect();
    match store.create_access_tokens(&batch).await {
        Ok(()) => {
            for (token, (done, _room)) in records.iter().zip(waiters) {
                report(token, done, Ok(()));
            }
        }
        Err(e) if records.len() == 1 => {
            if let Some((done, _room)) = waiters.into_iter().next() {
                report(&records[0], done, Err(e));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size = records.len(), "token batch failed: writing one by one");
            for (token, (done, _room)) in records.iter().zip(waiters) {
                let outcome = store.create_access_token(token).await;
                report(token, done, outcome);
            }
        }
    }
}

/// Tells a waiting grant how its write went; a write nobody waits for is logged if it failed.
fn report(
    token: &AccessTokenRecord,
    done: Option<oneshot::Sender<StoreResult<()>>>,
    outcome: StoreResult<()>,
) {
    match (done, outcome) {
        (Some(done), outcome) => {
            let _ = done.send(outcome);
        }
        (None, Err(e)) => tracing::warn!(
            error = %e,
            user = %token.user_id,
            app = %token.app_name,
            "an access token answered before its write could not be stored; its client will have to authenticate again"
        ),
        (None, Ok(())) => {}
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
        let writer = Arc::new(TokenWriter::new(TokenWrites::Commit));
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
        let writer = TokenWriter::new(TokenWrites::Commit);
        {
            // Polled once (the record is queued), then dropped, as when a client goes away.
            let first = writer.write(&store, token(&admin, "a".to_owned()));
            tokio::pin!(first);
            tokio::select! {
                biased;
                _ = &mut first => {}
                () = std::future::ready(()) => {}
            }
        }
        writer
            .write(&store, token(&admin, "b".to_owned()))
            .await
            .unwrap();
        assert!(store.access_token("b").await.unwrap().is_some());
        // The dropped grant's token was queued first, so it was written no later than the
        // second (its client never sees it; it simply expires unused).
        assert!(store.access_token("a").await.unwrap().is_some());
    }

    #[test]
    fn a_writer_outlives_the_runtime_it_started_on() {
        let writer = TokenWriter::new(TokenWrites::Commit);
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (store, admin, _) = seeded().await;
            writer
                .write(&store, token(&admin, "first".to_owned()))
                .await
                .unwrap();
        });
        // The first runtime and its writer task are gone (and the in-memory store with them):
        // the next write starts another writer.
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (store, admin, _) = seeded().await;
            writer
                .write(&store, token(&admin, "second".to_owned()))
                .await
                .unwrap();
            assert!(store.access_token("second").await.unwrap().is_some());
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_written_behind_are_found_pending_until_committed_and_sync_waits_for_them() {
        let (store, admin, _) = seeded().await;
        store
            .create_access_token(&token(&admin, "taken".to_owned()))
            .await
            .unwrap();
        let writer = TokenWriter::new(TokenWrites::Behind);
        for i in 0..300 {
            let record = token(&admin, format!("w{i}"));
            writer.write(&store, record.clone()).await.unwrap();
            // Answered: found at once, in the pending set or (already committed) the store.
            let found = match writer.pending(&record.token_hash) {
                Some(pending) => Some(pending),
                None => store.access_token(&record.token_hash).await.unwrap(),
            };
            assert_eq!(found.as_ref(), Some(&record), "token {i}");
        }
        // A clash cannot fail a grant that already answered: it is logged and dropped.
        writer
            .write(&store, token(&admin, "taken".to_owned()))
            .await
            .unwrap();
        writer.sync().await;
        for i in 0..300 {
            let hash = format!("w{i}");
            assert_eq!(writer.pending(&hash), None);
            assert!(
                store.access_token(&hash).await.unwrap().is_some(),
                "token {i}"
            );
        }
        assert_eq!(writer.pending("taken"), None);
    }

    /// Batches of 200 make the writer gather the next batches: tokens that
    /// arrive meanwhile join them, nothing is lost, and a sync still sees every token.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gathered_batches_lose_nothing_and_sync_still_sees_every_token() {
        let (store, admin, _) = seeded().await;
        let writer = TokenWriter::new(TokenWrites::Behind);
        let mut hashes = Vec::new();
        for round in 0..3 {
            for i in 0..200 {
                hashes.push(format!("g{round}-{i}"));
            }
            for hash in &hashes[hashes.len() - 200..] {
                writer
                    .write(&store, token(&admin, hash.clone()))
                    .await
                    .unwrap();
            }
            // Within the gathering pause of the batch after a large one.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let late = format!("late{round}");
            writer
                .write(&store, token(&admin, late.clone()))
                .await
                .unwrap();
            let found = match writer.pending(&late) {
                Some(pending) => Some(pending),
                None => store.access_token(&late).await.unwrap(),
            };
            assert!(found.is_some(), "{late} answered but not found");
            hashes.push(late);
        }
        writer.sync().await;
        for hash in &hashes {
            assert_eq!(writer.pending(hash), None, "{hash}");
            assert!(store.access_token(hash).await.unwrap().is_some(), "{hash}");
        }
    }

    #[tokio::test]
    async fn sync_without_a_writer_returns_at_once_and_commit_mode_has_no_pending_set() {
        let (store, admin, _) = seeded().await;
        let writer = TokenWriter::new(TokenWrites::Commit);
        writer.sync().await;
        writer
            .write(&store, token(&admin, "c".to_owned()))
            .await
            .unwrap();
        assert_eq!(writer.pending("c"), None);
        assert!(store.access_token("c").await.unwrap().is_some());
        assert_eq!(TokenWrites::for_backend("sqlite"), TokenWrites::Behind);
        assert_eq!(TokenWrites::for_backend("postgres"), TokenWrites::Commit);
    }

    #[test]
    fn load_is_a_large_batch_or_a_recent_one() {
        let now = tokio::time::Instant::now();
        let ms = std::time::Duration::from_millis;
        let batch = |tokens, ago: Option<u64>| LastBatch {
            tokens,
            written: ago.map(|ago| now - ms(ago)),
        };
        // Nothing written yet, or a lone token after a quiet spell: written at once.
        assert!(!batch(0, None).means_load(now));
        assert!(!batch(1, Some(50)).means_load(now));
        assert!(!batch(GATHER_FROM - 1, Some(5)).means_load(now));
        // A large batch, however long ago.
        assert!(batch(GATHER_FROM, Some(1_000)).means_load(now));
        // Tokens arriving steadily one at a time: the last batch was written under `STEADY` ago.
        assert!(batch(1, Some(0)).means_load(now));
        assert!(batch(1, Some(4)).means_load(now));
    }

    #[test]
    fn a_batch_gathers_until_it_is_full_awaited_or_old_enough() {
        let ms = std::time::Duration::from_millis;
        // A few tokens, no one waiting, early: another step.
        assert!(!done_gathering(1, false, ms(0)));
        assert!(!done_gathering(
            GATHER_UNTIL - 1,
            false,
            GATHER_AT_MOST - GATHER
        ));
        // Full.
        assert!(done_gathering(GATHER_UNTIL, false, ms(0)));
        // A sync (or a grant that waits) ends it at once.
        assert!(done_gathering(1, true, ms(0)));
        // Another step would pass the bound.
        assert!(done_gathering(1, false, GATHER_AT_MOST - GATHER + ms(1)));
        assert!(done_gathering(1, false, GATHER_AT_MOST * 2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refresh_uses_are_summed_per_token_and_counted_by_the_next_batch() {
        let (store, admin, _) = seeded().await;
        let base = token(&admin, String::new());
        let record = eca_store::RefreshTokenRecord {
            token_hash: "r".to_owned(),
            org_id: base.org_id,
            app_name: base.app_name,
            consumer_id: base.consumer_id,
            user_id: base.user_id,
            scopes: base.scopes,
            family_id: "f".to_owned(),
            issued_at: base.issued_at,
            expires_at: None,
            last_used_at: base.issued_at,
            use_count: 0,
            rotated_at: None,
            revoked_at: None,
        };
        store.create_refresh_token(&record).await.unwrap();
        let writer = Arc::new(TokenWriter::new(TokenWrites::Behind));
        let mut tasks = Vec::new();
        for i in 0..100 {
            let (writer, store) = (Arc::clone(&writer), Arc::clone(&store));
            let at = Timestamp(base.issued_at.millis() + i);
            tasks.push(tokio::spawn(async move {
                writer.count_refresh_use(&store, "r", at).await;
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        writer.sync().await;
        let counted = store.refresh_token("r").await.unwrap().unwrap();
        assert_eq!(counted.use_count, 100);
        assert_eq!(
            counted.last_used_at,
            Timestamp(base.issued_at.millis() + 99)
        );
    }

    /// A shutdown (`http::run`) closes the writer while grants still run (those past the
    /// drain time): every token acknowledged is committed by the time `close` returns, and
    /// every later write is refused, so no client holds a token the stopped server lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_commits_every_acknowledged_token_and_refuses_later_ones() {
        let (store, admin, _) = seeded().await;
        let writer = Arc::new(TokenWriter::new(TokenWrites::Behind));
        let mut tasks = Vec::new();
        for i in 0..400 {
            let (writer, store, record) = (
                Arc::clone(&writer),
                Arc::clone(&store),
                token(&admin, format!("t{i}")),
            );
            tasks.push(tokio::spawn(async move {
                // Spread over the close.
                if i % 4 == 0 {
                    tokio::task::yield_now().await;
                }
                writer.write(&store, record).await
            }));
        }
        // Some grants have their answer before the close begins.
        for record in (400..410).map(|i| token(&admin, format!("t{i}"))) {
            writer.write(&store, record).await.unwrap();
        }
        writer.close().await;
        // What is committed when `close` returns (the process would exit now).
        let mut committed = std::collections::HashSet::new();
        for i in 0..410 {
            if store
                .access_token(&format!("t{i}"))
                .await
                .unwrap()
                .is_some()
            {
                committed.insert(i);
            }
        }
        let mut refused = 0;
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(()) => assert!(
                    committed.contains(&i),
                    "token {i} acknowledged but not committed at close"
                ),
                Err(_) => refused += 1,
            }
        }
        assert_eq!(committed.len() + refused, 410);
        assert!((400..410).all(|i| committed.contains(&i)), "{committed:?}");
        assert!(
            writer
                .write(&store, token(&admin, "late".to_owned()))
                .await
                .is_err(),
            "a write after close is refused"
        );
        assert!(store.access_token("late").await.unwrap().is_none());
    }
}
