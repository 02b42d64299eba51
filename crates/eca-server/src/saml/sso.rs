//! SP-initiated single sign-on (SAML Profiles §4.1): `GET {base}/idp/endpoint/HttpRedirect`
//! (HTTP-Redirect binding, Bindings §3.4) and `POST {base}/idp/endpoint/HttpPost` (HTTP-POST
//! binding, §3.5), and `GET {base}/idp/endpoint/resume`, where the login page sends the
//! browser back.
//!
//! The order of checks follows `eca_saml`'s: decode (bounded), find the service provider by
//! the request's unverified `Issuer`, verify the signature as that SP requires and read the
//! request from exactly the verified element, validate it against the registration and the
//! clock, check the app is on, then the user. Until the SP and its registered ACS URL are
//! known, every error is a page; after that, errors go back to the ACS URL as SAML status
//! codes where [`eca_saml::SamlError::disposition`] allows.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_saml::authn_request::{AuthnRequest, IncomingRequest, LoginAction};
use eca_saml::metadata::{SSO_POST_PATH, SSO_REDIRECT_PATH};
use eca_saml::{RequestId, SamlError};

use super::registry::{self, SamlApp};
use super::respond::{self, Failure, ReplyTo};
use super::ticket::{self, Pending};
use super::{base_path, form_pairs, param};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::state::AppState;

/// Where the login page returns to.
pub const RESUME_PATH: &str = "/idp/endpoint/resume";

/// `GET /idp/endpoint/HttpRedirect?SAMLRequest=…[&RelayState=…][&SigAlg=…&Signature=…]`.
/// The raw query goes to the engine: the signature is over the parameters as encoded
/// (Bindings §3.4.4.1).
pub async fn redirect(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let decoded = IncomingRequest::from_redirect_query(query.as_deref().unwrap_or(""));
    let endpoint = format!("{}{SSO_REDIRECT_PATH}", ctx.base_url);
    finish(
        &state,
        &ctx,
        start(
            &state,
            &ctx,
            &headers,
            client,
            decoded,
            &endpoint,
            Binding::Redirect,
        )
        .await,
    )
    .await
}

/// How the AuthnRequest came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    /// A top-level GET: the browser sends the session cookie (`SameSite=Lax`).
    Redirect,
    /// A form posted from the SP's site: a `SameSite=Lax` cookie is not sent with it, so the
    /// browser's session cannot be seen here. The checked request continues at `resume`, a
    /// GET of ours, where it can (`hop`).
    Post,
}

/// `POST /idp/endpoint/HttpPost` with the form fields `SAMLRequest` and `RelayState`.
pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let decoded = match param(&pairs, "SAMLRequest") {
        Some(request) => IncomingRequest::from_post_form(request, param(&pairs, "RelayState")),
        None => Err(SamlError::Malformed("no SAMLRequest")),
    };
    let endpoint = format!("{}{SSO_POST_PATH}", ctx.base_url);
    finish(
        &state,
        &ctx,
        start(
            &state,
            &ctx,
            &headers,
            client,
            decoded,
            &endpoint,
            Binding::Post,
        )
        .await,
    )
    .await
}

/// `GET /idp/endpoint/resume?ticket=…`: back from the login page.
pub async fn resume(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = form_pairs(query.as_deref().unwrap_or("").as_bytes());
    let outcome = match param(&pairs, "ticket") {
        Some(t) => resume_ticket(&state, &ctx, &headers, client, t).await,
        None => Err(page(
            StatusCode::BAD_REQUEST,
            "The ticket parameter is missing.",
        )),
    };
    finish(&state, &ctx, outcome).await
}

async fn finish(
    state: &AppState,
    ctx: &OrgContext,
    outcome: Result<Response, Failure>,
) -> Response {
    match outcome {
        Ok(r) => r,
        Err(f) => f.render(state, ctx).await,
    }
}

fn page(status: StatusCode, message: &str) -> Failure {
    Failure::Page {
        status,
        message: message.to_owned(),
    }
}

