//! JWT bearer assertions (RFC 7523 §3) with the tolerances real Salesforce clients need
//! (`spec/oauth-and-connect.md` §1.9F).
//!
//! - `iss` must be the app's consumer key (otherwise `invalid_client_id`, as when the key is
//!   unknown); `sub` is the username, returned for the user lookup.
//! - `aud` is a string or an array of strings; one value must name an accepted audience: the
//!   org's base URL, `https://login.salesforce.com` or `https://test.salesforce.com`,
//!   compared exactly except that trailing slashes are ignored on both sides (the Salesforce
//!   CLI sends `http://127.0.0.1:8765/`). Otherwise `Audience validation failed`.
//! - `exp` is required, a number or a numeric string (simple-salesforce sends a string), in
//!   seconds, or in milliseconds when above 10^11 (the CLI sends `Date.now() + 300`, so
//!   milliseconds: 10^11 seconds is the year 5138 and 10^11 milliseconds is 1973, so the
//!   two never overlap for real dates). Read as seconds, the CLI's value would be 56,000
//!   years away, which is evidently how Salesforce accepts it; read as milliseconds it is
//!   300 ms after signing, and the clock skew below is what gives the CLI's assertion a
//!   usable life of five minutes instead of forever. There is no upper bound on `exp`.
//! - `nbf` and `iat`, when present, must not be in the future; `exp` must not have passed.
//!   All three allow [`CLOCK_SKEW_SECS`] of clock skew (RFC 7519 §4.1.4 "small leeway").
//! - `jti` is returned but not tracked: Salesforce documents no replay check, and RFC 7523
//!   §3 makes it optional. The caller may add one.
//!
//! Every failure other than the audience and the issuer reads `invalid_grant` /
//! `invalid assertion` on the wire; the precise [`AssertionProblem`] goes to the log.

use eca_core::Timestamp;
use serde_json::{Map, Value};

use crate::error::{AssertionProblem, OAuthError};
use crate::jose::{self, JoseError, VerifyingKey};

/// Allowed clock skew for `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// Audiences every org accepts besides its own URL, as Salesforce's login hosts do.
pub const LOGIN_AUDIENCES: [&str; 2] = [
    "https://login.salesforce.com",
    "https://test.salesforce.com",
];
/// Numeric dates above this are milliseconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// The audiences an org accepts in assertions, held without trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audiences(Vec<String>);

impl Audiences {
    /// The org's base URL (`https://acme.my.example.com` or `http://127.0.0.1:8765`) and
    /// the two Salesforce login hosts.
    pub fn for_org(base_url: &str) -> Self {
        Self::new(std::iter::once(base_url).chain(LOGIN_AUDIENCES))
    }

    /// Exactly these audiences (trailing slashes dropped).
    pub fn new<'a>(audiences: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            audiences
                .into_iter()
                .map(|a| normalize(a).to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
        )
    }

    /// Whether `aud` names one of them.
    pub fn accepts(&self, aud: &str) -> bool {
        let aud = normalize(aud);
        !aud.is_empty() && self.0.iter().any(|a| a == aud)
    }
}

fn normalize(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// A verified, valid assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerAssertion {
    /// `sub`: the username to issue a token for.
    pub subject: String,
    /// `iss`: the consumer key.
    pub issuer: String,
    /// The `aud` value that matched, as sent.
    pub audience: String,
    pub expires_at: Timestamp,
    pub issued_at: Option<Timestamp>,
    pub not_before: Option<Timestamp>,
    /// `jti`, when present, for a caller that tracks replays.
    pub jwt_id: Option<String>,
}

/// The `iss` of an assertion **before** verification, to find the app (and so the
/// certificate) to verify it with. Never trust it further.
pub fn issuer_unverified(assertion: &str) -> Result<String, OAuthError> {
    let decoded = jose::decode_unverified(assertion)
        .map_err(|_| OAuthError::InvalidAssertion(AssertionProblem::Malformed))?;
    decoded
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or(OAuthError::InvalidAssertion(
            AssertionProblem::MissingIssuer,
        ))
}

