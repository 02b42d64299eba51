//! `GET /services/data` (the versions list) and `GET /services/data/vXX.X` (the resource map).
//! The CLI takes the highest `version` of the list as the org's API version and treats a 200
//! from the resource map as "Connected" (`spec/oauth-and-connect.md` §5.1, §5.5).

use axum::Json;
use axum::extract::Path;
use serde::{Deserialize, Serialize};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::org::OrgContext;

/// The REST API versions served, with Salesforce's release names.
pub const VERSIONS: &[(&str, &str)] = &[
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
    ("63.0", "Spring '25"),
    ("64.0", "Summer '25"),
    ("65.0", "Winter '26"),
    ("66.0", "Spring '26"),
];

/// The newest version served.
pub const LATEST: &str = "66.0";

/// Oldest SOAP API version accepted. Clients default to older versions than the REST list
/// starts at (jsforce 50.0), and Salesforce still serves them.
const OLDEST_SOAP: u32 = 20;

/// Whether `v` (`NN.0`) is a SOAP API version this server answers.
pub fn is_soap_version(v: &str) -> bool {
    let Some((major, minor)) = v.split_once('.') else {
        return false;
    };
    let latest: u32 = LATEST
        .split_once('.')
        .and_then(|(m, _)| m.parse().ok())
        .unwrap_or(0);
    minor == "0"
        && major.len() <= 3
        && major
            .parse::<u32>()
            .is_ok_and(|m| (OLDEST_SOAP..=latest).contains(&m))
}

/// The version of a `vNN.0` path segment on the sObject, query and org resources: any
/// version from 20.0 to the latest, as for SOAP (the Salesforce CLI still calls
/// `/services/data/v51.0/...`), although `GET /services/data` lists only 59.0 onwards.
pub fn path_version(segment: &str) -> Result<&str, ApiError> {
    segment
        .strip_prefix('v')
        .filter(|v| is_soap_version(v))
        .ok_or_else(|| ApiError::NotFound("The requested resource does not exist".to_owned()))
}

/// One entry of `GET /services/data`.
#[derive(Debug, Serialize)]
pub struct ApiVersion {
    pub label: &'static str,
    pub url: String,
    pub version: &'static str,
}

/// `GET /services/data`: no authentication, like Salesforce. The `url`s are relative to the
/// org's base URL (they never repeat an `/orgs/<mydomain>` prefix), as clients append them to
/// the instance URL.
pub async fn list(_org: OrgContext) -> Json<Vec<ApiVersion>> {
    Json(
        VERSIONS
            .iter()
            .map(|(version, label)| ApiVersion {
                label,
                url: format!("/services/data/v{version}"),
                version,
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
pub struct VersionPath {
    version: String,
}

/// The resources of one API version. Relative URLs, except `identity` which is absolute as on
/// Salesforce.
#[derive(Debug, Serialize)]
pub struct ResourceMap {
    pub tooling: String,
    pub metadata: String,
    pub chatter: String,
    pub tabs: String,
    #[serde(rename = "appMenu")]
    pub app_menu: String,
    #[serde(rename = "quickActions")]
    pub quick_actions: String,
    #[serde(rename = "queryAll")]
    pub query_all: String,
    pub analytics: String,
    pub search: String,
    pub identity: String,
    pub composite: String,
    pub theme: String,
    pub recent: String,
    pub connect: String,
    pub limits: String,
    pub query: String,
    pub sobjects: String,
    pub actions: String,
    pub support: String,
    #[serde(rename = "ui-api")]
    pub ui_api: String,
}

/// `GET /services/data/vXX.X` (authenticated).
pub async fn resources(
    Path(path): Path<VersionPath>,
    auth: Authenticated,
) -> Result<Json<ResourceMap>, ApiError> {
    let version = path
        .version
        .strip_prefix('v')
        .filter(|v| VERSIONS.iter().any(|(known, _)| known == v))
        .ok_or_else(|| ApiError::NotFound("The requested resource does not exist".to_owned()))?;
    let r = |name: &str| format!("/services/data/v{version}/{name}");
    let user = &auth.active.user;
    Ok(Json(ResourceMap {
        tooling: r("tooling"),
        metadata: r("metadata"),
        chatter: r("chatter"),
        tabs: r("tabs"),
        app_menu: r("appMenu"),
        quick_actions: r("quickActions"),
        query_all: r("queryAll"),
        analytics: r("analytics"),
        search: r("search"),
        identity: format!("{}/id/{}/{}", auth.org.base_url, user.org_id, user.id),
        composite: r("composite"),
        theme: r("theme"),
        recent: r("recent"),
        connect: r("connect"),
        limits: r("limits"),
        query: r("query"),
        sobjects: r("sobjects"),
        actions: r("actions"),
        support: r("support"),
        ui_api: r("ui-api"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soap_versions() {
        assert!(is_soap_version("66.0"));
        assert!(is_soap_version("50.0"));
        assert!(!is_soap_version("67.0"));
        assert!(!is_soap_version("19.0"));
        assert!(!is_soap_version("v66.0"));
        assert!(!is_soap_version("66.5"));
    }
}
