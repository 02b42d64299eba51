//! Issuing ID tokens (OpenID Connect Core §2, §3.1.3.6, §3.2.2.10; `spec/oauth-and-connect.md`
//! §1.8) for the web-server, user-agent and refresh flows, over `eca_oauth::id_token`.
//!
//! - Signed RS256 with the org's newest key (`keys`), `kid` in the header, verifiable with
//!   `/id/keys`.
//! - `iss` is the org's base URL (the discovery `issuer`); `sub` the identity URL, as
//!   Salesforce's; `aud` the client id plus `idTokenAudience`; `exp` after
//!   `idTokenValidityInMinutes` (default 2).
//! - Standard claims (OIDC Core §5.4) for the granted `profile`, `email`, `address` and
//!   `phone` scopes (or `id`/`full`, which cover them), unless `idTokenIncludeStandardClaims`
//!   is `false`; plus Salesforce's `user_id`, `organization_id` and `user_type` always.
//! - `custom_attributes` when `idTokenIncludeAttributes` is `true` (`spec/metadata.md` §8.4).

use eca_core::Secret;
use eca_core::Timestamp;
use eca_core::domain::User;
use eca_metadata::model::OauthScope;
use eca_oauth::GrantedScopes;
use eca_oauth::id_token::{self, Audience, IdTokenClaims};
use eca_oauth::jose::{self, VerifyingKey};
use eca_oauth::response::TokenResponse;
use serde_json::{Map, Value, json};

use super::GrantError;
use super::attributes::{self, Subject};
use super::issue::{GrantContext, identity_url};
use super::keys;
use super::registry::ClientApp;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::rest::identity;
use crate::state::AppState;

/// What an ID token is about, besides the app and the user.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The authorization request's `nonce`.
    pub nonce: Option<&'a str>,
    /// When the user logged in, if known.
    pub auth_time: Option<Timestamp>,
    /// The access token issued with it (`at_hash`).
    pub access_token: Option<&'a str>,
    /// The code issued with it (`c_hash`, hybrid flow).
    pub code: Option<&'a str>,
}

/// Puts in `response` the ID token it owes when `openid` was granted (OpenID Connect Core
/// §3.1.3.3), with the `at_hash` of the response's access token; `about` gives the rest.
pub async fn attach(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    user: &User,
    scopes: &GrantedScopes,
    response: &mut TokenResponse,
    about: Context<'_>,
) -> Result<(), GrantError> {
    if !scopes.has_openid() {
        return Ok(());
    }
    let about = Context {
        access_token: Some(response.access_token.expose()),
        ..about
    };
    let token = issue(ctx, app, user, scopes, &about).await?;
    response.id_token = Some(token);
    Ok(())
}

/// A signed ID token for `user` and `app` with these scopes.
pub async fn issue(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    user: &User,
    scopes: &GrantedScopes,
    about: &Context<'_>,
) -> Result<Secret, GrantError> {
    let config = app.global.id_token_config.as_ref();
    let minutes = id_token::validity_minutes(config.and_then(|c| c.validity_in_minutes));
    let mut claims = standard_claims(&ctx.org.base_url, user, scopes);
    if config.and_then(|c| c.include_standard_claims) == Some(false) {
        claims.retain(|k, _| SALESFORCE_CLAIMS.contains(&k.as_str()));
    }
    if config.and_then(|c| c.include_attributes) == Some(true) {
        let attributes = app.custom_attributes();
        if !attributes.is_empty() {
            let profile = ctx.state.store().profile(&user.profile_id).await?;
            let values = attributes::evaluate(
                &attributes,
                &Subject {
                    user,
                    org: &ctx.org.org,
                    profile_name: profile.as_ref().map(|p| p.name.as_str()),
                },
            );
            claims.insert("custom_attributes".into(), json!(values));
        }
    }
    let aud = Audience::new(
        &app.consumer_key,
        config.and_then(|c| c.audience.as_deref()),
    );
    let body = IdTokenClaims {
        iss: ctx.org.base_url.clone(),
        sub: identity_url(ctx.org, user),
        azp: aud.authorized_party(),
        aud,
        exp: ctx.now.secs() + minutes * 60,
        iat: ctx.now.secs(),
        auth_time: about.auth_time.map(Timestamp::secs),
        nonce: about.nonce.map(str::to_owned),
        at_hash: about.access_token.map(id_token::half_hash),
        c_hash: about.code.map(id_token::half_hash),
        claims,
    };
    let key = keys::current_key(ctx.state, &ctx.org.org.id).await?;
    let token = key
        .sign(&body)
        .map_err(|e| ApiError::Internal(format!("ID token signing failed: {e}")))?;
    Ok(Secret::new(token))
}

