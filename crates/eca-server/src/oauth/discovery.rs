//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4, with the keys of
//! Salesforce's document, `spec/oauth-and-connect.md` §1.1) and `GET /id/keys`, the org's
//! JWK Set (§1.2). The issuer is the org's base URL as the request used it.

use axum::Json;
use axum::extract::State;
use eca_metadata::model::OauthScope;
use eca_oauth::{GrantType, JwkSet};
use serde::Serialize;

use super::keys;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// RFC 8628 §4.
    pub device_authorization_endpoint: String,
    pub revocation_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub end_session_endpoint: String,
    /// OpenID Connect Front-Channel Logout 1.0. Salesforce's document says `true`; OpenECA's
    /// logout notifies no relying party, so it says `false` rather than promise it.
    pub frontchannel_logout_supported: bool,
    pub frontchannel_logout_session_supported: bool,
    /// OpenID Connect Discovery 1.0 §3: left out, this means `true`; `request_uri` is not
    /// read.
    pub request_uri_parameter_supported: bool,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: [&'static str; 5],
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: [&'static str; 1],
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    pub display_values_supported: [&'static str; 3],
    pub token_endpoint_auth_methods_supported: [&'static str; 3],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub code_challenge_methods_supported: [&'static str; 1],
    /// RFC 9207 §3: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    pub claims_supported: [&'static str; 30],
}

pub async fn openid_configuration(org: OrgContext) -> Json<Discovery> {
    let base = &org.base_url;
    let oauth = format!("{base}/services/oauth2");
    Json(Discovery {
        issuer: base.clone(),
        authorization_endpoint: format!("{oauth}/authorize"),
        token_endpoint: format!("{oauth}/token"),
        device_authorization_endpoint: format!("{oauth}/device/authorize"),
        revocation_endpoint: format!("{oauth}/revoke"),
        userinfo_endpoint: format!("{oauth}/userinfo"),
        jwks_uri: format!("{base}/id/keys"),
        introspection_endpoint: format!("{oauth}/introspect"),
        end_session_endpoint: format!("{base}/services/auth/idp/oidc/logout"),
        frontchannel_logout_supported: false,
        frontchannel_logout_session_supported: false,
        request_uri_parameter_supported: false,
        scopes_supported: OauthScope::ALL.iter().map(|s| s.wire()).collect(),
        // Salesforce's spelling `token id_token`, and the registered `id_token token` (OAuth 2.0
        // Multiple Response Type Encoding Practices §5): the words may come in any order.
        response_types_supported: [
            "code",
            "token",
            "token id_token",
            "id_token token",
            "code id_token",
        ],
        // Only the grants the token endpoint serves today.
        grant_types_supported: [
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::DeviceCode,
            GrantType::JwtBearer,
            GrantType::Password,
            GrantType::RefreshToken,
        ]
        .iter()
        .map(|g| g.wire())
        // The user-agent flow's name in RFC 8414 §2.
        .chain(["implicit"])
        .collect(),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        display_values_supported: ["page", "popup", "touch"],
        // `private_key_jwt`, which Salesforce lists, is not supported. `none` (RFC 8414 §2,
        // RFC 7591 §2): public clients send no secret (apps with `isConsumerSecretOptional`,
        // and the device flow).
        token_endpoint_auth_methods_supported: [
            "client_secret_post",
            "client_secret_basic",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: [
            "client_secret_post",
            "client_secret_basic",
        ],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        claims_supported: [
            "active",
            "address",
            "at_hash",
            "auth_time",
            "azp",
            "c_hash",
            "custom_attributes",
            "email",
            "email_verified",
            "family_name",
            "given_name",
            "is_app_installed",
            "language",
            "locale",
            "name",
            "nickname",
            "nonce",
            "organization_id",
            "phone_number",
            "phone_number_verified",
            "photos",
            "picture",
            "preferred_username",
            "profile",
            "sub",
            "updated_at",
            "urls",
            "user_id",
            "user_type",
            "zoneinfo",
        ],
    })
}

pub async fn jwks(
    State(state): State<AppState>,
    org: OrgContext,
) -> Result<Json<JwkSet>, ApiError> {
    let keys = keys::org_keys(&state, &org.org.id).await?;
    Ok(Json(JwkSet {
        keys: keys.iter().map(|k| k.public_jwk().clone()).collect(),
    }))
}
