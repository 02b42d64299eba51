//! The Connect REST API's OAuth resources (issue 6): usage seen through tokens from real grants,
//! with counts and times under a `ManualClock`; revocation each way taking effect at once on
//! refresh, userinfo and introspection (and on a second node over PostgreSQL); the staged
//! credential lifecycle to expiry; permissions; Salesforce's 404s; and the OpenAPI document
//! checked against the real answers.

use axum::http::StatusCode;
use eca_core::domain::{Permission, Permissions, Profile, User};
use eca_core::ids::ExternalClientAppId;
use eca_core::{Clock as _, ProfileId, Timestamp};
use eca_metadata::MetadataType;
use eca_server::rest::identity::rest_datetime;
use serde_json::Value;

use crate::oauth::{
    FORM, KEY, SECRET, World, basic, file, refresh_body, stored_refresh, world, world_on,
};
use crate::support::*;

const V: &str = "/services/data/v66.0/apps/oauth";
const USERINFO: &str = "/services/oauth2/userinfo";

fn app_id(w: &World) -> String {
    ExternalClientAppId::of_app(&w.org.id, "Ci").to_string()
}

async fn call(w: &World, method: &str, path: &str, token: &str) -> Reply {
    request(method, &format!("{V}{path}"), None)
        .bearer(token)
        .send(&w.h)
        .await
}

/// [`call`]'s `GET` at another API version (`v60.0`).
async fn call_at(w: &World, version: &str, path: &str, token: &str) -> Reply {
    request(
        "GET",
        &format!("/services/data/{version}/apps/oauth{path}"),
        None,
    )
    .bearer(token)
    .send(&w.h)
    .await
}

/// `PATCH` of the staged credential at `item` with the `rotate` command.
async fn rotate_in(w: &World, item: &str, token: &str) -> Reply {
    request(
        "PATCH",
        &format!("{V}{item}"),
        Some(r#"{"command":"rotate"}"#),
    )
    .bearer(token)
    .send(&w.h)
    .await
}

/// A client-credentials token of `key`/`secret`, or the refused reply.
async fn cc(w: &World, key: &str, secret: &str) -> Result<String, Reply> {
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={key}&client_secret={secret}"
        ))
        .await;
    if reply.status == StatusCode::OK {
        Ok(reply.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned())
    } else {
        Err(reply)
    }
}

