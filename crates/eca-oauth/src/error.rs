//! OAuth protocol errors with their wire codes and Salesforce's descriptions
//! (`spec/oauth-and-connect.md` §1.10; RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009 §2.2.1).
//!
//! Every variant knows its `error` code, its `error_description` and its HTTP status, so the
//! server maps an [`OAuthError`] to a response in exactly one place. Descriptions are fixed
//! texts or name a parameter from a closed list: nothing a client sent is ever echoed back,
//! and no secret can reach a response or a log line through an error.

use std::borrow::Cow;

use serde::Serialize;

use crate::client_auth::ClientAuthMethod;
use crate::request::GrantType;

/// A protocol error, as the token, authorize, revoke and introspect endpoints report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", self.code(), self.log_detail())]
pub enum OAuthError {
    /// `invalid_client_id`: the consumer key is unknown (Salesforce's own code; RFC 6749
    /// would say `invalid_client`).
    InvalidClientId,
    /// `invalid_client`: the consumer secret is wrong or missing.
    InvalidClient,
    /// `invalid_grant`: wrong username or password (password grant).
    AuthenticationFailure,
    /// `invalid_grant`: the refresh token (or the access token it stands for) is expired,
    /// revoked or unknown.
    ExpiredToken,
    /// `invalid_grant`: the user has neither approved the app nor been pre-authorized.
    NotApproved,
    /// `invalid_grant`: the JWT bearer assertion's `aud` names none of the accepted audiences.
    AudienceValidationFailed,
    /// `invalid_grant`: client credentials without a (usable) run-as user.
    NoClientCredentialsUser,
    /// `invalid_grant`: none of the requested or configured scopes may be granted to this
    /// flow (Salesforce Winter '26, client credentials).
    NoValidScopes,
    /// `invalid_grant`: the authorization code is unknown, used, or issued to another client
    /// or redirect URI.
    InvalidAuthorizationCode,
    /// `invalid_grant`: the authorization code was valid once but has expired.
    ExpiredAuthorizationCode,
    /// `invalid_grant`: the PKCE verifier does not hash to the challenge (RFC 7636 §4.6).
    CodeVerifierMismatch,
    /// `invalid_grant`: a challenge was sent at authorize but no verifier came to the token
    /// endpoint (spec §1.9A; the PKCE downgrade of RFC 9700 §4.8.2).
    MissingCodeVerifier,
    /// `invalid_grant`: the JWT bearer assertion is malformed, badly signed or out of date.
    /// The problem is logged, never shown: the wire text is always `invalid assertion`.
    InvalidAssertion(AssertionProblem),
    /// `invalid_grant`: the user is deactivated or frozen.
    InactiveUser,
    /// `invalid_grant`: the org is locked, closed or suspended.
    InactiveOrg,
    /// `invalid_grant`: the request comes from outside the allowed IP ranges or login hours.
    IpRestricted,
    /// `unauthorized_client`: the app does not have this flow switched on.
    FlowNotEnabled(GrantType),
    /// `unsupported_grant_type`: unknown or missing `grant_type`.
    UnsupportedGrantType,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `unauthorized_client` (RFC 6749 §4.2.2.1): a token response for an app that requires
    /// PKCE. The user-agent flow has no code for PKCE to protect, so it would get around the
    /// requirement (RFC 9700 §2.1.2).
    TokenResponseNeedsPkce,
    /// `request_not_supported` (OIDC Core §6.1, §3.1.2.6): a `request` object.
    RequestNotSupported,
    /// `request_uri_not_supported` (OIDC Core §6.2, §3.1.2.6): a `request_uri`.
    RequestUriNotSupported,
    /// `redirect_uri_mismatch`: the redirect URI is not registered, or differs from the one
    /// used at authorize.
    RedirectUriMismatch,
    /// `invalid_request`, with what exactly is wrong.
    InvalidRequest(RequestProblem),
    /// `invalid_scope`: none of the requested scopes may be granted.
    InvalidScope,
    /// `access_denied`: the user (or an admin policy) refused.
    AccessDenied,
    /// `OAUTH_APP_ACCESS_DENIED`: an admin-approved app the user is not pre-authorized for
    /// (the code and text Salesforce shows for this; not in the spec, from Salesforce's help
    /// pages on connected-app errors).
    NotAdminApproved,
    /// `login_required` (OIDC Core §3.1.2.6): `prompt=none` and nobody is logged in.
    LoginRequired,
    /// `consent_required` (OIDC Core §3.1.2.6): `prompt=none` and the app needs consent.
    ConsentRequired,
    /// `immediate_unsuccessful`: Salesforce's `immediate=true` (its web-server flow's
    /// parameters) and the user must log in or approve first.
    ImmediateUnsuccessful,
    /// `authorization_pending` (RFC 8628 §3.5): keep polling.
    AuthorizationPending,
    /// `slow_down` (RFC 8628 §3.5): keep polling, five seconds slower.
    SlowDown,
    /// `expired_token` (RFC 8628 §3.5): the device code has expired.
    ExpiredDeviceCode,
    /// `unsupported_token_type` (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// `invalid_token`: revoke of an unknown token.
    InvalidToken,
    /// `rate_limit_exceeded`.
    RateLimitExceeded,
    /// `OAUTH_AUTHORIZATION_BLOCKED`: a user of another org used a Local app.
    AuthorizationBlocked,
    /// `OAUTH_EC_APP_NOT_FOUND`: a Packaged app used in an org it is not installed in.
    AppNotInstalled,
    /// `OAUTH_APP_BLOCKED`: the app, or its OAuth plugin, is switched off by policy.
    AppBlocked,
}

