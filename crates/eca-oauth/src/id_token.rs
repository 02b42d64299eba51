//! ID tokens (OpenID Connect Core §2), as Salesforce issues them (`spec/oauth-and-connect.md`
//! §1.8): RS256 with the org's key and its `kid`, `iss` the org's base URL, `sub` the identity
//! URL, `aud` the client id plus the app's `idTokenAudience` values, a validity of
//! `idTokenValidityInMinutes` (1–720, default 2), `at_hash` / `c_hash` when issued next to an
//! access token / a code, `nonce` and `auth_time` when known. The caller adds the standard and
//! custom claims it decided on; this module builds the frame and the hashes.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

/// The documented default validity, in minutes (`spec/metadata.md` §2.3).
pub const DEFAULT_VALIDITY_MINUTES: i64 = 2;
/// The documented range of `idTokenValidityInMinutes`.
pub const VALIDITY_RANGE: std::ops::RangeInclusive<i64> = 1..=720;

/// `aud`: one string when only the client id, else an array (OIDC Core §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The client id, then each value of `extra` (`idTokenAudience`, split on commas and
    /// white space), without repeats.
    pub fn new(client_id: &str, extra: Option<&str>) -> Self {
        let mut all = vec![client_id.to_owned()];
        for value in extra
            .unwrap_or("")
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|v| !v.is_empty())
        {
            if !all.iter().any(|a| a == value) {
                all.push(value.to_owned());
            }
        }
        if all.len() == 1 {
            Audience::One(all.swap_remove(0))
        } else {
            Audience::Many(all)
        }
    }

    /// `azp`: the client id when there are other audiences too (OIDC Core §2). Relying
    /// parties refuse an ID token with several audiences and no `azp` (§3.1.3.7, items 3–5;
    /// openid-client and authlib do).
    pub fn authorized_party(&self) -> Option<String> {
        match self {
            Audience::One(_) => None,
            Audience::Many(all) => all.first().cloned(),
        }
    }
}

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    /// [`Audience::authorized_party`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// Standard claims (OIDC Core §5.1) and Salesforce's own, chosen by the caller. Keys
    /// that are core claims above are never put here.
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

/// The validity to use for a configured `idTokenValidityInMinutes`: values outside 1–720
/// (the official sample's 0 included) mean the default.
pub fn validity_minutes(configured: Option<i64>) -> i64 {
    configured
        .filter(|m| VALIDITY_RANGE.contains(m))
        .unwrap_or(DEFAULT_VALIDITY_MINUTES)
}

/// `at_hash` / `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): base64url of the left half of the
/// SHA-256 of the value, the hash of RS256.
pub fn half_hash(value: &str) -> String {
    let hash = digest::digest(&digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

/// The core claim names, which [`IdTokenClaims::claims`] must not repeat.
pub const CORE_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OpenID Connect Core, Appendix A.3/A.4: the access token and its at_hash.
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // And the code of A.4 with its c_hash.
        assert_eq!(
            half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn audiences_and_validity() {
        assert_eq!(
            Audience::new("3MVG9x", None),
            Audience::One("3MVG9x".into())
        );
        assert_eq!(
            Audience::new("3MVG9x", Some(" ")),
            Audience::One("3MVG9x".into())
        );
        assert_eq!(
            Audience::new("3MVG9x", Some("https://a.example, b\n3MVG9x")),
            Audience::Many(vec![
                "3MVG9x".into(),
                "https://a.example".into(),
                "b".into()
            ])
        );
        assert_eq!(validity_minutes(None), 2);
        assert_eq!(validity_minutes(Some(0)), 2);
        assert_eq!(validity_minutes(Some(721)), 2);
        assert_eq!(validity_minutes(Some(720)), 720);
        assert_eq!(validity_minutes(Some(5)), 5);
    }

    #[test]
    fn several_audiences_name_the_client_as_authorized_party() {
        let one = Audience::new("client", None);
        assert_eq!(one.authorized_party(), None);
        let many = Audience::new("client", Some("https://api.example, client"));
        assert_eq!(
            many,
            Audience::Many(vec!["client".into(), "https://api.example".into()])
        );
        assert_eq!(many.authorized_party().as_deref(), Some("client"));
    }

    #[test]
    fn claims_serialize_flat_and_skip_what_is_absent() {
        let mut claims = Map::new();
        claims.insert("email".into(), Value::String("a@b.c".into()));
        let token = IdTokenClaims {
            iss: "https://i".into(),
            sub: "https://i/id/00D/005".into(),
            aud: Audience::One("c".into()),
            azp: None,
            exp: 120,
            iat: 0,
            auth_time: None,
            nonce: Some("n".into()),
            at_hash: None,
            c_hash: None,
            claims,
        };
        assert_eq!(
            serde_json::to_string(&token).unwrap(),
            r#"{"iss":"https://i","sub":"https://i/id/00D/005","aud":"c","exp":120,"iat":0,"nonce":"n","email":"a@b.c"}"#
        );
    }
}
