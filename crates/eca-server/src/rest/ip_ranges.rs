//! `LoginIpRange` records: the login IP ranges of a profile (Salesforce's object of that
//! name: `ProfileId`, `StartAddress`, `EndAddress`, `Description`). A user of a profile with
//! ranges may log in, and get OAuth tokens as their apps' IP relaxation allows, only from an
//! address in one of them (`docs/users-and-orgs.md`, `docs/oauth.md` "IP restrictions").
//!
//! - Writing needs **Manage Users**. `ProfileId` is set on create only.
//! - Both addresses are IPv4 or both IPv6, the start not after the end; the range is stored
//!   in canonical form (`::FFFF:10.0.0.1` reads back as `10.0.0.1`).
//! - Reading every range needs what reading other users needs; anyone may read the ranges of
//!   their own profile.
//! - A change is seen at once on this node and within two seconds on others
//!   (`crate::directory`).

use eca_core::domain::LoginIpRange;
use eca_core::net::{AddressRange, RangeError, parse_address};
use eca_core::{LoginIpRangeId, ProfileId};
use serde_json::Value as JsonValue;

use super::schema::{Field, SObject};
use super::sobjects::{
    Caller, cross_reference, missing_fields, not_found, read_only_field, string_value,
    unknown_field,
};
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

/// The longest `Description` (Salesforce's field length).
const DESCRIPTION_MAX: usize = 255;

/// The fields a create or update body may set.
#[derive(Debug, Default)]
struct Changes {
    profile: Option<String>,
    start: Option<String>,
    end: Option<String>,
    /// `Some(None)` clears the description.
    description: Option<Option<String>>,
}

fn read_body(body: &[(String, JsonValue)], creating: bool) -> Result<Changes, ApiError> {
    let mut changes = Changes::default();
    for (key, value) in body {
        if key == "attributes" {
            continue;
        }
        let field = SObject::LoginIpRange
            .field(key)
            .ok_or_else(|| unknown_field(key, SObject::LoginIpRange))?;
        match field {
            Field::ProfileId if creating => changes.profile = string_value("ProfileId", value)?,
            Field::StartAddress => changes.start = string_value("StartAddress", value)?,
            Field::EndAddress => changes.end = string_value("EndAddress", value)?,
            Field::Description => {
                let text = string_value("Description", value)?
                    .map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty());
                if text
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > DESCRIPTION_MAX)
                {
                    return Err(ApiError::record(
                        RequestCode::StringTooLong,
                        format!("Description: data value too large (max length={DESCRIPTION_MAX})"),
                        &["Description"],
                    ));
                }
                changes.description = Some(text);
            }
            other => return Err(read_only_field(other)),
        }
    }
    Ok(changes)
}

/// One address field, or `FIELD_INTEGRITY_EXCEPTION` naming it.
fn address(field: &'static str, text: &str) -> Result<std::net::IpAddr, ApiError> {
    parse_address(text).map_err(|e| {
        ApiError::record(
            RequestCode::FieldIntegrityException,
            format!("{field}: {e}"),
            &[field],
        )
    })
}

/// The range from both ends, or `FIELD_INTEGRITY_EXCEPTION` naming both fields.
fn range(start: &str, end: &str) -> Result<AddressRange, ApiError> {
    let (start, end) = (address("StartAddress", start)?, address("EndAddress", end)?);
    AddressRange::new(start, end).map_err(|e: RangeError| {
        ApiError::record(
            RequestCode::FieldIntegrityException,
            format!("{e}: both addresses must be IPv4 or both IPv6, the start not after the end"),
            &["StartAddress", "EndAddress"],
        )
    })
}

/// `POST .../sobjects/LoginIpRange`: the new range's id.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    body: Vec<(String, JsonValue)>,
) -> Result<String, ApiError> {
    caller.require_manage_users()?;
    let changes = read_body(&body, true)?;
    let missing: Vec<&str> = [
        ("ProfileId", &changes.profile),
        ("StartAddress", &changes.start),
        ("EndAddress", &changes.end),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(missing_fields(&missing));
    }
    let (Some(profile), Some(start), Some(end)) = (changes.profile, changes.start, changes.end)
    else {
        return Err(missing_fields(&["ProfileId", "StartAddress", "EndAddress"]));
    };
    let org = caller.org();
    let profile = ProfileId::parse(profile.trim()).map_err(|_| cross_reference("ProfileId"))?;
    let profile = state
        .store()
        .profile(&profile)
        .await?
        .filter(|p| p.org_id == org.id)
        .ok_or_else(|| cross_reference("ProfileId"))?;
    let now = state.clock().now();
    let record = LoginIpRange {
        id: LoginIpRangeId::generate(state.rng()),
        org_id: org.id.clone(),
        profile_id: profile.id,
        range: range(&start, &end)?,
        description: changes.description.flatten(),
        created_at: now,
        last_modified_at: now,
    };
    state.store().create_login_ip_range(&record).await?;
    state.directory().forget_people();
    tracing::info!(range = %record.id, profile = %record.profile_id, addresses = %record.range, "created login IP range");
    Ok(record.id.to_string())
}

/// A range of the caller's org by id (15 or 18 characters) that the caller may read.
pub async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<LoginIpRange, ApiError> {
    let id = LoginIpRangeId::parse(id).map_err(|_| not_found())?;
    state
        .store()
        .login_ip_range(&id)
        .await?
        .filter(|r| r.org_id == caller.org().id)
        .filter(|r| caller.can_read_users() || r.profile_id == caller.user().profile_id)
        .ok_or_else(not_found)
}

/// `PATCH .../sobjects/LoginIpRange/{id}`: new addresses or description.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: Vec<(String, JsonValue)>,
) -> Result<(), ApiError> {
    caller.require_manage_users()?;
    let mut record = find(state, caller, id).await?;
    let changes = read_body(&body, false)?;
    if changes.start.is_some() || changes.end.is_some() {
        let start = changes
            .start
            .unwrap_or_else(|| record.range.start().to_string());
        let end = changes
            .end
            .unwrap_or_else(|| record.range.end().to_string());
        record.range = range(&start, &end)?;
    }
    if let Some(description) = changes.description {
        record.description = description;
    }
    record.last_modified_at = state.clock().now();
    state.store().update_login_ip_range(&record).await?;
    state.directory().forget_people();
    tracing::info!(range = %record.id, addresses = %record.range, "updated login IP range");
    Ok(())
}

/// `DELETE .../sobjects/LoginIpRange/{id}`.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    caller.require_manage_users()?;
    let record = find(state, caller, id).await?;
    if !state.store().delete_login_ip_range(&record.id).await? {
        return Err(not_found());
    }
    state.directory().forget_people();
    tracing::info!(range = %record.id, "deleted login IP range");
    Ok(())
}
