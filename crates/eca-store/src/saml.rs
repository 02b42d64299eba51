//! What the store keeps for the SAML identity provider: each org's signing keys.

use eca_core::{OrgId, Timestamp};

/// One of an org's SAML signing keys: the private key encrypted under the master key, and the
/// self-signed certificate published for it.
#[derive(Clone, PartialEq, Eq)]
pub struct SamlKeyRecord {
    pub org_id: OrgId,
    /// 1 for the org's first key, one more per rotation; the highest signs.
    pub version: i64,
    /// `MasterKey::encrypt(PKCS#8 DER, context = "saml-signing-key:<org_id>:<version>")`.
    pub encrypted_key: Vec<u8>,
    /// The X.509 certificate, DER.
    pub certificate: Vec<u8>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SamlKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlKeyRecord")
            .field("org_id", &self.org_id)
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}
