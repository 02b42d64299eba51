//! The [`TokenStore`] contract: tokens are found by hash, revocation is immediate and reaches
//! what a refresh token issued, rotation is single-use, and approvals are per org, app and
//! user.

use eca_core::{OrgId, SystemRng, Timestamp, UserId};
use eca_store::{
    AccessTokenFormat, AccessTokenRecord, ConsumerId, RefreshTokenRecord, RefreshUse,
    SigningKeyRecord, Store,
};

use crate::{Env, T0, assert_conflict, assert_missing, seed};

on_every_backend!(
    a_change_set_deleting_an_app_revokes_and_forgets_it_all_or_nothing,
    access_tokens_round_trip_and_revoke_once,
    tokens_name_only_users_of_their_org,
    refresh_revocation_reaches_its_access_tokens,
    rotation_is_single_use_and_family_revocation_reaches_everything,
    a_family_with_a_revoked_member_is_not_rotated,
    a_new_lifetime_policy_ends_the_apps_live_refresh_tokens,
    revoking_the_current_refresh_token_revokes_its_whole_family,
    approvals_are_per_org_app_and_user,
    signing_keys_are_per_org_and_unique_by_kid,
    revoking_an_apps_tokens_reaches_only_that_app,
    idle_refresh_tokens_without_an_end_are_ended_a_few_at_a_time,
    a_batch_of_access_tokens_is_written_whole_or_not_at_all,
    refresh_uses_are_counted_in_batches_for_live_tokens_only,
    expired_access_tokens_are_deleted_a_few_at_a_time,
    expired_access_tokens_with_any_characters_in_their_keys_are_deleted,
    expired_tokens_keyed_by_their_hash_alone_are_deleted_wherever_they_sort,
    dead_refresh_families_are_deleted_a_few_at_a_time,
);

fn at(secs: i64) -> Timestamp {
    Timestamp(T0.millis() + secs * 1000)
}

fn access(org: &OrgId, user: &UserId, hash: &str, refresh: Option<&str>) -> AccessTokenRecord {
    AccessTokenRecord {
        token_hash: hash.to_owned(),
        org_id: org.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: ConsumerId::generate(&SystemRng),
        user_id: user.clone(),
        scopes: "api refresh_token".to_owned(),
        format: AccessTokenFormat::Opaque,
        refresh_hash: refresh.map(str::to_owned),
        issued_at: T0,
        expires_at: at(7200),
        revoked_at: None,
    }
}

fn refresh(org: &OrgId, user: &UserId, hash: &str, family: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: hash.to_owned(),
        org_id: org.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: ConsumerId::generate(&SystemRng),
        user_id: user.clone(),
        scopes: "api refresh_token".to_owned(),
        family_id: family.to_owned(),
        issued_at: T0,
        expires_at: None,
        last_used_at: T0,
        use_count: 0,
        rotated_at: None,
        revoked_at: None,
    }
}

async fn revoked(store: &dyn Store, hash: &str) -> Option<Timestamp> {
    store.access_token(hash).await.unwrap().unwrap().revoked_at
}

