//! Which org a request is for, and the base URL it came in on (issue 3, "Orgs and people").
//!
//! Every org answers at three kinds of address:
//! - `/orgs/<mydomain>/...` on any host (a path prefix);
//! - `http://<mydomain>.localhost:<port>/...`, or `<mydomain>.<public host>`: the `Host` header;
//! - the server root, for the default org.
//!
//! The base URL is `<public_url scheme>://<Host header><public_url path>[/orgs/<mydomain>]`,
//! falling back to the public URL's authority when the request has no usable `Host`. Every URL
//! the server hands out (SOAP `serverUrl`, identity URLs, later `instance_url`) is built from
//! it, so a client keeps talking to the address it started with.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header::HOST;
use axum::http::request::Parts;
use eca_core::domain::Org;

use crate::config::{host_of, is_authority};
use crate::directory;
use crate::error::ApiError;
use crate::state::AppState;

/// The resolved org of a request. Cheap to clone: every extractor of a request gets one.
#[derive(Debug, Clone)]
pub struct OrgContext {
    /// Shared with the directory cache (`crate::directory`).
    pub org: Arc<Org>,
    /// No trailing slash.
    pub base_url: String,
}

/// How the request named its org.
#[derive(Debug, PartialEq, Eq)]
enum Named<'a> {
    Prefix(&'a str),
    Host(&'a str),
    Default,
}

impl FromRequestParts<AppState> for OrgContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(ctx) = parts.extensions.get::<OrgContext>() {
            return Ok(ctx.clone());
        }
        let ctx = resolve(parts, state).await?;
        parts.extensions.insert(ctx.clone());
        Ok(ctx)
    }
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<OrgContext, ApiError> {
    let public = &state.settings().public_url;
    let host = request_authority(parts);
    // Under `/orgs/{domain}` the nested router sees the path without its prefix: the
    // original URI keeps it.
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path());
    let named = name_of(path, host, public.host());
    let org = match named {
        Named::Prefix(domain) | Named::Host(domain) => {
            if !is_domain(domain) {
                return Err(unknown_org(domain));
            }
            directory::org_by_domain(state, domain)
                .await?
                .ok_or_else(|| unknown_org(domain))?
        }
        Named::Default => directory::default_org(state)
            .await?
            .ok_or_else(|| ApiError::NotFound("This server has no default org".to_owned()))?,
    };
    let authority = host.unwrap_or(public.authority());
    let prefix = match named {
        Named::Prefix(domain) => format!("/orgs/{domain}"),
        _ => String::new(),
    };
    Ok(OrgContext {
        base_url: format!("{}://{authority}{}{prefix}", public.scheme(), public.path()),
        org,
    })
}

fn unknown_org(domain: &str) -> ApiError {
    ApiError::NotFound(format!(
        "There is no org with the My Domain name `{domain}`"
    ))
}

/// The `Host` header (or the authority of an absolute-form URI), when it is a plain
/// `host[:port]`; anything else is ignored rather than echoed into URLs.
fn request_authority(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .filter(|a| is_authority(a))
}

fn name_of<'a>(path: &'a str, authority: Option<&'a str>, public_host: &str) -> Named<'a> {
    if let Some(rest) = path.strip_prefix("/orgs/") {
        let domain = rest.split('/').next().unwrap_or("");
        return Named::Prefix(domain);
    }
    if let Some(host) = authority.map(host_of) {
        let public_suffix = format!(".{public_host}");
        for suffix in [".localhost", public_suffix.as_str()] {
            if let Some(label) = strip_suffix_ignore_case(host, suffix)
                && !label.is_empty()
                && !label.contains('.')
            {
                return Named::Host(label);
            }
        }
    }
    Named::Default
}

fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(cut) && s[cut..].eq_ignore_ascii_case(suffix)).then(|| &s[..cut])
}

/// A My Domain name: letters, digits and hyphens.
fn is_domain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_orgs_by_prefix_host_or_default() {
        assert_eq!(
            name_of(
                "/orgs/acme/services/data",
                Some("demo.localhost:8080"),
                "127.0.0.1"
            ),
            Named::Prefix("acme")
        );
        assert_eq!(
            name_of("/services/data", Some("Acme.LOCALHOST:8080"), "127.0.0.1"),
            Named::Host("Acme")
        );
        assert_eq!(
            name_of("/", Some("acme.eca.example.com"), "eca.example.com"),
            Named::Host("acme")
        );
        assert_eq!(
            name_of("/", Some("a.b.localhost"), "127.0.0.1"),
            Named::Default
        );
        assert_eq!(
            name_of("/", Some("localhost:80"), "localhost"),
            Named::Default
        );
        assert_eq!(name_of("/", None, "localhost"), Named::Default);
        assert!(is_domain("my-org1"));
        assert!(!is_domain("a/b"));
    }
}
