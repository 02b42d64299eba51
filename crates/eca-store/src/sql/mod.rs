//! The one implementation of the store traits, shared by SQLite and PostgreSQL.
//!
//! Both schemas are kept column-for-column alike (see `migrations/`), and every query here is
//! plain SQL both databases accept: `$1`-style parameters (SQLite reads `$N` as parameter
//! `N`), `RETURNING`, `ON CONFLICT`, and case-insensitive uniqueness through `*_lower`
//! columns filled by [`fold`]. A backend only supplies the five primitives of [`Db`], so the
//! two cannot drift apart in behaviour, and the shared test suite covers the SQL once per
//! backend.

mod access;
mod authorization;
mod connect;
mod metadata;
mod oauth;
mod orgs;
mod saml;
mod sessions;
mod users;

#[cfg(test)]
pub(crate) use oauth::REFRESH_TOKEN_BY_HASH;

use async_trait::async_trait;
use eca_core::IdError;
use sqlx::error::ErrorKind;

use crate::{StoreError, StoreResult};

/// Prepared statements each database connection keeps. The store has about a hundred
/// statements, and the access-token INSERT up to 34 forms (`oauth::access_insert`); sqlx's
/// default of 100 would make them evict each other on the writer's connection.
pub(crate) const STATEMENT_CACHE: usize = 256;

/// One bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    /// Text bound by reference count: a value many rows of one statement repeat (SQLite's
    /// driver copies a borrowed text into a new allocation for every row it is bound to).
    Shared(std::sync::Arc<str>),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    OptBool(Option<bool>),
    Bytes(&'a [u8]),
}

/// One statement of an all-or-nothing batch ([`Db::write_batch`]).
#[derive(Debug, Clone)]
pub(crate) struct Step<'a> {
    pub sql: &'static str,
    pub args: Vec<Arg<'a>>,
    /// How many rows the statement must change; any other count undoes the whole batch.
    pub expect_rows: u64,
}

/// Why a batch was undone.
#[derive(Debug)]
pub(crate) enum BatchError {
    /// Statement `step` failed.
    Sql { step: usize, error: sqlx::Error },
    /// Statement `step` changed another number of rows than it expected.
    Unexpected { step: usize },
    /// Beginning or committing the transaction failed.
    Transaction(sqlx::Error),
}

impl Step<'_> {
    /// An [`Step::expect_rows`] that accepts any count (statements over many rows, such as a
    /// revocation inside a change set).
    pub(crate) const ANY_ROWS: u64 = u64::MAX;

    /// Checks the number of rows statement `index` (this step) changed.
    pub(crate) fn check(&self, index: usize, rows: u64) -> Result<(), BatchError> {
        if self.expect_rows == Self::ANY_ROWS || rows == self.expect_rows {
            Ok(())
        } else {
            Err(BatchError::Unexpected { step: index })
        }
    }
}

/// What a backend provides: reads may run on any connection, writes are serialized as the
/// backend requires (SQLite has one writer). Each call is one statement in autocommit mode,
/// except [`Db::write_batch`], one transaction; either way a write that returns `Ok` is
/// committed.
#[async_trait]
pub(crate) trait Db: Send + Sync {
    type Row: Columns + Send;

    /// `sqlite` or `postgres`.
    const BACKEND: &'static str;

