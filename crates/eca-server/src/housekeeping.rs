//! Housekeeping: rows nothing will use again are deleted in the background, so the database
//! stays bounded however long the server runs and however many tokens it issues.
//!
//! - Web sessions once they expire.
//! - Access tokens [`ACCESS_TOKEN_GRACE_MINUTES`] after they expire, revoked or not, those
//!   keyed by their hash alone by earlier versions included. A deleted token answers exactly
//!   as an expired one did: bearer calls get `INVALID_SESSION_ID`, introspection
//!   `active: false`, and the Connect usage API never listed it.
//! - Metadata API retrieve results (their zips) once they expire (an hour after the retrieve).
//! - Authorization codes a day after they expire (kept that long so that a replay still
//!   revokes what the code issued), and device codes one lifetime after they expire (a late
//!   poll still hears `expired_token`).
//!
//! - Refresh tokens once their family is dead: every token of it rotated, or revoked or
//!   expired (a stored end) more than [`ACCESS_TOKEN_GRACE_MINUTES`] ago. While a family
//!   lives its rotated tokens stay, because presenting one is what reveals a stolen family;
//!   a token an access token still names stays until that access token is deleted. A
//!   deleted refresh token answers as a revoked one did: `invalid_grant`.
//!
//! - Refresh tokens of an app whose policy is `SpecificInactivity` are first given an end
//!   once unused for longer than the period plus [`ACCESS_TOKEN_GRACE_MINUTES`]
//!   ([`expire_idle_refresh_tokens`]); their families are then dead as above. The refresh
//!   grant refused them already, as it checks the app's current policy at each use; ended,
//!   they also leave the Connect usage API's listings, and a later, longer period does not
//!   bring them back. An end is not a revocation: the access tokens they issued are left to
//!   expire. Under `Infinite` a token lives until revoked, so it stays.
//!
//! Every node sweeps every [`EVERY`], the first time when it starts. Nodes sharing a database
//! may sweep at the same moment; a delete is idempotent, so they only share the work.

use std::time::Duration;

use eca_core::Timestamp;
use eca_metadata::MetadataType;
use eca_oauth::RefreshPolicy;
use eca_oauth::device::DEVICE_CODE_MINUTES;
use eca_oauth::tokens;
use eca_store::{Store, StoreResult};

use crate::error::ApiError;
use crate::oauth::authorize::CODE_RETENTION_MINUTES;
use crate::oauth::registry;
use crate::state::AppState;

/// How often a server sweeps.
pub const EVERY: Duration = Duration::from_secs(300);

/// How long an expired access token is kept: a node whose clock is a little behind still finds
/// it, and still answers that it expired.
pub const ACCESS_TOKEN_GRACE_MINUTES: i64 = 60;

/// Access tokens deleted per statement: a backlog of millions is deleted in short steps,
/// between which the token writer gets the (SQLite) write lock.
const ACCESS_TOKEN_STEP: i64 = 1_000;

/// Refresh-token families looked at per step (each step is one read and at most one delete).
const REFRESH_FAMILY_STEP: i64 = 1_000;

/// Idle refresh tokens ended per statement.
const IDLE_REFRESH_STEP: i64 = 1_000;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub authorization_codes: u64,
    pub device_codes: u64,
    pub retrieves: u64,
}

/// Deletes what is past use at `now`.
pub async fn sweep(store: &dyn Store, now: Timestamp) -> StoreResult<Swept> {
    let sessions = store.delete_expired_sessions(now).await?;
    // Metadata API retrieve results (zips) kept for `checkRetrieveStatus` until they expire.
    let retrieves = store.delete_expired_retrieves(now).await?;
    let authorization_codes = store
        .delete_expired_authorization_codes(now.plus_minutes(-CODE_RETENTION_MINUTES))
        .await?;
    let device_codes = store
        .delete_expired_device_codes(now.plus_minutes(-DEVICE_CODE_MINUTES))
        .await?;
    // A token that expired before `before` was issued before it too: only keys below the
    // bound of that time are read, never the newest tokens.
    let before = now.plus_minutes(-ACCESS_TOKEN_GRACE_MINUTES);
    let below = tokens::access_token_keys_from(before);
    let below = below.as_str();
    let access_tokens = in_steps(|after| async move {
        store
            .delete_expired_access_tokens(before, &after, below, ACCESS_TOKEN_STEP)
            .await
    })
    .await?;
    // Tokens of earlier versions, keyed by their hash alone: most sort above the bound.
    let hash_keyed = in_steps(|after| async move {
        store
            .delete_expired_hash_keyed_access_tokens(before, &after, ACCESS_TOKEN_STEP)
            .await
    })
    .await?;
    let access_tokens = access_tokens + hash_keyed;
    // After the access tokens: a refresh token stays while an access token names it.
    let refresh_tokens = in_steps(|after| async move {
        store
            .delete_dead_refresh_tokens(before, &after, REFRESH_FAMILY_STEP)
            .await
    })
    .await?;
    Ok(Swept {
        sessions,
        retrieves,
        access_tokens,
        refresh_tokens,
        authorization_codes,
        device_codes,
    })
}

