//! What the authorization endpoint sends through the browser itself: the user-agent flow
//! (`token`, `token id_token`), the hybrid flow (`code id_token`), `response_mode`, the ID
//! tokens of those responses, and requests too long to survive the login page.

use super::*;

#[tokio::test]
async fn the_user_agent_flow_answers_in_the_fragment() {
    let w = world().await;
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "token"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("nonce", "n1"),
        ("scope", "api refresh_token openid"),
    ];
    let reply = authorize_approved(&w, &mut b, &params).await;
    let location = crate::browser::location(&reply);
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    let back = params_of(&location, '#');
    for field in [
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "id_token",
        "state",
        "iss",
    ] {
        assert!(param(&back, field).is_some(), "{field} missing: {location}");
    }
    assert_eq!(
        param(&back, "refresh_token"),
        None,
        "no refresh token in the fragment"
    );
    assert_eq!(param(&back, "token_type"), Some("Bearer"));
    let access = param(&back, "access_token").unwrap();
    let rest = get("/services/data/v66.0").bearer(access).send(&w.h).await;
    assert_eq!(rest.status, StatusCode::OK);
    let claims = verified_claims(&w, param(&back, "id_token").unwrap()).await;
    assert_eq!(claims["nonce"], "n1");
    assert_eq!(
        claims["at_hash"],
        eca_oauth::id_token::half_hash(access).as_str()
    );

    // Errors go in the fragment too.
    let reply = b
        .get(
            &w.h,
            &format!(
                "{AUTHORIZE}?{}",
                query(&[
                    ("response_type", "token"),
                    ("client_id", KEY),
                    ("redirect_uri", CALLBACK),
                    ("state", "s"),
                    ("scope", "chatter_api"),
                ])
            ),
        )
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}#error=invalid_scope")),
        "{location}"
    );

    // Without a nonce, no ID token goes through the browser (OIDC Core §3.2.2.11): it could
    // be replayed into another login. The access token still comes.
    let no_nonce: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| *k != "nonce")
        .copied()
        .collect();
    let reply = authorize_approved(&w, &mut b, &no_nonce).await;
    let back = params_of(&crate::browser::location(&reply), '#');
    assert!(param(&back, "access_token").is_some(), "{back:?}");
    assert_eq!(param(&back, "id_token"), None);
}

/// An app that requires PKCE (the default) gets no token from the authorization endpoint:
/// the user-agent flow has no code for PKCE to protect, so another app claiming its redirect
/// URI would get the token (RFC 9700 §2.1.2).
#[tokio::test]
async fn an_app_that_requires_pkce_refuses_the_user_agent_flow() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    for response_type in ["token", "token id_token"] {
        let params = [
            ("response_type", response_type),
            ("client_id", KEY),
            ("redirect_uri", CALLBACK),
            ("state", "s"),
            ("nonce", "n"),
            ("scope", "api openid"),
        ];
        let reply = b
            .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
            .await;
        let location = crate::browser::location(&reply);
        assert!(
            location.starts_with(&format!("{CALLBACK}#error=unauthorized_client")),
            "{response_type}: {location}"
        );
        assert!(!location.contains("access_token"), "{location}");
    }
}

/// `response_mode` (OAuth 2.0 Multiple Response Type Encoding Practices §2.1): `fragment`
/// moves a code there; a token never goes in a query, and `form_post` is not served.
#[tokio::test]
async fn response_mode_is_honoured_or_refused() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let params = code_params(&[("response_mode", "fragment")]);
    let reply = authorize_approved(&w, &mut b, &params).await;
    let location = crate::browser::location(&reply);
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    let back = params_of(&location, '#');
    assert!(param(&back, "code").is_some(), "{location}");
    assert_eq!(param(&back, "iss"), Some(PUBLIC_URL));

    // Errors follow the response mode too (OIDC Core §3.1.2.6), even when the request does not
    // parse: here a PKCE-required app and no challenge.
    let params: Vec<(&str, &str)> = code_params(&[("response_mode", "fragment")])
        .into_iter()
        .filter(|(k, _)| *k != "code_challenge")
        .collect();
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}#error=invalid_request")),
        "{location}"
    );

    let reply = b
        .get(&w.h, &code_request_uri(&[("response_mode", "form_post")]))
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}?error=invalid_request")),
        "{location}"
    );
    let reply = b
        .get(
            &w.h,
            &code_request_uri(&[("request_uri", "urn:example:req")]),
        )
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}?error=request_uri_not_supported")),
        "{location}"
    );
}

