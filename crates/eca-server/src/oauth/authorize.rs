//! `GET|POST {base}/services/oauth2/authorize` (RFC 6749 §3.1, §4.1.1, §4.2.1; OpenID Connect
//! Core §3.1.2; `spec/oauth-and-connect.md` §1.9 A and B): the web-server flow (`code`, with
//! PKCE), the user-agent flow (`token`, fragment response) and their `id_token` variants.
//!
//! Order of checks, and where each failure goes:
//! 1. `client_id` and `redirect_uri` (`eca_oauth::authorize::client_part`): an unknown or
//!    foreign client, a switched-off app, or a redirect URI that is missing (when the app has
//!    more than one), malformed or not registered exactly → an **error page** (400), never a
//!    redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
//! 2. Everything else (`response_type`, `scope`, PKCE, `prompt`...) → a **redirect** to the
//!    redirect URI with `error`, `error_description`, `state` and `iss` (RFC 9207), in the
//!    query for `code`, the fragment otherwise or when `response_mode=fragment`.
//! 3. No web session of this org (or `prompt=login`) → the login page, which comes back here;
//!    `prompt=none` → `login_required` instead. `login_hint` pre-fills the username.
//! 4. Permitted users: admin-approved apps need the user's profile or a permission set among
//!    the pre-authorized ones (`OAUTH_APP_ACCESS_DENIED` otherwise), with no consent page;
//!    self-authorized apps show the consent page (`consent`) unless the user approved before
//!    and `prompt=consent` was not asked (`prompt=none` → `consent_required`).
//! 5. The response: a code (stored hashed, `AUTHORIZATION_CODE_MINUTES`), or an access token
//!    recorded like every other grant's, and an ID token when `openid` was granted and the
//!    response type asks for one.
//!
//! POST takes the same parameters in a form body. The consent page posts back here with the
//! request's parameters, a CSRF token and `oaapprove` or `oadeny`.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eca_core::Secret;
use eca_metadata::model::PermittedUsers;
use eca_oauth::authorize::{
    self, AuthorizeRequest, PageError, ResponseMode, ResponseType, error_params,
};
use eca_oauth::{
    GrantedScopes, OAuthError, RedirectUri, RegisteredRedirects, RequestProblem, tokens,
};
use eca_store::AuthorizationCodeRecord;

use super::consent;
use super::id_token;
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::registry::{self, ClientApp};
use super::{GrantError, permitted};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::session::Active;
use crate::state::AppState;
use crate::web::{self, html};

/// How long an authorization code may be redeemed: 10 minutes, the longest RFC 6749 §4.1.2
/// recommends (the spec gives no Salesforce value).
pub const AUTHORIZATION_CODE_MINUTES: i64 = 10;

/// How long an expired code is kept (`crate::housekeeping` deletes it then): a replay within
/// that time still finds it, and revokes what it issued (RFC 6749 §4.1.2).
pub(crate) const CODE_RETENTION_MINUTES: i64 = 24 * 60;

/// The parameters the consent form adds; they are not authorization parameters.
pub(super) const CONSENT_FIELDS: &[&str] = &["oaapprove", "oadeny", "csrf_token"];

pub async fn get(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(address): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs = web::pairs(query.unwrap_or_default().as_bytes());
    authorize(&state, &ctx, address, &headers, pairs, false).await
}

pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(address): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut pairs = web::pairs(&body);
    if pairs.is_empty() {
        pairs = web::pairs(query.unwrap_or_default().as_bytes());
    }
    authorize(&state, &ctx, address, &headers, pairs, true).await
}

/// Where an answer goes once the redirect URI is trusted.
pub(super) struct Target<'a> {
    pub redirect_uri: &'a RedirectUri,
    pub mode: ResponseMode,
    pub state: Option<&'a str>,
    pub issuer: &'a str,
    /// 303 after a POST (RFC 9700 §4.12), 302 after a GET.
    pub after_post: bool,
}

impl Target<'_> {
    /// A redirect to the client with `params`, `state` and `iss` added.
    pub fn respond(&self, params: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if let Some(state) = self.state {
            all.push(("state", state));
        }
        all.push(("iss", self.issuer));
        self.redirect(&authorize::redirect_url(
            self.redirect_uri.as_str(),
            self.mode,
            &all,
        ))
    }

    /// A redirect to the client with an error (RFC 6749 §4.1.2.1, §4.2.2.1).
    pub fn error(&self, err: &OAuthError) -> Response {
        tracing::debug!(error = %err, "authorization refused");
        let description = err.description();
        let params = error_params(err, &description, self.state, self.issuer);
        self.redirect(&authorize::redirect_url(
            self.redirect_uri.as_str(),
            self.mode,
            &params,
        ))
    }

    fn redirect(&self, location: &str) -> Response {
        let status = if self.after_post {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::FOUND
        };
        let Ok(value) = HeaderValue::from_str(location) else {
            return web::error_page(
                StatusCode::BAD_REQUEST,
                "Authorization failed",
                "The redirect address cannot be used.",
            );
        };
        let mut response = status.into_response();
        response.headers_mut().insert(header::LOCATION, value);
        html::secure_headers(&mut response);
        response
    }
}

