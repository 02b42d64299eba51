//! The sObject resources, `/services/data/vXX.X/sobjects/{Object}[/{id}]`: create, read,
//! update and delete records of the objects in [`schema`](super::schema), with Salesforce's
//! request and answer shapes (REST API Developer Guide, "Working with Records"). User records
//! are in [`users`](super::users), login IP ranges in [`ip_ranges`](super::ip_ranges);
//! permission sets and their assignments are here.
//!
//! Who may do what (see `docs/users-and-orgs.md`):
//! - writing users, permission sets and assignments needs **Manage Users** in the org;
//! - reading your own user is always allowed; reading other users, and assignments, needs
//!   Manage Users, External Client App Admin or External Client App Viewer;
//! - profiles, permission sets and the organization are readable by every user of the org.
//!
//! Records of another org are never found: every lookup checks the record's org.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use eca_core::domain::{Org, Permission, PermissionSet, Permissions, User};
use eca_core::{PermissionSetId, ProfileId, UserId};
use eca_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as JsonValue};

use super::schema::{Assignment, Field, Record, Row, SObject};
use super::versions::path_version;
use super::{ip_ranges, users};
use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode, RestError};
use crate::state::AppState;

/// The largest JSON body the sObject resources read.
pub const BODY_LIMIT: usize = 256 * 1024;

/// The longest permission set name and label (Salesforce's limit).
const NAME_MAX: usize = 80;

/// The session's user and what their profile and permission sets allow.
#[derive(Debug)]
pub struct Caller {
    pub auth: Authenticated,
    pub permissions: Permissions,
}

impl Caller {
    pub async fn load(state: &AppState, auth: Authenticated) -> Result<Caller, ApiError> {
        let permissions = crate::access::permissions_of(state.store(), &auth.active.user).await?;
        Ok(Caller { auth, permissions })
    }

    pub fn user(&self) -> &User {
        &self.auth.active.user
    }

    pub fn org(&self) -> &Org {
        &self.auth.org.org
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Manage Users, or 403 `INSUFFICIENT_ACCESS`.
    pub fn require_manage_users(&self) -> Result<(), ApiError> {
        if self.has(Permission::ManageUsers) {
            Ok(())
        } else {
            Err(insufficient_access("Manage Users"))
        }
    }

    /// Whether the caller may read other users of the org and their assignments.
    pub fn can_read_users(&self) -> bool {
        [
            Permission::ManageUsers,
            Permission::ExternalClientAppAdmin,
            Permission::ExternalClientAppViewer,
        ]
        .into_iter()
        .any(|p| self.has(p))
    }
}

/// Salesforce's text for a refused operation, naming the permission it needs.
pub fn insufficient_access(needs: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "Insufficient Privileges: You do not have the level of access necessary to perform the operation you requested (it needs the {needs} permission)."
    ))
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("The requested resource does not exist".to_owned())
}

/// The answer to a create: `201 {"id","success":true,"errors":[]}`.
#[derive(Debug, Serialize)]
pub struct SaveResult {
    pub id: String,
    pub success: bool,
    pub errors: Vec<RestError>,
}

impl SaveResult {
    pub fn created(id: &str) -> (StatusCode, Json<SaveResult>) {
        (
            StatusCode::CREATED,
            Json(SaveResult {
                id: id.to_owned(),
                success: true,
                errors: Vec::new(),
            }),
        )
    }
}

#[derive(Debug, Deserialize)]
pub struct ObjectPath {
    version: String,
    object: String,
}

#[derive(Debug, Deserialize)]
pub struct RecordPath {
    version: String,
    object: String,
    id: String,
}

/// The object of a path; `SandboxProcess` is tooling-only, so not found here either.
fn object_of(version: &str, object: &str) -> Result<SObject, ApiError> {
    path_version(version)?;
    match SObject::parse(object) {
        Some(SObject::SandboxProcess) | None => Err(not_found()),
        Some(o) => Ok(o),
    }
}

