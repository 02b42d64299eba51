//! The browser flows (issue 5): the authorize endpoint, consent, the web-server flow with PKCE,
//! the user-agent and hybrid flows (`authorize/front_channel.rs`) and ID tokens, driven like a
//! browser (login form, CSRF token, redirects
//! followed by hand), with the RFC 9700 checks as tests: code replay, PKCE downgrade,
//! redirect URI tampering, code mix-up between clients, open redirect on error.

use axum::http::{StatusCode, header};
use eca_oauth::jose::{Jwk, VerifyingKey, verify_rs256};
use eca_oauth::pkce;
use eca_server::bootstrap::ADMIN_USERNAME;
use serde_json::Value;

use crate::browser::*;
use crate::oauth::{AppSpec, FORM, KEY, SECRET, World, oauth_error, world};
use crate::support::*;

mod consent;
mod device;
mod end_session;
mod front_channel;
mod ip_restrictions;
mod pages;

const CALLBACK: &str = "https://app.example.com/callback";
const CLI_CALLBACK: &str = "http://localhost:1717/OauthRedirect";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const AUTHORIZE: &str = "/services/oauth2/authorize";
const OTHER_KEY: &str = "3MVG9OpenEcaSecondBrowserAppConsumerKey";
const OTHER_SECRET: &str = "5econdBrowserAppSecret0123456789abcdefABCDEF";

/// `Ci` as a web app: two callback URLs, self-authorized, `extra` global settings.
fn web_app(w: &World, extra: &str) -> AppSpec<'static> {
    let mut spec = w.ci();
    spec.global = format!("<callbackUrl>{CALLBACK}\n{CLI_CALLBACK}</callbackUrl>{extra}");
    spec
}

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The authorize URL of a code request of the `Ci` app with PKCE and state `s`, and `extra`.
fn code_request_uri(extra: &[(&str, &str)]) -> String {
    format!("{AUTHORIZE}?{}", query(&code_params(extra)))
}

/// The parameters of a code request of the `Ci` app with PKCE and state `s`, and `extra`.
fn code_params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    params.extend_from_slice(extra);
    params
}

/// The parameters of a redirect's query or fragment.
fn params_of(location: &str, separator: char) -> Vec<(String, String)> {
    let part = location.split_once(separator).map_or("", |(_, p)| p);
    form_urlencoded::parse(part.as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Every hidden input of a page, in order.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.strip_prefix("name=\"")?.split('"').next()?;
            let value = hidden(&format!("<input type=\"hidden\" {rest}"), name)?;
            Some((name.replace("&amp;", "&").replace("&quot;", "\""), value))
        })
        .collect()
}

/// A browser logged in to the default org as the admin.
async fn logged_in(w: &World) -> Browser {
    let mut b = Browser::new();
    let reply = b
        .log_in(&w.h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    b
}

/// Submits the consent page shown in `page` with `button` (`oaapprove` or `oadeny`).
async fn consent(w: &World, b: &mut Browser, page: &Reply, button: &str) -> Reply {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"oaapprove\""), "{}", page.body);
    assert!(page.body.contains("id=\"oadeny\""), "{}", page.body);
    let mut fields = hidden_fields(&page.body);
    fields.push((button.to_owned(), "x".to_owned()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(&w.h, AUTHORIZE, &refs).await
}

/// Runs authorize with `params` in a logged-in browser, approving the consent page if one
/// comes; returns the redirect to the client.
async fn authorize_approved(w: &World, b: &mut Browser, params: &[(&str, &str)]) -> Reply {
    let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(params))).await;
    if reply.status == StatusCode::OK {
        return consent(w, b, &reply, "oaapprove").await;
    }
    reply
}

/// The code of a successful web-server redirect, after checking `state` and `iss`.
#[track_caller]
fn code_of(reply: &Reply, redirect_uri: &str, state: &str) -> String {
    assert!(
        matches!(reply.status, StatusCode::FOUND | StatusCode::SEE_OTHER),
        "{:?}: {}",
        reply.status,
        reply.body
    );
    let location = location(reply);
    assert!(
        location.starts_with(&format!("{redirect_uri}?")),
        "{location}"
    );
    let params = params_of(&location, '?');
    assert_eq!(param(&params, "state"), Some(state), "{location}");
    assert_eq!(param(&params, "iss"), Some(PUBLIC_URL), "{location}");
    let code = param(&params, "code").expect("a code").to_owned();
    assert!(code.starts_with("aPrx") && code.ends_with("=="), "{code}");
    code
}

