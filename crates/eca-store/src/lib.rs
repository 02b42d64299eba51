//! Storage for the OpenECA server, behind narrow traits named for their role
//! ([`OrgStore`], [`UserStore`], [`AccessStore`], [`SessionStore`], [`SettingsStore`],
//! [`MetadataStore`], [`TokenStore`], [`AuthorizationCodeStore`], [`DeviceCodeStore`],
//! [`ConnectStore`], [`SamlStore`]). Two
//! implementations pass one shared test suite: [`SqliteStore`] (embedded, the default) and
//! [`PostgresStore`] (many stateless server nodes on one database). The backend is chosen once, by [`open`]; nothing else in the
//! server knows which one it has, and nothing outside this crate writes SQL.
//!
//! Rules every implementation keeps:
//! - A write that returns `Ok` is durable (SQLite runs with `synchronous=FULL` in WAL mode).
//! - A database error is never reported as "not found": lookups return
//!   `Ok(None)` only when the row does not exist.
//! - Migrations are versioned, embedded in the binary, and applied in order at start.
//!
//! Where things are: `sql/` is the one implementation of the traits, plain SQL that both
//! databases accept, written against a five-method backend interface; `sqlite.rs` and
//! `postgres.rs` hold only connection pools and the migration runners; the schema is in
//! `migrations/<backend>/NNNN_name.sql`, listed in `migrate.rs`. A new migration is written in
//! both dialects, with the same tables and columns, so the shared queries keep working.

pub mod authorization;
pub mod connect;
pub mod metadata;
mod migrate;
pub mod oauth;
mod postgres;
pub mod saml;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use eca_core::domain::{LoginIpRange, Org, PermissionSet, Profile, Session, User};
use eca_core::ids::StagedCredentialId;
use eca_core::{LoginIpRangeId, OrgId, PermissionSetId, ProfileId, Timestamp, UserId};

