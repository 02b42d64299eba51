//! The OAuth 2.0 / OpenID Connect engine of OpenECA: the protocol building blocks the grants
//! are made of, compatible on the wire with Salesforce (`spec/oauth-and-connect.md` §0, §1,
//! §4) and faithful to the RFCs where Salesforce is silent.
//!
//! Nothing here knows HTTP, SQL, the wall clock or a random source of its own: functions
//! take parsed parameters, a `now` ([`eca_core::Timestamp`]) and an [`eca_core::Rng`], and
//! return values or an [`OAuthError`] that carries its wire code, description and HTTP
//! status. The server renders; the store persists.
//!
//! | module | what |
//! |---|---|
//! | [`authorize`] | authorization requests, response types, redirect responses |
//! | [`device`] | device authorization responses, poll outcomes (RFC 8628) |
//! | [`id_token`] | ID token claims, `at_hash`/`c_hash`, audiences, validity |
//! | [`error`] | [`OAuthError`] with Salesforce's codes and texts, [`ErrorBody`] |
//! | [`request`] | token-endpoint parameters → closed [`TokenRequest`] |
//! | [`response`] | [`TokenResponse`] and errors as JSON, urlencoded or XML |
//! | [`client_auth`] | Basic / body client credentials; keyed-digest secret check |
//! | [`pkce`] | RFC 7636 S256, Salesforce's defaults |
//! | [`redirect`] | exact redirect URI matching |
//! | [`scope`] | requested ∩ the app's scopes |
//! | [`tokens`] | Salesforce-shaped tokens, codes, keys; what is stored (hashes) |
//! | [`signature`] | the token response's HMAC `signature` |
//! | [`jose`] | compact JWS RS256 over aws-lc-rs, JWKs, certificate keys |
//! | [`jwt_bearer`] | RFC 7523 assertion checks with the CLI's quirks |
//! | [`refresh_policy`] | `refreshTokenPolicyType` lifetimes |
//!
//! # DECISIONS
//!
//! Where the specification is uncertain or silent, these are the choices made, each
//! explained at its place in the code:
//!
//! 1. **HTTP status.** 400 for every OAuth error, as Salesforce does (and @salesforce/core
//!    keeps polling the device flow only on 400 + `authorization_pending`), except
//!    `rate_limit_exceeded` → 429 and `invalid_client` after HTTP Basic authentication → 401
//!    (RFC 6749 §5.2 requires it; the server adds `WWW-Authenticate: Basic`).
//! 2. **Missing `grant_type`** → `unsupported_grant_type` / `grant type not supported`, what
//!    Salesforce answers to an unreadable body, not RFC 6749's `invalid_request`. Other
//!    missing or repeated parameters → `invalid_request` naming the parameter.
//! 3. **Flow switched off** (client credentials, device...) → `unauthorized_client`
//!    (RFC 6749 §5.2); Salesforce's code for this is not known.
//! 4. **PKCE**: no `code_challenge_method` means S256; `plain` is refused; verifiers may be
//!    43–256 characters (jsforce sends 171). A malformed verifier is `invalid_request`, a
//!    missing one (after a challenge) `invalid_grant`, as spec §1.9A says; but a
//!    well-formed verifier that does not match is `invalid_grant` / `invalid code verifier`,
//!    which is RFC 7636 §4.6 and what real Salesforce returns (a StackExchange report), where
//!    spec §1.9A (from an old Japanese doc page) says `invalid_request`. A verifier for a
//!    code issued without a challenge is `invalid_request` (RFC 9700 §4.8.2).
//! 5. **Scopes**: no `scope` grants all the app's scopes; requested scopes the app lacks and
//!    unknown strings are dropped (Salesforce drops unsupported scopes); `invalid_scope`
//!    only when nothing is left. Client credentials also drop `refresh_token`,
//!    `offline_access` and `full`, and fail with `no valid scopes defined` (Winter '26).
//!    `refresh_token` and `offline_access` are synonyms. Wire order: documentation order,
//!    then custom scopes alphabetically.
//! 6. **Redirect URIs**: exact string equality, required at authorize and repeated exactly
//!    at the token endpoint; fragments, `javascript:`/`data:`/`vbscript:` and non-absolute
//!    URIs refused; no loopback port relaxation.
//! 7. **Tokens** are stored as SHA-256 hashes. The consumer secret cannot be, because the
//!    response `signature` is keyed with it: it is stored encrypted and checked through an
//!    HMAC digest under a server key. Public clients' responses are signed with the app's
//!    secret all the same.
//! 8. **JWT bearer**: `exp` above 10^11 is milliseconds, so the CLI's `Date.now() + 300`
//!    means 300 ms, and the 5-minute skew (also applied to `nbf` and `iat`) is what makes
//!    its assertions usable; Salesforce evidently reads it as seconds (valid for ever).
//!    Audiences match exactly up to trailing slashes. `iss` ≠ consumer key →
//!    `invalid_client_id`. Other failures → `invalid assertion`, the detail only in logs.
//!    No `jti` replay cache. The certificate's validity dates are not checked.
//! 9. **Refresh policy**: `Zero` issues no refresh token at all; months are 30 days; no
//!    `refreshTokenPolicyType` means `Infinite`; a lifetime policy without a period fails
//!    closed.
//! 10. **Response formats**: `format` beats `Accept`, unknown values fall back to JSON; the
//!     XML shape `<OAuth><field>…</field></OAuth>` is ours (not observed from Salesforce).
//! 11. **Error texts** not confirmed from Salesforce (`inactive user`, `inactive
//!     organization`, `ip restricted or invalid login hours`, device-flow texts,
//!     `OAUTH_APP_BLOCKED`'s) are short lower-case texts in Salesforce's style.
//!     `OAUTH_AUTHORIZATION_BLOCKED` uses the text reported by ECA users: "Cross-org OAuth
//!     flows are not supported for this external client app".
//! 12. **RSA keys**: 2048–8192 bits only; `alg` must be exactly `RS256`; keys named inside a
//!     token are ignored. `SigningKey::generate` draws from aws-lc's generator, not from an
//!     `Rng` (RSA key generation cannot be fed), and is for key creation, not requests.
//! 13. **Authorization requests** ([`authorize`]): response types are word sets (`code`,
//!     `token`, `token id_token`, `code id_token`); `prompt=select_account` is read as
//!     `login`; `nonce` is required with `id_token`; errors carry `iss` (RFC 9207). Missing
//!     `redirect_uri` is accepted only when the app has exactly one callback URL.
//! 14. **ID tokens** ([`id_token`]): `sub` is the identity URL (as Salesforce's), `aud` is the
//!     client id plus `idTokenAudience` values (split on commas and white space), validity
//!     outside 1–720 minutes falls back to the default 2. `OAUTH_APP_ACCESS_DENIED`,
//!     `login_required` and `consent_required` are the authorize errors of admin approval
//!     and `prompt=none`.
//! 15. **Device flow** ([`device`]): codes live 10 minutes, the interval is 5 seconds, a
//!     poll within the interval is `slow_down`; Salesforce's form answers four keys, the RFC
//!     8628 endpoint adds `expires_in` and `verification_uri_complete`; a spent code is
//!     `invalid_grant`.

pub mod authorize;
pub mod client_auth;
pub mod device;
pub mod error;
pub mod id_token;
pub mod jose;
pub mod jwt_bearer;
pub mod pkce;
pub mod redirect;
pub mod refresh_policy;
pub mod request;
pub mod response;
pub mod scope;
pub mod signature;
pub mod tokens;

pub use client_auth::{ClientAuthMethod, ClientCredentials, SecretDigest, SecretDigester};
pub use error::{AssertionProblem, ErrorBody, OAuthError, RequestProblem};
pub use jose::{Jwk, JwkSet, SigningKey, VerifyingKey};
pub use jwt_bearer::{Audiences, BearerAssertion};
pub use pkce::CodeChallenge;
pub use redirect::{RedirectUri, RegisteredRedirects};
pub use refresh_policy::RefreshPolicy;
pub use request::{DeviceCodeForm, GrantType, ParsedTokenRequest, TokenRequest};
pub use response::{ResponseFormat, TokenResponse};
pub use scope::GrantedScopes;
pub use tokens::{IssuedToken, TokenHash, UserCode};
