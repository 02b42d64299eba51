//! What only the org can tell: headers, users, profiles, permission sets, consumers.

use eca_deploy::{DeployOptions, ProblemType};
use eca_metadata::MetadataType;
use eca_store::DeployStatus;

use crate::{
    World, assert_problem, file, global, header, ignore_warnings, oauth, oauth_app, oauth_policies,
    package, problems,
};

/// `(OAuth policy body, expected problem or None)`: run-as users, profiles, permission sets.
#[tokio::test]
async fn policies_name_users_profiles_and_permission_sets_of_the_org() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let other = world.org("other").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let cc = |user: &str| {
        format!(
            "<clientCredentialsFlowUser>{user}</clientCredentialsFlowUser><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>"
        )
    };
    let cases: Vec<(String, Option<(ProblemType, String)>)> = vec![
        (cc(&org.run_as.username), None),
        (cc(&org.run_as.username.to_uppercase()), None),
        (
            cc("nobody@acme.test"),
            Some((
                ProblemType::Error,
                "In field: clientCredentialsFlowUser - no User named nobody@acme.test found"
                    .to_owned(),
            )),
        ),
        (
            cc(&other.run_as.username),
            Some((ProblemType::Error, "no User named".to_owned())),
        ),
        (
            cc(&org.inactive.username),
            Some((ProblemType::Error, "is inactive".to_owned())),
        ),
        (
            cc(&org.admin.username),
            Some((
                ProblemType::Warning,
                "does not have the API Only User permission".to_owned(),
            )),
        ),
        (
            format!(
                "<executeHandlerAs>{}</executeHandlerAs>",
                org.admin.username
            ),
            None,
        ),
        (
            "<executeHandlerAs>ghost@acme.test</executeHandlerAs>".to_owned(),
            Some((
                ProblemType::Error,
                "In field: executeHandlerAs - no User named".to_owned(),
            )),
        ),
        (
            "<commaSeparatedProfile>System Administrator, integration user</commaSeparatedProfile>"
                .to_owned(),
            None,
        ),
        (
            "<commaSeparatedProfile>System Administrator, Nope</commaSeparatedProfile>".to_owned(),
            Some((
                ProblemType::Error,
                "In field: commaSeparatedProfile - no Profile named Nope found".to_owned(),
            )),
        ),
        (
            "<commaSeparatedPermissionSet>ECA_Integration</commaSeparatedPermissionSet>".to_owned(),
            None,
        ),
        (
            "<commaSeparatedPermissionSet>Missing_Set</commaSeparatedPermissionSet>".to_owned(),
            Some((
                ProblemType::Error,
                "no PermissionSet named Missing_Set found".to_owned(),
            )),
        ),
    ];
    for (body, expected) in cases {
        let policy = oauth_policies("Shop", "Shop_oauth_defaultPolicy", &body);
        let outcome = world
            .deploy(&org, &package(&[policy]), DeployOptions::default())
            .await;
        match expected {
            None => assert_eq!(
                outcome.result.status,
                DeployStatus::Succeeded,
                "{body}: {:#?}",
                problems(&outcome.result)
            ),
            Some((kind, text)) => {
                assert_eq!(outcome.result.status, DeployStatus::Failed, "{body}");
                assert_problem(&outcome.result, "Shop_oauth_defaultPolicy", kind, &text);
            }
        }
    }
}

#[tokio::test]
async fn client_credentials_need_a_run_as_user_in_the_package_or_the_org() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let cc_global = global(
        "Cc",
        "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
    );
    let files = [header("Cc"), oauth("Cc", ""), cc_global.clone()];
    let outcome = world
        .deploy(&org, &package(&files), DeployOptions::default())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Cc_glbloauth",
        ProblemType::Warning,
        "name no run-as user",
    );

    let policy = oauth_policies(
        "Cc",
        "Cc_oauth_defaultPolicy",
        &format!(
            "<clientCredentialsFlowUser>{}</clientCredentialsFlowUser><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
            org.run_as.username
        ),
    );
    let mut with_policy = files.to_vec();
    with_policy.push(policy);
    world.deploy_ok(&org, &package(&with_policy)).await;
    // Later deploys of the global settings alone find the user in the org's policies.
    world.deploy_ok(&org, &package(&[cc_global])).await;
}

