//! IdP-initiated single sign-on (SAML Profiles §4.1.5, an unsolicited Response):
//! `GET {base}/idp/login?app=<API name or orgScopedExternalApp id>[&RelayState=…]`. The
//! Response has no `InResponseTo` and goes to the app's registered ACS URL.

use std::net::IpAddr;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_saml::SamlError;

use super::registry;
use super::respond::{self, Failure, ReplyTo};
use super::ticket::MAX_RELAY_STATE;
use super::{base_path, form_pairs, param};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::state::AppState;

pub const PATH: &str = "/idp/login";

pub async fn login(
    State(state): State<AppState>,
    ctx: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    match run(&state, &ctx, &headers, client, &query).await {
        Ok(r) => r,
        Err(f) => f.render(&state, &ctx).await,
    }
}

async fn run(
    state: &AppState,
    ctx: &OrgContext,
    headers: &HeaderMap,
    client: IpAddr,
    query: &str,
) -> Result<Response, Failure> {
    let pairs = form_pairs(query.as_bytes());
    let name = param(&pairs, "app")
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Failure::Page {
            status: StatusCode::BAD_REQUEST,
            message: "The app parameter is missing: name the app by its API name.".to_owned(),
        })?;
    let relay_state = param(&pairs, "RelayState").map(str::to_owned);
    if relay_state
        .as_ref()
        .is_some_and(|r| r.len() > MAX_RELAY_STATE)
    {
        return Err(Failure::saml(
            SamlError::Malformed("the RelayState is longer than 1024 bytes"),
            None,
        ));
    }
    let app = registry::by_app(state, &ctx.org.id, name)
        .await?
        .ok_or_else(|| Failure::Page {
            status: StatusCode::NOT_FOUND,
            message: "No app with SAML policies has this name in this org.".to_owned(),
        })?;
    let sp = app.service_provider().map_err(|e| Failure::saml(e, None))?;
    let to = ReplyTo {
        sp,
        in_response_to: None,
        relay_state,
        subject: None,
    };
    app.check_enabled()
        .map_err(|e| Failure::saml(e, Some(&to)))?;
    match crate::web::session::current(state, ctx, headers, client).await? {
        Some(active) => respond::success(state, ctx, &app, &to, &active).await,
        // The login page comes back here, to the same address.
        None => Ok(crate::web::login_redirect(
            ctx,
            &format!("{}{PATH}?{query}", base_path(ctx)),
        )),
    }
}
