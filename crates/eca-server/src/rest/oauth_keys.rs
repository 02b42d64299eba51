//! The org's OAuth signing keys (ID tokens and JWT access tokens, published at `/id/keys`), an
//! OpenECA extension under `eca/` beside the SAML ones: `GET /services/data/vXX.X/eca/oauth/keys`
//! lists them, `POST /services/data/vXX.X/eca/oauth/keys/rotate` makes a new one that signs
//! from then on (`eca org oauth-keys rotate`), the replaced one staying published for the
//! overlap ([`keys::PREVIOUS_KEY_OVERLAP_HOURS`]). Both need **ExternalClientAppAdmin**, as the
//! SAML keys do.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::identity::rest_datetime;
use super::saml_keys::{KeysPath, admin};
use super::versions::path_version;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::oauth::keys::{self, KeyInfo, PREVIOUS_KEY_OVERLAP_HOURS};
use crate::state::AppState;

/// One key as listed: its `kid` and state, never key material (`/id/keys` has the public part).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OauthKey {
    pub kid: String,
    pub created_date: String,
    /// Signs tokens now.
    pub is_current: bool,
    /// Listed at `/id/keys` (current, or replaced within the overlap).
    pub is_published: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OauthKeyList {
    pub total_size: usize,
    /// How long a replaced key stays published.
    pub overlap_hours: i64,
    /// Newest first.
    pub keys: Vec<OauthKey>,
}

fn listed(keys: Vec<KeyInfo>) -> OauthKeyList {
    let keys: Vec<OauthKey> = keys
        .into_iter()
        .rev()
        .map(|k| OauthKey {
            kid: k.kid,
            created_date: rest_datetime(k.created_at),
            is_current: k.is_current,
            is_published: k.is_published,
        })
        .collect();
    OauthKeyList {
        total_size: keys.len(),
        overlap_hours: PREVIOUS_KEY_OVERLAP_HOURS,
        keys,
    }
}

/// `GET /services/data/vXX.X/eca/oauth/keys`: newest first (the first key is made if the org
/// has none yet).
pub async fn list(
    State(state): State<AppState>,
    Path(path): Path<KeysPath>,
    auth: Authenticated,
) -> Result<Json<OauthKeyList>, ApiError> {
    path_version(&path.version)?;
    let caller = admin(&state, auth).await?;
    Ok(Json(listed(keys::list(&state, &caller.org().id).await?)))
}

/// `POST /services/data/vXX.X/eca/oauth/keys/rotate`: a new signing key; the replaced one
/// stays published for the overlap.
pub async fn rotate(
    State(state): State<AppState>,
    Path(path): Path<KeysPath>,
    auth: Authenticated,
) -> Result<Json<OauthKeyList>, ApiError> {
    path_version(&path.version)?;
    let caller = admin(&state, auth).await?;
    Ok(Json(listed(keys::rotate(&state, &caller.org().id).await?)))
}
