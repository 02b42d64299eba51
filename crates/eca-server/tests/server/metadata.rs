//! The Metadata API over HTTP: SOAP `deploy` → `checkDeployStatus` → `listMetadata` →
//! `retrieve` → `checkRetrieveStatus` as jsforce and the Salesforce CLI send them, the REST
//! `deployRequest` round trip, and clean failures for bad envelopes, sessions and zips.
//! Deploys run on blocking threads, so these tests use the multi-threaded runtime.

// Test helpers panic on any failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine as _;
use eca_metadata::model::Component;
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType, xml};

use crate::support::{Harness, Reply, admin_session, harness, post};

mod cancel_and_retrieve;
mod save;

const META_NS: &str = "http://soap.sforce.com/2006/04/metadata";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A Metadata API call as jsforce writes it: default namespace on the operation.
fn envelope(session_id: &str, operation: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope \
         xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Header>\
         <SessionHeader xmlns=\"{META_NS}\"><sessionId>{session_id}</sessionId></SessionHeader>\
         </soapenv:Header><soapenv:Body>{operation}</soapenv:Body></soapenv:Envelope>"
    )
}

async fn soap(h: &Harness, session_id: &str, operation: &str) -> Reply {
    post(
        "/services/Soap/m/66.0",
        "text/xml; charset=utf-8",
        envelope(session_id, &format!("<{operation}")),
    )
    .header("soapaction", "\"\"")
    .send(h)
    .await
}

fn files(app: &str) -> Vec<(MetadataType, String, String)> {
    let wrap = |ty: MetadataType, body: String| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{META_NS}\">\n{body}\n</{root}>\n",
            root = ty.name()
        )
    };
    vec![
        (
            MetadataType::ExternalClientApplication,
            app.to_owned(),
            wrap(
                MetadataType::ExternalClientApplication,
                format!(
                    "<contactEmail>dev@example.com</contactEmail><distributionState>Local</distributionState><label>{app}</label>"
                ),
            ),
        ),
        (
            MetadataType::OauthSettings,
            format!("{app}_oauth"),
            wrap(
                MetadataType::OauthSettings,
                format!(
                    "<commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><label>{app} OAuth</label>"
                ),
            ),
        ),
        (
            MetadataType::GlobalOauthSettings,
            format!("{app}_glbloauth"),
            wrap(
                MetadataType::GlobalOauthSettings,
                format!(
                    "<callbackUrl>https://app.example.com/callback</callbackUrl><externalClientApplication>{app}</externalClientApplication><label>{app} consumer</label>"
                ),
            ),
        ),
    ]
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn package(app: &str) -> Vec<u8> {
    let files = files(app);
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

pub(crate) fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        out.insert(entry.name().unwrap().into_owned(), text);
    }
    out
}

fn deploy_call(zip: &[u8]) -> String {
    format!(
        "deploy xmlns=\"{META_NS}\"><ZipFile>{}</ZipFile><DeployOptions><rollbackOnError>true</rollbackOnError>\
         <ignoreWarnings>false</ignoreWarnings><checkOnly>false</checkOnly><singlePackage>true</singlePackage>\
         <purgeOnDelete>false</purgeOnDelete></DeployOptions></deploy>",
        b64(zip)
    )
}

