use std::io::Write as _;

use eca_metadata::model::{NameIdFormat, SamlPolicies};

use super::*;
use crate::binding::MAX_ENCODED_LEN;
use crate::keys::IdpKey;
use crate::keys::test_keys::{OTHER_CRT, SP_CRT, other, sp as sp_key};
use crate::xml::MAX_XML_LEN;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const SIGNED_POST: &str = include_str!("../tests/data/authn_request_post_signed.xml");
const PYSAML2: &str = include_str!("../tests/data/authn_request_pysaml2.xml");
const POST_ENDPOINT: &str = "https://acme.example/idp/endpoint/HttpPost";
const REDIRECT_ENDPOINT: &str = "https://acme.example/idp/endpoint/HttpRedirect";

fn now() -> Timestamp {
    datetime::parse("2026-11-26T18:01:00Z").unwrap()
}

fn sp(cert: Option<&str>) -> ServiceProvider {
    ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs".into()),
        certificate: cert.map(str::to_owned),
        name_id_format: Some(NameIdFormat::EmailAddress),
        ..SamlPolicies::default()
    })
    .unwrap()
}

/// Form-style percent-encoding, as python3-saml's `quote_plus` does it.
fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn deflate_b64(xml: &str) -> String {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    STANDARD.encode(enc.finish().unwrap())
}

/// A Redirect-binding query as python3-saml builds it (Bindings §3.4.4.1).
fn redirect_query(xml: &str, relay_state: Option<&str>, key: Option<(&IdpKey, &str)>) -> String {
    let mut q = format!("SAMLRequest={}", url_encode(&deflate_b64(xml)));
    if let Some(rs) = relay_state {
        q.push_str(&format!("&RelayState={}", url_encode(rs)));
    }
    if let Some((key, alg)) = key {
        q.push_str(&format!("&SigAlg={}", url_encode(alg)));
        let sig = key.sign_sha256(q.as_bytes()).unwrap();
        q.push_str(&format!("&Signature={}", url_encode(&STANDARD.encode(sig))));
    }
    q
}

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

#[test]
fn redirect_unsigned_pysaml2_request() {
    let q = redirect_query(PYSAML2, Some("/app?x=1&y=2"), None);
    let msg = IncomingRequest::from_redirect_query(&q).unwrap();
    assert_eq!(msg.relay_state(), Some("/app?x=1&y=2"));
    assert_eq!(
        msg.issuer_unverified().unwrap(),
        Some(EntityId::new("https://sp.example/metadata"))
    );
    let mut sp = sp(None);
    sp.name_id_format = NameIdFormat::Transient;
    let req = msg.verify_authn_request(&sp).unwrap();
    assert_eq!(
        req,
        AuthnRequest {
            id: RequestId::parse("id-c3PFqKx4fEmlmDz9r").unwrap(),
            issue_instant: datetime::parse("2026-11-26T18:00:00Z").unwrap(),
            issuer: Some(EntityId::new("https://sp.example/metadata")),
            destination: Some(REDIRECT_ENDPOINT.into()),
            acs_url: Some("https://sp.example/acs".into()),
            acs_index: None,
            protocol_binding: Some(BINDING_POST.into()),
            name_id_format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient".into()),
            force_authn: false,
            is_passive: false,
            subject_name_id: None,
            requested_authn_context: None,
            binding: Binding::Redirect,
            is_signed: false,
        }
    );
    assert_eq!(req.validate(&sp, REDIRECT_ENDPOINT, now()), Ok(()));
}

