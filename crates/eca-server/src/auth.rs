//! Extractors for who is calling: [`Authenticated`] (a valid session, or OAuth access token,
//! on this org's URL) and [`ClientIp`] (the peer address, for the login limiter).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use eca_core::domain::{Org, Permission, SessionKind, User};
use serde::Deserialize;

use crate::directory;
use crate::error::ApiError;
use crate::oauth::ip_relaxation::{self, Step};
use crate::oauth::registry::ClientApp;
use crate::org::OrgContext;
use crate::session::{self, Active, SessionError};
use crate::state::AppState;

/// A request with a valid session for the org whose URL it used.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub org: OrgContext,
    pub active: Active,
    /// The app whose OAuth access token it presented; `None` for a session.
    pub app: Option<Arc<ClientApp>>,
}

#[derive(Deserialize)]
struct TokenQuery {
    oauth_token: Option<String>,
}

/// The session id of a request: `Authorization: Bearer <id>` (or Salesforce's older
/// `OAuth <id>`), else the `oauth_token` query parameter that jsforce's `identity()` sends
/// (`spec/oauth-and-connect.md` §1.3).
pub(crate) fn presented_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = value.trim().split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
            .then(|| token.trim().to_owned());
    }
    Query::<TokenQuery>::try_from_uri(&parts.uri)
        .ok()
        .and_then(|q| q.0.oauth_token)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let org = OrgContext::from_request_parts(parts, state).await?;
        let token = presented_token(parts).ok_or(ApiError::InvalidSession)?;
        let Ok(ClientIp(client)) = ClientIp::from_request_parts(parts, state).await;
        let api = Api::of_path(parts.uri.path());
        let (active, app) = check_with_app(state, &org, &token, api, client).await?;
        Ok(Authenticated { org, active, app })
    }
}

/// Which API a session or token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Rest,
    /// The Connect REST API's resources (`/services/data/vXX.X/apps/oauth/**`).
    Connect,
    /// The SOAP partner and Metadata APIs: JWT access tokens are refused there, as they are
    /// "only usable for REST APIs" (`spec/oauth-and-connect.md` §1.11).
    Soap,
    /// The identity URL and userinfo, which say who the token's user is.
    Identity,
}

impl Api {
    /// The API a request path of [`Authenticated`] belongs to.
    fn of_path(path: &str) -> Api {
        // Org routes are also mounted under `/orgs/{domain}`.
        let path = match path.strip_prefix("/orgs/") {
            Some(rest) => rest.find('/').map_or("", |at| &rest[at..]),
            None => path,
        };
        if path.starts_with("/id/") {
            Api::Identity
        } else if path.contains("/apps/oauth/") {
            Api::Connect
        } else {
            Api::Rest
        }
    }

    /// Whether an access token granted `scopes` (space-separated) may be used here
    /// (`spec/oauth-and-connect.md` §4): `api` (or `full`) for the data APIs, REST and SOAP;
    /// on the Connect REST API `chatter_api` too; anything on the identity URL and userinfo,
    /// which only say whose token it is. Sessions (SOAP or browser logins) have no scopes and
    /// are not asked.
    pub fn allows(self, scopes: &str) -> bool {
        let has = |wanted: &str| scopes.split(' ').any(|s| s == wanted);
        match self {
            Api::Identity => true,
            Api::Connect => has("api") || has("full") || has("chatter_api"),
            Api::Rest | Api::Soap => has("api") || has("full"),
        }
    }

    /// The API's name in the refusal of a token without the scope for it.
    fn name(self) -> &'static str {
        match self {
            Api::Soap => "SOAP API",
            Api::Connect => "Connect REST API",
            Api::Rest | Api::Identity => "REST API",
        }
    }
}

/// Checks a session id, or else an OAuth access token (`oauth::bearer`), presented to `api` on
/// `org`'s URL from `client`. Both have the shape `<org15>!<opaque>`, so both tables may be
/// asked. A token must have been granted a scope for `api` ([`Api::allows`]).
pub async fn check_for(
    state: &AppState,
    org: &OrgContext,
    token: &str,
    api: Api,
    client: IpAddr,
) -> Result<Active, ApiError> {
    Ok(check_with_app(state, org, token, api, client).await?.0)
}

