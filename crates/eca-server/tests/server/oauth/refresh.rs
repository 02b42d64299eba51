//! Refresh tokens (issued here through the store, so each test starts from a known token):
//! use counting without rotation, single use with rotation and family revocation on reuse,
//! the policy's lifetime, and housekeeping's revocation of idle tokens.

use super::*;

/// `Ci` with a refresh token policy of `kind` (`SpecificLifetime` or `SpecificInactivity`)
/// and a period of one hour.
fn ci_with_one_hour(w: &World, kind: &str) -> AppSpec<'static> {
    let mut spec = w.ci();
    spec.policies.push_str(&format!(
        "<refreshTokenPolicyType>{kind}</refreshTokenPolicyType>\
         <refreshTokenValidityPeriod>1</refreshTokenValidityPeriod>\
         <refreshTokenValidityUnit>Hours</refreshTokenValidityUnit>"
    ));
    spec
}

/// Asserts that the refresh grant refuses `token` as Salesforce refuses a revoked, expired or
/// unknown one.
async fn refresh_refused(w: &World, token: &str, secret: Option<&str>) {
    oauth_error(
        &w.token(&refresh_body(token, secret)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "expired access/refresh token",
    );
}

/// Stores a refresh token for the run-as user through `Ci` and returns its value.
pub(crate) async fn stored_refresh(w: &World, value: &str, family: &str) -> String {
    let consumer = w.ci_consumer().await;
    let record = RefreshTokenRecord {
        token_hash: eca_oauth::TokenHash::of(value).as_str().to_owned(),
        org_id: w.org.id.clone(),
        app_name: "Ci".to_owned(),
        consumer_id: consumer.id,
        user_id: w.run_as.id.clone(),
        scopes: "api refresh_token".to_owned(),
        family_id: family.to_owned(),
        issued_at: w.h.clock.now(),
        expires_at: None,
        last_used_at: w.h.clock.now(),
        use_count: 0,
        rotated_at: None,
        revoked_at: None,
    };
    w.h.store
        .create_refresh_token(&record)
        .await
        .expect("store");
    value.to_owned()
}

pub(crate) fn refresh_body(token: &str, secret: Option<&str>) -> String {
    let mut body = format!("grant_type=refresh_token&client_id={KEY}&refresh_token={token}");
    if let Some(secret) = secret {
        body.push_str(&format!("&client_secret={secret}"));
    }
    body
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_token_and_counts_uses() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let rt = stored_refresh(&w, "5Aep861plainRefreshToken", "fam").await;
    let reply = w.token(&refresh_body(&rt, Some(SECRET))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["scope"], "api refresh_token");
    assert!(json.get("refresh_token").is_none() && json["signature"].is_string());
    let access = json["access_token"].as_str().expect("a token").to_owned();
    // Uses are counted with the token writer's next batch: once it has run, the count is there.
    w.h.state.token_writer().sync().await;
    let record =
        w.h.store
            .refresh_token(eca_oauth::TokenHash::of(&rt).as_str())
            .await
            .expect("store")
            .expect("the row");
    assert_eq!(record.use_count, 1);
    assert_eq!(record.last_used_at, w.h.clock.now());
    // A narrower scope is fine, a wider one is not.
    let reply = w
        .token(&format!("{}&scope=api", refresh_body(&rt, Some(SECRET))))
        .await;
    assert_eq!(reply.json()["scope"], "api", "{}", reply.body);
    oauth_error(
        &w.token(&format!("{}&scope=web", refresh_body(&rt, Some(SECRET))))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "the requested scope is not allowed",
    );
    // The secret is required by default.
    oauth_error(
        &w.token(&refresh_body(&rt, None)).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    refresh_refused(&w, "5Aep861unknown", Some(SECRET)).await;
    // Revoking the refresh token revokes what it issued.
    let reply = post("/services/oauth2/revoke", FORM, format!("token={rt}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    get_bearer(&w, "/services/data/v66.0", &access)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    refresh_refused(&w, &rt, Some(SECRET)).await;
}

#[tokio::test]
async fn rotation_makes_refresh_tokens_single_use_and_reuse_revokes_the_family() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global = "<isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>\
                   <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>"
        .to_owned();
    w.deploy(&spec).await;
    let first = stored_refresh(&w, "5Aep861rotatingRefreshToken", "fam").await;
    let reply = w.token(&refresh_body(&first, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = reply.json()["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert!(second.starts_with("5Aep861") && second != first);
    let reply = w.token(&refresh_body(&second, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let third = reply.json()["refresh_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let access = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    // A sent secret is still checked.
    oauth_error(
        &w.token(&refresh_body(&third, Some("wrong"))).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );

    // The first token again: reuse. Everything of the family dies.
    refresh_refused(&w, &first, None).await;
    refresh_refused(&w, &third, None).await;
    get_bearer(&w, "/services/data/v66.0", &access)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn revoking_the_current_refresh_token_of_a_rotating_grant_revokes_the_whole_grant() {
    // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the same
    // grant. With rotation, the access token of each refresh comes from the token presented,
    // not from the new one the client now holds; jsforce's `logout(true)` revokes the latter.
    let w = world().await;
    let mut spec = w.ci();
    spec.global = "<isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>\
                   <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>"
        .to_owned();
    w.deploy(&spec).await;
    let first = stored_refresh(&w, "5Aep861rotatingLogoutRefreshToken", "fam-logout").await;
    let mut access = Vec::new();
    let mut current = first.clone();
    for _ in 0..2 {
        let reply = w.token(&refresh_body(&current, None)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        current = reply.json()["refresh_token"]
            .as_str()
            .expect("a token")
            .to_owned();
        access.push(
            reply.json()["access_token"]
                .as_str()
                .expect("a token")
                .to_owned(),
        );
    }
    for token in &access {
        let reply = get_bearer(&w, "/services/data/v66.0", token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let reply = post("/services/oauth2/revoke", FORM, format!("token={current}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    for token in &access {
        get_bearer(&w, "/services/data/v66.0", token)
            .await
            .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    }
    refresh_refused(&w, &current, None).await;
}

#[tokio::test]
async fn an_access_token_written_after_its_grant_was_revoked_does_not_work() {
    // A refresh grant reads its refresh token as live, then writes the access token a moment
    // later; a revocation committed in between marks no access token, since there is none
    // yet. The access token must still die with its grant.
    let w = world().await;
    w.deploy(&w.ci()).await;
    let rt = stored_refresh(&w, "5Aep861revokedMeanwhile", "fam-race").await;
    let rt_hash = eca_oauth::TokenHash::of(&rt).as_str().to_owned();
    // The access token the grant issued, as it was read (live) and then written.
    let reply = w.token(&refresh_body(&rt, Some(SECRET))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let access = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    w.h.state.token_writer().sync().await;
    let key = eca_oauth::tokens::access_token_key(&access);
    let record =
        w.h.store
            .access_token(key.as_str())
            .await
            .unwrap()
            .expect("written");
    assert_eq!(record.refresh_hash.as_deref(), Some(rt_hash.as_str()));
    // The revocation, then the same access token written again as if it came after it: a
    // fresh row under another key, live, naming the revoked refresh token.
    assert!(
        w.h.store
            .revoke_refresh_token(&rt_hash, w.h.clock.now())
            .await
            .unwrap()
    );
    let late = eca_oauth::tokens::access_token(&w.org.id, w.h.clock.now(), w.h.rng.as_ref());
    w.h.store
        .create_access_token(&eca_store::AccessTokenRecord {
            token_hash: late.hash.as_str().to_owned(),
            ..record
        })
        .await
        .unwrap();
    get_bearer(&w, "/services/data/v66.0", late.value.expose())
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    get_bearer(&w, "/services/oauth2/userinfo", late.value.expose())
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn an_idle_refresh_token_ends_but_its_access_tokens_live_on() {
    // docs/oauth.md: under `SpecificInactivity` housekeeping ends idle refresh tokens; the
    // access tokens they issued are left to expire, by the session timeout.
    let w = world().await;
    let mut spec = ci_with_one_hour(&w, "SpecificInactivity");
    spec.policies
        .push_str("<sessionTimeoutInMinutes>480</sessionTimeoutInMinutes>");
    w.deploy(&spec).await;
    let rt = stored_refresh(&w, "5Aep861idleButItsAccessTokenLives", "f-lives").await;
    let reply = w.token(&refresh_body(&rt, Some(SECRET))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let access = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    w.h.state.token_writer().sync().await;
    // Past the period and housekeeping's grace hour.
    w.h.clock.advance_secs(2 * 3600 + 5 * 60);
    let now = w.h.clock.now();
    assert_eq!(
        eca_server::housekeeping::expire_idle_refresh_tokens(&w.h.state, now)
            .await
            .unwrap(),
        1
    );
    refresh_refused(&w, &rt, Some(SECRET)).await;
    let reply = get_bearer(&w, "/services/data/v66.0", &access).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn the_refresh_token_policy_limits_the_lifetime() {
    let w = world().await;
    w.deploy(&ci_with_one_hour(&w, "SpecificLifetime")).await;
    let rt = stored_refresh(&w, "5Aep861shortLivedRefreshToken", "fam").await;
    w.h.clock.advance_secs(59 * 60);
    assert_eq!(
        w.token(&refresh_body(&rt, Some(SECRET))).await.status,
        StatusCode::OK
    );
    w.h.clock.advance_secs(60);
    refresh_refused(&w, &rt, Some(SECRET)).await;
}

#[tokio::test]
async fn housekeeping_ends_refresh_tokens_idle_past_the_apps_inactivity_period() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let idle = stored_refresh(&w, "5Aep861idleRefreshTokenOfTheInactivityTest", "f-idle").await;
    let ended_at = |value: &'static str| {
        let store = std::sync::Arc::clone(&w.h.store);
        async move {
            store
                .refresh_token(eca_oauth::TokenHash::of(value).as_str())
                .await
                .unwrap()
                .unwrap()
                .expires_at
        }
    };
    // Under the default policy (Infinite) an unused token lives on.
    w.h.clock.advance_secs(30 * 24 * 3600);
    let now = w.h.clock.now();
    assert_eq!(
        eca_server::housekeeping::expire_idle_refresh_tokens(&w.h.state, now)
            .await
            .unwrap(),
        0
    );

    // Now one hour of inactivity: the app's current policy is what counts.
    w.deploy(&ci_with_one_hour(&w, "SpecificInactivity")).await;
    let busy = stored_refresh(&w, "5Aep861busyRefreshTokenOfTheInactivityTest", "f-busy").await;
    w.h.clock.advance_secs(50 * 60);
    assert_eq!(
        w.token(&refresh_body(&busy, Some(SECRET))).await.status,
        StatusCode::OK
    );
    // The use is counted by the token writer; this test's clock jumps ahead before it would
    // have written it.
    w.h.state.token_writer().sync().await;
    let used = w.h.clock.now();
    let stored =
        w.h.store
            .refresh_token(eca_oauth::TokenHash::of(&busy).as_str())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.last_used_at, used);
    // The grant refuses the idle token already; housekeeping leaves it one grace hour more.
    refresh_refused(&w, &idle, Some(SECRET)).await;
    w.h.clock.advance_secs(70 * 60);
    let now = w.h.clock.now();
    assert_eq!(
        eca_server::housekeeping::expire_idle_refresh_tokens(&w.h.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        ended_at("5Aep861idleRefreshTokenOfTheInactivityTest").await,
        Some(now)
    );
    // Used 70 minutes ago: past the period (the grant refuses it), within the grace.
    assert_eq!(
        ended_at("5Aep861busyRefreshTokenOfTheInactivityTest").await,
        None
    );
    w.h.clock.advance_secs(60 * 60 + 1);
    let later = w.h.clock.now();
    assert_eq!(
        eca_server::housekeeping::expire_idle_refresh_tokens(&w.h.state, later)
            .await
            .unwrap(),
        1
    );
    // The idle token's family is dead once its end is older than the grace.
    let swept = eca_server::housekeeping::sweep(w.h.store.as_ref(), later)
        .await
        .unwrap();
    assert_eq!(swept.refresh_tokens, 1);
    assert!(
        w.h.store
            .refresh_token(eca_oauth::TokenHash::of(&idle).as_str())
            .await
            .unwrap()
            .is_none()
    );
}

/// A refresh that fails on the server's side after its checks (here the ID token: the org's
/// newest signing key does not decrypt) leaves the client's refresh token as it was, so the
/// retry works once the fault is mended. Rotating before issuing made the retry look like a
/// reuse, and revoked the whole grant.
#[tokio::test]
async fn a_refresh_that_fails_on_the_server_can_be_retried_with_the_same_token() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global = "<isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>\
                   <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>"
        .to_owned();
    w.deploy(&spec).await;
    // A grant with `openid`: the stored token of `stored_refresh`, with that scope added.
    let template = stored_refresh(&w, "5Aep861retryTemplate", "fam-template").await;
    let mut record =
        w.h.store
            .refresh_token(eca_oauth::TokenHash::of(&template).as_str())
            .await
            .expect("store")
            .expect("the token");
    let token = "5Aep861retriedRefreshToken";
    record.token_hash = eca_oauth::TokenHash::of(token).as_str().to_owned();
    record.family_id = "fam-retry".to_owned();
    record.scopes = "api refresh_token openid".to_owned();
    w.h.store
        .create_refresh_token(&record)
        .await
        .expect("store");
    w.h.store
        .create_signing_key(&eca_store::SigningKeyRecord {
            org_id: w.org.id.clone(),
            kid: "9".to_owned(),
            encrypted_key: vec![0; 64],
            created_at: w.h.clock.now(),
        })
        .await
        .expect("store");

    let reply = w.token(&refresh_body(token, None)).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
    // Mended: a new key (kid 10) signs from now on, and once the overlap is over the broken
    // one is no longer published (nor read).
    w.h.clock.advance_secs(60);
    let admin = admin_session(&w.h).await;
    let rotated = request("POST", "/services/data/v66.0/eca/oauth/keys/rotate", None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    w.h.clock.advance_secs(48 * 3_600 + 60);
    let reply = w.token(&refresh_body(token, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert!(json["id_token"].is_string(), "{json}");
    let next = json["refresh_token"].as_str().expect("a new refresh token");
    let reply = w.token(&refresh_body(next, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// A token written without an end under a lifetime policy (a refresh or code exchange that
/// read the app's earlier, endless policy just before a deploy changed it) gets its end from
/// housekeeping, so the usage API and the sweep agree with the grant.
#[tokio::test]
async fn housekeeping_gives_endless_tokens_of_a_lifetime_app_their_end() {
    let w = world().await;
    w.deploy(&ci_with_one_hour(&w, "SpecificLifetime")).await;
    let value = stored_refresh(&w, "5Aep861endlessUnderLifetime", "fam-endless").await;
    let hash = eca_oauth::TokenHash::of(&value);
    let issued = w.h.clock.now();
    let ended = eca_server::housekeeping::expire_idle_refresh_tokens(&w.h.state, issued)
        .await
        .expect("housekeeping");
    assert_eq!(ended, 1);
    let stored =
        w.h.store
            .refresh_token(hash.as_str())
            .await
            .expect("store")
            .expect("the token");
    assert_eq!(
        stored.expires_at,
        Some(eca_core::Timestamp::from_millis(
            issued.millis() + 3_600_000
        ))
    );
}

/// What a revocation racing a rotation can leave on PostgreSQL: the family's presented token
/// revoked, the replacement live. The replacement is refused by the grant even with rotation
/// switched off since, introspection calls it inactive, and its use revokes it for good.
#[tokio::test]
async fn a_token_of_a_family_with_a_revoked_member_is_dead_everywhere() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let first = stored_refresh(&w, "5Aep861familyFirst", "fam-dead").await;
    let survivor = stored_refresh(&w, "5Aep861familySurvivor", "fam-dead").await;
    let first_hash = eca_oauth::TokenHash::of(&first);
    // A third member of the family, revoked alone, as the racing UPDATE left the one it saw.
    let mut record =
        w.h.store
            .refresh_token(first_hash.as_str())
            .await
            .expect("store")
            .expect("the token");
    record.token_hash = eca_oauth::TokenHash::of("5Aep861familyRevoked")
        .as_str()
        .to_owned();
    record.revoked_at = Some(w.h.clock.now());
    w.h.store
        .create_refresh_token(&record)
        .await
        .expect("store");

    let basic = format!("token={survivor}&client_id={KEY}&client_secret={SECRET}");
    let reply = post("/services/oauth2/introspect", FORM, basic)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["active"], false, "{}", reply.body);
    refresh_refused(&w, &survivor, Some(SECRET)).await;
    let stored =
        w.h.store
            .refresh_token(eca_oauth::TokenHash::of(&survivor).as_str())
            .await
            .expect("store")
            .expect("the token");
    assert!(stored.revoked_at.is_some());
    // Revoked in its own row now: the usage API no longer lists it.
    let listed =
        w.h.store
            .user_refresh_tokens(&w.org.id, "Ci", &w.run_as.id, w.h.clock.now())
            .await
            .expect("store");
    assert!(
        listed.iter().all(|t| t.family_id != "fam-dead"),
        "{listed:?}"
    );
}

/// Another app's refresh token answers as an unknown one, and only once the presenting client
/// has authenticated: a caller without the secret cannot tell a live token of some app from
/// noise (RFC 6749 §5.2).
#[tokio::test]
async fn another_apps_refresh_token_answers_as_an_unknown_one() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let mut other = w.ci();
    other.name = "Other";
    other.key = OTHER_KEY;
    other.secret = OTHER_SECRET;
    w.deploy(&other).await;
    let rt = stored_refresh(&w, "5Aep861tokenOfCiNotOfOther", "fam-ci").await;
    let as_other = |secret: Option<&str>| {
        let mut body = format!("grant_type=refresh_token&client_id={OTHER_KEY}&refresh_token={rt}");
        if let Some(secret) = secret {
            body.push_str(&format!("&client_secret={secret}"));
        }
        body
    };
    // Without the other app's secret: the client fails first, as for any token.
    oauth_error(
        &w.token(&as_other(None)).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    oauth_error(
        &w.token(&as_other(Some(OTHER_SECRET))).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "expired access/refresh token",
    );
    // The token is untouched: its own app still refreshes with it.
    let reply = w.token(&refresh_body(&rt, Some(SECRET))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
