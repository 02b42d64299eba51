//! `destructiveChanges.xml`, `…Pre.xml` and `…Post.xml`: cascades, ordering, missing
//! components.

use eca_deploy::{DeployOptions, ProblemType};
use eca_metadata::{ApiVersion, MetadataType};
use eca_store::{AuditAction, DeployStatus};

use crate::{
    File, World, assert_problem, header, ignore_warnings, manifest, oauth, oauth_app,
    oauth_policies, package, package_at, successes,
};

/// A package deploying `files` with one destructive manifest.
fn with_destructive(files: &[File], kind: &str, members: &[(MetadataType, &str)]) -> Vec<u8> {
    package_at(files, ApiVersion::DEFAULT, &[(kind, &manifest(members))])
}

#[tokio::test]
async fn deleting_a_header_deletes_its_app() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    world.deploy_ok(&org, &package(&oauth_app("Keep"))).await;
    let consumer = world.consumer(&org, "Shop").await.unwrap();
    let audit_before = world.audit(&org).await.len();

    let zip = with_destructive(
        &[],
        "destructiveChanges.xml",
        &[(MetadataType::ExternalClientApplication, "Shop")],
    );
    let outcome = world.deploy_ok(&org, &zip).await;
    assert_eq!(
        successes(&outcome.result),
        vec![(
            "ExternalClientApplication".to_owned(),
            "Shop".to_owned(),
            false,
            false,
            true
        )]
    );
    // The hook for the token store: what to revoke.
    assert_eq!(outcome.deleted_apps, vec!["Shop".to_owned()]);
    assert_eq!(outcome.deleted_consumers, vec![consumer.id.clone()]);
    assert_eq!(
        world
            .store
            .components_of_app(&org.org.id, "Shop")
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(world.consumer(&org, "Shop").await, None);
    assert_eq!(world.store.consumer(&consumer.id).await.unwrap(), None);
    assert_eq!(
        world
            .store
            .components_of_app(&org.org.id, "Keep")
            .await
            .unwrap()
            .len(),
        5
    );
    // Five components and a consumer deleted, each audited with its last XML.
    let trail = world.audit(&org).await;
    let deleted: Vec<_> = trail[audit_before..].iter().collect();
    assert_eq!(deleted.len(), 6);
    assert!(
        deleted
            .iter()
            .filter(|r| r.entry.action == AuditAction::Deleted)
            .all(|r| r.entry.before_xml.is_some() && r.entry.after_xml.is_none())
    );
    assert!(
        deleted
            .iter()
            .any(|r| r.entry.action == AuditAction::ConsumerDeleted)
    );
}

#[tokio::test]
async fn a_satellite_may_be_deleted_alone() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let mut files = oauth_app("Shop");
    files.push(oauth_policies(
        "Shop",
        "Shop_oauth_defaultPolicy",
        "<ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType>",
    ));
    world.deploy_ok(&org, &package(&files)).await;
    let zip = with_destructive(
        &[],
        "destructiveChangesPost.xml",
        &[(MetadataType::OauthPolicies, "Shop_oauth_defaultPolicy")],
    );
    let outcome = world.deploy_ok(&org, &zip).await;
    assert_eq!(outcome.deleted_apps, Vec::<String>::new());
    assert_eq!(
        world
            .xml(
                &org,
                MetadataType::OauthPolicies,
                "Shop_oauth_defaultPolicy"
            )
            .await,
        None
    );
    assert!(
        world
            .xml(&org, MetadataType::ExternalClientApplication, "Shop")
            .await
            .is_some()
    );
    // The next deploy of the app gives it a default policy again.
    world.deploy_ok(&org, &package(&[oauth("Shop", "")])).await;
    let regenerated = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "Shop_oauth_defaultPolicy",
        )
        .await
        .unwrap();
    assert!(regenerated.contains("<ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>"));
}

