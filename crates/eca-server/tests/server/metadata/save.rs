//! `createMetadata`, `updateMetadata` and `upsertMetadata` of ECA records: through the deploy
//! engine (generated values, validation), with one `SaveResult` / `UpsertResult` per record.

use super::*;

const XSI: &str = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

fn header(name: &str, label: &str) -> String {
    format!(
        "<metadata {XSI} xsi:type=\"ExternalClientApplication\"><fullName>{name}</fullName>\
         <contactEmail>dev@example.com</contactEmail><distributionState>Local</distributionState>\
         <label>{label}</label></metadata>"
    )
}

fn oauth(app: &str) -> String {
    format!(
        "<metadata {XSI} xsi:type=\"ExtlClntAppOauthSettings\"><fullName>{app}_oauth</fullName>\
         <commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes>\
         <externalClientApplication>{app}</externalClientApplication><label>{app} OAuth</label></metadata>"
    )
}

fn global(app: &str) -> String {
    format!(
        "<metadata {XSI} xsi:type=\"ExtlClntAppGlobalOauthSettings\"><fullName>{app}_glbloauth</fullName>\
         <callbackUrl>https://app.example.com/callback</callbackUrl>\
         <externalClientApplication>{app}</externalClientApplication><label>{app} consumer</label></metadata>"
    )
}

/// One result of a save call: `(fullName, success, created, [statusCode])`.
type Outcome = (String, bool, Option<bool>, Vec<String>);

async fn call(h: &Harness, session: &str, operation: &str, records: &[String]) -> Vec<Outcome> {
    let reply = soap(
        h,
        session,
        &format!(
            "{operation} xmlns=\"{META_NS}\">{}</{operation}>",
            records.concat()
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let doc = roxmltree::Document::parse(&reply.body).unwrap();
    let response = format!("{operation}Response");
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name((META_NS, response.as_str()))),
        "{}",
        reply.body
    );
    doc.descendants()
        .filter(|n| n.has_tag_name((META_NS, "result")))
        .map(|r| {
            let field = |name: &str| {
                r.children()
                    .find(|c| c.has_tag_name((META_NS, name)))
                    .map(|c| c.text().unwrap_or("").to_owned())
            };
            let codes = r
                .children()
                .filter(|c| c.has_tag_name((META_NS, "errors")))
                .filter_map(|e| {
                    e.children()
                        .find(|c| c.has_tag_name((META_NS, "statusCode")))
                        .and_then(|c| c.text())
                        .map(str::to_owned)
                })
                .collect();
            (
                field("fullName").unwrap_or_default(),
                field("success").as_deref() == Some("true"),
                field("created").map(|c| c == "true"),
                codes,
            )
        })
        .collect()
}

fn outcome(name: &str, success: bool, created: Option<bool>, codes: &[&str]) -> Outcome {
    (
        name.to_owned(),
        success,
        created,
        codes.iter().map(|c| (*c).to_owned()).collect(),
    )
}

