//! The device activation page, `{base}/setup/connect` (RFC 8628 §3.3; the path of spec §1
//! for Salesforce's page): the logged-in user types the user code shown on the device, sees
//! the app and its scopes, and approves or denies.
//!
//! - Not logged in → the login page, which comes back here (with `?user_code=` kept, for
//!   `verification_uri_complete`).
//! - Every POST carries a CSRF token bound to the web session.
//! - Attempt limits (RFC 8628 §5.1): every wrong or expired code counts as a failure of the
//!   client address in the login limiter, so one address gets the same small number of tries
//!   a minute for codes as for passwords; codes expire after ten minutes.
//! - Admin-approved apps need the user pre-authorized; self-authorized apps record the
//!   approval (the device flow's consent).
//! - The browser's address must pass the user's login IP ranges as the app's IP relaxation
//!   allows (`super::ip_relaxation`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_metadata::model::PermittedUsers;
use eca_oauth::{GrantedScopes, UserCode};
use eca_store::{DeviceCodeRecord, DeviceStatus};

use super::device::ACTIVATION_PATH;
use super::ip_relaxation::{self, Step};
use super::{permitted, registry};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::session::Active;
use crate::state::AppState;
use crate::web::csrf::{self, Form};
use crate::web::html::{self, escape};
use crate::web::{self, base_path};

const BAD_CODE: &str = "That code is not valid or has expired. Check the code on your device.";
const TOO_MANY: &str = "Too many wrong codes from your address. Wait a minute and try again.";
const TOO_MANY_FOR_USER: &str =
    "Too many wrong codes from your account. Wait a quarter of an hour and try again.";

/// Wrong user codes one user may enter per [`WRONG_CODES_WINDOW_MS`] on a node, from any
/// address: the per-address limit alone would give an attacker with many addresses (an IPv6
/// /48 is 65,536 networks of /64) as many budgets (RFC 8628 §5.1: user codes rely on rate
/// limiting).
pub const WRONG_CODES_PER_USER: u32 = 10;
pub const WRONG_CODES_WINDOW_MS: i64 = 15 * 60 * 1000;

/// `GET {base}/setup/connect[?user_code=XXXX-XXXX]`.
pub async fn get(
    State(state): State<AppState>,
    ctx: OrgContext,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = web::pairs(query.unwrap_or_default().as_bytes());
    let code = web::param(&query, "user_code").unwrap_or("");
    let active = match web::session::current_for_oauth(&state, &ctx, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return to_login(&ctx, code),
        Err(e) => return web::api_error_page(e),
    };
    code_form(&state, &ctx, &active, code, None, StatusCode::OK)
}

