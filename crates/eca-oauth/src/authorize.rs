//! The authorization endpoint's request and response (RFC 6749 §3.1, §4.1.1, §4.2.1; OpenID
//! Connect Core §3.1.2.1; `spec/oauth-and-connect.md` §1.9 A and B).
//!
//! Parsing comes in two stages, because RFC 6749 §4.1.2.1 splits the errors in two:
//! - [`ClientPart`]: `client_id` and `redirect_uri`. While these are not known to be good,
//!   nothing may be sent to the redirect URI: the server shows an error page instead (the
//!   open redirector of RFC 9700 §4.11).
//! - [`AuthorizeRequest`]: everything else. Its errors go back to the (now trusted)
//!   redirect URI, in the query or the fragment ([`ResponseMode`]), with `state` and `iss`
//!   (RFC 9207).
//!
//! Decisions where Salesforce is silent:
//! - `response_type` values are sets of space-separated words in any order (OIDC Core
//!   §3): `code`, `token`, `token id_token` and `code id_token` are served; anything else is
//!   `unsupported_response_type`. Responses with a token or an ID token use the fragment
//!   (RFC 6749 §4.2.2, OAuth 2.0 Multiple Response Types §5), `code` the query.
//! - `prompt` is a space-separated set of `login`, `consent`, `none` and `select_account`
//!   (Salesforce's list, §1.9 A); `select_account` is read as `login`, unknown words are
//!   ignored, and `none` with any other value is `invalid_request` (OIDC Core §3.1.2.1).
//! - A repeated parameter is `invalid_request` (RFC 6749 §3.1); a repeated `client_id` or
//!   `redirect_uri` is an error page.
//! - `nonce` is required with `id_token` in the response type (OIDC Core §3.2.2.1).
//! - An app that requires PKCE gets no token response (`unauthorized_client`): the
//!   user-agent flow has no code for PKCE to protect (RFC 9700 §2.1.2).
//! - `response_mode` may be `query` (for `code` only: tokens never go in a query, Multiple
//!   Response Types §2.1) or `fragment`; anything else (`form_post` included) is
//!   `invalid_request`. `request` and `request_uri` are refused with OIDC Core §3.1.2.6's
//!   `request_not_supported` and `request_uri_not_supported`.
//! - `state` and `nonce` are limited to 2048 characters, `login_hint` to 255.

use crate::error::{OAuthError, RequestProblem};
use crate::pkce::{self, CodeChallenge};

/// Longest `state` and `nonce` accepted.
pub const MAX_STATE_LEN: usize = 2048;
/// Longest `login_hint` accepted (a username).
pub const MAX_LOGIN_HINT_LEN: usize = 255;

/// Why an authorization request gets an error page rather than a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("The request has no client_id.")]
    MissingClientId,
    #[error("The client_id parameter is repeated.")]
    RepeatedClientId,
    #[error("The redirect_uri parameter is repeated.")]
    RepeatedRedirectUri,
    #[error("The app is unknown, or not an app of this org.")]
    UnknownClient,
    #[error("The app is switched off by its administrator.")]
    AppBlocked,
    #[error("The redirect_uri is missing, malformed, or not one of the app's callback URLs.")]
    RedirectUriMismatch,
}

/// The parameters that decide where a response may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPart {
    pub client_id: String,
    pub redirect_uri: Option<String>,
}

/// Reads `client_id` and `redirect_uri`.
pub fn client_part(pairs: &[(String, String)]) -> Result<ClientPart, PageError> {
    let values = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let ids = values("client_id");
    let uris = values("redirect_uri");
    if ids.len() > 1 {
        return Err(PageError::RepeatedClientId);
    }
    if uris.len() > 1 {
        return Err(PageError::RepeatedRedirectUri);
    }
    let client_id = ids
        .first()
        .filter(|v| !v.is_empty())
        .ok_or(PageError::MissingClientId)?;
    Ok(ClientPart {
        client_id: (*client_id).to_owned(),
        redirect_uri: uris
            .first()
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned()),
    })
}

