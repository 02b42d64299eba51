//! The [`AuthorizationCodeStore`] contract: a code is redeemed once, atomically; later
//! presentations are replays that find the tokens it gave; codes name only users of their org.
//! The [`DeviceCodeStore`] contract: a device code is decided once while pending and
//! unexpired, and consumed once after approval.

use std::sync::Arc;

use eca_core::{OrgId, SystemRng, Timestamp, UserId};
use eca_store::{
    AuthorizationCodeRecord, CodeRedemption, ConsumerId, DeviceCodeRecord, DeviceStatus,
};

use crate::{Env, T0, assert_conflict, assert_missing, seed};

on_every_backend!(
    a_code_is_redeemed_once_and_replays_are_seen,
    concurrent_redemptions_let_exactly_one_through,
    another_clients_presentation_leaves_the_code_alone,
    codes_name_only_users_of_their_org,
    expired_codes_are_deleted,
    device_codes_are_decided_once_and_consumed_once,
    concurrent_polls_see_the_earlier_poll_once,
    revocations_void_the_grants_still_under_way,
    revocations_void_exchanges_that_have_not_recorded_their_tokens,
);

fn at(secs: i64) -> Timestamp {
    Timestamp(T0.millis() + secs * 1000)
}

/// The consumer the codes of [`code`] are issued to.
fn consumer() -> ConsumerId {
    ConsumerId::generate(&eca_core::rng::DeterministicRng::new(3))
}

fn code(org: &OrgId, user: &UserId, hash: &str) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        code_hash: hash.to_owned(),
        org_id: org.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: consumer(),
        user_id: user.clone(),
        redirect_uri: "http://localhost:1717/OauthRedirect".to_owned(),
        redirect_uri_given: true,
        scopes: "api openid refresh_token".to_owned(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
        code_challenge_method: Some("S256".to_owned()),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        auth_time: T0,
        issued_at: T0,
        expires_at: at(600),
        consumed_at: None,
        replayed_at: None,
        access_hash: None,
        refresh_family: None,
    }
}

async fn a_code_is_redeemed_once_and_replays_are_seen(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let issued = code(&org.id, &user.id, "c1");
    store.create_authorization_code(&issued).await.unwrap();
    assert_conflict(
        store.create_authorization_code(&issued).await,
        "authorization code",
    );
    assert_eq!(
        store
            .redeem_authorization_code("nope", &org.id, &consumer(), at(1))
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );

    let CodeRedemption::Redeemed(first) = store
        .redeem_authorization_code("c1", &org.id, &consumer(), at(2))
        .await
        .unwrap()
    else {
        panic!("the first presentation redeems");
    };
    assert_eq!(
        first,
        AuthorizationCodeRecord {
            consumed_at: Some(at(2)),
            ..issued.clone()
        }
    );
    assert!(
        store
            .record_code_tokens("c1", "access1", Some("family1"))
            .await
            .unwrap()
    );

    // The second presentation is a replay and sees what the first one issued.
    let CodeRedemption::Replayed(again) = store
        .redeem_authorization_code("c1", &org.id, &consumer(), at(3))
        .await
        .unwrap()
    else {
        panic!("the second presentation is a replay");
    };
    assert_eq!(again.consumed_at, Some(at(2)));
    assert_eq!(again.replayed_at, Some(at(3)));
    assert_eq!(again.access_hash.as_deref(), Some("access1"));
    assert_eq!(again.refresh_family.as_deref(), Some("family1"));
    // The first replay's time stays.
    let CodeRedemption::Replayed(third) = store
        .redeem_authorization_code("c1", &org.id, &consumer(), at(4))
        .await
        .unwrap()
    else {
        panic!("still a replay");
    };
    assert_eq!(third.replayed_at, Some(at(3)));
    // Once replayed, a late recording of tokens is refused, so the caller revokes them.
    assert!(
        !store
            .record_code_tokens("c1", "access2", None)
            .await
            .unwrap()
    );
    if let Some(other) = env.reopen().await {
        assert!(matches!(
            other
                .redeem_authorization_code("c1", &org.id, &consumer(), at(5))
                .await
                .unwrap(),
            CodeRedemption::Replayed(_)
        ));
    }
}

