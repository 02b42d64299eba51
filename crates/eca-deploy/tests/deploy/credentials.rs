//! Consumer keys and secrets: generated on the first deploy, or taken from the file then only;
//! rotated only by the flags, which need ignoreWarnings (`spec/metadata.md` §2.3, §5.1 item 7).

use eca_deploy::{DeployOptions, ProblemType};
use eca_metadata::MetadataType;
use eca_store::DeployStatus;

use crate::{World, assert_problem, global, header, ignore_warnings, oauth, package};

const KEY: &str = "3MVG9fixedCiKeyForTestsOnly.0123456789";
const SECRET: &str = "F1XEDSECRETF0RCI";

#[tokio::test]
async fn rotation_flags_need_ignore_warnings() {
    // (flags, ignoreWarnings, deploy succeeds, key changes, secret changes)
    let cases = [
        (
            "<shouldRotateConsumerKey>true</shouldRotateConsumerKey>",
            false,
            false,
            false,
            false,
        ),
        (
            "<shouldRotateConsumerKey>true</shouldRotateConsumerKey>",
            true,
            true,
            true,
            false,
        ),
        (
            "<shouldRotateConsumerSecret>true</shouldRotateConsumerSecret>",
            false,
            false,
            false,
            false,
        ),
        (
            "<shouldRotateConsumerSecret>true</shouldRotateConsumerSecret>",
            true,
            true,
            false,
            true,
        ),
        (
            "<shouldRotateConsumerKey>true</shouldRotateConsumerKey><shouldRotateConsumerSecret>true</shouldRotateConsumerSecret>",
            true,
            true,
            true,
            true,
        ),
        (
            "<shouldRotateConsumerKey>false</shouldRotateConsumerKey>",
            false,
            true,
            false,
            false,
        ),
    ];
    for (flags, ignore, ok, key_changes, secret_changes) in cases {
        let world = World::new().await;
        let org = world.org("acme").await;
        world
            .deploy_ok(
                &org,
                &package(&[header("Shop"), oauth("Shop", ""), global("Shop", "")]),
            )
            .await;
        let before = world.consumer(&org, "Shop").await.unwrap();
        let options = DeployOptions {
            ignore_warnings: ignore,
            ..DeployOptions::default()
        };
        let outcome = world
            .deploy(&org, &package(&[global("Shop", flags)]), options)
            .await;
        let case = format!("{flags} ignoreWarnings={ignore}");
        assert_eq!(
            outcome.result.success, ok,
            "{case}: {:#?}",
            outcome.result.details.component_failures
        );
        let after = world.consumer(&org, "Shop").await.unwrap();
        assert_eq!(
            after.id, before.id,
            "{case}: the consumer stays, its credentials change"
        );
        assert_eq!(
            after.consumer_key != before.consumer_key,
            key_changes,
            "{case}"
        );
        assert_eq!(
            world.secret(&after) != world.secret(&before),
            secret_changes,
            "{case}"
        );
        if key_changes || secret_changes {
            assert_eq!(outcome.rotated_consumers, vec![after.id.clone()], "{case}");
            assert_problem(
                &outcome.result,
                "Shop_glbloauth",
                ProblemType::Warning,
                "shouldRotateConsumer",
            );
            // The stored file has the new key and the flag back to false; the link is unchanged.
            let stored = world
                .xml(&org, MetadataType::GlobalOauthSettings, "Shop_glbloauth")
                .await
                .unwrap();
            assert!(
                stored.contains(&format!(
                    "<consumerKey>{}</consumerKey>",
                    after.consumer_key
                )),
                "{case}"
            );
            assert!(!stored.contains(">true</shouldRotate"), "{case}: {stored}");
        }
        if flags.contains("true") && !ignore {
            assert_eq!(outcome.result.status, DeployStatus::Failed, "{case}");
            assert_problem(
                &outcome.result,
                "Shop_glbloauth",
                ProblemType::Warning,
                "shouldRotateConsumer",
            );
        }
    }
}

