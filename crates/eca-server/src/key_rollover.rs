//! Signing key rollover, as both the SAML IdP keys (`saml::keys`) and the OAuth keys
//! (`oauth::keys`) do it: the newest key signs, and a key it replaced stays published for an
//! overlap after its successor was made, so what it signed still verifies.

use eca_core::Timestamp;

/// Where one key of an org stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyState {
    /// The newest: it signs now.
    pub is_current: bool,
    /// Published: the current key, or a replaced one within `overlap_ms` of its successor.
    pub is_published: bool,
}

/// The state at `now` of each of an org's keys, given their creation times oldest first.
pub fn states(created_at: &[Timestamp], now: Timestamp, overlap_ms: i64) -> Vec<KeyState> {
    (0..created_at.len())
        .map(|i| {
            let successor = created_at.get(i + 1);
            KeyState {
                is_current: successor.is_none(),
                is_published: successor.is_none_or(|s| now.millis() < s.millis() + overlap_ms),
            }
        })
        .collect()
}
