//! Sessions: issuing ids shaped like Salesforce's, and checking them on every request.
//! No HTTP here: callers hand in the id they extracted (Bearer header, `oauth_token`, SOAP
//! `SessionHeader`).
//!
//! A session id is `<15-char org id>!<opaque>` (`spec/oauth-and-connect.md` §1.11); the opaque
//! part is 96 characters from `[A-Za-z0-9._]` starting `AQ`, like the ids Salesforce issues.
//! Only its SHA-256 is stored. A session ends after the org's session timeout of inactivity;
//! use moves the expiry on, written at most once a minute so reads do not each cost a write.

use eca_core::crypto::token_hash;
use eca_core::domain::{Org, Session, SessionKind, User};
use eca_core::rng::string_from;
use eca_core::{Rng, Secret, Timestamp};
use eca_store::{Store, StoreError};

const OPAQUE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
const OPAQUE_LEN: usize = 96;
/// Use within this many milliseconds of the last recorded use is not written back.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A new session and its id, which exists only here and in the client's hands.
#[derive(Debug)]
pub struct Issued {
    pub id: Secret,
    pub session: Session,
}

/// A valid session and its user.
#[derive(Debug, Clone)]
pub struct Active {
    pub session: Session,
    pub user: User,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Unknown, expired, of another org, or of a user who may no longer use it.
    #[error("session expired or invalid")]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A fresh session id for `org`.
pub fn new_id(org: &Org, rng: &dyn Rng) -> Secret {
    let opaque = string_from(rng, OPAQUE_ALPHABET, OPAQUE_LEN - 2);
    Secret::new(format!("{}!AQ{opaque}", org.id.as_15()))
}

/// Creates a session for `user` in `org`, valid for the org's session timeout.
pub async fn issue(
    store: &dyn Store,
    org: &Org,
    user: &User,
    kind: SessionKind,
    now: Timestamp,
    rng: &dyn Rng,
) -> Result<Issued, StoreError> {
    let id = new_id(org, rng);
    let session = Session {
        id_hash: token_hash(id.expose()),
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        kind,
        created_at: now,
        last_used_at: now,
        expires_at: now.plus_minutes(org.session_timeout_minutes),
    };
    store.create_session(&session).await?;
    Ok(Issued { id, session })
}

/// Checks a session id presented on `org`'s URL at `now`, and records the use.
pub async fn authenticate(
    store: &dyn Store,
    org: &Org,
    id: &str,
    now: Timestamp,
) -> Result<Active, SessionError> {
    // A session of another org is refused before any lookup: its id starts with that org's
    // id, and the stored org is checked again below.
    let prefix_ok = id
        .split_once('!')
        .is_some_and(|(org15, rest)| org15 == org.id.as_15() && !rest.is_empty());
    if !prefix_ok || id.len() > 512 {
        return Err(SessionError::Invalid);
    }
    let hash = token_hash(id);
    let mut session = store.session(&hash).await?.ok_or(SessionError::Invalid)?;
    if session.org_id != org.id || session.expires_at <= now {
        return Err(SessionError::Invalid);
    }
    let user = store
        .user(&session.user_id)
        .await?
        .ok_or(SessionError::Invalid)?;
    if !user.is_active || user.is_frozen || user.org_id != org.id {
        return Err(SessionError::Invalid);
    }
    if now.millis() - session.last_used_at.millis() >= TOUCH_INTERVAL_MS {
        let expires_at = now.plus_minutes(org.session_timeout_minutes);
        match store.touch_session(&hash, now, expires_at).await {
            Ok(()) => {}
            // Ended since it was read (a logout, a deactivation, another node's sweep).
            Err(StoreError::Missing { .. }) => return Err(SessionError::Invalid),
            Err(e) => return Err(e.into()),
        }
        session.last_used_at = now;
        session.expires_at = expires_at;
    }
    Ok(Active { session, user })
}

/// Ends the session with this id; `false` when there was none.
pub async fn end(store: &dyn Store, id: &str) -> Result<bool, StoreError> {
    store.delete_session(&token_hash(id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::OrgId;
    use eca_core::rng::DeterministicRng;

    #[test]
    fn ids_look_like_salesforce_session_ids() {
        let rng = DeterministicRng::new(1);
        let org = Org {
            id: OrgId::generate(&rng),
            name: "x".into(),
            my_domain: "x".into(),
            is_default: true,
            session_timeout_minutes: 120,
            enforce_ip_ranges_every_request: false,
            created_at: Timestamp(0),
        };
        let id = new_id(&org, &rng);
        let (org15, opaque) = id.expose().split_once('!').unwrap();
        assert_eq!(org15, org.id.as_15());
        assert_eq!(opaque.len(), 96);
        assert!(opaque.starts_with("AQ"));
        assert!(opaque.bytes().all(|b| OPAQUE_ALPHABET.contains(&b)));
        assert_ne!(id, new_id(&org, &rng));
    }
}
