//! Issuing an opaque access token: recorded by hash, answered in Salesforce's shape
//! (`spec/oauth-and-connect.md` §1.8, §1.11).

use eca_core::Timestamp;
use eca_core::domain::User;
use eca_oauth::{GrantedScopes, TokenResponse, tokens};
use eca_store::{AccessTokenFormat, AccessTokenRecord};

use super::GrantError;
use super::registry::ClientApp;
use crate::org::OrgContext;
use crate::state::AppState;

/// What every grant has at hand.
#[derive(Debug)]
pub struct GrantContext<'a> {
    pub state: &'a AppState,
    pub org: &'a OrgContext,
    pub now: Timestamp,
}

/// The identity URL of `user` (the response's `id`): `<base>/id/<org18>/<user18>`.
pub fn identity_url(org: &OrgContext, user: &User) -> String {
    format!("{}/id/{}/{}", org.base_url, user.org_id, user.id)
}

/// Records a new opaque access token for `user` through `app` and returns the unsigned
/// response. It lives for the app policies' session timeout, else the org's.
pub async fn access_token(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    user: &User,
    scopes: &GrantedScopes,
    refresh_hash: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let issued = tokens::access_token(&org.id, ctx.state.rng());
    let minutes = app
        .session_timeout_minutes()
        .unwrap_or(org.session_timeout_minutes);
    let scope = scopes.to_wire();
    let state = ctx.state;
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
                format: AccessTokenFormat::Opaque,
                refresh_hash: refresh_hash.map(str::to_owned),
                issued_at: ctx.now,
                expires_at: ctx.now.plus_minutes(minutes),
                revoked_at: None,
            },
        )
        .await?;
    tracing::info!(app = %app.name, user = %user.id, org = %org.id, "access token issued");
    Ok(TokenResponse::new(
        issued.value,
        ctx.org.base_url.clone(),
        identity_url(ctx.org, user),
        scope,
    ))
}
