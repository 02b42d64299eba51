//! `GET|POST {base}/services/auth/idp/oidc/logout`: the `end_session_endpoint` of discovery
//! (`spec/oauth-and-connect.md` §1 and §1.1), as OpenID Connect RP-Initiated Logout 1.0
//! defines it.
//!
//! - The browser's web sessions of the org are ended, as `GET /secur/logout.jsp` ends them.
//! - `post_logout_redirect_uri` (§2) is followed only when it is, byte for byte, one of the
//!   callback URLs of the client, which `client_id` names or, failing that, the `aud` of
//!   `id_token_hint`: an ID token this org signed (verified against its keys; it may have
//!   expired, §2). `state` is added to the redirect (§3). The spec gives no Salesforce rule for
//!   which URIs are allowed; matching the app's callback URLs keeps this from being an open
//!   redirector (RFC 9700 §4.11) without new metadata.
//! - A redirect URI that cannot be checked (no client, unknown or switched-off client, a
//!   `client_id` that is not an audience of the hint, an unverifiable hint, an unregistered
//!   URI) is an error page, never a redirect (§3: "the OP MUST NOT perform post-logout
//!   redirection"); the user is logged out all the same. Without one, the logged-out page.
//! - The user is asked first ("Log out?", a form posting the same parameters from this site)
//!   unless `id_token_hint` is an ID token of the logged-in user: §2 says the OP MUST ask when
//!   there is no hint or it names someone else. Only a `POST` carries the form's marker
//!   [`CONFIRMED`], which keeps it from asking twice; a forged cross-site `POST` carries no
//!   `SameSite=Lax` cookie, so it ends no session. The form has no CSRF token: a page of the
//!   same site (a sibling subdomain) could post it, but could as well follow a link to
//!   `/secur/logout.jsp`, below.
//! - A `POST` without the session cookie may come from the app's own site (a form it submits
//!   there): the browser leaves the cookie out of such a cross-site request, so no session
//!   could be ended. It is asked first too, and the form from this site carries the cookie.
//! - `GET {base}/secur/logout.jsp` stays a plain link that logs out at once, as Salesforce's
//!   does (`web/logout.rs`): any page can still log the user out by sending the browser there
//!   (a top-level navigation carries the `SameSite=Lax` cookie). That is Salesforce's
//!   behaviour, kept for the links and tools that rely on it.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_core::UserId;
use eca_oauth::{RedirectUri, RegisteredRedirects};
use serde_json::{Map, Value};

use super::{id_token, registry};
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::state::AppState;
use crate::web::{self, html};

/// `GET`: the parameters in the query.
pub async fn get(
    State(state): State<AppState>,
    ctx: OrgContext,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = web::pairs(query.unwrap_or_default().as_bytes());
    let hint = match read_hint(&state, &ctx, &params).await {
        Ok(hint) => hint,
        Err(e) => return web::api_error_page(e),
    };
    match asks_first(&state, &ctx, &headers, &hint).await {
        Ok(true) => confirm_page(&ctx, &params),
        Ok(false) => end_session(&state, &ctx, &headers, &params, Ok(hint)).await,
        Err(e) => web::api_error_page(e),
    }
}

/// The field of the confirmation page's form that says it was posted from this site.
const CONFIRMED: &str = "eca_logout_confirmed";

/// `POST`: the parameters in an urlencoded form body (RP-Initiated Logout §2).
pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = web::pairs(&body);
    let confirmed = web::param(&params, CONFIRMED).is_some();
    if !confirmed && !web::has_session_cookie(&headers) {
        return confirm_page(&ctx, &params);
    }
    let hint = read_hint(&state, &ctx, &params).await;
    if !confirmed {
        let ask = match &hint {
            Ok(hint) => asks_first(&state, &ctx, &headers, hint).await,
            // The hint could not be checked: ask, which is always safe.
            Err(_) => Ok(true),
        };
        match ask {
            Ok(true) => return confirm_page(&ctx, &params),
            Ok(false) => {}
            Err(e) => return web::api_error_page(e),
        }
    }
    let params: Vec<(String, String)> =
        params.into_iter().filter(|(k, _)| k != CONFIRMED).collect();
    end_session(&state, &ctx, &headers, &params, hint).await
}

/// `id_token_hint`, read once: `None` when there is none, `Some(None)` when it is not an ID
/// token of this org (`id_token::verify_hint`), else its claims.
type Hint = Option<Option<Map<String, Value>>>;

async fn read_hint(
    state: &AppState,
    ctx: &OrgContext,
    params: &[(String, String)],
) -> Result<Hint, ApiError> {
    match web::param(params, "id_token_hint") {
        Some(hint) => Ok(Some(id_token::verify_hint(state, ctx, hint).await?)),
        None => Ok(None),
    }
}