#[test]
fn redirect_signatures() {
    let good = redirect_query(PYSAML2, Some("rs"), Some((&sp_key(), RSA_SHA256)));
    let msg = IncomingRequest::from_redirect_query(&good).unwrap();
    let req = msg.verify_authn_request(&sp(Some(SP_CRT))).unwrap();
    assert!(req.is_signed);

    // Without RelayState the signed string has no RelayState part.
    let no_rs = redirect_query(PYSAML2, None, Some((&sp_key(), RSA_SHA256)));
    assert!(
        IncomingRequest::from_redirect_query(&no_rs)
            .unwrap()
            .verify_authn_request(&sp(Some(SP_CRT)))
            .is_ok()
    );

    let cases: &[(&str, String, Option<&str>, SamlError)] = &[
        (
            "unsigned but the SP has a certificate",
            redirect_query(PYSAML2, Some("rs"), None),
            Some(SP_CRT),
            SamlError::MissingSignature,
        ),
        (
            "signed with another key",
            redirect_query(PYSAML2, Some("rs"), Some((&other(), RSA_SHA256))),
            Some(SP_CRT),
            SamlError::BadSignature("the signature value does not verify"),
        ),
        (
            "verified against another certificate",
            good.clone(),
            Some(OTHER_CRT),
            SamlError::BadSignature("the signature value does not verify"),
        ),
        (
            "RelayState changed",
            good.replace("RelayState=rs", "RelayState=evil"),
            Some(SP_CRT),
            SamlError::BadSignature("the signature value does not verify"),
        ),
        (
            "RelayState re-encoded (the original encoding is what is signed)",
            good.replace("RelayState=rs", "RelayState=%72s"),
            Some(SP_CRT),
            SamlError::BadSignature("the signature value does not verify"),
        ),
        (
            "SHA-1 not allowed",
            good.replace("rsa-sha256", "rsa-sha1"),
            Some(SP_CRT),
            SamlError::UnsupportedAlgorithm,
        ),
        (
            "unknown algorithm",
            good.replace("rsa-sha256", "hmac-sha256"),
            Some(SP_CRT),
            SamlError::UnsupportedAlgorithm,
        ),
    ];
    for (name, query, cert, expected) in cases {
        let got = IncomingRequest::from_redirect_query(query)
            .and_then(|m| m.verify_authn_request(&sp(*cert)));
        assert_eq!(got.as_ref().err(), Some(expected), "{name}");
    }
}

/// Signed by `openssl dgst -sha1 -sign sp.key` over a query python3-saml would build.
const SHA1_QUERY: &str = include_str!("../tests/data/authn_request_redirect_sha1.query");

#[test]
fn sha1_redirect_signature_only_when_allowed() {
    let msg = IncomingRequest::from_redirect_query(SHA1_QUERY.trim()).unwrap();
    assert_eq!(msg.relay_state(), Some("https://sp.example/app?a=1"));
    let mut sp = sp(Some(SP_CRT));
    assert_eq!(
        msg.verify_authn_request(&sp).err(),
        Some(SamlError::UnsupportedAlgorithm)
    );
    sp.allows_sha1 = true;
    assert!(msg.verify_authn_request(&sp).unwrap().is_signed);
    let tampered = SHA1_QUERY.trim().replace("a%3D1", "a%3D2");
    let got =
        IncomingRequest::from_redirect_query(&tampered).and_then(|m| m.verify_authn_request(&sp));
    assert_eq!(
        got.err(),
        Some(SamlError::BadSignature(
            "the signature value does not verify"
        ))
    );
}