/// [`check_for`], with the app of the access token when it was one.
pub(crate) async fn check_with_app(
    state: &AppState,
    org: &OrgContext,
    token: &str,
    api: Api,
    client: IpAddr,
) -> Result<(Active, Option<Arc<ClientApp>>), ApiError> {
    let now = state.clock().now();
    match session::authenticate(state.store(), &org.org, token, now).await {
        // A login page session made only to finish an OAuth authorization (outside the
        // user's login IP ranges) is no API session.
        Ok(active) if active.session.kind == SessionKind::OAuthLogin => {
            Err(ApiError::InvalidSession)
        }
        Ok(active) => {
            check_api_enabled(state, &active.user, api).await?;
            check_address(state, &org.org, &active.user, None, client).await?;
            Ok((active, None))
        }
        Err(SessionError::Invalid) => {
            let used = crate::oauth::bearer::authenticate(state, &org.org, token, now)
                .await?
                .filter(|used| {
                    api != Api::Soap || used.token.format != eca_store::AccessTokenFormat::Jwt
                })
                .ok_or(ApiError::InvalidSession)?;
            if !api.allows(&used.token.scopes) {
                tracing::info!(app = %used.app.name, scopes = %used.token.scopes, api = api.name(), "access token refused: no scope for this API");
                return Err(ApiError::ScopeNotGranted(api.name()));
            }
            check_api_enabled(state, &used.user, api).await?;
            check_address(state, &org.org, &used.user, Some(&used.app), client).await?;
            Ok((used.active(), Some(used.app)))
        }
        Err(SessionError::Store(e)) => Err(e.into()),
    }
}

/// The data APIs (REST, SOAP, Connect) need API Enabled from the user's profile or a
/// permission set, on every call and whatever the way in: a browser session (the login page
/// does not ask for it), an OAuth token, or a session made before the permission was taken
/// away. `API_DISABLED_FOR_ORG`, as the SOAP login answers. The identity URL and userinfo
/// only say who the user is, and answer anyway.
async fn check_api_enabled(state: &AppState, user: &User, api: Api) -> Result<(), ApiError> {
    if api == Api::Identity {
        return Ok(());
    }
    let access = directory::access(state, user).await?;
    if access.permissions().contains(Permission::ApiEnabled) {
        return Ok(());
    }
    tracing::info!(user = %user.id, api = api.name(), "refused: the user has no API Enabled");
    Err(ApiError::ApiDisabled)
}

/// Continuous IP enforcement: when `org` has "Enforce login IP ranges on every request", a
/// session works only from inside its user's login IP ranges, and an access token too unless
/// its app's IP relaxation lets `client` through (`oauth::ip_relaxation`, [`Step::Use`]).
/// Refused calls get `INVALID_SESSION_ID`, as an IP-locked session does on Salesforce; the
/// session or token is not ended, and works again from an allowed address.
///
/// [`Step::Use`]: crate::oauth::ip_relaxation::Step::Use
pub async fn check_address(
    state: &AppState,
    org: &Org,
    user: &User,
    app: Option<&ClientApp>,
    client: IpAddr,
) -> Result<(), ApiError> {
    if !org.enforce_ip_ranges_every_request {
        return Ok(());
    }
    let access = directory::access(state, user).await?;
    let allowed = match app {
        Some(app) => ip_relaxation::allows(&access, app, Step::Use, client),
        None => access.allows_address(client),
    };
    if allowed {
        return Ok(());
    }
    tracing::info!(
        user = %user.id,
        app = app.map(|a| a.name.as_str()),
        %client,
        "refused: the address is outside the user's login IP ranges (enforced on every request)"
    );
    Err(ApiError::InvalidSession)
}

/// The client's address: the peer's, or behind a configured trusted proxy the one its
/// `X-Forwarded-For` names (`proxy`, `docs/server.md`). In-process tests without connection
/// info count as `0.0.0.0`.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(
            state
                .settings()
                .trusted_proxies
                .client_address(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_api_asks_for_its_scopes() {
        for (scopes, rest, connect, identity) in [
            ("api", true, true, true),
            ("refresh_token full", true, true, true),
            ("chatter_api", false, true, true),
            ("openid id profile", false, false, true),
            ("", false, false, true),
            ("apiary web", false, false, true),
        ] {
            assert_eq!(Api::Rest.allows(scopes), rest, "{scopes}");
            assert_eq!(Api::Soap.allows(scopes), rest, "{scopes}");
            assert_eq!(Api::Connect.allows(scopes), connect, "{scopes}");
            assert_eq!(Api::Identity.allows(scopes), identity, "{scopes}");
        }
    }

    #[test]
    fn the_api_of_a_path() {
        assert_eq!(Api::of_path("/services/data/v66.0/sobjects"), Api::Rest);
        assert_eq!(Api::of_path("/orgs/acme/services/data/v66.0"), Api::Rest);
        assert_eq!(
            Api::of_path("/services/data/v66.0/apps/oauth/usage"),
            Api::Connect
        );
        assert_eq!(
            Api::of_path("/orgs/acme/services/data/v66.0/apps/oauth/usage"),
            Api::Connect
        );
        assert_eq!(Api::of_path("/id/00D/005"), Api::Identity);
        assert_eq!(Api::of_path("/orgs/acme/id/00D/005"), Api::Identity);
        assert_eq!(Api::of_path("/orgs/id/services/data"), Api::Rest);
    }
}
