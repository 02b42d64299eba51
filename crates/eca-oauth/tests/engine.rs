//! The building blocks strung together the way the grants will use them, with the requests
//! real clients send (`spec/oauth-and-connect.md` §5) and keys and tokens made by OpenSSL.

#![allow(clippy::unwrap_used)]

use eca_core::rng::DeterministicRng;
use eca_core::{OrgId, Secret, Timestamp};
use eca_metadata::model::{OauthPolicies, OauthScope, RefreshTokenPolicyType, RefreshTokenUnit};
use eca_oauth::jwt_bearer::{self, Audiences};
use eca_oauth::request::parse_token_request;
use eca_oauth::response::format_param;
use eca_oauth::{
    AssertionProblem, ClientAuthMethod, GrantedScopes, JwkSet, OAuthError, RefreshPolicy,
    RegisteredRedirects, RequestProblem, ResponseFormat, SecretDigester, SigningKey, TokenRequest,
    TokenResponse, UserCode, VerifyingKey, client_auth, jose, pkce, redirect, signature, tokens,
};
use serde::Serialize;

const CERT: &str = include_str!("data/jwt/cert.pem");
const KEY: &str = include_str!("data/jwt/key.pem");
const CLI_ASSERTION: &str = include_str!("data/jwt/cli_assertion.jwt");
const SS_ASSERTION: &str = include_str!("data/jwt/simple_salesforce_assertion.jwt");
const ID_TOKEN_EXPECTED: &str = include_str!("data/jwt/id_token_expected.jwt");
const CONSUMER_KEY: &str = "3MVG9EXAMPLECLIENTID";
const BASE_URL: &str = "http://127.0.0.1:8765";
/// When the CLI built its assertion (its `iat`).
const CLI_NOW: Timestamp = Timestamp::from_secs(1_795_709_175);

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn org() -> OrgId {
    OrgId::parse("00D50000000IZ3Z").unwrap()
}

fn identity_url() -> String {
    format!("{BASE_URL}/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ")
}

/// `sf org login jwt` (spec §5.1): the CLI's real assertion shape, signed by OpenSSL.
#[test]
fn jwt_bearer_login_of_the_salesforce_cli() {
    let params = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", CLI_ASSERTION.trim()),
    ]);
    let parsed = parse_token_request(&params).unwrap();
    let TokenRequest::JwtBearer { assertion } = parsed.request else {
        panic!("not a JWT bearer request");
    };
    assert_eq!(
        client_auth::extract(None, parsed.client_id.as_deref(), None).unwrap(),
        None
    );
    // The issuer names the app, whose certificate then verifies the assertion.
    let issuer = jwt_bearer::issuer_unverified(assertion.expose()).unwrap();
    assert_eq!(issuer, CONSUMER_KEY);
    let key = VerifyingKey::from_certificate(CERT).unwrap();
    let audiences = Audiences::for_org(BASE_URL);
    let ok = jwt_bearer::verify(assertion.expose(), &key, &issuer, &audiences, CLI_NOW).unwrap();
    assert_eq!(ok.subject, "user@example.com");
    assert_eq!(ok.audience, "http://127.0.0.1:8765/");

    // The same assertion at another org, or ten minutes later, or for another app.
    let elsewhere = Audiences::for_org("https://other.example");
    assert_eq!(
        jwt_bearer::verify(assertion.expose(), &key, &issuer, &elsewhere, CLI_NOW),
        Err(OAuthError::AudienceValidationFailed)
    );
    assert_eq!(
        jwt_bearer::verify(
            assertion.expose(),
            &key,
            &issuer,
            &audiences,
            CLI_NOW.plus_minutes(10)
        ),
        Err(OAuthError::InvalidAssertion(AssertionProblem::Expired))
    );
    assert_eq!(
        jwt_bearer::verify(assertion.expose(), &key, "3MVG9other", &audiences, CLI_NOW),
        Err(OAuthError::InvalidClientId)
    );
    let other = VerifyingKey::from_certificate(include_str!("data/jwt/other_cert.pem")).unwrap();
    let err =
        jwt_bearer::verify(assertion.expose(), &other, &issuer, &audiences, CLI_NOW).unwrap_err();
    assert_eq!(
        err,
        OAuthError::InvalidAssertion(AssertionProblem::BadSignature)
    );
    assert_eq!(err.body().error_description, "invalid assertion");

    // The response Salesforce gives this grant: no signature, no issued_at (spec §1.8).
    let scopes =
        GrantedScopes::grant(None, &[OauthScope::Api, OauthScope::RefreshToken], &[]).unwrap();
    let response = TokenResponse::new(
        tokens::access_token(&org(), CLI_NOW, &DeterministicRng::new(1)).value,
        BASE_URL.into(),
        identity_url(),
        scopes.to_wire(),
    );
    let json: serde_json::Value =
        serde_json::from_str(&response.render(ResponseFormat::Json)).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "api refresh_token");
    assert!(json.get("signature").is_none() && json.get("issued_at").is_none());
    assert!(
        json["access_token"]
            .as_str()
            .unwrap()
            .starts_with("00D50000000IZ3Z!AQ")
    );
}

