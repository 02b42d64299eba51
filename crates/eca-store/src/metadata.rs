//! The records of [`crate::MetadataStore`]: deployed components, OAuth consumers, deploy
//! requests and the audit trail, and the [`ChangeSet`] that writes them all at once.
//!
//! The store knows metadata only as text: a type name, a full name, the app it belongs to and
//! canonical XML. Parsing, validation and the platform's rules live in `eca-deploy`.

use std::fmt;

use eca_core::{OrgId, Timestamp, UserId};

pub use eca_core::ids::{ConsumerId, DeployRequestId};

/// One deployed component, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComponent {
    pub org_id: OrgId,
    /// The Metadata API type name (`ExtlClntAppOauthSettings`).
    pub type_name: String,
    pub full_name: String,
    /// The app it belongs to (a header's own name); `None` for the org settings.
    pub app_name: Option<String>,
    /// Canonical XML, without any consumer secret.
    pub xml: String,
    /// Starts at 1 and grows with every update; changes name the revision they replace.
    pub revision: i64,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub updated_at: Timestamp,
    pub updated_by: UserId,
}

/// One change to a component within a [`ChangeSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentChange {
    /// A new component; `Conflict` if one of that type and name (case-insensitive) exists.
    Create {
        type_name: String,
        full_name: String,
        app_name: Option<String>,
        xml: String,
    },
    /// Replaces a component at `revision`; `Conflict` if it is gone or was changed since.
    Update {
        type_name: String,
        full_name: String,
        app_name: Option<String>,
        xml: String,
        revision: i64,
    },
    /// Deletes a component at `revision`; `Conflict` if it is gone or was changed since.
    Delete {
        type_name: String,
        full_name: String,
        revision: i64,
    },
}

/// An OAuth consumer: the key and (encrypted) secret of an app's global OAuth settings.
#[derive(Clone, PartialEq, Eq)]
pub struct OauthConsumer {
    pub id: ConsumerId,
    pub org_id: OrgId,
    pub app_name: String,
    /// The `client_id`; unique across the server.
    pub consumer_key: String,
    /// `MasterKey::encrypt(secret, context = id)`; the store never sees the plaintext.
    pub encrypted_secret: Vec<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for OauthConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OauthConsumer")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("app_name", &self.app_name)
            .field("consumer_key", &self.consumer_key)
            .field("encrypted_secret", &"***")
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// One change to the consumers within a [`ChangeSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerChange {
    /// A new consumer (its `org_id` must be the change set's); `Conflict` when the key is taken.
    Create(OauthConsumer),
    /// Replaces the key (`shouldRotateConsumerKey`); `Conflict` when the key is taken, or the
    /// consumer is gone or no longer has `expected_key` (the key the deploy read: a Connect
    /// rotation swapped another in meanwhile).
    RotateKey {
        id: ConsumerId,
        expected_key: String,
        consumer_key: String,
    },
    /// Replaces the secret (`shouldRotateConsumerSecret`), encrypted under the consumer's id;
    /// `Conflict` as for `RotateKey` when the consumer no longer has `expected_key`.
    RotateSecret {
        id: ConsumerId,
        expected_key: String,
        encrypted_secret: Vec<u8>,
    },
    /// Deletes a consumer; `Conflict` when it is gone.
    Delete { id: ConsumerId },
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Created,
    Changed,
    Deleted,
    ConsumerCreated,
    ConsumerKeyRotated,
    ConsumerSecretRotated,
    ConsumerDeleted,
    /// A Connect REST API call (`spec/oauth-and-connect.md` §2, §3): the type name is
    /// `ConnectApi`, the full name the resource, the after text what was done.
    UsageViewed,
    TokensRevoked,
    CredentialsViewed,
    SecretViewed,
    CredentialStaged,
    CredentialRotated,
    StagedCredentialDeleted,
    /// A Connect REST API call refused for want of a permission or setting.
    AccessRefused,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::Created,
        AuditAction::Changed,
        AuditAction::Deleted,
        AuditAction::ConsumerCreated,
        AuditAction::ConsumerKeyRotated,
        AuditAction::ConsumerSecretRotated,
        AuditAction::ConsumerDeleted,
        AuditAction::UsageViewed,
        AuditAction::TokensRevoked,
        AuditAction::CredentialsViewed,
        AuditAction::SecretViewed,
        AuditAction::CredentialStaged,
        AuditAction::CredentialRotated,
        AuditAction::StagedCredentialDeleted,
        AuditAction::AccessRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Created => "Created",
            AuditAction::Changed => "Changed",
            AuditAction::Deleted => "Deleted",
            AuditAction::ConsumerCreated => "ConsumerCreated",
            AuditAction::ConsumerKeyRotated => "ConsumerKeyRotated",
            AuditAction::ConsumerSecretRotated => "ConsumerSecretRotated",
            AuditAction::ConsumerDeleted => "ConsumerDeleted",
            AuditAction::UsageViewed => "UsageViewed",
            AuditAction::TokensRevoked => "TokensRevoked",
            AuditAction::CredentialsViewed => "CredentialsViewed",
            AuditAction::SecretViewed => "SecretViewed",
            AuditAction::CredentialStaged => "CredentialStaged",
            AuditAction::CredentialRotated => "CredentialRotated",
            AuditAction::StagedCredentialDeleted => "StagedCredentialDeleted",
            AuditAction::AccessRefused => "AccessRefused",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

/// One entry of a [`ChangeSet`]'s audit trail; who and when come from the change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub action: AuditAction,
    /// A metadata type name, or `OAuthConsumer` for consumer entries.
    pub type_name: String,
    /// The component's full name, or the consumer id.
    pub full_name: String,
    pub before_xml: Option<String>,
    pub after_xml: Option<String>,
}

