//! The [`MetadataStore`] contract: components, consumers, deploy requests and the audit trail,
//! and above all that a change set is written whole or not at all.

use eca_core::{SystemRng, Timestamp};
use eca_store::{
    AuditAction, AuditEntry, CancelOutcome, ChangeSet, ComponentChange, ConsumerChange, ConsumerId,
    DeployFinish, DeployRequest, DeployRequestId, DeployStatus, OauthConsumer, Store, StoreError,
    StoredRetrieve, Unfinished,
};

use crate::{Env, T0, assert_conflict, assert_missing, seed};

on_every_backend!(
    components_are_created_read_updated_and_deleted,
    a_stale_revision_undoes_the_whole_change_set,
    a_failing_change_set_writes_nothing_at_all,
    consumers_are_unique_by_key_across_orgs,
    consumer_rotation_and_deletion,
    deploy_requests_move_through_their_states,
    a_running_deploy_is_canceled_at_its_end,
    a_canceling_deploy_cannot_apply_its_changes,
    only_the_deploys_of_stopped_nodes_are_failed,
    retrieves_are_kept_per_org_until_they_expire,
    finishing_with_the_changes_is_atomic,
    audit_trail_lists_changes_in_order,
    rows_name_only_users_of_their_org,
    an_app_keeps_one_component_of_each_satellite_type,
);

const HEADER: &str = "ExternalClientApplication";
const OAUTH: &str = "ExtlClntAppOauthSettings";

fn create(type_name: &str, full_name: &str, app: Option<&str>, xml: &str) -> ComponentChange {
    ComponentChange::Create {
        type_name: type_name.to_owned(),
        full_name: full_name.to_owned(),
        app_name: app.map(str::to_owned),
        xml: xml.to_owned(),
    }
}

fn audit(action: AuditAction, type_name: &str, full_name: &str) -> AuditEntry {
    AuditEntry {
        action,
        type_name: type_name.to_owned(),
        full_name: full_name.to_owned(),
        before_xml: None,
        after_xml: Some("<x/>".to_owned()),
    }
}

fn consumer(org: &eca_core::OrgId, app: &str, key: &str) -> OauthConsumer {
    OauthConsumer {
        id: ConsumerId::generate(&SystemRng),
        org_id: org.clone(),
        app_name: app.to_owned(),
        consumer_key: key.to_owned(),
        encrypted_secret: vec![0, 1, 2, 255, 254],
        created_at: T0,
        updated_at: T0,
    }
}

/// A change set of only component changes and consumer changes, at `at`.
async fn apply(
    store: &dyn Store,
    org: &eca_core::OrgId,
    user: &eca_core::UserId,
    at: Timestamp,
    components: &[ComponentChange],
    consumers: &[ConsumerChange],
) -> Result<(), StoreError> {
    store
        .apply_changes(&ChangeSet {
            org,
            user,
            at,
            components,
            consumers,
            audit: &[],
            finish: None,
            deleted_apps: &[],
        })
        .await
}

