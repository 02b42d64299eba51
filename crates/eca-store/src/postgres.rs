//! PostgreSQL: one database shared by many stateless server nodes.
//!
//! Every statement runs in autocommit mode on a pooled connection (a batch of writes, in one
//! transaction), and PostgreSQL commits durably (WAL flushed) before answering, so a write
//! that returned `Ok` is stored.
//! Concurrent writers are PostgreSQL's business: single-statement updates take row locks,
//! and unique indexes arbitrate races between inserts. Nodes starting at once serialize their
//! migrations on a transaction-scoped advisory lock.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Row};

use crate::migrate::{self, Migration};
use crate::sql::{Arg, BatchError, Db, Step, bind, database};
use crate::{StoreError, StoreResult};

/// Connections per server node.
const MAX_CONNECTIONS: u32 = 10;
/// A pooled connection idle longer than this is pinged before use.
const PING_WHEN_IDLE: std::time::Duration = std::time::Duration::from_secs(1);
/// The advisory lock key held while migrating (or creating a schema): any fixed number that
/// other applications on the database are unlikely to use ("ECA-STOR").
const MIGRATION_LOCK: i64 = 0x4543_412d_5354_4f52;

/// The PostgreSQL store. Build it with [`PostgresStore::open`] (or [`crate::open`]).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://...` or `postgresql://...`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        PostgresStore::connect(parse(url)?).await
    }

    /// Like [`PostgresStore::open`], but every table lives in `schema` (created if missing),
    /// set as the `search_path` of every connection. **For tests and benchmarks**: it lets
    /// parallel runs share one database without seeing each other's rows. `schema` must be
    /// lower-case ASCII letters, digits and `_`, starting with a letter or `_`.
    pub async fn open_in_schema(url: &str, schema: &str) -> StoreResult<PostgresStore> {
        let valid = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Database(format!(
                "invalid schema name `{schema}`"
            )));
        }
        let options = parse(url)?;
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(database)?;
        let mut tx = conn.begin().await.map_err(database)?;
        // Two nodes creating the same schema at once would otherwise race on the catalog's
        // unique index, even with IF NOT EXISTS.
        lock(&mut tx).await?;
        // The name was checked above: it cannot close the quotes.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        tx.commit().await.map_err(database)?;
        conn.close().await.map_err(database)?;
        PostgresStore::connect(options.options([("search_path", schema)])).await
    }

    /// Drops a schema made by [`PostgresStore::open_in_schema`] and everything in it. **For
    /// tests and benchmarks**, to clean up after themselves; same rules on `schema`.
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        let valid = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Database(format!(
                "invalid schema name `{schema}`"
            )));
        }
        let mut conn = PgConnection::connect_with(&parse(url)?)
            .await
            .map_err(database)?;
        // The name was checked above: it cannot close the quotes.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&mut conn)
        .await
        .map_err(database)?;
        conn.close().await.map_err(database)
    }

    async fn connect(options: PgConnectOptions) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // sqlx pings every connection it takes from the pool by default: a round trip to
            // the server before every statement. Only a connection idle for a while is
            // pinged, and one that fails the ping is replaced; a connection in steady use
            // shows it is alive by being used (a statement on a dropped one fails, and sqlx
            // discards the connection).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_WHEN_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(database)?;
        migrate(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Closes the pool, waiting for statements in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn parse(url: &str) -> StoreResult<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map(|options| options.statement_cache_capacity(crate::sql::STATEMENT_CACHE))
        .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))
}

async fn lock(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(conn)
        .await
        .map(drop)
        .map_err(database)
}

/// Applies pending migrations, each in its own transaction holding the advisory lock, so a
/// node that starts while another migrates waits and then finds the version recorded.
async fn migrate(pool: &PgPool) -> StoreResult<()> {
    for Migration { version, sql } in migrate::POSTGRES.iter().copied() {
        let mut tx = pool.begin().await.map_err(database)?;
        lock(&mut tx).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS eca_schema_migrations \
             (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
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
            sqlx::query(
                "INSERT INTO eca_schema_migrations (version, applied_at) \
                 VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
            )
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        }
        tx.commit().await.map_err(database)?;
    }
    let latest: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM eca_schema_migrations")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get("v"))
        .map_err(database)?;
    migrate::check_not_newer(latest, migrate::POSTGRES)
}

#[async_trait]
impl Db for PostgresStore {
    type Row = PgRow;

    const BACKEND: &'static str = "postgres";

    async fn read_optional(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<PgRow>, sqlx::Error> {
        bind(sqlx::query(sql), args)
            .fetch_optional(&self.pool)
            .await
    }

    async fn read_all(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        bind(sqlx::query(sql), args).fetch_all(&self.pool).await
    }

    async fn write(&self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let done = bind(sqlx::query(sql), args).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn write_returning(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<PgRow>, sqlx::Error> {
        let rows = bind(sqlx::query(sql), args).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().next())
    }

    async fn write_batch(&self, steps: &[Step<'_>]) -> Result<(), BatchError> {
        let mut attempt = 1;
        loop {
            match self.write_batch_once(steps).await {
                Err(BatchError::Sql { error, .. } | BatchError::Transaction(error))
                    if is_deadlock(&error) && attempt < DEADLOCK_ATTEMPTS =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn write_counted(
        &self,
        statements: &[(&'static str, Vec<Arg<'_>>)],
    ) -> Result<Vec<u64>, sqlx::Error> {
        let mut attempt = 1;
        loop {
            match self.write_counted_once(statements).await {
                Err(error) if is_deadlock(&error) && attempt < DEADLOCK_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }
}

/// How many times a transaction PostgreSQL chose as a deadlock's victim is run. It was rolled
/// back whole, so running it again is the same as running it the first time; statements that
/// lock several rows in index or scan order (revoking an app's tokens) cannot all be put in
/// one order.
const DEADLOCK_ATTEMPTS: u32 = 3;

/// SQLSTATE 40P01 `deadlock_detected`.
fn is_deadlock(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "40P01")
}

impl PostgresStore {
    async fn write_batch_once(&self, steps: &[Step<'_>]) -> Result<(), BatchError> {
        let mut tx = self.pool.begin().await.map_err(BatchError::Transaction)?;
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

    async fn write_counted_once(
        &self,
        statements: &[(&'static str, Vec<Arg<'_>>)],
    ) -> Result<Vec<u64>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut counts = Vec::with_capacity(statements.len());
        for (sql, args) in statements {
            let done = bind(sqlx::query(*sql), args).execute(&mut *tx).await?;
            counts.push(done.rows_affected());
        }
        // Dropping `tx` on an early return rolls it back.
        tx.commit().await?;
        Ok(counts)
    }
}
