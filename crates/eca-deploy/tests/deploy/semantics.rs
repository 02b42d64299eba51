//! What a deploy does: generated values (§4.2, §5.2), checkOnly, rollbackOnError, warnings,
//! the duplicate-policy rule, admin policies surviving developer deploys, the audit trail, the
//! result's shape, status and listing.

use eca_core::Clock;
use eca_deploy::{DeployOptions, ProblemType};
use eca_metadata::model::{AppPolicies, Component, CustomAttribute, OauthPolicies};
use eca_metadata::{ApiVersion, MetadataType, xml};
use eca_store::{AuditAction, DeployStatus, Unfinished};

use crate::{
    World, app_policies, assert_problem, header, ignore_warnings, oauth, oauth_app, oauth_policies,
    package, problems, successes,
};

fn model(ty: MetadataType, name: &str, text: &str) -> Component {
    Component::from_element(ty, name, &xml::parse_str(text).unwrap().root)
}

#[tokio::test]
async fn first_deploy_generates_the_platform_values() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let outcome = world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let org15 = org.org.id.as_15();

    // Three components created, listed with package.xml; the generated policies are not listed.
    // (In the order of the files in the zip.)
    assert_eq!(
        successes(&outcome.result),
        vec![
            (
                "ExternalClientApplication".to_owned(),
                "Shop".to_owned(),
                true,
                false,
                false
            ),
            (
                "ExtlClntAppGlobalOauthSettings".to_owned(),
                "Shop_glbloauth".to_owned(),
                true,
                false,
                false
            ),
            (
                "ExtlClntAppOauthSettings".to_owned(),
                "Shop_oauth".to_owned(),
                true,
                false,
                false
            ),
        ]
    );
    let r = &outcome.result;
    assert!(r.success && r.done && !r.check_only && r.rollback_on_error);
    assert_eq!(
        (
            r.number_components_total,
            r.number_components_deployed,
            r.number_component_errors
        ),
        (3, 3, 0)
    );
    assert!(r.id.starts_with("0Af") && r.id.len() == 18);
    assert_eq!(r.created_by, org.admin.id.to_string());
    assert_eq!(r.created_by_name, "Ada admin");

    // The consumer: 888 id, 3MVG9 key, a secret kept only encrypted.
    let consumer = world.consumer(&org, "Shop").await.unwrap();
    assert!(consumer.id.as_str().starts_with("888"));
    assert!(consumer.consumer_key.starts_with("3MVG9") && consumer.consumer_key.len() == 85);
    let secret = world.secret(&consumer);
    assert_eq!(secret.len(), 64);

    let header = world
        .xml(&org, MetadataType::ExternalClientApplication, "Shop")
        .await
        .unwrap();
    assert!(
        header.contains(&format!(
            "<orgScopedExternalApp>{org15}:Shop</orgScopedExternalApp>"
        )),
        "{header}"
    );
    let settings = world
        .xml(&org, MetadataType::OauthSettings, "Shop_oauth")
        .await
        .unwrap();
    assert!(
        settings.contains(&format!(
            "<oauthLink>{org15}:{}</oauthLink>",
            consumer.id.as_15()
        )),
        "{settings}"
    );
    assert!(settings.contains("<isFirstPartyAppEnabled>false</isFirstPartyAppEnabled>"));
    let global = world
        .xml(&org, MetadataType::GlobalOauthSettings, "Shop_glbloauth")
        .await
        .unwrap();
    assert!(global.contains(&format!(
        "<consumerKey>{}</consumerKey>",
        consumer.consumer_key
    )));
    assert!(!global.contains("consumerSecret") && !global.contains(&secret));

    // The default policies, with exactly the §5.2 values.
    let policies = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "Shop_oauth_defaultPolicy",
        )
        .await
        .unwrap();
    assert_eq!(
        model(
            MetadataType::OauthPolicies,
            "Shop_oauth_defaultPolicy",
            &policies
        ),
        Component::OauthPolicies(OauthPolicies::default_for(
            "Shop",
            "Shop_oauth_defaultPolicy",
            ApiVersion::DEFAULT
        ))
    );
    let app = world
        .xml(&org, MetadataType::AppPolicies, "Shop_defaultPolicy")
        .await
        .unwrap();
    assert_eq!(
        model(MetadataType::AppPolicies, "Shop_defaultPolicy", &app),
        Component::AppPolicies(AppPolicies::default_for("Shop", "Shop_defaultPolicy"))
    );
    // Nothing secret in the stored result either.
    let status = eca_deploy::check_status(
        &*world.store,
        &org.org.id,
        &eca_store::DeployRequestId::parse(&r.id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&status, r);
    assert!(!serde_json::to_string(&status).unwrap().contains(&secret));
}