async fn components_are_created_read_updated_and_deleted(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, other_user) = seed(&*s, "other", "dev@other.test").await;
    let changes = [
        create(HEADER, "MyApp", Some("MyApp"), "<header/>"),
        create(OAUTH, "MyApp_oauth", Some("MyApp"), "<oauth/>"),
        create(HEADER, "Zed", Some("Zed"), "<zed/>"),
        create(
            "ExternalClientAppSettings",
            "ExternalClientApp",
            None,
            "<s/>",
        ),
    ];
    apply(&*s, &org.id, &user.id, T0, &changes, &[])
        .await
        .unwrap();
    // The same names in another org are other rows.
    apply(&*s, &other.id, &other_user.id, T0, &changes[..1], &[])
        .await
        .unwrap();

    let header = s
        .component(&org.id, HEADER, "myapp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (header.full_name.as_str(), header.app_name.as_deref()),
        ("MyApp", Some("MyApp"))
    );
    assert_eq!(
        (header.revision, header.created_at, header.updated_at),
        (1, T0, T0)
    );
    assert_eq!(header.created_by, user.id);
    assert_eq!(
        s.component(&org.id, OAUTH, "myapp_OAUTH")
            .await
            .unwrap()
            .unwrap()
            .xml,
        "<oauth/>"
    );
    assert_eq!(s.component(&org.id, OAUTH, "Nope").await.unwrap(), None);
    assert_eq!(s.component(&org.id, "Other", "MyApp").await.unwrap(), None);

    let names = |v: Vec<eca_store::StoredComponent>| -> Vec<String> {
        v.into_iter()
            .map(|c| format!("{}:{}", c.type_name, c.full_name))
            .collect()
    };
    assert_eq!(
        names(s.components_of_type(&org.id, HEADER).await.unwrap()),
        [
            "ExternalClientApplication:MyApp",
            "ExternalClientApplication:Zed"
        ]
    );
    assert_eq!(
        names(s.components_of_app(&org.id, "MYAPP").await.unwrap()),
        [
            "ExternalClientApplication:MyApp",
            "ExtlClntAppOauthSettings:MyApp_oauth",
        ]
    );
    assert_eq!(s.components(&org.id).await.unwrap().len(), 4);
    assert_eq!(s.components(&other.id).await.unwrap().len(), 1);

    // An update names the revision it read, and may respell the name.
    let later = T0.plus_secs(60);
    let update = ComponentChange::Update {
        type_name: HEADER.to_owned(),
        full_name: "MYAPP".to_owned(),
        app_name: Some("MYAPP".to_owned()),
        xml: "<header2/>".to_owned(),
        revision: 1,
    };
    apply(&*s, &org.id, &user.id, later, &[update], &[])
        .await
        .unwrap();
    let header = s
        .component(&org.id, HEADER, "MyApp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (header.full_name.as_str(), header.xml.as_str()),
        ("MYAPP", "<header2/>")
    );
    assert_eq!(
        (header.revision, header.created_at, header.updated_at),
        (2, T0, later)
    );

    let delete = ComponentChange::Delete {
        type_name: HEADER.to_owned(),
        full_name: "myapp".to_owned(),
        revision: 2,
    };
    apply(&*s, &org.id, &user.id, later, &[delete], &[])
        .await
        .unwrap();
    assert_eq!(s.component(&org.id, HEADER, "MyApp").await.unwrap(), None);
    assert!(
        s.component(&other.id, HEADER, "MyApp")
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_stale_revision_undoes_the_whole_change_set(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[create(HEADER, "A", Some("A"), "<a/>")],
        &[],
    )
    .await
    .unwrap();
    for stale in [
        ComponentChange::Update {
            type_name: HEADER.to_owned(),
            full_name: "A".to_owned(),
            app_name: Some("A".to_owned()),
            xml: "<a2/>".to_owned(),
            revision: 7,
        },
        ComponentChange::Delete {
            type_name: HEADER.to_owned(),
            full_name: "A".to_owned(),
            revision: 7,
        },
        ComponentChange::Delete {
            type_name: HEADER.to_owned(),
            full_name: "Gone".to_owned(),
            revision: 1,
        },
    ] {
        let changes = [create(HEADER, "B", Some("B"), "<b/>"), stale];
        assert_conflict(
            apply(&*s, &org.id, &user.id, T0, &changes, &[]).await,
            "component changed since it was read",
        );
        assert_eq!(s.component(&org.id, HEADER, "B").await.unwrap(), None);
        assert_eq!(
            s.component(&org.id, HEADER, "A")
                .await
                .unwrap()
                .unwrap()
                .xml,
            "<a/>"
        );
    }
}

async fn a_failing_change_set_writes_nothing_at_all(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let id = DeployRequestId::generate(&SystemRng);
    s.create_deploy_request(&request(&org, &user, &id))
        .await
        .unwrap();
    assert!(s.start_deploy_request(&org.id, &id, T0).await.unwrap());
    // The last statement (a duplicate) fails: the components, consumer, audit entries and the
    // request's end before it must all be undone.
    let components = [
        create(HEADER, "A", Some("A"), "<a/>"),
        create(OAUTH, "A_oauth", Some("A"), "<o/>"),
    ];
    let consumers = [
        ConsumerChange::Create(consumer(&org.id, "A", "3MVG9key")),
        ConsumerChange::Create(consumer(&org.id, "A", "3MVG9key")),
    ];
    let entries = [audit(AuditAction::Created, HEADER, "A")];
    let finish = DeployFinish {
        id: id.clone(),
        status: DeployStatus::Succeeded,
        result_json: "{}".to_owned(),
    };
    let result = s
        .apply_changes(&ChangeSet {
            org: &org.id,
            user: &user.id,
            at: T0,
            components: &components,
            consumers: &consumers,
            audit: &entries,
            finish: Some(&finish),
            deleted_apps: &[],
        })
        .await;
    assert_conflict(result, "consumer key");
    assert_eq!(s.components(&org.id).await.unwrap(), vec![]);
    assert_eq!(s.consumer_by_key("3MVG9key").await.unwrap(), None);
    assert_eq!(s.audit_trail(&org.id, 0, 100).await.unwrap(), vec![]);
    let req = s.deploy_request(&org.id, &id).await.unwrap().unwrap();
    assert_eq!(
        (req.status, req.result_json),
        (DeployStatus::InProgress, None)
    );

    // A duplicate component name (case-insensitive) is a conflict too.
    let dup = [
        create(HEADER, "A", Some("A"), "<a/>"),
        create(HEADER, "a", Some("a"), "<a/>"),
    ];
    assert_conflict(
        apply(&*s, &org.id, &user.id, T0, &dup, &[]).await,
        "component",
    );
    assert_eq!(s.components(&org.id).await.unwrap(), vec![]);
}

