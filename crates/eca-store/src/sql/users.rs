//! [`UserStore`] over [`Db`].

use async_trait::async_trait;
use eca_core::domain::{User, UserFields};
use eca_core::{OrgId, ProfileId, Timestamp, UserId};

use super::{Arg, Columns, Db, Failure, database, exists, fold};
use crate::{Lockout, StoreError, StoreResult, USER_CHANGED, UserStore};

/// `SELECT <every column> FROM users <tail>`, as one `&'static str`.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, username, profile_id, email, first_name, last_name, federation_id, \
             alias, title, company_name, department, division, street, city, state, postal_code, \
             country, phone, mobile_phone, employee_number, time_zone, locale, language, \
             is_active, is_frozen, password_hash, failed_logins, locked_until, created_at, \
             updated_at FROM users ",
            $tail
        )
    };
}

/// Parameters `$1`..`$32` of both statements below, in this order.
const INSERT: &str = "INSERT INTO users (id, org_id, username, username_lower, profile_id, \
     email, first_name, last_name, federation_id, alias, title, company_name, department, \
     division, street, city, state, postal_code, country, phone, mobile_phone, employee_number, \
     time_zone, locale, language, is_active, is_frozen, password_hash, failed_logins, \
     locked_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, \
     $29, $30, $31, $32)";

/// Every field but the id, the org (a user never moves between orgs), `created_at` ($31) and
/// the password and lockout ($28-$30, which have statements of their own), if the row is still
/// as the caller read it (`updated_at` = $33).
const UPDATE: &str = "UPDATE users SET username = $3, username_lower = $4, profile_id = $5, \
     email = $6, first_name = $7, last_name = $8, federation_id = $9, alias = $10, title = $11, \
     company_name = $12, department = $13, division = $14, street = $15, city = $16, \
     state = $17, postal_code = $18, country = $19, phone = $20, mobile_phone = $21, \
     employee_number = $22, time_zone = $23, locale = $24, language = $25, is_active = $26, \
     is_frozen = $27, updated_at = $32 WHERE id = $1 AND org_id = $2 AND updated_at = $33";

/// Sets a password and clears the lockout; `updated_at` moves on even within one millisecond,
/// so a change read before this one is refused.
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $3, failed_logins = 0, \
     locked_until = NULL, \
     updated_at = CASE WHEN updated_at >= $4 THEN updated_at + 1 ELSE $4 END \
     WHERE id = $1 AND org_id = $2";

/// The `updated_at` a change made at `at` to a row read at `read` writes: later than `read`
/// even when both fall in one millisecond, so the next change sees that this one happened.
fn next_version(at: Timestamp, read: Timestamp) -> Timestamp {
    Timestamp(at.millis().max(read.millis().saturating_add(1)))
}

fn args<'a>(user: &'a User, username_lower: &'a str) -> [Arg<'a>; 32] {
    let f = &user.fields;
    let opt = |v: &'a Option<String>| Arg::OptText(v.as_deref());
    [
        Arg::Text(user.id.as_str()),
        Arg::Text(user.org_id.as_str()),
        Arg::Text(&user.username),
        Arg::Text(username_lower),
        Arg::Text(user.profile_id.as_str()),
        Arg::Text(&f.email),
        opt(&f.first_name),
        Arg::Text(&f.last_name),
        opt(&f.federation_id),
        opt(&f.alias),
        opt(&f.title),
        opt(&f.company_name),
        opt(&f.department),
        opt(&f.division),
        opt(&f.street),
        opt(&f.city),
        opt(&f.state),
        opt(&f.postal_code),
        opt(&f.country),
        opt(&f.phone),
        opt(&f.mobile_phone),
        opt(&f.employee_number),
        Arg::Text(&f.time_zone),
        Arg::Text(&f.locale),
        Arg::Text(&f.language),
        Arg::Bool(user.is_active),
        Arg::Bool(user.is_frozen),
        opt(&user.password_hash),
        Arg::Int(user.failed_logins),
        Arg::OptInt(user.locked_until.map(Timestamp::millis)),
        Arg::Int(user.created_at.millis()),
        Arg::Int(user.updated_at.millis()),
    ]
}

