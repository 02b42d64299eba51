//! The rows of [`crate::AuthorizationCodeStore`]: authorization codes of the web-server flow
//! (RFC 6749 §4.1), by the SHA-256 (hex) of their value.

use eca_core::{OrgId, Timestamp, UserId};

use crate::metadata::ConsumerId;

/// An issued authorization code and everything the token request is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    pub org_id: OrgId,
    /// The app's API name (the header's full name).
    pub app_name: String,
    pub consumer_id: ConsumerId,
    pub user_id: UserId,
    /// Where the code was sent.
    pub redirect_uri: String,
    /// Whether the authorize request named the redirect URI (rather than the app's only
    /// one being used): the token request must then repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    /// Space-separated, as on the wire.
    pub scopes: String,
    /// RFC 7636 S256 challenge, when PKCE was used.
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// OpenID Connect `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// When the user logged in (the ID token's `auth_time`).
    pub auth_time: Timestamp,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Set by the first redemption.
    pub consumed_at: Option<Timestamp>,
    /// Set by the first presentation after the redemption.
    pub replayed_at: Option<Timestamp>,
    /// The access token the redemption issued.
    pub access_hash: Option<String>,
    /// The family of the refresh token the redemption issued.
    pub refresh_family: Option<String>,
}

/// What presenting a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// The code was unused and is now consumed: the caller may issue tokens (after its own
    /// checks of client, redirect URI, expiry and PKCE).
    Redeemed(AuthorizationCodeRecord),
    /// The code was used before (RFC 6749 §4.1.2): the caller revokes what it gave.
    Replayed(AuthorizationCodeRecord),
    /// No such code.
    Unknown,
}

/// Where a device code stands (RFC 8628 §3.3, §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user on the activation page.
    Pending,
    Approved,
    Denied,
    /// Taken by one poll, which is issuing its tokens ([`crate::AuthorizationStore::consume_device_code`]);
    /// a revocation meanwhile denies it, and the poll then takes its tokens back.
    Issuing,
    /// Approved and exchanged for tokens.
    Consumed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Issuing => "issuing",
            DeviceStatus::Consumed => "consumed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeviceStatus::Pending),
            "approved" => Some(DeviceStatus::Approved),
            "denied" => Some(DeviceStatus::Denied),
            "issuing" => Some(DeviceStatus::Issuing),
            "consumed" => Some(DeviceStatus::Consumed),
            _ => None,
        }
    }
}

/// An issued device code (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeRecord {
    /// SHA-256 (hex) of the device code.
    pub device_hash: String,
    /// SHA-256 (hex) of the user code in canonical form.
    pub user_code_hash: String,
    pub org_id: OrgId,
    pub app_name: String,
    pub consumer_id: ConsumerId,
    pub scopes: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// The polling interval the client was given, in seconds.
    pub interval_secs: i64,
    pub last_polled_at: Option<Timestamp>,
    pub status: DeviceStatus,
    /// Who approved or denied it.
    pub user_id: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    /// When the deciding user logged in (the ID token's `auth_time`).
    pub authenticated_at: Option<Timestamp>,
}