async fn consumers_are_unique_by_key_across_orgs(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, other_user) = seed(&*s, "other", "dev@other.test").await;
    let first = consumer(&org.id, "MyApp", "3MVG9first");
    let second = OauthConsumer {
        created_at: T0.plus_secs(1),
        ..consumer(&org.id, "MyApp", "3MVG9second")
    };
    apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[],
        &[
            ConsumerChange::Create(second.clone()),
            ConsumerChange::Create(first.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(s.consumer(&first.id).await.unwrap().as_ref(), Some(&first));
    assert_eq!(
        s.consumer_by_key("3MVG9second").await.unwrap().as_ref(),
        Some(&second)
    );
    assert_eq!(
        s.consumer_by_key("3mvg9second").await.unwrap(),
        None,
        "keys are case-sensitive"
    );
    assert_eq!(
        s.consumers_of_app(&org.id, "myapp").await.unwrap(),
        vec![first.clone(), second.clone()],
        "oldest first, app name case-insensitive"
    );
    assert_eq!(
        s.consumers_of_app(&other.id, "MyApp").await.unwrap(),
        vec![]
    );

    // Another org may not take the key.
    let taken = consumer(&other.id, "Theirs", "3MVG9first");
    assert_conflict(
        apply(
            &*s,
            &other.id,
            &other_user.id,
            T0,
            &[],
            &[ConsumerChange::Create(taken)],
        )
        .await,
        "consumer key",
    );
    // A change set may not create a consumer in another org.
    let foreign = consumer(&other.id, "Theirs", "3MVG9foreign");
    assert!(matches!(
        apply(
            &*s,
            &org.id,
            &user.id,
            T0,
            &[],
            &[ConsumerChange::Create(foreign)]
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    // Debug output never shows the secret bytes. (The random record id may well contain the
    // digits "255", so the check looks for the list itself, which no id can contain.)
    let shown = format!("{first:?}");
    assert!(!shown.contains("255, 254"), "{shown}");
    assert!(shown.contains(r#"encrypted_secret: "***""#), "{shown}");
}

async fn consumer_rotation_and_deletion(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, other_user) = seed(&*s, "other", "dev@other.test").await;
    let c = consumer(&org.id, "MyApp", "3MVG9old");
    let d = consumer(&org.id, "Other", "3MVG9taken");
    apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[],
        &[ConsumerChange::Create(c.clone()), ConsumerChange::Create(d)],
    )
    .await
    .unwrap();
    let later = T0.plus_secs(5);
    apply(
        &*s,
        &org.id,
        &user.id,
        later,
        &[],
        &[
            ConsumerChange::RotateKey {
                id: c.id.clone(),
                expected_key: "3MVG9old".to_owned(),
                consumer_key: "3MVG9new".to_owned(),
            },
            ConsumerChange::RotateSecret {
                id: c.id.clone(),
                expected_key: "3MVG9new".to_owned(),
                encrypted_secret: vec![9; 40],
            },
        ],
    )
    .await
    .unwrap();
    let now = s.consumer(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (
            now.consumer_key.as_str(),
            now.encrypted_secret.clone(),
            now.updated_at,
            now.created_at
        ),
        ("3MVG9new", vec![9; 40], later, T0)
    );
    assert_eq!(s.consumer_by_key("3MVG9old").await.unwrap(), None);
    // A rotation planned on a key the consumer no longer has (a Connect rotation swapped
    // another in meanwhile) changes nothing.
    for stale in [
        ConsumerChange::RotateKey {
            id: c.id.clone(),
            expected_key: "3MVG9old".to_owned(),
            consumer_key: "3MVG9newer".to_owned(),
        },
        ConsumerChange::RotateSecret {
            id: c.id.clone(),
            expected_key: "3MVG9old".to_owned(),
            encrypted_secret: vec![7; 40],
        },
    ] {
        assert!(matches!(
            apply(&*s, &org.id, &user.id, later, &[], &[stale]).await,
            Err(StoreError::Conflict { .. })
        ));
    }
    assert_eq!(s.consumer(&c.id).await.unwrap().unwrap(), now);
    // A key taken by another consumer cannot be rotated to.
    let rotate = ConsumerChange::RotateKey {
        id: c.id.clone(),
        expected_key: "3MVG9new".to_owned(),
        consumer_key: "3MVG9taken".to_owned(),
    };
    assert_conflict(
        apply(&*s, &org.id, &user.id, later, &[], &[rotate]).await,
        "consumer key",
    );
    // Another org cannot touch the consumer.
    let delete = ConsumerChange::Delete { id: c.id.clone() };
    assert!(matches!(
        apply(
            &*s,
            &other.id,
            &other_user.id,
            later,
            &[],
            std::slice::from_ref(&delete)
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    apply(
        &*s,
        &org.id,
        &user.id,
        later,
        &[],
        std::slice::from_ref(&delete),
    )
    .await
    .unwrap();
    assert_eq!(s.consumer(&c.id).await.unwrap(), None);
    assert_conflict(
        apply(&*s, &org.id, &user.id, later, &[], &[delete]).await,
        "consumer gone before it was deleted",
    );
}

fn request(
    org: &eca_core::domain::Org,
    user: &eca_core::domain::User,
    id: &DeployRequestId,
) -> DeployRequest {
    DeployRequest {
        id: id.clone(),
        org_id: org.id.clone(),
        created_by: user.id.clone(),
        status: DeployStatus::Queued,
        options_json: r#"{"checkOnly":false}"#.to_owned(),
        result_json: None,
        created_at: T0,
        started_at: None,
        completed_at: None,
        canceled_by: None,
        node_id: Some(NODE.to_owned()),
    }
}

/// The node the requests of [`request`] name.
const NODE: &str = "0123456789abcdef";

async fn deploy_requests_move_through_their_states(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, _) = seed(&*s, "other", "dev@other.test").await;
    let a = DeployRequestId::generate(&SystemRng);
    let b = DeployRequestId::generate(&SystemRng);
    let c = DeployRequestId::generate(&SystemRng);
    for id in [&a, &b, &c] {
        s.create_deploy_request(&request(&org, &user, id))
            .await
            .unwrap();
    }
    assert_conflict(
        s.create_deploy_request(&request(&org, &user, &a)).await,
        "deploy request",
    );
    assert_eq!(
        s.deploy_request(&org.id, &a).await.unwrap(),
        Some(request(&org, &user, &a))
    );
    assert_eq!(
        s.deploy_request(&other.id, &a).await.unwrap(),
        None,
        "other orgs see nothing"
    );

    // Queued -> InProgress once; another org cannot start it.
    assert!(!s.start_deploy_request(&other.id, &a, T0).await.unwrap());
    assert!(
        s.start_deploy_request(&org.id, &a, T0.plus_secs(1))
            .await
            .unwrap()
    );
    assert!(
        !s.start_deploy_request(&org.id, &a, T0.plus_secs(1))
            .await
            .unwrap()
    );
    // A queued request is canceled at once; another org cannot cancel it.
    assert_eq!(
        s.cancel_deploy_request(&other.id, &b, &user.id, T0)
            .await
            .unwrap(),
        CancelOutcome::Unchanged
    );
    assert_eq!(
        s.cancel_deploy_request(&org.id, &b, &user.id, T0.plus_secs(2))
            .await
            .unwrap(),
        CancelOutcome::Canceled
    );
    let canceled = s.deploy_request(&org.id, &b).await.unwrap().unwrap();
    assert_eq!(
        (canceled.status, canceled.completed_at, canceled.canceled_by),
        (
            DeployStatus::Canceled,
            Some(T0.plus_secs(2)),
            Some(user.id.clone())
        )
    );
    assert!(
        !s.start_deploy_request(&org.id, &b, T0).await.unwrap(),
        "canceled stays canceled"
    );

    let finish = DeployFinish {
        id: a.clone(),
        status: DeployStatus::Failed,
        result_json: r#"{"success":false}"#.to_owned(),
    };
    s.finish_deploy_request(&org.id, &finish, T0.plus_secs(3))
        .await
        .unwrap();
    let done = s.deploy_request(&org.id, &a).await.unwrap().unwrap();
    assert_eq!(done.status, DeployStatus::Failed);
    assert_eq!(done.result_json.as_deref(), Some(r#"{"success":false}"#));
    assert_eq!(
        (done.started_at, done.completed_at),
        (Some(T0.plus_secs(1)), Some(T0.plus_secs(3)))
    );
    // Finishing twice, or a request not in progress, is refused.
    assert_missing(
        s.finish_deploy_request(&org.id, &finish, T0).await,
        "deploy request in progress",
    );
    let not_final = DeployFinish {
        status: DeployStatus::InProgress,
        ..finish.clone()
    };
    assert!(matches!(
        s.finish_deploy_request(&org.id, &not_final, T0).await,
        Err(StoreError::Database(_))
    ));

    // When its node stops, what it had queued or in progress has failed.
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNode(NODE), T0.plus_secs(9))
            .await
            .unwrap(),
        1
    );
    let failed = s.deploy_request(&org.id, &c).await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.result_json),
        (DeployStatus::Failed, None)
    );
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNode(NODE), T0)
            .await
            .unwrap(),
        0
    );
}

async fn only_the_deploys_of_stopped_nodes_are_failed(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (live, silent, gone) = ("1111111111111111", "2222222222222222", "3333333333333333");
    s.touch_node(live, T0).await.unwrap();
    s.touch_node(silent, T0).await.unwrap();
    // Seen again: the last time counts, not the first.
    s.touch_node(live, T0.plus_secs(60)).await.unwrap();
    let record = |node: Option<&str>| {
        let (s, org, user) = (s.clone(), org.clone(), user.clone());
        let node = node.map(str::to_owned);
        async move {
            let id = DeployRequestId::generate(&SystemRng);
            let request = DeployRequest {
                node_id: node,
                ..request(&org, &user, &id)
            };
            s.create_deploy_request(&request).await.unwrap();
            let stored = s.deploy_request(&org.id, &id).await.unwrap().unwrap();
            assert_eq!(stored.node_id, request.node_id);
            id
        }
    };
    let live_running = record(Some(live)).await;
    let silent_running = record(Some(silent)).await;
    let silent_canceling = record(Some(silent)).await;
    let silent_finished = record(Some(silent)).await;
    let gone_queued = record(Some(gone)).await;
    // Recorded by a version before node ids.
    let unclaimed = record(None).await;
    for id in [
        &live_running,
        &silent_running,
        &silent_canceling,
        &silent_finished,
    ] {
        assert!(
            s.start_deploy_request(&org.id, id, T0.plus_secs(1))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        s.cancel_deploy_request(&org.id, &silent_canceling, &user.id, T0.plus_secs(2))
            .await
            .unwrap(),
        CancelOutcome::Canceling
    );
    let finish = DeployFinish {
        id: silent_finished.clone(),
        status: DeployStatus::Succeeded,
        result_json: r#"{"success":true}"#.to_owned(),
    };
    s.finish_deploy_request(&org.id, &finish, T0.plus_secs(3))
        .await
        .unwrap();
    let read = |id: &DeployRequestId| {
        let (s, org, id) = (s.clone(), org.id.clone(), id.clone());
        async move {
            let r = s.deploy_request(&org, &id).await.unwrap().unwrap();
            (r.status, r.completed_at)
        }
    };

    // Seen since T0 + 30 s: only `live`. Without the unclaimed ones (a heartbeat): `silent`'s
    // and those of a node never seen (`gone`).
    let heartbeat = Unfinished::OfNodesSilentSince {
        since: T0.plus_secs(30),
        unclaimed: false,
    };
    assert_eq!(
        s.fail_unfinished_deploy_requests(heartbeat, T0.plus_secs(90))
            .await
            .unwrap(),
        3
    );
    let failed = (DeployStatus::Failed, Some(T0.plus_secs(90)));
    assert_eq!(read(&live_running).await, (DeployStatus::InProgress, None));
    assert_eq!(read(&silent_running).await, failed);
    assert_eq!(
        read(&silent_canceling).await,
        (DeployStatus::Canceled, Some(T0.plus_secs(90)))
    );
    assert_eq!(
        read(&silent_finished).await,
        (DeployStatus::Succeeded, Some(T0.plus_secs(3)))
    );
    assert_eq!(read(&gone_queued).await, failed);
    assert_eq!(read(&unclaimed).await, (DeployStatus::Queued, None));
    // Nothing is failed twice; a start also takes the unclaimed ones.
    assert_eq!(
        s.fail_unfinished_deploy_requests(heartbeat, T0.plus_secs(91))
            .await
            .unwrap(),
        0
    );
    let start = Unfinished::OfNodesSilentSince {
        since: T0.plus_secs(30),
        unclaimed: true,
    };
    assert_eq!(
        s.fail_unfinished_deploy_requests(start, T0.plus_secs(92))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        read(&unclaimed).await,
        (DeployStatus::Failed, Some(T0.plus_secs(92)))
    );
    assert_eq!(read(&live_running).await, (DeployStatus::InProgress, None));

    // Forgetting the silent node leaves the live one; the live node leaving fails its own.
    assert_eq!(
        s.remove_nodes_silent_since(T0.plus_secs(30)).await.unwrap(),
        1
    );
    assert_eq!(
        s.remove_nodes_silent_since(T0.plus_secs(30)).await.unwrap(),
        0
    );
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNode(silent), T0.plus_secs(93))
            .await
            .unwrap(),
        0
    );
    let other_live = record(Some(silent)).await;
    // SQLite's one node starting: every other node's, whatever the clocks say.
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNodesOtherThan(live), T0.plus_secs(94))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        read(&other_live).await,
        (DeployStatus::Failed, Some(T0.plus_secs(94)))
    );
    assert_eq!(read(&live_running).await, (DeployStatus::InProgress, None));
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNode(live), T0.plus_secs(95))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        read(&live_running).await,
        (DeployStatus::Failed, Some(T0.plus_secs(95)))
    );
    s.remove_node(live).await.unwrap();
    s.remove_node(live).await.unwrap();
    assert_eq!(
        s.remove_nodes_silent_since(T0.plus_secs(1_000))
            .await
            .unwrap(),
        0
    );

    // No node left at all: a heartbeat still leaves the unclaimed alone (in SQL,
    // `NULL NOT IN` an empty list is true).
    let unclaimed = record(None).await;
    let heartbeat = Unfinished::OfNodesSilentSince {
        since: T0.plus_secs(1_000),
        unclaimed: false,
    };
    assert_eq!(
        s.fail_unfinished_deploy_requests(heartbeat, T0.plus_secs(96))
            .await
            .unwrap(),
        0
    );
    assert_eq!(read(&unclaimed).await, (DeployStatus::Queued, None));
}

