//! Issuing an opaque access token: recorded by hash, answered in Salesforce's shape
//! (`spec/oauth-and-connect.md` §1.8, §1.11).

use std::net::IpAddr;

use eca_core::Timestamp;
use eca_core::domain::User;
use eca_oauth::{GrantedScopes, TokenResponse, access_jwt, tokens};
use eca_store::{AccessTokenFormat, AccessTokenRecord};

use super::GrantError;
use super::registry::ClientApp;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::state::AppState;

/// What every grant has at hand.
#[derive(Debug)]
pub struct GrantContext<'a> {
    pub state: &'a AppState,
    pub org: &'a OrgContext,
    pub now: Timestamp,
    /// The client's address (`crate::auth::ClientIp`), for IP restrictions.
    pub client: IpAddr,
}

/// The identity URL of `user` (the response's `id`): `<base>/id/<org18>/<user18>`.
pub fn identity_url(org: &OrgContext, user: &User) -> String {
    format!("{}/id/{}/{}", org.base_url, user.org_id, user.id)
}

/// Records a new access token for `user` through `app` and returns the unsigned response.
///
/// Opaque (`<org15>!...`) by default, living for the app policies' session timeout, else the
/// org's. A JWT when the app says `isNamedUserJwtEnabled` (`eca_oauth::access_jwt`), living
/// for the policies' `namedUserJwtTimeout` or else the same session timeout, with
/// `token_format: jwt` in the response (`spec/metadata.md` §9.5). Both are recorded by hash,
/// so revocation and usage treat them alike.
pub async fn access_token(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    user: &User,
    scopes: &GrantedScopes,
    refresh_hash: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let state = ctx.state;
    let session_minutes = app
        .session_timeout_minutes()
        .unwrap_or(org.session_timeout_minutes);
    let scope = scopes.to_wire();
    let jwt = app.issues_jwt_access_tokens();
    let (issued, format, expires_at) = if jwt {
        // The policies' JWT timeout, or with `UserSession` (or none) the user's session timeout,
        // which is the org's here (OpenECA has no per-profile timeouts). Never the policies'
        // `sessionTimeoutInMinutes`: it "only applies to opaque tokens" (`spec/metadata.md`
        // §2.6).
        let expires_at = ctx.now.plus_minutes(
            app.jwt_timeout_minutes()
                .unwrap_or(org.session_timeout_minutes),
        );
        let key = super::keys::current_key(state, &org.id).await?;
        // Signed on the async worker that serves the request. An RSA-2048 signature takes
        // about 0.2 ms of CPU here, and handing it to the blocking pool cost two thread
        // wake-ups per token: on two cores that pool's hand-offs took about 20 us of a
        // token's 270 us, for nothing, since the pool competes for the same cores
        // (docs/benchmarks.md, "RS256").
        let issued = access_jwt::AccessJwt {
            base_url: &ctx.org.base_url,
            user_id: user.id.as_str(),
            client_id: &app.consumer_key,
            scope: &scope,
            issued_at: ctx.now,
            expires_at,
        }
        .sign(&key, state.rng())
        .map_err(|e| ApiError::Internal(format!("signing an access token failed: {e}")))?;
        (issued, AccessTokenFormat::Jwt, expires_at)
    } else {
        let issued = tokens::access_token(&org.id, ctx.now, state.rng());
        (
            issued,
            AccessTokenFormat::Opaque,
            ctx.now.plus_minutes(session_minutes),
        )
    };
    state
        .token_writer()
        .write(
            state.shared_store(),
            AccessTokenRecord {
                token_hash: issued.hash.as_str().to_owned(),
                org_id: org.id.clone(),
                app_name: app.name.clone(),
                consumer_id: app.consumer_id.clone(),
                user_id: user.id.clone(),
                scopes: scope.clone(),
                format,
                refresh_hash: refresh_hash.map(str::to_owned),
                issued_at: ctx.now,
                expires_at,
                revoked_at: None,
            },
        )
        .await?;
    // Every token is recorded with its app, user and time (the Connect usage API lists them):
    // a log line per token would only slow the token endpoint down.
    tracing::debug!(app = %app.name, user = %user.id, org = %org.id, format = format.as_str(), "access token issued");
    let mut response = TokenResponse::new(
        issued.value,
        ctx.org.base_url.clone(),
        identity_url(ctx.org, user),
        scope,
    );
    if jwt {
        response.token_format = Some("jwt".to_owned());
    }
    Ok(response)
}
