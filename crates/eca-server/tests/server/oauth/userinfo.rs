//! Userinfo (OpenID Connect Core §5.3) with Salesforce's fields and custom attributes, and
//! introspection (RFC 7662) limited to an app's own tokens.

use super::*;

#[tokio::test]
async fn userinfo_has_the_oidc_and_salesforce_claims_and_custom_attributes() {
    let w = world().await;
    let mut spec = w.ci();
    spec.settings =
        "<customAttributes><formula>$User.Email</formula><key>mail</key></customAttributes>\
                     <customAttributes><formula>'dev'</formula><key>tier</key></customAttributes>"
            .to_owned();
    spec.policies.push_str(
        "<customAttributes><formula>$Organization.Name &amp; ':' &amp; UPPER($User.LastName)</formula><key>tier</key></customAttributes>\
         <customAttributes><formula>$Profile.Name</formula><key>profile</key></customAttributes>",
    );
    w.deploy(&spec).await;
    let token = w.cc_token().await;
    let reply = get("/services/oauth2/userinfo")
        .bearer(&token)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Personal data: never kept by a cache.
    assert_eq!(
        reply
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let json = reply.json();
    assert_eq!(json["sub"], w.identity(&w.run_as).as_str());
    assert_eq!(json["user_id"], w.run_as.id.as_str());
    assert_eq!(json["organization_id"], w.org.id.as_str());
    assert_eq!(json["preferred_username"], "runas@demo.example");
    assert_eq!(json["email"], "runas@demo.example");
    assert_eq!(json["family_name"], "Ops");
    assert_eq!(json["zoneinfo"], "Europe/Paris");
    assert_eq!(json["active"], true);
    // Discovery lists the phone claims (spec §1.1), so userinfo carries them (OpenID Connect
    // Core §5.3.2): this user has no mobile phone.
    let claims = json.as_object().unwrap();
    assert_eq!(claims.get("phone_number"), Some(&serde_json::Value::Null));
    assert_eq!(
        claims.get("phone_number_verified"),
        Some(&serde_json::json!(false))
    );
    assert!(
        json["urls"]["rest"]
            .as_str()
            .is_some_and(|u| u.ends_with("/services/data/v{version}/"))
    );
    assert_eq!(
        json["custom_attributes"],
        serde_json::json!({
            "mail": "runas@demo.example",
            "tier": format!("{}:OPS", w.org.name),
            "profile": "API Only",
        })
    );
    // OpenID Connect Core §5.3.1: POST is answered like GET.
    let posted = post("/services/oauth2/userinfo", FORM, String::new())
        .bearer(&token)
        .send(&w.h)
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert_eq!(posted.json(), json);
    // RFC 6750 §3: a refused token gets a Bearer challenge, beside Salesforce's body.
    let refused = get("/services/oauth2/userinfo")
        .bearer("00D000000000001!nope")
        .send(&w.h)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let missing = get("/services/oauth2/userinfo").send(&w.h).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    // The identity URL carries the same attributes (`spec/metadata.md` §8), also as jsforce's
    // `identity()` asks for it, with the token in the query.
    let id_path = format!("/id/{}/{}", w.org.id, w.run_as.id);
    let reply = get_bearer(&w, &id_path, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["custom_attributes"], json["custom_attributes"]);
    let reply = get(&format!(
        "{id_path}?format=json&oauth_token={}",
        token.replace('!', "%21")
    ))
    .send(&w.h)
    .await;
    assert_eq!(reply.json()["custom_attributes"], json["custom_attributes"]);
    // A SOAP session gets the claims without the app's attributes.
    let sid = admin_session(&w.h).await;
    let reply = get("/services/oauth2/userinfo")
        .bearer(&sid)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["preferred_username"], ADMIN_USERNAME);
    assert!(reply.json().get("custom_attributes").is_none());
    let admin = stored_user(&w.h.store, ADMIN_USERNAME).await;
    let reply = get_bearer(&w, &format!("/id/{}/{}", w.org.id, admin.id), &sid).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.json().get("custom_attributes").is_none());
    get("/services/oauth2/userinfo")
        .send(&w.h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

/// Deploys a second app, `Other`, with client credentials on.
async fn deploy_other(w: &World, global_extra: &str) {
    let mut spec = w.ci();
    spec.name = "Other";
    spec.key = OTHER_KEY;
    spec.secret = OTHER_SECRET;
    spec.global.push_str(global_extra);
    w.deploy(&spec).await;
}

#[tokio::test]
async fn introspection_shows_an_apps_own_live_tokens() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    deploy_other(&w, "").await;
    let token = w.cc_token().await;
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let introspect = |auth: String, body: String| {
        post("/services/oauth2/introspect", FORM, body).header("authorization", &auth)
    };
    let reply = introspect(
        basic(KEY, SECRET),
        format!("token={encoded}&token_type_hint=access_token"),
    )
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let start = START.millis() / 1000;
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "active": true,
            "scope": "openid api",
            "client_id": KEY,
            "username": "runas@demo.example",
            "sub": w.identity(&w.run_as),
            "token_type": "access_token",
            "exp": start + w.org.session_timeout_minutes * 60,
            "iat": start,
            "nbf": start,
        })
    );
    // Another app may not see it...
    let reply = introspect(basic(OTHER_KEY, OTHER_SECRET), format!("token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.json(), serde_json::json!({"active": false}));
    // ...unless it may introspect all tokens.
    deploy_other(&w, "<isIntrospectAllTokens>true</isIntrospectAllTokens>").await;
    let reply = introspect(basic(OTHER_KEY, OTHER_SECRET), format!("token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);
    // Revoked: inactive (unknown ones: below).
    w.h.store
        .revoke_access_token(tokens::access_token_key(&token).as_str(), START)
        .await
        .expect("store");
    let reply = post(
        "/services/oauth2/introspect",
        FORM,
        format!("token={encoded}&client_id={KEY}&client_secret={SECRET}"),
    )
    .send(&w.h)
    .await;
    assert_eq!(reply.json(), serde_json::json!({"active": false}));
    // The client must authenticate.
    let reply = introspect(basic(KEY, "wrong"), format!("token={encoded}"))
        .send(&w.h)
        .await;
    oauth_error(
        &reply,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "invalid client credentials",
    );
}

#[tokio::test]
async fn introspection_shows_nothing_of_unknown_forged_or_other_apps_tokens() {
    // RFC 7662 §2.2: a token the caller may not see, or that is not live, is only
    // `{"active": false}`.
    let w = world().await;
    let mut spec = w.ci();
    spec.global
        .push_str("<isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>");
    w.deploy(&spec).await;
    deploy_other(&w, "").await;
    let introspect = |key: &str, secret: &str, token: &str| {
        let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        post(
            "/services/oauth2/introspect",
            FORM,
            format!("token={encoded}"),
        )
        .header("authorization", &basic(key, secret))
    };
    let inactive = serde_json::json!({"active": false});

    // A refresh token: its own app sees it, another app does not.
    let rt = stored_refresh(&w, "5Aep861introspected", "family-i").await;
    let reply = introspect(KEY, SECRET, &rt).send(&w.h).await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);
    assert_eq!(
        reply.json()["token_type"],
        "refresh_token",
        "{}",
        reply.body
    );
    let reply = introspect(OTHER_KEY, OTHER_SECRET, &rt).send(&w.h).await;
    assert_eq!(reply.json(), inactive);

    // Unknown tokens of each shape.
    for unknown in [
        format!("{}!AQnothing", &w.org.id.as_str()[..15]),
        "5Aep861nothing".to_owned(),
        "not a token at all".to_owned(),
    ] {
        let reply = introspect(KEY, SECRET, &unknown).send(&w.h).await;
        assert_eq!(reply.json(), inactive, "{unknown}");
    }

    // A JWT access token is active; the same token with its signature altered is not, here
    // or anywhere it is presented.
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    assert_eq!(reply.json()["token_format"], "jwt", "{}", reply.body);
    let jwt = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let reply = introspect(KEY, SECRET, &jwt).send(&w.h).await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);
    let (signed, signature) = jwt.rsplit_once('.').expect("a JWS");
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{flipped}{}", &signature[1..]);
    let reply = introspect(KEY, SECRET, &forged).send(&w.h).await;
    assert_eq!(reply.json(), inactive);
    assert_eq!(
        get_bearer(&w, "/services/oauth2/userinfo", &forged)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Nor does another app see the real one.
    let reply = introspect(OTHER_KEY, OTHER_SECRET, &jwt).send(&w.h).await;
    assert_eq!(reply.json(), inactive);
}
