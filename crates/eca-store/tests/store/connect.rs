//! The [`ConnectStore`] contract: usage lists only live tokens, per app and per user, paged;
//! revocation by app and user reaches the access tokens and nothing else; the audit trail
//! takes Connect calls; and a consumer has at most one staged credential, rotated in by an
//! all-or-nothing swap.

use eca_core::ids::StagedCredentialId;
use eca_core::{OrgId, SystemRng, Timestamp, UserId};
use eca_store::{
    AccessTokenFormat, AccessTokenRecord, AppUserUsage, AuditAction, AuditEntry, ChangeSet,
    ComponentChange, ConsumerChange, ConsumerId, CredentialState, OauthConsumer, Page,
    RefreshTokenRecord, StagedCredential, Store,
};

use crate::{Env, T0, assert_conflict, assert_missing, new_user, seed};

on_every_backend!(
    usage_lists_apps_and_users_with_live_tokens,
    usage_pages_and_user_tokens,
    revoking_a_users_tokens_reaches_only_that_user_and_app,
    connect_calls_join_the_audit_trail,
    a_consumer_has_one_staged_credential_at_a_time,
    rotation_swaps_the_credentials_all_or_nothing,
);

const PAGE: Page = Page {
    offset: 0,
    limit: 100,
};

fn at(secs: i64) -> Timestamp {
    Timestamp(T0.millis() + secs * 1000)
}

fn header(name: &str) -> ComponentChange {
    ComponentChange::Create {
        type_name: "ExternalClientApplication".to_owned(),
        full_name: name.to_owned(),
        app_name: Some(name.to_owned()),
        xml: "<header/>".to_owned(),
    }
}

fn consumer(org: &OrgId, app: &str, key: &str) -> OauthConsumer {
    OauthConsumer {
        id: ConsumerId::generate(&SystemRng),
        org_id: org.clone(),
        app_name: app.to_owned(),
        consumer_key: key.to_owned(),
        encrypted_secret: vec![1, 2, 3],
        created_at: T0,
        updated_at: T0,
    }
}

/// Deploys app headers (and consumers) into `org`.
async fn deploy(
    store: &dyn Store,
    org: &OrgId,
    user: &UserId,
    apps: &[&str],
    consumers: &[OauthConsumer],
) {
    let components: Vec<_> = apps.iter().map(|a| header(a)).collect();
    let consumers: Vec<_> = consumers
        .iter()
        .cloned()
        .map(ConsumerChange::Create)
        .collect();
    store
        .apply_changes(&ChangeSet {
            org,
            user,
            at: T0,
            components: &components,
            consumers: &consumers,
            audit: &[],
            finish: None,
            deleted_apps: &[],
        })
        .await
        .unwrap();
}

fn refresh(org: &OrgId, app: &str, user: &UserId, hash: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: hash.to_owned(),
        org_id: org.clone(),
        app_name: app.to_owned(),
        consumer_id: ConsumerId::generate(&SystemRng),
        user_id: user.clone(),
        scopes: "api refresh_token".to_owned(),
        family_id: format!("family-{hash}"),
        issued_at: T0,
        expires_at: None,
        last_used_at: T0,
        use_count: 0,
        rotated_at: None,
        revoked_at: None,
    }
}

fn access(
    org: &OrgId,
    app: &str,
    user: &UserId,
    hash: &str,
    refresh: Option<&str>,
) -> AccessTokenRecord {
    AccessTokenRecord {
        token_hash: hash.to_owned(),
        org_id: org.clone(),
        app_name: app.to_owned(),
        consumer_id: ConsumerId::generate(&SystemRng),
        user_id: user.clone(),
        scopes: "api".to_owned(),
        format: AccessTokenFormat::Opaque,
        refresh_hash: refresh.map(str::to_owned),
        issued_at: T0,
        expires_at: at(7200),
        revoked_at: None,
    }
}

