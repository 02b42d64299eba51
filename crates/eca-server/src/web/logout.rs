//! Logout: `GET {base}/secur/logout.jsp` (Salesforce's path, linked from anywhere, so no CSRF
//! token) and `POST {base}/logout` (the home page's button, with a CSRF token). Both delete the
//! web session from the store, clear the cookie, and show "You are logged out", or redirect to
//! `retURL` when it is a path on this org.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::csrf::{self, Form};
use super::html::{self, escape};
use super::{api_error_page, cookie, error_page, pairs, param, session, start_url};
use crate::org::OrgContext;
use crate::state::AppState;

/// `GET {base}/secur/logout.jsp[?retURL=<path>]`.
pub async fn get(
    State(state): State<AppState>,
    ctx: OrgContext,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = pairs(query.unwrap_or_default().as_bytes());
    log_out(&state, &ctx, &headers, param(&query, "retURL"), None).await
}

/// `POST {base}/logout`: `csrf_token`, optional `retURL`.
pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let token = param(&form, "csrf_token").unwrap_or("");
    log_out(&state, &ctx, &headers, param(&form, "retURL"), Some(token)).await
}

async fn log_out(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    ret_url: Option<&str>,
    csrf_token: Option<&str>,
) -> Response {
    if let Some(token) = csrf_token {
        match session::current_with_id(state, ctx, headers).await {
            Ok(Some((_, active))) => {
                let now = state.clock().now();
                if !csrf::verify(state, Form::Logout, &active.session.id_hash, token, now) {
                    return error_page(
                        StatusCode::FORBIDDEN,
                        "Logout refused",
                        "This logout request did not come from this site. Use the Log Out button.",
                    );
                }
            }
            Ok(None) => {}
            Err(e) => return api_error_page(e),
        }
    }
    let target = ret_url.and_then(|r| start_url::local_path(ctx, r));
    let response = match target.and_then(|t| html::see_other(&t)) {
        Some(redirect) => redirect,
        None => logged_out_page(ctx),
    };
    end_session_then(state, ctx, headers, response).await
}

/// Ends the browser's web sessions of this org, every one it presents (one per cookie path:
/// the root and `/orgs/<domain>`), with no CSRF check (as `GET /secur/logout.jsp`), and answers
/// `response` with the session cookie cleared. The OpenID Connect end-session endpoint
/// (`oauth/end_session.rs`) logs out through it too.
pub(crate) async fn end_session_then(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    mut response: Response,
) -> Response {
    match session::all_with_ids(state, ctx, headers).await {
        Ok(sessions) => {
            for (id, active) in sessions {
                if let Err(e) = crate::session::end(state.store(), &id).await {
                    return api_error_page(e.into());
                }
                tracing::info!(user = %active.user.id, org = %ctx.org.id, "web logout");
            }
        }
        Err(e) => return api_error_page(e),
    }
    cookie::clear(&mut response, ctx, cookie::SESSION);
    response
}

/// "You are logged out", with a link to the login page.
pub(crate) fn logged_out_page(ctx: &OrgContext) -> Response {
    html::page(
        StatusCode::OK,
        "You are logged out",
        &format!(
            "<p>You are logged out of {}.</p>\n<p><a href=\"{}/login\">Log in again</a></p>",
            escape(&ctx.org.name),
            escape(&cookie::base_path(ctx)),
        ),
    )
}
