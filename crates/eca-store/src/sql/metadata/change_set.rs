//! [`MetadataStore::apply_changes`](crate::MetadataStore::apply_changes): a change set as one
//! [`Db::write_batch`], each statement required to change exactly one row, so that a row
//! changed by someone else since it was read undoes the whole batch.

use eca_core::UserId;

use super::super::{Arg, BatchError, Db, Failure, Step, database, fold};
use crate::metadata::{ChangeSet, ComponentChange, ConsumerChange, DeployFinish};
use crate::{StoreError, StoreResult};

/// Names a step of a batch for the error its failure becomes.
struct Subject {
    what: &'static str,
    value: String,
}

/// The statements of a change set, and what each one is about.
struct Batch<'a> {
    steps: Vec<Step<'a>>,
    subjects: Vec<Subject>,
}

impl<'a> Batch<'a> {
    fn push(&mut self, sql: &'static str, args: Vec<Arg<'a>>, what: &'static str, value: String) {
        self.steps.push(Step {
            sql,
            args,
            expect_rows: 1,
        });
        self.subjects.push(Subject { what, value });
    }
}

/// Owned folded names, so that the batch can borrow them.
struct Folded {
    full_names: Vec<String>,
    apps: Vec<Option<String>>,
}

fn fold_changes(changes: &[ComponentChange]) -> Folded {
    let mut full_names = Vec::with_capacity(changes.len());
    let mut apps = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            ComponentChange::Create {
                full_name,
                app_name,
                ..
            }
            | ComponentChange::Update {
                full_name,
                app_name,
                ..
            } => {
                full_names.push(fold(full_name));
                apps.push(app_name.as_deref().map(fold));
            }
            ComponentChange::Delete { full_name, .. } => {
                full_names.push(fold(full_name));
                apps.push(None);
            }
        }
    }
    Folded { full_names, apps }
}

fn component_steps<'a>(batch: &mut Batch<'a>, set: &'a ChangeSet<'a>, folded: &'a Folded, at: i64) {
    let org = set.org.as_str();
    let user = set.user.as_str();
    for (i, change) in set.components.iter().enumerate() {
        let lower = folded.full_names[i].as_str();
        let app_lower = folded.apps[i].as_deref();
        match change {
            ComponentChange::Create {
                type_name,
                full_name,
                app_name,
                xml,
            } => batch.push(
                "INSERT INTO metadata_components (org_id, type_name, full_name, full_name_lower, \
                 app_name, app_name_lower, xml, revision, created_at, created_by, updated_at, \
                 updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $8, $9)",
                vec![
                    Arg::Text(org),
                    Arg::Text(type_name),
                    Arg::Text(full_name),
                    Arg::Text(lower),
                    Arg::OptText(app_name.as_deref()),
                    Arg::OptText(app_lower),
                    Arg::Text(xml),
                    Arg::Int(at),
                    Arg::Text(user),
                ],
                "component",
                format!("{type_name} {full_name}"),
            ),
            ComponentChange::Update {
                type_name,
                full_name,
                app_name,
                xml,
                revision,
            } => batch.push(
                "UPDATE metadata_components SET full_name = $4, app_name = $5, \
                 app_name_lower = $6, xml = $7, revision = revision + 1, updated_at = $8, \
                 updated_by = $9 WHERE org_id = $1 AND type_name = $2 AND full_name_lower = $3 \
                 AND revision = $10",
                vec![
                    Arg::Text(org),
                    Arg::Text(type_name),
                    Arg::Text(lower),
                    Arg::Text(full_name),
                    Arg::OptText(app_name.as_deref()),
                    Arg::OptText(app_lower),
                    Arg::Text(xml),
                    Arg::Int(at),
                    Arg::Text(user),
                    Arg::Int(*revision),
                ],
                "component changed since it was read",
                format!("{type_name} {full_name}"),
            ),
            ComponentChange::Delete {
                type_name,
                full_name,
                revision,
            } => batch.push(
                "DELETE FROM metadata_components WHERE org_id = $1 AND type_name = $2 \
                 AND full_name_lower = $3 AND revision = $4",
                vec![
                    Arg::Text(org),
                    Arg::Text(type_name),
                    Arg::Text(lower),
                    Arg::Int(*revision),
                ],
                "component changed since it was read",
                format!("{type_name} {full_name}"),
            ),
        }
    }
}

