//! [`TokenStore`] over [`Db`]: access tokens, refresh tokens and approvals.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use eca_core::{OrgId, Timestamp, UserId};

use super::{Arg, BatchError, Columns, Db, Failure, Step, database, fold, short_hash};
use crate::metadata::ConsumerId;
use crate::oauth::{
    AccessTokenFormat, AccessTokenRecord, RefreshTokenRecord, RefreshUse, SigningKeyRecord,
};
use crate::{StoreError, StoreResult, TokenStore};

/// A statement naming rows by a JSON array of text bound as `$1` (any number of keys in one
/// statement), in its SQLite and its PostgreSQL form: `$head` and `$tail` around the
/// `SELECT` of the array's elements.
macro_rules! by_json_list {
    ($head:literal, $tail:literal) => {
        [
            concat!($head, "SELECT value FROM json_each($1)", $tail),
            concat!($head, "SELECT jsonb_array_elements_text($1::jsonb)", $tail),
        ]
    };
}

/// The index of a backend's form in [`by_json_list`]'s pair.
fn json_list_form(backend: &str) -> usize {
    usize::from(backend != "sqlite")
}

const REFRESH_INSERT: &str = "INSERT INTO oauth_refresh_tokens (token_hash, org_id, app_name, \
     app_name_lower, consumer_id, user_id, scopes, family_id, issued_at, expires_at, last_used_at, \
     use_count, rotated_at, revoked_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

fn access_from(row: &impl Columns) -> StoreResult<AccessTokenRecord> {
    let format = row.text("format")?;
    Ok(AccessTokenRecord {
        token_hash: row.text("token_hash")?,
        org_id: row.id("org_id", OrgId::parse)?,
        app_name: row.text("app_name")?,
        consumer_id: row.id("consumer_id", ConsumerId::parse)?,
        user_id: row.id("user_id", UserId::parse)?,
        scopes: row.text("scopes")?,
        format: AccessTokenFormat::parse(&format).ok_or_else(|| {
            StoreError::Corrupt(format!("column `format`: unknown token format `{format}`"))
        })?,
        refresh_hash: row.opt_text("refresh_hash")?,
        issued_at: Timestamp(row.int("issued_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
        revoked_at: row.opt_int("revoked_at")?.map(Timestamp),
    })
}

pub(super) fn refresh_from(row: &impl Columns) -> StoreResult<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: row.text("token_hash")?,
        org_id: row.id("org_id", OrgId::parse)?,
        app_name: row.text("app_name")?,
        consumer_id: row.id("consumer_id", ConsumerId::parse)?,
        user_id: row.id("user_id", UserId::parse)?,
        scopes: row.text("scopes")?,
        family_id: row.text("family_id")?,
        issued_at: Timestamp(row.int("issued_at")?),
        expires_at: row.opt_int("expires_at")?.map(Timestamp),
        last_used_at: Timestamp(row.int("last_used_at")?),
        use_count: row.int("use_count")?,
        rotated_at: row.opt_int("rotated_at")?.map(Timestamp),
        revoked_at: row.opt_int("revoked_at")?.map(Timestamp),
    })
}

const ACCESS_INSERT: &str = "INSERT INTO oauth_access_tokens (token_hash, org_id, app_name, \
     app_name_lower, consumer_id, user_id, scopes, format, refresh_hash, issued_at, expires_at, \
     revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// Every batch of up to this many access tokens is one multi-row INSERT of exactly its size:
/// one statement, so one round trip to the database (for SQLite, one hand-off to its thread)
/// and no transaction around it. Batches of RS256 tokens (a few thousand a second, gathered
/// for 2 ms) hold 5 to 30 tokens; cut into forms of 8, 2 and 1 rows, as before, they took
/// four or five statements inside a transaction.
const EXACT_ROWS: usize = 32;

/// Larger batches are cut into INSERTs of these sizes first, largest first.
const LARGE_ROWS: [usize; 2] = [128, 64];

/// The rows of the next INSERT when `left` tokens are still to be written.
fn access_insert_rows(left: usize) -> usize {
    LARGE_ROWS
        .into_iter()
        .find(|rows| *rows <= left)
        .unwrap_or(left.min(EXACT_ROWS))
}

