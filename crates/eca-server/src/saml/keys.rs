//! Each org's SAML signing keys (issue 7, "Signing keys"): RSA-2048 with a self-signed X.509
//! certificate, made on first use, rotatable, stored with the private key encrypted under the
//! master key (context `saml-signing-key:<org>:<version>`) and the certificate in clear.
//!
//! The highest version signs, from the moment it is made. An older key stays **published** in
//! the IdP metadata for [`PREVIOUS_KEY_OVERLAP_DAYS`] after the key that replaced it was made
//! (SAML Metadata §2.4.1.1: any listed signing key may be in use). That helps little: a
//! Response lives minutes. What service providers would need is the new certificate published
//! *before* it signs; there is no such staged rotation yet, so an SP learns the new key only
//! when it next reads the metadata, and Responses signed meanwhile fail at SPs that have not
//! (docs/saml.md, "Keys and rotation"). Two nodes
//! making the first key (or rotating) at once both try the same version; the store keeps one and
//! the other reads it back.

use std::sync::Arc;
use std::time::Duration;

use eca_core::{OrgId, Timestamp};
use eca_saml::keys::IdpKey;
use eca_store::{SamlKeyRecord, StoreError};

use crate::cache::TtlCache;
use crate::error::{ApiError, RequestCode};
use crate::key_rollover;
use crate::state::AppState;

/// How long a replaced key stays in the metadata after its successor was made.
pub const PREVIOUS_KEY_OVERLAP_DAYS: i64 = 30;
/// How long a new certificate is valid. SAML service providers pin the certificate from the
/// metadata rather than checking its dates, but xmlsec-based ones may look at them.
pub const CERTIFICATE_VALIDITY_DAYS: i64 = 10 * 365;
/// How far before its creation a certificate starts to be valid (clock skew between nodes and
/// service providers).
const NOT_BEFORE_SKEW_SECS: i64 = 5 * 60;

pub(crate) fn context(org: &OrgId, version: i64) -> Vec<u8> {
    format!("saml-signing-key:{org}:{version}").into_bytes()
}

/// One stored key, as listed and published (no private part).
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub version: i64,
    pub certificate_der: Vec<u8>,
    pub created_at: Timestamp,
    /// The key that signs now.
    pub is_current: bool,
    /// Listed in the IdP metadata (the current key, or a previous one within the overlap).
    pub is_published: bool,
}

/// The most parsed signing keys kept at once.
const PARSED_CACHE_MAX: usize = 10_000;

/// Signing keys read so far, parsed, by org and version. A stored key never changes, so this
/// never goes stale, and which key signs is read from the store each time: the IdP metadata
/// and logout answers, which anyone can ask for, cost a query, never a decryption and an RSA
/// key check.
pub struct SamlKeyCache {
    parsed: TtlCache<(OrgId, i64), Arc<IdpKey>>,
}

impl Default for SamlKeyCache {
    fn default() -> Self {
        Self {
            // Kept while the key can sign or be published; read again later, it is parsed again.
            parsed: TtlCache::new(PREVIOUS_KEY_OVERLAP_DAYS * 86_400 * 1_000, PARSED_CACHE_MAX),
        }
    }
}

impl std::fmt::Debug for SamlKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlKeyCache").finish_non_exhaustive()
    }
}

/// The org's signing key and every key its metadata publishes.
#[derive(Debug)]
pub struct OrgSamlKeys {
    pub signing: Arc<IdpKey>,
    /// All keys, by version; the last is the signing key.
    pub keys: Vec<KeyInfo>,
}

impl OrgSamlKeys {
    /// The DER certificates the metadata lists: the current first, then the previous ones
    /// still within their overlap window, newest first.
    pub fn published_certificates(&self) -> Vec<&[u8]> {
        self.keys
            .iter()
            .rev()
            .filter(|k| k.is_published)
            .map(|k| k.certificate_der.as_slice())
            .collect()
    }
}

/// The org's keys, making the first one when it has none.
pub async fn org_keys(state: &AppState, org: &OrgId) -> Result<OrgSamlKeys, ApiError> {
    let mut records = state.store().saml_keys(org).await?;
    if records.is_empty() {
        create(state, org, 1).await?;
        records = state.store().saml_keys(org).await?;
    }
    let last = records
        .last()
        .ok_or_else(|| ApiError::Internal(format!("SAML key of {org} missing after creation")))?;
    let now = state.clock().now();
    Ok(OrgSamlKeys {
        signing: parsed(state, last, now)?,
        keys: describe(&records, now),
    })
}

/// Record `r`'s key, decrypted and parsed on its first use only.
fn parsed(state: &AppState, r: &SamlKeyRecord, now: Timestamp) -> Result<Arc<IdpKey>, ApiError> {
    let cache = &state.saml_keys().parsed;
    let id = (r.org_id.clone(), r.version);
    if let Some(key) = cache.get(&id, now) {
        return Ok(key);
    }
    let ticket = cache.ticket();
    let fail = |e: &dyn std::fmt::Display| {
        ApiError::Internal(format!("SAML key {}/{}: {e}", r.org_id, r.version))
    };
    let der = state
        .master_key()
        .decrypt(&r.encrypted_key, &context(&r.org_id, r.version))
        .map_err(|e| fail(&e))?;
    let key = Arc::new(IdpKey::from_der(&der, &r.certificate).map_err(|e| fail(&e))?);
    cache.put(id, Arc::clone(&key), now, ticket);
    Ok(key)
}