#[tokio::test]
async fn satellites_resolve_their_header_in_the_package_or_the_org() {
    let world = World::new().await;
    let org = world.org("acme").await;
    // Nowhere.
    let outcome = world
        .deploy(
            &org,
            &package(&[oauth("Shop", "")]),
            DeployOptions::default(),
        )
        .await;
    assert_problem(
        &outcome.result,
        "Shop_oauth",
        ProblemType::Error,
        "In field: externalClientApplication - no ExternalClientApplication named Shop found",
    );
    // In the org.
    world.deploy_ok(&org, &package(&[header("Shop")])).await;
    world.deploy_ok(&org, &package(&[oauth("shop", "")])).await;
    // Global settings need OAuth settings, in the package or the org (§5.5).
    world.deploy_ok(&org, &package(&[header("Bare")])).await;
    let outcome = world
        .deploy(
            &org,
            &package(&[global("Bare", "")]),
            DeployOptions::default(),
        )
        .await;
    assert_problem(
        &outcome.result,
        "Bare_glbloauth",
        ProblemType::Error,
        "The external client app configured in your global OAuth Settings doesn't have a valid OAuth settings configuration.",
    );
    world.deploy_ok(&org, &package(&[global("Shop", "")])).await;
    // ...and the org's OAuth settings get their link.
    let consumer = world.consumer(&org, "Shop").await.unwrap();
    let settings = world
        .xml(&org, MetadataType::OauthSettings, "shop_oauth")
        .await
        .unwrap();
    assert!(settings.contains(consumer.id.as_15()), "{settings}");
    // Push settings need the OAuth plugin too.
    let push = file(
        MetadataType::PushSettings,
        "Bare_push",
        "<externalClientApplication>Bare</externalClientApplication><pushConfigLink>00D000000000001:1Dh000000000001</pushConfigLink><pushServiceType>Android</pushServiceType>",
    );
    let outcome = world
        .deploy(&org, &package(&[push]), ignore_warnings())
        .await;
    assert_problem(
        &outcome.result,
        "Bare_push",
        ProblemType::Error,
        "needs the OAuth plugin",
    );
}

