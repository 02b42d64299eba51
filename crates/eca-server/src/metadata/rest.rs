//! The REST `deployRequest` resource (`spec/oauth-and-connect.md` §5.6, REST variant), which
//! the Salesforce CLI uses with `org-metadata-rest-deploy` and `eca deploy` always uses:
//! - `POST /services/data/vXX.X/metadata/deployRequest`, multipart with part `file` (the zip)
//!   and part `entity_content` (`{"deployOptions":{…}}`) → 201 `{"id","deployResult"}`;
//! - `GET …/deployRequest/{id}?includeDetails=true` → `{"id","deployResult"}`;
//! - `PATCH …/deployRequest/{id}` with `{"deployResult":{"status":"Canceling"}}` → 202: a
//!   queued deploy is `Canceled` at once, one in progress is `Canceling` until its run stops
//!   at a safe point (Metadata API Developer Guide, "Cancel a Deployment in Progress (REST)").

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use eca_deploy::{DeployOptions, DeployResult};
use eca_store::DeployRequestId;
use serde::{Deserialize, Serialize};

use super::{deploy_error, deploy_version, multipart};
use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode};
use crate::rest::versions::path_version;
use crate::state::AppState;

/// A deploy request and its result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequestBody {
    pub id: String,
    pub deploy_result: DeployResult,
}

/// The `entity_content` part.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityContent {
    #[serde(default)]
    deploy_options: DeployOptions,
}

/// Reads the `entity_content` part, refusing fields the Metadata API does not have: a
/// misspelled or unwrapped `checkOnly` (`{"checkOnly":true}`) would otherwise turn a
/// validation into a real deploy. Known options a deploy of ECA metadata has no use for are
/// accepted and ignored (`envelope::DEPLOY_OPTIONS`).
fn entity_content(json: &[u8]) -> Result<EntityContent, ApiError> {
    let refuse = |message: String| ApiError::request(RequestCode::JsonParserError, message);
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| refuse(format!("entity_content is not a deploy request: {e}")))?;
    let top = value
        .as_object()
        .ok_or_else(|| refuse("entity_content is not a JSON object".to_owned()))?;
    if let Some(key) = top.keys().find(|k| *k != "deployOptions") {
        return Err(refuse(format!(
            "entity_content: Unrecognized field \"{key}\" (deploy options go in \"deployOptions\")"
        )));
    }
    if let Some(options) = top
        .get("deployOptions")
        .and_then(serde_json::Value::as_object)
    {
        for key in options.keys() {
            if !super::envelope::DEPLOY_OPTIONS.contains(&key.as_str()) {
                return Err(refuse(format!(
                    "deployOptions: Unrecognized field \"{key}\" (options are {})",
                    super::envelope::DEPLOY_OPTIONS.join(", ")
                )));
            }
        }
    }
    serde_json::from_value(value)
        .map_err(|e| refuse(format!("entity_content is not a deploy request: {e}")))
}

#[derive(Debug, Deserialize)]
pub struct VersionPath {
    version: String,
}

#[derive(Debug, Deserialize)]
pub struct RequestPath {
    version: String,
    id: String,
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    #[serde(default, rename = "includeDetails")]
    include_details: Option<bool>,
}

/// `POST …/metadata/deployRequest`.
pub async fn create(
    State(state): State<AppState>,
    Path(path): Path<VersionPath>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<DeployRequestBody>), ApiError> {
    let version = path_version(&path.version)?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "deployRequest reads multipart/form-data with parts `file` and `entity_content`"
                .to_owned(),
        )
    })?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: state.settings().body_limit,
            }
        } else {
            ApiError::Malformed("The request body could not be read".to_owned())
        }
    })?;
    let parts = multipart::parse(&boundary, &body)?;
    let zip = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| ApiError::Malformed("The multipart body has no `file` part".to_owned()))?
        .body
        .to_vec();
    let entity = match parts.iter().find(|p| p.name == "entity_content") {
        Some(p) => entity_content(p.body)?,
        None => EntityContent::default(),
    };
    drop(body);
    let org = &auth.org.org.id;
    let id = super::start_deploy(
        &state,
        org,
        &auth.active.user.id,
        deploy_version(version),
        zip,
        entity.deploy_options,
    )
    .await?;
    let result = status(&state, &auth, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeployRequestBody {
            id: id.as_str().to_owned(),
            deploy_result: result,
        }),
    ))
}

/// `GET …/metadata/deployRequest/{id}`.
pub async fn read(
    State(state): State<AppState>,
    Path(path): Path<RequestPath>,
    Query(query): Query<StatusQuery>,
    auth: Authenticated,
) -> Result<Json<DeployRequestBody>, ApiError> {
    path_version(&path.version)?;
    let id = request_id(&path.id)?;
    let mut result = status(&state, &auth, &id).await?;
    if !query.include_details.unwrap_or(false) {
        result.details = Default::default();
    }
    Ok(Json(DeployRequestBody {
        id: id.as_str().to_owned(),
        deploy_result: result,
    }))
}

/// The body of a cancel request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    deploy_result: CancelStatus,
}

#[derive(Debug, Deserialize)]
pub struct CancelStatus {
    status: String,
}

/// `PATCH …/metadata/deployRequest/{id}` with `{"deployResult":{"status":"Canceling"}}`.
pub async fn cancel(
    State(state): State<AppState>,
    Path(path): Path<RequestPath>,
    auth: Authenticated,
    body: Result<Json<CancelBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<DeployRequestBody>), ApiError> {
    path_version(&path.version)?;
    let id = request_id(&path.id)?;
    let Json(body) = body.map_err(|e| {
        ApiError::request(
            RequestCode::JsonParserError,
            format!("expected {{\"deployResult\":{{\"status\":\"Canceling\"}}}}: {e}"),
        )
    })?;
    if body.deploy_result.status != "Canceling" {
        return Err(ApiError::request(
            RequestCode::InvalidFieldForInsertUpdate,
            "A deploy request can only be changed to status Canceling",
        ));
    }
    super::require_deploy_permission(&state, &auth.active.user.id).await?;
    let result = eca_deploy::cancel(
        state.store(),
        state.clock(),
        &auth.org.org.id,
        &id,
        &auth.active.user.id,
    )
    .await
    .map_err(deploy_error)?
    .ok_or_else(|| not_found(&id))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DeployRequestBody {
            id: id.as_str().to_owned(),
            deploy_result: result,
        }),
    ))
}

async fn status(
    state: &AppState,
    auth: &Authenticated,
    id: &DeployRequestId,
) -> Result<DeployResult, ApiError> {
    eca_deploy::check_status(state.store(), &auth.org.org.id, id)
        .await
        .map_err(deploy_error)?
        .ok_or_else(|| not_found(id))
}

fn request_id(id: &str) -> Result<DeployRequestId, ApiError> {
    DeployRequestId::parse(id).map_err(|_| not_found_text(id))
}

fn not_found(id: &DeployRequestId) -> ApiError {
    not_found_text(id.as_str())
}

fn not_found_text(id: &str) -> ApiError {
    ApiError::NotFound(format!("No deploy request {id} in this org"))
}
