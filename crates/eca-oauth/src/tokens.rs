//! New credentials in Salesforce's shapes (`spec/oauth-and-connect.md` §1.11), drawn from the
//! [`Rng`] the caller passes in.
//!
//! Shapes and entropy (the 64-character alphabet `[A-Za-z0-9._]` carries 6 bits a character,
//! and [`string_from`] draws without modulo bias):
//!
//! | value | shape | random part |
//! |---|---|---|
//! | access token | `<15-char org id>!AQ` + 11 hex digits (issue time) + 94 characters | 564 bits |
//! | refresh token | `5Aep861` + 80 characters | 480 bits |
//! | authorization code | `aPrx` + 54 characters + `==` (60 in all) | 324 bits |
//! | device code | base64url of 32 bytes (43 characters) | 256 bits |
//! | user code | 8 of `BCDFGHJKLMNPQRSTVWXZ`, shown `XXXX-XXXX` | 34.6 bits |
//! | consumer key | `3MVG9` + 80 characters | 480 bits (an identifier, not a secret) |
//! | consumer secret | 64 upper-case hex digits | 256 bits |
//!
//! **Storage.** Bearer values (access and refresh tokens, codes, device and user codes) are
//! returned once, in an [`IssuedToken`], and the store keeps only their [`TokenHash`]
//! (`eca_core::crypto::token_hash`, SHA-256 in hex): a leaked table grants nothing, and a
//! plain digest is enough because the values are random and long (no slow hash, no salt).
//! The user code is the exception that proves the rule: 34.6 bits are guessable offline, so
//! its hash is only a lookup key; what protects it is its short life and the attempt limit
//! of RFC 8628 §5.1. An opaque access token's key ([`access_token_key`]) is its issue time in
//! milliseconds (11 hex digits, which the token carries) followed by its hash: keys of new
//! tokens sort after all older ones, so the store appends to its index instead of writing a
//! random page of it for every token (the difference between about 20,000 and 35,000 tokens a
//! second on SQLite). The issue time is no secret (the token response says `issued_at`). The consumer secret is *not* hashed: the token response's `signature` is
//! an HMAC keyed with it (§1.8), so the store keeps it encrypted at rest
//! (`eca_core::crypto::MasterKey`) and the in-memory client registry compares a keyed digest
//! of it ([`crate::client_auth::SecretDigester`]).

use std::fmt;

use eca_core::crypto::token_hash;
use eca_core::rng::{string_from, token};
use eca_core::{OrgId, Rng, Secret, Timestamp};

/// The alphabet of the opaque parts of tokens, keys and codes.
pub const TOKEN_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

/// The user-code alphabet of RFC 8628 §6.1: consonants only, so no words and no 0/O or 1/I.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

const ACCESS_TOKEN_RANDOM: usize = 94;
const REFRESH_TOKEN_PREFIX: &str = "5Aep861";
const REFRESH_TOKEN_RANDOM: usize = 80;
const CODE_PREFIX: &str = "aPrx";
const CODE_RANDOM: usize = 54;
const CONSUMER_KEY_PREFIX: &str = "3MVG9";
const CONSUMER_KEY_RANDOM: usize = 80;
const USER_CODE_LEN: usize = 8;

/// The SHA-256 (hex) of a bearer value: what the store keeps and looks up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash of a value presented by a client (or just issued).
    pub fn of(value: &str) -> Self {
        Self(token_hash(value))
    }

    /// A hash read back from the store.
    pub fn from_stored(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A freshly made bearer value: `value` goes to the client once, `hash` to the store.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub value: Secret,
    pub hash: TokenHash,
}

impl IssuedToken {
    pub(crate) fn new(value: String) -> Self {
        let hash = TokenHash::of(&value);
        Self {
            value: Secret::new(value),
            hash,
        }
    }
}

/// An opaque access token (a session id): `<15-char org id>!AQ<11 hex digits: the issue time in
/// ms><94 characters>`, keyed by [`access_token_key`].
pub fn access_token(org: &OrgId, now: Timestamp, rng: &dyn Rng) -> IssuedToken {
    let opaque = string_from(rng, TOKEN_ALPHABET, ACCESS_TOKEN_RANDOM);
    // Times before 1970 or after the year 2527 do not fit 11 digits: clamp (the key then sorts
    // less well, nothing else changes).
    let millis = key_time(now);
    let value = format!("{}!AQ{millis:011x}{opaque}", org.as_15());
    let hash = access_token_key(&value);
    IssuedToken {
        value: Secret::new(value),
        hash,
    }
}