async fn access_tokens_round_trip_and_revoke_once(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let token = access(&org.id, &user.id, "aa11", None);
    store.create_access_token(&token).await.unwrap();
    assert_eq!(
        store.access_token("aa11").await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(store.access_token("bb22").await.unwrap(), None);
    assert_conflict(store.create_access_token(&token).await, "access token");

    assert!(store.revoke_access_token("aa11", at(5)).await.unwrap());
    assert!(!store.revoke_access_token("aa11", at(9)).await.unwrap());
    assert!(!store.revoke_access_token("unknown", at(9)).await.unwrap());
    assert_eq!(revoked(store, "aa11").await, Some(at(5)));

    // Revocation is durable: another connection sees it.
    if let Some(again) = env.reopen().await {
        assert_eq!(revoked(again.as_ref(), "aa11").await, Some(at(5)));
    }
}

async fn a_batch_of_access_tokens_is_written_whole_or_not_at_all(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (_, _, other) = seed(store, "other", "b@other.example").await;
    store.create_access_tokens(&[]).await.unwrap();
    // 245 = 128 + 64 + 32 + 21: each large statement size, then an exact one.
    let batch: Vec<_> = (0..245)
        .map(|i| access(&org.id, &user.id, &format!("b{i:03}"), None))
        .collect();
    store.create_access_tokens(&refs(&batch)).await.unwrap();
    // And a batch of each size that is one statement of exactly its rows.
    let mut sized = Vec::new();
    for size in 1..=32 {
        let tokens: Vec<_> = (0..size)
            .map(|i| access(&org.id, &user.id, &format!("s{size:02}-{i:02}"), None))
            .collect();
        store.create_access_tokens(&refs(&tokens)).await.unwrap();
        sized.extend(tokens);
    }
    for token in batch.iter().chain(&sized) {
        assert_eq!(
            store
                .access_token(&token.token_hash)
                .await
                .unwrap()
                .as_ref(),
            Some(token)
        );
    }

    // A taken hash in the middle undoes the whole batch, and the error names the problem.
    let clash = vec![
        access(&org.id, &user.id, "c1", None),
        access(&org.id, &user.id, "b007", None),
        access(&org.id, &user.id, "c2", None),
    ];
    assert_conflict(
        store.create_access_tokens(&refs(&clash)).await,
        "access token",
    );
    assert_eq!(store.access_token("c1").await.unwrap(), None);
    assert_eq!(store.access_token("c2").await.unwrap(), None);
    // Also when the clash is in a later statement of a large batch.
    let mut large: Vec<_> = (0..140)
        .map(|i| access(&org.id, &user.id, &format!("e{i:02}"), None))
        .collect();
    large[133] = access(&org.id, &user.id, "b080", None);
    assert_conflict(
        store.create_access_tokens(&refs(&large)).await,
        "access token",
    );
    assert_eq!(store.access_token("e00").await.unwrap(), None);
    assert_eq!(store.access_token("e139").await.unwrap(), None);

    // So does a user of another org.
    let foreign = vec![
        access(&org.id, &user.id, "d1", None),
        access(&org.id, &other.id, "d2", None),
    ];
    assert_missing(
        store.create_access_tokens(&refs(&foreign)).await,
        "user in the token's org",
    );
    assert_eq!(store.access_token("d1").await.unwrap(), None);
}

async fn tokens_name_only_users_of_their_org(env: Env) {
    let store = env.store.as_ref();
    let (acme, _, _) = seed(store, "acme", "a@acme.example").await;
    let (_, _, other) = seed(store, "other", "b@other.example").await;
    assert_missing(
        store
            .create_access_token(&access(&acme.id, &other.id, "x1", None))
            .await,
        "user in the token's org",
    );
    assert_missing(
        store
            .create_refresh_token(&refresh(&acme.id, &other.id, "x2", "f"))
            .await,
        "user in the token's org",
    );
    assert_missing(
        store
            .record_approval(&acme.id, "Ci", &other.id, None, T0)
            .await,
        "user in the org",
    );
    assert_eq!(store.access_token("x1").await.unwrap(), None);
}

async fn refresh_revocation_reaches_its_access_tokens(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let rt = refresh(&org.id, &user.id, "r1", "fam1");
    store.create_refresh_token(&rt).await.unwrap();
    assert_eq!(store.refresh_token("r1").await.unwrap(), Some(rt.clone()));
    assert_conflict(store.create_refresh_token(&rt).await, "refresh token");
    store
        .create_access_token(&access(&org.id, &user.id, "a1", Some("r1")))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a2", None))
        .await
        .unwrap();

    assert!(store.use_refresh_token("r1", at(3)).await.unwrap());
    let used = store.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!((used.use_count, used.last_used_at), (1, at(3)));

    assert!(store.revoke_refresh_token("r1", at(4)).await.unwrap());
    assert!(!store.revoke_refresh_token("r1", at(5)).await.unwrap());
    assert!(!store.use_refresh_token("r1", at(6)).await.unwrap());
    assert_eq!(revoked(store, "a1").await, Some(at(4)));
    assert_eq!(revoked(store, "a2").await, None);
}

async fn revoking_the_current_refresh_token_revokes_its_whole_family(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "r1", "fam"))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a1", Some("r1")))
        .await
        .unwrap();
    // A refresh with rotation: r2 replaces r1, and the access token it issues names r1, the
    // token presented.
    let r2 = refresh(&org.id, &user.id, "r2", "fam");
    assert!(store.rotate_refresh_token("r1", &r2, at(10)).await.unwrap());
    store
        .create_access_token(&access(&org.id, &user.id, "a2", Some("r1")))
        .await
        .unwrap();
    // Another grant of the same user and app.
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "s1", "fam2"))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "b1", Some("s1")))
        .await
        .unwrap();

    assert!(store.revoke_refresh_token("r2", at(20)).await.unwrap());
    for hash in ["a1", "a2"] {
        assert_eq!(revoked(store, hash).await, Some(at(20)), "{hash}");
    }
    for hash in ["r1", "r2"] {
        let token = store.refresh_token(hash).await.unwrap().unwrap();
        assert_eq!(token.revoked_at, Some(at(20)), "{hash}");
    }
    assert!(!store.revoke_refresh_token("r2", at(21)).await.unwrap());
    assert_eq!(revoked(store, "b1").await, None, "another grant");
    assert_eq!(
        store.refresh_token("s1").await.unwrap().unwrap().revoked_at,
        None
    );
    assert!(!store.revoke_refresh_token("unknown", at(22)).await.unwrap());
}

