//! The logged-in web user of a request: the `sid` cookies it carries, checked as sessions of
//! the org whose URL was used. Only sessions made by the login page (`SessionKind::Web`)
//! count: an API session id planted in a cookie does not log a browser in.

use axum::http::HeaderMap;
use eca_core::domain::SessionKind;

use super::cookie;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::session::{self, Active, SessionError};
use crate::state::AppState;

/// The logged-in web user of this org, if any. Several `sid` cookies may be sent (the root
/// org's and a path-prefixed org's); each is tried. Expired sessions and sessions of other
/// orgs are `None`; only store failures are errors.
pub async fn current(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Option<Active>, ApiError> {
    Ok(current_with_id(state, ctx, headers)
        .await?
        .map(|(_, active)| active))
}

/// [`current`], with the session id (to end it at logout).
pub(crate) async fn current_with_id(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Option<(String, Active)>, ApiError> {
    let now = state.clock().now();
    for id in cookie::values(headers, cookie::SESSION) {
        match session::authenticate(state.store(), &ctx.org, id, now).await {
            Ok(active) if active.session.kind == SessionKind::Web => {
                return Ok(Some((id.to_owned(), active)));
            }
            Ok(_) | Err(SessionError::Invalid) => {}
            Err(SessionError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(None)
}
