//! The IdP's SAML metadata (SAML Metadata §2.3.2 `EntityDescriptor`, §2.4.3
//! `IDPSSODescriptor`), served at `/.well-known/samlidp.xml`: the signing certificates
//! (the current one and, for a while after a rotation, the previous one), both SSO bindings,
//! single logout and the NameID formats.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eca_metadata::model::NameIdFormat;

use crate::authn_request::{BINDING_POST, BINDING_REDIRECT};
use crate::service_provider::{EntityId, name_id_format_uri};
use crate::xml::{NS_DSIG, NS_METADATA, NS_PROTOCOL, escape_attr, escape_text};

/// Endpoint paths under the org's base URL, as Salesforce names them (issue 7).
pub const SSO_REDIRECT_PATH: &str = "/idp/endpoint/HttpRedirect";
pub const SSO_POST_PATH: &str = "/idp/endpoint/HttpPost";
pub const SLO_PATH: &str = "/services/auth/idp/saml2/logout";

/// What the metadata document says.
#[derive(Debug, Clone)]
pub struct IdpMetadata<'a> {
    /// The IdP entity id (the org's issuer).
    pub entity_id: &'a EntityId,
    /// The org's base URL, e.g. `https://acme.my.example.com`.
    pub base_url: &'a str,
    /// DER certificates: the current signing certificate first, then the previous ones that
    /// are still within their overlap window.
    pub signing_certificates: &'a [&'a [u8]],
    /// Whether every service provider must sign requests (SAML Metadata §2.4.3); per-app
    /// metadata says true when the app has a request-signing certificate.
    pub want_authn_requests_signed: bool,
}

impl IdpMetadata<'_> {
    /// The `EntityDescriptor` XML, with an XML declaration.
    pub fn to_xml(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" xmlns:ds=\"{NS_DSIG}\" entityID=\"{}\">",
            escape_attr(self.entity_id.as_str())
        ));
        out.push_str(&format!(
            "<md:IDPSSODescriptor WantAuthnRequestsSigned=\"{}\" protocolSupportEnumeration=\"{NS_PROTOCOL}\">",
            self.want_authn_requests_signed
        ));
        // SAML Metadata §2.4.1.1: several signing KeyDescriptors mean any of them may be in use.
        for der in self.signing_certificates {
            out.push_str(&format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                STANDARD.encode(der)
            ));
        }
        // The schema order: SingleLogoutService, NameIDFormat, then SingleSignOnService.
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            out.push_str(&format!(
                "<md:SingleLogoutService Binding=\"{binding}\" Location=\"{}\"/>",
                escape_attr(&format!("{base}{SLO_PATH}"))
            ));
        }
        for f in NameIdFormat::ALL {
            out.push_str(&format!(
                "<md:NameIDFormat>{}</md:NameIDFormat>",
                escape_text(name_id_format_uri(*f))
            ));
        }
        for (binding, path) in [
            (BINDING_REDIRECT, SSO_REDIRECT_PATH),
            (BINDING_POST, SSO_POST_PATH),
        ] {
            out.push_str(&format!(
                "<md:SingleSignOnService Binding=\"{binding}\" Location=\"{}\"/>",
                escape_attr(&format!("{base}{path}"))
            ));
        }
        out.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::{idp, other};
    use crate::xml::children;

    #[test]
    fn describes_the_idp() {
        let (current, previous) = (idp(), other());
        let entity = EntityId::new("https://acme.example");
        let xml = IdpMetadata {
            entity_id: &entity,
            base_url: "https://acme.example/",
            signing_certificates: &[current.certificate_der(), previous.certificate_der()],
            want_authn_requests_signed: false,
        }
        .to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((NS_METADATA, "EntityDescriptor")));
        assert_eq!(root.attribute("entityID"), Some("https://acme.example"));
        let idp_desc = children(root, NS_METADATA, "IDPSSODescriptor")
            .next()
            .unwrap();
        assert_eq!(idp_desc.attribute("WantAuthnRequestsSigned"), Some("false"));
        let certs: Vec<String> = idp_desc
            .descendants()
            .filter(|n| n.has_tag_name((NS_DSIG, "X509Certificate")))
            .map(|n| n.text().unwrap().to_owned())
            .collect();
        assert_eq!(
            certs,
            [current.certificate_base64(), previous.certificate_base64()]
        );
        let endpoints = |name| -> Vec<(String, String)> {
            children(idp_desc, NS_METADATA, name)
                .map(|n| {
                    (
                        n.attribute("Binding").unwrap().to_owned(),
                        n.attribute("Location").unwrap().to_owned(),
                    )
                })
                .collect()
        };
        assert_eq!(
            endpoints("SingleSignOnService"),
            [
                (
                    BINDING_REDIRECT.to_owned(),
                    "https://acme.example/idp/endpoint/HttpRedirect".to_owned()
                ),
                (
                    BINDING_POST.to_owned(),
                    "https://acme.example/idp/endpoint/HttpPost".to_owned()
                ),
            ]
        );
        assert_eq!(
            endpoints("SingleLogoutService")
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>(),
            ["https://acme.example/services/auth/idp/saml2/logout"; 2]
        );
        let formats: Vec<&str> = children(idp_desc, NS_METADATA, "NameIDFormat")
            .map(|n| n.text().unwrap())
            .collect();
        assert_eq!(formats.len(), 4);
        assert!(formats.contains(&"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
        // Schema order inside IDPSSODescriptor (SAML Metadata §2.4.2, §2.4.3).
        let order: Vec<&str> = idp_desc
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        let rank = |n: &str| {
            [
                "KeyDescriptor",
                "SingleLogoutService",
                "NameIDFormat",
                "SingleSignOnService",
            ]
            .iter()
            .position(|x| *x == n)
            .unwrap()
        };
        assert!(
            order.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
            "{order:?}"
        );
    }
}