async fn rotation_is_single_use_and_family_revocation_reaches_everything(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "r1", "fam"))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a1", Some("r1")))
        .await
        .unwrap();

    let mut r2 = refresh(&org.id, &user.id, "r2", "fam");
    r2.issued_at = at(10);
    assert!(store.rotate_refresh_token("r1", &r2, at(10)).await.unwrap());
    let old = store.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!((old.rotated_at, old.use_count), (Some(at(10)), 1));
    assert_eq!(store.refresh_token("r2").await.unwrap(), Some(r2.clone()));

    // The old token cannot be rotated again, and the failed attempt writes nothing.
    let r3 = refresh(&org.id, &user.id, "r3", "fam");
    assert!(!store.rotate_refresh_token("r1", &r3, at(11)).await.unwrap());
    assert_eq!(store.refresh_token("r3").await.unwrap(), None);
    assert!(!store.use_refresh_token("r1", at(11)).await.unwrap());
    // A taken hash undoes the rotation too.
    assert_conflict(
        store.rotate_refresh_token("r2", &r2, at(12)).await,
        "refresh token",
    );
    assert_eq!(
        store.refresh_token("r2").await.unwrap().unwrap().rotated_at,
        None
    );

    store
        .create_access_token(&access(&org.id, &user.id, "a2", Some("r2")))
        .await
        .unwrap();
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "other", "fam2"))
        .await
        .unwrap();
    assert_eq!(store.revoke_refresh_family("fam", at(20)).await.unwrap(), 2);
    assert_eq!(store.revoke_refresh_family("fam", at(21)).await.unwrap(), 0);
    assert_eq!(revoked(store, "a1").await, Some(at(20)));
    assert_eq!(revoked(store, "a2").await, Some(at(20)));
    assert_eq!(
        store.refresh_token("r2").await.unwrap().unwrap().revoked_at,
        Some(at(20))
    );
    assert_eq!(
        store
            .refresh_token("other")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
}

/// What a revocation racing a rotation leaves on PostgreSQL (READ COMMITTED): the revoking
/// UPDATE waits on the presented token's row, revokes it once the rotation commits, and never
/// sees the replacement the rotation inserted, which stays live. The family is dead all the
/// same: the replacement cannot be rotated (the grant then revokes the family), and every
/// access token of the racing refresh names the revoked token.
async fn a_family_with_a_revoked_member_is_not_rotated(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let mut r1 = refresh(&org.id, &user.id, "r1", "fam");
    r1.rotated_at = Some(at(10));
    r1.revoked_at = Some(at(11));
    store.create_refresh_token(&r1).await.unwrap();
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "r2", "fam"))
        .await
        .unwrap();
    let r3 = refresh(&org.id, &user.id, "r3", "fam");
    assert!(!store.rotate_refresh_token("r2", &r3, at(12)).await.unwrap());
    assert_eq!(store.refresh_token("r3").await.unwrap(), None);
    // The replacement reads as revoked, with its family's revocation time: the grant,
    // introspection and the usage API refuse it, rotation on or off.
    let r2 = store.refresh_token("r2").await.unwrap().unwrap();
    assert_eq!((r2.rotated_at, r2.revoked_at), (None, Some(at(11))));
    // Another family is not affected.
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "s1", "fam2"))
        .await
        .unwrap();
    let s2 = refresh(&org.id, &user.id, "s2", "fam2");
    assert!(store.rotate_refresh_token("s1", &s2, at(12)).await.unwrap());
}

