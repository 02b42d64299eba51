//! `retrieve` as the Metadata API runs it: a `RetrieveRequest` (an `unpackaged` manifest,
//! `specificFiles`, `packageNames`) is retrieved at once and its result kept in the store
//! until `checkRetrieveStatus` reads it, so that any server node can answer, and a restart
//! loses nothing. Results expire after [`RETRIEVE_RESULT_LIFETIME_SECS`]; expired ones are
//! deleted whenever a new retrieve is kept.
//!
//! Decisions where the Metadata API Developer Guide is silent or does not apply (written in
//! `docs/metadata-api.md`):
//! - `specificFiles` entries are Metadata API paths (`externalClientApps/Shop.eca`, with or
//!   without the `unpackaged/` root); they are retrieved together with whatever `unpackaged`
//!   names. A path that is not an External Client App file, or names nothing in the org, is a
//!   `RetrieveMessage` naming that path.
//! - OpenECA has no packages (a 2GP package is built by Salesforce's packaging service, not by
//!   an org's Metadata API), so every `packageNames` entry is unknown: one `RetrieveMessage`
//!   per name, "No package named '…' found", as Salesforce answers for an unknown package;
//!   the rest of the request is retrieved.

use eca_core::{Clock, OrgId, Rng, UserId};
use eca_metadata::project::manifest::{Manifest, ManifestType, PACKAGE_XML};
use eca_metadata::{ApiVersion, MetadataType};
use eca_store::{Store, StoredRetrieve};
use serde::{Deserialize, Serialize};

use crate::DeployError;
use crate::retrieve::{
    Asked, FileProperties, RETRIEVE_ROOT, RetrieveMessage, RetrieveResult, retrieve_asked,
};

/// The prefix of retrieve request ids (Salesforce's `09S`).
pub const RETRIEVE_ID_PREFIX: &str = "09S";

/// How long a retrieve's result is kept for `checkRetrieveStatus`. Clients poll right after
/// starting a retrieve; an hour leaves room for slow polling without keeping zips for long.
pub const RETRIEVE_RESULT_LIFETIME_SECS: i64 = 3600;

/// What a `retrieve` call asks for (Salesforce's `RetrieveRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveRequest {
    pub unpackaged: Option<Manifest>,
    pub specific_files: Vec<String>,
    pub package_names: Vec<String>,
    /// The version of the retrieved `package.xml` when `unpackaged` names none (the call's
    /// `apiVersion`, or the endpoint's).
    pub version: ApiVersion,
}

/// Everything a retrieve needs from the server, for one org and user.
#[derive(Clone, Copy)]
pub struct RetrieveContext<'a> {
    pub store: &'a dyn Store,
    pub org: &'a OrgId,
    /// The retrieving user; must belong to `org`.
    pub user: &'a UserId,
    pub clock: &'a dyn Clock,
    pub rng: &'a dyn Rng,
}

impl std::fmt::Debug for RetrieveContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetrieveContext")
            .field("org", self.org)
            .field("user", self.user)
            .finish_non_exhaustive()
    }
}

/// The stored part of a result besides its zip.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredResult {
    file_properties: Vec<FileProperties>,
    messages: Vec<RetrieveMessage>,
}

/// Retrieves what the request names.
pub async fn retrieve_request(
    store: &dyn Store,
    org: &OrgId,
    request: &RetrieveRequest,
) -> Result<RetrieveResult, DeployError> {
    let mut messages = Vec::new();
    let mut from_files: Vec<(ManifestType, &str)> = Vec::new();
    for path in &request.specific_files {
        match specific_file(path) {
            Some((ty, full_name)) => from_files.push((
                ManifestType {
                    name: ty.manifest_name().to_owned(),
                    members: vec![full_name],
                    span: Default::default(),
                },
                path.as_str(),
            )),
            None => messages.push(RetrieveMessage {
                file_name: path.clone(),
                problem: format!(
                    "'{path}' is not the Metadata API file of an External Client App component \
                     (expected <folder>/<Name>.<suffix>, such as externalClientApps/Shop.eca)"
                ),
            }),
        }
    }
    for name in &request.package_names {
        messages.push(RetrieveMessage {
            file_name: name.clone(),
            problem: format!(
                "No package named '{name}' found: OpenECA has no packages; retrieve the \
                 components with an unpackaged manifest or specificFiles"
            ),
        });
    }
    let mut asked: Vec<Asked<'_>> = Vec::new();
    if let Some(manifest) = &request.unpackaged {
        asked.extend(manifest.types.iter().map(|t| Asked {
            types: t,
            file_name: PACKAGE_XML,
        }));
    }
    asked.extend(from_files.iter().map(|(t, file_name)| Asked {
        types: t,
        file_name,
    }));
    let version = request
        .unpackaged
        .as_ref()
        .and_then(|m| m.version)
        .unwrap_or(request.version);
    retrieve_asked(store, org, &asked, version, messages).await
}

