//! Proof Key for Code Exchange (RFC 7636), as Salesforce and its clients use it.
//!
//! - Only `S256` (RFC 7636 §4.2). A `code_challenge` without `code_challenge_method` means
//!   S256: Salesforce documents no method parameter and jsforce never sends one
//!   (`spec/oauth-and-connect.md` §1.9A). `plain` is refused: Salesforce documents only S256,
//!   and RFC 9700 §2.1.1 says not to use `plain`.
//! - Verifiers use the RFC 7636 §4.1 alphabet (`[A-Za-z0-9-._~]`) but may be 43 to 256
//!   characters long, not 43 to 128: jsforce sends base64url of 128 random bytes, 171
//!   characters.
//! - At the token endpoint ([`verify`]): a challenge without a verifier is refused with
//!   `invalid_grant` (spec §1.9A), a verifier without a challenge with `invalid_request`
//!   (the PKCE downgrade of RFC 9700 §4.8.2), a malformed verifier with `invalid_request`, and
//!   a well-formed verifier that does not hash to the challenge with `invalid_grant` /
//!   `invalid code verifier` (RFC 7636 §4.6; the text real Salesforce returns).

use aws_lc_rs::digest;
use base64::Engine as _;
use eca_core::secret::constant_time_eq;

use crate::error::{OAuthError, RequestProblem};

/// The shortest verifier (RFC 7636 §4.1).
pub const VERIFIER_MIN_LEN: usize = 43;
/// The longest verifier accepted: RFC 7636 says 128, jsforce sends 171, and 256 leaves room.
pub const VERIFIER_MAX_LEN: usize = 256;
/// Length of an S256 challenge: base64url of 32 bytes, unpadded.
const CHALLENGE_LEN: usize = 43;

/// A `code_challenge` accepted at authorize, to be stored with the authorization code. Always
/// S256, the only method there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge as sent (base64url, 43 characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A challenge read back from the store. The value was checked when it was accepted.
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The method, for storage and introspection: always `S256`.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

/// Reads the PKCE parameters of an authorization request (RFC 7636 §4.3). `required` is the
/// app's `isPkceRequired`. `Ok(None)` means no PKCE for this code.
pub fn accept_challenge(
    code_challenge: Option<&str>,
    code_challenge_method: Option<&str>,
    required: bool,
) -> Result<Option<CodeChallenge>, OAuthError> {
    let invalid = |p| Err(OAuthError::InvalidRequest(p));
    let challenge = code_challenge.filter(|c| !c.is_empty());
    let method = code_challenge_method.filter(|m| !m.is_empty());
    let Some(challenge) = challenge else {
        if method.is_some() {
            return invalid(RequestProblem::ChallengeMethodWithoutChallenge);
        }
        if required {
            return invalid(RequestProblem::MissingCodeChallenge);
        }
        return Ok(None);
    };
    // The method name is case-sensitive (RFC 7636 §4.3 uses `S256` exactly).
    if method.is_some_and(|m| m != "S256") {
        return invalid(RequestProblem::UnsupportedChallengeMethod);
    }
    if challenge.len() != CHALLENGE_LEN || !challenge.bytes().all(is_base64url) {
        return invalid(RequestProblem::InvalidCodeChallenge);
    }
    Ok(Some(CodeChallenge(challenge.to_owned())))
}