/// The claims kept when `idTokenIncludeStandardClaims` is `false`.
const SALESFORCE_CLAIMS: &[&str] = &["user_id", "organization_id", "user_type"];

/// OIDC Core §5.4: the claims each granted scope asks for, with Salesforce's user data (the
/// same values as userinfo).
fn standard_claims(base: &str, user: &User, scopes: &GrantedScopes) -> Map<String, Value> {
    let id = identity::build(base, user);
    let mut out = Map::new();
    out.insert("user_id".into(), json!(id.user_id));
    out.insert("organization_id".into(), json!(id.organization_id));
    out.insert("user_type".into(), json!(id.user_type));
    if scopes.covers(OauthScope::Profile) {
        out.insert("name".into(), json!(id.display_name));
        if let Some(first) = &id.first_name {
            out.insert("given_name".into(), json!(first));
        }
        out.insert("family_name".into(), json!(id.last_name));
        out.insert("preferred_username".into(), json!(id.username));
        out.insert("nickname".into(), json!(id.nick_name));
        out.insert("picture".into(), json!(id.photos.picture));
        out.insert("profile".into(), json!(format!("{base}/{}", user.id)));
        out.insert("zoneinfo".into(), json!(id.timezone));
        out.insert("locale".into(), json!(id.locale));
        out.insert("updated_at".into(), json!(user.updated_at.to_iso8601()));
    }
    if scopes.covers(OauthScope::Email) {
        out.insert("email".into(), json!(id.email));
        out.insert("email_verified".into(), json!(id.email_verified));
    }
    if scopes.covers(OauthScope::Address) {
        let mut address = Map::new();
        for (key, value) in [
            ("street_address", &id.addr_street),
            ("locality", &id.addr_city),
            ("region", &id.addr_state),
            ("country", &id.addr_country),
            ("postal_code", &id.addr_zip),
        ] {
            if let Some(v) = value {
                address.insert(key.into(), json!(v));
            }
        }
        out.insert("address".into(), Value::Object(address));
    }
    if scopes.covers(OauthScope::Phone) {
        if let Some(phone) = &id.mobile_phone {
            out.insert("phone_number".into(), json!(phone));
        }
        out.insert(
            "phone_number_verified".into(),
            json!(id.mobile_phone_verified),
        );
    }
    out
}

/// The claims of `hint` when it is an ID token this org signed: typed `JWT`, RS256 under one of
/// the org's keys, with the org's base URL as `iss`. Its expiry is not checked: an expired ID token
/// still names its user and client (OIDC Core §3.1.2.1, RP-Initiated Logout §2). `None` when
/// it is anything else.
pub async fn verify_hint(
    state: &AppState,
    ctx: &OrgContext,
    hint: &str,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let Ok(unverified) = jose::decode_unverified(hint) else {
        return Ok(None);
    };
    // JWT access tokens are signed by the same keys with the same `iss`; their `typ` is
    // `at+jwt` (RFC 9068 §2.1), ours for ID tokens `JWT`. An access token is no ID token
    // (RFC 8725 §3.11).
    if unverified.header.get("typ").and_then(Value::as_str) != Some("JWT") {
        return Ok(None);
    }
    let kid = unverified.header.get("kid").and_then(Value::as_str);
    let keys = keys::org_keys(state, &ctx.org.id).await?;
    let Some(key) = keys.iter().find(|k| Some(k.kid()) == kid) else {
        return Ok(None);
    };
    let key: &VerifyingKey = key.verifying_key();
    let Ok(verified) = jose::verify_rs256(hint, key) else {
        return Ok(None);
    };
    if verified.claims.get("iss").and_then(Value::as_str) != Some(ctx.base_url.as_str()) {
        return Ok(None);
    }
    Ok(Some(verified.claims))
}

/// The `aud` values of verified ID token claims.
pub fn audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The user id at the end of verified ID token claims' `sub` (`<base>/id/<org>/<user>`).
pub fn subject_user(claims: &Map<String, Value>) -> Option<&str> {
    claims.get("sub")?.as_str()?.rsplit('/').next()
}
