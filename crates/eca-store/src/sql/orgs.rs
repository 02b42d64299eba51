//! [`OrgStore`] over [`Db`].

use async_trait::async_trait;
use eca_core::domain::Org;
use eca_core::{OrgId, Timestamp};

use super::{Arg, Columns, Db, Failure, database, fold};
use crate::{OrgSettings, OrgStore, StoreError, StoreResult};

/// Every column [`org_from`] reads, as one literal.
macro_rules! org_columns {
    () => {
        "id, name, my_domain, is_default, session_timeout_minutes, \
         enforce_ip_ranges_every_request, created_at"
    };
}

/// `SELECT <every column> FROM orgs <tail>`, as one `&'static str`.
macro_rules! select_orgs {
    ($tail:literal) => {
        concat!("SELECT ", org_columns!(), " FROM orgs ", $tail)
    };
}

fn org_from(row: &impl Columns) -> StoreResult<Org> {
    Ok(Org {
        id: row.id("id", OrgId::parse)?,
        name: row.text("name")?,
        my_domain: row.text("my_domain")?,
        is_default: row.flag("is_default")?,
        session_timeout_minutes: row.int("session_timeout_minutes")?,
        enforce_ip_ranges_every_request: row.flag("enforce_ip_ranges_every_request")?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

#[async_trait]
impl<D: Db> OrgStore for D {
    async fn create_org(&self, org: &Org) -> StoreResult<()> {
        let domain = fold(&org.my_domain);
        let sql = "INSERT INTO orgs (id, name, my_domain, my_domain_lower, is_default, \
                   session_timeout_minutes, enforce_ip_ranges_every_request, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args = [
            Arg::Text(org.id.as_str()),
            Arg::Text(&org.name),
            Arg::Text(&org.my_domain),
            Arg::Text(&domain),
            Arg::Bool(org.is_default),
            Arg::Int(org.session_timeout_minutes),
            Arg::Bool(org.enforce_ip_ranges_every_request),
            Arg::Int(org.created_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(c) if c.contains("my_domain") => StoreError::Conflict {
                    what: "My Domain name",
                    value: org.my_domain.clone(),
                },
                Failure::Unique(c) if c.contains("is_default") => StoreError::Conflict {
                    what: "default org",
                    value: org.my_domain.clone(),
                },
                Failure::Unique(_) => StoreError::Conflict {
                    what: "org",
                    value: org.id.to_string(),
                },
                Failure::ForeignKey => {
                    StoreError::Database("unexpected foreign key on orgs".to_owned())
                }
                Failure::Other(e) => e,
            }),
        }
    }

    async fn org(&self, id: &OrgId) -> StoreResult<Option<Org>> {
        let row = self
            .read_optional(select_orgs!("WHERE id = $1"), &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(org_from).transpose()
    }

    async fn org_by_domain(&self, my_domain: &str) -> StoreResult<Option<Org>> {
        let domain = fold(my_domain);
        let row = self
            .read_optional(
                select_orgs!("WHERE my_domain_lower = $1"),
                &[Arg::Text(&domain)],
            )
            .await
            .map_err(database)?;
        row.as_ref().map(org_from).transpose()
    }

    async fn default_org(&self) -> StoreResult<Option<Org>> {
        let row = self
            .read_optional(select_orgs!("WHERE is_default"), &[])
            .await
            .map_err(database)?;
        row.as_ref().map(org_from).transpose()
    }

    async fn orgs(&self) -> StoreResult<Vec<Org>> {
        let rows = self
            .read_all(select_orgs!("ORDER BY created_at, id"), &[])
            .await
            .map_err(database)?;
        rows.iter().map(org_from).collect()
    }

    async fn update_org_settings(&self, id: &OrgId, change: OrgSettings) -> StoreResult<Org> {
        // COALESCE in the statement, not values read earlier: a setting changed meanwhile by
        // another request (or node) and not named here stays as stored.
        let sql = concat!(
            "UPDATE orgs SET session_timeout_minutes = COALESCE($2, session_timeout_minutes), \
             enforce_ip_ranges_every_request = COALESCE($3, enforce_ip_ranges_every_request) \
             WHERE id = $1 RETURNING ",
            org_columns!()
        );
        let args = [
            Arg::Text(id.as_str()),
            Arg::OptInt(change.session_timeout_minutes),
            Arg::OptBool(change.enforce_ip_ranges_every_request),
        ];
        match self.write_returning(sql, &args).await.map_err(database)? {
            Some(row) => org_from(&row),
            None => Err(StoreError::Missing {
                what: "org",
                value: id.to_string(),
            }),
        }
    }
}