async fn exchange(w: &World, fields: &[(&str, &str)]) -> Reply {
    let mut all = vec![("grant_type", "authorization_code")];
    all.extend_from_slice(fields);
    w.token(&query(&all)).await
}

/// Exchanges `code` as the `Ci` app, with the redirect URI and PKCE verifier of the usual
/// code request.
async fn redeem_with_pkce(w: &World, code: &str) -> Reply {
    exchange(
        w,
        &[
            ("code", code),
            ("client_id", KEY),
            ("client_secret", SECRET),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn exchange_owned(w: &World, fields: Vec<(String, String)>) -> Reply {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    exchange(w, &refs).await
}

/// The claims of an ID token, after verifying it against `/id/keys`.
async fn verified_claims(w: &World, id_token: &str) -> serde_json::Map<String, Value> {
    let jwks = get("/id/keys").send(&w.h).await.json();
    let keys: Vec<Jwk> = serde_json::from_value(jwks["keys"].clone()).expect("a JWK set");
    let header = eca_oauth::jose::decode_unverified(id_token).expect("a JWT");
    let kid = header.header["kid"].as_str().expect("a kid");
    let jwk = keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid))
        .expect("the kid is published");
    let key = VerifyingKey::from_jwk(jwk).expect("an RSA key");
    verify_rs256(id_token, &key)
        .expect("a valid signature")
        .claims
}

// ---------------------------------------------------------------------------------------------
// The web-server flow
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn web_server_flow_with_pkce_login_consent_and_id_token() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("scope", "api refresh_token openid"),
        ("state", "st&te 1"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
    ];
    // Not logged in: to the login page, which comes back to the same request.
    let mut b = Browser::new();
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = location(&reply);
    assert!(
        login.starts_with(&format!("{PUBLIC_URL}/login?startURL=")),
        "{login}"
    );
    let reply = b.log_in(&w.h, &login, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let back = location(&reply);
    assert!(back.starts_with(AUTHORIZE), "{back}");
    // Self-authorized and never approved: the consent page.
    let page = b.get(&w.h, &back).await;
    assert!(page.body.contains("Ci"), "{}", page.body);
    assert!(page.body.contains("refresh_token"), "{}", page.body);
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    let reply = consent(&w, &mut b, &page, "oaapprove").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let code = code_of(&reply, CALLBACK, "st&te 1");
    assert!(
        w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );

    let reply = redeem_with_pkce(&w, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    for field in [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "id_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ] {
        assert!(json.get(field).is_some(), "{field} missing: {}", reply.body);
    }
    assert_eq!(json["scope"], "openid api refresh_token");
    assert_eq!(json["id"], w.identity(&w.admin));
    assert_eq!(json["instance_url"], PUBLIC_URL);
    assert_eq!(json["issued_at"], START.millis().to_string());
    let access = json["access_token"].as_str().unwrap();

    // The ID token verifies against /id/keys and has the right claims.
    let claims = verified_claims(&w, json["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["iss"], PUBLIC_URL);
    assert_eq!(claims["sub"], w.identity(&w.admin));
    assert_eq!(claims["aud"], KEY);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["iat"], START.secs());
    assert_eq!(claims["exp"], START.secs() + 120);
    assert_eq!(claims["auth_time"], START.secs());
    assert_eq!(
        claims["at_hash"],
        eca_oauth::id_token::half_hash(access).as_str()
    );
    assert_eq!(claims["user_id"], w.admin.id.as_str());

    // The access token works like any other.
    let reply = get("/services/oauth2/userinfo")
        .bearer(access)
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["user_id"], w.admin.id.as_str());

    // Approved before: the next authorization skips the consent page; prompt=consent asks again.
    let mut next = params;
    next[4] = ("state", "two");
    let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(&next))).await;
    code_of(&reply, CALLBACK, "two");
    let mut again = next.to_vec();
    again.push(("prompt", "consent"));
    let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(&again))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("id=\"oaapprove\""));

    // The refresh token works, and gives a new ID token (openid was granted).
    let refresh = json["refresh_token"].as_str().unwrap();
    let reply = w
        .token(&query(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", KEY),
            ("client_secret", SECRET),
        ]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let refreshed = reply.json();
    let claims = verified_claims(&w, refreshed["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], w.identity(&w.admin));
    assert!(claims.get("nonce").is_none());
}

#[tokio::test]
async fn the_cli_flow_public_client_loopback_and_a_long_verifier() {
    let w = world().await;
    w.deploy(&web_app(
        &w,
        "<isConsumerSecretOptional>true</isConsumerSecretOptional>",
    ))
    .await;
    // jsforce / the Salesforce CLI: base64url of 128 bytes (171 characters), no method.
    let verifier = "a".repeat(171);
    let challenge = pkce::s256(&verifier);
    let mut b = logged_in(&w).await;
    let params = [
        ("state", "0a1b2c3d4e5f"),
        ("prompt", "login"),
        ("scope", "refresh_token api web"),
        ("code_challenge", challenge.as_str()),
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CLI_CALLBACK),
    ];
    // prompt=login: the login page even with a session, and it does not loop.
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = location(&reply);
    assert!(login.contains("/login?startURL="), "{login}");
    let reply = b.log_in(&w.h, &login, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let back = location(&reply);
    assert!(!back.contains("prompt"), "{back}");
    let page = b.get(&w.h, &back).await;
    let reply = consent(&w, &mut b, &page, "oaapprove").await;
    let code = code_of(&reply, CLI_CALLBACK, "0a1b2c3d4e5f");
    // The CLI's token request: no secret; `web` is not an app scope and is dropped.
    let reply = exchange(
        &w,
        &[
            ("code", &code),
            ("client_id", KEY),
            ("redirect_uri", CLI_CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["scope"], "api refresh_token");
    assert!(json.get("refresh_token").is_some());
    assert!(json.get("id_token").is_none(), "no openid, no ID token");
}

#[tokio::test]
async fn a_public_client_without_pkce_or_a_confidential_one_without_secret_is_refused() {
    let w = world().await;
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    let no_secret = [
        ("code", code.as_str()),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
    ];
    oauth_error(
        &exchange(&w, &no_secret).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    let wrong = [
        ("code", code.as_str()),
        ("client_id", KEY),
        ("client_secret", "wrong"),
        ("redirect_uri", CALLBACK),
    ];
    oauth_error(
        &exchange(&w, &wrong).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    // Neither burnt the code: the real client still redeems it.
    let good = [
        ("code", code.as_str()),
        ("client_id", KEY),
        ("client_secret", SECRET),
        ("redirect_uri", CALLBACK),
    ];
    let reply = exchange(&w, &good).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.json().get("id_token").is_some(),
        "no scope: all the app's, openid too"
    );
}

// ---------------------------------------------------------------------------------------------
// RFC 9700
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn code_replay_fails_and_revokes_the_first_tokens() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    let body = [
        ("code", code.as_str()),
        ("client_id", KEY),
        ("client_secret", SECRET),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let first = exchange(&w, &body).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let json = first.json();
    let access = json["access_token"].as_str().unwrap();
    let refresh = json["refresh_token"].as_str().unwrap();
    let rest = get("/services/data/v66.0").bearer(access).send(&w.h).await;
    assert_eq!(rest.status, StatusCode::OK);

    oauth_error(
        &exchange(&w, &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "invalid authorization code",
    );
    // The first tokens are revoked: the access token and the refresh token.
    let rest = get("/services/data/v66.0").bearer(access).send(&w.h).await;
    rest.rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    oauth_error(
        &w.token(&query(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", KEY),
            ("client_secret", SECRET),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "expired access/refresh token",
    );
}

/// A public client's code replayed by someone without its PKCE verifier (anyone holding the
/// code and the public `client_id`) revokes nothing; replayed with it, as by the client, it
/// revokes what it gave.
#[tokio::test]
async fn a_public_clients_code_replayed_without_its_verifier_revokes_nothing() {
    let w = world().await;
    w.deploy(&web_app(
        &w,
        "<isConsumerSecretOptional>true</isConsumerSecretOptional>",
    ))
    .await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    let with_verifier = [
        ("code", code.as_str()),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let first = exchange(&w, &with_verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let access = first.json()["access_token"].as_str().unwrap().to_owned();
    let w = &w;
    let works = |token: String| async move {
        get("/services/data/v66.0")
            .bearer(&token)
            .send(&w.h)
            .await
            .status
    };
    for stranger in [
        &with_verifier[..3],
        &[
            with_verifier[0],
            with_verifier[1],
            with_verifier[2],
            (
                "code_verifier",
                "not-the-verifier-0123456789012345678901234567",
            ),
        ][..],
    ] {
        oauth_error(
            &exchange(w, stranger).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid authorization code",
        );
        assert_eq!(works(access.clone()).await, StatusCode::OK);
    }
    oauth_error(
        &exchange(w, &with_verifier).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "invalid authorization code",
    );
    assert_eq!(works(access).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pkce_downgrades_are_refused_both_ways() {
    let w = world().await;
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let mut b = logged_in(&w).await;
    let with_challenge = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let without = &with_challenge[..4];
    let token_request = |code: &str, verifier: Option<&str>| {
        let mut fields = vec![
            ("code".to_owned(), code.to_owned()),
            ("client_id".to_owned(), KEY.to_owned()),
            ("client_secret".to_owned(), SECRET.to_owned()),
            ("redirect_uri".to_owned(), CALLBACK.to_owned()),
        ];
        if let Some(v) = verifier {
            fields.push(("code_verifier".to_owned(), v.to_owned()));
        }
        fields
    };
    // A challenge at authorize, no verifier at the token endpoint.
    let code = code_of(
        &authorize_approved(&w, &mut b, &with_challenge).await,
        CALLBACK,
        "s",
    );
    oauth_error(
        &exchange_owned(&w, token_request(&code, None)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "missing code verifier",
    );
    // A wrong verifier.
    let code = code_of(
        &authorize_approved(&w, &mut b, &with_challenge).await,
        CALLBACK,
        "s",
    );
    oauth_error(
        &exchange_owned(&w, token_request(&code, Some(&"x".repeat(43)))).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "invalid code verifier",
    );
    // No challenge at authorize, a verifier at the token endpoint.
    let code = code_of(
        &authorize_approved(&w, &mut b, without).await,
        CALLBACK,
        "s",
    );
    oauth_error(
        &exchange_owned(&w, token_request(&code, Some(VERIFIER))).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "code_verifier sent but no code_challenge was given",
    );
    // `plain` is refused at authorize, back at the client.
    let mut plain = with_challenge.to_vec();
    plain[5] = ("code_challenge_method", "plain");
    let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(&plain))).await;
    let params = params_of(&location(&reply), '?');
    assert_eq!(param(&params, "error"), Some("invalid_request"));
}

#[tokio::test]
async fn pkce_is_required_by_default() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let reply = b
        .get(
            &w.h,
            &format!(
                "{AUTHORIZE}?{}",
                query(&[
                    ("response_type", "code"),
                    ("client_id", KEY),
                    ("redirect_uri", CALLBACK),
                    ("state", "s"),
                ])
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let params = params_of(&location(&reply), '?');
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert_eq!(
        param(&params, "error_description"),
        Some("missing required code challenge")
    );
    assert_eq!(param(&params, "state"), Some("s"));
    assert_eq!(param(&params, "iss"), Some(PUBLIC_URL));
}

#[tokio::test]
async fn redirect_uri_tampering_is_refused_at_authorize_and_at_token() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    for bad in [
        "https://app.example.com/callback/",
        "https://app.example.com/callback?x=1",
        "https://app.example.com.evil.example/callback",
        "https://evil.example/",
        "javascript:alert(1)",
    ] {
        let reply = b
            .get(
                &w.h,
                &format!(
                    "{AUTHORIZE}?{}",
                    query(&[
                        ("response_type", "code"),
                        ("client_id", KEY),
                        ("redirect_uri", bad),
                        ("code_challenge", CHALLENGE),
                    ])
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.headers.get(header::LOCATION).is_none(), "{bad}");
        assert!(reply.body.contains("redirect_uri"), "{}", reply.body);
    }
    // At the token endpoint: another registered URI, or none.
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    let mut fields = vec![
        ("code", code.as_str()),
        ("client_id", KEY),
        ("client_secret", SECRET),
        ("code_verifier", VERIFIER),
        ("redirect_uri", CLI_CALLBACK),
    ];
    oauth_error(
        &exchange(&w, &fields).await,
        StatusCode::BAD_REQUEST,
        "redirect_uri_mismatch",
        "redirect_uri must match configuration",
    );
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    fields[0] = ("code", code.as_str());
    fields.pop();
    oauth_error(
        &exchange(&w, &fields).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "missing required parameter: redirect_uri",
    );
}

#[tokio::test]
async fn a_code_of_one_client_is_refused_to_another() {
    let w = world().await;
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let mut other = web_app(&w, "<isPkceRequired>false</isPkceRequired>");
    other.name = "Other";
    other.key = OTHER_KEY;
    other.secret = OTHER_SECRET;
    w.deploy(&other).await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    oauth_error(
        &exchange(
            &w,
            &[
                ("code", &code),
                ("client_id", OTHER_KEY),
                ("client_secret", OTHER_SECRET),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "invalid authorization code",
    );
}

/// Stages a second credential of `Ci` through the Connect API; returns its key and secret.
pub(crate) async fn staged_credential(w: &World) -> (String, String) {
    // The Connect API shows secrets only when the org allows it.
    crate::connect::allow_secrets(w).await;
    let admin = admin_session(&w.h).await;
    let consumer = w.ci_consumer().await;
    let reply = request(
        "POST",
        &format!(
            "/services/data/v66.0/apps/oauth/credentials/Ci/{}/staged",
            consumer.id
        ),
        None,
    )
    .bearer(&admin)
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let staged = &reply.json()["stagedCredentials"][0];
    (
        staged["key"].as_str().expect("a key").to_owned(),
        staged["secret"].as_str().expect("a secret").to_owned(),
    )
}

/// The code of a web-server authorization asked for with `client_id`, approved in `b`.
async fn approved_code(w: &World, b: &mut Browser, client_id: &str, state: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("state", state),
    ];
    code_of(&authorize_approved(w, b, &params).await, CALLBACK, state)
}

/// Exchanges `code` as the client `client_id` / `secret`.
async fn redeem(w: &World, code: &str, client_id: &str, secret: &str) -> Reply {
    exchange(
        w,
        &[
            ("code", code),
            ("client_id", client_id),
            ("client_secret", secret),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
}

#[tokio::test]
async fn a_staged_credential_works_in_the_web_server_flow_as_in_every_other() {
    // `spec/oauth-and-connect.md` §3: the staged key authenticates beside the primary one.
    let w = world().await;
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let (key2, secret2) = staged_credential(&w).await;
    let mut b = logged_in(&w).await;
    // Authorize and exchange with the staged key.
    let code = approved_code(&w, &mut b, &key2, "s").await;
    let reply = redeem(&w, &code, &key2, &secret2).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // A code asked for with the primary key, exchanged with the staged one: the same client.
    let code = approved_code(&w, &mut b, KEY, "t").await;
    let reply = redeem(&w, &code, &key2, &secret2).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The staged key with the primary's secret is no client.
    let code = approved_code(&w, &mut b, KEY, "u").await;
    oauth_error(
        &redeem(&w, &code, &key2, SECRET).await,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
}

#[tokio::test]
async fn errors_before_the_redirect_uri_is_trusted_are_pages_never_redirects() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut disabled = web_app(&w, "");
    disabled.name = "Off";
    disabled.key = OTHER_KEY;
    disabled.secret = OTHER_SECRET;
    disabled.enabled = false;
    w.deploy(&disabled).await;
    let b = &mut logged_in(&w).await;
    let cases: &[&[(&str, &str)]] = &[
        // Unknown client, with a redirect URI an attacker chose.
        &[
            ("response_type", "code"),
            ("client_id", "3MVG9nobody"),
            ("redirect_uri", "https://evil.example/"),
        ],
        &[("response_type", "code"), ("redirect_uri", CALLBACK)],
        &[
            ("response_type", "code"),
            ("client_id", KEY),
            ("client_id", KEY),
            ("redirect_uri", CALLBACK),
        ],
        // The app has two callback URLs: leaving it out is ambiguous.
        &[("response_type", "code"), ("client_id", KEY)],
        // A switched-off app.
        &[
            ("response_type", "code"),
            ("client_id", OTHER_KEY),
            ("redirect_uri", CALLBACK),
        ],
        // Unknown response type and an unregistered URI: still a page.
        &[
            ("response_type", "bogus"),
            ("client_id", KEY),
            ("redirect_uri", "https://evil.example/"),
        ],
    ];
    for case in cases {
        let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(case))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{case:?}: {}",
            reply.body
        );
        assert!(reply.headers.get(header::LOCATION).is_none(), "{case:?}");
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
        assert!(!reply.body.contains("evil.example"), "{}", reply.body);
    }
    // Once the client and URI are good, errors go back to it with state and iss.
    let reply = b
        .get(
            &w.h,
            &format!(
                "{AUTHORIZE}?{}",
                query(&[
                    ("response_type", "bogus"),
                    ("client_id", KEY),
                    ("redirect_uri", CALLBACK),
                    ("state", "s")
                ])
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let params = params_of(&location(&reply), '?');
    assert_eq!(param(&params, "error"), Some("unsupported_response_type"));
    assert_eq!(param(&params, "state"), Some("s"));
    assert_eq!(param(&params, "iss"), Some(PUBLIC_URL));
}

// ---------------------------------------------------------------------------------------------
// Permitted users (consent and silent requests: `authorize/consent.rs`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_user_taken_off_an_admin_approved_app_gets_no_more_tokens_from_codes_or_refresh() {
    let w = world().await;
    let policies = |profile: &str| {
        format!(
            "<commaSeparatedProfile>{profile}</commaSeparatedProfile>\
             <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>"
        )
    };
    let mut spec = web_app(&w, "");
    spec.policies = policies("System Administrator");
    w.deploy(&spec).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("scope", "api refresh_token"),
    ];
    let uri = format!("{AUTHORIZE}?{}", query(&params));
    let mut b = logged_in(&w).await;
    let first = code_of(&b.get(&w.h, &uri).await, CALLBACK, "s");
    let second = code_of(&b.get(&w.h, &uri).await, CALLBACK, "s");
    let reply = redeem_with_pkce(&w, &first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let refresh = reply.json()["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    // The admin pre-authorizes another profile instead.
    spec.policies = policies("Standard User");
    w.deploy(&spec).await;
    oauth_error(
        &redeem_with_pkce(&w, &second).await,
        StatusCode::BAD_REQUEST,
        "OAUTH_APP_ACCESS_DENIED",
        "user is not admin approved to access this app",
    );
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id={KEY}&client_secret={SECRET}"
    );
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "OAUTH_APP_ACCESS_DENIED",
        "user is not admin approved to access this app",
    );
}

#[tokio::test]
async fn id_token_hint_names_the_user_the_client_expects() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let standard = crate::oauth::profile_named(&w, "Standard User").await;
    let other = add_user(&w.h, &w.org, &standard, "std@demo.example").await;
    for user in [&w.admin.id, &other.id] {
        w.h.store
            .record_approval(&w.org.id, "Ci", user, Some("*"), START)
            .await
            .unwrap();
    }
    let with = |extra: &[(&'static str, &str)]| {
        let mut params = vec![("scope", "openid api")];
        params.extend_from_slice(extra);
        code_request_uri(&params)
    };
    // The admin's ID token.
    let mut admin = logged_in(&w).await;
    let code = code_of(&admin.get(&w.h, &with(&[])).await, CALLBACK, "s");
    let reply = redeem_with_pkce(&w, &code).await;
    let hint = reply.json()["id_token"]
        .as_str()
        .expect("an ID token")
        .to_owned();
    // The hinted user is logged in: a code, even once the ID token has expired.
    w.h.clock.advance_secs(3 * 3600);
    let mut admin = logged_in(&w).await;
    let silent = [("id_token_hint", hint.as_str()), ("prompt", "none")];
    code_of(&admin.get(&w.h, &with(&silent)).await, CALLBACK, "s");
    // Someone else is logged in: login_required with prompt=none...
    let mut b = Browser::new();
    b.log_in(&w.h, "/login", &other.username, ADMIN_PASSWORD)
        .await;
    let back = params_of(&location(&b.get(&w.h, &with(&silent)).await), '?');
    assert_eq!(param(&back, "error"), Some("login_required"));
    // ...else the login page, whose way back drops the hint: whoever logs in gets the code.
    let reply = b
        .get(&w.h, &with(&[("id_token_hint", hint.as_str())]))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = location(&reply);
    assert!(login.contains("/login?startURL="), "{login}");
    let back = location(
        &b.log_in(&w.h, &login, &other.username, ADMIN_PASSWORD)
            .await,
    );
    assert!(!back.contains("id_token_hint"), "{back}");
    code_of(&b.get(&w.h, &back).await, CALLBACK, "s");
    // A hint that is not this org's ID token is the client's error.
    let last = if hint.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{last}", &hint[..hint.len() - 1]);
    // A JWT access token is signed by the same key and names the same issuer, but it is not an
    // ID token (RFC 9068 §4, RFC 8725 §3.11: its `typ` tells them apart).
    let key = eca_server::oauth::keys::current_key(&w.h.state, &w.org.id)
        .await
        .expect("the signing key");
    let access = key
        .sign_with_typ(
            "at+jwt",
            &serde_json::json!({"iss": PUBLIC_URL, "aud": PUBLIC_URL, "sub": w.admin.id.to_string(), "client_id": KEY}),
        )
        .expect("a signature");
    for bad in ["not-a-jwt", tampered.as_str(), access.as_str()] {
        let back = params_of(
            &location(&admin.get(&w.h, &with(&[("id_token_hint", bad)])).await),
            '?',
        );
        assert_eq!(param(&back, "error"), Some("invalid_request"), "{bad}");
    }
    // An empty hint is no hint (RFC 6749 §3.1), as clients that fill in templates send it.
    code_of(
        &admin.get(&w.h, &with(&[("id_token_hint", "")])).await,
        CALLBACK,
        "s",
    );
}

#[tokio::test]
async fn max_age_sends_an_older_login_back_to_the_login_page_once() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.admin.id, Some("*"), START)
        .await
        .unwrap();
    let with = |max_age: &str, prompt: Option<&str>| {
        let mut extra = vec![("max_age", max_age)];
        extra.extend(prompt.map(|p| ("prompt", p)));
        code_request_uri(&extra)
    };
    // Logged in just now: within any max_age.
    code_of(&b.get(&w.h, &with("60", None)).await, CALLBACK, "s");
    // Two minutes later, a login may be at most 60 seconds old: the login page again, and
    // the way back no longer carries max_age, so it does not loop.
    w.h.clock.advance_secs(120);
    let reply = b.get(&w.h, &with("60", None)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = location(&reply);
    assert!(login.contains("/login?startURL="), "{login}");
    let old_sid = b.sid("/").expect("the first session");
    let reply = b.log_in(&w.h, &login, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let back = location(&reply);
    assert!(!back.contains("max_age"), "{back}");
    code_of(&b.get(&w.h, &back).await, CALLBACK, "s");
    // The new login ended the session it replaced.
    assert_ne!(b.sid("/"), Some(old_sid.clone()));
    let hash = eca_core::crypto::token_hash(&old_sid);
    assert_eq!(w.h.store.session(&hash).await.unwrap(), None);
    // With prompt=none the answer is login_required instead.
    w.h.clock.advance_secs(120);
    let back = params_of(
        &location(&b.get(&w.h, &with("60", Some("none"))).await),
        '?',
    );
    assert_eq!(param(&back, "error"), Some("login_required"));
    // A max_age that is not a number of seconds is the client's error, back at the client.
    let back = params_of(&location(&b.get(&w.h, &with("soon", None)).await), '?');
    assert_eq!(param(&back, "error"), Some("invalid_request"));
    // Counted to the millisecond (OIDC Core §3.1.2.1: more than max_age seconds): a login
    // 1.5 s old is too old for max_age=1. And max_age=0 always asks again.
    let mut b = logged_in(&w).await;
    code_of(&b.get(&w.h, &with("1", None)).await, CALLBACK, "s");
    w.h.clock.set(eca_core::Timestamp(
        eca_core::Clock::now(w.h.clock.as_ref()).millis() + 1_500,
    ));
    let reply = b.get(&w.h, &with("1", None)).await;
    assert!(location(&reply).contains("/login?startURL="), "{reply:?}");
    let mut b = logged_in(&w).await;
    let reply = b.get(&w.h, &with("0", None)).await;
    assert!(location(&reply).contains("/login?startURL="), "{reply:?}");
}

#[tokio::test]
async fn admin_approved_apps_skip_consent_for_pre_authorized_users_only() {
    let w = world().await;
    let mut spec = web_app(&w, "");
    spec.policies = "<commaSeparatedProfile>System Administrator</commaSeparatedProfile>\
                     <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>"
        .to_owned();
    w.deploy(&spec).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let uri = format!("{AUTHORIZE}?{}", query(&params));
    let mut b = logged_in(&w).await;
    code_of(&b.get(&w.h, &uri).await, CALLBACK, "s");
    // A user of another profile is refused, back at the client.
    let standard = crate::oauth::profile_named(&w, "Standard User").await;
    let user = add_user(&w.h, &w.org, &standard, "std@demo.example").await;
    let mut other = Browser::new();
    other
        .log_in(&w.h, "/login", &user.username, ADMIN_PASSWORD)
        .await;
    let reply = other.get(&w.h, &uri).await;
    let back = params_of(&location(&reply), '?');
    assert_eq!(param(&back, "error"), Some("OAUTH_APP_ACCESS_DENIED"));
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let code = code_of(
        &authorize_approved(&w, &mut b, &params).await,
        CALLBACK,
        "s",
    );
    w.h.clock.advance_secs(600);
    oauth_error(
        &redeem_with_pkce(&w, &code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "expired authorization code",
    );
}

#[tokio::test]
async fn discovery_advertises_the_browser_flows() {
    let w = world().await;
    let json = get("/.well-known/openid-configuration")
        .send(&w.h)
        .await
        .json();
    assert_eq!(
        json["authorization_endpoint"],
        format!("{PUBLIC_URL}{AUTHORIZE}")
    );
    assert_eq!(json["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        json["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let types = json["response_types_supported"].as_array().unwrap();
    for t in [
        "code",
        "token",
        "token id_token",
        "id_token token",
        "code id_token",
    ] {
        assert!(types.contains(&serde_json::json!(t)), "{t}: {types:?}");
    }
    // Public clients authenticate with nothing (RFC 8414 §2).
    let methods = json["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&serde_json::json!("none")), "{methods:?}");
    let claims = json["claims_supported"].as_array().unwrap();
    for claim in [
        "auth_time",
        "nonce",
        "at_hash",
        "c_hash",
        "azp",
        "custom_attributes",
    ] {
        assert!(claims.contains(&serde_json::json!(claim)), "{claim}");
    }
    let grants = json["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&serde_json::json!("authorization_code")));
    assert!(grants.contains(&serde_json::json!("implicit")));
    assert_eq!(
        json["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    // Nothing promised that is not there: no front-channel logout, no `request_uri`.
    assert_eq!(json["frontchannel_logout_supported"], false);
    assert_eq!(json["request_uri_parameter_supported"], false);
}

#[tokio::test]
async fn a_post_authorize_request_works_like_a_get() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.admin.id, Some("*"), START)
        .await
        .unwrap();
    let mut b = logged_in(&w).await;
    let reply = b
        .post_form(
            &w.h,
            AUTHORIZE,
            &[
                ("response_type", "code"),
                ("client_id", KEY),
                ("redirect_uri", CALLBACK),
                ("state", "p"),
                ("code_challenge", CHALLENGE),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    code_of(&reply, CALLBACK, "p");
}
