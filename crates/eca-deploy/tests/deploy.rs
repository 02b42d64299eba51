//! The deploy engine against a real store: SQLite in a temporary file (and PostgreSQL for the
//! cases marked so, when `ECA_TEST_DATABASE_URL` is set). One binary; the cases live in the
//! modules below, the harness and fixtures here.

// Test helpers: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "deploy/bad_input.rs"]
mod bad_input;
#[path = "deploy/concurrency.rs"]
mod concurrency;
#[path = "deploy/credentials.rs"]
mod credentials;
#[path = "deploy/destructive.rs"]
mod destructive;
#[path = "deploy/org_checks.rs"]
mod org_checks;
#[path = "deploy/push.rs"]
mod push;
#[path = "deploy/round_trip.rs"]
mod round_trip;
#[path = "deploy/semantics.rs"]
mod semantics;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;

use eca_core::crypto::MasterKey;
use eca_core::domain::{Org, Permission, PermissionSet, Permissions, Profile, User, UserFields};
use eca_core::rng::DeterministicRng;
use eca_core::{ManualClock, OrgId, PermissionSetId, ProfileId, Timestamp, UserId};
use eca_deploy::{
    DeployContext, DeployOptions, DeployOutcome, DeployResult, OrgLocks, ProblemType,
};
use eca_metadata::project::manifest::{Manifest, ManifestType};
use eca_metadata::{ApiVersion, MetadataType};
use eca_store::{AuditRecord, OauthConsumer, Store, StoredComponent};

pub const T0: Timestamp = Timestamp::from_secs(1_795_651_200);
pub const NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// One server: a store, a clock, randomness, the master key and the deploy locks.
pub struct World {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub rng: Arc<DeterministicRng>,
    pub key: Arc<MasterKey>,
    pub locks: Arc<OrgLocks>,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL URL and schema to drop when done.
    postgres: Option<(String, String)>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("backend", &self.store.backend())
            .finish_non_exhaustive()
    }
}

/// An org with the users, profiles and permission sets the fixtures name.
#[derive(Debug, Clone)]
pub struct TestOrg {
    pub org: Org,
    /// Deploys; System Administrator, not API Only.
    pub admin: User,
    /// API Only: a valid client credentials run-as user.
    pub run_as: User,
    pub inactive: User,
}

