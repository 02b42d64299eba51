//! The sObjects OpenECA serves over REST and SOQL, with their Salesforce field names: the
//! closed [`SObject`] and [`Field`] enums (parsed once from the request), the values a stored
//! record has for each field, and [`Record`], the JSON shape of a record
//! (`{"attributes":{"type","url"},"Field":value,...}`).
//!
//! `PermissionSetAssignment` rows have no id of their own in the store; their id is derived
//! from the user and permission set (see [`assignment_id`]), so it is stable across nodes.

use eca_core::domain::{LoginIpRange, Org, Permission, PermissionSet, Profile, User};
use eca_core::{PermissionSetId, UserId};
use serde::Serialize;
use serde::ser::SerializeMap as _;

use super::identity::rest_datetime;

/// The object types of the sObject and query resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SObject {
    User,
    Profile,
    PermissionSet,
    PermissionSetAssignment,
    /// A profile's login IP range.
    LoginIpRange,
    Organization,
    /// Tooling API only, and always empty: the Salesforce CLI asks whether the org is a
    /// sandbox (`spec/oauth-and-connect.md` §5.1 step 5).
    SandboxProcess,
}

impl SObject {
    const ALL: [SObject; 7] = [
        SObject::User,
        SObject::Profile,
        SObject::PermissionSet,
        SObject::PermissionSetAssignment,
        SObject::LoginIpRange,
        SObject::Organization,
        SObject::SandboxProcess,
    ];

    /// By API name, case-insensitively, as Salesforce reads sObject names.
    pub fn parse(name: &str) -> Option<SObject> {
        Self::ALL
            .into_iter()
            .find(|o| o.api_name().eq_ignore_ascii_case(name))
    }

    pub fn api_name(self) -> &'static str {
        match self {
            SObject::User => "User",
            SObject::Profile => "Profile",
            SObject::PermissionSet => "PermissionSet",
            SObject::PermissionSetAssignment => "PermissionSetAssignment",
            SObject::LoginIpRange => "LoginIpRange",
            SObject::Organization => "Organization",
            SObject::SandboxProcess => "SandboxProcess",
        }
    }

    /// The readable fields, in the order a whole record lists them.
    pub fn fields(self) -> Vec<Field> {
        let permissions = Permission::ALL.iter().copied().map(Field::Permission);
        match self {
            SObject::User => USER_FIELDS.to_vec(),
            SObject::Profile => [Field::Id, Field::Name]
                .into_iter()
                .chain(permissions)
                .collect(),
            SObject::PermissionSet => [
                Field::Id,
                Field::Name,
                Field::Label,
                Field::IsOwnedByProfile,
            ]
            .into_iter()
            .chain(permissions)
            .collect(),
            SObject::PermissionSetAssignment => {
                vec![Field::Id, Field::AssigneeId, Field::PermissionSetId]
            }
            SObject::LoginIpRange => vec![
                Field::Id,
                Field::ProfileId,
                Field::StartAddress,
                Field::EndAddress,
                Field::Description,
                Field::CreatedDate,
                Field::LastModifiedDate,
            ],
            SObject::Organization => vec![
                Field::Id,
                Field::Name,
                Field::InstanceName,
                Field::IsSandbox,
                Field::TrialExpirationDate,
                Field::NamespacePrefix,
                Field::OrganizationType,
                Field::CreatedDate,
            ],
            SObject::SandboxProcess => SANDBOX_PROCESS_FIELDS
                .iter()
                .copied()
                .map(Field::Sandbox)
                .collect(),
        }
    }

    /// A field of this object by API name, case-insensitively.
    pub fn field(self, name: &str) -> Option<Field> {
        self.fields()
            .into_iter()
            .find(|f| f.api_name().eq_ignore_ascii_case(name))
    }
}

/// A field of one of the [`SObject`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    CreatedDate,
    LastModifiedDate,
    // User.
    Username,
    Email,
    FirstName,
    LastName,
    FederationIdentifier,
    Alias,
    Title,
    CompanyName,
    Department,
    Division,
    Street,
    City,
    State,
    PostalCode,
    Country,
    Phone,
    MobilePhone,
    EmployeeNumber,
    TimeZoneSidKey,
    LocaleSidKey,
    LanguageLocaleKey,
    /// Accepted for compatibility with Salesforce inserts; always `UTF-8`.
    EmailEncodingKey,
    IsActive,
    /// OpenECA's extension (Salesforce keeps it on `UserLogin`).
    IsFrozen,
    ProfileId,
    UserType,
    // Profile and PermissionSet.
    Label,
    IsOwnedByProfile,
    /// `Permissions<ApiName>`.
    Permission(Permission),
    // PermissionSetAssignment.
    AssigneeId,
    PermissionSetId,
    // LoginIpRange.
    StartAddress,
    EndAddress,
    Description,
    // Organization.
    InstanceName,
    IsSandbox,
    TrialExpirationDate,
    NamespacePrefix,
    OrganizationType,
    /// A SandboxProcess field (the object never has rows).
    Sandbox(&'static str),
}

