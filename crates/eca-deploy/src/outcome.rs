//! Turning a plan into the `DeployResult` and, when the deploy succeeds, the one change set
//! the store writes (components, consumers, audit entries, and the request's end together).

use eca_core::Timestamp;
use eca_core::domain::User;
use eca_metadata::model::Component;
use eca_metadata::project::manifest::PACKAGE_XML;
use eca_store::{
    AuditAction, AuditEntry, ComponentChange, ConsumerChange, ConsumerId, DeployRequestId,
    DeployStatus,
};

use crate::DeployOptions;
use crate::package::Unreadable;
use crate::plan::{Planner, Problem};
use crate::result::{self, Change, DeployDetails, DeployResult};
use crate::state::{OrgState, app_of};

/// What every result of one deploy request shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    pub id: &'a DeployRequestId,
    pub created: Timestamp,
    pub started: Timestamp,
    pub user: &'a User,
    pub options: DeployOptions,
}

/// The type name used for consumers in the audit trail.
pub const CONSUMER_AUDIT_TYPE: &str = "OAuthConsumer";

/// A planned deploy, ready to write (when `apply`) and to report.
#[derive(Debug)]
pub(crate) struct Built {
    pub result: DeployResult,
    pub apply: bool,
    pub components: Vec<ComponentChange>,
    pub consumers: Vec<ConsumerChange>,
    pub audit: Vec<AuditEntry>,
    pub deleted_apps: Vec<String>,
    pub deleted_consumers: Vec<ConsumerId>,
    pub rotated_consumers: Vec<ConsumerId>,
}

/// A result with no component details yet.
pub(crate) fn empty_result(
    head: &Head<'_>,
    status: DeployStatus,
    completed: Option<Timestamp>,
) -> DeployResult {
    let last = completed.unwrap_or(head.started);
    DeployResult {
        id: head.id.to_string(),
        status,
        success: matches!(
            status,
            DeployStatus::Succeeded | DeployStatus::SucceededPartial
        ),
        done: status.is_done(),
        check_only: head.options.check_only,
        ignore_warnings: head.options.ignore_warnings,
        rollback_on_error: head.options.rollback_on_error,
        number_components_total: 0,
        number_components_deployed: 0,
        number_component_errors: 0,
        number_tests_total: 0,
        number_tests_completed: 0,
        number_test_errors: 0,
        run_tests_enabled: false,
        created_date: head.created.to_iso8601(),
        start_date: (status != DeployStatus::Queued).then(|| head.started.to_iso8601()),
        completed_date: completed.map(Timestamp::to_iso8601),
        last_modified_date: last.to_iso8601(),
        canceled_by: None,
        canceled_by_name: None,
        created_by: head.user.id.to_string(),
        created_by_name: head.user.name(),
        error_message: None,
        error_status_code: None,
        state_detail: None,
        details: DeployDetails::default(),
    }
}

/// The result of a zip that could not be read at all.
pub(crate) fn unreadable(
    head: &Head<'_>,
    problem: &Unreadable,
    completed: Timestamp,
) -> DeployResult {
    let mut result = empty_result(head, DeployStatus::Failed, Some(completed));
    result.error_message = Some(problem.problem.clone());
    result.number_component_errors = 1;
    result.details.component_failures.push(result::failure(
        "",
        &problem.file_name,
        &problem.file_name,
        &Problem {
            line: problem.at.map(|(line, _)| line),
            column: problem.at.map(|(_, column)| column),
            ..Problem::error(problem.problem.clone())
        },
        false,
        completed,
    ));
    result
}

fn change_of(state: &OrgState, key: &crate::state::Key) -> Change {
    let Some(slot) = state.slots.get(key) else {
        return Change::Unchanged;
    };
    match (&slot.stored, &slot.current) {
        (None, Some(_)) => Change::Created,
        (Some(s), Some(c)) if s.xml != c.to_xml() => Change::Changed,
        (Some(_), None) => Change::Deleted,
        _ => Change::Unchanged,
    }
}

/// Builds the result of a planned deploy and, if it is to be written, its changes.
pub(crate) fn build(planner: &Planner<'_>, head: &Head<'_>, completed: Timestamp) -> Built {
    let options = &planner.options;
    let item_failed = planner.items.iter().any(|i| i.failed);
    let deletion_failed = planner.deletions.iter().any(|d| d.failed);
    let any_ok = planner
        .items
        .iter()
        .any(|i| !i.failed && i.before.is_some())
        || planner.deletions.iter().any(|d| !d.failed);
    let status = match (
        item_failed || deletion_failed,
        options.rollback_on_error,
        any_ok,
    ) {
        (false, _, _) => DeployStatus::Succeeded,
        (true, false, true) => DeployStatus::SucceededPartial,
        _ => DeployStatus::Failed,
    };
    let mut result = empty_result(head, status, Some(completed));
    let ok = status != DeployStatus::Failed;

    let details = &mut result.details;
    for item in &planner.items {
        for p in &item.problems {
            let name = &item.full_name;
            details.component_failures.push(result::failure(
                &item.type_name,
                name,
                &item.file,
                p,
                !item.failed,
                completed,
            ));
        }
        if ok && !item.failed && item.before.is_some() {
            let change = item
                .key()
                .map_or(Change::Unchanged, |k| change_of(&planner.state, &k));
            details.component_successes.push(result::success(
                &item.type_name,
                &item.full_name,
                &item.file,
                change,
                completed,
            ));
        }
    }
    for d in &planner.deletions {
        let file = d.kind.file_name();
        for p in &d.problems {
            details.component_failures.push(result::failure(
                &d.type_name,
                &d.full_name,
                file,
                p,
                !d.failed,
                completed,
            ));
        }
        if ok && !d.failed {
            details.component_successes.push(result::success(
                &d.type_name,
                &d.full_name,
                file,
                Change::Deleted,
                completed,
            ));
        }
    }
    let counted = planner
        .items
        .iter()
        .filter(|i| i.ty.is_some() || i.failed)
        .count()
        + planner.deletions.len();
    let errors = planner.items.iter().filter(|i| i.failed).count()
        + planner.deletions.iter().filter(|d| d.failed).count();
    result.number_components_total = u32::try_from(counted).unwrap_or(u32::MAX);
    result.number_component_errors = u32::try_from(errors).unwrap_or(u32::MAX);
    result.number_components_deployed =
        u32::try_from(details.component_successes.len()).unwrap_or(u32::MAX);
    if ok {
        details.component_successes.push(result::success(
            "",
            PACKAGE_XML,
            PACKAGE_XML,
            Change::Changed,
            completed,
        ));
    }

    let mut built = Built {
        result,
        apply: ok && !options.check_only,
        components: Vec::new(),
        consumers: Vec::new(),
        audit: Vec::new(),
        deleted_apps: Vec::new(),
        deleted_consumers: Vec::new(),
        rotated_consumers: Vec::new(),
    };
    if built.apply {
        changes(planner, &mut built);
    }
    built
}