fn cannot(operation: &str, object: SObject) -> ApiError {
    ApiError::request(
        RequestCode::InvalidTypeForOperation,
        format!("entity type cannot be {operation}: {}", object.api_name()),
    )
}

/// Nobody removes their own Manage Users: the only admin of an org would leave it with nobody
/// who can manage users.
fn keeps_own_manage_users() -> ApiError {
    ApiError::request(
        RequestCode::FieldIntegrityException,
        "You cannot remove your own Manage Users permission: ask another user with Manage Users",
    )
}

/// Reads a request body as a JSON object, refusing keys that differ only in case.
pub fn json_object(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Vec<(String, JsonValue)>, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: BODY_LIMIT.min(state.settings().body_limit),
            }
        } else {
            ApiError::Malformed("The request body could not be read".to_owned())
        }
    })?;
    let map: Map<String, JsonValue> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::request(
            RequestCode::JsonParserError,
            format!(
                "The request body is not a JSON object (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let entries: Vec<(String, JsonValue)> = map.into_iter().collect();
    for (i, (key, _)) in entries.iter().enumerate() {
        if entries[..i]
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            return Err(ApiError::request(
                RequestCode::JsonParserError,
                format!("The field {key} is given twice"),
            ));
        }
    }
    // No stored text may hold a NUL (PostgreSQL's text cannot): refused here for every field,
    // so both backends answer the same 400.
    if let Some((key, _)) = entries.iter().find(|(key, value)| {
        key.contains('\0') || matches!(value, JsonValue::String(s) if s.contains('\0'))
    }) {
        return Err(ApiError::record(
            RequestCode::FieldIntegrityException,
            "A field value may not contain the NUL character (\\u0000)",
            &[key.as_str()],
        ));
    }
    Ok(entries)
}

/// The string value of a body field, or `JSON_PARSER_ERROR`.
pub fn string_value(field: &str, value: &JsonValue) -> Result<Option<String>, ApiError> {
    match value {
        JsonValue::String(s) => Ok(Some(s.clone())),
        JsonValue::Null => Ok(None),
        _ => Err(ApiError::request(
            RequestCode::JsonParserError,
            format!("The value of {field} must be a string or null"),
        )),
    }
}

/// The boolean value of a body field, or `JSON_PARSER_ERROR`.
pub fn bool_value(field: &str, value: &JsonValue) -> Result<bool, ApiError> {
    value.as_bool().ok_or_else(|| {
        ApiError::request(
            RequestCode::JsonParserError,
            format!("The value of {field} must be true or false"),
        )
    })
}

pub fn unknown_field(key: &str, object: SObject) -> ApiError {
    ApiError::request(
        RequestCode::InvalidField,
        format!(
            "No such column '{key}' on sobject of type {}",
            object.api_name()
        ),
    )
}

pub fn read_only_field(field: Field) -> ApiError {
    let name = field.api_name();
    ApiError::record(
        RequestCode::InvalidFieldForInsertUpdate,
        format!(
            "Unable to create/update fields: {name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
        ),
        &[name],
    )
}

pub fn missing_fields(fields: &[&str]) -> ApiError {
    ApiError::record(
        RequestCode::RequiredFieldMissing,
        format!("Required fields are missing: [{}]", fields.join(", ")),
        fields,
    )
}

pub fn cross_reference(field: &str) -> ApiError {
    ApiError::record(
        RequestCode::InvalidCrossReferenceKey,
        format!("invalid cross reference id: no such record in this org for {field}"),
        &[field],
    )
}