#[tokio::test]
async fn a_bare_header_gets_only_its_app_policy_and_no_consumer() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&[header("Bare")])).await;
    let all = world.store.components(&org.org.id).await.unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.full_name.as_str()).collect();
    assert_eq!(names, ["Bare", "Bare_defaultPolicy"]);
    assert_eq!(world.consumer(&org, "Bare").await, None);
}

#[tokio::test]
async fn custom_attributes_of_the_settings_become_policy_defaults() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let attrs = "<customAttributes><formula>$User.Email</formula><key>email</key></customAttributes><customAttributes><formula>$Organization.Country</formula><key>country</key></customAttributes>";
    world
        .deploy_ok(&org, &package(&[header("Attr"), oauth("Attr", attrs)]))
        .await;
    let text = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "Attr_oauth_defaultPolicy",
        )
        .await
        .unwrap();
    let Component::OauthPolicies(p) = model(
        MetadataType::OauthPolicies,
        "Attr_oauth_defaultPolicy",
        &text,
    ) else {
        panic!()
    };
    assert_eq!(
        p.custom_attributes,
        vec![
            CustomAttribute::new("email", "$User.Email"),
            CustomAttribute::new("country", "$Organization.Country"),
        ]
    );
    // No global settings: no consumer, no link.
    let settings = world
        .xml(&org, MetadataType::OauthSettings, "Attr_oauth")
        .await
        .unwrap();
    assert!(!settings.contains("oauthLink"));
}

#[tokio::test]
async fn admin_policy_changes_survive_developer_redeploys() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    // The admin hardens the generated policy, under its generated name.
    let hardened = oauth_policies(
        "Shop",
        "Shop_oauth_defaultPolicy",
        "<commaSeparatedProfile>System Administrator</commaSeparatedProfile><ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType><permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>",
    );
    world.deploy_ok(&org, &package(&[hardened])).await;
    let admin_version = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "Shop_oauth_defaultPolicy",
        )
        .await;
    assert!(
        admin_version
            .as_deref()
            .unwrap()
            .contains("AdminApprovedPreAuthorized")
    );

    // The developer redeploys the app with new scopes and attributes: the policy stays.
    let mut files = oauth_app("Shop");
    files[1] = oauth(
        "Shop",
        "<customAttributes><formula>$User.Email</formula><key>email</key></customAttributes>",
    );
    let outcome = world.deploy_ok(&org, &package(&files)).await;
    assert!(
        successes(&outcome.result)
            .iter()
            .any(|s| s.1 == "Shop_oauth" && s.3),
        "settings changed"
    );
    assert_eq!(
        world
            .xml(
                &org,
                MetadataType::OauthPolicies,
                "Shop_oauth_defaultPolicy"
            )
            .await,
        admin_version
    );
    assert!(
        world
            .xml(&org, MetadataType::AppPolicies, "Shop_defaultPolicy")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_second_policy_under_another_name_is_a_duplicate() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    // Spec §4 and §5.5: the live error names the existing record.
    for (file, existing) in [
        (
            oauth_policies("Shop", "Shop_oauthPlcy", ""),
            "Shop_oauth_defaultPolicy",
        ),
        (app_policies("Shop", "Shop_plcy", ""), "Shop_defaultPolicy"),
    ] {
        let name = file.name.clone();
        let outcome = world
            .deploy(&org, &package(&[file]), DeployOptions::default())
            .await;
        assert_eq!(outcome.result.status, DeployStatus::Failed);
        assert_problem(
            &outcome.result,
            &name,
            ProblemType::Error,
            &format!(
                "duplicate value found: ExternalClientApplicationId duplicates value on {existing}"
            ),
        );
    }
}