async fn a_new_lifetime_policy_ends_the_apps_live_refresh_tokens(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let hour = 3_600_000;
    let mut endless = refresh(&org.id, &user.id, "endless", "f1");
    endless.issued_at = at(100);
    let mut long = refresh(&org.id, &user.id, "long", "f2");
    long.expires_at = Some(Timestamp(T0.millis() + 365 * 24 * hour));
    let mut short = refresh(&org.id, &user.id, "short", "f3");
    short.expires_at = Some(Timestamp(T0.millis() + 60_000));
    let mut revoked_one = refresh(&org.id, &user.id, "revoked", "f4");
    revoked_one.revoked_at = Some(at(1));
    let mut other_app = refresh(&org.id, &user.id, "other", "f5");
    other_app.app_name = "Web".to_owned();
    for r in [&endless, &long, &short, &revoked_one, &other_app] {
        store.create_refresh_token(r).await.unwrap();
    }
    let end = |hash: &'static str| async move {
        store.refresh_token(hash).await.unwrap().unwrap().expires_at
    };
    // SpecificLifetime of one hour, app name in another case.
    assert_eq!(
        store
            .end_refresh_tokens_by_lifetime(&org.id, "CI", Some(hour), at(200))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        end("endless").await,
        Some(Timestamp(at(100).millis() + hour))
    );
    assert_eq!(end("long").await, Some(Timestamp(T0.millis() + hour)));
    assert_eq!(end("short").await, short.expires_at, "an earlier end stays");
    assert_eq!(end("revoked").await, None);
    assert_eq!(end("other").await, None, "another app's tokens stay");
    // Zero: every live token ends now, unless it ended before.
    assert_eq!(
        store
            .end_refresh_tokens_by_lifetime(&org.id, "Ci", None, at(300))
            .await
            .unwrap(),
        2
    );
    assert_eq!(end("endless").await, Some(at(300)));
    assert_eq!(end("long").await, Some(at(300)));
    assert_eq!(end("short").await, short.expires_at);

    // Housekeeping's pass: only tokens without an end, a few at a time.
    let mut late = refresh(&org.id, &user.id, "late", "f6");
    late.issued_at = at(400);
    let mut later = refresh(&org.id, &user.id, "later", "f7");
    later.issued_at = at(500);
    let mut ended = refresh(&org.id, &user.id, "ended", "f8");
    ended.expires_at = Some(at(9_999));
    for r in [&late, &later, &ended] {
        store.create_refresh_token(r).await.unwrap();
    }
    let org_id = &org.id;
    let step = |limit| async move {
        store
            .end_endless_refresh_tokens(org_id, "ci", Some(hour), at(600), limit)
            .await
            .unwrap()
    };
    assert_eq!(step(1).await, 1);
    assert_eq!(step(5).await, 1);
    assert_eq!(step(5).await, 0);
    assert_eq!(end("late").await, Some(Timestamp(at(400).millis() + hour)));
    assert_eq!(end("later").await, Some(Timestamp(at(500).millis() + hour)));
    assert_eq!(end("ended").await, Some(at(9_999)), "a stored end stays");
    assert_eq!(end("other").await, None, "another app's tokens stay");
}

