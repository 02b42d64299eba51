//! Server nodes sharing one database: which are alive, so that work a stopped node left
//! unfinished is ended by the others, and only that work.
//!
//! Each `eca serve` process is a node with a random id, new at every start
//! ([`AppState::node_id`]). It registers when it starts ([`join`]), says it is alive every
//! [`HEARTBEAT`] ([`run`]), and on a clean stop ends its own unfinished deploys and leaves
//! ([`leave`]). A node not seen for [`SILENCE_MS`] has stopped without saying so (it crashed or
//! lost the database): any live node then fails the deploys it had queued or running (within
//! 60 to 70 s of its last heartbeat, as the others check every [`HEARTBEAT`]), which had
//! changed nothing, since a deploy writes all its changes in one transaction at its end.
//!
//! So a node that starts (a rolling restart, a new node behind the load balancer) no longer
//! fails the deploys another live node is running. The price is for a node that crashed on
//! PostgreSQL: its deploys keep reading `InProgress` (or `Queued`) until it has been silent
//! for [`SILENCE_MS`] and another node has looked, then `Failed`. SQLite serves one node at a
//! time, so there a starting node fails every other node's deploys at once ([`join`]). The
//! nodes' clocks must agree to well within [`SILENCE_MS`] (each writes its own `seen_at`).

use std::time::Duration;

use eca_core::{Rng, Timestamp};
use eca_store::{Store, StoreResult, Unfinished};

use crate::state::AppState;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A node not seen alive for this long has stopped: six heartbeats missed.
pub const SILENCE_MS: i64 = 60_000;

/// A stopped node's row is deleted this long after it was last seen.
const FORGET_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

/// A fresh node id: 16 random hex digits.
pub fn new_id(rng: &dyn Rng) -> String {
    let mut bytes = [0u8; 8];
    rng.fill(&mut bytes);
    eca_core::crypto::hex(&bytes)
}

/// At start: registers `node` as alive at `now`, then fails the unfinished deploys of nodes
/// that stopped, and those recorded by versions before node ids (as those versions did at
/// their start). Returns how many deploys it failed.
///
/// On SQLite that is every other node at once: SQLite serves one node at a time (its access
/// tokens are answered before they are committed, `oauth::token_writer`), so whatever another
/// node left unfinished, that node has stopped, and a restart after a crash need not wait (nor
/// trust a clock that may have stepped back across the crash).
pub async fn join(store: &dyn Store, node: &str, now: Timestamp) -> StoreResult<u64> {
    store.touch_node(node, now).await?;
    let which = if store.backend() == "sqlite" {
        Unfinished::OfNodesOtherThan(node)
    } else {
        Unfinished::OfNodesSilentSince {
            since: silent_since(now),
            unclaimed: true,
        }
    };
    fail_deploys(store, which, now).await
}

/// Fails the unfinished deploys of every node not seen for [`SILENCE_MS`]. Returns how many.
///
/// Requests no node claims are left alone: a node of a version before node ids, still running
/// during a rolling upgrade, may be running them.
pub async fn fail_deploys_of_stopped_nodes(store: &dyn Store, now: Timestamp) -> StoreResult<u64> {
    let which = Unfinished::OfNodesSilentSince {
        since: silent_since(now),
        unclaimed: false,
    };
    fail_deploys(store, which, now).await
}

fn silent_since(now: Timestamp) -> Timestamp {
    Timestamp(now.millis() - SILENCE_MS)
}

async fn fail_deploys(
    store: &dyn Store,
    which: Unfinished<'_>,
    now: Timestamp,
) -> StoreResult<u64> {
    let failed = store.fail_unfinished_deploy_requests(which, now).await?;
    if failed > 0 {
        tracing::warn!(
            deploys = failed,
            "deploys left unfinished by a server node that stopped are marked failed; nothing of them was applied"
        );
    }
    Ok(failed)
}

/// Every [`HEARTBEAT`] until the task is dropped (`http::run` aborts it at shutdown): says
/// this node is alive, fails the deploys of nodes that stopped, and forgets nodes silent for a
/// day. A failed beat is logged and tried again at the next one.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(HEARTBEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let store = state.store();
        let now = state.clock().now();
        let beat = async {
            store.touch_node(state.node_id(), now).await?;
            fail_deploys_of_stopped_nodes(store, now).await?;
            store
                .remove_nodes_silent_since(Timestamp(now.millis() - FORGET_AFTER_MS))
                .await
        };
        if let Err(e) = beat.await {
            tracing::warn!(error = %e, "saying this server node is alive failed; it is tried again shortly");
        }
    }
}

/// At a clean stop: fails this node's deploys still queued or running (the process ends, and
/// they with it) and forgets the node, so that nobody waits [`SILENCE_MS`] for them.
pub async fn leave(state: &AppState) {
    let store = state.store();
    let now = state.clock().now();
    let left = async {
        let failed = store
            .fail_unfinished_deploy_requests(Unfinished::OfNode(state.node_id()), now)
            .await?;
        if failed > 0 {
            tracing::warn!(
                deploys = failed,
                "deploys still unfinished at shutdown are marked failed; nothing of them was applied"
            );
        }
        store.remove_node(state.node_id()).await
    };
    if let Err(e) = left.await {
        tracing::warn!(error = %e, "leaving the database's list of server nodes failed; its unfinished deploys end when another node finds it silent, or at the next start on SQLite");
    }
}
