//! Password login (the SOAP partner `login` call): credentials in, a session out. No HTTP
//! here; the caller passes the org whose URL was used and the client's address.
//!
//! Rules, in order:
//! 1. A client address with too many recent failures is refused before anything is looked up
//!    (the in-memory [`limiter`]). Attempts count when they start (see [`check_password`]).
//! 2. The user must exist in this org; otherwise a password check against a dummy hash still
//!    runs, so a wrong username takes as long as a wrong password.
//! 3. A locked user is refused after a check against the dummy hash (as long as a wrong
//!    password takes). A lock that has run out is cleared.
//! 4. A wrong password counts a consecutive failure in the database; the failure that reaches
//!    the policy's maximum locks the user for the lockout period. Attempts past it, even
//!    concurrent ones, are refused as locked.
//! 5. Inactive and frozen users are refused like a wrong password (Salesforce does not say
//!    which it was), but without counting a failure.
//! 6. The login's [`Purpose`] decides the permission rule: the SOAP login needs API Enabled
//!    from the profile or a permission set (`API_DISABLED_FOR_ORG`); the browser login page
//!    (`web/`) refuses API Only users and does not need API Enabled.
//! 7. The client address must be in one of the profile's login IP ranges, when the profile
//!    has any; a user outside them is refused like a wrong password, without counting a
//!    failure. The one exception is a browser login that continues an OAuth authorization
//!    ([`Purpose::WEB_FOR_OAUTH`]): it gets a session good only for the authorize and device
//!    activation pages, where the app's IP relaxation decides (`oauth::ip_relaxation`).
//!
//! The password is compared exactly as given. Salesforce clients append the security token
//! to the password for logins from untrusted networks; OpenECA has no security tokens, so a
//! password with a token appended is a wrong password.

pub mod limiter;
pub mod turns;

use std::net::IpAddr;

use eca_core::domain::{Org, Permission, Profile, SessionKind, User};
use eca_core::{Secret, Timestamp};

use crate::error::ApiError;
use crate::session::{self, Issued};
use crate::state::AppState;

/// An Argon2id hash (m = 19 MiB, t = 2, p = 1, as `eca_core::crypto`) of a password nobody
/// has, checked when the username is unknown so that the answer takes as long.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$lONKDv/hHFjyI0gkWli8CQ$lZKu17ZP96+WHet8+V81JuJeCzpYGDbq1hsE+dl2CsE";

/// Whether a permission is needed or refused for a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionRule {
    /// The user's profile or a permission set must grant this permission.
    Requires(Permission),
    /// A user with this permission may not log in this way.
    Refuses(Permission),
}

/// What a login outside the profile's login IP ranges gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideRanges {
    Refuse,
    /// A session for OAuth authorizations only (`SessionKind::OAuthLogin`).
    OAuthOnly,
}

/// What a login is for: the kind of session it creates, the permission rule it checks and
/// what happens outside the login IP ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purpose {
    pub session: SessionKind,
    pub rule: PermissionRule,
    pub outside_ranges: OutsideRanges,
}

impl Purpose {
    /// The SOAP partner `login`: needs API Enabled.
    pub const API: Purpose = Purpose {
        session: SessionKind::SoapLogin,
        rule: PermissionRule::Requires(Permission::ApiEnabled),
        outside_ranges: OutsideRanges::Refuse,
    };
    /// The browser login page: API Only users may not use the user interface.
    pub const WEB: Purpose = Purpose {
        session: SessionKind::Web,
        rule: PermissionRule::Refuses(Permission::ApiOnly),
        outside_ranges: OutsideRanges::Refuse,
    };
    /// The browser login page continuing an OAuth authorization (its start URL is the
    /// authorize or device activation page).
    pub const WEB_FOR_OAUTH: Purpose = Purpose {
        outside_ranges: OutsideRanges::OAuthOnly,
        ..Purpose::WEB
    };
}

/// A successful login.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub profile: Profile,
    pub issued: Issued,
}

/// Logs `username` in to `org` with `password`, from `client`, for `purpose`.
pub async fn password_login(
    state: &AppState,
    org: &Org,
    username: &str,
    password: Secret,
    client: IpAddr,
    purpose: Purpose,
) -> Result<LoggedIn, ApiError> {
    let store = state.store();
    let now = state.clock().now();
    let user = check_password(state, org, username, password, client, now).await?;
    // One read of the profile, its login IP ranges and the permission sets.
    let access = crate::access::access_of(store, &user).await?;
    let profile = access
        .profile
        .clone()
        .ok_or_else(|| ApiError::Internal(format!("user {} has no profile", user.id)))?;
    let permissions = access.permissions();
    match purpose.rule {
        PermissionRule::Requires(p) if !permissions.contains(p) => {
            return Err(match p {
                Permission::ApiEnabled => ApiError::ApiDisabled,
                other => ApiError::Forbidden(format!(
                    "Logging in this way needs the {} permission",
                    other.api_name()
                )),
            });
        }
        PermissionRule::Refuses(p) if permissions.contains(p) => {
            return Err(ApiError::Forbidden(format!(
                "Users with the {} permission may not log in this way",
                p.api_name()
            )));
        }
        _ => {}
    }
    let mut kind = purpose.session;
    if !access.allows_address(client) {
        match purpose.outside_ranges {
            OutsideRanges::Refuse => {
                tracing::info!(user = %user.id, %client, "login refused: outside the profile's login IP ranges");
                return Err(ApiError::InvalidLogin);
            }
            OutsideRanges::OAuthOnly => kind = SessionKind::OAuthLogin,
        }
    }
    let issued = session::issue(store, org, &user, kind, now, state.rng()).await?;
    tracing::info!(user = %user.id, org = %org.id, kind = kind.as_str(), "login");
    Ok(LoggedIn {
        user,
        profile,
        issued,
    })
}