pub use crate::authorization::{
    AuthorizationCodeRecord, CodeRedemption, DeviceCodeRecord, DeviceStatus,
};
pub use crate::connect::{AppUserUsage, CredentialState, Page, StagedCredential};
pub use crate::metadata::{
    AuditAction, AuditEntry, AuditRecord, CancelOutcome, ChangeSet, ComponentChange,
    ConsumerChange, ConsumerId, DeployFinish, DeployRequest, DeployRequestId, DeployStatus,
    OauthConsumer, StoredComponent, StoredRetrieve, Unfinished,
};
pub use crate::oauth::{
    AccessTokenFormat, AccessTokenRecord, RefreshTokenRecord, RefreshUse, SigningKeyRecord,
};
pub use crate::postgres::PostgresStore;
pub use crate::saml::SamlKeyRecord;
pub use crate::sqlite::SqliteStore;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken (a username, a My Domain name, a profile name...).
    #[error("{what} `{value}` already exists")]
    Conflict { what: &'static str, value: String },
    /// A referenced row does not exist (a user id in an assignment...).
    #[error("{what} `{value}` does not exist")]
    Missing { what: &'static str, value: String },
    /// The database failed; the detail is for logs, never for clients.
    #[error("database error: {0}")]
    Database(String),
    /// The database URL is not one we support.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A stored value could not be read back (corruption, or a newer schema).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The `what` of the `Conflict` a conditional user update gets when the user changed since the
/// caller read it.
pub const USER_CHANGED: &str = "user version";

#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Creates an org. `Conflict` when the My Domain name (case-insensitive) is taken, or when
    /// `org.is_default` and a default org exists.
    async fn create_org(&self, org: &Org) -> StoreResult<()>;
    async fn org(&self, id: &OrgId) -> StoreResult<Option<Org>>;
    /// Looks up by My Domain name, case-insensitively.
    async fn org_by_domain(&self, my_domain: &str) -> StoreResult<Option<Org>>;
    async fn default_org(&self) -> StoreResult<Option<Org>>;
    /// All orgs, oldest first.
    async fn orgs(&self) -> StoreResult<Vec<Org>>;
    /// Sets the session settings `change` gives, in one statement, keeping the others as
    /// stored; returns the org as changed. `Missing` when there is no such org.
    async fn update_org_settings(&self, id: &OrgId, change: OrgSettings) -> StoreResult<Org>;
}

/// A change to an org's session settings: the fields given are set, the others kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgSettings {
    pub session_timeout_minutes: Option<i64>,
    pub enforce_ip_ranges_every_request: Option<bool>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user. `Conflict` when the username (case-insensitive, across all orgs) is
    /// taken; `Missing` when the org or profile does not exist.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// Looks up by username, case-insensitively, across all orgs.
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    /// The users of an org, by username.
    async fn users(&self, org: &OrgId) -> StoreResult<Vec<User>>;
    /// Replaces the fields of an existing user (by id) if it is still as the caller read it,
    /// `read` being the `updated_at` it read; returns the new `updated_at` (`user.updated_at`,
    /// or one millisecond after `read` if that is not later). The password and lockout are
    /// never written here ([`UserStore::set_user_password`], the login attempt statements), so
    /// a change never puts back a value a concurrent one replaced.
    ///
    /// `Missing` if the org has no such user; `Conflict { what: USER_CHANGED }` if the user
    /// changed since it was read (read it again and reapply the change); `Conflict` on
    /// `username` if a changed username is taken.
    async fn update_user(&self, user: &User, read: Timestamp) -> StoreResult<Timestamp>;
    /// Sets a user's password hash and clears any lockout, touching nothing else; `updated_at`
    /// moves on, so an [`UserStore::update_user`] that read the user before is refused.
    /// `Missing` if the org has no such user.
    async fn set_user_password(
        &self,
        org: &OrgId,
        id: &UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Starts a login attempt at `now`, counted as a failure until
    /// [`record_successful_login`](UserStore::record_successful_login) takes it back: `None`
    /// when the user is locked at `now` (nothing counted), else the new count of consecutive
    /// failures. A lock that has run out no longer counts its failures; the attempt whose
    /// count reaches `lockout.after` sets `locked_until` to `lockout.until`. One statement on
    /// the stored count, so attempts on several nodes at once each count and the ones past
    /// the limit are refused before their password is checked.
    async fn begin_login_attempt(
        &self,
        id: &UserId,
        lockout: Lockout,
        now: Timestamp,
    ) -> StoreResult<Option<i64>>;
    /// Clears the failure count and any lock after a successful login.
    async fn record_successful_login(&self, id: &UserId) -> StoreResult<()>;
}

/// When a failed login locks its user: from the `after`-th consecutive failure, until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub after: i64,
    pub until: Timestamp,
}

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// `Conflict` when the org already has a profile of that name.
    async fn create_profile(&self, profile: &Profile) -> StoreResult<()>;
    async fn profile(&self, id: &ProfileId) -> StoreResult<Option<Profile>>;
    /// By name within an org, case-insensitively (`System Administrator`).
    async fn profile_by_name(&self, org: &OrgId, name: &str) -> StoreResult<Option<Profile>>;
    async fn profiles(&self, org: &OrgId) -> StoreResult<Vec<Profile>>;
    /// `Conflict` when the org already has a permission set of that API name.
    async fn create_permission_set(&self, set: &PermissionSet) -> StoreResult<()>;
    async fn permission_set(&self, id: &PermissionSetId) -> StoreResult<Option<PermissionSet>>;
    /// By API name within an org, case-insensitively.
    async fn permission_set_by_name(
        &self,
        org: &OrgId,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>>;
    async fn permission_sets(&self, org: &OrgId) -> StoreResult<Vec<PermissionSet>>;
    /// Assigns a permission set to a user; assigning twice is not an error. `Missing` when
    /// either does not exist.
    async fn assign_permission_set(
        &self,
        user: &UserId,
        set: &PermissionSetId,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Removes an assignment; `Ok(false)` when there was none.
    async fn unassign_permission_set(
        &self,
        user: &UserId,
        set: &PermissionSetId,
    ) -> StoreResult<bool>;
    /// The permission sets assigned to a user, by name.
    async fn permission_sets_of(&self, user: &UserId) -> StoreResult<Vec<PermissionSet>>;
    /// `Missing` when the profile is not one of the range's org; `Conflict` on a taken id.
    async fn create_login_ip_range(&self, range: &LoginIpRange) -> StoreResult<()>;
    async fn login_ip_range(&self, id: &LoginIpRangeId) -> StoreResult<Option<LoginIpRange>>;
    /// The ranges of one profile, oldest first.
    async fn login_ip_ranges_of(&self, profile: &ProfileId) -> StoreResult<Vec<LoginIpRange>>;
    /// Every range of an org's profiles, oldest first.
    async fn login_ip_ranges(&self, org: &OrgId) -> StoreResult<Vec<LoginIpRange>>;
    /// Replaces the addresses and description of an existing range (by id; its profile and
    /// org stay); `Missing` if there is none.
    async fn update_login_ip_range(&self, range: &LoginIpRange) -> StoreResult<()>;
    /// `Ok(false)` when there was no such range.
    async fn delete_login_ip_range(&self, id: &LoginIpRangeId) -> StoreResult<bool>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this id hash, expired or not (the caller decides).
    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Records use of a session and moves its expiry.
    async fn touch_session(
        &self,
        id_hash: &str,
        used_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Ends a session; `Ok(false)` when there was none.
    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// Ends every session of a user (deactivation, freezing, password change).
    async fn delete_user_sessions(&self, user: &UserId) -> StoreResult<u64>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;
}

/// Server-wide values (for example, whether first-start setup has run).
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Stores `value` unless the setting has one; `false` when it had (nothing changed).
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> StoreResult<bool>;
}

/// Deployed metadata (issue 4): components, OAuth consumers, deploy requests, audit trail.
/// Component names and app names match case-insensitively; type names exactly.
#[async_trait]
pub trait MetadataStore: Send + Sync {
    /// A component by type and full name.
    async fn component(
        &self,
        org: &OrgId,
        type_name: &str,
        full_name: &str,
    ) -> StoreResult<Option<StoredComponent>>;
    /// The components of one type, by full name.
    async fn components_of_type(
        &self,
        org: &OrgId,
        type_name: &str,
    ) -> StoreResult<Vec<StoredComponent>>;
    /// An app's header and every component that names it, by type and full name.
    async fn components_of_app(&self, org: &OrgId, app: &str) -> StoreResult<Vec<StoredComponent>>;
    /// Every component of the org, by type and full name.
    async fn components(&self, org: &OrgId) -> StoreResult<Vec<StoredComponent>>;
    /// A consumer by id, in any org (an `oauthLink` may name another org's consumer).
    async fn consumer(&self, id: &ConsumerId) -> StoreResult<Option<OauthConsumer>>;
    /// A consumer by key, in any org: keys are unique across the server.
    async fn consumer_by_key(&self, consumer_key: &str) -> StoreResult<Option<OauthConsumer>>;
    /// An app's consumers in one org, oldest first.
    async fn consumers_of_app(&self, org: &OrgId, app: &str) -> StoreResult<Vec<OauthConsumer>>;
    /// Writes a whole change set in one transaction: all of it, or (on any error) none of it.
    /// `Conflict` when a row changed since it was read (a revision or consumer is gone) or a
    /// unique value is taken; `Missing` when the user or deploy request is not the org's.
    async fn apply_changes(&self, changes: &ChangeSet<'_>) -> StoreResult<()>;
    /// The audit trail of an org, oldest first, at most `limit` entries after `after_seq`.
    async fn audit_trail(
        &self,
        org: &OrgId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The audit entries of components of type `type_name` in every org, oldest first, at
    /// most `limit` after `after_seq`. Reads the whole trail: for one-off upgrades only.
    async fn audit_of_type(
        &self,
        type_name: &str,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Replaces the texts of audit entry `seq`, which must be of type `type_name`: only to
    /// seal secrets an earlier version recorded in the clear. `false` when there is no such
    /// entry.
    async fn replace_audit_texts(
        &self,
        seq: i64,
        type_name: &str,
        before_xml: Option<&str>,
        after_xml: Option<&str>,
    ) -> StoreResult<bool>;
    /// Records a new deploy request. `Conflict` on a taken id.
    async fn create_deploy_request(&self, request: &DeployRequest) -> StoreResult<()>;
    async fn deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
    ) -> StoreResult<Option<DeployRequest>>;
    /// Moves a request from `Queued` to `InProgress`; `Ok(false)` when it is not queued (for
    /// example, canceled first).
    async fn start_deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Asks to cancel a request on behalf of `by`: a `Queued` one becomes `Canceled` at once
    /// (its result stays empty), an `InProgress` one `Canceling` (its run ends it). A
    /// request in any other state, or not the org's, is left alone.
    async fn cancel_deploy_request(
        &self,
        org: &OrgId,
        id: &DeployRequestId,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<CancelOutcome>;
    /// Finishes a request that changed nothing (check-only, failed): an `InProgress` one with
    /// any final status, a `Canceling` one only as `Canceled`, so that a cancel asked for
    /// before the end is never lost. `Missing` when there is no such request to finish.
    async fn finish_deploy_request(
        &self,
        org: &OrgId,
        finish: &DeployFinish,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Marks the `Queued` or `InProgress` requests of `which` `Failed` and their `Canceling`
    /// ones `Canceled`, their results empty: their node stopped, and their changes, written in
    /// one transaction at their end, were never made (should the node still be running one,
    /// that final write is refused, as for any request no longer `InProgress`). Returns how
    /// many.
    async fn fail_unfinished_deploy_requests(
        &self,
        which: Unfinished<'_>,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// Records that server node `node` is alive at `at` (its first call registers it).
    async fn touch_node(&self, node: &str, at: Timestamp) -> StoreResult<()>;
    /// Forgets a node: it stopped. Nothing if it is unknown.
    async fn remove_node(&self, node: &str) -> StoreResult<()>;
    /// Forgets every node not seen alive since `before` (they stopped without saying so);
    /// returns how many.
    async fn remove_nodes_silent_since(&self, before: Timestamp) -> StoreResult<u64>;
    /// Keeps a finished retrieve. `Conflict` on a taken id; `Missing` when the user is not
    /// one of the org's.
    async fn create_retrieve(&self, retrieve: &StoredRetrieve) -> StoreResult<()>;
    /// The org's retrieve `id`, unless it expired at or before `now`.
    async fn retrieve(
        &self,
        org: &OrgId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredRetrieve>>;
    /// Deletes the retrieves that expired at or before `now`; returns how many.
    async fn delete_expired_retrieves(&self, now: Timestamp) -> StoreResult<u64>;
}

/// OAuth tokens (issue 5), by the SHA-256 (hex) of their value, and the users who approved an
/// app. Revocation is written at once and seen by the next lookup on any node.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records an issued access token. `Conflict` on a taken hash; `Missing` when the user is
    /// not one of the org's.
    async fn create_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()>;
    /// Records several issued access tokens in one transaction (the server's group commit of
    /// concurrent grants): all are written or, on any error, none. Errors as
    /// [`TokenStore::create_access_token`], for the first token that failed.
    async fn create_access_tokens(&self, tokens: &[&AccessTokenRecord]) -> StoreResult<()>;
    /// The access token with this hash, expired or revoked or not (the caller decides).
    async fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessTokenRecord>>;
    /// Revokes an access token; `Ok(false)` when it is unknown or already revoked.
    async fn revoke_access_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool>;
    /// Deletes access tokens that expired before `before`, revoked or not: some of them at a
    /// time, so that a large backlog never holds the writer for long. The tokens looked at are
    /// those whose key sorts after `after` (exclusive) and before `below`; keys begin with the
    /// issue time, so a `below` made from a time leaves newer tokens unread. At most `limit` are
    /// deleted. Returns how many were, and the key to continue after, or `None` when this was
    /// the end of the range.
    async fn delete_expired_access_tokens(
        &self,
        before: Timestamp,
        after: &str,
        below: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)>;
    /// Deletes access tokens keyed by their hash alone (64 characters: tokens of versions
    /// before keys began with the issue time) that expired before `before`, revoked or not:
    /// the ones [`TokenStore::delete_expired_access_tokens`]'s time bound leaves unread. Paged
    /// as it is: those whose key sorts after `after`, at most `limit`; returns how many were
    /// deleted and the key to continue after, or `None` at the end.
    async fn delete_expired_hash_keyed_access_tokens(
        &self,
        before: Timestamp,
        after: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)>;
    /// Records an issued refresh token. `Conflict` on a taken hash; `Missing` when the user is
    /// not one of the org's.
    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// The refresh token with this hash, whatever its state; `revoked_at` is the earliest
    /// revocation in its family when it was not revoked itself (a family with a revoked member
    /// is dead).
    async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Counts a use of a live (neither rotated nor revoked) refresh token and records its time;
    /// `Ok(false)` when it is not live.
    async fn use_refresh_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool>;
    /// Counts many uses of live refresh tokens in one transaction (the token writer batches
    /// them); `last_used_at` only moves forward. Tokens that are unknown or no longer live are
    /// skipped.
    async fn record_refresh_uses(&self, uses: &[RefreshUse]) -> StoreResult<()>;
    /// Replaces a live refresh token by `next` in one transaction: the old one is marked
    /// rotated (and its use counted), `next` is created. `Ok(false)`, writing nothing, when the
    /// old one is not live any more (a concurrent refresh rotated it first).
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshTokenRecord,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Deletes the refresh tokens of dead families, some families at a time.
    ///
    /// A family is dead when none of its tokens can ever be used again: every one is rotated,
    /// or revoked before `before`, or expired before `before` (a stored end; a token without
    /// one lives until revoked as far as the store knows). Until then its rotated tokens are
    /// kept, because presenting one is what reveals a stolen family. A token some access
    /// token still names is kept too (revoking the family must reach that access token); it
    /// goes in a later call, once the access token is deleted.
    ///
    /// The families looked at are the next `limit` (at least one) whose id sorts after
    /// `after`. Returns how many tokens were deleted, and the family id to continue after, or
    /// `None` when there were no more families.
    async fn delete_dead_refresh_tokens(
        &self,
        before: Timestamp,
        after: &str,
        limit: i64,
    ) -> StoreResult<(u64, Option<String>)>;
    /// Revokes a refresh token and the rest of its grant (RFC 7009 §2.1): every refresh token
    /// of its family (rotation) and every access token issued from any of them; `Ok(false)`
    /// when the refresh token is unknown or was already revoked.
    async fn revoke_refresh_token(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool>;
    /// Revokes every refresh token of a family and every access token issued from them (reuse
    /// of a rotated token). Returns how many refresh tokens were live.
    async fn revoke_refresh_family(&self, family_id: &str, at: Timestamp) -> StoreResult<u64>;
    /// Brings the stored ends of an app's live refresh tokens within a new lifetime policy:
    /// each gets `issued_at + lifetime_ms` (with `Some`; `Zero` is `None`: `at`) where it had no
    /// end or a later one. An end, not a revocation: the access tokens they issued are left to
    /// expire. App names match case-insensitively. Returns how many tokens changed.
    async fn end_refresh_tokens_by_lifetime(
        &self,
        org: &OrgId,
        app: &str,
        lifetime_ms: Option<i64>,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// [`end_refresh_tokens_by_lifetime`](TokenStore::end_refresh_tokens_by_lifetime) for the
    /// app's live tokens without a stored end only (those that a refresh or code exchange
    /// under the app's earlier policy wrote after the deploy's update), at most `limit` (at
    /// least one) per call along the index of such tokens. Returns how many were ended.
    async fn end_endless_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        lifetime_ms: Option<i64>,
        at: Timestamp,
        limit: i64,
    ) -> StoreResult<u64>;
    /// Ends, at `at`, some of the live refresh tokens of an app of `org` that have no stored
    /// end and were last used before `used_before` (an inactivity policy's tokens gone idle):
    /// they get `expires_at`, not a revocation, so the access tokens they issued are left to
    /// expire. App names match case-insensitively. At most `limit` (at least one) per call;
    /// returns how many were ended, fewer than `limit` at the end.
    async fn expire_idle_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        used_before: Timestamp,
        at: Timestamp,
        limit: i64,
    ) -> StoreResult<u64>;
    /// Revokes every live access and refresh token an app of `org` issued (the app was
    /// deleted; `spec/metadata.md` §5.4), deletes its codes not yet redeemed and denies its
    /// device codes approved but not yet collected. App names match case-insensitively.
    /// Returns how many tokens were live.
    async fn revoke_app_tokens(&self, org: &OrgId, app: &str, at: Timestamp) -> StoreResult<u64>;
    /// Records that `user` approved the app (app names match case-insensitively) for `scopes`
    /// (space-separated, `*` for any; `None` covers none, as an earlier version's record);
    /// approving again replaces both and moves the time.
    async fn record_approval(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        scopes: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Whether `user` approved the app before.
    async fn has_approved(&self, org: &OrgId, app: &str, user: &UserId) -> StoreResult<bool>;
    /// The scopes `user` approved the app for, as recorded: `None` without an approval,
    /// `Some(None)` for one recorded without scopes.
    async fn approved_scopes(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
    ) -> StoreResult<Option<Option<String>>>;
    /// Forgets every user's approval of an app (case-insensitive name): the app was deleted,
    /// and an app deployed later under the same name is another app, to be approved anew.
    /// Returns how many approvals there were.
    async fn delete_app_approvals(&self, org: &OrgId, app: &str) -> StoreResult<u64>;
    /// Records a new signing key of an org. `Conflict` when the org has a key of that `kid`
    /// (another node created it first).
    async fn create_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    /// The org's signing keys in the order they were made: by `kid` as a number (each rotation
    /// takes one more than the highest), never by `created_at`, which is the clock of whichever
    /// node made the key.
    async fn signing_keys(&self, org: &OrgId) -> StoreResult<Vec<SigningKeyRecord>>;
}

/// Authorization codes of the web-server flow (issue 5), by the SHA-256 (hex) of their value.
#[async_trait]
pub trait AuthorizationCodeStore: Send + Sync {
    /// Records an issued code. `Conflict` on a taken hash; `Missing` when the user is not one
    /// of the org's.
    async fn create_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()>;
    /// Presents a code at `at` on behalf of `consumer` of `org`: the first presentation
    /// consumes it (atomically: of two concurrent ones only one gets
    /// [`CodeRedemption::Redeemed`]); later ones mark it replayed and get
    /// [`CodeRedemption::Replayed`] with the tokens it gave. A code of another org or consumer
    /// is [`CodeRedemption::Unknown`] and left as it was: another client can neither use it
    /// up nor have its tokens revoked. Expiry and redirect URI are the caller's to check.
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        org: &OrgId,
        consumer: &ConsumerId,
        at: Timestamp,
    ) -> StoreResult<CodeRedemption>;
    /// Records the tokens a redemption issued; `Ok(false)` when the code was replayed in the
    /// meantime (the caller then revokes them itself).
    async fn record_code_tokens(
        &self,
        code_hash: &str,
        access_hash: &str,
        refresh_family: Option<&str>,
    ) -> StoreResult<bool>;
    /// Deletes codes that expired before `before`; returns how many.
    async fn delete_expired_authorization_codes(&self, before: Timestamp) -> StoreResult<u64>;
}

/// Device codes of the device flow (RFC 8628), by the SHA-256 (hex) of the device code and
/// of the user code.
#[async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// Records an issued device code. `Conflict` when the device or user code is taken.
    async fn create_device_code(&self, code: &DeviceCodeRecord) -> StoreResult<()>;
    /// The device code with this user code, whatever its state.
    async fn device_code_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> StoreResult<Option<DeviceCodeRecord>>;
    /// The device code as it was before this poll, and records the poll's time (for
    /// `slow_down`).
    async fn poll_device_code(
        &self,
        device_hash: &str,
        at: Timestamp,
    ) -> StoreResult<Option<DeviceCodeRecord>>;
    /// Approves or denies a pending, unexpired code for `user`, who logged in at
    /// `authenticated_at`; `Ok(false)` when it is not pending any more or has expired.
    async fn decide_device_code(
        &self,
        user_code_hash: &str,
        user: &UserId,
        approve: bool,
        at: Timestamp,
        authenticated_at: Timestamp,
    ) -> StoreResult<bool>;
    /// Takes an approved code for one poll ([`DeviceStatus::Issuing`]); `Ok(false)` when it
    /// was not approved (or already taken by a concurrent poll).
    async fn consume_device_code(&self, device_hash: &str) -> StoreResult<bool>;
    /// Marks a taken code [`DeviceStatus::Consumed`] once its tokens are written; `Ok(false)`
    /// when a revocation denied it in the meantime (the caller then revokes them itself).
    async fn record_device_tokens(&self, device_hash: &str) -> StoreResult<bool>;
    /// Deletes codes that expired before `before`; returns how many.
    async fn delete_expired_device_codes(&self, before: Timestamp) -> StoreResult<u64>;
}

/// The SAML identity provider's signing keys.
#[async_trait]
pub trait SamlStore: Send + Sync {
    /// Records a new signing key of an org. `Conflict` when the org already has a key of that
    /// version (another node made or rotated it at the same moment).
    async fn create_saml_key(&self, key: &SamlKeyRecord) -> StoreResult<()>;
    /// The org's SAML signing keys, by version (the last one signs).
    async fn saml_keys(&self, org: &OrgId) -> StoreResult<Vec<SamlKeyRecord>>;
}

/// The Connect REST API's OAuth usage, revocation and credential queries (issue 6,
/// `spec/oauth-and-connect.md` §2, §3). App names match case-insensitively. Each revocation
/// is one transaction; the listings read indexes of live tokens only, so they stay fast with
/// millions of revoked and expired rows.
#[async_trait]
pub trait ConnectStore: Send + Sync {
    /// The deployed apps (`ExternalClientApplication` headers) of `org` with at least one live
    /// token at `now`, by name.
    async fn apps_with_usage(
        &self,
        org: &OrgId,
        now: Timestamp,
        page: Page,
    ) -> StoreResult<Vec<String>>;
    /// The users of an app with live tokens at `now` and their usage, by user id.
    async fn app_users(
        &self,
        org: &OrgId,
        app: &str,
        now: Timestamp,
        page: Page,
    ) -> StoreResult<Vec<AppUserUsage>>;
    /// A user's live refresh tokens of an app at `now`, oldest first.
    async fn user_refresh_tokens(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<RefreshTokenRecord>>;
    /// Revokes, in one transaction, every live refresh and access token of `user` through
    /// the app, deletes the user's codes of the app not yet redeemed and denies their device
    /// codes approved but not yet collected. Returns how many tokens were live.
    async fn revoke_user_app_tokens(
        &self,
        org: &OrgId,
        app: &str,
        user: &UserId,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// Appends entries to the org's audit trail (the same trail deploys write).
    async fn record_audit(
        &self,
        org: &OrgId,
        user: &UserId,
        at: Timestamp,
        entries: &[AuditEntry],
    ) -> StoreResult<()>;
    /// Records a staged credential, first removing the consumer's expired one if any, in one
    /// transaction. `Conflict` when the consumer has an unexpired one at `now` or the key is
    /// taken; `Missing` when the consumer or user is not the org's.
    async fn stage_credential(
        &self,
        credential: &StagedCredential,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The staged credential of a consumer, if any, whatever its state.
    async fn staged_credential_of(
        &self,
        consumer: &ConsumerId,
    ) -> StoreResult<Option<StagedCredential>>;
    async fn staged_credential(
        &self,
        id: &StagedCredentialId,
    ) -> StoreResult<Option<StagedCredential>>;
    /// The staged credential with this key, in any org, whatever its state.
    async fn staged_credential_by_key(
        &self,
        consumer_key: &str,
    ) -> StoreResult<Option<StagedCredential>>;
    /// Rotates an `Active` staged credential in, in one transaction: the consumer takes its
    /// key and secret, and the staged row takes the consumer's former ones, becoming `Rotated`
    /// until `expires_at`. `Ok(false)`, writing nothing, when either row changed since it was
    /// read (`credential` and `consumer` are what the caller read).
    async fn rotate_credential(
        &self,
        credential: &StagedCredential,
        consumer: &OauthConsumer,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<bool>;
    /// Deletes a staged credential as the caller read it (`credential`); `Ok(false)`, deleting
    /// nothing, when it is gone or has changed since (a rotation keeps the row's id but swaps
    /// its key in).
    async fn delete_staged_credential(&self, credential: &StagedCredential) -> StoreResult<bool>;
}

/// Everything the server stores.
#[async_trait]
pub trait Store:
    OrgStore
    + UserStore
    + AccessStore
    + SessionStore
    + SettingsStore
    + MetadataStore
    + TokenStore
    + AuthorizationCodeStore
    + DeviceCodeStore
    + SamlStore
    + ConnectStore
{
    /// Checks the database answers (`/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `postgres`, for logs and metrics labels only.
    fn backend(&self) -> &'static str;
}

/// Opens the database at `url` and applies pending migrations:
///
/// - `sqlite://PATH` (the file is created if missing; `sqlite:PATH` works too),
/// - `sqlite::memory:` (a private database that lives as long as the store),
/// - `postgres://...` or `postgresql://...`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact(url)))
    }
}

/// Opens PostgreSQL with every table in `schema` (created if missing).
///
/// **For tests and benchmarks**, so that parallel runs can share one database; a server uses
/// [`open`]. See [`PostgresStore::open_in_schema`] for the rules on `schema`.
pub async fn open_postgres_in_schema(url: &str, schema: &str) -> StoreResult<Arc<dyn Store>> {
    Ok(Arc::new(PostgresStore::open_in_schema(url, schema).await?))
}

/// The scheme of a URL we cannot use, without the rest: it may hold a password.
fn redact(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _)) => format!("{scheme}:..."),
        None => "...".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unsupported_urls_are_refused_without_echoing_secrets() {
        let err = open("mysql://root:hunter2@db/eca").await.err();
        assert!(
            matches!(&err, Some(StoreError::UnsupportedUrl(u)) if u == "mysql:..."),
            "{err:?}"
        );
        assert!(matches!(
            open("eca.db").await.err(),
            Some(StoreError::UnsupportedUrl(_))
        ));
    }
}