#[tokio::test]
async fn oauth_link_must_name_an_existing_consumer() {
    let world = World::new().await;
    let source = world.org("source").await;
    let target = world.org("target").await;
    world.deploy_ok(&source, &package(&oauth_app("Shop"))).await;
    world
        .deploy_ok(&source, &package(&oauth_app("Other")))
        .await;
    let consumer = world.consumer(&source, "Shop").await.unwrap();
    let link = format!("{}:{}", source.org.id.as_15(), consumer.id.as_15());
    let linked = |l: &str| oauth("Shop", &format!("<oauthLink>{l}</oauthLink>"));

    // Association (§6.3, §6.4): another org keeps the link and has no global settings.
    let outcome = world
        .deploy_ok(&target, &package(&[header("Shop"), linked(&link)]))
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    assert_eq!(world.consumer(&target, "Shop").await, None);
    let settings = world
        .xml(&target, MetadataType::OauthSettings, "Shop_oauth")
        .await
        .unwrap();
    assert!(settings.contains(&link));

    let fresh = world.org("fresh").await;
    let dangling = format!("{}:888000000000001", source.org.id.as_15());
    let wrong_org = format!("{}:{}", target.org.id.as_15(), consumer.id.as_15());
    let other_app = format!(
        "{}:{}",
        source.org.id.as_15(),
        world.consumer(&source, "Other").await.unwrap().id.as_15()
    );
    // (org, files, problem)
    let cases = [
        (
            &fresh,
            vec![header("Shop"), linked(&dangling)],
            "no OAuth consumer 888000000000001 found",
        ),
        (
            &fresh,
            vec![header("Shop"), linked("garbage")],
            "is not `<org id>:<888… consumer id>`",
        ),
        (
            &fresh,
            vec![header("Shop"), linked(&wrong_org)],
            "no OAuth consumer",
        ),
        (
            &fresh,
            vec![header("Shop"), linked(&link), global("Shop", "")],
            "remove oauthLink to link the app to them",
        ),
        (&source, vec![linked(&other_app)], "belongs to app Other"),
    ];
    for (org, files, problem) in cases {
        let before = world.snapshot(org).await;
        let outcome = world.deploy(org, &package(&files), ignore_warnings()).await;
        assert_eq!(outcome.result.status, DeployStatus::Failed, "{problem}");
        assert_problem(&outcome.result, "Shop_oauth", ProblemType::Error, problem);
        assert_eq!(world.snapshot(org).await, before);
    }
    // The app's own link, as retrieved, redeploys.
    world.deploy_ok(&source, &package(&[linked(&link)])).await;

    // The associated app gets global settings of its own later: a new consumer, relinked.
    world
        .deploy_ok(&target, &package(&[global("Shop", "")]))
        .await;
    let own = world.consumer(&target, "Shop").await.unwrap();
    let settings = world
        .xml(&target, MetadataType::OauthSettings, "Shop_oauth")
        .await
        .unwrap();
    assert!(
        settings.contains(&format!(
            "<oauthLink>{}:{}</oauthLink>",
            target.org.id.as_15(),
            own.id.as_15()
        )),
        "{settings}"
    );
}

/// Component names are unique in the org, not per app: a satellite named like another app's
/// component is refused, naming the app it belongs to. Found by review: the planner read only
/// the apps of the package, so such a file moved the other app's component to its own app
/// (taking that app's consumer link along), or was silently dropped, or failed as a server
/// error.
#[tokio::test]
async fn a_satellite_may_not_take_another_apps_component_name() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let shared = |app: &str| {
        file(
            MetadataType::OauthSettings,
            "Shared_oauth",
            &format!(
                "<commaSeparatedOauthScopes>Api</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><label>Shared</label>"
            ),
        )
    };
    world
        .deploy_ok(&org, &package(&[header("A"), shared("A"), global("A", "")]))
        .await;
    let before = world
        .xml(&org, MetadataType::OauthSettings, "Shared_oauth")
        .await
        .unwrap();
    // With A's header in the package, without it, and in another case.
    for files in [
        vec![header("A"), header("B"), shared("B")],
        vec![header("B"), shared("B")],
        vec![
            header("B"),
            crate::File {
                name: "shared_OAUTH".to_owned(),
                ..shared("b")
            },
        ],
    ] {
        let outcome = world
            .deploy(&org, &package(&files), DeployOptions::default())
            .await;
        assert_eq!(outcome.result.status, DeployStatus::Failed);
        let found = problems(&outcome.result);
        assert!(
            found
                .iter()
                .any(|(_, _, text)| text.contains("belongs to ExternalClientApplication A")),
            "{found:?}"
        );
        assert_eq!(
            world
                .xml(&org, MetadataType::OauthSettings, "Shared_oauth")
                .await
                .unwrap(),
            before
        );
    }
    // Deleted by the same deploy: still refused, with a message that says what to do.
    let zip = crate::package_at(
        &[header("B"), shared("B")],
        eca_metadata::ApiVersion::DEFAULT,
        &[(
            "destructiveChanges.xml",
            &crate::manifest(&[(MetadataType::OauthSettings, "Shared_oauth")]),
        )],
    );
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    let found = problems(&outcome.result);
    assert!(
        found
            .iter()
            .any(|(_, _, text)| text.contains("is deleted by this deploy")),
        "{found:?}"
    );
}