/// What is wrong with a request that earns `invalid_request`. Parameter names come from the
/// closed list the engine knows, never from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestProblem {
    /// A required parameter is absent or empty (RFC 6749 §3.1: empty means absent).
    Missing(&'static str),
    /// A parameter appears more than once (RFC 6749 §3.2).
    Repeated(&'static str),
    /// The body's `client_id` differs from the one in the `Authorization` header.
    ConflictingClientId,
    /// The body's `client_secret` differs from the one in the `Authorization` header.
    ConflictingClientSecret,
    /// The `Authorization: Basic` value does not decode (RFC 7617, RFC 6749 §2.3.1).
    MalformedAuthorizationHeader,
    /// `code_challenge` is not 43 base64url characters (RFC 7636 §4.2).
    InvalidCodeChallenge,
    /// `code_challenge_method` other than `S256` (`plain` included).
    UnsupportedChallengeMethod,
    /// `code_challenge_method` without a `code_challenge`.
    ChallengeMethodWithoutChallenge,
    /// The app requires PKCE and no `code_challenge` came.
    MissingCodeChallenge,
    /// `code_verifier` has characters or a length RFC 7636 §4.1 (as widened here) refuses.
    InvalidCodeVerifier,
    /// A `code_verifier` came although no challenge was sent at authorize (RFC 9700 §4.8.2).
    UnexpectedCodeVerifier,
    /// The redirect URI is not an absolute URI, or holds spaces or control characters.
    InvalidRedirectUri,
    /// The redirect URI has a fragment (RFC 6749 §3.1.2).
    RedirectUriFragment,
    /// `device_code` and `code` both came, with different values.
    ConflictingDeviceCode,
    /// `prompt=none` together with another prompt value (OIDC Core §3.1.2.1).
    PromptNoneWithOthers,
    /// A parameter is longer than the server accepts.
    TooLong(&'static str),
    /// `max_age` is not a whole number of seconds (OIDC Core §3.1.2.1).
    InvalidMaxAge,
    /// `id_token_hint` is not an ID token this org signed (OIDC Core §3.1.2.1).
    InvalidIdTokenHint,
    /// The request body is larger than the endpoint reads (`limit` bytes).
    BodyTooLarge { limit: usize },
    /// The request body could not be read (a broken chunked encoding, a client gone).
    UnreadableBody,
    /// A JSONP `callback` that is not a JavaScript name (revoke, `spec/oauth-and-connect.md`
    /// §1.5).
    InvalidCallback,
    /// A `response_mode` other than `query` and `fragment`, or `query` for a response that
    /// carries a token (OAuth 2.0 Multiple Response Type Encoding Practices §2.1).
    UnsupportedResponseMode,
    /// An authorization request too long to come back to after the login page (its
    /// `startURL` holds at most `limit` characters).
    TooLongForLogin { limit: usize },
}

impl RequestProblem {
    /// The `error_description`.
    pub fn description(self) -> Cow<'static, str> {
        match self {
            RequestProblem::Missing(p) => Cow::Owned(format!("missing required parameter: {p}")),
            RequestProblem::Repeated(p) => Cow::Owned(format!("parameter repeated: {p}")),
            RequestProblem::ConflictingClientId => {
                "client_id in the body does not match the Authorization header".into()
            }
            RequestProblem::ConflictingClientSecret => {
                "client_secret in the body does not match the Authorization header".into()
            }
            RequestProblem::MalformedAuthorizationHeader => {
                "malformed Basic Authorization header".into()
            }
            RequestProblem::InvalidCodeChallenge => "invalid code challenge".into(),
            RequestProblem::UnsupportedChallengeMethod => {
                "code_challenge_method not supported; use S256".into()
            }
            RequestProblem::ChallengeMethodWithoutChallenge => {
                "code_challenge_method without code_challenge".into()
            }
            RequestProblem::MissingCodeChallenge => "missing required code challenge".into(),
            RequestProblem::InvalidCodeVerifier => "invalid code verifier".into(),
            RequestProblem::UnexpectedCodeVerifier => {
                "code_verifier sent but no code_challenge was given".into()
            }
            RequestProblem::InvalidRedirectUri => "invalid redirect_uri".into(),
            RequestProblem::RedirectUriFragment => {
                "redirect_uri must not contain a fragment".into()
            }
            RequestProblem::ConflictingDeviceCode => "device_code and code must not differ".into(),
            RequestProblem::TooLongForLogin { limit } => format!(
                "the request is too long to continue after login ({limit} characters at most)"
            )
            .into(),
            RequestProblem::UnsupportedResponseMode => {
                "response_mode must be query (for code) or fragment".into()
            }
            RequestProblem::InvalidCallback => {
                "callback must be a JavaScript name such as handleRevoke or app.onRevoke".into()
            }
            RequestProblem::PromptNoneWithOthers => {
                "prompt=none must not be combined with other values".into()
            }
            RequestProblem::TooLong(p) => Cow::Owned(format!("parameter too long: {p}")),
            RequestProblem::InvalidMaxAge => {
                "max_age must be a whole number of seconds, 0 or more".into()
            }
            RequestProblem::InvalidIdTokenHint => {
                "id_token_hint is not a valid ID token of this org".into()
            }
            RequestProblem::BodyTooLarge { limit } => {
                Cow::Owned(format!("request body larger than {limit} bytes"))
            }
            RequestProblem::UnreadableBody => "the request body could not be read".into(),
        }
    }
}

/// Why a JWT bearer assertion was refused. For logs only: the client always reads
/// `invalid assertion`, so a probing client learns nothing about which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionProblem {
    /// Not three base64url parts, bad JSON, or not a JSON object.
    Malformed,
    /// `alg` is not exactly `RS256`, or a `crit` header asks for an extension.
    UnsupportedAlgorithm,
    /// The RSA signature does not verify against the app's certificate.
    BadSignature,
    /// `iss` missing or not a string.
    MissingIssuer,
    /// `sub` missing, empty or not a string.
    MissingSubject,
    /// `aud` missing or neither a string nor an array of strings.
    MissingAudience,
    /// `exp` missing or not a number (or numeric string).
    MissingExpiry,
    /// `exp` has passed (beyond the allowed skew).
    Expired,
    /// `nbf` is in the future (beyond the allowed skew).
    NotYetValid,
    /// `iat` is in the future (beyond the allowed skew), or not a number.
    IssuedInFuture,
}

