//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5; `spec/oauth-and-connect.md`
//! §1.9 A): the token request of the web-server flow.
//!
//! 1. Client authentication: a presented secret must match (`invalid_client`); no secret is
//!    accepted only from a public client (`isConsumerSecretOptional`) whose code was issued
//!    with PKCE. Checked before the code is touched, so a caller without the secret cannot
//!    burn codes.
//! 2. The code is redeemed atomically in the store. A code presented a second time is a
//!    replay: the tokens its first redemption issued are revoked (RFC 6749 §4.1.2, RFC 9700
//!    §4.2.4) and the request fails.
//! 3. The code must be this client's (a code of client A presented by client B fails: RFC
//!    9700 §4.5 mix-up), unexpired (`AUTHORIZATION_CODE_MINUTES`), sent to the same
//!    `redirect_uri` (RFC 6749 §4.1.3, exactly), and the PKCE verifier must match the
//!    challenge, with no downgrade either way (`eca_oauth::pkce::verify`).
//! 4. The response: an access token recorded like every grant's, a refresh token when the
//!    scopes allow one (`refresh_token`/`offline_access`) and the refresh policy is not
//!    `Zero`, an ID token when `openid` was granted (with the request's `nonce`,
//!    `auth_time` and `at_hash`), `issued_at` and `signature`.

use eca_core::{Secret, UserId};
use eca_oauth::{
    ClientCredentials, CodeChallenge, GrantedScopes, OAuthError, RedirectUri, RefreshPolicy,
    TokenHash, TokenResponse, pkce, redirect, tokens,
};
use eca_store::{AuthorizationCodeRecord, CodeRedemption, RefreshTokenRecord};

use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::registry::{self, ClientApp};
use super::{GrantError, id_token, permitted};

pub async fn grant(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    code: &Secret,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let store = ctx.state.store();
    let invalid = || GrantError::OAuth(OAuthError::InvalidAuthorizationCode);
    let credentials = credentials.ok_or(OAuthError::InvalidClientId)?;
    // The primary key, or a staged or rotated one (`spec/oauth-and-connect.md` §3); the code
    // is bound to the consumer, whichever key it was asked for with.
    let app = registry::in_org(
        registry::by_client_id(ctx.state, &credentials.client_id, ctx.now).await?,
        &org.id,
    )?;
    let public = match &credentials.secret {
        Some(secret) if app.verify_secret(ctx.state.digester(), secret) => false,
        Some(_) => return Err(OAuthError::InvalidClient.into()),
        None if app.global.consumer_secret_optional() => true,
        None => return Err(OAuthError::InvalidClient.into()),
    };
    if !app.is_enabled() {
        return Err(OAuthError::AppBlocked.into());
    }

    let hash = TokenHash::of(code.expose());
    let record = match store
        .redeem_authorization_code(hash.as_str(), &org.id, &app.consumer_id, ctx.now)
        .await?
    {
        CodeRedemption::Redeemed(record) => record,
        CodeRedemption::Replayed(record) => {
            // RFC 6749 §4.1.2: a replay revokes what the code gave, but only when the
            // presenter proves what a redemption would need (the secret, or for a public
            // client the PKCE verifier): else anyone holding a public client's code and its
            // `client_id` could revoke its user's tokens.
            let proven = !public
                || record.code_challenge.clone().is_some_and(|challenge| {
                    pkce::verify(Some(&CodeChallenge::from_stored(challenge)), code_verifier)
                        .is_ok()
                });
            if proven {
                revoke_issued(ctx, &record).await?;
            }
            return Err(invalid());
        }
        // Unknown, expired and deleted, or another client's (which it leaves untouched).
        CodeRedemption::Unknown => return Err(invalid()),
    };
    if record.expires_at <= ctx.now {
        return Err(OAuthError::ExpiredAuthorizationCode.into());
    }
    let at_authorize = RedirectUri::from_stored(record.redirect_uri.clone());
    if record.redirect_uri_given {
        redirect::check_token_redirect(&at_authorize, redirect_uri)?;
    } else if redirect_uri.is_some_and(|r| !r.is_empty() && r != at_authorize.as_str()) {
        return Err(OAuthError::RedirectUriMismatch.into());
    }
    let challenge = record
        .code_challenge
        .clone()
        .map(CodeChallenge::from_stored);
    pkce::verify(challenge.as_ref(), code_verifier)?;
    // A public client proves possession only through PKCE (RFC 9700 §2.1.1).
    if public && challenge.is_none() {
        return Err(OAuthError::InvalidClient.into());
    }

    let Some(user) = store
        .user(&record.user_id)
        .await?
        .filter(|u| u.org_id == org.id)
    else {
        return Err(invalid());
    };
    permitted::check_still_permitted(ctx.state, &app, &user).await?;
    ip_relaxation::check(ctx.state, &app, &user, Step::CodeExchange, ctx.client).await?;
    let scopes = GrantedScopes::from_wire(&record.scopes);
    let refresh = refresh_token(ctx, &app, &record.user_id, &scopes).await?;
    let mut response = issue::access_token(
        ctx,
        &app,
        &user,
        &scopes,
        refresh.as_ref().map(|(_, hash, _)| hash.as_str()),
    )
    .await?
    .signed(app.secret(), ctx.now);
    let access_hash = tokens::access_token_key(response.access_token.expose());
    let family = refresh.as_ref().map(|(_, _, family)| family.as_str());
    // Written before they are recorded, so that a revocation either reads them or makes the
    // record fail (`void_grants_under_way` in eca-store).
    ctx.state.token_writer().sync().await;
    if !store
        .record_code_tokens(hash.as_str(), access_hash.as_str(), family)
        .await?
    {
        // Replayed, or voided by a revocation, while we were issuing: take back what we made.
        take_back(ctx, access_hash.as_str(), family).await?;
        return Err(invalid());
    }
    let about = id_token::Context {
        nonce: record.nonce.as_deref(),
        auth_time: Some(record.auth_time),
        ..id_token::Context::default()
    };
    id_token::attach(ctx, &app, &user, &scopes, &mut response, about).await?;
    response.refresh_token = refresh.map(|(value, _, _)| value);
    tracing::info!(app = %app.name, user = %user.id, "authorization code redeemed");
    Ok(response)
}

