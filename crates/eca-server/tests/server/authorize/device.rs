//! The device flow: Salesforce's form and RFC 8628's, and the activation page.

use super::*;

// ---------------------------------------------------------------------------------------------
// The device flow
// ---------------------------------------------------------------------------------------------

const ACTIVATE: &str = "/setup/connect";

fn device_app(w: &World) -> AppSpec<'static> {
    web_app(w, "<isDeviceFlowEnabled>true</isDeviceFlowEnabled>")
}

/// Types `code` on the activation page and returns the page that answers.
async fn enter_code(w: &World, b: &mut Browser, code: &str) -> Reply {
    let page = b.get(&w.h, ACTIVATE).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = hidden(&page.body, "csrf_token").expect("a CSRF token");
    b.post_form(
        &w.h,
        ACTIVATE,
        &[("user_code", code), ("csrf_token", &token)],
    )
    .await
}

/// Presses `button` on the approval page.
async fn decide(w: &World, b: &mut Browser, page: &Reply, button: &str) -> Reply {
    assert!(page.body.contains("id=\"oaapprove\""), "{}", page.body);
    let mut fields = hidden_fields(&page.body);
    fields.push((button.to_owned(), "x".to_owned()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(&w.h, ACTIVATE, &refs).await
}

async fn poll(w: &World, device_code: &str) -> Reply {
    w.token(&query(&[
        ("grant_type", "device"),
        ("client_id", KEY),
        ("code", device_code),
    ]))
    .await
}

#[tokio::test]
async fn the_salesforce_device_flow_from_code_to_tokens() {
    let w = world().await;
    w.deploy(&device_app(&w)).await;
    let reply = w
        .token(&query(&[
            ("response_type", "device_code"),
            ("client_id", KEY),
            ("scope", "refresh_token api openid"),
        ]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{}", reply.body);
    assert_eq!(json["verification_uri"], format!("{PUBLIC_URL}{ACTIVATE}"));
    assert_eq!(json["interval"], 5);
    let device_code = json["device_code"].as_str().unwrap().to_owned();
    let user_code = json["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");

    // Pending (HTTP 400, as @salesforce/core expects), too fast, pending again.
    let pending = poll(&w, &device_code).await;
    oauth_error(
        &pending,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        "authorization pending",
    );
    oauth_error(
        &poll(&w, &device_code).await,
        StatusCode::BAD_REQUEST,
        "slow_down",
        "polling too frequently; slow down",
    );
    w.h.clock.advance_secs(5);
    oauth_error(
        &poll(&w, &device_code).await,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        "authorization pending",
    );

    // The activation page wants a login first, then takes the code as a person types it.
    let mut b = Browser::new();
    let reply = b.get(&w.h, ACTIVATE).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = b
        .log_in(&w.h, &location(&reply), ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    assert_eq!(location(&reply), ACTIVATE);
    // The ID token's `auth_time` is this login, not the approval a minute later.
    let logged_in_at = eca_core::Clock::now(w.h.clock.as_ref()).secs();
    w.h.clock.advance_secs(60);
    let typed = user_code.to_lowercase().replace('-', " ");
    let page = enter_code(&w, &mut b, &typed).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Ci"), "{}", page.body);
    let done = decide(&w, &mut b, &page, "oaapprove").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Device connected"), "{}", done.body);
    assert!(
        w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );

    w.h.clock.advance_secs(5);
    let reply = poll(&w, &device_code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let tokens = reply.json();
    assert_eq!(tokens["id"], w.identity(&w.admin));
    assert!(tokens.get("refresh_token").is_some(), "{}", reply.body);
    assert!(tokens.get("signature").is_some() && tokens.get("issued_at").is_some());
    let claims = verified_claims(&w, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["aud"], KEY);
    assert_eq!(claims["auth_time"], logged_in_at);
    // One poll gets the tokens; the code is spent after that.
    w.h.clock.advance_secs(5);
    oauth_error(
        &poll(&w, &device_code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "invalid authorization code",
    );
    // The code cannot be entered again either.
    let page = enter_code(&w, &mut b, &user_code).await;
    assert!(
        page.body.contains("not valid or has expired"),
        "{}",
        page.body
    );
}

async fn rfc_poll(w: &World, device_code: &str) -> Reply {
    w.token(&query(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", KEY),
        ("device_code", device_code),
    ]))
    .await
}

#[tokio::test]
async fn the_rfc_8628_device_flow_denial_and_expiry() {
    let w = world().await;
    w.deploy(&device_app(&w)).await;
    let json = get("/.well-known/openid-configuration")
        .send(&w.h)
        .await
        .json();
    let endpoint = json["device_authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        endpoint,
        format!("{PUBLIC_URL}/services/oauth2/device/authorize")
    );
    assert!(
        json["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(
                "urn:ietf:params:oauth:grant-type:device_code"
            ))
    );
    let start = || async {
        let reply = post(
            "/services/oauth2/device/authorize",
            "application/x-www-form-urlencoded",
            format!("client_id={KEY}&scope=api"),
        )
        .send(&w.h)
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()
    };
    let json = start().await;
    assert_eq!(json["expires_in"], 600);
    let complete = json["verification_uri_complete"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_code = json["user_code"].as_str().unwrap();
    assert_eq!(
        complete,
        format!("{PUBLIC_URL}{ACTIVATE}?user_code={user_code}")
    );
    let device_code = json["device_code"].as_str().unwrap().to_owned();
    // verification_uri_complete fills the code in; the user denies.
    let mut b = logged_in(&w).await;
    let page = b.get(&w.h, &complete).await;
    assert!(
        page.body.contains(&format!("value=\"{user_code}\"")),
        "{}",
        page.body
    );
    let token = hidden(&page.body, "csrf_token").unwrap();
    let page = b
        .post_form(
            &w.h,
            ACTIVATE,
            &[("user_code", user_code), ("csrf_token", &token)],
        )
        .await;
    let done = decide(&w, &mut b, &page, "oadeny").await;
    assert!(done.body.contains("Access denied"), "{}", done.body);
    oauth_error(
        &rfc_poll(&w, &device_code).await,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "end-user denied authorization",
    );

    // A code nobody enters expires.
    let json = start().await;
    w.h.clock.advance_secs(600);
    oauth_error(
        &rfc_poll(&w, json["device_code"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "expired_token",
        "expired device code",
    );
    let page = enter_code(&w, &mut b, json["user_code"].as_str().unwrap()).await;
    assert!(
        page.body.contains("not valid or has expired"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn wrong_user_codes_are_limited_and_forms_need_their_csrf_token() {
    let w = world().await;
    w.deploy(&device_app(&w)).await;
    let mut b = logged_in(&w).await;
    b.peer = Some("198.51.100.44".to_owned());
    // Per address, shared with password logins: the limiter's default is 20 failures a
    // minute. Fifteen failed logins from the address first, then five wrong codes.
    let mut guesser = crate::browser::Browser {
        peer: b.peer.clone(),
        ..crate::browser::Browser::default()
    };
    for i in 0..15 {
        guesser
            .log_in(&w.h, "/login", &format!("guess{i}@demo.example"), "x")
            .await;
    }
    for _ in 0..5 {
        let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("not valid or has expired"));
    }
    let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("from your address"), "{}", page.body);
    // Per user, from any address: ten wrong codes in a quarter of an hour, so many addresses
    // (an IPv6 /48 is 65,536 networks) give no more guesses.
    for i in 0..5 {
        b.peer = Some(format!("2001:db8:{i}::1"));
        let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    b.peer = Some("2001:db8:ff::1".to_owned());
    let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("from your account"), "{}", page.body);
    w.h.clock.advance_secs(15 * 60);
    let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Without the page's token the form is refused.
    let reply = b
        .post_form(
            &w.h,
            ACTIVATE,
            &[("user_code", "BCDF-GHJK"), ("csrf_token", "x")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn entering_a_used_code_again_is_no_failed_guess() {
    // Reloading the page after approving resubmits the form. A real code of the org that is no
    // longer pending gets the same page as a wrong one, but does not count towards the
    // address's limit, which password logins share (a NAT's users would be locked out).
    let w = world().await;
    w.deploy(&device_app(&w)).await;
    let mut b = logged_in(&w).await;
    b.peer = Some("198.51.100.45".to_owned());
    let reply = w
        .token(&query(&[
            ("response_type", "device_code"),
            ("client_id", KEY),
            ("scope", "api"),
        ]))
        .await;
    let user_code = reply.json()["user_code"].as_str().unwrap().to_owned();
    let page = enter_code(&w, &mut b, &user_code).await;
    let done = decide(&w, &mut b, &page, "oaapprove").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    for _ in 0..25 {
        let page = enter_code(&w, &mut b, &user_code).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("not valid or has expired"));
    }
    // Wrong codes still count.
    for _ in 0..20 {
        enter_code(&w, &mut b, "BCDF-GHJK").await;
    }
    let page = enter_code(&w, &mut b, "BCDF-GHJK").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_device_flow_needs_to_be_switched_on() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    oauth_error(
        &w.token(&query(&[
            ("response_type", "device_code"),
            ("client_id", KEY),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "device flow is not enabled for this app",
    );
    oauth_error(
        &w.token(&query(&[
            ("response_type", "device_code"),
            ("client_id", "3MVG9nobody"),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
}

#[tokio::test]
async fn device_approval_and_polls_check_the_users_login_ip_ranges() {
    use crate::oauth::ip_restrictions::{INSIDE, OUTSIDE, RESTRICTED, restrict};
    let w = world().await;
    let sid = admin_session(&w.h).await;
    restrict(&w, &sid, "System Administrator").await;
    w.deploy(&device_app(&w)).await;
    let json = w
        .token(&query(&[
            ("response_type", "device_code"),
            ("client_id", KEY),
        ]))
        .await
        .json();
    let device_code = json["device_code"].as_str().unwrap().to_owned();
    let user_code = json["user_code"].as_str().unwrap().to_owned();

    // Outside the ranges the login goes through (it continues an authorization), but the app
    // enforces IP restrictions: the code is refused, and stays pending.
    let mut b = Browser::new();
    b.peer = Some(OUTSIDE.to_owned());
    let reply = b.get(&w.h, ACTIVATE).await;
    b.log_in(&w.h, &location(&reply), ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    let page = enter_code(&w, &mut b, &user_code).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains(RESTRICTED), "{}", page.body);

    let mut b = Browser::new();
    b.peer = Some(INSIDE.to_owned());
    let reply = b.get(&w.h, ACTIVATE).await;
    b.log_in(&w.h, &location(&reply), ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    let page = enter_code(&w, &mut b, &user_code).await;
    let done = decide(&w, &mut b, &page, "oaapprove").await;
    assert!(done.body.contains("Device connected"), "{}", done.body);

    // The device's poll is checked too.
    let poll_from = |peer: &'static str| {
        let body = query(&[
            ("grant_type", "device"),
            ("client_id", KEY),
            ("code", &device_code),
        ]);
        post(crate::oauth::TOKEN, crate::oauth::FORM, body).with_peer(peer)
    };
    w.h.clock.advance_secs(5);
    oauth_error(
        &poll_from(OUTSIDE).send(&w.h).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    w.h.clock.advance_secs(5);
    let reply = poll_from(INSIDE).send(&w.h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
