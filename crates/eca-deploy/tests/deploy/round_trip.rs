//! Deploy then retrieve gives back the deployed model plus the generated fields, for the
//! spec's example apps and for an app as `eca app new` writes it; redeploying what was
//! retrieved changes nothing.

use eca_metadata::model::{Component, OauthPolicies};
use eca_metadata::{ApiVersion, MetadataType, xml};

use crate::{File, TestOrg, World, file, package_at, successes};

const SPEC: &str = "../eca-metadata/tests/data/spec-examples";

fn spec_file(ty: MetadataType, name: &str) -> File {
    let path = format!(
        "{}/{SPEC}/{}/{}",
        env!("CARGO_MANIFEST_DIR"),
        ty.directory(),
        ty.source_file_name(name)
    );
    File {
        ty,
        name: name.to_owned(),
        xml: std::fs::read_to_string(path).unwrap(),
    }
}

fn model(ty: MetadataType, name: &str, text: &str) -> Component {
    Component::from_element(ty, name, &xml::parse_str(text).unwrap().root)
}

/// What a retrieve should return for a deployed file: the same model, plus what the platform
/// generates (§5.2), minus the secret.
async fn expected(world: &World, org: &TestOrg, f: &File) -> Component {
    let org15 = org.org.id.as_15().to_owned();
    let mut m = model(f.ty, &f.name, &f.xml);
    match &mut m {
        Component::Header(h) => {
            h.org_scoped_external_app
                .get_or_insert_with(|| format!("{org15}:{}", f.name));
        }
        Component::OauthSettings(o) => {
            o.is_first_party_app_enabled.get_or_insert(false);
            if let Some(c) = world.consumer(org, &o.app).await {
                o.oauth_link
                    .get_or_insert_with(|| format!("{org15}:{}", c.id.as_15()));
            }
        }
        Component::GlobalOauthSettings(g) => {
            let c = world.consumer(org, &g.app).await.unwrap();
            g.consumer_key = Some(c.consumer_key);
            g.consumer_secret = None;
        }
        _ => {}
    }
    m
}

async fn check_round_trip(world: &World, org: &TestOrg, files: &[File], version: ApiVersion) {
    let zip = package_at(files, version, &[]);
    let outcome = world.deploy_ok(org, &zip).await;
    assert!(
        successes(&outcome.result).iter().all(|s| s.2),
        "every component is created: {:?}",
        successes(&outcome.result)
    );
    // At the deploy's version: a retrieve at another one leaves out what that one lacks.
    let retrieved = world.retrieve_all_at(org, version).await;
    for f in files {
        let path = format!(
            "unpackaged/{}/{}",
            f.ty.directory(),
            f.ty.mdapi_file_name(&f.name)
        );
        let text = retrieved
            .get(&path)
            .unwrap_or_else(|| panic!("{path} not retrieved"));
        assert!(!text.contains("consumerSecret"), "{path}");
        assert_eq!(
            model(f.ty, &f.name, text),
            expected(world, org, f).await,
            "{path}"
        );
        // Retrieved files are in canonical form.
        assert_eq!(&model(f.ty, &f.name, text).to_xml(), text);
    }

    // Redeploying the retrieve is a no-op: nothing created or changed, no audit entries.
    let audit = world.audit(org).await.len();
    let before = world.snapshot(org).await.components;
    let again: Vec<(String, Vec<u8>)> = world
        .retrieve_all_at(org, version)
        .await
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    let outcome = world.deploy_ok(org, &crate::zip_of(&again)).await;
    assert!(
        successes(&outcome.result).iter().all(|s| !s.2 && !s.3),
        "{:?}",
        successes(&outcome.result)
    );
    assert_eq!(world.audit(org).await.len(), audit);
    assert_eq!(world.snapshot(org).await.components, before);
}

