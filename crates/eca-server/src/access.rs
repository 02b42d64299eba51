//! What a user may do: the permissions of their profile and of every permission set
//! assigned to them, and where from (their profile's login IP ranges). The one place that
//! combines them; every permission check asks it.

use std::net::IpAddr;

use eca_core::domain::{Permission, PermissionSet, Permissions, Profile, User};
use eca_core::net::{AddressRange, any_contains};
use eca_store::{Store, StoreResult};

/// A user's profile and assigned permission sets: what permission checks and admin
/// pre-authorization read (the token hot paths keep it for a while: `crate::directory`).
#[derive(Debug, Clone, Default)]
pub struct UserAccess {
    pub profile: Option<Profile>,
    pub permission_sets: Vec<PermissionSet>,
    /// The profile's login IP ranges; none means the user may log in from anywhere.
    pub login_ranges: Vec<AddressRange>,
}

impl UserAccess {
    /// Whether the profile's login IP ranges let the user in from `client`: always when the
    /// profile has none (Salesforce restricts only profiles with ranges).
    pub fn allows_address(&self, client: IpAddr) -> bool {
        self.login_ranges.is_empty() || any_contains(&self.login_ranges, client)
    }

    /// The union of the profile's permissions and every permission set's.
    pub fn permissions(&self) -> Permissions {
        let base = self
            .profile
            .as_ref()
            .map(|p| p.permissions.clone())
            .unwrap_or_default();
        self.permission_sets
            .iter()
            .fold(base, |all, set| all.union(&set.permissions))
    }
}

/// Reads the user's profile (only one of the user's org counts), its login IP ranges and the
/// user's permission sets.
pub async fn access_of(store: &dyn Store, user: &User) -> StoreResult<UserAccess> {
    let profile = store
        .profile(&user.profile_id)
        .await?
        .filter(|p| p.org_id == user.org_id);
    let login_ranges = match &profile {
        Some(p) => store
            .login_ip_ranges_of(&p.id)
            .await?
            .into_iter()
            .map(|r| r.range)
            .collect(),
        None => Vec::new(),
    };
    let permission_sets = store.permission_sets_of(&user.id).await?;
    Ok(UserAccess {
        profile,
        permission_sets,
        login_ranges,
    })
}

/// The union of the user's profile permissions and permission-set permissions.
pub async fn permissions_of(store: &dyn Store, user: &User) -> StoreResult<Permissions> {
    Ok(access_of(store, user).await?.permissions())
}

/// Whether the profile or one of the user's permission sets grants `permission`.
pub async fn has_permission(
    store: &dyn Store,
    user: &User,
    permission: Permission,
) -> StoreResult<bool> {
    Ok(permissions_of(store, user).await?.contains(permission))
}