fn page_error(err: PageError) -> Response {
    tracing::debug!(error = %err, "authorization request refused with an error page");
    web::error_page(
        StatusCode::BAD_REQUEST,
        "Authorization failed",
        &err.to_string(),
    )
}

/// The page for an app of another org (`OAUTH_AUTHORIZATION_BLOCKED` or
/// `OAUTH_EC_APP_NOT_FOUND`, [`registry::in_org`]), with the code and text Salesforce shows.
fn cross_org_page(refusal: &OAuthError) -> Response {
    tracing::debug!(error = %refusal, "authorization request for another org's app");
    web::error_page(
        StatusCode::BAD_REQUEST,
        "Authorization failed",
        &format!("{}: {}", refusal.code(), refusal.description()),
    )
}

async fn authorize(
    state: &AppState,
    ctx: &OrgContext,
    address: IpAddr,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
    after_post: bool,
) -> Response {
    // 1. The client and its redirect URI: failures are pages.
    let client = match authorize::client_part(&pairs) {
        Ok(c) => c,
        Err(e) => return page_error(e),
    };
    let app = match registry::by_client_id(state, &client.client_id, state.clock().now()).await {
        Ok(app) => match registry::in_org(app, &ctx.org.id) {
            Ok(app) => app,
            Err(OAuthError::InvalidClientId) => return page_error(PageError::UnknownClient),
            // Another org's app: Salesforce's cross-org page, never a redirect to it.
            Err(refusal) => return cross_org_page(&refusal),
        },
        Err(e) => return web::api_error_page(e),
    };
    if !app.is_enabled() {
        return page_error(PageError::AppBlocked);
    }
    let registered = RegisteredRedirects::from_settings(&app.global);
    let given = client.redirect_uri.is_some();
    let redirect_uri = match &client.redirect_uri {
        Some(uri) => registered.resolve(Some(uri)).ok(),
        // Without a redirect_uri, the app's only callback URL is unambiguous (RFC 6749
        // §3.1.2.3); with several, nothing may be guessed.
        None => match app.global.callback_urls().as_slice() {
            [only] => RedirectUri::parse(only).ok(),
            _ => None,
        },
    };
    let Some(redirect_uri) = redirect_uri else {
        return page_error(PageError::RedirectUriMismatch);
    };

    // 2. From here on, errors go back to the client.
    let raw_type = web::param(&pairs, "response_type");
    let raw_state = web::param(&pairs, "state")
        .filter(|s| !s.is_empty() && s.len() <= authorize::MAX_STATE_LEN);
    let mut target = Target {
        redirect_uri: &redirect_uri,
        mode: ResponseMode::for_raw_request(raw_type, web::param(&pairs, "response_mode")),
        state: raw_state,
        issuer: &ctx.base_url,
        after_post,
    };
    let request = match authorize::parse(&pairs, app.global.pkce_required()) {
        Ok(r) => r,
        Err(e) => return target.error(&e),
    };
    target.mode = request.response_mode;
    target.state = request.state.as_deref();
    let scopes =
        match GrantedScopes::grant(request.scope.as_deref(), app.scopes(), &app.custom_scopes()) {
            Ok(s) => s,
            Err(e) => return target.error(&e),
        };
    if request.response_type.has_id_token() && !scopes.has_openid() {
        // OIDC Core §3.1.2.1: an ID token needs the openid scope.
        return target.error(&OAuthError::InvalidScope);
    }

    // `id_token_hint` (OIDC Core §3.1.2.1): an ID token of this org naming the user the client
    // expects. One that does not verify (its expiry aside) is the client's error; a session
    // of another user counts as no session. An empty one is absent (RFC 6749 §3.1).
    let hinted = match web::param(&pairs, "id_token_hint").filter(|h| !h.is_empty()) {
        Some(hint) => match id_token::verify_hint(state, ctx, hint).await {
            Ok(Some(claims)) => id_token::subject_user(&claims).map(str::to_owned),
            Ok(None) => {
                return target.error(&OAuthError::InvalidRequest(
                    RequestProblem::InvalidIdTokenHint,
                ));
            }
            Err(e) => return web::api_error_page(e),
        },
        None => None,
    };

    // 3. The user.
    let active = match web::session::current_for_oauth(state, ctx, headers).await {
        Ok(a) => a,
        Err(e) => return web::api_error_page(e),
    };
    // `max_age` (OIDC Core §3.1.2.1): a login more than that many seconds old is made again,
    // counted to the millisecond (1.9 s is more than 1); `max_age=0` always (the way back from
    // the login page drops it, so that cannot loop).
    let now = state.clock().now();
    let too_old = |a: &crate::session::Active| {
        request.max_age.is_some_and(|max| {
            max == 0 || now.millis() - a.session.created_at.millis() > max.saturating_mul(1000)
        })
    };
    let active = match active {
        Some(a)
            if !request.prompt.login
                && !too_old(&a)
                && hinted.as_ref().is_none_or(|id| a.user.id.as_str() == id) =>
        {
            a
        }
        _ if request.prompt.none => return target.error(&request.prompt.login_required()),
        _ => {
            return match to_login(ctx, &pairs, request.login_hint.as_deref()) {
                Some(response) => response,
                // The way back would not fit the login page's `startURL`: after the login the
                // user would land on the home page and the client would never hear back.
                None => target.error(&OAuthError::InvalidRequest(
                    RequestProblem::TooLongForLogin {
                        limit: web::start_url::MAX_LEN,
                    },
                )),
            };
        }
    };

    // The browser's address against the user's login IP ranges, as this app's IP relaxation
    // allows (`ip_relaxation`).
    let step = Step::Authorize {
        code: request.response_type.has_code(),
    };
    match ip_relaxation::check(state, &app, &active.user, step, address).await {
        Ok(()) => {}
        Err(GrantError::OAuth(e)) => return target.error(&e),
        Err(GrantError::Api(e)) => return web::api_error_page(e),
    }

    // 4. Permitted users and consent.
    // Only the consent form's POST decides; a decision in a GET query is ignored (the page is
    // shown instead), so a link cannot approve anything.
    let decision = if after_post {
        consent::decision(&pairs)
    } else {
        None
    };
    match app.permitted() {
        PermittedUsers::AdminApprovedPreAuthorized => {
            match permitted::is_preauthorized(state, &app, &active.user).await {
                Ok(true) => {}
                Ok(false) => return target.error(&OAuthError::NotAdminApproved),
                Err(e) => return grant_error_page(e),
            }
        }
        PermittedUsers::AllSelfAuthorized => {
            if let Some(decision) = decision {
                if !consent::verify(state, &active, &app, &scopes, &pairs) {
                    return web::error_page(
                        StatusCode::FORBIDDEN,
                        "Authorization failed",
                        "This approval did not come from this site's consent page. Start again from the app.",
                    );
                }
                if decision == consent::Decision::Deny {
                    tracing::info!(app = %app.name, user = %active.user.id, "user denied the app");
                    return target.error(&OAuthError::AccessDenied);
                }
                let now = state.clock().now();
                if let Err(e) = consent::record(state, &app, &active.user.id, &scopes, now).await {
                    return web::api_error_page(e.into());
                }
                tracing::info!(app = %app.name, user = %active.user.id, "user approved the app");
            } else {
                // Approved before, for every scope asked for now.
                let approved = match state
                    .store()
                    .approved_scopes(&app.org_id, &app.name, &active.user.id)
                    .await
                {
                    Ok(a) => {
                        a.is_some_and(|approved| consent::covers(approved.as_deref(), &scopes))
                    }
                    Err(e) => return web::api_error_page(e.into()),
                };
                if !approved || request.prompt.consent {
                    if request.prompt.none {
                        return target.error(&request.prompt.consent_required());
                    }
                    return consent::page(
                        state,
                        ctx,
                        &active,
                        &app,
                        &scopes,
                        &pairs,
                        request.display,
                    );
                }
            }
        }
    }

    // 5. The response.
    let gc = GrantContext {
        state,
        org: ctx,
        now: state.clock().now(),
        client: address,
    };
    let answer = respond(
        &gc,
        &app,
        &active,
        &request,
        &scopes,
        &redirect_uri,
        given,
        &target,
    )
    .await;
    match answer {
        Ok(response) => response,
        Err(GrantError::OAuth(e)) => target.error(&e),
        Err(GrantError::Api(e)) => web::api_error_page(e),
    }
}