#[tokio::test]
async fn check_only_validates_and_changes_nothing() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let before = world.snapshot(&org).await;
    let options = DeployOptions {
        check_only: true,
        ..DeployOptions::default()
    };
    let outcome = world
        .deploy(&org, &package(&oauth_app("Shop")), options)
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    assert!(outcome.result.check_only);
    assert_eq!(
        successes(&outcome.result).len(),
        3,
        "what would be deployed is listed"
    );
    assert_eq!(world.snapshot(&org).await, before);

    // A failing check-only deploy reports the problems, and changes nothing either.
    let outcome = world
        .deploy(&org, &package(&[oauth("Nowhere", "")]), options)
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_eq!(world.snapshot(&org).await, before);
}

#[tokio::test]
async fn rollback_on_error_false_deploys_what_passes() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let mut files = oauth_app("Good");
    files.push(header("Bad"));
    files.push(oauth_policies(
        "Bad",
        "Bad_oauthPlcy",
        "<permittedUsersPolicyType>AdminApproved</permittedUsersPolicyType>",
    ));
    let partial = DeployOptions {
        rollback_on_error: false,
        ..DeployOptions::default()
    };
    // With rollback (the default): nothing.
    let before = world.snapshot(&org).await;
    let outcome = world
        .deploy(&org, &package(&files), DeployOptions::default())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_eq!(successes(&outcome.result), vec![]);
    assert_eq!(world.snapshot(&org).await, before);

    // Without: the good app and the bad app's header; the bad policy fails alone.
    let outcome = world.deploy(&org, &package(&files), partial).await;
    let r = &outcome.result;
    assert_eq!(r.status, DeployStatus::SucceededPartial);
    assert!(r.success);
    assert_eq!(
        (r.number_components_deployed, r.number_component_errors),
        (4, 1)
    );
    assert_problem(r, "Bad_oauthPlcy", ProblemType::Error, "AdminApproved");
    assert!(world.consumer(&org, "Good").await.is_some());
    assert!(
        world
            .xml(&org, MetadataType::ExternalClientApplication, "Bad")
            .await
            .is_some()
    );
    assert_eq!(
        world
            .xml(&org, MetadataType::OauthPolicies, "Bad_oauthPlcy")
            .await,
        None
    );
    // The bad app still got its generated app policy; nothing failed is stored.
    assert!(
        world
            .xml(&org, MetadataType::AppPolicies, "Bad_defaultPolicy")
            .await
            .is_some()
    );

    // Satellites of a failed header fail with it.
    let mut broken = header("Broken");
    broken.xml = broken.xml.replace(
        "<distributionState>Local</distributionState>",
        "<distributionState>Everywhere</distributionState>",
    );
    let outcome = world
        .deploy(&org, &package(&[broken, oauth("Broken", "")]), partial)
        .await;
    assert_eq!(
        outcome.result.status,
        DeployStatus::Failed,
        "nothing passed"
    );
    assert_problem(
        &outcome.result,
        "Broken_oauth",
        ProblemType::Error,
        "no ExternalClientApplication named Broken",
    );
}

