//! Versioned schema migrations, embedded in the binary.
//!
//! Each backend has its own list (the SQL dialects differ in types, not in shape) and its own
//! runner in its module; both record applied versions in `eca_schema_migrations(version,
//! applied_at)`, apply each pending migration in its own transaction in version order, and
//! refuse to open a database whose schema is newer than this build knows.

use crate::{StoreError, StoreResult};

/// One migration: its version (the number its file name starts with) and its SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/sqlite/0002_metadata.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/sqlite/0003_oauth.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/sqlite/0004_authorization.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/sqlite/0005_credentials.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/sqlite/0006_saml.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/sqlite/0007_metadata_async.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/sqlite/0008_login_ip_ranges.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/sqlite/0009_access_token_indexes.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/sqlite/0010_org_settings.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../migrations/sqlite/0011_access_token_user_index.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/sqlite/0012_refresh_token_idle_index.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/sqlite/0013_legacy_access_token_keys.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/sqlite/0014_device_authenticated_at.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/sqlite/0015_server_nodes.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("../migrations/sqlite/0016_approval_scopes.sql"),
    },
    Migration {
        version: 17,
        sql: include_str!("../migrations/sqlite/0017_revoked_families.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/postgres/0002_metadata.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/postgres/0003_oauth.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/postgres/0004_authorization.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/postgres/0005_credentials.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/postgres/0006_saml.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/postgres/0007_metadata_async.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/postgres/0008_login_ip_ranges.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/postgres/0009_access_token_indexes.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/postgres/0010_org_settings.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../migrations/postgres/0011_access_token_user_index.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/postgres/0012_refresh_token_idle_index.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/postgres/0013_legacy_access_token_keys.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/postgres/0014_device_authenticated_at.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/postgres/0015_server_nodes.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("../migrations/postgres/0016_approval_scopes.sql"),
    },
    Migration {
        version: 17,
        sql: include_str!("../migrations/postgres/0017_revoked_families.sql"),
    },
];

/// Refuses a database migrated by a newer build: its schema may mean things this one does not
/// know (a rolling upgrade must finish before an old node restarts).
pub(crate) fn check_not_newer(applied: Option<i64>, known: &[Migration]) -> StoreResult<()> {
    let latest = known.last().map_or(0, |m| m.version);
    match applied {
        Some(v) if v > latest => Err(StoreError::Corrupt(format!(
            "the database schema is at version {v}, newer than this build's {latest}"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_from_one_and_are_alike_in_both_backends() {
        for list in [SQLITE, POSTGRES] {
            assert_eq!(list.first().map(|m| m.version), Some(1));
            for pair in list.windows(2) {
                assert!(pair[0].version < pair[1].version, "{}", pair[1].version);
            }
        }
        let versions = |list: &[Migration]| list.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(
            versions(SQLITE),
            versions(POSTGRES),
            "every change is made in both dialects"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        assert!(check_not_newer(None, SQLITE).is_ok());
        assert!(check_not_newer(Some(1), SQLITE).is_ok());
        assert!(matches!(
            check_not_newer(Some(99), SQLITE),
            Err(StoreError::Corrupt(_))
        ));
    }
}
