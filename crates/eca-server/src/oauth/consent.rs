//! The consent page of self-authorized apps (`permittedUsersPolicyType` =
//! `AllSelfAuthorized`): the app's name, the scopes it asks for with what each means, and two
//! buttons with Salesforce's ids, `oaapprove` and `oadeny`. The form posts the authorization
//! request's parameters back to the authorize endpoint with a CSRF token bound to the web
//! session and the app, so a page elsewhere cannot approve on the user's behalf.
//!
//! An approval covers the scopes approved (all the approvals of a user and app together): a
//! request for a scope not among them shows the page again, so an app cannot widen its access
//! without the user's say (RFC 6749 §10.2 leaves consent to the server; RFC 9700 §2.1's
//! spirit).

use std::collections::{BTreeSet, HashSet};

use axum::http::StatusCode;
use axum::response::Response;
use eca_core::{Timestamp, UserId};
use eca_store::StoreResult;

use super::authorize::CONSENT_FIELDS;
use super::registry::ClientApp;
use crate::org::OrgContext;
use crate::session::Active;
use crate::state::AppState;
use crate::web::csrf::{self, Form};
use crate::web::html::{self, escape};
use crate::web::{self};
use eca_oauth::GrantedScopes;
use eca_oauth::authorize::Display;

/// What the user chose on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

/// The decision a consent form carries, if the request is one. Deny wins if both came.
pub fn decision(pairs: &[(String, String)]) -> Option<Decision> {
    let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
    if has("oadeny") {
        Some(Decision::Deny)
    } else if has("oaapprove") {
        Some(Decision::Approve)
    } else {
        None
    }
}

/// An approval that covers any scope (recorded before approvals had scopes).
const ANY_SCOPE: &str = "*";

/// The scope names of a wire list, `offline_access` spelt `refresh_token` (the same grant).
fn names(wire: &str) -> impl Iterator<Item = &str> {
    wire.split(' ').filter(|s| !s.is_empty()).map(|s| {
        if s == "offline_access" {
            "refresh_token"
        } else {
            s
        }
    })
}

/// Whether an approval covers every scope of `wanted`. `approved` is as stored: the scopes
/// (space-separated), `*` for any, or `None` (an earlier version's record) for none.
pub fn covers(approved: Option<&str>, wanted: &GrantedScopes) -> bool {
    let Some(approved) = approved else {
        return false;
    };
    if approved == ANY_SCOPE {
        return true;
    }
    let have: HashSet<&str> = names(approved).collect();
    names(&wanted.to_wire()).all(|s| have.contains(s))
}

/// Records that `user` approved `app` for `scopes`, together with the scopes approved before,
/// so that the consent page comes back only for a scope not approved yet. (Two approvals at
/// once may keep only one's scopes: the other's are then asked for again, nothing more.)
pub async fn record(
    state: &AppState,
    app: &ClientApp,
    user: &UserId,
    scopes: &GrantedScopes,
    at: Timestamp,
) -> StoreResult<()> {
    let store = state.store();
    let before = store
        .approved_scopes(&app.org_id, &app.name, user)
        .await?
        .flatten()
        .unwrap_or_default();
    let wire = scopes.to_wire();
    let all = if before == ANY_SCOPE {
        before
    } else {
        let all: BTreeSet<&str> = names(&before).chain(names(&wire)).collect();
        all.into_iter().collect::<Vec<_>>().join(" ")
    };
    store
        .record_approval(&app.org_id, &app.name, user, Some(&all), at)
        .await
}

/// What a consent token is bound to: the session, the app, and what the page showed and what
/// the approval would send where (the scopes granted, the redirect URI, the response type and
/// mode, the PKCE challenge and the nonce), so a token taken from one page approves nothing
/// else.
fn binding(
    active: &Active,
    app: &ClientApp,
    scopes: &GrantedScopes,
    pairs: &[(String, String)],
) -> String {
    let mut shown = format!(
        "{}|{}|{}",
        active.session.id_hash,
        app.consumer_key,
        scopes.to_wire()
    );
    for name in [
        "redirect_uri",
        "response_type",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "response_mode",
    ] {
        shown.push('|');
        shown.push_str(web::param(pairs, name).unwrap_or(""));
    }
    shown
}

/// Whether the consent form's CSRF token is this session's, from the page that showed this
/// app, these scopes and this request ([`binding`]).
pub fn verify(
    state: &AppState,
    active: &Active,
    app: &ClientApp,
    scopes: &GrantedScopes,
    pairs: &[(String, String)],
) -> bool {
    let token = web::param(pairs, "csrf_token").unwrap_or("");
    csrf::verify(
        state,
        Form::Consent,
        &binding(active, app, scopes, pairs),
        token,
        state.clock().now(),
    )
}

/// The consent page for this request, laid out as its `display` asks.
pub fn page(
    state: &AppState,
    ctx: &OrgContext,
    active: &Active,
    app: &ClientApp,
    scopes: &GrantedScopes,
    pairs: &[(String, String)],
    display: Display,
) -> Response {
    let token = csrf::token(
        state,
        Form::Consent,
        &binding(active, app, scopes, pairs),
        state.clock().now(),
    );
    let name = app.header.label.as_deref().unwrap_or(&app.name);
    let mut items = String::new();
    for scope in scopes.builtin() {
        items.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>\n",
            escape(scope.wire()),
            escape(scope.meaning())
        ));
    }
    for custom in scopes.custom() {
        items.push_str(&format!("<li><strong>{}</strong></li>\n", escape(custom)));
    }
    let mut hidden = String::new();
    for (k, v) in pairs
        .iter()
        .filter(|(k, _)| !CONSENT_FIELDS.contains(&k.as_str()))
    {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(k),
            escape(v)
        ));
    }
    let base = web::base_path(ctx);
    let body = format!(
        "<p><strong id=\"appName\">{app}</strong> is asking to:</p>\n<ul id=\"scopes\">\n{items}</ul>\n\
         <p>You are logged in as <strong>{user}</strong>. \
         <a href=\"{base}/secur/logout.jsp\">Not you?</a></p>\n\
         <form method=\"post\" action=\"{base}/services/oauth2/authorize\">\n{hidden}\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"submit\" id=\"oadeny\" name=\"oadeny\" value=\"Deny\">\n\
         <input type=\"submit\" id=\"oaapprove\" name=\"oaapprove\" value=\"Allow\">\n\
         </form>",
        app = escape(name),
        user = escape(&active.user.username),
        base = escape(&base),
        token = escape(&token),
    );
    html::page_for(StatusCode::OK, "Allow Access?", &body, display)
}