/// Polls `checkDeployStatus` until `done`, bounded.
async fn wait_soap(h: &Harness, session: &str, id: &str) -> Reply {
    for _ in 0..500 {
        let reply = soap(
            h,
            session,
            &format!(
                "checkDeployStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId>\
                 <includeDetails>true</includeDetails></checkDeployStatus>"
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if reply.xml("done").as_deref() == Some("true") {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("deploy {id} did not finish");
}

fn elements(reply: &Reply, name: &str) -> usize {
    let doc = roxmltree::Document::parse(&reply.body).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == name)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_deploy_list_and_retrieve_round_trip() {
    let h = harness().await;
    let session = admin_session(&h).await;

    let reply = soap(&h, &session, &deploy_call(&package("Demo"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.xml("done").as_deref(), Some("false"));
    assert_eq!(reply.xml("state").as_deref(), Some("Queued"));
    let id = reply.xml("id").unwrap();
    assert!(id.starts_with("0Af") && id.len() == 18, "{id}");
    let doc = roxmltree::Document::parse(&reply.body).unwrap();
    let response = doc
        .descendants()
        .find(|n| n.has_tag_name("deployResponse"))
        .unwrap();
    assert_eq!(response.tag_name().namespace(), Some(META_NS));

    let done = wait_soap(&h, &session, &id).await;
    for (field, value) in [
        ("status", "Succeeded"),
        ("success", "true"),
        ("checkOnly", "false"),
        ("rollbackOnError", "true"),
        ("numberComponentErrors", "0"),
        ("numberTestErrors", "0"),
        ("runTestsEnabled", "false"),
        ("numFailures", "0"),
    ] {
        assert_eq!(
            done.xml(field).as_deref(),
            Some(value),
            "{field}: {}",
            done.body
        );
    }
    for field in [
        "completedDate",
        "createdBy",
        "createdByName",
        "createdDate",
        "startDate",
    ] {
        assert!(done.xml(field).is_some(), "{field}: {}", done.body);
    }
    assert!(elements(&done, "componentSuccesses") >= 3, "{}", done.body);
    assert_eq!(elements(&done, "componentFailures"), 0, "{}", done.body);

    let list = soap(
        &h,
        &session,
        &format!(
            "listMetadata xmlns=\"{META_NS}\"><queries><type>ExternalClientApplication</type></queries>\
             <asOfVersion>66.0</asOfVersion></listMetadata>"
        ),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.xml("fullName").as_deref(), Some("Demo"));
    assert_eq!(
        list.xml("fileName").as_deref(),
        Some("externalClientApps/Demo.eca")
    );
    assert_eq!(
        list.xml("type").as_deref(),
        Some("ExternalClientApplication")
    );

    let describe = soap(&h, &session, &format!("describeMetadata xmlns=\"{META_NS}\"><asOfVersion>66.0</asOfVersion></describeMetadata>")).await;
    assert_eq!(describe.status, StatusCode::OK, "{}", describe.body);
    assert!(describe.body.contains("<directoryName>externalClientApps</directoryName><inFolder>false</inFolder><metaFile>false</metaFile><suffix>eca</suffix><xmlName>ExternalClientApplication</xmlName>"), "{}", describe.body);

    let retrieve = soap(
        &h,
        &session,
        &format!(
            "retrieve xmlns=\"{META_NS}\"><retrieveRequest><apiVersion>66.0</apiVersion><singlePackage>true</singlePackage>\
             <unpackaged><types><members>*</members><name>ExternalClientApplication</name></types>\
             <types><members>Demo_oauth</members><name>ExtlClntAppOauthSettings</name></types>\
             <types><members>Demo_glbloauth</members><name>ExtlClntAppGlobalOauthSettings</name></types>\
             <version>66.0</version></unpackaged></retrieveRequest></retrieve>"
        ),
    )
    .await;
    assert_eq!(retrieve.status, StatusCode::OK, "{}", retrieve.body);
    let retrieve_id = retrieve.xml("id").unwrap();
    let status = soap(
        &h,
        &session,
        &format!(
            "checkRetrieveStatus xmlns=\"{META_NS}\"><asyncProcessId>{retrieve_id}</asyncProcessId>\
             <includeZip>true</includeZip></checkRetrieveStatus>"
        ),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.xml("status").as_deref(), Some("Succeeded"));
    assert_eq!(status.xml("done").as_deref(), Some("true"));
    assert_eq!(elements(&status, "fileProperties"), 3, "{}", status.body);
    let zip = base64::engine::general_purpose::STANDARD
        .decode(status.xml("zipFile").unwrap())
        .unwrap();
    let retrieved = unzip(&zip);
    assert!(
        retrieved.contains_key("unpackaged/package.xml"),
        "{retrieved:?}"
    );

    // The same model as deployed, plus what the platform generates.
    let org15 = h
        .store
        .default_org()
        .await
        .unwrap()
        .unwrap()
        .id
        .as_15()
        .to_owned();
    for (ty, name, text) in files("Demo") {
        let path = format!(
            "unpackaged/{}/{}",
            ty.directory(),
            ty.mdapi_file_name(&name)
        );
        let got = retrieved
            .get(&path)
            .unwrap_or_else(|| panic!("{path}: {retrieved:?}"));
        assert!(!got.contains("consumerSecret"), "{got}");
        let mut expected = Component::from_element(ty, &name, &xml::parse_str(&text).unwrap().root);
        let actual = Component::from_element(ty, &name, &xml::parse_str(got).unwrap().root);
        match (&mut expected, &actual) {
            (Component::Header(e), Component::Header(_)) => {
                e.org_scoped_external_app = Some(format!("{org15}:Demo"));
            }
            (Component::OauthSettings(e), Component::OauthSettings(a)) => {
                e.is_first_party_app_enabled.get_or_insert(false);
                assert!(
                    a.oauth_link
                        .as_deref()
                        .is_some_and(|l| l.starts_with(&org15))
                );
                e.oauth_link.clone_from(&a.oauth_link);
            }
            (Component::GlobalOauthSettings(e), Component::GlobalOauthSettings(a)) => {
                assert!(
                    a.consumer_key
                        .as_deref()
                        .is_some_and(|k| k.starts_with("3MVG"))
                );
                e.consumer_key.clone_from(&a.consumer_key);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(actual, expected, "{path}");
    }
}

fn multipart(zip: &[u8], options: &str) -> (String, Vec<u8>) {
    let boundary = "eca-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"package.xml\"\r\n\
             Content-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(zip);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"entity_content\"\r\n\
             Content-Type: application/json\r\n\r\n{options}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A JSON `PATCH` (the support module has `GET` and `POST` only).
async fn patch(h: &Harness, session: &str, uri: &str, body: &str) -> Reply {
    use tower::ServiceExt as _;
    let request = axum::http::Request::patch(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {session}"))
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
    let response = h.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn wait_rest(h: &Harness, session: &str, id: &str) -> serde_json::Value {
    wait_rest_at(h, "", session, id).await
}

/// [`wait_rest`] for an org under `prefix` (`/orgs/<domain>`, or empty for the default org).
async fn wait_rest_at(h: &Harness, prefix: &str, session: &str, id: &str) -> serde_json::Value {
    for _ in 0..500 {
        let reply = crate::support::get(&format!(
            "{prefix}/services/data/v66.0/metadata/deployRequest/{id}?includeDetails=true"
        ))
        .bearer(session)
        .send(h)
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let json = reply.json();
        if json["deployResult"]["done"] == true {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("deploy {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_deploy_request_round_trip() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let (content_type, body) = multipart(
        &package("Rest"),
        r#"{"deployOptions":{"rollbackOnError":true,"checkOnly":false,"testLevel":"NoTestRun"}}"#,
    );
    let reply = post(
        "/services/data/v66.0/metadata/deployRequest",
        &content_type,
        body,
    )
    .bearer(&session)
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let json = reply.json();
    let id = json["id"].as_str().unwrap().to_owned();
    assert_eq!(json["deployResult"]["id"], id.as_str());
    let done = wait_rest(&h, &session, &id).await;
    let result = &done["deployResult"];
    assert_eq!(result["status"], "Succeeded", "{done}");
    assert_eq!(result["success"], true);
    assert!(
        result["details"]["componentSuccesses"]
            .as_array()
            .is_some_and(|a| a.len() >= 3),
        "{done}"
    );

    // A check-only deploy of a broken zip fails cleanly.
    let (content_type, body) = multipart(b"not a zip", r#"{"deployOptions":{"checkOnly":true}}"#);
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
    let done = wait_rest(&h, &session, &id).await;
    assert_eq!(done["deployResult"]["status"], "Failed", "{done}");
    assert_eq!(done["deployResult"]["success"], false);

    // Canceling a finished deploy leaves it as it is.
    let reply = patch(
        &h,
        &session,
        &format!("/services/data/v66.0/metadata/deployRequest/{id}"),
        r#"{"deployResult":{"status":"Canceling"}}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.json()["deployResult"]["status"], "Failed");

    // Not multipart; no session; an unknown id.
    let reply = post(
        "/services/data/v66.0/metadata/deployRequest",
        "application/json",
        "{}",
    )
    .bearer(&session)
    .send(&h)
    .await;
    reply.rest_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    let (content_type, body) = multipart(&package("X"), "{}");
    let reply = post(
        "/services/data/v66.0/metadata/deployRequest",
        &content_type,
        body,
    )
    .send(&h)
    .await;
    reply.rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    let reply =
        crate::support::get("/services/data/v66.0/metadata/deployRequest/0Af000000000001AAA")
            .bearer(&session)
            .send(&h)
            .await;
    reply.rest_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_soap_calls_are_faults_and_bad_zips_fail_cleanly() {
    let h = harness().await;
    let session = admin_session(&h).await;

    // Not XML, a DTD, an unknown operation, a partner operation on the metadata endpoint.
    for (body, code) in [
        ("not xml".to_owned(), "soapenv:Client"),
        (
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>".to_owned(),
            "soapenv:Client",
        ),
        (
            envelope(&session, &format!("<renameMetadata xmlns=\"{META_NS}\"/>")),
            "soapenv:Client",
        ),
        (
            envelope(&session, "<query xmlns=\"urn:partner.soap.sforce.com\"/>"),
            "soapenv:Client",
        ),
    ] {
        let reply = post("/services/Soap/m/66.0", "text/xml", body)
            .send(&h)
            .await;
        reply.fault(StatusCode::INTERNAL_SERVER_ERROR, code);
    }
    // A DTD on an otherwise valid call, its entity standing for the session id.
    let with_dtd = format!(
        "<!DOCTYPE soapenv:Envelope [<!ENTITY e \"{session}\">]>{}",
        envelope(
            "&e;",
            &format!(
                "<listMetadata xmlns=\"{META_NS}\"><queries><type>ExternalClientApplication</type></queries></listMetadata>"
            )
        )
    );
    let reply = post("/services/Soap/m/66.0", "text/xml", with_dtd)
        .send(&h)
        .await;
    reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    assert!(
        !reply.body.contains("listMetadataResponse"),
        "{}",
        reply.body
    );

    // Shapes the XML parser would spend quadratic time on are refused before anything else,
    // without a session, on both SOAP endpoints: thousands of attributes on one element, and
    // namespace declarations that pile up.
    let attributes: String = (0..5_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let namespaces: String = (0..300).map(|i| format!("<e xmlns:p{i}=\"u\">")).collect();
    for (inner, says) in [
        (
            format!("<listMetadata{attributes}/>"),
            "more than 64 attributes",
        ),
        (
            format!("<listMetadata>{namespaces}</listMetadata>"),
            "more than 256 namespaces",
        ),
    ] {
        for endpoint in ["/services/Soap/m/66.0", "/services/Soap/u/66.0"] {
            let reply = post(endpoint, "text/xml", envelope("", &inner))
                .send(&h)
                .await;
            reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
            assert!(reply.body.contains(says), "{endpoint}: {}", reply.body);
        }
    }

    // A bad session, and none.
    let reply = soap(
        &h,
        "00Dbogus!session",
        &format!("describeMetadata xmlns=\"{META_NS}\"/>"),
    )
    .await;
    reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_SESSION_ID");
    let reply = post(
        "/services/Soap/m/66.0",
        "text/xml",
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
             <describeMetadata xmlns=\"{META_NS}\"/></soapenv:Body></soapenv:Envelope>"
        ),
    )
    .send(&h)
    .await;
    reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "sf:INVALID_SESSION_ID");

    // Bad base64 is a fault; a zip that is not one is a failed deploy.
    let reply = soap(
        &h,
        &session,
        &format!("deploy xmlns=\"{META_NS}\"><ZipFile>@@@</ZipFile></deploy>"),
    )
    .await;
    reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    let reply = soap(&h, &session, &deploy_call(b"definitely not a zip")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let done = wait_soap(&h, &session, &reply.xml("id").unwrap()).await;
    assert_eq!(
        done.xml("status").as_deref(),
        Some("Failed"),
        "{}",
        done.body
    );
    assert_eq!(done.xml("success").as_deref(), Some("false"));

    // An unknown deploy id, and a malformed one.
    for id in ["0Af000000000001AAA", "nonsense"] {
        let reply = soap(
            &h,
            &session,
            &format!("checkDeployStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId></checkDeployStatus>"),
        )
        .await;
        reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    }

    // A zip as large as the body limit (64 KiB here) fits once base64-encoded...
    let zip: Vec<u8> = (0..60 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let reply = soap(&h, &session, &deploy_call(&zip)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let done = wait_soap(&h, &session, &reply.xml("id").unwrap()).await;
    assert_eq!(
        done.xml("status").as_deref(),
        Some("Failed"),
        "{}",
        done.body
    );
    // ...but the envelope is bounded: a larger one is refused before parsing.
    let big = "A".repeat(200 * 1024);
    let reply = soap(
        &h,
        &session,
        &format!("deploy xmlns=\"{META_NS}\"><ZipFile>{big}</ZipFile></deploy>"),
    )
    .await;
    reply.fault(StatusCode::PAYLOAD_TOO_LARGE, "soapenv:Client");
}

/// What jsforce sends besides the WSDL's names: `retrieve(request)`, `checkStatus` polling
/// (its `complete()`), `cancelDeploy(id)`, and calls on the login's `metadataServerUrl`
/// (`/services/Soap/m/{version}/{orgId}`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsforce_variants_check_status_cancel_and_the_org_url() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let org15 = h
        .store
        .default_org()
        .await
        .unwrap()
        .unwrap()
        .id
        .as_15()
        .to_owned();
    let reply = post(
        &format!("/services/Soap/m/50.0/{org15}"),
        "text/xml",
        envelope(&session, &format!("<{}", deploy_call(&package("Js")))),
    )
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id = reply.xml("id").unwrap();
    wait_soap(&h, &session, &id).await;

    let check = soap(
        &h,
        &session,
        &format!(
            "checkStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId></checkStatus>"
        ),
    )
    .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert_eq!(check.xml("done").as_deref(), Some("true"));
    assert_eq!(check.xml("state").as_deref(), Some("Completed"));

    let cancel = soap(
        &h,
        &session,
        &format!("cancelDeploy xmlns=\"{META_NS}\"><id>{id}</id></cancelDeploy>"),
    )
    .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(cancel.xml("done").as_deref(), Some("true"));
    assert_eq!(cancel.xml("id").as_deref(), Some(id.as_str()));

    let retrieve = soap(
        &h,
        &session,
        &format!(
            "retrieve xmlns=\"{META_NS}\"><request><apiVersion>66.0</apiVersion><singlePackage>true</singlePackage>\
             <unpackaged><types><members>Js</members><name>ExternalClientApplication</name></types>\
             <types><members>Nope</members><name>ExternalClientApplication</name></types>\
             </unpackaged></request></retrieve>"
        ),
    )
    .await;
    assert_eq!(retrieve.status, StatusCode::OK, "{}", retrieve.body);
    let retrieve_id = retrieve.xml("id").unwrap();
    assert!(retrieve_id.starts_with("09S"), "{retrieve_id}");
    let check = soap(
        &h,
        &session,
        &format!("checkStatus xmlns=\"{META_NS}\"><asyncProcessId>{retrieve_id}</asyncProcessId></checkStatus>"),
    )
    .await;
    assert_eq!(
        check.xml("state").as_deref(),
        Some("Completed"),
        "{}",
        check.body
    );
    let status = soap(
        &h,
        &session,
        &format!("checkRetrieveStatus xmlns=\"{META_NS}\"><asyncProcessId>{retrieve_id}</asyncProcessId></checkRetrieveStatus>"),
    )
    .await;
    assert_eq!(elements(&status, "fileProperties"), 1, "{}", status.body);
    assert!(
        status
            .xml("problem")
            .is_some_and(|p| p.contains("named 'Nope' cannot be found")),
        "{}",
        status.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_and_delete_metadata() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let reply = soap(&h, &session, &deploy_call(&package("Crud"))).await;
    wait_soap(&h, &session, &reply.xml("id").unwrap()).await;

    let read = soap(
        &h,
        &session,
        &format!(
            "readMetadata xmlns=\"{META_NS}\"><type>ExternalClientApplication</type>\
             <fullNames>Crud</fullNames><fullNames>Missing</fullNames></readMetadata>"
        ),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(elements(&read, "records"), 1, "{}", read.body);
    assert_eq!(read.xml("fullName").as_deref(), Some("Crud"));
    assert_eq!(read.xml("contactEmail").as_deref(), Some("dev@example.com"));
    assert!(
        read.body
            .contains("<records xsi:type=\"ExternalClientApplication\">"),
        "{}",
        read.body
    );
    let unknown = soap(
        &h,
        &session,
        &format!("readMetadata xmlns=\"{META_NS}\"><type>ApexClass</type><fullNames>X</fullNames></readMetadata>"),
    )
    .await;
    unknown.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");

    let delete = soap(
        &h,
        &session,
        &format!(
            "deleteMetadata xmlns=\"{META_NS}\"><type>ExternalClientApplication</type>\
             <fullNames>Crud</fullNames><fullNames>Missing</fullNames></deleteMetadata>"
        ),
    )
    .await;
    assert_eq!(delete.status, StatusCode::OK, "{}", delete.body);
    let doc = roxmltree::Document::parse(&delete.body).unwrap();
    let results: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((META_NS, "result")))
        .map(|r| {
            let field = |name: &str| {
                r.children()
                    .find(|c| c.has_tag_name((META_NS, name)))
                    .and_then(|c| c.text())
                    .unwrap_or("")
                    .to_owned()
            };
            (field("fullName"), field("success"))
        })
        .collect();
    assert_eq!(
        results,
        [
            ("Crud".to_owned(), "true".to_owned()),
            ("Missing".to_owned(), "false".to_owned())
        ],
        "{}",
        delete.body
    );
    let list = soap(
        &h,
        &session,
        &format!("listMetadata xmlns=\"{META_NS}\"><queries><type>ExternalClientApplication</type></queries></listMetadata>"),
    )
    .await;
    assert_eq!(elements(&list, "result"), 0, "{}", list.body);
}

/// A new Standard User (no External Client App permission) of the demo org, logged in by SOAP:
/// the org and the session id.
async fn standard_user_session(h: &Harness, username: &str) -> (eca_core::domain::Org, String) {
    let org = h
        .store
        .org_by_domain("demo")
        .await
        .unwrap()
        .expect("the demo org");
    let standard = h
        .store
        .profile_by_name(&org.id, "Standard User")
        .await
        .unwrap()
        .expect("the Standard User profile");
    crate::support::add_user(h, &org, &standard, username).await;
    let reply = crate::support::login_call("", username, crate::support::ADMIN_PASSWORD)
        .send(h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (org, reply.xml("sessionId").expect("a sessionId"))
}

/// Reading apps' metadata needs an External Client App permission too (the viewer's will
/// do): the files hold push credentials and policies, not for every API user. Found by review.
#[tokio::test]
async fn reading_metadata_needs_an_external_client_app_permission() {
    let h = harness().await;
    let (_, session) = standard_user_session(&h, "reader@demo.example").await;
    let admin = admin_session(&h).await;
    let retrieve = format!(
        "retrieve xmlns=\"{META_NS}\"><retrieveRequest><apiVersion>66.0</apiVersion>\
         <unpackaged><types><members>*</members><name>ExternalClientApplication</name></types>\
         <version>66.0</version></unpackaged></retrieveRequest></retrieve>"
    );
    let id = soap(&h, &admin, &retrieve)
        .await
        .xml("id")
        .expect("the admin's retrieve");
    let calls = [
        format!(
            "listMetadata xmlns=\"{META_NS}\"><queries><type>ExternalClientApplication</type></queries></listMetadata>"
        ),
        retrieve,
        format!(
            "checkRetrieveStatus xmlns=\"{META_NS}\"><asyncProcessId>{id}</asyncProcessId><includeZip>true</includeZip></checkRetrieveStatus>"
        ),
        format!(
            "readMetadata xmlns=\"{META_NS}\"><type>ExternalClientApplication</type><fullNames>Demo</fullNames></readMetadata>"
        ),
    ];
    for call in &calls {
        let refused = soap(&h, &session, call).await;
        refused.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
        assert!(
            refused.body.contains("Insufficient Privileges"),
            "{call}: {}",
            refused.body
        );
    }
    for call in &calls {
        let reply = soap(&h, &admin, call).await;
        assert_eq!(reply.status, StatusCode::OK, "{call}: {}", reply.body);
    }
}

#[tokio::test]
async fn deploying_needs_an_external_client_app_permission() {
    let h = harness().await;
    let (org, session) = standard_user_session(&h, "dev@demo.example").await;
    let (content_type, body) = multipart(
        &package("Nope"),
        r#"{"deployOptions":{"rollbackOnError":true}}"#,
    );
    post(
        "/services/data/v66.0/metadata/deployRequest",
        &content_type,
        body,
    )
    .bearer(&session)
    .send(&h)
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // Nothing was deployed.
    let header = MetadataType::ExternalClientApplication.name();
    assert!(
        h.store
            .component(&org.id, header, "Nope")
            .await
            .unwrap()
            .is_none()
    );
    // Nor may this user cancel the admin's deploy, over REST or SOAP.
    let admin = admin_session(&h).await;
    let id = soap(&h, &admin, &deploy_call(&package("Theirs")))
        .await
        .xml("id")
        .unwrap();
    patch(
        &h,
        &session,
        &format!("/services/data/v66.0/metadata/deployRequest/{id}"),
        r#"{"deployResult":{"status":"Canceling"}}"#,
    )
    .await
    .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    soap(
        &h,
        &session,
        &format!("cancelDeploy xmlns=\"{META_NS}\"><id>{id}</id></cancelDeploy>"),
    )
    .await
    .fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
    let done = wait_soap(&h, &admin, &id).await;
    assert_eq!(
        done.xml("status").as_deref(),
        Some("Succeeded"),
        "{}",
        done.body
    );
}

/// Each deploy holds a blocking thread from submission to its end, waiting its turn for the
/// org's lock: past `MAX_DEPLOYS_IN_FLIGHT` on a node, another is refused with 503
/// `SERVER_UNAVAILABLE` and nothing is recorded. Found by review: a user with the deploy
/// permission could queue hundreds and take every blocking thread, which logins need too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_in_flight_are_bounded() {
    let h = harness().await;
    // Orgs whose deploys all wait behind their org's lock: the default one (the admin) and
    // more, each with a developer who may deploy.
    let mut orgs = vec![(
        h.store.default_org().await.unwrap().unwrap().id,
        String::new(),
        admin_session(&h).await,
    )];
    for domain in ["b", "c", "d", "e"] {
        orgs.push(deployer_org(&h, domain).await);
    }
    let mut held = Vec::new();
    for (org, _, _) in &orgs {
        held.push(h.state.deploy_locks().lock(org).await);
    }
    let submit = |prefix: &str, session: &str| {
        let (content_type, body) = multipart(&package("Busy"), r#"{"deployOptions":{}}"#);
        post(
            &format!("{prefix}/services/data/v66.0/metadata/deployRequest"),
            &content_type,
            body,
        )
        .bearer(session)
    };
    // One org gets MAX_DEPLOYS_PER_ORG, and the next is refused for that org alone...
    let mut ids = Vec::new();
    let per_org = eca_server::metadata::MAX_DEPLOYS_PER_ORG;
    let (_, prefix, session) = &orgs[0];
    for _ in 0..per_org {
        let reply = submit(prefix, session).send(&h).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        ids.push((0, reply.json()["id"].as_str().unwrap().to_owned()));
    }
    let refused = submit(prefix, session).send(&h).await;
    refused.rest_error(StatusCode::SERVICE_UNAVAILABLE, "SERVER_UNAVAILABLE");
    assert!(refused.body.contains("of this org"), "{}", refused.body);
    // ...while the others go on until the node's bound.
    let total = eca_server::metadata::MAX_DEPLOYS_IN_FLIGHT;
    'fill: for (i, (_, prefix, session)) in orgs.iter().enumerate().skip(1) {
        for _ in 0..per_org {
            if ids.len() == total {
                break 'fill;
            }
            let reply = submit(prefix, session).send(&h).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            ids.push((i, reply.json()["id"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(ids.len(), total, "enough orgs to fill the node");
    let (_, prefix, session) = &orgs[4];
    let refused = submit(prefix, session).send(&h).await;
    refused.rest_error(StatusCode::SERVICE_UNAVAILABLE, "SERVER_UNAVAILABLE");
    assert!(refused.body.contains("on this server"), "{}", refused.body);
    drop(held);
    for (i, id) in &ids {
        wait_rest_at(&h, &orgs[*i].1, &orgs[*i].2, id).await;
    }
    // Room again once they are done (the slots are given back as each deploy's thread ends).
    let (_, prefix, session) = &orgs[0];
    let mut accepted = false;
    for _ in 0..100 {
        let reply = submit(prefix, session).send(&h).await;
        if reply.status == StatusCode::CREATED {
            accepted = true;
            wait_rest(&h, session, reply.json()["id"].as_str().unwrap()).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted);
}

/// A new org `domain` with a developer who may deploy: its id, its path prefix and the
/// developer's session.
async fn deployer_org(h: &Harness, domain: &str) -> (eca_core::OrgId, String, String) {
    use eca_core::domain::{Org, Permission, Permissions, Profile};
    use eca_core::{OrgId, ProfileId};
    let rng = h.rng.as_ref();
    let org = Org {
        id: OrgId::generate(rng),
        name: domain.to_uppercase(),
        my_domain: domain.to_owned(),
        is_default: false,
        session_timeout_minutes: 60,
        enforce_ip_ranges_every_request: false,
        created_at: crate::support::START,
    };
    h.store.create_org(&org).await.unwrap();
    let profile = Profile {
        id: ProfileId::generate(rng),
        org_id: org.id.clone(),
        name: "Developer".into(),
        permissions: Permissions::new(vec![
            Permission::ApiEnabled,
            Permission::ExternalClientAppDeveloper,
        ]),
    };
    h.store.create_profile(&profile).await.unwrap();
    let username = format!("dev@{domain}.example");
    crate::support::add_user(h, &org, &profile, &username).await;
    let prefix = format!("/orgs/{domain}");
    let reply = crate::support::login_call(&prefix, &username, crate::support::ADMIN_PASSWORD)
        .send(h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let session = reply.xml("sessionId").expect("a sessionId");
    (org.id, prefix, session)
}

/// A misspelled or misplaced option would turn a validation into a real deploy: options the
/// Metadata API does not have are refused, on REST and SOAP alike, and nothing is deployed.
/// Options it has but ECA metadata does not use (tests, retrieves) are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_malformed_deploy_options_are_refused() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let rest = |options: &'static str| {
        let (content_type, body) = multipart(&package("Strict"), options);
        post(
            "/services/data/v66.0/metadata/deployRequest",
            &content_type,
            body,
        )
        .bearer(&session)
    };
    for options in [
        r#"{"checkOnly":true}"#,
        r#"{"deployOptions":{"checkonly":true}}"#,
        r#"{"deployOptions":{"checkOnly":"yes"}}"#,
        r#"[]"#,
    ] {
        let reply = rest(options).send(&h).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{options}: {}",
            reply.body
        );
        assert!(reply.body.contains("JSON_PARSER_ERROR"), "{}", reply.body);
    }
    let zip = b64(&package("Strict"));
    for (options, says) in [
        (
            "<DeployOptions><checkonly>true</checkonly></DeployOptions>".to_owned(),
            "unknown option `checkonly`",
        ),
        (
            "<deployOptions><checkOnly>true</checkOnly></deployOptions>".to_owned(),
            "unexpected element `deployOptions`",
        ),
        (
            "<DeployOptions><checkOnly/></DeployOptions>".to_owned(),
            "is not a boolean",
        ),
        (
            "<DeployOptions><checkOnly>true</checkOnly><checkOnly>false</checkOnly></DeployOptions>"
                .to_owned(),
            "given twice",
        ),
    ] {
        let reply = soap(
            &h,
            &session,
            &format!("deploy xmlns=\"{META_NS}\"><ZipFile>{zip}</ZipFile>{options}</deploy>"),
        )
        .await;
        reply.fault(StatusCode::INTERNAL_SERVER_ERROR, "soapenv:Client");
        assert!(reply.body.contains(says), "{options}: {}", reply.body);
    }
    // Nothing was deployed by any of them.
    let org = h.store.default_org().await.unwrap().unwrap();
    assert!(
        h.store
            .components_of_app(&org.id, "Strict")
            .await
            .unwrap()
            .is_empty()
    );
    // Known options ECA metadata has no use for, and a nil flag, are accepted.
    let reply = rest(
        r#"{"deployOptions":{"checkOnly":true,"testLevel":"NoTestRun","runTests":[],"performRetrieve":false}}"#,
    )
    .send(&h)
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = soap(
        &h,
        &session,
        &format!(
            "deploy xmlns=\"{META_NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
             <ZipFile>{zip}</ZipFile><DeployOptions><checkOnly>true</checkOnly>\
             <purgeOnDelete xsi:nil=\"true\"/><testLevel>NoTestRun</testLevel>\
             <runTests>A</runTests><runTests>B</runTests></DeployOptions></deploy>"
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// Each retrieve keeps its zip in the store for an hour, and any session may retrieve: an org
/// gets a bounded number a minute, and the next minute more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieves_per_org_are_bounded_a_minute() {
    let h = harness().await;
    let session = admin_session(&h).await;
    let call = format!(
        "retrieve xmlns=\"{META_NS}\"><retrieveRequest><apiVersion>66.0</apiVersion>\
         <unpackaged><types><members>*</members><name>ExternalClientApplication</name></types>\
         <version>66.0</version></unpackaged></retrieveRequest></retrieve>"
    );
    let limit = eca_server::metadata::MAX_RETRIEVES_PER_MINUTE;
    for _ in 0..limit {
        let reply = soap(&h, &session, &call).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let refused = soap(&h, &session, &call).await;
    refused.fault(StatusCode::SERVICE_UNAVAILABLE, "soapenv:Server");
    assert!(
        refused.body.contains("Too many retrieves"),
        "{}",
        refused.body
    );
    h.clock.advance_secs(60);
    let reply = soap(&h, &session, &call).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
