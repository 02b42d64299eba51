//! `POST /services/oauth2/introspect` (RFC 7662, `spec/oauth-and-connect.md` §1.6): the client
//! authenticates (`client_secret_post` or `client_secret_basic`) and asks about `token`, an
//! access or refresh token. An app sees only its own tokens unless `isIntrospectAllTokens`;
//! any token it may not see, or that is not live, is `{"active": false}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_core::Timestamp;
use eca_oauth::access_jwt;
use eca_oauth::tokens::access_token_org;
use eca_oauth::{
    ClientAuthMethod, OAuthError, RefreshPolicy, ResponseFormat, TokenHash, client_auth,
};
use serde::Serialize;

use super::client::{self, SecretRule};
use super::registry::{self, ClientApp};
use super::{GrantError, bearer, form, reply};
use crate::org::OrgContext;
use crate::state::AppState;

/// The RFC 7662 §2.2 response; only `active` when the token is not.
#[derive(Debug, Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

pub async fn introspect(
    State(state): State<AppState>,
    org: OrgContext,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match form::read(body) {
        Ok(body) => body,
        Err(e) => return reply::error(e.into(), None, ResponseFormat::Json),
    };
    let pairs = form::body_pairs(&headers, &body);
    let mut method = None;
    match run(&state, &org, &headers, &pairs, &mut method).await {
        Ok(answer) => reply::body(
            StatusCode::OK,
            ResponseFormat::Json,
            serde_json::to_string(&answer).unwrap_or_default(),
        ),
        Err(e) => reply::error(e, method, ResponseFormat::Json),
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

async fn run(
    state: &AppState,
    org: &OrgContext,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    method: &mut Option<ClientAuthMethod>,
) -> Result<Introspection, GrantError> {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let credentials = client_auth::extract(
        authorization,
        param(pairs, "client_id"),
        param(pairs, "client_secret"),
    )?;
    *method = credentials.as_ref().map(|c| c.method);
    let caller = client::authenticate(
        state,
        &org.org.id,
        credentials.as_ref(),
        SecretRule::Required,
    )
    .await?;
    let token = param(pairs, "token").ok_or(OAuthError::InvalidRequest(
        eca_oauth::RequestProblem::Missing("token"),
    ))?;
    let now = state.clock().now();
    let answer = if access_token_org(token).is_some() || access_jwt::looks_like_jwt(token) {
        access(state, org, &caller, token, now).await?
    } else {
        refresh(state, org, &caller, token, now).await?
    };
    Ok(answer.unwrap_or_default())
}

/// Whether `caller` may see a token of `owner`.
fn may_see(caller: &ClientApp, owner: &ClientApp) -> bool {
    caller.consumer_id == owner.consumer_id || caller.global.introspect_all_tokens()
}

async fn access(
    state: &AppState,
    org: &OrgContext,
    caller: &ClientApp,
    token: &str,
    now: Timestamp,
) -> Result<Option<Introspection>, GrantError> {
    let Some(used) = bearer::authenticate(state, &org.org, token, now).await? else {
        return Ok(None);
    };
    if !may_see(caller, &used.app) {
        return Ok(None);
    }
    Ok(Some(Introspection {
        active: true,
        scope: Some(used.token.scopes.clone()),
        client_id: Some(used.app.consumer_key.clone()),
        username: Some(used.user.username.clone()),
        sub: Some(super::issue::identity_url(org, &used.user)),
        token_type: Some("access_token"),
        exp: Some(used.token.expires_at.millis() / 1000),
        iat: Some(used.token.issued_at.millis() / 1000),
        nbf: Some(used.token.issued_at.millis() / 1000),
    }))
}

async fn refresh(
    state: &AppState,
    org: &OrgContext,
    caller: &ClientApp,
    token: &str,
    now: Timestamp,
) -> Result<Option<Introspection>, GrantError> {
    let hash = TokenHash::of(token);
    let Some(record) = state.store().refresh_token(hash.as_str()).await? else {
        return Ok(None);
    };
    if record.org_id != org.org.id || record.revoked_at.is_some() || record.rotated_at.is_some() {
        return Ok(None);
    }
    let Some(owner) = registry::by_consumer_id(state, &record.consumer_id).await? else {
        return Ok(None);
    };
    if !owner.is_enabled() || !may_see(caller, &owner) {
        return Ok(None);
    }
    let policy = RefreshPolicy::from_policies(owner.policies.as_ref());
    let end = [
        record.expires_at,
        policy.expires_at(record.issued_at, Some(record.last_used_at)),
    ]
    .into_iter()
    .flatten()
    .min();
    if end.is_some_and(|e| now >= e)
        || !policy.is_refresh_token_valid(record.issued_at, Some(record.last_used_at), now)
    {
        return Ok(None);
    }
    let Some(user) = state
        .store()
        .user(&record.user_id)
        .await?
        .filter(|u| u.is_active && !u.is_frozen)
    else {
        return Ok(None);
    };
    Ok(Some(Introspection {
        active: true,
        scope: Some(record.scopes.clone()),
        client_id: Some(owner.consumer_key.clone()),
        username: Some(user.username.clone()),
        sub: Some(super::issue::identity_url(org, &user)),
        token_type: Some("refresh_token"),
        exp: end.map(|e| e.millis() / 1000),
        iat: Some(record.issued_at.millis() / 1000),
        nbf: Some(record.issued_at.millis() / 1000),
    }))
}
