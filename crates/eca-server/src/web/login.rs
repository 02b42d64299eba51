//! `GET {base}/login` (the form), `POST {base}/login` (the check, through the same rules as
//! the SOAP login: `crate::login` with [`Purpose::WEB`]), and `GET {base}/home`, the page a
//! login without a usable `startURL` lands on.
//!
//! The form keeps Salesforce's element ids (`username`, `password`, `Login`) because browser
//! automation written against Salesforce finds them by id. A failed login re-renders the form
//! with one generic message whatever the reason (unknown user, wrong password, locked out,
//! inactive, API Only), so the page does not tell which part was wrong.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_core::Secret;
use eca_oauth::authorize::Display;

use super::csrf::{self, Form};
use super::html::{self, escape};
use super::{api_error_page, cookie, login_redirect, pairs, param, session, start_url};
use crate::auth::ClientIp;
use crate::error::ApiError;
use crate::login::{self, Purpose};
use crate::org::OrgContext;
use crate::state::AppState;

/// The message of every failed login (Salesforce's login page wording).
pub const FAILED_MESSAGE: &str = "Please check your username and password. If you still can't \
                                  log in, contact your administrator.";
const RATE_MESSAGE: &str = "Too many failed logins from your address. Wait a minute and try again.";
const EXPIRED_MESSAGE: &str =
    "Your login page expired or did not come from this site. Log in again.";

/// Longest username and password read; longer ones fail like a wrong password.
const MAX_USERNAME: usize = 255;
const MAX_PASSWORD: usize = 1024;
/// Random bytes in the pre-session cookie.
const PRE_SESSION_BYTES: usize = 24;

/// `GET {base}/login?startURL=<path>[&un=<username>]`.
pub async fn form(
    State(state): State<AppState>,
    ctx: OrgContext,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = pairs(query.unwrap_or_default().as_bytes());
    let start = param(&query, "startURL").unwrap_or("");
    let username = param(&query, "un").unwrap_or("");
    render(
        &state,
        &ctx,
        &headers,
        StatusCode::OK,
        start,
        username,
        None,
    )
}