impl AssertionProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionProblem::Malformed => "malformed JWT",
            AssertionProblem::UnsupportedAlgorithm => "alg is not RS256 or crit is present",
            AssertionProblem::BadSignature => "signature does not verify",
            AssertionProblem::MissingIssuer => "iss missing",
            AssertionProblem::MissingSubject => "sub missing",
            AssertionProblem::MissingAudience => "aud missing",
            AssertionProblem::MissingExpiry => "exp missing or not numeric",
            AssertionProblem::Expired => "expired",
            AssertionProblem::NotYetValid => "nbf in the future",
            AssertionProblem::IssuedInFuture => "iat in the future or not numeric",
        }
    }
}

impl OAuthError {
    /// The `error` value on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidClientId => "invalid_client_id",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::AuthenticationFailure
            | OAuthError::ExpiredToken
            | OAuthError::NotApproved
            | OAuthError::AudienceValidationFailed
            | OAuthError::NoClientCredentialsUser
            | OAuthError::NoValidScopes
            | OAuthError::InvalidAuthorizationCode
            | OAuthError::ExpiredAuthorizationCode
            | OAuthError::CodeVerifierMismatch
            | OAuthError::MissingCodeVerifier
            | OAuthError::InvalidAssertion(_)
            | OAuthError::InactiveUser
            | OAuthError::InactiveOrg
            | OAuthError::IpRestricted => "invalid_grant",
            OAuthError::FlowNotEnabled(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::TokenResponseNeedsPkce => "unauthorized_client",
            OAuthError::RequestNotSupported => "request_not_supported",
            OAuthError::RequestUriNotSupported => "request_uri_not_supported",
            OAuthError::RedirectUriMismatch => "redirect_uri_mismatch",
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::NotAdminApproved => "OAUTH_APP_ACCESS_DENIED",
            OAuthError::LoginRequired => "login_required",
            OAuthError::ConsentRequired => "consent_required",
            OAuthError::ImmediateUnsuccessful => "immediate_unsuccessful",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::ExpiredDeviceCode => "expired_token",
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
            OAuthError::InvalidToken => "invalid_token",
            OAuthError::RateLimitExceeded => "rate_limit_exceeded",
            OAuthError::AuthorizationBlocked => "OAUTH_AUTHORIZATION_BLOCKED",
            OAuthError::AppNotInstalled => "OAUTH_EC_APP_NOT_FOUND",
            OAuthError::AppBlocked => "OAUTH_APP_BLOCKED",
        }
    }

    /// The `error_description` on the wire: Salesforce's text where it is known
    /// (spec §1.10), otherwise a short text in the same lower-case style.
    pub fn description(&self) -> Cow<'static, str> {
        let text: &'static str = match self {
            OAuthError::InvalidClientId => "client identifier invalid",
            OAuthError::InvalidClient => "invalid client credentials",
            OAuthError::AuthenticationFailure => "authentication failure",
            OAuthError::ExpiredToken => "expired access/refresh token",
            OAuthError::NotApproved => "user hasn't approved this consumer",
            OAuthError::AudienceValidationFailed => "Audience validation failed",
            OAuthError::NoClientCredentialsUser => "no client credentials user enabled",
            OAuthError::NoValidScopes => "no valid scopes defined",
            OAuthError::InvalidAuthorizationCode => "invalid authorization code",
            OAuthError::ExpiredAuthorizationCode => "expired authorization code",
            OAuthError::CodeVerifierMismatch => "invalid code verifier",
            OAuthError::MissingCodeVerifier => "missing code verifier",
            OAuthError::InvalidAssertion(_) => "invalid assertion",
            OAuthError::InactiveUser => "inactive user",
            OAuthError::InactiveOrg => "inactive organization",
            OAuthError::IpRestricted => "ip restricted or invalid login hours",
            OAuthError::FlowNotEnabled(grant) => {
                return Cow::Owned(format!(
                    "{} flow is not enabled for this app",
                    grant.flow_name()
                ));
            }
            OAuthError::UnsupportedGrantType => "grant type not supported",
            OAuthError::UnsupportedResponseType => "response type is not supported",
            OAuthError::TokenResponseNeedsPkce => {
                "this app requires PKCE: use response_type=code with a code_challenge"
            }
            OAuthError::RequestNotSupported => "request objects are not supported",
            OAuthError::RequestUriNotSupported => "request_uri is not supported",
            OAuthError::RedirectUriMismatch => "redirect_uri must match configuration",
            OAuthError::InvalidRequest(problem) => return problem.description(),
            OAuthError::InvalidScope => "the requested scope is not allowed",
            OAuthError::AccessDenied => "end-user denied authorization",
            OAuthError::NotAdminApproved => "user is not admin approved to access this app",
            OAuthError::LoginRequired => "the user is not logged in",
            OAuthError::ConsentRequired => "the user has not approved this app",
            OAuthError::ImmediateUnsuccessful => "the user must log in or approve this app first",
            OAuthError::AuthorizationPending => "authorization pending",
            OAuthError::SlowDown => "polling too frequently; slow down",
            OAuthError::ExpiredDeviceCode => "expired device code",
            OAuthError::UnsupportedTokenType => "Token type not supported",
            OAuthError::InvalidToken => "Token was invalid",
            OAuthError::RateLimitExceeded => "rate limit exceeded",
            OAuthError::AuthorizationBlocked => {
                "Cross-org OAuth flows are not supported for this external client app"
            }
            OAuthError::AppNotInstalled => "External client app is not installed in this org",
            OAuthError::AppBlocked => "this app is blocked by admin",
        };
        Cow::Borrowed(text)
    }

    /// The HTTP status of a token, revoke or introspect response carrying this error.
    ///
    /// 400 for everything (Salesforce answers 400 for grant and client errors, and
    /// @salesforce/core keeps polling the device flow only on exactly 400 +
    /// `authorization_pending`), except `rate_limit_exceeded`, which is 429 (RFC 6585 §4),
    /// and a body too large to read, 413: Salesforce's statuses for these are not known, and
    /// clients built for Salesforce treat any non-2xx the same way. For `invalid_client` after HTTP Basic authentication see
    /// [`OAuthError::http_status_for`].
    pub fn http_status(&self) -> u16 {
        match self {
            OAuthError::RateLimitExceeded => 429,
            // RFC 9110 §15.5.14.
            OAuthError::InvalidRequest(RequestProblem::BodyTooLarge { .. }) => 413,
            _ => 400,
        }
    }

    /// Like [`OAuthError::http_status`], knowing how the client authenticated: RFC 6749
    /// §5.2 requires 401 (with `WWW-Authenticate: Basic`) for `invalid_client` when the
    /// client used the `Authorization` header. With body credentials Salesforce's 400 stays.
    pub fn http_status_for(&self, method: Option<ClientAuthMethod>) -> u16 {
        match (self, method) {
            (OAuthError::InvalidClient, Some(ClientAuthMethod::ClientSecretBasic)) => 401,
            _ => self.http_status(),
        }
    }

    /// The response body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code().to_owned(),
            error_description: self.description().into_owned(),
        }
    }

    /// What a log line may say: the description, plus the assertion problem that the wire
    /// text hides.
    fn log_detail(&self) -> Cow<'static, str> {
        match self {
            OAuthError::InvalidAssertion(problem) => {
                Cow::Owned(format!("invalid assertion ({})", problem.as_str()))
            }
            other => other.description(),
        }
    }
}

