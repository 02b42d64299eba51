//! Incoming `<samlp:AuthnRequest>` messages (SAML Core §3.4.1) over the HTTP-Redirect and
//! HTTP-POST bindings (see [`crate::binding`]), checked against the service provider's
//! registration (Profiles §4.1.4.1).
//!
//! The flow is: decode the message ([`IncomingRequest`]), read its `Issuer` without trusting
//! it to find the service provider, then [`IncomingRequest::verify_authn_request`] checks the signature as that
//! service provider requires and parse the request from exactly the verified element, then
//! [`AuthnRequest::validate`] it against the registration and the clock.

use eca_core::Timestamp;
use roxmltree::Node;

use crate::binding::read_issuer;
pub use crate::binding::{BINDING_POST, BINDING_REDIRECT, Binding, IncomingRequest};
use crate::datetime;
use crate::error::SamlError;
use crate::service_provider::{EntityId, RequestId, ServiceProvider, name_id_format_uri};
use crate::xml::{self, NS_ASSERTION, NS_PROTOCOL};

/// How old a request may be, beyond the clock skew.
pub const MAX_REQUEST_AGE_SECS: i64 = 5 * 60;
/// The clock difference tolerated between IdP and SP, in both directions.
pub const CLOCK_SKEW_SECS: i64 = 3 * 60;

/// What the server does about the user's login before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAction {
    /// The existing IdP session is good enough.
    UseSession,
    /// The user must (re-)enter credentials on the login page.
    ShowLogin,
}

impl IncomingRequest {
    /// Checks the signature as `sp` requires and reads the AuthnRequest from exactly the
    /// verified element.
    pub fn verify_authn_request(&self, sp: &ServiceProvider) -> Result<AuthnRequest, SamlError> {
        let binding = self.binding();
        self.verified(sp, |root, is_signed| {
            AuthnRequest::from_element(root, binding, is_signed)
        })
    }
}

/// An AuthnRequest, read from a verified (or, without an SP certificate, accepted) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: RequestId,
    pub issue_instant: Timestamp,
    pub issuer: Option<EntityId>,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    /// `NameIDPolicy/@Format`.
    pub name_id_format: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    /// `Subject/NameID`: the principal the SP asks to be confirmed (Profiles §4.1.4.1).
    pub subject_name_id: Option<String>,
    /// `RequestedAuthnContext`: its `Comparison` (default `exact`) and class references.
    pub requested_authn_context: Option<(String, Vec<String>)>,
    pub binding: Binding,
    /// Whether a signature was verified with the SP's certificate.
    pub is_signed: bool,
}

impl AuthnRequest {
    fn from_element(
        root: Node<'_, '_>,
        binding: Binding,
        is_signed: bool,
    ) -> Result<Self, SamlError> {
        if !root.has_tag_name((NS_PROTOCOL, "AuthnRequest")) {
            return Err(SamlError::Malformed("not a samlp:AuthnRequest"));
        }
        if root.attribute("Version") != Some("2.0") {
            return Err(SamlError::VersionMismatch);
        }
        let id = RequestId::parse(root.attribute("ID").ok_or(SamlError::Malformed("no ID"))?)?;
        let issue_instant = datetime::parse(
            root.attribute("IssueInstant")
                .ok_or(SamlError::Malformed("no IssueInstant"))?,
        )?;
        let name_id_policy = xml::single_child(
            root,
            NS_PROTOCOL,
            "NameIDPolicy",
            "NameIDPolicy is repeated",
        )?;
        // Profiles §4.1.4.1: a Subject names the principal, and carries no
        // SubjectConfirmation.
        let subject = xml::single_child(root, NS_ASSERTION, "Subject", "Subject is repeated")?;
        if subject.is_some_and(|s| {
            s.children()
                .any(|c| c.has_tag_name((NS_ASSERTION, "SubjectConfirmation")))
        }) {
            return Err(SamlError::Malformed(
                "the AuthnRequest Subject carries a SubjectConfirmation",
            ));
        }
        let subject_name_id = subject
            .and_then(|s| {
                s.children()
                    .find(|c| c.has_tag_name((NS_ASSERTION, "NameID")))
            })
            // All its text: a comment splits it in two, and c14n drops comments, so reading the
            // first part only would let `a@b<!---->.evil` pass a signature made for the whole.
            .map(xml::text_of);
        if subject_name_id
            .as_ref()
            .is_some_and(|n| n.len() > xml::MAX_NAME_LEN)
        {
            return Err(SamlError::Malformed(
                "the Subject NameID is longer than 2048 bytes",
            ));
        }
        let requested_authn_context = xml::single_child(
            root,
            NS_PROTOCOL,
            "RequestedAuthnContext",
            "RequestedAuthnContext is repeated",
        )?
        .map(|r| {
            let classes = r
                .children()
                .filter(|c| c.has_tag_name((NS_ASSERTION, "AuthnContextClassRef")))
                .map(xml::text_of)
                .collect();
            (
                r.attribute("Comparison").unwrap_or("exact").to_owned(),
                classes,
            )
        });
        let acs_index = root
            .attribute("AssertionConsumerServiceIndex")
            .map(|v| {
                v.parse::<u16>()
                    .map_err(|_| SamlError::Malformed("bad AssertionConsumerServiceIndex"))
            })
            .transpose()?;
        Ok(Self {
            id,
            issue_instant,
            issuer: read_issuer(root)?,
            destination: root.attribute("Destination").map(str::to_owned),
            acs_url: root
                .attribute("AssertionConsumerServiceURL")
                .map(str::to_owned),
            acs_index,
            protocol_binding: root.attribute("ProtocolBinding").map(str::to_owned),
            name_id_format: name_id_policy
                .and_then(|n| n.attribute("Format"))
                .map(str::to_owned),
            force_authn: boolean(root.attribute("ForceAuthn"))?,
            is_passive: boolean(root.attribute("IsPassive"))?,
            subject_name_id,
            requested_authn_context,
            binding,
            is_signed,
        })
    }

