//! Compact JWS with RS256 only (RFC 7515 §7.1, RFC 7518 §3.3), over aws-lc-rs: signing ID
//! tokens and JWT access tokens with the org's keys, publishing those keys as JWKs
//! (RFC 7517), and verifying JWT bearer assertions against an app's certificate.
//!
//! Verification is deliberately narrow (RFC 8725 §2.1, §3.1): the header's `alg` must be
//! the string `RS256` exactly, so `none`, `HS256` (the RSA-key-as-HMAC-secret confusion) and
//! every other algorithm are refused before any cryptography; a `crit` header is refused
//! because no extension is understood (RFC 7515 §4.1.11); keys named inside the token
//! (`jwk`, `jku`, `x5u`, `x5c`) are never used: the caller supplies the key. RSA keys must
//! be 2048 to 8192 bits. Base64url must be canonical and unpadded. Duplicate JSON members
//! resolve to the last one, which RFC 7515 §5.2 allows.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use eca_core::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest token accepted for verification. Assertions are about 600 bytes; the bound
/// keeps hostile input from costing base64 and JSON work.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// Why a key could not be loaded or a token could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("the key is not usable: {0}")]
    InvalidKey(&'static str),
    #[error("the token is not a well-formed compact JWS")]
    Malformed,
    #[error("the token's algorithm is not RS256, or it has a critical extension")]
    UnsupportedAlgorithm,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("signing failed")]
    Signing,
}

/// A public key as a JWK (RFC 7517 §4, RFC 7518 §6.3.1), as `/id/keys` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The modulus, base64url, big-endian, without leading zero bytes (RFC 7518 §6.3.1.1).
    pub n: String,
    /// The exponent, base64url (usually `AQAB`).
    pub e: String,
}

/// A JWK Set (RFC 7517 §5): the body of `/id/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Serialize)]
struct SigningHeader<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

/// An RSA private key with its key id: signs tokens and knows its public JWK.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    jwk: Jwk,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(kid={}, RS256)", self.kid)
    }
}

impl SigningKey {
    /// A key from unencrypted PKCS#8 DER (RFC 5208).
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, JoseError> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|_| JoseError::InvalidKey("not an unencrypted RSA PKCS#8 key"))?;
        Self::new(kid.into(), pair)
    }

    /// A key from PEM: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1, what older
    /// `openssl genrsa` writes). Encrypted keys are refused.
    pub fn from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, JoseError> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
            .map_err(|_| JoseError::InvalidKey("not PEM"))?;
        let pair = match block.label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.contents),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.contents),
            _ => {
                return Err(JoseError::InvalidKey(
                    "expected a PRIVATE KEY or RSA PRIVATE KEY block",
                ));
            }
        }
        .map_err(|_| JoseError::InvalidKey("not an unencrypted RSA private key"))?;
        Self::new(kid.into(), pair)
    }

    /// A new RSA-2048 key. The randomness comes from aws-lc's own generator, not from an
    /// [`eca_core::Rng`]: RSA key generation cannot be fed from outside. It is called when
    /// keys are created or rotated (in `main` or the CLI), never while serving a request.
    pub fn generate(kid: impl Into<String>) -> Result<Self, JoseError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| JoseError::InvalidKey("RSA key generation failed"))?;
        Self::new(kid.into(), pair)
    }

    fn new(kid: String, pair: RsaKeyPair) -> Result<Self, JoseError> {
        let bits = pair.public_modulus_len() * 8;
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(JoseError::InvalidKey(
                "RSA keys must have 2048 to 8192 bits",
            ));
        }
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let n = strip_leading_zeros(&components.n);
        let e = strip_leading_zeros(&components.e);
        let jwk = Jwk {
            kty: "RSA".to_owned(),
            alg: Some("RS256".to_owned()),
            use_: Some("sig".to_owned()),
            kid: Some(kid.clone()),
            n: URL_SAFE_NO_PAD.encode(n),
            e: URL_SAFE_NO_PAD.encode(e),
        };
        let verifying = VerifyingKey::from_components(n, e, Some(kid.clone()))?;
        Ok(Self {
            kid,
            pair,
            jwk,
            verifying,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as published in the JWK Set.
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public half, to verify what this key signed.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The private key as PKCS#8 DER, for the key store (encrypt it at rest).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, JoseError> {
        let der = self
            .pair
            .as_der()
            .map_err(|_| JoseError::InvalidKey("cannot encode the key"))?;
        Ok(der.as_ref().to_vec())
    }

    /// The private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), for a key file.
    pub fn to_pkcs8_pem(&self) -> Result<Secret, JoseError> {
        let body = STANDARD.encode(self.to_pkcs8_der()?);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(Secret::new(pem))
    }

    /// Signs `claims` as a JWT: header `{"alg":"RS256","typ":"JWT","kid":<kid>}`.
    pub fn sign<C: Serialize + ?Sized>(&self, claims: &C) -> Result<String, JoseError> {
        self.sign_with_typ("JWT", claims)
    }

    /// Signs with another `typ`, for example `at+jwt` for RFC 9068 access tokens.
    pub fn sign_with_typ<C: Serialize + ?Sized>(
        &self,
        typ: &str,
        claims: &C,
    ) -> Result<String, JoseError> {
        let header = SigningHeader {
            alg: "RS256",
            typ,
            kid: &self.kid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| JoseError::Signing)?;
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Signing)?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        // RSASSA-PKCS1-v1_5 is deterministic; aws-lc ignores the random source argument.
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| JoseError::Signing)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }
}