/// The multi-row forms of [`ACCESS_INSERT`] by row count, made on first use: with `$N`
/// placeholders (PostgreSQL, `[0]`) and with `?` placeholders (SQLite, `[1]`: it looks a
/// numbered placeholder's name up by a linear scan, so binding thousands of them would take
/// quadratic time).
static ACCESS_INSERTS: [[std::sync::OnceLock<&'static str>; 129]; 2] =
    [const { [const { std::sync::OnceLock::new() }; 129] }; 2];

/// The INSERT of `rows` access tokens (1 to [`EXACT_ROWS`], or one of [`LARGE_ROWS`]).
fn access_insert(rows: usize, sqlite: bool) -> &'static str {
    ACCESS_INSERTS[usize::from(sqlite)][rows].get_or_init(|| multi_row_access_insert(rows, !sqlite))
}

/// `INSERT ... VALUES (...), (...)` with `rows` rows of [`ACCESS_INSERT`]'s twelve columns,
/// numbered (`$1`...) or positional (`?`). Made once per form for the life of the process
/// (the database drivers take `&'static str`).
fn multi_row_access_insert(rows: usize, numbered: bool) -> &'static str {
    let head = &ACCESS_INSERT[..ACCESS_INSERT.find("VALUES").unwrap_or(0)];
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=12)
                .map(|col| {
                    if numbered {
                        format!("${}", row * 12 + col)
                    } else {
                        "?".to_owned()
                    }
                })
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    Box::leak(format!("{head}VALUES {}", values.join(", ")).into_boxed_str())
}

/// The statements that void an app's grants still under way, of one user or (`None`) of all:
/// they would issue new tokens after a revocation. Codes not yet redeemed are deleted, and
/// codes redeemed by an exchange that has not recorded its tokens yet are marked replayed;
/// device codes approved but not yet collected, or being collected, are denied. App names are
/// API names (ASCII), so SQL's `lower` folds them as `fold` does (`app_lower`).
///
/// They run first in the revocation's transaction. An exchange writes its tokens, then records
/// them on its code only while the code is neither replayed nor denied
/// (`record_code_tokens`, `record_device_tokens`). Either the record comes first, and its
/// tokens were written before the revocation's token statements read; or these statements
/// come first (on PostgreSQL the record waits for their row lock until the revocation
/// commits), the record fails, and the exchange revokes its own tokens.
pub(super) fn void_grants_under_way<'a>(
    org: &'a OrgId,
    app_lower: &'a str,
    user: Option<&'a UserId>,
    at: Timestamp,
) -> [(&'static str, Vec<Arg<'a>>); VOIDING_STATEMENTS] {
    let args = vec![
        Arg::Text(org.as_str()),
        Arg::Text(app_lower),
        Arg::OptText(user.map(UserId::as_str)),
        Arg::Int(at.millis()),
    ];
    [
        (
            "DELETE FROM oauth_authorization_codes \
             WHERE org_id = $1 AND lower(app_name) = $2 \
             AND (CAST($3 AS TEXT) IS NULL OR user_id = $3) AND consumed_at IS NULL",
            args.clone(),
        ),
        (
            "UPDATE oauth_authorization_codes SET replayed_at = $4 \
             WHERE org_id = $1 AND lower(app_name) = $2 \
             AND (CAST($3 AS TEXT) IS NULL OR user_id = $3) AND consumed_at IS NOT NULL \
             AND access_hash IS NULL AND replayed_at IS NULL",
            args.clone(),
        ),
        (
            "UPDATE oauth_device_codes SET status = 'denied', decided_at = $4 \
             WHERE org_id = $1 AND lower(app_name) = $2 \
             AND (CAST($3 AS TEXT) IS NULL OR user_id = $3) \
             AND status IN ('approved', 'issuing')",
            args,
        ),
    ]
}

/// A refresh token by its hash, revoked when any of its family is. The family's revoked
/// members are found through the partial index of revoked tokens (migration 0017): a live
/// family's rotated members are never read.
pub(crate) const REFRESH_TOKEN_BY_HASH: &str = "SELECT t.token_hash, t.org_id, t.app_name, t.consumer_id, t.user_id, \
     t.scopes, t.family_id, t.issued_at, t.expires_at, t.last_used_at, \
     t.use_count, t.rotated_at, \
     COALESCE(t.revoked_at, (SELECT MIN(f.revoked_at) FROM oauth_refresh_tokens f \
       WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL)) AS revoked_at \
     FROM oauth_refresh_tokens t WHERE t.token_hash = $1";