#[test]
fn post_signed_by_xmlsec1() {
    let form = STANDARD.encode(SIGNED_POST);
    let msg = IncomingRequest::from_post_form(&form, Some("state")).unwrap();
    let sp = sp(Some(SP_CRT));
    let req = msg.verify_authn_request(&sp).unwrap();
    assert!(req.is_signed);
    assert_eq!(req.binding, Binding::Post);
    assert_eq!(
        req.id.as_str(),
        "ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24"
    );
    assert_eq!(
        req.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(req.validate(&sp, POST_ENDPOINT, now()), Ok(()));
    assert_eq!(msg.relay_state(), Some("state"));
}

#[test]
fn post_tampering_is_refused() {
    let id = "ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24";
    let stripped = {
        let start = SIGNED_POST.find("<ds:Signature").unwrap();
        let end = SIGNED_POST.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &SIGNED_POST[..start], &SIGNED_POST[end..])
    };
    // Signature wrapping: the genuine signed request hidden in an extension of an evil root
    // that reuses its ID and carries another ACS URL.
    let body = SIGNED_POST
        .trim_start_matches("<?xml version=\"1.0\"?>")
        .trim();
    let wrapped = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-11-26T18:00:00Z" AssertionConsumerServiceURL="https://evil.example/acs"><saml:Issuer>https://sp.example/metadata</saml:Issuer><samlp:Extensions>{body}</samlp:Extensions></samlp:AuthnRequest>"#
    );
    // The evil root moves the genuine signature up and points it at itself.
    let moved = {
        let sig_start = SIGNED_POST.find("<ds:Signature").unwrap();
        let sig_end = SIGNED_POST.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        let sig = &SIGNED_POST[sig_start..sig_end];
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="evil" Version="2.0" IssueInstant="2026-11-26T18:00:00Z" AssertionConsumerServiceURL="https://evil.example/acs"><saml:Issuer>https://sp.example/metadata</saml:Issuer>{sig}<samlp:Extensions>{stripped}</samlp:Extensions></samlp:AuthnRequest>"#,
            stripped = stripped
                .trim_start_matches("<?xml version=\"1.0\"?>")
                .trim()
        )
    };
    let cases: &[(&str, String, SamlError)] = &[
        (
            "stripped signature",
            stripped.clone(),
            SamlError::MissingSignature,
        ),
        (
            "edited ACS URL",
            SIGNED_POST.replace("https://sp.example/acs", "https://evil.example/acs"),
            SamlError::BadSignature("the digest does not match"),
        ),
        (
            "edited NameIDPolicy",
            SIGNED_POST.replace("emailAddress", "unspecified"),
            SamlError::BadSignature("the digest does not match"),
        ),
        (
            "wrapped",
            wrapped,
            SamlError::BadSignature("the signed ID is not unique"),
        ),
        (
            "signature moved to an evil root",
            moved,
            SamlError::BadSignature("the Reference does not point at the signed element"),
        ),
        (
            "DOCTYPE",
            SIGNED_POST.replace(
                "<?xml version=\"1.0\"?>",
                "<?xml version=\"1.0\"?><!DOCTYPE x>",
            ),
            SamlError::DoctypeRefused,
        ),
    ];
    for (name, xml, expected) in cases {
        let got = IncomingRequest::from_post_form(&STANDARD.encode(xml), None)
            .and_then(|m| m.verify_authn_request(&sp(Some(SP_CRT))));
        assert_eq!(got.as_ref().err(), Some(expected), "{name}");
    }
    // Without a registered certificate the SP's requests are accepted signed or not.
    let m = IncomingRequest::from_post_form(&STANDARD.encode(&stripped), None).unwrap();
    assert!(!m.verify_authn_request(&sp(None)).unwrap().is_signed);
}