async fn approvals_are_per_org_app_and_user(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (other_org, _, other_user) = seed(store, "other", "b@other.example").await;
    assert!(!store.has_approved(&org.id, "Ci", &user.id).await.unwrap());
    store
        .record_approval(&org.id, "Ci", &user.id, None, T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .approved_scopes(&org.id, "ci", &user.id)
            .await
            .unwrap(),
        Some(None)
    );
    store
        .record_approval(&org.id, "CI", &user.id, Some("api refresh_token"), at(5))
        .await
        .unwrap();
    assert!(store.has_approved(&org.id, "ci", &user.id).await.unwrap());
    // Approving again replaces the scopes.
    assert_eq!(
        store
            .approved_scopes(&org.id, "Ci", &user.id)
            .await
            .unwrap(),
        Some(Some("api refresh_token".to_owned()))
    );
    assert_eq!(
        store
            .approved_scopes(&org.id, "Other", &user.id)
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .has_approved(&org.id, "Other", &user.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .has_approved(&other_org.id, "Ci", &other_user.id)
            .await
            .unwrap()
    );
    // Deleting the app's approvals (the app was deleted) reaches only that app of that org.
    store
        .record_approval(&org.id, "Other", &user.id, None, T0)
        .await
        .unwrap();
    store
        .record_approval(&other_org.id, "Ci", &other_user.id, None, T0)
        .await
        .unwrap();
    assert_eq!(store.delete_app_approvals(&org.id, "cI").await.unwrap(), 1);
    assert!(!store.has_approved(&org.id, "Ci", &user.id).await.unwrap());
    assert!(
        store
            .has_approved(&org.id, "Other", &user.id)
            .await
            .unwrap()
    );
    assert!(
        store
            .has_approved(&other_org.id, "Ci", &other_user.id)
            .await
            .unwrap()
    );
    assert_eq!(store.delete_app_approvals(&org.id, "Ci").await.unwrap(), 0);
}

async fn signing_keys_are_per_org_and_unique_by_kid(env: Env) {
    let store = env.store.as_ref();
    let (org, _, _) = seed(store, "acme", "a@acme.example").await;
    let (other, _, _) = seed(store, "other", "b@other.example").await;
    assert!(store.signing_keys(&org.id).await.unwrap().is_empty());
    let key = |org: &OrgId, kid: &str, secs: i64| SigningKeyRecord {
        org_id: org.clone(),
        kid: kid.to_owned(),
        encrypted_key: vec![1, 2, 3, 0, 255],
        created_at: at(secs),
    };
    store
        .create_signing_key(&key(&org.id, "2", 5))
        .await
        .unwrap();
    store
        .create_signing_key(&key(&org.id, "1", 1))
        .await
        .unwrap();
    store
        .create_signing_key(&key(&other.id, "1", 1))
        .await
        .unwrap();
    assert_conflict(
        store.create_signing_key(&key(&org.id, "1", 9)).await,
        "signing key",
    );
    let keys = store.signing_keys(&org.id).await.unwrap();
    assert_eq!(keys, vec![key(&org.id, "1", 1), key(&org.id, "2", 5)]);
    // Keys come in the order they were made, by number: a node whose clock runs behind may
    // store the newer key with the earlier time, and "10" follows "9".
    for (kid, secs) in [("3", 4), ("9", 6), ("10", 6)] {
        store
            .create_signing_key(&key(&org.id, kid, secs))
            .await
            .unwrap();
    }
    let kids: Vec<String> = store
        .signing_keys(&org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["1", "2", "3", "9", "10"]);
}

async fn revoking_an_apps_tokens_reaches_only_that_app(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (other_org, _, other_user) = seed(store, "other", "b@other.example").await;
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "r1", "f1"))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a1", Some("r1")))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a2", None))
        .await
        .unwrap();
    let mut elsewhere = access(&org.id, &user.id, "a3", None);
    elsewhere.app_name = "Other_App".to_owned();
    store.create_access_token(&elsewhere).await.unwrap();
    store
        .create_access_token(&access(&other_org.id, &other_user.id, "a4", None))
        .await
        .unwrap();

    // App names match case-insensitively; one refresh and two access tokens were live.
    assert_eq!(
        store.revoke_app_tokens(&org.id, "CI", at(9)).await.unwrap(),
        3
    );
    assert_eq!(revoked(store, "a1").await, Some(at(9)));
    assert_eq!(revoked(store, "a2").await, Some(at(9)));
    let rt = store.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!(rt.revoked_at, Some(at(9)));
    // Another app of the org, and the same app name in another org, are untouched.
    assert_eq!(revoked(store, "a3").await, None);
    assert_eq!(revoked(store, "a4").await, None);
    // Nothing live is left to revoke.
    assert_eq!(
        store
            .revoke_app_tokens(&org.id, "Ci", at(10))
            .await
            .unwrap(),
        0
    );
}

