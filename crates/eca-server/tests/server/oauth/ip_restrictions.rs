//! IP restrictions (issue 5): profiles' login IP ranges as `LoginIpRange` records, and each
//! app's IP relaxation at the token endpoint and at the SOAP login. The browser side (login
//! page, authorize, trusted IP ranges) is in `authorize/ip_restrictions.rs`.

use super::jwt_bearer::{assertion, jwt_app, jwt_body};
use super::*;
use crate::browser::{Browser, location};
use eca_store::OrgSettings;

/// In the range [`restrict`] adds.
pub(crate) const INSIDE: &str = "10.1.2.3";
/// Outside it (and outside every trusted range of the tests).
pub(crate) const OUTSIDE: &str = "192.0.2.55";
pub(crate) const RESTRICTED: &str = "ip restricted or invalid login hours";
const RANGES: &str = "/services/data/v66.0/sobjects/LoginIpRange";

/// Adds the range 10.1.0.0 – 10.1.255.255 to the profile named `profile`, through the REST
/// API as the admin of session `sid`; returns the new record's id.
pub(crate) async fn restrict(w: &World, sid: &str, profile: &str) -> String {
    let profile = profile_named(w, profile).await;
    let body = json!({
        "ProfileId": profile.id.as_str(),
        "StartAddress": "10.1.0.0",
        "EndAddress": "10.1.255.255",
        "Description": "Office",
    });
    let reply = request("POST", RANGES, Some(&body.to_string()))
        .bearer(sid)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("02w") && id.len() == 18, "{id}");
    id
}

/// `Ci` with this `ipRelaxationPolicyType` (elements in Salesforce's alphabetical order).
fn ci_relaxed(w: &World, relaxation: &str) -> AppSpec<'static> {
    let mut spec = w.ci();
    spec.policies = format!(
        "<clientCredentialsFlowUser>{}</clientCredentialsFlowUser><ipRelaxationPolicyType>{relaxation}</ipRelaxationPolicyType><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
        w.run_as.username
    );
    spec
}

async fn token_from(w: &World, peer: &str, body: &str) -> Reply {
    post(TOKEN, FORM, body.to_owned())
        .with_peer(peer)
        .send(&w.h)
        .await
}

fn cc_body() -> String {
    format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}")
}

