//! JWT access tokens (`isNamedUserJwtEnabled`): issued, verified, used and revoked.

use super::*;

// ---------------------------------------------------------------------------------------------
// JWT access tokens (isNamedUserJwtEnabled)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn jwt_access_tokens_verify_with_the_jwks_work_on_rest_and_are_revocable() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    spec.policies
        .push_str("<namedUserJwtTimeout>5</namedUserJwtTimeout>");
    w.deploy(&spec).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["token_format"], "jwt", "{}", reply.body);
    let token = body["access_token"].as_str().expect("a token").to_owned();

    // It verifies against the org's published keys, with RFC 9068 claims.
    let jwks = get("/id/keys").send(&w.h).await.json();
    let jwk: eca_oauth::Jwk = serde_json::from_value(jwks["keys"][0].clone()).expect("a JWK");
    let key = eca_oauth::VerifyingKey::from_jwk(&jwk).expect("a key");
    let verified = eca_oauth::jose::verify_rs256(&token, &key).expect("a valid signature");
    assert_eq!(verified.header["typ"], "at+jwt");
    assert_eq!(verified.header["kid"].as_str(), jwk.kid.as_deref());
    let claims = &verified.claims;
    let start = START.millis() / 1000;
    assert_eq!(claims["iss"], PUBLIC_URL);
    assert_eq!(claims["aud"], PUBLIC_URL);
    assert_eq!(claims["sub"], w.run_as.id.to_string());
    assert_eq!(claims["client_id"], KEY);
    assert_eq!(claims["iat"], start);
    // The policies' namedUserJwtTimeout (minutes), not the session timeout.
    assert_eq!(claims["exp"], start + 5 * 60);

    // It works on the REST API and userinfo, and introspection sees it.
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = get_bearer(&w, "/services/oauth2/userinfo", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let reply = post(
        "/services/oauth2/introspect",
        FORM,
        format!("token={encoded}"),
    )
    .header("authorization", &basic(KEY, SECRET))
    .send(&w.h)
    .await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);

    // Only REST: the SOAP APIs refuse it as a session id.
    let envelope = format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:met=\"http://soap.sforce.com/2006/04/metadata\"><soapenv:Header><met:SessionHeader>\
         <met:sessionId>{token}</met:sessionId></met:SessionHeader></soapenv:Header><soapenv:Body>\
         <met:listMetadata><met:queries><met:type>ExternalClientApplication</met:type></met:queries>\
         </met:listMetadata></soapenv:Body></soapenv:Envelope>"
    );
    let reply = post("/services/Soap/m/66.0", "text/xml", envelope)
        .header("soapaction", "\"\"")
        .send(&w.h)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("INVALID_SESSION_ID"), "{}", reply.body);

    // Revoked: refused at once, although its signature stays valid until exp.
    let reply = post("/services/oauth2/revoke", FORM, format!("token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");

    // Expired after the five minutes, even unrevoked.
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    let fresh = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    w.h.clock.advance_secs(5 * 60);
    get_bearer(&w, "/services/data/v66.0", &fresh)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn jwt_access_tokens_are_keyed_by_issue_time_and_older_keys_still_work() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    w.deploy(&spec).await;
    let token = w.cc_token().await;
    w.h.state.token_writer().sync().await;
    // Stored under the issue time (`iat`, in ms, 11 hex digits) and the hash.
    let key = tokens::access_token_key(&token);
    assert!(
        key.as_str()
            .starts_with(&format!("{:011x}", START.millis() / 1000 * 1000)),
        "{}",
        key.as_str()
    );
    assert!(
        key.as_str()
            .ends_with(eca_oauth::TokenHash::of(&token).as_str())
    );
    assert!(
        w.h.store
            .access_token(key.as_str())
            .await
            .unwrap()
            .is_some()
    );

    // A JWT an older server stored under its hash alone still works, and is revocable.
    let stored = w.h.store.access_token(key.as_str()).await.unwrap().unwrap();
    let signing = eca_server::oauth::keys::current_key(&w.h.state, &w.org.id)
        .await
        .unwrap();
    let older = eca_oauth::access_jwt::AccessJwt {
        base_url: PUBLIC_URL,
        user_id: w.run_as.id.as_str(),
        client_id: KEY,
        scope: "api",
        issued_at: START,
        expires_at: START.plus_minutes(60),
    }
    .sign(&signing, w.h.rng.as_ref())
    .unwrap();
    let older = older.value.expose().to_owned();
    let legacy = eca_store::AccessTokenRecord {
        token_hash: eca_oauth::TokenHash::of(&older).as_str().to_owned(),
        ..stored
    };
    w.h.store.create_access_token(&legacy).await.unwrap();
    let reply = get_bearer(&w, "/services/data/v66.0", &older).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let encoded: String = form_urlencoded::byte_serialize(older.as_bytes()).collect();
    let reply = post("/services/oauth2/revoke", FORM, format!("token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    get_bearer(&w, "/services/data/v66.0", &older)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

/// The `kid` in a JWT's header.
fn kid_of(token: &str) -> String {
    eca_oauth::jose::decode_unverified(token)
        .expect("a JWT")
        .header["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

/// The `kid`s `/id/keys` publishes, in order.
async fn published_kids(w: &World) -> Vec<String> {
    let jwks = get("/id/keys").send(&w.h).await.json();
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

#[tokio::test]
async fn signing_keys_roll_over_without_breaking_tokens_in_flight() {
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    w.deploy(&spec).await;
    let cc = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    let before = w.token(&cc).await.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(kid_of(&before), "1");
    assert_eq!(published_kids(&w).await, ["1"]);

    let admin = admin_session(&w.h).await;
    let keys_path = "/services/data/v66.0/eca/oauth/keys";
    let reply = request("POST", &format!("{keys_path}/rotate"), None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let listed = reply.json();
    assert_eq!(listed["totalSize"], 2);
    assert_eq!(listed["overlapHours"], 48);
    assert_eq!(listed["keys"][0]["kid"], "2");
    assert_eq!(listed["keys"][0]["isCurrent"], true);
    assert_eq!(listed["keys"][1]["kid"], "1");
    assert_eq!(listed["keys"][1]["isCurrent"], false);
    assert_eq!(listed["keys"][1]["isPublished"], true);

    // The new key signs at once; both are published, so the token issued before still
    // verifies, and it still works.
    let after = w.token(&cc).await.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(kid_of(&after), "2");
    assert_eq!(published_kids(&w).await, ["1", "2"]);
    let jwks = get("/id/keys").send(&w.h).await.json();
    for token in [&before, &after] {
        let jwk: eca_oauth::Jwk = serde_json::from_value(
            jwks["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .find(|k| k["kid"] == kid_of(token).as_str())
                .expect("the token's key is published")
                .clone(),
        )
        .expect("a JWK");
        let key = eca_oauth::VerifyingKey::from_jwk(&jwk).expect("a key");
        eca_oauth::jose::verify_rs256(token, &key).expect("a valid signature");
        let reply = get_bearer(&w, "/services/data/v66.0", token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    // 48 hours on, the replaced key is no longer published; the list says so.
    w.h.clock.advance_secs(48 * 3_600);
    assert_eq!(published_kids(&w).await, ["2"]);
    let admin = admin_session(&w.h).await;
    let reply = request("GET", keys_path, None)
        .bearer(&admin)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["keys"][1]["isPublished"], false);
    // Only an ExternalClientAppAdmin may list or rotate: not the run-as user.
    let runas = w.token(&cc).await.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    request("POST", &format!("{keys_path}/rotate"), None)
        .bearer(&runas)
        .send(&w.h)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
}

#[tokio::test]
async fn a_jwt_access_token_without_its_own_timeout_lives_the_orgs_session_not_the_opaque_one() {
    // `spec/metadata.md` §2.6: `sessionTimeoutInMinutes` only applies to opaque tokens;
    // `UserSession` means the user's session timeout (here the org's).
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    spec.policies.push_str(
        "<namedUserJwtSessionTimeoutType>UserSession</namedUserJwtSessionTimeoutType>\
         <sessionTimeoutInMinutes>15</sessionTimeoutInMinutes>",
    );
    w.deploy(&spec).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let claims = eca_oauth::jose::decode_unverified(&token)
        .expect("a JWT")
        .claims;
    let start = START.millis() / 1000;
    assert_ne!(w.org.session_timeout_minutes, 15);
    assert_eq!(claims["exp"], start + w.org.session_timeout_minutes * 60);
}

/// `/id/keys` and `id_token_hint`s answer anyone: each key is decrypted and parsed once, not
/// on every request, while which keys are published is read afresh.
#[tokio::test]
async fn published_keys_are_parsed_once() {
    let w = world().await;
    let first = eca_server::oauth::keys::org_keys(&w.h.state, &w.org.id)
        .await
        .expect("the keys");
    eca_server::oauth::keys::rotate(&w.h.state, &w.org.id)
        .await
        .expect("a rotation");
    let again = eca_server::oauth::keys::org_keys(&w.h.state, &w.org.id)
        .await
        .expect("the keys");
    assert_eq!(
        again.iter().map(|k| k.kid()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert!(Arc::ptr_eq(&first[0], &again[0]));
    let last = eca_server::oauth::keys::org_keys(&w.h.state, &w.org.id)
        .await
        .expect("the keys");
    assert!(Arc::ptr_eq(&again[1], &last[1]));
}
