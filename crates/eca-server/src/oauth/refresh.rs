//! The refresh token grant (RFC 6749 §6, `spec/oauth-and-connect.md` §1.9 C).
//!
//! - The client must be the token's app; its secret is required when
//!   `isSecretRequiredForRefreshToken` (the default) and checked whenever it is sent.
//! - A revoked, unknown or expired token (the policies' `refreshTokenPolicyType`, through
//!   [`RefreshPolicy`]) is `invalid_grant` / `expired access/refresh token`.
//! - With `isRefreshTokenRotationEnabled` each refresh returns a new refresh token and the
//!   presented one becomes single-use; presenting a rotated token again is reuse (RFC 9700
//!   §4.14.2) and revokes its whole family, access tokens included.
//! - A `scope` may only narrow the original grant.
//! - With `openid` granted, the response carries a new ID token (spec §1.8 lists `id_token`
//!   for the refresh grant), without `nonce` or `auth_time`, which are not known here (OpenID
//!   Connect Core §12.2 allows both to be left out).

use eca_core::Secret;
use eca_oauth::{
    ClientCredentials, GrantedScopes, OAuthError, RefreshPolicy, TokenHash, TokenResponse, tokens,
};
use eca_store::RefreshTokenRecord;

use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::{GrantError, id_token, permitted, registry};
use crate::directory;

pub async fn grant(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    refresh_token: &Secret,
    scope: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let store = ctx.state.store();
    let expired = || GrantError::OAuth(OAuthError::ExpiredToken);
    let credentials = credentials.ok_or(OAuthError::InvalidClientId)?;
    let hash = TokenHash::of(refresh_token.expose());
    let record = store.refresh_token(hash.as_str()).await?;
    // The client may present its consumer's primary key or a live staged or rotated one
    // (`spec/oauth-and-connect.md` §3): tokens issued under the old key keep working.
    let app = registry::by_client_id(ctx.state, &credentials.client_id, ctx.now).await?;
    // The client must exist in this org.
    let app = registry::in_org(app, &org.id)?;
    let rule = if app.global.secret_required_for_refresh_token() {
        SecretRule::Required
    } else {
        SecretRule::IfPresented
    };
    client::check_secret(ctx.state, &app, credentials, rule)?;
    if !app.is_enabled() {
        return Err(OAuthError::AppBlocked.into());
    }
    // Another client's token answers as an unknown one, and only after this client has
    // authenticated (RFC 6749 §5.2: `invalid_grant` for a grant "issued to another client"),
    // so nobody learns which strings are live tokens of some app.
    let Some(record) = record.filter(|r| r.org_id == org.id && r.consumer_id == app.consumer_id)
    else {
        return Err(expired());
    };
    if record.revoked_at.is_some() {
        // Revoked itself, or a member of a family with a revoked token (the store reads it so):
        // the family's revocation is made whole, so the usage API stops listing the survivor.
        ctx.state.token_writer().sync().await;
        store
            .revoke_refresh_family(&record.family_id, ctx.now)
            .await?;
        return Err(expired());
    }
    if record.rotated_at.is_some() {
        // The family's access tokens still being written behind are revoked too.
        ctx.state.token_writer().sync().await;
        let n = store
            .revoke_refresh_family(&record.family_id, ctx.now)
            .await?;
        tracing::warn!(app = %app.name, user = %record.user_id, revoked = n, "rotated refresh token reused: family revoked");
        return Err(expired());
    }
    let policy = RefreshPolicy::from_policies(app.policies.as_ref());
    let fixed_end_passed = record.expires_at.is_some_and(|end| ctx.now >= end);
    if fixed_end_passed
        || !policy.is_refresh_token_valid(record.issued_at, Some(record.last_used_at), ctx.now)
    {
        return Err(expired());
    }
    let Some(user) = directory::user(ctx.state, &record.user_id)
        .await?
        .filter(|u| u.org_id == org.id)
    else {
        return Err(expired());
    };
    permitted::check_still_permitted(ctx.state, &app, &user).await?;
    ip_relaxation::check(ctx.state, &app, &user, Step::Refresh, ctx.client).await?;
    let scopes = GrantedScopes::from_wire(&record.scopes).narrow(scope)?;

    // Everything that can fail on the server's side comes first: the access token (recorded
    // under the presented token) and the ID token. Only then is the presented token rotated,
    // so a failure leaves it as it was and the client's retry is not taken for a reuse.
    let mut response = issue::access_token(ctx, &app, &user, &scopes, Some(hash.as_str()))
        .await?
        .signed(app.secret(), ctx.now);
    id_token::attach(
        ctx,
        &app,
        &user,
        &scopes,
        &mut response,
        id_token::Context::default(),
    )
    .await?;
    if app.global.refresh_token_rotation_enabled() {
        let issued = tokens::refresh_token(ctx.state.rng());
        // The replacement carries on the grant: its first issue (the lifetime policy's start,
        // like the stored end it inherits, and the usage API's `initialConnectionAt`) and its
        // count of refreshes, this one included (the usage API's `useCount`; listings read
        // the live token of a family only).
        let replacement = RefreshTokenRecord {
            token_hash: issued.hash.as_str().to_owned(),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            last_used_at: ctx.now,
            use_count: record.use_count + 1,
            rotated_at: None,
            revoked_at: None,
            ..record.clone()
        };
        if !store
            .rotate_refresh_token(hash.as_str(), &replacement, ctx.now)
            .await?
        {
            // A concurrent refresh rotated it first: this is a second use. The family's
            // revocation reaches the access token just issued too: it names the presented
            // token, and the sync has written it.
            ctx.state.token_writer().sync().await;
            store
                .revoke_refresh_family(&record.family_id, ctx.now)
                .await?;
            return Err(expired());
        }
        response.refresh_token = Some(issued.value);
    } else {
        // Live as read above; the use is counted with the writer's next batch.
        ctx.state
            .token_writer()
            .count_refresh_use(ctx.state.shared_store(), hash.as_str(), ctx.now)
            .await;
    }
    Ok(response)
}
