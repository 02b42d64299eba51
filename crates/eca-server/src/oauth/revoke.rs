//! `POST /services/oauth2/revoke` (form `token=`) and `GET /services/oauth2/revoke?token=`
//! (RFC 7009, `spec/oauth-and-connect.md` §1.5): revokes an access token, or a refresh token
//! and the rest of its grant (RFC 7009 §2.1: with rotation, the refresh tokens it replaced, and
//! every access token issued from any of them). No client authentication, as Salesforce.
//!
//! Success is 200 with an empty body, also for a token that was already revoked (RFC 7009
//! §2.2: revocation is idempotent). A missing or unknown token, or one of another org, is
//! `invalid_token` / `Token was invalid`; a `token_type_hint` other than `access_token` or
//! `refresh_token` is `unsupported_token_type`. Errors are JSON (400).
//!
//! The JSONP form (`GET …?token=…&callback=name`, spec §1.5) answers 200 with a script,
//! `name({})` on success or `name({"error":"invalid_token","error_description":…})`: a
//! `<script>` element runs nothing from an error status, so the error travels in the call. The
//! callback must be a JavaScript name or a dotted path of names (at most 64 characters);
//! anything else is 400 `invalid_request`, so the answer can never be made to run other code.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use eca_oauth::access_jwt;
use eca_oauth::tokens::{access_token_key, access_token_org};
use eca_oauth::{OAuthError, RequestProblem, ResponseFormat, TokenHash};

use super::{GrantError, form, reply};
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::state::AppState;

pub async fn post(
    State(state): State<AppState>,
    org: OrgContext,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match form::read(body) {
        Ok(body) => respond(&state, &org, &form::body_pairs(&headers, &body)).await,
        Err(e) => reply::error(e.into(), None, ResponseFormat::Json),
    }
}

pub async fn get(
    State(state): State<AppState>,
    org: OrgContext,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = form::query_pairs(query.as_deref());
    match param(&pairs, "callback") {
        Some(callback) => jsonp(&state, &org, &pairs, callback).await,
        None => respond(&state, &org, &pairs).await,
    }
}

/// The JSONP answer: `callback({})`, or `callback({"error":…,"error_description":…})`.
async fn jsonp(
    state: &AppState,
    org: &OrgContext,
    pairs: &[(String, String)],
    callback: &str,
) -> Response {
    if !is_callback_name(callback) {
        return reply::error(
            OAuthError::InvalidRequest(RequestProblem::InvalidCallback).into(),
            None,
            ResponseFormat::Json,
        );
    }
    let body = match revoke(state, org, pairs).await {
        Ok(()) => serde_json::json!({}),
        Err(GrantError::OAuth(e)) => serde_json::json!({
            "error": e.code(),
            "error_description": e.description(),
        }),
        Err(e) => return reply::error(e, None, ResponseFormat::Json),
    };
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CACHE_CONTROL, "no-store"),
        ],
        format!("{callback}({body});"),
    )
        .into_response()
}

/// A JSONP callback we will write into a script: `name` or `a.b.c`, each part an ASCII
/// JavaScript identifier (letters, digits, `_`, `$`; not starting with a digit).
fn is_callback_name(callback: &str) -> bool {
    callback.len() <= 64
        && callback.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

async fn respond(state: &AppState, org: &OrgContext, pairs: &[(String, String)]) -> Response {
    match revoke(state, org, pairs).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => reply::error(e, None, ResponseFormat::Json),
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

async fn revoke(
    state: &AppState,
    org: &OrgContext,
    pairs: &[(String, String)],
) -> Result<(), GrantError> {
    if let Some(hint) = param(pairs, "token_type_hint")
        && hint != "access_token"
        && hint != "refresh_token"
    {
        return Err(OAuthError::UnsupportedTokenType.into());
    }
    let token = param(pairs, "token").ok_or(OAuthError::InvalidToken)?;
    let store = state.store();
    let now = state.clock().now();
    let hash = TokenHash::of(token);
    // A token still being written behind is revoked once it is in the store
    // (`oauth::token_writer`), so revocation is never lost. The wait is only for a token
    // that is there to revoke: anyone may call this endpoint, and each wait ends the writer's
    // gathering of a batch early.
    if access_token_org(token).is_some() || access_jwt::looks_like_jwt(token) {
        if revoke_access_token(state, org, token).await? {
            return Ok(());
        }
        return Err(OAuthError::InvalidToken.into());
    }
    let record = store.refresh_token(hash.as_str()).await?;
    if record.is_some_and(|r| r.org_id == org.org.id) {
        // Its access tokens may still be queued.
        state.token_writer().sync().await;
        store.revoke_refresh_token(hash.as_str(), now).await?;
        tracing::info!(org = %org.org.id, "refresh token revoked");
        return Ok(());
    }
    Err(OAuthError::InvalidToken.into())
}

/// Revokes the access token `token` (opaque or JWT) of `org`; `false` when it is no such token.
/// Also SOAP `logout` with an access token as its session id.
pub(crate) async fn revoke_access_token(
    state: &AppState,
    org: &OrgContext,
    token: &str,
) -> Result<bool, ApiError> {
    let store = state.store();
    let key = access_token_key(token);
    // Out of the pending set means committed (it leaves the set after its batch).
    if state.token_writer().pending(key.as_str()).is_some() {
        state.token_writer().sync().await;
    }
    let Some((key, record)) = super::bearer::stored(store, token, key).await? else {
        return Ok(false);
    };
    if record.org_id != org.org.id {
        return Ok(false);
    }
    store
        .revoke_access_token(key.as_str(), state.clock().now())
        .await?;
    tracing::info!(org = %org.org.id, "access token revoked");
    Ok(true)
}
