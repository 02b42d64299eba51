//! Redirect URIs: exact matching against the app's registered callback URLs (RFC 9700
//! §4.1.3, RFC 6749 §3.1.2; `spec/metadata.md` §9.2: one URL a line in `callbackUrl`).
//!
//! Matching is byte-for-byte string equality: no normalization of case, percent-encoding,
//! default ports or trailing slashes, no prefix or wildcard matching, and no RFC 8252 §7.3
//! port relaxation for loopback (Salesforce matches exactly, and the CLI always uses
//! `http://localhost:1717/OauthRedirect`). Custom schemes (`myapp://callback`) are fine.
//! A redirect URI is required at authorize (Salesforce requires it), and the token request
//! must repeat it exactly (RFC 6749 §4.1.3).
//!
//! When the redirect URI is missing, malformed or unregistered, the authorize endpoint must
//! show an error page and never redirect (RFC 6749 §4.1.2.1; the open redirector of RFC 9700
//! §4.11): that is the HTTP layer's job, and every error from this module calls for it.

use eca_metadata::model::GlobalOauthSettings;

use crate::error::{OAuthError, RequestProblem};

/// Longest redirect URI accepted; longer ones are refused before any comparison.
pub const MAX_LEN: usize = 2048;

/// A syntactically acceptable redirect URI (not yet known to be registered).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// An absolute URI (`scheme:` then something), without a fragment (RFC 6749 §3.1.2),
    /// white space or control characters, and not a `javascript:`, `data:` or `vbscript:`
    /// URI.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let invalid = Err(OAuthError::InvalidRequest(
            RequestProblem::InvalidRedirectUri,
        ));
        if raw.is_empty() {
            return Err(OAuthError::InvalidRequest(RequestProblem::Missing(
                "redirect_uri",
            )));
        }
        if raw.len() > MAX_LEN || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid;
        }
        if raw.contains('#') {
            return Err(OAuthError::InvalidRequest(
                RequestProblem::RedirectUriFragment,
            ));
        }
        let Some((scheme, rest)) = raw.split_once(':') else {
            return invalid;
        };
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let dangerous = ["javascript", "data", "vbscript"]
            .iter()
            .any(|d| scheme.eq_ignore_ascii_case(d));
        if !scheme_ok || dangerous || rest.is_empty() {
            return invalid;
        }
        Ok(Self(raw.to_owned()))
    }

    /// A URI read back from the store (it was checked when the code was issued).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The app's registered callback URLs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisteredRedirects(Vec<String>);

