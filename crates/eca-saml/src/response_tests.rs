use eca_core::rng::DeterministicRng;
use eca_metadata::model::{NameIdFormat, SamlPolicies};

use super::*;
use crate::dsig::verify_enveloped;
use crate::keys::Certificate;
use crate::keys::test_keys::{IDP_CRT, OTHER_CRT, idp, other};
use crate::oracle::{data, xmlsec1_verify};
use crate::xml::NS_DSIG;

const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
const RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";

fn now() -> Timestamp {
    datetime::parse("2026-11-26T18:01:00Z").unwrap()
}

fn sp() -> ServiceProvider {
    ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs?a=1&b=2".into()),
        name_id_format: Some(NameIdFormat::EmailAddress),
        ..SamlPolicies::default()
    })
    .unwrap()
}

fn user() -> UserId {
    UserId::parse("005000000000001AAA").unwrap()
}

fn persistent() -> PersistentIdKey {
    PersistentIdKey::new(&[7u8; 32]).unwrap()
}

fn build(sp: &ServiceProvider, sign: SignParts, attributes: &[(String, String)]) -> SamlResponse {
    let user = user();
    let issuer = EntityId::new("https://acme.example");
    let req = RequestId::parse("ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24").unwrap();
    let params = ResponseParams {
        sp,
        idp_issuer: &issuer,
        in_response_to: Some(&req),
        subject: SubjectSource {
            user_id: &user,
            username: "ada@acme.example",
            federation_id: Some("ada-fed"),
            custom_attribute: None,
        },
        session_index: "_session1",
        authn_instant: now().plus_secs(-30),
        attributes,
        sign,
        encryption: None,
    };
    build_response(
        &params,
        &idp(),
        &persistent(),
        now(),
        &DeterministicRng::new(1),
    )
    .unwrap()
}

fn attrs() -> Vec<(String, String)> {
    vec![
        ("User Country".into(), "FR".into()),
        ("groups".into(), "a&b".into()),
        ("groups".into(), "<c>".into()),
    ]
}

/// Verifies the signature of the element with local name `local` with our own verifier.
fn our_verify(xml: &str, local: &str, crt: &str) -> Result<(), SamlError> {
    let doc = crate::xml::parse(xml)?;
    let node = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == local)
        .ok_or(SamlError::Malformed("missing"))?;
    verify_enveloped(node, &Certificate::parse(crt)?, false)
}

#[test]
fn unsigned_shape() {
    let r = build(
        &sp(),
        SignParts {
            assertion: false,
            response: false,
        },
        &attrs(),
    );
    let a = r.assertion_id.clone().unwrap();
    let expected = format!(
        concat!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Destination="https://sp.example/acs?a=1&amp;b=2" ID="{r}" InResponseTo="ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24" IssueInstant="2026-11-26T18:01:00Z" Version="2.0">"#,
            r#"<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://acme.example</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>"#,
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{a}" IssueInstant="2026-11-26T18:01:00Z" Version="2.0"><saml:Issuer>https://acme.example</saml:Issuer>"#,
            r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">ada@acme.example</saml:NameID>"#,
            r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24" NotOnOrAfter="2026-11-26T18:06:00Z" Recipient="https://sp.example/acs?a=1&amp;b=2"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>"#,
            r#"<saml:Conditions NotBefore="2026-11-26T17:58:00Z" NotOnOrAfter="2026-11-26T18:06:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example/metadata</saml:Audience></saml:AudienceRestriction></saml:Conditions>"#,
            r#"<saml:AuthnStatement AuthnInstant="2026-11-26T18:00:30Z" SessionIndex="_session1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#,
            r#"<saml:AttributeStatement><saml:Attribute Name="User Country" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"><saml:AttributeValue>FR</saml:AttributeValue></saml:Attribute>"#,
            r#"<saml:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"><saml:AttributeValue>a&amp;b</saml:AttributeValue><saml:AttributeValue>&lt;c&gt;</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"#,
            r#"</saml:Assertion></samlp:Response>"#
        ),
        r = r.id,
        a = a
    );
    assert_eq!(r.xml, expected);
    assert!(r.id.starts_with('_') && r.id.len() == 41 && r.id != a);
    assert_eq!(r.acs_url, "https://sp.example/acs?a=1&b=2");
    // Already canonical: canonicalizing changes nothing.
    let doc = crate::xml::parse(&r.xml).unwrap();
    assert_eq!(
        crate::c14n::canonicalize(doc.root_element(), None, &[]),
        expected
    );
}

