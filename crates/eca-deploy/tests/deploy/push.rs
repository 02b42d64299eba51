//! Push credentials at rest (`spec/metadata.md` §2.7, §4.2): sealed in the store, never in a
//! retrieve, linked by `pushConfigLink`.

use eca_deploy::{DeployOptions, ProblemType, SealReport};
use eca_metadata::MetadataType;
use eca_store::{
    AuditAction, AuditEntry, ChangeSet, ComponentChange, DeployStatus, StoredRetrieve,
};

use crate::{File, TestOrg, World, assert_problem, file, oauth_app, package};

const P8: &str = "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg-apns-p8";

/// Apple push settings of `app` with the `.p8` route and `signing_key`.
fn apple(app: &str, signing_key: &str) -> File {
    file(
        MetadataType::PushSettings,
        &format!("{app}_push"),
        &format!(
            "<applePushConfig><environment>Sandbox</environment><keyIdentifier>KEY123</keyIdentifier><signingKey>{signing_key}</signingKey><teamIdentifier>TEAM42</teamIdentifier></applePushConfig><externalClientApplication>{app}</externalClientApplication><pushServiceType>Apple</pushServiceType>"
        ),
    )
}

/// Push settings of `app` that only link to a record.
fn linked(app: &str, link: &str, service: &str) -> File {
    file(
        MetadataType::PushSettings,
        &format!("{app}_push"),
        &format!(
            "<externalClientApplication>{app}</externalClientApplication><pushConfigLink>{link}</pushConfigLink><pushServiceType>{service}</pushServiceType>"
        ),
    )
}

fn with_app(app: &str, push: File) -> Vec<u8> {
    let mut files = oauth_app(app);
    files.push(push);
    package(&files)
}

/// The text of element `name` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..end])
}

impl World {
    /// The stored push settings of `app`.
    async fn push_xml(&self, org: &TestOrg, app: &str) -> String {
        self.xml(org, MetadataType::PushSettings, &format!("{app}_push"))
            .await
            .unwrap()
    }

    /// The signing key sealed in stored push settings, opened.
    fn open_signing_key(&self, stored: &str) -> String {
        let link = element(stored, "pushConfigLink").unwrap();
        let sealed = element(stored, "signingKey").unwrap();
        let sealed = sealed.strip_prefix("eca-sealed:v1:").unwrap();
        self.key
            .open_text(sealed, format!("eca-push:{link}:signingKey").as_bytes())
            .unwrap()
    }

    /// The push file a retrieve of everything returns.
    async fn retrieved_push(&self, org: &TestOrg) -> String {
        let files = self.retrieve_all(org).await;
        let (_, xml) = files
            .iter()
            .find(|(path, _)| path.ends_with(".ecaPush"))
            .unwrap();
        xml.clone()
    }
}

#[tokio::test]
async fn push_credentials_are_sealed_and_never_retrieved() {
    let world = World::new().await;
    let org = world.org("shop").await;
    world
        .deploy_ok(&org, &with_app("Shop", apple("Shop", P8)))
        .await;

    let stored = world.push_xml(&org, "Shop").await;
    assert!(!stored.contains(P8), "{stored}");
    let link = element(&stored, "pushConfigLink").unwrap();
    let (link_org, id) = link.split_once(':').unwrap();
    assert_eq!(link_org, org.org.id.as_15());
    assert!(id.starts_with("1Dh") && id.len() == 15, "{link}");
    // Sealed, not dropped: the master key opens it, bound to the record and the element.
    assert_eq!(world.open_signing_key(&stored), P8);
    // The values that are not secret stay readable.
    assert_eq!(element(&stored, "keyIdentifier"), Some("KEY123"));
    for record in world.audit(&org).await {
        let texts = [&record.entry.before_xml, &record.entry.after_xml];
        assert!(
            texts
                .iter()
                .all(|t| !t.as_deref().unwrap_or("").contains(P8))
        );
    }

    // A retrieve gives the link alone.
    let retrieved = world.retrieved_push(&org).await;
    assert_eq!(element(&retrieved, "pushConfigLink"), Some(link));
    assert!(!retrieved.contains("applePushConfig"), "{retrieved}");
    assert!(!retrieved.contains("eca-sealed"), "{retrieved}");
}

