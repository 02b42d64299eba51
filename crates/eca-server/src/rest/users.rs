//! User records: `POST /sobjects/User`, `PATCH /sobjects/User/{id}` and Salesforce's
//! set-password resource `POST /sobjects/User/{id}/password` (`{"NewPassword": "..."}`).
//!
//! Body fields have their Salesforce names (see [`schema`](super::schema)); `ProfileName` is
//! OpenECA's extension for naming the profile instead of giving its id, and `IsFrozen` stands
//! in for Salesforce's `UserLogin.IsFrozen`. Deactivating or freezing a user ends their
//! sessions at once; so does a new password, except the session that set it.

use eca_core::domain::{Org, Profile, User, UserFields};
use eca_core::{ProfileId, Secret, UserId};
use eca_store::{StoreError, USER_CHANGED};
use serde_json::Value as JsonValue;

use super::schema::{Field, SObject};
use super::sobjects::{
    Caller, bool_value, cross_reference, insufficient_access, missing_fields, not_found,
    read_only_field, string_value, unknown_field,
};
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

/// The shortest password accepted (Salesforce's default policy).
pub const PASSWORD_MIN: usize = 8;
/// The longest password accepted: Argon2id takes any length, this bounds the work.
const PASSWORD_MAX: usize = 256;

/// A profile named in a request.
#[derive(Debug)]
enum ProfileRef {
    Id(String),
    Name(String),
}

/// The User fields of a request body, type-checked.
#[derive(Debug, Default)]
struct Changes {
    text: Vec<(Field, Option<String>)>,
    is_active: Option<bool>,
    is_frozen: Option<bool>,
    profile: Option<ProfileRef>,
}

impl Changes {
    fn has(&self, field: Field) -> bool {
        self.text.iter().any(|(f, v)| *f == field && v.is_some())
    }
}

/// Salesforce's length limits of the User text fields.
fn max_len(field: Field) -> usize {
    match field {
        Field::Alias => 8,
        Field::PostalCode | Field::EmployeeNumber => 20,
        Field::FirstName
        | Field::City
        | Field::Phone
        | Field::MobilePhone
        | Field::TimeZoneSidKey
        | Field::LocaleSidKey
        | Field::LanguageLocaleKey
        | Field::EmailEncodingKey => 40,
        Field::Email => 128,
        Field::Street => 255,
        Field::FederationIdentifier => 512,
        _ => 80,
    }
}

fn parse(body: Vec<(String, JsonValue)>) -> Result<Changes, ApiError> {
    let mut changes = Changes::default();
    for (key, value) in &body {
        if key == "attributes" {
            continue;
        }
        if key.eq_ignore_ascii_case("ProfileName") {
            changes.profile = string_value("ProfileName", value)?.map(ProfileRef::Name);
            continue;
        }
        let field = SObject::User
            .field(key)
            .ok_or_else(|| unknown_field(key, SObject::User))?;
        match field {
            Field::Id
            | Field::Name
            | Field::UserType
            | Field::CreatedDate
            | Field::LastModifiedDate => {
                return Err(read_only_field(field));
            }
            Field::IsActive => changes.is_active = Some(bool_value("IsActive", value)?),
            Field::IsFrozen => changes.is_frozen = Some(bool_value("IsFrozen", value)?),
            Field::ProfileId => {
                changes.profile = string_value("ProfileId", value)?.map(ProfileRef::Id);
            }
            text => {
                let value = string_value(text.api_name(), value)?
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty());
                if value
                    .as_ref()
                    .is_some_and(|v| v.chars().count() > max_len(text))
                {
                    return Err(ApiError::record(
                        RequestCode::StringTooLong,
                        format!(
                            "{}: data value too large (max length={})",
                            text.api_name(),
                            max_len(text)
                        ),
                        &[text.api_name()],
                    ));
                }
                changes.text.push((text, value));
            }
        }
    }
    Ok(changes)
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no
/// spaces.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Writes the text fields of `changes` into `user`, checking required fields and formats.
fn apply(user: &mut User, changes: &Changes) -> Result<(), ApiError> {
    let f = &mut user.fields;
    for (field, value) in &changes.text {
        let required =
            |v: &Option<String>| v.clone().ok_or_else(|| missing_fields(&[field.api_name()]));
        match field {
            Field::Username => user.username = required(value)?,
            Field::Email => f.email = required(value)?,
            Field::LastName => f.last_name = required(value)?,
            Field::TimeZoneSidKey => f.time_zone = required(value)?,
            Field::LocaleSidKey => f.locale = required(value)?,
            Field::LanguageLocaleKey => f.language = required(value)?,
            // Salesforce requires it; OpenECA sends no e-mail, so it is accepted and not kept.
            Field::EmailEncodingKey => {}
            other => {
                if let Some(slot) = optional_slot(f, *other) {
                    *slot = value.clone();
                }
            }
        }
    }
    if !is_email(&user.username) {
        return Err(ApiError::record(
            RequestCode::InvalidEmailAddress,
            "Username must be in the form of an email address (for example, john@acme.com)",
            &["Username"],
        ));
    }
    if !is_email(&user.fields.email) {
        return Err(ApiError::record(
            RequestCode::InvalidEmailAddress,
            "Email: invalid email address",
            &["Email"],
        ));
    }
    Ok(())
}