fn user_from(row: &impl Columns) -> StoreResult<User> {
    Ok(User {
        id: row.id("id", UserId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        username: row.text("username")?,
        fields: UserFields {
            email: row.text("email")?,
            first_name: row.opt_text("first_name")?,
            last_name: row.text("last_name")?,
            federation_id: row.opt_text("federation_id")?,
            alias: row.opt_text("alias")?,
            title: row.opt_text("title")?,
            company_name: row.opt_text("company_name")?,
            department: row.opt_text("department")?,
            division: row.opt_text("division")?,
            street: row.opt_text("street")?,
            city: row.opt_text("city")?,
            state: row.opt_text("state")?,
            postal_code: row.opt_text("postal_code")?,
            country: row.opt_text("country")?,
            phone: row.opt_text("phone")?,
            mobile_phone: row.opt_text("mobile_phone")?,
            employee_number: row.opt_text("employee_number")?,
            time_zone: row.text("time_zone")?,
            locale: row.text("locale")?,
            language: row.text("language")?,
        },
        profile_id: row.id("profile_id", ProfileId::parse)?,
        is_active: row.flag("is_active")?,
        is_frozen: row.flag("is_frozen")?,
        password_hash: row.opt_text("password_hash")?,
        failed_logins: row.int("failed_logins")?,
        locked_until: row.opt_int("locked_until")?.map(Timestamp),
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

/// Maps the failure of an insert or update of `user`.
async fn write_failure<D: Db>(db: &D, user: &User, e: sqlx::Error) -> StoreError {
    match Failure::of(e) {
        Failure::Unique(c) if c.contains("username") => StoreError::Conflict {
            what: "username",
            value: user.username.clone(),
        },
        Failure::Unique(_) => StoreError::Conflict {
            what: "user",
            value: user.id.to_string(),
        },
        // The key is (org_id, profile_id) and (for inserts) org_id: say which side is absent.
        Failure::ForeignKey => {
            match exists(db, "SELECT 1 FROM orgs WHERE id = $1", user.org_id.as_str()).await {
                Ok(false) => StoreError::Missing {
                    what: "org",
                    value: user.org_id.to_string(),
                },
                Ok(true) => StoreError::Missing {
                    what: "profile in the user's org",
                    value: user.profile_id.to_string(),
                },
                Err(e) => e,
            }
        }
        Failure::Other(e) => e,
    }
}

/// Why a conditional update of user `id` changed nothing: `Missing` when the org has no such
/// user, else `Conflict { what: "user version" }` (it changed since it was read).
async fn unchanged<D: Db>(db: &D, org: &OrgId, id: &UserId) -> StoreError {
    match db.user(id).await {
        Ok(Some(u)) if &u.org_id == org => StoreError::Conflict {
            what: USER_CHANGED,
            value: id.to_string(),
        },
        Ok(_) => missing_user(id),
        Err(e) => e,
    }
}

fn missing_user(id: &UserId) -> StoreError {
    StoreError::Missing {
        what: "user",
        value: id.to_string(),
    }
}

#[async_trait]
impl<D: Db> UserStore for D {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let username_lower = fold(&user.username);
        match self.write(INSERT, &args(user, &username_lower)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(write_failure(self, user, e).await),
        }
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        let row = self
            .read_optional(select_users!("WHERE id = $1"), &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username_lower = fold(username);
        let row = self
            .read_optional(
                select_users!("WHERE username_lower = $1"),
                &[Arg::Text(&username_lower)],
            )
            .await
            .map_err(database)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn users(&self, org: &OrgId) -> StoreResult<Vec<User>> {
        let rows = self
            .read_all(
                select_users!("WHERE org_id = $1 ORDER BY username_lower"),
                &[Arg::Text(org.as_str())],
            )
            .await
            .map_err(database)?;
        rows.iter().map(user_from).collect()
    }

    async fn update_user(&self, user: &User, read: Timestamp) -> StoreResult<Timestamp> {
        let username_lower = fold(&user.username);
        let version = next_version(user.updated_at, read);
        let mut args = Vec::from(args(user, &username_lower));
        args[31] = Arg::Int(version.millis());
        args.push(Arg::Int(read.millis()));
        match self.write(UPDATE, &args).await {
            Ok(0) => Err(unchanged(self, &user.org_id, &user.id).await),
            Ok(_) => Ok(version),
            Err(e) => Err(write_failure(self, user, e).await),
        }
    }

    async fn set_user_password(
        &self,
        org: &OrgId,
        id: &UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let args = [
            Arg::Text(id.as_str()),
            Arg::Text(org.as_str()),
            Arg::Text(password_hash),
            Arg::Int(at.millis()),
        ];
        match self.write(SET_PASSWORD, &args).await {
            Ok(0) => Err(missing_user(id)),
            Ok(_) => Ok(()),
            Err(e) => Err(database(e)),
        }
    }

    async fn begin_login_attempt(
        &self,
        id: &UserId,
        lockout: Lockout,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        // One statement, so concurrent attempts each count and the lock is decided on the
        // stored count: the test, the increment and the comparison happen under the row lock
        // (PostgreSQL) or the database write lock (SQLite), never as read-then-write. The
        // right-hand sides of SET all see the row as it was before the update; a row still
        // carrying a lock here carries one that has run out, and its failures start again.
        let sql = "UPDATE users SET \
                   failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END, \
                   locked_until = CASE \
                     WHEN (CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END) >= $2 \
                     THEN $3 ELSE NULL END \
                   WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) \
                   RETURNING failed_logins";
        let args = [
            Arg::Text(id.as_str()),
            Arg::Int(lockout.after),
            Arg::Int(lockout.until.millis()),
            Arg::Int(now.millis()),
        ];
        match self.write_returning(sql, &args).await.map_err(database)? {
            Some(row) => row.int("failed_logins").map(Some),
            // Locked, or no such user.
            None => match self.user(id).await? {
                Some(_) => Ok(None),
                None => Err(missing_user(id)),
            },
        }
    }

    async fn record_successful_login(&self, id: &UserId) -> StoreResult<()> {
        let sql = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1";
        match self
            .write(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?
        {
            0 => Err(missing_user(id)),
            _ => Ok(()),
        }
    }
}