/// The statements that revoke every token of an app and void its grants under way, for one
/// transaction: [`void_grants_under_way`]'s first, then the tokens'. Used by
/// `revoke_app_tokens` and by a change set that deletes the app. A refresh racing with them
/// may read its refresh token as live and write the access token just after; that token is
/// refused on use, because its refresh token is revoked (`oauth::bearer::live` in eca-server).
pub(super) fn app_revocation<'a>(
    org: &'a OrgId,
    app_lower: &'a str,
    at: Timestamp,
) -> Vec<(&'static str, Vec<Arg<'a>>)> {
    let args = vec![
        Arg::Text(org.as_str()),
        Arg::Text(app_lower),
        Arg::Int(at.millis()),
    ];
    void_grants_under_way(org, app_lower, None, at)
        .into_iter()
        .chain([
            (
                "UPDATE oauth_refresh_tokens SET revoked_at = $3 \
                 WHERE org_id = $1 AND app_name_lower = $2 AND revoked_at IS NULL",
                args.clone(),
            ),
            (
                "UPDATE oauth_access_tokens SET revoked_at = $3 \
                 WHERE org_id = $1 AND app_name_lower = $2 AND revoked_at IS NULL",
                args,
            ),
        ])
        .collect()
}

/// How many statements [`void_grants_under_way`] makes: a revocation's token counts follow.
pub(super) const VOIDING_STATEMENTS: usize = 3;

/// Reads up to `limit` keys of expired access tokens with `select` (on a reader, which never
/// waits for the writer and never holds it), then deletes exactly those rows that expired
/// before `before`, in one statement. Returns how many were deleted, and the last key read
/// when there may be more.
async fn delete_read_keys<D: Db>(
    db: &D,
    select: &'static str,
    args: &[Arg<'_>],
    before: Timestamp,
    limit: i64,
) -> StoreResult<(u64, Option<String>)> {
    let rows = db.read_all(select, args).await.map_err(database)?;
    let keys = rows
        .iter()
        .map(|row| row.text("token_hash"))
        .collect::<StoreResult<Vec<String>>>()?;
    let Some(last) = keys.last() else {
        return Ok((0, None));
    };
    // One statement for any number of keys: they travel as one JSON array.
    let sql = by_json_list!(
        "DELETE FROM oauth_access_tokens WHERE token_hash IN (",
        ") AND expires_at < $2"
    )[json_list_form(D::BACKEND)];
    let deleted = delete_listed(db, sql, &keys, before).await?;
    let full = i64::try_from(keys.len()).is_ok_and(|n| n >= limit);
    Ok((deleted, full.then(|| last.clone())))
}

/// Runs a [`by_json_list`] DELETE with `keys` as its JSON array (`$1`) and `before` as `$2`;
/// the rows deleted.
async fn delete_listed<D: Db>(
    db: &D,
    sql: &'static str,
    keys: &[String],
    before: Timestamp,
) -> StoreResult<u64> {
    let list = serde_json::to_string(keys)
        .map_err(|e| StoreError::Database(format!("listing keys as JSON: {e}")))?;
    db.write(sql, &[Arg::Text(&list), Arg::Int(before.millis())])
        .await
        .map_err(database)
}

/// The arguments of [`ACCESS_INSERT`]. Texts go through `shared`: in a batch, the org, app,
/// consumer, user, scopes and format of most rows are the same few values.
fn access_args(t: &AccessTokenRecord, shared: &mut SharedTexts) -> Vec<Arg<'static>> {
    vec![
        Arg::Shared(Arc::from(t.token_hash.as_str())),
        shared.arg(t.org_id.as_str()),
        shared.arg(&t.app_name),
        shared.lower(&t.app_name),
        shared.arg(t.consumer_id.as_str()),
        shared.arg(t.user_id.as_str()),
        shared.arg(&t.scopes),
        shared.arg(t.format.as_str()),
        match &t.refresh_hash {
            Some(hash) => Arg::Shared(Arc::from(hash.as_str())),
            None => Arg::OptText(None),
        },
        Arg::Int(t.issued_at.millis()),
        Arg::Int(t.expires_at.millis()),
        Arg::OptInt(t.revoked_at.map(Timestamp::millis)),
    ]
}

/// One shared copy of each text a batch's rows repeat, and of each app name's folded form.
#[derive(Default)]
struct SharedTexts {
    texts: HashMap<String, Arc<str>>,
    lowers: HashMap<String, Arc<str>>,
}

impl SharedTexts {
    fn arg(&mut self, text: &str) -> Arg<'static> {
        Arg::Shared(shared(&mut self.texts, text, |text| Arc::from(text)))
    }

    /// `app_name`'s folded form ([`fold`]), the column `app_name_lower`.
    fn lower(&mut self, app_name: &str) -> Arg<'static> {
        Arg::Shared(shared(&mut self.lowers, app_name, |name| {
            Arc::from(fold(name))
        }))
    }
}