async fn finishing_with_the_changes_is_atomic(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let id = DeployRequestId::generate(&SystemRng);
    s.create_deploy_request(&request(&org, &user, &id))
        .await
        .unwrap();
    let finish = DeployFinish {
        id: id.clone(),
        status: DeployStatus::Succeeded,
        result_json: r#"{"success":true}"#.to_owned(),
    };
    let components = [create(HEADER, "A", Some("A"), "<a/>")];
    let set = ChangeSet {
        org: &org.id,
        user: &user.id,
        at: T0,
        components: &components,
        consumers: &[],
        audit: &[],
        finish: Some(&finish),
        deleted_apps: &[],
    };
    // Still queued, so it cannot finish: the component is not written either.
    assert_missing(s.apply_changes(&set).await, "deploy request in progress");
    assert_eq!(s.component(&org.id, HEADER, "A").await.unwrap(), None);

    assert!(s.start_deploy_request(&org.id, &id, T0).await.unwrap());
    s.apply_changes(&set).await.unwrap();
    assert!(s.component(&org.id, HEADER, "A").await.unwrap().is_some());
    let done = s.deploy_request(&org.id, &id).await.unwrap().unwrap();
    assert_eq!(done.status, DeployStatus::Succeeded);
}

async fn audit_trail_lists_changes_in_order(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, other_user) = seed(&*s, "other", "dev@other.test").await;
    let id = DeployRequestId::generate(&SystemRng);
    s.create_deploy_request(&request(&org, &user, &id))
        .await
        .unwrap();
    assert!(s.start_deploy_request(&org.id, &id, T0).await.unwrap());
    let finish = DeployFinish {
        id: id.clone(),
        status: DeployStatus::Succeeded,
        result_json: "{}".to_owned(),
    };
    let first = [
        audit(AuditAction::Created, HEADER, "A"),
        AuditEntry {
            before_xml: Some("<old/>".to_owned()),
            after_xml: None,
            ..audit(AuditAction::Deleted, OAUTH, "A_oauth")
        },
    ];
    s.apply_changes(&ChangeSet {
        org: &org.id,
        user: &user.id,
        at: T0,
        components: &[],
        consumers: &[],
        audit: &first,
        finish: Some(&finish),
        deleted_apps: &[],
    })
    .await
    .unwrap();
    let second = [audit(
        AuditAction::ConsumerKeyRotated,
        "OAuthConsumer",
        "888x",
    )];
    s.apply_changes(&ChangeSet {
        org: &org.id,
        user: &user.id,
        at: T0.plus_secs(1),
        components: &[],
        consumers: &[],
        audit: &second,
        finish: None,
        deleted_apps: &[],
    })
    .await
    .unwrap();
    s.apply_changes(&ChangeSet {
        org: &other.id,
        user: &other_user.id,
        at: T0,
        components: &[],
        consumers: &[],
        audit: &second,
        finish: None,
        deleted_apps: &[],
    })
    .await
    .unwrap();

    let trail = s.audit_trail(&org.id, 0, 100).await.unwrap();
    let entries: Vec<&AuditEntry> = trail.iter().map(|r| &r.entry).collect();
    assert_eq!(entries, [&first[0], &first[1], &second[0]]);
    assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(trail[0].deploy_request_id.as_ref(), Some(&id));
    assert_eq!(trail[2].deploy_request_id, None);
    assert_eq!(
        (trail[2].at, &trail[2].user_id),
        (T0.plus_secs(1), &user.id)
    );
    // Paging.
    let page = s.audit_trail(&org.id, trail[0].seq, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].entry, first[1]);
    assert_eq!(s.audit_trail(&other.id, 0, 100).await.unwrap().len(), 1);
}