fn optional_slot(f: &mut UserFields, field: Field) -> Option<&mut Option<String>> {
    Some(match field {
        Field::FirstName => &mut f.first_name,
        Field::FederationIdentifier => &mut f.federation_id,
        Field::Alias => &mut f.alias,
        Field::Title => &mut f.title,
        Field::CompanyName => &mut f.company_name,
        Field::Department => &mut f.department,
        Field::Division => &mut f.division,
        Field::Street => &mut f.street,
        Field::City => &mut f.city,
        Field::State => &mut f.state,
        Field::PostalCode => &mut f.postal_code,
        Field::Country => &mut f.country,
        Field::Phone => &mut f.phone,
        Field::MobilePhone => &mut f.mobile_phone,
        Field::EmployeeNumber => &mut f.employee_number,
        _ => return None,
    })
}

/// Salesforce's default alias: the first letter of the first name and the first four of the
/// last name.
fn default_alias(first: Option<&str>, last: &str) -> String {
    let initial = first.and_then(|f| f.chars().next());
    initial.into_iter().chain(last.chars().take(4)).collect()
}

async fn resolve_profile(
    state: &AppState,
    org: &Org,
    profile: &ProfileRef,
) -> Result<Profile, ApiError> {
    let found = match profile {
        ProfileRef::Id(id) => match ProfileId::parse(id) {
            Ok(id) => state.store().profile(&id).await?,
            Err(_) => None,
        },
        ProfileRef::Name(name) => state.store().profile_by_name(&org.id, name).await?,
    };
    found
        .filter(|p| p.org_id == org.id)
        .ok_or_else(|| match profile {
            ProfileRef::Id(_) => cross_reference("ProfileId"),
            ProfileRef::Name(name) => ApiError::record(
                RequestCode::InvalidCrossReferenceKey,
                format!("There is no profile named `{name}` in this org"),
                &["ProfileName"],
            ),
        })
}

fn duplicate_username() -> ApiError {
    ApiError::record(
        RequestCode::DuplicateUsername,
        "Duplicate Username. The username already exists in this or another org of this server. Usernames must be unique across all orgs.",
        &["Username"],
    )
}

/// A user of `org` by id (15 or 18 characters); users of other orgs are not found.
pub async fn find(state: &AppState, org: &Org, id: &str) -> Result<User, ApiError> {
    let id = UserId::parse(id).map_err(|_| not_found())?;
    state
        .store()
        .user(&id)
        .await?
        .filter(|u| u.org_id == org.id)
        .ok_or_else(not_found)
}

