//! RP-initiated logout: discovery's `end_session_endpoint` (found by openid-client's
//! `buildEndSessionUrl`, which answered 404 before this endpoint existed).

use super::*;

const END_SESSION: &str = "/services/auth/idp/oidc/logout";

#[tokio::test]
async fn end_session_endpoint_logs_out_and_returns_to_a_registered_callback_only() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let discovery = get("/.well-known/openid-configuration")
        .send(&w.h)
        .await
        .json();
    assert_eq!(
        discovery["end_session_endpoint"],
        format!("{PUBLIC_URL}{END_SESSION}")
    );

    // A registered callback with `client_id`: logged out, back to the client with `state`.
    let b = &mut logged_in(&w).await;
    let sid = b.sid("/").expect("a session");
    let reply = b
        .get(
            &w.h,
            &format!(
                "{END_SESSION}?{}",
                query(&[
                    ("client_id", KEY),
                    ("post_logout_redirect_uri", CALLBACK),
                    ("state", "s 1")
                ])
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), format!("{CALLBACK}?state=s+1"));
    assert!(b.sid("/").is_none(), "the cookie is cleared");
    assert!(
        w.h.store
            .session(&eca_core::crypto::token_hash(&sid))
            .await
            .unwrap()
            .is_none(),
        "the session is gone from the store"
    );

    // A form the app submits on its own site: the browser sends no `SameSite=Lax` cookie
    // with that cross-site POST. The answer asks first, with a form that posts from here.
    let b = &mut logged_in(&w).await;
    let sid = b.sid("/").expect("a session");
    let fields = [
        ("client_id", KEY),
        ("post_logout_redirect_uri", CALLBACK),
        ("state", "s<2>"),
    ];
    let page = post(END_SESSION, FORM, query(&fields)).send(&w.h).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"logout\""), "{}", page.body);
    assert!(page.body.contains("s&lt;2&gt;"), "escaped: {}", page.body);
    let session_hash = eca_core::crypto::token_hash(&sid);
    assert!(w.h.store.session(&session_hash).await.unwrap().is_some());
    let confirm = hidden_fields(&page.body);
    assert!(confirm.iter().any(|(k, _)| k == "eca_logout_confirmed"));
    let refs: Vec<(&str, &str)> = confirm
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = b.post_form(&w.h, END_SESSION, &refs).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), format!("{CALLBACK}?state=s%3C2%3E"));
    assert!(
        w.h.store.session(&session_hash).await.unwrap().is_none(),
        "the session is gone from the store"
    );

    // The client named by an ID token's `aud` (`id_token_hint`), as openid-client sends it.
    let b = &mut logged_in(&w).await;
    let code = code_of(
        &authorize_approved(
            &w,
            b,
            &[
                ("response_type", "code"),
                ("client_id", KEY),
                ("redirect_uri", CALLBACK),
                ("scope", "openid api"),
                ("state", "st"),
                ("code_challenge", CHALLENGE),
            ],
        )
        .await,
        CALLBACK,
        "st",
    );
    let tokens = exchange(
        &w,
        &[
            ("code", &code),
            ("client_id", KEY),
            ("client_secret", SECRET),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .json();
    let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();
    let reply = b
        .get(
            &w.h,
            &format!(
                "{END_SESSION}?{}",
                query(&[
                    ("id_token_hint", &id_token),
                    ("post_logout_redirect_uri", CLI_CALLBACK)
                ])
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), CLI_CALLBACK);
    assert!(b.sid("/").is_none());

    // Never an open redirect: an unregistered URI, or a URI with no client to check it
    // against, or a client_id that contradicts the hint, is an error page (after logging out).
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("client_id", KEY),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![("post_logout_redirect_uri", CALLBACK)],
        vec![
            ("client_id", "3MVG9nobody"),
            ("post_logout_redirect_uri", CALLBACK),
        ],
        vec![
            ("client_id", OTHER_KEY),
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", CALLBACK),
        ],
        vec![
            ("id_token_hint", "not-a-jwt"),
            ("post_logout_redirect_uri", CALLBACK),
        ],
    ];
    for case in &cases {
        let b = &mut logged_in(&w).await;
        let reply = b.get(&w.h, &format!("{END_SESSION}?{}", query(case))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{case:?}: {}",
            reply.body
        );
        assert!(reply.headers.get(header::LOCATION).is_none(), "{case:?}");
        assert!(b.sid("/").is_none(), "{case:?}: logged out all the same");
    }

    // Without a redirect URI: the logged-out page. POST works as GET (RP-Initiated Logout §2).
    let b = &mut logged_in(&w).await;
    let reply = b.post_form(&w.h, END_SESSION, &[("client_id", KEY)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("You are logged out"), "{}", reply.body);
    assert!(b.sid("/").is_none());
}