async fn rows_name_only_users_of_their_org(env: Env) {
    let s = env.store;
    let (org, _, _) = seed(&*s, "acme", "dev@acme.test").await;
    let (_, _, outsider) = seed(&*s, "other", "dev@other.test").await;
    assert_missing(
        apply(
            &*s,
            &org.id,
            &outsider.id,
            T0,
            &[create(HEADER, "A", Some("A"), "<a/>")],
            &[],
        )
        .await,
        "user in the org",
    );
    assert_eq!(s.components(&org.id).await.unwrap(), vec![]);
    let id = DeployRequestId::generate(&SystemRng);
    let mut req = request(&org, &outsider, &id);
    req.created_by = outsider.id.clone();
    assert_missing(s.create_deploy_request(&req).await, "user in the org");
}

async fn a_running_deploy_is_canceled_at_its_end(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (a, b) = (
        DeployRequestId::generate(&SystemRng),
        DeployRequestId::generate(&SystemRng),
    );
    for id in [&a, &b] {
        s.create_deploy_request(&request(&org, &user, id))
            .await
            .unwrap();
        assert!(s.start_deploy_request(&org.id, id, T0).await.unwrap());
    }
    assert_eq!(
        s.cancel_deploy_request(&org.id, &a, &user.id, T0.plus_secs(1))
            .await
            .unwrap(),
        CancelOutcome::Canceling
    );
    let canceling = s.deploy_request(&org.id, &a).await.unwrap().unwrap();
    assert_eq!(
        (
            canceling.status,
            canceling.completed_at,
            canceling.canceled_by
        ),
        (DeployStatus::Canceling, None, Some(user.id.clone()))
    );
    assert_eq!(
        s.cancel_deploy_request(&org.id, &a, &user.id, T0.plus_secs(2))
            .await
            .unwrap(),
        CancelOutcome::Unchanged,
        "asking twice changes nothing"
    );
    // The run may not end it any other way than canceled.
    let failed = DeployFinish {
        id: a.clone(),
        status: DeployStatus::Failed,
        result_json: "{}".to_owned(),
    };
    assert_missing(
        s.finish_deploy_request(&org.id, &failed, T0.plus_secs(3))
            .await,
        "deploy request in progress",
    );
    let canceled = DeployFinish {
        status: DeployStatus::Canceled,
        ..failed
    };
    s.finish_deploy_request(&org.id, &canceled, T0.plus_secs(3))
        .await
        .unwrap();
    let done = s.deploy_request(&org.id, &a).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.completed_at),
        (DeployStatus::Canceled, Some(T0.plus_secs(3)))
    );
    // A finished request cannot be canceled.
    assert_eq!(
        s.cancel_deploy_request(&org.id, &a, &user.id, T0.plus_secs(4))
            .await
            .unwrap(),
        CancelOutcome::Unchanged
    );
    // A server that stops while a deploy is canceling leaves it canceled at start-up.
    assert_eq!(
        s.cancel_deploy_request(&org.id, &b, &user.id, T0.plus_secs(5))
            .await
            .unwrap(),
        CancelOutcome::Canceling
    );
    assert_eq!(
        s.fail_unfinished_deploy_requests(Unfinished::OfNode(NODE), T0.plus_secs(6))
            .await
            .unwrap(),
        1
    );
    let b = s.deploy_request(&org.id, &b).await.unwrap().unwrap();
    assert_eq!(
        (b.status, b.completed_at),
        (DeployStatus::Canceled, Some(T0.plus_secs(6)))
    );
}

