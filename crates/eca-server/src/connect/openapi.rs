//! The OpenAPI 3.1 document of the Connect OAuth resources, served at
//! `GET /services/data/vXX.X/apps/oauth/openapi.json` without a session (it describes the API,
//! nothing of the org). It is a checked-in file; the server tests call every operation it
//! lists and check each answer against its schema, so the two cannot drift apart.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{Since, version};
use crate::error::ApiError;
use crate::org::OrgContext;

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[derive(Debug, serde::Deserialize)]
pub struct VersionPath {
    version: String,
}

/// `GET apps/oauth/openapi.json`.
pub async fn document(
    _org: OrgContext,
    Path(path): Path<VersionPath>,
) -> Result<Response, ApiError> {
    version(&path.version, Since::Usage)?;
    let mut response = DOCUMENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
