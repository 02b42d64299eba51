//! Opaque access tokens presented as `Authorization: Bearer` (or `oauth_token`) on the REST
//! API, the identity URL and userinfo: looked up by hash on every use, so revocation, expiry,
//! a deactivated user and a disabled or deleted app take effect at once.

use std::sync::Arc;

use eca_core::Timestamp;
use eca_core::domain::{Org, Session, SessionKind, User};
use eca_oauth::TokenHash;
use eca_oauth::access_jwt;
use eca_oauth::tokens::{access_token_key, access_token_org, earlier_access_token_key};
use eca_store::{AccessTokenRecord, Store, StoreResult};

use super::registry::{self, ClientApp};
use crate::directory;
use crate::error::ApiError;
use crate::session::Active;
use crate::state::AppState;

/// Longer presented values are refused unread (a JWT access token is about 700 bytes).
const MAX_TOKEN_LEN: usize = 4096;

/// A live access token, its user and its app.
#[derive(Debug)]
pub struct TokenUse {
    pub token: AccessTokenRecord,
    pub user: User,
    pub app: Arc<ClientApp>,
}

impl TokenUse {
    /// The token as the session the REST extractors expect. `SessionKind` has no OAuth kind
    /// yet; the session is never stored, so `SoapLogin` (an API session) is only a label.
    pub fn active(&self) -> Active {
        Active {
            session: Session {
                id_hash: self.token.token_hash.clone(),
                org_id: self.token.org_id.clone(),
                user_id: self.user.id.clone(),
                kind: SessionKind::SoapLogin,
                created_at: self.token.issued_at,
                last_used_at: self.token.issued_at,
                expires_at: self.token.expires_at,
            },
            user: self.user.clone(),
        }
    }
}

/// The live access token `token` presented on `org`'s URL at `now`; `None` when it is unknown,
/// of another org, expired, revoked, of an inactive user, or of an app that is gone or
/// switched off.
pub async fn authenticate(
    state: &AppState,
    org: &Org,
    token: &str,
    now: Timestamp,
) -> Result<Option<TokenUse>, ApiError> {
    // Another org's opaque token is refused before any lookup; a JWT access token
    // (`isNamedUserJwtEnabled`) names no org in its shape, so its record's org is checked
    // below. Its signature is not checked here: the record, found by the hash of the whole
    // token, is what makes it valid (and revocable) on this server.
    let jwt = access_jwt::looks_like_jwt(token);
    if token.len() > MAX_TOKEN_LEN || (!jwt && access_token_org(token) != Some(org.id.as_15())) {
        return Ok(None);
    }
    // A token written behind is in the writer's pending set until it is committed
    // (`oauth::token_writer`).
    let key = access_token_key(token);
    let record = match state.token_writer().pending(key.as_str()) {
        Some(pending) => Some(pending),
        None => stored(state.store(), token, key)
            .await?
            .map(|(_, record)| record),
    };
    let Some(record) = record else {
        return Ok(None);
    };
    if record.org_id != org.id || record.revoked_at.is_some() || record.expires_at <= now {
        return Ok(None);
    }
    live(state, record).await
}

/// The stored record of access token `token`, with the key it is stored under: `key` (its
/// [`access_token_key`]), or for a JWT issued before JWT keys carried the issue time, its hash
/// alone ([`earlier_access_token_key`]). Tokens still pending in the writer are not seen.
pub(crate) async fn stored(
    store: &dyn Store,
    token: &str,
    key: TokenHash,
) -> StoreResult<Option<(TokenHash, AccessTokenRecord)>> {
    if let Some(record) = store.access_token(key.as_str()).await? {
        return Ok(Some((key, record)));
    }
    match earlier_access_token_key(token) {
        Some(earlier) => Ok(store
            .access_token(earlier.as_str())
            .await?
            .map(|record| (earlier, record))),
        None => Ok(None),
    }
}

/// The token's user and app, if both may still use it.
pub async fn live(
    state: &AppState,
    record: AccessTokenRecord,
) -> Result<Option<TokenUse>, ApiError> {
    // The user as of at most two seconds ago (`crate::directory`); the token record itself
    // was read from the store, so revocation is seen at once.
    let Some(user) = directory::user(state, &record.user_id).await? else {
        return Ok(None);
    };
    if !user.is_active || user.is_frozen || user.org_id != record.org_id {
        return Ok(None);
    }
    let Some(app) = registry::by_consumer_id(state, &record.consumer_id).await? else {
        return Ok(None);
    };
    if !app.is_enabled() || app.org_id != record.org_id {
        return Ok(None);
    }
    // A token issued from a refresh token lives only while that token's grant does. Revoking
    // the grant marks its access tokens too, but a refresh that read the refresh token as live
    // just before may write its access token just after: this read closes that window, for
    // every way of revoking. (A refresh token named by an access token is never swept.)
    if let Some(refresh) = &record.refresh_hash {
        let grant_live = state
            .store()
            .refresh_token(refresh)
            .await?
            .is_some_and(|r| r.revoked_at.is_none());
        if !grant_live {
            return Ok(None);
        }
    }
    Ok(Some(TokenUse {
        token: record,
        user: User::clone(&user),
        app,
    }))
}
