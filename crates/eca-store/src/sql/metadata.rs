//! [`MetadataStore`] over [`Db`]: deployed components, OAuth consumers, deploy requests and
//! the audit trail. A deploy's writes go through [`MetadataStore::apply_changes`], one
//! [`Db::write_batch`] built in `change_set`.

use async_trait::async_trait;
use eca_core::{OrgId, Timestamp, UserId};

use super::{Arg, Columns, Db, Failure, database, fold};
use crate::metadata::{
    AuditAction, AuditEntry, AuditRecord, CancelOutcome, ChangeSet, ConsumerId, DeployFinish,
    DeployRequest, DeployRequestId, DeployStatus, OauthConsumer, StoredComponent, StoredRetrieve,
    Unfinished,
};
use crate::{MetadataStore, StoreError, StoreResult};

mod change_set;

use change_set::check_final;

/// `SELECT <every column> FROM metadata_components <tail>`.
macro_rules! select_components {
    ($tail:literal) => {
        concat!(
            "SELECT org_id, type_name, full_name, app_name, xml, revision, created_at, created_by, \
             updated_at, updated_by FROM metadata_components ",
            $tail
        )
    };
}

/// `SELECT <every column> FROM metadata_audit <tail>`, the columns `audit_from` reads.
macro_rules! select_audit {
    ($tail:literal) => {
        concat!(
            "SELECT seq, org_id, user_id, at, deploy_request_id, action, type_name, full_name, \
             before_xml, after_xml FROM metadata_audit ",
            $tail
        )
    };
}

/// `SELECT <every column> FROM oauth_consumers <tail>`.
macro_rules! select_consumers {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, app_name, consumer_key, consumer_secret, created_at, updated_at \
             FROM oauth_consumers ",
            $tail
        )
    };
}

/// `SELECT <every column> FROM deploy_requests <tail>`.
macro_rules! select_requests {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, created_by, status, options, result, created_at, started_at, \
             completed_at, canceled_by, node_id FROM deploy_requests ",
            $tail
        )
    };
}

fn component_from(row: &impl Columns) -> StoreResult<StoredComponent> {
    Ok(StoredComponent {
        org_id: row.id("org_id", OrgId::parse)?,
        type_name: row.text("type_name")?,
        full_name: row.text("full_name")?,
        app_name: row.opt_text("app_name")?,
        xml: row.text("xml")?,
        revision: row.int("revision")?,
        created_at: Timestamp(row.int("created_at")?),
        created_by: row.id("created_by", UserId::parse)?,
        updated_at: Timestamp(row.int("updated_at")?),
        updated_by: row.id("updated_by", UserId::parse)?,
    })
}

