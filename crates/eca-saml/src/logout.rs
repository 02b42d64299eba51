//! SP-initiated single logout (SAML Profiles §4.4): an incoming `<samlp:LogoutRequest>`
//! (SAML Core §3.7.1) by either binding, checked like an AuthnRequest, and the signed
//! `<samlp:LogoutResponse>` (SAML Core §3.7.2) sent to the SP's registered single logout URL
//! by its registered binding. Ending the IdP session itself is the server's job.

use eca_core::{Rng, Timestamp};
use eca_metadata::model::SamlBinding;
use roxmltree::Node;

use crate::authn_request::CLOCK_SKEW_SECS;
use crate::binding::{Binding, IncomingRequest, read_issuer, redirect_query};
use crate::datetime;
use crate::dsig::sign_enveloped;
use crate::error::{SamlError, Status, StatusCode};
use crate::keys::IdpKey;
use crate::response::{new_id, status_xml};
use crate::service_provider::{EntityId, RequestId, ServiceProvider};
use crate::xml::{self, NS_ASSERTION, NS_PROTOCOL, escape_attr, escape_text};

/// The most `SessionIndex` elements one LogoutRequest may name (service providers send one).
const MAX_SESSION_INDEXES: usize = 8;

/// How old a LogoutRequest may be, beyond the clock skew.
pub const MAX_LOGOUT_AGE_SECS: i64 = 5 * 60;

/// A LogoutRequest read from a verified (or, without an SP certificate, accepted) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: RequestId,
    pub issue_instant: Timestamp,
    pub issuer: Option<EntityId>,
    pub destination: Option<String>,
    pub not_on_or_after: Option<Timestamp>,
    /// The `NameID` value the SP knows the user by.
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// The sessions to end (our `SessionIndex` values); none means all of the user's.
    pub session_indexes: Vec<String>,
    pub binding: Binding,
    pub is_signed: bool,
}

impl IncomingRequest {
    /// Checks the signature as `sp` requires and reads the LogoutRequest from exactly the
    /// verified element. Profiles §4.4.4.1 requires LogoutRequests to be authenticated; with
    /// a registered certificate that is enforced, as for AuthnRequests.
    pub fn verify_logout_request(&self, sp: &ServiceProvider) -> Result<LogoutRequest, SamlError> {
        let binding = self.binding();
        self.verified(sp, |root, is_signed| {
            LogoutRequest::from_element(root, binding, is_signed)
        })
    }
}

impl LogoutRequest {
    fn from_element(
        root: Node<'_, '_>,
        binding: Binding,
        is_signed: bool,
    ) -> Result<Self, SamlError> {
        if !root.has_tag_name((NS_PROTOCOL, "LogoutRequest")) {
            return Err(SamlError::Malformed("not a samlp:LogoutRequest"));
        }
        if root.attribute("Version") != Some("2.0") {
            return Err(SamlError::VersionMismatch);
        }
        let id = RequestId::parse(root.attribute("ID").ok_or(SamlError::Malformed("no ID"))?)?;
        let issue_instant = datetime::parse(
            root.attribute("IssueInstant")
                .ok_or(SamlError::Malformed("no IssueInstant"))?,
        )?;
        let not_on_or_after = root
            .attribute("NotOnOrAfter")
            .map(datetime::parse)
            .transpose()?;
        // SAML Core §3.7.1: exactly one of BaseID, NameID, EncryptedID.
        if xml::children(root, NS_ASSERTION, "EncryptedID")
            .next()
            .is_some()
        {
            return Err(SamlError::Malformed("an encrypted NameID is not supported"));
        }
        let name_id = xml::single_child(root, NS_ASSERTION, "NameID", "NameID is repeated")?
            .ok_or(SamlError::Malformed("no NameID"))?;
        let session_indexes: Vec<String> = xml::children(root, NS_PROTOCOL, "SessionIndex")
            .map(xml::text_of)
            .collect();
        if xml::text_of(name_id).len() > xml::MAX_NAME_LEN {
            return Err(SamlError::Malformed("the NameID is longer than 2048 bytes"));
        }
        if session_indexes
            .iter()
            .any(|s| s.len() > xml::MAX_SESSION_INDEX_LEN)
        {
            return Err(SamlError::Malformed(
                "a SessionIndex is longer than 256 bytes",
            ));
        }
        if session_indexes.len() > MAX_SESSION_INDEXES {
            return Err(SamlError::Malformed("more than 8 SessionIndex elements"));
        }
        Ok(Self {
            id,
            issue_instant,
            issuer: read_issuer(root)?,
            destination: root.attribute("Destination").map(str::to_owned),
            not_on_or_after,
            name_id: xml::text_of(name_id),
            name_id_format: name_id.attribute("Format").map(str::to_owned),
            session_indexes,
            binding,
            is_signed,
        })
    }

