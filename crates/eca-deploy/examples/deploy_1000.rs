//! A measurement, not a test: one zip of 1,000 apps of 5 files each (as `eca app new --oauth`
//! writes them), deployed end to end into a fresh org: zip reading, validation, org checks,
//! generated consumers, one transaction. Target: under 3 s on SQLite (issue 4).
//!
//! ```sh
//! cargo run --release -p eca-deploy --example deploy_1000
//! BENCH_APPS=200 cargo run --release -p eca-deploy --example deploy_1000
//! ECA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release -p eca-deploy --example deploy_1000
//! ```
//!
//! With `ECA_TEST_DATABASE_URL` set, it runs on PostgreSQL too (in a schema it drops after).

// A benchmark binary: it prints, reads the wall clock and its settings from the environment,
// and stops on the first failure.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use eca_core::crypto::MasterKey;
use eca_core::domain::{Org, Permission, Permissions, Profile, User, UserFields};
use eca_core::{OrgId, ProfileId, SystemClock, SystemRng, Timestamp, UserId};
use eca_deploy::{DeployContext, DeployOptions, OrgLocks};
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType};
use eca_store::{DeployStatus, Store};

fn app_files(app: &str) -> Vec<(MetadataType, String, String)> {
    let wrap = |ty: MetadataType, body: String| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n{body}\n</{root}>\n",
            root = ty.name()
        )
    };
    vec![
        (
            MetadataType::ExternalClientApplication,
            app.to_owned(),
            wrap(
                MetadataType::ExternalClientApplication,
                format!(
                    "    <contactEmail>admin@example.com</contactEmail>\n    <description>{app} External Client App</description>\n    <distributionState>Local</distributionState>\n    <isProtected>false</isProtected>\n    <label>{app}</label>"
                ),
            ),
        ),
        (
            MetadataType::OauthSettings,
            format!("{app}_oauth"),
            wrap(
                MetadataType::OauthSettings,
                format!(
                    "    <commaSeparatedOauthScopes>Api, RefreshToken, OpenID</commaSeparatedOauthScopes>\n    <customAttributes>\n        <formula>$User.Email</formula>\n        <key>email</key>\n    </customAttributes>\n    <externalClientApplication>{app}</externalClientApplication>\n    <isFirstPartyAppEnabled>false</isFirstPartyAppEnabled>\n    <label>{app}_oauth</label>"
                ),
            ),
        ),
        (
            MetadataType::GlobalOauthSettings,
            format!("{app}_glbloauth"),
            wrap(
                MetadataType::GlobalOauthSettings,
                format!(
                    "    <callbackUrl>https://{app}.example.com/callback</callbackUrl>\n    <externalClientApplication>{app}</externalClientApplication>\n    <isConsumerSecretOptional>false</isConsumerSecretOptional>\n    <isPkceRequired>true</isPkceRequired>\n    <isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken>\n    <label>{app}_glbloauth</label>"
                ),
            ),
        ),
        (
            MetadataType::OauthPolicies,
            format!("{app}_oauth_defaultPolicy"),
            wrap(
                MetadataType::OauthPolicies,
                format!(
                    "    <externalClientApplication>{app}</externalClientApplication>\n    <ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>\n    <isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>\n    <label>{app}_oauth_defaultPolicy</label>\n    <permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType>\n    <refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>\n    <refreshTokenValidityPeriod>365</refreshTokenValidityPeriod>\n    <refreshTokenValidityUnit>Days</refreshTokenValidityUnit>\n    <requiredSessionLevel>STANDARD</requiredSessionLevel>"
                ),
            ),
        ),
        (
            MetadataType::AppPolicies,
            format!("{app}_defaultPolicy"),
            wrap(
                MetadataType::AppPolicies,
                format!(
                    "    <externalClientApplication>{app}</externalClientApplication>\n    <isEnabled>true</isEnabled>\n    <isOauthPluginEnabled>true</isOauthPluginEnabled>\n    <label>{app}_defaultPolicy</label>\n    <startPage>None</startPage>"
                ),
            ),
        ),
    ]
}