/// What a field holds, for typing SOQL comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A record id: compared in its 18-character form, 15 characters accepted.
    Id,
    Text,
    Bool,
    DateTime,
}

const USER_FIELDS: &[Field] = &[
    Field::Id,
    Field::Username,
    Field::Email,
    Field::FirstName,
    Field::LastName,
    Field::Name,
    Field::FederationIdentifier,
    Field::Alias,
    Field::Title,
    Field::CompanyName,
    Field::Department,
    Field::Division,
    Field::Street,
    Field::City,
    Field::State,
    Field::PostalCode,
    Field::Country,
    Field::Phone,
    Field::MobilePhone,
    Field::EmployeeNumber,
    Field::TimeZoneSidKey,
    Field::LocaleSidKey,
    Field::LanguageLocaleKey,
    Field::EmailEncodingKey,
    Field::IsActive,
    Field::IsFrozen,
    Field::ProfileId,
    Field::UserType,
    Field::CreatedDate,
    Field::LastModifiedDate,
];

const SANDBOX_PROCESS_FIELDS: &[&str] = &[
    "Id",
    "Status",
    "SandboxName",
    "SandboxInfoId",
    "LicenseType",
    "CreatedDate",
    "CreatedById",
    "CopyProgress",
    "SandboxOrganization",
    "SourceId",
    "Description",
    "StartDate",
    "EndDate",
    "ActivatedDate",
    "ActivatedById",
    "AutoActivate",
    "ApexClassId",
    "CopyArchivedActivities",
    "Features",
    "LastModifiedDate",
    "LastModifiedById",
    "IsDeleted",
    "SystemModstamp",
];

impl Field {
    pub fn api_name(self) -> &'static str {
        match self {
            Field::Id => "Id",
            Field::Name => "Name",
            Field::CreatedDate => "CreatedDate",
            Field::LastModifiedDate => "LastModifiedDate",
            Field::Username => "Username",
            Field::Email => "Email",
            Field::FirstName => "FirstName",
            Field::LastName => "LastName",
            Field::FederationIdentifier => "FederationIdentifier",
            Field::Alias => "Alias",
            Field::Title => "Title",
            Field::CompanyName => "CompanyName",
            Field::Department => "Department",
            Field::Division => "Division",
            Field::Street => "Street",
            Field::City => "City",
            Field::State => "State",
            Field::PostalCode => "PostalCode",
            Field::Country => "Country",
            Field::Phone => "Phone",
            Field::MobilePhone => "MobilePhone",
            Field::EmployeeNumber => "EmployeeNumber",
            Field::TimeZoneSidKey => "TimeZoneSidKey",
            Field::LocaleSidKey => "LocaleSidKey",
            Field::LanguageLocaleKey => "LanguageLocaleKey",
            Field::EmailEncodingKey => "EmailEncodingKey",
            Field::IsActive => "IsActive",
            Field::IsFrozen => "IsFrozen",
            Field::ProfileId => "ProfileId",
            Field::UserType => "UserType",
            Field::Label => "Label",
            Field::IsOwnedByProfile => "IsOwnedByProfile",
            Field::Permission(p) => permission_field(p),
            Field::AssigneeId => "AssigneeId",
            Field::PermissionSetId => "PermissionSetId",
            Field::StartAddress => "StartAddress",
            Field::EndAddress => "EndAddress",
            Field::Description => "Description",
            Field::InstanceName => "InstanceName",
            Field::IsSandbox => "IsSandbox",
            Field::TrialExpirationDate => "TrialExpirationDate",
            Field::NamespacePrefix => "NamespacePrefix",
            Field::OrganizationType => "OrganizationType",
            Field::Sandbox(name) => name,
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Field::Id | Field::ProfileId | Field::AssigneeId | Field::PermissionSetId => Kind::Id,
            Field::IsActive
            | Field::IsFrozen
            | Field::IsOwnedByProfile
            | Field::Permission(_)
            | Field::IsSandbox => Kind::Bool,
            Field::CreatedDate | Field::LastModifiedDate | Field::TrialExpirationDate => {
                Kind::DateTime
            }
            _ => Kind::Text,
        }
    }
}

