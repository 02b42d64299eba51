//! The client credentials grant (RFC 6749 §4.4, `spec/oauth-and-connect.md` §1.9 D): the app
//! acts as its run-as user.
//!
//! Enabled only when both the global settings and the OAuth policies say so
//! (`isClientCredentialsFlowEnabled`), and the policies' `clientCredentialsFlowUser` names an
//! active, unfrozen, API Only user of the org. No refresh token; `api_instance_url` is the
//! request's base URL.

use eca_core::domain::Permission;
use eca_oauth::{ClientCredentials, GrantType, GrantedScopes, OAuthError, TokenResponse};

use super::GrantError;
use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use crate::directory;

pub async fn grant(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    scope: Option<&str>,
) -> Result<TokenResponse, GrantError> {
    let org = &ctx.org.org;
    let app = client::authenticate(ctx.state, &org.id, credentials, SecretRule::Required).await?;
    let policies_allow = app
        .policies
        .as_ref()
        .is_some_and(|p| p.client_credentials_enabled());
    if !app.global.client_credentials_enabled() || !policies_allow {
        return Err(OAuthError::FlowNotEnabled(GrantType::ClientCredentials).into());
    }
    let username = app
        .policies
        .as_ref()
        .and_then(|p| p.client_credentials_flow_user.as_deref())
        .filter(|u| !u.trim().is_empty())
        .ok_or(OAuthError::NoClientCredentialsUser)?;
    // The run-as user must be one of this org's: usernames are unique across the server. The
    // user and their access come from the directory cache (`crate::directory`): a change made
    // on this node is seen at once, one made on another node within two seconds.
    let user = directory::user_by_username(ctx.state, username.trim())
        .await?
        .filter(|u| u.org_id == org.id)
        .ok_or(OAuthError::NoClientCredentialsUser)?;
    if !user.is_active || user.is_frozen {
        return Err(OAuthError::InactiveUser.into());
    }
    let access = directory::access(ctx.state, &user).await?;
    if !access.permissions().contains(Permission::ApiOnly) {
        tracing::info!(user = %user.id, app = %app.name, "client credentials run-as user is not API Only");
        return Err(OAuthError::NoClientCredentialsUser.into());
    }
    if !ip_relaxation::allows(&access, &app, Step::ClientCredentials, ctx.client) {
        tracing::info!(user = %user.id, app = %app.name, client = %ctx.client, "client credentials refused: address outside the run-as user's login IP ranges");
        return Err(OAuthError::IpRestricted.into());
    }
    let scopes = GrantedScopes::grant(scope, app.scopes(), &app.custom_scopes())?
        .for_client_credentials()?;
    let mut response = issue::access_token(ctx, &app, &user, &scopes, None)
        .await?
        .signed(app.secret(), ctx.now);
    response.api_instance_url = Some(ctx.org.base_url.clone());
    Ok(response)
}
