//! `cancelDeploy` (SOAP) and `PATCH deployRequest` (REST) of a deploy in progress; retrieve
//! results kept in the store (another node answers, and they expire); retrieve by
//! `specificFiles` and `packageNames`.

use super::*;
use crate::support::{another_node, harness_with};

/// A harness whose body limit takes a few hundred apps.
async fn roomy() -> Harness {
    harness_with(|s| s.body_limit = 16 * 1024 * 1024).await
}

/// A zip of `apps` OAuth apps: large enough that its deploy is still running when a cancel
/// comes in, even on a fast machine.
fn big_package(apps: usize) -> Vec<u8> {
    let files: Vec<_> = (0..apps).flat_map(|i| files(&format!("Big{i}"))).collect();
    let manifest = Manifest::from_components(
        files.iter().map(|(ty, name, _)| (*ty, name.as_str())),
        ApiVersion::DEFAULT,
    );
    let mut entries = vec![("package.xml".to_owned(), manifest.to_xml().into_bytes())];
    for (ty, name, text) in &files {
        entries.push((
            format!("{}/{}", ty.directory(), ty.mdapi_file_name(name)),
            text.clone().into_bytes(),
        ));
    }
    zip_of(&entries)
}

/// Polls `checkDeployStatus` until the deploy has left `Queued`; returns its status.
async fn wait_started(h: &Harness, session: &str, id: &str) -> String {
    for _ in 0..2000 {
        let reply = soap(
            h,
            session,
            &format!(
                "checkDeployStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId>\
                 </checkDeployStatus>"
            ),
        )
        .await;
        let status = reply.xml("status").unwrap();
        if status != "Queued" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("deploy {id} did not start");
}

async fn org_id(h: &Harness) -> eca_core::OrgId {
    h.store.default_org().await.unwrap().unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_deploy_of_a_deploy_in_progress_changes_nothing() {
    let h = roomy().await;
    let session = admin_session(&h).await;
    let org = org_id(&h).await;
    let first = soap(&h, &session, &deploy_call(&package("Keep"))).await;
    wait_soap(&h, &session, &first.xml("id").unwrap()).await;
    let before = h.store.components(&org).await.unwrap();
    let admin = h
        .store
        .user_by_username(eca_server::bootstrap::ADMIN_USERNAME)
        .await
        .unwrap()
        .unwrap();
    let big = big_package(300);

    // SOAP: `cancelDeploy` answers `done` false while the deploy is `Canceling`.
    let started = soap(&h, &session, &deploy_call(&big)).await;
    let id = started.xml("id").unwrap();
    assert_eq!(wait_started(&h, &session, &id).await, "InProgress");
    let cancel = soap(
        &h,
        &session,
        &format!("cancelDeploy xmlns=\"{META_NS}\"><id>{id}</id></cancelDeploy>"),
    )
    .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(
        (cancel.xml("done").as_deref(), cancel.xml("id")),
        (Some("false"), Some(id.clone())),
        "the deploy finished before the cancel: make the package larger"
    );
    let done = wait_soap(&h, &session, &id).await;
    assert_eq!(
        done.xml("status").as_deref(),
        Some("Canceled"),
        "{}",
        done.body
    );
    assert_eq!(done.xml("success").as_deref(), Some("false"));
    assert_eq!(done.xml("canceledBy"), Some(admin.id.to_string()));
    assert_eq!(done.xml("canceledByName"), Some(admin.name()));
    assert_eq!(elements(&done, "componentSuccesses"), 0, "{}", done.body);
    assert!(done.xml("completedDate").is_some() && done.xml("startDate").is_some());
    assert_eq!(h.store.components(&org).await.unwrap(), before);

    // REST: `PATCH` with status `Canceling` answers 202 and the result so far.
    let (content_type, body) = multipart(&big, r#"{"deployOptions":{"rollbackOnError":true}}"#);
    let reply = post(
        "/services/data/v66.0/metadata/deployRequest",
        &content_type,
        body,
    )
    .bearer(&session)
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(wait_started(&h, &session, &id).await, "InProgress");
    let uri = format!("/services/data/v66.0/metadata/deployRequest/{id}");
    let reply = patch(
        &h,
        &session,
        &uri,
        r#"{"deployResult":{"status":"Canceling"}}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["deployResult"]["status"], "Canceling", "{json}");
    assert_eq!(json["deployResult"]["done"], false);
    assert_eq!(json["deployResult"]["canceledBy"], admin.id.as_str());
    let done = wait_rest(&h, &session, &id).await;
    assert_eq!(done["deployResult"]["status"], "Canceled", "{done}");
    assert_eq!(done["deployResult"]["done"], true);
    assert_eq!(
        done["deployResult"]["canceledByName"],
        admin.name().as_str()
    );
    assert_eq!(h.store.components(&org).await.unwrap(), before);

    // Only `Canceling` is a change a client may ask for.
    let reply = patch(
        &h,
        &session,
        &uri,
        r#"{"deployResult":{"status":"Succeeded"}}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

fn retrieve_call(request: &str) -> String {
    format!("retrieve xmlns=\"{META_NS}\"><retrieveRequest>{request}</retrieveRequest></retrieve>")
}

fn check_retrieve_call(id: &str) -> String {
    format!(
        "checkRetrieveStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId>\
         <includeZip>true</includeZip></checkRetrieveStatus>"
    )
}

/// `(fileName, problem)` of every `messages` element.
fn messages(reply: &Reply) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(&reply.body).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "messages")
        .map(|m| {
            let text = |name: &str| {
                m.children()
                    .find(|c| c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .unwrap_or("")
                    .to_owned()
            };
            (text("fileName"), text("problem"))
        })
        .collect()
}

fn zip_names(reply: &Reply) -> Vec<String> {
    let zip = base64::engine::general_purpose::STANDARD
        .decode(reply.xml("zipFile").unwrap())
        .unwrap();
    unzip(&zip).into_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieve_results_are_kept_in_the_store_until_they_expire() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let deployed = soap(&h, &session, &deploy_call(&package("Kept"))).await;
    wait_soap(&h, &session, &deployed.xml("id").unwrap()).await;

    let started = soap(
        &h,
        &session,
        &retrieve_call(
            "<unpackaged><types><members>Kept</members><name>ExternalClientApplication</name>\
             </types><version>66.0</version></unpackaged>",
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.xml("id").unwrap();

    // Another node, sharing only the database, answers for it.
    let other = another_node(&h);
    let status = soap(&other, &session, &check_retrieve_call(&id)).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(
        zip_names(&status),
        [
            "unpackaged/externalClientApps/Kept.eca",
            "unpackaged/package.xml"
        ]
    );
    assert_eq!(elements(&status, "fileProperties"), 1);
    let check = soap(
        &other,
        &session,
        &format!(
            "checkStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId></checkStatus>"
        ),
    )
    .await;
    assert_eq!(
        check.xml("state").as_deref(),
        Some("Completed"),
        "{}",
        check.body
    );

    // An hour later it is gone.
    h.clock
        .advance_secs(eca_deploy::RETRIEVE_RESULT_LIFETIME_SECS);
    let expired = soap(&h, &session, &check_retrieve_call(&id)).await;
    expired.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    assert!(expired.body.contains("60 minutes"), "{}", expired.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieve_by_specific_files_and_package_names() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let deployed = soap(&h, &session, &deploy_call(&package("Spec"))).await;
    wait_soap(&h, &session, &deployed.xml("id").unwrap()).await;

    let started = soap(
        &h,
        &session,
        &retrieve_call(
            "<apiVersion>66.0</apiVersion><packageNames>MyPackage</packageNames>\
             <singlePackage>true</singlePackage>\
             <specificFiles>externalClientApps/Spec.eca</specificFiles>\
             <specificFiles>unpackaged/extlClntAppOauthSettings/Spec_oauth.ecaOauth</specificFiles>\
             <specificFiles>externalClientApps/Missing.eca</specificFiles>\
             <specificFiles>classes/Spec.cls</specificFiles>",
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let status = soap(
        &h,
        &session,
        &check_retrieve_call(&started.xml("id").unwrap()),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(
        zip_names(&status),
        [
            "unpackaged/externalClientApps/Spec.eca",
            "unpackaged/extlClntAppOauthSettings/Spec_oauth.ecaOauth",
            "unpackaged/package.xml",
        ]
    );
    assert_eq!(elements(&status, "fileProperties"), 2, "{}", status.body);
    let found = messages(&status);
    assert_eq!(found.len(), 3, "{found:?}");
    let problem = |file: &str| {
        found
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("no message for {file}: {found:?}"))
    };
    assert!(problem("externalClientApps/Missing.eca").contains("named 'Missing' cannot be found"));
    assert!(problem("classes/Spec.cls").contains("is not the Metadata API file"));
    assert!(problem("MyPackage").contains("No package named 'MyPackage' found"));

    // A package name alone retrieves an empty package and says why.
    let started = soap(
        &h,
        &session,
        &retrieve_call("<packageNames>Other</packageNames>"),
    )
    .await;
    let status = soap(
        &h,
        &session,
        &check_retrieve_call(&started.xml("id").unwrap()),
    )
    .await;
    assert_eq!(zip_names(&status), ["unpackaged/package.xml"]);
    assert_eq!(elements(&status, "fileProperties"), 0);
    assert_eq!(messages(&status).len(), 1);

    // A request that names nothing is a fault.
    let empty = soap(
        &h,
        &session,
        &retrieve_call("<apiVersion>66.0</apiVersion>"),
    )
    .await;
    empty.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
}