/// simple-salesforce's assertion: `exp` a string of seconds, `aud` login.salesforce.com.
#[test]
fn jwt_bearer_of_simple_salesforce() {
    let key = VerifyingKey::from_certificate(CERT).unwrap();
    let ok = jwt_bearer::verify(
        SS_ASSERTION.trim(),
        &key,
        CONSUMER_KEY,
        &Audiences::for_org("https://acme.my.example.com"),
        Timestamp::from_secs(1_795_709_355 - 180),
    )
    .unwrap();
    assert_eq!(ok.audience, "https://login.salesforce.com");
    assert_eq!(ok.expires_at, Timestamp::from_secs(1_795_709_355));
}

/// `sf org login web` (spec §5.2): authorize with a challenge but no method, then the token
/// request from the public client `PlatformCLI`, with a 171-character verifier.
#[test]
fn web_server_flow_of_the_salesforce_cli() {
    let rng = DeterministicRng::new(42);
    let redirects = RegisteredRedirects::from_callback_url(Some(
        "https://app.example/cb\nhttp://localhost:1717/OauthRedirect",
    ));
    let app_scopes = [
        OauthScope::Api,
        OauthScope::Web,
        OauthScope::RefreshToken,
        OauthScope::OpenId,
    ];
    let verifier = eca_core::rng::token(&rng, 128);
    assert_eq!(verifier.len(), 171);
    let challenge = pkce::s256(&verifier);

    // Authorize.
    let redirect_uri = redirects
        .resolve(Some("http://localhost:1717/OauthRedirect"))
        .unwrap();
    let stored_challenge = pkce::accept_challenge(Some(&challenge), None, true)
        .unwrap()
        .unwrap();
    let scopes = GrantedScopes::grant(Some("refresh_token api web"), &app_scopes, &[]).unwrap();
    let code = tokens::authorization_code(&rng);

    // Token.
    let params = form(&[
        ("grant_type", "authorization_code"),
        ("code", code.value.expose()),
        ("client_id", "PlatformCLI"),
        ("redirect_uri", "http://localhost:1717/OauthRedirect"),
        ("code_verifier", &verifier),
    ]);
    let parsed = parse_token_request(&params).unwrap();
    let client = client_auth::extract(None, parsed.client_id.as_deref(), None)
        .unwrap()
        .unwrap();
    assert_eq!(client.method, ClientAuthMethod::None);
    let TokenRequest::AuthorizationCode {
        code: presented,
        redirect_uri: presented_redirect,
        code_verifier,
    } = parsed.request
    else {
        panic!("not an authorization code request");
    };
    assert_eq!(tokens::TokenHash::of(presented.expose()), code.hash);
    redirect::check_token_redirect(&redirect_uri, presented_redirect.as_deref()).unwrap();
    pkce::verify(Some(&stored_challenge), code_verifier.as_deref()).unwrap();

    // PKCE downgrade and a stolen code with another verifier are refused.
    assert_eq!(
        pkce::verify(Some(&stored_challenge), None),
        Err(OAuthError::MissingCodeVerifier)
    );
    assert_eq!(
        pkce::verify(Some(&stored_challenge), Some(&"x".repeat(43))),
        Err(OAuthError::CodeVerifierMismatch)
    );
    assert_eq!(
        redirect::check_token_redirect(&redirect_uri, Some("https://app.example/cb")),
        Err(OAuthError::RedirectUriMismatch)
    );

    // Issue: the generated default policy (365 days) gives a refresh token.
    let policy = RefreshPolicy::from_policies(Some(&OauthPolicies {
        refresh_token_policy: Some(RefreshTokenPolicyType::SpecificLifetime),
        refresh_token_validity_period: Some(365),
        refresh_token_validity_unit: Some(RefreshTokenUnit::Days),
        ..OauthPolicies::default()
    }));
    let now = CLI_NOW;
    let secret = tokens::consumer_secret(&rng);
    let mut response = TokenResponse::new(
        tokens::access_token(&org(), CLI_NOW, &rng).value,
        BASE_URL.into(),
        identity_url(),
        scopes.to_wire(),
    )
    .signed(&secret, now);
    if scopes.allows_refresh_token() && policy.issues_refresh_token() {
        response.refresh_token = Some(tokens::refresh_token(&rng).value);
    }
    assert!(policy.is_refresh_token_valid(now, None, now.plus_minutes(60 * 24 * 364)));
    assert!(!policy.is_refresh_token_valid(now, None, now.plus_minutes(60 * 24 * 365)));

    let body: serde_json::Value =
        serde_json::from_str(&response.render(ResponseFormat::Json)).unwrap();
    assert_eq!(body["scope"], "api web refresh_token");
    assert_eq!(body["issued_at"], now.millis().to_string());
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("5Aep861")
    );
    assert!(signature::verify(
        &secret,
        body["id"].as_str().unwrap(),
        body["issued_at"].as_str().unwrap(),
        body["signature"].as_str().unwrap()
    ));
}