/// `POST {base}/login`: `username`, `password`, `csrf_token`, `startURL`.
pub async fn submit(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let query = pairs(query.unwrap_or_default().as_bytes());
    let start = param(&form, "startURL")
        .or_else(|| param(&query, "startURL"))
        .unwrap_or("");
    let username = param(&form, "username").unwrap_or("").trim();
    let now = state.clock().now();
    let presented = param(&form, "csrf_token").unwrap_or("");
    let csrf_ok = cookie::values(&headers, cookie::PRE_SESSION)
        .iter()
        .any(|binding| csrf::verify(&state, Form::Login, binding, presented, now));
    if !csrf_ok {
        tracing::info!("login form refused: missing or invalid CSRF token");
        let shown = username.chars().take(MAX_USERNAME).collect::<String>();
        return render(
            &state,
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            start,
            &shown,
            Some(EXPIRED_MESSAGE),
        );
    }
    let password = param(&form, "password").unwrap_or("");
    if username.is_empty() || username.len() > MAX_USERNAME || password.len() > MAX_PASSWORD {
        return render(
            &state,
            &ctx,
            &headers,
            StatusCode::OK,
            start,
            "",
            Some(FAILED_MESSAGE),
        );
    }
    let purpose = if start_url::continues_oauth(&ctx, start) {
        Purpose::WEB_FOR_OAUTH
    } else {
        Purpose::WEB
    };
    let outcome = login::password_login(
        &state,
        &ctx.org,
        username,
        Secret::new(password),
        client,
        purpose,
    )
    .await;
    let issued = match outcome {
        Ok(done) => done.issued,
        Err(ApiError::InvalidLogin | ApiError::ApiDisabled | ApiError::Forbidden(_)) => {
            return render(
                &state,
                &ctx,
                &headers,
                StatusCode::OK,
                start,
                username,
                Some(FAILED_MESSAGE),
            );
        }
        Err(ApiError::LoginRateExceeded) => {
            return render(
                &state,
                &ctx,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                start,
                username,
                Some(RATE_MESSAGE),
            );
        }
        Err(other) => return api_error_page(other),
    };
    // A new login replaces this browser's earlier session at the org (`prompt=login`,
    // `max_age`, or another user logging in): the old one ends instead of living on unseen.
    match session::current_with_id(&state, &ctx, &headers).await {
        Ok(Some((_, old))) => {
            if let Err(e) = state.store().delete_session(&old.session.id_hash).await {
                tracing::warn!(error = %e, "the replaced web session could not be ended");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "the replaced web session could not be read"),
    }
    let target = start_url::local_path(&ctx, start)
        .unwrap_or_else(|| format!("{}/home", cookie::base_path(&ctx)));
    let Some(mut response) = html::see_other(&target) else {
        return api_error_page(ApiError::Internal("unusable start URL".into()));
    };
    // A browser-session cookie: the server's session timeout decides how long it is good for.
    cookie::set(
        &mut response,
        &ctx,
        cookie::SESSION,
        issued.id.expose(),
        None,
    );
    cookie::clear(&mut response, &ctx, cookie::PRE_SESSION);
    response
}

/// The login form, with a fresh CSRF token bound to the pre-session cookie (the browser's
/// existing one is kept, so two open login tabs both work).
fn render(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    status: StatusCode,
    start: &str,
    username: &str,
    message: Option<&str>,
) -> Response {
    let existing = cookie::values(headers, cookie::PRE_SESSION)
        .into_iter()
        .find(|v| {
            v.len() == 32
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let binding = existing.unwrap_or_else(|| eca_core::rng::token(state.rng(), PRE_SESSION_BYTES));
    let token = csrf::token(state, Form::Login, &binding, state.clock().now());
    let error = message.map_or(String::new(), |m| {
        format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(m))
    });
    let body = format!(
        "{error}<form method=\"post\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"startURL\" value=\"{start}\">\n\
         <label for=\"username\">Username</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" \
         autocomplete=\"username\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required>\n\
         <input type=\"submit\" id=\"Login\" name=\"Login\" value=\"Log In\">\n\
         </form>",
        token = escape(&token),
        start = escape(start),
        username = escape(username),
    );
    // A login on the way to an authorization is laid out as that request's `display` asks.
    let display = start
        .split_once('?')
        .and_then(|(_, query)| {
            form_urlencoded::parse(query.split('#').next().unwrap_or("").as_bytes())
                .find(|(k, _)| k == "display")
                .map(|(_, v)| Display::parse(Some(&v)))
        })
        .unwrap_or_default();
    let mut response = html::page_for(
        status,
        &format!("Log in to {}", ctx.org.name),
        &body,
        display,
    );
    cookie::set(
        &mut response,
        ctx,
        cookie::PRE_SESSION,
        &binding,
        Some(csrf::LIFETIME_SECS),
    );
    response
}

/// `GET {base}/home`: who is logged in, and a logout button.
pub async fn home(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let active = match session::current(&state, &ctx, &headers, client).await {
        Ok(Some(active)) => active,
        Ok(None) => {
            return login_redirect(&ctx, &format!("{}/home", cookie::base_path(&ctx)));
        }
        Err(e) => return api_error_page(e),
    };
    let token = csrf::token(
        &state,
        Form::Logout,
        &active.session.id_hash,
        state.clock().now(),
    );
    let user = &active.user;
    let body = format!(
        "<p>You are logged in to <strong>{org}</strong> as <strong id=\"userName\">{username}</strong> \
         ({name}).</p>\n\
         <form method=\"post\" action=\"{base}/logout\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"submit\" id=\"logout\" name=\"logout\" value=\"Log Out\">\n\
         </form>",
        org = escape(&ctx.org.name),
        username = escape(&user.username),
        name = escape(&user.name()),
        base = escape(&cookie::base_path(&ctx)),
        token = escape(&token),
    );
    html::page(StatusCode::OK, "Home", &body)
}
