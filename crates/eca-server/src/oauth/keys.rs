//! Each org's RS256 signing keys (for ID tokens and JWT access tokens), published at
//! `/id/keys`. The first key is made on first use and stored with its private key encrypted
//! under the master key (context `oauth-signing-key:<org>:<kid>`). Two nodes making it at once
//! both try `kid` "1"; the store takes one and the other reads it back, so an org never ends
//! up with two first keys.
//!
//! **Rollover** ([`rotate`], `POST /services/data/vXX.X/eca/oauth/keys/rotate`): a new key,
//! `kid` one more than the highest, signs from then on (on this node at once, on others within
//! [`SIGNING_KEY_TTL_MS`]). The key it replaces stays published, and verifies `id_token_hint`s,
//! for [`PREVIOUS_KEY_OVERLAP_HOURS`] after: longer than anything it signed lives (a JWT access
//! token 24 hours at most, the longest org session timeout; an ID token 12), so no token in
//! flight breaks. Clients that cached
//! the JWKS find the new `kid` missing and fetch it again, as OpenID Connect Core §10.1.1 asks.

use std::sync::Arc;

use eca_core::{OrgId, Timestamp};
use eca_oauth::SigningKey;
use eca_store::{SigningKeyRecord, StoreError};

use crate::cache::TtlCache;
use crate::error::{ApiError, RequestCode};
use crate::key_rollover;
use crate::state::AppState;

/// How long this process signs with the key it read before reading the org's keys again, in
/// milliseconds: a key added by another node signs here within this time (the JWKS lists every
/// key at once, so tokens it signs verify everywhere meanwhile).
pub const SIGNING_KEY_TTL_MS: i64 = 60_000;

/// How long a replaced key stays published after its successor was made, in hours.
pub const PREVIOUS_KEY_OVERLAP_HOURS: i64 = 48;

/// The most orgs whose signing key is kept at once.
const KEY_CACHE_MAX: usize = 10_000;

/// The most parsed keys kept at once (an org publishes one or two).
const PARSED_CACHE_MAX: usize = 2 * KEY_CACHE_MAX;

/// The signing key of each org, decrypted and parsed once (an RSA private key takes far longer
/// to parse than to use).
pub struct KeyCache {
    current: TtlCache<OrgId, Arc<SigningKey>>,
    /// Every key read so far, parsed, by org and `kid`. A stored key never changes, so this
    /// never goes stale; which keys are published is read from the store each time, so the
    /// JWKS lists a key another node just made at once. Unauthenticated requests (`/id/keys`,
    /// an `id_token_hint`) then cost a query, never a decryption and an RSA key check.
    parsed: TtlCache<(OrgId, String), Arc<SigningKey>>,
    /// Held while an org's first key is made: requests that need it at the same moment
    /// (`/id/keys` needs no login) make one key, not one each.
    first_key: tokio::sync::Mutex<()>,
    /// Keys this process generated so far.
    generated: std::sync::atomic::AtomicU64,
}

impl KeyCache {
    /// How many keys this process generated so far (tests, metrics).
    pub fn generated(&self) -> u64 {
        self.generated.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            current: TtlCache::new(SIGNING_KEY_TTL_MS, KEY_CACHE_MAX),
            // Kept while the key can be published; one read again later costs a parse.
            parsed: TtlCache::new(PREVIOUS_KEY_OVERLAP_HOURS * 3_600 * 1_000, PARSED_CACHE_MAX),
            first_key: tokio::sync::Mutex::new(()),
            generated: std::sync::atomic::AtomicU64::new(0),
        }
    }
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
    if let Some(key) = cache.get(org, now) {
        return Ok(key);
    }
    let ticket = cache.ticket();
    let key = org_keys(state, org)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(format!("org {org} has no signing key")))?;
    cache.put(org.clone(), Arc::clone(&key), now, ticket);
    Ok(key)
}

/// The first key's id: Salesforce's key ids are short numeric strings.
const FIRST_KID: &str = "1";

pub(crate) fn context(org: &OrgId, kid: &str) -> Vec<u8> {
    format!("oauth-signing-key:{org}:{kid}").into_bytes()
}

/// One stored key, as listed (no private part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub created_at: Timestamp,
    /// The key that signs now.
    pub is_current: bool,
    /// Listed at `/id/keys`: the current key, or a replaced one within the overlap.
    pub is_published: bool,
}

/// Which keys are current and published at `now` (`records` oldest first).
fn describe(records: &[SigningKeyRecord], now: Timestamp) -> Vec<KeyInfo> {
    let created: Vec<Timestamp> = records.iter().map(|r| r.created_at).collect();
    let overlap_ms = PREVIOUS_KEY_OVERLAP_HOURS * 3_600 * 1_000;
    records
        .iter()
        .zip(key_rollover::states(&created, now, overlap_ms))
        .map(|(r, state)| KeyInfo {
            kid: r.kid.clone(),
            created_at: r.created_at,
            is_current: state.is_current,
            is_published: state.is_published,
        })
        .collect()
}

