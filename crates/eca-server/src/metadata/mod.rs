//! The Metadata API over HTTP (issue 4): the SOAP endpoint `/services/Soap/m/{version}` that
//! jsforce and the Salesforce CLI call (`soap`, with its envelope reader `envelope` and its
//! WSDL-shaped writer `render`), and the REST `deployRequest` resource the CLI uses with
//! `org-metadata-rest-deploy` (`rest`, with its `multipart` reader); the CRUD calls are `crud`
//! (`readMetadata`, `deleteMetadata`) and `save` (`create`/`update`/`upsertMetadata`). All are
//! thin adapters over `eca_deploy`; this module holds what they share: starting a deploy in the
//! background. (Deploys a stopped node left are ended by `nodes`; expired retrieve results are
//! deleted by `housekeeping`.) Retrieve results are kept in the store by
//! `eca_deploy::submit_retrieve`, so any node answers `checkRetrieveStatus`.
//!
//! **Invariant:** a deploy is answered `Queued` at once and runs on a blocking thread (the
//! validator is CPU-bound), under the server's one set of per-org locks.

mod crud;
pub mod envelope;
mod multipart;
pub mod render;
pub mod rest;
mod save;
pub mod soap;

use eca_core::domain::Permission;
use eca_core::{OrgId, UserId};
use eca_deploy::{DeployContext, DeployError, DeployOptions};
use eca_metadata::ApiVersion;
use eca_store::DeployRequestId;

use std::sync::Arc;

use crate::error::ApiError;
use crate::state::AppState;

/// The most deploys one server node holds at once, queued or running (each on a blocking
/// thread, with its zip); another gets `SERVER_UNAVAILABLE` (503).
pub const MAX_DEPLOYS_IN_FLIGHT: usize = 32;

/// The most deploys of one org one server node holds at once: they run one at a time behind
/// the org's lock, so more would only queue, and one org's backlog must not take the node's
/// every slot from the others.
pub const MAX_DEPLOYS_PER_ORG: usize = 8;

/// The most retrieves one org may start a minute on a node. Each keeps its result (the zip)
/// in the store for an hour, and any session may retrieve: without a bound, a loop of them
/// would fill the database.
pub const MAX_RETRIEVES_PER_MINUTE: u32 = 120;

/// The version a deploy is read at: the call's version, or the default when the call names
/// an older version than External Client Apps have (jsforce defaults to 50.0).
pub fn deploy_version(path_version: &str) -> ApiVersion {
    match path_version.parse::<ApiVersion>() {
        Ok(v) if v >= ApiVersion::OLDEST && v <= ApiVersion::LATEST_KNOWN => v,
        _ => ApiVersion::DEFAULT,
    }
}

/// Records a deploy request and runs it in the background; returns its id at once.
pub async fn start_deploy(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    version: ApiVersion,
    zip: Vec<u8>,
    options: DeployOptions,
) -> Result<DeployRequestId, ApiError> {
    let (id, _running) = spawn_deploy(state, org, user, version, zip, options).await?;
    Ok(id)
}

/// Deploying (and deleting) External Client Apps needs "Create, Edit, and Delete External
/// Client Apps" (`ExternalClientAppDeveloper`) or the admin permission that edits policies
/// (`ExternalClientAppAdmin`), from the profile or a permission set (`spec/metadata.md` §5.1).
pub(crate) async fn require_deploy_permission(
    state: &AppState,
    user: &UserId,
) -> Result<(), ApiError> {
    require_any(
        state,
        user,
        &[
            Permission::ExternalClientAppDeveloper,
            Permission::ExternalClientAppAdmin,
        ],
        "deploying External Client Apps needs the ExternalClientAppDeveloper or ExternalClientAppAdmin permission",
    )
    .await
}

/// Reading apps' metadata (`listMetadata`, `retrieve` and its result, `readMetadata`) needs
/// one of the External Client App permissions, the viewer's included: the files hold what only
/// those users may see (policies, settings, push configuration links), not what every API
/// user may.
pub(crate) async fn require_read_permission(
    state: &AppState,
    user: &UserId,
) -> Result<(), ApiError> {
    require_any(
        state,
        user,
        &[
            Permission::ExternalClientAppDeveloper,
            Permission::ExternalClientAppAdmin,
            Permission::ExternalClientAppViewer,
        ],
        "reading External Client App metadata needs the ExternalClientAppDeveloper, ExternalClientAppAdmin or ExternalClientAppViewer permission",
    )
    .await
}

async fn require_any(
    state: &AppState,
    user: &UserId,
    any_of: &[Permission],
    why: &str,
) -> Result<(), ApiError> {
    let store = state.store();
    let user = store.user(user).await?.ok_or(ApiError::InvalidSession)?;
    let permissions = crate::access::permissions_of(store, &user).await?;
    if any_of.iter().any(|p| permissions.contains(*p)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Insufficient Privileges: {why}"
        )))
    }
}

