//! SP-initiated single logout (SAML Profiles §4.4): `GET` (HTTP-Redirect binding) and `POST`
//! (HTTP-POST binding) `{base}/services/auth/idp/saml2/logout`.
//!
//! The browser's IdP web session ends when it belongs to the user the LogoutRequest names
//! (its `NameID` is what this SP knows the user by) and, when the request lists
//! `SessionIndex` values, one of them is this session's (SAML Core §3.7.3.2). An unsigned
//! request must list it: any page could send one that names the user. The signed
//! LogoutResponse goes to the SP's registered `singleLogoutUrl` only. Without a session the
//! answer is still Success: the user is logged out (§3.7.3.2 asks the IdP to report success
//! when the principal has no session to end).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_core::Timestamp;
use eca_saml::authn_request::IncomingRequest;
use eca_saml::binding::Binding;
use eca_saml::logout::{self, LogoutDelivery, LogoutRequest};
use eca_saml::metadata::SLO_PATH;
use eca_saml::response::{SubjectSource, name_id_value};
use eca_saml::{RequestId, SamlError, ServiceProvider, Status, StatusCode as SamlStatus};

use super::keys;
use super::page;
use super::registry;
use super::respond::{self, Failure, idp_entity_id};
use super::ticket::{self, PendingLogout};
use super::{base_path, form_pairs, param};
use crate::oauth::attributes::Subject;
use crate::org::OrgContext;
use crate::session::Active;
use crate::state::AppState;

pub async fn get(
    State(state): State<AppState>,
    ctx: OrgContext,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let decoded = IncomingRequest::from_redirect_query(query.as_deref().unwrap_or(""));
    match run(&state, &ctx, &headers, decoded, false).await {
        Ok(r) => r,
        Err(f) => f.render(&state, &ctx).await,
    }
}

pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let decoded = match param(&pairs, "SAMLRequest") {
        Some(request) => IncomingRequest::from_post_form(request, param(&pairs, "RelayState")),
        None => Err(SamlError::Malformed("no SAMLRequest")),
    };
    match run(&state, &ctx, &headers, decoded, true).await {
        Ok(r) => r,
        Err(f) => f.render(&state, &ctx).await,
    }
}

/// `GET {SLO_PATH}/continue?ticket=…`: a verified POST-binding LogoutRequest, continued
/// where the browser's `SameSite=Lax` session cookie is sent.
pub async fn resume(
    State(state): State<AppState>,
    ctx: OrgContext,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = form_pairs(query.as_deref().unwrap_or("").as_bytes());
    match continue_logout(&state, &ctx, &headers, param(&pairs, "ticket")).await {
        Ok(r) => r,
        Err(f) => f.render(&state, &ctx).await,
    }
}

