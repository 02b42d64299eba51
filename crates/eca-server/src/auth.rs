//! Extractors for who is calling: [`Authenticated`] (a valid session, or OAuth access token,
//! on this org's URL) and [`ClientIp`] (the peer address, for the login limiter).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use eca_core::domain::SessionKind;
use serde::Deserialize;

use crate::error::ApiError;
use crate::org::OrgContext;
use crate::session::{self, Active, SessionError};
use crate::state::AppState;

/// A request with a valid session for the org whose URL it used.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub org: OrgContext,
    pub active: Active,
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
        let active = check(state, &org, &token).await?;
        Ok(Authenticated { org, active })
    }
}

/// Checks a session id, or else an opaque OAuth access token (`oauth::bearer`), presented on
/// `org`'s URL. Both have the shape `<org15>!<opaque>`, so both tables may be asked.
pub async fn check(state: &AppState, org: &OrgContext, token: &str) -> Result<Active, ApiError> {
    check_for(state, org, token, Api::Rest).await
}

/// Which API a session or token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Rest,
    /// The SOAP partner and Metadata APIs: JWT access tokens are refused there, as they are
    /// "only usable for REST APIs" (`spec/oauth-and-connect.md` §1.11).
    Soap,
}

/// [`check`] for a given API.
pub async fn check_for(
    state: &AppState,
    org: &OrgContext,
    token: &str,
    api: Api,
) -> Result<Active, ApiError> {
    let now = state.clock().now();
    match session::authenticate(state.store(), &org.org, token, now).await {
        // A login page session made only to finish an OAuth authorization (outside the
        // user's login IP ranges) is no API session.
        Ok(active) if active.session.kind == SessionKind::OAuthLogin => {
            Err(ApiError::InvalidSession)
        }
        Ok(active) => Ok(active),
        Err(SessionError::Invalid) => {
            crate::oauth::bearer::authenticate(state, &org.org, token, now)
                .await?
                .filter(|used| {
                    api == Api::Rest || used.token.format != eca_store::AccessTokenFormat::Jwt
                })
                .map(|used| used.active())
                .ok_or(ApiError::InvalidSession)
        }
        Err(SessionError::Store(e)) => Err(e.into()),
    }
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
