//! Client authentication at the token, revoke and introspect endpoints: reading the
//! credentials (RFC 6749 §2.3.1) and checking the secret.
//!
//! Credentials come in an `Authorization: Basic` header (`client_secret_basic`, as
//! simple-salesforce sends them) or in the body (`client_secret_post`, as jsforce does), or
//! as a bare `client_id` from a public client. Inside Basic, the id and secret are
//! form-urlencoded before base64 (RFC 6749 §2.3.1), so they are decoded after the split; the
//! consumer keys and secrets this server generates need no encoding, so clients that skip
//! it (most do) still work. A `client_id` in the body next to a Basic header is allowed when
//! it names the same client (authlib sends both); a body value that contradicts the header is
//! `invalid_request`. A non-Basic `Authorization` header is ignored here.
//!
//! Consumer secrets are 256-bit random values, so they are checked with a keyed digest
//! (HMAC-SHA256 under a server key) compared in constant time, not a slow password hash:
//! brute force is hopeless either way, and the token endpoint stays fast (`DEPENDENCIES.md`).
//! The in-memory client registry keeps a [`SecretDigest`] for each active secret (two during
//! a staged rotation) and never the secret itself.

use aws_lc_rs::hmac;
use base64::Engine as _;
use eca_core::secret::constant_time_eq;
use eca_core::{Rng, Secret};

use crate::error::{OAuthError, RequestProblem};

/// How the client authenticated (the `token_endpoint_auth_methods_supported` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client: `client_id` only.
    None,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::None => "none",
        }
    }
}

/// The client's claimed identity and secret, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<Secret>,
    pub method: ClientAuthMethod,
}

/// Reads the client credentials from the `Authorization` header value and the body's
/// `client_id` and `client_secret`. `Ok(None)` when there are none (the JWT bearer grant
/// needs none).
pub fn extract(
    authorization: Option<&str>,
    body_client_id: Option<&str>,
    body_client_secret: Option<&str>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let body_id = body_client_id.filter(|s| !s.is_empty());
    let body_secret = body_client_secret.filter(|s| !s.is_empty());
    let basic = authorization.map(parse_basic).transpose()?.flatten();
    let Some((header_id, header_secret)) = basic else {
        return match (body_id, body_secret) {
            (Some(id), secret) => Ok(Some(ClientCredentials {
                client_id: id.to_owned(),
                secret: secret.map(Secret::new),
                method: if secret.is_some() {
                    ClientAuthMethod::ClientSecretPost
                } else {
                    ClientAuthMethod::None
                },
            })),
            (None, Some(_)) => Err(OAuthError::InvalidRequest(RequestProblem::Missing(
                "client_id",
            ))),
            (None, None) => Ok(None),
        };
    };
    if body_id.is_some_and(|id| id != header_id) {
        return Err(OAuthError::InvalidRequest(
            RequestProblem::ConflictingClientId,
        ));
    }
    let (secret, method) = match (header_secret, body_secret) {
        (Some(h), Some(b)) if !constant_time_eq(h.expose().as_bytes(), b.as_bytes()) => {
            return Err(OAuthError::InvalidRequest(
                RequestProblem::ConflictingClientSecret,
            ));
        }
        (Some(h), _) => (Some(h), ClientAuthMethod::ClientSecretBasic),
        (None, Some(b)) => (Some(Secret::new(b)), ClientAuthMethod::ClientSecretPost),
        (None, None) => (None, ClientAuthMethod::None),
    };
    Ok(Some(ClientCredentials {
        client_id: header_id,
        secret,
        method,
    }))
}

/// `Basic <base64(urlencode(id) ":" urlencode(secret))>`; `Ok(None)` for other schemes.
fn parse_basic(header: &str) -> Result<Option<(String, Option<Secret>)>, OAuthError> {
    let malformed = || OAuthError::InvalidRequest(RequestProblem::MalformedAuthorizationHeader);
    let header = header.trim();
    let Some((scheme, encoded)) = header.split_once(' ') else {
        return if header.eq_ignore_ascii_case("basic") {
            Err(malformed())
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let decoded = engine.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((
        id,
        (!secret.is_empty()).then(|| Secret::new(secret)),
    )))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A keyed digest of a consumer secret: what the client registry keeps.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretDigest([u8; 32]);

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(***)")
    }
}

