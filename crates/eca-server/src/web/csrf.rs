//! CSRF tokens for the web forms (OWASP "Synchronizer token", HMAC variant).
//!
//! A token is `<issued, seconds>.<base64url(HMAC-SHA256(key, form \0 binding \0 issued))>`:
//! - `key` is derived from the master key (`MasterKey::derive(b"web csrf")`), so every node
//!   of a cluster accepts the tokens of the others and nothing is stored;
//! - `binding` ties the token to the browser: for the login form, the random value of the
//!   short-lived `csrf` pre-session cookie (set with the form); once logged in, the hash of
//!   the web session id (`Session::id_hash`). An attacker's page can neither read the cookie
//!   nor compute the HMAC, so it cannot build a valid form;
//! - `form` names the form (`login`, `consent`, `logout`, `device`), so a token of one form is not
//!   accepted by another;
//! - tokens older than [`LIFETIME_SECS`] are refused.
//!
//! Tokens are compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use eca_core::Timestamp;
use eca_core::crypto::hmac_sha256;
use eca_core::secret::constant_time_eq;

use crate::state::AppState;

/// How long a form stays valid: one hour.
pub const LIFETIME_SECS: i64 = 3600;

/// The forms, each with its own tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Login,
    Consent,
    Logout,
    /// The device activation page.
    Device,
}

impl Form {
    fn as_str(self) -> &'static str {
        match self {
            Form::Login => "login",
            Form::Consent => "consent",
            Form::Logout => "logout",
            Form::Device => "device",
        }
    }
}

fn mac(state: &AppState, form: Form, binding: &str, issued: i64) -> String {
    let key = state.master_key().derive(b"web csrf");
    let message = format!("{}\0{binding}\0{issued}", form.as_str());
    URL_SAFE_NO_PAD.encode(hmac_sha256(&key, message.as_bytes()))
}

/// A token for `form`, bound to `binding`, issued at `now`.
pub fn token(state: &AppState, form: Form, binding: &str, now: Timestamp) -> String {
    let issued = now.secs();
    format!("{issued}.{}", mac(state, form, binding, issued))
}

/// Whether `presented` is a token for `form` bound to `binding`, issued within the lifetime.
pub fn verify(
    state: &AppState,
    form: Form,
    binding: &str,
    presented: &str,
    now: Timestamp,
) -> bool {
    let Some((issued, presented_mac)) = presented.split_once('.') else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return false;
    };
    // A crafted issue time must not overflow the subtraction.
    let Some(age) = now.secs().checked_sub(issued) else {
        return false;
    };
    if !(0..=LIFETIME_SECS).contains(&age) {
        return false;
    }
    let expected = mac(state, form, binding, issued);
    constant_time_eq(expected.as_bytes(), presented_mac.as_bytes())
}