/// Creates a user; returns its id.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    body: Vec<(String, JsonValue)>,
) -> Result<String, ApiError> {
    caller.require_manage_users()?;
    let changes = parse(body)?;
    let mut missing = Vec::new();
    if !changes.has(Field::Username) {
        missing.push("Username");
    }
    if !changes.has(Field::LastName) {
        missing.push("LastName");
    }
    let Some(profile) = &changes.profile else {
        missing.push("ProfileId");
        return Err(missing_fields(&missing));
    };
    if !missing.is_empty() {
        return Err(missing_fields(&missing));
    }
    let org = caller.org();
    let profile = resolve_profile(state, org, profile).await?;
    let now = state.clock().now();
    let mut user = User {
        id: UserId::generate(state.rng()),
        org_id: org.id.clone(),
        username: String::new(),
        fields: UserFields {
            time_zone: "America/Los_Angeles".to_owned(),
            locale: "en_US".to_owned(),
            language: "en_US".to_owned(),
            ..UserFields::default()
        },
        profile_id: profile.id,
        is_active: changes.is_active.unwrap_or(true),
        is_frozen: changes.is_frozen.unwrap_or(false),
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
    };
    // Salesforce requires Email; OpenECA takes the username, which is an address, when absent.
    if !changes.has(Field::Email) {
        user.fields.email = changes
            .text
            .iter()
            .find(|(f, _)| *f == Field::Username)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default();
    }
    apply(&mut user, &changes)?;
    if user.fields.alias.is_none() {
        user.fields.alias = Some(default_alias(
            user.fields.first_name.as_deref(),
            &user.fields.last_name,
        ));
    }
    match state.store().create_user(&user).await {
        Ok(()) => {
            tracing::info!(user = %user.id, org = %user.org_id, "created user");
            Ok(user.id.to_string())
        }
        Err(StoreError::Conflict {
            what: "username", ..
        }) => Err(duplicate_username()),
        Err(e) => Err(e.into()),
    }
}

/// Changes a user. Deactivating or freezing ends the user's sessions.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: Vec<(String, JsonValue)>,
) -> Result<(), ApiError> {
    caller.require_manage_users()?;
    let changes = parse(body)?;
    // The change applies to the user as stored when it is written: a concurrent change (a
    // password set, another admin's edit) makes the write fail, and it is applied again to
    // what that change left.
    for _ in 0..UPDATE_ATTEMPTS {
        if update_once(state, caller, id, &changes).await? {
            return Ok(());
        }
    }
    Err(ApiError::request(
        RequestCode::FieldIntegrityException,
        "The user kept changing while this change was being made: try again",
    ))
}

/// How many times a user change is applied before a steady stream of concurrent changes
/// fails it.
const UPDATE_ATTEMPTS: usize = 5;

/// Applies `changes` to the user as read now; `Ok(false)` when the user changed before the
/// write.
async fn update_once(
    state: &AppState,
    caller: &Caller,
    id: &str,
    changes: &Changes,
) -> Result<bool, ApiError> {
    let org = caller.org();
    let mut user = find(state, org, id).await?;
    let read = user.updated_at;
    let was_usable = user.is_active && !user.is_frozen;
    if let Some(profile) = &changes.profile {
        let profile_id = resolve_profile(state, org, profile).await?.id;
        // As on Salesforce, nobody changes their own profile: the only admin of an org could
        // otherwise leave it with nobody who can manage users.
        if user.id == caller.user().id && profile_id != user.profile_id {
            return Err(ApiError::record(
                RequestCode::FieldIntegrityException,
                "You cannot change your own profile",
                &[match profile {
                    ProfileRef::Id(_) => "ProfileId",
                    ProfileRef::Name(_) => "ProfileName",
                }],
            ));
        }
        user.profile_id = profile_id;
    }
    apply(&mut user, changes)?;
    if let Some(active) = changes.is_active {
        user.is_active = active;
    }
    if let Some(frozen) = changes.is_frozen {
        user.is_frozen = frozen;
    }
    let is_usable = user.is_active && !user.is_frozen;
    if user.id == caller.user().id && !is_usable {
        return Err(ApiError::record(
            RequestCode::FieldIntegrityException,
            "You cannot deactivate or freeze your own user",
            &[if user.is_active {
                "IsFrozen"
            } else {
                "IsActive"
            }],
        ));
    }
    user.updated_at = state.clock().now();
    match state.store().update_user(&user, read).await {
        // The cached copies of users go at once (`crate::directory`).
        Ok(_) => state.directory().forget_people(),
        Err(StoreError::Conflict {
            what: USER_CHANGED, ..
        }) => return Ok(false),
        Err(StoreError::Conflict {
            what: "username", ..
        }) => return Err(duplicate_username()),
        Err(e) => return Err(e.into()),
    }
    if was_usable && !is_usable {
        let ended = state.store().delete_user_sessions(&user.id).await?;
        tracing::info!(user = %user.id, sessions = ended, "user deactivated or frozen");
    }
    Ok(true)
}

