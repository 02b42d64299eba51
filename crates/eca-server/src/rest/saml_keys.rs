//! The org's SAML signing keys, an OpenECA extension under `eca/` (issue 7, "Signing keys"):
//! `GET /services/data/vXX.X/eca/saml/keys` lists them, `POST
//! /services/data/vXX.X/eca/saml/keys/rotate` makes a new one that signs from then on
//! (`eca org keys rotate`). Both need **ExternalClientAppAdmin** ("view all External Client
//! Apps, view their settings, and edit their policies"): the IdP key is part of every SAML
//! app's policies, and that is the permission that edits them (`spec/metadata.md` §2.6).

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use eca_core::domain::Permission;
use serde::{Deserialize, Serialize};

use super::identity::rest_datetime;
use super::sobjects::{Caller, insufficient_access};
use super::versions::path_version;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::saml::keys::{self, KeyInfo, PREVIOUS_KEY_OVERLAP_DAYS};
use crate::state::AppState;

/// `…/eca/{saml|oauth}/keys[/rotate]`: the API version of the path.
#[derive(Debug, Deserialize)]
pub struct KeysPath {
    pub(super) version: String,
}

/// One key as listed: never its private part.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlKey {
    pub version: i64,
    pub created_date: String,
    /// Signs Responses now.
    pub is_current: bool,
    /// Listed in the IdP metadata (current, or previous within the overlap window).
    pub is_published: bool,
    /// SHA-256 of the certificate's DER, hex, as service providers show fingerprints.
    pub sha256_fingerprint: String,
    /// The certificate, PEM.
    pub certificate: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlKeyList {
    pub total_size: usize,
    /// How long a replaced key stays published.
    pub overlap_days: i64,
    pub keys: Vec<SamlKey>,
}

/// The caller, when it has **ExternalClientAppAdmin** (the signing keys' permission, OAuth's
/// too: `rest::oauth_keys`).
pub(super) async fn admin(state: &AppState, auth: Authenticated) -> Result<Caller, ApiError> {
    let caller = Caller::load(state, auth).await?;
    if caller.has(Permission::ExternalClientAppAdmin) {
        Ok(caller)
    } else {
        Err(insufficient_access("ExternalClientAppAdmin"))
    }
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn listed(keys: Vec<KeyInfo>) -> SamlKeyList {
    let keys: Vec<SamlKey> = keys
        .into_iter()
        .rev()
        .map(|k| SamlKey {
            version: k.version,
            created_date: rest_datetime(k.created_at),
            is_current: k.is_current,
            is_published: k.is_published,
            sha256_fingerprint: sha256_hex(&k.certificate_der),
            certificate: pem(&k.certificate_der),
        })
        .collect();
    SamlKeyList {
        total_size: keys.len(),
        overlap_days: PREVIOUS_KEY_OVERLAP_DAYS,
        keys,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    eca_core::crypto::sha256(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

/// `GET /services/data/vXX.X/eca/saml/keys`: newest first (the first key is made if the org
/// has none yet).
pub async fn list(
    State(state): State<AppState>,
    Path(path): Path<KeysPath>,
    auth: Authenticated,
) -> Result<Json<SamlKeyList>, ApiError> {
    path_version(&path.version)?;
    let caller = admin(&state, auth).await?;
    Ok(Json(listed(keys::list(&state, &caller.org().id).await?)))
}

/// `POST /services/data/vXX.X/eca/saml/keys/rotate`: a new signing key; the replaced one
/// stays published for the overlap window.
pub async fn rotate(
    State(state): State<AppState>,
    Path(path): Path<KeysPath>,
    auth: Authenticated,
) -> Result<Json<SamlKeyList>, ApiError> {
    path_version(&path.version)?;
    let caller = admin(&state, auth).await?;
    Ok(Json(listed(keys::rotate(&state, &caller.org().id).await?)))
}
