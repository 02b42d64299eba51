//! Which users may use an app (`permittedUsersPolicyType`): admin pre-authorization by
//! profile or permission set, or the user's own earlier approval.

use eca_core::domain::User;
use eca_metadata::model::PermittedUsers;
use eca_oauth::OAuthError;

use super::GrantError;
use super::registry::ClientApp;
use crate::directory;
use crate::state::AppState;

/// Whether the user's profile or one of their permission sets is among the app policies'
/// pre-authorized ones (names compare case-insensitively, as Salesforce names do).
pub async fn is_preauthorized(
    state: &AppState,
    app: &ClientApp,
    user: &User,
) -> Result<bool, GrantError> {
    let Some(policies) = &app.policies else {
        return Ok(false);
    };
    let profiles = policies.profiles();
    let sets = policies.permission_sets();
    if profiles.is_empty() && sets.is_empty() {
        return Ok(false);
    }
    let access = directory::access(state, user).await?;
    let by_profile = access.profile.as_ref().is_some_and(|profile| {
        profiles
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&profile.name))
    });
    let by_set = access
        .permission_sets
        .iter()
        .any(|a| sets.iter().any(|s| s.eq_ignore_ascii_case(&a.name)));
    Ok(by_profile || by_set)
}

/// Whether `user` may get a token without a consent page (JWT bearer): pre-authorized when
/// the app is admin-approved, otherwise approved by the user before.
pub async fn may_skip_consent(
    state: &AppState,
    app: &ClientApp,
    user: &User,
) -> Result<bool, GrantError> {
    match app.permitted() {
        PermittedUsers::AdminApprovedPreAuthorized => is_preauthorized(state, app, user).await,
        PermittedUsers::AllSelfAuthorized => Ok(state
            .store()
            .has_approved(&app.org_id, &app.name, &user.id)
            .await?),
    }
}

/// For a grant that redeems something issued earlier (a code, a refresh token, an approved
/// device code): the user must still be active and unfrozen (`inactive user`) and, for an
/// admin-approved app, still pre-authorized (`OAUTH_APP_ACCESS_DENIED`): the admin may have
/// changed the policies or the user since.
pub async fn check_still_permitted(
    state: &AppState,
    app: &ClientApp,
    user: &User,
) -> Result<(), GrantError> {
    if !user.is_active || user.is_frozen {
        return Err(OAuthError::InactiveUser.into());
    }
    if !may_use(state, app, user).await? {
        return Err(OAuthError::NotAdminApproved.into());
    }
    Ok(())
}

/// Whether `user` may use the app at all (password grant): anyone when self-authorized,
/// the pre-authorized when admin-approved.
pub async fn may_use(state: &AppState, app: &ClientApp, user: &User) -> Result<bool, GrantError> {
    match app.permitted() {
        PermittedUsers::AdminApprovedPreAuthorized => is_preauthorized(state, app, user).await,
        PermittedUsers::AllSelfAuthorized => Ok(true),
    }
}
