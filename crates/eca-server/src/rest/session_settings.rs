//! OpenECA's session settings of an org, `GET` and `PATCH
//! /services/data/vXX.X/eca/session-settings`. On Salesforce they are Setup's Session Settings
//! (the `sessionSettings` of the `SecuritySettings` metadata type); OpenECA deploys no
//! Settings metadata, so they have this extension path, answered at each org's own address.
//!
//! - `sessionTimeoutMinutes`: how long an idle web or SOAP session, and an opaque access
//!   token of an app without its own session policy, stays valid. One of Salesforce's values:
//!   15, 30, 60, 120, 240, 480, 720 or 1440 minutes.
//! - `enforceIpRangesEveryRequest`: "Enforce login IP ranges on every request" (continuous IP
//!   enforcement, `auth::check_address`).
//!
//! Any user of the org may read them; changing them needs Manage Users. Turning enforcement on
//! from an address outside the caller's own login IP ranges is refused: the caller would lose
//! access with the answer.

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use eca_core::domain::Org;
use eca_store::OrgSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value as JsonValue;

use super::sobjects::{Caller, bool_value, json_object};
use super::versions::path_version;
use crate::auth::{Authenticated, ClientIp};
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct SettingsPath {
    version: String,
}

/// The settings as read and as answered after a change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSettings {
    pub session_timeout_minutes: i64,
    pub enforce_ip_ranges_every_request: bool,
}

impl SessionSettings {
    fn of(org: &Org) -> Self {
        SessionSettings {
            session_timeout_minutes: org.session_timeout_minutes,
            enforce_ip_ranges_every_request: org.enforce_ip_ranges_every_request,
        }
    }
}

/// `GET /services/data/vXX.X/eca/session-settings`.
pub async fn read(
    Path(path): Path<SettingsPath>,
    auth: Authenticated,
) -> Result<Json<SessionSettings>, ApiError> {
    path_version(&path.version)?;
    Ok(Json(SessionSettings::of(&auth.org.org)))
}

/// `PATCH /services/data/vXX.X/eca/session-settings` with any of the two fields. Only the
/// fields named are written (the store keeps the others as stored, not as this node's cached
/// org has them); the answer is the org as stored after the change.
pub async fn update(
    State(state): State<AppState>,
    Path(path): Path<SettingsPath>,
    ClientIp(client): ClientIp,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SessionSettings>, ApiError> {
    path_version(&path.version)?;
    let caller = Caller::load(&state, auth).await?;
    caller.require_manage_users()?;
    let mut change = OrgSettings::default();
    for (key, value) in json_object(&state, body)? {
        match key.as_str() {
            "sessionTimeoutMinutes" => change.session_timeout_minutes = Some(timeout(&value)?),
            "enforceIpRangesEveryRequest" => {
                change.enforce_ip_ranges_every_request = Some(bool_value(&key, &value)?);
            }
            _ => {
                return Err(ApiError::request(
                    RequestCode::InvalidField,
                    format!(
                        "No such field '{key}': the session settings are sessionTimeoutMinutes and enforceIpRangesEveryRequest"
                    ),
                ));
            }
        }
    }
    if change.enforce_ip_ranges_every_request == Some(true) {
        check_caller_keeps_access(&state, &caller, client).await?;
    }
    let org = state
        .store()
        .update_org_settings(&caller.org().id, change)
        .await?;
    state.directory().forget_orgs();
    tracing::info!(
        org = %org.id,
        by = %caller.user().id,
        timeout = org.session_timeout_minutes,
        enforce_ip = org.enforce_ip_ranges_every_request,
        "session settings changed"
    );
    Ok(Json(SessionSettings::of(&org)))
}

fn timeout(value: &JsonValue) -> Result<i64, ApiError> {
    let minutes = value
        .as_i64()
        .ok_or_else(|| format!("{value} is not a session timeout: give a number of minutes"));
    minutes.and_then(Org::check_session_timeout).map_err(|why| {
        ApiError::record(
            RequestCode::FieldIntegrityException,
            format!("sessionTimeoutMinutes: {why}"),
            &["sessionTimeoutMinutes"],
        )
    })
}

/// Refuses to enforce the ranges on every request when the caller's own address is outside
/// their ranges: the change would lock them out of the org with its own answer.
async fn check_caller_keeps_access(
    state: &AppState,
    caller: &Caller,
    client: IpAddr,
) -> Result<(), ApiError> {
    let access = crate::directory::access(state, caller.user()).await?;
    if access.allows_address(client) {
        return Ok(());
    }
    Err(ApiError::record(
        RequestCode::FieldIntegrityException,
        format!(
            "enforceIpRangesEveryRequest: your address {client} is outside your profile's login IP ranges, so enforcing them on every request would end your own access; add a range that holds it first"
        ),
        &["enforceIpRangesEveryRequest"],
    ))
}