#[tokio::test]
async fn a_retrieved_push_file_deploys_again_and_keeps_the_credentials() {
    let world = World::new().await;
    let org = world.org("shop").await;
    world
        .deploy_ok(&org, &with_app("Shop", apple("Shop", P8)))
        .await;
    let first = world.push_xml(&org, "Shop").await;
    let link = element(&first, "pushConfigLink").unwrap().to_owned();

    let retrieved = world.retrieved_push(&org).await;
    let again = File {
        ty: MetadataType::PushSettings,
        name: "Shop_push".to_owned(),
        xml: retrieved,
    };
    world.deploy_ok(&org, &package(&[again])).await;
    let stored = world.push_xml(&org, "Shop").await;
    assert_eq!(element(&stored, "pushConfigLink"), Some(link.as_str()));
    assert_eq!(world.open_signing_key(&stored), P8);

    // The same credentials again: nothing changes, not even the revision.
    let revision = |w: &World| {
        let store = w.store.clone();
        let org = org.org.id.clone();
        async move {
            store
                .component(&org, MetadataType::PushSettings.name(), "Shop_push")
                .await
                .unwrap()
                .unwrap()
                .revision
        }
    };
    let before = revision(&world).await;
    world.deploy_ok(&org, &package(&[apple("Shop", P8)])).await;
    assert_eq!(revision(&world).await, before);
    assert_eq!(world.push_xml(&org, "Shop").await, stored);

    // New inline credentials replace the old ones under the same link.
    world
        .deploy_ok(&org, &package(&[apple("Shop", "new-p8-key")]))
        .await;
    let stored = world.push_xml(&org, "Shop").await;
    assert_eq!(element(&stored, "pushConfigLink"), Some(link.as_str()));
    assert_eq!(world.open_signing_key(&stored), "new-p8-key");
}

#[tokio::test]
async fn push_config_link_must_name_credentials_of_the_right_kind() {
    let world = World::new().await;
    let source = world.org("source").await;
    let target = world.org("target").await;
    world
        .deploy_ok(&source, &with_app("Shop", apple("Shop", P8)))
        .await;
    let stored = world.push_xml(&source, "Shop").await;
    let link = element(&stored, "pushConfigLink").unwrap().to_owned();

    // Another org's record, as the documentation says to reuse an app elsewhere: linked, and
    // the credentials stay with their org. The 18-character ids are taken too.
    let (org15, id15) = link.split_once(':').unwrap();
    let long = format!(
        "{}:{}",
        source.org.id.as_str(),
        eca_core::ids::PushConfigId::parse(id15).unwrap().as_str()
    );
    assert_eq!(org15, source.org.id.as_15());
    world
        .deploy_ok(&target, &with_app("Shop", linked("Shop", &long, "Apple")))
        .await;
    let copy = world.push_xml(&target, "Shop").await;
    assert_eq!(element(&copy, "pushConfigLink"), Some(link.as_str()));
    assert!(!copy.contains("applePushConfig"), "{copy}");

    let cases = [
        (
            link.clone(),
            "Android",
            "holds Apple credentials, but pushServiceType is Android",
        ),
        (
            format!("{org15}:1Dh000000000001"),
            "Apple",
            "no push configuration",
        ),
        (
            format!("{}:{id15}", target.org.id.as_15()),
            "Apple",
            "no push configuration",
        ),
        (
            "1Dh000000000001".to_owned(),
            "Apple",
            "is not `<org id>:<1Dh",
        ),
    ];
    for (bad, service, message) in cases {
        let outcome = world
            .deploy(
                &target,
                &package(&[linked("Shop", &bad, service)]),
                Default::default(),
            )
            .await;
        assert_eq!(outcome.result.status, DeployStatus::Failed, "{bad}");
        assert_problem(&outcome.result, "Shop_push", ProblemType::Error, message);
    }
}

#[tokio::test]
async fn credentials_stored_in_the_clear_are_sealed_at_start() {
    sealed_at_start(World::new().await).await;
}

#[tokio::test]
async fn credentials_stored_in_the_clear_are_sealed_at_start_on_postgres() {
    World::on_postgres(sealed_at_start).await;
}