/// The largest issue time an access token carries: 11 hex digits.
const MAX_KEY_TIME: i64 = 0xfff_ffff_ffff;

/// The issue time an access token carries in its text (the opaque token's 11 hex digits, the
/// JWT's `jti` prefix): milliseconds, clamped to what 11 hex digits hold.
pub(crate) fn key_time(at: Timestamp) -> i64 {
    at.millis().clamp(0, MAX_KEY_TIME)
}

/// The length of a JWT access token's `jti`: 11 hex digits of issue time, 21 random ones.
pub(crate) const JTI_LEN: usize = 32;

/// The store key of an access token presented by a client: its issue time (11 hex digits of
/// milliseconds) followed by its SHA-256, so keys are in issue order and new rows append to
/// the index. An opaque token carries the time in its text; a JWT access token at the start
/// of its `jti` (milliseconds), or for JWTs of earlier versions in its `iat` claim (seconds).
/// Tokens without a readable time (opaque ones issued before it was added, anything
/// malformed) are keyed by their hash alone, as every other bearer value.
pub fn access_token_key(token: &str) -> TokenHash {
    if let Some(time) = issue_time_of(token) {
        return TokenHash(format!("{time}{}", token_hash(token)));
    }
    match jwt_issued_at_millis(token) {
        Some(millis) => TokenHash(format!("{millis:011x}{}", token_hash(token))),
        None => TokenHash::of(token),
    }
}

/// A bound below every key of an access token issued at or after `time` (and above the keys
/// of those issued before it): the key's time prefix alone. Housekeeping reads only the keys
/// below it.
pub fn access_token_keys_from(time: Timestamp) -> String {
    format!("{:011x}", time.millis().clamp(0, MAX_KEY_TIME))
}

/// The key a JWT access token had before JWT keys began with the issue time: its hash alone.
/// `None` for anything else (whose key never changed). Lookups of a JWT fall back to it, so
/// tokens issued by an older server keep working until they expire.
pub fn earlier_access_token_key(token: &str) -> Option<TokenHash> {
    jwt_issued_at_millis(token).map(|_| TokenHash::of(token))
}

/// The largest JWT read for its issue time.
const MAX_JWT_LEN: usize = 8192;

