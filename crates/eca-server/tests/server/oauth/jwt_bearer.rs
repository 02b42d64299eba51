//! The JWT bearer grant (RFC 7523): assertions checked against the app's certificate, and
//! users pre-authorized or having approved the app before.

use super::*;

pub(crate) fn assertion(iss: &str, sub: &str, aud: &str, exp: i64) -> String {
    SigningKey::from_pem("test", PRIVATE_KEY)
        .expect("the test key")
        .sign(&json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp}))
        .expect("a signature")
}

pub(crate) fn jwt_body(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

/// `Ci` with the test certificate, pre-authorized for the API Only profile.
pub(crate) fn jwt_app(w: &World, permitted: &str) -> AppSpec<'static> {
    let mut spec = w.ci();
    spec.global = format!("<certificate>{CERT}</certificate>");
    spec.policies = format!(
        "<commaSeparatedProfile>API Only</commaSeparatedProfile><permittedUsersPolicyType>{permitted}</permittedUsersPolicyType>"
    );
    spec
}

#[tokio::test]
async fn jwt_bearer_issues_tokens_to_pre_authorized_users() {
    let w = world().await;
    w.deploy(&jwt_app(&w, "AdminApprovedPreAuthorized")).await;
    let now = START.millis() / 1000;
    // The CLI: `aud` with a trailing slash, `exp` in milliseconds.
    let a = assertion(
        KEY,
        "runas@demo.example",
        &format!("{PUBLIC_URL}/"),
        START.millis() + 300,
    );
    let reply = w.token(&jwt_body(&a)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["id"], w.identity(&w.run_as).as_str());
    assert_eq!(json["instance_url"], PUBLIC_URL);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "openid api refresh_token");
    assert!(json.get("refresh_token").is_none() && json.get("signature").is_none());
    let token = json["access_token"].as_str().expect("a token");
    let reply = get_bearer(&w, "/services/data/v66.0", token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // simple-salesforce: login.salesforce.com, seconds.
    let a = assertion(
        KEY,
        "runas@demo.example",
        "https://login.salesforce.com",
        now + 180,
    );
    assert_eq!(w.token(&jwt_body(&a)).await.status, StatusCode::OK);

    let cases = [
        (
            assertion(KEY, "runas@demo.example", "https://evil.example", now + 180),
            "invalid_grant",
            "Audience validation failed",
        ),
        (
            assertion(KEY, ADMIN_USERNAME, PUBLIC_URL, now + 180),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            assertion(KEY, "ghost@demo.example", PUBLIC_URL, now + 180),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            assertion(KEY, "runas@demo.example", PUBLIC_URL, now - 3600),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            assertion("3MVG9nobody", "runas@demo.example", PUBLIC_URL, now + 180),
            "invalid_client_id",
            "client identifier invalid",
        ),
        ("not.a.jwt".to_owned(), "invalid_grant", "invalid assertion"),
    ];
    for (a, error, description) in cases {
        oauth_error(
            &w.token(&jwt_body(&a)).await,
            StatusCode::BAD_REQUEST,
            error,
            description,
        );
    }
}

#[tokio::test]
async fn jwt_bearer_for_self_authorized_apps_needs_an_earlier_approval() {
    let w = world().await;
    w.deploy(&jwt_app(&w, "AllSelfAuthorized")).await;
    let a = assertion(
        KEY,
        "runas@demo.example",
        PUBLIC_URL,
        START.millis() / 1000 + 60,
    );
    oauth_error(
        &w.token(&jwt_body(&a)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "user hasn't approved this consumer",
    );
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.run_as.id, Some("*"), START)
        .await
        .expect("store");
    assert_eq!(w.token(&jwt_body(&a)).await.status, StatusCode::OK);
}

/// Client authentication is optional with an assertion; a client that authenticates anyway
/// must be the app the assertion names, with its right secret (RFC 7521 §4.1, RFC 6749
/// §3.2.1).
#[tokio::test]
async fn jwt_bearer_checks_client_credentials_that_come_with_it() {
    let w = world().await;
    w.deploy(&jwt_app(&w, "AdminApprovedPreAuthorized")).await;
    let mut other = w.ci();
    other.name = "Other";
    other.key = OTHER_KEY;
    other.secret = OTHER_SECRET;
    w.deploy(&other).await;
    let a = assertion(
        KEY,
        "runas@demo.example",
        PUBLIC_URL,
        START.millis() / 1000 + 60,
    );
    let body = jwt_body(&a);
    for extra in [
        format!("&client_id={KEY}"),
        format!("&client_id={KEY}&client_secret={SECRET}"),
    ] {
        let reply = w.token(&format!("{body}{extra}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{extra}: {}", reply.body);
    }
    for extra in [
        format!("&client_id={KEY}&client_secret=wrong"),
        format!("&client_id={OTHER_KEY}"),
        format!("&client_id={OTHER_KEY}&client_secret={OTHER_SECRET}"),
    ] {
        oauth_error(
            &w.token(&format!("{body}{extra}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "invalid client credentials",
        );
    }
    oauth_error(
        &w.token(&format!("{body}&client_id=3MVG9nobody")).await,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
    // During a rotation, the staged key with its own secret names the same app; the primary
    // secret does not go with the staged key. Found by review: the secret was checked against
    // the assertion's key.
    let (staged_key, staged_secret) = crate::authorize::staged_credential(&w).await;
    let reply = w
        .token(&format!(
            "{body}&client_id={staged_key}&client_secret={staged_secret}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    oauth_error(
        &w.token(&format!(
            "{body}&client_id={staged_key}&client_secret={SECRET}"
        ))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
}

#[tokio::test]
async fn jwt_bearer_needs_a_certificate() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let a = assertion(
        KEY,
        "runas@demo.example",
        PUBLIC_URL,
        START.millis() / 1000 + 60,
    );
    oauth_error(
        &w.token(&jwt_body(&a)).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "JWT bearer flow is not enabled for this app",
    );
}

/// An inactive or frozen user answers like an unknown one unless the app may act for them:
/// the grant does not tell a holder of the app's key which usernames exist.
#[tokio::test]
async fn jwt_bearer_tells_inactive_users_apart_only_when_approved() {
    let w = world().await;
    w.deploy(&jwt_app(&w, "AdminApprovedPreAuthorized")).await;
    user_changed(&w, "Standard User", "gone@demo.example", |u| {
        u.is_active = false;
    })
    .await;
    user_changed(&w, API_ONLY, "frozen@demo.example", |u| u.is_frozen = true).await;
    let exp = START.millis() / 1000 + 60;
    for (username, description) in [
        ("gone@demo.example", "user hasn't approved this consumer"),
        ("frozen@demo.example", "inactive user"),
    ] {
        oauth_error(
            &w.token(&jwt_body(&assertion(KEY, username, PUBLIC_URL, exp)))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            description,
        );
    }
}