/// `{"error": ..., "error_description": ...}`, the OAuth error body everywhere (spec §0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(err: OAuthError, code: &str, description: &str, status: u16) {
        assert_eq!(err.code(), code, "{err:?}");
        assert_eq!(err.description(), description, "{err:?}");
        assert_eq!(err.http_status(), status, "{err:?}");
        let body = serde_json::to_string(&err.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": code, "error_description": description}).to_string()
        );
    }

    #[test]
    fn salesforce_codes_and_descriptions() {
        use OAuthError as E;
        let table: &[(OAuthError, &str, &str, u16)] = &[
            (
                E::InvalidClientId,
                "invalid_client_id",
                "client identifier invalid",
                400,
            ),
            (
                E::InvalidClient,
                "invalid_client",
                "invalid client credentials",
                400,
            ),
            (
                E::AuthenticationFailure,
                "invalid_grant",
                "authentication failure",
                400,
            ),
            (
                E::ExpiredToken,
                "invalid_grant",
                "expired access/refresh token",
                400,
            ),
            (
                E::NotApproved,
                "invalid_grant",
                "user hasn't approved this consumer",
                400,
            ),
            (
                E::AudienceValidationFailed,
                "invalid_grant",
                "Audience validation failed",
                400,
            ),
            (
                E::NoClientCredentialsUser,
                "invalid_grant",
                "no client credentials user enabled",
                400,
            ),
            (
                E::NoValidScopes,
                "invalid_grant",
                "no valid scopes defined",
                400,
            ),
            (
                E::InvalidAuthorizationCode,
                "invalid_grant",
                "invalid authorization code",
                400,
            ),
            (
                E::ExpiredAuthorizationCode,
                "invalid_grant",
                "expired authorization code",
                400,
            ),
            (
                E::CodeVerifierMismatch,
                "invalid_grant",
                "invalid code verifier",
                400,
            ),
            (
                E::MissingCodeVerifier,
                "invalid_grant",
                "missing code verifier",
                400,
            ),
            (
                E::InvalidAssertion(AssertionProblem::BadSignature),
                "invalid_grant",
                "invalid assertion",
                400,
            ),
            (E::InactiveUser, "invalid_grant", "inactive user", 400),
            (
                E::InactiveOrg,
                "invalid_grant",
                "inactive organization",
                400,
            ),
            (
                E::IpRestricted,
                "invalid_grant",
                "ip restricted or invalid login hours",
                400,
            ),
            (
                E::FlowNotEnabled(GrantType::ClientCredentials),
                "unauthorized_client",
                "client credentials flow is not enabled for this app",
                400,
            ),
            (
                E::UnsupportedGrantType,
                "unsupported_grant_type",
                "grant type not supported",
                400,
            ),
            (
                E::UnsupportedResponseType,
                "unsupported_response_type",
                "response type is not supported",
                400,
            ),
            (
                E::RedirectUriMismatch,
                "redirect_uri_mismatch",
                "redirect_uri must match configuration",
                400,
            ),
            (
                E::InvalidRequest(RequestProblem::Missing("code")),
                "invalid_request",
                "missing required parameter: code",
                400,
            ),
            (
                E::InvalidRequest(RequestProblem::Repeated("scope")),
                "invalid_request",
                "parameter repeated: scope",
                400,
            ),
            (
                E::InvalidScope,
                "invalid_scope",
                "the requested scope is not allowed",
                400,
            ),
            (
                E::AccessDenied,
                "access_denied",
                "end-user denied authorization",
                400,
            ),
            (
                E::NotAdminApproved,
                "OAUTH_APP_ACCESS_DENIED",
                "user is not admin approved to access this app",
                400,
            ),
            (
                E::LoginRequired,
                "login_required",
                "the user is not logged in",
                400,
            ),
            (
                E::ImmediateUnsuccessful,
                "immediate_unsuccessful",
                "the user must log in or approve this app first",
                400,
            ),
            (
                E::ConsentRequired,
                "consent_required",
                "the user has not approved this app",
                400,
            ),
            (
                E::AuthorizationPending,
                "authorization_pending",
                "authorization pending",
                400,
            ),
            (
                E::SlowDown,
                "slow_down",
                "polling too frequently; slow down",
                400,
            ),
            (
                E::ExpiredDeviceCode,
                "expired_token",
                "expired device code",
                400,
            ),
            (
                E::UnsupportedTokenType,
                "unsupported_token_type",
                "Token type not supported",
                400,
            ),
            (E::InvalidToken, "invalid_token", "Token was invalid", 400),
            (
                E::RateLimitExceeded,
                "rate_limit_exceeded",
                "rate limit exceeded",
                429,
            ),
            (
                E::AuthorizationBlocked,
                "OAUTH_AUTHORIZATION_BLOCKED",
                "Cross-org OAuth flows are not supported for this external client app",
                400,
            ),
            (
                E::AppNotInstalled,
                "OAUTH_EC_APP_NOT_FOUND",
                "External client app is not installed in this org",
                400,
            ),
            (
                E::AppBlocked,
                "OAUTH_APP_BLOCKED",
                "this app is blocked by admin",
                400,
            ),
            (
                E::TokenResponseNeedsPkce,
                "unauthorized_client",
                "this app requires PKCE: use response_type=code with a code_challenge",
                400,
            ),
            (
                E::RequestNotSupported,
                "request_not_supported",
                "request objects are not supported",
                400,
            ),
            (
                E::RequestUriNotSupported,
                "request_uri_not_supported",
                "request_uri is not supported",
                400,
            ),
        ];
        for (err, code, description, status) in table {
            check(err.clone(), code, description, *status);
        }
    }

    #[test]
    fn every_request_problem_has_a_description() {
        use RequestProblem as P;
        let table: &[(RequestProblem, &str)] = &[
            (
                P::Missing("grant_type"),
                "missing required parameter: grant_type",
            ),
            (P::Repeated("code"), "parameter repeated: code"),
            (
                P::ConflictingClientId,
                "client_id in the body does not match the Authorization header",
            ),
            (
                P::ConflictingClientSecret,
                "client_secret in the body does not match the Authorization header",
            ),
            (
                P::MalformedAuthorizationHeader,
                "malformed Basic Authorization header",
            ),
            (P::InvalidCodeChallenge, "invalid code challenge"),
            (
                P::UnsupportedChallengeMethod,
                "code_challenge_method not supported; use S256",
            ),
            (
                P::ChallengeMethodWithoutChallenge,
                "code_challenge_method without code_challenge",
            ),
            (P::MissingCodeChallenge, "missing required code challenge"),
            (P::InvalidCodeVerifier, "invalid code verifier"),
            (
                P::UnexpectedCodeVerifier,
                "code_verifier sent but no code_challenge was given",
            ),
            (P::InvalidRedirectUri, "invalid redirect_uri"),
            (
                P::RedirectUriFragment,
                "redirect_uri must not contain a fragment",
            ),
            (
                P::ConflictingDeviceCode,
                "device_code and code must not differ",
            ),
            (
                P::PromptNoneWithOthers,
                "prompt=none must not be combined with other values",
            ),
            (P::TooLong("state"), "parameter too long: state"),
            (
                P::BodyTooLarge { limit: 65_536 },
                "request body larger than 65536 bytes",
            ),
            (P::UnreadableBody, "the request body could not be read"),
            (
                P::UnsupportedResponseMode,
                "response_mode must be query (for code) or fragment",
            ),
            (
                P::TooLongForLogin { limit: 8192 },
                "the request is too long to continue after login (8192 characters at most)",
            ),
        ];
        for (problem, text) in table {
            assert_eq!(problem.description(), *text);
            assert_eq!(
                OAuthError::InvalidRequest(*problem).code(),
                "invalid_request"
            );
        }
    }

    #[test]
    fn basic_authentication_failures_are_401() {
        let e = OAuthError::InvalidClient;
        assert_eq!(
            e.http_status_for(Some(ClientAuthMethod::ClientSecretBasic)),
            401
        );
        assert_eq!(
            e.http_status_for(Some(ClientAuthMethod::ClientSecretPost)),
            400
        );
        assert_eq!(e.http_status_for(None), 400);
        assert_eq!(
            OAuthError::InvalidClientId.http_status_for(Some(ClientAuthMethod::ClientSecretBasic)),
            400
        );
    }

    #[test]
    fn assertion_problems_show_in_logs_but_not_on_the_wire() {
        let e = OAuthError::InvalidAssertion(AssertionProblem::Expired);
        assert_eq!(e.to_string(), "invalid_grant: invalid assertion (expired)");
        assert_eq!(e.body().error_description, "invalid assertion");
        assert_eq!(
            OAuthError::RedirectUriMismatch.to_string(),
            "redirect_uri_mismatch: redirect_uri must match configuration"
        );
    }
}
