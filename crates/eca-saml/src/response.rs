//! The `<samlp:Response>` with its `<saml:Assertion>` (SAML Core §2, §3.3.3; the Web Browser
//! SSO profile, Profiles §4.1.4.2), signed as the service provider needs, for the HTTP-POST
//! binding (Bindings §3.5). Also Responses carrying an error status (SAML Core §3.2.2).
//!
//! What is written is already in exclusive canonical form (no whitespace between elements,
//! attributes sorted, empty elements expanded, namespaces declared where they are first
//! used), so what the service provider canonicalizes is byte for byte what was signed.

use eca_core::{Rng, Timestamp, UserId};
use eca_metadata::model::SamlSubjectType;

use crate::authn_request::CLOCK_SKEW_SECS;
use crate::datetime;
use crate::dsig::sign_enveloped;
use crate::encryption::{ContentCipher, EncryptionKey, encrypt_assertion};
use crate::error::{SamlError, Status, StatusCode};
use crate::keys::IdpKey;
use crate::service_provider::{EntityId, RequestId, ServiceProvider, name_id_format_uri};
use crate::xml::{NS_ASSERTION, NS_PROTOCOL, escape_attr, escape_text};

/// How long an assertion (and its bearer confirmation) may be used. Short, because it is a
/// bearer token carried by the browser (Profiles §4.1.4.2, §4.1.6).
pub const ASSERTION_LIFETIME_SECS: i64 = 5 * 60;
/// `urn:oasis:names:tc:SAML:2.0:cm:bearer` (Profiles §3.3).
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// The login page is a password over TLS (SAML Authn Context §3.4.7).
const PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";

/// The server key behind `PersistentId` subjects: opaque per user and service provider,
/// stable for as long as the key is kept.
pub struct PersistentIdKey(Vec<u8>);

impl std::fmt::Debug for PersistentIdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersistentIdKey(***)")
    }
}

impl PersistentIdKey {
    /// At least 32 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, SamlError> {
        if bytes.len() < 32 {
            return Err(SamlError::Key(
                "the persistent-id key must have 32 bytes or more",
            ));
        }
        Ok(Self(bytes.to_vec()))
    }

    /// SAML Core §8.3.7: a persistent identifier is opaque, specific to the pair of IdP
    /// and SP (so two SPs cannot correlate users), and stable. An HMAC-SHA-256 of the
    /// 18-character user id and the SP entity id.
    pub fn derive(&self, user: &UserId, sp: &EntityId) -> String {
        let mut msg = Vec::with_capacity(64 + sp.as_str().len());
        msg.extend_from_slice(b"openeca-saml-persistent-id\0");
        msg.extend_from_slice(user.as_str().as_bytes());
        msg.push(0);
        msg.extend_from_slice(sp.as_str().as_bytes());
        eca_core::crypto::hex(&eca_core::crypto::hmac_sha256(&self.0, &msg))
    }
}

/// The user values a subject can come from; the server reads them from the user record.
#[derive(Debug, Clone)]
pub struct SubjectSource<'a> {
    pub user_id: &'a UserId,
    pub username: &'a str,
    pub federation_id: Option<&'a str>,
    /// The value of the field named by `subjectCustomAttribute`, already looked up.
    pub custom_attribute: Option<&'a str>,
}

/// Which elements carry a signature. Strict SPs (python3-saml with `wantAssertionsSigned`)
/// need the Assertion's; others check the Response's. Signing both is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignParts {
    pub assertion: bool,
    pub response: bool,
}

impl Default for SignParts {
    fn default() -> Self {
        Self {
            assertion: true,
            response: true,
        }
    }
}

/// What goes into a successful Response.
#[derive(Debug, Clone)]
pub struct ResponseParams<'a> {
    pub sp: &'a ServiceProvider,
    /// The org's issuer (its base URL); the SP's `issuer` policy overrides it.
    pub idp_issuer: &'a EntityId,
    /// The AuthnRequest's ID; `None` for IdP-initiated SSO (Profiles §4.1.5).
    pub in_response_to: Option<&'a RequestId>,
    pub subject: SubjectSource<'a>,
    /// The IdP session, so single logout can name it (SAML Core §2.7.2).
    pub session_index: &'a str,
    pub authn_instant: Timestamp,
    /// Evaluated custom attributes, in order; repeated names become one multi-valued
    /// `Attribute`.
    pub attributes: &'a [(String, String)],
    pub sign: SignParts,
    /// When set, the (signed) Assertion travels as an `EncryptedAssertion` for this key
    /// (SAML Core §2.3.4); see [`crate::encryption`].
    pub encryption: Option<(&'a EncryptionKey, ContentCipher)>,
}

