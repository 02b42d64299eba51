//! First start, health, readiness and metrics.

use std::sync::Arc;

use axum::http::StatusCode;
use eca_core::Secret;
use eca_core::crypto::MasterKey;
use eca_core::rng::DeterministicRng;
use eca_server::KeySource;
use eca_server::bootstrap::{
    ADMIN_USERNAME, API_ONLY, BootstrapOptions, INTEGRATION_USERNAME, load_master_key,
};

use crate::support::*;

#[tokio::test]
async fn bootstrap_creates_the_default_org_once() {
    let store = eca_store::open("sqlite::memory:").await.unwrap();
    let clock = eca_core::ManualClock::new(START);
    let rng: Arc<dyn eca_core::Rng> = Arc::new(DeterministicRng::new(1));
    let options = BootstrapOptions {
        admin_password: None,
        demo: true,
    };
    let created = eca_server::bootstrap(store.as_ref(), &clock, Arc::clone(&rng), &options)
        .await
        .unwrap();
    let names: Vec<_> = created.iter().map(|c| c.username.as_str()).collect();
    assert_eq!(names, [ADMIN_USERNAME, INTEGRATION_USERNAME]);
    for user in &created {
        assert!(user.generated);
        assert!(user.password.expose().len() >= 16);
    }
    assert_ne!(created[0].password, created[1].password);

    let orgs = store.orgs().await.unwrap();
    assert_eq!(orgs.len(), 1);
    let org = &orgs[0];
    assert_eq!(
        (
            org.my_domain.as_str(),
            org.is_default,
            org.session_timeout_minutes
        ),
        ("demo", true, 120)
    );
    let mut profiles: Vec<_> = store
        .profiles(&org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    profiles.sort();
    assert_eq!(
        profiles,
        ["API Only", "Standard User", "System Administrator"]
    );
    let integration = store
        .user_by_username(INTEGRATION_USERNAME)
        .await
        .unwrap()
        .unwrap();
    let api_only = store
        .profile_by_name(&org.id, API_ONLY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(integration.profile_id, api_only.id);

    // A second start, demo or not, creates nothing and shows no password; the password it was
    // given is not used, so it is not checked either.
    for demo in [true, false] {
        let options = BootstrapOptions {
            admin_password: Some(Secret::new("weak")),
            demo,
        };
        let again = eca_server::bootstrap(store.as_ref(), &clock, Arc::clone(&rng), &options)
            .await
            .unwrap();
        assert!(again.is_empty(), "{again:?}");
    }
    assert_eq!(store.orgs().await.unwrap().len(), 1);
    assert_eq!(store.users(&org.id).await.unwrap().len(), 2);

    // On a first start, a password that does not meet the policy creates nothing.
    let fresh = eca_store::open("sqlite::memory:").await.unwrap();
    let options = BootstrapOptions {
        admin_password: Some(Secret::new("admin")),
        demo: false,
    };
    let refused = eca_server::bootstrap(fresh.as_ref(), &clock, Arc::clone(&rng), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("ECA_ADMIN_PASSWORD"), "{refused}");
    assert!(fresh.orgs().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_master_key_file_is_created_once_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let rng = DeterministicRng::new(3);
    let (key, source) = load_master_key(None, dir.path(), &rng).unwrap();
    let path = dir.path().join("master.key");
    assert_eq!(source, KeySource::Created(path.clone()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let sealed = key.encrypt(b"secret", b"ctx", &rng);
    let (again, source) = load_master_key(None, dir.path(), &rng).unwrap();
    assert_eq!(source, KeySource::File(path.clone()));
    assert_eq!(again.decrypt(&sealed, b"ctx").unwrap(), b"secret");

    let (_, text) = MasterKey::generate(&rng).unwrap();
    let (_, source) = load_master_key(Some(&Secret::new(text)), dir.path(), &rng).unwrap();
    assert_eq!(source, KeySource::Config);
    assert!(load_master_key(Some(&Secret::new("short")), dir.path(), &rng).is_err());
    // Nothing but the key file is left behind, and a broken key file is named.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["master.key"]);
    std::fs::write(&path, "").unwrap();
    let broken = load_master_key(None, dir.path(), &rng)
        .unwrap_err()
        .to_string();
    assert!(broken.contains("master.key"), "{broken}");
}

/// A node started with another master key than the database's (a second node without
/// ECA_MASTER_KEY, a lost master.key) refuses to start, instead of answering 500 to every
/// request that needs a secret.
#[tokio::test]
async fn a_master_key_other_than_the_databases_is_refused_at_start() {
    use eca_server::bootstrap::{StartError, check_master_key};
    let store = eca_store::open("sqlite::memory:").await.unwrap();
    let rng = DeterministicRng::new(5);
    let (first, _) = MasterKey::generate(&rng).unwrap();
    let (other, _) = MasterKey::generate(&rng).unwrap();
    let source = KeySource::Config;
    check_master_key(store.as_ref(), &first, &source, &rng)
        .await
        .expect("the first start sets the key");
    check_master_key(store.as_ref(), &first, &source, &rng)
        .await
        .expect("the same key again");
    let refused = check_master_key(store.as_ref(), &other, &source, &rng).await;
    match refused {
        Err(e @ StartError::WrongMasterKey(_)) => {
            let text = e.to_string();
            assert!(text.contains("ECA_MASTER_KEY"), "{text}");
        }
        other => panic!("expected WrongMasterKey, got {other:?}"),
    }

    // A database made before the check: the first key to seal must open what is stored.
    let older = eca_store::open("sqlite::memory:").await.unwrap();
    let clock = eca_core::ManualClock::new(START);
    let options = BootstrapOptions {
        admin_password: Some(Secret::new("Admin-Password-1234")),
        demo: false,
    };
    eca_server::bootstrap(
        older.as_ref(),
        &clock,
        Arc::new(DeterministicRng::new(6)),
        &options,
    )
    .await
    .unwrap();
    let org = older.default_org().await.unwrap().unwrap();
    let context = format!("oauth-signing-key:{}:1", org.id);
    older
        .create_signing_key(&eca_store::SigningKeyRecord {
            org_id: org.id.clone(),
            kid: "1".to_owned(),
            encrypted_key: first.encrypt(b"a key", context.as_bytes(), &rng),
            created_at: START,
        })
        .await
        .unwrap();
    assert!(matches!(
        check_master_key(older.as_ref(), &other, &source, &rng).await,
        Err(StartError::WrongMasterKey(_))
    ));
    check_master_key(older.as_ref(), &first, &source, &rng)
        .await
        .expect("the key that opens the stored signing key");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let h = harness().await;
    let health = get("/healthz").send(&h).await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = get("/readyz").send(&h).await;
    assert_eq!((ready.status, ready.body.as_str()), (StatusCode::OK, "ok"));
    get("/orgs/nope/services/data").send(&h).await;
    get("/services/data/v66.0").send(&h).await;

    let metrics = get("/metrics").send(&h).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.body;
    for expected in [
        "eca_build_info{version=\"0.1.0\",backend=\"sqlite\"} 1",
        "eca_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "eca_http_requests_total{method=\"GET\",route=\"/orgs/{domain}/services/data\",status=\"404\"} 1",
        "eca_http_requests_total{method=\"GET\",route=\"/services/data/{version}\",status=\"401\"} 1",
        "eca_http_request_duration_seconds_bucket{method=\"GET\",route=\"/readyz\",status=\"200\",le=\"0.005\"}",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[tokio::test]
async fn housekeeping_deletes_expired_sessions_tokens_and_codes_and_nothing_else() {
    use eca_core::Clock as _;
    use eca_server::housekeeping::{ACCESS_TOKEN_GRACE_MINUTES, Swept, sweep};
    use eca_store::{
        AccessTokenFormat, AccessTokenRecord, AuthorizationCodeRecord, ConsumerId,
        DeviceCodeRecord, DeviceStatus, RefreshTokenRecord,
    };

    let h = harness().await;
    let session = admin_session(&h).await;
    let admin = stored_user(&h.store, ADMIN_USERNAME).await;
    let token = |issued: i64, expires: i64, revoked: bool| {
        let issued_at = START.plus_minutes(issued);
        let issued = eca_oauth::tokens::access_token(&admin.org_id, issued_at, h.rng.as_ref());
        AccessTokenRecord {
            token_hash: issued.hash.as_str().to_owned(),
            org_id: admin.org_id.clone(),
            app_name: "Ci".to_owned(),
            consumer_id: ConsumerId::generate(h.rng.as_ref()),
            user_id: admin.id.clone(),
            scopes: "api".to_owned(),
            format: AccessTokenFormat::Opaque,
            refresh_hash: None,
            issued_at,
            expires_at: START.plus_minutes(expires),
            revoked_at: revoked.then_some(issued_at),
        }
    };
    // Swept at minute 250: access tokens that expired before minute 190 go.
    let now = 250;
    assert_eq!(ACCESS_TOKEN_GRACE_MINUTES, 60);
    let gone = [
        token(0, 120, false),
        token(1, 121, true),
        token(100, 189, false),
    ];
    let kept = [
        // Expired, but within the grace period.
        token(60, 200, false),
        token(200, 400, false),
        token(200, 400, true),
        // Issued long ago, living long.
        token(0, 2_000, false),
    ];
    h.store
        .create_access_tokens(&gone.iter().chain(&kept).collect::<Vec<_>>())
        .await
        .unwrap();
    // Authorization codes go a day after they expire (minute 250 - 1440); device codes ten
    // minutes after (minute 240).
    for (hash, expires) in [("code-gone", -1_200), ("code-kept", -1_100)] {
        h.store
            .create_authorization_code(&AuthorizationCodeRecord {
                code_hash: hash.to_owned(),
                org_id: admin.org_id.clone(),
                app_name: "Ci".to_owned(),
                consumer_id: ConsumerId::generate(h.rng.as_ref()),
                user_id: admin.id.clone(),
                redirect_uri: "https://ci.example/cb".to_owned(),
                redirect_uri_given: true,
                scopes: "api".to_owned(),
                code_challenge: None,
                code_challenge_method: None,
                nonce: None,
                auth_time: START,
                issued_at: START,
                expires_at: START.plus_minutes(expires),
                consumed_at: None,
                replayed_at: None,
                access_hash: None,
                refresh_family: None,
            })
            .await
            .unwrap();
    }
    for (hash, expires) in [("device-gone", 235), ("device-kept", 245)] {
        h.store
            .create_device_code(&DeviceCodeRecord {
                device_hash: hash.to_owned(),
                user_code_hash: format!("user-{hash}"),
                org_id: admin.org_id.clone(),
                app_name: "Ci".to_owned(),
                consumer_id: ConsumerId::generate(h.rng.as_ref()),
                scopes: "api".to_owned(),
                issued_at: START,
                expires_at: START.plus_minutes(expires),
                interval_secs: 5,
                last_polled_at: None,
                status: DeviceStatus::Pending,
                user_id: None,
                decided_at: None,
                authenticated_at: None,
            })
            .await
            .unwrap();
    }

    // Refresh tokens (each its own family) go once revoked before minute 190.
    let refresh = |hash: &str, revoked: Option<i64>| RefreshTokenRecord {
        token_hash: hash.to_owned(),
        org_id: admin.org_id.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: ConsumerId::generate(h.rng.as_ref()),
        user_id: admin.id.clone(),
        scopes: "api refresh_token".to_owned(),
        family_id: format!("family-{hash}"),
        issued_at: START,
        expires_at: None,
        last_used_at: START,
        use_count: 0,
        rotated_at: None,
        revoked_at: revoked.map(|minute| START.plus_minutes(minute)),
    };
    let refresh_tokens = [
        (refresh("refresh-gone", Some(100)), false),
        (refresh("refresh-revoked-lately", Some(200)), true),
        (refresh("refresh-live", None), true),
    ];
    for (record, _) in &refresh_tokens {
        h.store.create_refresh_token(record).await.unwrap();
    }

    // Retrieve results: one expired before the sweep, one still live.
    let retrieve = |id: &str, expires: i64| eca_store::StoredRetrieve {
        id: id.to_owned(),
        org_id: admin.org_id.clone(),
        created_by: admin.id.clone(),
        result_json: "{}".to_owned(),
        zip: vec![1, 2, 3],
        created_at: START,
        expires_at: START.plus_minutes(expires),
    };
    for record in [
        retrieve("09S000000000001", 240),
        retrieve("09S000000000002", 260),
    ] {
        h.store.create_retrieve(&record).await.unwrap();
    }

    h.clock.set(START.plus_minutes(now));
    let swept = sweep(h.store.as_ref(), h.clock.now()).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            sessions: 1,
            access_tokens: 3,
            refresh_tokens: 1,
            authorization_codes: 1,
            device_codes: 1,
            retrieves: 1,
        }
    );
    assert!(
        h.store
            .retrieve(&admin.org_id, "09S000000000002", h.clock.now())
            .await
            .unwrap()
            .is_some()
    );
    for (record, present) in gone
        .iter()
        .map(|t| (t, false))
        .chain(kept.iter().map(|t| (t, true)))
    {
        let found = h.store.access_token(&record.token_hash).await.unwrap();
        assert_eq!(found.as_ref(), present.then_some(record));
    }
    for (record, present) in &refresh_tokens {
        let found = h.store.refresh_token(&record.token_hash).await.unwrap();
        assert_eq!(found.as_ref(), present.then_some(record));
    }
    // The expired session is gone too: its id no longer works.
    get("/services/data/v66.0/eca/session-settings")
        .bearer(&session)
        .send(&h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");

    assert_eq!(
        sweep(h.store.as_ref(), h.clock.now()).await.unwrap(),
        Swept::default()
    );
}

/// A first start whose last bootstrap write fails (a full disk, a lost connection) after the
/// admin was created with a generated password: the error still carries that password, which
/// no later start shows (the admin exists then).
#[tokio::test]
async fn a_bootstrap_failing_after_creating_the_admin_still_hands_over_its_password() {
    use eca_server::bootstrap::StartError;
    let test = "a_bootstrap_failing_after_creating_the_admin_still_hands_over_its_password";
    crate::support::on_postgres(test, |db| async move {
        // The write that marks the bootstrap done fails, as on a full disk.
        let schema = &db.schema;
        let psql = std::process::Command::new("psql")
            .args([db.url.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!(
                "CREATE FUNCTION \"{schema}\".refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'no space left on device'; END $$; \
                 CREATE TRIGGER refuse BEFORE INSERT ON \"{schema}\".settings \
                 FOR EACH ROW WHEN (NEW.key = 'bootstrap.version') \
                 EXECUTE FUNCTION \"{schema}\".refuse();"
            ))
            .output()
            .expect("psql runs (it comes with PostgreSQL)");
        assert!(
            psql.status.success(),
            "{}",
            String::from_utf8_lossy(&psql.stderr)
        );
        let clock = eca_core::ManualClock::new(START);
        let options = BootstrapOptions {
            admin_password: None,
            demo: true,
        };
        let started = eca_server::bootstrap(
            db.store.as_ref(),
            &clock,
            Arc::new(DeterministicRng::new(9)),
            &options,
        )
        .await;
        let Err(StartError::AfterUsersCreated { users, cause }) = started else {
            panic!("expected AfterUsersCreated, got {started:?}");
        };
        assert!(cause.to_string().contains("no space left"), "{cause}");
        let admin = users
            .iter()
            .find(|u| u.username == ADMIN_USERNAME)
            .expect("the admin's password is handed over");
        assert!(admin.generated);
        assert!(
            db.store
                .user_by_username(ADMIN_USERNAME)
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}
