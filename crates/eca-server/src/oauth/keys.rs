//! Each org's RS256 signing keys (for ID tokens and JWT access tokens), published at
//! `/id/keys`. The first key is made on first use and stored with its private key encrypted
//! under the master key (context `oauth-signing-key:<org>:<kid>`). Two nodes making it at once
//! both try `kid` "1"; the store takes one and the other reads it back, so an org never ends
//! up with two first keys. Rollover (a newer key signing, older ones still published) needs
//! only another row.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use eca_core::{OrgId, Timestamp};
use eca_oauth::SigningKey;
use eca_store::{SigningKeyRecord, StoreError};

use crate::error::ApiError;
use crate::state::AppState;

/// How long this process signs with the key it read before reading the org's keys again, in
/// milliseconds: a key added by another node signs here within this time (the JWKS lists every
/// key at once, so tokens it signs verify everywhere meanwhile).
pub const SIGNING_KEY_TTL_MS: i64 = 60_000;

/// The signing key of each org, decrypted and parsed once (an RSA private key takes far longer
/// to parse than to use).
#[derive(Default)]
pub struct KeyCache {
    current: RwLock<HashMap<OrgId, (Arc<SigningKey>, Timestamp)>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

/// The key that signs `org`'s tokens now (its newest), made on first use.
pub async fn current_key(state: &AppState, org: &OrgId) -> Result<Arc<SigningKey>, ApiError> {
    let now = state.clock().now();
    let cache = &state.signing_keys().current;
    let cached = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(org)
        .filter(|(_, at)| *at <= now && now.millis() - at.millis() < SIGNING_KEY_TTL_MS)
        .map(|(key, _)| Arc::clone(key));
    if let Some(key) = cached {
        return Ok(key);
    }
    let key = org_keys(state, org)
        .await?
        .pop()
        .map(Arc::new)
        .ok_or_else(|| ApiError::Internal(format!("org {org} has no signing key")))?;
    cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(org.clone(), (Arc::clone(&key), now));
    Ok(key)
}

/// The first key's id: Salesforce's key ids are short numeric strings.
const FIRST_KID: &str = "1";

fn context(org: &OrgId, kid: &str) -> Vec<u8> {
    format!("oauth-signing-key:{org}:{kid}").into_bytes()
}

/// The org's signing keys, oldest first (the last one signs), made on first use.
pub async fn org_keys(state: &AppState, org: &OrgId) -> Result<Vec<SigningKey>, ApiError> {
    let mut records = state.store().signing_keys(org).await?;
    if records.is_empty() {
        create_first(state, org).await?;
        records = state.store().signing_keys(org).await?;
    }
    records
        .iter()
        .map(|r| {
            let der = state
                .master_key()
                .decrypt(&r.encrypted_key, &context(org, &r.kid))
                .map_err(|e| ApiError::Internal(format!("signing key {org}/{}: {e}", r.kid)))?;
            SigningKey::from_pkcs8_der(r.kid.clone(), &der)
                .map_err(|e| ApiError::Internal(format!("signing key {org}/{}: {e}", r.kid)))
        })
        .collect()
}

async fn create_first(state: &AppState, org: &OrgId) -> Result<(), ApiError> {
    // RSA key generation takes tens of milliseconds: off the async workers.
    let der = tokio::task::spawn_blocking(|| {
        SigningKey::generate(FIRST_KID).and_then(|k| k.to_pkcs8_der())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("key generation failed: {e}")))?
    .map_err(|e| ApiError::Internal(format!("key generation failed: {e}")))?;
    let record = SigningKeyRecord {
        org_id: org.clone(),
        kid: FIRST_KID.to_owned(),
        encrypted_key: state
            .master_key()
            .encrypt(&der, &context(org, FIRST_KID), state.rng()),
        created_at: state.clock().now(),
    };
    match state.store().create_signing_key(&record).await {
        Ok(()) => {
            tracing::info!(org = %org, kid = FIRST_KID, "signing key created");
            Ok(())
        }
        // Another node made it first: theirs is the key.
        Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
