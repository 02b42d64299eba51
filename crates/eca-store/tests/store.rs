//! The store contract, run against every backend: each case below runs on a SQLite file, on
//! SQLite in memory, and on PostgreSQL (a fresh schema per test, dropped afterwards) when
//! `ECA_TEST_DATABASE_URL` is set, for example
//! `ECA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo nextest run -p eca-store`.

// The helpers below run only inside tests, where a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;

use eca_core::domain::{
    Org, Permission, PermissionSet, Permissions, Profile, Session, SessionKind, User, UserFields,
};
use eca_core::{OrgId, PermissionSetId, ProfileId, SystemRng, Timestamp, UserId};
use eca_store::{
    Lockout, OrgSettings, PostgresStore, SettingsStore, SqliteStore, Store, StoreError,
    USER_CHANGED, UserStore, open, open_postgres_in_schema,
};

/// Runs each case once per backend, as `sqlite_file::case`, `sqlite_memory::case` and
/// `postgres::case`, next to the module that invokes it (each module of cases, such as
/// `metadata`, invokes it for its own cases).
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::run(crate::Backend::SqliteFile, super::$case).await;
                }
            )*
        }
        mod sqlite_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::run(crate::Backend::SqliteMemory, super::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::run(crate::Backend::Postgres, super::$case).await;
                }
            )*
        }
    };
}

#[path = "store/authorization.rs"]
mod authorization;
#[path = "store/connect.rs"]
mod connect;
#[path = "store/ip_ranges.rs"]
mod ip_ranges;
#[path = "store/metadata.rs"]
mod metadata;
#[path = "store/oauth.rs"]
mod oauth;
#[path = "store/saml.rs"]
mod saml;

on_every_backend!(
    orgs_are_found_by_id_and_domain,
    org_settings_are_updated,
    org_conflicts_on_domain_and_second_default,
    users_are_found_by_id_and_username_across_orgs,
    user_conflicts_and_missing_references,
    update_user_replaces_fields,
    update_user_refuses_a_user_changed_since_it_was_read,
    passwords_and_lockouts_are_only_written_by_their_own_statements,
    update_user_refuses_a_taken_username,
    failed_logins_count_lock_and_reset,
    profiles_and_permission_sets_are_unique_per_org,
    permission_set_assignment,
    sessions_lifecycle,
    settings_round_trip,
    ping_answers,
    migrations_are_idempotent,
    concurrent_opens_both_succeed,
    concurrent_failed_logins_all_count,
    closed_store_reports_errors_not_absence,
    newer_schema_is_refused,
);

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Backend {
    SqliteFile,
    SqliteMemory,
    Postgres,
}

/// Where a test's database lives, so it can be opened again.
#[derive(Debug, Clone)]
enum Target {
    SqliteFile { url: String },
    SqliteMemory,
    Postgres { url: String, schema: String },
}

/// What a case gets: the store and a way to reach the same database again.
struct Env {
    store: Arc<dyn Store>,
    target: Target,
}

impl Env {
    /// Opens the same database again (running migrations again); `None` for an in-memory
    /// database, which only its own store can see.
    async fn reopen(&self) -> Option<Arc<dyn Store>> {
        match &self.target {
            Target::SqliteFile { url } => Some(open(url).await.unwrap()),
            Target::SqliteMemory => None,
            Target::Postgres { url, schema } => {
                Some(open_postgres_in_schema(url, schema).await.unwrap())
            }
        }
    }
}

/// Says once per process that the PostgreSQL cases do not run. It writes to the stderr handle
/// rather than through `eprintln!`, which the libtest harness captures and hides for passing
/// tests (`cargo nextest` captures whole processes: see it with `--no-capture`).
fn announce_skip() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "ECA_TEST_DATABASE_URL unset: skipping PostgreSQL store tests"
        );
    });
}

