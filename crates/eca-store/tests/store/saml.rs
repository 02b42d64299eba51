//! The [`SamlStore`] contract: keys are per org, versions are unique per org (the second of
//! two simultaneous rotations is a conflict, not a second key of the same version), and keys
//! come back in version order with their bytes intact.

use eca_core::{OrgId, SystemRng, Timestamp};
use eca_store::{SamlKeyRecord, Store};

use crate::{Env, T0, assert_conflict, assert_missing, seed};

on_every_backend!(saml_keys_are_per_org_ordered_and_unique_by_version);

fn key(org: &OrgId, version: i64, secs: i64) -> SamlKeyRecord {
    SamlKeyRecord {
        org_id: org.clone(),
        version,
        encrypted_key: vec![0, 1, 2, 255, u8::try_from(version).unwrap()],
        certificate: vec![0x30, 0x82, 0, 0, 255],
        created_at: Timestamp(T0.millis() + secs * 1000),
    }
}

async fn saml_keys_are_per_org_ordered_and_unique_by_version(env: Env) {
    let store: &dyn Store = env.store.as_ref();
    let (org, _, _) = seed(store, "acme", "a@acme.example").await;
    let (other, _, _) = seed(store, "other", "b@other.example").await;
    assert!(store.saml_keys(&org.id).await.unwrap().is_empty());

    store.create_saml_key(&key(&org.id, 2, 50)).await.unwrap();
    store.create_saml_key(&key(&org.id, 1, 10)).await.unwrap();
    store.create_saml_key(&key(&other.id, 1, 10)).await.unwrap();
    assert_conflict(
        store.create_saml_key(&key(&org.id, 2, 60)).await,
        "SAML signing key",
    );
    let mut ghost = key(&org.id, 1, 1);
    ghost.org_id = OrgId::generate(&SystemRng);
    assert_missing(store.create_saml_key(&ghost).await, "org");

    assert_eq!(
        store.saml_keys(&org.id).await.unwrap(),
        vec![key(&org.id, 1, 10), key(&org.id, 2, 50)]
    );
    assert_eq!(
        store.saml_keys(&other.id).await.unwrap(),
        vec![key(&other.id, 1, 10)]
    );
}