/// What the client asked to get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `code`: the web-server flow.
    Code,
    /// `token`: the user-agent flow.
    Token,
    /// `token id_token`.
    TokenIdToken,
    /// `code id_token` (hybrid).
    CodeIdToken,
}

impl ResponseType {
    /// Reads a `response_type` value: words in any order.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut words: Vec<&str> = raw.split(' ').filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(ResponseType::Code),
            ["token"] => Some(ResponseType::Token),
            ["id_token", "token"] => Some(ResponseType::TokenIdToken),
            ["code", "id_token"] => Some(ResponseType::CodeIdToken),
            _ => None,
        }
    }

    pub fn has_code(self) -> bool {
        matches!(self, ResponseType::Code | ResponseType::CodeIdToken)
    }

    pub fn has_token(self) -> bool {
        matches!(self, ResponseType::Token | ResponseType::TokenIdToken)
    }

    pub fn has_id_token(self) -> bool {
        matches!(self, ResponseType::TokenIdToken | ResponseType::CodeIdToken)
    }

    /// Where the response goes (RFC 6749 §4.1.2, §4.2.2; Multiple Response Types §5).
    pub fn mode(self) -> ResponseMode {
        if self == ResponseType::Code {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }
}

/// Where the parameters of an authorization response go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
}

impl ResponseMode {
    /// The mode of an error response to a request that may not parse (OIDC Core §3.1.2.6:
    /// errors go where the response would): the fragment whenever a token or an ID token
    /// was asked for, or `response_mode` (`raw_mode`) asks for it.
    pub fn for_raw_request(raw_type: Option<&str>, raw_mode: Option<&str>) -> Self {
        let token = raw_type.is_some_and(|r| r.split(' ').any(|w| w == "token" || w == "id_token"));
        if token || raw_mode == Some("fragment") {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }
}

/// `prompt` (OIDC Core §3.1.2.1), with Salesforce's `immediate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub login: bool,
    pub consent: bool,
    /// No page at all: `prompt=none`, or `immediate=true`.
    pub none: bool,
    /// `immediate=true` (Salesforce's web-server flow parameters: skip login and approval when
    /// the user is logged in and has approved, else fail at once): as `prompt=none`, with
    /// `immediate_unsuccessful` for both of its errors.
    pub immediate: bool,
}

impl Prompt {
    /// `prompt` and `immediate` (`true` or `false`, any case; any other value is `false`).
    pub fn parse(raw: Option<&str>, immediate: Option<&str>) -> Result<Self, OAuthError> {
        let mut p = Prompt::default();
        if immediate.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            p.immediate = true;
            p.none = true;
        }
        for word in raw.unwrap_or("").split(' ').filter(|w| !w.is_empty()) {
            match word {
                "login" | "select_account" => p.login = true,
                "consent" => p.consent = true,
                "none" => p.none = true,
                _ => {}
            }
        }
        if p.none && (p.login || p.consent) {
            return Err(OAuthError::InvalidRequest(
                RequestProblem::PromptNoneWithOthers,
            ));
        }
        Ok(p)
    }

    /// The error when nobody usable is logged in and no page may be shown.
    pub fn login_required(&self) -> OAuthError {
        if self.immediate {
            OAuthError::ImmediateUnsuccessful
        } else {
            OAuthError::LoginRequired
        }
    }

    /// The error when the app needs the user's approval and no page may be shown.
    pub fn consent_required(&self) -> OAuthError {
        if self.immediate {
            OAuthError::ImmediateUnsuccessful
        } else {
            OAuthError::ConsentRequired
        }
    }
}

/// `display`: how the login and consent pages are laid out (Salesforce's authorize
/// parameter; OIDC Core §3.1.2.1 defines `page`, `popup`, `touch` and `wap`). A value it does
/// not know, or none, is `Page`, as Salesforce's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Display {
    /// A full browser page.
    #[default]
    Page,
    /// A compact page for a popup window.
    Popup,
    /// Mobile-optimized, for touch screens.
    Touch,
    /// Mobile-optimized, for phones without touch screens (Salesforce's `mobile`; OIDC's
    /// `wap`).
    Mobile,
}