#[allow(clippy::disallowed_methods)] // Tests read their configuration from the environment.
fn postgres_url() -> Option<String> {
    std::env::var("ECA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::SqliteFile => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("eca.db").display());
            let store = open(&url).await.unwrap();
            case(Env {
                store,
                target: Target::SqliteFile { url },
            })
            .await;
        }
        Backend::SqliteMemory => {
            let store = open("sqlite::memory:").await.unwrap();
            case(Env {
                store,
                target: Target::SqliteMemory,
            })
            .await;
        }
        Backend::Postgres => {
            let Some(url) = postgres_url() else {
                announce_skip();
                return;
            };
            let schema = test_schema();
            let store = open_postgres_in_schema(&url, &schema).await.unwrap();
            let target = Target::Postgres {
                url: url.clone(),
                schema: schema.clone(),
            };
            // Run the case as a task so that a failing case still has its schema dropped.
            let outcome = tokio::spawn(case(Env { store, target })).await;
            drop_schema(&url, &schema).await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// A fresh schema name for one PostgreSQL test.
fn test_schema() -> String {
    format!(
        "eca_test_{}",
        eca_core::rng::string_from(&SystemRng, b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
    )
}

async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

/// Runs `sql` on the test's database directly, behind the store's back.
async fn execute_raw(target: &Target, sql: &'static str) {
    use sqlx::Connection;
    match target {
        Target::SqliteFile { url } => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Target::SqliteMemory => unreachable!("an in-memory database is private to its store"),
        Target::Postgres { url, schema } => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SET search_path TO \"{schema}\""
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const T0: Timestamp = Timestamp::from_secs(1_795_651_200);

fn new_org(my_domain: &str, is_default: bool, created_at: Timestamp) -> Org {
    Org {
        id: OrgId::generate(&SystemRng),
        name: format!("{my_domain} Inc."),
        my_domain: my_domain.to_owned(),
        is_default,
        session_timeout_minutes: 120,
        enforce_ip_ranges_every_request: false,
        created_at,
    }
}

fn new_profile(org: &Org, name: &str) -> Profile {
    Profile {
        id: ProfileId::generate(&SystemRng),
        org_id: org.id.clone(),
        name: name.to_owned(),
        permissions: Permissions::new(vec![Permission::ApiEnabled, Permission::ManageUsers]),
    }
}

fn new_permission_set(org: &Org, name: &str) -> PermissionSet {
    PermissionSet {
        id: PermissionSetId::generate(&SystemRng),
        org_id: org.id.clone(),
        name: name.to_owned(),
        label: format!("{name} label"),
        permissions: Permissions::new(vec![
            Permission::ExternalClientAppAdmin,
            Permission::ViewClientSecret,
        ]),
    }
}

fn new_user(profile: &Profile, username: &str) -> User {
    User {
        id: UserId::generate(&SystemRng),
        org_id: profile.org_id.clone(),
        username: username.to_owned(),
        fields: UserFields {
            email: username.to_owned(),
            last_name: "Smith".to_owned(),
            time_zone: "Europe/Paris".to_owned(),
            locale: "fr_FR".to_owned(),
            language: "en_US".to_owned(),
            ..UserFields::default()
        },
        profile_id: profile.id.clone(),
        is_active: true,
        is_frozen: false,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        failed_logins: 0,
        locked_until: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn new_session(user: &User, id_hash: &str, expires_at: Timestamp) -> Session {
    Session {
        id_hash: id_hash.to_owned(),
        org_id: user.org_id.clone(),
        user_id: user.id.clone(),
        kind: SessionKind::Web,
        created_at: T0,
        last_used_at: T0,
        expires_at,
    }
}

/// An org with a profile and a user.
async fn seed(store: &dyn Store, my_domain: &str, username: &str) -> (Org, Profile, User) {
    let org = new_org(my_domain, false, T0);
    store.create_org(&org).await.unwrap();
    let profile = new_profile(&org, "Standard User");
    store.create_profile(&profile).await.unwrap();
    let user = new_user(&profile, username);
    store.create_user(&user).await.unwrap();
    (org, profile, user)
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, expected_what: &str) {
    match result {
        Err(StoreError::Conflict { what, .. }) if what == expected_what => {}
        other => panic!("expected a {expected_what} conflict, got {other:?}"),
    }
}

#[track_caller]
fn assert_missing<T: std::fmt::Debug>(result: Result<T, StoreError>, expected_what: &str) {
    match result {
        Err(StoreError::Missing { what, .. }) if what == expected_what => {}
        other => panic!("expected a missing {expected_what}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

async fn orgs_are_found_by_id_and_domain(env: Env) {
    let s = env.store;
    assert_eq!(s.orgs().await.unwrap(), vec![]);
    assert_eq!(s.default_org().await.unwrap(), None);

    let later = new_org("beta", false, T0.plus_secs(10));
    let first = new_org("Acme-Dev", true, T0);
    s.create_org(&later).await.unwrap();
    s.create_org(&first).await.unwrap();

    assert_eq!(s.org(&first.id).await.unwrap().as_ref(), Some(&first));
    assert_eq!(
        s.org_by_domain("acme-dev").await.unwrap().as_ref(),
        Some(&first)
    );
    assert_eq!(
        s.org_by_domain("ACME-DEV").await.unwrap().as_ref(),
        Some(&first)
    );
    assert_eq!(s.org_by_domain("acme").await.unwrap(), None);
    assert_eq!(s.org(&OrgId::generate(&SystemRng)).await.unwrap(), None);
    assert_eq!(s.default_org().await.unwrap().as_ref(), Some(&first));
    assert_eq!(s.orgs().await.unwrap(), vec![first, later], "oldest first");
}

async fn org_settings_are_updated(env: Env) {
    let s = env.store;
    let acme = new_org("acme", true, T0);
    let beta = new_org("beta", false, T0);
    s.create_org(&acme).await.unwrap();
    s.create_org(&beta).await.unwrap();
    assert!(!acme.enforce_ip_ranges_every_request);

    let both = OrgSettings {
        session_timeout_minutes: Some(30),
        enforce_ip_ranges_every_request: Some(true),
    };
    let changed = s.update_org_settings(&acme.id, both).await.unwrap();
    let stored = s.org(&acme.id).await.unwrap().unwrap();
    assert_eq!(changed, stored, "the answer is the stored org");
    assert_eq!(
        (
            stored.session_timeout_minutes,
            stored.enforce_ip_ranges_every_request
        ),
        (30, true)
    );
    assert_eq!(
        Org {
            session_timeout_minutes: acme.session_timeout_minutes,
            enforce_ip_ranges_every_request: false,
            ..stored
        },
        acme,
        "nothing else changed"
    );
    assert_eq!(
        s.org(&beta.id).await.unwrap(),
        Some(beta),
        "other orgs untouched"
    );

    // A field not given keeps its stored value.
    let timeout_only = OrgSettings {
        session_timeout_minutes: Some(60),
        ..OrgSettings::default()
    };
    let changed = s.update_org_settings(&acme.id, timeout_only).await.unwrap();
    assert_eq!(
        (
            changed.session_timeout_minutes,
            changed.enforce_ip_ranges_every_request
        ),
        (60, true)
    );
    let enforce_only = OrgSettings {
        enforce_ip_ranges_every_request: Some(false),
        ..OrgSettings::default()
    };
    let changed = s.update_org_settings(&acme.id, enforce_only).await.unwrap();
    assert_eq!(
        (
            changed.session_timeout_minutes,
            changed.enforce_ip_ranges_every_request
        ),
        (60, false)
    );

    let ghost = OrgId::generate(&SystemRng);
    assert_missing(s.update_org_settings(&ghost, both).await, "org");
}

async fn org_conflicts_on_domain_and_second_default(env: Env) {
    let s = env.store;
    let acme = new_org("acme", true, T0);
    s.create_org(&acme).await.unwrap();
    assert_conflict(
        s.create_org(&new_org("ACME", false, T0)).await,
        "My Domain name",
    );
    assert_conflict(
        s.create_org(&new_org("other", true, T0)).await,
        "default org",
    );
    let mut same_id = new_org("third", false, T0);
    same_id.id = acme.id.clone();
    assert_conflict(s.create_org(&same_id).await, "org");
    // Any number of non-default orgs.
    s.create_org(&new_org("two", false, T0)).await.unwrap();
    s.create_org(&new_org("three", false, T0)).await.unwrap();
    assert_eq!(s.orgs().await.unwrap().len(), 3);
    assert_eq!(s.default_org().await.unwrap(), Some(acme));
}

async fn users_are_found_by_id_and_username_across_orgs(env: Env) {
    let s = env.store;
    let (org_a, profile_a, alice) = seed(&*s, "a", "Alice@Example.com").await;
    let (_, profile_b, bob) = seed(&*s, "b", "bob@example.com").await;
    // A NUL in a looked-up value (`username=a%00b` in a form) finds nothing on every backend;
    // PostgreSQL would refuse the parameter.
    assert_eq!(
        s.user_by_username("Alice\0@Example.com").await.unwrap(),
        None
    );
    assert_eq!(s.consumer_by_key("3MVG9\0").await.unwrap(), None);

    // Every optional field set, to check each one round-trips.
    let mut carol = new_user(&profile_a, "carol@example.com");
    carol.fields = UserFields {
        email: "carol@example.com".into(),
        first_name: Some("Carol".into()),
        last_name: "Jones".into(),
        federation_id: Some("fed-1".into()),
        alias: Some("cjon".into()),
        title: Some("CTO".into()),
        company_name: Some("Acme".into()),
        department: Some("R&D".into()),
        division: Some("North".into()),
        street: Some("1 Main St".into()),
        city: Some("Springfield".into()),
        state: Some("IL".into()),
        postal_code: Some("62701".into()),
        country: Some("US".into()),
        phone: Some("+1 555 0100".into()),
        mobile_phone: Some("+1 555 0101".into()),
        employee_number: Some("42".into()),
        time_zone: "America/Chicago".into(),
        locale: "en_US".into(),
        language: "en_US".into(),
    };
    carol.password_hash = None;
    carol.is_frozen = true;
    carol.failed_logins = 2;
    carol.locked_until = Some(T0.plus_minutes(15));
    carol.updated_at = T0.plus_secs(1);
    s.create_user(&carol).await.unwrap();

    assert_eq!(s.user(&alice.id).await.unwrap().as_ref(), Some(&alice));
    assert_eq!(s.user(&carol.id).await.unwrap().as_ref(), Some(&carol));
    assert_eq!(s.user(&UserId::generate(&SystemRng)).await.unwrap(), None);
    assert_eq!(
        s.user_by_username("alice@example.com")
            .await
            .unwrap()
            .as_ref(),
        Some(&alice)
    );
    assert_eq!(
        s.user_by_username("BOB@EXAMPLE.COM")
            .await
            .unwrap()
            .as_ref(),
        Some(&bob)
    );
    assert_eq!(
        s.user_by_username("nobody@example.com").await.unwrap(),
        None
    );

    let in_a = s.users(&org_a.id).await.unwrap();
    assert_eq!(in_a, vec![alice, carol], "by username, case-insensitively");
    assert_eq!(s.users(&profile_b.org_id).await.unwrap(), vec![bob]);
}

async fn user_conflicts_and_missing_references(env: Env) {
    let s = env.store;
    let (org_a, profile_a, alice) = seed(&*s, "a", "alice@example.com").await;
    let (_, profile_b, _) = seed(&*s, "b", "bob@example.com").await;

    // Usernames are unique across orgs, whatever their case.
    assert_conflict(
        s.create_user(&new_user(&profile_b, "ALICE@example.com"))
            .await,
        "username",
    );
    let mut same_id = new_user(&profile_a, "other@example.com");
    same_id.id = alice.id.clone();
    assert_conflict(s.create_user(&same_id).await, "user");

    let mut no_org = new_user(&profile_a, "x@example.com");
    no_org.org_id = OrgId::generate(&SystemRng);
    assert_missing(s.create_user(&no_org).await, "org");
    let mut no_profile = new_user(&profile_a, "y@example.com");
    no_profile.profile_id = ProfileId::generate(&SystemRng);
    assert_missing(
        s.create_user(&no_profile).await,
        "profile in the user's org",
    );
    // A profile of another org is as good as none.
    let mut foreign_profile = new_user(&profile_a, "z@example.com");
    foreign_profile.profile_id = profile_b.id.clone();
    assert_missing(
        s.create_user(&foreign_profile).await,
        "profile in the user's org",
    );

    assert_eq!(s.users(&org_a.id).await.unwrap(), vec![alice]);
}

async fn update_user_replaces_fields(env: Env) {
    let s = env.store;
    let (org, _, mut alice) = seed(&*s, "a", "alice@example.com").await;
    let admin = new_profile(&org, "System Administrator");
    s.create_profile(&admin).await.unwrap();
    let stored = alice.clone();

    alice.username = "Alice.Smith@example.com".into();
    alice.fields.first_name = Some("Alice".into());
    alice.fields.title = Some("Engineer".into());
    alice.fields.email = "alice.smith@example.com".into();
    alice.profile_id = admin.id.clone();
    alice.is_active = false;
    // Never written by update_user: the password and lockout have statements of their own.
    alice.password_hash = None;
    alice.failed_logins = 1;
    alice.locked_until = Some(T0.plus_minutes(5));
    alice.updated_at = T0.plus_secs(60);
    let version = s.update_user(&alice, stored.updated_at).await.unwrap();
    assert_eq!(version, T0.plus_secs(60));
    alice.password_hash = stored.password_hash.clone();
    alice.failed_logins = stored.failed_logins;
    alice.locked_until = stored.locked_until;

    assert_eq!(s.user(&alice.id).await.unwrap().as_ref(), Some(&alice));
    assert_eq!(s.user_by_username("alice@example.com").await.unwrap(), None);
    assert_eq!(
        s.user_by_username("alice.smith@EXAMPLE.com")
            .await
            .unwrap()
            .as_ref(),
        Some(&alice)
    );

    // Fields back to None; a change within the same millisecond still moves the version on.
    alice.fields.first_name = None;
    let version = s.update_user(&alice, alice.updated_at).await.unwrap();
    assert_eq!(
        version,
        Timestamp::from_millis(T0.plus_secs(60).millis() + 1)
    );
    alice.updated_at = version;
    assert_eq!(s.user(&alice.id).await.unwrap().as_ref(), Some(&alice));

    let mut ghost = alice.clone();
    ghost.id = UserId::generate(&SystemRng);
    ghost.username = "ghost@example.com".into();
    assert_missing(s.update_user(&ghost, ghost.updated_at).await, "user");

    let mut bad_profile = alice.clone();
    bad_profile.profile_id = ProfileId::generate(&SystemRng);
    assert_missing(
        s.update_user(&bad_profile, alice.updated_at).await,
        "profile in the user's org",
    );
}

/// Two changes that read the same user: the later write is refused, never put over the first
/// (a deactivation undone by an edit that read the user before it, say).
async fn update_user_refuses_a_user_changed_since_it_was_read(env: Env) {
    let s = env.store;
    let (_, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let mut deactivate = alice.clone();
    deactivate.is_active = false;
    deactivate.updated_at = T0.plus_secs(1);
    let mut retitle = alice.clone();
    retitle.fields.title = Some("Stale".into());
    retitle.updated_at = T0.plus_secs(2);
    s.update_user(&deactivate, alice.updated_at).await.unwrap();
    assert_conflict(
        s.update_user(&retitle, alice.updated_at).await,
        USER_CHANGED,
    );
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert!(!stored.is_active);
    assert_eq!(stored.fields.title, alice.fields.title);

    // A password set moves the version on too, and touches nothing else.
    s.set_user_password(&alice.org_id, &alice.id, "$argon2id$new", T0)
        .await
        .unwrap();
    let after = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(!after.is_active);
    assert_eq!(
        after.updated_at,
        Timestamp::from_millis(T0.plus_secs(1).millis() + 1)
    );
    assert_conflict(
        s.update_user(&deactivate, stored.updated_at).await,
        USER_CHANGED,
    );
    assert_missing(
        s.set_user_password(&alice.org_id, &UserId::generate(&SystemRng), "x", T0)
            .await,
        "user",
    );
}

/// A password set clears a lockout, and an edit never puts a lockout or password back.
async fn passwords_and_lockouts_are_only_written_by_their_own_statements(env: Env) {
    let s = env.store;
    let (_, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let lockout = Lockout {
        after: 1,
        until: T0.plus_minutes(15),
    };
    s.begin_login_attempt(&alice.id, lockout, T0).await.unwrap();
    let locked = s.user(&alice.id).await.unwrap().unwrap();
    assert!(locked.failed_logins > 0);
    // An edit that read the user before the failed attempt leaves its count alone.
    let mut edit = alice.clone();
    edit.fields.title = Some("Edited".into());
    s.update_user(&edit, alice.updated_at).await.unwrap();
    let edited = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!(
        (edited.failed_logins, edited.locked_until),
        (locked.failed_logins, locked.locked_until)
    );
    s.set_user_password(&alice.org_id, &alice.id, "$argon2id$reset", T0.plus_secs(5))
        .await
        .unwrap();
    let reset = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((reset.failed_logins, reset.locked_until), (0, None));
    assert_eq!(reset.fields.title.as_deref(), Some("Edited"));
}

async fn update_user_refuses_a_taken_username(env: Env) {
    let s = env.store;
    let (_, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let (_, _, mut bob) = seed(&*s, "b", "bob@example.com").await;

    let before = bob.clone();
    bob.username = "ALICE@example.com".into();
    assert_conflict(s.update_user(&bob, before.updated_at).await, "username");
    assert_eq!(
        s.user(&bob.id).await.unwrap().as_ref(),
        Some(&before),
        "nothing changed"
    );

    // A change of case of one's own username is no conflict.
    bob.username = "Bob@Example.com".into();
    bob.updated_at = s.update_user(&bob, before.updated_at).await.unwrap();
    assert_eq!(
        s.user_by_username("bob@example.com").await.unwrap(),
        Some(bob)
    );
    assert_eq!(s.user(&alice.id).await.unwrap(), Some(alice));
}

async fn failed_logins_count_lock_and_reset(env: Env) {
    let s = env.store;
    let (_, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let lock = T0.plus_minutes(15);
    let lockout = Lockout {
        after: 3,
        until: lock,
    };
    let attempt = |lockout, now| {
        let (s, id) = (s.clone(), alice.id.clone());
        async move { s.begin_login_attempt(&id, lockout, now).await.unwrap() }
    };

    assert_eq!(attempt(lockout, T0).await, Some(1));
    assert_eq!(attempt(lockout, T0).await, Some(2));
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (2, None));
    // The third attempt reaches the limit: the user is locked.
    assert_eq!(attempt(lockout, T0).await, Some(3));
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (3, Some(lock)));
    // While locked, attempts are refused and count for nothing.
    let later = Lockout {
        after: 3,
        until: lock.plus_minutes(1),
    };
    assert_eq!(attempt(later, lock.plus_secs(-1)).await, None);
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (3, Some(lock)));
    // Once the lock has run out, the failures behind it no longer count.
    assert_eq!(attempt(later, lock).await, Some(1));
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (1, None));

    s.record_successful_login(&alice.id).await.unwrap();
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    assert_eq!(stored.updated_at, alice.updated_at, "logins are not edits");

    let ghost = UserId::generate(&SystemRng);
    assert_missing(s.begin_login_attempt(&ghost, lockout, T0).await, "user");
    assert_missing(s.record_successful_login(&ghost).await, "user");
}

async fn profiles_and_permission_sets_are_unique_per_org(env: Env) {
    let s = env.store;
    let org_a = new_org("a", false, T0);
    let org_b = new_org("b", false, T0);
    s.create_org(&org_a).await.unwrap();
    s.create_org(&org_b).await.unwrap();

    let standard = new_profile(&org_a, "Standard User");
    let admin = new_profile(&org_a, "System Administrator");
    let mut api_only = new_profile(&org_a, "api only");
    api_only.permissions = Permissions::default();
    for p in [&standard, &admin, &api_only] {
        s.create_profile(p).await.unwrap();
    }
    assert_conflict(
        s.create_profile(&new_profile(&org_a, "standard user"))
            .await,
        "profile",
    );
    // The same name in another org is another profile.
    let standard_b = new_profile(&org_b, "Standard User");
    s.create_profile(&standard_b).await.unwrap();
    assert_missing(
        s.create_profile(&new_profile(&new_org("gone", false, T0), "X"))
            .await,
        "org",
    );

    assert_eq!(s.profile(&admin.id).await.unwrap().as_ref(), Some(&admin));
    assert_eq!(
        s.profile(&ProfileId::generate(&SystemRng)).await.unwrap(),
        None
    );
    assert_eq!(
        s.profile_by_name(&org_a.id, "SYSTEM administrator")
            .await
            .unwrap()
            .as_ref(),
        Some(&admin)
    );
    assert_eq!(
        s.profile_by_name(&org_b.id, "System Administrator")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.profiles(&org_a.id).await.unwrap(),
        vec![api_only, standard, admin]
    );
    assert_eq!(s.profiles(&org_b.id).await.unwrap(), vec![standard_b]);

    let clm = new_permission_set(&org_a, "CLM_Integration");
    let admins = new_permission_set(&org_a, "ECA_Admins");
    s.create_permission_set(&admins).await.unwrap();
    s.create_permission_set(&clm).await.unwrap();
    assert_conflict(
        s.create_permission_set(&new_permission_set(&org_a, "clm_integration"))
            .await,
        "permission set",
    );
    let clm_b = new_permission_set(&org_b, "CLM_Integration");
    s.create_permission_set(&clm_b).await.unwrap();
    assert_missing(
        s.create_permission_set(&new_permission_set(&new_org("gone", false, T0), "X"))
            .await,
        "org",
    );

    assert_eq!(
        s.permission_set(&clm.id).await.unwrap().as_ref(),
        Some(&clm)
    );
    assert_eq!(
        s.permission_set(&PermissionSetId::generate(&SystemRng))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.permission_set_by_name(&org_a.id, "CLM_INTEGRATION")
            .await
            .unwrap()
            .as_ref(),
        Some(&clm)
    );
    assert_eq!(
        s.permission_set_by_name(&org_b.id, "clm_integration")
            .await
            .unwrap()
            .as_ref(),
        Some(&clm_b)
    );
    assert_eq!(
        s.permission_set_by_name(&org_b.id, "ECA_Admins")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.permission_sets(&org_a.id).await.unwrap(),
        vec![clm, admins]
    );
}

async fn permission_set_assignment(env: Env) {
    let s = env.store;
    let (org, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let (other_org, _, bob) = seed(&*s, "b", "bob@example.com").await;
    let zeta = new_permission_set(&org, "Zeta");
    let alpha = new_permission_set(&org, "alpha");
    let foreign = new_permission_set(&other_org, "Foreign");
    for set in [&zeta, &alpha, &foreign] {
        s.create_permission_set(set).await.unwrap();
    }

    assert_eq!(s.permission_sets_of(&alice.id).await.unwrap(), vec![]);
    s.assign_permission_set(&alice.id, &zeta.id, T0)
        .await
        .unwrap();
    s.assign_permission_set(&alice.id, &alpha.id, T0)
        .await
        .unwrap();
    // Assigning twice is not an error.
    s.assign_permission_set(&alice.id, &zeta.id, T0.plus_secs(1))
        .await
        .unwrap();
    assert_eq!(
        s.permission_sets_of(&alice.id).await.unwrap(),
        vec![alpha.clone(), zeta.clone()]
    );
    assert_eq!(s.permission_sets_of(&bob.id).await.unwrap(), vec![]);

    let ghost = UserId::generate(&SystemRng);
    assert_missing(s.assign_permission_set(&ghost, &zeta.id, T0).await, "user");
    let no_set = PermissionSetId::generate(&SystemRng);
    assert_missing(
        s.assign_permission_set(&alice.id, &no_set, T0).await,
        "permission set in the user's org",
    );
    // A set of another org cannot be assigned.
    assert_missing(
        s.assign_permission_set(&alice.id, &foreign.id, T0).await,
        "permission set in the user's org",
    );

    assert!(
        s.unassign_permission_set(&alice.id, &zeta.id)
            .await
            .unwrap()
    );
    assert!(
        !s.unassign_permission_set(&alice.id, &zeta.id)
            .await
            .unwrap()
    );
    assert!(!s.unassign_permission_set(&ghost, &zeta.id).await.unwrap());
    assert_eq!(s.permission_sets_of(&alice.id).await.unwrap(), vec![alpha]);
}

async fn sessions_lifecycle(env: Env) {
    let s = env.store;
    let (_, profile, alice) = seed(&*s, "a", "alice@example.com").await;
    let bob = new_user(&profile, "bob@example.com");
    s.create_user(&bob).await.unwrap();

    let mut one = new_session(&alice, "hash-one", T0.plus_minutes(10));
    one.kind = SessionKind::SoapLogin;
    let two = new_session(&alice, "hash-two", T0.plus_minutes(20));
    let three = new_session(&bob, "hash-three", T0.plus_minutes(30));
    for session in [&one, &two, &three] {
        s.create_session(session).await.unwrap();
    }
    assert_conflict(s.create_session(&one).await, "session");
    let mut orphan = new_session(&alice, "hash-orphan", T0);
    orphan.user_id = UserId::generate(&SystemRng);
    assert_missing(s.create_session(&orphan).await, "user in the session's org");

    assert_eq!(s.session("hash-one").await.unwrap().as_ref(), Some(&one));
    assert_eq!(s.session("hash-none").await.unwrap(), None);

    let used = T0.plus_minutes(5);
    s.touch_session("hash-one", used, used.plus_minutes(10))
        .await
        .unwrap();
    let touched = s.session("hash-one").await.unwrap().unwrap();
    assert_eq!(
        (touched.last_used_at, touched.expires_at),
        (used, used.plus_minutes(10))
    );
    assert_eq!(touched.created_at, one.created_at);
    assert_missing(s.touch_session("hash-none", used, used).await, "session");

    assert!(s.delete_session("hash-two").await.unwrap());
    assert!(!s.delete_session("hash-two").await.unwrap());
    assert_eq!(s.session("hash-two").await.unwrap(), None);

    s.create_session(&new_session(&alice, "hash-four", T0.plus_minutes(40)))
        .await
        .unwrap();
    assert_eq!(s.delete_user_sessions(&alice.id).await.unwrap(), 2);
    assert_eq!(s.delete_user_sessions(&alice.id).await.unwrap(), 0);
    assert_eq!(
        s.session("hash-three").await.unwrap(),
        Some(three.clone()),
        "bob's stays"
    );

    // Expired means expired strictly before `now`.
    s.create_session(&new_session(&bob, "hash-five", T0.plus_minutes(5)))
        .await
        .unwrap();
    assert_eq!(
        s.delete_expired_sessions(T0.plus_minutes(5)).await.unwrap(),
        0
    );
    assert_eq!(
        s.delete_expired_sessions(T0.plus_minutes(6)).await.unwrap(),
        1
    );
    assert_eq!(
        s.delete_expired_sessions(T0.plus_minutes(31))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.session("hash-three").await.unwrap(), None);
}

async fn settings_round_trip(env: Env) {
    let s = env.store;
    assert_eq!(s.setting("setup.done").await.unwrap(), None);
    s.put_setting("setup.done", "false").await.unwrap();
    assert_eq!(
        s.setting("setup.done").await.unwrap().as_deref(),
        Some("false")
    );
    s.put_setting("setup.done", "true").await.unwrap();
    s.put_setting("other", "").await.unwrap();
    assert_eq!(
        s.setting("setup.done").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(s.setting("other").await.unwrap().as_deref(), Some(""));
    // The first value stays.
    assert!(s.put_setting_if_absent("first", "a").await.unwrap());
    assert!(!s.put_setting_if_absent("first", "b").await.unwrap());
    assert_eq!(s.setting("first").await.unwrap().as_deref(), Some("a"));
    assert_eq!(
        s.setting("SETUP.DONE").await.unwrap(),
        None,
        "keys are case-sensitive"
    );
}

/// A connection the PostgreSQL server dropped (a restart, an idle timeout) is pinged when it
/// leaves the pool after being idle for a while, found dead and replaced: the next call
/// succeeds. (Connections in steady use are not pinged before each statement.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_the_server_dropped_are_replaced() {
    use sqlx::Connection;
    let Some(url) = postgres_url() else {
        announce_skip();
        return;
    };
    let schema = test_schema();
    // The store's connections carry the schema's name, so that only they are dropped.
    let separator = if url.contains('?') { '&' } else { '?' };
    let named = format!("{url}{separator}application_name={schema}");
    let store = open_postgres_in_schema(&named, &schema).await.unwrap();
    store.ping().await.unwrap();

    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let dropped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) AS terminated",
    )
    .bind(&schema)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    admin.close().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let after = store.ping().await;
    let read = store.org_by_domain("nobody").await;
    drop_schema(&url, &schema).await;

    assert!(dropped >= 1, "no connection of the store was found to drop");
    after.unwrap();
    assert_eq!(read.unwrap(), None);
}

async fn ping_answers(env: Env) {
    env.store.ping().await.unwrap();
    let expected = match env.target {
        Target::SqliteFile { .. } | Target::SqliteMemory => "sqlite",
        Target::Postgres { .. } => "postgres",
    };
    assert_eq!(env.store.backend(), expected);
}

async fn migrations_are_idempotent(env: Env) {
    let (org, _, alice) = seed(&*env.store, "a", "alice@example.com").await;
    let Some(again) = env.reopen().await else {
        return;
    };
    let third = env.reopen().await.unwrap();
    for store in [&again, &third] {
        assert_eq!(store.org(&org.id).await.unwrap().as_ref(), Some(&org));
        assert_eq!(store.user(&alice.id).await.unwrap().as_ref(), Some(&alice));
    }
    // A write through one store is seen by the others.
    third.put_setting("k", "v").await.unwrap();
    assert_eq!(env.store.setting("k").await.unwrap().as_deref(), Some("v"));
}

async fn concurrent_opens_both_succeed(env: Env) {
    // Two opens of a database nobody opened yet race, as two nodes starting at once: one
    // creates and migrates it, the other waits and finds it done.
    let (a, b, cleanup) = match &env.target {
        Target::SqliteFile { url } => {
            let fresh = url.replace("eca.db", "race.db");
            let (a, b) = tokio::join!(open(&fresh), open(&fresh));
            (a, b, None)
        }
        Target::SqliteMemory => return,
        Target::Postgres { url, schema } => {
            let fresh = format!("{schema}_race");
            let (a, b) = tokio::join!(
                open_postgres_in_schema(url, &fresh),
                open_postgres_in_schema(url, &fresh)
            );
            (a, b, Some((url.clone(), fresh)))
        }
    };
    let outcome = async {
        let (a, b) = (a?, b?);
        a.put_setting("from", "a").await?;
        b.setting("from").await
    }
    .await;
    if let Some((url, schema)) = cleanup {
        drop_schema(&url, &schema).await;
    }
    assert_eq!(outcome.unwrap().as_deref(), Some("a"));
}

async fn concurrent_failed_logins_all_count(env: Env) {
    let s = env.store;
    let (_, _, alice) = seed(&*s, "a", "alice@example.com").await;
    let lockout = Lockout {
        after: 20,
        until: T0.plus_minutes(15),
    };
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            let id = alice.id.clone();
            tokio::spawn(async move { s.begin_login_attempt(&id, lockout, T0).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    let mut expected = vec![None; 30];
    expected.extend((1..=20).map(Some));
    assert_eq!(
        counts, expected,
        "each attempt saw its own count, and those past the lock were refused"
    );
    let stored = s.user(&alice.id).await.unwrap().unwrap();
    assert_eq!(stored.failed_logins, 20);
    assert_eq!(
        stored.locked_until,
        Some(lockout.until),
        "the 20th attempt locked"
    );
}

async fn closed_store_reports_errors_not_absence(env: Env) {
    // Concrete stores, to close them under the caller's feet.
    let id = UserId::generate(&SystemRng);
    match &env.target {
        Target::SqliteFile { url } => {
            let store = SqliteStore::open(url).await.unwrap();
            store.close().await;
            assert!(matches!(
                store.user(&id).await,
                Err(StoreError::Database(_))
            ));
            assert!(matches!(
                store.setting("k").await,
                Err(StoreError::Database(_))
            ));
        }
        Target::SqliteMemory => {
            let store = SqliteStore::open("sqlite::memory:").await.unwrap();
            store.close().await;
            assert!(matches!(
                store.user_by_username("a").await,
                Err(StoreError::Database(_))
            ));
        }
        Target::Postgres { url, schema } => {
            let store = PostgresStore::open_in_schema(url, schema).await.unwrap();
            store.close().await;
            assert!(matches!(
                store.user(&id).await,
                Err(StoreError::Database(_))
            ));
            assert!(matches!(store.ping().await, Err(StoreError::Database(_))));
        }
    }
}

async fn newer_schema_is_refused(env: Env) {
    if matches!(env.target, Target::SqliteMemory) {
        return;
    }
    execute_raw(
        &env.target,
        "INSERT INTO eca_schema_migrations (version, applied_at) VALUES (9999, 0)",
    )
    .await;
    let err = match &env.target {
        Target::SqliteFile { url } => open(url).await.err(),
        Target::Postgres { url, schema } => open_postgres_in_schema(url, schema).await.err(),
        Target::SqliteMemory => unreachable!(),
    };
    assert!(
        matches!(&err, Some(StoreError::Corrupt(m)) if m.contains("9999")),
        "{err:?}"
    );
}