#[tokio::test]
async fn a_failed_deploy_leaves_the_org_exactly_as_before() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let before = world.snapshot(&org).await;
    let retrieved = world.retrieve_all(&org).await;
    // Changes to the app, a new app, and one bad component.
    let mut files = oauth_app("Shop");
    files[1] = oauth(
        "Shop",
        "<customAttributes><formula>$User.Email</formula><key>email</key></customAttributes>",
    );
    files.extend(oauth_app("Other"));
    files.push(oauth_policies(
        "Other",
        "Other_oauthPlcy",
        "<clientCredentialsFlowUser>nobody@acme.test</clientCredentialsFlowUser>",
    ));
    let outcome = world
        .deploy(&org, &package(&files), DeployOptions::default())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(
        &outcome.result,
        "Other_oauthPlcy",
        ProblemType::Error,
        "no User named nobody@acme.test found",
    );
    assert_eq!(world.snapshot(&org).await, before);
    assert_eq!(world.retrieve_all(&org).await, retrieved);
}

#[tokio::test]
async fn warnings_fail_the_deploy_unless_ignored() {
    let world = World::new().await;
    let org = world.org("acme").await;
    // An unknown element is a validator warning (ECA0100).
    let mut h = header("Odd");
    h.xml = h
        .xml
        .replace("<label>", "<futureField>1</futureField><label>");
    let outcome = world
        .deploy(&org, &package(&[h.clone()]), DeployOptions::default())
        .await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    assert_problem(&outcome.result, "Odd", ProblemType::Warning, "[ECA0100]");
    assert!(!outcome.result.details.component_failures[0].success);

    let outcome = world.deploy(&org, &package(&[h]), ignore_warnings()).await;
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    let warning = &outcome.result.details.component_failures[0];
    assert_eq!(
        (warning.problem_type, warning.success),
        (Some(ProblemType::Warning), true)
    );
    // The unknown element is kept (ARCHITECTURE: unknown elements are never dropped).
    let stored = world
        .xml(&org, MetadataType::ExternalClientApplication, "Odd")
        .await
        .unwrap();
    assert!(stored.contains("<futureField>1</futureField>"));
}

#[tokio::test]
async fn every_change_is_audited_with_before_and_after() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let trail = world.audit(&org).await;
    let mut actions: Vec<(AuditAction, String)> = trail
        .iter()
        .map(|r| (r.entry.action, r.entry.full_name.clone()))
        .collect();
    let consumer = world.consumer(&org, "Shop").await.unwrap();
    actions.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = vec![
        (AuditAction::ConsumerCreated, consumer.id.to_string()),
        (AuditAction::Created, "Shop".to_owned()),
        (AuditAction::Created, "Shop_defaultPolicy".to_owned()),
        (AuditAction::Created, "Shop_glbloauth".to_owned()),
        (AuditAction::Created, "Shop_oauth".to_owned()),
        (AuditAction::Created, "Shop_oauth_defaultPolicy".to_owned()),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(actions, expected);
    let deploy_id = trail[0].deploy_request_id.clone().unwrap();
    assert!(
        trail
            .iter()
            .all(|r| r.deploy_request_id.as_ref() == Some(&deploy_id) && r.user_id == org.admin.id)
    );
    assert!(trail.iter().all(|r| r.entry.before_xml.is_none()));

    world
        .deploy_ok(
            &org,
            &package(&[oauth(
                "Shop",
                "<singleLogoutUrl>https://app.example.com/logout</singleLogoutUrl>",
            )]),
        )
        .await;
    let trail = world.audit(&org).await;
    let last = trail.last().unwrap();
    assert_eq!(
        (last.entry.action, last.entry.full_name.as_str()),
        (AuditAction::Changed, "Shop_oauth")
    );
    assert!(
        !last
            .entry
            .before_xml
            .as_deref()
            .unwrap()
            .contains("singleLogoutUrl")
    );
    assert!(
        last.entry
            .after_xml
            .as_deref()
            .unwrap()
            .contains("singleLogoutUrl")
    );
    // The link survives a deploy of the settings without it.
    assert!(
        last.entry
            .after_xml
            .as_deref()
            .unwrap()
            .contains("oauthLink")
    );
}