async fn another_clients_presentation_leaves_the_code_alone(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (other_org, _, _) = seed(store, "other", "b@other.example").await;
    store
        .create_authorization_code(&code(&org.id, &user.id, "c1"))
        .await
        .unwrap();
    let stranger = ConsumerId::generate(&SystemRng);
    // Another consumer of the org, or the same consumer id under another org: unknown to them,
    // and neither uses the code up.
    for (org_id, consumer) in [(&org.id, &stranger), (&other_org.id, &consumer())] {
        assert_eq!(
            store
                .redeem_authorization_code("c1", org_id, consumer, at(1))
                .await
                .unwrap(),
            CodeRedemption::Unknown
        );
    }
    assert!(matches!(
        store
            .redeem_authorization_code("c1", &org.id, &consumer(), at(2))
            .await
            .unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    // Nor does a stranger's presentation after that count as a replay (which would revoke the
    // tokens the code gave its client).
    assert_eq!(
        store
            .redeem_authorization_code("c1", &org.id, &stranger, at(3))
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    assert!(
        store
            .record_code_tokens("c1", "access1", None)
            .await
            .unwrap(),
        "not marked replayed"
    );
}

async fn concurrent_redemptions_let_exactly_one_through(env: Env) {
    let store = Arc::clone(&env.store);
    let (org, _, user) = seed(store.as_ref(), "acme", "a@acme.example").await;
    store
        .create_authorization_code(&code(&org.id, &user.id, "race"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, org) = (Arc::clone(&store), org.id.clone());
            tokio::spawn(async move {
                store
                    .redeem_authorization_code("race", &org, &consumer(), at(i))
                    .await
            })
        })
        .collect();
    let mut redeemed = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            CodeRedemption::Redeemed(_) => redeemed += 1,
            CodeRedemption::Replayed(_) => {}
            CodeRedemption::Unknown => panic!("the code exists"),
        }
    }
    assert_eq!(redeemed, 1);
}