/// Verifies the assertion's RS256 signature with the app's certificate key, then its
/// claims ([`validate_claims`]).
pub fn verify(
    assertion: &str,
    key: &VerifyingKey,
    consumer_key: &str,
    audiences: &Audiences,
    now: Timestamp,
) -> Result<BearerAssertion, OAuthError> {
    let verified = jose::verify_rs256(assertion, key).map_err(|e| {
        OAuthError::InvalidAssertion(match e {
            JoseError::UnsupportedAlgorithm => AssertionProblem::UnsupportedAlgorithm,
            JoseError::BadSignature => AssertionProblem::BadSignature,
            JoseError::Malformed | JoseError::InvalidKey(_) | JoseError::Signing => {
                AssertionProblem::Malformed
            }
        })
    })?;
    validate_claims(&verified.claims, consumer_key, audiences, now)
}

/// Checks the claims of an already verified assertion (RFC 7523 §3).
pub fn validate_claims(
    claims: &Map<String, Value>,
    consumer_key: &str,
    audiences: &Audiences,
    now: Timestamp,
) -> Result<BearerAssertion, OAuthError> {
    let problem = |p| Err(OAuthError::InvalidAssertion(p));
    let Some(issuer) = claims.get("iss").and_then(Value::as_str) else {
        return problem(AssertionProblem::MissingIssuer);
    };
    if issuer != consumer_key {
        return Err(OAuthError::InvalidClientId);
    }
    let Some(subject) = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    else {
        return problem(AssertionProblem::MissingSubject);
    };
    let audience_values: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audience_values.is_empty() {
        return problem(AssertionProblem::MissingAudience);
    }
    let Some(audience) = audience_values.into_iter().find(|a| audiences.accepts(a)) else {
        return Err(OAuthError::AudienceValidationFailed);
    };
    let Some(expires_at) = claims.get("exp").and_then(numeric_date) else {
        return problem(AssertionProblem::MissingExpiry);
    };
    let skew = CLOCK_SKEW_SECS * 1000;
    if now.millis() >= expires_at.millis().saturating_add(skew) {
        return problem(AssertionProblem::Expired);
    }
    let not_before = match claims.get("nbf") {
        None | Some(Value::Null) => None,
        Some(v) => match numeric_date(v) {
            Some(t) if t.millis() <= now.millis().saturating_add(skew) => Some(t),
            _ => return problem(AssertionProblem::NotYetValid),
        },
    };
    let issued_at = match claims.get("iat") {
        None | Some(Value::Null) => None,
        Some(v) => match numeric_date(v) {
            Some(t) if t.millis() <= now.millis().saturating_add(skew) => Some(t),
            _ => return problem(AssertionProblem::IssuedInFuture),
        },
    };
    Ok(BearerAssertion {
        subject: subject.to_owned(),
        issuer: issuer.to_owned(),
        audience: audience.to_owned(),
        expires_at,
        issued_at,
        not_before,
        jwt_id: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
    })
}

/// A NumericDate (RFC 7519 §2) written as a number or a numeric string, in seconds or (above
/// 10^11) milliseconds. Fractions are truncated; negative or non-finite values are refused.
pub fn numeric_date(v: &Value) -> Option<Timestamp> {
    let raw: f64 = match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return from_integer(i);
            }
            n.as_f64()?
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return from_integer(i);
            }
            s.parse::<f64>().ok()?
        }
        _ => return None,
    };
    if !raw.is_finite() || !(0.0..9.0e15).contains(&raw) {
        return None;
    }
    // In range: the cast cannot truncate beyond the fraction.
    #[allow(clippy::cast_possible_truncation)]
    from_integer(raw.trunc() as i64)
}