/// Checks a new password against the policy: 8 to 256 characters, letters and digits.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    let problem = if length < PASSWORD_MIN {
        Some(format!(
            "Your password must be at least {PASSWORD_MIN} characters long."
        ))
    } else if length > PASSWORD_MAX {
        Some(format!(
            "Your password must be at most {PASSWORD_MAX} characters long."
        ))
    } else if !password.chars().any(char::is_alphabetic)
        || !password.chars().any(|c| c.is_ascii_digit())
    {
        Some("Your password must include letters and numbers.".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(ApiError::request(RequestCode::InvalidNewPassword, message)),
        None => Ok(()),
    }
}

/// Sets a user's password: your own with a session, anyone's in the org (your own through an
/// access token too) with Manage Users. Every session of the user ends except the caller's
/// own, and a lockout is cleared.
pub async fn set_password(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: Vec<(String, JsonValue)>,
) -> Result<(), ApiError> {
    let user = find(state, caller.org(), id).await?;
    let is_self = user.id == caller.user().id;
    // Your own password needs no permission when you logged in with it; through an app's
    // access token it does, so that a leaked token cannot be turned into the user's password
    // (Salesforce also keeps self-resets through the API behind an org setting).
    let needs_permission = !is_self || caller.auth.app.is_some();
    if needs_permission && !caller.has(eca_core::domain::Permission::ManageUsers) {
        return Err(insufficient_access("Manage Users"));
    }
    let mut password = None;
    for (key, value) in &body {
        if key == "NewPassword" {
            password = string_value("NewPassword", value)?;
        } else {
            return Err(ApiError::request(
                RequestCode::InvalidField,
                format!("No such field '{key}': the body is {{\"NewPassword\": \"...\"}}"),
            ));
        }
    }
    let password = password.ok_or_else(|| missing_fields(&["NewPassword"]))?;
    check_password(&password)?;
    let hash = state.hash_password(Secret::new(password)).await?;
    // Only the password and lockout: what else changed while the hash was made stays.
    state
        .store()
        .set_user_password(&user.org_id, &user.id, &hash, state.clock().now())
        .await?;
    state.directory().forget_people();
    let store = state.store();
    let ended = store.delete_user_sessions(&user.id).await?;
    if is_self && caller.auth.app.is_none() {
        // The session that set the password goes on: only the user's other sessions end. An
        // access token has no stored session (`TokenUse::active` makes one up), and storing
        // it would turn the token into a session.
        store.create_session(&caller.auth.active.session).await?;
    }
    tracing::info!(user = %user.id, sessions = ended, "password set");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_aliases_and_passwords() {
        assert!(is_email("ops@acme.example"));
        for bad in [
            "ops",
            "@acme.example",
            "ops@acme",
            "ops@.x",
            "o ps@acme.example",
            "a@b@c.d",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert_eq!(default_alias(Some("Ada"), "Lovelace"), "ALove");
        assert_eq!(default_alias(None, "Ng"), "Ng");
        assert!(check_password("abcdefg1").is_ok());
        assert!(check_password("abc1").is_err());
        assert!(check_password("abcdefgh").is_err());
        assert!(check_password("12345678").is_err());
        assert!(check_password(&format!("a1{}", "x".repeat(300))).is_err());
    }
}
