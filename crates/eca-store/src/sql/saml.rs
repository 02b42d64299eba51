//! [`SamlStore`] over [`Db`]: the SAML identity provider's signing keys.

use async_trait::async_trait;
use eca_core::{OrgId, Timestamp};

use super::{Arg, Columns, Db, Failure, database};
use crate::saml::SamlKeyRecord;
use crate::{SamlStore, StoreError, StoreResult};

#[async_trait]
impl<D: Db> SamlStore for D {
    async fn create_saml_key(&self, key: &SamlKeyRecord) -> StoreResult<()> {
        let sql = "INSERT INTO saml_signing_keys \
                   (org_id, version, private_key, certificate, created_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        let args = [
            Arg::Text(key.org_id.as_str()),
            Arg::Int(key.version),
            Arg::Bytes(&key.encrypted_key),
            Arg::Bytes(&key.certificate),
            Arg::Int(key.created_at.millis()),
        ];
        match self.write(sql, &args).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(e) {
                Failure::Unique(_) => StoreError::Conflict {
                    what: "SAML signing key",
                    value: key.version.to_string(),
                },
                Failure::ForeignKey => StoreError::Missing {
                    what: "org",
                    value: key.org_id.to_string(),
                },
                Failure::Other(e) => e,
            }),
        }
    }

    async fn saml_keys(&self, org: &OrgId) -> StoreResult<Vec<SamlKeyRecord>> {
        let sql = "SELECT org_id, version, private_key, certificate, created_at \
                   FROM saml_signing_keys WHERE org_id = $1 ORDER BY version";
        let rows = self
            .read_all(sql, &[Arg::Text(org.as_str())])
            .await
            .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(SamlKeyRecord {
                    org_id: row.id("org_id", OrgId::parse)?,
                    version: row.int("version")?,
                    encrypted_key: row.bytes("private_key")?,
                    certificate: row.bytes("certificate")?,
                    created_at: Timestamp(row.int("created_at")?),
                })
            })
            .collect()
    }
}
