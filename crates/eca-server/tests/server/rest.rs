//! Org resolution, sessions on REST, the versions list, the resource map and the identity URL.

use axum::http::StatusCode;
use eca_core::domain::Permission;
use eca_server::bootstrap::ADMIN_USERNAME;

use crate::support::*;

#[tokio::test]
async fn every_org_answers_at_root_prefix_and_host() {
    let h = harness().await;
    let (acme, user) = second_org(&h, vec![Permission::ApiEnabled]).await;
    let demo = h.store.default_org().await.unwrap().unwrap();

    // (request, org, serverUrl base)
    let cases = [
        (
            login_call("", ADMIN_USERNAME, ADMIN_PASSWORD),
            &demo,
            PUBLIC_URL.to_owned(),
        ),
        (
            login_call("", ADMIN_USERNAME, ADMIN_PASSWORD).host("localhost:9000"),
            &demo,
            "http://localhost:9000".to_owned(),
        ),
        (
            login_call("", ADMIN_USERNAME, ADMIN_PASSWORD).host("demo.localhost:9000"),
            &demo,
            "http://demo.localhost:9000".to_owned(),
        ),
        (
            login_call("/orgs/acme", &user.username, ADMIN_PASSWORD).host("127.0.0.1:8080"),
            &acme,
            "http://127.0.0.1:8080/orgs/acme".to_owned(),
        ),
        (
            login_call("", &user.username, ADMIN_PASSWORD).host("ACME.localhost:8080"),
            &acme,
            "http://ACME.localhost:8080".to_owned(),
        ),
        // A Host header that is not a plain host[:port] is not echoed into URLs.
        (
            login_call("", ADMIN_USERNAME, ADMIN_PASSWORD).host("evil.example/x"),
            &demo,
            PUBLIC_URL.to_owned(),
        ),
    ];
    for (call, org, base) in cases {
        let reply = call.send(&h).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.xml("serverUrl").unwrap(),
            format!("{base}/services/Soap/u/66.0/{}", org.id.as_15())
        );
        assert_eq!(reply.xml("organizationId").unwrap(), org.id.as_str());
    }

    for call in [
        get("/orgs/nope/services/data"),
        get("/services/data").host("nope.localhost:8080"),
        get("/orgs/bad%20name/services/data"),
        get("/orgs/nope/anything"),
    ] {
        call.send(&h)
            .await
            .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    post("/services/data", "application/json", "{}")
        .send(&h)
        .await
        .rest_error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    get("/nothing/here")
        .send(&h)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn the_versions_list_needs_no_session() {
    let h = harness().await;
    let reply = get("/services/data").send(&h).await;
    assert_eq!(reply.status, StatusCode::OK);
    let list = reply.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 8);
    assert_eq!(
        list[0],
        serde_json::json!({"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"})
    );
    assert_eq!(
        list[7],
        serde_json::json!({"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"})
    );
    let prefixed = get("/orgs/demo/services/data").send(&h).await.json();
    assert_eq!(prefixed[7]["url"], "/services/data/v66.0");
}

#[tokio::test]
async fn a_session_opens_the_resource_map() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = stored_user(&h.store, ADMIN_USERNAME).await;
    let reply = get("/services/data/v66.0").bearer(&sid).send(&h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let map = reply.json();
    assert_eq!(map["sobjects"], "/services/data/v66.0/sobjects");
    assert_eq!(map["query"], "/services/data/v66.0/query");
    assert_eq!(map["tooling"], "/services/data/v66.0/tooling");
    assert_eq!(map["metadata"], "/services/data/v66.0/metadata");
    assert_eq!(map["connect"], "/services/data/v66.0/connect");
    assert_eq!(
        map["identity"],
        format!("{PUBLIC_URL}/id/{}/{}", admin.org_id, admin.id)
    );
    // Salesforce's older `OAuth` scheme works too.
    let oauth = get("/services/data/v59.0")
        .header("authorization", &format!("OAuth {sid}"))
        .send(&h)
        .await;
    assert_eq!(oauth.status, StatusCode::OK);

    get("/services/data/v12.0")
        .bearer(&sid)
        .send(&h)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    for bad in [
        get("/services/data/v66.0"),
        get("/services/data/v66.0").bearer("garbage"),
        get("/services/data/v66.0").bearer(&format!("{sid}x")),
        get("/services/data/v66.0").header("authorization", &format!("Basic {sid}")),
    ] {
        bad.send(&h)
            .await
            .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    }
    let reply = get("/services/data/v66.0").send(&h).await;
    assert_eq!(reply.json()[0]["message"], "Session expired or invalid");
}