#[tokio::test]
async fn supplied_credentials_are_taken_on_the_first_deploy_only() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let fixed =
        format!("<consumerKey>{KEY}</consumerKey><consumerSecret>{SECRET}</consumerSecret>");
    let files = [header("Ci"), oauth("Ci", ""), global("Ci", &fixed)];

    // A warning each: without ignoreWarnings the deploy stops.
    let outcome = world
        .deploy(&org, &package(&files), DeployOptions::default())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Ci_glbloauth",
        ProblemType::Warning,
        "consumerKey is taken from the file",
    );
    assert_problem(
        &outcome.result,
        "Ci_glbloauth",
        ProblemType::Warning,
        "consumerSecret is taken from the file",
    );
    assert_eq!(world.consumer(&org, "Ci").await, None);

    let outcome = world
        .deploy(&org, &package(&files), ignore_warnings())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    let consumer = world.consumer(&org, "Ci").await.unwrap();
    assert_eq!(
        (
            consumer.consumer_key.as_str(),
            world.secret(&consumer).as_str()
        ),
        (KEY, SECRET)
    );
    let stored = world
        .xml(&org, MetadataType::GlobalOauthSettings, "Ci_glbloauth")
        .await
        .unwrap();
    assert!(stored.contains(KEY) && !stored.contains(SECRET) && !stored.contains("consumerSecret"));

    // Later: the same values are fine, other values are refused.
    world
        .deploy_ok(
            &org,
            &package(&[global("Ci", &format!("<consumerKey>{KEY}</consumerKey>"))]),
        )
        .await;
    for (body, field) in [
        (
            "<consumerKey>3MVG9another</consumerKey>".to_owned(),
            "consumerKey",
        ),
        (
            "<consumerSecret>OTHER</consumerSecret>".to_owned(),
            "consumerSecret",
        ),
    ] {
        let outcome = world
            .deploy(&org, &package(&[global("Ci", &body)]), ignore_warnings())
            .await;
        assert_eq!(outcome.result.status, DeployStatus::Failed, "{field}");
        assert_problem(
            &outcome.result,
            "Ci_glbloauth",
            ProblemType::Error,
            &format!("In field: {field} - the consumer"),
        );
    }
    let outcome = world
        .deploy(
            &org,
            &package(&[global(
                "Ci",
                &format!("<consumerSecret>{SECRET}</consumerSecret>"),
            )]),
            DeployOptions::default(),
        )
        .await;
    assert_eq!(
        outcome.result.status,
        DeployStatus::Succeeded,
        "the same secret again is no change"
    );
    assert_eq!(world.consumer(&org, "Ci").await.unwrap(), consumer);

    // Another app (of any org) cannot take the key.
    let other = world.org("other").await;
    let taken = [
        header("Copy"),
        oauth("Copy", ""),
        global("Copy", &format!("<consumerKey>{KEY}</consumerKey>")),
    ];
    let outcome = world
        .deploy(&other, &package(&taken), ignore_warnings())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Copy_glbloauth",
        ProblemType::Error,
        "already used by another External Client App",
    );
    // Nor can two apps of one deploy.
    let twins = [
        header("A"),
        oauth("A", ""),
        global("A", "<consumerKey>3MVG9twin</consumerKey>"),
        header("B"),
        oauth("B", ""),
        global("B", "<consumerKey>3MVG9twin</consumerKey>"),
    ];
    let outcome = world
        .deploy(&other, &package(&twins), ignore_warnings())
        .await;
    assert_problem(
        &outcome.result,
        "B_glbloauth",
        ProblemType::Error,
        "already used",
    );
    // Nor the key of a staged or rotated credential, which is as much a client_id.
    let consumer = world.consumer(&org, "Ci").await.expect("Ci's consumer");
    let staged_key = "3MVG9stagedForCi";
    world
        .store
        .stage_credential(
            &eca_store::StagedCredential {
                id: eca_core::ids::StagedCredentialId::generate(world.rng.as_ref()),
                org_id: org.org.id.clone(),
                consumer_id: consumer.id.clone(),
                consumer_key: staged_key.to_owned(),
                encrypted_secret: vec![1, 2, 3],
                state: eca_store::CredentialState::Active,
                created_at: eca_core::Clock::now(world.clock.as_ref()),
                created_by: org.admin.id.clone(),
                expires_at: eca_core::Clock::now(world.clock.as_ref()).plus_secs(3_600),
            },
            eca_core::Clock::now(world.clock.as_ref()),
        )
        .await
        .expect("a staged credential");
    let staged = [
        header("Stage"),
        oauth("Stage", ""),
        global("Stage", &format!("<consumerKey>{staged_key}</consumerKey>")),
    ];
    let outcome = world
        .deploy(&other, &package(&staged), ignore_warnings())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Stage_glbloauth",
        ProblemType::Error,
        "already used by another External Client App",
    );
    // A malformed key is refused.
    let spaced = [
        header("S"),
        oauth("S", ""),
        global("S", "<consumerKey>has space</consumerKey>"),
    ];
    let outcome = world
        .deploy(&other, &package(&spaced), ignore_warnings())
        .await;
    assert_problem(
        &outcome.result,
        "S_glbloauth",
        ProblemType::Error,
        "printable characters",
    );
}

#[tokio::test]
async fn deleting_and_recreating_an_app_may_reuse_its_saved_credentials() {
    // sfdx-hardis restores apps with their saved key and secret (§5.4).
    let world = World::new().await;
    let org = world.org("acme").await;
    let fixed =
        format!("<consumerKey>{KEY}</consumerKey><consumerSecret>{SECRET}</consumerSecret>");
    let files = [header("Ci"), oauth("Ci", ""), global("Ci", &fixed)];
    world
        .deploy(&org, &package(&files), ignore_warnings())
        .await;
    let old = world.consumer(&org, "Ci").await.unwrap();
    let pre = crate::manifest(&[(MetadataType::ExternalClientApplication, "Ci")]);
    let zip = crate::package_at(
        &files,
        eca_metadata::ApiVersion::DEFAULT,
        &[("destructiveChangesPre.xml", &pre)],
    );
    let outcome = world.deploy(&org, &zip, ignore_warnings()).await;
    assert_eq!(
        outcome.result.status,
        DeployStatus::Succeeded,
        "{:#?}",
        outcome.result.details.component_failures
    );
    let new = world.consumer(&org, "Ci").await.unwrap();
    assert_ne!(new.id, old.id, "a new consumer");
    assert_eq!(
        (new.consumer_key.as_str(), world.secret(&new).as_str()),
        (KEY, SECRET)
    );
    assert_eq!(outcome.deleted_apps, vec!["Ci".to_owned()]);
    assert_eq!(outcome.deleted_consumers, vec![old.id]);
}