/// Whether the user must be asked before the logout (RP-Initiated Logout §2): some session of
/// the org is open, and `id_token_hint` is not an ID token of its user.
async fn asks_first(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    hint: &Hint,
) -> Result<bool, ApiError> {
    let sessions = web::session::all_with_ids(state, ctx, headers).await?;
    if sessions.is_empty() {
        return Ok(false);
    }
    let Some(Some(claims)) = hint else {
        return Ok(true);
    };
    let user = id_token::subject_user(claims).and_then(|id| UserId::parse(id).ok());
    Ok(!sessions
        .iter()
        .all(|(_, active)| user.as_ref() == Some(&active.user.id)))
}

/// "Log out?": the request's parameters again, in a form that posts from this site.
fn confirm_page(ctx: &OrgContext, params: &[(String, String)]) -> Response {
    let hidden: String = params
        .iter()
        .filter(|(k, _)| k != CONFIRMED)
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                html::escape(k),
                html::escape(v)
            )
        })
        .collect();
    let action = format!("{}/services/auth/idp/oidc/logout", web::base_path(ctx));
    html::page(
        StatusCode::OK,
        "Log out",
        &format!(
            "<p>Log out of {org}?</p>\n<form method=\"post\" action=\"{action}\">\n{hidden}\
             <input type=\"hidden\" name=\"{CONFIRMED}\" value=\"1\">\n\
             <button type=\"submit\" id=\"logout\">Log out</button>\n</form>\n\
             <p><a id=\"stay\" href=\"{home}/\">Stay logged in</a></p>",
            org = html::escape(&ctx.org.name),
            action = html::escape(&action),
            home = html::escape(&web::base_path(ctx)),
        ),
    )
}

async fn end_session(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    params: &[(String, String)],
    hint: Result<Hint, ApiError>,
) -> Response {
    let response = match web::param(params, "post_logout_redirect_uri") {
        None => web::logged_out_page(ctx),
        Some(uri) => match redirect_target(state, ctx, params, hint, uri).await {
            Ok(location) => html::see_other(&location).unwrap_or_else(|| {
                refused("the post_logout_redirect_uri cannot be used as a redirect")
            }),
            Err(Refusal::Page(response)) => response,
            // The redirect could not be checked; the logout happens all the same.
            Err(Refusal::Api(e)) => web::api_error_page(e),
        },
    };
    web::end_session_then(state, ctx, headers, response).await
}

enum Refusal {
    Page(Response),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

fn refused(why: &str) -> Response {
    web::error_page(
        StatusCode::BAD_REQUEST,
        "Logged out",
        &format!("You are logged out, but cannot be sent back to the application: {why}."),
    )
}

/// `uri` with `state`, when the client named by the request registered it.
async fn redirect_target(
    state: &AppState,
    ctx: &OrgContext,
    params: &[(String, String)],
    hint: Result<Hint, ApiError>,
    uri: &str,
) -> Result<String, Refusal> {
    let page = |why: &str| Refusal::Page(refused(why));
    let audiences = match hint? {
        Some(claims) => Some(
            claims
                .map(|claims| id_token::audiences(&claims))
                .ok_or_else(|| page("the id_token_hint is not a valid ID token of this org"))?,
        ),
        None => None,
    };
    let client_id = match (web::param(params, "client_id"), &audiences) {
        (Some(id), Some(aud)) if !aud.iter().any(|a| a == id) => {
            return Err(page(
                "the client_id is not an audience of the id_token_hint",
            ));
        }
        (Some(id), _) => id.to_owned(),
        // The ID token's audiences: the consumer key, then any `idTokenAudience` values.
        (None, Some(aud)) => aud
            .first()
            .cloned()
            .ok_or_else(|| page("the id_token_hint names no client"))?,
        (None, None) => {
            return Err(page(
                "post_logout_redirect_uri needs a client_id or an id_token_hint",
            ));
        }
    };
    let app = match registry::by_client_id(state, &client_id, state.clock().now()).await? {
        Some(app) if app.org_id == ctx.org.id && app.is_enabled() => app,
        _ => return Err(page("the client_id is not an application of this org")),
    };
    let registered = RedirectUri::parse(uri)
        .ok()
        .filter(|u| RegisteredRedirects::from_settings(&app.global).contains(u))
        .ok_or_else(|| {
            page("the post_logout_redirect_uri is not one of the application's callback URLs")
        })?;
    let mut location = registered.as_str().to_owned();
    if let Some(value) = web::param(params, "state") {
        location.push(if location.contains('?') { '&' } else { '?' });
        location.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("state", value)
                .finish(),
        );
    }
    Ok(location)
}
