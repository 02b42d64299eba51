//! The IdP metadata (SAML Metadata §2.3.2, §2.4.3): `GET {base}/.well-known/samlidp.xml` for
//! the org, and `GET {base}/.well-known/samlidp/<app>.xml` per app (Salesforce's paths; the
//! per-app document carries the app's `issuer` and says whether it must sign requests). Both
//! list the current signing certificate and the previous ones still in their overlap window,
//! both SSO bindings and single logout.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eca_saml::EntityId;
use eca_saml::metadata::IdpMetadata;

use super::keys;
use super::registry;
use super::respond::idp_entity_id;
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::state::AppState;

/// SAML Metadata §4.1.1 registers this media type.
const CONTENT_TYPE: &str = "application/samlmetadata+xml";

pub async fn org(State(state): State<AppState>, ctx: OrgContext) -> Result<Response, ApiError> {
    render(&state, &ctx, &idp_entity_id(&ctx), false).await
}

pub async fn app(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let not_found =
        || ApiError::NotFound("No app with SAML policies has this name in this org".to_owned());
    let name = file.strip_suffix(".xml").ok_or_else(not_found)?;
    let app = registry::by_app(&state, &ctx.org.id, name)
        .await?
        .ok_or_else(not_found)?;
    let sp = app
        .service_provider()
        .map_err(|e| ApiError::Malformed(format!("The app's SAML policies cannot be used: {e}")))?;
    let entity_id = sp.issuer.clone().unwrap_or_else(|| idp_entity_id(&ctx));
    render(&state, &ctx, &entity_id, sp.request_certificate.is_some()).await
}

async fn render(
    state: &AppState,
    ctx: &OrgContext,
    entity_id: &EntityId,
    want_authn_requests_signed: bool,
) -> Result<Response, ApiError> {
    let keys = keys::org_keys(state, &ctx.org.id).await?;
    let certificates = keys.published_certificates();
    let xml = IdpMetadata {
        entity_id,
        base_url: &ctx.base_url,
        signing_certificates: &certificates,
        want_authn_requests_signed,
    }
    .to_xml();
    let mut response = (StatusCode::OK, xml).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}