/// Ends (a stored end, not a revocation) the refresh tokens without a stored end that apps
/// with a lifetime policy (`SpecificLifetime`, `Zero`) no longer accept, and those that apps
/// with an inactivity policy (`SpecificInactivity`) no longer accept: unused for longer than the app's current
/// period plus [`ACCESS_TOKEN_GRACE_MINUTES`]. The grace covers clocks a little apart and a
/// use still queued in the token writer: a token the refresh grant accepted a moment ago was
/// last used less than one period before that. Returns how many were ended.
pub async fn expire_idle_refresh_tokens(state: &AppState, now: Timestamp) -> Result<u64, ApiError> {
    let store = state.store();
    let mut ended = 0;
    for org in store.orgs().await? {
        let headers = store
            .components_of_type(&org.id, MetadataType::ExternalClientApplication.name())
            .await?;
        for header in headers {
            let consumers = store.consumers_of_app(&org.id, &header.full_name).await?;
            let Some(consumer) = consumers.first() else {
                continue;
            };
            let Some(app) = registry::by_consumer_id(state, &consumer.id).await? else {
                continue;
            };
            let app_name = app.name.as_str();
            ended += match RefreshPolicy::from_policies(app.policies.as_ref()) {
                RefreshPolicy::Infinite => 0,
                RefreshPolicy::Inactivity(period) => {
                    let used_before = Timestamp::from_millis(
                        now.millis()
                            .saturating_sub(period)
                            .saturating_sub(ACCESS_TOKEN_GRACE_MINUTES * 60_000),
                    );
                    until_fewer(|| {
                        store.expire_idle_refresh_tokens(
                            &org.id,
                            app_name,
                            used_before,
                            now,
                            IDLE_REFRESH_STEP,
                        )
                    })
                    .await?
                }
                // A lifetime policy gives each token an end when it is issued, and a deploy of
                // the policy gives one to the tokens it finds; a refresh or code exchange that
                // read the app's earlier policy just before may still write a token without
                // one. Those get it here.
                policy @ (RefreshPolicy::Lifetime(_)
                | RefreshPolicy::Zero
                | RefreshPolicy::Misconfigured) => {
                    let lifetime = match policy {
                        RefreshPolicy::Lifetime(ms) => Some(ms),
                        _ => None,
                    };
                    until_fewer(|| {
                        store.end_endless_refresh_tokens(
                            &org.id,
                            app_name,
                            lifetime,
                            now,
                            IDLE_REFRESH_STEP,
                        )
                    })
                    .await?
                }
            };
        }
    }
    Ok(ended)
}

/// Runs a step that ends at most [`IDLE_REFRESH_STEP`] tokens until one ends fewer (all are
/// done). Yields between steps. Returns the tokens ended.
async fn until_fewer<F, Fut>(mut step: F) -> StoreResult<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<u64>>,
{
    let mut total = 0;
    loop {
        let n = step().await?;
        total += n;
        if n < IDLE_REFRESH_STEP.unsigned_abs() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs a paged delete to its end: `step(after)` deletes some rows and says where to go on
/// (`None` at the end), starting from `""`. Yields between steps. Returns the rows deleted.
async fn in_steps<F, Fut>(mut step: F) -> StoreResult<u64>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = StoreResult<(u64, Option<String>)>>,
{
    let mut after = String::new();
    let mut total = 0;
    loop {
        let (deleted, next) = step(after).await?;
        total += deleted;
        match next {
            Some(key) => after = key,
            None => return Ok(total),
        }
        tokio::task::yield_now().await;
    }
}

/// Sweeps every [`EVERY`] until the task is dropped (`http::run` aborts it at shutdown). A
/// failed sweep is logged and tried again at the next one.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = state.clock().now();
        // Before the sweep, which then deletes the families these ends killed.
        match expire_idle_refresh_tokens(&state, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                refresh_tokens = n,
                "refresh tokens unused for longer than their app's inactivity period ended"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "ending idle refresh tokens failed; it runs again later")
            }
        }
        match sweep(state.store(), now).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(
                sessions = swept.sessions,
                access_tokens = swept.access_tokens,
                refresh_tokens = swept.refresh_tokens,
                authorization_codes = swept.authorization_codes,
                device_codes = swept.device_codes,
                retrieves = swept.retrieves,
                "expired sessions, tokens, codes and retrieve results deleted"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it runs again later"),
        }
    }
}
