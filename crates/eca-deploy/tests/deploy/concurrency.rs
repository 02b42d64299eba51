//! Deploys to one org run one at a time; deploys to different orgs do not wait for each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use eca_core::{Clock, Timestamp};
use eca_deploy::{DeployContext, DeployOptions};
use eca_store::{DeployRequestId, DeployStatus};

use crate::{TestOrg, World, header, oauth_app, package};

/// A clock that moves one millisecond at every reading, so that every event has its own time.
struct Ticking(AtomicI64);

impl Clock for Ticking {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.fetch_add(1, Ordering::SeqCst))
    }
}

fn ctx<'a>(world: &'a World, org: &'a TestOrg, clock: &'a dyn Clock) -> DeployContext<'a> {
    DeployContext {
        clock,
        ..world.ctx(org)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deploys_to_one_org_never_overlap() {
    let world = Arc::new(World::new().await);
    let orgs = [world.org("one").await, world.org("two").await];
    let clock = Arc::new(Ticking(AtomicI64::new(T0_MS)));
    let mut tasks = Vec::new();
    for n in 0..12 {
        let (world, clock) = (world.clone(), clock.clone());
        let org = orgs[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let ctx = ctx(&world, &org, &*clock);
            // Each deploy also redeploys a shared app, so they contend for the same rows.
            let mut files = oauth_app(&format!("App{n}"));
            files.push(header("Shared"));
            let outcome = eca_deploy::deploy(&ctx, &package(&files), DeployOptions::default())
                .await
                .unwrap();
            (n % 2, outcome.result)
        }));
    }
    let mut intervals: [Vec<(Timestamp, Timestamp)>; 2] = [Vec::new(), Vec::new()];
    for task in tasks {
        let (org, result) = task.await.unwrap();
        assert_eq!(
            result.status,
            DeployStatus::Succeeded,
            "{:#?}",
            result.details.component_failures
        );
        let id = DeployRequestId::parse(&result.id).unwrap();
        let request = world
            .store
            .deploy_request(&orgs[org].org.id, &id)
            .await
            .unwrap()
            .unwrap();
        intervals[org].push((request.started_at.unwrap(), request.completed_at.unwrap()));
    }
    for list in &mut intervals {
        list.sort();
        for pair in list.windows(2) {
            assert!(
                pair[0].1 < pair[1].0,
                "deploys of one org overlapped: {pair:?}"
            );
        }
    }
    for org in &orgs {
        // Six apps of five components, and the shared header with its app policy.
        assert_eq!(world.store.components(&org.org.id).await.unwrap().len(), 32);
    }
}

const T0_MS: i64 = 1_795_651_200_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_org_does_not_hold_up_another() {
    let world = Arc::new(World::new().await);
    let busy = world.org("busy").await;
    let free = world.org("free").await;
    // Someone holds the busy org's lock (a long deploy).
    let turn = world.locks.lock(&busy.org.id).await;

    let id = eca_deploy::submit(&world.ctx(&busy), DeployOptions::default())
        .await
        .unwrap();
    let waiting = {
        let (world, busy, id) = (world.clone(), busy.clone(), id.clone());
        tokio::spawn(async move {
            let zip = package(&[header("Late")]);
            eca_deploy::run(&world.ctx(&busy), &id, &zip, DeployOptions::default())
                .await
                .unwrap()
        })
    };
    // The other org deploys meanwhile.
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        world.deploy(&free, &package(&[header("Now")]), DeployOptions::default()),
    )
    .await
    .expect("another org's deploy does not wait");
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    // The busy org's deploy has not started.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let request = world
        .store
        .deploy_request(&busy.org.id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.status, DeployStatus::Queued);
    assert!(!waiting.is_finished());

    drop(turn);
    let outcome = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.result.status, DeployStatus::Succeeded);
    assert!(
        world
            .xml(
                &busy,
                eca_metadata::MetadataType::ExternalClientApplication,
                "Late"
            )
            .await
            .is_some()
    );
}

/// `cancelDeploy` of a deploy in progress: the run notices at its next safe point, ends the
/// request `Canceled` with `canceledBy`, and the org is exactly as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_canceled_while_in_progress_changes_nothing() {
    cancel_in_progress_on(World::new().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_canceled_while_in_progress_changes_nothing_on_postgres() {
    World::on_postgres(cancel_in_progress_on).await;
}

async fn cancel_in_progress_on(world: World) {
    let org = world.org("acme").await;
    world
        .deploy_ok(&org, &package(&oauth_app("Existing")))
        .await;
    let before = world.snapshot(&org).await;

    // Large enough that the run is still going when the cancel comes in.
    let files: Vec<_> = (0..300)
        .flat_map(|i| oauth_app(&format!("App{i}")))
        .collect();
    let zip = package(&files);
    let id = eca_deploy::submit(&world.ctx(&org), DeployOptions::default())
        .await
        .unwrap();
    let running = {
        let (store, clock, rng, key, locks) = (
            world.store.clone(),
            world.clock.clone(),
            world.rng.clone(),
            world.key.clone(),
            world.locks.clone(),
        );
        let (org, id) = (org.clone(), id.clone());
        tokio::spawn(async move {
            let ctx = DeployContext {
                store: &*store,
                org: &org.org.id,
                user: &org.admin.id,
                clock: &*clock,
                rng: &*rng,
                master_key: &key,
                locks: &locks,
                version: eca_metadata::ApiVersion::DEFAULT,
                node: "test-node",
            };
            eca_deploy::run(&ctx, &id, &zip, DeployOptions::default()).await
        })
    };
    while world
        .store
        .deploy_request(&org.org.id, &id)
        .await
        .unwrap()
        .unwrap()
        .status
        == DeployStatus::Queued
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let canceling = eca_deploy::cancel(
        &*world.store,
        &*world.clock,
        &org.org.id,
        &id,
        &org.run_as.id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (canceling.status, canceling.done, canceling.success),
        (DeployStatus::Canceling, false, false),
        "the deploy finished before the cancel: make the package larger"
    );
    assert_eq!(canceling.canceled_by, Some(org.run_as.id.to_string()));

    let outcome = running.await.unwrap().unwrap();
    assert_eq!(
        (
            outcome.result.status,
            outcome.result.done,
            outcome.result.success
        ),
        (DeployStatus::Canceled, true, false)
    );
    assert!(outcome.deleted_apps.is_empty() && outcome.rotated_consumers.is_empty());
    let status = eca_deploy::check_status(&*world.store, &org.org.id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, outcome.result, "the stored result is the run's");
    assert_eq!(
        (status.canceled_by, status.canceled_by_name),
        (Some(org.run_as.id.to_string()), Some(org.run_as.name()))
    );
    assert!(status.completed_date.is_some() && status.start_date.is_some());
    assert_eq!(world.snapshot(&org).await, before);
}