/// The issue time of a JWT's payload, in milliseconds that fit the key's 11 digits: the time
/// its `jti` starts with when that falls within its `iat` second (tokens from this version
/// on), else `iat` itself (earlier tokens, whose random `jti` all but never falls there: their
/// keys stay as they were). The signature is not checked: the key only decides where to look,
/// and the record found is what makes the token valid.
fn jwt_issued_at_millis(token: &str) -> Option<i64> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Issued<'a> {
        iat: i64,
        #[serde(borrow, default)]
        jti: Option<Jti<'a>>,
    }
    /// A `jti` of any JSON type: only a string can carry the time.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Jti<'a> {
        Text(&'a str),
        Other(serde::de::IgnoredAny),
    }
    if token.len() > MAX_JWT_LEN || !crate::access_jwt::looks_like_jwt(token) {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let issued: Issued = serde_json::from_slice(&bytes).ok()?;
    let second = issued.iat.checked_mul(1000)?.clamp(0, MAX_KEY_TIME);
    let precise = match issued.jti {
        Some(Jti::Text(jti)) => Some(jti),
        Some(Jti::Other(_)) | None => None,
    }
    .filter(|jti| jti.len() == JTI_LEN)
    .and_then(|jti| jti.get(..11))
    .filter(|time| time.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .and_then(|time| i64::from_str_radix(time, 16).ok())
    .filter(|millis| (second..second + 1000).contains(millis));
    Some(precise.unwrap_or(second))
}

/// A JWT access token issued at `issued_at` (its `jti` starts with that time), keyed as
/// [`access_token_key`] keys it, without reading the token back.
pub(crate) fn keyed_access_jwt(value: String, issued_at: Timestamp) -> IssuedToken {
    let hash = TokenHash(format!(
        "{:011x}{}",
        key_time(issued_at),
        token_hash(&value)
    ));
    debug_assert_eq!(hash, access_token_key(&value));
    IssuedToken {
        value: Secret::new(value),
        hash,
    }
}

/// The 11 hex digits of issue time of an opaque access token of the current shape.
fn issue_time_of(token: &str) -> Option<&str> {
    let (org, rest) = token.split_once('!')?;
    let rest = rest.strip_prefix("AQ")?;
    let time = rest.get(..11)?;
    (org.len() == 15
        && rest.len() == 11 + ACCESS_TOKEN_RANDOM
        && time
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(time)
}

/// The 15-character org id an opaque access token starts with, if it has the shape. Lets a
/// server refuse another org's token before any lookup.
pub fn access_token_org(token: &str) -> Option<&str> {
    let (org, rest) = token.split_once('!')?;
    (org.len() == 15 && org.starts_with("00D") && !rest.is_empty()).then_some(org)
}

/// A refresh token: `5Aep861<80 characters>`.
pub fn refresh_token(rng: &dyn Rng) -> IssuedToken {
    let opaque = string_from(rng, TOKEN_ALPHABET, REFRESH_TOKEN_RANDOM);
    IssuedToken::new(format!("{REFRESH_TOKEN_PREFIX}{opaque}"))
}

/// An authorization code: `aPrx<54 characters>==`. The `==` is cosmetic, as in Salesforce's
/// codes; it makes clients URL-encode the code, which the tests of the HTTP layer rely on.
pub fn authorization_code(rng: &dyn Rng) -> IssuedToken {
    let opaque = string_from(rng, TOKEN_ALPHABET, CODE_RANDOM);
    IssuedToken::new(format!("{CODE_PREFIX}{opaque}=="))
}

/// A device code (RFC 8628 §3.2): base64url of 32 random bytes.
pub fn device_code(rng: &dyn Rng) -> IssuedToken {
    IssuedToken::new(token(rng, 32))
}

/// A consumer key (`client_id`): `3MVG9<80 characters>`. Public, so not a [`Secret`].
pub fn consumer_key(rng: &dyn Rng) -> String {
    let opaque = string_from(rng, TOKEN_ALPHABET, CONSUMER_KEY_RANDOM);
    format!("{CONSUMER_KEY_PREFIX}{opaque}")
}

/// A consumer secret: 32 random bytes as 64 upper-case hex digits.
pub fn consumer_secret(rng: &dyn Rng) -> Secret {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    Secret::new(eca_core::crypto::hex(&bytes).to_ascii_uppercase())
}

/// A device-flow user code (RFC 8628 §6.1), held in canonical form: eight characters of
/// [`USER_CODE_ALPHABET`], no dash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    /// A new random code.
    pub fn generate(rng: &dyn Rng) -> Self {
        Self(string_from(rng, USER_CODE_ALPHABET, USER_CODE_LEN))
    }

    /// Reads what a person typed: case is ignored, and dashes and white space anywhere are
    /// dropped (`bcdf-ghjk`, `BCDF GHJK`, `BCDFGHJK`, ` b-c-d-f-g-h-j-k `). Anything else
    /// outside the alphabet, or a wrong length, is not a code.
    pub fn parse(input: &str) -> Option<Self> {
        // Bound the work on hostile input before filtering.
        if input.len() > 64 {
            return None;
        }
        let code: String = input
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The canonical form (`BCDFGHJK`), what [`UserCode::hash`] is computed over.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form shown to people and put in `user_code`: `BCDF-GHJK`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    /// The lookup key kept by the store.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use eca_core::rng::DeterministicRng;

    use super::*;

    fn org() -> OrgId {
        OrgId::parse("00D50000000IZ3Z").unwrap()
    }

    fn in_alphabet(s: &str) -> bool {
        s.bytes().all(|b| TOKEN_ALPHABET.contains(&b))
    }

    #[test]
    fn shapes() {
        let rng = DeterministicRng::new(7);
        let at = access_token(&org(), Timestamp(1_764_000_000_000), &rng);
        let v = at.value.expose();
        assert!(v.starts_with("00D50000000IZ3Z!AQ19ab697e800"), "{v}");
        assert_eq!(v.len(), 15 + 1 + 2 + 11 + ACCESS_TOKEN_RANDOM);
        assert!(in_alphabet(&v[16..]));
        assert_eq!(at.hash, access_token_key(v));
        assert_eq!(at.hash.as_str(), format!("19ab697e800{}", TokenHash::of(v)));

        let rt = refresh_token(&rng);
        let v = rt.value.expose();
        assert!(
            v.starts_with("5Aep861") && v.len() == 87 && in_alphabet(v),
            "{v}"
        );

        let code = authorization_code(&rng);
        let v = code.value.expose();
        assert!(
            v.starts_with("aPrx") && v.ends_with("==") && v.len() == 60,
            "{v}"
        );
        assert!(in_alphabet(&v[..58]));

        let dc = device_code(&rng);
        let v = dc.value.expose();
        assert_eq!(v.len(), 43);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );

        let key = consumer_key(&rng);
        assert!(
            key.starts_with("3MVG9") && key.len() == 85 && in_alphabet(&key),
            "{key}"
        );

        let secret = consumer_secret(&rng);
        let s = secret.expose();
        assert_eq!(s.len(), 64);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{s}"
        );
    }

    #[test]
    fn values_differ_and_are_repeatable_under_a_seed() {
        let a = refresh_token(&DeterministicRng::new(1));
        let b = refresh_token(&DeterministicRng::new(1));
        let c = refresh_token(&DeterministicRng::new(2));
        assert_eq!(a.value, b.value);
        assert_ne!(a.value, c.value);
        let rng = eca_core::SystemRng;
        assert_ne!(
            access_token(&org(), Timestamp(0), &rng).value,
            access_token(&org(), Timestamp(0), &rng).value
        );
    }

    #[test]
    fn access_token_org_prefix() {
        let table: &[(&str, Option<&str>)] = &[
            ("00D50000000IZ3Z!AQgAQH0Y", Some("00D50000000IZ3Z")),
            ("00D50000000IZ3Z!", None),
            ("00D50000000IZ3ZEAW!AQx", None),
            ("005500000001fg5!AQx", None),
            ("no bang", None),
            ("", None),
        ];
        for (token, expected) in table {
            assert_eq!(access_token_org(token), *expected, "{token}");
        }
    }

    #[test]
    fn user_codes() {
        let code = UserCode::generate(&DeterministicRng::new(3));
        assert_eq!(code.as_str().len(), 8);
        assert!(
            code.as_str()
                .bytes()
                .all(|b| USER_CODE_ALPHABET.contains(&b))
        );
        let shown = code.display();
        assert_eq!(shown.len(), 9);
        assert_eq!(&shown[4..5], "-");
        assert_eq!(UserCode::parse(&shown), Some(code.clone()));
        assert_eq!(format!("{code:?}"), "UserCode(***)");

        let table: &[(&str, Option<&str>)] = &[
            ("BCDF-GHJK", Some("BCDFGHJK")),
            ("bcdf-ghjk", Some("BCDFGHJK")),
            ("BCDFGHJK", Some("BCDFGHJK")),
            ("BCDF GHJK", Some("BCDFGHJK")),
            (" b-c-d-f-g-h-j-k ", Some("BCDFGHJK")),
            ("BCDF--GHJK\n", Some("BCDFGHJK")),
            ("BCDF-GHJ", None),
            ("BCDF-GHJKL", None),
            ("ABCD-EFGH", None),
            ("BCDF-GHJ0", None),
            ("BCDF_GHJK", None),
            ("", None),
        ];
        for (input, expected) in table {
            assert_eq!(
                UserCode::parse(input).as_ref().map(UserCode::as_str),
                *expected,
                "{input:?}"
            );
        }
        assert_eq!(UserCode::parse(&"B".repeat(100)), None);
        assert_eq!(
            UserCode::parse("bcdf-ghjk").unwrap().hash(),
            TokenHash::of("BCDFGHJK")
        );
    }

    #[test]
    fn user_codes_cover_the_alphabet() {
        // Every letter shows up over many codes: no modulo bias toward a prefix of it.
        let rng = DeterministicRng::new(11);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            seen.extend(UserCode::generate(&rng).as_str().bytes());
        }
        assert_eq!(seen.len(), USER_CODE_ALPHABET.len());
    }

    #[test]
    fn the_key_bound_of_a_time_splits_tokens_issued_before_it_from_the_others() {
        let rng = DeterministicRng::new(4);
        let time = Timestamp(1_764_000_000_000);
        let bound = access_token_keys_from(time);
        for (ms, below) in [
            (1_763_999_999_999, true),
            (1_000, true),
            (1_764_000_000_000, false),
            (1_764_000_000_001, false),
        ] {
            let key = access_token(&org(), Timestamp(ms), &rng).hash;
            assert_eq!(key.as_str() < bound.as_str(), below, "{ms}");
        }
        // A JWT's key too, from its `iat`.
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpYXQiOjE3NjQwMDAwMDB9.c2ln"; // {"iat":1764000000}
        assert!(access_token_key(jwt).as_str() > bound.as_str());
        assert!(
            access_token_key(jwt).as_str() < access_token_keys_from(time.plus_secs(1)).as_str()
        );
    }

    #[test]
    fn access_token_keys_sort_in_issue_order_and_old_tokens_keep_their_plain_hash() {
        let rng = DeterministicRng::new(3);
        let keys: Vec<TokenHash> = [
            1_000,
            1_764_000_000_000,
            1_764_000_000_001,
            1_800_000_000_000,
        ]
        .into_iter()
        .map(|ms| access_token(&org(), Timestamp(ms), &rng).hash)
        .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        // A token of the shape before the issue time, a JWT without `iat`, or anything else:
        // the plain hash.
        let old = format!("00D50000000IZ3Z!AQ{}", "a".repeat(ACCESS_TOKEN_RANDOM));
        assert_eq!(access_token_key(&old), TokenHash::of(&old));
        assert_eq!(earlier_access_token_key(&old), None);
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(access_token_key(jwt), TokenHash::of(jwt));
        // A JWT with `iat` (seconds): keyed by it in milliseconds, earlier by its hash alone.
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpYXQiOjE3NjQwMDAwMDB9.c2ln"; // {"iat":1764000000}
        let key = access_token_key(jwt);
        assert_eq!(
            key.as_str(),
            format!(
                "{:011x}{}",
                1_764_000_000_000_i64,
                TokenHash::of(jwt).as_str()
            )
        );
        assert_eq!(earlier_access_token_key(jwt), Some(TokenHash::of(jwt)));
        // A time part that is not lower-case hex is not a time.
        let odd = format!(
            "00D50000000IZ3Z!AQ{}{}",
            "G".repeat(11),
            "a".repeat(ACCESS_TOKEN_RANDOM)
        );
        assert_eq!(access_token_key(&odd), TokenHash::of(&odd));
        // Clamped, never wider than 11 digits.
        let late = access_token(&org(), Timestamp(i64::MAX), &rng);
        assert!(
            late.value
                .expose()
                .starts_with("00D50000000IZ3Z!AQfffffffffff")
        );
    }
    /// A JWT with these claims (the header and signature do not matter to its key).
    fn jwt_with(claims: &str) -> String {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
        format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln")
    }

    #[test]
    fn a_jwt_is_keyed_by_its_jti_time_when_that_falls_within_its_iat_second() {
        let key_of = |claims: &str| {
            let jwt = jwt_with(claims);
            let key = access_token_key(&jwt);
            let hash = TokenHash::of(&jwt);
            let time = key
                .as_str()
                .strip_suffix(hash.as_str())
                .expect("the hash last");
            i64::from_str_radix(time, 16).expect("a time")
        };
        // 1764000000123 ms is 19ab697e87b in hex.
        let precise = r#"{"iat":1764000000,"jti":"19ab697e87b0123456789abcdef01234"}"#;
        assert_eq!(key_of(precise), 1_764_000_000_123);
        // Earlier tokens' random jti (or none, or one of another length or alphabet, or one
        // whose time falls outside the iat second) keeps the key they were stored under: iat.
        for (claims, iat) in [
            (
                r#"{"iat":1764000000,"jti":"0123456789abcdef0123456789abcdef"}"#,
                1_764_000_000,
            ),
            (r#"{"iat":1764000000}"#, 1_764_000_000),
            (r#"{"iat":1764000000,"jti":"19ab697e87b"}"#, 1_764_000_000),
            (
                r#"{"iat":1764000000,"jti":"19AB697E87B0123456789ABCDEF01234"}"#,
                1_764_000_000,
            ),
            (r#"{"iat":1764000000,"jti":7}"#, 1_764_000_000),
            (r#"{"iat":1764000000,"jti":"\u0031"}"#, 1_764_000_000),
            (
                r#"{"iat":1764000001,"jti":"19ab697e87b0123456789abcdef01234"}"#,
                1_764_000_001,
            ),
            (
                r#"{"iat":1763999999,"jti":"19ab697e87b0123456789abcdef01234"}"#,
                1_763_999_999,
            ),
        ] {
            assert_eq!(key_of(claims), iat * 1000, "{claims}");
        }
        // Tokens issued within one second sort by their milliseconds.
        let keys: Vec<TokenHash> = (0..50)
            .map(|ms| {
                access_token_key(&jwt_with(&format!(
                    r#"{{"iat":1764000000,"jti":"{:011x}{}"}}"#,
                    1_764_000_000_000_i64 + ms * 20,
                    "f".repeat(21)
                )))
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
