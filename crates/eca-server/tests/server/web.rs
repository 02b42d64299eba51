//! The browser pages: login, home, logout, web sessions and their cookies, CSRF, and the
//! `startURL` checks.

use axum::http::{StatusCode, header};
use eca_core::domain::Permission;
use eca_server::bootstrap::ADMIN_USERNAME;

use crate::browser::*;
use crate::support::*;

const FAILED: &str = "Please check your username and password.";

#[tokio::test]
async fn the_login_form_keeps_salesforce_element_ids() {
    let h = harness().await;
    let mut b = Browser::new();
    let page = b.get(&h, "/login?startURL=%2Fhome").await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "<form method=\"post\">",
        "id=\"username\" name=\"username\"",
        "id=\"password\" name=\"password\"",
        "type=\"submit\" id=\"Login\" name=\"Login\"",
        "name=\"csrf_token\"",
    ] {
        assert!(
            page.body.contains(needle),
            "{needle} missing in {}",
            page.body
        );
    }
    assert_eq!(hidden(&page.body, "startURL").as_deref(), Some("/home"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let csrf = b
        .cookies
        .iter()
        .find(|(n, _, _)| n == "csrf")
        .expect("a csrf cookie");
    assert_eq!(csrf.1, "/");
}

#[tokio::test]
async fn login_sets_an_httponly_samesite_cookie_and_redirects() {
    let h = harness().await;
    let mut b = Browser::new();
    let reply = b
        .log_in(
            &h,
            "/login?startURL=%2Fservices%2Foauth2%2Fauthorize%3Fclient_id%3Dx",
            ADMIN_USERNAME,
            ADMIN_PASSWORD,
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), "/services/oauth2/authorize?client_id=x");
    let set: Vec<_> = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let sid = set
        .iter()
        .find(|c| c.starts_with("sid="))
        .expect("a sid cookie");
    assert!(sid.contains("; HttpOnly"), "{sid}");
    assert!(sid.contains("; SameSite=Lax"), "{sid}");
    assert!(sid.contains("; Path=/"), "{sid}");
    assert!(!sid.contains("Secure"), "http base URL: {sid}");
    // The session is a web session of the admin.
    let id = b.sid("/").unwrap();
    let home = b.get(&h, "/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(ADMIN_USERNAME), "{}", home.body);
    let session = h
        .store
        .session(&eca_core::crypto::token_hash(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.kind, eca_core::domain::SessionKind::Web);
}

#[tokio::test]
async fn a_web_session_is_not_an_api_session_and_the_reverse() {
    let h = harness().await;
    // A SOAP session id in the cookie does not log a browser in.
    let soap = admin_session(&h).await;
    let home = get("/home")
        .header("cookie", &format!("sid={soap}"))
        .send(&h)
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(location(&home).contains("/login?startURL=%2Fhome"));
}

#[tokio::test]
async fn https_base_urls_get_secure_cookies() {
    let h = harness_with(|s| {
        s.public_url = eca_server::PublicUrl::parse("https://eca.example.com").unwrap();
    })
    .await;
    let mut b = Browser::new();
    let reply = b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let sid = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sid="))
        .unwrap();
    assert!(sid.ends_with("; Secure"), "{sid}");
    assert_eq!(location(&reply), "/home");
}

#[tokio::test]
async fn a_wrong_password_rerenders_the_form_with_a_generic_message() {
    let h = harness().await;
    let mut b = Browser::new();
    for (user, password) in [
        (ADMIN_USERNAME, "wrong"),
        ("nobody@demo.example", ADMIN_PASSWORD),
        ("", ""),
    ] {
        let reply = b.log_in(&h, "/login", user, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains(FAILED), "{}", reply.body);
        assert!(reply.body.contains("id=\"Login\""));
        assert!(b.sid("/").is_none());
    }
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused() {
    let h = harness().await;
    let mut b = Browser::new();
    let page = b.get(&h, "/login").await;
    let token = hidden(&page.body, "csrf_token").unwrap();
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let cases: Vec<(Vec<(&str, &str)>, bool)> = vec![
        (vec![], true),
        (vec![("csrf_token", "")], true),
        (vec![("csrf_token", forged.as_str())], true),
        (vec![("csrf_token", "1795651200.abc")], true),
        // A valid token, but the browser lost its csrf cookie (a cross-site post).
        (vec![("csrf_token", token.as_str())], false),
    ];
    for (extra, keep_cookie) in cases {
        let mut fields = vec![("username", ADMIN_USERNAME), ("password", ADMIN_PASSWORD)];
        fields.extend(extra);
        let mut browser = if keep_cookie {
            b.clone()
        } else {
            Browser::new()
        };
        let reply = browser.post_form(&h, "/login", &fields).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{fields:?}: {}",
            reply.body
        );
        assert!(browser.sid("/").is_none());
    }
    // The token of another browser's cookie does not fit this one's.
    let mut other = Browser::new();
    other.get(&h, "/login").await;
    let reply = other
        .post_form(
            &h,
            "/login",
            &[
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Tokens expire after an hour.
    h.clock.advance_secs(3601);
    let reply = b
        .post_form(
            &h,
            "/login",
            &[
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_only_users_may_not_log_in_to_the_ui() {
    let h = harness().await;
    let (_, user) = second_org(&h, vec![Permission::ApiEnabled, Permission::ApiOnly]).await;
    let mut b = Browser::new();
    let reply = b
        .log_in(&h, "/orgs/acme/login", &user.username, ADMIN_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains(FAILED), "{}", reply.body);
    assert!(b.sid("/orgs/acme").is_none());
    // API Enabled is not needed for the UI.
    let (_, plain) = {
        let org = h.store.org_by_domain("acme").await.unwrap().unwrap();
        let profile = eca_core::domain::Profile {
            id: eca_core::ProfileId::generate(h.rng.as_ref()),
            org_id: org.id.clone(),
            name: "UI only".into(),
            permissions: eca_core::domain::Permissions::new(vec![]),
        };
        h.store.create_profile(&profile).await.unwrap();
        (
            org.clone(),
            add_user(&h, &org, &profile, "ui@acme.example").await,
        )
    };
    let reply = b
        .log_in(&h, "/orgs/acme/login", &plain.username, ADMIN_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), "/orgs/acme/home");
    assert!(b.sid("/orgs/acme").is_some());
}

#[tokio::test]
async fn failed_web_logins_count_towards_the_lockout() {
    let h = harness().await;
    let mut b = Browser::new();
    for _ in 0..5 {
        let reply = b.log_in(&h, "/login", ADMIN_USERNAME, "wrong").await;
        assert!(reply.body.contains(FAILED));
    }
    let user = stored_user(&h.store, ADMIN_USERNAME).await;
    assert_eq!(user.failed_logins, 5);
    assert_eq!(user.locked_until, Some(START.plus_minutes(15)));
    // Locked: the right password fails the same way, on the page and on SOAP.
    let reply = b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains(FAILED));
    login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    h.clock.advance_secs(15 * 60);
    let reply = b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_per_address_limiter_covers_the_login_page() {
    let h = harness_with(|s| s.login.failures_per_ip_per_minute = 2).await;
    let mut b = Browser {
        peer: Some("198.51.100.9".into()),
        ..Browser::default()
    };
    for i in 0..2 {
        b.log_in(&h, "/login", &format!("guess{i}@demo.example"), "x")
            .await;
    }
    let reply = b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(b.sid("/").is_none());
}

#[tokio::test]
async fn start_urls_off_this_org_fall_back_to_home() {
    let h = harness().await;
    for (start, expected) in [
        ("https://evil.example/", "/home"),
        ("//evil.example/x", "/home"),
        ("/\\evil.example", "/home"),
        ("javascript:alert(1)", "/home"),
        ("/orgs/acme/home", "/home"),
        ("/a\r\nSet-Cookie: x=1", "/home"),
        // Percent-encoded, it is a harmless path on this org.
        ("/a%0d%0aSet-Cookie:%20x=1", "/a%0d%0aSet-Cookie:%20x=1"),
        ("/services/data", "/services/data"),
    ] {
        let mut b = Browser::new();
        let page = b.get(&h, "/login").await;
        let token = hidden(&page.body, "csrf_token").unwrap();
        let reply = b
            .post_form(
                &h,
                "/login",
                &[
                    ("username", ADMIN_USERNAME),
                    ("password", ADMIN_PASSWORD),
                    ("csrf_token", &token),
                    ("startURL", start),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{start}");
        assert_eq!(location(&reply), expected, "{start}");
    }
}

#[tokio::test]
async fn the_start_url_escapes_into_the_page() {
    let h = harness().await;
    let mut b = Browser::new();
    let page = b
        .get(
            &h,
            "/login?startURL=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        )
        .await;
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(page.body.contains("&quot;&gt;&lt;script&gt;"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let h = harness().await;
    let mut b = Browser::new();
    b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let id = b.sid("/").unwrap();
    let home = b.get(&h, "/home").await;
    let token = hidden(&home.body, "csrf_token").unwrap();
    // Without the home page's token the POST is refused and the session lives on.
    let refused = b.post_form(&h, "/logout", &[("csrf_token", "x")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Nor with a crafted issue time (it once overflowed the age, in debug builds a panic).
    for crafted in ["-9223372036854775808.a", "9223372036854775807.a"] {
        let refused = b.post_form(&h, "/logout", &[("csrf_token", crafted)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{crafted}");
    }
    assert_eq!(b.get(&h, "/home").await.status, StatusCode::OK);
    let reply = b.post_form(&h, "/logout", &[("csrf_token", &token)]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("You are logged out"));
    assert!(b.sid("/").is_none(), "the cookie is cleared");
    // The old cookie is no longer accepted, and the session is gone from the store.
    let home = get("/home")
        .header("cookie", &format!("sid={id}"))
        .send(&h)
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(
        h.store
            .session(&eca_core::crypto::token_hash(&id))
            .await
            .unwrap()
            .is_none()
    );
}

/// The default org answers at the root and under `/orgs/<domain>`, each with its own cookie
/// path: a browser logged in at both sends both session cookies, and logout ends both.
#[tokio::test]
async fn logout_ends_every_session_of_the_org_the_browser_holds() {
    let h = harness().await;
    let domain = h.store.default_org().await.unwrap().unwrap().my_domain;
    let prefixed = format!("/orgs/{domain}");
    let mut b = Browser::new();
    b.log_in(
        &h,
        &format!("{prefixed}/login"),
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
    )
    .await;
    b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let under_prefix = b.sid(&prefixed).expect("a session under the prefix");
    let at_root = b.sid("/").expect("a session at the root");
    assert_ne!(under_prefix, at_root);
    let reply = b.get(&h, &format!("{prefixed}/secur/logout.jsp")).await;
    assert!(reply.body.contains("You are logged out"), "{}", reply.body);
    for id in [&under_prefix, &at_root] {
        assert!(
            h.store
                .session(&eca_core::crypto::token_hash(id))
                .await
                .unwrap()
                .is_none(),
            "every session the browser held is ended"
        );
    }
    let home = get("/home")
        .header("cookie", &format!("sid={at_root}"))
        .send(&h)
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn salesforce_logout_path_honours_local_ret_urls_only() {
    let h = harness().await;
    let mut b = Browser::new();
    b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let id = b.sid("/").unwrap();
    let reply = b.get(&h, "/secur/logout.jsp?retURL=%2Flogin%3Fx%3D1").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/login?x=1");
    let home = get("/home")
        .header("cookie", &format!("sid={id}"))
        .send(&h)
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    let reply = b
        .get(&h, "/secur/logout.jsp?retURL=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(reply.body.contains("You are logged out"));
}

#[tokio::test]
async fn sessions_of_one_org_are_not_accepted_on_another() {
    let h = harness().await;
    let (_, user) = second_org(&h, vec![Permission::ApiEnabled]).await;
    let mut b = Browser::new();
    let reply = b
        .log_in(
            &h,
            "/orgs/acme/login?startURL=%2Forgs%2Facme%2Fhome",
            &user.username,
            ADMIN_PASSWORD,
        )
        .await;
    assert_eq!(location(&reply), "/orgs/acme/home");
    let acme_sid = b
        .sid("/orgs/acme")
        .expect("a cookie scoped to the org's path");
    assert_eq!(b.get(&h, "/orgs/acme/home").await.status, StatusCode::OK);
    // The default org does not take acme's session, even sent to its URL.
    let home = get("/home")
        .header("cookie", &format!("sid={acme_sid}"))
        .send(&h)
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    // Logged in to both: each org finds its own among the cookies sent.
    b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let acme_home = b.get(&h, "/orgs/acme/home").await;
    assert!(
        acme_home.body.contains(&user.username),
        "{}",
        acme_home.body
    );
    let root_home = b.get(&h, "/home").await;
    assert!(root_home.body.contains(ADMIN_USERNAME));
    // An acme user cannot log in through the default org's page.
    let mut other = Browser::new();
    let reply = other
        .log_in(&h, "/login", &user.username, ADMIN_PASSWORD)
        .await;
    assert!(reply.body.contains(FAILED));
}

#[tokio::test]
async fn expired_web_sessions_send_the_browser_to_the_login_page() {
    let h = harness().await;
    let mut b = Browser::new();
    b.log_in(&h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let org = h.store.default_org().await.unwrap().unwrap();
    h.clock.advance_secs(org.session_timeout_minutes * 60);
    let home = b.get(&h, "/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&home),
        "http://127.0.0.1:8080/login?startURL=%2Fhome"
    );
}
