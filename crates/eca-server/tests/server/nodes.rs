//! Server nodes sharing one database (`nodes.rs`): a node that joins fails only the deploys of
//! nodes that stopped (on PostgreSQL; SQLite serves one node at a time), a node that stops
//! cleanly fails its own, and a node silent for a minute counts as stopped.

use std::sync::Arc;

use eca_core::crypto::MasterKey;
use eca_core::rng::DeterministicRng;
use eca_core::{Clock, ManualClock, Secret, Timestamp};
use eca_server::bootstrap::{ADMIN_USERNAME, BootstrapOptions};
use eca_server::nodes::{self, SILENCE_MS};
use eca_server::{AppState, PublicUrl, Settings};
use eca_store::{DeployRequest, DeployRequestId, DeployStatus, Store};

use crate::support::START;

/// Two server nodes on `store`, each with its own state (and node id), one clock.
struct Nodes {
    clock: Arc<ManualClock>,
    a: AppState,
    b: AppState,
}

async fn two_nodes(store: Arc<dyn Store>) -> Nodes {
    let clock = Arc::new(ManualClock::new(START));
    let options = BootstrapOptions {
        admin_password: Some(Secret::new("Admin-Password-1234")),
        demo: false,
    };
    eca_server::bootstrap(
        store.as_ref(),
        clock.as_ref(),
        Arc::new(DeterministicRng::new(1)),
        &options,
    )
    .await
    .expect("bootstrap");
    let node = |seed: u64| {
        let rng = Arc::new(DeterministicRng::new(seed));
        let (key, _) = MasterKey::generate(rng.as_ref()).expect("a master key");
        let settings =
            Settings::new(PublicUrl::parse("http://127.0.0.1:8080").expect("a public URL"));
        let clock: Arc<dyn Clock> = clock.clone();
        AppState::new(Arc::clone(&store), clock, rng, key, settings)
    };
    let (a, b) = (node(2), node(3));
    assert_ne!(a.node_id(), b.node_id());
    Nodes { clock, a, b }
}

/// Records a deploy request of `node`, running (`InProgress`) when `running`.
async fn deploy_of(
    store: &dyn Store,
    node: Option<&str>,
    running: bool,
    at: Timestamp,
) -> DeployRequestId {
    let org = store
        .default_org()
        .await
        .expect("a read")
        .expect("the default org");
    let admin = store
        .user_by_username(ADMIN_USERNAME)
        .await
        .expect("a read")
        .expect("the admin");
    let id = DeployRequestId::generate(&eca_core::SystemRng);
    store
        .create_deploy_request(&DeployRequest {
            id: id.clone(),
            org_id: org.id.clone(),
            created_by: admin.id,
            status: DeployStatus::Queued,
            options_json: "{}".to_owned(),
            result_json: None,
            created_at: at,
            started_at: None,
            completed_at: None,
            canceled_by: None,
            node_id: node.map(str::to_owned),
        })
        .await
        .expect("the request is recorded");
    if running {
        assert!(
            store
                .start_deploy_request(&org.id, &id, at)
                .await
                .expect("a write")
        );
    }
    id
}

async fn status(store: &dyn Store, id: &DeployRequestId) -> DeployStatus {
    let org = store
        .default_org()
        .await
        .expect("a read")
        .expect("the default org");
    store
        .deploy_request(&org.id, id)
        .await
        .expect("a read")
        .expect("the request")
        .status
}

fn advance(clock: &ManualClock, millis: i64) {
    clock.set(Timestamp(clock.now().millis() + millis));
}