/// Checks the token request's `code_verifier` against the challenge stored with the code
/// (RFC 7636 §4.6).
pub fn verify(
    stored: Option<&CodeChallenge>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    let verifier = code_verifier.filter(|v| !v.is_empty());
    match (stored, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(OAuthError::MissingCodeVerifier),
        (None, Some(_)) => Err(OAuthError::InvalidRequest(
            RequestProblem::UnexpectedCodeVerifier,
        )),
        (Some(challenge), Some(verifier)) => {
            if !is_valid_verifier(verifier) {
                return Err(OAuthError::InvalidRequest(
                    RequestProblem::InvalidCodeVerifier,
                ));
            }
            if constant_time_eq(s256(verifier).as_bytes(), challenge.0.as_bytes()) {
                Ok(())
            } else {
                Err(OAuthError::CodeVerifierMismatch)
            }
        }
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
pub fn s256(code_verifier: &str) -> String {
    let hash = digest::digest(&digest::SHA256, code_verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.as_ref())
}

/// A verifier of 43 to [`VERIFIER_MAX_LEN`] unreserved characters (RFC 7636 §4.1).
pub fn is_valid_verifier(v: &str) -> bool {
    (VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /// `code_challenge`, `code_challenge_method`, `isPkceRequired`, outcome.
    type AuthorizeCase<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        bool,
        Result<Option<CodeChallenge>, OAuthError>,
    );
    /// Stored challenge, `code_verifier`, outcome.
    type TokenCase<'a> = (
        Option<&'a CodeChallenge>,
        Option<&'a str>,
        Result<(), OAuthError>,
    );

    fn jsforce_verifier() -> String {
        // base64url of 128 bytes: what jsforce sends (spec §1.9A).
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 128])
    }

    #[test]
    fn s256_matches_the_rfc_example() {
        assert_eq!(s256(RFC_VERIFIER), RFC_CHALLENGE);
        assert_eq!(jsforce_verifier().len(), 171);
    }

    #[test]
    fn authorize_side() {
        use RequestProblem as P;
        let ok = |c: &str| Ok(Some(CodeChallenge(c.to_owned())));
        let bad = |p| Err(OAuthError::InvalidRequest(p));
        let table: &[AuthorizeCase] = &[
            // jsforce / the CLI: no method means S256.
            (Some(RFC_CHALLENGE), None, true, ok(RFC_CHALLENGE)),
            (Some(RFC_CHALLENGE), Some("S256"), true, ok(RFC_CHALLENGE)),
            (Some(RFC_CHALLENGE), Some(""), false, ok(RFC_CHALLENGE)),
            (None, None, false, Ok(None)),
            (Some(""), None, false, Ok(None)),
            (None, None, true, bad(P::MissingCodeChallenge)),
            (
                None,
                Some("S256"),
                false,
                bad(P::ChallengeMethodWithoutChallenge),
            ),
            (
                Some(RFC_CHALLENGE),
                Some("plain"),
                false,
                bad(P::UnsupportedChallengeMethod),
            ),
            (
                Some(RFC_CHALLENGE),
                Some("s256"),
                false,
                bad(P::UnsupportedChallengeMethod),
            ),
            (
                Some(RFC_VERIFIER),
                Some("plain"),
                false,
                bad(P::UnsupportedChallengeMethod),
            ),
            // Padded, hex (as in a well-known Salesforce StackExchange question), too short.
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="),
                None,
                false,
                bad(P::InvalidCodeChallenge),
            ),
            (
                Some("23cc1e54c8e06b1f8d69724fdd1fca1d5b0f38313c4b3bf9f1ca4cd7865b5816"),
                None,
                false,
                bad(P::InvalidCodeChallenge),
            ),
            (Some("abc"), None, false, bad(P::InvalidCodeChallenge)),
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
                None,
                false,
                bad(P::InvalidCodeChallenge),
            ),
        ];
        for (challenge, method, required, expected) in table {
            assert_eq!(
                &accept_challenge(*challenge, *method, *required),
                expected,
                "{challenge:?} {method:?} {required}"
            );
        }
    }

    #[test]
    fn token_side() {
        let rfc = CodeChallenge(RFC_CHALLENGE.to_owned());
        let js_verifier = jsforce_verifier();
        let js = CodeChallenge(s256(&js_verifier));
        let long = "a".repeat(257);
        let max = "a".repeat(256);
        let max_challenge = CodeChallenge(s256(&max));
        let invalid = Err(OAuthError::InvalidRequest(
            RequestProblem::InvalidCodeVerifier,
        ));
        let table: &[TokenCase] = &[
            (Some(&rfc), Some(RFC_VERIFIER), Ok(())),
            (Some(&js), Some(&js_verifier), Ok(())),
            (Some(&max_challenge), Some(&max), Ok(())),
            (None, None, Ok(())),
            (None, Some(""), Ok(())),
            // Downgrade: the challenge was sent, the verifier is dropped.
            (Some(&rfc), None, Err(OAuthError::MissingCodeVerifier)),
            (Some(&rfc), Some(""), Err(OAuthError::MissingCodeVerifier)),
            // A verifier for a code issued without a challenge (RFC 9700 §4.8.2).
            (
                None,
                Some(RFC_VERIFIER),
                Err(OAuthError::InvalidRequest(
                    RequestProblem::UnexpectedCodeVerifier,
                )),
            ),
            // Well-formed but wrong.
            (
                Some(&rfc),
                Some(&js_verifier),
                Err(OAuthError::CodeVerifierMismatch),
            ),
            // Sending the challenge itself as the verifier.
            (
                Some(&rfc),
                Some(RFC_CHALLENGE),
                Err(OAuthError::CodeVerifierMismatch),
            ),
            // Malformed: too short, too long, bad characters.
            (Some(&rfc), Some("short"), invalid.clone()),
            (Some(&rfc), Some(&long), invalid.clone()),
            (
                Some(&rfc),
                Some("dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk="),
                invalid.clone(),
            ),
            (
                Some(&rfc),
                Some("dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                invalid,
            ),
        ];
        for (stored, verifier, expected) in table {
            assert_eq!(&verify(*stored, *verifier), expected, "{verifier:?}");
        }
    }

    #[test]
    fn verifier_alphabet_includes_tilde_and_dot() {
        let v = format!("{}~.-_", "x".repeat(40));
        assert!(is_valid_verifier(&v));
        assert!(verify(Some(&CodeChallenge(s256(&v))), Some(&v)).is_ok());
        assert_eq!(CodeChallenge::from_stored("x").method(), "S256");
    }
}