/// The field name of a permission on Profile and PermissionSet, as Salesforce names them
/// (`PermissionsApiEnabled`).
pub fn permission_field(p: Permission) -> &'static str {
    match p {
        Permission::ExternalClientAppAdmin => "PermissionsExternalClientAppAdmin",
        Permission::ExternalClientAppDeveloper => "PermissionsExternalClientAppDeveloper",
        Permission::ExternalClientAppViewer => "PermissionsExternalClientAppViewer",
        Permission::ViewClientSecret => "PermissionsViewClientSecret",
        Permission::ExternalClientAppOptIn => "PermissionsExternalClientAppOptIn",
        Permission::ApiEnabled => "PermissionsApiEnabled",
        Permission::ApiOnly => "PermissionsApiUserOnly",
        Permission::ManageUsers => "PermissionsManageUsers",
    }
}

/// A permission set assigned to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: String,
    pub assignee: UserId,
    pub set: PermissionSetId,
}

impl Assignment {
    pub fn new(assignee: UserId, set: PermissionSetId) -> Self {
        Self {
            id: assignment_id(&assignee, &set),
            assignee,
            set,
        }
    }
}

/// The id of the assignment of `set` to `user`: `0Pa` and twelve characters derived from the
/// SHA-256 of both ids, with the 18-character checksum. The same pair always has the same id.
pub fn assignment_id(user: &UserId, set: &PermissionSetId) -> String {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = eca_core::crypto::token_hash(&format!("{user}:{set}"));
    let body: String = digest
        .as_bytes()
        .chunks(2)
        .take(12)
        .map(|pair| {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0);
            char::from(BASE62[usize::from(byte) % BASE62.len()])
        })
        .collect();
    let id15 = format!("0Pa{body}");
    let suffix = eca_core::ids::checksum(&id15);
    format!("{id15}{suffix}")
}

