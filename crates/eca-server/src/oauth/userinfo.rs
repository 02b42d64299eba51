//! `GET /services/oauth2/userinfo` (OpenID Connect Core §5.3, `spec/oauth-and-connect.md`
//! §1.4): the token's user as OIDC claims plus Salesforce's own (`user_id`,
//! `organization_id`, `urls`...), built from the same data as the identity URL. For an OAuth
//! access token, `custom_attributes` carries the app's custom attributes evaluated for the
//! user; a plain session (SOAP login) gets the claims without them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eca_core::domain::User;
use serde::Serialize;

use super::attributes::{self, Subject};
use super::bearer;
use super::registry::ClientApp;
use crate::auth::{self, ClientIp};
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::rest::identity::{self, Photos, Urls};
use crate::state::AppState;

/// The custom attributes of a token's `app` evaluated for its `user`, for userinfo and the
/// identity URL; `None` when the app has none.
pub(crate) async fn custom_attributes(
    state: &AppState,
    org: &OrgContext,
    app: &ClientApp,
    user: &User,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let attributes = app.custom_attributes();
    if attributes.is_empty() {
        return Ok(None);
    }
    let profile = state.store().profile(&user.profile_id).await?;
    Ok(Some(attributes::evaluate(
        &attributes,
        &Subject {
            user,
            org: &org.org,
            profile_name: profile.as_ref().map(|p| p.name.as_str()),
        },
    )))
}

#[derive(Debug, Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UserInfo {
    /// The identity URL.
    pub sub: String,
    pub user_id: String,
    pub organization_id: String,
    pub preferred_username: String,
    pub nickname: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: String,
    pub zoneinfo: String,
    pub photos: Photos,
    pub profile: String,
    pub picture: String,
    pub address: Address,
    /// Listed in discovery's `claims_supported` (spec §1.1); the user's mobile phone.
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub urls: Urls,
    pub active: bool,
    pub user_type: &'static str,
    pub language: String,
    pub locale: String,
    #[serde(rename = "utcOffset")]
    pub utc_offset: i64,
    pub updated_at: String,
    pub is_app_installed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_attributes: Option<BTreeMap<String, String>>,
}

/// `GET`/`POST /services/oauth2/userinfo`. A refusal is Salesforce's 401 body with the Bearer
/// challenge of RFC 6750 §3 (OpenID Connect Core §5.3.3): `error="invalid_token"` when a token
/// was presented, no error code when none was (§3.1).
pub async fn userinfo(
    State(state): State<AppState>,
    org: OrgContext,
    ClientIp(client): ClientIp,
    parts: Parts,
) -> Response {
    let presented = auth::presented_token(&parts).is_some();
    match answer(&state, &org, client, &parts).await {
        Ok(info) => personal(Json(info).into_response()),
        Err(e) => with_challenge(e.into_response(), presented),
    }
}

/// `response`, which holds a user's personal data, marked never to be stored by a cache
/// (RFC 9111 §5.2.2.5): userinfo and the identity URL answer so.
pub(crate) fn personal(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `response` with the Bearer challenge of RFC 6750 §3 when it is a 401:
/// `error="invalid_token"` when a token was presented, no error code when none was (§3.1).
/// Userinfo and the identity URL, the protected resources of the OAuth surface, answer so.
pub(crate) fn with_challenge(mut response: Response, presented: bool) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        let challenge = if presented {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        };
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    response
}

async fn answer(
    state: &AppState,
    org: &OrgContext,
    client: std::net::IpAddr,
    parts: &Parts,
) -> Result<UserInfo, ApiError> {
    let token = auth::presented_token(parts).ok_or(ApiError::InvalidSession)?;
    let now = state.clock().now();
    let (user, custom_attributes) = match bearer::authenticate(state, &org.org, &token, now).await?
    {
        Some(used) => {
            auth::check_address(state, &org.org, &used.user, Some(&used.app), client).await?;
            let custom = custom_attributes(state, org, &used.app, &used.user).await?;
            (used.user, custom)
        }
        None => (
            auth::check_for(state, org, &token, auth::Api::Identity, client)
                .await?
                .user,
            None,
        ),
    };
    let id = identity::build(&org.base_url, &user);
    Ok(UserInfo {
        sub: id.id,
        user_id: id.user_id,
        organization_id: id.organization_id,
        preferred_username: id.username,
        nickname: id.nick_name,
        name: id.display_name,
        email: id.email,
        email_verified: id.email_verified,
        given_name: id.first_name,
        family_name: id.last_name,
        zoneinfo: id.timezone,
        profile: format!("{}/{}", org.base_url, user.id),
        picture: id.photos.picture.clone(),
        photos: id.photos,
        address: Address {
            street_address: id.addr_street,
            locality: id.addr_city,
            region: id.addr_state,
            country: id.addr_country,
            postal_code: id.addr_zip,
        },
        phone_number: id.mobile_phone,
        phone_number_verified: id.mobile_phone_verified,
        urls: id.urls,
        active: id.active,
        user_type: id.user_type,
        language: id.language,
        locale: id.locale,
        utc_offset: id.utc_offset,
        updated_at: id.last_modified_date,
        is_app_installed: id.is_app_installed,
        custom_attributes,
    })
}