impl World {
    /// A fresh SQLite file database.
    pub async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("eca.db").display());
        World::with_store(eca_store::open(&url).await.unwrap(), Some(dir))
    }

    /// PostgreSQL in a fresh schema, when `ECA_TEST_DATABASE_URL` is set.
    #[allow(clippy::disallowed_methods)] // Tests read their configuration from the environment.
    pub async fn postgres() -> Option<World> {
        let url = std::env::var("ECA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let schema = format!(
            "eca_deploy_{}",
            eca_core::rng::string_from(
                &eca_core::SystemRng,
                b"abcdefghijklmnopqrstuvwxyz0123456789",
                16
            )
        );
        let store = eca_store::open_postgres_in_schema(&url, &schema)
            .await
            .unwrap();
        let mut world = World::with_store(store, None);
        world.postgres = Some((url, schema));
        Some(world)
    }

    /// Runs a case on PostgreSQL (when configured), then drops its schema, even when the case
    /// fails.
    pub async fn on_postgres<F, Fut>(case: F)
    where
        F: FnOnce(World) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let Some(world) = World::postgres().await else {
            return;
        };
        let (url, schema) = world.postgres.clone().unwrap();
        let outcome = tokio::spawn(case(world)).await;
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    fn with_store(store: Arc<dyn Store>, dir: Option<tempfile::TempDir>) -> World {
        World {
            store,
            clock: Arc::new(ManualClock::new(T0)),
            rng: Arc::new(DeterministicRng::new(42)),
            key: Arc::new(MasterKey::from_bytes(&[7; 32]).unwrap()),
            locks: Arc::new(OrgLocks::new()),
            _dir: dir,
            postgres: None,
        }
    }

    pub async fn org(&self, domain: &str) -> TestOrg {
        let s = &*self.store;
        let org = Org {
            id: OrgId::generate(&*self.rng),
            name: format!("{domain} Inc."),
            my_domain: domain.to_owned(),
            is_default: false,
            session_timeout_minutes: 120,
            enforce_ip_ranges_every_request: false,
            created_at: T0,
        };
        s.create_org(&org).await.unwrap();
        let profile = |name: &str, perms: Vec<Permission>| Profile {
            id: ProfileId::generate(&*self.rng),
            org_id: org.id.clone(),
            name: name.to_owned(),
            permissions: Permissions::new(perms),
        };
        let admin_profile = profile(
            "System Administrator",
            vec![
                Permission::ApiEnabled,
                Permission::ExternalClientAppDeveloper,
            ],
        );
        let api_profile = profile(
            "Integration User",
            vec![Permission::ApiEnabled, Permission::ApiOnly],
        );
        s.create_profile(&admin_profile).await.unwrap();
        s.create_profile(&api_profile).await.unwrap();
        s.create_permission_set(&PermissionSet {
            id: PermissionSetId::generate(&*self.rng),
            org_id: org.id.clone(),
            name: "ECA_Integration".to_owned(),
            label: "ECA Integration".to_owned(),
            permissions: Permissions::new(vec![Permission::ApiEnabled]),
        })
        .await
        .unwrap();
        let user = |name: &str, profile: &Profile, active: bool| User {
            id: UserId::generate(&*self.rng),
            org_id: org.id.clone(),
            username: format!("{name}@{domain}.test"),
            fields: UserFields {
                email: format!("{name}@{domain}.test"),
                first_name: Some("Ada".to_owned()),
                last_name: name.to_owned(),
                time_zone: "Europe/Paris".to_owned(),
                locale: "en_US".to_owned(),
                language: "en_US".to_owned(),
                ..UserFields::default()
            },
            profile_id: profile.id.clone(),
            is_active: active,
            is_frozen: false,
            password_hash: None,
            failed_logins: 0,
            locked_until: None,
            created_at: T0,
            updated_at: T0,
        };
        let admin = user("admin", &admin_profile, true);
        let run_as = user("runas", &api_profile, true);
        let inactive = user("gone", &api_profile, false);
        for u in [&admin, &run_as, &inactive] {
            s.create_user(u).await.unwrap();
        }
        TestOrg {
            org,
            admin,
            run_as,
            inactive,
        }
    }

    pub fn ctx<'a>(&'a self, org: &'a TestOrg) -> DeployContext<'a> {
        DeployContext {
            store: &*self.store,
            org: &org.org.id,
            user: &org.admin.id,
            clock: &*self.clock,
            rng: &*self.rng,
            master_key: &self.key,
            locks: &self.locks,
            version: ApiVersion::DEFAULT,
            node: "test-node",
        }
    }

    pub async fn deploy(&self, org: &TestOrg, zip: &[u8], options: DeployOptions) -> DeployOutcome {
        self.clock.advance_secs(60);
        eca_deploy::deploy(&self.ctx(org), zip, options)
            .await
            .unwrap()
    }

    /// Deploys with the default options and insists on success.
    pub async fn deploy_ok(&self, org: &TestOrg, zip: &[u8]) -> DeployOutcome {
        let outcome = self.deploy(org, zip, DeployOptions::default()).await;
        assert_eq!(
            outcome.result.status,
            eca_store::DeployStatus::Succeeded,
            "{:#?}",
            outcome.result.details.component_failures
        );
        outcome
    }

    /// Every file a `*` retrieve of every type returns, by path.
    pub async fn retrieve_all(&self, org: &TestOrg) -> BTreeMap<String, String> {
        self.retrieve_all_at(org, ApiVersion::DEFAULT).await
    }

    /// The same, with `version` in the retrieved `package.xml`.
    pub async fn retrieve_all_at(
        &self,
        org: &TestOrg,
        version: ApiVersion,
    ) -> BTreeMap<String, String> {
        let manifest = Manifest {
            types: MetadataType::ALL
                .iter()
                .map(|ty| ManifestType {
                    name: ty.manifest_name().to_owned(),
                    members: vec!["*".to_owned()],
                    span: Default::default(),
                })
                .collect(),
            version: Some(version),
        };
        let result = eca_deploy::retrieve(&*self.store, &org.org.id, &manifest)
            .await
            .unwrap();
        assert_eq!(result.messages, vec![]);
        unzip(&result.zip)
    }

    /// Everything the org holds: components with their revisions and times, consumers, and
    /// the length of the audit trail.
    pub async fn snapshot(&self, org: &TestOrg) -> Snapshot {
        let components = self.store.components(&org.org.id).await.unwrap();
        let mut apps: Vec<String> = components
            .iter()
            .filter_map(|c| c.app_name.clone())
            .collect();
        apps.sort();
        apps.dedup();
        let mut consumers = Vec::new();
        for app in &apps {
            consumers.extend(self.store.consumers_of_app(&org.org.id, app).await.unwrap());
        }
        let audit = self.audit(org).await.len();
        Snapshot {
            components,
            consumers,
            audit,
        }
    }

    pub async fn audit(&self, org: &TestOrg) -> Vec<AuditRecord> {
        self.store
            .audit_trail(&org.org.id, 0, 100_000)
            .await
            .unwrap()
    }

    /// The stored XML of a component.
    pub async fn xml(&self, org: &TestOrg, ty: MetadataType, name: &str) -> Option<String> {
        self.store
            .component(&org.org.id, ty.name(), name)
            .await
            .unwrap()
            .map(|c| c.xml)
    }

    pub async fn consumer(&self, org: &TestOrg, app: &str) -> Option<OauthConsumer> {
        self.store
            .consumers_of_app(&org.org.id, app)
            .await
            .unwrap()
            .into_iter()
            .next()
    }

    /// The plaintext secret of a consumer.
    pub fn secret(&self, c: &OauthConsumer) -> String {
        String::from_utf8(
            self.key
                .decrypt(&c.encrypted_secret, c.id.as_str().as_bytes())
                .unwrap(),
        )
        .unwrap()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub components: Vec<StoredComponent>,
    pub consumers: Vec<OauthConsumer>,
    pub audit: usize,
}