#[tokio::test]
async fn package_xml_must_match_the_files() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let files = oauth_app("Shop");
    let manifest = crate::manifest(&[
        (MetadataType::ExternalClientApplication, "Shop"),
        (MetadataType::OauthSettings, "Shop_oauth"),
        (MetadataType::OauthSettings, "Missing"),
    ])
    .replace("</Package>", "<types><members>X</members><name>ApexClass</name></types><version>66.0</version></Package>");
    let mut entries = vec![("package.xml".to_owned(), manifest.into_bytes())];
    for f in &files {
        entries.push((
            format!("{}/{}", f.ty.directory(), f.ty.mdapi_file_name(&f.name)),
            f.xml.clone().into_bytes(),
        ));
    }
    let zip = crate::zip_of(&entries);
    let outcome = world.deploy(&org, &zip, DeployOptions::default()).await;
    let r = &outcome.result;
    assert_eq!(r.status, DeployStatus::Failed);
    assert_problem(
        r,
        "Missing",
        ProblemType::Error,
        "An object 'Missing' of type ExtlClntAppOauthSettings was named in package.xml, but was not found in zipped directory",
    );
    assert_problem(
        r,
        "ApexClass",
        ProblemType::Error,
        "Unknown type name 'ApexClass' specified in package.xml",
    );
    assert_problem(
        r,
        "Shop_glbloauth",
        ProblemType::Warning,
        "is not listed in package.xml and was not deployed",
    );

    // Partial, ignoring warnings and missing files: the listed components go; the unlisted
    // file is skipped.
    let options = DeployOptions {
        rollback_on_error: false,
        ignore_warnings: true,
        allow_missing_files: true,
        ..DeployOptions::default()
    };
    let outcome = world.deploy(&org, &zip, options).await;
    assert_eq!(
        outcome.result.status,
        DeployStatus::SucceededPartial,
        "{:#?}",
        problems(&outcome.result)
    );
    assert!(
        world
            .xml(&org, MetadataType::OauthSettings, "Shop_oauth")
            .await
            .is_some()
    );
    assert_eq!(
        world
            .xml(&org, MetadataType::GlobalOauthSettings, "Shop_glbloauth")
            .await,
        None
    );
}

#[tokio::test]
async fn results_have_salesforce_field_names() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let outcome = world.deploy_ok(&org, &package(&[header("Shop")])).await;
    let json = serde_json::to_value(&outcome.result).unwrap();
    for field in [
        "id",
        "status",
        "success",
        "done",
        "checkOnly",
        "ignoreWarnings",
        "rollbackOnError",
        "numberComponentsTotal",
        "numberComponentsDeployed",
        "numberComponentErrors",
        "createdDate",
        "startDate",
        "completedDate",
        "createdBy",
        "createdByName",
        "details",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json}");
    }
    assert_eq!(json["status"], "Succeeded");
    let success = &json["details"]["componentSuccesses"][0];
    for field in [
        "componentType",
        "fullName",
        "fileName",
        "created",
        "changed",
        "deleted",
        "success",
    ] {
        assert!(success.get(field).is_some(), "{field} in {success}");
    }
    assert_eq!(success["fileName"], "externalClientApps/Shop.eca");
    assert_eq!(
        json["details"]["componentSuccesses"][1]["fullName"],
        "package.xml"
    );
    let back: eca_deploy::DeployResult = serde_json::from_value(json).unwrap();
    assert_eq!(back, outcome.result);
}

#[tokio::test]
async fn list_metadata_describes_each_component() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    world.deploy_ok(&org, &package(&[header("Another")])).await;
    let listed = eca_deploy::list_metadata(
        &*world.store,
        &org.org.id,
        MetadataType::ExternalClientApplication,
    )
    .await
    .unwrap();
    let names: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|p| {
            (
                p.full_name.as_str(),
                p.file_name.as_str(),
                p.type_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (
                "Another",
                "externalClientApps/Another.eca",
                "ExternalClientApplication"
            ),
            (
                "Shop",
                "externalClientApps/Shop.eca",
                "ExternalClientApplication"
            ),
        ]
    );
    assert_eq!(listed[0].created_by_id, org.admin.id.to_string());
    assert_eq!(listed[0].created_by_name, "Ada admin");
    assert_eq!(listed[0].manageable_state, "unmanaged");
    assert!(listed[0].created_date > listed[1].created_date);
    let none = eca_deploy::list_metadata(&*world.store, &org.org.id, MetadataType::SamlPolicies)
        .await
        .unwrap();
    assert_eq!(none, vec![]);
}