fn shared(
    seen: &mut HashMap<String, Arc<str>>,
    key: &str,
    make: impl FnOnce(&str) -> Arc<str>,
) -> Arc<str> {
    if let Some(text) = seen.get(key) {
        return Arc::clone(text);
    }
    let text = make(key);
    seen.insert(key.to_owned(), Arc::clone(&text));
    text
}

/// The arguments of [`REFRESH_INSERT`].
fn refresh_args<'a>(t: &'a RefreshTokenRecord, app_lower: &'a str) -> Vec<Arg<'a>> {
    vec![
        Arg::Text(&t.token_hash),
        Arg::Text(t.org_id.as_str()),
        Arg::Text(&t.app_name),
        Arg::Text(app_lower),
        Arg::Text(t.consumer_id.as_str()),
        Arg::Text(t.user_id.as_str()),
        Arg::Text(&t.scopes),
        Arg::Text(&t.family_id),
        Arg::Int(t.issued_at.millis()),
        Arg::OptInt(t.expires_at.map(Timestamp::millis)),
        Arg::Int(t.last_used_at.millis()),
        Arg::Int(t.use_count),
        Arg::OptInt(t.rotated_at.map(Timestamp::millis)),
        Arg::OptInt(t.revoked_at.map(Timestamp::millis)),
    ]
}

/// The error of a refused token insert.
fn insert_failure(e: sqlx::Error, what: &'static str, hash: &str, user: &UserId) -> StoreError {
    match Failure::of(e) {
        Failure::Unique(_) => StoreError::Conflict {
            what,
            value: short_hash(hash),
        },
        Failure::ForeignKey => StoreError::Missing {
            what: "user in the token's org",
            value: user.to_string(),
        },
        Failure::Other(e) => e,
    }
}

#[async_trait]
impl<D: Db> TokenStore for D {
    async fn create_access_token(&self, t: &AccessTokenRecord) -> StoreResult<()> {
        self.write(ACCESS_INSERT, &access_args(t, &mut SharedTexts::default()))
            .await
            .map(drop)
            .map_err(|e| insert_failure(e, "access token", &t.token_hash, &t.user_id))
    }

    async fn create_access_tokens(&self, tokens: &[&AccessTokenRecord]) -> StoreResult<()> {
        let mut shared = SharedTexts::default();
        // Multi-row INSERTs of a few fixed sizes: each statement is one round trip to the
        // database (for SQLite, to its worker thread), and a handful of distinct statements
        // stay prepared in the connection's cache.
        let mut steps = Vec::new();
        let mut starts = Vec::new();
        let mut at = 0;
        while at < tokens.len() {
            let size = access_insert_rows(tokens.len() - at);
            let sql = access_insert(size, Self::BACKEND == "sqlite");
            let args = tokens[at..at + size]
                .iter()
                .flat_map(|t| access_args(t, &mut shared))
                .collect();
            steps.push(Step {
                sql,
                args,
                expect_rows: size as u64,
            });
            starts.push((at, size));
            at += size;
        }
        // One statement (up to 32 tokens, or 64 or 128) needs no transaction around it: an
        // INSERT is atomic by itself, and BEGIN and COMMIT would be two more round trips to the
        // database (on SQLite, two more hand-offs to its thread) for every batch.
        let written = match steps.as_slice() {
            [only] => self
                .write(only.sql, &only.args)
                .await
                .map_err(|error| BatchError::Sql { step: 0, error })
                .and_then(|rows| only.check(0, rows)),
            _ => self.write_batch(&steps).await,
        };
        written.map_err(|e| match e {
            BatchError::Sql { step, error } => {
                let (start, size) = starts[step];
                let t = &tokens[start];
                if size == 1 {
                    insert_failure(error, "access token", &t.token_hash, &t.user_id)
                } else {
                    // Which row of the statement failed is not known: the caller writes the
                    // tokens again one by one to find it (`token_writer`).
                    match insert_failure(error, "access token", &t.token_hash, &t.user_id) {
                        StoreError::Conflict { what, .. } => StoreError::Conflict {
                            what,
                            value: format!("one of {size} tokens"),
                        },
                        StoreError::Missing { what, .. } => StoreError::Missing {
                            what,
                            value: format!("for one of {size} tokens"),
                        },
                        other => other,
                    }
                }
            }
            BatchError::Unexpected { step } => StoreError::Database(format!(
                "inserting {} access tokens from {} changed fewer rows",
                starts[step].1,
                short_hash(&tokens[starts[step].0].token_hash)
            )),
            BatchError::Transaction(error) => database(error),
        })
    }

