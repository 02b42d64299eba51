//! The logged-in web user of a request: the `sid` cookies it carries, checked as sessions of
//! the org whose URL was used. Only sessions made by the login page count: an API session id
//! planted in a cookie does not log a browser in. A login page session made for an OAuth
//! authorization only (`SessionKind::OAuthLogin`, a user outside their login IP ranges) counts
//! only where [`current_for_oauth`] asks.

use std::net::IpAddr;

use axum::http::HeaderMap;
use eca_core::domain::SessionKind;

use super::cookie;
use crate::auth;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::session::{self, Active, SessionError};
use crate::state::AppState;

/// The logged-in web user of this org, if any, for a request from `client`. Several `sid`
/// cookies may be sent (the root org's and a path-prefixed org's); each is tried. Expired
/// sessions, sessions of other orgs, and (when the org enforces login IP ranges on every
/// request) sessions used from outside their user's ranges are `None`, so the page sends the
/// browser to the login page; only store failures are errors.
pub async fn current(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<Option<Active>, ApiError> {
    let Some(active) = current_from_anywhere(state, ctx, headers).await? else {
        return Ok(None);
    };
    match auth::check_address(state, &ctx.org, &active.user, None, client).await {
        Ok(()) => Ok(Some(active)),
        Err(ApiError::InvalidSession) => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`current`] wherever the request comes from: for logouts, which end the session.
pub async fn current_from_anywhere(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Option<Active>, ApiError> {
    Ok(find(state, ctx, headers, |k| k == SessionKind::Web)
        .await?
        .map(|(_, active)| active))
}

/// [`current`], also taking a session made for OAuth authorizations only: for the authorize
/// and device activation pages, which check the app's IP relaxation themselves.
pub async fn current_for_oauth(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Option<Active>, ApiError> {
    Ok(find(state, ctx, headers, is_login_page_session)
        .await?
        .map(|(_, active)| active))
}

/// Any login page session of the browser, with its id (to end it at logout or at a new
/// login).
pub(crate) async fn current_with_id(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Option<(String, Active)>, ApiError> {
    find(state, ctx, headers, is_login_page_session).await
}

/// Every login page session of this org the browser presents, with its id. The same org
/// answers at the root and under `/orgs/<domain>`, each with its own cookie path, so a browser
/// may hold a session under each; logout ends them all.
pub(crate) async fn all_with_ids(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
) -> Result<Vec<(String, Active)>, ApiError> {
    sessions(state, ctx, headers, is_login_page_session, usize::MAX).await
}

fn is_login_page_session(kind: SessionKind) -> bool {
    matches!(kind, SessionKind::Web | SessionKind::OAuthLogin)
}

async fn find(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    accept: fn(SessionKind) -> bool,
) -> Result<Option<(String, Active)>, ApiError> {
    Ok(sessions(state, ctx, headers, accept, 1).await?.pop())
}

/// The first `most` sessions of this org, of a kind `accept` takes, among the browser's session
/// cookies (in the order it sends them), with their ids.
async fn sessions(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    accept: fn(SessionKind) -> bool,
    most: usize,
) -> Result<Vec<(String, Active)>, ApiError> {
    let now = state.clock().now();
    let mut found = Vec::new();
    for id in cookie::values(headers, cookie::SESSION) {
        if found.len() == most {
            break;
        }
        match session::authenticate(state.store(), &ctx.org, id, now).await {
            Ok(active) if accept(active.session.kind) => found.push((id.to_owned(), active)),
            Ok(_) | Err(SessionError::Invalid) => {}
            Err(SessionError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(found)
}