/// A new refresh token (value, hash, family) for `user` when the scopes and the policy allow
/// one (also used by the device flow).
pub(super) async fn refresh_token(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    user: &UserId,
    scopes: &GrantedScopes,
) -> Result<Option<(Secret, TokenHash, String)>, GrantError> {
    let policy = RefreshPolicy::from_policies(app.policies.as_ref());
    if !scopes.allows_refresh_token() || !policy.issues_refresh_token() {
        return Ok(None);
    }
    let issued = tokens::refresh_token(ctx.state.rng());
    let family = eca_core::rng::token(ctx.state.rng(), 16);
    // A lifetime policy fixes the end now; an inactivity policy is checked at each use.
    let expires_at = match policy {
        RefreshPolicy::Lifetime(_) => policy.expires_at(ctx.now, None),
        _ => None,
    };
    ctx.state
        .store()
        .create_refresh_token(&RefreshTokenRecord {
            token_hash: issued.hash.as_str().to_owned(),
            org_id: app.org_id.clone(),
            app_name: app.name.clone(),
            consumer_id: app.consumer_id.clone(),
            user_id: user.clone(),
            scopes: scopes.to_wire(),
            family_id: family.clone(),
            issued_at: ctx.now,
            expires_at,
            last_used_at: ctx.now,
            use_count: 0,
            rotated_at: None,
            revoked_at: None,
        })
        .await?;
    Ok(Some((issued.value, issued.hash, family)))
}

/// Revokes the tokens an exchange has just written, when its code or device code was voided
/// while it issued them.
pub(super) async fn take_back(
    ctx: &GrantContext<'_>,
    access_hash: &str,
    refresh_family: Option<&str>,
) -> Result<(), GrantError> {
    let store = ctx.state.store();
    store.revoke_access_token(access_hash, ctx.now).await?;
    if let Some(family) = refresh_family {
        store.revoke_refresh_family(family, ctx.now).await?;
    }
    Ok(())
}

/// RFC 6749 §4.1.2: a code used twice revokes what it issued.
async fn revoke_issued(
    ctx: &GrantContext<'_>,
    record: &AuthorizationCodeRecord,
) -> Result<(), GrantError> {
    let store = ctx.state.store();
    // Tokens still being written behind are revoked too (`oauth::token_writer`).
    ctx.state.token_writer().sync().await;
    if let Some(access) = &record.access_hash {
        store.revoke_access_token(access, ctx.now).await?;
    }
    let mut revoked = 0;
    if let Some(family) = &record.refresh_family {
        revoked = store.revoke_refresh_family(family, ctx.now).await?;
    }
    tracing::warn!(
        app = %record.app_name,
        user = %record.user_id,
        refresh_tokens = revoked,
        "authorization code replayed: its tokens are revoked"
    );
    Ok(())
}
