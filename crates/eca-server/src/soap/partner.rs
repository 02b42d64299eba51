//! `POST /services/Soap/u/{version}[/{orgId}]`: the partner API's `login` and `logout`, which
//! jsforce and simple-salesforce use to log in without an app (`spec/oauth-and-connect.md`
//! §5.7, §5.8). Responses follow the partner WSDL's `LoginResult` and `GetUserInfoResult`
//! element order, with Salesforce's namespaces and `xsi:nil` for empty values.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use eca_core::domain::{Org, Profile, User};
use serde::Deserialize;

use super::envelope::{self, Operation};
use super::xml::{self, Writer};
use crate::auth::{self, ClientIp};
use crate::error::ApiError;
use crate::login;
use crate::org::OrgContext;
use crate::rest::versions::is_soap_version;
use crate::session;
use crate::state::AppState;

/// The partner endpoint reads small envelopes only.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct PartnerPath {
    version: String,
}

/// The partner endpoint.
pub async fn handle(
    State(state): State<AppState>,
    Path(path): Path<PartnerPath>,
    org: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !is_soap_version(&path.version) {
        return Err(ApiError::NotFound(format!(
            "API version {} is not supported",
            path.version
        )));
    }
    crate::soap::check_content_type(&headers)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: BODY_LIMIT.min(state.settings().body_limit),
            }
        } else {
            ApiError::Malformed("The request body could not be read".to_owned())
        }
    })?;
    let call = envelope::parse(&body)?;
    let body = match call.operation {
        Operation::Login { username, password } => {
            let done = login::password_login(
                &state,
                &org.org,
                &username,
                password,
                client,
                login::Purpose::API,
            )
            .await?;
            login_response(&org, &path.version, &done)
        }
        Operation::Logout => {
            let id = call.session_id.ok_or(ApiError::InvalidSession)?;
            let (_, app) =
                auth::check_with_app(&state, &org, id.expose(), auth::Api::Soap, client).await?;
            // An opaque access token is a session id too (`spec/oauth-and-connect.md` §1.11):
            // logging it out revokes it.
            if app.is_some() {
                crate::oauth::revoke::revoke_access_token(&state, &org, id.expose()).await?;
            } else {
                session::end(state.store(), id.expose()).await?;
            }
            let mut w = Writer::default();
            w.empty("logoutResponse");
            w.into_envelope()
        }
        Operation::Other(name) => return Err(ApiError::UnsupportedOperation(name)),
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(xml::CONTENT_TYPE));
    Ok(response)
}

fn login_response(org: &OrgContext, version: &str, done: &login::LoggedIn) -> String {
    let base = &org.base_url;
    let org15 = org.org.id.as_15();
    let mut w = Writer::default();
    w.open("loginResponse").open("result");
    w.text(
        "metadataServerUrl",
        &format!("{base}/services/Soap/m/{version}/{org15}"),
    )
    .bool("passwordExpired", false)
    .bool("sandbox", false)
    .text(
        "serverUrl",
        &format!("{base}/services/Soap/u/{version}/{org15}"),
    )
    .text("sessionId", done.issued.id.expose())
    .text("userId", done.user.id.as_str());
    user_info(&mut w, &org.org, &done.user, &done.profile);
    w.close("result").close("loginResponse");
    w.into_envelope()
}

/// `GetUserInfoResult`, in the partner WSDL's element order.
fn user_info(w: &mut Writer, org: &Org, user: &User, profile: &Profile) {
    let f = &user.fields;
    w.open("userInfo")
        .bool("accessibilityMode", false)
        .bool("chatterExternal", false)
        .text("currencySymbol", "$")
        .text("orgAttachmentFileSizeLimit", "5242880")
        .text("orgDefaultCurrencyIsoCode", "USD")
        .text("orgDefaultCurrencyLocale", "en_US")
        .bool("orgDisallowHtmlAttachments", false)
        .bool("orgHasPersonAccounts", false)
        .text("organizationId", org.id.as_str())
        .bool("organizationMultiCurrency", false)
        .text("organizationName", &org.name)
        .text("profileId", profile.id.as_str())
        .opt("roleId", None)
        .text(
            "sessionSecondsValid",
            &(org.session_timeout_minutes * 60).to_string(),
        )
        .opt("userDefaultCurrencyIsoCode", None)
        .text("userEmail", &f.email)
        .text("userFullName", &user.name())
        .text("userId", user.id.as_str())
        .text("userLanguage", &f.language)
        .text("userLocale", &f.locale)
        .text("userName", &user.username)
        .text("userTimeZone", &f.time_zone)
        .text("userType", "Standard")
        .text("userUiSkin", "Theme3")
        .close("userInfo");
}