/// A Response ready for the HTTP-POST binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlResponse {
    pub id: String,
    pub assertion_id: Option<String>,
    /// The registered ACS URL: the only place this is POSTed to.
    pub acs_url: String,
    pub xml: String,
}

impl SamlResponse {
    /// The `SAMLResponse` form value (Bindings §3.5.4): base64 of the XML.
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.xml.as_bytes())
    }
}

/// A new message ID: `_` and 160 random bits in hex (SAML Core §1.3.4).
pub fn new_id(rng: &dyn Rng) -> String {
    format!("_{}", eca_core::crypto::hex(&eca_core::rng::bytes(rng, 20)))
}

/// The subject's `NameID` value for this SP (`subjectType`, `spec/metadata.md` §2.6).
pub fn name_id_value(
    sp: &ServiceProvider,
    subject: &SubjectSource<'_>,
    persistent: &PersistentIdKey,
) -> Result<String, SamlError> {
    let value = match sp.subject_type {
        SamlSubjectType::Username => Some(subject.username.to_owned()),
        SamlSubjectType::FederationId => subject.federation_id.map(str::to_owned),
        SamlSubjectType::UserId => Some(subject.user_id.as_15().to_owned()),
        SamlSubjectType::CustomAttribute => subject.custom_attribute.map(str::to_owned),
        SamlSubjectType::PersistentId => Some(persistent.derive(subject.user_id, &sp.entity_id)),
        // In the WSDL but undocumented: refused rather than guessed.
        SamlSubjectType::SpokeId => {
            return Err(SamlError::Configuration(
                "subjectType SpokeId is not supported",
            ));
        }
    };
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(SamlError::UnknownPrincipal)
}

/// Builds and signs a successful Response.
pub fn build_response(
    p: &ResponseParams<'_>,
    key: &IdpKey,
    persistent: &PersistentIdKey,
    now: Timestamp,
    rng: &dyn Rng,
) -> Result<SamlResponse, SamlError> {
    let issuer = p.sp.issuer.as_ref().unwrap_or(p.idp_issuer);
    let name_id = name_id_value(p.sp, &p.subject, persistent)?;
    let assertion_id = new_id(rng);
    let response_id = new_id(rng);
    let issue_instant = datetime::format(now);
    let not_on_or_after = datetime::format(now.plus_secs(ASSERTION_LIFETIME_SECS));
    let not_before = datetime::format(now.plus_secs(-CLOCK_SKEW_SECS));
    let in_response_to = p
        .in_response_to
        .map(|r| format!(" InResponseTo=\"{}\"", escape_attr(r.as_str())))
        .unwrap_or_default();

    let mut a = String::with_capacity(2048);
    a.push_str(&format!(
        "<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" ID=\"{assertion_id}\" IssueInstant=\"{issue_instant}\" Version=\"2.0\">"
    ));
    a.push_str(&format!(
        "<saml:Issuer>{}</saml:Issuer>",
        text(issuer.as_str())
    ));
    // SAML Core §2.4; Profiles §4.1.4.2: a bearer confirmation with Recipient, NotOnOrAfter
    // and (SP-initiated) InResponseTo.
    a.push_str(&format!(
        "<saml:Subject><saml:NameID Format=\"{}\">{}</saml:NameID>",
        name_id_format_uri(p.sp.name_id_format),
        text(&name_id)
    ));
    a.push_str(&format!(
        "<saml:SubjectConfirmation Method=\"{BEARER}\"><saml:SubjectConfirmationData{in_response_to} NotOnOrAfter=\"{not_on_or_after}\" Recipient=\"{}\"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>",
        attr(&p.sp.acs_url)
    ));
    // SAML Core §2.5: validity with clock skew, and the SP as the only audience.
    a.push_str(&format!(
        "<saml:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{not_on_or_after}\"><saml:AudienceRestriction><saml:Audience>{}</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
        text(p.sp.entity_id.as_str())
    ));
    // SAML Core §2.7.2.
    a.push_str(&format!(
        "<saml:AuthnStatement AuthnInstant=\"{}\" SessionIndex=\"{}\"><saml:AuthnContext><saml:AuthnContextClassRef>{PASSWORD_PROTECTED_TRANSPORT}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>",
        datetime::format(p.authn_instant),
        attr(p.session_index)
    ));
    a.push_str(&attribute_statement(p.attributes));
    a.push_str("</saml:Assertion>");
    if p.sign.assertion {
        a = sign_enveloped(&a, key)?;
    }
    // Sign, then encrypt: the SP decrypts and then checks the Assertion's own signature
    // (SAML Core §6.1).
    if let Some((enc_key, cipher)) = p.encryption {
        a = encrypt_assertion(&a, enc_key, cipher, rng)?;
    }

    let status = status_xml(Status {
        top: StatusCode::Success,
        second: None,
    });
    let mut r = response_open(
        &response_id,
        &p.sp.acs_url,
        in_response_to.as_str(),
        &issue_instant,
    );
    r.push_str(&response_issuer(issuer));
    r.push_str(&status);
    r.push_str(&a);
    r.push_str("</samlp:Response>");
    if p.sign.response {
        r = sign_enveloped(&r, key)?;
    }
    Ok(SamlResponse {
        id: response_id,
        assertion_id: Some(assertion_id),
        acs_url: p.sp.acs_url.clone(),
        xml: r,
    })
}