/// An RSA public key that verifies RS256 signatures, parsed once and reused.
#[derive(Clone)]
pub struct VerifyingKey {
    key: ParsedPublicKey,
    kid: Option<String>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey(kid={:?}, RSA)", self.kid)
    }
}

impl VerifyingKey {
    /// The key of an X.509 certificate, written as the metadata `certificate` field holds
    /// it: PEM, or the bare base64 body without BEGIN/END lines. Only RSA keys of 2048 to
    /// 8192 bits. The validity dates are not checked here: the metadata validator warns about
    /// them, and Salesforce documents no expiry check for the JWT bearer flow.
    pub fn from_certificate(text: &str) -> Result<Self, JoseError> {
        let info = eca_metadata::validate::parse_certificate(text)
            .map_err(|_| JoseError::InvalidKey("not an X.509 certificate"))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&info.der)
            .map_err(|_| JoseError::InvalidKey("not an X.509 certificate"))?;
        let spki = cert.public_key();
        let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err(JoseError::InvalidKey("the certificate's key is not RSA"));
        };
        Self::from_components(
            strip_leading_zeros(rsa.modulus),
            strip_leading_zeros(rsa.exponent),
            None,
        )
    }

    /// The key of a JWK (`kty` `RSA`; `alg`, when present, `RS256`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        if jwk.kty != "RSA" {
            return Err(JoseError::InvalidKey("the JWK is not an RSA key"));
        }
        if jwk.alg.as_deref().is_some_and(|a| a != "RS256") {
            return Err(JoseError::InvalidKey("the JWK is not for RS256"));
        }
        let n = URL_SAFE_NO_PAD
            .decode(&jwk.n)
            .map_err(|_| JoseError::InvalidKey("bad JWK modulus"))?;
        let e = URL_SAFE_NO_PAD
            .decode(&jwk.e)
            .map_err(|_| JoseError::InvalidKey("bad JWK exponent"))?;
        Self::from_components(
            strip_leading_zeros(&n),
            strip_leading_zeros(&e),
            jwk.kid.clone(),
        )
    }

    fn from_components(n: &[u8], e: &[u8], kid: Option<String>) -> Result<Self, JoseError> {
        let bits = bit_length(n);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(JoseError::InvalidKey(
                "RSA keys must have 2048 to 8192 bits",
            ));
        }
        let key = RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .map_err(|_| JoseError::InvalidKey("not a valid RSA public key"))?;
        Ok(Self { key, kid })
    }

    /// The key id, for keys that came from a JWK or a [`SigningKey`].
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// A token whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// Verifies a compact RS256 JWS with `key` and returns its header and claims. The claims are
/// not interpreted here (expiry, audience...): see [`crate::jwt_bearer`].
pub fn verify_rs256(token: &str, key: &VerifyingKey) -> Result<VerifiedJwt, JoseError> {
    let parts = split(token)?;
    let header = decode_object(parts.header)?;
    // RFC 8725 §3.1: the algorithm is fixed by the verifier, not chosen by the token.
    if header.get("alg").and_then(Value::as_str) != Some("RS256") || header.contains_key("crit") {
        return Err(JoseError::UnsupportedAlgorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(parts.signature)
        .map_err(|_| JoseError::Malformed)?;
    key.key
        .verify_sig(parts.signing_input.as_bytes(), &signature)
        .map_err(|_| JoseError::BadSignature)?;
    let claims = decode_object(parts.payload)?;
    Ok(VerifiedJwt { header, claims })
}

/// The header and claims of a token **without** checking anything. Only for choosing which
/// key to verify with (`iss` names the app, `kid` the key); nothing read here may be trusted
/// before [`verify_rs256`] succeeds.
pub fn decode_unverified(token: &str) -> Result<VerifiedJwt, JoseError> {
    let parts = split(token)?;
    Ok(VerifiedJwt {
        header: decode_object(parts.header)?,
        claims: decode_object(parts.payload)?,
    })
}

struct Parts<'a> {
    signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn split(token: &str) -> Result<Parts<'_>, JoseError> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(JoseError::Malformed);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(JoseError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(JoseError::Malformed)?;
    if payload.contains('.') || header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(JoseError::Malformed);
    }
    Ok(Parts {
        signing_input,
        header,
        payload,
        signature,
    })
}