async fn codes_name_only_users_of_their_org(env: Env) {
    let store = env.store.as_ref();
    let (acme, _, _) = seed(store, "acme", "a@acme.example").await;
    let (_, _, other) = seed(store, "other", "b@other.example").await;
    assert_missing(
        store
            .create_authorization_code(&code(&acme.id, &other.id, "x"))
            .await,
        "user in the code's org",
    );
    assert_eq!(
        store
            .redeem_authorization_code("x", &acme.id, &consumer(), at(1))
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
}

async fn expired_codes_are_deleted(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    store
        .create_authorization_code(&code(&org.id, &user.id, "old"))
        .await
        .unwrap();
    store
        .create_authorization_code(&AuthorizationCodeRecord {
            expires_at: at(1200),
            ..code(&org.id, &user.id, "new")
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_expired_authorization_codes(at(600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_expired_authorization_codes(at(601))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .redeem_authorization_code("old", &org.id, &consumer(), at(2))
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    assert!(matches!(
        store
            .redeem_authorization_code("new", &org.id, &consumer(), at(2))
            .await
            .unwrap(),
        CodeRedemption::Redeemed(_)
    ));
}

/// Issues the code `hash` to `user` and redeems it at `when`.
async fn redeemed_code(
    store: &dyn eca_store::Store,
    org: &OrgId,
    user: &UserId,
    hash: &str,
    when: Timestamp,
) {
    store
        .create_authorization_code(&code(org, user, hash))
        .await
        .unwrap();
    assert!(matches!(
        store
            .redeem_authorization_code(hash, org, &consumer(), when)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(_)
    ));
}

/// Where the device code of `user_code` stands.
async fn device_status(store: &dyn eca_store::Store, user_code: &str) -> DeviceStatus {
    store
        .device_code_by_user_code(user_code)
        .await
        .unwrap()
        .expect("the device code")
        .status
}

fn device(org: &OrgId, hash: &str, user_code: &str) -> DeviceCodeRecord {
    DeviceCodeRecord {
        device_hash: hash.to_owned(),
        user_code_hash: user_code.to_owned(),
        org_id: org.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: ConsumerId::generate(&SystemRng),
        scopes: "api refresh_token".to_owned(),
        issued_at: T0,
        expires_at: at(600),
        interval_secs: 5,
        last_polled_at: None,
        status: DeviceStatus::Pending,
        user_id: None,
        decided_at: None,
        authenticated_at: None,
    }
}

async fn device_codes_are_decided_once_and_consumed_once(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    let (_, _, stranger) = seed(store, "other", "b@other.example").await;
    let issued = device(&org.id, "d1", "u1");
    store.create_device_code(&issued).await.unwrap();
    assert_conflict(
        store.create_device_code(&device(&org.id, "d2", "u1")).await,
        "device or user code",
    );
    assert_eq!(
        store.device_code_by_user_code("u1").await.unwrap(),
        Some(issued.clone())
    );
    assert_eq!(store.device_code_by_user_code("nope").await.unwrap(), None);

    // Polling returns the state before the poll and records its time.
    assert_eq!(
        store.poll_device_code("d1", at(5)).await.unwrap(),
        Some(issued.clone())
    );
    let polled = store.poll_device_code("d1", at(10)).await.unwrap().unwrap();
    assert_eq!(polled.last_polled_at, Some(at(5)));
    assert_eq!(store.poll_device_code("nope", at(10)).await.unwrap(), None);
    assert!(
        !store.consume_device_code("d1").await.unwrap(),
        "not approved yet"
    );

    // A user of another org cannot decide it.
    assert_missing(
        store
            .decide_device_code("u1", &stranger.id, true, at(20), at(3))
            .await,
        "user in the device code's org",
    );
    assert!(
        store
            .decide_device_code("u1", &user.id, true, at(20), at(3))
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_device_code("u1", &user.id, false, at(21), at(21))
            .await
            .unwrap(),
        "decided once"
    );
    let decided = store.device_code_by_user_code("u1").await.unwrap().unwrap();
    assert_eq!(decided.status, DeviceStatus::Approved);
    assert_eq!(decided.user_id, Some(user.id.clone()));
    assert_eq!(decided.decided_at, Some(at(20)));
    assert_eq!(decided.authenticated_at, Some(at(3)));
    assert!(store.consume_device_code("d1").await.unwrap());
    assert!(
        !store.consume_device_code("d1").await.unwrap(),
        "consumed once"
    );
    let status = || async {
        store
            .device_code_by_user_code("u1")
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status().await, DeviceStatus::Issuing);
    assert!(store.record_device_tokens("d1").await.unwrap());
    assert_eq!(status().await, DeviceStatus::Consumed);
    assert!(
        !store.record_device_tokens("d1").await.unwrap(),
        "recorded once"
    );

    // An expired code cannot be decided; expired codes are deleted.
    store
        .create_device_code(&device(&org.id, "d3", "u3"))
        .await
        .unwrap();
    assert!(
        !store
            .decide_device_code("u3", &user.id, false, at(600), at(3))
            .await
            .unwrap()
    );
    assert_eq!(store.delete_expired_device_codes(at(601)).await.unwrap(), 2);
    assert_eq!(store.device_code_by_user_code("u3").await.unwrap(), None);
}

/// Polls sent at once: only one may see the time of the poll before them (RFC 8628 §3.5
/// `slow_down`); the others see a poll at their own time.
async fn concurrent_polls_see_the_earlier_poll_once(env: Env) {
    let store = Arc::clone(&env.store);
    let (org, _, _) = seed(store.as_ref(), "acme", "a@acme.example").await;
    store
        .create_device_code(&device(&org.id, "d1", "u1"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.poll_device_code("d1", at(10)).await })
        })
        .collect();
    let mut first = 0;
    for task in tasks {
        let seen = task.await.unwrap().unwrap().expect("the code");
        match seen.last_polled_at {
            None => first += 1,
            Some(t) => assert_eq!(t, at(10)),
        }
    }
    assert_eq!(first, 1);
}

/// Revoking a user's tokens of an app, or all of an app's, also voids what would issue new
/// ones afterwards: codes not yet redeemed (gone), and device codes approved but not yet
/// collected (denied). Redeemed codes stay, so a replay still finds what they issued; other
/// users, apps and orgs are untouched.
async fn revocations_void_the_grants_still_under_way(env: Env) {
    let store = env.store.as_ref();
    let (org, profile, user) = seed(store, "acme", "a@acme.example").await;
    let other_user = crate::new_user(&profile, "c@acme.example");
    store.create_user(&other_user).await.unwrap();
    for (hash, who) in [("mine", &user.id), ("theirs", &other_user.id)] {
        store
            .create_authorization_code(&code(&org.id, who, hash))
            .await
            .unwrap();
    }
    redeemed_code(store, &org.id, &user.id, "redeemed", at(1)).await;
    let mut other_app = code(&org.id, &user.id, "other-app");
    other_app.app_name = "Other".to_owned();
    store.create_authorization_code(&other_app).await.unwrap();
    for (hash, user_code, who) in [("dm", "um", &user.id), ("dt", "ut", &other_user.id)] {
        store
            .create_device_code(&device(&org.id, hash, user_code))
            .await
            .unwrap();
        assert!(
            store
                .decide_device_code(user_code, who, true, at(2), at(2))
                .await
                .unwrap()
        );
    }
    store
        .create_device_code(&device(&org.id, "dp", "up"))
        .await
        .unwrap();

    // The app's name in any case.
    store
        .revoke_user_app_tokens(&org.id, "CI", &user.id, at(3))
        .await
        .unwrap();
    let org_id = &org.id;
    let redeem = |hash: &'static str| async move {
        store
            .redeem_authorization_code(hash, org_id, &consumer(), at(4))
            .await
            .unwrap()
    };
    assert_eq!(redeem("mine").await, CodeRedemption::Unknown);
    assert!(matches!(
        redeem("redeemed").await,
        CodeRedemption::Replayed(_)
    ));
    let status = |user_code: &'static str| device_status(store, user_code);
    assert_eq!(status("um").await, DeviceStatus::Denied);
    assert_eq!(status("ut").await, DeviceStatus::Approved);
    assert_eq!(status("up").await, DeviceStatus::Pending);
    assert!(!store.consume_device_code("dm").await.unwrap());

    // The whole app: every user's, but not another app's, and pending device codes stay
    // (approving one later is a new authorization).
    store.revoke_app_tokens(&org.id, "ci", at(5)).await.unwrap();
    assert_eq!(redeem("theirs").await, CodeRedemption::Unknown);
    assert_eq!(status("ut").await, DeviceStatus::Denied);
    assert_eq!(status("up").await, DeviceStatus::Pending);
    let CodeRedemption::Redeemed(kept) = store
        .redeem_authorization_code("other-app", &org.id, &consumer(), at(6))
        .await
        .unwrap()
    else {
        panic!("another app's code is untouched");
    };
    assert_eq!(kept.app_name, "Other");
}

/// An exchange that has taken its code (or device code) but not yet recorded its tokens when a
/// revocation runs cannot record them afterwards, and so takes them back; one that recorded
/// them before is left alone (the revocation reached its tokens).
async fn revocations_void_exchanges_that_have_not_recorded_their_tokens(env: Env) {
    let store = env.store.as_ref();
    let (org, _, user) = seed(store, "acme", "a@acme.example").await;
    for hash in ["issuing", "recorded"] {
        redeemed_code(store, &org.id, &user.id, hash, at(1)).await;
    }
    assert!(
        store
            .record_code_tokens("recorded", "access-1", Some("family-1"))
            .await
            .unwrap()
    );
    for (hash, user_code) in [("d-issuing", "u-issuing"), ("d-recorded", "u-recorded")] {
        store
            .create_device_code(&device(&org.id, hash, user_code))
            .await
            .unwrap();
        assert!(
            store
                .decide_device_code(user_code, &user.id, true, at(2), at(2))
                .await
                .unwrap()
        );
        assert!(store.consume_device_code(hash).await.unwrap());
    }
    assert!(store.record_device_tokens("d-recorded").await.unwrap());

    store
        .revoke_user_app_tokens(&org.id, "Ci", &user.id, at(3))
        .await
        .unwrap();
    assert!(
        !store
            .record_code_tokens("issuing", "access-2", Some("family-2"))
            .await
            .unwrap(),
        "the exchange under way cannot record its tokens"
    );
    assert!(!store.record_device_tokens("d-issuing").await.unwrap());
    let status = |user_code: &'static str| device_status(store, user_code);
    assert_eq!(status("u-issuing").await, DeviceStatus::Denied);
    assert_eq!(status("u-recorded").await, DeviceStatus::Consumed);
    // A replay of the recorded code still finds what it issued.
    let CodeRedemption::Replayed(replayed) = store
        .redeem_authorization_code("recorded", &org.id, &consumer(), at(4))
        .await
        .unwrap()
    else {
        panic!("a replay");
    };
    assert_eq!(replayed.access_hash.as_deref(), Some("access-1"));

    // The same for a revocation of the whole app.
    redeemed_code(store, &org.id, &user.id, "app-wide", at(5)).await;
    store.revoke_app_tokens(&org.id, "ci", at(6)).await.unwrap();
    assert!(
        !store
            .record_code_tokens("app-wide", "access-3", None)
            .await
            .unwrap()
    );
}
