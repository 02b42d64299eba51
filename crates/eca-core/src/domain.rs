//! The records of an org: the org itself, its users, profiles, permission sets and sessions.

use crate::ids::{LoginIpRangeId, OrgId, PermissionSetId, ProfileId, UserId};
use crate::net::AddressRange;
use crate::time::Timestamp;

/// An organization: a tenant of the server with its own base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    /// The My Domain name: lower-case letters, digits and hyphens. The org answers at
    /// `/orgs/<my_domain>` and at `http://<my_domain>.localhost:<port>`.
    pub my_domain: String,
    /// The org that answers at the server root.
    pub is_default: bool,
    /// How long an idle session stays valid.
    pub session_timeout_minutes: i64,
    /// Salesforce's "Enforce login IP ranges on every request" session setting: the user's
    /// login IP ranges are checked on every API call, not only at login and token issue.
    pub enforce_ip_ranges_every_request: bool,
    pub created_at: Timestamp,
}

impl Org {
    /// The session timeouts an org may have, in minutes: Salesforce's Session Settings values
    /// (15 minutes to 24 hours).
    pub const SESSION_TIMEOUTS: [i64; 8] = [15, 30, 60, 120, 240, 480, 720, 1440];

    /// `minutes` if it is one of [`Org::SESSION_TIMEOUTS`], else an error that lists them.
    pub fn check_session_timeout(minutes: i64) -> Result<i64, String> {
        if Self::SESSION_TIMEOUTS.contains(&minutes) {
            return Ok(minutes);
        }
        let choices: Vec<String> = Self::SESSION_TIMEOUTS.iter().map(i64::to_string).collect();
        Err(format!(
            "{minutes} is not a session timeout: use one of {} (minutes)",
            choices.join(", ")
        ))
    }
}

/// The permissions OpenECA checks (`spec/metadata.md` §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// "View all External Client Apps, view their settings, and edit their policies".
    ExternalClientAppAdmin,
    /// "Create, Edit, and Delete External Client Apps".
    ExternalClientAppDeveloper,
    /// Read-only access to apps and usage.
    ExternalClientAppViewer,
    /// "View Client Secret".
    ViewClientSecret,
    /// "Opt in to External Client Apps": needed to deploy headers.
    ExternalClientAppOptIn,
    /// API Enabled: may use the SOAP and REST APIs.
    ApiEnabled,
    /// API Only: may not log in to the web UI.
    ApiOnly,
    /// Manage Users: create and change users, profiles and permission sets.
    ManageUsers,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::ExternalClientAppAdmin,
        Permission::ExternalClientAppDeveloper,
        Permission::ExternalClientAppViewer,
        Permission::ViewClientSecret,
        Permission::ExternalClientAppOptIn,
        Permission::ApiEnabled,
        Permission::ApiOnly,
        Permission::ManageUsers,
    ];

    /// The API name, as in profile and permission-set metadata.
    pub fn api_name(self) -> &'static str {
        match self {
            Permission::ExternalClientAppAdmin => "ExternalClientAppAdmin",
            Permission::ExternalClientAppDeveloper => "ExternalClientAppDeveloper",
            Permission::ExternalClientAppViewer => "ExternalClientAppViewer",
            Permission::ViewClientSecret => "ViewClientSecret",
            Permission::ExternalClientAppOptIn => "ExternalClientAppOptIn",
            Permission::ApiEnabled => "ApiEnabled",
            Permission::ApiOnly => "ApiUserOnly",
            Permission::ManageUsers => "ManageUsers",
        }
    }

    pub fn from_api_name(name: &str) -> Option<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.api_name().eq_ignore_ascii_case(name))
    }
}

/// A set of permissions, stored as their API names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(Vec<Permission>);

impl Permissions {
    pub fn new(mut list: Vec<Permission>) -> Self {
        list.sort();
        list.dedup();
        Self(list)
    }