impl Display {
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("popup") => Display::Popup,
            Some("touch") => Display::Touch,
            Some("mobile" | "wap") => Display::Mobile,
            _ => Display::Page,
        }
    }

    /// The value in the `display` parameter, as parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            Display::Page => "page",
            Display::Popup => "popup",
            Display::Touch => "touch",
            Display::Mobile => "mobile",
        }
    }
}

/// A checked authorization request (apart from `client_id` and `redirect_uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: ResponseType,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// `max_age` (OIDC Core §3.1.2.1): the most seconds since the user last logged in; an
    /// older login must be made again, as with `prompt=login`.
    pub max_age: Option<i64>,
    pub display: Display,
    /// Where the response goes: `response_mode`, or the response type's default.
    pub response_mode: ResponseMode,
}

/// Reads the rest of an authorization request. `pkce_required` is the app's
/// `isPkceRequired`: a code needs a challenge, and no token response is given.
pub fn parse(
    pairs: &[(String, String)],
    pkce_required: bool,
) -> Result<AuthorizeRequest, OAuthError> {
    const KNOWN: &[&str] = &[
        "response_type",
        "scope",
        "state",
        "nonce",
        "prompt",
        "login_hint",
        "code_challenge",
        "code_challenge_method",
        "display",
        "max_age",
        "id_token_hint",
        "immediate",
        "response_mode",
        "request",
        "request_uri",
    ];
    for name in KNOWN {
        if pairs.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(OAuthError::InvalidRequest(RequestProblem::Repeated(name)));
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let raw_type = get("response_type").ok_or(OAuthError::InvalidRequest(
        RequestProblem::Missing("response_type"),
    ))?;
    let response_type = ResponseType::parse(raw_type).ok_or(OAuthError::UnsupportedResponseType)?;
    if get("request").is_some() {
        return Err(OAuthError::RequestNotSupported);
    }
    if get("request_uri").is_some() {
        return Err(OAuthError::RequestUriNotSupported);
    }
    let response_mode = match get("response_mode") {
        None => response_type.mode(),
        Some("fragment") => ResponseMode::Fragment,
        Some("query") if response_type == ResponseType::Code => ResponseMode::Query,
        Some(_) => {
            return Err(OAuthError::InvalidRequest(
                RequestProblem::UnsupportedResponseMode,
            ));
        }
    };
    if pkce_required && !response_type.has_code() {
        return Err(OAuthError::TokenResponseNeedsPkce);
    }
    let state = get("state").map(str::to_owned);
    let nonce = get("nonce").map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(OAuthError::InvalidRequest(RequestProblem::TooLong("state")));
    }
    if nonce.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(OAuthError::InvalidRequest(RequestProblem::TooLong("nonce")));
    }
    if response_type.has_id_token() && nonce.is_none() {
        return Err(OAuthError::InvalidRequest(RequestProblem::Missing("nonce")));
    }
    let login_hint = get("login_hint")
        .filter(|h| h.len() <= MAX_LOGIN_HINT_LEN)
        .map(str::to_owned);
    let prompt = Prompt::parse(get("prompt"), get("immediate"))?;
    // Up to ten years, so milliseconds never overflow.
    let max_age = get("max_age")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|s| (0..=315_360_000).contains(s))
                .ok_or(OAuthError::InvalidRequest(RequestProblem::InvalidMaxAge))
        })
        .transpose()?;
    let code_challenge = if response_type.has_code() {
        pkce::accept_challenge(
            get("code_challenge"),
            get("code_challenge_method"),
            pkce_required,
        )?
    } else {
        None
    };
    Ok(AuthorizeRequest {
        response_type,
        scope: get("scope").map(str::to_owned),
        state,
        nonce,
        prompt,
        login_hint,
        code_challenge,
        max_age,
        display: Display::parse(get("display")),
        response_mode,
    })
}