async fn sealed_at_start(world: World) {
    let org = world.org("shop").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    // What an earlier version stored: the file as deployed.
    let plain = apple("Shop", P8);
    let changes = ChangeSet {
        org: &org.org.id,
        user: &org.admin.id,
        at: crate::T0,
        components: &[ComponentChange::Create {
            type_name: MetadataType::PushSettings.name().to_owned(),
            full_name: "Shop_push".to_owned(),
            app_name: Some("Shop".to_owned()),
            xml: plain.xml.clone(),
        }],
        consumers: &[],
        audit: &[AuditEntry {
            action: AuditAction::Created,
            type_name: MetadataType::PushSettings.name().to_owned(),
            full_name: "Shop_push".to_owned(),
            before_xml: None,
            after_xml: Some(plain.xml.clone()),
        }],
        finish: None,
        deleted_apps: &[],
    };
    world.store.apply_changes(&changes).await.unwrap();
    // A retrieve result kept from before: its zip may hold the credentials as retrieved then.
    let retrieve = StoredRetrieve {
        id: "09S000000000001AAA".to_owned(),
        org_id: org.org.id.clone(),
        created_by: org.admin.id.clone(),
        result_json: "{}".to_owned(),
        zip: plain.xml.clone().into_bytes(),
        created_at: crate::T0,
        expires_at: crate::T0.plus_minutes(60_000_000),
    };
    world.store.create_retrieve(&retrieve).await.unwrap();

    let report = eca_deploy::seal_stored_push_credentials(&*world.store, &world.key, &*world.rng)
        .await
        .unwrap();
    assert_eq!(
        report,
        SealReport {
            records: 1,
            audit_entries: 1,
            retrieves: 1,
            unreadable: vec![],
        }
    );
    let audit = world.audit(&org).await;
    let entry = &audit.last().unwrap().entry;
    let after = entry.after_xml.as_deref().unwrap();
    assert!(!after.contains(P8), "{after}");
    assert!(after.contains("eca-sealed:v1:"), "{after}");
    let stored = world.push_xml(&org, "Shop").await;
    assert!(!stored.contains(P8), "{stored}");
    assert_eq!(world.open_signing_key(&stored), P8);
    let after = world
        .store
        .component(&org.org.id, MetadataType::PushSettings.name(), "Shop_push")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.updated_at, after.updated_by),
        (crate::T0, org.admin.id.clone())
    );
    // Once sealed, nothing more to do.
    let again = eca_deploy::seal_stored_push_credentials(&*world.store, &world.key, &*world.rng)
        .await
        .unwrap();
    assert_eq!(again, SealReport::default());
    assert_eq!(world.push_xml(&org, "Shop").await, stored);
}

/// A deploy may not delete or replace the record that its own components link to: the
/// documented way to rename is to deploy under the new name and delete the old one, and the
/// link must not be left naming nothing.
#[tokio::test]
async fn a_link_to_credentials_the_same_deploy_deletes_is_refused() {
    let world = World::new().await;
    let org = world.org("shop").await;
    world
        .deploy_ok(&org, &with_app("Old", apple("Old", P8)))
        .await;
    world.deploy_ok(&org, &package(&oauth_app("New"))).await;
    let stored = world.push_xml(&org, "Old").await;
    let link = element(&stored, "pushConfigLink").unwrap().to_owned();

    let destructive = crate::manifest(&[(MetadataType::PushSettings, "Old_push")]);
    for kind in ["destructiveChangesPre.xml", "destructiveChangesPost.xml"] {
        let zip = crate::package_at(
            &[linked("New", &link, "Apple")],
            eca_metadata::ApiVersion::DEFAULT,
            &[(kind, &destructive)],
        );
        let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
        assert_eq!(outcome.result.status, DeployStatus::Failed, "{kind}");
        assert_problem(
            &outcome.result,
            "New_push",
            ProblemType::Error,
            "is deleted or replaced by this deploy",
        );
        assert_eq!(world.push_xml(&org, "Old").await, stored, "{kind}");
    }
    // Replaced in the same package by other credentials' link, or by another kind.
    let android = file(
        MetadataType::PushSettings,
        "Old_push",
        "<androidPushConfig><fcmProject>p</fcmProject><serviceAccount>sa</serviceAccount></androidPushConfig><externalClientApplication>Old</externalClientApplication><pushServiceType>Android</pushServiceType>",
    );
    let outcome = world
        .deploy(
            &org,
            &package(&[android.clone(), linked("New", &link, "Apple")]),
            DeployOptions::default(),
        )
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "New_push",
        ProblemType::Error,
        "holds Android credentials, but pushServiceType is Apple",
    );
    // Left alone, the record may be linked to.
    world
        .deploy_ok(&org, &package(&[linked("New", &link, "Apple")]))
        .await;
}