/// Deploys and waits for the result (the synchronous CRUD calls, `deleteMetadata`).
pub async fn deploy_and_wait(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    version: ApiVersion,
    zip: Vec<u8>,
    options: DeployOptions,
) -> Result<eca_deploy::DeployResult, ApiError> {
    let (id, running) = spawn_deploy(state, org, user, version, zip, options).await?;
    running
        .await
        .map_err(|e| ApiError::Internal(format!("deploy {id} stopped: {e}")))?;
    eca_deploy::check_status(state.store(), org, &id)
        .await
        .map_err(deploy_error)?
        .ok_or_else(|| ApiError::Internal(format!("deploy {id} has no result")))
}

async fn spawn_deploy(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    version: ApiVersion,
    zip: Vec<u8>,
    options: DeployOptions,
) -> Result<(DeployRequestId, tokio::task::JoinHandle<()>), ApiError> {
    require_deploy_permission(state, user).await?;
    // Each deploy holds a blocking thread (and its zip) from now until it ends, waiting its
    // turn for the org's lock: a bound keeps a backlog from taking every blocking thread, which
    // password checks need too. Taken before the request is recorded, so a refusal leaves
    // nothing behind.
    let org_slot = state.org_deploy_slots(org).try_acquire_owned().map_err(|_| {
        ApiError::Busy(format!(
            "Too many deploys of this org are queued or running ({MAX_DEPLOYS_PER_ORG} at most; they run one at a time): try again when some have finished"
        ))
    })?;
    let slot = Arc::clone(state.deploy_slots())
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::Busy(format!(
                "Too many deploys are queued or running on this server ({MAX_DEPLOYS_IN_FLIGHT} at most): try again when some have finished"
            ))
        })?;
    let locks = state.deploy_locks();
    let ctx = DeployContext {
        store: state.store(),
        org,
        user,
        clock: state.clock(),
        rng: state.rng(),
        master_key: state.master_key(),
        locks,
        version,
        node: state.node_id(),
    };
    // A deploy that deletes an app revokes its tokens: those still being written behind
    // (`oauth::token_writer`) are in the store first.
    state.token_writer().sync().await;
    let id = eca_deploy::submit(&ctx, options)
        .await
        .map_err(deploy_error)?;
    let state = state.clone();
    let (org, user, request) = (org.clone(), user.clone(), id.clone());
    let runtime = tokio::runtime::Handle::current();
    // Validation is CPU-bound: the deploy runs on a blocking thread, which drives the store's
    // futures through the runtime handle.
    let running = tokio::task::spawn_blocking(move || {
        runtime.block_on(run_deploy(
            &state, &org, &user, &request, &zip, options, version,
        ));
        drop(slot);
        drop(org_slot);
    });
    Ok((id, running))
}

async fn run_deploy(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    id: &DeployRequestId,
    zip: &[u8],
    options: DeployOptions,
    version: ApiVersion,
) {
    let ctx = DeployContext {
        store: state.store(),
        org,
        user,
        clock: state.clock(),
        rng: state.rng(),
        master_key: state.master_key(),
        locks: state.deploy_locks(),
        version,
        node: state.node_id(),
    };
    let outcome = eca_deploy::run(&ctx, id, zip, options).await;
    // Whatever the deploy changed, this node's next OAuth request reads the org's apps again
    // (other nodes within `registry::APP_TTL_MS`).
    state.apps().forget_org(org);
    match outcome {
        Ok(outcome) => {
            tracing::info!(
                deploy = %id,
                status = outcome.result.status.as_str(),
                components = outcome.result.number_components_total,
                "deploy finished"
            );
            if !outcome.deleted_consumers.is_empty() || !outcome.rotated_consumers.is_empty() {
                // Rotated consumers keep their tokens (tokens issued under the old key work
                // until revoked); the engine revoked the tokens of deleted apps.
                tracing::info!(
                    deploy = %id,
                    deleted_apps = outcome.deleted_apps.len(),
                    deleted_consumers = outcome.deleted_consumers.len(),
                    rotated_consumers = outcome.rotated_consumers.len(),
                    "deploy changed OAuth consumers"
                );
            }
        }
        Err(e) => tracing::error!(deploy = %id, error = %e, "deploy failed on a server error"),
    }
}

/// The engine's server-side errors as API errors.
pub fn deploy_error(e: DeployError) -> ApiError {
    match e {
        DeployError::UnknownRequest(id) => {
            ApiError::NotFound(format!("The requested resource does not exist: {id}"))
        }
        DeployError::UnknownUser(_) => ApiError::InvalidSession,
        DeployError::Store(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}