#[test]
fn validation_against_the_registration() {
    let base = {
        let m = IncomingRequest::from_post_form(&STANDARD.encode(SIGNED_POST), None).unwrap();
        m.verify_authn_request(&sp(Some(SP_CRT))).unwrap()
    };
    let sp = sp(Some(SP_CRT));
    type Edit = fn(&mut AuthnRequest, &mut ServiceProvider, &mut Timestamp);
    let cases: &[(&str, Edit, Result<(), SamlError>)] = &[
        ("as sent", |_, _, _| {}, Ok(())),
        (
            "other issuer",
            |r, _, _| r.issuer = Some(EntityId::new("x")),
            Err(SamlError::UnknownServiceProvider),
        ),
        (
            "no issuer",
            |r, _, _| r.issuer = None,
            Err(SamlError::UnknownServiceProvider),
        ),
        (
            "other ACS",
            |r, _, _| r.acs_url = Some("https://evil.example/acs".into()),
            Err(SamlError::AcsUrlMismatch),
        ),
        (
            "no ACS means the registered one",
            |r, _, _| r.acs_url = None,
            Ok(()),
        ),
        (
            "other destination",
            |r, _, _| r.destination = Some("https://x/".into()),
            Err(SamlError::DestinationMismatch),
        ),
        (
            "signed without destination",
            |r, _, _| r.destination = None,
            Err(SamlError::DestinationMismatch),
        ),
        (
            "unsigned without destination",
            |r, _, _| {
                r.destination = None;
                r.is_signed = false
            },
            Ok(()),
        ),
        (
            "artifact binding",
            |r, _, _| {
                r.protocol_binding =
                    Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact".into())
            },
            Err(SamlError::UnsupportedBinding),
        ),
        (
            "too old",
            |_, _, now| *now = now.plus_secs(MAX_REQUEST_AGE_SECS + CLOCK_SKEW_SECS + 61),
            Err(SamlError::StaleRequest),
        ),
        (
            "old within skew",
            |_, _, now| *now = now.plus_secs(MAX_REQUEST_AGE_SECS + CLOCK_SKEW_SECS - 61),
            Ok(()),
        ),
        (
            "from the future",
            |_, _, now| *now = now.plus_secs(-CLOCK_SKEW_SECS - 61),
            Err(SamlError::StaleRequest),
        ),
        (
            "format not configured",
            |_, sp, _| sp.name_id_format = NameIdFormat::Persistent,
            Err(SamlError::InvalidNameIdPolicy),
        ),
        (
            "unspecified format always fine",
            |r, sp, _| {
                sp.name_id_format = NameIdFormat::Persistent;
                r.name_id_format =
                    Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".into())
            },
            Ok(()),
        ),
    ];
    for (name, edit, expected) in cases {
        let (mut r, mut s, mut t) = (base.clone(), sp.clone(), now());
        edit(&mut r, &mut s, &mut t);
        assert_eq!(&r.validate(&s, POST_ENDPOINT, t), expected, "{name}");
    }
}

#[test]
fn malformed_messages() {
    let bomb = {
        let big = format!("<a>{}</a>", " ".repeat(MAX_XML_LEN * 2));
        format!("SAMLRequest={}", url_encode(&deflate_b64(&big)))
    };
    let not_authn = redirect_query(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>",
        None,
        None,
    );
    let v1 = redirect_query(
        &PYSAML2.replace("Version=\"2.0\"", "Version=\"1.1\""),
        None,
        None,
    );
    let bad_bool = redirect_query(
        &PYSAML2.replace("Version=", "IsPassive=\"yes\" Version="),
        None,
        None,
    );
    let cases: &[(&str, String, SamlError)] = &[
        (
            "no SAMLRequest",
            "RelayState=x".into(),
            SamlError::Malformed("no SAMLRequest"),
        ),
        (
            "repeated",
            "SAMLRequest=a&SAMLRequest=b".into(),
            SamlError::Malformed("a SAML parameter is repeated"),
        ),
        (
            "bad base64",
            "SAMLRequest=%%%".into(),
            SamlError::Malformed("bad percent-encoding"),
        ),
        (
            "not deflate",
            format!(
                "SAMLRequest={}",
                url_encode(&STANDARD.encode(b"\xff\xff\xff"))
            ),
            SamlError::Malformed("bad DEFLATE data"),
        ),
        ("deflate bomb", bomb, SamlError::TooLarge),
        (
            "signature without SigAlg",
            format!("{}&Signature=AAAA", redirect_query(PYSAML2, None, None)),
            SamlError::Malformed("Signature and SigAlg go together"),
        ),
        (
            "not an AuthnRequest",
            not_authn,
            SamlError::Malformed("not a samlp:AuthnRequest"),
        ),
        ("SAML 1.1", v1, SamlError::VersionMismatch),
        (
            "bad boolean",
            bad_bool,
            SamlError::Malformed("a boolean attribute is not xs:boolean"),
        ),
    ];
    for (name, query, expected) in cases {
        let got = IncomingRequest::from_redirect_query(query)
            .and_then(|m| m.verify_authn_request(&sp(None)));
        assert_eq!(got.as_ref().err(), Some(expected), "{name}");
    }
    assert_eq!(
        IncomingRequest::from_post_form(&"A".repeat(MAX_ENCODED_LEN + 4), None).err(),
        Some(SamlError::TooLarge)
    );
}

