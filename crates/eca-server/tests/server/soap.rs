//! The SOAP partner endpoint: login, logout, faults and bad input.

use std::time::Duration;

use axum::http::StatusCode;
use eca_core::domain::Permission;
use eca_server::bootstrap::ADMIN_USERNAME;

use crate::support::*;

const INVALID_LOGIN: &str =
    "INVALID_LOGIN: Invalid username, password, security token; or user locked out.";

#[tokio::test]
async fn login_answers_like_the_partner_wsdl() {
    let h = harness().await;
    let org = h.store.default_org().await.unwrap().unwrap();
    let admin = stored_user(&h.store, ADMIN_USERNAME).await;
    for body in [
        jsforce_login(ADMIN_USERNAME, ADMIN_PASSWORD),
        simple_salesforce_login("Admin@Demo.Example", ADMIN_PASSWORD),
    ] {
        let reply = post("/services/Soap/u/59.0", "text/xml", body)
            .send(&h)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.headers["content-type"], "text/xml;charset=UTF-8");

        let doc = roxmltree::Document::parse(&reply.body).unwrap();
        let root = doc.root_element();
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://schemas.xmlsoap.org/soap/envelope/")
        );
        let result = doc
            .descendants()
            .find(|n| n.has_tag_name(("urn:partner.soap.sforce.com", "result")))
            .expect("loginResponse/result in the partner namespace");
        assert_eq!(result.parent().unwrap().tag_name().name(), "loginResponse");
        let children: Vec<_> = result
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(
            children,
            [
                "metadataServerUrl",
                "passwordExpired",
                "sandbox",
                "serverUrl",
                "sessionId",
                "userId",
                "userInfo"
            ]
        );
        let org15 = org.id.as_15();
        let field = |name: &str| reply.xml(name).unwrap();
        assert_eq!(
            field("metadataServerUrl"),
            format!("{PUBLIC_URL}/services/Soap/m/59.0/{org15}")
        );
        assert_eq!(
            field("serverUrl"),
            format!("{PUBLIC_URL}/services/Soap/u/59.0/{org15}")
        );
        assert_eq!(field("passwordExpired"), "false");
        assert_eq!(field("sandbox"), "false");
        let sid = field("sessionId");
        let (prefix, opaque) = sid.split_once('!').unwrap();
        assert_eq!(prefix, org15);
        assert_eq!(opaque.len(), 96);
        assert!(opaque.starts_with("AQ"));
        assert_eq!(field("userId"), admin.id.as_str());
        assert_eq!(field("organizationId"), org.id.as_str());
        assert_eq!(field("organizationName"), "OpenECA Demo");
        assert_eq!(field("profileId"), admin.profile_id.as_str());
        assert_eq!(field("sessionSecondsValid"), "7200");
        assert_eq!(field("userName"), ADMIN_USERNAME);
        assert_eq!(field("userEmail"), ADMIN_USERNAME);
        assert_eq!(field("userFullName"), "Admin User");
        assert_eq!(field("userType"), "Standard");
        assert_eq!(field("userTimeZone"), "America/Los_Angeles");
        assert_eq!(field("orgDefaultCurrencyIsoCode"), "USD");
        assert!(
            reply.body.contains("<roleId xsi:nil=\"true\"/>"),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn bad_credentials_get_the_invalid_login_fault() {
    let h = harness().await;
    for (username, password) in [
        (ADMIN_USERNAME, "wrong"),
        ("nobody@demo.example", ADMIN_PASSWORD),
        // A security token appended to the right password is a wrong password here.
        (
            ADMIN_USERNAME,
            "Admin-Password-1234XXXXXXXXXXXXXXXXXXXXXXXXX",
        ),
        ("", ""),
    ] {
        let reply = login_call("", username, password).send(&h).await;
        reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
        assert_eq!(reply.xml("faultstring").unwrap(), INVALID_LOGIN);
        assert_eq!(reply.xml("exceptionCode").unwrap(), "INVALID_LOGIN");
        assert!(
            reply
                .body
                .contains("<sf:LoginFault xsi:type=\"sf:LoginFault\">"),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains(password) || password.is_empty());
    }
}

#[tokio::test]
async fn five_failures_lock_the_user_for_fifteen_minutes() {
    let h = harness().await;
    for _ in 0..5 {
        login_call("", ADMIN_USERNAME, "wrong")
            .send(&h)
            .await
            .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    let user = stored_user(&h.store, ADMIN_USERNAME).await;
    assert_eq!(user.failed_logins, 5);
    assert_eq!(user.locked_until, Some(START.plus_minutes(15)));
    // Locked: the right password does not help.
    h.clock.advance_secs(14 * 60 + 59);
    login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    h.clock.advance_secs(1);
    admin_session(&h).await;
    let user = stored_user(&h.store, ADMIN_USERNAME).await;
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
    // After a success the count starts again.
    login_call("", ADMIN_USERNAME, "wrong").send(&h).await;
    admin_session(&h).await;
}

/// Attempts that run at the same time (on one node or many) are counted before their password
/// is checked, in one statement on the stored count: the one that reaches the limit locks the
/// user, and the rest of the burst is refused as locked. Counted after the check, every attempt
/// of a burst got its password compared, so a burst could try any number of passwords.
#[tokio::test]
async fn concurrent_failures_still_lock_the_user() {
    let h = harness().await;
    let calls = (0..8).map(|_| login_call("", ADMIN_USERNAME, "wrong").send(&h));
    for reply in futures_util::future::join_all(calls).await {
        reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    let user = stored_user(&h.store, ADMIN_USERNAME).await;
    assert_eq!(
        user.failed_logins, 5,
        "attempts past the limit were refused unchecked"
    );
    assert_eq!(user.locked_until, Some(START.plus_minutes(15)));
}

/// Logins of one user in flight at once with the right password (an integration's workers
/// starting together) all succeed and lock nothing: attempts are counted when they start, but
/// a user's attempts take turns on a node, so they never add up to the limit. Found in review
/// of the up-front counting, which locked the user at the fifth.
#[tokio::test]
async fn concurrent_right_logins_lock_nothing() {
    let h = harness().await;
    let calls = (0..8).map(|_| login_call("", ADMIN_USERNAME, ADMIN_PASSWORD).send(&h));
    for reply in futures_util::future::join_all(calls).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let user = stored_user(&h.store, ADMIN_USERNAME).await;
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
}

/// A locked user's attempt costs a password check too, as an unknown user's does: refusing it
/// at once would tell that the username exists.
#[tokio::test]
async fn a_locked_user_is_refused_after_a_password_check() {
    let h = harness().await;
    let admin = admin_session(&h).await;
    for _ in 0..5 {
        login_call("", ADMIN_USERNAME, "wrong").send(&h).await;
    }
    let before = h.state.password_checks();
    login_call("", ADMIN_USERNAME, "wrong")
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    assert_eq!(h.state.password_checks(), before + 1);
    login_call("", "nobody@demo.example", "wrong")
        .send(&h)
        .await;
    assert_eq!(h.state.password_checks(), before + 2);
    // So does a user without a password (an integration user made without one).
    let reply = request(
        "POST",
        "/services/data/v66.0/sobjects/User",
        Some(
            r#"{"Username": "nopassword@demo.example", "LastName": "Ops", "Email": "ops@demo.example", "ProfileName": "Standard User"}"#,
        ),
    )
    .bearer(&admin)
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    login_call("", "nopassword@demo.example", "wrong")
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    assert_eq!(h.state.password_checks(), before + 3);
}

/// The address limit counts an attempt when it starts: a burst of concurrent guesses from one
/// address gets no more password checks than the limit.
#[tokio::test]
async fn a_burst_from_one_address_stops_at_the_limit() {
    let h = harness_with(|s| s.login.failures_per_ip_per_minute = 3).await;
    let calls = (0..12).map(|i| {
        login_call("", &format!("guess{i}@demo.example"), "x")
            .with_peer("198.51.100.9")
            .send(&h)
    });
    let mut limited = 0;
    for reply in futures_util::future::join_all(calls).await {
        if reply.xml("exceptionMessage").as_deref() == Some("Login rate exceeded") {
            limited += 1;
        } else {
            reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
        }
    }
    assert_eq!(limited, 9);
}

#[tokio::test]
async fn one_address_with_many_failures_is_refused() {
    let h = harness_with(|s| s.login.failures_per_ip_per_minute = 3).await;
    for i in 0..3 {
        login_call("", &format!("guess{i}@demo.example"), "x")
            .with_peer("198.51.100.7")
            .send(&h)
            .await
            .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    let refused = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .with_peer("198.51.100.7")
        .send(&h)
        .await;
    refused.fault(
        StatusCode::INTERNAL_SERVER_ERROR,
        "sf:REQUEST_LIMIT_EXCEEDED",
    );
    assert_eq!(
        refused.xml("exceptionMessage").unwrap(),
        "Login rate exceeded"
    );
    // Another address is not affected, and the window passes.
    let other = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .with_peer("198.51.100.8")
        .send(&h)
        .await;
    assert_eq!(other.status, StatusCode::OK);
    h.clock.advance_secs(60);
    let later = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .with_peer("198.51.100.7")
        .send(&h)
        .await;
    assert_eq!(later.status, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_counted() {
    let h = harness_with(|s| {
        s.login.failures_per_ip_per_minute = 2;
        s.trusted_proxies = eca_server::proxy::TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
    })
    .await;
    let via_proxy = |client: &str| {
        login_call("", "guess@demo.example", "x")
            .with_peer("10.0.0.1")
            .header("x-forwarded-for", client)
    };
    // Two clients behind the same proxy: each has its own budget.
    for _ in 0..2 {
        via_proxy("203.0.113.7")
            .send(&h)
            .await
            .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    via_proxy("203.0.113.7").send(&h).await.fault(
        StatusCode::INTERNAL_SERVER_ERROR,
        "sf:REQUEST_LIMIT_EXCEEDED",
    );
    via_proxy("203.0.113.8")
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    // A client that is not a trusted proxy cannot pick its address with the header.
    for _ in 0..2 {
        login_call("", "guess@demo.example", "x")
            .with_peer("198.51.100.9")
            .header("x-forwarded-for", "203.0.113.99")
            .send(&h)
            .await
            .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    login_call("", "guess@demo.example", "x")
        .with_peer("198.51.100.9")
        .header("x-forwarded-for", "203.0.113.100")
        .send(&h)
        .await
        .fault(
            StatusCode::INTERNAL_SERVER_ERROR,
            "sf:REQUEST_LIMIT_EXCEEDED",
        );
}

#[tokio::test]
async fn users_who_may_not_use_the_api_are_refused() {
    let h = harness().await;
    let (org, user) = second_org(&h, vec![Permission::ExternalClientAppViewer]).await;
    let reply = login_call("/orgs/acme", &user.username, ADMIN_PASSWORD)
        .send(&h)
        .await;
    reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:API_DISABLED_FOR_ORG");
    assert_eq!(
        reply.xml("faultstring").unwrap(),
        "API_DISABLED_FOR_ORG: API is not enabled for this Organization or Partner"
    );
    // A user of another org cannot log in at this org's URL.
    login_call("", &user.username, ADMIN_PASSWORD)
        .send(&h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    // Inactive and frozen users are refused like a wrong password.
    let mut admin = stored_user(&h.store, ADMIN_USERNAME).await;
    for (active, frozen) in [(false, false), (true, true)] {
        admin.is_active = active;
        admin.is_frozen = frozen;
        admin.updated_at = h.store.update_user(&admin, admin.updated_at).await.unwrap();
        login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
            .send(&h)
            .await
            .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    }
    let _ = org;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    get("/services/data/v66.0").bearer(&sid).send(&h).await;
    let reply = post(
        "/services/Soap/u/66.0/ignored",
        "text/xml",
        with_session(&sid, "<urn:logout/>"),
    )
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("<logoutResponse/>"), "{}", reply.body);
    get("/services/data/v66.0")
        .bearer(&sid)
        .send(&h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    // Logging out again: the session is gone.
    let again = post(
        "/services/Soap/u/66.0",
        "text/xml",
        with_session(&sid, "<urn:logout/>"),
    )
    .send(&h)
    .await;
    again.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_SESSION_ID");
    assert_eq!(
        again.xml("faultstring").unwrap(),
        "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session"
    );
    assert!(again.body.contains("<sf:UnexpectedErrorFault"));
}

#[tokio::test]
async fn bad_soap_input_gets_a_clear_fault() {
    let h = harness().await;
    let url = "/services/Soap/u/66.0";
    let check =
        async |content_type: &str, body: String, status: StatusCode, code: &str, says: &str| {
            let reply = post(url, content_type, body).send(&h).await;
            reply.fault(status, code);
            let text = reply.xml("faultstring").unwrap();
            assert!(text.contains(says), "expected `{says}` in `{text}`");
        };
    let server_error = StatusCode::INTERNAL_SERVER_ERROR;
    check(
        "text/xml",
        "<login".into(),
        server_error,
        "soapenv:Client",
        "not well-formed XML",
    )
    .await;
    check(
        "text/xml",
        "<a/>".into(),
        server_error,
        "soapenv:Client",
        "not a SOAP 1.1 envelope",
    )
    .await;
    check(
        "text/xml",
        "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY lol \"lol\">]>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
         <soapenv:Body>&lol;</soapenv:Body></soapenv:Envelope>"
            .into(),
        server_error,
        "soapenv:Client",
        "DTD",
    )
    .await;
    let not_utf8 = post(url, "text/xml", vec![0xff_u8, 0xfe, b'<'])
        .send(&h)
        .await;
    not_utf8.fault(server_error, "soapenv:Client");
    assert!(not_utf8.xml("faultstring").unwrap().contains("not UTF-8"));
    check(
        "application/json",
        "{}".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "soapenv:Client",
        "text/xml",
    )
    .await;
    check(
        "text/xml",
        with_session("x", "<query xmlns=\"urn:enterprise.soap.sforce.com\"/>"),
        server_error,
        "soapenv:Client",
        "No operation available for request {urn:enterprise.soap.sforce.com}query",
    )
    .await;
    check(
        "text/xml",
        with_session("x", "<urn:query/>"),
        server_error,
        "sf:INVALID_OPERATION",
        "query",
    )
    .await;
    check(
        "text/xml",
        "x".repeat(65 * 1024),
        StatusCode::PAYLOAD_TOO_LARGE,
        "soapenv:Client",
        "limit of 65536 bytes",
    )
    .await;
    let wrong_method = get(url).send(&h).await;
    wrong_method.fault(StatusCode::METHOD_NOT_ALLOWED, "soapenv:Client");
    assert_eq!(wrong_method.headers["allow"], "POST");
    let unknown_version = post("/services/Soap/u/12.0", "text/xml", jsforce_login("a", "b"))
        .send(&h)
        .await;
    unknown_version.fault(StatusCode::NOT_FOUND, "soapenv:Client");
    let unknown_org = login_call("/orgs/nope", ADMIN_USERNAME, ADMIN_PASSWORD)
        .send(&h)
        .await;
    unknown_org.fault(StatusCode::NOT_FOUND, "soapenv:Client");
    assert!(unknown_org.xml("faultstring").unwrap().contains("`nope`"));
}

#[tokio::test]
async fn a_slow_request_times_out_with_503() {
    // A password check takes far longer than a millisecond.
    let h = harness_with(|s| s.request_timeout = Duration::from_millis(1)).await;
    let reply = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .send(&h)
        .await;
    reply.fault(StatusCode::SERVICE_UNAVAILABLE, "soapenv:Server");
    let rest = get("/services/data").send(&h).await;
    assert!(rest.status == StatusCode::OK || rest.status == StatusCode::SERVICE_UNAVAILABLE);
}