async fn usage_lists_apps_and_users_with_live_tokens(env: Env) {
    let s = env.store.as_ref();
    let (org, profile, alice) = seed(s, "acme", "alice@acme.example").await;
    let bob = new_user(&profile, "bob@acme.example");
    s.create_user(&bob).await.unwrap();
    deploy(s, &org.id, &alice.id, &["Ci", "Web", "Idle", "Gone"], &[]).await;

    // Alice: two refresh tokens of `Ci`, used at different times.
    let mut r1 = refresh(&org.id, "Ci", &alice.id, "r1");
    r1.issued_at = at(10);
    r1.last_used_at = at(100);
    r1.use_count = 3;
    let mut r2 = refresh(&org.id, "ci", &alice.id, "r2");
    r2.issued_at = at(20);
    r2.last_used_at = at(50);
    r2.use_count = 1;
    // Dead ones count for nothing: revoked, rotated, expired.
    let mut dead = refresh(&org.id, "Ci", &alice.id, "r3");
    dead.revoked_at = Some(at(30));
    let mut rotated = refresh(&org.id, "Ci", &alice.id, "r4");
    rotated.rotated_at = Some(at(30));
    rotated.issued_at = at(1);
    let mut expired = refresh(&org.id, "Ci", &alice.id, "r5");
    expired.expires_at = Some(at(60));
    expired.issued_at = at(2);
    for r in [&r1, &r2, &dead, &rotated, &expired] {
        s.create_refresh_token(r).await.unwrap();
    }
    // An access token issued from a refresh token is counted in its use_count, not again.
    s.create_access_token(&access(&org.id, "Ci", &alice.id, "a0", Some("r1")))
        .await
        .unwrap();
    // Bob: two client-credentials style tokens, and one expired.
    let mut b1 = access(&org.id, "Ci", &bob.id, "b1", None);
    b1.issued_at = at(40);
    let mut b2 = access(&org.id, "Ci", &bob.id, "b2", None);
    b2.issued_at = at(70);
    let mut b3 = access(&org.id, "Ci", &bob.id, "b3", None);
    b3.expires_at = at(65);
    for a in [&b1, &b2, &b3] {
        s.create_access_token(a).await.unwrap();
    }
    // `Web` has only a revoked token; `Gone` is not deployed in this org's other app.
    let mut w = refresh(&org.id, "Web", &alice.id, "w1");
    w.revoked_at = Some(at(5));
    s.create_refresh_token(&w).await.unwrap();

    // `Idle`: a refresh token past its lifetime, and an access token issued from it that is
    // still live. The users listing counts live refresh tokens and the access tokens issued
    // without one, so it has nobody for `Idle`, and the apps listing leaves `Idle` out too.
    let mut spent = refresh(&org.id, "Idle", &alice.id, "i1");
    spent.expires_at = Some(at(60));
    s.create_refresh_token(&spent).await.unwrap();
    s.create_access_token(&access(&org.id, "Idle", &alice.id, "i2", Some("i1")))
        .await
        .unwrap();

    let now = at(80);
    assert_eq!(
        s.apps_with_usage(&org.id, now, PAGE).await.unwrap(),
        vec!["Ci".to_owned()]
    );
    assert!(
        s.app_users(&org.id, "Idle", now, PAGE)
            .await
            .unwrap()
            .is_empty()
    );
    let mut users = s.app_users(&org.id, "CI", now, PAGE).await.unwrap();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(
        users,
        vec![
            AppUserUsage {
                user_id: alice.id.clone(),
                username: alice.username.clone(),
                first_used_at: at(10),
                last_used_at: at(100),
                use_count: 4,
            },
            AppUserUsage {
                user_id: bob.id.clone(),
                username: bob.username.clone(),
                first_used_at: at(40),
                last_used_at: at(70),
                use_count: 2,
            },
        ]
    );
    // Once Bob's tokens expire, only Alice is left.
    let later = at(7300);
    let users = s.app_users(&org.id, "Ci", later, PAGE).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].user_id, alice.id);
    // Another org sees nothing of these.
    let (other, _, _) = seed(s, "other", "o@other.example").await;
    assert!(
        s.apps_with_usage(&other.id, now, PAGE)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.app_users(&other.id, "Ci", now, PAGE)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn usage_pages_and_user_tokens(env: Env) {
    let s = env.store.as_ref();
    let (org, profile, first) = seed(s, "acme", "u0@acme.example").await;
    let mut users = vec![first];
    for i in 1..5 {
        let u = new_user(&profile, &format!("u{i}@acme.example"));
        s.create_user(&u).await.unwrap();
        users.push(u);
    }
    let apps = ["A1", "A2", "A3"];
    deploy(s, &org.id, &users[0].id, &apps, &[]).await;
    for (i, u) in users.iter().enumerate() {
        for app in apps {
            s.create_refresh_token(&refresh(&org.id, app, &u.id, &format!("{app}-{i}")))
                .await
                .unwrap();
        }
    }
    let page = |offset, limit| Page { offset, limit };
    assert_eq!(
        s.apps_with_usage(&org.id, at(1), page(1, 1)).await.unwrap(),
        vec!["A2".to_owned()]
    );
    assert!(
        s.apps_with_usage(&org.id, at(1), page(3, 1))
            .await
            .unwrap()
            .is_empty()
    );
    let mut ids: Vec<_> = users.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    let mut seen = Vec::new();
    for p in 0..3 {
        let got = s
            .app_users(&org.id, "A1", at(1), page(p * 2, 2))
            .await
            .unwrap();
        seen.extend(got.into_iter().map(|u| u.user_id));
    }
    assert_eq!(
        seen, ids,
        "pages follow the user id, without gaps or repeats"
    );

    let tokens = s
        .user_refresh_tokens(&org.id, "a2", &users[3].id, at(1))
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token_hash, "A2-3");
    assert!(s.revoke_refresh_token("A2-3", at(2)).await.unwrap());
    assert!(
        s.user_refresh_tokens(&org.id, "A2", &users[3].id, at(3))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn revoking_a_users_tokens_reaches_only_that_user_and_app(env: Env) {
    let s = env.store.as_ref();
    let (org, profile, alice) = seed(s, "acme", "alice@acme.example").await;
    let bob = new_user(&profile, "bob@acme.example");
    s.create_user(&bob).await.unwrap();
    s.create_refresh_token(&refresh(&org.id, "Ci", &alice.id, "ra"))
        .await
        .unwrap();
    s.create_access_token(&access(&org.id, "Ci", &alice.id, "aa", Some("ra")))
        .await
        .unwrap();
    s.create_access_token(&access(&org.id, "Ci", &alice.id, "ac", None))
        .await
        .unwrap();
    s.create_access_token(&access(&org.id, "Web", &alice.id, "aw", None))
        .await
        .unwrap();
    s.create_refresh_token(&refresh(&org.id, "Ci", &bob.id, "rb"))
        .await
        .unwrap();
    // A rotated refresh token whose access token still lives.
    s.create_refresh_token(&RefreshTokenRecord {
        rotated_at: Some(at(1)),
        ..refresh(&org.id, "Ci", &alice.id, "rr")
    })
    .await
    .unwrap();
    s.create_access_token(&access(&org.id, "Ci", &alice.id, "ar", Some("rr")))
        .await
        .unwrap();

    assert_eq!(
        s.revoke_user_app_tokens(&org.id, "ci", &alice.id, at(5))
            .await
            .unwrap(),
        5
    );
    for hash in ["aa", "ac", "ar"] {
        assert_eq!(
            s.access_token(hash).await.unwrap().unwrap().revoked_at,
            Some(at(5))
        );
    }
    assert_eq!(
        s.refresh_token("ra").await.unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    assert_eq!(
        s.access_token("aw").await.unwrap().unwrap().revoked_at,
        None
    );
    assert_eq!(
        s.refresh_token("rb").await.unwrap().unwrap().revoked_at,
        None
    );
    // Again: nothing left to revoke, and the first time stays.
    assert_eq!(
        s.revoke_user_app_tokens(&org.id, "Ci", &alice.id, at(9))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.refresh_token("ra").await.unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    // Revoking the app reaches Bob's too, counting what was live.
    assert_eq!(s.revoke_app_tokens(&org.id, "CI", at(10)).await.unwrap(), 1);
    assert_eq!(
        s.refresh_token("rb").await.unwrap().unwrap().revoked_at,
        Some(at(10))
    );
}

async fn connect_calls_join_the_audit_trail(env: Env) {
    let s = env.store.as_ref();
    let (org, _, user) = seed(s, "acme", "alice@acme.example").await;
    let entry = |action, name: &str| AuditEntry {
        action,
        type_name: "ConnectApi".to_owned(),
        full_name: name.to_owned(),
        before_xml: None,
        after_xml: Some("revoked 3 tokens".to_owned()),
    };
    let entries = [
        entry(AuditAction::TokensRevoked, "apps/oauth/usage/Ci/tokens"),
        entry(AuditAction::SecretViewed, "apps/oauth/credentials/Ci"),
    ];
    s.record_audit(&org.id, &user.id, at(3), &entries)
        .await
        .unwrap();
    let trail = s.audit_trail(&org.id, 0, 10).await.unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].entry, entries[0]);
    assert_eq!(trail[1].entry, entries[1]);
    assert_eq!(trail[1].user_id, user.id);
    assert_eq!(trail[1].at, at(3));
    // A user of another org cannot be named.
    let (other, _, _) = seed(s, "other", "o@other.example").await;
    assert_missing(
        s.record_audit(&other.id, &user.id, at(4), &entries).await,
        "user in the org",
    );
}

fn staged(c: &OauthConsumer, user: &UserId, key: &str, expires_at: Timestamp) -> StagedCredential {
    StagedCredential {
        id: StagedCredentialId::generate(&SystemRng),
        org_id: c.org_id.clone(),
        consumer_id: c.id.clone(),
        consumer_key: key.to_owned(),
        encrypted_secret: key.as_bytes().to_vec(),
        state: CredentialState::Active,
        created_at: T0,
        created_by: user.clone(),
        expires_at,
    }
}

async fn a_consumer_has_one_staged_credential_at_a_time(env: Env) {
    let s = env.store.as_ref();
    let (org, _, user) = seed(s, "acme", "alice@acme.example").await;
    let c = consumer(&org.id, "Ci", "3MVG9primary");
    deploy(s, &org.id, &user.id, &["Ci"], std::slice::from_ref(&c)).await;

    let first = staged(&c, &user.id, "3MVG9staged1", at(100));
    s.stage_credential(&first, at(0)).await.unwrap();
    assert_eq!(
        s.staged_credential(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.staged_credential_of(&c.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.staged_credential_by_key("3MVG9staged1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(first.state_at(at(99)), CredentialState::Active);
    assert_eq!(first.state_at(at(100)), CredentialState::Expired);

    // A second while the first is live: refused, and the first stays.
    let second = staged(&c, &user.id, "3MVG9staged2", at(200));
    assert_conflict(
        s.stage_credential(&second, at(50)).await,
        "staged credential of consumer",
    );
    assert_eq!(
        s.staged_credential_by_key("3MVG9staged2").await.unwrap(),
        None
    );
    // Once the first has expired it gives way.
    s.stage_credential(&second, at(100)).await.unwrap();
    assert_eq!(s.staged_credential(&first.id).await.unwrap(), None);
    assert_eq!(
        s.staged_credential_of(&c.id).await.unwrap(),
        Some(second.clone())
    );

    // A consumer of no such id is refused.
    let stranger = staged(
        &consumer(&org.id, "Ci", "3MVG9nobody"),
        &user.id,
        "3MVG9x",
        at(100),
    );
    assert_missing(
        s.stage_credential(&stranger, at(0)).await,
        "consumer or user in the org",
    );

    assert!(s.delete_staged_credential(&second).await.unwrap());
    assert!(!s.delete_staged_credential(&second).await.unwrap());
    assert_eq!(s.staged_credential_of(&c.id).await.unwrap(), None);

    // Deleting the consumer (the app's deletion) takes its staged credential with it.
    let third = staged(&c, &user.id, "3MVG9staged3", at(300));
    s.stage_credential(&third, at(0)).await.unwrap();
    s.apply_changes(&ChangeSet {
        org: &org.id,
        user: &user.id,
        at: at(1),
        components: &[],
        consumers: &[ConsumerChange::Delete { id: c.id.clone() }],
        audit: &[],
        finish: None,
        deleted_apps: &[],
    })
    .await
    .unwrap();
    assert_eq!(s.staged_credential(&third.id).await.unwrap(), None);
}

async fn rotation_swaps_the_credentials_all_or_nothing(env: Env) {
    let s = env.store.as_ref();
    let (org, _, user) = seed(s, "acme", "alice@acme.example").await;
    let c = consumer(&org.id, "Ci", "3MVG9primary");
    deploy(s, &org.id, &user.id, &["Ci"], std::slice::from_ref(&c)).await;
    let new = staged(&c, &user.id, "3MVG9staged", at(100));
    s.stage_credential(&new, at(0)).await.unwrap();

    // A stale read of the consumer changes nothing.
    let mut stale = c.clone();
    stale.consumer_key = "3MVG9older".to_owned();
    assert!(
        !s.rotate_credential(&new, &stale, at(10), at(1000))
            .await
            .unwrap()
    );
    assert_eq!(
        s.staged_credential(&new.id).await.unwrap(),
        Some(new.clone())
    );
    // So does a read from before the secret changed (a deploy's shouldRotateConsumerSecret):
    // the rotated slot would bring the discarded secret back.
    let mut old_secret = c.clone();
    old_secret.encrypted_secret = b"an older secret".to_vec();
    assert!(
        !s.rotate_credential(&new, &old_secret, at(10), at(1000))
            .await
            .unwrap()
    );
    assert_eq!(
        s.staged_credential(&new.id).await.unwrap(),
        Some(new.clone())
    );

    assert!(
        s.rotate_credential(&new, &c, at(10), at(1000))
            .await
            .unwrap()
    );
    let consumer = s.consumer(&c.id).await.unwrap().unwrap();
    assert_eq!(consumer.consumer_key, "3MVG9staged");
    assert_eq!(consumer.encrypted_secret, b"3MVG9staged".to_vec());
    assert_eq!(consumer.updated_at, at(10));
    assert_eq!(
        s.consumer_by_key("3MVG9staged")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(c.id.clone())
    );
    let rotated = s.staged_credential(&new.id).await.unwrap().unwrap();
    assert_eq!(rotated.consumer_key, "3MVG9primary");
    assert_eq!(rotated.encrypted_secret, vec![1, 2, 3]);
    assert_eq!(rotated.state, CredentialState::Rotated);
    assert_eq!(rotated.expires_at, at(1000));
    assert_eq!(
        s.staged_credential_by_key("3MVG9primary")
            .await
            .unwrap()
            .map(|r| r.id),
        Some(new.id.clone())
    );
    // A rotated credential cannot be rotated in again.
    assert!(
        !s.rotate_credential(&rotated, &consumer, at(20), at(2000))
            .await
            .unwrap()
    );
    // A deletion that read the staged key before the rotation deletes nothing: the row now
    // holds the former primary.
    assert!(!s.delete_staged_credential(&new).await.unwrap());
    assert_eq!(
        s.staged_credential(&new.id).await.unwrap(),
        Some(rotated.clone())
    );
    assert!(s.delete_staged_credential(&rotated).await.unwrap());
    // Nor can an expired staged one be rotated in.
    let late = staged(&consumer, &user.id, "3MVG9late", at(30));
    s.stage_credential(&late, at(20)).await.unwrap();
    assert!(
        !s.rotate_credential(&late, &consumer, at(30), at(3000))
            .await
            .unwrap()
    );
    assert_eq!(
        s.consumer(&c.id).await.unwrap().unwrap().consumer_key,
        "3MVG9staged"
    );
}
