//! The SAML 2.0 identity provider of an org (issue 7): thin adapters over the `eca-saml`
//! engine, the store and the web login (`crate::web`, one IdP session for OAuth and SAML).
//!
//! | file | what |
//! |---|---|
//! | `keys` | the org's signing keys and certificates: made on first use, rotation, overlap |
//! | `registry` | service providers from the deployed `ExtlClntAppSamlConfigurablePolicies` |
//! | `sso` | SP-initiated SSO: `idp/endpoint/HttpRedirect`, `HttpPost`, `resume` |
//! | `idp_login` | IdP-initiated SSO: `idp/login?app=` |
//! | `slo` | single logout: `services/auth/idp/saml2/logout` |
//! | `idp_metadata` | `.well-known/samlidp.xml` and `.well-known/samlidp/<app>.xml` |
//! | `respond` | signed Responses and error Responses for a user; errors to pages |
//! | `ticket` | the sealed request that waits while the user logs in |
//! | `page` | the auto-submitting POST form and the Redirect-binding 302 |
//!
//! **Invariant:** a SAML message is only ever sent to a URL from the app's registration
//! (`acsUrl`, `singleLogoutUrl`), never to one taken from a request; errors that arise before
//! the service provider is known are error pages.

pub mod idp_login;
pub mod idp_metadata;
pub mod keys;
pub mod page;
pub mod registry;
pub mod respond;
pub mod slo;
pub mod sso;
pub mod ticket;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use eca_saml::binding::MAX_ENCODED_LEN;
use eca_saml::metadata::{SLO_PATH, SSO_POST_PATH, SSO_REDIRECT_PATH};

use crate::org::OrgContext;
use crate::state::AppState;

/// The largest POST-binding form accepted: the engine's bound on the encoded message, its
/// RelayState and the form encoding's growth (`+`, `/`, `=` become `%2B`...).
pub const FORM_LIMIT: usize = 3 * MAX_ENCODED_LEN + 8 * 1024;

/// The SAML routes of an org (mounted at the root and under `/orgs/{domain}`). The POST
/// bodies are bounded by [`FORM_LIMIT`] or the server's body limit, whichever is smaller.
pub fn routes(state: &AppState) -> Router<AppState> {
    let form = DefaultBodyLimit::max(FORM_LIMIT.min(state.settings().body_limit));
    Router::new()
        .route(SSO_REDIRECT_PATH, get(sso::redirect))
        .route(SSO_POST_PATH, axum::routing::post(sso::post).layer(form))
        .route(sso::RESUME_PATH, get(sso::resume))
        .route(idp_login::PATH, get(idp_login::login))
        .route(SLO_PATH, get(slo::get).post(slo::post).layer(form))
        .route(slo::CONTINUE_PATH, get(slo::resume))
        .route("/.well-known/samlidp.xml", get(idp_metadata::org))
        .route("/.well-known/samlidp/{file}", get(idp_metadata::app))
}

/// The path of the org's base URL as the browser sees it (`/orgs/acme`, or empty at the
/// root): what the login page's start URLs begin with.
pub fn base_path(ctx: &OrgContext) -> String {
    let after_scheme = ctx
        .base_url
        .split_once("://")
        .map_or(ctx.base_url.as_str(), |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or_else(String::new, |i| after_scheme[i..].to_owned())
}

/// The parameters of a query string or urlencoded body, in order.
pub fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw).into_owned().collect()
}

/// The value of `name` when it appears exactly once; a repeated SAML parameter is ambiguous
/// and counts as absent.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = pairs.iter().filter(|(k, _)| k == name);
    match (values.next(), values.next()) {
        (Some((_, v)), None) => Some(v.as_str()),
        _ => None,
    }
}