fn decode_object(part: &str) -> Result<Map<String, Value>, JoseError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JoseError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JoseError::Malformed),
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_length(n: &[u8]) -> usize {
    let n = strip_leading_zeros(n);
    match n.first() {
        Some(first) => (n.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use serde_json::json;

    use super::*;

    const KEY_PEM: &str = include_str!("../tests/data/jwt/key.pem");
    const KEY_PKCS1_PEM: &str = include_str!("../tests/data/jwt/key_pkcs1.pem");
    const CERT_PEM: &str = include_str!("../tests/data/jwt/cert.pem");
    const OTHER_CERT_PEM: &str = include_str!("../tests/data/jwt/other_cert.pem");
    const EC_CERT_PEM: &str = include_str!("../tests/data/jwt/ec_cert.pem");
    const SMALL_CERT_PEM: &str = include_str!("../tests/data/jwt/small_cert.pem");
    const CLI_JWT: &str = include_str!("../tests/data/jwt/cli_assertion.jwt");

    static KEY: LazyLock<SigningKey> =
        LazyLock::new(|| SigningKey::from_pem("190", KEY_PEM).unwrap());

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    /// A token with any header and payload, signed properly by the test key, so the tests
    /// below reach the checks after parsing.
    fn forge(header: &Value, payload: &Value) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let mut sig = vec![0u8; KEY.pair.public_modulus_len()];
        KEY.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[test]
    fn round_trip() {
        let claims = json!({"sub": "005x", "aud": "client", "exp": 1_795_709_175});
        let token = KEY.sign(&claims).unwrap();
        let verified = verify_rs256(&token, KEY.verifying_key()).unwrap();
        assert_eq!(Value::Object(verified.claims), claims);
        assert_eq!(
            Value::Object(verified.header),
            json!({"alg": "RS256", "typ": "JWT", "kid": "190"})
        );
        // The header is written in Salesforce's member order.
        let header = token.split('.').next().unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            br#"{"alg":"RS256","typ":"JWT","kid":"190"}"#
        );
        let at = KEY.sign_with_typ("at+jwt", &claims).unwrap();
        let verified = verify_rs256(&at, KEY.verifying_key()).unwrap();
        assert_eq!(verified.header["typ"], "at+jwt");
    }

    #[test]
    fn openssl_signed_token_verifies_against_the_certificate() {
        let cert = VerifyingKey::from_certificate(CERT_PEM).unwrap();
        let verified = verify_rs256(CLI_JWT, &cert).unwrap();
        assert_eq!(verified.claims["iss"], "3MVG9EXAMPLECLIENTID");
        assert_eq!(verified.claims["exp"], 1_795_709_175_848_i64);
        let other = VerifyingKey::from_certificate(OTHER_CERT_PEM).unwrap();
        assert_eq!(verify_rs256(CLI_JWT, &other), Err(JoseError::BadSignature));
    }

    #[test]
    fn certificate_forms() {
        // The metadata `certificate` field may hold the bare base64 body (how Salesforce
        // writes it on retrieve) with or without line breaks.
        let body: String = CERT_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let wrapped: String = CERT_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        for text in [CERT_PEM, body.as_str(), wrapped.as_str()] {
            let key = VerifyingKey::from_certificate(text).unwrap();
            assert!(verify_rs256(CLI_JWT, &key).is_ok());
        }
        let table: &[(&str, &str)] = &[
            (EC_CERT_PEM, "the certificate's key is not RSA"),
            (SMALL_CERT_PEM, "RSA keys must have 2048 to 8192 bits"),
            ("not a certificate", "not an X.509 certificate"),
            (KEY_PEM, "not an X.509 certificate"),
        ];
        for (text, reason) in table {
            assert_eq!(
                VerifyingKey::from_certificate(text).unwrap_err(),
                JoseError::InvalidKey(reason)
            );
        }
    }

    #[test]
    fn key_formats_agree() {
        let pkcs1 = SigningKey::from_pem("1", KEY_PKCS1_PEM).unwrap();
        assert_eq!(pkcs1.public_jwk().n, KEY.public_jwk().n);
        let der = KEY.to_pkcs8_der().unwrap();
        let again = SigningKey::from_pkcs8_der("2", &der).unwrap();
        assert_eq!(again.public_jwk().n, KEY.public_jwk().n);
        let pem = KEY.to_pkcs8_pem().unwrap();
        let again = SigningKey::from_pem("3", pem.expose()).unwrap();
        assert_eq!(again.public_jwk().n, KEY.public_jwk().n);
        assert!(matches!(
            SigningKey::from_pem("x", CERT_PEM),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            SigningKey::from_pkcs8_der("x", b"garbage"),
            Err(JoseError::InvalidKey(_))
        ));
        assert_eq!(format!("{:?}", *KEY), "SigningKey(kid=190, RS256)");
    }

    #[test]
    fn jwk_shape() {
        let jwk = KEY.public_jwk();
        let value = serde_json::to_value(jwk).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 6);
        assert_eq!(value["kty"], "RSA");
        assert_eq!(value["alg"], "RS256");
        assert_eq!(value["use"], "sig");
        assert_eq!(value["kid"], "190");
        assert_eq!(value["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(&jwk.n).unwrap();
        assert_eq!(n.len(), 256, "2048-bit modulus, no leading zero byte");
        assert_ne!(n[0], 0);
        // The JWK verifies what the key signs, and matches the certificate's key.
        let from_jwk = VerifyingKey::from_jwk(jwk).unwrap();
        assert_eq!(from_jwk.kid(), Some("190"));
        assert!(verify_rs256(CLI_JWT, &from_jwk).is_ok());
        let set = serde_json::to_string(&JwkSet {
            keys: vec![jwk.clone()],
        })
        .unwrap();
        let back: JwkSet = serde_json::from_str(&set).unwrap();
        assert_eq!(back.keys[0], *jwk);
        let ec = Jwk {
            kty: "EC".into(),
            ..jwk.clone()
        };
        assert!(VerifyingKey::from_jwk(&ec).is_err());
        let hs = Jwk {
            alg: Some("HS256".into()),
            ..jwk.clone()
        };
        assert!(VerifyingKey::from_jwk(&hs).is_err());
    }

    #[test]
    fn generated_keys_work() {
        let key = SigningKey::generate("k2").unwrap();
        let token = key.sign(&json!({"a": 1})).unwrap();
        assert!(verify_rs256(&token, key.verifying_key()).is_ok());
        assert_eq!(
            verify_rs256(&token, KEY.verifying_key()),
            Err(JoseError::BadSignature)
        );
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&key.public_jwk().n).unwrap().len(),
            256
        );
    }

    #[test]
    fn refusals() {
        let good_claims = json!({"iss": "x"});
        let rs256 = json!({"alg": "RS256", "typ": "JWT"});
        let good = forge(&rs256, &good_claims);
        let (input, sig) = good.rsplit_once('.').unwrap();
        let (h, p) = input.split_once('.').unwrap();
        // An HS256 token whose HMAC key is the public key's bytes: the classic confusion.
        let hs_input = format!("{}.{}", b64(&json!({"alg": "HS256"})), p);
        let hs_mac =
            eca_core::crypto::hmac_sha256(KEY.public_jwk().n.as_bytes(), hs_input.as_bytes());
        let hs = format!("{hs_input}.{}", URL_SAFE_NO_PAD.encode(hs_mac));
        let mut flipped = URL_SAFE_NO_PAD.decode(sig).unwrap();
        flipped[10] ^= 1;
        let flipped = format!("{input}.{}", URL_SAFE_NO_PAD.encode(flipped));
        let other_payload = format!("{h}.{}.{sig}", b64(&json!({"iss": "y"})));
        let huge = format!("{h}.{}.{sig}", "A".repeat(MAX_TOKEN_LEN));
        let table: Vec<(String, JoseError)> = vec![
            (format!("{h}.{p}."), JoseError::Malformed),
            (format!("{h}.{p}"), JoseError::Malformed),
            (format!("{h}.{p}.{sig}.x"), JoseError::Malformed),
            (format!("{h}..{sig}"), JoseError::Malformed),
            (format!("{h}.{p}.{sig}="), JoseError::Malformed),
            (format!("{h}=.{p}.{sig}"), JoseError::Malformed),
            (
                format!("{}.{p}.{sig}", b64(&json!(["RS256"]))),
                JoseError::Malformed,
            ),
            (forge(&rs256, &json!("str")), JoseError::Malformed),
            (forge(&rs256, &json!([1])), JoseError::Malformed),
            (String::new(), JoseError::Malformed),
            (huge, JoseError::Malformed),
            (
                forge(&json!({"alg": "none"}), &good_claims),
                JoseError::UnsupportedAlgorithm,
            ),
            (
                format!("{}.{p}.", b64(&json!({"alg": "none"}))),
                JoseError::Malformed,
            ),
            (
                format!("{}.{p}.AA", b64(&json!({"alg": "none"}))),
                JoseError::UnsupportedAlgorithm,
            ),
            (hs, JoseError::UnsupportedAlgorithm),
            (
                forge(&json!({"alg": "rs256"}), &good_claims),
                JoseError::UnsupportedAlgorithm,
            ),
            (
                forge(&json!({"alg": "RS512"}), &good_claims),
                JoseError::UnsupportedAlgorithm,
            ),
            (
                forge(&json!({}), &good_claims),
                JoseError::UnsupportedAlgorithm,
            ),
            (
                forge(&json!({"alg": "RS256", "crit": ["exp"]}), &good_claims),
                JoseError::UnsupportedAlgorithm,
            ),
            (flipped, JoseError::BadSignature),
            (other_payload, JoseError::BadSignature),
        ];
        for (token, expected) in table {
            assert_eq!(
                verify_rs256(&token, KEY.verifying_key()),
                Err(expected.clone()),
                "{token:.80}"
            );
        }
        // Keys embedded in the header are ignored: the caller's key decides.
        let embedded = forge(
            &json!({"alg": "RS256", "jwk": serde_json::to_value(KEY.public_jwk()).unwrap()}),
            &good_claims,
        );
        let other = VerifyingKey::from_certificate(OTHER_CERT_PEM).unwrap();
        assert_eq!(
            verify_rs256(&embedded, &other),
            Err(JoseError::BadSignature)
        );
        assert!(verify_rs256(&good, KEY.verifying_key()).is_ok());
        assert!(verify_rs256(&format!(" {good}\n"), KEY.verifying_key()).is_ok());
    }

    #[test]
    fn unverified_decoding_reads_without_checking() {
        let token = forge(&json!({"alg": "none"}), &json!({"iss": "3MVG9x"}));
        let decoded = decode_unverified(&token).unwrap();
        assert_eq!(decoded.claims["iss"], "3MVG9x");
        assert_eq!(decode_unverified("a.b"), Err(JoseError::Malformed));
    }

    #[test]
    fn bit_lengths() {
        let table: &[(&[u8], usize)] = &[
            (&[], 0),
            (&[0, 0], 0),
            (&[1], 1),
            (&[0x80], 8),
            (&[0, 0x80, 0], 16),
            (&[0x7f, 0, 0], 23),
        ];
        for (bytes, bits) in table {
            assert_eq!(bit_length(bytes), *bits, "{bytes:?}");
        }
    }
}
