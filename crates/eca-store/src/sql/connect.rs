//! [`ConnectStore`] over [`Db`]: OAuth usage, revocation by app and user, the audit trail of
//! Connect calls, and staged credentials.
//!
//! The listings read the partial indexes of migration 0005, which hold live rows only, so
//! their cost follows the live tokens of one app rather than every token ever issued.

use async_trait::async_trait;
use eca_core::ids::StagedCredentialId;
use eca_core::{OrgId, Timestamp, UserId};

use super::oauth::{VOIDING_STATEMENTS, refresh_from, void_grants_under_way};
use super::{Arg, BatchError, Columns, Db, Failure, Step, database, fold};
use crate::connect::{AppUserUsage, CredentialState, Page, StagedCredential};
use crate::metadata::{AuditEntry, ConsumerId, OauthConsumer};
use crate::oauth::RefreshTokenRecord;
use crate::{ConnectStore, StoreError, StoreResult};

/// The header type: an app exists when its header does.
const HEADER_TYPE: &str = "ExternalClientApplication";

macro_rules! select_staged {
    ($where:literal) => {
        concat!(
            "SELECT id, org_id, consumer_id, consumer_key, consumer_secret, state, created_at, \
             created_by, expires_at FROM oauth_staged_credentials ",
            $where
        )
    };
}

fn staged_from(row: &impl Columns) -> StoreResult<StagedCredential> {
    let state = row.text("state")?;
    Ok(StagedCredential {
        id: row.id("id", StagedCredentialId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        consumer_id: row.id("consumer_id", ConsumerId::parse)?,
        consumer_key: row.text("consumer_key")?,
        encrypted_secret: row.bytes("consumer_secret")?,
        state: CredentialState::parse(&state).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column `state`: unknown credential state `{state}`"
            ))
        })?,
        created_at: Timestamp(row.int("created_at")?),
        created_by: row.id("created_by", UserId::parse)?,
        expires_at: Timestamp(row.int("expires_at")?),
    })
}