fn consumer_steps<'a>(
    batch: &mut Batch<'a>,
    set: &'a ChangeSet<'a>,
    app_lowers: &'a [String],
    at: i64,
) -> StoreResult<()> {
    let org = set.org.as_str();
    let mut creates = 0;
    for change in set.consumers {
        match change {
            ConsumerChange::Create(c) => {
                if &c.org_id != set.org {
                    return Err(StoreError::Conflict {
                        what: "consumer of another org in the change set",
                        value: c.id.to_string(),
                    });
                }
                batch.push(
                    "INSERT INTO oauth_consumers (id, org_id, app_name, app_name_lower, \
                     consumer_key, consumer_secret, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    vec![
                        Arg::Text(c.id.as_str()),
                        Arg::Text(org),
                        Arg::Text(&c.app_name),
                        Arg::Text(&app_lowers[creates]),
                        Arg::Text(&c.consumer_key),
                        Arg::Bytes(&c.encrypted_secret),
                        Arg::Int(c.created_at.millis()),
                        Arg::Int(c.updated_at.millis()),
                    ],
                    "consumer",
                    c.id.to_string(),
                );
                creates += 1;
            }
            ConsumerChange::RotateKey {
                id,
                expected_key,
                consumer_key,
            } => batch.push(
                "UPDATE oauth_consumers SET consumer_key = $3, updated_at = $4 \
                 WHERE id = $1 AND org_id = $2 AND consumer_key = $5",
                vec![
                    Arg::Text(id.as_str()),
                    Arg::Text(org),
                    Arg::Text(consumer_key),
                    Arg::Int(at),
                    Arg::Text(expected_key),
                ],
                "consumer gone or its key changed before its key was rotated",
                id.to_string(),
            ),
            ConsumerChange::RotateSecret {
                id,
                expected_key,
                encrypted_secret,
            } => batch.push(
                "UPDATE oauth_consumers SET consumer_secret = $3, updated_at = $4 \
                 WHERE id = $1 AND org_id = $2 AND consumer_key = $5",
                vec![
                    Arg::Text(id.as_str()),
                    Arg::Text(org),
                    Arg::Bytes(encrypted_secret),
                    Arg::Int(at),
                    Arg::Text(expected_key),
                ],
                "consumer gone or its key changed before its secret was rotated",
                id.to_string(),
            ),
            ConsumerChange::Delete { id } => batch.push(
                "DELETE FROM oauth_consumers WHERE id = $1 AND org_id = $2",
                vec![Arg::Text(id.as_str()), Arg::Text(org)],
                "consumer gone before it was deleted",
                id.to_string(),
            ),
        }
    }
    Ok(())
}

fn audit_steps<'a>(batch: &mut Batch<'a>, set: &'a ChangeSet<'a>, at: i64) {
    let deploy = set.finish.map(|f| f.id.as_str());
    for entry in set.audit {
        batch.push(
            "INSERT INTO metadata_audit (org_id, user_id, at, deploy_request_id, action, \
             type_name, full_name, before_xml, after_xml) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                Arg::Text(set.org.as_str()),
                Arg::Text(set.user.as_str()),
                Arg::Int(at),
                Arg::OptText(deploy),
                Arg::Text(entry.action.as_str()),
                Arg::Text(&entry.type_name),
                Arg::Text(&entry.full_name),
                Arg::OptText(entry.before_xml.as_deref()),
                Arg::OptText(entry.after_xml.as_deref()),
            ],
            "audit entry",
            format!("{} {}", entry.type_name, entry.full_name),
        );
    }
}

const FINISH_SQL: &str = "UPDATE deploy_requests SET status = $3, result = $4, completed_at = $5 \
                          WHERE org_id = $1 AND id = $2 AND status = 'InProgress'";

pub(super) fn check_final(finish: &DeployFinish) -> StoreResult<()> {
    if finish.status.is_done() {
        Ok(())
    } else {
        Err(StoreError::Database(format!(
            "a deploy request cannot finish as {}",
            finish.status.as_str()
        )))
    }
}

