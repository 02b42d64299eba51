//! SAML errors with their status codes (SAML Core §3.2.2.2) and where they may be reported.
//!
//! Every [`SamlError`] knows its top-level and second-level status code URIs, and whether it
//! may travel back to the service provider as a SAML `<Response>` or must be shown as an
//! error page. A Response is only ever sent to the ACS URL registered for the service
//! provider (never to a URL taken from an unauthenticated request), so errors that arise
//! before the service provider and its ACS URL are known are always error pages. Messages are
//! fixed texts: nothing a requester sent is echoed back.

/// `urn:oasis:names:tc:SAML:2.0:status:*` (SAML Core §3.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    Success,
    Requester,
    Responder,
    VersionMismatch,
    AuthnFailed,
    InvalidNameIdPolicy,
    NoPassive,
    NoAuthnContext,
    RequestDenied,
    RequestUnsupported,
    UnknownPrincipal,
    UnsupportedBinding,
}

impl StatusCode {
    /// The status code URI.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::Success => "urn:oasis:names:tc:SAML:2.0:status:Success",
            Self::Requester => "urn:oasis:names:tc:SAML:2.0:status:Requester",
            Self::Responder => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            Self::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
            Self::AuthnFailed => "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
            Self::InvalidNameIdPolicy => "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
            Self::NoPassive => "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
            Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
            Self::RequestDenied => "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            Self::RequestUnsupported => "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported",
            Self::UnknownPrincipal => "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal",
            Self::UnsupportedBinding => "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding",
        }
    }
}

/// A top-level status code with an optional second-level one (SAML Core §3.2.2.2: only
/// `Success`, `Requester`, `Responder` and `VersionMismatch` may be top-level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub top: StatusCode,
    pub second: Option<StatusCode>,
}

/// How an error reaches the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// A SAML `<Response>` with this status, POSTed to the registered ACS URL.
    SamlResponse(Status),
    /// An error page at the IdP: there is no registered place to send a Response to.
    ErrorPage,
}