    pub fn contains(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    pub fn union(&self, other: &Permissions) -> Permissions {
        Permissions::new(self.0.iter().chain(other.0.iter()).copied().collect())
    }

    /// Comma-separated API names, for storage.
    pub fn to_csv(&self) -> String {
        self.0
            .iter()
            .map(|p| p.api_name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads what [`Permissions::to_csv`] wrote; unknown names are ignored.
    pub fn from_csv(s: &str) -> Permissions {
        Permissions::new(
            s.split(',')
                .filter_map(|n| Permission::from_api_name(n.trim()))
                .collect(),
        )
    }
}

/// A profile: every user has exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: ProfileId,
    pub org_id: OrgId,
    /// `System Administrator`, `Standard User`, `API Only`...
    pub name: String,
    pub permissions: Permissions,
}

/// A login IP range of a profile (Salesforce's `LoginIpRange` object): users of the profile
/// may log in only from an address in one of its profile's ranges. A profile without ranges
/// restricts nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginIpRange {
    pub id: LoginIpRangeId,
    pub org_id: OrgId,
    pub profile_id: ProfileId,
    pub range: AddressRange,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub last_modified_at: Timestamp,
}

/// A permission set: extra permissions assigned to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub id: PermissionSetId,
    pub org_id: OrgId,
    /// The API name (`CLM_Integration`).
    pub name: String,
    pub label: String,
    pub permissions: Permissions,
}

/// A user and the standard fields custom attributes can read (`$User.Field`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserFields {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub federation_id: Option<String>,
    pub alias: Option<String>,
    pub title: Option<String>,
    pub company_name: Option<String>,
    pub department: Option<String>,
    pub division: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub employee_number: Option<String>,
    pub time_zone: String,
    pub locale: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    /// Unique across all orgs of the server, as on Salesforce (`name@example.com`).
    pub username: String,
    pub fields: UserFields,
    pub profile_id: ProfileId,
    pub is_active: bool,
    pub is_frozen: bool,
    /// Argon2id PHC string; `None` for users who cannot log in with a password.
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// The display name, `First Last`.
    pub fn name(&self) -> String {
        match &self.fields.first_name {
            Some(f) if !f.is_empty() => format!("{f} {}", self.fields.last_name),
            _ => self.fields.last_name.clone(),
        }
    }

    /// Whether the user may log in at `now`.
    pub fn can_log_in(&self, now: Timestamp) -> bool {
        self.is_active && !self.is_frozen && self.locked_until.is_none_or(|t| t <= now)
    }
}

/// How a session was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// SOAP partner `login`.
    SoapLogin,
    /// The browser login page.
    Web,
    /// The browser login page, for a user whose address is outside their profile's login IP
    /// ranges, continuing an OAuth authorization: good only for the authorize and device
    /// activation pages, where the app's IP relaxation decides.
    OAuthLogin,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::SoapLogin => "soap",
            SessionKind::Web => "web",
            SessionKind::OAuthLogin => "oauth",
        }
    }

    pub fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "soap" => Some(SessionKind::SoapLogin),
            "web" => Some(SessionKind::Web),
            "oauth" => Some(SessionKind::OAuthLogin),
            _ => None,
        }
    }
}

/// A session. The session id itself (`<15-char org id>!<opaque>`) is handed to the client once
/// and stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session id (`crypto::token_hash`).
    pub id_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub kind: SessionKind,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    /// The session ends when idle past this instant (moved on by use).
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::Org;

    #[test]
    fn session_timeouts_are_salesforces_values() {
        for minutes in Org::SESSION_TIMEOUTS {
            assert_eq!(Org::check_session_timeout(minutes), Ok(minutes));
        }
        for minutes in [0, 45, 1441, -15] {
            let why = Org::check_session_timeout(minutes).unwrap_err();
            assert!(
                why.starts_with(&format!("{minutes} is not a session timeout")),
                "{why}"
            );
            assert!(
                why.contains("15, 30, 60, 120, 240, 480, 720, 1440"),
                "{why}"
            );
        }
    }
}