/// An audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub at: Timestamp,
    pub deploy_request_id: Option<DeployRequestId>,
    pub entry: AuditEntry,
}

/// Where a deploy request is (`DeployStatus` of the Metadata API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeployStatus {
    Queued,
    InProgress,
    Succeeded,
    SucceededPartial,
    Failed,
    /// A cancel was asked for while the deploy was in progress; it becomes `Canceled` when
    /// the engine reaches its next safe point.
    Canceling,
    Canceled,
}

impl DeployStatus {
    pub const ALL: &'static [DeployStatus] = &[
        DeployStatus::Queued,
        DeployStatus::InProgress,
        DeployStatus::Succeeded,
        DeployStatus::SucceededPartial,
        DeployStatus::Failed,
        DeployStatus::Canceling,
        DeployStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeployStatus::Queued => "Queued",
            DeployStatus::InProgress => "InProgress",
            DeployStatus::Succeeded => "Succeeded",
            DeployStatus::SucceededPartial => "SucceededPartial",
            DeployStatus::Failed => "Failed",
            DeployStatus::Canceling => "Canceling",
            DeployStatus::Canceled => "Canceled",
        }
    }

    pub fn parse(s: &str) -> Option<DeployStatus> {
        DeployStatus::ALL.iter().copied().find(|d| d.as_str() == s)
    }

    /// Whether the deploy is over (`done` in a `DeployResult`).
    pub fn is_done(self) -> bool {
        !matches!(
            self,
            DeployStatus::Queued | DeployStatus::InProgress | DeployStatus::Canceling
        )
    }
}

/// A deploy request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRequest {
    pub id: DeployRequestId,
    pub org_id: OrgId,
    pub created_by: UserId,
    pub status: DeployStatus,
    /// The deploy options, JSON.
    pub options_json: String,
    /// The `DeployResult`, JSON, once done.
    pub result_json: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// Who asked to cancel it, once someone has.
    pub canceled_by: Option<UserId>,
    /// The server node that queued it and runs it (`None` for requests recorded before nodes
    /// had ids).
    pub node_id: Option<String>,
}

/// Which unfinished deploy requests [`crate::MetadataStore::fail_unfinished_deploy_requests`]
/// ends: those whose node will never finish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished<'a> {
    /// One node's (it is stopping).
    OfNode(&'a str),
    /// Every node's but this one's, and those no node claims: SQLite's one node, starting.
    OfNodesOtherThan(&'a str),
    /// Those of every node not seen alive since `since`. With `unclaimed`, also those no node
    /// claims (recorded by versions before node ids, whose nodes fail them only when they
    /// start): only when a node starts, since an old node may still be running them.
    OfNodesSilentSince { since: Timestamp, unclaimed: bool },
}

/// What [`crate::MetadataStore::cancel_deploy_request`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The request was queued: it is `Canceled` now and will never run.
    Canceled,
    /// The request was in progress: it is `Canceling` now, and its run ends it.
    Canceling,
    /// The request was already canceling or done (or is not the org's): nothing changed.
    Unchanged,
}

/// A finished retrieve, kept until it expires so that `checkRetrieveStatus` can be answered
/// by any server node.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRetrieve {
    /// `09S…`.
    pub id: String,
    pub org_id: OrgId,
    pub created_by: UserId,
    /// The result without its zip, as JSON.
    pub result_json: String,
    pub zip: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl fmt::Debug for StoredRetrieve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRetrieve")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("created_by", &self.created_by)
            .field("result_json", &self.result_json)
            .field("zip", &format_args!("{} bytes", self.zip.len()))
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// How a deploy request ends: written with the changes it made, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployFinish {
    pub id: DeployRequestId,
    /// A final status ([`DeployStatus::is_done`]).
    pub status: DeployStatus,
    pub result_json: String,
}

/// Everything one deploy writes, applied by [`crate::MetadataStore::apply_changes`] in one
/// transaction: all of it or none of it.
#[derive(Debug, Clone, Copy)]
pub struct ChangeSet<'a> {
    pub org: &'a OrgId,
    /// Who makes the changes (`created_by`/`updated_by`, the audit's `user_id`).
    pub user: &'a UserId,
    pub at: Timestamp,
    pub components: &'a [ComponentChange],
    pub consumers: &'a [ConsumerChange],
    pub audit: &'a [AuditEntry],
    /// The deploy request to mark finished, with its result, in the same transaction; it must
    /// be `InProgress`.
    pub finish: Option<&'a DeployFinish>,
    /// Apps these changes delete: in the same transaction their tokens are revoked, their
    /// grants under way voided and their users' approvals deleted (`spec/metadata.md` §5.4), so
    /// an app of the same name deployed later starts with none of them.
    pub deleted_apps: &'a [String],
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::rng::DeterministicRng;

    #[test]
    fn ids_parse_by_prefix_and_round_trip() {
        let rng = DeterministicRng::new(3);
        let id = ConsumerId::generate(&rng);
        assert!(id.as_str().starts_with("888") && id.as_str().len() == 18);
        assert_eq!(ConsumerId::parse(id.as_15()).unwrap(), id);
        assert!(ConsumerId::parse("00D50000000IZ3Z").is_err());
        let deploy = DeployRequestId::generate(&rng);
        assert!(deploy.as_str().starts_with("0Af"));
        assert_eq!(DeployRequestId::parse(deploy.as_str()).unwrap(), deploy);
    }

    #[test]
    fn names_round_trip() {
        for s in DeployStatus::ALL {
            assert_eq!(DeployStatus::parse(s.as_str()), Some(*s));
        }
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        assert!(!DeployStatus::InProgress.is_done());
        assert!(DeployStatus::Canceled.is_done());
        assert!(!DeployStatus::Canceling.is_done());
    }
}
