//! Consent and silent requests: Deny and forged approvals, approvals that cover the scopes
//! approved, `immediate=true` and `prompt=none`.

use super::*;

#[tokio::test]
async fn denying_consent_sends_access_denied_and_forged_approvals_are_refused() {
    let w = world().await;
    // PKCE optional, so that a forged switch to the user-agent flow meets the consent check
    // rather than the PKCE requirement.
    w.deploy(&web_app(&w, "<isPkceRequired>false</isPkceRequired>"))
        .await;
    let mut b = logged_in(&w).await;
    let params = [
        ("response_type", "code"),
        ("client_id", KEY),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
    ];
    let page = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let reply = consent(&w, &mut b, &page, "oadeny").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let back = params_of(&location(&reply), '?');
    assert_eq!(param(&back, "error"), Some("access_denied"));
    assert_eq!(param(&back, "state"), Some("s"));
    assert_eq!(param(&back, "iss"), Some(PUBLIC_URL));
    assert_eq!(param(&back, "code"), None);
    assert!(
        !w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );

    // A decision in a GET query (a link), even with the page's token, only shows the page.
    let page = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let mut fields = hidden_fields(&page.body);
    fields.push(("oaapprove".to_owned(), "x".to_owned()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = b.get(&w.h, &format!("{AUTHORIZE}?{}", query(&refs))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("id=\"oaapprove\""));
    assert!(
        !w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );

    // An approval without the page's CSRF token (a cross-site form) is refused.
    let mut fields: Vec<(&str, &str)> = params.to_vec();
    fields.push(("oaapprove", "Allow"));
    fields.push(("csrf_token", "1795651200.forged"));
    let reply = b.post_form(&w.h, AUTHORIZE, &fields).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(
        !w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );

    // The page's own token approves only what the page showed: not more scopes, another
    // response type or another PKCE challenge.
    let page = b
        .get(&w.h, &format!("{AUTHORIZE}?{}", query(&params)))
        .await;
    let shown = hidden_fields(&page.body);
    for (name, value) in [
        ("scope", "api refresh_token"),
        ("response_type", "token"),
        ("response_mode", "fragment"),
        (
            "code_challenge",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        ),
    ] {
        let mut fields: Vec<(String, String)> =
            shown.iter().filter(|(k, _)| k != name).cloned().collect();
        fields.push((name.to_owned(), value.to_owned()));
        fields.push(("oaapprove".to_owned(), "Allow".to_owned()));
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = b.post_form(&w.h, AUTHORIZE, &refs).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{name}: {}",
            reply.body
        );
    }
    assert!(
        !w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );
    // As shown, it approves.
    let reply = consent(&w, &mut b, &page, "oaapprove").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(
        w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap()
    );
}

/// An approval covers the scopes approved: a request for another scope shows the consent page
/// again, approving it adds that scope, and an approval from before approvals had scopes covers
/// any.
#[tokio::test]
async fn consent_is_asked_again_only_for_scopes_not_approved_yet() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let mut b = logged_in(&w).await;
    let uri = |scope: &str| code_request_uri(&[("scope", scope)]);
    let page = b.get(&w.h, &uri("api")).await;
    let approved = consent(&w, &mut b, &page, "oaapprove").await;
    code_of(&approved, CALLBACK, "s");
    // The same scope again, and fewer: no page.
    code_of(&b.get(&w.h, &uri("api")).await, CALLBACK, "s");
    // A scope not approved yet: the page again, naming it.
    let page = b.get(&w.h, &uri("api refresh_token")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"oaapprove\""), "{}", page.body);
    let approved = consent(&w, &mut b, &page, "oaapprove").await;
    code_of(&approved, CALLBACK, "s");
    assert_eq!(
        w.h.store
            .approved_scopes(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap(),
        Some(Some("api refresh_token".to_owned()))
    );
    code_of(&b.get(&w.h, &uri("refresh_token")).await, CALLBACK, "s");
    // `offline_access` is `refresh_token` by another name: approved already.
    code_of(
        &b.get(&w.h, &uri("api offline_access")).await,
        CALLBACK,
        "s",
    );
    // With prompt=none, a new scope is consent_required.
    let none = format!("{}&prompt=none", uri("api openid"));
    let consent_required = |reply: &Reply| {
        let back = params_of(&location(reply), '?');
        assert_eq!(param(&back, "error"), Some("consent_required"));
    };
    consent_required(&b.get(&w.h, &none).await);
    // An approval recorded without scopes (by a node of an earlier version during an upgrade)
    // covers none; one from before approvals had scopes (`*`, as migration 0016 marks them)
    // covers any.
    let record = |scopes: Option<&'static str>| {
        w.h.store
            .record_approval(&w.org.id, "Ci", &w.admin.id, scopes, START)
    };
    record(None).await.unwrap();
    consent_required(&b.get(&w.h, &format!("{}&prompt=none", uri("api"))).await);
    record(Some("*")).await.unwrap();
    code_of(&b.get(&w.h, &none).await, CALLBACK, "s");
}

/// Salesforce's `immediate=true`: a code at once for a logged-in user who approved the app,
/// else `immediate_unsuccessful`, never a page.
#[tokio::test]
async fn immediate_answers_at_once_or_immediate_unsuccessful() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let uri = code_request_uri(&[("immediate", "true")]);
    let error_of = |reply: &Reply| {
        let back = params_of(&location(reply), '?');
        assert_eq!(param(&back, "state"), Some("s"));
        param(&back, "error").map(str::to_owned)
    };
    let reply = Browser::new().get(&w.h, &uri).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(error_of(&reply).as_deref(), Some("immediate_unsuccessful"));
    let mut b = logged_in(&w).await;
    let reply = b.get(&w.h, &uri).await;
    assert_eq!(error_of(&reply).as_deref(), Some("immediate_unsuccessful"));
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.admin.id, Some("*"), START)
        .await
        .unwrap();
    code_of(&b.get(&w.h, &uri).await, CALLBACK, "s");
}

#[tokio::test]
async fn prompt_none_answers_login_required_or_consent_required() {
    let w = world().await;
    w.deploy(&web_app(&w, "")).await;
    let uri = code_request_uri(&[("prompt", "none")]);
    let reply = Browser::new().get(&w.h, &uri).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let back = params_of(&location(&reply), '?');
    assert_eq!(param(&back, "error"), Some("login_required"));
    assert_eq!(param(&back, "state"), Some("s"));
    let mut b = logged_in(&w).await;
    let back = params_of(&location(&b.get(&w.h, &uri).await), '?');
    assert_eq!(param(&back, "error"), Some("consent_required"));
    // Once approved, prompt=none gets a code without any page.
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.admin.id, Some("*"), START)
        .await
        .unwrap();
    code_of(&b.get(&w.h, &uri).await, CALLBACK, "s");
}