/// Rules 1 to 5: the user named `username` in `org`, when `password` is theirs and they may
/// log in (active, not frozen, not locked; a lock that ran out is cleared). Every failure
/// counts for `client` in the [`limiter`] and is `InvalidLogin`, whatever the reason; an
/// address over the limit is `LoginRateExceeded` before anything is looked up. The SOAP
/// login, the login page and the OAuth password grant all start here.
///
/// Both counts are taken when the attempt starts and given back when the password is right:
/// counted only after the (slow) password check, every attempt of a burst sent at once would
/// pass the limits before the first failure was counted, and get its password compared.
pub(crate) async fn check_password(
    state: &AppState,
    org: &Org,
    username: &str,
    password: Secret,
    client: IpAddr,
    now: Timestamp,
) -> Result<User, ApiError> {
    let store = state.store();
    let Some(attempt) = state.limiter().try_begin(client, now) else {
        tracing::warn!(%client, "login refused: too many failures from this address");
        return Err(ApiError::LoginRateExceeded);
    };
    // Known or not, the username takes its turn (`turns`): the answers' timing must not tell.
    let turn = state.login_turns().take(username).await;
    let user = match store.user_by_username(username).await? {
        Some(u) if u.org_id == org.id && !username.is_empty() => u,
        _ => {
            dummy_check(state, password).await?;
            return Err(failed(client, "unknown user"));
        }
    };
    let lockout = state.settings().login.lockout(now);
    // Counted, checked and settled in a task of its own, which runs to its end even when the
    // request is dropped (a timeout, a client gone): an attempt counted up front is always
    // settled, never left to lock a user who gave the right password.
    let settle = {
        let state = state.clone();
        let (user_id, phc) = (user.id.clone(), user.password_hash.clone());
        tokio::spawn(async move {
            let _turn = turn;
            let store = state.store();
            let Some(count) = store.begin_login_attempt(&user_id, lockout, now).await? else {
                // As long as a wrong password takes, and in the username's turn like any
                // attempt: a quick refusal, or several at once, would tell the user exists.
                dummy_check(&state, password).await?;
                return Ok::<_, ApiError>(Attempted::Locked);
            };
            // A user without a password costs a check too, as an unknown user does: answering
            // at once would tell that the username exists.
            let matches = match phc {
                Some(phc) => state.verify_password(password, phc).await?,
                None => {
                    dummy_check(&state, password).await?;
                    false
                }
            };
            if matches {
                // The attempt is not a failure of the user's (nor are those before it),
                // even for an inactive or frozen user, whom rule 5 refuses without counting.
                store.record_successful_login(&user_id).await?;
            }
            Ok(Attempted::Checked { matches, count })
        })
    };
    let attempted = settle
        .await
        .map_err(|e| ApiError::Internal(format!("the password check stopped: {e}")))??;
    let matches = match attempted {
        Attempted::Locked => return Err(failed(client, "user locked out")),
        Attempted::Checked { matches, count } => {
            if !matches && count >= lockout.after {
                tracing::warn!(user = %user.id, failures = count, "user locked out after failed logins");
            }
            matches
        }
    };
    if !matches {
        return Err(failed(client, "wrong password"));
    }
    if !user.is_active || user.is_frozen {
        return Err(failed(client, "inactive or frozen user"));
    }
    state.limiter().succeeded(attempt);
    Ok(User {
        failed_logins: 0,
        locked_until: None,
        ..user
    })
}

/// How a counted attempt ended.
enum Attempted {
    /// The user is locked: nothing was counted, and the password was checked only against a
    /// dummy hash (for the time it takes).
    Locked,
    /// The password was checked; `count` is the user's consecutive failures with this attempt.
    Checked { matches: bool, count: i64 },
}

/// Checks `password` against a hash nobody has, for the time a real check takes: an answer
/// that came sooner would tell that the username exists, is locked or has no password.
async fn dummy_check(state: &AppState, password: Secret) -> Result<(), ApiError> {
    state
        .verify_password(password, DUMMY_HASH.to_owned())
        .await
        .map(drop)
}

/// A failed attempt: already counted for the address when it began.
fn failed(client: IpAddr, reason: &'static str) -> ApiError {
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