// ---------------------------------------------------------------------------------------------
// Packages
// ---------------------------------------------------------------------------------------------

/// One metadata file.
#[derive(Debug, Clone)]
pub struct File {
    pub ty: MetadataType,
    pub name: String,
    pub xml: String,
}

/// A component file with `body` inside the root element.
pub fn file(ty: MetadataType, name: &str, body: &str) -> File {
    File {
        ty,
        name: name.to_owned(),
        xml: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">\n{body}\n</{root}>\n",
            root = ty.name()
        ),
    }
}

pub fn header(app: &str) -> File {
    file(
        MetadataType::ExternalClientApplication,
        app,
        &format!(
            "<contactEmail>dev@example.com</contactEmail><distributionState>Local</distributionState><label>{app}</label>"
        ),
    )
}

pub fn oauth(app: &str, extra: &str) -> File {
    file(
        MetadataType::OauthSettings,
        &format!("{app}_oauth"),
        &format!(
            "<commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><label>{app} OAuth</label>{extra}"
        ),
    )
}

pub fn global(app: &str, extra: &str) -> File {
    file(
        MetadataType::GlobalOauthSettings,
        &format!("{app}_glbloauth"),
        &format!(
            "<callbackUrl>https://app.example.com/callback</callbackUrl><externalClientApplication>{app}</externalClientApplication><label>{app} consumer</label>{extra}"
        ),
    )
}

pub fn oauth_policies(app: &str, name: &str, extra: &str) -> File {
    file(
        MetadataType::OauthPolicies,
        name,
        &format!(
            "<externalClientApplication>{app}</externalClientApplication><label>{name}</label>{extra}"
        ),
    )
}

pub fn app_policies(app: &str, name: &str, extra: &str) -> File {
    file(
        MetadataType::AppPolicies,
        name,
        &format!(
            "<externalClientApplication>{app}</externalClientApplication><isEnabled>true</isEnabled><label>{name}</label>{extra}"
        ),
    )
}

/// The header, OAuth settings and global settings of an OAuth app.
pub fn oauth_app(app: &str) -> Vec<File> {
    vec![header(app), oauth(app, ""), global(app, "")]
}

/// A Metadata API zip of the files, with a `package.xml` naming exactly them.
pub fn package(files: &[File]) -> Vec<u8> {
    package_at(files, ApiVersion::DEFAULT, &[])
}

/// A zip of the files, a `package.xml` at `version` naming them, and extra entries (such as
/// destructive manifests) as given.
pub fn package_at(files: &[File], version: ApiVersion, extra: &[(&str, &str)]) -> Vec<u8> {
    let manifest =
        Manifest::from_components(files.iter().map(|f| (f.ty, f.name.as_str())), version);
    let mut entries: Vec<(String, Vec<u8>)> =
        vec![("package.xml".to_owned(), manifest.to_xml().into_bytes())];
    for f in files {
        entries.push((
            format!("{}/{}", f.ty.directory(), f.ty.mdapi_file_name(&f.name)),
            f.xml.clone().into_bytes(),
        ));
    }
    for (name, text) in extra {
        entries.push(((*name).to_owned(), text.as_bytes().to_vec()));
    }
    zip_of(&entries)
}

/// A manifest naming these components (`destructiveChanges*.xml`).
pub fn manifest(members: &[(MetadataType, &str)]) -> String {
    let mut m = Manifest::from_components(members.iter().copied(), ApiVersion::DEFAULT);
    m.version = None;
    m.to_xml()
}

pub fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        out.insert(entry.name().unwrap().into_owned(), text);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// The problems of a result as `(fullName, problemType, problem)`.
pub fn problems(result: &DeployResult) -> Vec<(String, ProblemType, String)> {
    result
        .details
        .component_failures
        .iter()
        .map(|m| {
            (
                m.full_name.clone(),
                m.problem_type.unwrap(),
                m.problem.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Asserts that some problem of the component contains `text`.
#[track_caller]
pub fn assert_problem(result: &DeployResult, full_name: &str, kind: ProblemType, text: &str) {
    let all = problems(result);
    assert!(
        all.iter()
            .any(|(n, k, p)| n == full_name && *k == kind && p.contains(text)),
        "no {kind:?} on {full_name} containing {text:?} in {all:#?}"
    );
}

/// The successes of a result as `(type, fullName, created, changed, deleted)`, without the
/// `package.xml` entry.
pub fn successes(result: &DeployResult) -> Vec<(String, String, bool, bool, bool)> {
    result
        .details
        .component_successes
        .iter()
        .filter(|m| m.full_name != "package.xml")
        .map(|m| {
            (
                m.component_type.clone(),
                m.full_name.clone(),
                m.created,
                m.changed,
                m.deleted,
            )
        })
        .collect()
}

pub fn ignore_warnings() -> DeployOptions {
    DeployOptions {
        ignore_warnings: true,
        ..DeployOptions::default()
    }
}
