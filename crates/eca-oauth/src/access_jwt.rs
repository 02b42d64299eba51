//! JWT access tokens (`isNamedUserJwtEnabled`, `spec/oauth-and-connect.md` §1.11): RS256, signed
//! by the org's current key and verifiable with its JWKS (`/id/keys`).
//!
//! Salesforce does not document the claim set (spec §8 item 8). OpenECA follows RFC 9068 (JWT
//! Profile for OAuth 2.0 Access Tokens): header `typ` `at+jwt` (§2.1); claims `iss` (the org's
//! base URL), `sub` (the user's 18-character id), `aud` (the org's base URL: the org is the
//! resource server), `client_id` (the consumer key), `scope` (space-separated), `jti`, `iat`,
//! `nbf` and `exp` in seconds (§2.2). The decision is written down in `docs/oauth.md`.
//!
//! The server still records each JWT by hash like an opaque token, so that revocation and the
//! usage API work the same for both formats, and a revoked JWT is refused by this server at
//! once even though its signature stays valid until `exp`.

use eca_core::{Rng, Timestamp};
use serde::Serialize;

use crate::jose::{JoseError, SigningKey};
use crate::tokens::IssuedToken;

/// RFC 9068 §2.1: the media type of a JWT access token.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// What an access JWT says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The parts of an access JWT that vary per token.
#[derive(Debug, Clone, Copy)]
pub struct AccessJwt<'a> {
    /// The org's base URL, both issuer and audience.
    pub base_url: &'a str,
    /// The user's 18-character id.
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl AccessJwt<'_> {
    /// The claims, with a fresh `jti` (so no two tokens are equal, even within one second):
    /// 32 hex digits, the issue time in milliseconds (11 digits) then 84 random bits. `iat`
    /// has whole seconds (RFC 7519 §2 NumericDate); the `jti`'s time keys the token in the
    /// store in issue order ([`crate::tokens::access_token_key`]).
    pub fn claims(&self, rng: &dyn Rng) -> AccessClaims<'_> {
        use std::fmt::Write as _;
        let mut random = [0u8; 11];
        rng.fill(&mut random);
        let mut jti = String::with_capacity(crate::tokens::JTI_LEN);
        let _ = write!(jti, "{:011x}", crate::tokens::key_time(self.issued_at));
        for b in random {
            let _ = write!(jti, "{b:02x}");
        }
        jti.truncate(crate::tokens::JTI_LEN);
        AccessClaims {
            iss: self.base_url,
            sub: self.user_id,
            aud: self.base_url,
            client_id: self.client_id,
            scope: self.scope,
            jti,
            iat: self.issued_at.millis() / 1000,
            nbf: self.issued_at.millis() / 1000,
            exp: self.expires_at.millis() / 1000,
        }
    }

    /// Signs the token with `key` (RS256, `kid` in the header).
    pub fn sign(&self, key: &SigningKey, rng: &dyn Rng) -> Result<IssuedToken, JoseError> {
        let value = key.sign_with_typ(ACCESS_TOKEN_TYP, &self.claims(rng))?;
        Ok(crate::tokens::keyed_access_jwt(value, self.issued_at))
    }
}

/// Whether a presented bearer value has the shape of a JWT (three base64url parts), rather than
/// an opaque `<org15>!...` token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ")
        && token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{VerifyingKey, verify_rs256};
    use crate::tokens::TokenHash;
    use eca_core::rng::DeterministicRng;

    #[test]
    fn an_access_jwt_verifies_with_the_org_key_and_carries_rfc_9068_claims() {
        let key = SigningKey::generate("1").unwrap();
        let rng = DeterministicRng::new(3);
        let jwt = AccessJwt {
            base_url: "http://127.0.0.1:8080",
            user_id: "005000000000001AAA",
            client_id: "3MVG9key",
            scope: "api refresh_token",
            issued_at: Timestamp(1_764_000_000_123),
            expires_at: Timestamp(1_764_000_600_123),
        };
        let issued = jwt.sign(&key, &rng).unwrap();
        assert!(looks_like_jwt(issued.value.expose()));
        // Keyed by the issue time in milliseconds (the `jti`'s prefix), then the hash
        // (`tokens::access_token_key`).
        assert_eq!(
            issued.hash.as_str(),
            format!(
                "{:011x}{}",
                1_764_000_000_123_i64,
                TokenHash::of(issued.value.expose()).as_str()
            )
        );
        let verifying = VerifyingKey::from_jwk(key.public_jwk()).unwrap();
        let verified = verify_rs256(issued.value.expose(), &verifying).unwrap();
        assert_eq!(verified.header["typ"], "at+jwt");
        assert_eq!(verified.header["kid"], "1");
        let c = &verified.claims;
        assert_eq!(c["iss"], "http://127.0.0.1:8080");
        assert_eq!(c["aud"], "http://127.0.0.1:8080");
        assert_eq!(c["sub"], "005000000000001AAA");
        assert_eq!(c["client_id"], "3MVG9key");
        assert_eq!(c["scope"], "api refresh_token");
        assert_eq!(c["iat"], 1_764_000_000);
        assert_eq!(c["nbf"], 1_764_000_000);
        assert_eq!(c["exp"], 1_764_000_600);
        assert_eq!(c["jti"].as_str().unwrap().len(), 32);
        // Two tokens for the same user in the same second differ.
        let again = jwt.sign(&key, &rng).unwrap();
        assert_ne!(again.value.expose(), issued.value.expose());
    }

    #[test]
    fn the_key_made_at_signing_is_the_key_a_presented_token_is_looked_up_by() {
        let key = SigningKey::generate("1").unwrap();
        let rng = DeterministicRng::new(4);
        for millis in [
            0,
            -1_500,
            999,
            1_764_000_000_999,
            0xfff_ffff_ffff - 10,
            i64::MAX / 2,
        ] {
            let issued = AccessJwt {
                base_url: "http://127.0.0.1:8080",
                user_id: "005000000000001AAA",
                client_id: "3MVG9key",
                scope: "api",
                issued_at: Timestamp(millis),
                expires_at: Timestamp(millis.saturating_add(600_000)),
            }
            .sign(&key, &rng)
            .unwrap();
            assert_eq!(
                issued.hash,
                crate::tokens::access_token_key(issued.value.expose()),
                "{millis}"
            );
        }
    }

    #[test]
    fn opaque_tokens_do_not_look_like_jwts() {
        assert!(!looks_like_jwt("00D000000000001!AQabc.def_ghi"));
        assert!(!looks_like_jwt("eyJhbGc.only-two"));
        assert!(!looks_like_jwt("eyJa.b.c d"));
        assert!(looks_like_jwt("eyJa.b-_.c"));
    }
}