/// A signed Response with an error status and no assertion (SAML Core §3.2.2), for the
/// errors whose [`SamlError::disposition`] is a Response. Goes to the registered ACS URL.
pub fn build_error_response(
    sp: &ServiceProvider,
    idp_issuer: &EntityId,
    in_response_to: Option<&RequestId>,
    status: Status,
    key: &IdpKey,
    now: Timestamp,
    rng: &dyn Rng,
) -> Result<SamlResponse, SamlError> {
    let issuer = sp.issuer.as_ref().unwrap_or(idp_issuer);
    let id = new_id(rng);
    let irt = in_response_to
        .map(|r| format!(" InResponseTo=\"{}\"", escape_attr(r.as_str())))
        .unwrap_or_default();
    let mut r = response_open(&id, &sp.acs_url, &irt, &datetime::format(now));
    r.push_str(&response_issuer(issuer));
    r.push_str(&status_xml(status));
    r.push_str("</samlp:Response>");
    Ok(SamlResponse {
        id,
        assertion_id: None,
        acs_url: sp.acs_url.clone(),
        xml: sign_enveloped(&r, key)?,
    })
}

fn response_open(id: &str, acs_url: &str, in_response_to: &str, issue_instant: &str) -> String {
    // Attributes in canonical order: unqualified, by local name.
    format!(
        "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" Destination=\"{}\" ID=\"{id}\"{in_response_to} IssueInstant=\"{issue_instant}\" Version=\"2.0\">",
        attr(acs_url)
    )
}

/// The Response's `Issuer` declares the `saml` namespace itself, where exclusive
/// canonicalization puts it, so the Response as written is its own canonical form.
fn response_issuer(issuer: &EntityId) -> String {
    format!(
        "<saml:Issuer xmlns:saml=\"{NS_ASSERTION}\">{}</saml:Issuer>",
        text(issuer.as_str())
    )
}

pub(crate) fn status_xml(status: Status) -> String {
    let inner = status
        .second
        .map(|s| {
            format!(
                "<samlp:StatusCode Value=\"{}\"></samlp:StatusCode>",
                s.uri()
            )
        })
        .unwrap_or_default();
    format!(
        "<samlp:Status><samlp:StatusCode Value=\"{}\">{inner}</samlp:StatusCode></samlp:Status>",
        status.top.uri()
    )
}

/// SAML Core §2.7.3: one `Attribute` per name, its values in order. Omitted when empty (the
/// schema requires at least one attribute).
fn attribute_statement(attributes: &[(String, String)]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (n, _) in attributes {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    if names.is_empty() {
        return String::new();
    }
    let mut out = String::from("<saml:AttributeStatement>");
    for name in names {
        out.push_str(&format!(
            "<saml:Attribute Name=\"{}\" NameFormat=\"{ATTRNAME_UNSPECIFIED}\">",
            attr(name)
        ));
        for (_, v) in attributes.iter().filter(|(n, _)| n == name) {
            out.push_str(&format!(
                "<saml:AttributeValue>{}</saml:AttributeValue>",
                text(v)
            ));
        }
        out.push_str("</saml:Attribute>");
    }
    out.push_str("</saml:AttributeStatement>");
    out
}

/// Characters XML 1.0 cannot carry (§2.2) become U+FFFD instead of breaking the document.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}') {
                c
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

fn text(s: &str) -> String {
    escape_text(&xml_chars(s))
}

fn attr(s: &str) -> String {
    escape_attr(&xml_chars(s))
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