    async fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessTokenRecord>> {
        let sql = "SELECT token_hash, org_id, app_name, consumer_id, user_id, scopes, \
                   format, refresh_hash, issued_at, expires_at, revoked_at \
                   FROM oauth_access_tokens WHERE token_hash = $1";
        let row = self
            .read_optional(sql, &[Arg::Text(token_hash)])
            .await
            .map_err(database)?;
        row.as_ref().map(access_from).transpose()
    }

    async fn delete_expired_access_tokens(
        &self,
        before: Timestamp,
        after: &str,
        below: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)> {
        // The keys are read on a reader, which never waits for the writer and never holds it:
        // a walk along the primary key, with no index on the expiry time for every issued token
        // to pay for. The writer then deletes exactly those rows, by key, however many live
        // tokens lie between them.
        let sql = "SELECT token_hash FROM oauth_access_tokens \
                   WHERE token_hash > $1 AND token_hash < $2 AND expires_at < $3 \
                   ORDER BY token_hash LIMIT $4";
        let limit = limit.max(1);
        let args = [
            Arg::Text(after),
            Arg::Text(below),
            Arg::Int(before.millis()),
            Arg::Int(limit),
        ];
        delete_read_keys(self, sql, &args, before, limit).await
    }

    async fn delete_expired_hash_keyed_access_tokens(
        &self,
        before: Timestamp,
        after: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)> {
        // The condition on the length is the partial index `oauth_access_tokens_hash_keyed`'s
        // (0013): only the tokens of that shape are read.
        let sql = "SELECT token_hash FROM oauth_access_tokens \
                   WHERE length(token_hash) = 64 AND token_hash > $1 AND expires_at < $2 \
                   ORDER BY token_hash LIMIT $3";
        let limit = limit.max(1);
        let args = [Arg::Text(after), Arg::Int(before.millis()), Arg::Int(limit)];
        delete_read_keys(self, sql, &args, before, limit).await
    }

    async fn revoke_access_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE oauth_access_tokens SET revoked_at = $2 \
                   WHERE token_hash = $1 AND revoked_at IS NULL";
        let n = self
            .write(sql, &[Arg::Text(token_hash), Arg::Int(at.millis())])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn create_refresh_token(&self, t: &RefreshTokenRecord) -> StoreResult<()> {
        let app_lower = fold(&t.app_name);
        self.write(REFRESH_INSERT, &refresh_args(t, &app_lower))
            .await
            .map(drop)
            .map_err(|e| insert_failure(e, "refresh token", &t.token_hash, &t.user_id))
    }