/// Computes and checks [`SecretDigest`]s under one server key (HMAC-SHA256).
pub struct SecretDigester {
    key: hmac::Key,
}

impl std::fmt::Debug for SecretDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigester(HMAC-SHA256, ***)")
    }
}

impl SecretDigester {
    /// A digester under a key the server holds (for example derived from its master key).
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// A digester under a fresh random key: enough for a registry that is rebuilt from the
    /// (encrypted) secrets at every start.
    pub fn random(rng: &dyn Rng) -> Self {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        Self::new(&key)
    }

    pub fn digest(&self, secret: &Secret) -> SecretDigest {
        let tag = hmac::sign(&self.key, secret.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        SecretDigest(out)
    }

    /// Whether `presented` is the secret behind `stored`, in constant time.
    pub fn verify_secret(&self, presented: &Secret, stored: &SecretDigest) -> bool {
        constant_time_eq(&self.digest(presented).0, &stored.0)
    }

    /// Whether `presented` matches any of `stored` (two secrets are valid during a staged
    /// rotation). Every digest is compared, so the time does not tell which one matched.
    pub fn verify_any(&self, presented: &Secret, stored: &[SecretDigest]) -> bool {
        let digest = self.digest(presented);
        stored
            .iter()
            .fold(false, |found, s| constant_time_eq(&digest.0, &s.0) | found)
    }
}

#[cfg(test)]
mod tests {
    use eca_core::rng::DeterministicRng;

    use super::*;

    fn basic(raw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    type Expected =
        Result<Option<(&'static str, Option<&'static str>, ClientAuthMethod)>, OAuthError>;

    /// Header, body `client_id`, body `client_secret`, and what comes out.
    type Case = (
        Option<String>,
        Option<&'static str>,
        Option<&'static str>,
        Expected,
    );

    fn check(header: Option<&str>, id: Option<&str>, secret: Option<&str>, expected: Expected) {
        let got = extract(header, id, secret);
        let got = got.as_ref().map(|c| {
            c.as_ref().map(|c| {
                (
                    c.client_id.as_str(),
                    c.secret.as_ref().map(Secret::expose),
                    c.method,
                )
            })
        });
        let expected = expected.as_ref().map(|e| e.map(|(i, s, m)| (i, s, m)));
        assert_eq!(got, expected, "{header:?} {id:?} {secret:?}");
    }

    #[test]
    fn extraction() {
        use ClientAuthMethod::{ClientSecretBasic as B, ClientSecretPost as P};
        let malformed = Err(OAuthError::InvalidRequest(
            RequestProblem::MalformedAuthorizationHeader,
        ));
        let id = "3MVG9abc.def_1";
        let b = basic("3MVG9abc.def_1:S3CRET");
        let unpadded = b.trim_end_matches('=').to_owned();
        let table: Vec<Case> = vec![
            // simple-salesforce: Basic only.
            (
                Some(b.clone()),
                None,
                None,
                Ok(Some((id, Some("S3CRET"), B))),
            ),
            (
                Some(unpadded.clone()),
                None,
                None,
                Ok(Some((id, Some("S3CRET"), B))),
            ),
            (
                Some(b.replace("Basic", "basic")),
                None,
                None,
                Ok(Some((id, Some("S3CRET"), B))),
            ),
            // authlib: Basic plus the same client_id in the body.
            (
                Some(b.clone()),
                Some(id),
                None,
                Ok(Some((id, Some("S3CRET"), B))),
            ),
            (
                Some(b.clone()),
                Some(id),
                Some("S3CRET"),
                Ok(Some((id, Some("S3CRET"), B))),
            ),
            // jsforce: body only; the CLI's public client: client_id only.
            (
                None,
                Some(id),
                Some("S3CRET"),
                Ok(Some((id, Some("S3CRET"), P))),
            ),
            (
                None,
                Some("PlatformCLI"),
                None,
                Ok(Some(("PlatformCLI", None, ClientAuthMethod::None))),
            ),
            (
                None,
                Some("PlatformCLI"),
                Some(""),
                Ok(Some(("PlatformCLI", None, ClientAuthMethod::None))),
            ),
            (None, None, None, Ok(None)),
            (None, Some(""), None, Ok(None)),
            (Some("".to_owned()), None, None, Ok(None)),
            // Bearer and other schemes are not client authentication.
            (
                Some("Bearer abc".to_owned()),
                Some(id),
                None,
                Ok(Some((id, None, ClientAuthMethod::None))),
            ),
            (Some("Bearer".to_owned()), None, None, Ok(None)),
            // Conflicts.
            (
                Some(b.clone()),
                Some("3MVG9other"),
                None,
                Err(OAuthError::InvalidRequest(
                    RequestProblem::ConflictingClientId,
                )),
            ),
            (
                Some(b.clone()),
                None,
                Some("other"),
                Err(OAuthError::InvalidRequest(
                    RequestProblem::ConflictingClientSecret,
                )),
            ),
            (
                None,
                None,
                Some("S3CRET"),
                Err(OAuthError::InvalidRequest(RequestProblem::Missing(
                    "client_id",
                ))),
            ),
            // Basic with an empty secret, and the secret in the body.
            (
                Some(basic("PlatformCLI:")),
                None,
                None,
                Ok(Some(("PlatformCLI", None, ClientAuthMethod::None))),
            ),
            (
                Some(basic("PlatformCLI:")),
                None,
                Some("s"),
                Ok(Some(("PlatformCLI", Some("s"), P))),
            ),
            // RFC 6749 §2.3.1 encoding inside Basic.
            (
                Some(basic("my%20client:p%2Bss+word%3A")),
                None,
                None,
                Ok(Some(("my client", Some("p+ss word:"), B))),
            ),
            // The first colon splits: the secret may contain colons.
            (
                Some(basic("id:a:b")),
                None,
                None,
                Ok(Some(("id", Some("a:b"), B))),
            ),
            // Broken headers.
            (Some("Basic".to_owned()), None, None, malformed.clone()),
            (Some("Basic !!!".to_owned()), None, None, malformed.clone()),
            (Some(basic("no-colon")), None, None, malformed.clone()),
            (Some(basic(":secret")), None, None, malformed.clone()),
            (Some(basic("id:bad%2")), None, None, malformed.clone()),
            (Some(basic("id:bad%zz")), None, None, malformed.clone()),
            (Some(basic("id:%FF")), None, None, malformed.clone()),
            (
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode([0xff, b':', b'x'])
                )),
                None,
                None,
                malformed,
            ),
        ];
        for (header, id, secret, expected) in table {
            check(header.as_deref(), id, secret, expected);
        }
    }

