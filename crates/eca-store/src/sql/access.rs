//! [`AccessStore`] over [`Db`]: profiles, permission sets and their assignment to users.

use async_trait::async_trait;
use eca_core::domain::{PermissionSet, Permissions, Profile};
use eca_core::{OrgId, PermissionSetId, ProfileId, Timestamp, UserId};

use super::{Arg, Columns, Db, Failure, database, exists, fold};
use crate::{AccessStore, StoreError, StoreResult};

fn profile_from(row: &impl Columns) -> StoreResult<Profile> {
    Ok(Profile {
        id: row.id("id", ProfileId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        name: row.text("name")?,
        permissions: Permissions::from_csv(&row.text("permissions")?),
    })
}

fn permission_set_from(row: &impl Columns) -> StoreResult<PermissionSet> {
    Ok(PermissionSet {
        id: row.id("id", PermissionSetId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        name: row.text("name")?,
        label: row.text("label")?,
        permissions: Permissions::from_csv(&row.text("permissions")?),
    })
}

/// Maps the failure of inserting a profile or permission set named `name` with id `id`.
fn create_failure(
    e: sqlx::Error,
    kind: &'static str,
    id: &str,
    name: &str,
    org: &OrgId,
) -> StoreError {
    match Failure::of(e) {
        Failure::Unique(c) if c.contains("name_lower") => StoreError::Conflict {
            what: kind,
            value: name.to_owned(),
        },
        Failure::Unique(_) => StoreError::Conflict {
            what: kind,
            value: id.to_owned(),
        },
        Failure::ForeignKey => StoreError::Missing {
            what: "org",
            value: org.to_string(),
        },
        Failure::Other(e) => e,
    }
}

#[async_trait]
impl<D: Db> AccessStore for D {
    async fn create_profile(&self, profile: &Profile) -> StoreResult<()> {
        let sql = "INSERT INTO profiles (id, org_id, name, name_lower, permissions) \
                   VALUES ($1, $2, $3, $4, $5)";
        let name_lower = fold(&profile.name);
        let permissions = profile.permissions.to_csv();
        let args = [
            Arg::Text(profile.id.as_str()),
            Arg::Text(profile.org_id.as_str()),
            Arg::Text(&profile.name),
            Arg::Text(&name_lower),
            Arg::Text(&permissions),
        ];
        self.write(sql, &args).await.map(drop).map_err(|e| {
            create_failure(
                e,
                "profile",
                profile.id.as_str(),
                &profile.name,
                &profile.org_id,
            )
        })
    }

    async fn profile(&self, id: &ProfileId) -> StoreResult<Option<Profile>> {
        let sql = "SELECT id, org_id, name, permissions FROM profiles WHERE id = $1";
        let row = self
            .read_optional(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(profile_from).transpose()
    }

    async fn profile_by_name(&self, org: &OrgId, name: &str) -> StoreResult<Option<Profile>> {
        let sql = "SELECT id, org_id, name, permissions FROM profiles WHERE org_id = $1 AND name_lower = $2";
        let name_lower = fold(name);
        let args = [Arg::Text(org.as_str()), Arg::Text(&name_lower)];
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.as_ref().map(profile_from).transpose()
    }

    async fn profiles(&self, org: &OrgId) -> StoreResult<Vec<Profile>> {
        let sql = "SELECT id, org_id, name, permissions FROM profiles WHERE org_id = $1 ORDER BY name_lower, id";
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(profile_from).collect()
    }

    async fn create_permission_set(&self, set: &PermissionSet) -> StoreResult<()> {
        let sql = "INSERT INTO permission_sets (id, org_id, name, name_lower, label, permissions) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        let name_lower = fold(&set.name);
        let permissions = set.permissions.to_csv();
        let args = [
            Arg::Text(set.id.as_str()),
            Arg::Text(set.org_id.as_str()),
            Arg::Text(&set.name),
            Arg::Text(&name_lower),
            Arg::Text(&set.label),
            Arg::Text(&permissions),
        ];
        self.write(sql, &args).await.map(drop).map_err(|e| {
            create_failure(e, "permission set", set.id.as_str(), &set.name, &set.org_id)
        })
    }

    async fn permission_set(&self, id: &PermissionSetId) -> StoreResult<Option<PermissionSet>> {
        let sql = "SELECT id, org_id, name, label, permissions FROM permission_sets WHERE id = $1";
        let row = self
            .read_optional(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(permission_set_from).transpose()
    }

    async fn permission_set_by_name(
        &self,
        org: &OrgId,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let sql = "SELECT id, org_id, name, label, permissions FROM permission_sets \
                   WHERE org_id = $1 AND name_lower = $2";
        let name_lower = fold(name);
        let args = [Arg::Text(org.as_str()), Arg::Text(&name_lower)];
        let row = self.read_optional(sql, &args).await.map_err(database)?;
        row.as_ref().map(permission_set_from).transpose()
    }

    async fn permission_sets(&self, org: &OrgId) -> StoreResult<Vec<PermissionSet>> {
        let sql = "SELECT id, org_id, name, label, permissions FROM permission_sets \
                   WHERE org_id = $1 ORDER BY name_lower, id";
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(permission_set_from).collect()
    }

    async fn assign_permission_set(
        &self,
        user: &UserId,
        set: &PermissionSetId,
        at: Timestamp,
    ) -> StoreResult<()> {
        // The org comes from the user's row, and the foreign key (org_id, permission_set_id)
        // then refuses a set of another org. No user row means nothing is inserted.
        let sql = "INSERT INTO permission_set_assignments (user_id, permission_set_id, org_id, assigned_at) \
                   SELECT id, $2, org_id, $3 FROM users WHERE id = $1 \
                   ON CONFLICT (user_id, permission_set_id) DO NOTHING";
        let args = [
            Arg::Text(user.as_str()),
            Arg::Text(set.as_str()),
            Arg::Int(at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(1..) => Ok(()),
            // Either already assigned (not an error) or there is no such user.
            Ok(0) => {
                match exists(self, "SELECT 1 FROM users WHERE id = $1", user.as_str()).await? {
                    true => Ok(()),
                    false => Err(StoreError::Missing {
                        what: "user",
                        value: user.to_string(),
                    }),
                }
            }
            Err(e) => Err(match Failure::of(e) {
                Failure::ForeignKey => StoreError::Missing {
                    what: "permission set in the user's org",
                    value: set.to_string(),
                },
                Failure::Unique(c) => {
                    StoreError::Database(format!("unexpected unique violation: {c}"))
                }
                Failure::Other(e) => e,
            }),
        }
    }

    async fn unassign_permission_set(
        &self,
        user: &UserId,
        set: &PermissionSetId,
    ) -> StoreResult<bool> {
        let sql =
            "DELETE FROM permission_set_assignments WHERE user_id = $1 AND permission_set_id = $2";
        let args = [Arg::Text(user.as_str()), Arg::Text(set.as_str())];
        let n = self.write(sql, &args).await.map_err(database)?;
        Ok(n > 0)
    }

    async fn permission_sets_of(&self, user: &UserId) -> StoreResult<Vec<PermissionSet>> {
        let sql = "SELECT s.id, s.org_id, s.name, s.label, s.permissions FROM permission_sets s \
                   JOIN permission_set_assignments a ON a.permission_set_id = s.id \
                   WHERE a.user_id = $1 ORDER BY s.name_lower, s.id";
        let rows = self
            .read_all(sql, &[Arg::Text(user.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(permission_set_from).collect()
    }
}