/// `POST {base}/setup/connect`: `user_code`, `csrf_token`, and `oaapprove` or `oadeny` once
/// the app has been shown.
pub async fn post(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = web::pairs(&body);
    let typed = web::param(&form, "user_code").unwrap_or("");
    let active = match web::session::current_for_oauth(&state, &ctx, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return to_login(&ctx, typed),
        Err(e) => return web::api_error_page(e),
    };
    let now = state.clock().now();
    let token = web::param(&form, "csrf_token").unwrap_or("");
    if !csrf::verify(&state, Form::Device, &active.session.id_hash, token, now) {
        return web::error_page(
            StatusCode::FORBIDDEN,
            "Connection refused",
            "This form did not come from this site. Open the activation page again.",
        );
    }
    // Counted now, so a burst of guesses sent at once gets no more than the limit; a code that
    // is found gives its count back.
    let Some(attempt) = state.limiter().try_begin(client, now) else {
        return code_form(
            &state,
            &ctx,
            &active,
            typed,
            Some(TOO_MANY),
            StatusCode::TOO_MANY_REQUESTS,
        );
    };
    let Some(user_attempt) = state
        .user_code_limiter()
        .try_begin(active.user.id.clone(), now)
    else {
        state.limiter().succeeded(attempt);
        return code_form(
            &state,
            &ctx,
            &active,
            typed,
            Some(TOO_MANY_FOR_USER),
            StatusCode::TOO_MANY_REQUESTS,
        );
    };
    let record = match UserCode::parse(typed) {
        Some(code) => match state
            .store()
            .device_code_by_user_code(code.hash().as_str())
            .await
        {
            Ok(r) => r.filter(|r| r.org_id == ctx.org.id).map(|r| (code, r)),
            Err(e) => return web::api_error_page(e.into()),
        },
        None => None,
    };
    if record.is_some() {
        state.limiter().succeeded(attempt);
        state.user_code_limiter().succeeded(user_attempt);
    }
    let (code, record) = match record {
        Some((code, r)) if r.status == DeviceStatus::Pending && r.expires_at > now => (code, r),
        // A real code of this org, used or expired: the same answer as a wrong one, but no
        // guess to count (a reloaded result page posts the approved code again, and the
        // limiter is shared with password logins from the address).
        Some(_) => {
            tracing::info!(%client, "device user code already used or expired");
            return code_form(&state, &ctx, &active, typed, Some(BAD_CODE), StatusCode::OK);
        }
        None => {
            tracing::info!(%client, "wrong device user code");
            return code_form(&state, &ctx, &active, typed, Some(BAD_CODE), StatusCode::OK);
        }
    };
    let app = match registry::by_consumer_id(&state, &record.consumer_id).await {
        Ok(Some(app)) if app.is_enabled() && app.org_id == ctx.org.id => app,
        Ok(_) => {
            return web::error_page(
                StatusCode::BAD_REQUEST,
                "Connection refused",
                "The app of this code is not available.",
            );
        }
        Err(e) => return web::api_error_page(e),
    };
    // The browser's address against the user's login IP ranges, as the app's IP relaxation
    // allows (`ip_relaxation`); the device's own polls are checked again at the token endpoint.
    match ip_relaxation::check(&state, &app, &active.user, Step::Device, client).await {
        Ok(()) => {}
        Err(super::GrantError::Api(e)) => return web::api_error_page(e),
        Err(super::GrantError::OAuth(e)) => {
            return web::error_page(
                StatusCode::FORBIDDEN,
                "Connection refused",
                &format!(
                    "You can't connect this app from your address: {}.",
                    e.description()
                ),
            );
        }
    }
    let permitted = match app.permitted() {
        PermittedUsers::AdminApprovedPreAuthorized => {
            permitted::is_preauthorized(&state, &app, &active.user).await
        }
        PermittedUsers::AllSelfAuthorized => Ok(true),
    };
    match permitted {
        Ok(true) => {}
        Ok(false) => {
            return web::error_page(
                StatusCode::FORBIDDEN,
                "Connection refused",
                "You are not admin approved to use this app.",
            );
        }
        Err(super::GrantError::Api(e)) => return web::api_error_page(e),
        Err(super::GrantError::OAuth(e)) => {
            return web::error_page(
                StatusCode::BAD_REQUEST,
                "Connection refused",
                &e.description(),
            );
        }
    }
    let approve = match super::consent::decision(&form) {
        None => return approval_page(&state, &ctx, &active, &app, &record, &code),
        Some(super::consent::Decision::Approve) => true,
        Some(super::consent::Decision::Deny) => false,
    };
    let store = state.store();
    if approve
        && app.permitted() == PermittedUsers::AllSelfAuthorized
        && let Err(e) = super::consent::record(
            &state,
            &app,
            &active.user.id,
            &GrantedScopes::from_wire(&record.scopes),
            now,
        )
        .await
    {
        return web::api_error_page(e.into());
    }
    match store
        .decide_device_code(
            code.hash().as_str(),
            &active.user.id,
            approve,
            now,
            active.session.created_at,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return code_form(&state, &ctx, &active, "", Some(BAD_CODE), StatusCode::OK);
        }
        Err(e) => return web::api_error_page(e.into()),
    }
    tracing::info!(app = %app.name, user = %active.user.id, approve, "device code decided");
    let (title, text) = if approve {
        ("Device connected", "You can go back to your device now.")
    } else {
        (
            "Access denied",
            "The device will not be connected. You can close this page.",
        )
    };
    html::page(
        StatusCode::OK,
        title,
        &format!("<p id=\"result\">{}</p>", escape(text)),
    )
}

fn to_login(ctx: &OrgContext, code: &str) -> Response {
    let mut start = format!("{}{ACTIVATION_PATH}", base_path(ctx));
    if let Some(code) = UserCode::parse(code) {
        start.push_str(&format!("?user_code={}", code.display()));
    }
    web::login_redirect(ctx, &start)
}

fn code_form(
    state: &AppState,
    ctx: &OrgContext,
    active: &Active,
    code: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = csrf::token(
        state,
        Form::Device,
        &active.session.id_hash,
        state.clock().now(),
    );
    let error = message.map_or(String::new(), |m| {
        format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(m))
    });
    let code: String = code.chars().take(64).collect();
    let body = format!(
        "{error}<p>Enter the code shown on your device.</p>\n\
         <form method=\"post\" action=\"{base}{ACTIVATION_PATH}\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <label for=\"user_code\">Code</label>\n\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{code}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" required autofocus>\n\
         <input type=\"submit\" id=\"connect\" name=\"connect\" value=\"Connect\">\n\
         </form>",
        base = escape(&base_path(ctx)),
        token = escape(&token),
        code = escape(&code),
    );
    html::page(status, "Connect a device", &body)
}

fn approval_page(
    state: &AppState,
    ctx: &OrgContext,
    active: &Active,
    app: &registry::ClientApp,
    record: &DeviceCodeRecord,
    code: &UserCode,
) -> Response {
    let token = csrf::token(
        state,
        Form::Device,
        &active.session.id_hash,
        state.clock().now(),
    );
    let scopes = GrantedScopes::from_wire(&record.scopes);
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
    let name = app.header.label.as_deref().unwrap_or(&app.name);
    let body = format!(
        "<p><strong id=\"appName\">{app}</strong> on your device is asking to:</p>\n\
         <ul id=\"scopes\">\n{items}</ul>\n\
         <p>You are logged in as <strong>{user}</strong>.</p>\n\
         <form method=\"post\" action=\"{base}{ACTIVATION_PATH}\">\n\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"submit\" id=\"oadeny\" name=\"oadeny\" value=\"Deny\">\n\
         <input type=\"submit\" id=\"oaapprove\" name=\"oaapprove\" value=\"Allow\">\n\
         </form>",
        app = escape(name),
        user = escape(&active.user.username),
        base = escape(&base_path(ctx)),
        code = escape(&code.display()),
        token = escape(&token),
    );
    html::page(StatusCode::OK, "Allow Access?", &body)
}
