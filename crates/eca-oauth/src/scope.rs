//! Granted scopes: what a client asked for, intersected with what the app has
//! (`spec/oauth-and-connect.md` §4; RFC 6749 §3.3).
//!
//! - No `scope` parameter (or a blank one) grants all the app's scopes, as Salesforce does.
//! - Requested scopes the app lacks, and strings that are no scope at all, are dropped, not
//!   refused: Salesforce drops unsupported scopes and issues a token for the rest (documented
//!   for client credentials in Winter '26). RFC 6749 §3.3 allows this, and the response's
//!   `scope` tells the client what it got. Only when *nothing* requested can be granted is
//!   the request refused with `invalid_scope`.
//! - `refresh_token` and `offline_access` are synonyms: asking for either is granted when
//!   the app has either, and the answer uses the spelling the client asked for.
//! - Custom scopes (`commaSeparatedCustomScopes`) are granted by exact name.
//! - The wire form is space-separated, built-in scopes in the documentation's order
//!   ([`OauthScope::ALL`]) and then custom scopes alphabetically, whatever the request's order.

use std::collections::BTreeSet;

use eca_metadata::model::OauthScope;

use crate::error::OAuthError;

/// The scopes of one grant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantedScopes {
    builtin: BTreeSet<OauthScope>,
    custom: BTreeSet<String>,
}

