//! Client authentication at the token and introspection endpoints (RFC 6749 §2.3.1):
//! `client_secret_post` or `client_secret_basic`, checked against the app's consumer.

use std::sync::Arc;

use eca_core::OrgId;
use eca_oauth::{ClientCredentials, OAuthError};

use super::GrantError;
use super::registry::{self, ClientApp};
use crate::state::AppState;

/// Whether a request without a secret may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRule {
    /// A secret must be presented and match.
    Required,
    /// A presented secret must match; none is fine (refresh without
    /// `isSecretRequiredForRefreshToken`).
    IfPresented,
    /// Required, unless the app is a public client (`isConsumerSecretOptional`).
    UnlessPublic,
}

/// The app of the credentials, in `org`, authenticated and switched on.
///
/// The key may be a consumer's primary key or an unexpired staged or rotated one
/// ([`registry::by_client_id`]). An unknown consumer key is `invalid_client_id`, one of another
/// org's app the cross-org refusal ([`registry::in_org`]); a wrong or missing
/// secret `invalid_client`; a disabled app or OAuth plugin `OAUTH_APP_BLOCKED`. The secret is
/// checked before the switches, so an unauthenticated caller learns nothing of the app.
pub async fn authenticate(
    state: &AppState,
    org: &OrgId,
    credentials: Option<&ClientCredentials>,
    rule: SecretRule,
) -> Result<Arc<ClientApp>, GrantError> {
    let credentials = credentials.ok_or(OAuthError::InvalidClientId)?;
    let app = registry::in_org(
        registry::by_client_id(state, &credentials.client_id, state.clock().now()).await?,
        org,
    )?;
    check_secret(state, &app, credentials, rule)?;
    if !app.is_enabled() {
        return Err(OAuthError::AppBlocked.into());
    }
    Ok(app)
}

/// Checks the presented secret of `credentials` against `app`'s.
pub fn check_secret(
    state: &AppState,
    app: &ClientApp,
    credentials: &ClientCredentials,
    rule: SecretRule,
) -> Result<(), GrantError> {
    match (&credentials.secret, rule) {
        (Some(secret), _) if app.verify_secret(state.digester(), secret) => Ok(()),
        (None, SecretRule::IfPresented) => Ok(()),
        (None, SecretRule::UnlessPublic) if app.global.consumer_secret_optional() => Ok(()),
        _ => Err(OAuthError::InvalidClient.into()),
    }
}