/// The org's key records, oldest first, making the first key when there is none.
async fn records(state: &AppState, org: &OrgId) -> Result<Vec<SigningKeyRecord>, ApiError> {
    let records = state.store().signing_keys(org).await?;
    if !records.is_empty() {
        return Ok(records);
    }
    // One first key however many requests ask at once: the others wait, then read it. (Nodes
    // that race each make one; the store keeps the first, `create`.)
    let _making = state.signing_keys().first_key.lock().await;
    let records = state.store().signing_keys(org).await?;
    if !records.is_empty() {
        return Ok(records);
    }
    create(state, org, FIRST_KID).await?;
    Ok(state.store().signing_keys(org).await?)
}

/// The org's keys as they stand, oldest first.
pub async fn list(state: &AppState, org: &OrgId) -> Result<Vec<KeyInfo>, ApiError> {
    Ok(describe(&records(state, org).await?, state.clock().now()))
}

/// Makes a new key that signs from now on; the one it replaces stays published for
/// [`PREVIOUS_KEY_OVERLAP_HOURS`]. Returns every key of the org, oldest first.
pub async fn rotate(state: &AppState, org: &OrgId) -> Result<Vec<KeyInfo>, ApiError> {
    let before = records(state, org).await?;
    // Key ids are short numbers, as Salesforce's; the next is one more than the highest.
    let next = before
        .iter()
        .filter_map(|r| r.kid.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    if !create(state, org, &next.to_string()).await? {
        return Err(ApiError::record(
            RequestCode::DuplicateValue,
            "Another rotation of this org's OAuth signing key happened at the same moment; list the keys and try again if a new one is still wanted.",
            &[],
        ));
    }
    // This node signs with the new key at once.
    state.signing_keys().current.forget(org);
    tracing::info!(org = %org, kid = next, "OAuth signing key rotated");
    list(state, org).await
}

/// The org's published signing keys, oldest first (the last one signs), made on first use.
pub async fn org_keys(state: &AppState, org: &OrgId) -> Result<Vec<Arc<SigningKey>>, ApiError> {
    let records = records(state, org).await?;
    let now = state.clock().now();
    let described = describe(&records, now);
    records
        .iter()
        .zip(&described)
        .filter(|(_, info)| info.is_published)
        .map(|(r, _)| parsed(state, r, now))
        .collect()
}

/// Record `r`'s key, decrypted and parsed on its first use only.
fn parsed(
    state: &AppState,
    r: &SigningKeyRecord,
    now: Timestamp,
) -> Result<Arc<SigningKey>, ApiError> {
    let cache = &state.signing_keys().parsed;
    let id = (r.org_id.clone(), r.kid.clone());
    if let Some(key) = cache.get(&id, now) {
        return Ok(key);
    }
    let ticket = cache.ticket();
    let fail = |e: &dyn std::fmt::Display| {
        ApiError::Internal(format!("signing key {}/{}: {e}", r.org_id, r.kid))
    };
    let der = state
        .master_key()
        .decrypt(&r.encrypted_key, &context(&r.org_id, &r.kid))
        .map_err(|e| fail(&e))?;
    let key = Arc::new(SigningKey::from_pkcs8_der(r.kid.clone(), &der).map_err(|e| fail(&e))?);
    cache.put(id, Arc::clone(&key), now, ticket);
    Ok(key)
}

/// Generates and stores key `kid`; false when another node stored that `kid` first.
async fn create(state: &AppState, org: &OrgId, kid: &str) -> Result<bool, ApiError> {
    // RSA key generation takes tens of milliseconds: off the async workers.
    let owned = kid.to_owned();
    let der = tokio::task::spawn_blocking(move || {
        SigningKey::generate(&owned).and_then(|k| k.to_pkcs8_der())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("key generation failed: {e}")))?
    .map_err(|e| ApiError::Internal(format!("key generation failed: {e}")))?;
    state
        .signing_keys()
        .generated
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let record = SigningKeyRecord {
        org_id: org.clone(),
        kid: kid.to_owned(),
        encrypted_key: state
            .master_key()
            .encrypt(&der, &context(org, kid), state.rng()),
        created_at: state.clock().now(),
    };
    match state.store().create_signing_key(&record).await {
        Ok(()) => {
            tracing::info!(org = %org, kid, "signing key created");
            Ok(true)
        }
        // Another node made it first: theirs is the key.
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kid: &str, created_hours: i64) -> SigningKeyRecord {
        SigningKeyRecord {
            org_id: OrgId::generate(&eca_core::SystemRng),
            kid: kid.to_owned(),
            encrypted_key: vec![],
            created_at: Timestamp::from_secs(created_hours * 3_600),
        }
    }

    #[test]
    fn replaced_keys_stay_published_for_the_overlap() {
        let records = [record("1", 0), record("2", 100), record("3", 120)];
        let published = |hours: i64| -> Vec<String> {
            describe(&records, Timestamp::from_secs(hours * 3_600))
                .into_iter()
                .filter(|k| k.is_published)
                .map(|k| k.kid)
                .collect()
        };
        assert_eq!(published(120), ["1", "2", "3"]);
        // Key 1 was replaced at hour 100, key 2 at hour 120.
        assert_eq!(published(147), ["1", "2", "3"]);
        assert_eq!(published(148), ["2", "3"]);
        assert_eq!(published(168), ["3"]);
        let described = describe(&records, Timestamp::from_secs(0));
        assert_eq!(
            described.iter().map(|k| k.is_current).collect::<Vec<_>>(),
            [false, false, true]
        );
    }
}