async fn a_canceling_deploy_cannot_apply_its_changes(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let id = DeployRequestId::generate(&SystemRng);
    s.create_deploy_request(&request(&org, &user, &id))
        .await
        .unwrap();
    assert!(s.start_deploy_request(&org.id, &id, T0).await.unwrap());
    s.cancel_deploy_request(&org.id, &id, &user.id, T0)
        .await
        .unwrap();
    let finish = DeployFinish {
        id: id.clone(),
        status: DeployStatus::Succeeded,
        result_json: "{}".to_owned(),
    };
    let components = [create(HEADER, "A", Some("A"), "<a/>")];
    let set = ChangeSet {
        org: &org.id,
        user: &user.id,
        at: T0,
        components: &components,
        consumers: &[],
        audit: &[],
        finish: Some(&finish),
        deleted_apps: &[],
    };
    assert_missing(s.apply_changes(&set).await, "deploy request in progress");
    assert_eq!(s.component(&org.id, HEADER, "A").await.unwrap(), None);
    assert_eq!(
        s.deploy_request(&org.id, &id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DeployStatus::Canceling
    );
}

async fn retrieves_are_kept_per_org_until_they_expire(env: Env) {
    let s = env.store.clone();
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    let (other, _, _) = seed(&*s, "other", "dev@other.test").await;
    let retrieve = |id: &str, expires_at: Timestamp| StoredRetrieve {
        id: id.to_owned(),
        org_id: org.id.clone(),
        created_by: user.id.clone(),
        result_json: r#"{"fileProperties":[]}"#.to_owned(),
        zip: vec![b'P', b'K', 0, 255],
        created_at: T0,
        expires_at,
    };
    let early = retrieve("09S000000000001AAA", T0.plus_minutes(10));
    let late = retrieve("09S000000000002AAA", T0.plus_minutes(60));
    s.create_retrieve(&early).await.unwrap();
    s.create_retrieve(&late).await.unwrap();
    assert_conflict(s.create_retrieve(&early).await, "retrieve request");
    let stranger = StoredRetrieve {
        id: "09S000000000003AAA".to_owned(),
        org_id: other.id.clone(),
        ..early.clone()
    };
    assert_missing(s.create_retrieve(&stranger).await, "user in the org");

    assert_eq!(
        s.retrieve(&org.id, &early.id, T0).await.unwrap(),
        Some(early.clone())
    );
    assert_eq!(s.retrieve(&other.id, &early.id, T0).await.unwrap(), None);
    assert_eq!(
        s.retrieve(&org.id, &early.id, T0.plus_minutes(10))
            .await
            .unwrap(),
        None,
        "expired results are not answered, even before they are deleted"
    );
    // Another node (a second connection to the same database) sees the same result.
    if let Some(again) = env.reopen().await {
        assert_eq!(
            again.retrieve(&org.id, &late.id, T0).await.unwrap(),
            Some(late.clone())
        );
    }
    assert_eq!(
        s.delete_expired_retrieves(T0.plus_minutes(10))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.retrieve(&org.id, &late.id, T0).await.unwrap(),
        Some(late.clone())
    );
    assert_eq!(
        s.delete_expired_retrieves(T0.plus_minutes(60))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.retrieve(&org.id, &late.id, T0).await.unwrap(), None);
}

/// Two nodes on PostgreSQL plan their deploys apart: one may write `Shop_oauth` while another
/// writes `Shop_oauth2` for the same app. The change set checks the rule against what the org
/// holds once its components are written, and undoes itself as a conflict (the deploy then
/// plans again and refuses). Found by review.
async fn an_app_keeps_one_component_of_each_satellite_type(env: Env) {
    let s = env.store;
    let (org, _, user) = seed(&*s, "acme", "dev@acme.test").await;
    apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[
            create(HEADER, "Shop", Some("Shop"), "<header/>"),
            create(OAUTH, "Shop_oauth", Some("Shop"), "<oauth/>"),
        ],
        &[],
    )
    .await
    .unwrap();
    let second = apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[create(OAUTH, "Shop_oauth2", Some("shop"), "<oauth2/>")],
        &[],
    )
    .await;
    assert_conflict(second, "component of this type for the app");
    assert_eq!(
        s.component(&org.id, OAUTH, "Shop_oauth2").await.unwrap(),
        None
    );
    // Another app, or another type for the same app, is fine.
    apply(
        &*s,
        &org.id,
        &user.id,
        T0,
        &[
            create(HEADER, "Other", Some("Other"), "<header/>"),
            create(OAUTH, "Other_oauth", Some("Other"), "<oauth/>"),
            create(
                "ExtlClntAppGlobalOauthSettings",
                "Shop_glbl",
                Some("Shop"),
                "<g/>",
            ),
        ],
        &[],
    )
    .await
    .unwrap();
}