/// simple-salesforce's client credentials (spec §0, §1.9D): Basic header, body
/// `grant_type=client_credentials` only.
#[test]
fn client_credentials_with_basic_authentication() {
    let rng = DeterministicRng::new(9);
    let consumer_key = tokens::consumer_key(&rng);
    let consumer_secret = tokens::consumer_secret(&rng);
    let digester = SecretDigester::random(&rng);
    let registry = digester.digest(&consumer_secret);

    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{consumer_key}:{}", consumer_secret.expose())
        )
    );
    let params = form(&[("grant_type", "client_credentials")]);
    let parsed = parse_token_request(&params).unwrap();
    assert_eq!(
        parsed.request,
        TokenRequest::ClientCredentials { scope: None }
    );
    let client = client_auth::extract(
        Some(&basic),
        parsed.client_id.as_deref(),
        parsed.client_secret.as_ref().map(Secret::expose),
    )
    .unwrap()
    .unwrap();
    assert_eq!(client.client_id, consumer_key);
    assert_eq!(client.method, ClientAuthMethod::ClientSecretBasic);
    assert!(digester.verify_secret(client.secret.as_ref().unwrap(), &registry));
    // A wrong secret is `invalid_client`, 401 because Basic was used.
    assert!(!digester.verify_secret(&Secret::new("nope"), &registry));
    assert_eq!(
        OAuthError::InvalidClient.http_status_for(Some(client.method)),
        401
    );

    let app_scopes = [OauthScope::Api, OauthScope::RefreshToken, OauthScope::Full];
    let scopes = GrantedScopes::grant(None, &app_scopes, &[])
        .unwrap()
        .for_client_credentials()
        .unwrap();
    assert_eq!(scopes.to_wire(), "api");
    let only_user_scopes = GrantedScopes::grant(None, &[OauthScope::RefreshToken], &[]).unwrap();
    assert_eq!(
        only_user_scopes.for_client_credentials(),
        Err(OAuthError::NoValidScopes)
    );
}