    async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        // A family with a revoked member is dead (`rotate_refresh_token`): the token reads as
        // revoked when any of its family is, so the grant, introspection and the usage API's
        // revocation all refuse it, whatever the app's rotation setting now is.
        let row = self
            .read_optional(REFRESH_TOKEN_BY_HASH, &[Arg::Text(token_hash)])
            .await
            .map_err(database)?;
        row.as_ref().map(refresh_from).transpose()
    }

    async fn use_refresh_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE oauth_refresh_tokens SET use_count = use_count + 1, last_used_at = $2 \
                   WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL";
        let n = self
            .write(sql, &[Arg::Text(token_hash), Arg::Int(at.millis())])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn record_refresh_uses(&self, uses: &[RefreshUse]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // SQLite's two-argument max() is PostgreSQL's GREATEST().
        let sql = if Self::BACKEND == "sqlite" {
            "UPDATE oauth_refresh_tokens SET use_count = use_count + $2, \
             last_used_at = max(last_used_at, $3) \
             WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL"
        } else {
            "UPDATE oauth_refresh_tokens SET use_count = use_count + $2, \
             last_used_at = GREATEST(last_used_at, $3) \
             WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL"
        };
        // In one order whatever the caller's: on PostgreSQL, two batches (two nodes) that
        // locked shared tokens in opposite orders could deadlock, and one would be lost.
        let mut sorted: Vec<&RefreshUse> = uses.iter().collect();
        sorted.sort_unstable_by(|a, b| a.token_hash.cmp(&b.token_hash));
        let statements: Vec<(&'static str, Vec<Arg<'_>>)> = sorted
            .into_iter()
            .map(|u| {
                (
                    sql,
                    vec![
                        Arg::Text(&u.token_hash),
                        Arg::Int(u.count),
                        Arg::Int(u.last_used_at.millis()),
                    ],
                )
            })
            .collect();
        self.write_counted(&statements)
            .await
            .map(drop)
            .map_err(database)
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshTokenRecord,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let app_lower = fold(&next.app_name);
        let steps = [
            Step {
                // A family with a revoked member is dead. On PostgreSQL a revocation that
                // raced an earlier rotation can leave that rotation's replacement live (its
                // UPDATE, at READ COMMITTED, waited on the presented token's row and never saw
                // the inserted one); this is where the replacement is refused (RFC 9700
                // §4.14.2: reuse revokes the whole family).
                sql: "UPDATE oauth_refresh_tokens SET rotated_at = $2, last_used_at = $2, \
                      use_count = use_count + 1 \
                      WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL \
                      AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens f \
                        WHERE f.family_id = oauth_refresh_tokens.family_id \
                        AND f.revoked_at IS NOT NULL)",
                args: vec![Arg::Text(token_hash), Arg::Int(at.millis())],
                expect_rows: 1,
            },
            Step {
                sql: REFRESH_INSERT,
                args: refresh_args(next, &app_lower),
                expect_rows: 1,
            },
        ];
        match self.write_batch(&steps).await {
            Ok(()) => Ok(true),
            Err(BatchError::Unexpected { step: 0 }) => Ok(false),
            Err(BatchError::Unexpected { .. }) => Err(StoreError::Database(
                "rotating a refresh token inserted no row".to_owned(),
            )),
            Err(BatchError::Sql { error, .. }) => Err(insert_failure(
                error,
                "refresh token",
                &next.token_hash,
                &next.user_id,
            )),
            Err(BatchError::Transaction(e)) => Err(database(e)),
        }
    }

    async fn delete_dead_refresh_tokens(
        &self,
        before: Timestamp,
        after: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)> {
        // A window of families is read on a reader, each with its count of tokens that could
        // still be used (or were revoked or expired only lately): the family index bounds the
        // walk, and the writer is never held by it.
        let sql = "SELECT family_id, SUM(CASE WHEN rotated_at IS NULL \
                   AND (revoked_at IS NULL OR revoked_at >= $2) \
                   AND (expires_at IS NULL OR expires_at >= $2) THEN 1 ELSE 0 END) AS live \
                   FROM oauth_refresh_tokens WHERE family_id IN \
                   (SELECT DISTINCT family_id FROM oauth_refresh_tokens WHERE family_id > $1 \
                   ORDER BY family_id LIMIT $3) \
                   GROUP BY family_id ORDER BY family_id";
        let limit = limit.max(1);
        let args = [Arg::Text(after), Arg::Int(before.millis()), Arg::Int(limit)];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        let mut dead = Vec::new();
        let mut last = None;
        for row in &rows {
            let family = row.text("family_id")?;
            if row.int("live")? == 0 {
                dead.push(family.clone());
            }
            last = Some(family);
        }
        let full = i64::try_from(rows.len()).is_ok_and(|n| n >= limit);
        let next = last.filter(|_| full);
        if dead.is_empty() {
            return Ok((0, next));
        }
        // The writer checks both rules again, so what it deletes is dead whatever happened
        // since the read; a token still named by an access token stays for a later sweep.
        let sql = by_json_list!(
            "DELETE FROM oauth_refresh_tokens WHERE family_id IN (",
            ") AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens l \
             WHERE l.family_id = oauth_refresh_tokens.family_id AND l.rotated_at IS NULL \
             AND (l.revoked_at IS NULL OR l.revoked_at >= $2) \
             AND (l.expires_at IS NULL OR l.expires_at >= $2)) \
             AND NOT EXISTS (SELECT 1 FROM oauth_access_tokens a \
             WHERE a.refresh_hash = oauth_refresh_tokens.token_hash)"
        )[json_list_form(Self::BACKEND)];
        let deleted = delete_listed(self, sql, &dead, before).await?;
        Ok((deleted, next))
    }

    async fn revoke_refresh_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        // The whole grant: with rotation, the access token of each refresh names the refresh
        // token presented, which is rotated by then, not the one the client holds now. One
        // transaction: the access tokens go with their refresh tokens or nothing does. The
        // token itself is counted first, alone, for the answer.
        let args = vec![Arg::Text(token_hash), Arg::Int(at.millis())];
        let counts = self
            .write_counted(&[
                (
                    "UPDATE oauth_refresh_tokens SET revoked_at = $2 \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                    args.clone(),
                ),
                (
                    "UPDATE oauth_refresh_tokens SET revoked_at = $2 \
                     WHERE revoked_at IS NULL AND family_id = \
                     (SELECT family_id FROM oauth_refresh_tokens WHERE token_hash = $1)",
                    args.clone(),
                ),
                (
                    "UPDATE oauth_access_tokens SET revoked_at = $2 \
                     WHERE revoked_at IS NULL AND refresh_hash IN \
                     (SELECT token_hash FROM oauth_refresh_tokens WHERE family_id = \
                     (SELECT family_id FROM oauth_refresh_tokens WHERE token_hash = $1))",
                    args,
                ),
            ])
            .await
            .map_err(database)?;
        Ok(counts.first().is_some_and(|n| *n > 0))
    }

    async fn revoke_refresh_family(&self, family_id: &str, at: Timestamp) -> StoreResult<u64> {
        // Both in one transaction. Refresh tokens first, then access tokens, as every
        // revocation takes them: on PostgreSQL, two that locked them in opposite orders could
        // deadlock, and one would fail.
        let args = vec![Arg::Text(family_id), Arg::Int(at.millis())];
        let counts = self
            .write_counted(&[
                (
                    "UPDATE oauth_refresh_tokens SET revoked_at = $2 \
                     WHERE family_id = $1 AND revoked_at IS NULL",
                    args.clone(),
                ),
                (
                    "UPDATE oauth_access_tokens SET revoked_at = $2 \
                     WHERE revoked_at IS NULL AND refresh_hash IN \
                     (SELECT token_hash FROM oauth_refresh_tokens WHERE family_id = $1)",
                    args,
                ),
            ])
            .await
            .map_err(database)?;
        Ok(counts.first().copied().unwrap_or(0))
    }

    async fn end_refresh_tokens_by_lifetime(
        &self,
        org: &OrgId,
        app: &str,
        lifetime_ms: Option<i64>,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let app_lower = fold(app);
        // Reads the app's live tokens along `oauth_refresh_tokens_live`. A century bounds the
        // lifetime, so `issued_at + $3` cannot overflow.
        const CENTURY_MS: i64 = 100 * 365 * 86_400_000;
        let (sql, third) = match lifetime_ms {
            Some(ms) => (
                "UPDATE oauth_refresh_tokens SET expires_at = issued_at + $3 \
                 WHERE org_id = $1 AND app_name_lower = $2 \
                 AND revoked_at IS NULL AND rotated_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > issued_at + $3)",
                ms.clamp(0, CENTURY_MS),
            ),
            None => (
                "UPDATE oauth_refresh_tokens SET expires_at = $3 \
                 WHERE org_id = $1 AND app_name_lower = $2 \
                 AND revoked_at IS NULL AND rotated_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $3)",
                at.millis(),
            ),
        };
        self.write(
            sql,
            &[
                Arg::Text(org.as_str()),
                Arg::Text(&app_lower),
                Arg::Int(third),
            ],
        )
        .await
        .map_err(database)
    }

    async fn end_endless_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        lifetime_ms: Option<i64>,
        at: Timestamp,
        limit: i64,
    ) -> StoreResult<u64> {
        let app_lower = fold(app);
        // The inner SELECT reads the partial index `oauth_refresh_tokens_idle` (0012): only
        // the tokens without an end. `$3` is the lifetime (`Some`) or `at` (`Zero`).
        const CENTURY_MS: i64 = 100 * 365 * 86_400_000;
        macro_rules! ending {
            ($set:literal) => {
                concat!(
                    "UPDATE oauth_refresh_tokens SET expires_at = ",
                    $set,
                    " WHERE token_hash IN ( \
                       SELECT token_hash FROM oauth_refresh_tokens \
                       WHERE org_id = $1 AND app_name_lower = $2 \
                         AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at IS NULL \
                       LIMIT $4)"
                )
            };
        }
        let (sql, third) = match lifetime_ms {
            Some(ms) => (ending!("issued_at + $3"), ms.clamp(0, CENTURY_MS)),
            None => (ending!("$3"), at.millis()),
        };
        self.write(
            sql,
            &[
                Arg::Text(org.as_str()),
                Arg::Text(&app_lower),
                Arg::Int(third),
                Arg::Int(limit.max(1)),
            ],
        )
        .await
        .map_err(database)
    }

    async fn expire_idle_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        used_before: Timestamp,
        at: Timestamp,
        limit: i64,
    ) -> StoreResult<u64> {
        let app_lower = fold(app);
        // The inner SELECT reads the partial index `oauth_refresh_tokens_idle` (0012): only
        // the idle tokens, however many are still in use.
        self.write(
            "UPDATE oauth_refresh_tokens SET expires_at = $4 WHERE token_hash IN ( \
               SELECT token_hash FROM oauth_refresh_tokens \
               WHERE org_id = $1 AND app_name_lower = $2 AND last_used_at < $3 \
                 AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at IS NULL \
               LIMIT $5)",
            &[
                Arg::Text(org.as_str()),
                Arg::Text(&app_lower),
                Arg::Int(used_before.millis()),
                Arg::Int(at.millis()),
                Arg::Int(limit.max(1)),
            ],
        )
        .await
        .map_err(database)
    }

    async fn revoke_app_tokens(&self, org: &OrgId, app: &str, at: Timestamp) -> StoreResult<u64> {
        let app_lower = fold(app);
        let statements = app_revocation(org, &app_lower, at);
        let counts = self.write_counted(&statements).await.map_err(database)?;
        // Tokens only: the voided codes had issued nothing yet.
        Ok(counts.iter().skip(VOIDING_STATEMENTS).sum())
    }

    async fn record_approval(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        scopes: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO oauth_approvals (org_id, app_name_lower, user_id, approved_at, \
                   scopes) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (org_id, app_name_lower, user_id) \
                   DO UPDATE SET approved_at = excluded.approved_at, scopes = excluded.scopes";
        let app_lower = fold(app);
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(&app_lower),
            Arg::Text(user.as_str()),
            Arg::Int(at.millis()),
            Arg::OptText(scopes),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the org",
                    value: user.to_string(),
                },
                Failure::Unique(c) => StoreError::Database(format!("unexpected conflict on {c}")),
                Failure::Other(e) => e,
            }),
        }
    }

    async fn delete_app_approvals(&self, org: &OrgId, app: &str) -> StoreResult<u64> {
        let app_lower = fold(app);
        self.write(
            "DELETE FROM oauth_approvals WHERE org_id = $1 AND app_name_lower = $2",
            &[Arg::Text(org.as_str()), Arg::Text(&app_lower)],
        )
        .await
        .map_err(database)
    }

    async fn approved_scopes(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
    ) -> StoreResult<Option<Option<String>>> {
        let sql = "SELECT scopes FROM oauth_approvals \
                   WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3";
        let app_lower = fold(app);
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(&app_lower),
            Arg::Text(user.as_str()),
        ];
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.map(|r| r.opt_text("scopes")).transpose()
    }

    async fn has_approved(&self, org: &OrgId, app: &str, user: &UserId) -> StoreResult<bool> {
        let sql = "SELECT 1 FROM oauth_approvals \
                   WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3";
        let app_lower = fold(app);
        let row = self
            .read_optional(
                sql,
                &[
                    Arg::Text(org.as_str()),
                    Arg::Text(&app_lower),
                    Arg::Text(user.as_str()),
                ],
            )
            .await
            .map_err(database)?;
        Ok(row.is_some())
    }

    async fn create_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        let sql = "INSERT INTO oauth_signing_keys (org_id, kid, private_key, created_at) \
                   VALUES ($1, $2, $3, $4)";
        let args = [
            Arg::Text(key.org_id.as_str()),
            Arg::Text(&key.kid),
            Arg::Bytes(&key.encrypted_key),
            Arg::Int(key.created_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "signing key",
                    value: key.kid.clone(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "org",
                    value: key.org_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn signing_keys(&self, org: &OrgId) -> StoreResult<Vec<SigningKeyRecord>> {
        let sql = "SELECT org_id, kid, private_key, created_at FROM oauth_signing_keys \
                   WHERE org_id = $1 ORDER BY length(kid), kid";
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(SigningKeyRecord {
                    org_id: row.id("org_id", OrgId::parse)?,
                    kid: row.text("kid")?,
                    encrypted_key: row.bytes("private_key")?,
                    created_at: Timestamp(row.int("created_at")?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_up_to_32_tokens_is_one_insert_and_larger_ones_take_few() {
        for tokens in 1..=600 {
            let mut left = tokens;
            let mut statements = Vec::new();
            while left > 0 {
                let rows = access_insert_rows(left);
                assert!((1..=EXACT_ROWS).contains(&rows) || LARGE_ROWS.contains(&rows));
                assert!(rows <= left, "{tokens}");
                statements.push(rows);
                left -= rows;
            }
            if tokens <= EXACT_ROWS {
                assert_eq!(statements, [tokens]);
            }
            // Whole forms of 128 first, then at most one each of 64 and 32, and one exact rest.
            assert!(
                statements.len() <= tokens / 128 + 3,
                "{tokens}: {statements:?}"
            );
        }
        assert_eq!(access_insert_rows(100), 64);
        assert_eq!(access_insert_rows(36), 32);
        assert_eq!(access_insert_rows(4), 4);
        let sql = access_insert(3, true);
        assert_eq!(sql.matches('?').count(), 36);
        assert!(std::ptr::eq(sql, access_insert(3, true)), "made once");
        assert!(access_insert(2, false).ends_with("$23, $24)"));
    }
}