/// The redirect that carries an authorization response: `params` appended to the redirect
/// URI's query (keeping a query it has, RFC 6749 §3.1.2) or put in its fragment.
pub fn redirect_url(redirect_uri: &str, mode: ResponseMode, params: &[(&str, &str)]) -> String {
    let encoded = crate::response::render_urlencoded(params);
    match mode {
        ResponseMode::Query if redirect_uri.contains('?') => {
            if redirect_uri.ends_with('?') || redirect_uri.ends_with('&') {
                format!("{redirect_uri}{encoded}")
            } else {
                format!("{redirect_uri}&{encoded}")
            }
        }
        ResponseMode::Query => format!("{redirect_uri}?{encoded}"),
        ResponseMode::Fragment => format!("{redirect_uri}#{encoded}"),
    }
}

/// An error response's parameters (RFC 6749 §4.1.2.1, §4.2.2.1; RFC 9207 §2 `iss`).
pub fn error_params<'a>(
    error: &'a OAuthError,
    description: &'a str,
    state: Option<&'a str>,
    issuer: &'a str,
) -> Vec<(&'a str, &'a str)> {
    // RFC 6749 §4.1.2.1 and §4.2.2.1 define no `invalid_grant` at the authorization
    // endpoint: a user refused for their address is `access_denied`, with Salesforce's text.
    let code = match error {
        OAuthError::IpRestricted => "access_denied",
        other => other.code(),
    };
    let mut out = vec![("error", code), ("error_description", description)];
    if let Some(state) = state {
        out.push(("state", state));
    }
    out.push(("iss", issuer));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Parameters, then the `client_id` and `redirect_uri` read, or the page error.
    type ClientCase<'a> = (
        &'a [(&'a str, &'a str)],
        Result<(&'a str, Option<&'a str>), PageError>,
    );

    #[test]
    fn client_part_refuses_what_would_make_an_open_redirect() {
        let table: &[ClientCase] = &[
            (&[("client_id", "3MVG9x")], Ok(("3MVG9x", None))),
            (
                &[("client_id", "3MVG9x"), ("redirect_uri", "https://a/cb")],
                Ok(("3MVG9x", Some("https://a/cb"))),
            ),
            (
                &[("client_id", "3MVG9x"), ("redirect_uri", "")],
                Ok(("3MVG9x", None)),
            ),
            (&[], Err(PageError::MissingClientId)),
            (&[("client_id", "")], Err(PageError::MissingClientId)),
            (
                &[("client_id", "a"), ("client_id", "b")],
                Err(PageError::RepeatedClientId),
            ),
            (
                &[
                    ("client_id", "a"),
                    ("redirect_uri", "x:1"),
                    ("redirect_uri", "x:2"),
                ],
                Err(PageError::RepeatedRedirectUri),
            ),
        ];
        for (input, expected) in table {
            let got = client_part(&pairs(input));
            assert_eq!(
                got.as_ref()
                    .map(|c| (c.client_id.as_str(), c.redirect_uri.as_deref())),
                expected.as_ref().map(|e| *e),
                "{input:?}"
            );
        }
    }

    #[test]
    fn response_types_are_word_sets() {
        let table = [
            ("code", Some(ResponseType::Code)),
            ("token", Some(ResponseType::Token)),
            ("token id_token", Some(ResponseType::TokenIdToken)),
            ("id_token token", Some(ResponseType::TokenIdToken)),
            ("code id_token", Some(ResponseType::CodeIdToken)),
            ("code  token", None),
            ("id_token", None),
            ("device_code", None),
            ("CODE", None),
            ("", None),
        ];
        for (raw, expected) in table {
            assert_eq!(ResponseType::parse(raw), expected, "{raw}");
        }
        assert_eq!(ResponseType::Code.mode(), ResponseMode::Query);
        assert_eq!(ResponseType::Token.mode(), ResponseMode::Fragment);
        assert_eq!(ResponseType::CodeIdToken.mode(), ResponseMode::Fragment);
        assert_eq!(
            ResponseMode::for_raw_request(Some("token nonsense"), None),
            ResponseMode::Fragment
        );
        assert_eq!(
            ResponseMode::for_raw_request(Some("nonsense"), None),
            ResponseMode::Query
        );
        assert_eq!(
            ResponseMode::for_raw_request(Some("code"), Some("fragment")),
            ResponseMode::Fragment
        );
        assert_eq!(
            ResponseMode::for_raw_request(None, Some("form_post")),
            ResponseMode::Query
        );
    }

    #[test]
    fn requests() {
        use RequestProblem as P;
        const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let ok = parse(
            &pairs(&[
                ("response_type", "code"),
                ("scope", "api openid"),
                ("state", "xyz"),
                ("nonce", "n1"),
                ("prompt", "login consent"),
                ("login_hint", "a@b.c"),
                ("code_challenge", CHALLENGE),
                ("display", "popup"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(ok.response_type, ResponseType::Code);
        assert_eq!(ok.state.as_deref(), Some("xyz"));
        assert_eq!(ok.login_hint.as_deref(), Some("a@b.c"));
        assert_eq!(ok.display, Display::Popup);
        assert_eq!(
            ok.prompt,
            Prompt {
                login: true,
                consent: true,
                none: false,
                immediate: false,
            }
        );
        // Salesforce's `immediate=true` is `prompt=none` with its own error code.
        let immediate = |value: &str| {
            parse(
                &pairs(&[
                    ("response_type", "code"),
                    ("code_challenge", CHALLENGE),
                    ("immediate", value),
                ]),
                false,
            )
            .unwrap()
            .prompt
        };
        let on = immediate("TRUE");
        assert!(on.none && on.immediate);
        assert_eq!(on.login_required(), OAuthError::ImmediateUnsuccessful);
        assert_eq!(on.consent_required(), OAuthError::ImmediateUnsuccessful);
        assert_eq!(immediate("false"), Prompt::default());
        assert_eq!(
            Prompt::default().login_required(),
            OAuthError::LoginRequired
        );
        assert_eq!(ok.code_challenge.unwrap().as_str(), CHALLENGE);

        let err =
            |list: &[(&str, &str)], required: bool| parse(&pairs(list), required).unwrap_err();
        assert_eq!(
            err(&[("scope", "api")], false),
            OAuthError::InvalidRequest(P::Missing("response_type"))
        );
        assert_eq!(
            err(&[("response_type", "code id_token token")], false),
            OAuthError::UnsupportedResponseType
        );
        assert_eq!(
            err(&[("response_type", "code")], true),
            OAuthError::InvalidRequest(P::MissingCodeChallenge)
        );
        assert_eq!(
            err(
                &[
                    ("response_type", "code"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "plain")
                ],
                false
            ),
            OAuthError::InvalidRequest(P::UnsupportedChallengeMethod)
        );
        assert_eq!(
            err(
                &[("response_type", "code"), ("state", "a"), ("state", "b")],
                false
            ),
            OAuthError::InvalidRequest(P::Repeated("state"))
        );
        assert_eq!(
            err(
                &[("response_type", "token"), ("prompt", "none login")],
                false
            ),
            OAuthError::InvalidRequest(P::PromptNoneWithOthers)
        );
        assert_eq!(
            err(&[("response_type", "token id_token")], false),
            OAuthError::InvalidRequest(P::Missing("nonce"))
        );
        for bad in ["-1", "1.5", "soon", "999999999999"] {
            assert_eq!(
                err(&[("response_type", "code"), ("max_age", bad)], false),
                OAuthError::InvalidRequest(P::InvalidMaxAge),
                "{bad}"
            );
        }
        let ok = parse(
            &pairs(&[("response_type", "code"), ("max_age", "0")]),
            false,
        )
        .unwrap();
        assert_eq!(ok.max_age, Some(0));
        let long = "x".repeat(MAX_STATE_LEN + 1);
        assert_eq!(
            err(&[("response_type", "token"), ("state", &long)], false),
            OAuthError::InvalidRequest(P::TooLong("state"))
        );
        // An app that requires PKCE gets no token response, which PKCE could not protect
        // (RFC 9700 §2.1.2); others get one without a challenge.
        for response_type in ["token", "token id_token"] {
            assert_eq!(
                err(&[("response_type", response_type), ("nonce", "n")], true),
                OAuthError::TokenResponseNeedsPkce,
                "{response_type}"
            );
        }
        let token = parse(&pairs(&[("response_type", "token")]), false).unwrap();
        assert_eq!(token.code_challenge, None);
        assert_eq!(token.prompt, Prompt::default());
        assert_eq!(token.response_mode, ResponseMode::Fragment);
    }

    #[test]
    fn response_modes_and_request_objects() {
        let mode = |list: &[(&str, &str)]| parse(&pairs(list), false).map(|r| r.response_mode);
        assert_eq!(mode(&[("response_type", "code")]), Ok(ResponseMode::Query));
        assert_eq!(
            mode(&[("response_type", "code"), ("response_mode", "query")]),
            Ok(ResponseMode::Query)
        );
        assert_eq!(
            mode(&[("response_type", "code"), ("response_mode", "fragment")]),
            Ok(ResponseMode::Fragment)
        );
        assert_eq!(
            mode(&[("response_type", "token"), ("response_mode", "fragment")]),
            Ok(ResponseMode::Fragment)
        );
        let unsupported = Err(OAuthError::InvalidRequest(
            RequestProblem::UnsupportedResponseMode,
        ));
        // Tokens never go in a query; form_post and unknown modes are not served.
        for (response_type, response_mode) in [
            ("token", "query"),
            ("code id_token", "query"),
            ("code", "form_post"),
            ("code", "jwt"),
        ] {
            assert_eq!(
                mode(&[
                    ("response_type", response_type),
                    ("nonce", "n"),
                    ("response_mode", response_mode)
                ]),
                unsupported,
                "{response_type} {response_mode}"
            );
        }
        assert_eq!(
            mode(&[
                ("response_type", "code"),
                ("response_mode", "query"),
                ("response_mode", "fragment")
            ]),
            Err(OAuthError::InvalidRequest(RequestProblem::Repeated(
                "response_mode"
            )))
        );
        assert_eq!(
            mode(&[("response_type", "code"), ("request", "eyJhbGciOi.x.y")]),
            Err(OAuthError::RequestNotSupported)
        );
        assert_eq!(
            mode(&[("response_type", "code"), ("request_uri", "urn:x")]),
            Err(OAuthError::RequestUriNotSupported)
        );
    }

    #[test]
    fn display_values_default_to_page() {
        for (raw, display) in [
            (Some("page"), Display::Page),
            (Some("popup"), Display::Popup),
            (Some("touch"), Display::Touch),
            (Some("mobile"), Display::Mobile),
            (Some("wap"), Display::Mobile),
            (Some("POPUP"), Display::Page),
            (Some("bogus"), Display::Page),
            (None, Display::Page),
        ] {
            assert_eq!(Display::parse(raw), display, "{raw:?}");
        }
        assert_eq!(Display::Mobile.as_str(), "mobile");
    }

    #[test]
    fn redirect_urls_keep_the_registered_query() {
        let p = [("code", "aPrx1=="), ("state", "a b&c")];
        assert_eq!(
            redirect_url("https://a.example/cb", ResponseMode::Query, &p),
            "https://a.example/cb?code=aPrx1%3D%3D&state=a+b%26c"
        );
        assert_eq!(
            redirect_url("https://a.example/cb?mode=x", ResponseMode::Query, &p),
            "https://a.example/cb?mode=x&code=aPrx1%3D%3D&state=a+b%26c"
        );
        assert_eq!(
            redirect_url("myapp://cb", ResponseMode::Fragment, &p),
            "myapp://cb#code=aPrx1%3D%3D&state=a+b%26c"
        );
        let e = OAuthError::AccessDenied;
        let params = error_params(&e, "end-user denied authorization", Some("s"), "https://i");
        assert_eq!(
            params,
            [
                ("error", "access_denied"),
                ("error_description", "end-user denied authorization"),
                ("state", "s"),
                ("iss", "https://i")
            ]
        );
    }
}
