//! Where a user may get an app's tokens from: their profile's login IP ranges
//! (`LoginIpRange`), relaxed per app by the admin's `ipRelaxationPolicyType` and the
//! developer's `trustedIpRanges` (`docs/oauth.md`, "IP restrictions").
//!
//! The rules follow Salesforce Help, "Connected App IP Relaxation and Continuous IP
//! Enforcement" (default mode, without continuous enforcement):
//! - a profile without login IP ranges restricts nothing;
//! - `Enforce`: the client address must be in one of the profile's ranges;
//! - `Enforce_RelaxRefresh`: the same, except that the refresh token grant is not checked;
//! - `Bypass_2factor` ("relax with second factor"): the web server flow (authorize with
//!   `response_type=code` and the code exchange) is not checked when the client address is in
//!   one of the app's trusted IP ranges. Salesforce's other way in, identity verification of
//!   the user, does not exist in OpenECA, so every other request is checked as `Enforce`;
//! - `Bypass` ("relax IP restrictions"): nothing is checked for this app;
//! - the JWT bearer grant is always checked, whatever the policy (the Help's note on JWT and
//!   SAML bearer flows).
//!
//! Checks happen when something is issued to the user (the authorize request, every token
//! grant, the device approval). When the org has "Enforce login IP ranges on every request"
//! (continuous IP enforcement), each call with an access token already issued is checked too
//! ([`Step::Use`], from `crate::auth`): `Bypass` lets it through, `Bypass_2factor` from one of
//! the app's trusted ranges, and `Enforce` and `Enforce_RelaxRefresh` check the profile's
//! ranges.

use std::net::IpAddr;

use eca_core::domain::User;
use eca_core::net::any_contains;
use eca_metadata::model::IpRelaxation;
use eca_oauth::OAuthError;

use super::GrantError;
use super::registry::ClientApp;
use crate::access::UserAccess;
use crate::directory;
use crate::state::AppState;

/// The request that would issue something to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The authorize endpoint; `code` for `response_type=code` (the web server flow), false
    /// for the user-agent flow.
    Authorize {
        code: bool,
    },
    CodeExchange,
    Refresh,
    ClientCredentials,
    Password,
    JwtBearer,
    /// The device flow: the user's approval on the activation page, and the device's poll.
    Device,
    /// A call with an access token, when the org enforces login IP ranges on every request.
    Use,
}

impl Step {
    fn is_web_server_flow(self) -> bool {
        matches!(self, Step::Authorize { code: true } | Step::CodeExchange)
    }
}

/// Whether the policy lets `client` through for `step` without the profile's ranges.
fn relaxed(app: &ClientApp, step: Step, client: IpAddr) -> bool {
    if step == Step::JwtBearer {
        return false;
    }
    match app.ip_relaxation() {
        IpRelaxation::Bypass => true,
        IpRelaxation::EnforceRelaxRefresh => step == Step::Refresh,
        IpRelaxation::Bypass2Factor => {
            (step.is_web_server_flow() || step == Step::Use)
                && any_contains(&app.trusted_ranges, client)
        }
        IpRelaxation::Enforce => false,
    }
}

/// Whether a user with `access` may get `app`'s tokens from `client` at `step`.
pub fn allows(access: &UserAccess, app: &ClientApp, step: Step, client: IpAddr) -> bool {
    access.allows_address(client) || relaxed(app, step, client)
}

/// [`allows`] for `user`, whose access is read through the directory cache:
/// `invalid_grant` / `ip restricted or invalid login hours` (Salesforce's answer) when not.
pub async fn check(
    state: &AppState,
    app: &ClientApp,
    user: &User,
    step: Step,
    client: IpAddr,
) -> Result<(), GrantError> {
    let access = directory::access(state, user).await?;
    if allows(&access, app, step, client) {
        return Ok(());
    }
    tracing::info!(
        app = %app.name,
        user = %user.id,
        %client,
        ?step,
        "refused: the address is outside the user's login IP ranges"
    );
    Err(OAuthError::IpRestricted.into())
}
