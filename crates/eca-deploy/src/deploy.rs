//! A deploy request from start to end: recorded (`Queued`), run under the org's lock
//! (`InProgress`), planned, and ended together with its changes in one transaction.
//!
//! A cancel asked for while the deploy runs (`Canceling`) is honoured at the next safe point:
//! after reading the package, after planning, and at the write itself, which the store refuses
//! for a request that is no longer `InProgress`. The deploy then ends `Canceled` having changed
//! nothing, like a deploy that fails with `rollbackOnError` (the Metadata API Developer Guide,
//! `cancelDeploy()`: "the deployment is canceled and rolled back").

use eca_core::Timestamp;
use eca_core::domain::User;
use eca_metadata::MetadataType;
use eca_metadata::model::Component;
use eca_oauth::RefreshPolicy;
use eca_store::{
    ChangeSet, ComponentChange, DeployFinish, DeployRequest, DeployRequestId, DeployStatus,
    StoreError,
};

use crate::outcome::{self, Built, Head};
use crate::package;
use crate::plan;
use crate::result::DeployResult;
use crate::{DeployContext, DeployError, DeployOptions, DeployOutcome, status};

/// How often a deploy is planned again when another server node changed the same components
/// between its reads and its write.
const ATTEMPTS: usize = 3;

/// Deploys a Metadata API zip: [`submit`] then [`run`].
pub async fn deploy(
    ctx: &DeployContext<'_>,
    zip: &[u8],
    options: DeployOptions,
) -> Result<DeployOutcome, DeployError> {
    let id = submit(ctx, options).await?;
    run(ctx, &id, zip, options).await
}

/// Records a deploy request (`Queued`) and returns its id, so the caller can answer at once
/// and [`run`] it in the background; [`crate::check_status`] follows it.
pub async fn submit(
    ctx: &DeployContext<'_>,
    options: DeployOptions,
) -> Result<DeployRequestId, DeployError> {
    deployer(ctx).await?;
    let id = DeployRequestId::generate(ctx.rng);
    let options_json =
        serde_json::to_string(&options).map_err(|e| DeployError::Internal(e.to_string()))?;
    ctx.store
        .create_deploy_request(&DeployRequest {
            id: id.clone(),
            org_id: ctx.org.clone(),
            created_by: ctx.user.clone(),
            status: DeployStatus::Queued,
            options_json,
            result_json: None,
            created_at: ctx.clock.now(),
            started_at: None,
            completed_at: None,
            canceled_by: None,
            node_id: Some(ctx.node.to_owned()),
        })
        .await?;
    Ok(id)
}

/// Runs a submitted deploy request: waits for the org's lock, then plans and writes the
/// deploy. A request canceled while queued is not run; its result says so.
///
/// Bad packages never make an `Err`: they make a failed [`DeployResult`]. `Err` is for the
/// server's own failures (the database), after which the request is marked failed if the
/// database still answers.
pub async fn run(
    ctx: &DeployContext<'_>,
    id: &DeployRequestId,
    zip: &[u8],
    options: DeployOptions,
) -> Result<DeployOutcome, DeployError> {
    let request = ctx
        .store
        .deploy_request(ctx.org, id)
        .await?
        .ok_or_else(|| DeployError::UnknownRequest(id.clone()))?;
    let user = deployer(ctx).await?;
    let _turn = ctx.locks.lock(ctx.org).await;
    let started = ctx.clock.now();
    if !ctx.store.start_deploy_request(ctx.org, id, started).await? {
        let result = status::check_status(ctx.store, ctx.org, id)
            .await?
            .ok_or_else(|| DeployError::UnknownRequest(id.clone()))?;
        return Ok(DeployOutcome::unchanged(result));
    }
    let head = Head {
        id,
        created: request.created_at,
        started,
        user: &user,
        options,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match attempt_once(ctx, &head, zip).await {
            Err(DeployError::Store(StoreError::Conflict { .. })) if attempt < ATTEMPTS => {}
            // The store refuses to end a request that is not in progress any more: a cancel
            // came in between the last safe point and the write.
            Err(DeployError::Store(StoreError::Missing { .. }))
                if is_canceling(ctx, head.id).await? =>
            {
                return end_canceled(ctx, &head).await;
            }
            Err(e) => {
                abandon(ctx, &head).await;
                return Err(e);
            }
            Ok(outcome) => return Ok(outcome),
        }
    }
}