    /// What the login step must do (SAML Core §3.4.1): `ForceAuthn` means a fresh login even
    /// with a session; `IsPassive` means no interaction, so without a session (or with
    /// `ForceAuthn` as well) the answer is `NoPassive`.
    pub fn login_action(&self, has_session: bool) -> Result<LoginAction, SamlError> {
        match (self.is_passive, self.force_authn, has_session) {
            (true, true, _) | (true, false, false) => Err(SamlError::NoPassive),
            (false, true, _) | (false, false, false) => Ok(LoginAction::ShowLogin),
            (_, false, true) => Ok(LoginAction::UseSession),
        }
    }

    /// Checks the request against the service provider's registration, the endpoint it came
    /// to (`endpoint_url`, absolute) and the clock.
    pub fn validate(
        &self,
        sp: &ServiceProvider,
        endpoint_url: &str,
        now: Timestamp,
    ) -> Result<(), SamlError> {
        // Profiles §4.1.4.1: the Issuer is required and names the SP.
        if self.issuer.as_ref() != Some(&sp.entity_id) {
            return Err(SamlError::UnknownServiceProvider);
        }
        // Responses only ever go to the registered ACS URL; a request naming another one is
        // refused rather than silently redirected (issue 7, "never a redirect to an
        // unregistered URL"). With a single registered endpoint any index means that one.
        if self.acs_url.as_ref().is_some_and(|u| *u != sp.acs_url) {
            return Err(SamlError::AcsUrlMismatch);
        }
        // Bindings §3.4.5.2, §3.5.5.2: a signed message must carry the Destination, and any
        // Destination must be the endpoint that received it.
        match &self.destination {
            Some(d) if d != endpoint_url => return Err(SamlError::DestinationMismatch),
            None if self.is_signed => return Err(SamlError::DestinationMismatch),
            _ => {}
        }
        if self
            .protocol_binding
            .as_deref()
            .is_some_and(|b| b != BINDING_POST)
        {
            return Err(SamlError::UnsupportedBinding);
        }
        let t = self.issue_instant.millis();
        let oldest = now
            .plus_secs(-(MAX_REQUEST_AGE_SECS + CLOCK_SKEW_SECS))
            .millis();
        let newest = now.plus_secs(CLOCK_SKEW_SECS).millis();
        if t < oldest || t > newest {
            return Err(SamlError::StaleRequest);
        }
        if !self.password_login_satisfies() {
            return Err(SamlError::NoAuthnContext);
        }
        // SAML Core §3.4.1.1: a requested format other than unspecified must be honoured or
        // refused with InvalidNameIDPolicy.
        if let Some(f) = &self.name_id_format {
            let unspecified = name_id_format_uri(eca_metadata::model::NameIdFormat::Unspecified);
            if f != unspecified && f != name_id_format_uri(sp.name_id_format) {
                return Err(SamlError::InvalidNameIdPolicy);
            }
        }
        Ok(())
    }
}

impl AuthnRequest {
    /// Whether the login this IdP does (a password, over the assertion's
    /// `PasswordProtectedTransport`) meets the `RequestedAuthnContext` (SAML Core §3.3.2.2.1):
    /// `exact` must list that class (or `unspecified`); `minimum` one it is at least as
    /// strong as (`unspecified`, `Password`, itself); `better` one it is stronger than
    /// (`unspecified`, `Password`); `maximum` one at least as strong as itself, that is, not
    /// only weaker ones. No request, or no classes, asks for nothing.
    pub fn password_login_satisfies(&self) -> bool {
        const OURS: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
        const WEAKER: [&str; 2] = [
            "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
        ];
        let Some((comparison, classes)) = &self.requested_authn_context else {
            return true;
        };
        if classes.is_empty() {
            return true;
        }
        let weaker = |c: &String| WEAKER.contains(&c.as_str());
        match comparison.as_str() {
            "minimum" => classes.iter().any(|c| c == OURS || weaker(c)),
            "better" => classes.iter().any(weaker),
            "maximum" => classes.iter().any(|c| !weaker(c)),
            _ => classes.iter().any(|c| c == OURS || c == WEAKER[0]),
        }
    }
}

/// `xs:boolean` (XML Schema Part 2 §3.2.2), absent meaning false.
fn boolean(v: Option<&str>) -> Result<bool, SamlError> {
    match v {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(SamlError::Malformed(
            "a boolean attribute is not xs:boolean",
        )),
    }
}

#[cfg(test)]
#[path = "authn_request_tests.rs"]
mod tests;
