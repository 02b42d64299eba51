//! The rows of [`crate::TokenStore`]: issued access and refresh tokens, by hash.
//!
//! Bearer values never reach the store: only their SHA-256 (hex), computed by the OAuth
//! engine (`eca_oauth::TokenHash`). Revocation is a timestamp, so a revoked token can still be
//! told apart from an unknown one (the Connect usage API lists both).

use eca_core::{OrgId, Timestamp, UserId};

use crate::metadata::ConsumerId;

/// The format of an access token (`accessTokenFormat` in the Connect usage API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTokenFormat {
    /// `<org15>!<opaque>`, looked up by hash on every use.
    Opaque,
    /// A signed JWT (`isNamedUserJwtEnabled`).
    Jwt,
}

impl AccessTokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenFormat::Opaque => "Opaque",
            AccessTokenFormat::Jwt => "JWT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Opaque" => Some(AccessTokenFormat::Opaque),
            "JWT" => Some(AccessTokenFormat::Jwt),
            _ => None,
        }
    }
}

/// An issued access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    pub org_id: OrgId,
    /// The app's API name (the header's full name), as deployed.
    pub app_name: String,
    pub consumer_id: ConsumerId,
    /// Whom the token acts as (the run-as user for client credentials).
    pub user_id: UserId,
    /// Space-separated, as on the wire.
    pub scopes: String,
    pub format: AccessTokenFormat,
    /// The refresh token it was issued from, if any.
    pub refresh_hash: Option<String>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Uses of one refresh token to count at once ([`crate::TokenStore::record_refresh_uses`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshUse {
    pub token_hash: String,
    pub count: i64,
    /// The latest of the uses.
    pub last_used_at: Timestamp,
}

/// An issued refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub org_id: OrgId,
    pub app_name: String,
    pub consumer_id: ConsumerId,
    pub user_id: UserId,
    pub scopes: String,
    /// Shared by every token rotated from the same first token.
    pub family_id: String,
    pub issued_at: Timestamp,
    /// `None`: no fixed end (an inactivity policy is checked from `last_used_at`).
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Timestamp,
    pub use_count: i64,
    /// Set when a refresh with rotation replaced it: presenting it again is reuse.
    pub rotated_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// One of an org's token signing keys, its private key encrypted under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub org_id: OrgId,
    /// The JWK `kid`.
    pub kid: String,
    /// `MasterKey::encrypt(PKCS#8 DER, context = "oauth-signing-key:<org_id>:<kid>")`.
    pub encrypted_key: Vec<u8>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("org_id", &self.org_id)
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}
