//! Following a deploy request: `checkDeployStatus` and `cancelDeploy`.

use eca_core::{Clock, OrgId, UserId};
use eca_store::{DeployRequest, DeployRequestId, DeployStatus, Store};

use crate::outcome::{self, Head};
use crate::result::DeployResult;
use crate::{DeployError, DeployOptions};

/// The result of a deploy request of the org: the stored result once it is done, otherwise
/// what is known so far. `None` when the org has no such request.
pub async fn check_status(
    store: &dyn Store,
    org: &OrgId,
    id: &DeployRequestId,
) -> Result<Option<DeployResult>, DeployError> {
    let Some(request) = store.deploy_request(org, id).await? else {
        return Ok(None);
    };
    if let Some(json) = &request.result_json {
        let result = serde_json::from_str(json)
            .map_err(|e| DeployError::Corrupt(format!("deploy request {id}: {e}")))?;
        return Ok(Some(result));
    }
    synthesized(store, &request).await.map(Some)
}

/// Asks to cancel a deploy request on behalf of `by` (`cancelDeploy`): a queued request is
/// canceled at once, one in progress becomes `Canceling` and its run ends it `Canceled` at its
/// next safe point, having changed nothing; a finished one stays as it is. Returns the result
/// afterwards; `None` when the org has no such request.
pub async fn cancel(
    store: &dyn Store,
    clock: &dyn Clock,
    org: &OrgId,
    id: &DeployRequestId,
    by: &UserId,
) -> Result<Option<DeployResult>, DeployError> {
    store
        .cancel_deploy_request(org, id, by, clock.now())
        .await?;
    check_status(store, org, id).await
}

/// Fills `canceledBy` and `canceledByName` from the request.
pub(crate) async fn fill_canceled(
    store: &dyn Store,
    request: &DeployRequest,
    result: &mut DeployResult,
) -> Result<(), DeployError> {
    if let Some(by) = &request.canceled_by {
        let name = store.user(by).await?.map(|u| u.name()).unwrap_or_default();
        result.canceled_by = Some(by.to_string());
        result.canceled_by_name = Some(name);
    }
    Ok(())
}

/// A result for a request without a stored one: queued, running, canceled, or cut short by a
/// stop of its server node (`fail_unfinished_deploy_requests`).
async fn synthesized(
    store: &dyn Store,
    request: &DeployRequest,
) -> Result<DeployResult, DeployError> {
    let user = store
        .user(&request.created_by)
        .await?
        .ok_or_else(|| DeployError::Corrupt(format!("deploy request {}: no user", request.id)))?;
    let options: DeployOptions = serde_json::from_str(&request.options_json)
        .map_err(|e| DeployError::Corrupt(format!("deploy request {}: {e}", request.id)))?;
    let head = Head {
        id: &request.id,
        created: request.created_at,
        started: request.started_at.unwrap_or(request.created_at),
        user: &user,
        options,
    };
    let mut result = outcome::empty_result(&head, request.status, request.completed_at);
    if request.started_at.is_none() {
        result.start_date = None;
    }
    fill_canceled(store, request, &mut result).await?;
    match request.status {
        DeployStatus::Canceled if request.started_at.is_none() => {
            result.state_detail = Some("Canceled before it started".to_owned());
        }
        // Canceling, or canceled while a server stop cut its run short.
        DeployStatus::Canceled | DeployStatus::Canceling => {
            result.state_detail =
                Some("Canceled while in progress; nothing was changed".to_owned());
        }
        DeployStatus::Failed => {
            result.error_message = Some(
                "The deploy stopped because the server running it stopped; nothing was changed. Deploy again."
                    .to_owned(),
            );
            result.error_status_code = Some("UNKNOWN_EXCEPTION".to_owned());
        }
        _ => {}
    }
    Ok(result)
}