fn from_integer(i: i64) -> Option<Timestamp> {
    if i < 0 {
        None
    } else if i > MILLIS_THRESHOLD {
        Some(Timestamp::from_millis(i))
    } else {
        Some(Timestamp::from_secs(i))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY: &str = "3MVG9EXAMPLECLIENTID";
    /// The CLI's `iat` (seconds): the moment it built the assertion.
    const CLI_NOW: i64 = 1_795_709_175;

    fn audiences() -> Audiences {
        Audiences::for_org("http://127.0.0.1:8765")
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// A payload and the (subject, audience) it yields, or the error.
    type Case = (Value, Result<(&'static str, &'static str), OAuthError>);

    fn check(payload: Value, now_secs: i64, expected: Result<(&str, &str), OAuthError>) {
        let got = validate_claims(
            &claims(payload.clone()),
            KEY,
            &audiences(),
            Timestamp::from_secs(now_secs),
        );
        let got = got
            .as_ref()
            .map(|a| (a.subject.as_str(), a.audience.as_str()));
        assert_eq!(got, expected.as_ref().map(|(s, a)| (*s, *a)), "{payload}");
    }

    #[test]
    fn real_client_payloads() {
        let user = "user@example.com";
        // @salesforce/core: exp in milliseconds (far future), iat in seconds, aud with a
        // trailing slash (spec §1.9F).
        let cli = json!({"iss": KEY, "sub": user, "aud": "http://127.0.0.1:8765/",
                         "exp": 1_795_709_175_848_i64, "iat": CLI_NOW});
        check(cli.clone(), CLI_NOW, Ok((user, "http://127.0.0.1:8765/")));
        // Read as milliseconds, the CLI's exp is 300 ms after it signed: the skew is what
        // keeps its assertion usable, for five minutes.
        check(
            cli.clone(),
            CLI_NOW + 200,
            Ok((user, "http://127.0.0.1:8765/")),
        );
        check(
            cli,
            CLI_NOW + 300 + 300,
            Err(OAuthError::InvalidAssertion(AssertionProblem::Expired)),
        );
        // simple-salesforce: exp a string of seconds, aud login.salesforce.com.
        let ss = json!({"iss": KEY, "sub": user, "aud": "https://login.salesforce.com",
                        "exp": (CLI_NOW + 180).to_string()});
        check(ss, CLI_NOW, Ok((user, "https://login.salesforce.com")));
        // The CLI's other attempts: test.salesforce.com, and login with a trailing slash.
        for aud in [
            "https://test.salesforce.com",
            "https://login.salesforce.com/",
        ] {
            let p = json!({"iss": KEY, "sub": user, "aud": aud, "exp": CLI_NOW + 60});
            check(p, CLI_NOW, Ok((user, aud)));
        }
    }

    #[test]
    fn audience() {
        let base = |aud: Value| json!({"iss": KEY, "sub": "u", "aud": aud, "exp": CLI_NOW + 60});
        let fail = Err(OAuthError::AudienceValidationFailed);
        let missing = Err(OAuthError::InvalidAssertion(
            AssertionProblem::MissingAudience,
        ));
        let table: Vec<Case> = vec![
            (
                json!("http://127.0.0.1:8765"),
                Ok(("u", "http://127.0.0.1:8765")),
            ),
            (
                json!("http://127.0.0.1:8765//"),
                Ok(("u", "http://127.0.0.1:8765//")),
            ),
            (
                json!(["https://other.example", "https://test.salesforce.com/"]),
                Ok(("u", "https://test.salesforce.com/")),
            ),
            (json!("https://127.0.0.1:8765"), fail.clone()),
            (json!("http://127.0.0.1:8766"), fail.clone()),
            (
                json!("http://127.0.0.1:8765/services/oauth2/token"),
                fail.clone(),
            ),
            (json!("https://LOGIN.salesforce.com"), fail.clone()),
            (
                json!("https://login.salesforce.com.evil.example"),
                fail.clone(),
            ),
            (json!("https://gs1.salesforce.com"), fail.clone()),
            (json!(["https://other.example"]), fail.clone()),
            (json!("/"), fail),
            (json!([]), missing.clone()),
            (json!(""), Err(OAuthError::AudienceValidationFailed)),
            (json!(42), missing.clone()),
            (json!([42]), missing.clone()),
            (Value::Null, missing),
        ];
        for (aud, expected) in table {
            check(base(aud), CLI_NOW, expected);
        }
    }

    #[test]
    fn issuer_subject_and_times() {
        use AssertionProblem as P;
        let bad = |p| Err(OAuthError::InvalidAssertion(p));
        let aud = "https://login.salesforce.com";
        let now = CLI_NOW;
        let table: Vec<Case> = vec![
            (
                json!({"sub": "u", "aud": aud, "exp": now + 60}),
                bad(P::MissingIssuer),
            ),
            (
                json!({"iss": 5, "sub": "u", "aud": aud, "exp": now + 60}),
                bad(P::MissingIssuer),
            ),
            (
                json!({"iss": "3MVG9other", "sub": "u", "aud": aud, "exp": now + 60}),
                Err(OAuthError::InvalidClientId),
            ),
            (
                json!({"iss": KEY, "aud": aud, "exp": now + 60}),
                bad(P::MissingSubject),
            ),
            (
                json!({"iss": KEY, "sub": " ", "aud": aud, "exp": now + 60}),
                bad(P::MissingSubject),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud}),
                bad(P::MissingExpiry),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": "soon"}),
                bad(P::MissingExpiry),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": -5}),
                bad(P::MissingExpiry),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": true}),
                bad(P::MissingExpiry),
            ),
            // exp within the skew is still fine; beyond it is expired.
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now - 299}),
                Ok(("u", aud)),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now - 300}),
                bad(P::Expired),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": (now - 301) * 1000}),
                bad(P::Expired),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": (now + 1) as f64 + 0.5}),
                Ok(("u", aud)),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": " 1795709235 "}),
                Ok(("u", aud)),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": "1795709235.9"}),
                Ok(("u", aud)),
            ),
            // nbf and iat: up to five minutes ahead is skew, more is refused.
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "nbf": now + 300}),
                Ok(("u", aud)),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "nbf": now + 301}),
                bad(P::NotYetValid),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "nbf": "x"}),
                bad(P::NotYetValid),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "iat": now + 301}),
                bad(P::IssuedInFuture),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "iat": (now + 10) * 1000}),
                Ok(("u", aud)),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "iat": [1]}),
                bad(P::IssuedInFuture),
            ),
            (
                json!({"iss": KEY, "sub": "u", "aud": aud, "exp": now + 60, "iat": null}),
                Ok(("u", aud)),
            ),
        ];
        for (payload, expected) in table {
            check(payload, now, expected);
        }
    }

    #[test]
    fn numeric_dates() {
        let table: &[(Value, Option<i64>)] = &[
            (json!(1_795_709_175), Some(1_795_709_175_000)),
            (json!(1_795_709_175_848_i64), Some(1_795_709_175_848)),
            (json!("1795709175"), Some(1_795_709_175_000)),
            (json!("1795709175848"), Some(1_795_709_175_848)),
            (json!(1_795_709_175.9), Some(1_795_709_175_000)),
            (json!(100_000_000_000_i64), Some(100_000_000_000_000)),
            (json!(100_000_000_001_i64), Some(100_000_000_001)),
            (json!(0), Some(0)),
            (json!(-1), None),
            (json!(-1.5), None),
            (json!(1e300), None),
            (json!("NaN"), None),
            (json!("inf"), None),
            (json!(""), None),
            (json!(null), None),
        ];
        for (v, expected) in table {
            assert_eq!(numeric_date(v).map(Timestamp::millis), *expected, "{v}");
        }
    }

    #[test]
    fn returns_the_optional_claims() {
        let a = validate_claims(
            &claims(
                json!({"iss": KEY, "sub": "u", "aud": ["x", "https://test.salesforce.com"],
                           "exp": CLI_NOW + 60, "nbf": CLI_NOW - 1, "iat": CLI_NOW, "jti": "j1"}),
            ),
            KEY,
            &audiences(),
            Timestamp::from_secs(CLI_NOW),
        )
        .unwrap();
        assert_eq!(
            a,
            BearerAssertion {
                subject: "u".into(),
                issuer: KEY.into(),
                audience: "https://test.salesforce.com".into(),
                expires_at: Timestamp::from_secs(CLI_NOW + 60),
                issued_at: Some(Timestamp::from_secs(CLI_NOW)),
                not_before: Some(Timestamp::from_secs(CLI_NOW - 1)),
                jwt_id: Some("j1".into()),
            }
        );
    }

    #[test]
    fn audience_sets() {
        let a = Audiences::new(["https://a.example/", "", "/"]);
        assert!(a.accepts("https://a.example"));
        assert!(!a.accepts(""));
        assert!(!a.accepts("/"));
        assert!(!Audiences::new([]).accepts("https://login.salesforce.com"));
    }
}