/// The error a failed batch becomes.
fn batch_failure(e: BatchError, subjects: &[Subject], user: &UserId) -> StoreError {
    let subject = |step: usize| {
        subjects.get(step).map_or(
            StoreError::Database(format!("batch step {step} failed")),
            |s| StoreError::Conflict {
                what: s.what,
                value: s.value.clone(),
            },
        )
    };
    match e {
        BatchError::Unexpected { step } => match subjects.get(step) {
            Some(s) if s.what == "deploy request" => StoreError::Missing {
                what: "deploy request in progress",
                value: s.value.clone(),
            },
            _ => subject(step),
        },
        BatchError::Sql { step, error } => match Failure::of(error) {
            Failure::Unique(c) if c.contains("consumer_key") => StoreError::Conflict {
                what: "consumer key",
                value: subjects
                    .get(step)
                    .map_or_else(String::new, |s| s.value.clone()),
            },
            Failure::Unique(_) => subject(step),
            Failure::ForeignKey => StoreError::Missing {
                what: "user in the org",
                value: user.to_string(),
            },
            Failure::Other(e) => e,
        },
        BatchError::Transaction(e) => database(e),
    }
}

/// Writes a change set as one batch.
pub(super) async fn apply<D: Db>(db: &D, set: &ChangeSet<'_>) -> StoreResult<()> {
    if let Some(finish) = set.finish {
        check_final(finish)?;
    }
    let at = set.at.millis();
    let folded = fold_changes(set.components);
    let consumer_apps: Vec<String> = set
        .consumers
        .iter()
        .filter_map(|c| match c {
            ConsumerChange::Create(c) => Some(fold(&c.app_name)),
            _ => None,
        })
        .collect();
    let deleted_apps: Vec<String> = set.deleted_apps.iter().map(|a| fold(a)).collect();
    let mut batch = Batch {
        steps: Vec::new(),
        subjects: Vec::new(),
    };
    // Nodes sharing PostgreSQL plan their deploys apart, each under its own process's org
    // lock: an org's change sets are applied one at a time here, so the check below of each
    // sees the others' components (SQLite has one writer, and one node).
    if D::BACKEND == "postgres" {
        batch.push(
            "SELECT pg_advisory_xact_lock(hashtext('eca-deploy:' || $1))",
            vec![Arg::Text(set.org.as_str())],
            "org deploy lock",
            set.org.to_string(),
        );
    }
    component_steps(&mut batch, set, &folded, at);
    // One component of each satellite type per app (spec §4, the planner's
    // `check_satellite`), checked again against what the org now holds: two nodes that
    // planned different names for the same app and type would otherwise both write theirs.
    // A second one undoes the batch as a conflict, and the deploy plans again.
    batch.steps.push(Step {
        sql: "UPDATE orgs SET id = id WHERE id = $1 AND EXISTS ( \
              SELECT 1 FROM metadata_components WHERE org_id = $1 \
              AND app_name_lower IS NOT NULL AND type_name <> 'ExternalClientApplication' \
              GROUP BY type_name, app_name_lower HAVING COUNT(*) > 1)",
        args: vec![Arg::Text(set.org.as_str())],
        expect_rows: 0,
    });
    batch.subjects.push(Subject {
        what: "component of this type for the app",
        value: set.org.to_string(),
    });
    consumer_steps(&mut batch, set, &consumer_apps, at)?;
    for (app, app_lower) in set.deleted_apps.iter().zip(&deleted_apps) {
        let revocation = super::super::oauth::app_revocation(set.org, app_lower, set.at);
        let approvals = (
            "DELETE FROM oauth_approvals WHERE org_id = $1 AND app_name_lower = $2",
            vec![Arg::Text(set.org.as_str()), Arg::Text(app_lower)],
        );
        for (sql, args) in revocation.into_iter().chain([approvals]) {
            batch.steps.push(Step {
                sql,
                args,
                expect_rows: Step::ANY_ROWS,
            });
            batch.subjects.push(Subject {
                what: "revocation of a deleted app",
                value: app.clone(),
            });
        }
    }
    audit_steps(&mut batch, set, at);
    if let Some(finish) = set.finish {
        batch.push(
            FINISH_SQL,
            vec![
                Arg::Text(set.org.as_str()),
                Arg::Text(finish.id.as_str()),
                Arg::Text(finish.status.as_str()),
                Arg::Text(&finish.result_json),
                Arg::Int(at),
            ],
            "deploy request",
            finish.id.to_string(),
        );
    }
    let Batch { steps, subjects } = batch;
    db.write_batch(&steps)
        .await
        .map_err(|e| batch_failure(e, &subjects, set.user))
}
