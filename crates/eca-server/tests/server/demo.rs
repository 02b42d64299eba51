//! `eca serve --demo`: the sample app is deployed once, with the consumer key and secret shown
//! once, the secret stored only encrypted, and the app's policies running client credentials
//! as the integration user.

use std::sync::Arc;

use eca_core::ManualClock;
use eca_core::crypto::MasterKey;
use eca_core::rng::DeterministicRng;
use eca_core::{Rng, Secret};
use eca_server::bootstrap;
use eca_server::bootstrap::{BootstrapOptions, DEFAULT_DOMAIN};
use eca_server::demo_app::{DEMO_APP, ensure_demo_app};

use crate::support::START;

/// A store after a first `--demo` start's bootstrap, before the sample app.
struct Started {
    store: Arc<dyn eca_store::Store>,
    clock: ManualClock,
    rng: Arc<dyn Rng>,
    key: MasterKey,
    org: eca_core::domain::Org,
}

async fn bootstrapped(seed: u64) -> Started {
    let store = eca_store::open("sqlite::memory:").await.expect("a store");
    let clock = ManualClock::new(START);
    let rng: Arc<dyn Rng> = Arc::new(DeterministicRng::new(seed));
    let options = BootstrapOptions {
        admin_password: Some(Secret::new("Admin-Password-1234")),
        demo: true,
    };
    bootstrap(store.as_ref(), &clock, Arc::clone(&rng), &options)
        .await
        .expect("bootstrap");
    let (key, _) = MasterKey::generate(rng.as_ref()).expect("a key");
    let org = store
        .org_by_domain(DEFAULT_DOMAIN)
        .await
        .expect("store")
        .expect("the default org");
    Started {
        store,
        clock,
        rng,
        key,
        org,
    }
}

#[tokio::test]
async fn demo_deploys_the_sample_app_once() {
    let Started {
        store,
        clock,
        rng,
        key,
        org,
    } = bootstrapped(11).await;

    let app = ensure_demo_app(
        store.as_ref(),
        &org,
        &clock,
        rng.as_ref(),
        &key,
        "test-node",
    )
    .await
    .unwrap()
    .expect("created on the first start");
    assert!(
        app.consumer_key.starts_with("3MVG9"),
        "{}",
        app.consumer_key
    );
    assert_eq!(app.consumer_secret.expose().len(), 64);

    // Every component of the app, plus the platform's generated values.
    let components = store.components_of_app(&org.id, DEMO_APP).await.unwrap();
    let mut types: Vec<&str> = components.iter().map(|c| c.type_name.as_str()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "ExternalClientApplication",
            "ExtlClntAppConfigurablePolicies",
            "ExtlClntAppGlobalOauthSettings",
            "ExtlClntAppOauthConfigurablePolicies",
            "ExtlClntAppOauthSettings",
        ]
    );
    for c in &components {
        assert!(
            !c.xml.contains(app.consumer_secret.expose()),
            "secret stored in {}",
            c.full_name
        );
    }
    let policies = components
        .iter()
        .find(|c| c.type_name == "ExtlClntAppOauthConfigurablePolicies")
        .unwrap();
    assert!(policies.xml.contains(
        "<clientCredentialsFlowUser>integration@demo.example</clientCredentialsFlowUser>"
    ));

    // The consumer holds the shown key, and the secret only encrypted.
    let consumer = store
        .consumer_by_key(&app.consumer_key)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        consumer.encrypted_secret,
        app.consumer_secret.expose().as_bytes()
    );

    // A second start changes nothing and shows nothing.
    let again = ensure_demo_app(
        store.as_ref(),
        &org,
        &clock,
        rng.as_ref(),
        &key,
        "test-node",
    )
    .await
    .unwrap();
    assert!(again.is_none());
}

/// Two nodes starting with `--demo` on one empty database: one deploys the sample app, the
/// other finds it made and starts too (its own deploy, with another consumer key, is refused).
#[tokio::test]
async fn two_demo_starts_at_once_both_start() {
    let Started {
        store,
        clock,
        rng,
        key,
        org,
    } = bootstrapped(12).await;
    let (a, b) = tokio::join!(
        ensure_demo_app(
            store.as_ref(),
            &org,
            &clock,
            rng.as_ref(),
            &key,
            "test-node"
        ),
        ensure_demo_app(
            store.as_ref(),
            &org,
            &clock,
            rng.as_ref(),
            &key,
            "test-node"
        ),
    );
    let (a, b) = (a.expect("first start"), b.expect("second start"));
    assert_eq!(
        usize::from(a.is_some()) + usize::from(b.is_some()),
        1,
        "one of them deployed it"
    );
}
