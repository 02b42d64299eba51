//! What a user may do: the permissions of their profile and of every permission set
//! assigned to them. The one place that combines the two; every permission check asks it.

use eca_core::domain::{Permission, Permissions, User};
use eca_store::{Store, StoreResult};

/// The union of the user's profile permissions and permission-set permissions.
pub async fn permissions_of(store: &dyn Store, user: &User) -> StoreResult<Permissions> {
    let profile = store.profile(&user.profile_id).await?;
    let base = profile.map(|p| p.permissions).unwrap_or_default();
    Ok(store
        .permission_sets_of(&user.id)
        .await?
        .iter()
        .fold(base, |all, set| all.union(&set.permissions)))
}

/// Whether the profile or one of the user's permission sets grants `permission`.
pub async fn has_permission(
    store: &dyn Store,
    user: &User,
    permission: Permission,
) -> StoreResult<bool> {
    Ok(permissions_of(store, user).await?.contains(permission))
}