/// A second node joins while the first runs a deploy (a rolling restart, a node added behind
/// the load balancer): the deploy runs on. Then the first stops cleanly: its deploys end.
#[tokio::test]
async fn on_postgres_a_joining_node_fails_only_the_deploys_of_stopped_nodes() {
    let test = "on_postgres_a_joining_node_fails_only_the_deploys_of_stopped_nodes";
    crate::support::on_postgres(test, |db| async move {
        let Nodes { clock, a, b } = two_nodes(db.store).await;
        let store = a.store();
        nodes::join(store, a.node_id(), clock.now()).await.unwrap();
        let running = deploy_of(store, Some(a.node_id()), true, clock.now()).await;
        let queued = deploy_of(store, Some(a.node_id()), false, clock.now()).await;
        // A node that crashed long ago, and never said it was alive on this database.
        let orphan = deploy_of(store, Some("00000000deadbeef"), true, clock.now()).await;
        // One recorded by a version before node ids: failed when a node starts, as then.
        let unclaimed = deploy_of(store, None, true, clock.now()).await;

        advance(&clock, 5_000);
        assert_eq!(
            nodes::join(store, b.node_id(), clock.now()).await.unwrap(),
            2
        );
        assert_eq!(status(store, &running).await, DeployStatus::InProgress);
        assert_eq!(status(store, &queued).await, DeployStatus::Queued);
        assert_eq!(status(store, &orphan).await, DeployStatus::Failed);
        assert_eq!(status(store, &unclaimed).await, DeployStatus::Failed);

        nodes::leave(&a).await;
        assert_eq!(status(store, &running).await, DeployStatus::Failed);
        assert_eq!(status(store, &queued).await, DeployStatus::Failed);
    })
    .await;
}

/// SQLite serves one node at a time: a node that starts there finds every other node stopped
/// (a restart after a crash), and fails what they left at once.
#[tokio::test]
async fn on_sqlite_a_starting_node_fails_what_earlier_nodes_left_at_once() {
    let store = eca_store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    let Nodes { clock, a, b } = two_nodes(store).await;
    let store = a.store();
    nodes::join(store, a.node_id(), clock.now()).await.unwrap();
    let running = deploy_of(store, Some(a.node_id()), true, clock.now()).await;
    // The first node crashed; the second starts a second later, well within a minute.
    advance(&clock, 1_000);
    assert_eq!(
        nodes::join(store, b.node_id(), clock.now()).await.unwrap(),
        1
    );
    assert_eq!(status(store, &running).await, DeployStatus::Failed);
    // The new node's own deploys are its own.
    let own = deploy_of(store, Some(b.node_id()), true, clock.now()).await;
    assert_eq!(
        nodes::join(store, b.node_id(), clock.now()).await.unwrap(),
        0
    );
    assert_eq!(status(store, &own).await, DeployStatus::InProgress);
}

#[tokio::test]
async fn a_node_silent_for_a_minute_has_its_deploys_failed() {
    let store = eca_store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    let Nodes { clock, a, b } = two_nodes(store).await;
    let store = b.store();
    store.touch_node(a.node_id(), clock.now()).await.unwrap();
    store.touch_node(b.node_id(), clock.now()).await.unwrap();
    let id = deploy_of(store, Some(a.node_id()), true, clock.now()).await;
    // A node of a version before node ids may still be running this one (an upgrade).
    let unclaimed = deploy_of(store, None, true, clock.now()).await;

    // `a` says it is alive (its heartbeat) within every minute: its deploy runs on.
    advance(&clock, SILENCE_MS - 1_000);
    store.touch_node(a.node_id(), clock.now()).await.unwrap();
    advance(&clock, SILENCE_MS - 1_000);
    assert_eq!(
        nodes::fail_deploys_of_stopped_nodes(store, clock.now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(status(store, &id).await, DeployStatus::InProgress);

    // Then `a` falls silent (a crash): a minute on, `b` fails what it had running.
    advance(&clock, 2_000);
    assert_eq!(
        nodes::fail_deploys_of_stopped_nodes(store, clock.now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(status(store, &id).await, DeployStatus::Failed);
    assert_eq!(status(store, &unclaimed).await, DeployStatus::InProgress);
}