#[test]
fn signatures_verify_with_us_and_xmlsec1() {
    for sign in [
        SignParts {
            assertion: true,
            response: false,
        },
        SignParts {
            assertion: false,
            response: true,
        },
        SignParts {
            assertion: true,
            response: true,
        },
    ] {
        let r = build(&sp(), sign, &attrs());
        let count = r.xml.matches("<ds:Signature ").count();
        assert_eq!(
            count,
            usize::from(sign.assertion) + usize::from(sign.response)
        );
        if sign.assertion {
            assert_eq!(our_verify(&r.xml, "Assertion", IDP_CRT), Ok(()), "{sign:?}");
        }
        if sign.response {
            assert_eq!(our_verify(&r.xml, "Response", IDP_CRT), Ok(()), "{sign:?}");
        }
        // xmlsec1 checks the first signature in document order: the Response's when there
        // is one (it covers the signed Assertion), else the Assertion's.
        let node = if sign.response { RESPONSE } else { ASSERTION };
        if let Some(ok) = xmlsec1_verify(&r.xml, &data("idp.crt"), node) {
            assert!(ok, "xmlsec1 refused our {sign:?} signature:\n{}", r.xml);
            assert_eq!(
                xmlsec1_verify(&r.xml, &data("other.crt"), node),
                Some(false),
                "xmlsec1 accepted the wrong certificate"
            );
        }
    }
}

#[test]
fn tampered_responses_fail() {
    let signed = build(
        &sp(),
        SignParts {
            assertion: true,
            response: false,
        },
        &attrs(),
    )
    .xml;
    let resigned_by_other = {
        let unsigned = build(
            &sp(),
            SignParts {
                assertion: false,
                response: false,
            },
            &attrs(),
        )
        .xml;
        let start = unsigned.find("<saml:Assertion").unwrap();
        let end = unsigned.find("</samlp:Response>").unwrap();
        let a = sign_enveloped(&unsigned[start..end], &other()).unwrap();
        format!("{}{}{}", &unsigned[..start], a, &unsigned[end..])
    };
    let stripped = {
        let start = signed.find("<ds:Signature").unwrap();
        let end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &signed[..start], &signed[end..])
    };
    let cases: &[(&str, String, SamlError)] = &[
        (
            "edited NameID",
            signed.replace(">ada@acme.example<", ">eve@acme.example<"),
            SamlError::BadSignature("the digest does not match"),
        ),
        (
            "edited attribute",
            signed.replace(">FR<", ">US<"),
            SamlError::BadSignature("the digest does not match"),
        ),
        (
            "wrong audience",
            signed.replace(
                "<saml:Audience>https://sp.example/metadata<",
                "<saml:Audience>https://other.example<",
            ),
            SamlError::BadSignature("the digest does not match"),
        ),
        ("stripped signature", stripped, SamlError::MissingSignature),
        (
            "re-signed with another key",
            resigned_by_other,
            SamlError::BadSignature("the signature value does not verify"),
        ),
    ];
    for (name, xml, expected) in cases {
        assert_eq!(
            our_verify(xml, "Assertion", IDP_CRT).as_ref(),
            Err(expected),
            "{name}"
        );
        if let Some(ok) = xmlsec1_verify(xml, &data("idp.crt"), ASSERTION) {
            assert!(!ok, "xmlsec1 accepted a tampered response: {name}");
        }
    }
    assert!(our_verify(&signed, "Assertion", OTHER_CRT).is_err());
}

#[test]
fn subjects() {
    let user = user();
    let mut sp = sp();
    let source = SubjectSource {
        user_id: &user,
        username: "ada@acme.example",
        federation_id: None,
        custom_attribute: Some("E-1234"),
    };
    let p = persistent();
    let pid = p.derive(&user, &sp.entity_id);
    let cases: &[(SamlSubjectType, Result<String, SamlError>)] = &[
        (SamlSubjectType::Username, Ok("ada@acme.example".into())),
        (SamlSubjectType::UserId, Ok("005000000000001".into())),
        (SamlSubjectType::CustomAttribute, Ok("E-1234".into())),
        (
            SamlSubjectType::FederationId,
            Err(SamlError::UnknownPrincipal),
        ),
        (SamlSubjectType::PersistentId, Ok(pid.clone())),
        (
            SamlSubjectType::SpokeId,
            Err(SamlError::Configuration(
                "subjectType SpokeId is not supported",
            )),
        ),
    ];
    for (t, expected) in cases {
        sp.subject_type = *t;
        assert_eq!(&name_id_value(&sp, &source, &p), expected, "{t:?}");
    }
    // Persistent ids are stable, opaque, and differ per SP and per key.
    assert_eq!(pid.len(), 64);
    assert_eq!(pid, p.derive(&user, &sp.entity_id));
    assert_ne!(
        pid,
        p.derive(&user, &EntityId::new("https://other.example"))
    );
    assert_ne!(
        pid,
        PersistentIdKey::new(&[8u8; 32])
            .unwrap()
            .derive(&user, &sp.entity_id)
    );
    assert!(!pid.contains(user.as_15()));
    assert!(PersistentIdKey::new(&[0u8; 16]).is_err());
}