#[tokio::test]
async fn login_ip_ranges_are_records_that_admins_write_and_read() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    let id = restrict(&w, &sid, "API Only").await;
    let record = get(&format!("{RANGES}/{id}")).bearer(&sid).send(&w.h).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    let json = record.json();
    assert_eq!(json["attributes"]["type"], "LoginIpRange");
    assert_eq!(json["StartAddress"], "10.1.0.0");
    assert_eq!(json["EndAddress"], "10.1.255.255");
    assert_eq!(json["Description"], "Office");
    assert_eq!(json["ProfileId"], w.run_as.profile_id.as_str());

    // Changed in place: the end moves, the profile cannot.
    let patch = |body: serde_json::Value| {
        request("PATCH", &format!("{RANGES}/{id}"), Some(&body.to_string())).bearer(&sid)
    };
    let reply = patch(json!({"EndAddress": "10.1.0.255", "Description": null}))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    patch(json!({"ProfileId": w.admin.profile_id.as_str()}))
        .send(&w.h)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD_FOR_INSERT_UPDATE");
    patch(json!({"StartAddress": "10.2.0.0"}))
        .send(&w.h)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");

    let soql = "/services/data/v66.0/query?q=SELECT+Id,StartAddress,EndAddress,Description+FROM+LoginIpRange";
    let rows = get(soql).bearer(&sid).send(&w.h).await.json();
    assert_eq!(rows["totalSize"], 1, "{rows}");
    assert_eq!(rows["records"][0]["EndAddress"], "10.1.0.255");
    assert_eq!(rows["records"][0]["Description"], serde_json::Value::Null);

    // Bad input names the field and says why; nothing is stored.
    let create =
        |body: serde_json::Value| request("POST", RANGES, Some(&body.to_string())).bearer(&sid);
    let profile = w.run_as.profile_id.as_str();
    let reply = create(
        json!({"ProfileId": profile, "StartAddress": "10.0.0.256", "EndAddress": "10.0.1.0"}),
    )
    .send(&w.h)
    .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    assert_eq!(
        reply.json()[0]["fields"],
        json!(["StartAddress"]),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("10.0.0.256"), "{}", reply.body);
    let reply =
        create(json!({"ProfileId": profile, "StartAddress": "10.0.0.9", "EndAddress": "10.0.0.1"}))
            .send(&w.h)
            .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    assert!(reply.body.contains("after its end"), "{}", reply.body);
    create(json!({"ProfileId": profile, "StartAddress": "10.0.0.1", "EndAddress": "::1"}))
        .send(&w.h)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    create(json!({"ProfileId": profile, "StartAddress": "10.0.0.1"}))
        .send(&w.h)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "REQUIRED_FIELD_MISSING");
    create(json!({"ProfileId": w.org.id.as_str(), "StartAddress": "10.0.0.1", "EndAddress": "10.0.0.2"}))
        .send(&w.h)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "INVALID_CROSS_REFERENCE_KEY");
    let rows = get(soql).bearer(&sid).send(&w.h).await.json();
    assert_eq!(rows["totalSize"], 1, "{rows}");

    let reply = request("DELETE", &format!("{RANGES}/{id}"), None)
        .bearer(&sid)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    get(&format!("{RANGES}/{id}"))
        .bearer(&sid)
        .send(&w.h)
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn client_credentials_follow_the_run_as_users_ranges_and_the_apps_relaxation() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    w.deploy(&w.ci()).await;
    // A profile without ranges restricts nothing.
    let reply = token_from(&w, OUTSIDE, &cc_body()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let id = restrict(&w, &sid, "API Only").await;
    // No relaxation set means Enforce.
    oauth_error(
        &token_from(&w, OUTSIDE, &cc_body()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    for inside in [INSIDE, "::ffff:10.1.2.3"] {
        let reply = token_from(&w, inside, &cc_body()).await;
        assert_eq!(reply.status, StatusCode::OK, "{inside}: {}", reply.body);
    }
    w.deploy(&ci_relaxed(&w, "Enforce_RelaxRefresh")).await;
    oauth_error(
        &token_from(&w, OUTSIDE, &cc_body()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    w.deploy(&ci_relaxed(&w, "Bypass")).await;
    let reply = token_from(&w, OUTSIDE, &cc_body()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Deleting the range lifts the restriction at once on this node.
    w.deploy(&ci_relaxed(&w, "Enforce")).await;
    assert_eq!(
        token_from(&w, OUTSIDE, &cc_body()).await.status,
        StatusCode::BAD_REQUEST
    );
    request("DELETE", &format!("{RANGES}/{id}"), None)
        .bearer(&sid)
        .send(&w.h)
        .await;
    let reply = token_from(&w, OUTSIDE, &cc_body()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn refresh_is_relaxed_only_by_relax_refresh_or_bypass() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    restrict(&w, &sid, "API Only").await;
    w.deploy(&ci_relaxed(&w, "Enforce")).await;
    let rt = stored_refresh(&w, "5Aep861refreshFromAnywhere", "fam").await;
    let body = refresh_body(&rt, Some(SECRET));
    oauth_error(
        &token_from(&w, OUTSIDE, &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    let reply = token_from(&w, INSIDE, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    w.deploy(&ci_relaxed(&w, "Enforce_RelaxRefresh")).await;
    let reply = token_from(&w, OUTSIDE, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Relax-with-second-factor relaxes only the web server flow, from trusted ranges.
    w.deploy(&ci_relaxed(&w, "Bypass_2factor")).await;
    assert_eq!(
        token_from(&w, OUTSIDE, &body).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn jwt_bearer_always_enforces_the_ranges() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    let mut spec = jwt_app(&w, "AdminApprovedPreAuthorized");
    spec.policies = spec.policies.replace(
        "<permittedUsersPolicyType>",
        "<ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType><permittedUsersPolicyType>",
    );
    w.deploy(&spec).await;
    restrict(&w, &sid, "API Only").await;
    let exp = w.h.clock.now().secs() + 180;
    let body = jwt_body(&assertion(KEY, &w.run_as.username, PUBLIC_URL, exp));
    oauth_error(
        &token_from(&w, OUTSIDE, &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    let reply = token_from(&w, INSIDE, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn password_grant_and_soap_login_check_the_ranges_after_the_password() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    w.deploy(&w.ci()).await;
    restrict(&w, &sid, "System Administrator").await;
    let username = form_urlencoded::byte_serialize(ADMIN_USERNAME.as_bytes()).collect::<String>();
    let body = |password: &str| {
        format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username={username}&password={password}"
        )
    };
    oauth_error(
        &token_from(&w, OUTSIDE, &body(ADMIN_PASSWORD)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    oauth_error(
        &token_from(&w, OUTSIDE, &body("wrong")).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "authentication failure",
    );
    let reply = token_from(&w, INSIDE, &body(ADMIN_PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The SOAP login has no app to relax anything: the profile's ranges decide.
    login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .with_peer(OUTSIDE)
        .send(&w.h)
        .await
        .fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_LOGIN");
    let reply = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD)
        .with_peer(INSIDE)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Continuous IP enforcement: "Enforce login IP ranges on every request"
// ---------------------------------------------------------------------------------------------

const SESSION_SETTINGS: &str = "/services/data/v66.0/eca/session-settings";

fn patch_settings(body: serde_json::Value) -> Call {
    request("PATCH", SESSION_SETTINGS, Some(&body.to_string()))
}

/// The org's session settings as stored: (timeout in minutes, enforcement on every request).
async fn stored_session_settings(w: &World) -> (i64, bool) {
    let org =
        w.h.store
            .org(&w.org.id)
            .await
            .expect("store")
            .expect("the org");
    (
        org.session_timeout_minutes,
        org.enforce_ip_ranges_every_request,
    )
}

#[tokio::test]
async fn session_settings_are_read_by_users_and_changed_by_user_managers() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    let read = get(SESSION_SETTINGS).bearer(&sid).send(&w.h).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(
        read.json(),
        json!({
            "sessionTimeoutMinutes": w.org.session_timeout_minutes,
            "enforceIpRangesEveryRequest": false,
        })
    );

    // The run-as user (API Only, no Manage Users) reads but may not change them.
    w.deploy(&ci_relaxed(&w, "Bypass")).await;
    let token = w.cc_token().await;
    let read = get(SESSION_SETTINGS).bearer(&token).send(&w.h).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    patch_settings(json!({"enforceIpRangesEveryRequest": true}))
        .bearer(&token)
        .send(&w.h)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");

    // Bad input says which field and why, and changes nothing.
    for (body, code) in [
        (json!({"sessionTimeout": 30}), "INVALID_FIELD"),
        (
            json!({"sessionTimeoutMinutes": 45}),
            "FIELD_INTEGRITY_EXCEPTION",
        ),
        (
            json!({"sessionTimeoutMinutes": "30"}),
            "FIELD_INTEGRITY_EXCEPTION",
        ),
        (
            json!({"enforceIpRangesEveryRequest": "yes"}),
            "JSON_PARSER_ERROR",
        ),
        (json!(["enforceIpRangesEveryRequest"]), "JSON_PARSER_ERROR"),
    ] {
        let reply = patch_settings(body.clone()).bearer(&sid).send(&w.h).await;
        reply.rest_error(StatusCode::BAD_REQUEST, code);
        assert!(
            code == "JSON_PARSER_ERROR" || reply.body.contains("session"),
            "{body}: {}",
            reply.body
        );
    }
    let org = w.h.store.org(&w.org.id).await.unwrap().unwrap();
    assert_eq!(org, w.org, "nothing changed");

    // The admin's own profile restricted: turning enforcement on from outside it would lock
    // the admin out, so it is refused; from inside it is done.
    restrict(&w, &sid, "System Administrator").await;
    let reply = patch_settings(json!({"enforceIpRangesEveryRequest": true}))
        .bearer(&sid)
        .with_peer(OUTSIDE)
        .send(&w.h)
        .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    assert!(reply.body.contains(OUTSIDE), "{}", reply.body);
    let reply =
        patch_settings(json!({"enforceIpRangesEveryRequest": true, "sessionTimeoutMinutes": 30}))
            .bearer(&sid)
            .with_peer(INSIDE)
            .send(&w.h)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"sessionTimeoutMinutes": 30, "enforceIpRangesEveryRequest": true})
    );
    assert_eq!(stored_session_settings(&w).await, (30, true));
}

/// A `PATCH` writes only the fields it names: a setting changed meanwhile (on another node,
/// whose change this node's org cache has not seen yet) is kept, not overwritten with the
/// cached value.
#[tokio::test]
async fn a_patch_keeps_the_settings_it_does_not_name() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    // This node reads (and caches) the org: enforcement off.
    let read = get(SESSION_SETTINGS).bearer(&sid).send(&w.h).await;
    assert_eq!(read.json()["enforceIpRangesEveryRequest"], false);
    // Another node turns it on, straight in the shared database.
    w.h.store
        .update_org_settings(
            &w.org.id,
            OrgSettings {
                session_timeout_minutes: None,
                enforce_ip_ranges_every_request: Some(true),
            },
        )
        .await
        .unwrap();
    let reply = patch_settings(json!({"sessionTimeoutMinutes": 30}))
        .bearer(&sid)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"sessionTimeoutMinutes": 30, "enforceIpRangesEveryRequest": true})
    );
    assert_eq!(stored_session_settings(&w).await, (30, true));
}

#[tokio::test]
async fn with_continuous_enforcement_every_call_is_checked() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    let mut browser = Browser::new();
    browser
        .log_in(&w.h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    let cookie = format!("sid={}", browser.sid("/").expect("a web session"));
    let home = |peer: &str| {
        get("/home")
            .header("cookie", &cookie)
            .with_peer(peer)
            .send(&w.h)
    };
    restrict(&w, &sid, "API Only").await;
    restrict(&w, &sid, "System Administrator").await;
    w.deploy(&ci_relaxed(&w, "Enforce")).await;
    let token = token_from(&w, INSIDE, &cc_body()).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = |credential: &str, peer: &str| {
        get("/services/data/v66.0")
            .bearer(credential)
            .with_peer(peer)
            .send(&w.h)
    };
    let userinfo = |peer: &str| {
        get("/services/oauth2/userinfo")
            .bearer(&token)
            .with_peer(peer)
            .send(&w.h)
    };
    // Off (the default): what was issued works from anywhere.
    assert_eq!(home(OUTSIDE).await.status, StatusCode::OK);
    assert_eq!(api(&token, OUTSIDE).await.status, StatusCode::OK);
    assert_eq!(api(&sid, OUTSIDE).await.status, StatusCode::OK);
    assert_eq!(userinfo(OUTSIDE).await.status, StatusCode::OK);

    let reply = patch_settings(json!({"enforceIpRangesEveryRequest": true}))
        .bearer(&sid)
        .with_peer(INSIDE)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // On: an Enforce app's token and a SOAP session work only from inside the ranges, and
    // are not ended by a refused call.
    api(&token, OUTSIDE)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    assert_eq!(userinfo(OUTSIDE).await.status, StatusCode::UNAUTHORIZED);
    api(&sid, OUTSIDE)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    assert_eq!(api(&token, INSIDE).await.status, StatusCode::OK);
    assert_eq!(userinfo(INSIDE).await.status, StatusCode::OK);
    assert_eq!(api(&sid, INSIDE).await.status, StatusCode::OK);
    // A web session from outside is as good as none: to the login page, which refuses there.
    let page = home(OUTSIDE).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        location(&page).contains("/login?startURL=%2Fhome"),
        "{:?}",
        page.headers
    );
    assert_eq!(home(INSIDE).await.status, StatusCode::OK);

    // Relaxing the app lets its tokens through; the session stays restricted.
    w.deploy(&ci_relaxed(&w, "Enforce_RelaxRefresh")).await;
    assert_eq!(api(&token, OUTSIDE).await.status, StatusCode::UNAUTHORIZED);
    w.deploy(&ci_relaxed(&w, "Bypass")).await;
    assert_eq!(api(&token, OUTSIDE).await.status, StatusCode::OK);
    assert_eq!(api(&sid, OUTSIDE).await.status, StatusCode::UNAUTHORIZED);

    // Off again: everything works from anywhere.
    let reply = patch_settings(json!({"enforceIpRangesEveryRequest": false}))
        .bearer(&sid)
        .with_peer(INSIDE)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    w.deploy(&ci_relaxed(&w, "Enforce")).await;
    assert_eq!(api(&token, OUTSIDE).await.status, StatusCode::OK);
    assert_eq!(api(&sid, OUTSIDE).await.status, StatusCode::OK);
}

#[tokio::test]
async fn another_node_sees_changed_session_settings_within_two_seconds() {
    // docs/users-and-orgs.md: "within two seconds on other nodes (the org cache)".
    let w = world().await;
    let other = another_node(&w.h);
    let sid = admin_session(&w.h).await;
    // The other node has the org cached.
    let read = get(SESSION_SETTINGS).bearer(&sid).send(&other).await;
    assert_eq!(
        read.json()["sessionTimeoutMinutes"],
        w.org.session_timeout_minutes
    );
    let changed = if w.org.session_timeout_minutes == 30 {
        60
    } else {
        30
    };
    let reply = patch_settings(json!({"sessionTimeoutMinutes": changed}))
        .bearer(&sid)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    w.h.clock.advance_secs(2);
    let read = get(SESSION_SETTINGS).bearer(&sid).send(&other).await;
    assert_eq!(
        read.json()["sessionTimeoutMinutes"],
        changed,
        "{}",
        read.body
    );
}