async fn read_header(h: &Harness, session: &str, name: &str) -> Reply {
    soap(
        h,
        session,
        &format!(
            "readMetadata xmlns=\"{META_NS}\"><type>ExternalClientApplication</type>\
             <fullNames>{name}</fullNames></readMetadata>"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_and_upsert_metadata_go_through_the_deploy_engine() {
    let h = harness().await;
    let session = admin_session(&h).await;

    let created = call(
        &h,
        &session,
        "createMetadata",
        &[header("Made", "Made"), oauth("Made"), global("Made")],
    )
    .await;
    assert_eq!(
        created,
        [
            outcome("Made", true, None, &[]),
            outcome("Made_oauth", true, None, &[]),
            outcome("Made_glbloauth", true, None, &[]),
        ]
    );
    // The platform's generated values are there, as after a deploy.
    let read = read_header(&h, &session, "Made").await;
    assert!(
        read.xml("orgScopedExternalApp")
            .is_some_and(|v| v.ends_with(":Made")),
        "{}",
        read.body
    );
    let org = h.store.default_org().await.unwrap().unwrap().id;
    assert!(
        h.store
            .component(
                &org,
                "ExtlClntAppOauthConfigurablePolicies",
                "Made_oauth_defaultPolicy"
            )
            .await
            .unwrap()
            .is_some()
    );

    // Creating what exists, updating what does not, and unknown types are refused per record.
    let again = call(
        &h,
        &session,
        "createMetadata",
        &[
            header("Made", "Again"),
            header("Fresh", "Fresh"),
            format!("<metadata {XSI} xsi:type=\"ApexClass\"><fullName>X</fullName></metadata>"),
            header("Fresh", "Twice"),
        ],
    )
    .await;
    assert_eq!(
        again,
        [
            outcome("Made", false, None, &["DUPLICATE_DEVELOPER_NAME"]),
            outcome("Fresh", true, None, &[]),
            outcome("X", false, None, &["INVALID_TYPE"]),
            outcome("Fresh", false, None, &["DUPLICATE_VALUE"]),
        ]
    );
    assert_eq!(
        read_header(&h, &session, "Made")
            .await
            .xml("label")
            .as_deref(),
        Some("Made")
    );
    let missing = call(&h, &session, "updateMetadata", &[header("Nope", "Nope")]).await;
    assert_eq!(
        missing,
        [outcome(
            "Nope",
            false,
            None,
            &["INVALID_CROSS_REFERENCE_KEY"]
        )]
    );

    // An update replaces the component and keeps the generated values.
    let updated = call(
        &h,
        &session,
        "updateMetadata",
        &[header("Made", "Renamed label")],
    )
    .await;
    assert_eq!(updated, [outcome("Made", true, None, &[])]);
    let read = read_header(&h, &session, "Made").await;
    assert_eq!(read.xml("label").as_deref(), Some("Renamed label"));
    assert!(read.xml("orgScopedExternalApp").is_some(), "{}", read.body);

    // Upsert: `created` says which; a record the validator refuses fails alone.
    let bad = "<metadata xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
               xsi:type=\"ExternalClientApplication\"><fullName>Broken</fullName>\
               <contactEmail>dev@example.com</contactEmail><distributionState>Everywhere</distributionState><label>Broken</label></metadata>"
        .to_owned();
    let upserted = call(
        &h,
        &session,
        "upsertMetadata",
        &[header("Made", "Third"), header("Newer", "Newer"), bad],
    )
    .await;
    assert_eq!(
        upserted,
        [
            outcome("Made", true, Some(false), &[]),
            outcome("Newer", true, Some(true), &[]),
            outcome("Broken", false, Some(false), &["FIELD_INTEGRITY_EXCEPTION"]),
        ]
    );
    assert_eq!(
        read_header(&h, &session, "Made")
            .await
            .xml("label")
            .as_deref(),
        Some("Third")
    );
    assert_eq!(
        elements(&read_header(&h, &session, "Broken").await, "records"),
        0
    );

    // Saving needs the deploy permission, like deploying.
    let standard = h
        .store
        .profile_by_name(&org, "Standard User")
        .await
        .unwrap()
        .unwrap();
    let demo = h.store.default_org().await.unwrap().unwrap();
    crate::support::add_user(&h, &demo, &standard, "viewer@demo.example").await;
    let login =
        crate::support::login_call("", "viewer@demo.example", crate::support::ADMIN_PASSWORD)
            .send(&h)
            .await;
    let viewer = login.xml("sessionId").unwrap();
    let refused = soap(
        &h,
        &viewer,
        &format!(
            "upsertMetadata xmlns=\"{META_NS}\">{}</upsertMetadata>",
            header("Made", "Viewer")
        ),
    )
    .await;
    refused.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    assert!(
        refused.body.contains("Insufficient Privileges"),
        "{}",
        refused.body
    );
    assert_eq!(
        read_header(&h, &session, "Made")
            .await
            .xml("label")
            .as_deref(),
        Some("Third")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_credentials_saved_by_create_metadata_are_never_read_back() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let key = "ZmNtLXNlcnZpY2UtYWNjb3VudC1wcml2YXRlLWtleQ==";
    let push = format!(
        "<metadata {XSI} xsi:type=\"ExtlClntAppPushSettings\"><fullName>Pushy_push</fullName>\
         <androidPushConfig><fcmProject>pushy-prod</fcmProject><serviceAccount>{key}</serviceAccount></androidPushConfig>\
         <externalClientApplication>Pushy</externalClientApplication><pushServiceType>Android</pushServiceType></metadata>"
    );
    let created = call(
        &h,
        &session,
        "createMetadata",
        &[
            header("Pushy", "Pushy"),
            oauth("Pushy"),
            global("Pushy"),
            push,
        ],
    )
    .await;
    assert!(created.iter().all(|(_, ok, _, _)| *ok), "{created:?}");

    let read = soap(
        &h,
        &session,
        &format!(
            "readMetadata xmlns=\"{META_NS}\"><type>ExtlClntAppPushSettings</type>\
             <fullNames>Pushy_push</fullNames></readMetadata>"
        ),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let link = read.xml("pushConfigLink").unwrap_or_default();
    assert!(link.contains(":1Dh"), "{}", read.body);
    assert!(!read.body.contains(key), "{}", read.body);
    assert!(!read.body.contains("androidPushConfig"), "{}", read.body);
    let org = h.store.default_org().await.unwrap().unwrap();
    let stored = h
        .store
        .component(&org.id, "ExtlClntAppPushSettings", "Pushy_push")
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.xml.contains(key), "{}", stored.xml);
}