/// Plans the deploy on what the org holds now, and writes it.
async fn attempt_once(
    ctx: &DeployContext<'_>,
    head: &Head<'_>,
    zip: &[u8],
) -> Result<DeployOutcome, DeployError> {
    if is_canceling(ctx, head.id).await? {
        return end_canceled(ctx, head).await;
    }
    let now = ctx.clock.now();
    // Reading and validating are pure code over untrusted bytes: should they panic (a bug),
    // the deploy ends `Failed` (`run` abandons it) instead of unwinding past its request and
    // leaving it `InProgress` until the server restarts.
    let read = without_unwinding("reading the package", || {
        package::read(zip, ctx.version, now.secs())
    })?;
    if is_canceling(ctx, head.id).await? {
        return end_canceled(ctx, head).await;
    }
    let built = match read {
        Err(unreadable) => Built {
            result: outcome::unreadable(head, &unreadable, now),
            apply: false,
            components: Vec::new(),
            consumers: Vec::new(),
            audit: Vec::new(),
            deleted_apps: Vec::new(),
            deleted_consumers: Vec::new(),
            rotated_consumers: Vec::new(),
        },
        Ok(package) => {
            let planner = plan::plan(ctx, &package, head.options).await?;
            outcome::build(&planner, head, ctx.clock.now())
        }
    };
    if is_canceling(ctx, head.id).await? {
        return end_canceled(ctx, head).await;
    }
    let completed = ctx.clock.now();
    let finish = DeployFinish {
        id: head.id.clone(),
        status: built.result.status,
        result_json: to_json(&built.result)?,
    };
    if built.apply {
        ctx.store
            .apply_changes(&ChangeSet {
                org: ctx.org,
                user: ctx.user,
                at: completed,
                components: &built.components,
                consumers: &built.consumers,
                audit: &built.audit,
                finish: Some(&finish),
                // Deleting an app revokes every token it issued (`spec/metadata.md` §5.4), in
                // the same transaction. The components are gone, so the tokens would fail on
                // their next use anyway; revoked, they read so in introspection and the usage
                // API, and stay dead if an app of the same name comes back. Its users'
                // approvals go too: that app is another app, with its own consent (and JWT
                // bearer needs an approval or pre-authorization).
                deleted_apps: &built.deleted_apps,
            })
            .await?;
        end_refresh_tokens_by_new_policies(ctx, &built.components, completed).await?;
        Ok(DeployOutcome {
            result: built.result,
            deleted_apps: built.deleted_apps,
            deleted_consumers: built.deleted_consumers,
            rotated_consumers: built.rotated_consumers,
        })
    } else {
        ctx.store
            .finish_deploy_request(ctx.org, &finish, completed)
            .await?;
        Ok(DeployOutcome::unchanged(built.result))
    }
}

/// OAuth policies deployed with a refresh-token lifetime (`SpecificLifetime`, or `Zero`) end
/// the app's live refresh tokens that the new policy no longer accepts. The refresh grant
/// checks the current policy anyway; the stored end makes the Connect usage API, which reads
/// stored ends only, agree with it, and lets housekeeping delete the dead families. Inactivity
/// policies are housekeeping's (`expire_idle_refresh_tokens`).
async fn end_refresh_tokens_by_new_policies(
    ctx: &DeployContext<'_>,
    changes: &[ComponentChange],
    at: Timestamp,
) -> Result<(), DeployError> {
    let policies_type = MetadataType::OauthPolicies;
    for change in changes {
        let (ComponentChange::Create {
            type_name,
            full_name,
            app_name: Some(app),
            xml,
        }
        | ComponentChange::Update {
            type_name,
            full_name,
            app_name: Some(app),
            xml,
            ..
        }) = change
        else {
            continue;
        };
        if type_name != policies_type.name() {
            continue;
        }
        // The planner wrote this XML from a parsed component: it parses.
        let Ok(doc) = eca_metadata::xml::parse_str(xml) else {
            continue;
        };
        let Component::OauthPolicies(policies) =
            Component::from_element(policies_type, full_name, &doc.root)
        else {
            continue;
        };
        let lifetime = match RefreshPolicy::from_policies(Some(&policies)) {
            RefreshPolicy::Lifetime(ms) => Some(ms),
            RefreshPolicy::Zero | RefreshPolicy::Misconfigured => None,
            RefreshPolicy::Infinite | RefreshPolicy::Inactivity(_) => continue,
        };
        ctx.store
            .end_refresh_tokens_by_lifetime(ctx.org, app, lifetime, at)
            .await?;
    }
    Ok(())
}