#[test]
fn a_subject_names_the_principal_without_confirmation() {
    let named = |inner: &str| {
        PYSAML2.replace(
            "<ns0:NameIDPolicy",
            &format!("<ns1:Subject>{inner}</ns1:Subject><ns0:NameIDPolicy"),
        )
    };
    let read = |xml: &str| {
        IncomingRequest::from_redirect_query(&redirect_query(xml, None, None))
            .and_then(|m| m.verify_authn_request(&sp(None)))
    };
    let r = read(&named("<ns1:NameID> alice@acme.example </ns1:NameID>")).unwrap();
    assert_eq!(r.subject_name_id.as_deref(), Some("alice@acme.example"));
    assert_eq!(
        read(&named(&format!(
            "<ns1:NameID>{}</ns1:NameID>",
            "a".repeat(2049)
        )))
        .err(),
        Some(SamlError::Malformed(
            "the Subject NameID is longer than 2048 bytes"
        ))
    );
    // A comment inside the name (which c14n, and so a signature, ignores) hides nothing.
    let r = read(&named(
        "<ns1:NameID>alice@acme.example<!---->.evil.example</ns1:NameID>",
    ))
    .unwrap();
    assert_eq!(
        r.subject_name_id.as_deref(),
        Some("alice@acme.example.evil.example")
    );
    assert_eq!(read(PYSAML2).unwrap().subject_name_id, None);
    assert_eq!(
        read(&named(
            "<ns1:NameID>alice@acme.example</ns1:NameID><ns1:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"/>"
        ))
        .err(),
        Some(SamlError::Malformed(
            "the AuthnRequest Subject carries a SubjectConfirmation"
        ))
    );
}

#[test]
fn requested_authn_context_against_a_password_login() {
    let asking = |comparison: &str, classes: &[&str]| {
        let refs: String = classes
            .iter()
            .map(|c| {
                format!(
                    "<ns1:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:{c}</ns1:AuthnContextClassRef>"
                )
            })
            .collect();
        let comparison = if comparison.is_empty() {
            String::new()
        } else {
            format!(" Comparison=\"{comparison}\"")
        };
        let xml = PYSAML2.replace(
            "</ns0:AuthnRequest>",
            &format!("<ns0:RequestedAuthnContext{comparison}>{refs}</ns0:RequestedAuthnContext></ns0:AuthnRequest>"),
        );
        IncomingRequest::from_redirect_query(&redirect_query(&xml, None, None))
            .and_then(|m| m.verify_authn_request(&sp(None)))
            .unwrap()
            .password_login_satisfies()
    };
    assert!(asking("", &["PasswordProtectedTransport"]));
    assert!(asking("exact", &["unspecified"]));
    assert!(!asking("", &["MobileTwoFactorContract"]));
    assert!(!asking("exact", &["Password"]));
    assert!(asking("minimum", &["Password"]));
    assert!(!asking("minimum", &["MobileTwoFactorContract"]));
    assert!(asking("better", &["Password"]));
    assert!(!asking("better", &["PasswordProtectedTransport"]));
    assert!(asking("maximum", &["MobileTwoFactorContract"]));
    assert!(!asking("maximum", &["Password"]));
    // And `validate` answers NoAuthnContext.
    let xml = PYSAML2.replace(
        "</ns0:AuthnRequest>",
        "<ns0:RequestedAuthnContext><ns1:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard</ns1:AuthnContextClassRef></ns0:RequestedAuthnContext></ns0:AuthnRequest>",
    );
    let r = IncomingRequest::from_redirect_query(&redirect_query(&xml, None, None))
        .and_then(|m| m.verify_authn_request(&sp(None)))
        .unwrap();
    assert_eq!(
        r.validate(&sp(None), REDIRECT_ENDPOINT, now()),
        Err(SamlError::NoAuthnContext)
    );
}

