//! The JWT bearer grant (RFC 7523 §2.1, `spec/oauth-and-connect.md` §1.9 F), as the Salesforce
//! CLI uses it: `iss` names the consumer, `sub` the user, the assertion is signed with the key
//! of the certificate in the global OAuth settings (whose presence enables the flow).
//!
//! The user must be pre-authorized (admin-approved apps) or have approved the app before
//! (self-authorized apps); otherwise `user hasn't approved this consumer`, which is also the
//! answer for an unknown username, and for an inactive or frozen user the app may not act for,
//! so the grant does not reveal which usernames exist.
//! Audiences: the request's base URL (± trailing slash), `https://login.salesforce.com`,
//! `https://test.salesforce.com`. The response has no `signature` or `issued_at` (the shape of
//! Salesforce's), and never a refresh token.
//!
//! Client authentication is optional with an assertion (RFC 7521 §4.1, RFC 7523 §2.1), and
//! the Salesforce CLI sends none. A client that does authenticate (`client_id`, a secret, or
//! a Basic header) must be the app the assertion names, and a secret it sends must be right
//! (RFC 6749 §3.2.1): otherwise `invalid_client`.

use eca_core::Secret;
use eca_oauth::jwt_bearer::{self, Audiences};
use eca_oauth::{ClientCredentials, GrantType, GrantedScopes, OAuthError, TokenResponse};

use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::{GrantError, permitted, registry};
use crate::directory;

pub async fn grant(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    assertion: &Secret,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let issuer = jwt_bearer::issuer_unverified(assertion.expose())?;
    // The `iss` may be a staged or rotated key too (`spec/oauth-and-connect.md` §3).
    let app = registry::in_org(
        registry::by_client_id(ctx.state, &issuer, ctx.now).await?,
        &org.id,
    )?;
    if let Some(credentials) = credentials {
        // Any of the consumer's keys (primary, staged or rotated) names the same app.
        let named = registry::by_client_id(ctx.state, &credentials.client_id, ctx.now)
            .await?
            .ok_or(OAuthError::InvalidClientId)?;
        if named.consumer_id != app.consumer_id {
            return Err(OAuthError::InvalidClient.into());
        }
        // Against the presented key's own secret: a staged key has one of its own.
        client::check_secret(ctx.state, &named, credentials, SecretRule::IfPresented)?;
    }
    if !app.is_enabled() {
        return Err(OAuthError::AppBlocked.into());
    }
    // Parsed when the app was loaded (`registry`), not on every assertion.
    let Some(key) = app.bearer_key().filter(|_| app.global.jwt_bearer_enabled()) else {
        return Err(OAuthError::FlowNotEnabled(GrantType::JwtBearer).into());
    };
    // A certificate deployed before deploys checked its key (RSA, 2048 to 8192 bits) leaves
    // the flow unusable: the client's error, not the server's.
    let key = key.map_err(|e| {
        tracing::warn!(app = %app.name, "JWT bearer refused: the deployed certificate is unusable: {e}");
        OAuthError::FlowNotEnabled(GrantType::JwtBearer)
    })?;
    let audiences = Audiences::for_org(&ctx.org.base_url);
    let claims = jwt_bearer::verify(
        assertion.expose(),
        key,
        &app.consumer_key,
        &audiences,
        ctx.now,
    )?;
    // From the directory cache, as for client credentials (`crate::directory`).
    let user = directory::user_by_username(ctx.state, &claims.subject)
        .await?
        .filter(|u| u.org_id == org.id)
        .ok_or(OAuthError::NotApproved)?;
    // Approval first: an inactive or frozen user the app may not act for answers as an
    // unknown one does.
    if !permitted::may_skip_consent(ctx.state, &app, &user).await? {
        return Err(OAuthError::NotApproved.into());
    }
    if !user.is_active || user.is_frozen {
        return Err(OAuthError::InactiveUser.into());
    }
    ip_relaxation::check(ctx.state, &app, &user, Step::JwtBearer, ctx.client).await?;
    let scopes = GrantedScopes::grant(None, app.scopes(), &app.custom_scopes())?;
    issue::access_token(ctx, &app, &user, &scopes, None).await
}