async fn idle_refresh_tokens_without_an_end_are_ended_a_few_at_a_time(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (other_org, _, other_user) = seed(store, "other", "b@other.example").await;
    let make = |hash: &str, last_used: i64| RefreshTokenRecord {
        last_used_at: at(last_used),
        ..refresh(&org.id, &user.id, hash, &format!("f-{hash}"))
    };
    // Five idle tokens (last used at 10-14 s), one used at 100 s.
    for i in 0..5 {
        store
            .create_refresh_token(&make(&format!("idle{i}"), 10 + i))
            .await
            .unwrap();
    }
    store
        .create_refresh_token(&make("recent", 100))
        .await
        .unwrap();
    // Idle too, but not candidates: a stored end (a lifetime policy), already revoked,
    // rotated, another app of the org, the same app in another org.
    let mut ended = make("ended", 10);
    ended.expires_at = Some(at(100_000));
    store.create_refresh_token(&ended).await.unwrap();
    store.create_refresh_token(&make("gone", 10)).await.unwrap();
    assert!(store.revoke_refresh_token("gone", at(20)).await.unwrap());
    store.create_refresh_token(&make("old", 10)).await.unwrap();
    assert!(
        store
            .rotate_refresh_token("old", &make("new", 150), at(150))
            .await
            .unwrap()
    );
    let mut elsewhere = make("elsewhere", 10);
    elsewhere.app_name = "Other_App".to_owned();
    store.create_refresh_token(&elsewhere).await.unwrap();
    store
        .create_refresh_token(&RefreshTokenRecord {
            last_used_at: at(10),
            ..refresh(&other_org.id, &other_user.id, "foreign", "f-foreign")
        })
        .await
        .unwrap();

    // Used before 50 s: two at a time (app names match case-insensitively), then the rest.
    let mut rounds = Vec::new();
    loop {
        let n = store
            .expire_idle_refresh_tokens(&org.id, "CI", at(50), at(200), 2)
            .await
            .unwrap();
        rounds.push(n);
        if n < 2 {
            break;
        }
    }
    assert_eq!(rounds, [2, 2, 1]);
    // (revoked_at, expires_at): ended idle tokens get an end, not a revocation, so the access
    // tokens they issued are left to expire.
    let state = |hash: &'static str| async move {
        let token = store.refresh_token(hash).await.unwrap().unwrap();
        (token.revoked_at, token.expires_at)
    };
    for i in 0..5 {
        let hash: &'static str = ["idle0", "idle1", "idle2", "idle3", "idle4"][i];
        assert_eq!(state(hash).await, (None, Some(at(200))), "{hash}");
    }
    for hash in ["recent", "elsewhere", "foreign", "new", "old"] {
        assert_eq!(state(hash).await, (None, None), "{hash}");
    }
    assert_eq!(state("ended").await, (None, Some(at(100_000))));
    assert_eq!(state("gone").await, (Some(at(20)), None));
    // A later bound reaches the recently used one; a limit below one still revokes one.
    assert_eq!(
        store
            .expire_idle_refresh_tokens(&org.id, "Ci", at(101), at(300), 0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(state("recent").await, (None, Some(at(300))));
}

async fn refresh_uses_are_counted_in_batches_for_live_tokens_only(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    for hash in ["u1", "u2", "u3"] {
        store
            .create_refresh_token(&refresh(&org.id, &user.id, hash, hash))
            .await
            .unwrap();
    }
    assert!(store.revoke_refresh_token("u3", at(1)).await.unwrap());
    store.record_refresh_uses(&[]).await.unwrap();
    let uses = |hash: &str, count, secs| RefreshUse {
        token_hash: hash.to_owned(),
        count,
        last_used_at: at(secs),
    };
    store
        .record_refresh_uses(&[
            uses("u1", 5, 10),
            uses("u2", 1, 4),
            uses("u3", 2, 9),
            uses("nope", 1, 9),
        ])
        .await
        .unwrap();
    // A later batch whose uses are older does not move last_used_at back.
    store
        .record_refresh_uses(&[uses("u1", 2, 7)])
        .await
        .unwrap();
    let read = |hash: &'static str| async move {
        let t = store.refresh_token(hash).await.unwrap().unwrap();
        (t.use_count, t.last_used_at)
    };
    assert_eq!(read("u1").await, (7, at(10)));
    assert_eq!(read("u2").await, (1, at(4)));
    assert_eq!(read("u3").await, (0, T0), "a revoked token is not counted");
}

async fn expired_access_tokens_are_deleted_a_few_at_a_time(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    // Keys in issue order, as the server makes them; (key, expiry, revoked).
    let tokens = [
        ("001a", at(10), false),
        ("001b", at(500), false),
        ("002a", at(20), true),
        ("002b", at(30), false),
        ("003a", at(40), false),
        ("003b", at(1000), true),
        ("004a", at(50), false),
        // Expired, but at or above the bound: not looked at.
        ("009a", at(60), false),
        ("009b", at(70), false),
    ];
    let keyed = tokens.map(|(key, expires_at, revoked)| (key.to_owned(), expires_at, revoked));
    write_expiring(store, &org.id, &user.id, &keyed).await;

    let before = at(100);
    let rounds = rounds_of(|after| async move {
        store
            .delete_expired_access_tokens(before, &after, "009a", 2)
            .await
    })
    .await;
    // Five expired tokens below the bound, two at a time; the last round finds none left.
    assert_eq!(rounds, [2, 2, 1]);
    for (key, _, _) in tokens {
        let kept = store.access_token(key).await.unwrap().is_some();
        let should_keep = matches!(key, "001b" | "003b" | "009a" | "009b");
        assert_eq!(kept, should_keep, "{key}");
    }

    // Nothing left to do: one round, nothing deleted.
    assert_eq!(
        store
            .delete_expired_access_tokens(before, "", "009a", 2)
            .await
            .unwrap(),
        (0, None)
    );
}

