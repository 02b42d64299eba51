//! The records of [`crate::ConnectStore`]: OAuth usage per app and user, and staged or rotated
//! consumer credentials (`spec/oauth-and-connect.md` §2, §3).

use std::fmt;

use eca_core::ids::StagedCredentialId;
use eca_core::{OrgId, Timestamp, UserId};

use crate::metadata::ConsumerId;

/// A page of a listing: skip `offset` rows, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

/// One user's live tokens of one app, summed: the Connect "App OAuth Usage User".
///
/// Counted are the user's live refresh tokens (neither revoked, rotated nor expired) and
/// live access tokens issued without one (client credentials, password): `first_used_at` is
/// the earliest issue time, `last_used_at` the latest use (a refresh, or an issue), and
/// `use_count` the access tokens issued from the refresh tokens plus the standalone ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUserUsage {
    pub user_id: UserId,
    pub username: String,
    pub first_used_at: Timestamp,
    pub last_used_at: Timestamp,
    pub use_count: i64,
}

/// What a staged credential is. `Expired` is not stored: a credential is expired when the
/// clock passes its `expires_at` ([`StagedCredential::state_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    /// Staged and not yet rotated in: it authenticates beside the primary.
    Active,
    /// The former primary, kept after a rotation until deleted or expired.
    Rotated,
    /// Past its expiry: refused, and shown until deleted or replaced.
    Expired,
}

impl CredentialState {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialState::Active => "Active",
            CredentialState::Rotated => "Rotated",
            CredentialState::Expired => "Expired",
        }
    }

    /// The stored states (`Active`, `Rotated`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(CredentialState::Active),
            "Rotated" => Some(CredentialState::Rotated),
            _ => None,
        }
    }
}

/// A consumer's second key and secret: staged (before a rotation) or rotated (after).
/// A consumer has at most one.
#[derive(Clone, PartialEq, Eq)]
pub struct StagedCredential {
    pub id: StagedCredentialId,
    pub org_id: OrgId,
    pub consumer_id: ConsumerId,
    /// A `client_id` like the consumer's; unique among staged credentials.
    pub consumer_key: String,
    /// `MasterKey::encrypt(secret, context = consumer_id)`, like the consumer's own, so a
    /// rotation swaps the bytes without decrypting them.
    pub encrypted_secret: Vec<u8>,
    /// `Active` or `Rotated` (never `Expired`, which is computed).
    pub state: CredentialState,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub expires_at: Timestamp,
}

impl StagedCredential {
    /// The state at `now`: `Expired` from `expires_at` on.
    pub fn state_at(&self, now: Timestamp) -> CredentialState {
        if now >= self.expires_at {
            CredentialState::Expired
        } else {
            self.state
        }
    }
}

impl fmt::Debug for StagedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedCredential")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("consumer_id", &self.consumer_id)
            .field("consumer_key", &self.consumer_key)
            .field("encrypted_secret", &"***")
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("created_by", &self.created_by)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