/// `POST /services/data/vXX.X/sobjects/{Object}`.
pub async fn create(
    State(state): State<AppState>,
    Path(path): Path<ObjectPath>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SaveResult>), ApiError> {
    let object = object_of(&path.version, &path.object)?;
    let caller = Caller::load(&state, auth).await?;
    let body = json_object(&state, body)?;
    let id = match object {
        SObject::User => users::create(&state, &caller, body).await?,
        SObject::PermissionSet => create_permission_set(&state, &caller, body).await?,
        SObject::PermissionSetAssignment => create_assignment(&state, &caller, body).await?,
        SObject::LoginIpRange => ip_ranges::create(&state, &caller, body).await?,
        other => return Err(cannot("inserted", other)),
    };
    Ok(SaveResult::created(&id))
}

/// `GET /services/data/vXX.X/sobjects/{Object}/{id}`: every field of the record.
pub async fn read(
    State(state): State<AppState>,
    Path(path): Path<RecordPath>,
    auth: Authenticated,
) -> Result<Json<Record>, ApiError> {
    let object = object_of(&path.version, &path.object)?;
    let sobjects = format!("/services/data/v{}/sobjects", path_version(&path.version)?);
    let caller = Caller::load(&state, auth).await?;
    let store = state.store();
    let org = caller.org();
    let fields = object.fields();
    let record = match object {
        SObject::User => {
            let user = users::find(&state, org, &path.id).await?;
            if user.id != caller.user().id && !caller.can_read_users() {
                return Err(insufficient_access(
                    "Manage Users, External Client App Admin or External Client App Viewer",
                ));
            }
            Record::of(&Row::User(&user), &fields, &sobjects)
        }
        SObject::Profile => {
            let id = ProfileId::parse(&path.id).map_err(|_| not_found())?;
            let profile = store
                .profile(&id)
                .await?
                .filter(|p| p.org_id == org.id)
                .ok_or_else(not_found)?;
            Record::of(&Row::Profile(&profile), &fields, &sobjects)
        }
        SObject::PermissionSet => {
            let set = find_permission_set(&state, org, &path.id).await?;
            Record::of(&Row::PermissionSet(&set), &fields, &sobjects)
        }
        SObject::PermissionSetAssignment => {
            let assignment = find_assignment(&state, org, &path.id).await?;
            if assignment.assignee != caller.user().id && !caller.can_read_users() {
                return Err(insufficient_access(
                    "Manage Users, External Client App Admin or External Client App Viewer",
                ));
            }
            Record::of(&Row::Assignment(&assignment), &fields, &sobjects)
        }
        SObject::LoginIpRange => {
            let range = ip_ranges::find(&state, &caller, &path.id).await?;
            Record::of(&Row::LoginIpRange(&range), &fields, &sobjects)
        }
        SObject::Organization => {
            let id = eca_core::OrgId::parse(&path.id).map_err(|_| not_found())?;
            if id != org.id {
                return Err(not_found());
            }
            Record::of(&Row::Organization(org), &fields, &sobjects)
        }
        SObject::SandboxProcess => return Err(not_found()),
    };
    Ok(Json(record))
}

