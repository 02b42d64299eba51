//! The SAML 2.0 identity provider engine of OpenECA: AuthnRequests in (SAML Bindings §3.4
//! HTTP-Redirect and §3.5 HTTP-POST, with their signatures checked against the service
//! provider's certificate), signed Responses out (SAML Profiles §4.1.4), and the IdP's
//! metadata.
//!
//! Nothing here knows HTTP, SQL, the wall clock or a random source of its own: functions
//! take decoded parameters, a `now` ([`eca_core::Timestamp`]) and an [`eca_core::Rng`], and
//! return values or a [`SamlError`] carrying its SAML status codes. The server renders.
//!
//! | module | what |
//! |---|---|
//! | [`error`] | [`SamlError`], status code URIs, Response-or-error-page |
//! | [`xml`] | bounded parsing without DTDs; escaping |
//! | [`c14n`] | exclusive XML canonicalization |
//! | [`keys`] | the IdP signing key, service provider certificates |
//! | [`dsig`] | enveloped signatures: sign, and verify without wrapping |
//! | [`service_provider`] | [`ServiceProvider`] from the SAML policies; id newtypes |
//! | [`binding`] | HTTP-Redirect and HTTP-POST decoding, signature policy; Redirect encoding |
//! | [`authn_request`] | AuthnRequests, checked against the registration |
//! | [`datetime`] | `xs:dateTime` in UTC |
//! | [`response`] | signed Responses and Assertions; error Responses |
//! | [`metadata`] | the IdP's metadata document |
//! | [`encryption`] | `EncryptedAssertion`: AES-GCM/CBC with RSA-OAEP key transport |
//! | [`logout`] | SP-initiated single logout: LogoutRequest in, signed LogoutResponse out |
//!
//! A request goes: [`binding::IncomingRequest`] (decode, bounded) →
//! [`binding::IncomingRequest::issuer_unverified`] (find the app) →
//! [`ServiceProvider::from_policies`] → [`binding::IncomingRequest::verify_authn_request`]
//! (signature as the SP requires, then read from the verified element) →
//! [`authn_request::AuthnRequest::validate`] → [`ServiceProvider::permits`] and
//! [`authn_request::AuthnRequest::login_action`] (the server logs the user in) →
//! [`response::build_response`] → POST to [`response::SamlResponse::acs_url`]. Errors go
//! through [`SamlError::disposition`].
//!
//! # DECISIONS
//!
//! 1. **No XML-DSig dependency.** Exclusive canonicalization and enveloped signatures are
//!    implemented here (`c14n`, `dsig`) over roxmltree and aws-lc-rs, the crypto backend the
//!    workspace already builds. Verification accepts only what SAML Core §5.4 allows (one
//!    `Reference` to the parent's `ID`, enveloped-signature + exc-c14n transforms), so the
//!    general XML-DSig machinery of bergshamra or xmlsec is not needed. Tested against
//!    documents signed by `xmlsec1`, and our output is verified by `xmlsec1` in the tests.
//! 2. **Signature wrapping** is closed by construction: the `ds:Signature` must be a direct
//!    child of the signed element, that element's `ID` must be unique in the document, the
//!    only `Reference` must point at it, and the message is then read from that node.
//!    `KeyInfo` is never used to find a key.
//! 3. **DOCTYPE refused** outright (with entities), messages bounded: 96 KiB encoded, 64 KiB
//!    of XML after inflating, 4096 nodes, depth 32.
//! 4. **Request signatures**: with an SP `certificate`, unsigned or badly signed requests are
//!    refused (`spec/metadata.md` §2.6); without one, every request is accepted and a
//!    signature present is ignored. RSA-SHA256 always; RSA-SHA1 only when the SP's
//!    `signingAlgorithmType` is `SHA1`. Redirect signatures are checked over the parameters
//!    as encoded in the query string (Bindings §3.4.4.1); the server must pass the raw query.
//! 5. **Our signatures are RSA-SHA256 with SHA-256 digests even when `signingAlgorithmType`
//!    is `SHA1`**: aws-lc-rs cannot make RSA-SHA1 signatures, and every current SP library
//!    accepts RSA-SHA256. `SHA1` therefore only widens what we accept.
//! 6. **ACS URL**: Responses go only to the registered `acsUrl`. A request naming another
//!    ACS URL is an error page, not a Response (issue 7: never a redirect to an unregistered
//!    URL). `AssertionConsumerServiceIndex` is accepted and means the registered one.
//!    `ProtocolBinding` other than HTTP-POST is `UnsupportedBinding`.
//! 7. **Time**: requests may be 5 minutes old plus 3 minutes of clock skew, and 3 minutes in
//!    the future; assertions are valid from 3 minutes before to 5 minutes after issue.
//!    Times are written in whole seconds with `Z`.
//! 8. **NameID**: the value comes from `subjectType`; `nameIdFormat` only labels it (as
//!    Salesforce does), so a `Transient` format carries the configured value. A requested
//!    `NameIDPolicy` format other than unspecified or the configured one is
//!    `InvalidNameIDPolicy`. `PersistentId` is HMAC-SHA-256(server key, user id ‖ SP entity
//!    id) in hex: stable, opaque, different per SP. `SpokeId` is refused as undocumented.
//!    Missing values (no Federation ID) are `UnknownPrincipal`.
//! 9. **Signing both** the Assertion and the Response is the default (strict python3-saml
//!    wants the Assertion's; others check the Response's). Output is written already in
//!    canonical form and carries no `xsi:type` on attribute values (QNames in content are
//!    what makes exclusive canonicalization fragile).
//! 10. **Encryption**: sign, then encrypt (SAML Core §6.1); RSA-OAEP-MGF1P key transport; the
//!     metadata only gives the key size, so the server picks GCM (default) or CBC.
//! 11. **Logout**: the LogoutResponse goes to the registered `singleLogoutUrl` by the
//!     registered binding, else by the binding the request came with; Redirect responses
//!     are signed in the query, POST responses with an enveloped signature.
//! 12. **Who may use the app**: with neither `commaSeparatedProfile` nor
//!     `commaSeparatedPermissionSet`, everyone; else the user's profile or one of their
//!     permission sets must be listed (ids compared in 18-character form, names exactly).
//!     Refusal is `RequestDenied` sent to the registered ACS URL.
//! 13. **ForceAuthn / IsPassive** ([`authn_request::AuthnRequest::login_action`]): both
//!     together, or IsPassive without a session, answer `NoPassive`.

pub mod authn_request;
pub mod binding;
pub mod c14n;
pub mod datetime;
pub mod dsig;
pub mod encryption;
pub mod error;
pub mod keys;
pub mod logout;
pub mod metadata;
#[cfg(test)]
mod oracle;
pub mod response;
#[cfg(test)]
mod robustness_tests;
pub mod service_provider;
pub mod xml;

pub use error::{Disposition, SamlError, Status, StatusCode};
pub use service_provider::{EntityId, RequestId, ServiceProvider};