    async fn read_optional(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<Self::Row>, sqlx::Error>;
    async fn read_all(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Self::Row>, sqlx::Error>;
    /// Runs a write; returns the number of rows it changed.
    async fn write(&self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error>;
    /// Runs a write with `RETURNING`; returns the first row, if any.
    async fn write_returning(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<Self::Row>, sqlx::Error>;
    /// Runs the steps in order in one transaction, committed only when every step ran and
    /// changed the rows it expects; otherwise nothing is written.
    async fn write_batch(&self, steps: &[Step<'_>]) -> Result<(), BatchError>;
    /// Runs the statements in order in one transaction and returns how many rows each
    /// changed; any failure writes nothing. For writes whose row counts are not known in
    /// advance (revoking every token of an app and the access tokens issued from them).
    async fn write_counted(
        &self,
        statements: &[(&'static str, Vec<Arg<'_>>)],
    ) -> Result<Vec<u64>, sqlx::Error>;
}

/// Typed access to the columns of a result row. A value that cannot be decoded is
/// [`StoreError::Corrupt`], never "not found".
pub(crate) trait Columns {
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, col: &str) -> StoreResult<bool>;
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;

    /// A record id column, parsed with the id type's own parser.
    fn id<T>(&self, col: &str, parse: fn(&str) -> Result<T, IdError>) -> StoreResult<T> {
        let raw = self.text(col)?;
        parse(&raw).map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
    }
}

impl<R> Columns for R
where
    R: sqlx::Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn text(&self, col: &str) -> StoreResult<String> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }

    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }

    fn int(&self, col: &str) -> StoreResult<i64> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }

    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }

    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
        self.try_get(col).map_err(|e| corrupt(col, &e))
    }
}

/// Binds `args` to `query` in order.
pub(crate) fn bind<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    args: &[Arg<'_>],
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> std::sync::Arc<str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<i64>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<bool>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<String>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    for arg in args {
        query = match *arg {
            // PostgreSQL's text cannot hold a NUL, and refuses a parameter with one: on every
            // backend a NUL becomes U+FFFD, so such input is answered (a lookup finds nothing
            // unless a stored value has U+FFFD where the input has NUL) instead of failing, and
            // both backends store the same text. Keys, hashes and ids never hold either.
            Arg::Text(v) if v.contains('\0') => query.bind(without_nul(v)),
            Arg::Shared(ref v) if v.contains('\0') => query.bind(without_nul(v)),
            Arg::OptText(Some(v)) if v.contains('\0') => query.bind(Some(without_nul(v))),
            Arg::Text(v) => query.bind(v),
            Arg::Shared(ref v) => query.bind(std::sync::Arc::clone(v)),
            Arg::OptText(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::OptInt(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
            Arg::OptBool(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v),
        };
    }
    query
}

fn without_nul(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn corrupt(col: &str, e: &sqlx::Error) -> StoreError {
    StoreError::Corrupt(format!("column `{col}`: {e}"))
}

/// The case-insensitive key of a name (username, My Domain name, profile name). Folding in
/// Rust rather than with SQL `lower()` keeps both backends identical: SQLite's `lower()`
/// folds only ASCII and PostgreSQL's depends on the database locale.
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// How a failed statement failed.
pub(crate) enum Failure {
    /// A unique index refused the row. The text names the index (PostgreSQL) or its columns
    /// (SQLite, `UNIQUE constraint failed: users.username_lower`); match on the column name,
    /// which both contain.
    Unique(String),
    /// A foreign key refused the row.
    ForeignKey,
    /// Anything else: already a [`StoreError::Database`].
    Other(StoreError),
}

impl Failure {
    pub(crate) fn of(e: sqlx::Error) -> Failure {
        if let sqlx::Error::Database(db) = &e {
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return Failure::Unique(db.constraint().unwrap_or(db.message()).to_owned());
                }
                ErrorKind::ForeignKeyViolation => return Failure::ForeignKey,
                _ => {}
            }
        }
        Failure::Other(database(e))
    }
}

/// Whether `sql` (a `SELECT 1 ... WHERE key = $1`) finds a row.
pub(crate) async fn exists<D: Db>(db: &D, sql: &'static str, key: &str) -> StoreResult<bool> {
    let row = db
        .read_optional(sql, &[Arg::Text(key)])
        .await
        .map_err(database)?;
    Ok(row.is_some())
}

/// A failure with no expected constraint behind it.
pub(crate) fn database(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A session id hash shortened for error messages: enough to find it in the table, not the
/// whole key.
pub(crate) fn short_hash(id_hash: &str) -> String {
    id_hash.chars().take(8).collect()
}