async fn start(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    client: IpAddr,
    decoded: Result<IncomingRequest, SamlError>,
    endpoint: &str,
    binding: Binding,
) -> Result<Response, Failure> {
    let incoming = decoded.map_err(|e| Failure::saml(e, None))?;
    // Only to find the SP whose certificate then checks the signature.
    let issuer = incoming
        .issuer_unverified()
        .map_err(|e| Failure::saml(e, None))?
        .ok_or(Failure::saml(SamlError::UnknownServiceProvider, None))?;
    let app = registry::by_entity_id(state, &ctx.org.id, issuer.as_str())
        .await?
        .ok_or(Failure::saml(SamlError::UnknownServiceProvider, None))?;
    let sp = app.service_provider().map_err(|e| Failure::saml(e, None))?;
    // Bounded by the binding (`eca_saml::binding::MAX_RELAY_STATE`).
    let relay_state = incoming.relay_state().map(str::to_owned);
    let mut to = ReplyTo {
        sp,
        in_response_to: None,
        relay_state,
        subject: None,
    };
    let request = incoming
        .verify_authn_request(&to.sp)
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    to.in_response_to = Some(request.id.clone());
    to.subject = request.subject_name_id.clone();
    let now = state.clock().now();
    request
        .validate(&to.sp, endpoint, now)
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    app.check_enabled()
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    if binding == Binding::Post {
        // ForceAuthn needs no session (and IsPassive with it fails at once, below); every
        // other request needs to see it, which this cross-site POST cannot.
        if request.is_passive && request.force_authn {
            return Err(Failure::saml(SamlError::NoPassive, Some(&to)));
        }
        if request.force_authn {
            return to_login(state, ctx, &app, &to, &request);
        }
        // 303: the browser follows with a GET (RFC 9110 §15.4.4).
        let resume = resume_url(state, ctx, &app, &to, &request)?;
        return crate::web::html::see_other(&resume).ok_or_else(|| {
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The resume URL is not valid.",
            )
        });
    }
    let session = crate::web::session::current(state, ctx, headers, client).await?;
    let action = request
        .login_action(session.is_some())
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    match (action, session) {
        (LoginAction::UseSession, Some(active)) => {
            respond::success(state, ctx, &app, &to, &active).await
        }
        _ => to_login(state, ctx, &app, &to, &request),
    }
}

/// Sends the browser to the login page with a ticket to come back with.
fn to_login(
    state: &AppState,
    ctx: &OrgContext,
    app: &SamlApp,
    to: &ReplyTo,
    request: &AuthnRequest,
) -> Result<Response, Failure> {
    Ok(crate::web::login_redirect(
        ctx,
        &resume_url(state, ctx, app, to, request)?,
    ))
}

/// `resume` with a sealed ticket of the checked request (path only, for the login page's
/// `startURL`, which must stay on this site).
fn resume_url(
    state: &AppState,
    ctx: &OrgContext,
    app: &SamlApp,
    to: &ReplyTo,
    request: &AuthnRequest,
) -> Result<String, Failure> {
    let pending = Pending {
        app: app.name.clone(),
        entity_id: to.sp.entity_id.as_str().to_owned(),
        request_id: request.id.as_str().to_owned(),
        relay_state: to.relay_state.clone(),
        force_authn: request.force_authn,
        is_passive: request.is_passive,
        subject: request.subject_name_id.clone(),
        received_at: state.clock().now().millis(),
    };
    let too_large = || Failure::saml(SamlError::TooLarge, Some(to));
    let ticket = ticket::seal(state, &ctx.org.id, &pending).ok_or_else(too_large)?;
    let url = format!("{}{RESUME_PATH}?ticket={ticket}", base_path(ctx));
    // The login page drops a longer `startURL` (and so the request) without a word.
    if url.len() > crate::web::start_url::MAX_LEN {
        return Err(too_large());
    }
    Ok(url)
}

async fn resume_ticket(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    client: IpAddr,
    ticket: &str,
) -> Result<Response, Failure> {
    let now = state.clock().now();
    let pending: Pending = ticket::open(state, &ctx.org.id, ticket, now).ok_or_else(|| {
        page(
            StatusCode::BAD_REQUEST,
            "This sign-on request has expired or is not valid here; go back to the application and sign in again.",
        )
    })?;
    let app = registry::by_app(state, &ctx.org.id, &pending.app)
        .await?
        .ok_or(Failure::saml(SamlError::UnknownServiceProvider, None))?;
    let sp = app.service_provider().map_err(|e| Failure::saml(e, None))?;
    // A deploy that changed the entity id in the meantime voids the request.
    if sp.entity_id.as_str() != pending.entity_id {
        return Err(Failure::saml(SamlError::UnknownServiceProvider, None));
    }
    let to = ReplyTo {
        sp,
        in_response_to: Some(
            RequestId::parse(&pending.request_id).map_err(|e| Failure::saml(e, None))?,
        ),
        relay_state: pending.relay_state.clone(),
        subject: pending.subject.clone(),
    };
    app.check_enabled()
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    let Some(active) = crate::web::session::current(state, ctx, headers, client).await? else {
        // SAML Core §3.4.1 IsPassive: no session, and no login page either.
        if pending.is_passive {
            return Err(Failure::saml(SamlError::NoPassive, Some(&to)));
        }
        // Not logged in yet (the login page was left): back to it, same ticket.
        let start_url = format!("{}{RESUME_PATH}?ticket={ticket}", base_path(ctx));
        return Ok(crate::web::login_redirect(ctx, &start_url));
    };
    // SAML Core §3.4.1 ForceAuthn: the user must have authenticated after the request came.
    // A session older than that means the login page did not authenticate anew; answering
    // AuthnFailed rather than sending the browser round again avoids a loop.
    if pending.force_authn && active.session.created_at.millis() < pending.received_at {
        return Err(Failure::saml(SamlError::AuthnFailed, Some(&to)));
    }
    respond::success(state, ctx, &app, &to, &active).await
}