/// One stored record, seen as an sObject.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    User(&'a User),
    Profile(&'a Profile),
    PermissionSet(&'a PermissionSet),
    Assignment(&'a Assignment),
    LoginIpRange(&'a LoginIpRange),
    Organization(&'a Org),
}

/// A field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Text(String),
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

impl Row<'_> {
    pub fn object(&self) -> SObject {
        match self {
            Row::User(_) => SObject::User,
            Row::Profile(_) => SObject::Profile,
            Row::PermissionSet(_) => SObject::PermissionSet,
            Row::Assignment(_) => SObject::PermissionSetAssignment,
            Row::LoginIpRange(_) => SObject::LoginIpRange,
            Row::Organization(_) => SObject::Organization,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Row::User(u) => u.id.as_str(),
            Row::Profile(p) => p.id.as_str(),
            Row::PermissionSet(s) => s.id.as_str(),
            Row::Assignment(a) => &a.id,
            Row::LoginIpRange(r) => r.id.as_str(),
            Row::Organization(o) => o.id.as_str(),
        }
    }

    /// The value of `field`; `Null` for a field of another object.
    pub fn get(&self, field: Field) -> Value {
        if field == Field::Id {
            return text(self.id());
        }
        match self {
            Row::User(u) => user_value(u, field),
            Row::Profile(p) => match field {
                Field::Name => text(&p.name),
                Field::Permission(perm) => Value::Bool(p.permissions.contains(perm)),
                _ => Value::Null,
            },
            Row::PermissionSet(s) => match field {
                Field::Name => text(&s.name),
                Field::Label => text(&s.label),
                Field::IsOwnedByProfile => Value::Bool(false),
                Field::Permission(perm) => Value::Bool(s.permissions.contains(perm)),
                _ => Value::Null,
            },
            Row::Assignment(a) => match field {
                Field::AssigneeId => text(a.assignee.as_str()),
                Field::PermissionSetId => text(a.set.as_str()),
                _ => Value::Null,
            },
            Row::LoginIpRange(r) => match field {
                Field::ProfileId => text(r.profile_id.as_str()),
                Field::StartAddress => Value::Text(r.range.start().to_string()),
                Field::EndAddress => Value::Text(r.range.end().to_string()),
                Field::Description => opt(&r.description),
                Field::CreatedDate => Value::Text(rest_datetime(r.created_at)),
                Field::LastModifiedDate => Value::Text(rest_datetime(r.last_modified_at)),
                _ => Value::Null,
            },
            Row::Organization(o) => match field {
                Field::Name => text(&o.name),
                Field::InstanceName => text("OPENECA"),
                Field::IsSandbox => Value::Bool(false),
                Field::OrganizationType => text("Developer Edition"),
                Field::CreatedDate => Value::Text(rest_datetime(o.created_at)),
                _ => Value::Null,
            },
        }
    }
}

fn user_value(u: &User, field: Field) -> Value {
    let f = &u.fields;
    match field {
        Field::Username => text(&u.username),
        Field::Email => text(&f.email),
        Field::FirstName => opt(&f.first_name),
        Field::LastName => text(&f.last_name),
        Field::Name => Value::Text(u.name()),
        Field::FederationIdentifier => opt(&f.federation_id),
        Field::Alias => opt(&f.alias),
        Field::Title => opt(&f.title),
        Field::CompanyName => opt(&f.company_name),
        Field::Department => opt(&f.department),
        Field::Division => opt(&f.division),
        Field::Street => opt(&f.street),
        Field::City => opt(&f.city),
        Field::State => opt(&f.state),
        Field::PostalCode => opt(&f.postal_code),
        Field::Country => opt(&f.country),
        Field::Phone => opt(&f.phone),
        Field::MobilePhone => opt(&f.mobile_phone),
        Field::EmployeeNumber => opt(&f.employee_number),
        Field::TimeZoneSidKey => text(&f.time_zone),
        Field::LocaleSidKey => text(&f.locale),
        Field::LanguageLocaleKey => text(&f.language),
        Field::EmailEncodingKey => text("UTF-8"),
        Field::IsActive => Value::Bool(u.is_active),
        Field::IsFrozen => Value::Bool(u.is_frozen),
        Field::ProfileId => text(u.profile_id.as_str()),
        Field::UserType => text("Standard"),
        Field::CreatedDate => Value::Text(rest_datetime(u.created_at)),
        Field::LastModifiedDate => Value::Text(rest_datetime(u.updated_at)),
        _ => Value::Null,
    }
}

/// `attributes` of a record.
#[derive(Debug, Serialize)]
pub struct Attributes {
    #[serde(rename = "type")]
    pub object: &'static str,
    pub url: String,
}

/// A record as the REST API writes it: `attributes`, then the fields in the order asked.
#[derive(Debug)]
pub struct Record {
    pub attributes: Attributes,
    pub values: Vec<(&'static str, Value)>,
}

impl Record {
    /// `fields` of `row`. `sobjects` is the path the `attributes.url` starts with, with the
    /// request's API version: `/services/data/vXX.X[/tooling]/sobjects`.
    pub fn of(row: &Row<'_>, fields: &[Field], sobjects: &str) -> Record {
        let object = row.object().api_name();
        Record {
            attributes: Attributes {
                object,
                url: format!("{sobjects}/{object}/{}", row.id()),
            },
            values: fields.iter().map(|f| (f.api_name(), row.get(*f))).collect(),
        }
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len() + 1))?;
        map.serialize_entry("attributes", &self.attributes)?;
        for (name, value) in &self.values {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::rng::DeterministicRng;

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!(SObject::parse("user"), Some(SObject::User));
        assert_eq!(SObject::parse("ScratchOrgInfo"), None);
        assert_eq!(
            SObject::PermissionSet.field("permissionsapienabled"),
            Some(Field::Permission(Permission::ApiEnabled))
        );
        assert_eq!(
            SObject::Profile.field("PermissionsApiUserOnly"),
            Some(Field::Permission(Permission::ApiOnly))
        );
        assert_eq!(SObject::User.field("Label"), None);
        for p in Permission::ALL {
            assert_eq!(permission_field(*p), format!("Permissions{}", p.api_name()));
        }
    }

    #[test]
    fn assignment_ids_are_stable_salesforce_ids() {
        let rng = DeterministicRng::new(3);
        let (user, set) = (UserId::generate(&rng), PermissionSetId::generate(&rng));
        let id = assignment_id(&user, &set);
        assert_eq!(id, assignment_id(&user, &set));
        assert!(id.starts_with("0Pa") && id.len() == 18, "{id}");
        assert_eq!(eca_core::ids::to_18(&id[..15]).unwrap(), id);
        assert_ne!(id, assignment_id(&user, &PermissionSetId::generate(&rng)));
    }
}