/// Sends the browser to the login page, which comes back to this request. `prompt=login`,
/// `max_age` and `id_token_hint` are taken out of the way back (the user who logs in is the
/// one the request gets), so the loop ends. `None` when the way back is longer than a
/// `startURL` may be.
///
/// Anyone at a browser with a session could open that way back, or any authorization request
/// without `prompt=login`, and get an answer without logging in again: a client that needs a
/// fresh login must send `max_age` and check `auth_time` in the ID token (OIDC Core
/// §3.1.2.1), which says when the user really logged in.
fn to_login(ctx: &OrgContext, pairs: &[(String, String)], hint: Option<&str>) -> Option<Response> {
    let kept = pairs
        .iter()
        .filter(|(k, _)| {
            !CONSENT_FIELDS.contains(&k.as_str()) && k != "max_age" && k != "id_token_hint"
        })
        .filter_map(|(k, v)| {
            if k != "prompt" {
                return Some((k.as_str(), v.clone()));
            }
            let rest: Vec<&str> = v
                .split(' ')
                .filter(|w| !w.is_empty() && *w != "login" && *w != "select_account")
                .collect();
            (!rest.is_empty()).then(|| (k.as_str(), rest.join(" ")))
        });
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    let start = format!("{}/services/oauth2/authorize?{query}", web::base_path(ctx));
    (start.len() <= web::start_url::MAX_LEN)
        .then(|| web::login_redirect_with_hint(ctx, &start, hint))
}

