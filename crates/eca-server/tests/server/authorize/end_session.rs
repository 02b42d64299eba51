//! RP-initiated logout: discovery's `end_session_endpoint` (found by openid-client's
//! `buildEndSessionUrl`, which answered 404 before this endpoint existed).

use super::*;

const END_SESSION: &str = "/services/auth/idp/oidc/logout";

/// Whether `reply` is the page that asks "Log out?".
fn asks(reply: &Reply) -> bool {
    reply.status == StatusCode::OK
        && reply.body.contains("id=\"logout\"")
        && reply.body.contains("eca_logout_confirmed")
}

/// Confirms the logout `page` asks for, posting its form from this site.
async fn confirm(w: &World, b: &mut Browser, page: &Reply) -> Reply {
    assert!(asks(page), "{:?}: {}", page.status, page.body);
    let fields = hidden_fields(&page.body);
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(&w.h, END_SESSION, &refs).await
}

/// An ID token of the browser's user for the web app, through the web-server flow.
async fn id_token_of(w: &World, b: &mut Browser) -> String {
    let code = code_of(
        &authorize_approved(
            w,
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
    let tokens = redeem_with_pkce(w, &code).await.json();
    tokens["id_token"].as_str().expect("an ID token").to_owned()
}

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

    // A registered callback with `client_id` and no ID token: asked first (§2), then logged
    // out and back to the client with `state`.
    let b = &mut logged_in(&w).await;
    let sid = b.sid("/").expect("a session");
    let page = b
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
    let session_hash = eca_core::crypto::token_hash(&sid);
    assert!(w.h.store.session(&session_hash).await.unwrap().is_some());
    let reply = confirm(&w, b, &page).await;
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
    assert!(page.body.contains("s&lt;2&gt;"), "escaped: {}", page.body);
    let session_hash = eca_core::crypto::token_hash(&sid);
    assert!(w.h.store.session(&session_hash).await.unwrap().is_some());
    let reply = confirm(&w, b, &page).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), format!("{CALLBACK}?state=s%3C2%3E"));
    assert!(
        w.h.store.session(&session_hash).await.unwrap().is_none(),
        "the session is gone from the store"
    );

    // The client named by an ID token's `aud` (`id_token_hint`), as openid-client sends it.
    // The token is the logged-in user's, so nothing is asked.
    let b = &mut logged_in(&w).await;
    let id_token = id_token_of(&w, b).await;
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
        let mut reply = b.get(&w.h, &format!("{END_SESSION}?{}", query(case))).await;
        if asks(&reply) {
            reply = confirm(&w, b, &reply).await;
        }
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
    let page = b.post_form(&w.h, END_SESSION, &[("client_id", KEY)]).await;
    let reply = confirm(&w, b, &page).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("You are logged out"), "{}", reply.body);
    assert!(b.sid("/").is_none());
}

/// RP-Initiated Logout §2: the OP MUST ask the user before logging out when there is no
/// `id_token_hint` or it names another user, so a link or image elsewhere cannot log the user
/// out (logout CSRF).
#[tokio::test]
async fn end_session_asks_first_unless_the_hint_names_the_logged_in_user() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let admin = &mut logged_in(&w).await;
    let admin_token = id_token_of(&w, admin).await;

    // What a cross-site `<img src>` or link sends: nothing but the URL.
    let sid = admin.sid("/").expect("a session");
    let page = admin.get(&w.h, END_SESSION).await;
    assert!(asks(&page), "{}", page.body);
    assert!(page.body.contains("id=\"stay\""), "{}", page.body);
    assert!(page.headers.get(header::SET_COOKIE).is_none());
    let hash = eca_core::crypto::token_hash(&sid);
    assert!(w.h.store.session(&hash).await.unwrap().is_some());
    // A forged POST of the confirmation comes cross-site, without the cookie: nothing ends.
    let forged = post(END_SESSION, FORM, "eca_logout_confirmed=1")
        .send(&w.h)
        .await;
    assert_eq!(forged.status, StatusCode::OK, "{}", forged.body);
    assert!(w.h.store.session(&hash).await.unwrap().is_some());

    // Another user's ID token does not speak for this one.
    let profile = crate::oauth::profile_named(&w, "System Administrator").await;
    add_user(&w.h, &w.org, &profile, "second@acme.example").await;
    let other = &mut Browser::new();
    let login = other
        .log_in(&w.h, "/login", "second@acme.example", ADMIN_PASSWORD)
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let hinted = format!(
        "{END_SESSION}?{}",
        query(&[("id_token_hint", &admin_token)])
    );
    let page = other.get(&w.h, &hinted).await;
    assert!(asks(&page), "{}", page.body);
    assert!(other.sid("/").is_some());

    // Nobody logged in: nothing to ask about.
    let reply = Browser::new().get(&w.h, END_SESSION).await;
    assert!(reply.body.contains("You are logged out"), "{}", reply.body);

    // The user's own ID token: logged out at once.
    let reply = admin.get(&w.h, &hinted).await;
    assert!(reply.body.contains("You are logged out"), "{}", reply.body);
    assert!(w.h.store.session(&hash).await.unwrap().is_none());
}
