//! SQLite: the embedded default, one file on local disk.
//!
//! SQLite allows one writer at a time, so writes go through exactly one connection, held
//! behind a mutex (they queue on it, fairly, instead of failing with `SQLITE_BUSY`), and reads go
//! through a separate pool of read-only connections that WAL mode lets run alongside the
//! writer. `synchronous=FULL` makes every commit wait for the WAL to reach the disk, so a
//! write that returned `Ok` survives a power cut. An in-memory database is a single
//! connection serving both roles: it lives exactly as long as that connection.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Row};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::migrate::{self, Migration};
use crate::sql::{Arg, BatchError, Db, STATEMENT_CACHE, Step, bind, database};
use crate::{StoreError, StoreResult};

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Concurrent readers of a file database.
const READERS: u32 = 4;
/// The writer's page cache: 64 MiB (a negative `cache_size` counts KiB).
const WRITER_CACHE: &str = "-65536";

/// The SQLite store. Build it with [`SqliteStore::open`] (or [`crate::open`]).
///
/// Round trips: every statement is a hand-off to the connection's thread and back, and sqlx's
/// pool adds its own. Pools say `test_before_acquire(false)`: a ping of an in-process
/// connection as it leaves the pool proves nothing the statement would not. And the writer's
/// one connection is taken from its pool once and held (`writer`), because sqlx pings a
/// connection every time it goes back to a pool, and the next write would wait for that.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    /// The writer pool's one connection, held from open to close (`None` after close). In
    /// memory it is the database's only connection and serves reads too (`reads_on_writer`).
    writer: Arc<Mutex<Option<PoolConnection<Sqlite>>>>,
    reads_on_writer: bool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH`,
    /// `sqlite::memory:`) and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid SQLite URL: {e}")))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full)
            .statement_cache_capacity(STATEMENT_CACHE);
        if is_memory(url) {
            // Never closed while the store lives: closing the last connection drops the data.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(|e| context("opening the in-memory database", e))?;
            migrate(&pool).await?;
            return SqliteStore::holding_the_writer(pool.clone(), pool, true).await;
        }
        // The writer opens first: it creates the file and switches it to WAL, which is then a
        // property of the file that the readers see.
        let write = connect_writer(
            options
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Token inserts touch random pages of the token-hash index: a page cache
                // larger than SQLite's 2 MiB default keeps them in memory instead of
                // re-reading them from the file on every batch.
                .pragma("cache_size", WRITER_CACHE)
                // A batch of several statements (token batches over 128 rows) keeps a statement
                // journal, which SQLite spills to a new file in the temp folder past 64 KiB:
                // under RS256 load, a file created and unlinked about 30 times a second. The
                // writer keeps such journals and its temp tables in memory instead.
                .pragma("temp_store", "memory"),
        )
        .await
        .map_err(|e| context("opening the SQLite writer", e))?;
        migrate(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| context("opening the SQLite readers", e))?;
        SqliteStore::holding_the_writer(read, write, false).await
    }

    async fn holding_the_writer(
        read: SqlitePool,
        write: SqlitePool,
        reads_on_writer: bool,
    ) -> StoreResult<SqliteStore> {
        let writer = write
            .acquire()
            .await
            .map_err(|e| context("taking the SQLite writer", e))?;
        Ok(SqliteStore {
            read,
            write,
            writer: Arc::new(Mutex::new(Some(writer))),
            reads_on_writer,
        })
    }

    /// The writer connection, once the writes before have finished; `PoolClosed` after
    /// [`SqliteStore::close`].
    async fn writer(&self) -> Result<MappedMutexGuard<'_, SqliteConnection>, sqlx::Error> {
        let held = self.held_writer().await?;
        Ok(MutexGuard::map(held, |held| {
            &mut **held.as_mut().expect("held_writer holds a connection")
        }))
    }

    /// The writer's slot, holding a connection: a new one if [`SqliteStore::settle_writer`]
    /// closed the last. `PoolClosed` after [`SqliteStore::close`].
    async fn held_writer(
        &self,
    ) -> Result<MutexGuard<'_, Option<PoolConnection<Sqlite>>>, sqlx::Error> {
        let mut held = self.writer.lock().await;
        if held.is_none() {
            if self.write.is_closed() {
                return Err(sqlx::Error::PoolClosed);
            }
            *held = Some(self.write.acquire().await?);
        }
        Ok(held)
    }

    /// After a transaction on the writer failed: makes sure the connection is not left counting
    /// a transaction SQLite has already ended. On a full disk or an I/O error SQLite may roll
    /// the whole transaction back by itself (sqlite.org/lang_transaction.html, "Response To
    /// Errors Within A Transaction"); the ROLLBACK sqlx sends for the dropped transaction then
    /// fails, sqlx still counts one open, and it would refuse every later `BEGIN`. Such a
    /// connection is closed, and the next write opens another. A database in memory lives in
    /// its one connection, so it is kept whatever its state.
    async fn settle_writer(&self, held: &mut Option<PoolConnection<Sqlite>>) {
        let Some(conn) = held.as_mut() else {
            return;
        };
        // Answered after the rollback queued by the dropped transaction.
        let alive = conn.ping().await.is_ok();
        if (alive && !conn.is_in_transaction()) || self.reads_on_writer {
            return;
        }
        tracing::warn!(
            "the SQLite writer connection was left inside a transaction SQLite had already ended (a full disk or an I/O error?): opening a new one"
        );
        if let Some(conn) = held.take() {
            let _ = conn.close().await;
        }
    }

    /// `write_batch`'s statements in one transaction on `conn`.
    async fn batch_on(conn: &mut SqliteConnection, steps: &[Step<'_>]) -> Result<(), BatchError> {
        // IMMEDIATE takes the write lock first, so another process's writer makes this wait
        // (busy timeout) rather than fail half-way when the transaction first writes.
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(BatchError::Transaction)?;
        for (i, step) in steps.iter().enumerate() {
            let done = bind(sqlx::query(step.sql), &step.args)
                .execute(&mut *tx)
                .await
                .map_err(|error| BatchError::Sql { step: i, error })?;
            step.check(i, done.rows_affected())?;
        }
        // Dropping `tx` on an early return rolls it back.
        tx.commit().await.map_err(BatchError::Transaction)
    }

    /// `write_counted`'s statements in one transaction on `conn`.
    async fn counted_on(
        conn: &mut SqliteConnection,
        statements: &[(&'static str, Vec<Arg<'_>>)],
    ) -> Result<Vec<u64>, sqlx::Error> {
        // IMMEDIATE: take the write lock first (see `batch_on`).
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut counts = Vec::with_capacity(statements.len());
        for (sql, args) in statements {
            let done = bind(sqlx::query(*sql), args).execute(&mut *tx).await?;
            counts.push(done.rows_affected());
        }
        // Dropping `tx` on an early return rolls it back.
        tx.commit().await?;
        Ok(counts)
    }

    /// Runs a PRAGMA on the writer connection (tests: `max_page_count` stands in for a full
    /// disk).
    #[cfg(test)]
    async fn write_pragma(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *self.writer().await.expect("the writer"))
            .await
            .expect("the pragma");
    }

    /// Closes both pools, waiting for statements in flight.
    pub async fn close(&self) {
        // Waits for the write in flight, then gives the connection back so the pool can close.
        drop(self.writer.lock().await.take());
        self.write.close().await;
        self.read.close().await;
    }
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn context(doing: &str, e: sqlx::Error) -> StoreError {
    StoreError::Database(format!("{doing}: {e}"))
}

/// Opens the one-connection writer pool. Switching a new file to WAL takes an exclusive lock
/// that SQLite does not wait for (the busy timeout does not apply), so when two processes
/// open a new file at the same moment one can get `SQLITE_BUSY`: it tries again, for as long
/// as the busy timeout.
async fn connect_writer(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_millis(5);
    loop {
        let result = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await;
        match result {
            Err(e) if is_busy(&e) && waited < BUSY_TIMEOUT => {
                tokio::time::sleep(pause).await;
                waited += pause;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// `SQLITE_BUSY` or one of its extended codes.
fn is_busy(e: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i32 = 5;
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == SQLITE_BUSY),
        _ => false,
    }
}

/// Applies pending migrations, each in its own `BEGIN IMMEDIATE` transaction: the write lock
/// is taken before the version check, so another process migrating the same file waits and
/// then finds the version recorded.
async fn migrate(pool: &SqlitePool) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(database)?;
    for Migration { version, sql } in migrate::SQLITE.iter().copied() {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(database)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS eca_schema_migrations \
             (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
        )
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        let applied = sqlx::query("SELECT 1 FROM eca_schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(database)?;
        if applied.is_none() {
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Database(format!("migration {version}: {e}")))?;
            sqlx::query("INSERT INTO eca_schema_migrations (version, applied_at) VALUES ($1, unixepoch() * 1000)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(database)?;
        }
        tx.commit().await.map_err(database)?;
    }
    let latest: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM eca_schema_migrations")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get("v"))
        .map_err(database)?;
    migrate::check_not_newer(latest, migrate::SQLITE)
}

#[async_trait]
impl Db for SqliteStore {
    type Row = SqliteRow;

    const BACKEND: &'static str = "sqlite";

    async fn read_optional(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<SqliteRow>, sqlx::Error> {
        let query = bind(sqlx::query(sql), args);
        if self.reads_on_writer {
            query.fetch_optional(&mut *self.writer().await?).await
        } else {
            query.fetch_optional(&self.read).await
        }
    }

    async fn read_all(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<SqliteRow>, sqlx::Error> {
        let query = bind(sqlx::query(sql), args);
        if self.reads_on_writer {
            query.fetch_all(&mut *self.writer().await?).await
        } else {
            query.fetch_all(&self.read).await
        }
    }

    async fn write(&self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let done = bind(sqlx::query(sql), args)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected())
    }

    async fn write_returning(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<SqliteRow>, sqlx::Error> {
        // `fetch_all`, not `fetch_optional`: SQLite commits an autocommit statement when it
        // runs to completion, and `fetch_optional` stops stepping after the first row.
        let rows = bind(sqlx::query(sql), args)
            .fetch_all(&mut *self.writer().await?)
            .await?;
        Ok(rows.into_iter().next())
    }

    async fn write_batch(&self, steps: &[Step<'_>]) -> Result<(), BatchError> {
        let mut held = self.held_writer().await.map_err(BatchError::Transaction)?;
        let conn = held.as_mut().expect("held_writer holds a connection");
        let written = Self::batch_on(conn, steps).await;
        if written.is_err() {
            self.settle_writer(&mut held).await;
        }
        written
    }

    async fn write_counted(
        &self,
        statements: &[(&'static str, Vec<Arg<'_>>)],
    ) -> Result<Vec<u64>, sqlx::Error> {
        let mut held = self.held_writer().await?;
        let conn = held.as_mut().expect("held_writer holds a connection");
        let counted = Self::counted_on(conn, statements).await;
        if counted.is_err() {
            self.settle_writer(&mut held).await;
        }
        counted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_keeps_temp_files_in_memory_and_readers_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("temp.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let on_writer: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(&mut *store.writer().await.unwrap())
            .await
            .unwrap();
        // 2 is MEMORY (sqlite.org/pragma.html#pragma_temp_store).
        assert_eq!(on_writer, 2);
        // Readers may sort large listings: those still spill to disk, not to memory.
        let on_reader = store
            .read_optional("PRAGMA temp_store", &[])
            .await
            .unwrap()
            .map(|row| row.get::<i64, _>(0))
            .unwrap();
        assert_eq!(on_reader, 0);
    }

    /// A refresh token's lookup reads its family's revoked members through the partial index
    /// of migration 0017, never the family's every rotated member.
    #[tokio::test]
    async fn a_refresh_token_lookup_reads_only_the_revoked_members_of_its_family() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        // Statements are `'static` (prepared and cached); a test may leak one.
        let explain: &'static str =
            format!("EXPLAIN QUERY PLAN {}", crate::sql::REFRESH_TOKEN_BY_HASH).leak();
        let plan = store.read_all(explain, &[Arg::Text("h")]).await.unwrap();
        let steps: Vec<String> = plan.iter().map(|row| row.get::<String, _>(3)).collect();
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX oauth_refresh_tokens_revoked_family")),
            "{steps:?}"
        );
    }

    /// A disk that fills up in the middle of a transaction (here `max_page_count`, SQLite's own
    /// limit): the batch fails, and the writer keeps working once there is room again.
    #[tokio::test]
    async fn the_writer_recovers_from_a_full_disk_in_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("full.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        store
            .write("CREATE TABLE filler (v BLOB NOT NULL) STRICT", &[])
            .await
            .unwrap();
        let pages = store
            .read_optional("PRAGMA page_count", &[])
            .await
            .unwrap()
            .map(|row| row.get::<i64, _>(0))
            .unwrap();
        store
            .write_pragma(&format!("PRAGMA max_page_count = {}", pages + 4))
            .await;
        let blob = vec![7u8; 3_000];
        let steps: Vec<Step<'_>> = (0..20)
            .map(|_| Step {
                sql: "INSERT INTO filler (v) VALUES ($1)",
                args: vec![Arg::Bytes(&blob)],
                expect_rows: 1,
            })
            .collect();
        let full = store.write_batch(&steps).await;
        assert!(
            matches!(&full, Err(BatchError::Sql { .. })),
            "the batch must not fit: {full:?}"
        );
        store.write_pragma("PRAGMA max_page_count = 1000000").await;
        store
            .write_batch(&steps)
            .await
            .expect("the writer works again once there is room");
    }
}