#[test]
fn force_authn_and_is_passive() {
    let xml = PYSAML2.replace("Version=", "ForceAuthn=\"true\" IsPassive=\"1\" Version=");
    let m = IncomingRequest::from_redirect_query(&redirect_query(&xml, None, None)).unwrap();
    let mut r = m.verify_authn_request(&sp(None)).unwrap();
    assert!(r.force_authn && r.is_passive);
    let cases: &[(bool, bool, bool, Result<LoginAction, SamlError>)] = &[
        // (is_passive, force_authn, has_session) -> action
        (false, false, true, Ok(LoginAction::UseSession)),
        (false, false, false, Ok(LoginAction::ShowLogin)),
        (false, true, true, Ok(LoginAction::ShowLogin)),
        (true, false, true, Ok(LoginAction::UseSession)),
        (true, false, false, Err(SamlError::NoPassive)),
        (true, true, true, Err(SamlError::NoPassive)),
    ];
    for (passive, force, session, expected) in cases {
        r.is_passive = *passive;
        r.force_authn = *force;
        assert_eq!(
            &r.login_action(*session),
            expected,
            "{passive} {force} {session}"
        );
    }
}

/// Made by python3-saml itself (`tests/interop/make_python3_saml_fixtures.py`).
const PYTHON3_SAML_REDIRECT: &str = include_str!("../tests/data/python3_saml_authn_redirect.query");

#[test]
fn python3_saml_signed_redirect() {
    let msg = IncomingRequest::from_redirect_query(PYTHON3_SAML_REDIRECT.trim()).unwrap();
    assert_eq!(msg.relay_state(), Some("https://sp.example/app?x=1&y=2"));
    let sp = sp(Some(SP_CRT));
    let req = msg.verify_authn_request(&sp).unwrap();
    assert!(req.is_signed);
    assert_eq!(
        req.validate(&sp, REDIRECT_ENDPOINT, req.issue_instant),
        Ok(())
    );
    // python3-saml's own edits, one parameter at a time, all break the signature.
    let q = PYTHON3_SAML_REDIRECT.trim();
    let relay_start = q.find("&RelayState=").unwrap();
    let without_relay = {
        let end = q[relay_start + 1..].find('&').unwrap() + relay_start + 1;
        format!("{}{}", &q[..relay_start], &q[end..])
    };
    for (name, query) in [
        ("RelayState dropped", without_relay),
        ("RelayState edited", q.replace("x%3D1", "x%3D2")),
        (
            "Signature dropped",
            q[..q.find("&Signature=").unwrap()].to_owned(),
        ),
    ] {
        let got =
            IncomingRequest::from_redirect_query(&query).and_then(|m| m.verify_authn_request(&sp));
        assert!(got.is_err(), "{name}");
    }
}

#[test]
fn pysaml2_signed_post() {
    // Made by pysaml2 with xmlsec1 (`tests/interop/make_pysaml2_fixture.py`): the `ds`
    // namespace is declared on the root, not on the Signature, which exclusive
    // canonicalization of SignedInfo must handle.
    let xml = include_str!("../tests/data/pysaml2_authn_post_signed.xml");
    let msg = IncomingRequest::from_post_form(&STANDARD.encode(xml), None).unwrap();
    let sp = sp(Some(SP_CRT));
    let req = msg.verify_authn_request(&sp).unwrap();
    assert!(req.is_signed);
    assert_eq!(req.validate(&sp, POST_ENDPOINT, req.issue_instant), Ok(()));
    let tampered = xml.replace("https://sp.example/acs", "https://evil.example/acs");
    let got = IncomingRequest::from_post_form(&STANDARD.encode(tampered), None)
        .and_then(|m| m.verify_authn_request(&sp));
    assert_eq!(
        got.err(),
        Some(SamlError::BadSignature("the digest does not match"))
    );
}
