//! [`AuthorizationCodeStore`] and [`DeviceCodeStore`] over [`Db`]: authorization codes,
//! redeemed atomically, and device codes.

use async_trait::async_trait;
use eca_core::{OrgId, Timestamp, UserId};

use super::{Arg, Columns, Db, Failure, database, short_hash};
use crate::authorization::{
    AuthorizationCodeRecord, CodeRedemption, DeviceCodeRecord, DeviceStatus,
};
use crate::metadata::ConsumerId;
use crate::{AuthorizationCodeStore, DeviceCodeStore, StoreError, StoreResult};

/// The columns every read returns, in [`code_from`]'s terms.
macro_rules! columns {
    () => {
        "code_hash, org_id, app_name, consumer_id, user_id, redirect_uri, redirect_uri_given, scopes, \
         code_challenge, code_challenge_method, nonce, auth_time, issued_at, expires_at, \
         consumed_at, replayed_at, access_hash, refresh_family"
    };
}

fn code_from(row: &impl Columns) -> StoreResult<AuthorizationCodeRecord> {
    Ok(AuthorizationCodeRecord {
        code_hash: row.text("code_hash")?,
        org_id: row.id("org_id", OrgId::parse)?,
        app_name: row.text("app_name")?,
        consumer_id: row.id("consumer_id", ConsumerId::parse)?,
        user_id: row.id("user_id", UserId::parse)?,
        redirect_uri: row.text("redirect_uri")?,
        redirect_uri_given: row.flag("redirect_uri_given")?,
        scopes: row.text("scopes")?,
        code_challenge: row.opt_text("code_challenge")?,
        code_challenge_method: row.opt_text("code_challenge_method")?,
        nonce: row.opt_text("nonce")?,
        auth_time: Timestamp(row.int("auth_time")?),
        issued_at: Timestamp(row.int("issued_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
        consumed_at: row.opt_int("consumed_at")?.map(Timestamp),
        replayed_at: row.opt_int("replayed_at")?.map(Timestamp),
        access_hash: row.opt_text("access_hash")?,
        refresh_family: row.opt_text("refresh_family")?,
    })
}

#[async_trait]
impl<D: Db> AuthorizationCodeStore for D {
    async fn create_authorization_code(&self, c: &AuthorizationCodeRecord) -> StoreResult<()> {
        let sql = "INSERT INTO oauth_authorization_codes (code_hash, org_id, app_name, \
                   consumer_id, user_id, redirect_uri, redirect_uri_given, scopes, code_challenge, \
                   code_challenge_method, nonce, auth_time, issued_at, expires_at, consumed_at, \
                   replayed_at, access_hash, refresh_family) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                   $16, $17, $18)";
        let args = [
            Arg::Text(&c.code_hash),
            Arg::Text(c.org_id.as_str()),
            Arg::Text(&c.app_name),
            Arg::Text(c.consumer_id.as_str()),
            Arg::Text(c.user_id.as_str()),
            Arg::Text(&c.redirect_uri),
            Arg::Bool(c.redirect_uri_given),
            Arg::Text(&c.scopes),
            Arg::OptText(c.code_challenge.as_deref()),
            Arg::OptText(c.code_challenge_method.as_deref()),
            Arg::OptText(c.nonce.as_deref()),
            Arg::Int(c.auth_time.millis()),
            Arg::Int(c.issued_at.millis()),
            Arg::Int(c.expires_at.millis()),
            Arg::OptInt(c.consumed_at.map(Timestamp::millis)),
            Arg::OptInt(c.replayed_at.map(Timestamp::millis)),
            Arg::OptText(c.access_hash.as_deref()),
            Arg::OptText(c.refresh_family.as_deref()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "authorization code",
                    value: short_hash(&c.code_hash),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the code's org",
                    value: c.user_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        org: &OrgId,
        consumer: &ConsumerId,
        at: Timestamp,
    ) -> StoreResult<CodeRedemption> {
        // One statement: of two concurrent redemptions exactly one sees the row. Only the
        // client the code was issued to touches it (RFC 6749 §4.1.3: the code must have been
        // issued to the authenticated client).
        let redeem = concat!(
            "UPDATE oauth_authorization_codes SET consumed_at = $2 \
             WHERE code_hash = $1 AND org_id = $3 AND consumer_id = $4 \
             AND consumed_at IS NULL RETURNING ",
            columns!()
        );
        let args = [
            Arg::Text(code_hash),
            Arg::Int(at.millis()),
            Arg::Text(org.as_str()),
            Arg::Text(consumer.as_str()),
        ];
        if let Some(row) = self
            .write_returning(redeem, &args)
            .await
            .map_err(database)?
        {
            return Ok(CodeRedemption::Redeemed(code_from(&row)?));
        }
        let replay = concat!(
            "UPDATE oauth_authorization_codes SET replayed_at = COALESCE(replayed_at, $2) \
             WHERE code_hash = $1 AND org_id = $3 AND consumer_id = $4 RETURNING ",
            columns!()
        );
        match self
            .write_returning(replay, &args)
            .await
            .map_err(database)?
        {
            Some(row) => Ok(CodeRedemption::Replayed(code_from(&row)?)),
            None => Ok(CodeRedemption::Unknown),
        }
    }

    async fn record_code_tokens(
        &self,
        code_hash: &str,
        access_hash: &str,
        refresh_family: Option<&str>,
    ) -> StoreResult<bool> {
        let sql = "UPDATE oauth_authorization_codes SET access_hash = $2, refresh_family = $3 \
                   WHERE code_hash = $1 AND replayed_at IS NULL";
        let n = self
            .write(
                sql,
                &[
                    Arg::Text(code_hash),
                    Arg::Text(access_hash),
                    Arg::OptText(refresh_family),
                ],
            )
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn delete_expired_authorization_codes(&self, before: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM oauth_authorization_codes WHERE expires_at < $1";
        self.write(sql, &[Arg::Int(before.millis())])
            .await
            .map_err(database)
    }
}

/// The columns of a device code, in [`device_from`]'s terms.
macro_rules! device_columns {
    () => {
        "device_hash, user_code_hash, org_id, app_name, consumer_id, scopes, issued_at, \
         expires_at, interval_secs, last_polled_at, status, user_id, decided_at, authenticated_at"
    };
}

fn device_from(row: &impl Columns) -> StoreResult<DeviceCodeRecord> {
    let status = row.text("status")?;
    Ok(DeviceCodeRecord {
        device_hash: row.text("device_hash")?,
        user_code_hash: row.text("user_code_hash")?,
        org_id: row.id("org_id", OrgId::parse)?,
        app_name: row.text("app_name")?,
        consumer_id: row.id("consumer_id", ConsumerId::parse)?,
        scopes: row.text("scopes")?,
        issued_at: Timestamp(row.int("issued_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
        interval_secs: row.int("interval_secs")?,
        last_polled_at: row.opt_int("last_polled_at")?.map(Timestamp),
        status: DeviceStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("column `status`: unknown device status `{status}`"))
        })?,
        user_id: row
            .opt_text("user_id")?
            .map(|u| {
                UserId::parse(&u).map_err(|e| StoreError::Corrupt(format!("column `user_id`: {e}")))
            })
            .transpose()?,
        decided_at: row.opt_int("decided_at")?.map(Timestamp),
        authenticated_at: row.opt_int("authenticated_at")?.map(Timestamp),
    })
}

#[async_trait]
impl<D: Db> DeviceCodeStore for D {
    async fn create_device_code(&self, c: &DeviceCodeRecord) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO oauth_device_codes (",
            device_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        let args = [
            Arg::Text(&c.device_hash),
            Arg::Text(&c.user_code_hash),
            Arg::Text(c.org_id.as_str()),
            Arg::Text(&c.app_name),
            Arg::Text(c.consumer_id.as_str()),
            Arg::Text(&c.scopes),
            Arg::Int(c.issued_at.millis()),
            Arg::Int(c.expires_at.millis()),
            Arg::Int(c.interval_secs),
            Arg::OptInt(c.last_polled_at.map(Timestamp::millis)),
            Arg::Text(c.status.as_str()),
            Arg::OptText(c.user_id.as_ref().map(UserId::as_str)),
            Arg::OptInt(c.decided_at.map(Timestamp::millis)),
            Arg::OptInt(c.authenticated_at.map(Timestamp::millis)),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "device or user code",
                    value: short_hash(&c.user_code_hash),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "org or user of the device code",
                    value: c.org_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn device_code_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> StoreResult<Option<DeviceCodeRecord>> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM oauth_device_codes WHERE user_code_hash = $1"
        );
        let row = self
            .read_optional(sql, &[Arg::Text(user_code_hash)])
            .await
            .map_err(database)?;
        row.as_ref().map(device_from).transpose()
    }

    async fn poll_device_code(
        &self,
        device_hash: &str,
        at: Timestamp,
    ) -> StoreResult<Option<DeviceCodeRecord>> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM oauth_device_codes WHERE device_hash = $1"
        );
        let row = self
            .read_optional(sql, &[Arg::Text(device_hash)])
            .await
            .map_err(database)?;
        let Some(mut record) = row.as_ref().map(device_from).transpose()? else {
            return Ok(None);
        };
        // Only if no other poll came in since the read: of polls sent at once, one sees the
        // earlier poll's time, and the others are told to slow down (RFC 8628 §3.5), rather
        // than all of them seeing the same earlier time.
        let touch = "UPDATE oauth_device_codes SET last_polled_at = $2 WHERE device_hash = $1 \
                     AND (last_polled_at = $3 OR (last_polled_at IS NULL AND $3 IS NULL))";
        let args = [
            Arg::Text(device_hash),
            Arg::Int(at.millis()),
            Arg::OptInt(record.last_polled_at.map(Timestamp::millis)),
        ];
        if self.write(touch, &args).await.map_err(database)? == 0 {
            record.last_polled_at = Some(at);
        }
        Ok(Some(record))
    }

    async fn decide_device_code(
        &self,
        user_code_hash: &str,
        user: &UserId,
        approve: bool,
        at: Timestamp,
        authenticated_at: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE oauth_device_codes SET status = $2, user_id = $3, decided_at = $4, \
                   authenticated_at = $5 WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $4";
        let status = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let args = [
            Arg::Text(user_code_hash),
            Arg::Text(status.as_str()),
            Arg::Text(user.as_str()),
            Arg::Int(at.millis()),
            Arg::Int(authenticated_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(n) => Ok(n > 0),
            Err(e) => Err(match Failure::of(e) {
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the device code's org",
                    value: user.to_string(),
                },
                Failure::Unique(c) => StoreError::Database(format!("unexpected conflict on {c}")),
                Failure::Other(e) => e,
            }),
        }
    }

    async fn consume_device_code(&self, device_hash: &str) -> StoreResult<bool> {
        let sql = "UPDATE oauth_device_codes SET status = 'issuing' \
                   WHERE device_hash = $1 AND status = 'approved'";
        let n = self
            .write(sql, &[Arg::Text(device_hash)])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn record_device_tokens(&self, device_hash: &str) -> StoreResult<bool> {
        // Waits on the row while a revocation that voids it runs (PostgreSQL), and then sees
        // `denied`: see `void_grants_under_way`.
        let sql = "UPDATE oauth_device_codes SET status = 'consumed' \
                   WHERE device_hash = $1 AND status = 'issuing'";
        let n = self
            .write(sql, &[Arg::Text(device_hash)])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn delete_expired_device_codes(&self, before: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM oauth_device_codes WHERE expires_at < $1";
        self.write(sql, &[Arg::Int(before.millis())])
            .await
            .map_err(database)
    }
}