#[tokio::test]
async fn retrieve_reports_what_it_cannot_find() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&oauth_app("Shop"))).await;
    let (manifest, _) = eca_metadata::project::manifest::Manifest::parse(
        br#"<Package xmlns="http://soap.sforce.com/2006/04/metadata">
            <types><members>shop</members><members>Nope</members><name>ExternalClientApplication</name></types>
            <types><members>*</members><name>ExtlClntAppGlobalOauthSettings</name></types>
            <types><members>X</members><name>ApexClass</name></types>
            <version>62.0</version></Package>"#,
        std::path::Path::new("package.xml"),
    );
    let result = eca_deploy::retrieve(&*world.store, &org.org.id, &manifest)
        .await
        .unwrap();
    let files = crate::unzip(&result.zip);
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "unpackaged/externalClientApps/Shop.eca",
            "unpackaged/extlClntAppGlobalOauthSets/Shop_glbloauth.ecaGlblOauth",
            "unpackaged/package.xml",
        ]
    );
    assert!(files["unpackaged/package.xml"].contains("<version>62.0</version>"));
    assert!(
        files["unpackaged/extlClntAppGlobalOauthSets/Shop_glbloauth.ecaGlblOauth"]
            .contains("<consumerKey>3MVG9")
    );
    let problems: Vec<&str> = result.messages.iter().map(|m| m.problem.as_str()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("'ApexClass' is unknown"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("named 'Nope' cannot be found"))
    );
    assert_eq!(result.file_properties.len(), 2);
}

#[tokio::test]
async fn queued_deploys_can_be_canceled_and_interrupted_ones_fail() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let ctx = world.ctx(&org);
    let id = eca_deploy::submit(&ctx, DeployOptions::default())
        .await
        .unwrap();
    let queued = eca_deploy::check_status(&*world.store, &org.org.id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (queued.status, queued.done, queued.start_date.clone()),
        (DeployStatus::Queued, false, None)
    );

    let canceled = eca_deploy::cancel(
        &*world.store,
        &*world.clock,
        &org.org.id,
        &id,
        &org.admin.id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (canceled.status, canceled.done, canceled.success),
        (DeployStatus::Canceled, true, false)
    );
    assert_eq!(
        (canceled.canceled_by, canceled.canceled_by_name),
        (Some(org.admin.id.to_string()), Some(org.admin.name()))
    );
    // Running a canceled request does nothing.
    let before = world.snapshot(&org).await;
    let outcome = eca_deploy::run(
        &ctx,
        &id,
        &package(&[header("Shop")]),
        DeployOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.result.status, DeployStatus::Canceled);
    assert_eq!(world.snapshot(&org).await, before);

    // A request cut short by its server node's stop reads as failed, nothing changed.
    let id = eca_deploy::submit(&ctx, DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        world
            .store
            .fail_unfinished_deploy_requests(Unfinished::OfNode(ctx.node), world.clock.now())
            .await
            .unwrap(),
        1
    );
    let failed = eca_deploy::check_status(&*world.store, &org.org.id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, DeployStatus::Failed);
    assert!(
        failed
            .error_message
            .unwrap()
            .contains("nothing was changed")
    );
    // Other orgs see neither.
    let other = world.org("other").await;
    assert_eq!(
        eca_deploy::check_status(&*world.store, &other.org.id, &id)
            .await
            .unwrap(),
        None
    );
    // A user of another org cannot deploy here.
    let mut foreign = world.ctx(&org);
    foreign.user = &other.admin.id;
    assert!(matches!(
        eca_deploy::submit(&foreign, DeployOptions::default()).await,
        Err(eca_deploy::DeployError::UnknownUser(_))
    ));
}