#[tokio::test]
async fn spec_example_apps_round_trip() {
    let world = World::new().await;
    let org = world.org("acme").await;
    // The retrieved ecaViaMetadata files of §11 (API 62), with the oauthLink of their source
    // org removed, as sfdx-hardis does before deploying to another org (§5.1 item 5).
    let mut settings = spec_file(MetadataType::OauthSettings, "ecaViaMetadataSettings");
    settings.xml = settings.xml.replace(
        "    <oauthLink>00DQy00000ELR0T:888Qy00000071Af</oauthLink>\n",
        "",
    );
    let files = vec![
        spec_file(MetadataType::ExternalClientApplication, "ecaViaMetadata"),
        settings,
        spec_file(
            MetadataType::GlobalOauthSettings,
            "ecaViaMetadataGlblOAuth_authored",
        ),
        spec_file(
            MetadataType::OauthPolicies,
            "ecaViaMetadataSettings_defaultPolicy",
        ),
        spec_file(MetadataType::AppPolicies, "ecaViaMetadata_defaultPolicy"),
    ];
    check_round_trip(&world, &org, &files, ApiVersion::new(62)).await;

    // SOLU_CI_CD (in an org of its own, at API 65): header, OAuth settings and app policies;
    // its OAuth policy is generated.
    let org = world.org("solu").await;
    let files = vec![
        spec_file(MetadataType::ExternalClientApplication, "SOLU_CI_CD"),
        spec_file(MetadataType::OauthSettings, "SOLU_CI_CD_oauth"),
        spec_file(MetadataType::AppPolicies, "SOLU_CI_CD_plcy"),
    ];
    check_round_trip(&world, &org, &files, ApiVersion::new(65)).await;
    let generated = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "SOLU_CI_CD_oauth_defaultPolicy",
        )
        .await
        .unwrap();
    assert_eq!(
        model(
            MetadataType::OauthPolicies,
            "SOLU_CI_CD_oauth_defaultPolicy",
            &generated
        ),
        Component::OauthPolicies(OauthPolicies::default_for(
            "SOLU_CI_CD",
            "SOLU_CI_CD_oauth_defaultPolicy",
            ApiVersion::new(65)
        ))
    );
    // No second app policy: the app shipped its own.
    assert_eq!(
        world
            .xml(&org, MetadataType::AppPolicies, "SOLU_CI_CD_defaultPolicy")
            .await,
        None
    );
}

/// The five files `eca app new NAME --oauth` writes (crates/eca-cli/src/app_files.rs).
pub fn app_new_files(app: &str) -> Vec<File> {
    vec![
        file(
            MetadataType::ExternalClientApplication,
            app,
            &format!(
                "<contactEmail>admin@example.com</contactEmail><description>{app} External Client App</description><distributionState>Local</distributionState><isProtected>false</isProtected><label>{app}</label>"
            ),
        ),
        file(
            MetadataType::OauthSettings,
            &format!("{app}_oauth"),
            &format!(
                "<commaSeparatedOauthScopes>Api, RefreshToken, OpenID</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><isFirstPartyAppEnabled>false</isFirstPartyAppEnabled><label>{app}_oauth</label>"
            ),
        ),
        file(
            MetadataType::GlobalOauthSettings,
            &format!("{app}_glbloauth"),
            &format!(
                "<callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl><externalClientApplication>{app}</externalClientApplication><isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled><isConsumerSecretOptional>false</isConsumerSecretOptional><isDeviceFlowEnabled>false</isDeviceFlowEnabled><isPkceRequired>true</isPkceRequired><isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken><label>{app}_glbloauth</label>"
            ),
        ),
        file(
            MetadataType::OauthPolicies,
            &format!("{app}_oauth_defaultPolicy"),
            &format!(
                "<externalClientApplication>{app}</externalClientApplication><ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType><isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled><isGuestCodeCredFlowEnabled>false</isGuestCodeCredFlowEnabled><isTokenExchangeFlowEnabled>false</isTokenExchangeFlowEnabled><label>{app}_oauth_defaultPolicy</label><permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType><refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType><refreshTokenValidityPeriod>365</refreshTokenValidityPeriod><refreshTokenValidityUnit>Days</refreshTokenValidityUnit><requiredSessionLevel>STANDARD</requiredSessionLevel>"
            ),
        ),
        file(
            MetadataType::AppPolicies,
            &format!("{app}_defaultPolicy"),
            &format!(
                "<externalClientApplication>{app}</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled><label>{app}_defaultPolicy</label><startPage>None</startPage>"
            ),
        ),
    ]
}

async fn app_new_round_trip_on(world: World) {
    let org = world.org("acme").await;
    let files = app_new_files("Inventory");
    check_round_trip(&world, &org, &files, ApiVersion::DEFAULT).await;
    // Nothing else was generated: the app shipped both policies under the generated names.
    assert_eq!(world.store.components(&org.org.id).await.unwrap().len(), 5);
}

#[tokio::test]
async fn app_new_style_app_round_trips() {
    app_new_round_trip_on(World::new().await).await;
}

#[tokio::test]
async fn app_new_style_app_round_trips_on_postgres() {
    World::on_postgres(app_new_round_trip_on).await;
}