    #[test]
    fn form_decoding() {
        let table: &[(&str, Option<&str>)] = &[
            ("abc", Some("abc")),
            ("a+b", Some("a b")),
            ("a%2Bb", Some("a+b")),
            ("%e2%82%ac", Some("€")),
            ("%", None),
            ("%4", None),
            ("%g0", None),
            ("%C3%28", None),
            ("", Some("")),
        ];
        for (input, expected) in table {
            assert_eq!(form_decode(input).as_deref(), *expected, "{input}");
        }
    }

    #[test]
    fn secrets_are_checked_by_keyed_digest() {
        let rng = DeterministicRng::new(5);
        let digester = SecretDigester::random(&rng);
        let secret = crate::tokens::consumer_secret(&rng);
        let stored = digester.digest(&secret);
        assert!(digester.verify_secret(&secret, &stored));
        assert!(!digester.verify_secret(&Secret::new("wrong"), &stored));
        assert!(!digester.verify_secret(&Secret::new(""), &stored));
        let lower = Secret::new(secret.expose().to_ascii_lowercase());
        assert!(!digester.verify_secret(&lower, &stored));
        // Another server key gives another digest: a copied registry is useless elsewhere.
        let other = SecretDigester::new(b"another key");
        assert_ne!(other.digest(&secret), stored);
        assert!(!other.verify_secret(&secret, &stored));
        // Staged rotation: either of two secrets.
        let staged = crate::tokens::consumer_secret(&rng);
        let both = [stored.clone(), digester.digest(&staged)];
        assert!(digester.verify_any(&secret, &both));
        assert!(digester.verify_any(&staged, &both));
        assert!(!digester.verify_any(&Secret::new("x"), &both));
        assert!(!digester.verify_any(&secret, &[]));
        assert_eq!(format!("{stored:?}"), "SecretDigest(***)");
        assert_eq!(
            ClientAuthMethod::ClientSecretBasic.as_str(),
            "client_secret_basic"
        );
    }
}