#[async_trait]
impl<D: Db> ConnectStore for D {
    async fn apps_with_usage(
        &self,
        org: &OrgId,
        now: Timestamp,
        page: Page,
    ) -> StoreResult<Vec<String>> {
        // The same tokens as `app_users` counts (live refresh tokens, and live access tokens
        // issued without one), so a listed app always has users. One index probe per app of
        // the org (a handful), never a scan of the table: the access-token probe runs only for
        // an app without a live refresh token, and walks that app's live access tokens (an
        // index of them) until one was issued without a refresh token.
        let sql = "SELECT c.full_name FROM metadata_components c \
                   WHERE c.org_id = $1 AND c.type_name = $2 AND ( \
                     EXISTS (SELECT 1 FROM oauth_refresh_tokens r \
                       WHERE r.org_id = c.org_id AND r.app_name_lower = c.full_name_lower \
                       AND r.revoked_at IS NULL AND r.rotated_at IS NULL \
                       AND (r.expires_at IS NULL OR r.expires_at > $3)) \
                     OR EXISTS (SELECT 1 FROM oauth_access_tokens a \
                       WHERE a.org_id = c.org_id AND a.app_name_lower = c.full_name_lower \
                       AND a.revoked_at IS NULL AND a.refresh_hash IS NULL \
                       AND a.expires_at > $3)) \
                   ORDER BY c.full_name_lower LIMIT $4 OFFSET $5";
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(HEADER_TYPE),
            Arg::Int(now.millis()),
            Arg::Int(page.limit),
            Arg::Int(page.offset),
        ];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(|r| r.text("full_name")).collect()
    }

    async fn app_users(
        &self,
        org: &OrgId,
        app: &str,
        now: Timestamp,
        page: Page,
    ) -> StoreResult<Vec<AppUserUsage>> {
        // Live refresh tokens, plus live access tokens issued without one (those issued from a
        // refresh token are counted in its use_count). First the page of users: the first
        // `offset + limit` distinct users of each kind of token, read in user-id order along
        // the live indexes (each read stops there), merged; then the tokens of the users in
        // that page's id range, summed. A page reads about its own users' rows and those of
        // the pages before it, never the whole app.
        let app_lower = fold(app);
        let wanted = page.offset.saturating_add(page.limit);
        let first_users = |sql: &'static str| {
            let args = [
                Arg::Text(org.as_str()),
                Arg::Text(&app_lower),
                Arg::Int(now.millis()),
                Arg::Int(wanted),
            ];
            async move {
                let rows = self.read_all(sql, &args).await.map_err(database)?;
                rows.iter()
                    .map(|r| r.text("user_id"))
                    .collect::<StoreResult<Vec<String>>>()
            }
        };
        let mut ids: std::collections::BTreeSet<String> = first_users(
            "SELECT DISTINCT user_id FROM oauth_refresh_tokens \
             WHERE org_id = $1 AND app_name_lower = $2 \
             AND revoked_at IS NULL AND rotated_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $3) \
             ORDER BY user_id LIMIT $4",
        )
        .await?
        .into_iter()
        .collect();
        ids.extend(
            // `+expires_at`: without statistics (the server never runs ANALYZE) SQLite would
            // take the range on `oauth_access_tokens_live` and sort every live token of the
            // app; the unary plus keeps it on `oauth_access_tokens_live_standalone`, read in
            // user order up to the LIMIT. PostgreSQL plans this by its statistics either way.
            first_users(
                "SELECT DISTINCT user_id FROM oauth_access_tokens \
                 WHERE org_id = $1 AND app_name_lower = $2 \
                 AND revoked_at IS NULL AND refresh_hash IS NULL AND +expires_at > $3 \
                 ORDER BY user_id LIMIT $4",
            )
            .await?,
        );
        let in_page: Vec<&String> = ids
            .iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(page.limit).unwrap_or(0))
            .collect();
        let (Some(first), Some(last)) = (in_page.first(), in_page.last()) else {
            return Ok(Vec::new());
        };
        let sql = "SELECT u.user_id, p.username, MIN(u.first_at) AS first_at, \
                   MAX(u.last_at) AS last_at, CAST(SUM(u.uses) AS BIGINT) AS uses \
                   FROM ( \
                     SELECT user_id, issued_at AS first_at, last_used_at AS last_at, \
                       use_count AS uses FROM oauth_refresh_tokens \
                     WHERE org_id = $1 AND app_name_lower = $2 \
                       AND user_id >= $4 AND user_id <= $5 \
                       AND revoked_at IS NULL AND rotated_at IS NULL \
                       AND (expires_at IS NULL OR expires_at > $3) \
                     UNION ALL \
                     SELECT user_id, issued_at AS first_at, issued_at AS last_at, 1 AS uses \
                     FROM oauth_access_tokens \
                     WHERE org_id = $1 AND app_name_lower = $2 \
                       AND user_id >= $4 AND user_id <= $5 \
                       AND revoked_at IS NULL AND refresh_hash IS NULL AND expires_at > $3 \
                   ) u JOIN users p ON p.id = u.user_id \
                   GROUP BY u.user_id, p.username ORDER BY u.user_id";
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(&app_lower),
            Arg::Int(now.millis()),
            Arg::Text(first),
            Arg::Text(last),
        ];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(AppUserUsage {
                    user_id: row.id("user_id", UserId::parse)?,
                    username: row.text("username")?,
                    first_used_at: Timestamp(row.int("first_at")?),
                    last_used_at: Timestamp(row.int("last_at")?),
                    use_count: row.int("uses")?,
                })
            })
            .collect()
    }

    async fn user_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<RefreshTokenRecord>> {
        let sql = "SELECT token_hash, org_id, app_name, consumer_id, user_id, scopes, family_id, \
                   issued_at, expires_at, last_used_at, use_count, rotated_at, revoked_at \
                   FROM oauth_refresh_tokens \
                   WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3 \
                   AND revoked_at IS NULL AND rotated_at IS NULL \
                   AND (expires_at IS NULL OR expires_at > $4) \
                   ORDER BY issued_at, token_hash";
        let app_lower = fold(app);
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(&app_lower),
            Arg::Text(user.as_str()),
            Arg::Int(now.millis()),
        ];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(refresh_from).collect()
    }

    async fn revoke_user_app_tokens(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let app_lower = fold(app);
        let args = vec![
            Arg::Text(org.as_str()),
            Arg::Text(&app_lower),
            Arg::Text(user.as_str()),
            Arg::Int(at.millis()),
        ];
        // All in one transaction. Access tokens are found without an index on their user
        // (migration 0011): those issued without a refresh token through the partial index of
        // live standalone tokens, the others through the user's refresh tokens (revoked or
        // rotated ones too: the access tokens they issued may still be live).
        let tokens = [
            (
                "UPDATE oauth_refresh_tokens SET revoked_at = $4 \
                 WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3 \
                 AND revoked_at IS NULL",
                args.clone(),
            ),
            (
                "UPDATE oauth_access_tokens SET revoked_at = $4 \
                 WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3 \
                 AND revoked_at IS NULL AND refresh_hash IS NULL",
                args.clone(),
            ),
            (
                "UPDATE oauth_access_tokens SET revoked_at = $4 \
                 WHERE revoked_at IS NULL AND refresh_hash IN \
                 (SELECT token_hash FROM oauth_refresh_tokens \
                 WHERE org_id = $1 AND app_name_lower = $2 AND user_id = $3)",
                args,
            ),
        ];
        let statements: Vec<_> = void_grants_under_way(org, &app_lower, Some(user), at)
            .into_iter()
            .chain(tokens)
            .collect();
        let counts = self.write_counted(&statements).await.map_err(database)?;
        // Tokens only: the voided codes had issued nothing yet.
        Ok(counts.iter().skip(VOIDING_STATEMENTS).sum())
    }

    async fn record_audit(
        &self,
        org: &OrgId,
        user: &UserId,
        at: Timestamp,
        entries: &[AuditEntry],
    ) -> StoreResult<()> {
        let statements: Vec<_> = entries
            .iter()
            .map(|entry| {
                (
                    "INSERT INTO metadata_audit (org_id, user_id, at, deploy_request_id, action, \
                     type_name, full_name, before_xml, after_xml) \
                     VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8)",
                    vec![
                        Arg::Text(org.as_str()),
                        Arg::Text(user.as_str()),
                        Arg::Int(at.millis()),
                        Arg::Text(entry.action.as_str()),
                        Arg::Text(&entry.type_name),
                        Arg::Text(&entry.full_name),
                        Arg::OptText(entry.before_xml.as_deref()),
                        Arg::OptText(entry.after_xml.as_deref()),
                    ],
                )
            })
            .collect();
        match self.write_counted(&statements).await {
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

    async fn stage_credential(&self, c: &StagedCredential, now: Timestamp) -> StoreResult<()> {
        let statements = [
            (
                "DELETE FROM oauth_staged_credentials WHERE consumer_id = $1 AND expires_at <= $2",
                vec![Arg::Text(c.consumer_id.as_str()), Arg::Int(now.millis())],
            ),
            (
                "INSERT INTO oauth_staged_credentials (id, org_id, consumer_id, consumer_key, \
                 consumer_secret, state, created_at, created_by, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                vec![
                    Arg::Text(c.id.as_str()),
                    Arg::Text(c.org_id.as_str()),
                    Arg::Text(c.consumer_id.as_str()),
                    Arg::Text(&c.consumer_key),
                    Arg::Bytes(&c.encrypted_secret),
                    Arg::Text(c.state.as_str()),
                    Arg::Int(c.created_at.millis()),
                    Arg::Text(c.created_by.as_str()),
                    Arg::Int(c.expires_at.millis()),
                ],
            ),
        ];
        match self.write_counted(&statements).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(constraint) if constraint.contains("consumer_key") => {
                    StoreError::Conflict {
                        what: "consumer key",
                        value: c.consumer_key.clone(),
                    }
                }
                Failure::Unique(_) => StoreError::Conflict {
                    what: "staged credential of consumer",
                    value: c.consumer_id.to_string(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "consumer or user in the org",
                    value: c.consumer_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn staged_credential_of(
        &self,
        consumer: &ConsumerId,
    ) -> StoreResult<Option<StagedCredential>> {
        let sql = select_staged!("WHERE consumer_id = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(consumer.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(staged_from).transpose()
    }

    async fn staged_credential(
        &self,
        id: &StagedCredentialId,
    ) -> StoreResult<Option<StagedCredential>> {
        let sql = select_staged!("WHERE id = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(staged_from).transpose()
    }

    async fn staged_credential_by_key(
        &self,
        consumer_key: &str,
    ) -> StoreResult<Option<StagedCredential>> {
        let sql = select_staged!("WHERE consumer_key = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(consumer_key)])
            .await
            .map_err(database)?;
        row.as_ref().map(staged_from).transpose()
    }

    async fn rotate_credential(
        &self,
        c: &StagedCredential,
        consumer: &OauthConsumer,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<bool> {
        // Each statement names the values it read (the consumer's key and its secret too), so a
        // concurrent rotation or deploy that changed either row makes it change nothing, and
        // the whole swap is undone.
        let steps = [
            Step {
                sql: "UPDATE oauth_staged_credentials SET consumer_key = $2, consumer_secret = $3, \
                      state = 'Rotated', expires_at = $4 \
                      WHERE id = $1 AND state = 'Active' AND consumer_key = $5 AND expires_at > $6",
                args: vec![
                    Arg::Text(c.id.as_str()),
                    Arg::Text(&consumer.consumer_key),
                    Arg::Bytes(&consumer.encrypted_secret),
                    Arg::Int(expires_at.millis()),
                    Arg::Text(&c.consumer_key),
                    Arg::Int(at.millis()),
                ],
                expect_rows: 1,
            },
            Step {
                sql: "UPDATE oauth_consumers SET consumer_key = $2, consumer_secret = $3, \
                      updated_at = $4 WHERE id = $1 AND consumer_key = $5 AND consumer_secret = $6",
                args: vec![
                    Arg::Text(consumer.id.as_str()),
                    Arg::Text(&c.consumer_key),
                    Arg::Bytes(&c.encrypted_secret),
                    Arg::Int(at.millis()),
                    Arg::Text(&consumer.consumer_key),
                    Arg::Bytes(&consumer.encrypted_secret),
                ],
                expect_rows: 1,
            },
        ];
        match self.write_batch(&steps).await {
            Ok(()) => Ok(true),
            Err(BatchError::Unexpected { .. }) => Ok(false),
            Err(BatchError::Sql { error, .. }) => Err(match Failure::of(error) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "consumer key",
                    value: c.consumer_key.clone(),
                },
                Failure::ForeignKey => {
                    StoreError::Database("rotating a credential broke a foreign key".to_owned())
                }
                Failure::Other(e) => e,
            }),
            Err(BatchError::Transaction(e)) => Err(database(e)),
        }
    }

    async fn delete_staged_credential(&self, credential: &StagedCredential) -> StoreResult<bool> {
        let n = self
            .write(
                "DELETE FROM oauth_staged_credentials \
                 WHERE id = $1 AND consumer_key = $2 AND state = $3",
                &[
                    Arg::Text(credential.id.as_str()),
                    Arg::Text(&credential.consumer_key),
                    Arg::Text(credential.state.as_str()),
                ],
            )
            .await
            .map_err(database)?;
        Ok(n > 0)
    }
}