/// The keys to delete travel to the database as a JSON array: quotes, backslashes and
/// control characters in a key survive the trip (keys the server makes are hex).
async fn expired_tokens_keyed_by_their_hash_alone_are_deleted_wherever_they_sort(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let hash = |first: char| format!("{first}{}", "0".repeat(63));
    // (key, expiry): hash-only keys (64 characters) above and below a time bound, and
    // time-keyed ones (75 characters), which this pass leaves to the bounded one.
    let tokens = [
        (hash('0'), at(10)),
        (hash('a'), at(10)),
        (hash('b'), at(20)),
        (hash('c'), at(500)),
        (hash('f'), at(30)),
        (format!("00000000001{}", hash('d')), at(10)),
        (format!("fffffffffff{}", hash('e')), at(10)),
    ];
    let keyed = tokens
        .clone()
        .map(|(key, expires_at)| (key, expires_at, false));
    write_expiring(store, &org.id, &user.id, &keyed).await;

    let before = at(100);
    let rounds = rounds_of(|after| async move {
        store
            .delete_expired_hash_keyed_access_tokens(before, &after, 2)
            .await
    })
    .await;
    // Four expired hash-only keys, two at a time.
    assert_eq!(rounds, [2, 2, 0]);
    for (i, (key, _)) in tokens.iter().enumerate() {
        let kept = store.access_token(key).await.unwrap().is_some();
        // Live (`c`), or keyed by time.
        assert_eq!(kept, matches!(i, 3 | 5 | 6), "{key}");
    }
}

async fn expired_access_tokens_with_any_characters_in_their_keys_are_deleted(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let keys = ["001\"q", "002\\b", "003\nn", "004\u{e9}"];
    let records: Vec<_> = keys
        .iter()
        .map(|key| AccessTokenRecord {
            expires_at: at(10),
            ..access(&org.id, &user.id, key, None)
        })
        .collect();
    store.create_access_tokens(&refs(&records)).await.unwrap();
    assert_eq!(
        store
            .delete_expired_access_tokens(at(100), "", "009", 10)
            .await
            .unwrap(),
        (4, None)
    );
    for key in keys {
        assert_eq!(store.access_token(key).await.unwrap(), None, "{key:?}");
    }
}

/// A family goes once none of its tokens can be used again; until then its rotated tokens
/// stay (reuse detection), and a token an access token still names stays until that access
/// token is gone.
async fn dead_refresh_families_are_deleted_a_few_at_a_time(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let token = |hash: &str, family: &str| refresh(&org.id, &user.id, hash, family);
    let rotated = |hash: &str, family: &str| RefreshTokenRecord {
        rotated_at: Some(at(10)),
        ..token(hash, family)
    };
    let revoked = |hash: &str, family: &str, when: i64| RefreshTokenRecord {
        revoked_at: Some(at(when)),
        ..token(hash, family)
    };
    let expiring = |hash: &str, family: &str, when: i64| RefreshTokenRecord {
        expires_at: Some(at(when)),
        ..token(hash, family)
    };
    let records = [
        // Live, with no end.
        token("ra1", "fa"),
        // Live, with two rotated ancestors.
        rotated("rb1", "fb"),
        rotated("rb2", "fb"),
        token("rb3", "fb"),
        // Its last token revoked long ago: dead.
        rotated("rc1", "fc"),
        revoked("rc2", "fc", 50),
        // Revoked lately: kept for now.
        revoked("rd1", "fd", 150),
        // Expired long ago: dead.
        expiring("re1", "fe", 60),
        // Expires later.
        expiring("rf1", "ff", 500),
        // Dead, but an access token still names its rotated token.
        rotated("rg1", "fg"),
        revoked("rg2", "fg", 30),
        // The whole family revoked (reuse of a rotated token).
        RefreshTokenRecord {
            revoked_at: Some(at(40)),
            ..rotated("rh1", "fh")
        },
        revoked("rh2", "fh", 40),
    ];
    for record in &records {
        store.create_refresh_token(record).await.unwrap();
    }
    let named = AccessTokenRecord {
        expires_at: at(20),
        ..access(&org.id, &user.id, "ag", Some("rg1"))
    };
    store.create_access_token(&named).await.unwrap();

    let before = at(100);
    let sweep = || {
        rounds_of(|after| async move { store.delete_dead_refresh_tokens(before, &after, 3).await })
    };
    // Families in threes: (fa fb fc) (fd fe ff) (fg fh).
    assert_eq!(sweep().await, [2, 1, 3]);
    for record in &records {
        let kept = store
            .refresh_token(&record.token_hash)
            .await
            .unwrap()
            .is_some();
        let should_keep = matches!(
            record.token_hash.as_str(),
            "ra1" | "rb1" | "rb2" | "rb3" | "rd1" | "rf1" | "rg1"
        );
        assert_eq!(kept, should_keep, "{}", record.token_hash);
    }

    // Once the access token is deleted, its refresh token goes too.
    assert_eq!(
        store
            .delete_expired_access_tokens(before, "", "zz", 10)
            .await
            .unwrap(),
        (1, None)
    );
    // Families left: (fa fb fd) (ff fg).
    assert_eq!(sweep().await, [0, 1]);
    assert_eq!(store.refresh_token("rg1").await.unwrap(), None);
    assert!(store.refresh_token("rb1").await.unwrap().is_some());
    // Nothing left to do: (fa fb fd) (ff).
    assert_eq!(sweep().await, [0, 0]);
}

