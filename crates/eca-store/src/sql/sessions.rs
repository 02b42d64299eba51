//! [`SessionStore`], [`SettingsStore`] and the rest of [`Store`] over [`Db`].

use async_trait::async_trait;
use eca_core::domain::{Session, SessionKind};
use eca_core::{OrgId, Timestamp, UserId};

use super::{Arg, Columns, Db, Failure, database, short_hash};
use crate::{SessionStore, SettingsStore, Store, StoreError, StoreResult};

fn session_from(row: &impl Columns) -> StoreResult<Session> {
    let kind = row.text("kind")?;
    Ok(Session {
        id_hash: row.text("id_hash")?,
        org_id: row.id("org_id", OrgId::parse)?,
        user_id: row.id("user_id", UserId::parse)?,
        kind: SessionKind::parse(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!("column `kind`: unknown session kind `{kind}`"))
        })?,
        created_at: Timestamp(row.int("created_at")?),
        last_used_at: Timestamp(row.int("last_used_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
    })
}

#[async_trait]
impl<D: Db> SessionStore for D {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let sql = "INSERT INTO sessions (id_hash, org_id, user_id, kind, created_at, last_used_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let args = [
            Arg::Text(&session.id_hash),
            Arg::Text(session.org_id.as_str()),
            Arg::Text(session.user_id.as_str()),
            Arg::Text(session.kind.as_str()),
            Arg::Int(session.created_at.millis()),
            Arg::Int(session.last_used_at.millis()),
            Arg::Int(session.expires_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "session",
                    value: short_hash(&session.id_hash),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the session's org",
                    value: session.user_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let sql = "SELECT id_hash, org_id, user_id, kind, created_at, last_used_at, expires_at \
                   FROM sessions WHERE id_hash = $1";
        let row = self
            .read_optional(sql, &[Arg::Text(id_hash)])
            .await
            .map_err(database)?;
        row.as_ref().map(session_from).transpose()
    }

    async fn touch_session(
        &self,
        id_hash: &str,
        used_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let sql = "UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id_hash = $1";
        let args = [
            Arg::Text(id_hash),
            Arg::Int(used_at.millis()),
            Arg::Int(expires_at.millis()),
        ];
        match self.write(sql, &args).await.map_err(database)? {
            0 => Err(StoreError::Missing {
                what: "session",
                value: short_hash(id_hash),
            }),
            _ => Ok(()),
        }
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM sessions WHERE id_hash = $1";
        let n = self
            .write(sql, &[Arg::Text(id_hash)])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }

    async fn delete_user_sessions(&self, user: &UserId) -> StoreResult<u64> {
        let sql = "DELETE FROM sessions WHERE user_id = $1";
        self.write(sql, &[Arg::Text(user.as_str())])
            .await
            .map_err(database)
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM sessions WHERE expires_at < $1";
        self.write(sql, &[Arg::Int(now.millis())])
            .await
            .map_err(database)
    }
}

#[async_trait]
impl<D: Db> SettingsStore for D {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let sql = "SELECT value FROM settings WHERE key = $1";
        let row = self
            .read_optional(sql, &[Arg::Text(key)])
            .await
            .map_err(database)?;
        row.map(|r| r.text("value")).transpose()
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> StoreResult<bool> {
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) \
                   ON CONFLICT (key) DO NOTHING";
        self.write(sql, &[Arg::Text(key), Arg::Text(value)])
            .await
            .map(|n| n > 0)
            .map_err(database)
    }

    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.write(sql, &[Arg::Text(key), Arg::Text(value)])
            .await
            .map(drop)
            .map_err(database)
    }
}

#[async_trait]
impl<D: Db> Store for D {
    async fn ping(&self) -> StoreResult<()> {
        self.read_optional("SELECT 1", &[])
            .await
            .map(drop)
            .map_err(database)
    }

    fn backend(&self) -> &'static str {
        D::BACKEND
    }
}