/// Runs `f`, turning a panic into a server error named after what it was `doing`.
fn without_unwinding<T>(doing: &str, f: impl FnOnce() -> T) -> Result<T, DeployError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| DeployError::Internal(format!("{doing} panicked")))
}

/// Whether someone asked to cancel the request since it started.
async fn is_canceling(ctx: &DeployContext<'_>, id: &DeployRequestId) -> Result<bool, DeployError> {
    let request = ctx
        .store
        .deploy_request(ctx.org, id)
        .await?
        .ok_or_else(|| DeployError::UnknownRequest(id.clone()))?;
    Ok(request.status == DeployStatus::Canceling)
}

/// Ends a `Canceling` request `Canceled`, having changed nothing.
async fn end_canceled(
    ctx: &DeployContext<'_>,
    head: &Head<'_>,
) -> Result<DeployOutcome, DeployError> {
    let now = ctx.clock.now();
    let request = ctx
        .store
        .deploy_request(ctx.org, head.id)
        .await?
        .ok_or_else(|| DeployError::UnknownRequest(head.id.clone()))?;
    let mut result = outcome::empty_result(head, DeployStatus::Canceled, Some(now));
    status::fill_canceled(ctx.store, &request, &mut result).await?;
    let finish = DeployFinish {
        id: head.id.clone(),
        status: DeployStatus::Canceled,
        result_json: to_json(&result)?,
    };
    ctx.store
        .finish_deploy_request(ctx.org, &finish, now)
        .await?;
    Ok(DeployOutcome::unchanged(result))
}

/// Marks a request that met a server error failed, when the database still answers. The
/// error itself goes back to the caller, so a failure to record it is not reported twice.
async fn abandon(ctx: &DeployContext<'_>, head: &Head<'_>) {
    let now = ctx.clock.now();
    let mut result = outcome::empty_result(head, DeployStatus::Failed, Some(now));
    result.error_message =
        Some("The deploy failed because of a server error; nothing was changed.".to_owned());
    result.error_status_code = Some("UNKNOWN_EXCEPTION".to_owned());
    if let Ok(result_json) = to_json(&result) {
        let finish = DeployFinish {
            id: head.id.clone(),
            status: DeployStatus::Failed,
            result_json,
        };
        let _ = ctx.store.finish_deploy_request(ctx.org, &finish, now).await;
    }
}

/// The deploying user, who must be a user of the org.
async fn deployer(ctx: &DeployContext<'_>) -> Result<User, DeployError> {
    match ctx.store.user(ctx.user).await? {
        Some(user) if &user.org_id == ctx.org => Ok(user),
        _ => Err(DeployError::UnknownUser(ctx.user.clone())),
    }
}

pub(crate) fn to_json(result: &DeployResult) -> Result<String, DeployError> {
    serde_json::to_string(result).map_err(|e| DeployError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_server_error() {
        assert_eq!(without_unwinding("adding", || 1 + 1).ok(), Some(2));
        let failed = without_unwinding("reading the package", || -> u8 { panic!("a bug") });
        match failed {
            Err(DeployError::Internal(m)) => assert_eq!(m, "reading the package panicked"),
            other => panic!("{other:?}"),
        }
    }
}
