//! The identity URL, `GET /id/{orgId}/{userId}` (`spec/oauth-and-connect.md` §1.3): who the
//! session's user is, with the URLs of the org's APIs. Only the session's own user is shown.
//! Ids may be given in 15- or 18-character form; the response always uses 18.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use eca_core::domain::User;
use eca_core::{OrgId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::oauth::userinfo;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct IdentityPath {
    org_id: String,
    user_id: String,
}

#[derive(Debug, Serialize)]
pub struct Photos {
    pub picture: String,
    pub thumbnail: String,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub created_date: Option<String>,
    pub body: Option<String>,
}

/// The org's API endpoints. Salesforce writes a literal `{version}` for clients to fill in.
#[derive(Debug, Serialize)]
pub struct Urls {
    pub enterprise: String,
    pub metadata: String,
    pub partner: String,
    pub rest: String,
    pub sobjects: String,
    pub search: String,
    pub query: String,
    pub recent: String,
    pub tooling_soap: String,
    pub tooling_rest: String,
    pub profile: String,
    pub feeds: String,
    pub groups: String,
    pub users: String,
    pub feed_items: String,
    pub feed_elements: String,
    pub custom_domain: String,
}

#[derive(Debug, Serialize)]
pub struct Identity {
    pub id: String,
    pub asserted_user: bool,
    pub user_id: String,
    pub organization_id: String,
    pub username: String,
    pub nick_name: String,
    pub display_name: String,
    pub email: String,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: String,
    pub timezone: String,
    pub photos: Photos,
    pub addr_street: Option<String>,
    pub addr_city: Option<String>,
    pub addr_state: Option<String>,
    pub addr_country: Option<String>,
    pub addr_zip: Option<String>,
    pub mobile_phone: Option<String>,
    pub mobile_phone_verified: bool,
    pub is_lightning_login_user: bool,
    pub status: Status,
    pub urls: Urls,
    pub active: bool,
    pub user_type: &'static str,
    pub language: String,
    pub locale: String,
    #[serde(rename = "utcOffset")]
    pub utc_offset: i64,
    pub last_modified_date: String,
    pub is_app_installed: bool,
    /// The token's app's custom attributes, for an OAuth access token of an app that has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_attributes: Option<BTreeMap<String, String>>,
}

/// `GET /id/{orgId}/{userId}`, authenticated by Bearer or `oauth_token`. For an OAuth access
/// token, `custom_attributes` carries its app's custom attributes evaluated for the user, as
/// userinfo does (`spec/metadata.md` §8).
///
/// A 401 carries the Bearer challenge of RFC 6750 §3, as userinfo's does.
pub async fn identity(
    State(state): State<AppState>,
    Path(path): Path<IdentityPath>,
    auth: Result<Authenticated, ApiError>,
    parts: Parts,
) -> Response {
    let presented = crate::auth::presented_token(&parts).is_some();
    let answer = match auth {
        Ok(auth) => identity_of(&state, &path, auth).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(identity) => userinfo::personal(identity.into_response()),
        Err(e) => userinfo::with_challenge(e.into_response(), presented),
    }
}

async fn identity_of(
    state: &AppState,
    path: &IdentityPath,
    auth: Authenticated,
) -> Result<Json<Identity>, ApiError> {
    let not_found = || ApiError::NotFound("The requested resource does not exist".to_owned());
    let org_id = OrgId::parse(&path.org_id).map_err(|_| not_found())?;
    let user_id = UserId::parse(&path.user_id).map_err(|_| not_found())?;
    let user = &auth.active.user;
    if org_id != auth.org.org.id || user_id != user.id {
        return Err(ApiError::Forbidden(
            "The identity URL can only be read for the session's own user".to_owned(),
        ));
    }
    let mut identity = build(&auth.org.base_url, user);
    if let Some(app) = &auth.app {
        identity.custom_attributes =
            userinfo::custom_attributes(state, &auth.org, app, user).await?;
    }
    Ok(Json(identity))
}

pub(crate) fn build(base: &str, user: &User) -> Identity {
    let org15 = user.org_id.as_15();
    let f = &user.fields;
    let rest = format!("{base}/services/data/v{{version}}");
    Identity {
        id: format!("{base}/id/{}/{}", user.org_id, user.id),
        asserted_user: true,
        user_id: user.id.to_string(),
        organization_id: user.org_id.to_string(),
        username: user.username.clone(),
        nick_name: f.alias.clone().unwrap_or_else(|| {
            user.username
                .split('@')
                .next()
                .unwrap_or(&user.username)
                .to_owned()
        }),
        display_name: user.name(),
        email: f.email.clone(),
        // OpenID Connect Core §5.1: `true` only when the provider took steps to make sure the
        // address is the user's. Nothing here verifies addresses: admins set them, and users
        // may change their own.
        email_verified: false,
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        timezone: f.time_zone.clone(),
        photos: Photos {
            picture: format!("{base}/profilephoto/005/F"),
            thumbnail: format!("{base}/profilephoto/005/T"),
        },
        addr_street: f.street.clone(),
        addr_city: f.city.clone(),
        addr_state: f.state.clone(),
        addr_country: f.country.clone(),
        addr_zip: f.postal_code.clone(),
        mobile_phone: f.mobile_phone.clone(),
        mobile_phone_verified: false,
        is_lightning_login_user: false,
        status: Status {
            created_date: None,
            body: None,
        },
        urls: Urls {
            enterprise: format!("{base}/services/Soap/c/{{version}}/{org15}"),
            metadata: format!("{base}/services/Soap/m/{{version}}/{org15}"),
            partner: format!("{base}/services/Soap/u/{{version}}/{org15}"),
            rest: format!("{rest}/"),
            sobjects: format!("{rest}/sobjects/"),
            search: format!("{rest}/search/"),
            query: format!("{rest}/query/"),
            recent: format!("{rest}/recent/"),
            tooling_soap: format!("{base}/services/Soap/T/{{version}}/{org15}"),
            tooling_rest: format!("{rest}/tooling/"),
            profile: format!("{base}/{}", user.id),
            feeds: format!("{rest}/chatter/feeds"),
            groups: format!("{rest}/chatter/groups"),
            users: format!("{rest}/chatter/users"),
            feed_items: format!("{rest}/chatter/feed-items"),
            feed_elements: format!("{rest}/chatter/feed-elements"),
            custom_domain: base.to_owned(),
        },
        active: user.is_active,
        user_type: "STANDARD",
        language: f.language.clone(),
        locale: f.locale.clone(),
        utc_offset: utc_offset_ms(&f.time_zone),
        last_modified_date: rest_datetime(user.updated_at),
        is_app_installed: true,
        custom_attributes: None,
    }
}

/// Salesforce REST dateTime: `2026-11-26T17:02:03.000+0000`.
pub fn rest_datetime(t: Timestamp) -> String {
    let iso = t.to_iso8601();
    match iso.strip_suffix('Z') {
        Some(s) => format!("{s}+0000"),
        None => iso,
    }
}

/// The standard-time offset of common Salesforce time zone keys, in milliseconds. There is
/// no time zone database here, so daylight saving time is not applied and unknown zones
/// count as UTC.
pub fn utc_offset_ms(zone: &str) -> i64 {
    const HOUR: i64 = 3_600_000;
    let hours_x2: i64 = match zone {
        "Pacific/Honolulu" => -20,
        "America/Anchorage" => -18,
        "America/Los_Angeles" | "America/Tijuana" => -16,
        "America/Denver" | "America/Phoenix" => -14,
        "America/Chicago" | "America/Mexico_City" => -12,
        "America/New_York" | "America/Toronto" | "America/Bogota" => -10,
        "America/Halifax" => -8,
        "America/Sao_Paulo" | "America/Argentina/Buenos_Aires" => -6,
        "Europe/London" | "Europe/Lisbon" | "Europe/Dublin" => 0,
        "Europe/Paris" | "Europe/Berlin" | "Europe/Madrid" | "Europe/Rome" | "Europe/Amsterdam"
        | "Europe/Brussels" | "Europe/Stockholm" | "Europe/Zurich" => 2,
        "Europe/Athens" | "Europe/Helsinki" | "Africa/Cairo" | "Africa/Johannesburg" => 4,
        "Europe/Moscow" | "Europe/Istanbul" => 6,
        "Asia/Dubai" => 8,
        "Asia/Kolkata" => 11,
        "Asia/Shanghai" | "Asia/Singapore" | "Asia/Hong_Kong" | "Australia/Perth" => 16,
        "Asia/Tokyo" | "Asia/Seoul" => 18,
        "Australia/Sydney" | "Australia/Melbourne" => 20,
        "Pacific/Auckland" => 24,
        _ => 0,
    };
    hours_x2 * HOUR / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_dates() {
        assert_eq!(utc_offset_ms("America/Los_Angeles"), -28_800_000);
        assert_eq!(utc_offset_ms("Asia/Kolkata"), 19_800_000);
        assert_eq!(utc_offset_ms("Mars/Olympus"), 0);
        assert_eq!(rest_datetime(Timestamp(0)), "1970-01-01T00:00:00.000+0000");
    }
}