/// Everything that can go wrong between an incoming SAML message and an outgoing Response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    /// The message (encoded or decoded) is larger than the bound for its binding.
    #[error("the SAML message is too large")]
    TooLarge,
    /// Base64, DEFLATE, UTF-8, XML or the message schema is wrong.
    #[error("the SAML message is malformed: {0}")]
    Malformed(&'static str),
    /// The XML carries a DOCTYPE (and so possibly entities); refused outright.
    #[error("the SAML message carries a DOCTYPE, which is refused")]
    DoctypeRefused,
    /// `Version` is not `2.0` (SAML Core §3.2.1).
    #[error("the SAML message version is not 2.0")]
    VersionMismatch,
    /// No service provider is registered under the request's `Issuer`.
    #[error("no service provider is registered for this issuer")]
    UnknownServiceProvider,
    /// The app exists but its SAML plugin (or the app itself) is switched off.
    #[error("SAML is not enabled for this app")]
    SamlDisabled,
    /// The request names an ACS URL other than the registered one (Profiles §4.1.4.1).
    #[error("the AssertionConsumerServiceURL is not the registered one")]
    AcsUrlMismatch,
    /// The request's `Destination` is not this endpoint (SAML Core §3.2.1).
    #[error("the Destination is not this endpoint")]
    DestinationMismatch,
    /// The request is older than allowed, or dated in the future.
    #[error("the request's IssueInstant is outside the accepted window")]
    StaleRequest,
    /// The service provider has a certificate but the request is not signed.
    #[error("the request is not signed, but the service provider requires signed requests")]
    MissingSignature,
    /// The signature does not verify, or does not cover the element that is used.
    #[error("the request signature is invalid: {0}")]
    BadSignature(&'static str),
    /// A signature or digest algorithm that is not accepted.
    #[error("the signature algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// A response binding other than HTTP-POST was requested (Profiles §4.1.2).
    #[error("the requested response binding is not supported")]
    UnsupportedBinding,
    /// The requested NameID format is not the one configured (SAML Core §3.4.1.1).
    #[error("the requested NameID format cannot be supplied")]
    InvalidNameIdPolicy,
    /// `IsPassive` was requested but the user must interact to log in (SAML Core §3.4.1).
    #[error("passive authentication is not possible")]
    NoPassive,
    /// The `RequestedAuthnContext` asks for more than a password login (SAML Core §3.3.2.2.1).
    #[error("the requested authentication context cannot be satisfied")]
    NoAuthnContext,
    /// The user could not be authenticated.
    #[error("authentication failed")]
    AuthnFailed,
    /// The user is authenticated but not permitted to use this app.
    #[error("the user is not permitted to use this app")]
    UserNotPermitted,
    /// The user has no value for the configured subject (for example no Federation ID).
    #[error("the user has no value for the configured subject type")]
    UnknownPrincipal,
    /// The service provider's configuration cannot be used (missing ACS URL, bad certificate).
    #[error("the service provider configuration is unusable: {0}")]
    Configuration(&'static str),
    /// A key could not be loaded or used, or signing failed.
    #[error("a key could not be used: {0}")]
    Key(&'static str),
}

impl SamlError {
    /// The status this error carries when it is sent as a SAML Response.
    pub const fn status(&self) -> Status {
        use StatusCode as S;
        let (top, second) = match self {
            Self::TooLarge | Self::Malformed(_) | Self::DoctypeRefused => (S::Requester, None),
            Self::VersionMismatch => (S::VersionMismatch, None),
            Self::UnknownServiceProvider | Self::AcsUrlMismatch | Self::DestinationMismatch => {
                (S::Requester, None)
            }
            Self::StaleRequest | Self::MissingSignature | Self::BadSignature(_) => {
                (S::Requester, Some(S::RequestDenied))
            }
            Self::UnsupportedAlgorithm => (S::Requester, Some(S::RequestUnsupported)),
            Self::UnsupportedBinding => (S::Requester, Some(S::UnsupportedBinding)),
            Self::InvalidNameIdPolicy => (S::Requester, Some(S::InvalidNameIdPolicy)),
            Self::NoPassive => (S::Responder, Some(S::NoPassive)),
            Self::NoAuthnContext => (S::Responder, Some(S::NoAuthnContext)),
            Self::AuthnFailed => (S::Responder, Some(S::AuthnFailed)),
            Self::SamlDisabled | Self::UserNotPermitted => (S::Responder, Some(S::RequestDenied)),
            Self::UnknownPrincipal => (S::Responder, Some(S::UnknownPrincipal)),
            Self::Configuration(_) | Self::Key(_) => (S::Responder, None),
        };
        Status { top, second }
    }

    /// Whether this kind of error may be reported to the service provider at all. Errors
    /// about the request's bytes, its issuer or its URLs happen before a registered ACS URL is
    /// trustworthy; configuration errors may mean there is no usable ACS URL.
    pub const fn is_reportable(&self) -> bool {
        !matches!(
            self,
            Self::TooLarge
                | Self::Malformed(_)
                | Self::DoctypeRefused
                | Self::UnknownServiceProvider
                | Self::AcsUrlMismatch
                | Self::DestinationMismatch
                | Self::Configuration(_)
        )
    }

    /// Where the error goes, given whether the service provider and its registered ACS URL are
    /// known. Never a redirect or POST to an unregistered URL (issue 7, "Errors").
    pub const fn disposition(&self, has_registered_acs: bool) -> Disposition {
        if has_registered_acs && self.is_reportable() {
            Disposition::SamlResponse(self.status())
        } else {
            Disposition::ErrorPage
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_dispositions() {
        use StatusCode as S;
        let cases: &[(SamlError, S, Option<S>, bool)] = &[
            (SamlError::Malformed("x"), S::Requester, None, false),
            (SamlError::DoctypeRefused, S::Requester, None, false),
            (SamlError::UnknownServiceProvider, S::Requester, None, false),
            (SamlError::AcsUrlMismatch, S::Requester, None, false),
            (SamlError::VersionMismatch, S::VersionMismatch, None, true),
            (
                SamlError::MissingSignature,
                S::Requester,
                Some(S::RequestDenied),
                true,
            ),
            (
                SamlError::BadSignature("x"),
                S::Requester,
                Some(S::RequestDenied),
                true,
            ),
            (
                SamlError::InvalidNameIdPolicy,
                S::Requester,
                Some(S::InvalidNameIdPolicy),
                true,
            ),
            (SamlError::NoPassive, S::Responder, Some(S::NoPassive), true),
            (
                SamlError::AuthnFailed,
                S::Responder,
                Some(S::AuthnFailed),
                true,
            ),
            (
                SamlError::UserNotPermitted,
                S::Responder,
                Some(S::RequestDenied),
                true,
            ),
            (
                SamlError::SamlDisabled,
                S::Responder,
                Some(S::RequestDenied),
                true,
            ),
            (
                SamlError::UnknownPrincipal,
                S::Responder,
                Some(S::UnknownPrincipal),
                true,
            ),
            (SamlError::Configuration("x"), S::Responder, None, false),
        ];
        for (err, top, second, reportable) in cases {
            assert_eq!(err.status().top, *top, "{err:?}");
            assert_eq!(err.status().second, *second, "{err:?}");
            assert_eq!(err.is_reportable(), *reportable, "{err:?}");
            assert_eq!(err.disposition(false), Disposition::ErrorPage, "{err:?}");
            let expected = if *reportable {
                Disposition::SamlResponse(err.status())
            } else {
                Disposition::ErrorPage
            };
            assert_eq!(err.disposition(true), expected, "{err:?}");
        }
        assert_eq!(
            StatusCode::InvalidNameIdPolicy.uri(),
            "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
        );
    }
}
