//! The username-password grant (RFC 6749 §4.3, `spec/oauth-and-connect.md` §1.9 G), as
//! Salesforce still offers it: client authentication (the secret may be left out only by a
//! public client, `isConsumerSecretOptional`), then the user's password. Every failure about
//! the user is `invalid_grant` / `authentication failure`, whatever the reason (unknown user,
//! wrong password, locked, inactive, not API Enabled, not permitted): it does not say which.
//! The user and password are checked as the SOAP login checks them
//! ([`crate::login::check_password`]): an unknown username costs a password check against a
//! dummy hash, a wrong password counts towards the login lockout, and every failure about the
//! user towards the per-address limit (`login::limiter`); an address over it is refused
//! before anything is looked up, with `rate_limit_exceeded`. No refresh token.

use eca_core::Secret;
use eca_core::domain::Permission;
use eca_oauth::{ClientCredentials, GrantedScopes, OAuthError, TokenResponse};

use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::{GrantError, permitted};
use crate::error::ApiError;

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
    let user =
        match crate::login::check_password(state, org, username, password, ctx.client, ctx.now)
            .await
        {
            Ok(user) => user,
            Err(ApiError::LoginRateExceeded) => return Err(OAuthError::RateLimitExceeded.into()),
            Err(ApiError::InvalidLogin) => {
                return Err(OAuthError::AuthenticationFailure.into());
            }
            Err(e) => return Err(e.into()),
        };
    if !crate::access::has_permission(state.store(), &user, Permission::ApiEnabled).await?
        || !permitted::may_use(state, &app, &user).await?
    {
        state.limiter().record_failure(ctx.client, ctx.now);
        tracing::info!(client = %ctx.client, user = %user.id, "password grant refused: no API access, or not a permitted user");
        return Err(OAuthError::AuthenticationFailure.into());
    }
    // After the password, as Salesforce: a wrong password is a failure wherever it comes from.
    ip_relaxation::check(state, &app, &user, Step::Password, ctx.client).await?;
    Ok(issue::access_token(ctx, &app, &user, &scopes, None)
        .await?
        .signed(app.secret(), ctx.now))
}