/// A batch as [`TokenStore::create_access_tokens`] takes it.
/// Writes access tokens of `user` with these keys and expiry times, revoked (at 5 s) or not.
async fn write_expiring(
    store: &dyn Store,
    org: &OrgId,
    user: &UserId,
    tokens: &[(String, Timestamp, bool)],
) {
    let records: Vec<_> = tokens
        .iter()
        .map(|(key, expires_at, revoked)| AccessTokenRecord {
            expires_at: *expires_at,
            revoked_at: revoked.then_some(at(5)),
            ..access(org, user, key, None)
        })
        .collect();
    store.create_access_tokens(&refs(&records)).await.unwrap();
}

fn refs(records: &[AccessTokenRecord]) -> Vec<&AccessTokenRecord> {
    records.iter().collect()
}

/// Runs a paged delete from the start to its end: `step(after)` deletes some rows and says
/// where to go on (`None` at the end). The rows each round deleted.
async fn rounds_of<F, Fut>(mut step: F) -> Vec<u64>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = eca_store::StoreResult<(u64, Option<String>)>>,
{
    let mut after = String::new();
    let mut rounds = Vec::new();
    loop {
        let (deleted, next) = step(after).await.unwrap();
        rounds.push(deleted);
        match next {
            Some(key) => after = key,
            None => return rounds,
        }
    }
}

/// A change set that deletes an app revokes its tokens and deletes its users' approvals in
/// the same transaction: when the change set is undone, so are they. Found by review: they were
/// written after the deletion had committed, and a failure in between left the approvals for
/// a later app of the same name.
async fn a_change_set_deleting_an_app_revokes_and_forgets_it_all_or_nothing(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    store
        .create_refresh_token(&refresh(&org.id, &user.id, "r1", "f1"))
        .await
        .unwrap();
    store
        .create_access_token(&access(&org.id, &user.id, "a1", None))
        .await
        .unwrap();
    store
        .record_approval(&org.id, "Ci", &user.id, Some("*"), T0)
        .await
        .unwrap();
    let deleted = ["Ci".to_owned()];
    // A change that cannot apply (no such component): nothing happens.
    let missing = [eca_store::ComponentChange::Delete {
        type_name: "ExternalClientApplication".to_owned(),
        full_name: "Ci".to_owned(),
        revision: 1,
    }];
    let set = |components| eca_store::ChangeSet {
        org: &org.id,
        user: &user.id,
        at: at(5),
        components,
        consumers: &[],
        audit: &[],
        finish: None,
        deleted_apps: &deleted,
    };
    assert!(store.apply_changes(&set(&missing)).await.is_err());
    assert_eq!(revoked(store, "a1").await, None);
    assert!(store.has_approved(&org.id, "Ci", &user.id).await.unwrap());
    // Applied: every token revoked and the approval gone, at once.
    store.apply_changes(&set(&[])).await.unwrap();
    assert_eq!(revoked(store, "a1").await, Some(at(5)));
    let rt = store.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!(rt.revoked_at, Some(at(5)));
    assert!(!store.has_approved(&org.id, "Ci", &user.id).await.unwrap());
}
