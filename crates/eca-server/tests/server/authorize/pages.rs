//! How the login and consent pages of an authorization look: `login_hint` and `display`.

use super::*;

#[tokio::test]
async fn login_hint_prefills_the_username() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("code_challenge", CHALLENGE),
        ("login_hint", "someone@demo.example"),
    ];
    let mut b = Browser::new();
    let reply = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let page = b.get(&w.h, &location(&reply)).await;
    assert!(
        page.body.contains("value=\"someone@demo.example\""),
        "{}",
        page.body
    );
}

/// `display` lays out the login and consent pages of the request (Salesforce's `page`,
/// `popup`, `touch`, `mobile`); an unknown value is a full page.
#[tokio::test]
async fn display_lays_out_the_login_and_consent_pages() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    for (display, class) in [
        ("popup", "display-popup"),
        ("touch", "display-touch"),
        ("mobile", "display-mobile"),
        ("bogus", "display-page"),
    ] {
        let params = [
            ("response_type", "code"),
            ("client_id", KEY),
            ("redirect_uri", CALLBACK),
            ("code_challenge", CHALLENGE),
            ("state", "s1"),
            // The admin approved the app in the first round: ask again each time.
            ("prompt", "consent"),
            ("display", display),
        ];
        let mut b = Browser::new();
        let reply = b
            .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
            .await;
        let login = b.get(&w.h, &location(&reply)).await;
        assert!(
            login.body.contains(&format!("<body class=\"{class}\">")),
            "{display}: {}",
            login.body
        );
        assert!(login.body.contains("id=\"Login\""), "{}", login.body);
        let reply = b
            .log_in(&w.h, &location(&reply), ADMIN_USERNAME, ADMIN_PASSWORD)
            .await;
        let consent_page = b.get(&w.h, &location(&reply)).await;
        assert_eq!(consent_page.status, StatusCode::OK, "{}", consent_page.body);
        assert!(
            consent_page
                .body
                .contains(&format!("<body class=\"{class}\">")),
            "{display}: {}",
            consent_page.body
        );
        let done = consent(&w, &mut b, &consent_page, "oaapprove").await;
        code_of(&done, CALLBACK, "s1");
    }
    // Pages without a request are full pages.
    let login = Browser::new().get(&w.h, "/login").await;
    assert!(login.body.contains("<body class=\"display-page\">"));
}