#[tokio::test]
async fn sessions_expire_after_the_org_timeout_of_inactivity() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let probe = async || {
        get("/services/data/v66.0")
            .bearer(&sid)
            .send(&h)
            .await
            .status
    };
    // Use moves the expiry on: 119 + 119 minutes with a use in between is fine.
    h.clock.advance_secs(119 * 60);
    assert_eq!(probe().await, StatusCode::OK);
    h.clock.advance_secs(119 * 60);
    assert_eq!(probe().await, StatusCode::OK);
    // Within a minute of the last recorded use nothing is written, so the expiry stays
    // 120 minutes after that use.
    h.clock.advance_secs(30);
    assert_eq!(probe().await, StatusCode::OK);
    h.clock.advance_secs(120 * 60 - 30);
    assert_eq!(probe().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_works_only_on_its_own_org() {
    let h = harness().await;
    let (_, user) = second_org(&h, vec![Permission::ApiEnabled]).await;
    let sid = admin_session(&h).await;
    for call in [
        get("/orgs/acme/services/data/v66.0").bearer(&sid),
        get("/services/data/v66.0")
            .host("acme.localhost:8080")
            .bearer(&sid),
    ] {
        call.send(&h)
            .await
            .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    }
    let acme_sid = login_call("/orgs/acme", &user.username, ADMIN_PASSWORD)
        .send(&h)
        .await
        .xml("sessionId")
        .unwrap();
    let ok = get("/orgs/acme/services/data/v66.0")
        .bearer(&acme_sid)
        .send(&h)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.json()["identity"],
        format!("{PUBLIC_URL}/orgs/acme/id/{}/{}", user.org_id, user.id)
    );
    get("/services/data/v66.0")
        .bearer(&acme_sid)
        .send(&h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    // SOAP says so with a fault.
    post(
        "/services/Soap/u/66.0",
        "text/xml",
        with_session(&acme_sid, "<urn:logout/>"),
    )
    .send(&h)
    .await
    .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_SESSION_ID");
}

#[tokio::test]
async fn the_identity_url_shows_the_sessions_own_user() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = stored_user(&h.store, ADMIN_USERNAME).await;
    let url = format!("/id/{}/{}", admin.org_id, admin.id);
    let reply = get(&url).bearer(&sid).send(&h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id = reply.json();
    assert_eq!(id["id"], format!("{PUBLIC_URL}{url}"));
    assert_eq!(id["user_id"], admin.id.as_str());
    assert_eq!(id["organization_id"], admin.org_id.as_str());
    assert_eq!(id["username"], ADMIN_USERNAME);
    assert_eq!(id["display_name"], "Admin User");
    assert_eq!(id["nick_name"], "admin");
    assert_eq!(id["first_name"], "Admin");
    assert_eq!(id["user_type"], "STANDARD");
    assert_eq!(id["active"], true);
    assert_eq!(id["utcOffset"], -28_800_000);
    assert_eq!(id["status"]["body"], serde_json::Value::Null);
    assert_eq!(id["last_modified_date"], "2026-11-26T00:00:00.000+0000");
    assert_eq!(
        id["urls"]["rest"],
        format!("{PUBLIC_URL}/services/data/v{{version}}/")
    );
    assert_eq!(
        id["urls"]["partner"],
        format!(
            "{PUBLIC_URL}/services/Soap/u/{{version}}/{}",
            admin.org_id.as_15()
        )
    );
    // Nothing verifies email addresses (OpenID Connect Core §5.1).
    assert_eq!(id["email_verified"], false);
    for key in [
        "asserted_user",
        "email",
        "email_verified",
        "last_name",
        "timezone",
        "photos",
        "addr_street",
        "addr_city",
        "addr_state",
        "addr_country",
        "addr_zip",
        "mobile_phone",
        "language",
        "locale",
        "is_app_installed",
    ] {
        assert!(id.get(key).is_some(), "missing {key}");
    }

    // 15-character ids and jsforce's `oauth_token` parameter.
    let short = format!(
        "/id/{}/{}?format=json&oauth_token={}",
        admin.org_id.as_15(),
        admin.id.as_15(),
        sid.replace('!', "%21")
    );
    let reply = get(&short).send(&h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["user_id"], admin.id.as_str());

    // Another user of the same org: forbidden. Not an id: not found. No session: 401.
    let org = h.store.default_org().await.unwrap().unwrap();
    let profile = h.store.profile(&admin.profile_id).await.unwrap().unwrap();
    let other = add_user(&h, &org, &profile, "other@demo.example").await;
    get(&format!("/id/{}/{}", org.id, other.id))
        .bearer(&sid)
        .send(&h)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    get(&format!("/id/{}/nope", org.id))
        .bearer(&sid)
        .send(&h)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    // RFC 6750 §3: a 401 says how to authenticate, and whether the token was the problem.
    let reply = get(&url).send(&h).await;
    reply.rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    assert_eq!(reply.headers["www-authenticate"], "Bearer");
    let reply = get(&url).bearer("00D000000000000!AQnothing").send(&h).await;
    reply.rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    assert_eq!(
        reply.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    // Other refusals are not about authentication.
    let reply = get(&format!("/id/{}/{}", org.id, other.id))
        .bearer(&sid)
        .send(&h)
        .await;
    assert!(reply.headers.get("www-authenticate").is_none());
}

/// API Enabled is checked on every API call, whatever the way in: a browser session, or a
/// session made while the permission was still there, is refused on REST, SOAP and Connect
/// with `API_DISABLED_FOR_ORG` once its user has no API Enabled. The identity URL still
/// answers: it only says who the user is.
#[tokio::test]
async fn the_apis_need_api_enabled_whatever_the_session() {
    let h = harness().await;
    let (acme, user) = second_org(&h, vec![]).await;
    let now = eca_core::Clock::now(h.clock.as_ref());
    for kind in [
        eca_core::domain::SessionKind::Web,
        eca_core::domain::SessionKind::SoapLogin,
    ] {
        let issued =
            eca_server::session::issue(h.store.as_ref(), &acme, &user, kind, now, h.rng.as_ref())
                .await
                .unwrap();
        let sid = issued.id.expose().to_owned();
        let rest = get("/orgs/acme/services/data/v66.0")
            .bearer(&sid)
            .send(&h)
            .await;
        rest.rest_error(StatusCode::FORBIDDEN, "API_DISABLED_FOR_ORG");
        let connect = get("/orgs/acme/services/data/v66.0/apps/oauth/usage")
            .bearer(&sid)
            .send(&h)
            .await;
        connect.rest_error(StatusCode::FORBIDDEN, "API_DISABLED_FOR_ORG");
        let identity = get(&format!("/orgs/acme/id/{}/{}", acme.id, user.id))
            .bearer(&sid)
            .send(&h)
            .await;
        assert_eq!(identity.status, StatusCode::OK, "{}", identity.body);
    }
}