fn consumer_from(row: &impl Columns) -> StoreResult<OauthConsumer> {
    Ok(OauthConsumer {
        id: row.id("id", ConsumerId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        app_name: row.text("app_name")?,
        consumer_key: row.text("consumer_key")?,
        encrypted_secret: row.bytes("consumer_secret")?,
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

fn request_from(row: &impl Columns) -> StoreResult<DeployRequest> {
    let status = row.text("status")?;
    Ok(DeployRequest {
        id: row.id("id", DeployRequestId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        created_by: row.id("created_by", UserId::parse)?,
        status: DeployStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("column `status`: unknown deploy status `{status}`"))
        })?,
        options_json: row.text("options")?,
        result_json: row.opt_text("result")?,
        created_at: Timestamp(row.int("created_at")?),
        started_at: row.opt_int("started_at")?.map(Timestamp),
        completed_at: row.opt_int("completed_at")?.map(Timestamp),
        canceled_by: row
            .opt_text("canceled_by")?
            .map(|u| {
                UserId::parse(&u)
                    .map_err(|e| StoreError::Corrupt(format!("column `canceled_by`: {e}")))
            })
            .transpose()?,
        node_id: row.opt_text("node_id")?,
    })
}

fn retrieve_from(row: &impl Columns) -> StoreResult<StoredRetrieve> {
    Ok(StoredRetrieve {
        id: row.text("id")?,
        org_id: row.id("org_id", OrgId::parse)?,
        created_by: row.id("created_by", UserId::parse)?,
        result_json: row.text("result")?,
        zip: row.bytes("zip")?,
        created_at: Timestamp(row.int("created_at")?),
        expires_at: Timestamp(row.int("expires_at")?),
    })
}

fn audit_from(row: &impl Columns) -> StoreResult<AuditRecord> {
    let action = row.text("action")?;
    let deploy = row.opt_text("deploy_request_id")?;
    Ok(AuditRecord {
        seq: row.int("seq")?,
        org_id: row.id("org_id", OrgId::parse)?,
        user_id: row.id("user_id", UserId::parse)?,
        at: Timestamp(row.int("at")?),
        deploy_request_id: deploy
            .map(|d| {
                DeployRequestId::parse(&d)
                    .map_err(|e| StoreError::Corrupt(format!("column `deploy_request_id`: {e}")))
            })
            .transpose()?,
        entry: AuditEntry {
            action: AuditAction::parse(&action).ok_or_else(|| {
                StoreError::Corrupt(format!("column `action`: unknown audit action `{action}`"))
            })?,
            type_name: row.text("type_name")?,
            full_name: row.text("full_name")?,
            before_xml: row.opt_text("before_xml")?,
            after_xml: row.opt_text("after_xml")?,
        },
    })
}

#[async_trait]
impl<D: Db> MetadataStore for D {
    async fn component(
        &self,
        org: &OrgId,
        type_name: &str,
        full_name: &str,
    ) -> StoreResult<Option<StoredComponent>> {
        let lower = fold(full_name);
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(type_name),
            Arg::Text(&lower),
        ];
        let sql =
            select_components!("WHERE org_id = $1 AND type_name = $2 AND full_name_lower = $3");
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.as_ref().map(component_from).transpose()
    }

    async fn components_of_type(
        &self,
        org: &OrgId,
        type_name: &str,
    ) -> StoreResult<Vec<StoredComponent>> {
        let sql =
            select_components!("WHERE org_id = $1 AND type_name = $2 ORDER BY full_name_lower");
        let args = [Arg::Text(org.as_str()), Arg::Text(type_name)];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(component_from).collect()
    }

    async fn components_of_app(&self, org: &OrgId, app: &str) -> StoreResult<Vec<StoredComponent>> {
        let lower = fold(app);
        let sql = select_components!(
            "WHERE org_id = $1 AND app_name_lower = $2 ORDER BY type_name, full_name_lower"
        );
        let args = [Arg::Text(org.as_str()), Arg::Text(&lower)];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(component_from).collect()
    }

    async fn components(&self, org: &OrgId) -> StoreResult<Vec<StoredComponent>> {
        let sql = select_components!("WHERE org_id = $1 ORDER BY type_name, full_name_lower");
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(component_from).collect()
    }

    async fn consumer(&self, id: &ConsumerId) -> StoreResult<Option<OauthConsumer>> {
        let sql = select_consumers!("WHERE id = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(consumer_from).transpose()
    }

    async fn consumer_by_key(&self, consumer_key: &str) -> StoreResult<Option<OauthConsumer>> {
        let sql = select_consumers!("WHERE consumer_key = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(consumer_key)])
            .await
            .map_err(database)?;
        row.as_ref().map(consumer_from).transpose()
    }

    async fn consumers_of_app(&self, org: &OrgId, app: &str) -> StoreResult<Vec<OauthConsumer>> {
        let lower = fold(app);
        let sql =
            select_consumers!("WHERE org_id = $1 AND app_name_lower = $2 ORDER BY created_at, id");
        let args = [Arg::Text(org.as_str()), Arg::Text(&lower)];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(consumer_from).collect()
    }

    async fn apply_changes(&self, set: &ChangeSet<'_>) -> StoreResult<()> {
        change_set::apply(self, set).await
    }

    async fn audit_trail(
        &self,
        org: &OrgId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let sql = select_audit!("WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let args = [
            Arg::Text(org.as_str()),
            Arg::Int(after_seq),
            Arg::Int(limit),
        ];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_of_type(
        &self,
        type_name: &str,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let sql = select_audit!("WHERE type_name = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let args = [Arg::Text(type_name), Arg::Int(after_seq), Arg::Int(limit)];
        let rows = self.read_all(sql, &args).await.map_err(database)?;
        rows.iter().map(audit_from).collect()
    }

    async fn replace_audit_texts(
        &self,
        seq: i64,
        type_name: &str,
        before_xml: Option<&str>,
        after_xml: Option<&str>,
    ) -> StoreResult<bool> {
        let sql = "UPDATE metadata_audit SET before_xml = $1, after_xml = $2 \
                   WHERE seq = $3 AND type_name = $4";
        let args = [
            Arg::OptText(before_xml),
            Arg::OptText(after_xml),
            Arg::Int(seq),
            Arg::Text(type_name),
        ];
        let changed = self.write(sql, &args).await.map_err(database)?;
        Ok(changed > 0)
    }

    async fn create_deploy_request(&self, request: &DeployRequest) -> StoreResult<()> {
        let sql = "INSERT INTO deploy_requests (id, org_id, created_by, status, options, result, \
                   created_at, started_at, completed_at, canceled_by, node_id) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let args = [
            Arg::Text(request.id.as_str()),
            Arg::Text(request.org_id.as_str()),
            Arg::Text(request.created_by.as_str()),
            Arg::Text(request.status.as_str()),
            Arg::Text(&request.options_json),
            Arg::OptText(request.result_json.as_deref()),
            Arg::Int(request.created_at.millis()),
            Arg::OptInt(request.started_at.map(Timestamp::millis)),
            Arg::OptInt(request.completed_at.map(Timestamp::millis)),
            Arg::OptText(request.canceled_by.as_ref().map(UserId::as_str)),
            Arg::OptText(request.node_id.as_deref()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "deploy request",
                    value: request.id.to_string(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the org",
                    value: request.created_by.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
    ) -> StoreResult<Option<DeployRequest>> {
        let sql = select_requests!("WHERE org_id = $1 AND id = $2");
        let args = [Arg::Text(org.as_str()), Arg::Text(id.as_str())];
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.as_ref().map(request_from).transpose()
    }

    async fn start_deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE deploy_requests SET status = 'InProgress', started_at = $3 \
                   WHERE org_id = $1 AND id = $2 AND status = 'Queued'";
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(id.as_str()),
            Arg::Int(at.millis()),
        ];
        let n = self.write(sql, &args).await.map_err(database)?;
        Ok(n == 1)
    }

    async fn cancel_deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<CancelOutcome> {
        // Two guarded updates rather than one: each says by its row count which state the
        // request was in, and a request that starts between them is caught by the second.
        let queued = "UPDATE deploy_requests SET status = 'Canceled', completed_at = $3, \
                      canceled_by = $4 WHERE org_id = $1 AND id = $2 AND status = 'Queued'";
        let running = "UPDATE deploy_requests SET status = 'Canceling', canceled_by = $3 \
                       WHERE org_id = $1 AND id = $2 AND status = 'InProgress'";
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(id.as_str()),
            Arg::Int(at.millis()),
            Arg::Text(by.as_str()),
        ];
        if self.write(queued, &args).await.map_err(database)? == 1 {
            return Ok(CancelOutcome::Canceled);
        }
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(id.as_str()),
            Arg::Text(by.as_str()),
        ];
        match self.write(running, &args).await {
            Ok(1) => Ok(CancelOutcome::Canceling),
            Ok(_) => Ok(CancelOutcome::Unchanged),
            Err(e) => Err(match Failure::of(e) {
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the org",
                    value: by.to_string(),
                },
                Failure::Unique(_) => StoreError::Database("unexpected unique violation".into()),
                Failure::Other(e) => e,
            }),
        }
    }

    async fn finish_deploy_request(
        &self,
        org: &OrgId,
        finish: &DeployFinish,
        at: Timestamp,
    ) -> StoreResult<()> {
        check_final(finish)?;
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(finish.id.as_str()),
            Arg::Text(finish.status.as_str()),
            Arg::Text(&finish.result_json),
            Arg::Int(at.millis()),
        ];
        // A `Canceling` request may only end `Canceled`: the cancel was asked for first.
        let sql = "UPDATE deploy_requests SET status = $3, result = $4, completed_at = $5 \
                   WHERE org_id = $1 AND id = $2 \
                   AND (status = 'InProgress' OR (status = 'Canceling' AND $3 = 'Canceled'))";
        match self.write(sql, &args).await.map_err(database)? {
            1 => Ok(()),
            _ => Err(StoreError::Missing {
                what: "deploy request in progress",
                value: finish.id.to_string(),
            }),
        }
    }

    async fn fail_unfinished_deploy_requests(
        &self,
        which: Unfinished<'_>,
        at: Timestamp,
    ) -> StoreResult<u64> {
        macro_rules! fail {
            ($whose:literal) => {
                concat!(
                    "UPDATE deploy_requests \
                     SET status = CASE WHEN status = 'Canceling' THEN 'Canceled' ELSE 'Failed' END, \
                     completed_at = $1 WHERE status IN ('Queued', 'InProgress', 'Canceling') AND ",
                    $whose
                )
            };
        }
        let written = match which {
            Unfinished::OfNode(node) => {
                let sql = fail!("node_id = $2");
                self.write(sql, &[Arg::Int(at.millis()), Arg::Text(node)])
                    .await
            }
            Unfinished::OfNodesOtherThan(node) => {
                let sql = fail!("(node_id IS NULL OR node_id <> $2)");
                self.write(sql, &[Arg::Int(at.millis()), Arg::Text(node)])
                    .await
            }
            Unfinished::OfNodesSilentSince { since, unclaimed } => {
                let sql = fail!(
                    // `NULL NOT IN (<no rows>)` is true: the unclaimed are tested apart.
                    "((node_id IS NULL AND $3) OR (node_id IS NOT NULL AND node_id NOT IN \
                     (SELECT id FROM server_nodes WHERE seen_at >= $2)))"
                );
                let args = [
                    Arg::Int(at.millis()),
                    Arg::Int(since.millis()),
                    Arg::Bool(unclaimed),
                ];
                self.write(sql, &args).await
            }
        };
        written.map_err(database)
    }

    async fn touch_node(&self, node: &str, at: Timestamp) -> StoreResult<()> {
        let sql = "INSERT INTO server_nodes (id, started_at, seen_at) VALUES ($1, $2, $2) \
                   ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at";
        self.write(sql, &[Arg::Text(node), Arg::Int(at.millis())])
            .await
            .map_err(database)?;
        Ok(())
    }

    async fn remove_node(&self, node: &str) -> StoreResult<()> {
        let sql = "DELETE FROM server_nodes WHERE id = $1";
        self.write(sql, &[Arg::Text(node)])
            .await
            .map_err(database)?;
        Ok(())
    }

    async fn remove_nodes_silent_since(&self, before: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM server_nodes WHERE seen_at < $1";
        self.write(sql, &[Arg::Int(before.millis())])
            .await
            .map_err(database)
    }

    async fn create_retrieve(&self, retrieve: &StoredRetrieve) -> StoreResult<()> {
        let sql = "INSERT INTO retrieve_requests (id, org_id, created_by, result, zip, \
                   created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let args = [
            Arg::Text(&retrieve.id),
            Arg::Text(retrieve.org_id.as_str()),
            Arg::Text(retrieve.created_by.as_str()),
            Arg::Text(&retrieve.result_json),
            Arg::Bytes(&retrieve.zip),
            Arg::Int(retrieve.created_at.millis()),
            Arg::Int(retrieve.expires_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "retrieve request",
                    value: retrieve.id.clone(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "user in the org",
                    value: retrieve.created_by.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn retrieve(
        &self,
        org: &OrgId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredRetrieve>> {
        let sql = "SELECT id, org_id, created_by, result, zip, created_at, expires_at \
                   FROM retrieve_requests WHERE org_id = $1 AND id = $2 AND expires_at > $3";
        let args = [
            Arg::Text(org.as_str()),
            Arg::Text(id),
            Arg::Int(now.millis()),
        ];
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.as_ref().map(retrieve_from).transpose()
    }

    async fn delete_expired_retrieves(&self, now: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM retrieve_requests WHERE expires_at <= $1";
        self.write(sql, &[Arg::Int(now.millis())])
            .await
            .map_err(database)
    }
}
