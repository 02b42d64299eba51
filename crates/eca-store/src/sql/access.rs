//! [`AccessStore`] over [`Db`]: profiles, their login IP ranges, permission sets and their
//! assignment to users.

use async_trait::async_trait;
use eca_core::domain::{LoginIpRange, PermissionSet, Permissions, Profile};
use eca_core::net::AddressRange;
use eca_core::{LoginIpRangeId, OrgId, PermissionSetId, ProfileId, Timestamp, UserId};

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

/// A SELECT of every column of `login_ip_ranges`, followed by `$rest`.
macro_rules! select_ranges {
    ($rest:literal) => {
        concat!(
            "SELECT id, org_id, profile_id, start_address, end_address, description, ",
            "created_at, last_modified_at FROM login_ip_ranges ",
            $rest
        )
    };
}

fn login_ip_range_from(row: &impl Columns) -> StoreResult<LoginIpRange> {
    let (start, end) = (row.text("start_address")?, row.text("end_address")?);
    let range = AddressRange::parse(&start, &end)
        .map_err(|e| StoreError::Corrupt(format!("login IP range: {e}")))?;
    Ok(LoginIpRange {
        id: row.id("id", LoginIpRangeId::parse)?,
        org_id: row.id("org_id", OrgId::parse)?,
        profile_id: row.id("profile_id", ProfileId::parse)?,
        range,
        description: row.opt_text("description")?,
        created_at: Timestamp(row.int("created_at")?),
        last_modified_at: Timestamp(row.int("last_modified_at")?),
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

    async fn create_login_ip_range(&self, range: &LoginIpRange) -> StoreResult<()> {
        let sql = "INSERT INTO login_ip_ranges (id, org_id, profile_id, start_address, \
                   end_address, description, created_at, last_modified_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let (start, end) = (
            range.range.start().to_string(),
            range.range.end().to_string(),
        );
        let args = [
            Arg::Text(range.id.as_str()),
            Arg::Text(range.org_id.as_str()),
            Arg::Text(range.profile_id.as_str()),
            Arg::Text(&start),
            Arg::Text(&end),
            Arg::OptText(range.description.as_deref()),
            Arg::Int(range.created_at.millis()),
            Arg::Int(range.last_modified_at.millis()),
        ];
        self.write(sql, &args)
            .await
            .map(drop)
            .map_err(|e| match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "login IP range",
                    value: range.id.to_string(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "profile in the range's org",
                    value: range.profile_id.to_string(),
                },
                Failure::Other(e) => e,
            })
    }

    async fn login_ip_range(&self, id: &LoginIpRangeId) -> StoreResult<Option<LoginIpRange>> {
        let sql = select_ranges!("WHERE id = $1");
        let row = self
            .read_optional(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        row.as_ref().map(login_ip_range_from).transpose()
    }

    async fn login_ip_ranges_of(&self, profile: &ProfileId) -> StoreResult<Vec<LoginIpRange>> {
        let sql = select_ranges!("WHERE profile_id = $1 ORDER BY created_at, id");
        let rows = self
            .read_all(sql, &[Arg::Text(profile.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(login_ip_range_from).collect()
    }

    async fn login_ip_ranges(&self, org: &OrgId) -> StoreResult<Vec<LoginIpRange>> {
        let sql = select_ranges!("WHERE org_id = $1 ORDER BY created_at, id");
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter().map(login_ip_range_from).collect()
    }

    async fn update_login_ip_range(&self, range: &LoginIpRange) -> StoreResult<()> {
        let sql = "UPDATE login_ip_ranges SET start_address = $2, end_address = $3, \
                   description = $4, last_modified_at = $5 WHERE id = $1";
        let (start, end) = (
            range.range.start().to_string(),
            range.range.end().to_string(),
        );
        let args = [
            Arg::Text(range.id.as_str()),
            Arg::Text(&start),
            Arg::Text(&end),
            Arg::OptText(range.description.as_deref()),
            Arg::Int(range.last_modified_at.millis()),
        ];
        match self.write(sql, &args).await.map_err(database)? {
            0 => Err(StoreError::Missing {
                what: "login IP range",
                value: range.id.to_string(),
            }),
            _ => Ok(()),
        }
    }

    async fn delete_login_ip_range(&self, id: &LoginIpRangeId) -> StoreResult<bool> {
        let sql = "DELETE FROM login_ip_ranges WHERE id = $1";
        let n = self
            .write(sql, &[Arg::Text(id.as_str())])
            .await
            .map_err(database)?;
        Ok(n > 0)
    }
}
