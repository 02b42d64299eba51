//! The device flow (RFC 8628; `spec/oauth-and-connect.md` §1.9 E), both forms:
//! - the device authorization request: Salesforce's `response_type=device_code` on the token
//!   endpoint, or `POST {base}/services/oauth2/device/authorize` (RFC 8628 §3.1, named in
//!   discovery as `device_authorization_endpoint`; the path is ours, Salesforce's is not known);
//! - the poll: `grant_type=device` with `code=` (Salesforce) or
//!   `grant_type=urn:ietf:params:oauth:grant-type:device_code` with `device_code=` (RFC 8628
//!   §3.4), answered `authorization_pending` / `slow_down` (HTTP 400), `access_denied`,
//!   `expired_token`, or the tokens.
//!
//! The app needs `isDeviceFlowEnabled`. Device clients are public (the CLI sends no secret):
//! a presented secret must match, none is fine. The user enters the code on the activation
//! page (`activate`).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{ACCEPT, AUTHORIZATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_core::Secret;
use eca_oauth::device::{
    DEVICE_CODE_MINUTES, DeviceAuthorization, DeviceState, INTERVAL_SECS, poll_outcome,
};
use eca_oauth::response::format_param;
use eca_oauth::{
    ClientCredentials, GrantType, GrantedScopes, OAuthError, ResponseFormat, TokenHash,
    TokenResponse, UserCode, client_auth, request::parse_device_authorization, tokens,
};
use eca_store::{DeviceCodeRecord, DeviceStatus, StoreError};

use super::client::{self, SecretRule};
use super::ip_relaxation::{self, Step};
use super::issue::{self, GrantContext};
use super::registry::ClientApp;
use super::{GrantError, authorization_code, form, id_token, permitted, reply};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::state::AppState;

/// The activation page's path under the org's base URL.
pub const ACTIVATION_PATH: &str = "/setup/connect";

/// Whether the app has the device flow switched on.
fn enabled(app: &ClientApp) -> bool {
    app.global.is_device_flow_enabled.unwrap_or(false)
}