fn grant_error_page(e: GrantError) -> Response {
    match e {
        GrantError::Api(e) => web::api_error_page(e),
        GrantError::OAuth(e) => web::error_page(
            StatusCode::BAD_REQUEST,
            "Authorization failed",
            &e.description(),
        ),
    }
}

/// Issues what the response type asks for and redirects with it.
#[allow(clippy::too_many_arguments)]
async fn respond(
    ctx: &GrantContext<'_>,
    app: &ClientApp,
    active: &Active,
    request: &AuthorizeRequest,
    scopes: &GrantedScopes,
    redirect_uri: &RedirectUri,
    given: bool,
    target: &Target<'_>,
) -> Result<Response, GrantError> {
    let user = &active.user;
    let auth_time = active.session.created_at;
    let scope = scopes.to_wire();
    match request.response_type {
        ResponseType::Code | ResponseType::CodeIdToken => {
            let code = tokens::authorization_code(ctx.state.rng());
            let challenge = request.code_challenge.as_ref();
            let store = ctx.state.store();
            store
                .create_authorization_code(&AuthorizationCodeRecord {
                    code_hash: code.hash.as_str().to_owned(),
                    org_id: app.org_id.clone(),
                    app_name: app.name.clone(),
                    consumer_id: app.consumer_id.clone(),
                    user_id: user.id.clone(),
                    redirect_uri: redirect_uri.as_str().to_owned(),
                    redirect_uri_given: given,
                    scopes: scope,
                    code_challenge: challenge.map(|c| c.as_str().to_owned()),
                    code_challenge_method: challenge.map(|c| c.method().to_owned()),
                    nonce: request.nonce.clone(),
                    auth_time,
                    issued_at: ctx.now,
                    expires_at: ctx.now.plus_minutes(AUTHORIZATION_CODE_MINUTES),
                    consumed_at: None,
                    replayed_at: None,
                    access_hash: None,
                    refresh_family: None,
                })
                .await?;
            tracing::info!(app = %app.name, user = %user.id, "authorization code issued");
            let mut params: Vec<(&str, &str)> = vec![("code", code.value.expose())];
            let id_token;
            if request.response_type.has_id_token() {
                id_token = id_token::issue(
                    ctx,
                    app,
                    user,
                    scopes,
                    &id_token::Context {
                        nonce: request.nonce.as_deref(),
                        auth_time: Some(auth_time),
                        access_token: None,
                        code: Some(code.value.expose()),
                    },
                )
                .await?;
                params.push(("id_token", id_token.expose()));
            }
            Ok(target.respond(&params))
        }
        ResponseType::Token | ResponseType::TokenIdToken => {
            // The user-agent flow (RFC 6749 §4.2.2): no refresh token, whatever the scopes
            // (the RFC forbids one here, although Salesforce may send it).
            let response = issue::access_token(ctx, app, user, scopes, None)
                .await?
                .signed(app.secret(), ctx.now);
            // Spec §1.8: the user-agent flow returns an ID token when `openid` was granted; here
            // only when the request has a `nonce` too (OIDC Core §3.2.2.11 requires one in an
            // ID token sent through the browser: without it, one could be replayed into
            // another login). `token id_token` always has one.
            let id_token: Option<Secret> = if scopes.has_openid() && request.nonce.is_some() {
                Some(
                    id_token::issue(
                        ctx,
                        app,
                        user,
                        scopes,
                        &id_token::Context {
                            nonce: request.nonce.as_deref(),
                            auth_time: Some(auth_time),
                            access_token: Some(response.access_token.expose()),
                            code: None,
                        },
                    )
                    .await?,
                )
            } else {
                None
            };
            let mut params: Vec<(&str, &str)> = response
                .fields()
                .into_iter()
                .filter(|(k, _)| *k != "id_token" && *k != "refresh_token")
                .collect();
            if let Some(t) = &id_token {
                params.push(("id_token", t.expose()));
            }
            Ok(target.respond(&params))
        }
    }
}