/// An app deployed at API 60 (the spec's sample version) retrieves at 60 without the fields a
/// deploy generates for later versions (`isFirstPartyAppEnabled` and `startPage` from 62, the
/// default policies' newer flags), and that retrieve deploys again without losing them. Found
/// by review: the retrieve returned them and its own redeploy failed with ECA0107.
#[tokio::test]
async fn a_retrieve_at_an_older_version_deploys_again_at_it() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let v60 = ApiVersion::new(60);
    let files = vec![
        file(
            MetadataType::ExternalClientApplication,
            "Legacy",
            "<contactEmail>admin@example.com</contactEmail><distributionState>Local</distributionState><label>Legacy</label>",
        ),
        file(
            MetadataType::OauthSettings,
            "Legacy_oauth",
            "<commaSeparatedOauthScopes>Api</commaSeparatedOauthScopes><externalClientApplication>Legacy</externalClientApplication><label>Legacy_oauth</label>",
        ),
    ];
    world.deploy_ok(&org, &package_at(&files, v60, &[])).await;
    let retrieved = world.retrieve_all_at(&org, v60).await;
    let settings = &retrieved["unpackaged/extlClntAppOauthSettings/Legacy_oauth.ecaOauth"];
    assert!(!settings.contains("isFirstPartyAppEnabled"), "{settings}");
    assert!(
        retrieved.keys().any(|k| k.contains("extlClntAppPolicies")),
        "the generated app policies are retrieved: {:?}",
        retrieved.keys()
    );
    let again: Vec<(String, Vec<u8>)> = retrieved
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    // It deploys again, and changes nothing: what the org holds keeps the elements the
    // deploy's version cannot name.
    let before = world.snapshot(&org).await.components;
    let outcome = world.deploy_ok(&org, &crate::zip_of(&again)).await;
    assert!(
        successes(&outcome.result).iter().all(|s| !s.2 && !s.3),
        "{:?}",
        successes(&outcome.result)
    );
    assert_eq!(world.snapshot(&org).await.components, before);
    // At the current version the stored fields are all there.
    let current = world.retrieve_all(&org).await;
    assert!(
        current["unpackaged/extlClntAppOauthSettings/Legacy_oauth.ecaOauth"]
            .contains("<isFirstPartyAppEnabled>false</isFirstPartyAppEnabled>")
    );
}

/// A deploy at an older API version leaves alone what the org holds that the version cannot
/// name: an admin's `commaSeparatedProfile` (from 62) survives a project at 60 redeploying
/// the policies without it.
#[tokio::test]
async fn a_deploy_at_an_older_version_keeps_the_newer_fields() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let mut files = app_new_files("Shop");
    let policies = files
        .iter_mut()
        .find(|f| f.ty == MetadataType::OauthPolicies)
        .unwrap();
    policies.xml = policies.xml.replace(
        "<externalClientApplication>",
        "<commaSeparatedProfile>System Administrator</commaSeparatedProfile><externalClientApplication>",
    );
    world
        .deploy_ok(&org, &package_at(&files, ApiVersion::DEFAULT, &[]))
        .await;
    // The project at 60 has the policies without the newer fields (as a retrieve at 60 gives).
    let old = world.retrieve_all_at(&org, ApiVersion::new(60)).await;
    let path = "unpackaged/extlClntAppOauthPolicies/Shop_oauth_defaultPolicy.ecaOauthPlcy";
    assert!(
        !old[path].contains("commaSeparatedProfile"),
        "{}",
        old[path]
    );
    let mut text = old[path].clone();
    text = text.replace(
        "<refreshTokenValidityPeriod>365</refreshTokenValidityPeriod>",
        "<refreshTokenValidityPeriod>90</refreshTokenValidityPeriod>",
    );
    let redeploy = File {
        ty: MetadataType::OauthPolicies,
        name: "Shop_oauth_defaultPolicy".to_owned(),
        xml: text,
    };
    world
        .deploy_ok(&org, &package_at(&[redeploy], ApiVersion::new(60), &[]))
        .await;
    let held = world
        .xml(
            &org,
            MetadataType::OauthPolicies,
            "Shop_oauth_defaultPolicy",
        )
        .await
        .unwrap();
    assert!(
        held.contains("<refreshTokenValidityPeriod>90</refreshTokenValidityPeriod>"),
        "{held}"
    );
    assert!(
        held.contains("<commaSeparatedProfile>System Administrator</commaSeparatedProfile>"),
        "{held}"
    );
}