impl GrantedScopes {
    /// Grants `requested` (the raw `scope` parameter) against the app's scopes and custom
    /// scope names.
    pub fn grant(
        requested: Option<&str>,
        app_scopes: &[OauthScope],
        app_custom: &[&str],
    ) -> Result<Self, OAuthError> {
        let tokens: Vec<&str> = requested
            .map(|r| r.split_whitespace().collect())
            .unwrap_or_default();
        if tokens.is_empty() {
            return Ok(Self {
                builtin: app_scopes.iter().copied().collect(),
                custom: app_custom.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
        let app_has_refresh = app_scopes
            .iter()
            .any(|s| matches!(s, OauthScope::RefreshToken | OauthScope::OfflineAccess));
        let mut granted = Self::default();
        for token in tokens {
            match OauthScope::from_wire(token) {
                Some(scope) if app_scopes.contains(&scope) => {
                    granted.builtin.insert(scope);
                }
                Some(scope @ (OauthScope::RefreshToken | OauthScope::OfflineAccess))
                    if app_has_refresh =>
                {
                    granted.builtin.insert(scope);
                }
                Some(_) => {}
                None if app_custom.contains(&token) => {
                    granted.custom.insert(token.to_owned());
                }
                None => {}
            }
        }
        if granted.is_empty() {
            return Err(OAuthError::InvalidScope);
        }
        Ok(granted)
    }

    /// Scopes read back from the store (the wire form written by [`GrantedScopes::to_wire`]).
    /// Strings that are no built-in scope are taken as custom scopes.
    pub fn from_wire(stored: &str) -> Self {
        let mut scopes = Self::default();
        for token in stored.split_whitespace() {
            match OauthScope::from_wire(token) {
                Some(scope) => {
                    scopes.builtin.insert(scope);
                }
                None => {
                    scopes.custom.insert(token.to_owned());
                }
            }
        }
        scopes
    }

    /// The scopes of a refresh: a `scope` parameter may only narrow the original grant
    /// (RFC 6749 §6); absent, the original scopes carry over.
    pub fn narrow(&self, requested: Option<&str>) -> Result<Self, OAuthError> {
        let builtin: Vec<OauthScope> = self.builtin.iter().copied().collect();
        let custom: Vec<&str> = self.custom.iter().map(String::as_str).collect();
        Self::grant(requested, &builtin, &custom)
    }

    /// The scopes a client-credentials token may carry: without `refresh_token`,
    /// `offline_access` and `full`, and `no valid scopes defined` when none are left
    /// (Salesforce Winter '26).
    pub fn for_client_credentials(mut self) -> Result<Self, OAuthError> {
        self.builtin.retain(|s| {
            !matches!(
                s,
                OauthScope::RefreshToken | OauthScope::OfflineAccess | OauthScope::Full
            )
        });
        if self.is_empty() {
            return Err(OAuthError::NoValidScopes);
        }
        Ok(self)
    }

    /// Whether `scope` was granted by name.
    pub fn contains(&self, scope: OauthScope) -> bool {
        self.builtin.contains(&scope)
    }

    /// Whether the grant gives what `scope` gives: by name, through `full` (everything but a
    /// refresh token, spec §4), or through `id` (Basic: address, email, phone, profile).
    pub fn covers(&self, scope: OauthScope) -> bool {
        let refresh = matches!(scope, OauthScope::RefreshToken | OauthScope::OfflineAccess);
        let identity = matches!(
            scope,
            OauthScope::Address | OauthScope::Email | OauthScope::Phone | OauthScope::Profile
        );
        self.contains(scope)
            || (refresh && self.allows_refresh_token())
            || (!refresh && self.contains(OauthScope::Full))
            || (identity && self.contains(OauthScope::Basic))
    }

    /// Whether a refresh token may be issued (`refresh_token` or `offline_access`); the
    /// refresh-token policy decides too ([`crate::refresh_policy`]).
    pub fn allows_refresh_token(&self) -> bool {
        self.contains(OauthScope::RefreshToken) || self.contains(OauthScope::OfflineAccess)
    }

    /// Whether an ID token is due (`openid`).
    pub fn has_openid(&self) -> bool {
        self.contains(OauthScope::OpenId)
    }

    pub fn is_empty(&self) -> bool {
        self.builtin.is_empty() && self.custom.is_empty()
    }

    /// The built-in scopes, in documentation order.
    pub fn builtin(&self) -> impl Iterator<Item = OauthScope> + '_ {
        self.builtin.iter().copied()
    }

    /// The custom scope names, alphabetically.
    pub fn custom(&self) -> impl Iterator<Item = &str> + '_ {
        self.custom.iter().map(String::as_str)
    }

    /// The `scope` value of a response: space-separated, in a stable order.
    pub fn to_wire(&self) -> String {
        let names = || {
            self.builtin
                .iter()
                .map(|s| s.wire())
                .chain(self.custom.iter().map(String::as_str))
        };
        // Sized once: every token response and token record carries this string.
        let mut out = String::with_capacity(names().map(|s| s.len() + 1).sum());
        for s in names() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OauthScope as S;

    const APP: &[OauthScope] = &[S::Api, S::Web, S::RefreshToken, S::OpenId, S::Basic];

    /// Requested scope, the app's scopes, and the granted wire form or the error.
    type Case = (
        Option<&'static str>,
        &'static [OauthScope],
        Result<&'static str, OAuthError>,
    );

    fn check(requested: Option<&str>, app: &[OauthScope], expected: Result<&str, OAuthError>) {
        let got = GrantedScopes::grant(requested, app, &["custom_read"]).map(|g| g.to_wire());
        assert_eq!(
            got.as_deref(),
            expected.as_ref().map(|s| *s),
            "{requested:?}"
        );
    }

    #[test]
    fn granting() {
        let table: &[Case] = &[
            // The CLI's request, in its order; the answer is in documentation order.
            (
                Some("refresh_token api web"),
                APP,
                Ok("api web refresh_token"),
            ),
            (None, APP, Ok("id openid api web refresh_token custom_read")),
            (
                Some(""),
                APP,
                Ok("id openid api web refresh_token custom_read"),
            ),
            (
                Some("   "),
                APP,
                Ok("id openid api web refresh_token custom_read"),
            ),
            // Synonyms: the client's spelling is kept.
            (Some("offline_access api"), APP, Ok("api offline_access")),
            (
                Some("refresh_token"),
                &[S::OfflineAccess],
                Ok("refresh_token"),
            ),
            (
                Some("refresh_token offline_access"),
                &[S::RefreshToken],
                Ok("refresh_token offline_access"),
            ),
            // Dropped: scopes the app lacks, unknown strings, other spellings.
            (Some("api full"), APP, Ok("api")),
            (Some("api made_up"), APP, Ok("api")),
            (Some("API api"), APP, Ok("api")),
            (Some("custom_read api"), APP, Ok("api custom_read")),
            // Tabs and repeated blanks separate too; duplicates collapse.
            (Some("api\tweb  api"), APP, Ok("api web")),
            // Nothing grantable.
            (Some("full"), APP, Err(OAuthError::InvalidScope)),
            (Some("made_up"), APP, Err(OAuthError::InvalidScope)),
            (
                Some("offline_access"),
                &[S::Api],
                Err(OAuthError::InvalidScope),
            ),
            (None, &[], Ok("custom_read")),
        ];
        for (requested, app, expected) in table {
            check(*requested, app, expected.clone());
        }
    }

    #[test]
    fn predicates() {
        let g = GrantedScopes::grant(Some("api refresh_token openid"), APP, &[]).unwrap();
        assert!(g.allows_refresh_token() && g.has_openid() && g.contains(S::Api));
        assert!(!g.contains(S::Web));
        let g = GrantedScopes::grant(Some("api offline_access"), APP, &[]).unwrap();
        assert!(g.allows_refresh_token() && !g.has_openid());
        let g = GrantedScopes::grant(Some("api"), APP, &[]).unwrap();
        assert!(!g.allows_refresh_token());
    }

    #[test]
    fn implications() {
        let table: &[(&str, OauthScope, bool)] = &[
            ("full", S::Api, true),
            ("full", S::Web, true),
            ("full", S::Email, true),
            ("full", S::RefreshToken, false),
            ("full", S::OfflineAccess, false),
            ("id", S::Email, true),
            ("id", S::Profile, true),
            ("id", S::Api, false),
            ("id", S::OpenId, false),
            ("offline_access", S::RefreshToken, true),
            ("api", S::Api, true),
            ("api", S::Web, false),
        ];
        for (granted, scope, expected) in table {
            let g = GrantedScopes::from_wire(granted);
            assert_eq!(g.covers(*scope), *expected, "{granted} covers {scope:?}");
        }
    }

    #[test]
    fn client_credentials_drop_user_scopes() {
        let table: &[(&str, Result<&str, OAuthError>)] = &[
            ("api refresh_token full", Ok("api")),
            ("api custom_read", Ok("api custom_read")),
            ("refresh_token full", Err(OAuthError::NoValidScopes)),
            ("offline_access", Err(OAuthError::NoValidScopes)),
        ];
        for (scopes, expected) in table {
            let got = GrantedScopes::from_wire(scopes)
                .for_client_credentials()
                .map(|g| g.to_wire());
            assert_eq!(got.as_deref(), expected.as_ref().map(|s| *s), "{scopes}");
        }
    }

    #[test]
    fn refresh_may_only_narrow() {
        let original = GrantedScopes::from_wire("api web refresh_token custom_read");
        let table: &[(Option<&str>, Result<&str, OAuthError>)] = &[
            (None, Ok("api web refresh_token custom_read")),
            (Some("api"), Ok("api")),
            (Some("api full"), Ok("api")),
            (Some("custom_read"), Ok("custom_read")),
            (Some("full"), Err(OAuthError::InvalidScope)),
            (Some("openid"), Err(OAuthError::InvalidScope)),
        ];
        for (requested, expected) in table {
            let got = original.narrow(*requested).map(|g| g.to_wire());
            assert_eq!(
                got.as_deref(),
                expected.as_ref().map(|s| *s),
                "{requested:?}"
            );
        }
    }

    #[test]
    fn wire_round_trip() {
        let g = GrantedScopes::from_wire("web api zz_custom aa_custom id");
        assert_eq!(g.to_wire(), "id api web aa_custom zz_custom");
        assert_eq!(GrantedScopes::from_wire(&g.to_wire()), g);
        assert_eq!(g.builtin().count(), 3);
        assert_eq!(g.custom().collect::<Vec<_>>(), ["aa_custom", "zz_custom"]);
        assert!(GrantedScopes::from_wire("").is_empty());
        assert_eq!(GrantedScopes::default().to_wire(), "");
    }
}
