//! Users, permission sets, SOQL and orgs over REST: every endpoint, its errors, who may call
//! it, isolation between orgs, and the probes the Salesforce CLI makes after a login.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use eca_core::domain::{Permission, User};
use eca_server::bootstrap::ADMIN_USERNAME;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::*;

/// Sends `method uri` with a session and an optional JSON body.
async fn call(h: &Harness, method: Method, uri: &str, sid: &str, body: Option<Value>) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {sid}"));
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = h
        .app
        .clone()
        .oneshot(request.body(body).expect("a request"))
        .await
        .expect("a response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

async fn get_json(h: &Harness, uri: &str, sid: &str) -> Reply {
    call(h, Method::GET, uri, sid, None).await
}

async fn post_json(h: &Harness, uri: &str, sid: &str, body: Value) -> Reply {
    call(h, Method::POST, uri, sid, Some(body)).await
}

async fn patch_json(h: &Harness, uri: &str, sid: &str, body: Value) -> Reply {
    call(h, Method::PATCH, uri, sid, Some(body)).await
}

/// `/services/data/v66.0/query?q=...` (`tooling` adds `/tooling`), percent-encoded as
/// jsforce's `encodeURIComponent` does.
fn q(prefix: &str, soql: &str) -> String {
    let mut encoded = String::new();
    for b in soql.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{prefix}/query?q={encoded}")
}

const V: &str = "/services/data/v66.0";

/// Asserts a record error: status 400, the code, and Salesforce's `fields` array.
#[track_caller]
fn record_error(reply: &Reply, code: &str, fields: &[&str]) {
    reply.rest_error(StatusCode::BAD_REQUEST, code);
    assert_eq!(reply.json()[0]["fields"], json!(fields), "{}", reply.body);
}

/// Creates a user through the API; returns its id.
async fn create_user(h: &Harness, sid: &str, body: Value) -> String {
    let reply = post_json(h, &format!("{V}/sobjects/User"), sid, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["success"], true);
    assert_eq!(json["errors"], json!([]));
    json["id"].as_str().expect("an id").to_owned()
}

async fn set_password(h: &Harness, sid: &str, prefix: &str, id: &str, password: &str) -> Reply {
    post_json(
        h,
        &format!("{prefix}{V}/sobjects/User/{id}/password"),
        sid,
        json!({ "NewPassword": password }),
    )
    .await
}

async fn login(h: &Harness, prefix: &str, username: &str, password: &str) -> Option<String> {
    let reply = login_call(prefix, username, password).send(h).await;
    (reply.status == StatusCode::OK).then(|| reply.xml("sessionId").expect("a sessionId"))
}

async fn admin(h: &Harness) -> User {
    h.store
        .user_by_username(ADMIN_USERNAME)
        .await
        .expect("the store answers")
        .expect("the admin exists")
}

#[tokio::test]
async fn the_salesforce_cli_probes_get_what_they_need() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = admin(&h).await;
    let org = h.store.default_org().await.unwrap().unwrap();

    // Dev Hub probe on v51.0: not a Dev Hub.
    let reply = get_json(
        &h,
        &q(
            "/services/data/v51.0",
            "SELECT Id FROM ScratchOrgInfo limit 1",
        ),
        &sid,
    )
    .await;
    reply.rest_error(StatusCode::BAD_REQUEST, "INVALID_TYPE");
    assert_eq!(
        reply.json()[0]["message"]
            .as_str()
            .unwrap()
            .split(". If")
            .next()
            .unwrap(),
        "\nSELECT Id FROM ScratchOrgInfo limit 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'ScratchOrgInfo' is not supported"
    );

    // Exactly one Organization record.
    let reply = get_json(
        &h,
        &q(V, "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization"),
        &sid,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({
            "totalSize": 1,
            "done": true,
            "records": [{
                "attributes": {"type": "Organization", "url": format!("{V}/sobjects/Organization/{}", org.id)},
                "Name": "OpenECA Demo",
                "InstanceName": "OPENECA",
                "IsSandbox": false,
                "TrialExpirationDate": null,
                "NamespacePrefix": null,
                "OrganizationType": "Developer Edition",
            }],
        })
    );

    // Sandbox detection on the Tooling API: no rows.
    let soql = format!(
        "SELECT Id,Status,SandboxName,SandboxInfoId,LicenseType,CreatedDate,CopyProgress,SandboxOrganization,SourceId,Description,EndDate,Features FROM SandboxProcess WHERE SandboxOrganization='{}' ORDER BY CreatedDate DESC",
        org.id.as_15()
    );
    let reply = get_json(&h, &q(&format!("{V}/tooling"), &soql), &sid).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"size": 0, "totalSize": 0, "done": true, "queryLocator": null, "entityTypeName": "SandboxProcess", "records": []})
    );
    // ...which the data API does not serve.
    get_json(&h, &q(V, &soql), &sid)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "INVALID_TYPE");

    // The user record after a web or refresh-token login, at v51.0, by 18 or 15 characters.
    for id in [admin.id.as_str(), admin.id.as_15()] {
        let reply = get_json(
            &h,
            &format!("/services/data/v51.0/sobjects/User/{id}"),
            &sid,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let user = reply.json();
        assert_eq!(user["Username"], ADMIN_USERNAME);
        assert_eq!(user["Id"], admin.id.as_str());
        assert_eq!(user["attributes"]["type"], "User");
        assert_eq!(
            user["attributes"]["url"],
            format!("/services/data/v51.0/sobjects/User/{}", admin.id)
        );
        assert_eq!(user["Name"], "Admin User");
        assert_eq!(user["UserType"], "Standard");
        assert_eq!(user["IsActive"], true);
        assert_eq!(user["ProfileId"], admin.profile_id.as_str());
        for field in [
            "Email",
            "FirstName",
            "LastName",
            "FederationIdentifier",
            "Alias",
            "Title",
            "CompanyName",
            "Department",
            "Division",
            "Street",
            "City",
            "State",
            "PostalCode",
            "Country",
            "Phone",
            "MobilePhone",
            "EmployeeNumber",
            "TimeZoneSidKey",
            "LocaleSidKey",
            "LanguageLocaleKey",
        ] {
            assert!(user.get(field).is_some(), "missing {field}");
        }
    }
    // Versions 20.0 to 66.0 are served here; /services/data still lists 59.0 onwards.
    for version in ["20.0", "59.0"] {
        let reply = get_json(
            &h,
            &q(&format!("/services/data/v{version}"), "SELECT Id FROM User"),
            &sid,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{version}: {}", reply.body);
    }
    for version in ["v19.0", "v67.0", "66.0", "v66.5"] {
        get_json(
            &h,
            &q(&format!("/services/data/{version}"), "SELECT Id FROM User"),
            &sid,
        )
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // No session, no data.
    get_json(&h, &q(V, "SELECT Id FROM User"), "garbage")
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn soql_refuses_what_it_cannot_answer() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    for (soql, code, message_start) in [
        (
            "SELEC Id FROM User",
            "MALFORMED_QUERY",
            "\nSELEC Id FROM User\n^\nERROR at Row:1:Column:1\nunexpected token: 'SELEC'",
        ),
        (
            "SELECT Id FROM User WHERE Username = 'a' OR Username = 'b'",
            "MALFORMED_QUERY",
            "\nSELECT Id FROM User WHERE Username = 'a' OR",
        ),
        (
            "SELECT COUNT() FROM User",
            "MALFORMED_QUERY",
            "\nSELECT COUNT() FROM User",
        ),
        (
            "SELECT Id, id FROM User",
            "MALFORMED_QUERY",
            "\nSELECT Id, id FROM User\n           ^\nERROR at Row:1:Column:12\nduplicate field selected: Id",
        ),
        (
            "SELECT Id, Nickname FROM User",
            "INVALID_FIELD",
            "\nSELECT Id, Nickname FROM User\n           ^\nERROR at Row:1:Column:12\nNo such column 'Nickname' on entity 'User'.",
        ),
        (
            "SELECT Id FROM User ORDER BY Nope",
            "INVALID_FIELD",
            "\nSELECT Id FROM User ORDER BY Nope",
        ),
        (
            "SELECT Id FROM Account",
            "INVALID_TYPE",
            "\nSELECT Id FROM Account\n               ^\nERROR at Row:1:Column:16\nsObject type 'Account' is not supported.",
        ),
        (
            "SELECT Id FROM User WHERE IsActive = 'true'",
            "INVALID_FIELD",
            "\nSELECT Id FROM User WHERE IsActive = 'true'",
        ),
        (
            "SELECT Id FROM User WHERE Username = true",
            "INVALID_FIELD",
            "\nSELECT Id FROM User WHERE Username = true",
        ),
        (
            "SELECT Id FROM User WHERE Id = 'nope'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "\nSELECT Id FROM User WHERE Id = 'nope'",
        ),
        (
            "SELECT Id FROM User WHERE IsActive LIKE 'x'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "\nSELECT",
        ),
    ] {
        let reply = get_json(&h, &q(V, soql), &sid).await;
        reply.rest_error(StatusCode::BAD_REQUEST, code);
        let message = reply.json()[0]["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with(message_start), "{soql}: {message}");
    }
    for uri in [
        format!("{V}/query"),
        format!("{V}/query?q="),
        format!("{V}/query?q=%20"),
    ] {
        let reply = get_json(&h, &uri, &sid).await;
        reply.rest_error(StatusCode::BAD_REQUEST, "MALFORMED_QUERY");
        assert_eq!(
            reply.json()[0]["message"],
            "A query string has to be specified"
        );
    }
    let long = format!(
        "SELECT Id FROM User WHERE Username = '{}'",
        "x".repeat(20_000)
    );
    get_json(&h, &q(V, &long), &sid)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "MALFORMED_QUERY");
}

#[tokio::test]
async fn users_are_created_read_updated_and_queried() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = admin(&h).await;
    let standard = h
        .store
        .profile_by_name(&admin.org_id, "Standard User")
        .await
        .unwrap()
        .unwrap();

    let ada = create_user(
        &h,
        &sid,
        json!({
            "Username": "ada@demo.example", "LastName": "Lovelace", "FirstName": "Ada",
            "ProfileName": "Standard User", "FederationIdentifier": "ada-1", "Country": "GB",
            "EmailEncodingKey": "UTF-8", "attributes": {"type": "User"},
        }),
    )
    .await;
    assert!(ada.starts_with("005") && ada.len() == 18, "{ada}");
    let grace = create_user(
        &h,
        &sid,
        json!({"Username": "grace@demo.example", "LastName": "Hopper", "Email": "grace@navy.example", "ProfileId": standard.id.as_15()}),
    )
    .await;

    let reply = get_json(&h, &format!("{V}/sobjects/User/{ada}"), &sid).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let user = reply.json();
    assert_eq!(user["Name"], "Ada Lovelace");
    assert_eq!(
        user["Email"], "ada@demo.example",
        "the username when no Email is given"
    );
    assert_eq!(user["Alias"], "ALove");
    assert_eq!(user["FederationIdentifier"], "ada-1");
    assert_eq!(user["Country"], "GB");
    assert_eq!(user["ProfileId"], standard.id.as_str());
    assert_eq!(user["TimeZoneSidKey"], "America/Los_Angeles");
    assert_eq!(user["IsFrozen"], false);
    assert_eq!(user["Title"], Value::Null);

    let reply = patch_json(
        &h,
        &format!("{V}/sobjects/User/{ada}"),
        &sid,
        json!({"Title": "Countess", "Country": null, "ProfileName": "API Only", "Email": "ada@analytical.example"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let user = get_json(&h, &format!("{V}/sobjects/User/{ada}"), &sid)
        .await
        .json();
    assert_eq!(user["Title"], "Countess");
    assert_eq!(user["Country"], Value::Null);
    assert_eq!(user["Email"], "ada@analytical.example");
    let api_only = h
        .store
        .profile_by_name(&admin.org_id, "API Only")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user["ProfileId"], api_only.id.as_str());

    // SOQL over the new users: filters, order, limit, offset.
    let records = |reply: Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Username"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let all = records(
        get_json(
            &h,
            &q(V, "SELECT Username FROM User ORDER BY Username"),
            &sid,
        )
        .await,
    );
    assert_eq!(
        all,
        ["ada@demo.example", ADMIN_USERNAME, "grace@demo.example"]
    );
    let desc = records(
        get_json(
            &h,
            &q(
                V,
                "select username from user order by LastName desc limit 2",
            ),
            &sid,
        )
        .await,
    );
    assert_eq!(
        desc,
        [ADMIN_USERNAME, "ada@demo.example"],
        "User, Lovelace, Hopper"
    );
    let offset = records(
        get_json(
            &h,
            &q(
                V,
                "SELECT Username FROM User ORDER BY Username LIMIT 1 OFFSET 1",
            ),
            &sid,
        )
        .await,
    );
    assert_eq!(offset, [ADMIN_USERNAME]);
    let filtered = records(
        get_json(
            &h,
            &q(V, &format!("SELECT Id, Username FROM User WHERE Username IN ('GRACE@demo.example', 'nobody@x.example') AND IsActive = true AND ProfileId = '{}'", standard.id.as_15())),
            &sid,
        )
        .await,
    );
    assert_eq!(filtered, ["grace@demo.example"]);
    let like = records(
        get_json(
            &h,
            &q(
                V,
                "SELECT Username FROM User WHERE Email LIKE '%.example' AND Title != null",
            ),
            &sid,
        )
        .await,
    );
    assert_eq!(like, ["ada@demo.example"]);
    let by_id = get_json(
        &h,
        &q(V, &format!("SELECT Id FROM User WHERE Id = '{grace}'")),
        &sid,
    )
    .await
    .json();
    assert_eq!(by_id["totalSize"], 1);
    assert_eq!(by_id["records"][0]["Id"], grace.as_str());
    assert_eq!(
        by_id["records"][0]["attributes"]["url"],
        format!("{V}/sobjects/User/{grace}")
    );

    let profiles = get_json(
        &h,
        &q(V, "SELECT Id, Name FROM Profile ORDER BY Name"),
        &sid,
    )
    .await
    .json();
    let names: Vec<&str> = profiles["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API Only", "Standard User", "System Administrator"]);
    let admins = get_json(
        &h,
        &q(
            V,
            "SELECT Name FROM Profile WHERE PermissionsManageUsers = true",
        ),
        &sid,
    )
    .await
    .json();
    assert_eq!(admins["records"][0]["Name"], "System Administrator");
    assert_eq!(admins["totalSize"], 1);
    // Profiles are read-only.
    post_json(
        &h,
        &format!("{V}/sobjects/Profile"),
        &sid,
        json!({"Name": "X"}),
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "INVALID_TYPE_FOR_OPERATION");
    patch_json(
        &h,
        &format!("{V}/sobjects/Profile/{}", standard.id),
        &sid,
        json!({"Name": "X"}),
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "INVALID_TYPE_FOR_OPERATION");
    let profile = get_json(&h, &format!("{V}/sobjects/Profile/{}", standard.id), &sid)
        .await
        .json();
    assert_eq!(profile["Name"], "Standard User");
    assert_eq!(profile["PermissionsApiEnabled"], true);
    assert_eq!(profile["PermissionsManageUsers"], false);
}

#[tokio::test]
async fn bad_user_records_get_salesforce_errors() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = admin(&h).await;
    let uri = format!("{V}/sobjects/User");
    let base =
        json!({"Username": "new@demo.example", "LastName": "New", "ProfileName": "Standard User"});
    let with = |extra: Value| {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, code, fields) in [
        (
            json!({"Username": ADMIN_USERNAME.to_uppercase(), "LastName": "X", "ProfileName": "Standard User"}),
            "DUPLICATE_USERNAME",
            vec!["Username"],
        ),
        (
            json!({"FirstName": "X"}),
            "REQUIRED_FIELD_MISSING",
            vec!["Username", "LastName", "ProfileId"],
        ),
        (
            json!({"Username": "x@demo.example", "ProfileName": "Standard User"}),
            "REQUIRED_FIELD_MISSING",
            vec!["LastName"],
        ),
        (
            with(json!({"ProfileName": "Nope"})),
            "INVALID_CROSS_REFERENCE_KEY",
            vec!["ProfileName"],
        ),
        (
            json!({"Username": "x@demo.example", "LastName": "X", "ProfileId": "00e000000000000"}),
            "INVALID_CROSS_REFERENCE_KEY",
            vec!["ProfileId"],
        ),
        (
            json!({"Username": "x@demo.example", "LastName": "X", "ProfileId": admin.id.as_str()}),
            "INVALID_CROSS_REFERENCE_KEY",
            vec!["ProfileId"],
        ),
        (
            with(json!({"Name": "New"})),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            vec!["Name"],
        ),
        (
            with(json!({"Username": "not-an-address"})),
            "INVALID_EMAIL_ADDRESS",
            vec!["Username"],
        ),
        (
            with(json!({"Email": "nope"})),
            "INVALID_EMAIL_ADDRESS",
            vec!["Email"],
        ),
        (
            with(json!({"Alias": "much-too-long"})),
            "STRING_TOO_LONG",
            vec!["Alias"],
        ),
        // PostgreSQL cannot store a NUL: refused alike on every backend.
        (
            with(json!({"Title": "a\u{0}b"})),
            "FIELD_INTEGRITY_EXCEPTION",
            vec!["Title"],
        ),
    ] {
        let reply = post_json(&h, &uri, &sid, body.clone()).await;
        record_error(&reply, code, &fields);
    }
    for (body, code) in [
        (with(json!({"Nickname": "x"})), "INVALID_FIELD"),
        (with(json!({"IsActive": "yes"})), "JSON_PARSER_ERROR"),
        (with(json!({"LastName": 3})), "JSON_PARSER_ERROR"),
        (json!(["not", "an", "object"]), "JSON_PARSER_ERROR"),
    ] {
        post_json(&h, &uri, &sid, body)
            .await
            .rest_error(StatusCode::BAD_REQUEST, code);
    }
    let reply = post_json(&h, &uri, &sid, with(json!({"Nickname": "x"}))).await;
    assert_eq!(
        reply.json()[0]["message"],
        "No such column 'Nickname' on sobject of type User"
    );
    assert!(reply.json()[0].get("fields").is_none());
    // No body at all, and two keys that differ only in case.
    call(&h, Method::POST, &uri, &sid, None)
        .await
        .rest_error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR");
    let reply = h
        .app
        .clone()
        .oneshot(
            Request::post(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {sid}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"Username":"a@b.example","username":"c@d.example","LastName":"X","ProfileName":"Standard User"}"#))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    // Bodies are bounded (the harness allows 64 KiB).
    let big = with(json!({"Title": "x".repeat(70 * 1024)}));
    let reply = post_json(&h, &uri, &sid, big).await;
    reply.rest_error(StatusCode::PAYLOAD_TOO_LARGE, "REQUEST_TOO_LARGE");
    assert!(
        reply.json()[0]["message"]
            .as_str()
            .unwrap()
            .contains("65536 bytes"),
        "{}",
        reply.body
    );

    // Unknown objects and records.
    post_json(&h, &format!("{V}/sobjects/Account"), &sid, json!({}))
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    for id in ["nope", "005000000000000", admin.org_id.as_str()] {
        get_json(&h, &format!("{V}/sobjects/User/{id}"), &sid)
            .await
            .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
        patch_json(
            &h,
            &format!("{V}/sobjects/User/{id}"),
            &sid,
            json!({"Title": "x"}),
        )
        .await
        .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // Users are deactivated, not deleted.
    call(
        &h,
        Method::DELETE,
        &format!("{V}/sobjects/User/{}", admin.id),
        &sid,
        None,
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "INVALID_TYPE_FOR_OPERATION");
    // Updates check the same rules; a username taken by another user is a duplicate.
    let other = create_user(&h, &sid, base.clone()).await;
    record_error(
        &patch_json(
            &h,
            &format!("{V}/sobjects/User/{other}"),
            &sid,
            json!({"Username": ADMIN_USERNAME}),
        )
        .await,
        "DUPLICATE_USERNAME",
        &["Username"],
    );
    record_error(
        &patch_json(
            &h,
            &format!("{V}/sobjects/User/{other}"),
            &sid,
            json!({"LastName": null}),
        )
        .await,
        "REQUIRED_FIELD_MISSING",
        &["LastName"],
    );
    // Admins cannot lock themselves out.
    record_error(
        &patch_json(
            &h,
            &format!("{V}/sobjects/User/{}", admin.id),
            &sid,
            json!({"IsActive": false}),
        )
        .await,
        "FIELD_INTEGRITY_EXCEPTION",
        &["IsActive"],
    );
}

#[tokio::test]
async fn permissions_decide_who_reads_and_writes_people() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = admin(&h).await;
    let org = h.store.default_org().await.unwrap().unwrap();
    let standard = h
        .store
        .profile_by_name(&org.id, "Standard User")
        .await
        .unwrap()
        .unwrap();
    let plain = add_user(&h, &org, &standard, "plain@demo.example").await;
    let plain_sid = login(&h, "", &plain.username, ADMIN_PASSWORD)
        .await
        .unwrap();

    // Your own record, always; others', not without a reading permission.
    let own = get_json(&h, &format!("{V}/sobjects/User/{}", plain.id), &plain_sid).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    get_json(&h, &format!("{V}/sobjects/User/{}", admin.id), &plain_sid)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // SOQL shows such a user only themselves.
    let users = get_json(&h, &q(V, "SELECT Username FROM User"), &plain_sid)
        .await
        .json();
    assert_eq!(users["totalSize"], 1);
    assert_eq!(users["records"][0]["Username"], "plain@demo.example");
    // ...but every profile, permission set and the org.
    let profiles = get_json(&h, &q(V, "SELECT Name FROM Profile"), &plain_sid)
        .await
        .json();
    assert_eq!(profiles["totalSize"], 3);
    // Writing needs Manage Users.
    for reply in [
        post_json(
            &h,
            &format!("{V}/sobjects/User"),
            &plain_sid,
            json!({"Username": "x@demo.example", "LastName": "X", "ProfileName": "Standard User"}),
        )
        .await,
        patch_json(
            &h,
            &format!("{V}/sobjects/User/{}", plain.id),
            &plain_sid,
            json!({"Title": "Boss"}),
        )
        .await,
        post_json(
            &h,
            &format!("{V}/sobjects/PermissionSet"),
            &plain_sid,
            json!({"Name": "Mine", "PermissionsManageUsers": true}),
        )
        .await,
        post_json(
            &h,
            &format!("{V}/sobjects/PermissionSetAssignment"),
            &plain_sid,
            json!({"AssigneeId": plain.id.as_str(), "PermissionSetId": "0PS000000000000"}),
        )
        .await,
        set_password(&h, &plain_sid, "", admin.id.as_str(), "Another-Password-1").await,
        get_json(&h, &format!("{V}/eca/orgs"), &plain_sid).await,
    ] {
        reply.rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    }

    // A permission set with External Client App Viewer lets the user read others.
    let viewer = post_json(
        &h,
        &format!("{V}/sobjects/PermissionSet"),
        &sid,
        json!({"Name": "ECA_Viewers", "Label": "ECA viewers", "PermissionsExternalClientAppViewer": true}),
    )
    .await;
    assert_eq!(viewer.status, StatusCode::CREATED, "{}", viewer.body);
    let viewer = viewer.json()["id"].as_str().unwrap().to_owned();
    let assigned = post_json(
        &h,
        &format!("{V}/sobjects/PermissionSetAssignment"),
        &sid,
        json!({"AssigneeId": plain.id.as_15(), "PermissionSetId": viewer}),
    )
    .await;
    assert_eq!(assigned.status, StatusCode::CREATED, "{}", assigned.body);
    let read = get_json(&h, &format!("{V}/sobjects/User/{}", admin.id), &plain_sid).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let users = get_json(&h, &q(V, "SELECT Username FROM User"), &plain_sid)
        .await
        .json();
    assert_eq!(users["totalSize"], 2);
    // Reading is not writing.
    patch_json(
        &h,
        &format!("{V}/sobjects/User/{}", admin.id),
        &plain_sid,
        json!({"Title": "x"}),
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
}

#[tokio::test]
async fn permission_sets_and_assignments() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let org = h.store.default_org().await.unwrap().unwrap();
    let standard = h
        .store
        .profile_by_name(&org.id, "Standard User")
        .await
        .unwrap()
        .unwrap();
    let plain = add_user(&h, &org, &standard, "plain@demo.example").await;
    let sets = format!("{V}/sobjects/PermissionSet");

    let reply = post_json(
        &h,
        &sets,
        &sid,
        json!({"Name": "User_Managers", "PermissionsManageUsers": true, "PermissionsApiEnabled": true, "PermissionsViewClientSecret": false}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let set = reply.json()["id"].as_str().unwrap().to_owned();
    assert!(set.starts_with("0PS"), "{set}");
    let record = get_json(&h, &format!("{sets}/{set}"), &sid).await.json();
    assert_eq!(record["Name"], "User_Managers");
    assert_eq!(
        record["Label"], "User_Managers",
        "the label defaults to the name"
    );
    assert_eq!(record["PermissionsManageUsers"], true);
    assert_eq!(record["PermissionsApiEnabled"], true);
    assert_eq!(record["PermissionsViewClientSecret"], false);
    assert_eq!(record["PermissionsExternalClientAppAdmin"], false);
    assert_eq!(record["attributes"]["type"], "PermissionSet");

    record_error(
        &post_json(&h, &sets, &sid, json!({"Name": "user_managers"})).await,
        "DUPLICATE_VALUE",
        &["Name"],
    );
    record_error(
        &post_json(&h, &sets, &sid, json!({"Label": "x"})).await,
        "REQUIRED_FIELD_MISSING",
        &["Name"],
    );
    record_error(
        &post_json(&h, &sets, &sid, json!({"Name": "bad name"})).await,
        "FIELD_INTEGRITY_EXCEPTION",
        &["Name"],
    );
    post_json(
        &h,
        &sets,
        &sid,
        json!({"Name": "X", "PermissionsModifyAllData": true}),
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD");
    post_json(
        &h,
        &sets,
        &sid,
        json!({"Name": "X", "PermissionsApiEnabled": "true"}),
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR");

    // Assign, see it in SOQL, refuse a duplicate, and the permission takes effect.
    let assignments = format!("{V}/sobjects/PermissionSetAssignment");
    let reply = post_json(
        &h,
        &assignments,
        &sid,
        json!({"AssigneeId": plain.id.as_str(), "PermissionSetId": set}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let assignment = reply.json()["id"].as_str().unwrap().to_owned();
    assert!(
        assignment.starts_with("0Pa") && assignment.len() == 18,
        "{assignment}"
    );
    let found = get_json(
        &h,
        &q(V, &format!("SELECT Id, AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '{}'", plain.id)),
        &sid,
    )
    .await
    .json();
    assert_eq!(found["totalSize"], 1);
    assert_eq!(found["records"][0]["Id"], assignment.as_str());
    assert_eq!(found["records"][0]["PermissionSetId"], set.as_str());
    let record = get_json(&h, &format!("{assignments}/{assignment}"), &sid)
        .await
        .json();
    assert_eq!(record["AssigneeId"], plain.id.as_str());
    record_error(
        &post_json(
            &h,
            &assignments,
            &sid,
            json!({"AssigneeId": plain.id.as_str(), "PermissionSetId": set}),
        )
        .await,
        "DUPLICATE_VALUE",
        &[],
    );
    record_error(
        &post_json(
            &h,
            &assignments,
            &sid,
            json!({"AssigneeId": plain.id.as_str()}),
        )
        .await,
        "REQUIRED_FIELD_MISSING",
        &["PermissionSetId"],
    );
    record_error(
        &post_json(
            &h,
            &assignments,
            &sid,
            json!({"AssigneeId": "005000000000000", "PermissionSetId": set}),
        )
        .await,
        "INVALID_CROSS_REFERENCE_KEY",
        &["AssigneeId"],
    );
    record_error(
        &post_json(
            &h,
            &assignments,
            &sid,
            json!({"AssigneeId": plain.id.as_str(), "PermissionSetId": "bad"}),
        )
        .await,
        "INVALID_CROSS_REFERENCE_KEY",
        &["PermissionSetId"],
    );
    let plain_sid = login(&h, "", &plain.username, ADMIN_PASSWORD)
        .await
        .unwrap();
    let made = post_json(
        &h,
        &format!("{V}/sobjects/User"),
        &plain_sid,
        json!({"Username": "made@demo.example", "LastName": "Made", "ProfileName": "Standard User"}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    // Nobody removes their own Manage Users or changes their own profile: an org's only admin
    // could leave it with nobody to manage users.
    call(
        &h,
        Method::DELETE,
        &format!("{assignments}/{assignment}"),
        &plain_sid,
        None,
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "FIELD_INTEGRITY_EXCEPTION");
    record_error(
        &patch_json(
            &h,
            &format!("{V}/sobjects/User/{}", plain.id),
            &plain_sid,
            json!({"ProfileName": "System Administrator"}),
        )
        .await,
        "FIELD_INTEGRITY_EXCEPTION",
        &["ProfileName"],
    );

    // Removing the assignment removes the permission.
    let deleted = call(
        &h,
        Method::DELETE,
        &format!("{assignments}/{assignment}"),
        &sid,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    call(
        &h,
        Method::DELETE,
        &format!("{assignments}/{assignment}"),
        &sid,
        None,
    )
    .await
    .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    post_json(
        &h,
        &format!("{V}/sobjects/User"),
        &plain_sid,
        json!({"Username": "made2@demo.example", "LastName": "Made", "ProfileName": "Standard User"}),
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
}

#[tokio::test]
async fn an_admin_of_one_org_cannot_reach_another() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let admin = admin(&h).await;
    let (acme, acme_admin) =
        second_org(&h, vec![Permission::ApiEnabled, Permission::ManageUsers]).await;
    let acme_sid = login(&h, "/orgs/acme", &acme_admin.username, ADMIN_PASSWORD)
        .await
        .unwrap();
    let demo_set = post_json(
        &h,
        &format!("{V}/sobjects/PermissionSet"),
        &sid,
        json!({"Name": "Demo_Set"}),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let acme_v = format!("/orgs/acme{V}");

    // Demo's users, sets and org are not found from Acme.
    for uri in [
        format!("{acme_v}/sobjects/User/{}", admin.id),
        format!("{acme_v}/sobjects/PermissionSet/{demo_set}"),
        format!("{acme_v}/sobjects/Profile/{}", admin.profile_id),
        format!("{acme_v}/sobjects/Organization/{}", admin.org_id),
    ] {
        get_json(&h, &uri, &acme_sid)
            .await
            .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    patch_json(
        &h,
        &format!("{acme_v}/sobjects/User/{}", admin.id),
        &acme_sid,
        json!({"IsActive": false}),
    )
    .await
    .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    set_password(
        &h,
        &acme_sid,
        "/orgs/acme",
        admin.id.as_str(),
        "Hijacked-Password-1",
    )
    .await
    .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    record_error(
        &post_json(
            &h,
            &format!("{acme_v}/sobjects/PermissionSetAssignment"),
            &acme_sid,
            json!({"AssigneeId": admin.id.as_str(), "PermissionSetId": demo_set}),
        )
        .await,
        "INVALID_CROSS_REFERENCE_KEY",
        &["AssigneeId"],
    );
    // A Demo profile cannot be given to an Acme user.
    record_error(
        &post_json(&h, &format!("{acme_v}/sobjects/User"), &acme_sid, json!({"Username": "x@acme.example", "LastName": "X", "ProfileId": admin.profile_id.as_str()})).await,
        "INVALID_CROSS_REFERENCE_KEY",
        &["ProfileId"],
    );
    // SOQL sees Acme only.
    let users = get_json(&h, &q(&acme_v, "SELECT Username FROM User"), &acme_sid)
        .await
        .json();
    assert_eq!(users["totalSize"], 1);
    assert_eq!(
        users["records"][0]["Username"],
        acme_admin.username.as_str()
    );
    let org = get_json(
        &h,
        &q(&acme_v, "SELECT Id, Name FROM Organization"),
        &acme_sid,
    )
    .await
    .json();
    assert_eq!(org["records"][0]["Id"], acme.id.as_str());
    // The Demo session is not valid on Acme, and an Acme admin does not manage orgs.
    get_json(&h, &q(&acme_v, "SELECT Id FROM User"), &sid)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    get_json(&h, &format!("{acme_v}/eca/orgs"), &acme_sid)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // Demo's admin still works.
    assert!(
        login(&h, "", ADMIN_USERNAME, ADMIN_PASSWORD)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_new_password_logs_in_and_ends_other_sessions() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let id = create_user(
        &h,
        &sid,
        json!({"Username": "pat@demo.example", "LastName": "Pat", "ProfileName": "Standard User"}),
    )
    .await;
    // No password yet: no login.
    assert!(
        login(&h, "", "pat@demo.example", "First-Password-1")
            .await
            .is_none()
    );
    let reply = set_password(&h, &sid, "", &id, "First-Password-1").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let first = login(&h, "", "pat@demo.example", "First-Password-1")
        .await
        .unwrap();
    let second = login(&h, "", "pat@demo.example", "First-Password-1")
        .await
        .unwrap();

    // The user changes their own password: the session that did it goes on, the other ends.
    let reply = set_password(&h, &first, "", &id, "Second-Password-2").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let probe = async |sid: &str| {
        get_json(&h, &format!("{V}/sobjects/User/{id}"), sid)
            .await
            .status
    };
    assert_eq!(probe(&first).await, StatusCode::OK);
    assert_eq!(probe(&second).await, StatusCode::UNAUTHORIZED);
    assert!(
        login(&h, "", "pat@demo.example", "First-Password-1")
            .await
            .is_none()
    );

    // An admin sets it: every session of the user ends.
    let reply = set_password(&h, &sid, "", &id, "Third-Password-3").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(probe(&first).await, StatusCode::UNAUTHORIZED);
    assert!(
        login(&h, "", "pat@demo.example", "Third-Password-3")
            .await
            .is_some()
    );
    assert_eq!(
        get_json(&h, V, &sid).await.status,
        StatusCode::OK,
        "the admin's own session goes on"
    );

    // Weak passwords and odd bodies.
    for (password, message) in [
        (
            "short1",
            "Your password must be at least 8 characters long.",
        ),
        (
            "onlyletters",
            "Your password must include letters and numbers.",
        ),
    ] {
        let reply = set_password(&h, &sid, "", &id, password).await;
        reply.rest_error(StatusCode::BAD_REQUEST, "INVALID_NEW_PASSWORD");
        assert_eq!(reply.json()[0]["message"], message);
    }
    let uri = format!("{V}/sobjects/User/{id}/password");
    record_error(
        &post_json(&h, &uri, &sid, json!({})).await,
        "REQUIRED_FIELD_MISSING",
        &["NewPassword"],
    );
    post_json(&h, &uri, &sid, json!({"Password": "x"}))
        .await
        .rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD");
    post_json(
        &h,
        &format!("{V}/sobjects/PermissionSet/{id}/password"),
        &sid,
        json!({"NewPassword": "Fourth-Password-4"}),
    )
    .await
    .rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn deactivating_or_freezing_ends_sessions() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let org = h.store.default_org().await.unwrap().unwrap();
    let standard = h
        .store
        .profile_by_name(&org.id, "Standard User")
        .await
        .unwrap()
        .unwrap();
    let user = add_user(&h, &org, &standard, "temp@demo.example").await;
    let uri = format!("{V}/sobjects/User/{}", user.id);
    let probe = async |sid: &str| get_json(&h, &uri, sid).await.status;

    for (off, on) in [
        (json!({"IsActive": false}), json!({"IsActive": true})),
        (json!({"IsFrozen": true}), json!({"IsFrozen": false})),
    ] {
        let user_sid = login(&h, "", &user.username, ADMIN_PASSWORD).await.unwrap();
        assert_eq!(probe(&user_sid).await, StatusCode::OK);
        let reply = patch_json(&h, &uri, &sid, off.clone()).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(probe(&user_sid).await, StatusCode::UNAUTHORIZED, "{off}");
        assert!(
            login(&h, "", &user.username, ADMIN_PASSWORD)
                .await
                .is_none()
        );
        let record = get_json(&h, &uri, &sid).await.json();
        let key = off.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(record[&key], off[&key]);
        let reply = patch_json(&h, &uri, &sid, on).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert!(
            login(&h, "", &user.username, ADMIN_PASSWORD)
                .await
                .is_some()
        );
    }
    let inactive = get_json(
        &h,
        &q(V, "SELECT Username FROM User WHERE IsActive = false"),
        &sid,
    )
    .await
    .json();
    assert_eq!(inactive["totalSize"], 0);
}

#[tokio::test]
async fn orgs_are_created_and_listed_by_the_default_orgs_admins() {
    let h = harness().await;
    let sid = admin_session(&h).await;
    let orgs = format!("{V}/eca/orgs");

    h.clock.advance_secs(1);
    let reply = post_json(&h, &orgs, &sid, json!({"name": "Acme Corp."})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let created = reply.json();
    assert_eq!(created["success"], true);
    assert_eq!(created["name"], "Acme Corp.");
    assert_eq!(created["myDomain"], "acme-corp");
    assert_eq!(created["isDefault"], false);
    assert_eq!(
        created["instanceUrl"],
        format!("{PUBLIC_URL}/orgs/acme-corp")
    );
    assert_eq!(created["domainUrl"], "http://acme-corp.localhost:8080");
    assert_eq!(created["adminUsername"], "admin@acme-corp.example");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("00D") && id.len() == 18, "{id}");
    let password = created["adminPassword"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 20);

    // The new admin logs in at the new org's address and finds the standard profiles.
    let acme_sid = login(&h, "/orgs/acme-corp", "admin@acme-corp.example", &password)
        .await
        .unwrap();
    let profiles = get_json(
        &h,
        &q(
            &format!("/orgs/acme-corp{V}"),
            "SELECT Name FROM Profile ORDER BY Name",
        ),
        &acme_sid,
    )
    .await
    .json();
    assert_eq!(profiles["totalSize"], 3);
    let me = get_json(
        &h,
        &format!(
            "/orgs/acme-corp{V}/sobjects/User/{}",
            created["adminUserId"].as_str().unwrap()
        ),
        &acme_sid,
    )
    .await
    .json();
    assert_eq!(me["Name"], "Admin User");
    // Not at the default org's address.
    assert!(
        login(&h, "", "admin@acme-corp.example", &password)
            .await
            .is_none()
    );

    // Given names and passwords; the same name again gets a numbered domain.
    h.clock.advance_secs(1);
    let reply = post_json(
        &h,
        &orgs,
        &sid,
        json!({"name": "Acme Corp", "adminUsername": "boss@acme.example", "adminPassword": "Boss-Password-1"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let second = reply.json();
    assert_eq!(second["myDomain"], "acme-corp-2");
    assert!(
        second.get("adminPassword").is_none(),
        "a given password is not echoed"
    );
    assert!(
        login(
            &h,
            "/orgs/acme-corp-2",
            "boss@acme.example",
            "Boss-Password-1"
        )
        .await
        .is_some()
    );
    h.clock.advance_secs(1);
    let reply = post_json(
        &h,
        &orgs,
        &sid,
        json!({"name": "Globex", "myDomain": "Globex"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["myDomain"], "globex");

    for (body, code, fields) in [
        (
            json!({"name": "Again", "myDomain": "globex"}),
            "DUPLICATE_VALUE",
            vec!["myDomain"],
        ),
        (
            json!({"name": "Bad", "myDomain": "no_underscores"}),
            "FIELD_INTEGRITY_EXCEPTION",
            vec!["myDomain"],
        ),
        (
            json!({"myDomain": "nameless"}),
            "REQUIRED_FIELD_MISSING",
            vec!["name"],
        ),
        (
            json!({"name": "Dup", "adminUsername": ADMIN_USERNAME}),
            "DUPLICATE_USERNAME",
            vec!["adminUsername"],
        ),
        (
            json!({"name": "Mail", "adminUsername": "nobody"}),
            "INVALID_EMAIL_ADDRESS",
            vec!["adminUsername"],
        ),
    ] {
        record_error(&post_json(&h, &orgs, &sid, body).await, code, &fields);
    }
    post_json(
        &h,
        &orgs,
        &sid,
        json!({"name": "Weak", "adminPassword": "weak"}),
    )
    .await
    .rest_error(StatusCode::BAD_REQUEST, "INVALID_NEW_PASSWORD");
    post_json(&h, &orgs, &sid, json!({"name": "X", "plan": "enterprise"}))
        .await
        .rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD");

    let list = get_json(&h, &orgs, &sid).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let list = list.json();
    assert_eq!(list["totalSize"], 4);
    let domains: Vec<&str> = list["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["myDomain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["demo", "acme-corp", "acme-corp-2", "globex"]);
    assert_eq!(list["orgs"][0]["isDefault"], true);
    assert_eq!(
        list["orgs"][0]["instanceUrl"],
        format!("{PUBLIC_URL}/orgs/demo")
    );
    // Through the default org's prefix, the URLs are still the server's.
    let via_prefix = get_json(&h, &format!("/orgs/demo{orgs}"), &sid)
        .await
        .json();
    assert_eq!(
        via_prefix["orgs"][1]["instanceUrl"],
        format!("{PUBLIC_URL}/orgs/acme-corp")
    );
    // An admin of a new org is not a server admin.
    get_json(&h, &format!("/orgs/acme-corp{orgs}"), &acme_sid)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
}
