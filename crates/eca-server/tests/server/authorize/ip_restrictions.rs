//! IP restrictions in the browser: the login page refuses a user outside their profile's
//! login IP ranges, except to finish an OAuth authorization, where the app's IP relaxation
//! and trusted IP ranges decide (`oauth::ip_relaxation`).

use super::*;
use crate::oauth::ip_restrictions::{INSIDE, OUTSIDE, RESTRICTED, restrict};

/// In the app's trusted range, outside the profile's.
const TRUSTED: &str = "203.0.113.9";

/// The web app with `relaxation` and the trusted range 203.0.113.0 – 203.0.113.255.
fn relaxed_web_app(w: &World, relaxation: &str) -> AppSpec<'static> {
    // PKCE optional, so that the user-agent flow is open to it.
    let mut spec = web_app(w, "<isPkceRequired>false</isPkceRequired>");
    spec.policies = spec.policies.replace(
        "<isClientCredentialsFlowEnabled>",
        &format!(
            "<ipRelaxationPolicyType>{relaxation}</ipRelaxationPolicyType><isClientCredentialsFlowEnabled>"
        ),
    );
    spec.settings = "<trustedIpRanges><description>Partner</description><endIpAddress>203.0.113.255</endIpAddress><startIpAddress>203.0.113.0</startIpAddress></trustedIpRanges>".to_owned();
    spec
}

/// The authorize parameters of the tests, with this `response_type`.
fn request_params(response_type: &'static str) -> [(&'static str, &'static str); 5] {
    [
        ("response_type", response_type),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s1"),
        ("code_challenge", CHALLENGE),
    ]
}

fn code_request(response_type: &'static str) -> String {
    query(&request_params(response_type))
}

/// A browser at `peer` that starts an authorization and logs in on the way; the reply to
/// the login form.
async fn log_in_to_authorize(
    w: &World,
    peer: &str,
    response_type: &'static str,
) -> (Browser, Reply) {
    let mut b = Browser::new();
    b.peer = Some(peer.to_owned());
    let reply = b
        .get(
            &w.h,
            &format!("{AUTHORIZE}?{}", code_request(response_type)),
        )
        .await;
    let login = location(&reply);
    let reply = b.log_in(&w.h, &login, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    (b, reply)
}

#[tokio::test]
async fn outside_the_ranges_the_login_page_only_finishes_authorizations_the_app_relaxes() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    restrict(&w, &sid, "System Administrator").await;
    w.deploy(&relaxed_web_app(&w, "Enforce")).await;

    // A plain login from outside fails like a wrong password; from inside it works.
    let mut b = Browser::new();
    b.peer = Some(OUTSIDE.to_owned());
    let reply = b
        .log_in(&w.h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("id=\"error\""), "{}", reply.body);
    let mut inside = Browser::new();
    inside.peer = Some(INSIDE.to_owned());
    let reply = inside
        .log_in(&w.h, "/login", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // On the way to authorize the login succeeds, but an enforcing app refuses the user, with
    // an error sent to the client (RFC 6749 §4.1.2.1 `access_denied`).
    let (mut b, reply) = log_in_to_authorize(&w, OUTSIDE, "code").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = b.get(&w.h, &location(&reply)).await;
    let params = params_of(&location(&reply), '?');
    assert_eq!(param(&params, "error"), Some("access_denied"), "{params:?}");
    assert_eq!(param(&params, "error_description"), Some(RESTRICTED));
    // That session is good for authorizations only: not for the org's pages, nor the API.
    let home = b.get(&w.h, "/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(location(&home).contains("/login"), "{}", location(&home));
    let session = b.sid("/").expect("a session cookie");
    get("/services/data/v66.0/query?q=SELECT+Id+FROM+Organization")
        .bearer(&session)
        .send(&w.h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");

    // An app that relaxes IP restrictions lets the same user through, to the end.
    w.deploy(&relaxed_web_app(&w, "Bypass")).await;
    let reply = authorize_approved(&w, &mut b, &request_params("code")).await;
    let code = code_of(&reply, CALLBACK, "s1");
    let reply = redeem_with_pkce(&w, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn relax_with_second_factor_lets_the_web_server_flow_in_from_trusted_ranges_only() {
    let w = world().await;
    let sid = admin_session(&w.h).await;
    restrict(&w, &sid, "System Administrator").await;
    w.deploy(&relaxed_web_app(&w, "Bypass_2factor")).await;

    // From an address the app trusts, the web server flow goes through...
    let (mut b, reply) = log_in_to_authorize(&w, TRUSTED, "code").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = b.get(&w.h, &location(&reply)).await;
    let reply = consent(&w, &mut b, &page, "oaapprove").await;
    let code = code_of(&reply, CALLBACK, "s1");
    let exchange_from = |peer: &'static str, code: String| {
        let body = query(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", KEY),
            ("client_secret", SECRET),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ]);
        post(crate::oauth::TOKEN, crate::oauth::FORM, body).with_peer(peer)
    };
    // ...but its code is redeemed only from a trusted address too.
    oauth_error(
        &exchange_from(OUTSIDE, code).send(&w.h).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        RESTRICTED,
    );
    let reply = authorize_approved(&w, &mut b, &request_params("code")).await;
    let code = code_of(&reply, CALLBACK, "s1");
    let reply = exchange_from(TRUSTED, code).send(&w.h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The user-agent flow is not the web server flow: no relaxation, even from there.
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", code_request("token")))
        .await;
    let params = params_of(&location(&reply), '#');
    assert_eq!(param(&params, "error"), Some("access_denied"), "{params:?}");

    // An address neither trusted nor in the profile's ranges gets nothing.
    let (mut b, reply) = log_in_to_authorize(&w, OUTSIDE, "code").await;
    let reply = b.get(&w.h, &location(&reply)).await;
    let params = params_of(&location(&reply), '?');
    assert_eq!(param(&params, "error_description"), Some(RESTRICTED));
}