/// A device authorization request; `rfc` adds `expires_in` and `verification_uri_complete`.
pub async fn authorize(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    scope: Option<&str>,
    rfc: bool,
) -> Result<DeviceAuthorization, GrantError> {
    let app = client::authenticate(
        ctx.state,
        &ctx.org.org.id,
        credentials,
        SecretRule::IfPresented,
    )
    .await?;
    if !enabled(&app) {
        return Err(OAuthError::FlowNotEnabled(GrantType::DeviceCode).into());
    }
    let scopes = GrantedScopes::grant(scope, app.scopes(), &app.custom_scopes())?;
    let store = ctx.state.store();
    // A user code can collide with a live one (34.6 bits): draw again, a few times.
    for _ in 0..3 {
        let device = tokens::device_code(ctx.state.rng());
        let user_code = UserCode::generate(ctx.state.rng());
        let record = DeviceCodeRecord {
            device_hash: device.hash.as_str().to_owned(),
            user_code_hash: user_code.hash().as_str().to_owned(),
            org_id: app.org_id.clone(),
            app_name: app.name.clone(),
            consumer_id: app.consumer_id.clone(),
            scopes: scopes.to_wire(),
            issued_at: ctx.now,
            expires_at: ctx.now.plus_minutes(DEVICE_CODE_MINUTES),
            interval_secs: INTERVAL_SECS,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            user_id: None,
            decided_at: None,
            authenticated_at: None,
        };
        match store.create_device_code(&record).await {
            Ok(()) => {
                let verification_uri = format!("{}{ACTIVATION_PATH}", ctx.org.base_url);
                let display = user_code.display();
                tracing::info!(app = %app.name, "device code issued");
                return Ok(DeviceAuthorization {
                    device_code: device.value,
                    verification_uri_complete: rfc
                        .then(|| format!("{verification_uri}?user_code={display}")),
                    expires_in: rfc.then_some(DEVICE_CODE_MINUTES * 60),
                    user_code: display,
                    verification_uri,
                    interval: INTERVAL_SECS,
                });
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::error::ApiError::Internal("no free user code after three draws".into()).into())
}

/// A poll with a device code (RFC 8628 §3.4, §3.5).
pub async fn poll(
    ctx: &GrantContext<'_>,
    credentials: Option<&ClientCredentials>,
    device_code: &Secret,
) -> Result<TokenResponse, GrantError> {
    let app = client::authenticate(
        ctx.state,
        &ctx.org.org.id,
        credentials,
        SecretRule::IfPresented,
    )
    .await?;
    if !enabled(&app) {
        return Err(OAuthError::FlowNotEnabled(GrantType::DeviceCode).into());
    }
    let store = ctx.state.store();
    let hash = TokenHash::of(device_code.expose());
    let Some(record) = store
        .poll_device_code(hash.as_str(), ctx.now)
        .await?
        .filter(|r| r.org_id == app.org_id && r.consumer_id == app.consumer_id)
    else {
        return Err(OAuthError::InvalidAuthorizationCode.into());
    };
    let state = match record.status {
        DeviceStatus::Pending => DeviceState::Pending,
        DeviceStatus::Approved => DeviceState::Approved,
        DeviceStatus::Denied => DeviceState::Denied,
        // Another poll is collecting the tokens.
        DeviceStatus::Issuing | DeviceStatus::Consumed => DeviceState::Consumed,
    };
    poll_outcome(
        state,
        record.expires_at,
        record.last_polled_at,
        record.interval_secs,
        ctx.now,
    )?;
    let user = match &record.user_id {
        Some(id) => store.user(id).await?.filter(|u| u.org_id == app.org_id),
        None => None,
    };
    let Some(user) = user else {
        return Err(OAuthError::InvalidAuthorizationCode.into());
    };
    // Checked before the code is used up: a poll refused for its address (or while the user
    // is not permitted) leaves the approval for a later poll until the code expires.
    permitted::check_still_permitted(ctx.state, &app, &user).await?;
    ip_relaxation::check(ctx.state, &app, &user, Step::Device, ctx.client).await?;
    // Approved: exactly one poll gets the tokens.
    if !store.consume_device_code(hash.as_str()).await? {
        return Err(OAuthError::InvalidAuthorizationCode.into());
    }
    let scopes = GrantedScopes::from_wire(&record.scopes);
    let refresh = authorization_code::refresh_token(ctx, &app, &user.id, &scopes).await?;
    let mut response = issue::access_token(
        ctx,
        &app,
        &user,
        &scopes,
        refresh.as_ref().map(|(_, hash, _)| hash.as_str()),
    )
    .await?
    .signed(app.secret(), ctx.now);
    // Written, then recorded, as a code exchange does (`authorization_code::grant`): a
    // revocation that denied the code meanwhile gets the tokens back.
    ctx.state.token_writer().sync().await;
    if !store.record_device_tokens(hash.as_str()).await? {
        let access_hash = tokens::access_token_key(response.access_token.expose());
        let family = refresh.as_ref().map(|(_, _, family)| family.as_str());
        authorization_code::take_back(ctx, access_hash.as_str(), family).await?;
        return Err(OAuthError::AccessDenied.into());
    }
    let about = id_token::Context {
        // When the approving user logged in (OpenID Connect Core §2), not when they approved;
        // codes decided before that was recorded fall back to the decision.
        auth_time: record.authenticated_at.or(record.decided_at),
        ..id_token::Context::default()
    };
    id_token::attach(ctx, &app, &user, &scopes, &mut response, about).await?;
    response.refresh_token = refresh.map(|(value, _, _)| value);
    tracing::info!(app = %app.name, user = %user.id, "device code exchanged");
    Ok(response)
}

/// `POST {base}/services/oauth2/device/authorize`: the RFC 8628 §3.1 endpoint.
pub async fn endpoint(
    State(state): State<AppState>,
    org: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let body = match form::read(body) {
        Ok(body) => body,
        Err(e) => return reply::error(e.into(), None, ResponseFormat::negotiate(None, accept)),
    };
    let pairs = form::body_pairs(&headers, &body);
    let format = ResponseFormat::negotiate(format_param(&pairs), accept);
    let ctx = GrantContext {
        state: &state,
        org: &org,
        now: state.clock().now(),
        client,
    };
    let mut method = None;
    let outcome = async {
        let parsed = parse_device_authorization(&pairs)?;
        let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let credentials = client_auth::extract(
            authorization,
            parsed.client_id.as_deref(),
            parsed.client_secret.as_ref().map(|s| s.expose()),
        )?;
        method = credentials.as_ref().map(|c| c.method);
        let scope = match &parsed.request {
            eca_oauth::TokenRequest::DeviceAuthorization { scope } => scope.clone(),
            _ => None,
        };
        authorize(&ctx, credentials.as_ref(), scope.as_deref(), true).await
    }
    .await;
    match outcome {
        Ok(answer) => reply::body(StatusCode::OK, format, answer.render(format)),
        Err(e) => reply::error(e, method, format),
    }
}