#[test]
fn idp_initiated_and_issuer_override() {
    let mut sp = sp();
    sp.issuer = Some(EntityId::new("https://custom-issuer.example"));
    let user = user();
    let issuer = EntityId::new("https://acme.example");
    let params = ResponseParams {
        sp: &sp,
        idp_issuer: &issuer,
        in_response_to: None,
        subject: SubjectSource {
            user_id: &user,
            username: "ada",
            federation_id: None,
            custom_attribute: None,
        },
        session_index: "_s",
        authn_instant: now(),
        attributes: &[],
        sign: SignParts::default(),
        encryption: None,
    };
    let r = build_response(
        &params,
        &idp(),
        &persistent(),
        now(),
        &DeterministicRng::new(2),
    )
    .unwrap();
    assert!(!r.xml.contains("InResponseTo"));
    assert!(!r.xml.contains("AttributeStatement"));
    assert_eq!(
        r.xml
            .matches(">https://custom-issuer.example</saml:Issuer>")
            .count(),
        2
    );
    assert_eq!(our_verify(&r.xml, "Response", IDP_CRT), Ok(()));
    assert_eq!(our_verify(&r.xml, "Assertion", IDP_CRT), Ok(()));
    let b64 = r.to_base64();
    assert!(!b64.contains('\n'));
    assert!(!r.xml.contains(NS_DSIG) || r.xml.contains("<ds:X509Certificate>"));
}

#[test]
fn error_responses() {
    let req = RequestId::parse("_req").unwrap();
    let err = SamlError::UserNotPermitted;
    let crate::error::Disposition::SamlResponse(status) = err.disposition(true) else {
        panic!("reportable");
    };
    let r = build_error_response(
        &sp(),
        &EntityId::new("https://acme.example"),
        Some(&req),
        status,
        &idp(),
        now(),
        &DeterministicRng::new(3),
    )
    .unwrap();
    assert!(r.xml.contains(r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"></samlp:StatusCode></samlp:StatusCode>"#));
    assert!(r.xml.contains("InResponseTo=\"_req\""));
    assert!(r.assertion_id.is_none());
    assert_eq!(our_verify(&r.xml, "Response", IDP_CRT), Ok(()));
    if let Some(ok) = xmlsec1_verify(&r.xml, &data("idp.crt"), RESPONSE) {
        assert!(ok);
    }
}

#[test]
fn control_characters_cannot_break_the_document() {
    let r = build(
        &sp(),
        SignParts::default(),
        &[("x\u{1}".into(), "a\u{0}b".into())],
    );
    assert!(crate::xml::parse(&r.xml).is_ok());
    assert!(r.xml.contains("a\u{FFFD}b"));
}

#[test]
fn encrypted_assertion_inside_a_signed_response() {
    use crate::encryption::ContentCipher;
    let mut policies = SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs".into()),
        encryption_certificate: Some(crate::keys::test_keys::SP_CRT.into()),
        encryption_type: Some(eca_metadata::model::SamlEncryptionType::Aes256),
        ..SamlPolicies::default()
    };
    let sp = ServiceProvider::from_policies(&policies).unwrap();
    let (enc_key, cipher) = sp.encryption_key(false).unwrap().unwrap();
    assert_eq!(cipher, ContentCipher::Aes256Gcm);
    let user = user();
    let issuer = EntityId::new("https://acme.example");
    let params = ResponseParams {
        sp: &sp,
        idp_issuer: &issuer,
        in_response_to: None,
        subject: SubjectSource {
            user_id: &user,
            username: "ada@acme.example",
            federation_id: None,
            custom_attribute: None,
        },
        session_index: "_s",
        authn_instant: now(),
        attributes: &[],
        sign: SignParts::default(),
        encryption: Some((&enc_key, cipher)),
    };
    let r = build_response(
        &params,
        &idp(),
        &persistent(),
        now(),
        &DeterministicRng::new(4),
    )
    .unwrap();
    assert!(r.xml.contains("<saml:EncryptedAssertion "));
    assert!(!r.xml.contains("ada@acme.example"));
    assert_eq!(our_verify(&r.xml, "Response", IDP_CRT), Ok(()));
    if let Some(ok) = xmlsec1_verify(&r.xml, &data("idp.crt"), RESPONSE) {
        assert!(
            ok,
            "xmlsec1 refused the signed Response around an EncryptedAssertion"
        );
    }
    // An unusable encryption certificate is a configuration error, found at load time.
    policies.encryption_certificate = Some("junk".into());
    assert_eq!(
        ServiceProvider::from_policies(&policies).err(),
        Some(SamlError::Configuration(
            "the encryption certificate is unusable"
        ))
    );
}
