//! What a user may do: the permissions of their profile and of every permission set
//! assigned to them. The one place that combines the two; every permission check asks it.

use eca_core::domain::{Permission, PermissionSet, Permissions, Profile, User};
use eca_store::{Store, StoreResult};

/// A user's profile and assigned permission sets: what permission checks and admin
/// pre-authorization read (the token hot paths keep it for a while: `crate::directory`).
#[derive(Debug, Clone, Default)]
pub struct UserAccess {
    pub profile: Option<Profile>,
    pub permission_sets: Vec<PermissionSet>,
}

impl UserAccess {
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

/// Reads the user's profile (only one of the user's org counts) and permission sets.
pub async fn access_of(store: &dyn Store, user: &User) -> StoreResult<UserAccess> {
    let profile = store
        .profile(&user.profile_id)
        .await?
        .filter(|p| p.org_id == user.org_id);
    let permission_sets = store.permission_sets_of(&user.id).await?;
    Ok(UserAccess {
        profile,
        permission_sets,
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
