//! The browser side of an org: server-rendered HTML pages that work without JavaScript (the
//! login page, the home page, logout), web sessions in an HttpOnly cookie, and the helpers the
//! other browser endpoints (OAuth authorize, SAML IdP) build on: [`session::current`],
//! [`login_redirect`], [`error_page`].
//!
//! | file | what |
//! |---|---|
//! | `html` | escaping, the one page layout, the security headers of every page |
//! | `cookie` | the `sid` session cookie and the `csrf` pre-session cookie, scoped to the org |
//! | `csrf` | CSRF tokens: HMAC of the form, the cookie or session they are bound to, a time |
//! | `session` | the logged-in web user of a request |
//! | `start_url` | which `startURL` / `retURL` values are paths on this org |
//! | `login` | `GET`/`POST {base}/login`, `GET {base}/home` |
//! | `logout` | `GET {base}/secur/logout.jsp`, `POST {base}/logout` |
//!
//! **CSRF.** Every form carries a hidden `csrf_token` (see `csrf`): on the login form it is
//! bound to a random `csrf` cookie set with the form (one hour, HttpOnly, SameSite=Lax); on
//! the forms of a logged-in user to the web session. The check is constant-time and the
//! token expires after an hour. SameSite=Lax on both cookies is a second line.
//!
//! **Pages** answer with `Cache-Control: no-store`, `X-Frame-Options: DENY` and a content
//! security policy with `frame-ancestors 'none'` and no scripts.

mod cookie;

pub use cookie::base_path;
pub mod csrf;
pub mod html;
mod login;
mod logout;
pub(crate) use logout::{end_session_then, logged_out_page};
pub mod session;
pub mod start_url;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::{ApiError, Surface};
use crate::org::OrgContext;
use crate::state::AppState;

/// The largest form body the pages read.
pub const FORM_LIMIT: usize = 16 * 1024;

/// The web routes of an org (mounted at the root and under `/orgs/{domain}`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/login",
            get(login::form)
                .post(login::submit)
                .layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
        .route("/home", get(login::home))
        .route("/secur/logout.jsp", get(logout::get))
        .route(
            "/logout",
            post(logout::post).layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
}

/// An error page: `title` and `message` are text (escaped here); never cached.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    html::page(
        status,
        title,
        &format!("<p class=\"error\">{}</p>", html::escape(message)),
    )
}

/// A server error on a page: the status and public message of the one mapping in `error.rs`,
/// as HTML. Internal errors are logged with their detail and the request
/// (`crate::error::finish`), never shown.
pub fn api_error_page(err: ApiError) -> Response {
    let page = error_page(err.status(Surface::Rest), "Error", &err.public_message());
    crate::error::attach(page, err)
}

/// `303 See Other` to the org's login page, which comes back to `start_url` (a path relative
/// to the server root as the browser sees it, e.g. `/orgs/acme/idp/login?app=X`) once the
/// user has logged in.
pub fn login_redirect(ctx: &OrgContext, start_url: &str) -> Response {
    login_redirect_with_hint(ctx, start_url, None)
}

/// [`login_redirect`], with the username field pre-filled (OIDC `login_hint`).
pub fn login_redirect_with_hint(
    ctx: &OrgContext,
    start_url: &str,
    username: Option<&str>,
) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("startURL", start_url);
    if let Some(username) = username {
        query.append_pair("un", username);
    }
    let query = query.finish();
    let location = format!("{}/login?{query}", ctx.base_url);
    html::see_other(&location).unwrap_or_else(|| {
        // The base URL is built from a checked `Host` and the query is percent-encoded, so
        // this is unreachable; answer with a page rather than panic.
        error_page(
            StatusCode::BAD_REQUEST,
            "Error",
            "The login page address could not be built",
        )
    })
}

/// Whether the request carries a web session cookie at all (valid or not).
pub(crate) fn has_session_cookie(headers: &axum::http::HeaderMap) -> bool {
    !cookie::values(headers, cookie::SESSION).is_empty()
}

/// The parameters of a query string or urlencoded form body, in order.
pub(crate) fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw).into_owned().collect()
}

/// The first value of `name`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