fn bench_zip(apps: usize) -> Vec<u8> {
    let files: Vec<_> = (0..apps)
        .flat_map(|n| app_files(&format!("App{n}")))
        .collect();
    let manifest = Manifest::from_components(
        files.iter().map(|(ty, name, _)| (*ty, name.as_str())),
        ApiVersion::DEFAULT,
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("package.xml", options).unwrap();
    w.write_all(manifest.to_xml().as_bytes()).unwrap();
    for (ty, name, xml) in &files {
        w.start_file(
            format!("{}/{}", ty.directory(), ty.mdapi_file_name(name)),
            options,
        )
        .unwrap();
        w.write_all(xml.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn seed(store: &dyn Store) -> (OrgId, UserId) {
    let org = Org {
        id: OrgId::generate(&SystemRng),
        name: "Bench".to_owned(),
        my_domain: format!(
            "bench{}",
            eca_core::rng::string_from(&SystemRng, b"abcdefghij", 8)
        ),
        is_default: false,
        session_timeout_minutes: 120,
        enforce_ip_ranges_every_request: false,
        created_at: Timestamp::from_secs(0),
    };
    store.create_org(&org).await.unwrap();
    let profile = Profile {
        id: ProfileId::generate(&SystemRng),
        org_id: org.id.clone(),
        name: "System Administrator".to_owned(),
        permissions: Permissions::new(vec![Permission::ExternalClientAppDeveloper]),
    };
    store.create_profile(&profile).await.unwrap();
    let user = User {
        id: UserId::generate(&SystemRng),
        org_id: org.id.clone(),
        username: format!("admin@{}.test", org.my_domain),
        fields: UserFields {
            email: "admin@bench.test".to_owned(),
            last_name: "Admin".to_owned(),
            time_zone: "UTC".to_owned(),
            locale: "en_US".to_owned(),
            language: "en_US".to_owned(),
            ..UserFields::default()
        },
        profile_id: profile.id.clone(),
        is_active: true,
        is_frozen: false,
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        created_at: Timestamp::from_secs(0),
        updated_at: Timestamp::from_secs(0),
    };
    store.create_user(&user).await.unwrap();
    (org.id, user.id)
}

async fn measure(label: &str, store: Arc<dyn Store>, zip: &[u8], apps: usize) {
    let (org, user) = seed(&*store).await;
    let (key, _) = MasterKey::generate(&SystemRng).unwrap();
    let locks = OrgLocks::new();
    let ctx = DeployContext {
        store: &*store,
        org: &org,
        user: &user,
        clock: &SystemClock,
        rng: &SystemRng,
        master_key: &key,
        locks: &locks,
        version: ApiVersion::DEFAULT,
        node: "bench-node",
    };
    let start = Instant::now();
    let outcome = eca_deploy::deploy(&ctx, zip, DeployOptions::default())
        .await
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(
        outcome.result.status,
        DeployStatus::Succeeded,
        "{:#?}",
        outcome.result.details.component_failures.first()
    );
    let stored = store.components(&org).await.unwrap().len();
    assert_eq!(stored, apps * 5);
    println!(
        "{label}: {apps} apps ({} components, {apps} consumers) deployed in {:.3} s",
        outcome.result.number_components_deployed,
        elapsed.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let apps: usize = std::env::var("BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let zip = bench_zip(apps);
    println!("zip: {} bytes, {} files", zip.len(), apps * 5 + 1);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    measure(
        "SQLite (file, WAL, synchronous=FULL)",
        eca_store::open(&url).await.unwrap(),
        &zip,
        apps,
    )
    .await;

    if let Some(url) = std::env::var("ECA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let schema = format!(
            "eca_bench_{}",
            eca_core::rng::string_from(&SystemRng, b"abcdefghijklmnopqrstuvwxyz", 12)
        );
        let store = eca_store::open_postgres_in_schema(&url, &schema)
            .await
            .unwrap();
        measure("PostgreSQL", store, &zip, apps).await;
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}