#[tokio::test]
async fn deleting_the_global_settings_deletes_the_consumer_and_the_link() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let consumer = world.consumer(&org, "Shop").await.unwrap();
    let zip = with_destructive(
        &[],
        "destructiveChanges.xml",
        &[(MetadataType::GlobalOauthSettings, "Shop_glbloauth")],
    );
    let outcome = world.deploy_ok(&org, &zip).await;
    assert_eq!(outcome.deleted_consumers, vec![consumer.id]);
    assert_eq!(outcome.deleted_apps, Vec::<String>::new());
    let settings = world
        .xml(&org, MetadataType::OauthSettings, "Shop_oauth")
        .await
        .unwrap();
    assert!(!settings.contains("oauthLink"), "{settings}");
}

#[tokio::test]
async fn deleting_what_does_not_exist_is_a_warning() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let zip = with_destructive(
        &[],
        "destructiveChanges.xml",
        &[(MetadataType::ExternalClientApplication, "Ghost")],
    );
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Ghost",
        ProblemType::Warning,
        "No ExternalClientApplication named: Ghost found",
    );
    // As sfdx-hardis runs destructive deploys: with ignoreWarnings.
    let outcome = world.deploy(&org, &zip, ignore_warnings()).await;
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
}

#[tokio::test]
async fn ordering_rules_are_enforced() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let before = world.snapshot(&org).await;
    let header_member = [(MetadataType::ExternalClientApplication, "Shop")];
    let new_policy = [oauth_policies(
        "Shop",
        "Shop_oauth_defaultPolicy",
        "<ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType>",
    )];

    // Post: the header would be deleted after this deploy adds to it.
    let zip = with_destructive(&new_policy, "destructiveChangesPost.xml", &header_member);
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Shop",
        ProblemType::Error,
        "cannot be deleted by destructiveChangesPost.xml while this package deploys components of it",
    );

    // Pre: the header is gone before the satellite arrives.
    let zip = with_destructive(&new_policy, "destructiveChangesPre.xml", &header_member);
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Shop_oauth_defaultPolicy",
        ProblemType::Error,
        "ExternalClientApplication Shop is deleted by destructiveChangesPre.xml before this component is deployed",
    );

    // Deployed and deleted after, in one deploy.
    let zip = with_destructive(
        &new_policy,
        "destructiveChangesPost.xml",
        &[(MetadataType::OauthPolicies, "Shop_oauth_defaultPolicy")],
    );
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    assert_problem(
        &outcome.result,
        "Shop_oauth_defaultPolicy",
        ProblemType::Error,
        "is deployed by this package and deleted by destructiveChangesPost.xml",
    );

    // Wildcards are not allowed in destructive manifests.
    let zip = package_at(
        &[],
        ApiVersion::DEFAULT,
        &[(
            "destructiveChanges.xml",
            "<Package xmlns=\"http://soap.sforce.com/2006/04/metadata\"><types><members>*</members><name>ExternalClientApplication</name></types></Package>",
        )],
    );
    let outcome = world.deploy(&org, &zip, ignore_warnings()).await;
    assert_problem(
        &outcome.result,
        "*",
        ProblemType::Error,
        "cannot use the wildcard",
    );
    assert_eq!(world.snapshot(&org).await, before);

    // Pre-delete and redeploy the whole app: a fresh app with a new consumer.
    let old = world.consumer(&org, "Shop").await.unwrap();
    let zip = with_destructive(
        &oauth_app("Shop"),
        "destructiveChangesPre.xml",
        &header_member,
    );
    let outcome = world.deploy_ok(&org, &zip).await;
    assert_eq!(outcome.deleted_consumers, vec![old.id.clone()]);
    let new = world.consumer(&org, "Shop").await.unwrap();
    assert_ne!(new.id, old.id);
    let settings = world
        .xml(&org, MetadataType::OauthSettings, "Shop_oauth")
        .await
        .unwrap();
    assert!(settings.contains(new.id.as_15()));
    // And a header deleted without adds is fine in Post.
    let zip = with_destructive(
        &[header("Other")],
        "destructiveChangesPost.xml",
        &header_member,
    );
    world.deploy_ok(&org, &zip).await;
    assert_eq!(world.consumer(&org, "Shop").await, None);
}