impl RegisteredRedirects {
    /// From the `callbackUrl` value: one URL a line, each trimmed, blank lines skipped.
    pub fn from_callback_url(text: Option<&str>) -> Self {
        Self(
            text.map(|t| {
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// From the app's global OAuth settings.
    pub fn from_settings(settings: &GlobalOauthSettings) -> Self {
        Self::from_callback_url(settings.callback_url.as_deref())
    }

    /// Whether `uri` is registered, exactly.
    pub fn contains(&self, uri: &RedirectUri) -> bool {
        self.0.iter().any(|r| r == uri.as_str())
    }

    /// The redirect URI of an authorization request: present, well-formed and registered.
    pub fn resolve(&self, requested: Option<&str>) -> Result<RedirectUri, OAuthError> {
        let uri = RedirectUri::parse(requested.unwrap_or_default())?;
        if self.contains(&uri) {
            Ok(uri)
        } else {
            Err(OAuthError::RedirectUriMismatch)
        }
    }
}

/// The token request's `redirect_uri` must be the one the code was issued for (RFC 6749
/// §4.1.3), string for string.
pub fn check_token_redirect(
    at_authorize: &RedirectUri,
    at_token: Option<&str>,
) -> Result<(), OAuthError> {
    match at_token.filter(|s| !s.is_empty()) {
        None => Err(OAuthError::InvalidRequest(RequestProblem::Missing(
            "redirect_uri",
        ))),
        Some(uri) if uri == at_authorize.as_str() => Ok(()),
        Some(_) => Err(OAuthError::RedirectUriMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTERED: &str = "https://a.example/cb\n  http://localhost:1717/OauthRedirect  \n\n\
                              myapp://auth/success\r\nhttps://a.example/cb?mode=x\n";

    fn registered() -> RegisteredRedirects {
        RegisteredRedirects::from_callback_url(Some(REGISTERED))
    }

    #[test]
    fn exact_matching_resists_tampering() {
        let mismatch = Err(OAuthError::RedirectUriMismatch);
        let invalid = Err(OAuthError::InvalidRequest(
            RequestProblem::InvalidRedirectUri,
        ));
        let fragment = Err(OAuthError::InvalidRequest(
            RequestProblem::RedirectUriFragment,
        ));
        let missing = Err(OAuthError::InvalidRequest(RequestProblem::Missing(
            "redirect_uri",
        )));
        let table: Vec<(Option<&str>, Result<&str, OAuthError>)> = vec![
            (Some("https://a.example/cb"), Ok("https://a.example/cb")),
            (
                Some("http://localhost:1717/OauthRedirect"),
                Ok("http://localhost:1717/OauthRedirect"),
            ),
            (Some("myapp://auth/success"), Ok("myapp://auth/success")),
            (
                Some("https://a.example/cb?mode=x"),
                Ok("https://a.example/cb?mode=x"),
            ),
            // Suffixes, extra query, path and host tricks.
            (Some("https://a.example/cb.evil"), mismatch.clone()),
            (Some("https://a.example/cb/"), mismatch.clone()),
            (Some("https://a.example/cb?x=1"), mismatch.clone()),
            (Some("https://a.example/cb?mode=x&x=1"), mismatch.clone()),
            (Some("https://a.example/cb/../cb"), mismatch.clone()),
            (Some("https://a.example/cb%2F..%2Fevil"), mismatch.clone()),
            (Some("https://a.example/CB"), mismatch.clone()),
            (Some("https://A.example/cb"), mismatch.clone()),
            (Some("HTTPS://a.example/cb"), mismatch.clone()),
            (Some("https://a.example:443/cb"), mismatch.clone()),
            (Some("http://a.example/cb"), mismatch.clone()),
            (Some("https://a.example.evil.example/cb"), mismatch.clone()),
            (Some("https://a.example@evil.example/cb"), mismatch.clone()),
            (Some("https://evil.example@a.example/cb"), mismatch.clone()),
            (
                Some("https://evil.example/?https://a.example/cb"),
                mismatch.clone(),
            ),
            (
                Some("http://localhost:1718/OauthRedirect"),
                mismatch.clone(),
            ),
            (
                Some("http://127.0.0.1:1717/OauthRedirect"),
                mismatch.clone(),
            ),
            (Some("myapp://auth/success/"), mismatch.clone()),
            (Some("//a.example/cb"), invalid.clone()),
            // Fragments are refused outright (RFC 6749 §3.1.2).
            (Some("https://a.example/cb#"), fragment.clone()),
            (Some("https://a.example/cb#x"), fragment),
            // Not absolute URIs, or hiding characters.
            (Some("/cb"), invalid.clone()),
            (Some("a.example/cb"), invalid.clone()),
            (Some("1http://a.example/cb"), invalid.clone()),
            (Some(" https://a.example/cb"), invalid.clone()),
            (Some("https://a.example/cb "), invalid.clone()),
            (Some("https://a.example/cb\n"), invalid.clone()),
            (Some("https://a.example/c\u{0}b"), invalid.clone()),
            (Some("javascript:alert(1)"), invalid.clone()),
            (Some("JavaScript:alert(1)"), invalid.clone()),
            (Some("data:text/html,x"), invalid.clone()),
            (Some("https:"), invalid),
            (Some(""), missing.clone()),
            (None, missing),
        ];
        for (requested, expected) in table {
            let got = registered().resolve(requested);
            assert_eq!(
                got.as_ref().map(RedirectUri::as_str),
                expected.as_ref().map(|s| *s),
                "{requested:?}"
            );
        }
    }

    #[test]
    fn no_callbacks_means_no_redirects() {
        let none = RegisteredRedirects::from_callback_url(None);
        assert_eq!(
            none.resolve(Some("https://a.example/cb")),
            Err(OAuthError::RedirectUriMismatch)
        );
        let blank = RegisteredRedirects::from_callback_url(Some("\n  \n"));
        assert_eq!(blank, RegisteredRedirects::default());
    }

    #[test]
    fn settings_are_read_like_the_model_reads_them() {
        let settings = GlobalOauthSettings {
            callback_url: Some(REGISTERED.to_owned()),
            ..GlobalOauthSettings::default()
        };
        let from_settings = RegisteredRedirects::from_settings(&settings);
        assert_eq!(from_settings.0, settings.callback_urls());
        assert_eq!(from_settings.0.len(), 4);
    }

    #[test]
    fn token_request_repeats_the_uri() {
        let at_authorize = RedirectUri::parse("http://localhost:1717/OauthRedirect").unwrap();
        let table: &[(Option<&str>, Result<(), OAuthError>)] = &[
            (Some("http://localhost:1717/OauthRedirect"), Ok(())),
            (
                Some("http://localhost:1717/OauthRedirect/"),
                Err(OAuthError::RedirectUriMismatch),
            ),
            (
                Some("https://a.example/cb"),
                Err(OAuthError::RedirectUriMismatch),
            ),
            (
                None,
                Err(OAuthError::InvalidRequest(RequestProblem::Missing(
                    "redirect_uri",
                ))),
            ),
            (
                Some(""),
                Err(OAuthError::InvalidRequest(RequestProblem::Missing(
                    "redirect_uri",
                ))),
            ),
        ];
        for (at_token, expected) in table {
            assert_eq!(
                &check_token_redirect(&at_authorize, *at_token),
                expected,
                "{at_token:?}"
            );
        }
        assert_eq!(RedirectUri::from_stored("x").as_str(), "x");
        assert_eq!(
            RedirectUri::parse(&format!("https://a.example/{}", "a".repeat(MAX_LEN))),
            Err(OAuthError::InvalidRequest(
                RequestProblem::InvalidRedirectUri
            ))
        );
    }
}