    /// Checks the request against the SP's registration, the endpoint it came to and the
    /// clock.
    pub fn validate(
        &self,
        sp: &ServiceProvider,
        endpoint_url: &str,
        now: Timestamp,
    ) -> Result<(), SamlError> {
        if self.issuer.as_ref() != Some(&sp.entity_id) {
            return Err(SamlError::UnknownServiceProvider);
        }
        // Bindings §3.4.5.2, §3.5.5.2, as for AuthnRequests.
        match &self.destination {
            Some(d) if d != endpoint_url => return Err(SamlError::DestinationMismatch),
            None if self.is_signed => return Err(SamlError::DestinationMismatch),
            _ => {}
        }
        let t = self.issue_instant.millis();
        let oldest = now
            .plus_secs(-(MAX_LOGOUT_AGE_SECS + CLOCK_SKEW_SECS))
            .millis();
        let newest = now.plus_secs(CLOCK_SKEW_SECS).millis();
        // SAML Core §3.7.1: NotOnOrAfter is when the request expires.
        let expired = self
            .not_on_or_after
            .is_some_and(|n| n.millis() <= now.plus_secs(-CLOCK_SKEW_SECS).millis());
        if t < oldest || t > newest || expired {
            return Err(SamlError::StaleRequest);
        }
        Ok(())
    }
}

/// How the LogoutResponse travels to the SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutDelivery {
    /// HTTP-Redirect (Bindings §3.4): a 302 to this URL, the signature in the query.
    Redirect { url: String },
    /// HTTP-POST (Bindings §3.5): an auto-submitting form with these fields, the signature
    /// enveloped in the XML.
    Post {
        url: String,
        saml_response: String,
        relay_state: Option<String>,
    },
}

/// Builds the signed LogoutResponse for `request` (SAML Core §3.7.2), for the SP's registered
/// single logout URL and binding (the request's binding when none is registered).
#[allow(clippy::too_many_arguments)]
pub fn build_logout_response(
    sp: &ServiceProvider,
    idp_issuer: &EntityId,
    request: &LogoutRequest,
    status: Status,
    relay_state: Option<&str>,
    key: &IdpKey,
    now: Timestamp,
    rng: &dyn Rng,
) -> Result<LogoutDelivery, SamlError> {
    let url = sp
        .single_logout_url
        .as_deref()
        .ok_or(SamlError::Configuration("no singleLogoutUrl"))?;
    let issuer = sp.issuer.as_ref().unwrap_or(idp_issuer);
    let xml = format!(
        concat!(
            "<samlp:LogoutResponse xmlns:samlp=\"{p}\" Destination=\"{dest}\" ID=\"{id}\" ",
            "InResponseTo=\"{irt}\" IssueInstant=\"{now}\" Version=\"2.0\">",
            "<saml:Issuer xmlns:saml=\"{a}\">{issuer}</saml:Issuer>",
            "{status}",
            "</samlp:LogoutResponse>"
        ),
        p = NS_PROTOCOL,
        a = NS_ASSERTION,
        dest = escape_attr(url),
        id = new_id(rng),
        irt = escape_attr(request.id.as_str()),
        now = datetime::format(now),
        issuer = escape_text(issuer.as_str()),
        status = status_xml(status),
    );
    let redirect = match sp.single_logout_binding {
        Some(SamlBinding::RedirectBinding) => true,
        Some(SamlBinding::PostBinding) => false,
        None => request.binding == Binding::Redirect,
    };
    if redirect {
        let query = redirect_query("SAMLResponse", &xml, relay_state, key)?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(LogoutDelivery::Redirect {
            url: format!("{url}{sep}{query}"),
        })
    } else {
        use base64::Engine as _;
        let signed = sign_enveloped(&xml, key)?;
        Ok(LogoutDelivery::Post {
            url: url.to_owned(),
            saml_response: base64::engine::general_purpose::STANDARD.encode(signed),
            relay_state: relay_state.map(str::to_owned),
        })
    }
}

/// The success status of a LogoutResponse.
pub const SUCCESS: Status = Status {
    top: StatusCode::Success,
    second: None,
};

#[cfg(test)]
#[path = "logout_tests.rs"]
mod tests;
