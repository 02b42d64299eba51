//! Reading and writing the web module's cookies (RFC 6265).
//!
//! Cookies are scoped to the org's base path (`Path=/orgs/acme`, or `/` at the root), so one
//! browser can be logged in to several orgs of the server. A request to a path-prefixed org
//! then also carries the root org's cookie of the same name: readers get every value and try
//! each.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::org::OrgContext;

/// The web session cookie.
pub const SESSION: &str = "sid";
/// The pre-session cookie the login form's CSRF token is bound to.
pub const PRE_SESSION: &str = "csrf";

/// Longest cookie value read; longer ones are ignored.
const MAX_VALUE: usize = 512;

/// Every value of the cookie `name` in the request, in order.
pub fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            let v = v.trim().trim_matches('"');
            (k.trim() == name && !v.is_empty() && v.len() <= MAX_VALUE).then_some(v)
        })
        .collect()
}

/// The path part of the org's base URL: `/orgs/acme`, or `/` at the root.
pub fn base_path(ctx: &OrgContext) -> String {
    let after_scheme = ctx
        .base_url
        .split_once("://")
        .map_or(ctx.base_url.as_str(), |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_owned(),
        None => String::new(),
    }
}

/// The `Path` attribute for the org's cookies.
fn cookie_path(ctx: &OrgContext) -> String {
    let path = base_path(ctx);
    if path.is_empty() {
        "/".to_owned()
    } else {
        path
    }
}

/// Adds `Set-Cookie: name=value` for the org, HttpOnly and SameSite=Lax (so the session
/// travels on the top-level navigation back from a client to the authorize endpoint, but not
/// on cross-site posts), Secure when the base URL is https. `max_age` in seconds; `None` makes
/// a browser-session cookie.
pub fn set(
    response: &mut Response,
    ctx: &OrgContext,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) {
    let mut cookie = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Lax",
        cookie_path(ctx)
    );
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if ctx.base_url.starts_with("https://") {
        cookie.push_str("; Secure");
    }
    // Names and values are ours (session ids and random tokens): always valid header text.
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Adds a `Set-Cookie` that removes the org's cookie `name`.
pub fn clear(response: &mut Response, ctx: &OrgContext, name: &str) {
    set(response, ctx, name, "", Some(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_value_of_a_name() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; sid=x; sid=\"y\""));
        headers.append(COOKIE, HeaderValue::from_static("sid=z;other=2"));
        assert_eq!(values(&headers, "sid"), ["x", "y", "z"]);
        assert_eq!(values(&headers, "csrf"), Vec::<&str>::new());
    }
}
