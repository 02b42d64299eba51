//! The username-password grant (RFC 6749 §4.3, `spec/oauth-and-connect.md` §1.9 G), as
//! Salesforce still offers it: client authentication (the secret may be left out only by a
//! public client, `isConsumerSecretOptional`), then the user's password. Every failure about
//! the user is `invalid_grant` / `authentication failure`, whatever the reason (unknown user,
//! wrong password, locked, inactive, not API Enabled, not permitted): it does not say which,
//! nor does its timing (a user who cannot log in, or none at all, costs a password check
//! against a dummy hash, as in `crate::login`). A wrong password counts towards the login
//! lockout as the SOAP login does, and every failure about the user towards the per-address
//! limit (`login::limiter`): an address over it is refused before anything is looked up,
//! with `rate_limit_exceeded`. No refresh token.

use eca_core::Secret;
use eca_core::domain::Permission;
use eca_oauth::{ClientCredentials, GrantedScopes, OAuthError, TokenResponse};

use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::{GrantError, permitted};

pub async fn grant(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    username: &str,
    password: Secret,
    scope: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let state = ctx.state;
    let app = client::authenticate(state, &org.id, credentials, SecretRule::UnlessPublic).await?;
    let scopes = GrantedScopes::grant(scope, app.scopes(), &app.custom_scopes())?;
    if state.limiter().is_blocked(ctx.client, ctx.now) {
        tracing::warn!(client = %ctx.client, "password grant refused: too many failures from this address");
        return Err(OAuthError::RateLimitExceeded.into());
    }
    let failure = |reason: &'static str| {
        state.limiter().record_failure(ctx.client, ctx.now);
        tracing::info!(client = %ctx.client, reason, "password grant failed");
        GrantError::OAuth(OAuthError::AuthenticationFailure)
    };
    let user = state
        .store()
        .user_by_username(username)
        .await?
        .filter(|u| u.org_id == org.id && !username.is_empty());
    let phc = user
        .as_ref()
        .filter(|u| u.can_log_in(ctx.now))
        .and_then(|u| u.password_hash.clone());
    let (Some(user), Some(phc)) = (user, phc) else {
        // As long as a wrong password takes.
        state
            .verify_password(password, crate::login::DUMMY_HASH.to_owned())
            .await?;
        return Err(failure("unknown user, or one who cannot log in"));
    };
    if !state.verify_password(password, phc).await? {
        let lockout = state.settings().login.lockout(ctx.now);
        state.store().record_failed_login(&user.id, lockout).await?;
        return Err(failure("wrong password"));
    }
    if user.failed_logins > 0 || user.locked_until.is_some() {
        state.store().record_successful_login(&user.id).await?;
    }
    if !crate::access::has_permission(state.store(), &user, Permission::ApiEnabled).await?
        || !permitted::may_use(state, &app, &user).await?
    {
        return Err(failure("no API access, or not a permitted user"));
    }
    // After the password, as Salesforce: a wrong password is a failure wherever it comes from.
    ip_relaxation::check(state, &app, &user, Step::Password, ctx.client).await?;
    Ok(issue::access_token(ctx, &app, &user, &scopes, None)
        .await?
        .signed(app.secret(), ctx.now))
}
