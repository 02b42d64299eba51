//! Enveloped XML signatures (XML-DSig 1.0 §6.6.4) as SAML uses them (SAML Core §5): one
//! `Reference` to the signed element's `ID`, the enveloped-signature and exclusive
//! canonicalization transforms, RSA-SHA256 with a SHA-256 digest.
//!
//! Verification is deliberately narrow to close signature wrapping (SAML Core §5.4.2,
//! "Signature wrapping" in the SAML V2.0 security considerations): the `ds:Signature` must be
//! a direct child of the element it signs, that element's `ID` must be the only one of that
//! value in the document, the single `Reference` must point at it, and the caller then reads
//! exactly that node. Key material inside `KeyInfo` is never used: the certificate comes
//! from the service provider's registration.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roxmltree::Node;

use crate::c14n::{EXC_C14N, canonicalize};
use crate::error::SamlError;
use crate::keys::{Certificate, IdpKey, SignatureAlgorithm};
use crate::xml::{self, NS_DSIG, escape_attr};

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Signs the root element of `element_xml` (a standalone element with an `ID` attribute and
/// an `Issuer` first child, as `Response`, `Assertion` and `LogoutResponse` are), inserting
/// the `ds:Signature` right after the `Issuer`, where the schemas put it (SAML Core §2.3.3,
/// §3.2.2).
pub fn sign_enveloped(element_xml: &str, key: &IdpKey) -> Result<String, SamlError> {
    let doc = roxmltree::Document::parse(element_xml)
        .map_err(|_| SamlError::Key("the element to sign is not well-formed"))?;
    let root = doc.root_element();
    let id = root
        .attribute("ID")
        .ok_or(SamlError::Key("the element to sign has no ID"))?;
    let issuer = root
        .first_element_child()
        .filter(|c| c.tag_name().name() == "Issuer")
        .ok_or(SamlError::Key("the element to sign has no leading Issuer"))?;
    let canonical = canonicalize(root, None, &[]);
    let digest = STANDARD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
    let signed_info = format!(
        concat!(
            "<ds:SignedInfo xmlns:ds=\"{ds}\">",
            "<ds:CanonicalizationMethod Algorithm=\"{c14n}\"></ds:CanonicalizationMethod>",
            "<ds:SignatureMethod Algorithm=\"{alg}\"></ds:SignatureMethod>",
            "<ds:Reference URI=\"#{id}\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"{env}\"></ds:Transform>",
            "<ds:Transform Algorithm=\"{c14n}\"></ds:Transform>",
            "</ds:Transforms><ds:DigestMethod Algorithm=\"{sha}\"></ds:DigestMethod>",
            "<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        ),
        ds = NS_DSIG,
        c14n = EXC_C14N,
        alg = SignatureAlgorithm::RsaSha256.uri(),
        id = escape_attr(id),
        env = ENVELOPED,
        sha = SHA256,
        digest = digest,
    );
    // What we wrote is already canonical, but canonicalizing it again costs little and keeps
    // the signed bytes right if the template above ever changes.
    let si_doc = roxmltree::Document::parse(&signed_info)
        .map_err(|_| SamlError::Key("the SignedInfo is not well-formed"))?;
    let si_canonical = canonicalize(si_doc.root_element(), None, &[]);
    let value = STANDARD.encode(key.sign_sha256(si_canonical.as_bytes())?);
    // In place, SignedInfo inherits `xmlns:ds` from Signature; exclusive canonicalization
    // renders it on SignedInfo all the same, so the signed bytes are those computed above.
    let signed_info_inner = signed_info.replacen(&format!(" xmlns:ds=\"{NS_DSIG}\""), "", 1);
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{NS_DSIG}\">{signed_info_inner}<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
        cert = key.certificate_base64(),
    );
    let at = issuer.range().end;
    let mut out = String::with_capacity(element_xml.len() + signature.len());
    out.push_str(&element_xml[..at]);
    out.push_str(&signature);
    out.push_str(&element_xml[at..]);
    Ok(out)
}

/// Whether `element` carries an enveloped signature (a direct `ds:Signature` child).
pub fn has_signature(element: Node<'_, '_>) -> bool {
    xml::children(element, NS_DSIG, "Signature")
        .next()
        .is_some()
}

/// Verifies the enveloped signature of `element` against `cert`. On success the caller must
/// read the message from this same `element`, nothing else in the document.
pub fn verify_enveloped(
    element: Node<'_, '_>,
    cert: &Certificate,
    allow_sha1: bool,
) -> Result<(), SamlError> {
    let id = element
        .attribute("ID")
        .filter(|id| !id.is_empty())
        .ok_or(SamlError::BadSignature("the signed element has no ID"))?;
    // Duplicate IDs are how wrapping attacks make one Reference resolve to two elements.
    let same_id = element
        .document()
        .descendants()
        .filter(|n| n.is_element())
        .flat_map(|n| n.attributes())
        .filter(|a| a.name().eq_ignore_ascii_case("id") && a.value() == id)
        .count();
    if same_id != 1 {
        return Err(SamlError::BadSignature("the signed ID is not unique"));
    }
    let signature = xml::single_child(element, NS_DSIG, "Signature", "two Signature elements")?
        .ok_or(SamlError::MissingSignature)?;
    let signed_info = first_child(signature, "SignedInfo")?;
    let c14n_method = first_child(signed_info, "CanonicalizationMethod")?;
    if c14n_method.attribute("Algorithm") != Some(EXC_C14N) {
        return Err(SamlError::UnsupportedAlgorithm);
    }
    let si_prefixes = inclusive_prefixes(c14n_method);
    let method = first_child(signed_info, "SignatureMethod")?
        .attribute("Algorithm")
        .and_then(SignatureAlgorithm::from_uri)
        .ok_or(SamlError::UnsupportedAlgorithm)?;
    if method == SignatureAlgorithm::RsaSha1 && !allow_sha1 {
        return Err(SamlError::UnsupportedAlgorithm);
    }
    let mut references = xml::children(signed_info, NS_DSIG, "Reference");
    let reference = references
        .next()
        .ok_or(SamlError::BadSignature("no Reference"))?;
    if references.next().is_some() {
        return Err(SamlError::BadSignature("more than one Reference"));
    }
    if reference.attribute("URI") != Some(format!("#{id}").as_str()) {
        return Err(SamlError::BadSignature(
            "the Reference does not point at the signed element",
        ));
    }
    // Only the two transforms SAML Core §5.4.3–§5.4.4 allow.
    let mut ref_prefixes = Vec::new();
    let mut enveloped = false;
    if let Some(transforms) = xml::single_child(reference, NS_DSIG, "Transforms", "Transforms")? {
        for t in transforms.children().filter(|c| c.is_element()) {
            match t.attribute("Algorithm") {
                Some(ENVELOPED) => enveloped = true,
                Some(EXC_C14N) => ref_prefixes = inclusive_prefixes(t),
                _ => return Err(SamlError::UnsupportedAlgorithm),
            }
        }
    }
    if !enveloped {
        return Err(SamlError::BadSignature(
            "the enveloped-signature transform is missing",
        ));
    }
    let digest_alg = match first_child(reference, "DigestMethod")?.attribute("Algorithm") {
        Some(SHA256) => &digest::SHA256,
        Some(SHA1) if allow_sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        _ => return Err(SamlError::UnsupportedAlgorithm),
    };
    let expected = decode_b64(&xml::text_of(first_child(reference, "DigestValue")?))?;
    let prefixes: Vec<&str> = ref_prefixes.iter().map(String::as_str).collect();
    let canonical = canonicalize(element, Some(signature.id()), &prefixes);
    let actual = digest::digest(digest_alg, canonical.as_bytes());
    if !eca_core::secret::constant_time_eq(actual.as_ref(), &expected) {
        return Err(SamlError::BadSignature("the digest does not match"));
    }
    let si_prefixes: Vec<&str> = si_prefixes.iter().map(String::as_str).collect();
    let si_canonical = canonicalize(signed_info, None, &si_prefixes);
    let value = decode_b64(&xml::text_of(first_child(signature, "SignatureValue")?))?;
    cert.verify(method, si_canonical.as_bytes(), &value)
}

fn first_child<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Result<Node<'a, 'i>, SamlError> {
    xml::single_child(node, NS_DSIG, name, "a signature element is repeated")?
        .ok_or(SamlError::BadSignature("the signature is incomplete"))
}

/// The `PrefixList` of an `ec:InclusiveNamespaces` child of a transform (Exc-C14N §3).
fn inclusive_prefixes(transform: Node<'_, '_>) -> Vec<String> {
    transform
        .children()
        .filter(|c| c.is_element() && c.has_tag_name((EXC_C14N, "InclusiveNamespaces")))
        .filter_map(|c| c.attribute("PrefixList"))
        .flat_map(|l| l.split_whitespace().map(str::to_owned))
        .collect()
}

/// Base64 with the line breaks XML signatures often carry.
pub(crate) fn decode_b64(text: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = text.split_whitespace().collect();
    STANDARD
        .decode(compact)
        .map_err(|_| SamlError::BadSignature("bad base64 in the signature"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::*;

    const DOC: &str = r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc" Version="2.0"><saml:Issuer>https://idp.example</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#;

    fn verify(xml: &str, crt: &str) -> Result<(), SamlError> {
        let doc = crate::xml::parse(xml)?;
        verify_enveloped(doc.root_element(), &Certificate::parse(crt)?, false)
    }

    #[test]
    fn round_trip_and_tampering() {
        let signed = sign_enveloped(DOC, &idp()).unwrap();
        assert!(signed.contains("</saml:Issuer><ds:Signature"));
        assert_eq!(verify(&signed, IDP_CRT), Ok(()));
        let cases: &[(&str, String, SamlError)] = &[
            (
                "other certificate",
                signed.clone(),
                SamlError::BadSignature("the signature value does not verify"),
            ),
            (
                "edited content",
                signed.replace("https://idp.example", "https://evil.example"),
                SamlError::BadSignature("the digest does not match"),
            ),
            (
                "stripped signature",
                DOC.to_owned(),
                SamlError::MissingSignature,
            ),
            (
                "reference elsewhere",
                signed.replace("URI=\"#_abc\"", "URI=\"#_other\""),
                SamlError::BadSignature("the Reference does not point at the signed element"),
            ),
            (
                "sha1 refused",
                signed.replace(
                    SignatureAlgorithm::RsaSha256.uri(),
                    SignatureAlgorithm::RsaSha1.uri(),
                ),
                SamlError::UnsupportedAlgorithm,
            ),
        ];
        for (name, xml, expected) in cases {
            let crt = if *name == "other certificate" {
                OTHER_CRT
            } else {
                IDP_CRT
            };
            assert_eq!(verify(xml, crt).as_ref(), Err(expected), "{name}");
        }
    }

    #[test]
    fn wrapping_with_duplicate_id_is_refused() {
        let signed = sign_enveloped(DOC, &idp()).unwrap();
        // The attacker's root reuses the ID and carries the genuine element inside.
        let wrapped = format!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_abc"><x>{signed}</x></samlp:LogoutResponse>"#
        );
        let doc = crate::xml::parse(&wrapped).unwrap();
        let cert = Certificate::parse(IDP_CRT).unwrap();
        assert_eq!(
            verify_enveloped(doc.root_element(), &cert, false),
            Err(SamlError::BadSignature("the signed ID is not unique"))
        );
    }
}