/// The type and full name of a `specificFiles` entry.
fn specific_file(path: &str) -> Option<(MetadataType, String)> {
    let path = path
        .strip_prefix(&format!("{RETRIEVE_ROOT}/"))
        .unwrap_or(path);
    let (folder, file) = path.split_once('/')?;
    let (full_name, suffix) = file.rsplit_once('.')?;
    let ty = MetadataType::from_directory(folder)?;
    (ty.suffix() == suffix && !full_name.is_empty() && !full_name.contains('/'))
        .then(|| (ty, full_name.to_owned()))
}

/// Retrieves what the request names and keeps the result for [`check_retrieve_status`];
/// returns the retrieve's id (`09S…`). Expired results of any org are deleted first.
pub async fn submit_retrieve(
    ctx: &RetrieveContext<'_>,
    request: &RetrieveRequest,
) -> Result<String, DeployError> {
    match ctx.store.user(ctx.user).await? {
        Some(user) if &user.org_id == ctx.org => {}
        _ => return Err(DeployError::UnknownUser(ctx.user.clone())),
    }
    let result = retrieve_request(ctx.store, ctx.org, request).await?;
    let now = ctx.clock.now();
    ctx.store.delete_expired_retrieves(now).await?;
    let stored = StoredResult {
        file_properties: result.file_properties,
        messages: result.messages,
    };
    let id = eca_core::ids::generate(RETRIEVE_ID_PREFIX, ctx.rng);
    ctx.store
        .create_retrieve(&StoredRetrieve {
            id: id.clone(),
            org_id: ctx.org.clone(),
            created_by: ctx.user.clone(),
            result_json: serde_json::to_string(&stored)
                .map_err(|e| DeployError::Internal(e.to_string()))?,
            zip: result.zip,
            created_at: now,
            expires_at: now.plus_secs(RETRIEVE_RESULT_LIFETIME_SECS),
        })
        .await?;
    Ok(id)
}

/// The result of the org's retrieve `id`; `None` when there is none, or it expired.
pub async fn check_retrieve_status(
    store: &dyn Store,
    clock: &dyn Clock,
    org: &OrgId,
    id: &str,
) -> Result<Option<RetrieveResult>, DeployError> {
    let Some(stored) = store.retrieve(org, id, clock.now()).await? else {
        return Ok(None);
    };
    let result: StoredResult = serde_json::from_str(&stored.result_json)
        .map_err(|e| DeployError::Corrupt(format!("retrieve {id}: {e}")))?;
    Ok(Some(RetrieveResult {
        zip: stored.zip,
        file_properties: result.file_properties,
        messages: result.messages,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_files_name_a_type_and_a_component() {
        let check = |path: &str, expected: Option<(MetadataType, &str)>| {
            assert_eq!(
                specific_file(path),
                expected.map(|(t, n)| (t, n.to_owned())),
                "{path}"
            );
        };
        check(
            "externalClientApps/Shop.eca",
            Some((MetadataType::ExternalClientApplication, "Shop")),
        );
        check(
            "unpackaged/extlClntAppOauthSettings/Shop_oauth.ecaOauth",
            Some((MetadataType::OauthSettings, "Shop_oauth")),
        );
        check(
            "settings/ExternalClientApp.settings",
            Some((MetadataType::OrgSettings, "ExternalClientApp")),
        );
        check("externalClientApps/Shop.ecaOauth", None);
        check("externalClientApps/.eca", None);
        check("externalClientApps/a/b.eca", None);
        check("classes/Shop.cls", None);
        check("Shop.eca", None);
        check("", None);
    }
}
