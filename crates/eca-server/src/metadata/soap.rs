//! `POST /services/Soap/m/{version}[/{orgId}]`: the Metadata API's SOAP endpoint, as the
//! Salesforce CLI (`spec/oauth-and-connect.md` §5.6) and jsforce's `conn.metadata` call it.
//! The session comes from the envelope's `SessionHeader`; errors are SOAP faults rendered by
//! `crate::error` like the partner API's.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use eca_metadata::MetadataType;
use eca_store::DeployRequestId;
use serde::Deserialize;

use super::envelope::{self, Operation};
use super::{MAX_RETRIEVES_PER_MINUTE, deploy_error, deploy_version, render};
use crate::auth::{self, ClientIp};
use crate::error::ApiError;
use crate::org::OrgContext;
use crate::rest::versions::is_soap_version;
use crate::soap::xml;
use crate::state::AppState;

/// The largest envelope for a body limit: a zip of `body_limit` bytes, base64-encoded
/// (4/3 larger), plus room for the envelope around it.
pub fn body_limit(body_limit: usize) -> usize {
    body_limit.saturating_mul(4) / 3 + 64 * 1024
}

#[derive(Debug, Deserialize)]
pub struct MetadataPath {
    version: String,
}

/// The Metadata API endpoint.
pub async fn handle(
    State(state): State<AppState>,
    Path(path): Path<MetadataPath>,
    org: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !is_soap_version(&path.version) {
        return Err(ApiError::NotFound(format!(
            "API version {} is not supported",
            path.version
        )));
    }
    crate::soap::check_content_type(&headers)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: body_limit(state.settings().body_limit),
            }
        } else {
            ApiError::Malformed("The request body could not be read".to_owned())
        }
    })?;
    let call = envelope::parse(&body)?;
    drop(body);
    let session = call.session_id.ok_or(ApiError::InvalidSession)?;
    let active = auth::check_for(&state, &org, session.expose(), auth::Api::Soap, client).await?;
    let org_id = &org.org.id;
    let version = deploy_version(&path.version);
    let xml = match call.operation {
        Operation::Deploy { zip, options } => {
            let id =
                super::start_deploy(&state, org_id, &active.user.id, version, zip, options).await?;
            render::async_result("deploy", id.as_str())
        }
        Operation::CheckDeployStatus {
            id,
            include_details,
        } => {
            let id = request_id(&id)?;
            let result = eca_deploy::check_status(state.store(), org_id, &id)
                .await
                .map_err(deploy_error)?
                .ok_or_else(|| unknown_request(&id))?;
            render::check_deploy_status(&result, include_details)
        }
        Operation::CancelDeploy { id } => {
            let id = request_id(&id)?;
            super::require_deploy_permission(&state, &active.user.id).await?;
            let result =
                eca_deploy::cancel(state.store(), state.clock(), org_id, &id, &active.user.id)
                    .await
                    .map_err(deploy_error)?
                    .ok_or_else(|| unknown_request(&id))?;
            render::cancel_deploy(&result)
        }
        Operation::ListMetadata { types } => {
            super::require_read_permission(&state, &active.user.id).await?;
            let mut files = Vec::new();
            for name in &types {
                // Types OpenECA does not hold list nothing, as an org without them would.
                if let Some(ty) = MetadataType::from_name(name) {
                    files.extend(
                        eca_deploy::list_metadata(state.store(), org_id, ty)
                            .await
                            .map_err(deploy_error)?,
                    );
                }
            }
            render::list_metadata(&files)
        }
        Operation::DescribeMetadata => render::describe_metadata(version),
        Operation::Retrieve(call) => {
            super::require_read_permission(&state, &active.user.id).await?;
            // Counted and never given back: a retrieve's result is stored either way.
            if state
                .retrieve_limiter()
                .try_begin(org_id.clone(), state.clock().now())
                .is_none()
            {
                return Err(ApiError::Busy(format!(
                    "Too many retrieves from this org ({MAX_RETRIEVES_PER_MINUTE} a minute at most): try again in a minute"
                )));
            }
            let request = eca_deploy::RetrieveRequest {
                unpackaged: call.unpackaged,
                specific_files: call.specific_files,
                package_names: call.package_names,
                version: call.api_version.unwrap_or(version),
            };
            let ctx = eca_deploy::RetrieveContext {
                store: state.store(),
                org: org_id,
                user: &active.user.id,
                clock: state.clock(),
                rng: state.rng(),
            };
            let id = eca_deploy::submit_retrieve(&ctx, &request)
                .await
                .map_err(deploy_error)?;
            render::async_result("retrieve", &id)
        }
        Operation::ReadMetadata {
            type_name,
            full_names,
        } => {
            super::require_read_permission(&state, &active.user.id).await?;
            super::crud::read(&state, org_id, &type_name, &full_names).await?
        }
        Operation::DeleteMetadata {
            type_name,
            full_names,
        } => {
            super::crud::delete(
                &state,
                org_id,
                &active.user.id,
                version,
                &type_name,
                &full_names,
            )
            .await?
        }
        Operation::SaveMetadata { kind, records } => {
            super::save::save(&state, org_id, &active.user.id, version, kind, &records).await?
        }
        Operation::CheckStatus { ids } => {
            let mut states = Vec::new();
            for id in ids {
                let state = if let Ok(deploy) = DeployRequestId::parse(&id) {
                    eca_deploy::check_status(state.store(), org_id, &deploy)
                        .await
                        .map_err(deploy_error)?
                        .map(|r| render::async_state(&r))
                } else {
                    eca_deploy::check_retrieve_status(state.store(), state.clock(), org_id, &id)
                        .await
                        .map_err(deploy_error)?
                        .map(|_| render::AsyncState::Completed)
                };
                states.push((
                    id,
                    state.ok_or_else(|| {
                        ApiError::Malformed(
                            "No deploy or retrieve request with this id in this org".to_owned(),
                        )
                    })?,
                ));
            }
            render::check_status(&states)
        }
        Operation::CheckRetrieveStatus { id, include_zip } => {
            super::require_read_permission(&state, &active.user.id).await?;
            let result = eca_deploy::check_retrieve_status(
                state.store(),
                state.clock(),
                org_id,
                &id,
            )
            .await
            .map_err(deploy_error)?
            .ok_or_else(|| {
                ApiError::Malformed(format!(
                    "No retrieve request {id} in this org (results are kept for {} minutes)",
                    eca_deploy::RETRIEVE_RESULT_LIFETIME_SECS / 60
                ))
            })?;
            render::check_retrieve_status(&id, &result, include_zip)
        }
    };
    let mut response = xml.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(xml::CONTENT_TYPE));
    Ok(response)
}

fn request_id(id: &str) -> Result<DeployRequestId, ApiError> {
    DeployRequestId::parse(id)
        .map_err(|_| ApiError::Malformed(format!("`{id}` is not a deploy request id (0Af…)")))
}

fn unknown_request(id: &DeployRequestId) -> ApiError {
    ApiError::Malformed(format!("No deploy request {id} in this org"))
}