/// The component and consumer changes of the plan, each with its audit entry.
fn changes(planner: &Planner<'_>, built: &mut Built) {
    let state = &planner.state;
    let mut keys: Vec<_> = state
        .slots
        .iter()
        .filter(|(_, s)| s.touched)
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    for k in keys {
        let slot = &state.slots[k];
        let type_name = k.0.name().to_owned();
        let after = slot.current.as_ref().map(Component::to_xml);
        match (&slot.stored, &slot.current, after) {
            (None, Some(c), Some(xml)) => {
                built.audit.push(entry(
                    AuditAction::Created,
                    c.ty().name(),
                    c.full_name(),
                    None,
                    Some(&xml),
                ));
                built.components.push(ComponentChange::Create {
                    type_name,
                    full_name: c.full_name().to_owned(),
                    app_name: app_of(c).map(str::to_owned),
                    xml,
                });
            }
            (Some(s), Some(c), Some(xml)) if s.xml != xml => {
                built.audit.push(entry(
                    AuditAction::Changed,
                    &s.type_name,
                    c.full_name(),
                    Some(&s.xml),
                    Some(&xml),
                ));
                built.components.push(ComponentChange::Update {
                    type_name,
                    full_name: c.full_name().to_owned(),
                    app_name: app_of(c).map(str::to_owned),
                    xml,
                    revision: s.revision,
                });
            }
            (Some(s), None, _) => {
                built.audit.push(entry(
                    AuditAction::Deleted,
                    &s.type_name,
                    &s.full_name,
                    Some(&s.xml),
                    None,
                ));
                built.components.push(ComponentChange::Delete {
                    type_name,
                    full_name: s.full_name.clone(),
                    revision: s.revision,
                });
            }
            _ => {}
        }
    }

    let mut apps: Vec<_> = state.consumers.iter().collect();
    apps.sort_by(|a, b| a.0.cmp(b.0));
    let (mut deletes, mut rotations, mut creates) = (Vec::new(), Vec::new(), Vec::new());
    for slot in apps.into_iter().flat_map(|(_, list)| list) {
        let id = slot.consumer.id.clone();
        let consumer_entry = |action| entry(action, CONSUMER_AUDIT_TYPE, id.as_str(), None, None);
        match (slot.stored, slot.deleted) {
            (true, true) => {
                built
                    .audit
                    .push(consumer_entry(AuditAction::ConsumerDeleted));
                built.deleted_consumers.push(id.clone());
                deletes.push(ConsumerChange::Delete { id });
            }
            (false, false) => {
                built
                    .audit
                    .push(consumer_entry(AuditAction::ConsumerCreated));
                creates.push(ConsumerChange::Create(slot.consumer.clone()));
            }
            (true, false) => {
                if slot.key_rotated {
                    built
                        .audit
                        .push(consumer_entry(AuditAction::ConsumerKeyRotated));
                    rotations.push(ConsumerChange::RotateKey {
                        id: id.clone(),
                        expected_key: slot.stored_key.clone(),
                        consumer_key: slot.consumer.consumer_key.clone(),
                    });
                }
                if slot.secret_rotated {
                    built
                        .audit
                        .push(consumer_entry(AuditAction::ConsumerSecretRotated));
                    // After the key's rotation, when both rotate.
                    let expected_key = if slot.key_rotated {
                        &slot.consumer.consumer_key
                    } else {
                        &slot.stored_key
                    };
                    rotations.push(ConsumerChange::RotateSecret {
                        id: id.clone(),
                        expected_key: expected_key.clone(),
                        encrypted_secret: slot.consumer.encrypted_secret.clone(),
                    });
                }
                if slot.key_rotated || slot.secret_rotated {
                    built.rotated_consumers.push(id);
                }
            }
            (false, true) => {}
        }
    }
    // Deletes first, so a key freed by a deleted app can be taken by a new one.
    built.consumers = deletes
        .into_iter()
        .chain(rotations)
        .chain(creates)
        .collect();
    built.deleted_apps = planner
        .deleted_apps
        .values()
        .map(|(name, _)| name.clone())
        .collect();
}

fn entry(
    action: AuditAction,
    type_name: &str,
    full_name: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> AuditEntry {
    AuditEntry {
        action,
        type_name: type_name.to_owned(),
        full_name: full_name.to_owned(),
        before_xml: before.map(str::to_owned),
        after_xml: after.map(str::to_owned),
    }
}