/// Which keys are current and published at `now`.
fn describe(records: &[SamlKeyRecord], now: Timestamp) -> Vec<KeyInfo> {
    let created: Vec<Timestamp> = records.iter().map(|r| r.created_at).collect();
    let overlap_ms = PREVIOUS_KEY_OVERLAP_DAYS * 86_400 * 1000;
    records
        .iter()
        .zip(key_rollover::states(&created, now, overlap_ms))
        .map(|(r, state)| KeyInfo {
            version: r.version,
            certificate_der: r.certificate.clone(),
            created_at: r.created_at,
            is_current: state.is_current,
            is_published: state.is_published,
        })
        .collect()
}

/// Makes a new key that signs from now on; the one it replaces stays published for the
/// overlap window. An org without keys gets its first. Returns every key of the org.
pub async fn rotate(state: &AppState, org: &OrgId) -> Result<Vec<KeyInfo>, ApiError> {
    let records = state.store().saml_keys(org).await?;
    let next = records.last().map_or(1, |r| r.version + 1);
    if !create(state, org, next).await? {
        return Err(ApiError::record(
            RequestCode::DuplicateValue,
            "Another rotation of this org's SAML signing key happened at the same moment; list the keys and try again if a new one is still wanted.",
            &[],
        ));
    }
    tracing::info!(org = %org, version = next, "SAML signing key rotated");
    let records = state.store().saml_keys(org).await?;
    Ok(describe(&records, state.clock().now()))
}

/// The org's keys as they stand.
pub async fn list(state: &AppState, org: &OrgId) -> Result<Vec<KeyInfo>, ApiError> {
    Ok(org_keys(state, org).await?.keys)
}

/// Generates and stores key `version`; false when another node stored that version first.
async fn create(state: &AppState, org: &OrgId, version: i64) -> Result<bool, ApiError> {
    let now = state.clock().now();
    let common_name = format!("OpenECA SAML IdP {org} key {version}");
    // RSA key generation takes tens of milliseconds: off the async workers.
    let (pkcs8, cert) = tokio::task::spawn_blocking(move || generate(&common_name, now))
        .await
        .map_err(|e| ApiError::Internal(format!("SAML key generation failed: {e}")))??;
    let record = SamlKeyRecord {
        org_id: org.clone(),
        version,
        encrypted_key: state
            .master_key()
            .encrypt(&pkcs8, &context(org, version), state.rng()),
        certificate: cert,
        created_at: now,
    };
    match state.store().create_saml_key(&record).await {
        Ok(()) => {
            tracing::info!(org = %org, version, "SAML signing key created");
            Ok(true)
        }
        // Another node made it first: theirs is the key.
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// An RSA-2048 key (PKCS#8 DER) and a self-signed SHA-256-with-RSA certificate for it (DER),
/// valid from a little before `now` for [`CERTIFICATE_VALIDITY_DAYS`].
fn generate(common_name: &str, now: Timestamp) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
    let failed = |e: rcgen::Error| ApiError::Internal(format!("SAML key generation failed: {e}"));
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(failed)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let secs = |t: i64| Duration::from_secs(u64::try_from(t.max(0)).unwrap_or(0));
    let start = now.millis() / 1000 - NOT_BEFORE_SKEW_SECS;
    let end = now.millis() / 1000 + CERTIFICATE_VALIDITY_DAYS * 86_400;
    // rcgen takes `time` dates; building them from its own epoch date keeps `time` out of our
    // dependencies (as `eca cert new` does).
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + secs(start);
    params.not_after = epoch + secs(end);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok((key.serialize_der(), cert.der().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: i64, created_secs: i64) -> SamlKeyRecord {
        SamlKeyRecord {
            org_id: OrgId::generate(&eca_core::SystemRng),
            version,
            encrypted_key: vec![],
            certificate: vec![u8::try_from(version).unwrap_or(0)],
            created_at: Timestamp::from_secs(created_secs),
        }
    }

    #[test]
    fn previous_keys_are_published_for_the_overlap_window() {
        let day = 86_400;
        let records = [record(1, 0), record(2, 10 * day), record(3, 50 * day)];
        let at = |d: i64| {
            describe(&records, Timestamp::from_secs(d * day))
                .iter()
                .map(|k| (k.version, k.is_current, k.is_published))
                .collect::<Vec<_>>()
        };
        // Key 1 was replaced on day 10: published until day 40. Key 2 replaced on day 50.
        assert_eq!(
            at(51),
            vec![(1, false, false), (2, false, true), (3, true, true)]
        );
        assert_eq!(
            at(39),
            vec![(1, false, true), (2, false, true), (3, true, true)]
        );
        assert_eq!(
            at(80),
            vec![(1, false, false), (2, false, false), (3, true, true)]
        );
    }

    #[test]
    fn generated_keys_load_and_sign() {
        let (pkcs8, cert) = generate("test", Timestamp::from_secs(1_795_651_200)).unwrap();
        let key = IdpKey::from_der(&pkcs8, &cert).unwrap();
        let sig = key.sign_sha256(b"x").unwrap();
        let c = eca_saml::keys::Certificate::parse(&key.certificate_base64()).unwrap();
        assert!(
            c.verify(eca_saml::keys::SignatureAlgorithm::RsaSha256, b"x", &sig)
                .is_ok()
        );
    }
}
