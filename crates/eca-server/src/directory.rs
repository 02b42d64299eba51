//! The orgs, users and user access (profile and permission sets) the hot paths ask for,
//! kept for a few seconds so that a token request reads nothing from the store.
//!
//! **What is cached, for how long.** An org, found by My Domain name or as the default org,
//! for [`ORG_TTL_MS`]: orgs are never deleted, but their session settings change
//! (`rest::session_settings`), and other nodes must see that within two seconds. A user, by
//! username and by id, and the user's access, for [`USER_TTL_MS`]. Only what exists is kept: an unknown
//! name is read again on every request, so a user or org created on another node is seen at
//! once.
//!
//! **Invalidation.** Every change this node makes to users, profiles, permission sets or
//! assignments calls [`Directory::forget_people`], so the next request here sees it. Another
//! node sees it within [`USER_TTL_MS`]: deactivating or freezing a user stops their tokens
//! everywhere within two seconds (`docs/oauth.md`, "Caches and token writes"). Paths that must see the latest
//! state of a user (password checks and lockout, the login page, the SOAP login) read the
//! store directly, as do token lookups, so revocation stays immediate on every node.

use std::sync::Arc;

use eca_core::domain::{Org, User};
use eca_core::{Timestamp, UserId};

use crate::access::{UserAccess, access_of};
use crate::cache::{Ticket, TtlCache};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a loaded org is used, in milliseconds (its session timeout and continuous IP
/// enforcement reach other nodes within this time).
pub const ORG_TTL_MS: i64 = 2_000;
/// How long a loaded user or user access is used, in milliseconds.
pub const USER_TTL_MS: i64 = 2_000;
/// The most entries of each kind kept at once.
const MAX_ENTRIES: usize = 50_000;

/// How a request names its org.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum OrgKey {
    Default,
    /// A My Domain name, lower-cased.
    Domain(String),
}

/// The process's cache of orgs, users and access; one per server, in `AppState`.
#[derive(Debug)]
pub struct Directory {
    orgs: TtlCache<OrgKey, Arc<Org>>,
    users_by_name: TtlCache<String, Arc<User>>,
    users_by_id: TtlCache<UserId, Arc<User>>,
    access: TtlCache<UserId, Arc<UserAccess>>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            orgs: TtlCache::new(ORG_TTL_MS, MAX_ENTRIES),
            users_by_name: TtlCache::new(USER_TTL_MS, MAX_ENTRIES),
            users_by_id: TtlCache::new(USER_TTL_MS, MAX_ENTRIES),
            access: TtlCache::new(USER_TTL_MS, MAX_ENTRIES),
        }
    }
}

impl Directory {
    /// Drops every user and access entry: a user, profile, permission set or assignment
    /// changed on this node.
    pub fn forget_people(&self) {
        self.users_by_name.clear();
        self.users_by_id.clear();
        self.access.clear();
    }

    /// Drops the orgs (a new org may have become the default).
    pub fn forget_orgs(&self) {
        self.orgs.clear();
    }

    /// Tickets of both user maps, taken before a user is read ([`crate::cache::Ticket`]).
    fn user_tickets(&self) -> (Ticket, Ticket) {
        (self.users_by_name.ticket(), self.users_by_id.ticket())
    }

    fn keep_user(&self, user: &Arc<User>, now: Timestamp, (by_name, by_id): (Ticket, Ticket)) {
        self.users_by_name
            .put(user.username.to_lowercase(), Arc::clone(user), now, by_name);
        self.users_by_id
            .put(user.id.clone(), Arc::clone(user), now, by_id);
    }
}

/// The org with My Domain name `domain` (case-insensitive).
pub async fn org_by_domain(state: &AppState, domain: &str) -> Result<Option<Arc<Org>>, ApiError> {
    let key = OrgKey::Domain(domain.to_ascii_lowercase());
    let now = state.clock().now();
    if let Some(org) = state.directory().orgs.get(&key, now) {
        return Ok(Some(org));
    }
    let ticket = state.directory().orgs.ticket();
    let org = state.store().org_by_domain(domain).await?.map(Arc::new);
    if let Some(org) = &org {
        state
            .directory()
            .orgs
            .put(key, Arc::clone(org), now, ticket);
    }
    Ok(org)
}

/// The org that answers at the server root.
pub async fn default_org(state: &AppState) -> Result<Option<Arc<Org>>, ApiError> {
    let now = state.clock().now();
    if let Some(org) = state.directory().orgs.get(&OrgKey::Default, now) {
        return Ok(Some(org));
    }
    let ticket = state.directory().orgs.ticket();
    let org = state.store().default_org().await?.map(Arc::new);
    if let Some(org) = &org {
        state
            .directory()
            .orgs
            .put(OrgKey::Default, Arc::clone(org), now, ticket);
    }
    Ok(org)
}

/// The user named `username` (case-insensitive, across orgs), as of at most
/// [`USER_TTL_MS`] ago.
pub async fn user_by_username(
    state: &AppState,
    username: &str,
) -> Result<Option<Arc<User>>, ApiError> {
    let now = state.clock().now();
    let key = username.to_lowercase();
    if let Some(user) = state.directory().users_by_name.get(&key, now) {
        return Ok(Some(user));
    }
    let tickets = state.directory().user_tickets();
    let user = state
        .store()
        .user_by_username(username)
        .await?
        .map(Arc::new);
    if let Some(user) = &user {
        state.directory().keep_user(user, now, tickets);
    }
    Ok(user)
}

/// The user with id `id`, as of at most [`USER_TTL_MS`] ago.
pub async fn user(state: &AppState, id: &UserId) -> Result<Option<Arc<User>>, ApiError> {
    let now = state.clock().now();
    if let Some(user) = state.directory().users_by_id.get(id, now) {
        return Ok(Some(user));
    }
    let tickets = state.directory().user_tickets();
    let user = state.store().user(id).await?.map(Arc::new);
    if let Some(user) = &user {
        state.directory().keep_user(user, now, tickets);
    }
    Ok(user)
}

/// The profile and permission sets of `user`, as of at most [`USER_TTL_MS`] ago.
pub async fn access(state: &AppState, user: &User) -> Result<Arc<UserAccess>, ApiError> {
    let now = state.clock().now();
    if let Some(access) = state.directory().access.get(&user.id, now) {
        return Ok(access);
    }
    let ticket = state.directory().access.ticket();
    let access = Arc::new(access_of(state.store(), user).await?);
    state
        .directory()
        .access
        .put(user.id.clone(), Arc::clone(&access), now, ticket);
    Ok(access)
}