/// `PATCH /services/data/vXX.X/sobjects/{Object}/{id}`: `204` when done.
pub async fn update(
    State(state): State<AppState>,
    Path(path): Path<RecordPath>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let object = object_of(&path.version, &path.object)?;
    let caller = Caller::load(&state, auth).await?;
    match object {
        SObject::User => {
            let body = json_object(&state, body)?;
            users::update(&state, &caller, &path.id, body).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        SObject::LoginIpRange => {
            let body = json_object(&state, body)?;
            ip_ranges::update(&state, &caller, &path.id, body).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        other => Err(cannot("updated", other)),
    }
}

/// `DELETE /services/data/vXX.X/sobjects/{Object}/{id}`: only assignments and login IP
/// ranges can be deleted (users are deactivated, as on Salesforce).
pub async fn delete(
    State(state): State<AppState>,
    Path(path): Path<RecordPath>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let object = object_of(&path.version, &path.object)?;
    let caller = Caller::load(&state, auth).await?;
    match object {
        SObject::PermissionSetAssignment => {
            caller.require_manage_users()?;
            let assignment = find_assignment(&state, caller.org(), &path.id).await?;
            if assignment.assignee == caller.user().id {
                // Nobody removes their own Manage Users (the only admin of an org would leave
                // it with nobody who can manage users).
                let mut access = crate::access::access_of(state.store(), caller.user()).await?;
                access.permission_sets.retain(|s| s.id != assignment.set);
                if !access.permissions().contains(Permission::ManageUsers) {
                    return Err(keeps_own_manage_users());
                }
            }
            let store = state.store();
            store
                .unassign_permission_set(&assignment.assignee, &assignment.set)
                .await?;
            // Checked again once done: two removals at once (of two sets that each grant it)
            // each saw the other set still there. The one that finds Manage Users gone puts
            // its assignment back.
            if assignment.assignee == caller.user().id
                && !crate::access::has_permission(store, caller.user(), Permission::ManageUsers)
                    .await?
            {
                store
                    .assign_permission_set(
                        &assignment.assignee,
                        &assignment.set,
                        state.clock().now(),
                    )
                    .await?;
                state.directory().forget_people();
                return Err(keeps_own_manage_users());
            }
            state.directory().forget_people();
            Ok(StatusCode::NO_CONTENT)
        }
        SObject::LoginIpRange => {
            ip_ranges::delete(&state, &caller, &path.id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        other => Err(cannot("deleted", other)),
    }
}

/// `POST /services/data/vXX.X/sobjects/User/{id}/password`.
pub async fn set_password(
    State(state): State<AppState>,
    Path(path): Path<RecordPath>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    if object_of(&path.version, &path.object)? != SObject::User {
        return Err(not_found());
    }
    let caller = Caller::load(&state, auth).await?;
    let body = json_object(&state, body)?;
    users::set_password(&state, &caller, &path.id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A permission set of `org` by id (15 or 18 characters).
pub async fn find_permission_set(
    state: &AppState,
    org: &Org,
    id: &str,
) -> Result<PermissionSet, ApiError> {
    let id = PermissionSetId::parse(id).map_err(|_| not_found())?;
    state
        .store()
        .permission_set(&id)
        .await?
        .filter(|s| s.org_id == org.id)
        .ok_or_else(not_found)
}

/// Every permission set assignment of `org`. One store call per user: orgs here are small.
pub async fn assignments(state: &AppState, org: &Org) -> Result<Vec<Assignment>, ApiError> {
    let mut all = Vec::new();
    for user in state.store().users(&org.id).await? {
        for set in state.store().permission_sets_of(&user.id).await? {
            all.push(Assignment::new(user.id.clone(), set.id));
        }
    }
    Ok(all)
}

async fn find_assignment(state: &AppState, org: &Org, id: &str) -> Result<Assignment, ApiError> {
    let id = eca_core::ids::to_18(id).map_err(|_| not_found())?;
    assignments(state, org)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(not_found)
}

/// A Salesforce API name: letters, digits and single underscores, starting with a letter and
/// not ending with an underscore.
fn is_api_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('_')
        && !name.contains("__")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn create_permission_set(
    state: &AppState,
    caller: &Caller,
    body: Vec<(String, JsonValue)>,
) -> Result<String, ApiError> {
    caller.require_manage_users()?;
    let (mut name, mut label, mut granted) = (None, None, Vec::new());
    for (key, value) in &body {
        if key == "attributes" {
            continue;
        }
        let field = SObject::PermissionSet
            .field(key)
            .ok_or_else(|| unknown_field(key, SObject::PermissionSet))?;
        match field {
            Field::Name => name = string_value("Name", value)?,
            Field::Label => label = string_value("Label", value)?,
            Field::Permission(p) => {
                if bool_value(field.api_name(), value)? {
                    granted.push(p);
                }
            }
            other => return Err(read_only_field(other)),
        }
    }
    let name = name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing_fields(&["Name"]))?;
    if !is_api_name(&name) || name.len() > NAME_MAX {
        return Err(ApiError::record(
            RequestCode::FieldIntegrityException,
            format!(
                "The API name `{name}` can only contain underscores and alphanumeric characters, must begin with a letter, not end with an underscore, not contain two consecutive underscores, and be at most {NAME_MAX} characters"
            ),
            &["Name"],
        ));
    }
    let label = label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| name.clone());
    if label.chars().count() > NAME_MAX {
        return Err(ApiError::record(
            RequestCode::StringTooLong,
            format!("Label: data value too large (max length={NAME_MAX})"),
            &["Label"],
        ));
    }
    let set = PermissionSet {
        id: PermissionSetId::generate(state.rng()),
        org_id: caller.org().id.clone(),
        name,
        label,
        permissions: Permissions::new(granted),
    };
    match state.store().create_permission_set(&set).await {
        Ok(()) => {
            tracing::info!(set = %set.id, org = %set.org_id, "created permission set");
            Ok(set.id.to_string())
        }
        Err(StoreError::Conflict { .. }) => {
            let existing = state
                .store()
                .permission_set_by_name(&set.org_id, &set.name)
                .await?
                .map_or_else(String::new, |s| s.id.to_string());
            Err(ApiError::record(
                RequestCode::DuplicateValue,
                format!(
                    "duplicate value found: Name duplicates value on record with id: {existing}"
                ),
                &["Name"],
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_assignment(
    state: &AppState,
    caller: &Caller,
    body: Vec<(String, JsonValue)>,
) -> Result<String, ApiError> {
    caller.require_manage_users()?;
    let (mut assignee, mut set) = (None, None);
    for (key, value) in &body {
        if key == "attributes" {
            continue;
        }
        match SObject::PermissionSetAssignment.field(key) {
            Some(Field::AssigneeId) => assignee = string_value("AssigneeId", value)?,
            Some(Field::PermissionSetId) => set = string_value("PermissionSetId", value)?,
            Some(other) => return Err(read_only_field(other)),
            None => return Err(unknown_field(key, SObject::PermissionSetAssignment)),
        }
    }
    let missing: Vec<&str> = [("AssigneeId", &assignee), ("PermissionSetId", &set)]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return Err(missing_fields(&missing));
    }
    let org = caller.org();
    let store = state.store();
    let user = match assignee.as_deref().map(UserId::parse) {
        Some(Ok(id)) => store.user(&id).await?.filter(|u| u.org_id == org.id),
        _ => None,
    }
    .ok_or_else(|| cross_reference("AssigneeId"))?;
    let set = match set.as_deref().map(PermissionSetId::parse) {
        Some(Ok(id)) => store
            .permission_set(&id)
            .await?
            .filter(|s| s.org_id == org.id),
        _ => None,
    }
    .ok_or_else(|| cross_reference("PermissionSetId"))?;
    if store
        .permission_sets_of(&user.id)
        .await?
        .iter()
        .any(|s| s.id == set.id)
    {
        return Err(ApiError::record(
            RequestCode::DuplicateValue,
            format!(
                "Duplicate PermissionSetAssignment. Assignee: {}; Permission Set: {}",
                user.id, set.id
            ),
            &[],
        ));
    }
    store
        .assign_permission_set(&user.id, &set.id, state.clock().now())
        .await?;
    state.directory().forget_people();
    tracing::info!(user = %user.id, set = %set.id, "assigned permission set");
    Ok(Assignment::new(user.id, set.id).id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names() {
        for good in ["CLM_Integration", "a", "ECA2_Admins"] {
            assert!(is_api_name(good), "{good}");
        }
        for bad in ["", "1abc", "_a", "a_", "a__b", "a b", "a-b", "é"] {
            assert!(!is_api_name(bad), "{bad}");
        }
    }
}