/// The device flow: the authorization request as @salesforce/core sent it (multipart, decoded
/// by the HTTP layer), a user code typed sloppily, and both poll spellings.
#[test]
fn device_flow_requests() {
    let rng = DeterministicRng::new(3);
    let params = form(&[
        ("response_type", "device_code"),
        ("client_id", CONSUMER_KEY),
        ("scope", "refresh_token web api"),
        ("format", "json"),
    ]);
    let parsed = parse_token_request(&params).unwrap();
    assert_eq!(
        parsed.request,
        TokenRequest::DeviceAuthorization {
            scope: Some("refresh_token web api".into())
        }
    );
    let device_code = tokens::device_code(&rng);
    let user_code = UserCode::generate(&rng);
    let typed = user_code.display().to_lowercase().replace('-', " ");
    assert_eq!(UserCode::parse(&typed).unwrap().hash(), user_code.hash());

    for (grant, param) in [
        ("device", "code"),
        (
            "urn:ietf:params:oauth:grant-type:device_code",
            "device_code",
        ),
    ] {
        let poll = form(&[
            ("grant_type", grant),
            ("client_id", CONSUMER_KEY),
            (param, device_code.value.expose()),
        ]);
        let TokenRequest::DeviceCode {
            device_code: got, ..
        } = parse_token_request(&poll).unwrap().request
        else {
            panic!("not a device poll");
        };
        assert_eq!(tokens::TokenHash::of(got.expose()), device_code.hash);
    }
    // Pending is a 400, the one status @salesforce/core keeps polling on.
    let pending = OAuthError::AuthorizationPending;
    assert_eq!(
        (pending.http_status(), pending.code()),
        (400, "authorization_pending")
    );
}

/// A request that fails to parse is still answered in the format it asked for.
#[test]
fn errors_are_rendered_in_the_requested_format() {
    let params = form(&[
        ("grant_type", "refresh_token"),
        ("grant_type", "refresh_token"),
        ("format", "urlencoded"),
    ]);
    let format = ResponseFormat::negotiate(format_param(&params), Some("application/json"));
    let err = parse_token_request(&params).unwrap_err();
    assert_eq!(
        err,
        OAuthError::InvalidRequest(RequestProblem::Repeated("grant_type"))
    );
    assert_eq!(
        err.body().render(format),
        "error=invalid_request&error_description=parameter+repeated%3A+grant_type"
    );
    assert_eq!(
        format.content_type(),
        "application/x-www-form-urlencoded;charset=UTF-8"
    );
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    nonce: &'a str,
}

/// ID tokens: our signature is byte for byte what OpenSSL produces for the same input, and a
/// relying party verifies it with the published JWK Set alone.
#[test]
fn id_tokens_match_openssl_and_verify_from_the_jwks() {
    let key = SigningKey::from_pem("190", KEY).unwrap();
    let sub = "https://acme.my.example.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ";
    let claims = IdTokenClaims {
        iss: "https://acme.my.example.com",
        sub,
        aud: CONSUMER_KEY,
        iat: 1_795_709_175,
        exp: 1_795_709_295,
        nonce: "n-0S6_WzA2Mj",
    };
    let token = key.sign(&claims).unwrap();
    assert_eq!(token, ID_TOKEN_EXPECTED.trim());

    let jwks = serde_json::to_string(&JwkSet {
        keys: vec![key.public_jwk().clone()],
    })
    .unwrap();
    let published: JwkSet = serde_json::from_str(&jwks).unwrap();
    let header = jose::decode_unverified(&token).unwrap().header;
    let jwk = published
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == header["kid"].as_str())
        .unwrap();
    let verified = jose::verify_rs256(&token, &VerifyingKey::from_jwk(jwk).unwrap()).unwrap();
    assert_eq!(verified.claims["nonce"], "n-0S6_WzA2Mj");
    // The certificate of the same key verifies it too.
    assert!(jose::verify_rs256(&token, &VerifyingKey::from_certificate(CERT).unwrap()).is_ok());
}