/// A request too long to come back to after the login page is refused at once, rather than
/// lost after the user logs in.
#[tokio::test]
async fn a_request_too_long_for_the_login_page_is_refused_before_it() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    // Each within its own limit (2,048), but three times as long once percent-encoded.
    let long = "%".repeat(2048);
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", long.as_str()),
        ("nonce", long.as_str()),
        ("code_challenge", CHALLENGE),
    ];
    let reply = Browser::new()
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}?error=invalid_request")),
        "{location}"
    );
    assert!(
        location.contains("too+long+to+continue+after+login"),
        "{location}"
    );
    // A request of ordinary length goes to the login page.
    let reply = Browser::new().get(&w.h, &code_request_uri(&[])).await;
    assert!(
        crate::browser::location(&reply).contains("/login?startURL="),
        "{}",
        crate::browser::location(&reply)
    );
}

#[tokio::test]
async fn the_hybrid_flow_sends_a_code_and_an_id_token_with_c_hash() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let mut params = vec![
        ("response_type", "code id_token"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "h"),
        ("scope", "openid api"),
        ("code_challenge", CHALLENGE),
    ];
    // `nonce` is required with an ID token in the response (OIDC Core §3.3.2.11).
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let location = crate::browser::location(&reply);
    assert!(
        location.starts_with(&format!("{CALLBACK}#error=invalid_request")),
        "{location}"
    );
    params.push(("nonce", "hybrid-nonce"));
    let reply = authorize_approved(&w, &mut b, &params).await;
    let location = crate::browser::location(&reply);
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    let back = params_of(&location, '#');
    assert_eq!(param(&back, "state"), Some("h"));
    assert_eq!(param(&back, "iss"), Some(PUBLIC_URL));
    let code = param(&back, "code").expect("a code");
    let claims = verified_claims(&w, param(&back, "id_token").expect("an ID token")).await;
    assert_eq!(
        claims["c_hash"],
        eca_oauth::id_token::half_hash(code).as_str()
    );
    assert_eq!(claims["nonce"], "hybrid-nonce");
    assert!(claims.get("at_hash").is_none());
    let reply = redeem_with_pkce(&w, code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let claims = verified_claims(&w, reply.json()["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["nonce"], "hybrid-nonce");
}

#[tokio::test]
async fn the_id_token_config_sets_audience_and_validity() {
    let w = world().await;
    w.deploy(&web_app(
        &w,
        "<idTokenConfig><idTokenAudience>https://extra.example</idTokenAudience>\
         <idTokenValidityInMinutes>5</idTokenValidityInMinutes></idTokenConfig>\
         <isPkceRequired>false</isPkceRequired>",
    ))
    .await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "token"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("nonce", "cfg"),
    ];
    let reply = authorize_approved(&w, &mut b, &params).await;
    let back = params_of(&crate::browser::location(&reply), '#');
    let claims = verified_claims(&w, param(&back, "id_token").expect("an ID token")).await;
    assert_eq!(
        claims["aud"],
        serde_json::json!([KEY, "https://extra.example"])
    );
    // Several audiences: `azp` names the client (OIDC Core §2), as relying parties require.
    assert_eq!(claims["azp"], KEY);
    assert_eq!(claims["exp"], START.secs() + 300);
    assert_eq!(claims["nonce"], "cfg");
}
