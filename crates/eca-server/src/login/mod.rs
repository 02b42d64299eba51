//! Password login (the SOAP partner `login` call): credentials in, a session out. No HTTP
//! here; the caller passes the org whose URL was used and the client's address.
//!
//! Rules, in order:
//! 1. A client address with too many recent failures is refused before anything is looked up
//!    (the in-memory [`limiter`]).
//! 2. The user must exist in this org; otherwise a password check against a dummy hash still
//!    runs, so a wrong username takes as long as a wrong password.
//! 3. A locked user is refused without a password check. A lock that has run out is cleared.
//! 4. A wrong password counts a consecutive failure in the database; the failure that reaches
//!    the policy's maximum locks the user for the lockout period.
//! 5. Inactive and frozen users are refused like a wrong password (Salesforce does not say
//!    which it was), but without counting a failure.
//! 6. The profile or a permission set must grant API Enabled (`API_DISABLED_FOR_ORG`).
//!
//! The password is compared exactly as given. Salesforce clients append the security token
//! to the password for logins from untrusted networks; OpenECA has no security tokens, so a
//! password with a token appended is a wrong password.

pub mod limiter;

use std::net::IpAddr;

use eca_core::domain::{Org, Permission, Profile, SessionKind, User};
use eca_core::{Secret, Timestamp};

use crate::error::ApiError;
use crate::session::{self, Issued};
use crate::state::AppState;

/// An Argon2id hash (m = 19 MiB, t = 2, p = 1, as `eca_core::crypto`) of a password nobody
/// has, checked when the username is unknown so that the answer takes as long.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$lONKDv/hHFjyI0gkWli8CQ$lZKu17ZP96+WHet8+V81JuJeCzpYGDbq1hsE+dl2CsE";

/// A successful login.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub profile: Profile,
    pub issued: Issued,
}

/// Logs `username` in to `org` with `password`, from `client`.
pub async fn password_login(
    state: &AppState,
    org: &Org,
    username: &str,
    password: Secret,
    client: IpAddr,
) -> Result<LoggedIn, ApiError> {
    let store = state.store();
    let now = state.clock().now();
    if state.limiter().is_blocked(client, now) {
        tracing::warn!(%client, "login refused: too many failures from this address");
        return Err(ApiError::LoginRateExceeded);
    }
    let user = match store.user_by_username(username).await? {
        Some(u) if u.org_id == org.id && !username.is_empty() => u,
        _ => {
            state
                .verify_password(password, DUMMY_HASH.to_owned())
                .await?;
            return Err(failed(state, client, now, "unknown user"));
        }
    };
    let user = match user.locked_until {
        Some(until) if until > now => {
            return Err(failed(state, client, now, "user locked out"));
        }
        Some(_) => {
            // The lock has run out: the failures that caused it no longer count.
            store.record_successful_login(&user.id).await?;
            User {
                failed_logins: 0,
                locked_until: None,
                ..user
            }
        }
        None => user,
    };
    let matches = match user.password_hash.clone() {
        Some(phc) => state.verify_password(password, phc).await?,
        None => false,
    };
    if !matches {
        let policy = state.settings().login;
        let lock = (user.failed_logins + 1 >= policy.max_failures)
            .then(|| now.plus_minutes(policy.lockout_minutes));
        let count = store.record_failed_login(&user.id, lock).await?;
        if lock.is_some() {
            tracing::warn!(user = %user.id, failures = count, "user locked out after failed logins");
        }
        return Err(failed(state, client, now, "wrong password"));
    }
    if !user.is_active || user.is_frozen {
        return Err(failed(state, client, now, "inactive or frozen user"));
    }
    let profile = store
        .profile(&user.profile_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("user {} has no profile", user.id)))?;
    if !crate::access::has_permission(store, &user, Permission::ApiEnabled).await? {
        return Err(ApiError::ApiDisabled);
    }
    if user.failed_logins > 0 || user.locked_until.is_some() {
        store.record_successful_login(&user.id).await?;
    }
    let issued =
        session::issue(store, org, &user, SessionKind::SoapLogin, now, state.rng()).await?;
    tracing::info!(user = %user.id, org = %org.id, "login");
    Ok(LoggedIn {
        user,
        profile,
        issued,
    })
}

fn failed(state: &AppState, client: IpAddr, now: Timestamp, reason: &'static str) -> ApiError {
    state.limiter().record_failure(client, now);
    tracing::info!(%client, reason, "login failed");
    ApiError::InvalidLogin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // A malformed hash would fail at once and make unknown usernames answer faster. The
        // hash was made from a password derived from seed 42; its result is never used.
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let rng = eca_core::rng::DeterministicRng::new(42);
        let password = Secret::new(eca_core::rng::token(&rng, 32));
        assert!(eca_core::crypto::verify_password(&password, DUMMY_HASH));
    }
}