async fn password_token(w: &World) -> String {
    let reply = w
        .token(&format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username={}&password={ADMIN_PASSWORD}",
            form_urlencoded::byte_serialize(w.admin.username.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

async fn refresh(w: &World, key: &str, token: &str) -> Reply {
    w.token(&refresh_body(token, Some(SECRET)).replace(KEY, key))
        .await
}

async fn userinfo(w: &World, token: &str) -> StatusCode {
    get(USERINFO).bearer(token).send(&w.h).await.status
}

async fn introspect_active(w: &World, token: &str) -> bool {
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let reply = post(
        "/services/oauth2/introspect",
        FORM,
        format!("token={encoded}"),
    )
    .header("authorization", &basic(KEY, SECRET))
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["active"] == true
}

fn refresh_hash(value: &str) -> String {
    eca_oauth::TokenHash::of(value).as_str().to_owned()
}

/// A user of the default org with a profile of exactly these permissions.
async fn user_with(w: &World, name: &str, permissions: Vec<Permission>) -> User {
    let profile = Profile {
        id: ProfileId::generate(w.h.rng.as_ref()),
        org_id: w.org.id.clone(),
        name: name.to_owned(),
        permissions: Permissions::new(permissions),
    };
    w.h.store.create_profile(&profile).await.expect("a profile");
    add_user(&w.h, &w.org, &profile, &format!("{name}@demo.example")).await
}

async fn session_of(w: &World, user: &User) -> String {
    let reply = login_call("", &user.username, ADMIN_PASSWORD)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.xml("sessionId").expect("a session id")
}

/// Turns on `enableClientSecretInRestApiAccess`.
pub(crate) async fn allow_secrets(w: &World) {
    w.deploy_files(
        &[file(
            MetadataType::OrgSettings,
            "ExternalClientApp",
            "<enableClientSecretInRestApiAccess>true</enableClientSecretInRestApiAccess>",
        )],
        &[],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn usage_shows_tokens_of_real_grants_with_counts_and_times() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let admin = admin_session(&w.h).await;
    // Nothing used yet.
    let reply = call(&w, "GET", "/usage", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["apps"], serde_json::json!([]));

    // START: a client-credentials token for the run-as user.
    cc(&w, KEY, SECRET).await.expect("a token");
    // +60 s: a password-grant token for the admin.
    w.h.clock.advance_secs(60);
    password_token(&w).await;
    // +60 s: a refresh token of the run-as user (the browser flows that issue them are another
    // branch's), then two refreshes at +120 s and +180 s.
    let rt = stored_refresh(&w, "5Aep861usage.refresh.token", "family-1").await;
    w.h.clock.advance_secs(60);
    assert_eq!(refresh(&w, KEY, &rt).await.status, StatusCode::OK);
    w.h.clock.advance_secs(60);
    assert_eq!(refresh(&w, KEY, &rt).await.status, StatusCode::OK);

    let id = app_id(&w);
    let reply = call(&w, "GET", "/usage", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "apps": [{
                "accessTokenFormat": "Opaque",
                "availableActions": "disable, enable",
                "description": null,
                "developerName": "Ci",
                "identifier": id,
                "isFromPackage": false,
                "usageDetailsUrl": format!("{V}/usage/{id}/users"),
            }],
            "currentPageUrl": format!("{V}/usage?page=0&pageSize=100"),
            "nextPageUrl": format!("{V}/usage?page=1&pageSize=100"),
        })
    );
    // A page beyond the end is empty, and still names a next page.
    let reply = call(&w, "GET", "/usage?page=1&pageSize=1", &admin).await;
    assert_eq!(reply.json()["apps"], serde_json::json!([]));
    assert_eq!(
        reply.json()["nextPageUrl"],
        format!("{V}/usage?page=2&pageSize=1")
    );

    // Users, by the 15-character id of the app.
    let reply = call(&w, "GET", &format!("/usage/{}/users", &id[..15]), &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let users = reply.json()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), 2, "{}", reply.body);
    let find = |u: &User| {
        users
            .iter()
            .find(|e| e["userIdentifier"] == u.id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{} is listed", u.username))
    };
    let t = |secs: i64| rest_datetime(Timestamp(START.millis() + secs * 1000));
    assert_eq!(
        find(&w.run_as),
        serde_json::json!({
            "accessTokenFormat": "Opaque",
            "appDeveloperName": "Ci",
            "appIdentifier": id,
            "initialConnectionAt": t(0),
            "lastUsedAt": t(180),
            "revocationUrl": format!("{V}/usage/{id}/{}/tokens", w.run_as.id),
            // One client-credentials token and two refreshes.
            "useCount": 3,
            "userIdentifier": w.run_as.id.as_str(),
            "username": w.run_as.username,
        })
    );
    let admin_entry = find(&w.admin);
    assert_eq!(admin_entry["useCount"], 1);
    assert_eq!(admin_entry["initialConnectionAt"], t(60));
    assert_eq!(admin_entry["lastUsedAt"], t(60));

    // The run-as user's refresh tokens, by developer name and 15-character user id.
    let reply = call(
        &w,
        "GET",
        &format!("/usage/ci/{}/tokens", w.run_as.id.as_15()),
        &admin,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "currentPageUrl": format!("{V}/usage/{id}/{}/tokens", w.run_as.id),
            "tokens": [{
                "accessTokenFormat": "Opaque",
                "appDeveloperName": "Ci",
                "appIdentifier": id,
                "initialConnectionAt": t(60),
                "lastUsedAt": t(180),
                "revocationUrl": format!("{V}/usage/tokens/{}", refresh_hash(&rt)),
                "useCount": 2,
                "userIdentifier": w.run_as.id.as_str(),
                "username": w.run_as.username,
            }],
        })
    );
    // Once the access tokens have expired, only the refresh token's user is left.
    w.h.clock
        .advance_secs(w.org.session_timeout_minutes * 60 + 1);
    let admin = admin_session(&w.h).await;
    let reply = call(&w, "GET", &format!("/usage/{id}/users"), &admin).await;
    let users = reply.json()["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["useCount"], 2);

    // Every call is in the audit trail.
    let trail =
        w.h.store
            .audit_trail(&w.org.id, 0, 100)
            .await
            .expect("store");
    let viewed = trail
        .iter()
        .filter(|r| r.entry.action == eca_store::AuditAction::UsageViewed)
        .count();
    assert_eq!(viewed, 6);
}

#[tokio::test]
async fn revocation_each_way_stops_tokens_at_once() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let admin = admin_session(&w.h).await;
    let id = app_id(&w);
    // A refresh token and an access token issued from it.
    let rt = stored_refresh(&w, "5Aep861revoke.one", "family-1").await;
    let reply = refresh(&w, KEY, &rt).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let from_refresh = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let other = cc(&w, KEY, SECRET).await.expect("a token");
    assert_eq!(userinfo(&w, &from_refresh).await, StatusCode::OK);
    assert!(introspect_active(&w, &from_refresh).await);

    // One token: the refresh token and what it issued stop at once; the others go on.
    let path = format!("/usage/tokens/{}", refresh_hash(&rt));
    let reply = call(&w, "DELETE", &path, &admin).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(reply.body.is_empty());
    assert_eq!(refresh(&w, KEY, &rt).await.json()["error"], "invalid_grant");
    assert_eq!(userinfo(&w, &from_refresh).await, StatusCode::UNAUTHORIZED);
    assert!(!introspect_active(&w, &from_refresh).await);
    assert_eq!(userinfo(&w, &other).await, StatusCode::OK);
    call(&w, "DELETE", &path, &admin)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    // An expired refresh token is no live token either: 404, and nothing is revoked.
    let mut record =
        w.h.store
            .refresh_token(&refresh_hash(&rt))
            .await
            .unwrap()
            .unwrap();
    record.token_hash = refresh_hash("5Aep861revoke.ended");
    record.family_id = "family-ended".to_owned();
    record.revoked_at = None;
    record.expires_at = Some(w.h.clock.now());
    w.h.store.create_refresh_token(&record).await.unwrap();
    call(
        &w,
        "DELETE",
        &format!("/usage/tokens/{}", record.token_hash),
        &admin,
    )
    .await
    .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");

    // One user's tokens of the app.
    let rt2 = stored_refresh(&w, "5Aep861revoke.user", "family-2").await;
    let admins = password_token(&w).await;
    let reply = call(
        &w,
        "DELETE",
        &format!("/usage/{id}/{}/tokens", w.run_as.id),
        &admin,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(userinfo(&w, &other).await, StatusCode::UNAUTHORIZED);
    assert!(!introspect_active(&w, &other).await);
    assert_eq!(
        refresh(&w, KEY, &rt2).await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(userinfo(&w, &admins).await, StatusCode::OK);

    // Every token of the app.
    let fresh = cc(&w, KEY, SECRET).await.expect("a token");
    let reply = call(&w, "DELETE", "/usage/Ci/tokens", &admin).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(userinfo(&w, &admins).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo(&w, &fresh).await, StatusCode::UNAUTHORIZED);
    let reply = call(&w, "GET", "/usage", &admin).await;
    assert_eq!(reply.json()["apps"], serde_json::json!([]));
    let revoked =
        w.h.store
            .audit_trail(&w.org.id, 0, 100)
            .await
            .expect("store")
            .iter()
            .filter(|r| r.entry.action == eca_store::AuditAction::TokensRevoked)
            .count();
    assert_eq!(revoked, 3);
}

#[tokio::test]
async fn users_see_and_revoke_only_their_own_tokens() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let id = app_id(&w);
    // The run-as user, acting through its own client-credentials token.
    let own = cc(&w, KEY, SECRET).await.expect("a token");
    let rt = stored_refresh(&w, "5Aep861mine", "family-1").await;
    let admin_rt = {
        let value = "5Aep861admins";
        let mut record =
            w.h.store
                .refresh_token(&refresh_hash(&rt))
                .await
                .expect("store")
                .expect("the token");
        record.token_hash = refresh_hash(value);
        record.user_id = w.admin.id.clone();
        record.family_id = "family-2".to_owned();
        w.h.store
            .create_refresh_token(&record)
            .await
            .expect("store");
        value
    };

    // A refused call never waits for the token writer: anyone with API access can make one,
    // and each wait ends the writer's gathering of a batch early.
    let syncs = w.h.state.token_writer().syncs();
    call(&w, "GET", "/usage", &own)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    call(&w, "GET", &format!("/usage/{id}/users"), &own)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    call(&w, "GET", "/credentials/Ci", &own)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert_eq!(w.h.state.token_writer().syncs(), syncs);
    let reply = call(
        &w,
        "GET",
        &format!("/usage/{id}/{}/tokens", w.run_as.id),
        &own,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["tokens"].as_array().map(Vec::len), Some(1));
    call(
        &w,
        "GET",
        &format!("/usage/{id}/{}/tokens", w.admin.id),
        &own,
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    call(
        &w,
        "DELETE",
        &format!("/usage/{id}/{}/tokens", w.admin.id),
        &own,
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    call(
        &w,
        "DELETE",
        &format!("/usage/tokens/{}", refresh_hash(admin_rt)),
        &own,
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    call(&w, "DELETE", "/usage/Ci/tokens", &own)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert_eq!(
        w.h.state.token_writer().syncs(),
        syncs + 1,
        "only the allowed listing"
    );
    // Their own refresh token: revoked.
    let reply = call(
        &w,
        "DELETE",
        &format!("/usage/tokens/{}", refresh_hash(&rt)),
        &own,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(refresh(&w, KEY, &rt).await.json()["error"], "invalid_grant");
    assert_eq!(refresh(&w, KEY, admin_rt).await.status, StatusCode::OK);

    // A viewer sees everything and revokes nothing of others'.
    let viewer = user_with(
        &w,
        "viewer",
        vec![Permission::ApiEnabled, Permission::ExternalClientAppViewer],
    )
    .await;
    let session = session_of(&w, &viewer).await;
    assert_eq!(
        call(&w, "GET", "/usage", &session).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &w,
            "GET",
            &format!("/usage/{id}/{}/tokens", w.admin.id),
            &session
        )
        .await
        .status,
        StatusCode::OK
    );
    call(&w, "DELETE", "/usage/Ci/tokens", &session)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // Their own (none) they may revoke: 204.
    let reply = call(
        &w,
        "DELETE",
        &format!("/usage/{id}/{}/tokens", viewer.id),
        &session,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    // Without a session: 401.
    request("GET", &format!("{V}/usage"), None)
        .send(&w.h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    // Each refusal is in the audit trail, with who asked.
    let refused: Vec<_> =
        w.h.store
            .audit_trail(&w.org.id, 0, 100)
            .await
            .expect("store")
            .into_iter()
            .filter(|r| r.entry.action == eca_store::AuditAction::AccessRefused)
            .collect();
    assert_eq!(refused.len(), 8);
    assert_eq!(refused[0].user_id, w.run_as.id);
    assert_eq!(refused[7].user_id, viewer.id);
}

#[tokio::test]
async fn unknown_identifiers_versions_and_parameters_are_refused_clearly() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    // Staged resources answer 403 before they look anything up when secrets are off.
    allow_secrets(&w).await;
    let admin = admin_session(&w.h).await;
    let id = app_id(&w);
    for path in [
        "/usage/NoSuchApp/users".to_owned(),
        "/usage/0xI000000000000/users".to_owned(),
        format!("/usage/{id}/005000000000000/tokens"),
        format!("/usage/{id}/not-an-id/tokens"),
        "/usage/tokens/0123".to_owned(),
        format!("/usage/tokens/{}", "ab".repeat(32)),
        "/credentials/NoSuchApp".to_owned(),
        format!("/credentials/{id}/888000000000000"),
        format!("/credentials/{id}/888000000000000/staged"),
    ] {
        let method = if path.starts_with("/usage/tokens") {
            "DELETE"
        } else {
            "GET"
        };
        let reply = call(&w, method, &path, &admin).await;
        reply.rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
        assert!(
            reply.json()[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("does not exist")),
            "{path}: {}",
            reply.body
        );
    }
    // Versions: usage from 59.0, credentials from 60.0, staged from 65.0.
    for (version, path, status) in [
        ("v58.0", "/usage", StatusCode::NOT_FOUND),
        ("v59.0", "/usage", StatusCode::OK),
        ("v59.0", "/credentials/Ci", StatusCode::NOT_FOUND),
        ("v60.0", "/credentials/Ci", StatusCode::OK),
        ("v99.0", "/usage", StatusCode::NOT_FOUND),
        ("vX", "/usage", StatusCode::NOT_FOUND),
    ] {
        let reply = call_at(&w, version, path, &admin).await;
        assert_eq!(reply.status, status, "{version}{path}: {}", reply.body);
    }
    let consumer = w.ci_consumer().await;
    let reply = request(
        "GET",
        &format!(
            "/services/data/v64.0/apps/oauth/credentials/Ci/{}/staged",
            consumer.id
        ),
        None,
    )
    .bearer(&admin)
    .send(&w.h)
    .await;
    reply.rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    // So before 65.0 a consumer names no staged URL; from 65.0 it does.
    for (version, staged) in [("v60.0", false), ("v64.0", false), ("v65.0", true)] {
        for path in [
            "/credentials/Ci".to_owned(),
            format!("/credentials/Ci/{}", consumer.id),
        ] {
            let reply = call_at(&w, version, &path, &admin).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let json = reply.json();
            let answer = json["consumers"].get(0).unwrap_or(&json);
            assert_eq!(
                answer.get("stagedCredentialsUrl").is_some(),
                staged,
                "{version}{path}: {}",
                reply.body
            );
        }
    }
    // Paging parameters.
    for query in ["pageSize=0", "pageSize=1001", "page=-1", "page=x"] {
        let reply = call(&w, "GET", &format!("/usage?{query}"), &admin).await;
        reply.rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD");
        let name = query.split('=').next().unwrap_or_default();
        assert!(
            reply.body.contains(&format!("parameter {name}")),
            "{}",
            reply.body
        );
    }
    // part=
    let reply = call(
        &w,
        "GET",
        &format!("/credentials/Ci/{}?part=everything", consumer.id),
        &admin,
    )
    .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD");
    // What the framework refuses before any handler runs answers in the REST error shape too,
    // with the parameter named.
    let reply = call(
        &w,
        "GET",
        &format!("/credentials/Ci/{}?part=key&part=secret", consumer.id),
        &admin,
    )
    .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST");
    assert!(reply.body.contains("part"), "{}", reply.body);
    let reply = call(&w, "GET", "/credentials/%C3%28", &admin).await;
    reply.rest_error(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST");
    let reply = request(
        "PATCH",
        &format!("{V}/credentials/Ci/{}/staged/0Cs000000000000", consumer.id),
        Some("{not json"),
    )
    .bearer(&admin)
    .send(&w.h)
    .await;
    assert!(
        reply.status.is_client_error() && reply.json()[0]["errorCode"].is_string(),
        "{}",
        reply.body
    );
    // GET on a DELETE-only resource.
    let reply = call(&w, "GET", "/usage/Ci/tokens", &admin).await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        reply.body
    );
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn secrets_need_the_org_setting_and_view_client_secret() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let admin = admin_session(&w.h).await;
    let consumer = w.ci_consumer().await;
    let id = app_id(&w);
    let reply = call(&w, "GET", "/credentials/Ci", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // No REST answer may be kept by a cache: some carry secrets (RFC 9111 §5.2.2.5).
    assert_eq!(reply.headers["cache-control"], "no-store");
    let url = format!("{V}/credentials/{id}/{}", consumer.id);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "consumers": [{
                "id": consumer.id.as_str(),
                "key": KEY,
                "name": "Ci",
                "stagedCredentialsUrl": format!("{url}/staged"),
                "url": url,
            }],
            "currentPageUrl": format!("{V}/credentials/{id}"),
            "nextPageUrl": null,
        })
    );
    let path = format!("/credentials/{id}/{}", consumer.id);
    let reply = call(&w, "GET", &path, &admin).await;
    assert_eq!(reply.json()["key"], KEY);
    assert!(reply.json().get("secret").is_none());
    // The setting is off: a clear 403 naming it.
    let reply = call(&w, "GET", &format!("{path}?part=secret"), &admin).await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert!(
        reply.body.contains("enableClientSecretInRestApiAccess"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains(SECRET));
    allow_secrets(&w).await;
    let reply = call(&w, "GET", &format!("{path}?part=secret"), &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["secret"], SECRET);
    assert!(reply.json().get("key").is_none());
    let reply = call(&w, "GET", &format!("{path}?part=keyandsecret"), &admin).await;
    assert_eq!(reply.json()["secret"], SECRET);
    assert_eq!(reply.json()["key"], KEY);

    // A developer without View Client Secret sees keys, not secrets.
    let dev = user_with(
        &w,
        "dev",
        vec![
            Permission::ApiEnabled,
            Permission::ExternalClientAppDeveloper,
        ],
    )
    .await;
    let session = session_of(&w, &dev).await;
    assert_eq!(
        call(&w, "GET", &path, &session).await.status,
        StatusCode::OK
    );
    let reply = call(&w, "GET", &format!("{path}?part=secret"), &session).await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert!(reply.body.contains("View Client Secret"), "{}", reply.body);
    let reply = call(&w, "POST", &format!("{path}/staged"), &session).await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // Nor may they read, rotate in or delete a credential someone else staged: every staged
    // resource needs secret access (spec §3 prerequisites).
    let reply = call(&w, "POST", &format!("{path}/staged"), &admin).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let staged_id = reply.json()["stagedCredentials"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let item = format!("{path}/staged/{staged_id}");
    for (method, what) in [
        ("GET", format!("{path}/staged")),
        ("GET", item.clone()),
        ("DELETE", item.clone()),
    ] {
        let reply = call(&w, method, &what, &session).await;
        reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
        assert!(reply.body.contains("View Client Secret"), "{}", reply.body);
    }
    let reply = rotate_in(&w, &item, &session).await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // Nothing changed: the primary still authenticates and the staged one is still Active.
    cc(&w, KEY, SECRET).await.expect("the primary still works");
    let reply = call(&w, "GET", &item, &admin).await;
    assert_eq!(reply.json()["state"], "Active", "{}", reply.body);
    // An admin who is not a developer: no credentials at all.
    let viewer = user_with(
        &w,
        "admin2",
        vec![
            Permission::ApiEnabled,
            Permission::ExternalClientAppAdmin,
            Permission::ViewClientSecret,
        ],
    )
    .await;
    let session = session_of(&w, &viewer).await;
    let reply = call(&w, "GET", "/credentials/Ci", &session).await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert!(reply.body.contains("External Client App Developer"));
    let secrets_read =
        w.h.store
            .audit_trail(&w.org.id, 0, 100)
            .await
            .expect("store")
            .iter()
            .filter(|r| r.entry.action == eca_store::AuditAction::SecretViewed)
            .count();
    // The two `?part=` reads, and the admin's read of the staged credential.
    assert_eq!(secrets_read, 3);
}

#[tokio::test]
async fn usage_counts_every_refresh_of_a_rotating_grant_from_its_first_issue() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global = "<isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>".to_owned();
    w.deploy(&spec).await;
    let admin = admin_session(&w.h).await;
    let mut rt = stored_refresh(&w, "5Aep861usage.rotating", "family-rot").await;
    for _ in 0..3 {
        w.h.clock.advance_secs(60);
        let reply = refresh(&w, KEY, &rt).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        rt = reply.json()["refresh_token"]
            .as_str()
            .expect("a token")
            .to_owned();
    }
    w.h.state.token_writer().sync().await;
    let id = app_id(&w);
    let reply = call(&w, "GET", &format!("/usage/{id}/users"), &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let users = reply.json()["users"].clone();
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    let t = |secs: i64| rest_datetime(Timestamp(START.millis() + secs * 1000));
    assert_eq!(users[0]["useCount"], 3, "{users}");
    assert_eq!(users[0]["initialConnectionAt"], t(0));
    assert_eq!(users[0]["lastUsedAt"], t(180));
}

/// A redeploy that gives the app a refresh-token lifetime ends the live tokens it no longer
/// accepts: the usage API, which reads the stored ends, agrees with the refresh grant.
#[tokio::test]
async fn a_new_lifetime_policy_ends_the_listed_refresh_tokens() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let admin = admin_session(&w.h).await;
    let rt = stored_refresh(&w, "5Aep861usage.endless", "family-endless").await;
    let mut spec = w.ci();
    spec.policies.push_str(
        "<refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>\
         <refreshTokenValidityPeriod>1</refreshTokenValidityPeriod>\
         <refreshTokenValidityUnit>Hours</refreshTokenValidityUnit>",
    );
    w.deploy(&spec).await;
    let id = app_id(&w);
    let tokens = format!("/usage/{id}/{}/tokens", w.run_as.id);
    let reply = call(&w, "GET", &tokens, &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["tokens"].as_array().map(Vec::len),
        Some(1),
        "{}",
        reply.body
    );
    w.h.clock.advance_secs(2 * 3_600);
    let admin = admin_session(&w.h).await;
    assert_eq!(refresh(&w, KEY, &rt).await.status, StatusCode::BAD_REQUEST);
    let reply = call(&w, "GET", &tokens, &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["tokens"].as_array().map(Vec::len),
        Some(0),
        "{}",
        reply.body
    );
    let reply = call(&w, "GET", "/usage", &admin).await;
    assert_eq!(
        reply.json()["apps"].as_array().map(Vec::len),
        Some(0),
        "{}",
        reply.body
    );
    let path = format!("/usage/tokens/{}", refresh_hash(&rt));
    let reply = call(&w, "DELETE", &path, &admin).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}

/// With rotation, the identifier an admin listed names a token that the client's next refresh
/// rotates away. Revoking it later still ends the grant, which lives on in its newest token;
/// a 404 would read as "already gone" while the grant keeps working.
#[tokio::test]
async fn revoking_a_listed_token_that_rotation_replaced_revokes_its_grant() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global = "<isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>".to_owned();
    w.deploy(&spec).await;
    let admin = admin_session(&w.h).await;
    let listed = stored_refresh(&w, "5Aep861usage.listed", "family-listed").await;
    let reply = refresh(&w, KEY, &listed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let newest = reply.json()["refresh_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let path = format!("/usage/tokens/{}", refresh_hash(&listed));
    let reply = call(&w, "DELETE", &path, &admin).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = refresh(&w, KEY, &newest).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    // Now the whole grant is gone: 404.
    let reply = call(&w, "DELETE", &path, &admin).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}

#[tokio::test]
async fn the_usage_apis_token_format_is_the_one_the_grants_issue() {
    // The admin's policies decide over the developer's global settings (API 61–63 only).
    let w = world().await;
    let admin = admin_session(&w.h).await;
    let format_listed = || async {
        let reply = call(&w, "GET", "/usage", &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["apps"][0]["accessTokenFormat"].clone()
    };
    let issued = || async {
        let reply = w
            .token(&format!(
                "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
            ))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["token_format"].clone()
    };
    // Global settings on, policies silent: JWTs.
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    w.deploy(&spec).await;
    assert_eq!(issued().await, "jwt");
    assert_eq!(format_listed().await, "JWT");
    // The policies say no: opaque tokens, and the listing says so.
    spec.policies
        .push_str("<isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>");
    w.deploy_at(&spec, eca_metadata::ApiVersion::new(63)).await;
    assert_eq!(issued().await, Value::Null);
    assert_eq!(format_listed().await, "Opaque");
    // The policies say yes over global settings that say nothing.
    let mut spec = w.ci();
    spec.policies
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    w.deploy_at(&spec, eca_metadata::ApiVersion::new(63)).await;
    assert_eq!(issued().await, "jwt");
    assert_eq!(format_listed().await, "JWT");
}

#[tokio::test]
async fn staged_credentials_rotate_and_expire_after_thirty_days() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    allow_secrets(&w).await;
    let mut admin = admin_session(&w.h).await;
    let consumer = w.ci_consumer().await;
    let staged_path = format!("/credentials/Ci/{}/staged", consumer.id);
    // A refresh token issued under the first key.
    let rt = stored_refresh(&w, "5Aep861rotation", "family-1").await;

    let reply = call(&w, "GET", &staged_path, &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["stagedCredentials"], serde_json::json!([]));

    // Stage: a new key and secret, Active, for 30 days.
    let reply = call(&w, "POST", &staged_path, &admin).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let staged = reply.json()["stagedCredentials"][0].clone();
    let key2 = staged["key"].as_str().expect("a key").to_owned();
    let secret2 = staged["secret"].as_str().expect("a secret").to_owned();
    let staged_id = staged["id"].as_str().expect("an id").to_owned();
    assert!(key2.starts_with("3MVG9") && key2 != KEY);
    assert_eq!(staged["state"], "Active");
    assert_eq!(staged["createdBy"], w.admin.id.as_str());
    assert_eq!(staged["createdDate"], rest_datetime(START));
    assert_eq!(
        staged["expirationDate"],
        rest_datetime(START.plus_minutes(30 * 24 * 60))
    );
    assert!(
        staged["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/staged/{staged_id}")))
    );
    // The secret is stored encrypted, never in clear.
    let row =
        w.h.store
            .staged_credential_by_key(&key2)
            .await
            .expect("store")
            .expect("the row");
    assert!(
        !row.encrypted_secret
            .windows(secret2.len())
            .any(|win| win == secret2.as_bytes())
    );
    // Reading it back shows its secret: audited as a secret read, as the consumer's own.
    let secrets_read = || async {
        w.h.store
            .audit_trail(&w.org.id, 0, 1000)
            .await
            .expect("store")
            .iter()
            .filter(|r| r.entry.action == eca_store::AuditAction::SecretViewed)
            .count()
    };
    let before = secrets_read().await;
    let reply = call(&w, "GET", &staged_path, &admin).await;
    assert_eq!(
        reply.json()["stagedCredentials"][0]["secret"],
        secret2.as_str()
    );
    let reply = call(&w, "GET", &format!("{staged_path}/{staged_id}"), &admin).await;
    assert_eq!(reply.json()["secret"], secret2.as_str());
    assert_eq!(secrets_read().await, before + 2);
    // One at a time.
    call(&w, "POST", &staged_path, &admin)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "DUPLICATE_VALUE");
    // Both authenticate; a wrong secret for the staged key does not.
    cc(&w, KEY, SECRET).await.expect("the primary works");
    cc(&w, &key2, &secret2).await.expect("the staged works");
    assert_eq!(
        cc(&w, &key2, SECRET).await.expect_err("refused").json()["error"],
        "invalid_client"
    );

    // Rotate: the staged pair becomes the primary, the old one stays as Rotated.
    w.h.clock.advance_secs(24 * 3600);
    // The admin's session lives two hours: log in again.
    admin = admin_session(&w.h).await;
    let item = format!("{staged_path}/{staged_id}");
    let reply = rotate_in(&w, &item, &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let rotated = reply.json();
    assert_eq!(rotated["state"], "Rotated");
    assert_eq!(rotated["key"], KEY);
    assert_eq!(rotated["secret"], SECRET);
    let rotated_at = w.h.clock.now();
    assert_eq!(
        rotated["expirationDate"],
        rest_datetime(rotated_at.plus_minutes(30 * 24 * 60))
    );
    let reply = call(
        &w,
        "GET",
        &format!("/credentials/Ci/{}?part=keyandsecret", consumer.id),
        &admin,
    )
    .await;
    assert_eq!(reply.json()["key"], key2.as_str());
    assert_eq!(reply.json()["secret"], secret2.as_str());
    // A second rotate: not Active any more.
    let reply = rotate_in(&w, &item, &admin).await;
    reply.rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    for body in [r#"{"command":"promote"}"#, "{}", "rotate"] {
        let reply = request("PATCH", &format!("{V}{item}"), Some(body))
            .bearer(&admin)
            .send(&w.h)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
    }
    // A retrieve names the new primary key, and deploying what it gave back is no change of
    // key: the stored file is as the metadata deploy left it, the consumer is what counts.
    let manifest = eca_metadata::project::manifest::Manifest::from_components(
        [(MetadataType::GlobalOauthSettings, "Ci_glbloauth")],
        eca_metadata::ApiVersion::DEFAULT,
    );
    let retrieved = eca_deploy::retrieve(w.h.store.as_ref(), &w.org.id, &manifest)
        .await
        .expect("a retrieve");
    let files = crate::metadata::unzip(&retrieved.zip);
    let (_, global) = files
        .iter()
        .find(|(name, _)| name.ends_with(".ecaGlblOauth"))
        .expect("the global OAuth settings");
    assert!(
        global.contains(&format!("<consumerKey>{key2}</consumerKey>")),
        "{global}"
    );
    let body = global
        .split_once(
            "<ExtlClntAppGlobalOauthSettings xmlns=\"http://soap.sforce.com/2006/04/metadata\">",
        )
        .and_then(|(_, rest)| rest.rsplit_once("</ExtlClntAppGlobalOauthSettings>"))
        .map(|(inner, _)| inner.to_owned())
        .expect("the file's body");
    w.deploy_files(
        &[file(
            MetadataType::GlobalOauthSettings,
            "Ci_glbloauth",
            &body,
        )],
        &[],
    )
    .await;
    // Both still authenticate, and the refresh token issued under the old key refreshes with
    // either key.
    cc(&w, KEY, SECRET).await.expect("the rotated works");
    cc(&w, &key2, &secret2)
        .await
        .expect("the new primary works");
    assert_eq!(refresh(&w, KEY, &rt).await.status, StatusCode::OK);
    let reply = w
        .token(&format!(
            "grant_type=refresh_token&client_id={key2}&client_secret={secret2}&refresh_token={rt}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // 30 days after the rotation the old pair expires; refresh tokens issued under it live
    // on until revoked.
    w.h.clock.set(rotated_at.plus_minutes(30 * 24 * 60));
    // (The admin's session has expired meanwhile.)
    admin = admin_session(&w.h).await;
    let reply = call(&w, "GET", &item, &admin).await;
    assert_eq!(reply.json()["state"], "Expired");
    // It no longer authenticates, so its secret is not shown again.
    assert!(reply.json().get("secret").is_none(), "{}", reply.body);
    assert!(!reply.body.contains(SECRET));
    let reply = call(&w, "GET", &staged_path, &admin).await;
    assert!(!reply.body.contains(SECRET), "{}", reply.body);
    assert_eq!(reply.json()["stagedCredentials"][0]["state"], "Expired");
    assert_eq!(
        cc(&w, KEY, SECRET).await.expect_err("refused").json()["error"],
        "invalid_client_id"
    );
    assert_eq!(
        refresh(&w, KEY, &rt).await.json()["error"],
        "invalid_client_id"
    );
    let reply = w
        .token(&format!(
            "grant_type=refresh_token&client_id={key2}&client_secret={secret2}&refresh_token={rt}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // An expired credential gives way to a new one; deleting it refuses it at once.
    let reply = call(&w, "POST", &staged_path, &admin).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let staged = reply.json()["stagedCredentials"][0].clone();
    let (key3, secret3) = (
        staged["key"].as_str().expect("a key").to_owned(),
        staged["secret"].as_str().expect("a secret").to_owned(),
    );
    cc(&w, &key3, &secret3).await.expect("the new staged works");
    let item3 = format!("{staged_path}/{}", staged["id"].as_str().expect("an id"));
    let reply = call(&w, "DELETE", &item3, &admin).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(
        cc(&w, &key3, &secret3).await.expect_err("refused").json()["error"],
        "invalid_client_id"
    );
    call(&w, "DELETE", &item3, &admin)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");

    // A staged credential never rotated in expires after 30 days too.
    let reply = call(&w, "POST", &staged_path, &admin).await;
    let staged = reply.json()["stagedCredentials"][0].clone();
    let (key4, secret4) = (
        staged["key"].as_str().expect("a key").to_owned(),
        staged["secret"].as_str().expect("a secret").to_owned(),
    );
    w.h.clock.advance_secs(30 * 24 * 3600 - 1);
    cc(&w, &key4, &secret4).await.expect("still valid");
    w.h.clock.advance_secs(1);
    admin = admin_session(&w.h).await;
    assert_eq!(
        cc(&w, &key4, &secret4).await.expect_err("refused").json()["error"],
        "invalid_client_id"
    );
    let item4 = format!("{staged_path}/{}", staged["id"].as_str().expect("an id"));
    let reply = rotate_in(&w, &item4, &admin).await;
    reply.rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");

    let actions: Vec<_> =
        w.h.store
            .audit_trail(&w.org.id, 0, 200)
            .await
            .expect("store")
            .iter()
            .map(|r| r.entry.action)
            .collect();
    use eca_store::AuditAction::*;
    for action in [CredentialStaged, CredentialRotated, StagedCredentialDeleted] {
        assert!(actions.contains(&action), "{action:?} audited");
    }
}

#[tokio::test]
async fn only_local_apps_stage_credentials() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    allow_secrets(&w).await;
    w.deploy_files(
        &[file(
            MetadataType::ExternalClientApplication,
            "Ci",
            "<contactEmail>dev@example.com</contactEmail><distributionState>Packaged</distributionState><label>Ci</label>",
        )],
        &[],
    )
    .await;
    let admin = admin_session(&w.h).await;
    let consumer = w.ci_consumer().await;
    let reply = call(
        &w,
        "POST",
        &format!("/credentials/Ci/{}/staged", consumer.id),
        &admin,
    )
    .await;
    reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    assert!(reply.body.contains("Local"), "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Two nodes on one PostgreSQL database
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_see_revocation_and_rotation_at_once() {
    crate::support::on_postgres(
        "two_nodes_on_postgres_see_revocation_and_rotation_at_once",
        |db| async move {
            let w = world_on(db.store).await;
            two_nodes(&w).await;
        },
    )
    .await;
}

async fn two_nodes(w: &World) {
    w.deploy(&w.ci()).await;
    allow_secrets(w).await;
    let second = w.node();
    let admin = admin_session(&w.h).await;
    // A token from node 1 works on node 2.
    let token = cc(w, KEY, SECRET).await.expect("a token");
    let rt = stored_refresh(w, "5Aep861twonodes", "family-1").await;
    let on_second = |path: &str, token: &str| get(path).bearer(token).send_to(&second);
    assert_eq!(on_second(USERINFO, &token).await.status, StatusCode::OK);
    // Revoked through node 2: refused on node 1 at the next request.
    let reply = request("DELETE", &format!("{V}/usage/Ci/tokens"), None)
        .bearer(&admin)
        .send_to(&second)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(userinfo(w, &token).await, StatusCode::UNAUTHORIZED);
    assert!(!introspect_active(w, &token).await);
    assert_eq!(refresh(w, KEY, &rt).await.json()["error"], "invalid_grant");

    // Staged on node 1, it authenticates on node 2; deleted on node 2, refused on node 1.
    let consumer = w.ci_consumer().await;
    let staged_path = format!("{V}/credentials/Ci/{}/staged", consumer.id);
    let reply = request("POST", &staged_path, None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let staged = reply.json()["stagedCredentials"][0].clone();
    let (key2, secret2) = (
        staged["key"].as_str().expect("a key").to_owned(),
        staged["secret"].as_str().expect("a secret").to_owned(),
    );
    let cc_body = format!("grant_type=client_credentials&client_id={key2}&client_secret={secret2}");
    let reply = post(crate::oauth::TOKEN, FORM, cc_body.clone())
        .send_to(&second)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = request(
        "DELETE",
        &format!("{staged_path}/{}", staged["id"].as_str().expect("an id")),
        None,
    )
    .bearer(&admin)
    .send_to(&second)
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = w.token(&cc_body).await;
    assert_eq!(reply.json()["error"], "invalid_client_id", "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document against the real answers
// ---------------------------------------------------------------------------------------------

/// Follows a `$ref` within the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unsupported type {other}"),
    }
}

/// The ways `value` breaks `schema`: wrong types, missing required properties, undocumented
/// properties (`additionalProperties: false`), values outside an `enum`.
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
        out.push(format!("{at}: {value} is not {types:?}"));
        return out;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            let key = required.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                out.push(format!("{at}: required property {key} is missing"));
            }
        }
        for (key, v) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(s) => out.extend(violations(doc, s, v, &format!("{at}.{key}"))),
                None if schema["additionalProperties"] == false => {
                    out.push(format!("{at}: property {key} is not documented"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            out.extend(violations(doc, items, v, &format!("{at}[{i}]")));
        }
    }
    out
}

/// Checks one real answer against the document's operation `method path`.
fn check_answer(doc: &Value, path: &str, method: &str, reply: &Reply) {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is documented");
    let status = reply.status.as_u16().to_string();
    let response = &operation["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {path}: status {status} is documented ({})",
        reply.body
    );
    match response["content"]["application/json"]["schema"].as_object() {
        Some(_) => {
            let schema = &response["content"]["application/json"]["schema"];
            let problems = violations(doc, schema, &reply.json(), "$");
            assert!(
                problems.is_empty(),
                "{method} {path} {status}: {problems:#?}\n{}",
                reply.body
            );
        }
        None => assert!(reply.body.is_empty(), "{method} {path}: no body expected"),
    }
}

#[tokio::test]
async fn the_openapi_document_matches_the_real_answers() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    allow_secrets(&w).await;
    let admin = admin_session(&w.h).await;
    let reply = get(&format!("{V}/openapi.json")).send(&w.h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");

    cc(&w, KEY, SECRET).await.expect("a token");
    let rt = stored_refresh(&w, "5Aep861openapi", "family-1").await;
    assert_eq!(refresh(&w, KEY, &rt).await.status, StatusCode::OK);
    let app = app_id(&w);
    let user = w.run_as.id.to_string();
    let consumer = w.ci_consumer().await.id.to_string();
    let fill = |template: &str, staged: &str| {
        template
            .replace("{app}", &app)
            .replace("{user}", &user)
            .replace("{consumer}", &consumer)
            .replace("{id}", staged)
            .replace("{token}", &refresh_hash(&rt))
    };

    let mut covered = std::collections::BTreeSet::new();
    let mut run = |method: &'static str,
                   template: &'static str,
                   query: &str,
                   body: Option<&str>,
                   staged: &str| {
        let uri = format!(
            "{V}{}{query}",
            fill(&template["/apps/oauth".len()..], staged)
        );
        covered.insert((template.to_owned(), method.to_lowercase()));
        let request = request(method, &uri, body).bearer(&admin);
        (request, template, method.to_lowercase())
    };
    // Reads first, then writes, then revocations; each answer checked against its schema.
    let mut staged_id = String::new();
    let steps: Vec<(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )> = vec![
        ("GET", "/apps/oauth/usage", "", None),
        ("GET", "/apps/oauth/usage/{app}/users", "", None),
        ("GET", "/apps/oauth/usage/{app}/{user}/tokens", "", None),
        ("GET", "/apps/oauth/credentials/{app}", "", None),
        (
            "GET",
            "/apps/oauth/credentials/{app}/{consumer}",
            "?part=keyandsecret",
            None,
        ),
        (
            "GET",
            "/apps/oauth/credentials/{app}/{consumer}/staged",
            "",
            None,
        ),
        (
            "POST",
            "/apps/oauth/credentials/{app}/{consumer}/staged",
            "",
            None,
        ),
        (
            "GET",
            "/apps/oauth/credentials/{app}/{consumer}/staged/{id}",
            "",
            None,
        ),
        (
            "PATCH",
            "/apps/oauth/credentials/{app}/{consumer}/staged/{id}",
            "",
            Some(r#"{"command":"rotate"}"#),
        ),
        (
            "DELETE",
            "/apps/oauth/credentials/{app}/{consumer}/staged/{id}",
            "",
            None,
        ),
        ("DELETE", "/apps/oauth/usage/tokens/{token}", "", None),
        ("DELETE", "/apps/oauth/usage/{app}/{user}/tokens", "", None),
        ("DELETE", "/apps/oauth/usage/{app}/tokens", "", None),
    ];
    for (method, template, query, body) in steps {
        let (call, path, method) = run(method, template, query, body, &staged_id);
        let reply = call.send(&w.h).await;
        assert!(reply.status.is_success(), "{method} {path}: {}", reply.body);
        check_answer(&doc, path, &method, &reply);
        if method == "post" {
            staged_id = reply.json()["stagedCredentials"][0]["id"]
                .as_str()
                .expect("an id")
                .to_owned();
        }
    }
    // Error answers follow the document too.
    let reply = request("GET", &format!("{V}/usage/NoSuchApp/users"), None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    check_answer(&doc, "/apps/oauth/usage/{app}/users", "get", &reply);
    let reply = request("GET", &format!("{V}/usage?pageSize=0"), None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    check_answer(&doc, "/apps/oauth/usage", "get", &reply);

    // Every documented operation was called.
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    assert_eq!(covered, documented);
}
