//! The username-password grant, and what a new password does to the tokens apps hold.

use super::*;

#[tokio::test]
async fn password_grant_checks_the_client_then_the_user() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let body = |secret: &str, password: &str| {
        format!(
            "grant_type=password&client_id={KEY}&client_secret={secret}&username={}&password={password}",
            form_urlencoded::byte_serialize(ADMIN_USERNAME.as_bytes()).collect::<String>()
        )
    };
    let reply = w.token(&body(SECRET, ADMIN_PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    let admin = stored_user(&w.h.store, ADMIN_USERNAME).await;
    assert_eq!(json["id"], w.identity(&admin).as_str());
    assert!(json["signature"].is_string() && json.get("refresh_token").is_none());

    oauth_error(
        &w.token(&body(SECRET, "wrong")).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "authentication failure",
    );
    assert_eq!(
        stored_user(&w.h.store, ADMIN_USERNAME).await.failed_logins,
        1
    );
    oauth_error(
        &w.token(&body("wrong", ADMIN_PASSWORD)).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    oauth_error(
        &w.token(&format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username=ghost%40x.example&password=x"
        ))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "authentication failure",
    );
}

/// Every refusal about the user reads the same, whatever the reason: inactive, frozen, or
/// not pre-authorized for an admin-approved app. A public client may leave its secret out.
#[tokio::test]
async fn password_grant_refuses_users_the_app_may_not_serve_alike() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isConsumerSecretOptional>true</isConsumerSecretOptional>");
    spec.policies.push_str(
        "<commaSeparatedProfile>API Only</commaSeparatedProfile><permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>",
    );
    w.deploy(&spec).await;
    user_changed(&w, API_ONLY, "gone@demo.example", |u| u.is_active = false).await;
    user_changed(&w, API_ONLY, "frozen@demo.example", |u| u.is_frozen = true).await;
    let body = |username: &str| {
        format!(
            "grant_type=password&client_id={KEY}&username={}&password={ADMIN_PASSWORD}",
            form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
        )
    };
    // A public client, no secret: the pre-authorized user gets a token.
    let reply = w.token(&body("runas@demo.example")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The admin's profile is not among the pre-authorized ones.
    for username in ["gone@demo.example", "frozen@demo.example", ADMIN_USERNAME] {
        oauth_error(
            &w.token(&body(username)).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "authentication failure",
        );
    }
}

#[tokio::test]
async fn password_grant_failures_count_against_the_clients_address() {
    // As the SOAP login and the login page (docs/server.md, "Per-address limit"): 20 failed
    // logins a minute from one address, then every attempt from it is refused, whatever the
    // usernames (so the grant cannot spray passwords across users, or probe for them).
    let w = world().await;
    w.deploy(&w.ci()).await;
    let attempt = |user: String, password: &str| {
        format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username={user}&password={password}"
        )
    };
    for i in 0..20 {
        oauth_error(
            &w.token(&attempt(format!("ghost{i}%40x.example"), "x"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "authentication failure",
        );
    }
    let admin = form_urlencoded::byte_serialize(ADMIN_USERNAME.as_bytes()).collect::<String>();
    // Even the right password is refused from that address now, without being checked.
    oauth_error(
        &w.token(&attempt(admin.clone(), ADMIN_PASSWORD)).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "rate limit exceeded",
    );
    assert_eq!(
        stored_user(&w.h.store, ADMIN_USERNAME).await.failed_logins,
        0
    );
    // A minute later it works again.
    w.h.clock.advance_secs(61);
    let reply = w.token(&attempt(admin, ADMIN_PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// A new password ends the user's web and SOAP sessions but not the OAuth tokens apps already
/// hold (a choice, docs/oauth.md): those are revoked on their own (usage API, `/revoke`), or
/// stop when the user is deactivated or frozen.
#[tokio::test]
async fn a_new_password_leaves_oauth_tokens_working() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let reply = w
        .token(&format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username={}&password={ADMIN_PASSWORD}",
            form_urlencoded::byte_serialize(ADMIN_USERNAME.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let other_session = admin_session(&w.h).await;
    let session = admin_session(&w.h).await;
    let admin = stored_user(&w.h.store, ADMIN_USERNAME).await;

    let changed = post(
        &format!("/services/data/v66.0/sobjects/User/{}/password", admin.id),
        "application/json",
        r#"{"NewPassword": "Another-Password-9"}"#.to_owned(),
    )
    .bearer(&session)
    .send(&w.h)
    .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);

    assert_eq!(
        get_bearer(&w, "/services/data/v66.0", &other_session)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the other SOAP session ended"
    );
    let api = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
}
