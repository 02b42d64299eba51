//! The resume ticket: what a verified AuthnRequest leaves for after the login page, and the
//! logout ticket, what a verified POST-binding LogoutRequest leaves for the same-site GET
//! that can see the browser's session (`slo`).
//!
//! A browser that arrives without a session is sent to the login page, which comes back to a
//! path of ours (`web::login_redirect`, at most 2048 bytes). An HTTP-POST request cannot ride
//! along in a path, and a signed Redirect one barely fits, so the facts the Response needs,
//! taken from the request *after* its signature and registration were checked, travel in a
//! ticket sealed with AES-256-GCM under the master key (context `saml-resume-2:<org>`, and
//! `saml-logout:<org>` for logout tickets): the browser can neither read nor change it, it is
//! bound to the org, and it expires after [`TICKET_LIFETIME_SECS`]. Nothing is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use eca_core::{OrgId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// How long the user has to log in.
pub const TICKET_LIFETIME_SECS: i64 = 10 * 60;
/// The longest `RelayState` carried through the login page (the binding refuses longer ones).
pub use eca_saml::binding::MAX_RELAY_STATE;

/// The checked request, waiting for the user to log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The app's API name.
    pub app: String,
    /// The SP entity id the request was checked against; a deploy that changes it in the
    /// meantime voids the ticket.
    pub entity_id: String,
    /// The AuthnRequest's `ID`, for `InResponseTo`.
    pub request_id: String,
    pub relay_state: Option<String>,
    /// `ForceAuthn`: the session must be made after the request arrived.
    pub force_authn: bool,
    /// `IsPassive`: without a session, `NoPassive` instead of the login page.
    pub is_passive: bool,
    /// The principal the request's `Subject` names, if any.
    pub subject: Option<String>,
    /// When the request arrived (milliseconds).
    pub received_at: i64,
}

/// A verified POST-binding LogoutRequest, on its way to the GET that ends the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogout {
    pub app: String,
    pub entity_id: String,
    /// The LogoutRequest's `ID`, for `InResponseTo`.
    pub request_id: String,
    pub name_id: String,
    pub session_indexes: Vec<String>,
    pub is_signed: bool,
    pub relay_state: Option<String>,
    pub received_at: i64,
}

/// What a ticket carries: its sealing context and when its request arrived.
pub trait Sealed: Serialize + for<'de> Deserialize<'de> {
    const KIND: &'static str;
    fn received_at(&self) -> i64;
}

impl Sealed for Pending {
    // "-2" since the ticket carries `is_passive` and `subject`: a ticket sealed before then
    // does not open (its request would skip the principal check), and its user starts again.
    const KIND: &'static str = "saml-resume-2";
    fn received_at(&self) -> i64 {
        self.received_at
    }
}

impl Sealed for PendingLogout {
    const KIND: &'static str = "saml-logout";
    fn received_at(&self) -> i64 {
        self.received_at
    }
}

fn context<T: Sealed>(org: &OrgId) -> Vec<u8> {
    format!("{}:{org}", T::KIND).into_bytes()
}

/// The longest ticket sealed or opened: the request's fields are bounded (RelayState, names,
/// IDs), but an SP's entity id is whatever was deployed.
pub const MAX_TICKET_LEN: usize = 8 * 1024;

/// The sealed, URL-safe ticket; `None` when it would be longer than [`MAX_TICKET_LEN`] (the
/// caller refuses the request as too large rather than hand out a ticket `open` refuses).
pub fn seal<T: Sealed>(state: &AppState, org: &OrgId, pending: &T) -> Option<String> {
    // Serializing a struct of strings, booleans and integers cannot fail.
    let json = serde_json::to_vec(pending).unwrap_or_default();
    let ticket = URL_SAFE_NO_PAD.encode(state.master_key().encrypt(
        &json,
        &context::<T>(org),
        state.rng(),
    ));
    (ticket.len() <= MAX_TICKET_LEN).then_some(ticket)
}

/// The ticket's contents, when it is ours, of this kind, for this org, and not expired.
pub fn open<T: Sealed>(state: &AppState, org: &OrgId, ticket: &str, now: Timestamp) -> Option<T> {
    if ticket.len() > MAX_TICKET_LEN {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(ticket).ok()?;
    let json = state
        .master_key()
        .decrypt(&sealed, &context::<T>(org))
        .ok()?;
    let pending: T = serde_json::from_slice(&json).ok()?;
    let age = now.millis() - pending.received_at();
    (0..=TICKET_LIFETIME_SECS * 1000)
        .contains(&age)
        .then_some(pending)
}
