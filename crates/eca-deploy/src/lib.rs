//! The Metadata API engine of OpenECA: deploy a zip of External Client App metadata into an
//! org, retrieve it, list it (`spec/metadata.md` §4–§6, issue 4). No HTTP: the SOAP and REST
//! endpoints and `eca deploy` are thin adapters over [`deploy`] (or [`submit`] + [`run`]),
//! [`check_status`], [`cancel`], [`retrieve`] (or [`submit_retrieve`] +
//! [`check_retrieve_status`], which keep results in the store) and [`list_metadata`].
//!
//! Where things are: `package` reads the zip with limits and runs the same validator as
//! `eca validate`; `plan` walks the package in the Metadata API's order over an `OrgState`
//! (`state`) read once from the store; `checks` settles what only the org can (headers,
//! users, profiles, permission sets, consumers); `generate` adds what the platform generates
//! (`orgScopedExternalApp`, the consumer with its key and secret, `oauthLink`, default
//! policies); `push` seals push credentials and settles `pushConfigLink`; `destructive`
//! runs the destructive manifests; `outcome` turns the plan into the [`DeployResult`] and one
//! change set, which `deploy` writes in one transaction together
//! with the audit trail and the request's result
//! ([`eca_store::MetadataStore::apply_changes`]); `status` follows and cancels requests;
//! `retrieve` builds retrieve zips and `retrieve_request` reads a `RetrieveRequest`
//! (`specificFiles`, `packageNames`) and keeps results in the store. Bad input never panics and never makes an
//! `Err`: it makes a failed [`DeployResult`].
//!
//! Decisions where Salesforce is unclear or unverified are written where they are
//! implemented: warnings fail a component unless `ignoreWarnings` (the Metadata API's
//! documented `ignoreWarnings`; it is also why the rotation flags need it), a run-as user
//! without API Only is a warning, `destructiveChanges.xml` runs before the package like
//! `…Pre.xml`, deleting what does not exist is a warning.
//!
//! **Invariant:** a deploy that does not succeed (or is check-only) changes nothing; with
//! `rollbackOnError` (the default) that means any failure at all.
//! **Invariant:** a consumer secret is never in a stored component, a result or a retrieve;
//! only encrypted (under the master key, with the consumer id as context) in its consumer row.
//! **Invariant:** push credentials are stored only sealed under the master key (`push`), and
//! no reader of the org's metadata gets them back.
//! **Invariant:** deploys to one org run one at a time ([`OrgLocks`]); different orgs'
//! deploys never wait for each other.

mod checks;
mod deploy;
mod destructive;
mod generate;
mod lock;
mod options;
mod outcome;
mod package;
mod plan;
mod push;
mod result;
mod retrieve;
mod retrieve_request;
mod state;
mod status;

use std::fmt;

use eca_core::crypto::MasterKey;
use eca_core::{Clock, OrgId, Rng, UserId};
use eca_metadata::ApiVersion;
use eca_store::{ConsumerId, DeployRequestId, Store, StoreError};

pub use crate::deploy::{deploy, run, submit};
pub use crate::lock::{Acquire, OrgGuard, OrgLocks};
pub use crate::options::DeployOptions;
pub use crate::outcome::CONSUMER_AUDIT_TYPE;
pub use crate::package::DEPLOY_ZIP_LIMITS;
pub use crate::push::{SealReport, readable_xml, seal_stored_push_credentials};
pub use crate::result::{DeployDetails, DeployMessage, DeployResult, ProblemType};
pub use crate::retrieve::{
    FileProperties, RETRIEVE_ROOT, RetrieveMessage, RetrieveResult, list_metadata, retrieve,
};
pub use crate::retrieve_request::{
    RETRIEVE_ID_PREFIX, RETRIEVE_RESULT_LIFETIME_SECS, RetrieveContext, RetrieveRequest,
    check_retrieve_status, retrieve_request, submit_retrieve,
};
pub use crate::status::{cancel, check_status};

/// Everything a deploy needs from the server, for one org and user.
pub struct DeployContext<'a> {
    pub store: &'a dyn Store,
    pub org: &'a OrgId,
    /// The deploying user; must belong to `org`.
    pub user: &'a UserId,
    pub clock: &'a dyn Clock,
    pub rng: &'a dyn Rng,
    /// Encrypts consumer secrets at rest.
    pub master_key: &'a MasterKey,
    /// The server's one set of per-org deploy locks.
    pub locks: &'a OrgLocks,
    /// The API version of the call (`/services/Soap/m/66.0`), used when `package.xml` names
    /// none; it decides the fields of generated policies.
    pub version: ApiVersion,
    /// The server node that records the request and runs it: if that node stops, the others
    /// end the request (`eca_store::Unfinished`).
    pub node: &'a str,
}

impl fmt::Debug for DeployContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployContext")
            .field("org", self.org)
            .field("user", self.user)
            .field("version", &self.version)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// A finished deploy, and what the rest of the server must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOutcome {
    pub result: DeployResult,
    /// Apps whose header the deploy deleted: every token they issued must be revoked.
    pub deleted_apps: Vec<String>,
    /// Consumers the deploy deleted (with their app, or their global settings): revoke their
    /// tokens and drop them from any client registry.
    pub deleted_consumers: Vec<ConsumerId>,
    /// Consumers whose key or secret the deploy replaced: reload them in any client registry.
    pub rotated_consumers: Vec<ConsumerId>,
}

impl DeployOutcome {
    fn unchanged(result: DeployResult) -> Self {
        Self {
            result,
            deleted_apps: Vec::new(),
            deleted_consumers: Vec::new(),
            rotated_consumers: Vec::new(),
        }
    }
}

/// What can go wrong on the server's side. A bad package is not an error: it is a failed
/// [`DeployResult`].
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The deploying user is not a user of the org.
    #[error("user {0} is not a user of this org")]
    UnknownUser(UserId),
    /// The org has no such deploy request.
    #[error("no deploy request {0} in this org")]
    UnknownRequest(DeployRequestId),
    /// Stored data the engine wrote cannot be read back (corruption, or another master key).
    #[error("stored metadata is invalid: {0}")]
    Corrupt(String),
    /// A value of the engine's own could not be encoded.
    #[error("internal error: {0}")]
    Internal(String),
}