async fn continue_logout(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<Response, Failure> {
    let now = state.clock().now();
    let expired = || {
        page_failure(SamlError::Malformed(
            "the logout request has expired or is not valid here",
        ))
    };
    let pending: PendingLogout = ticket
        .and_then(|t| ticket::open(state, &ctx.org.id, t, now))
        .ok_or_else(expired)?;
    let app = registry::by_app(state, &ctx.org.id, &pending.app)
        .await?
        .ok_or_else(|| page_failure(SamlError::UnknownServiceProvider))?;
    let sp = app.service_provider().map_err(page_failure)?;
    // A deploy that changed the entity id in the meantime voids the request.
    if sp.entity_id.as_str() != pending.entity_id || sp.single_logout_url.is_none() {
        return Err(page_failure(SamlError::UnknownServiceProvider));
    }
    let request = LogoutRequest {
        id: RequestId::parse(&pending.request_id).map_err(page_failure)?,
        issue_instant: Timestamp::from_millis(pending.received_at),
        issuer: Some(sp.entity_id.clone()),
        destination: None,
        not_on_or_after: None,
        name_id: pending.name_id.clone(),
        name_id_format: None,
        session_indexes: pending.session_indexes.clone(),
        binding: Binding::Post,
        is_signed: pending.is_signed,
    };
    let status = match app.check_enabled() {
        Err(e) => e.status(),
        Ok(()) => session_status(state, ctx, headers, &sp, &request).await?,
    };
    respond_to(
        state,
        ctx,
        &sp,
        &request,
        status,
        pending.relay_state.as_deref(),
        now,
    )
    .await
}

/// Errors before a LogoutRequest is verified are pages: a LogoutResponse must answer a
/// request we have read from a verified element.
fn page_failure(e: SamlError) -> Failure {
    Failure::Page {
        status: StatusCode::BAD_REQUEST,
        message: format!("Single logout failed: {e}."),
    }
}

async fn run(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    decoded: Result<IncomingRequest, SamlError>,
    posted: bool,
) -> Result<Response, Failure> {
    let incoming = decoded.map_err(page_failure)?;
    let issuer = incoming
        .issuer_unverified()
        .map_err(page_failure)?
        .ok_or_else(|| page_failure(SamlError::UnknownServiceProvider))?;
    let app = registry::by_entity_id(state, &ctx.org.id, issuer.as_str())
        .await?
        .ok_or_else(|| page_failure(SamlError::UnknownServiceProvider))?;
    let sp = app.service_provider().map_err(page_failure)?;
    if sp.single_logout_url.is_none() {
        return Err(page_failure(SamlError::Configuration(
            "the app has no singleLogoutUrl",
        )));
    }
    let request = incoming.verify_logout_request(&sp).map_err(page_failure)?;
    let relay_state = incoming.relay_state();
    let endpoint = format!("{}{SLO_PATH}", ctx.base_url);
    let now = state.clock().now();
    let status = match request
        .validate(&sp, &endpoint, now)
        .and_then(|()| app.check_enabled())
    {
        Err(e) => e.status(),
        // A form posted from the SP's site carries no `SameSite=Lax` cookie: the session is
        // ended at a GET of ours, which the browser follows with it (303, RFC 9110 §15.4.4).
        Ok(()) if posted => {
            let pending = PendingLogout {
                app: app.name.clone(),
                entity_id: sp.entity_id.as_str().to_owned(),
                request_id: request.id.as_str().to_owned(),
                name_id: request.name_id.clone(),
                session_indexes: request.session_indexes.clone(),
                is_signed: request.is_signed,
                relay_state: relay_state.map(str::to_owned),
                received_at: now.millis(),
            };
            let ticket = ticket::seal(state, &ctx.org.id, &pending)
                .ok_or_else(|| page_failure(SamlError::TooLarge))?;
            let url = format!("{}{CONTINUE_PATH}?ticket={ticket}", base_path(ctx));
            return crate::web::html::see_other(&url).ok_or_else(|| {
                page_failure(SamlError::Malformed("the logout ticket does not fit a URL"))
            });
        }
        Ok(()) => session_status(state, ctx, headers, &sp, &request).await?,
    };
    respond_to(state, ctx, &sp, &request, status, relay_state, now).await
}

/// Where a POST-binding LogoutRequest continues ([`resume`]).
pub const CONTINUE_PATH: &str = "/services/auth/idp/saml2/logout/continue";

/// The status of a valid request: Success without a session, else what ending it gives.
async fn session_status(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    sp: &ServiceProvider,
    request: &LogoutRequest,
) -> Result<Status, Failure> {
    match crate::web::session::current_from_anywhere(state, ctx, headers).await? {
        None => Ok(logout::SUCCESS),
        Some(active) => end_session(state, ctx, sp, request, &active).await,
    }
}

/// The signed LogoutResponse to the SP's registered `singleLogoutUrl`.
async fn respond_to(
    state: &AppState,
    ctx: &OrgContext,
    sp: &ServiceProvider,
    request: &LogoutRequest,
    status: Status,
    relay_state: Option<&str>,
    now: Timestamp,
) -> Result<Response, Failure> {
    let keys = keys::org_keys(state, &ctx.org.id).await?;
    let delivery = logout::build_logout_response(
        sp,
        &idp_entity_id(ctx),
        request,
        status,
        relay_state,
        &keys.signing,
        now,
        state.rng(),
    )
    .map_err(page_failure)?;
    Ok(match delivery {
        LogoutDelivery::Redirect { url } => page::redirect(&url),
        LogoutDelivery::Post {
            url,
            saml_response,
            relay_state,
        } => {
            let mut fields = vec![("SAMLResponse", saml_response.as_str())];
            if let Some(rs) = relay_state.as_deref() {
                fields.push(("RelayState", rs));
            }
            page::post_form(&url, &fields)
        }
    })
}

/// Ends the browser's session when the request names its user (and, if it lists session
/// indexes, this session); the status to answer with.
async fn end_session(
    state: &AppState,
    ctx: &OrgContext,
    sp: &ServiceProvider,
    request: &LogoutRequest,
    active: &Active,
) -> Result<Status, Failure> {
    let user = &active.user;
    let facts = respond::UserFacts::load(state, user).await?;
    let subject = Subject {
        user,
        org: &ctx.org,
        profile_name: facts.profile_name.as_deref(),
    };
    let custom = sp
        .subject_custom_attribute
        .as_deref()
        .and_then(|f| respond::custom_subject(Some(f), &subject));
    let source = SubjectSource {
        user_id: &user.id,
        username: &user.username,
        federation_id: user.fields.federation_id.as_deref(),
        custom_attribute: custom.as_deref(),
    };
    let persistent = respond::persistent_key(state, ctx)?;
    let is_user = name_id_value(sp, &source, &persistent).is_ok_and(|v| v == request.name_id);
    let index = respond::session_index(state, ctx, active, &sp.entity_id);
    if !is_user {
        // SAML Core §3.7.3.2: the principal named is not the one logged in here.
        return Ok(Status {
            top: SamlStatus::Requester,
            second: Some(SamlStatus::UnknownPrincipal),
        });
    }
    // Profiles §4.4.4.1: the requester must authenticate itself. An unsigned request (an SP
    // without a `certificate`) could come from any page the browser visits: it ends the
    // session only by naming it, with the SessionIndex that only an SP which received this
    // session's assertion knows.
    if request.session_indexes.is_empty() && !request.is_signed {
        tracing::info!(org = %ctx.org.id, user = %user.id, "unsigned SAML LogoutRequest without a SessionIndex: the session stays");
        return Ok(Status {
            top: SamlStatus::Requester,
            second: Some(SamlStatus::RequestDenied),
        });
    }
    let is_session = request.session_indexes.is_empty() || request.session_indexes.contains(&index);
    if is_session {
        state
            .store()
            .delete_session(&active.session.id_hash)
            .await
            .map_err(crate::error::ApiError::from)?;
        tracing::info!(org = %ctx.org.id, user = %user.id, "IdP session ended by SAML single logout");
    }
    Ok(logout::SUCCESS)
}
