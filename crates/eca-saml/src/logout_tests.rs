use std::io::Read as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eca_core::rng::DeterministicRng;
use eca_metadata::model::SamlPolicies;

use super::*;
use crate::binding::url_encode;
use crate::keys::test_keys::{IDP_CRT, SP_CRT, idp, sp as sp_key};
use crate::keys::{Certificate, SignatureAlgorithm};
use crate::oracle::{data, xmlsec1_verify};

const SIGNED_POST: &str = include_str!("../tests/data/logout_request_post_signed.xml");
const UNSIGNED: &str = include_str!("../tests/data/logout_request_python3_saml.xml");
const ENDPOINT: &str = "https://acme.example/services/auth/idp/saml2/logout";

fn now() -> Timestamp {
    datetime::parse("2026-11-26T18:01:00Z").unwrap()
}

fn sp(cert: Option<&str>, binding: Option<SamlBinding>) -> ServiceProvider {
    ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs".into()),
        certificate: cert.map(str::to_owned),
        single_logout_url: Some("https://sp.example/slo?x=1".into()),
        single_logout_binding: binding,
        ..SamlPolicies::default()
    })
    .unwrap()
}

#[test]
fn post_signed_by_xmlsec1() {
    let msg = IncomingRequest::from_post_form(&STANDARD.encode(SIGNED_POST), Some("rs")).unwrap();
    let sp = sp(Some(SP_CRT), None);
    let req = msg.verify_logout_request(&sp).unwrap();
    assert_eq!(
        req,
        LogoutRequest {
            id: RequestId::parse("ONELOGIN_21df91a89767879fc0f7df6a1490c6000c81644d").unwrap(),
            issue_instant: datetime::parse("2026-11-26T18:00:00Z").unwrap(),
            issuer: Some(EntityId::new("https://sp.example/metadata")),
            destination: Some(ENDPOINT.into()),
            not_on_or_after: None,
            name_id: "ada@acme.example".into(),
            name_id_format: Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()),
            session_indexes: vec!["_session1".into()],
            binding: Binding::Post,
            is_signed: true,
        }
    );
    assert_eq!(req.validate(&sp, ENDPOINT, now()), Ok(()));

    let cases: &[(&str, String, SamlError)] = &[
        (
            "edited NameID",
            SIGNED_POST.replace(">ada@acme.example<", ">eve@acme.example<"),
            SamlError::BadSignature("the digest does not match"),
        ),
        ("unsigned", UNSIGNED.to_owned(), SamlError::MissingSignature),
    ];
    for (name, xml, expected) in cases {
        let got = IncomingRequest::from_post_form(&STANDARD.encode(xml), None)
            .and_then(|m| m.verify_logout_request(&sp));
        assert_eq!(got.as_ref().err(), Some(expected), "{name}");
    }
}

#[test]
fn redirect_signed_by_the_sp() {
    let q = redirect_query("SAMLRequest", UNSIGNED, Some("rs"), &sp_key()).unwrap();
    let msg = IncomingRequest::from_redirect_query(&q).unwrap();
    let req = msg.verify_logout_request(&sp(Some(SP_CRT), None)).unwrap();
    assert!(req.is_signed);
    assert_eq!(req.binding, Binding::Redirect);
    let tampered = q.replace("RelayState=rs", "RelayState=rt");
    let got = IncomingRequest::from_redirect_query(&tampered)
        .and_then(|m| m.verify_logout_request(&sp(Some(SP_CRT), None)));
    assert_eq!(
        got.err(),
        Some(SamlError::BadSignature(
            "the signature value does not verify"
        ))
    );
}

#[test]
fn validation() {
    let base = IncomingRequest::from_post_form(&STANDARD.encode(SIGNED_POST), None)
        .unwrap()
        .verify_logout_request(&sp(Some(SP_CRT), None))
        .unwrap();
    let sp = sp(Some(SP_CRT), None);
    type Edit = fn(&mut LogoutRequest, &mut Timestamp);
    let cases: &[(&str, Edit, Result<(), SamlError>)] = &[
        ("as sent", |_, _| {}, Ok(())),
        (
            "other issuer",
            |r, _| r.issuer = Some(EntityId::new("https://other.example")),
            Err(SamlError::UnknownServiceProvider),
        ),
        (
            "other destination",
            |r, _| r.destination = Some("https://x.example/".into()),
            Err(SamlError::DestinationMismatch),
        ),
        (
            "expired",
            |r, now| r.not_on_or_after = Some(now.plus_secs(-CLOCK_SKEW_SECS - 1)),
            Err(SamlError::StaleRequest),
        ),
        (
            "not yet expired",
            |r, now| r.not_on_or_after = Some(now.plus_secs(60)),
            Ok(()),
        ),
        (
            "too old",
            |_, now| *now = now.plus_secs(MAX_LOGOUT_AGE_SECS + CLOCK_SKEW_SECS + 61),
            Err(SamlError::StaleRequest),
        ),
    ];
    for (name, edit, expected) in cases {
        let (mut r, mut t) = (base.clone(), now());
        edit(&mut r, &mut t);
        assert_eq!(&r.validate(&sp, ENDPOINT, t), expected, "{name}");
    }
    let no_name_id = UNSIGNED.replace("saml:NameID", "saml:Other");
    let got = IncomingRequest::from_post_form(&STANDARD.encode(no_name_id), None)
        .and_then(|m| m.verify_logout_request(&sp_no_cert()));
    assert_eq!(got.err(), Some(SamlError::Malformed("no NameID")));
}

fn sp_no_cert() -> ServiceProvider {
    sp(None, None)
}

fn request() -> LogoutRequest {
    IncomingRequest::from_post_form(&STANDARD.encode(UNSIGNED), None)
        .unwrap()
        .verify_logout_request(&sp_no_cert())
        .unwrap()
}

#[test]
fn post_logout_response_is_signed() {
    let sp = sp(None, Some(SamlBinding::PostBinding));
    let issuer = EntityId::new("https://acme.example");
    let d = build_logout_response(
        &sp,
        &issuer,
        &request(),
        SUCCESS,
        Some("rs"),
        &idp(),
        now(),
        &DeterministicRng::new(1),
    )
    .unwrap();
    let LogoutDelivery::Post {
        url,
        saml_response,
        relay_state,
    } = d
    else {
        panic!("expected POST");
    };
    assert_eq!(url, "https://sp.example/slo?x=1");
    assert_eq!(relay_state.as_deref(), Some("rs"));
    let xml = String::from_utf8(STANDARD.decode(saml_response).unwrap()).unwrap();
    assert!(xml.contains("InResponseTo=\"ONELOGIN_21df91a89767879fc0f7df6a1490c6000c81644d\""));
    assert!(xml.contains("Destination=\"https://sp.example/slo?x=1\""));
    assert!(xml.contains("urn:oasis:names:tc:SAML:2.0:status:Success"));
    let doc = crate::xml::parse(&xml).unwrap();
    let cert = Certificate::parse(IDP_CRT).unwrap();
    assert_eq!(
        crate::dsig::verify_enveloped(doc.root_element(), &cert, false),
        Ok(())
    );
    let node = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse";
    if let Some(ok) = xmlsec1_verify(&xml, &data("idp.crt"), node) {
        assert!(ok, "xmlsec1 refused our LogoutResponse:\n{xml}");
    }
}

#[test]
fn redirect_logout_response_is_signed_in_the_query() {
    // No registered binding: the request's binding (Redirect here) is used.
    let mut req = request();
    req.binding = Binding::Redirect;
    let d = build_logout_response(
        &sp(None, None),
        &EntityId::new("https://acme.example"),
        &req,
        SUCCESS,
        None,
        &idp(),
        now(),
        &DeterministicRng::new(1),
    )
    .unwrap();
    let LogoutDelivery::Redirect { url } = d else {
        panic!("expected Redirect");
    };
    let query = url.strip_prefix("https://sp.example/slo?x=1&").unwrap();
    let (signed, signature) = query.split_once("&Signature=").unwrap();
    assert!(signed.starts_with("SAMLResponse="));
    assert!(signed.ends_with(&format!(
        "&SigAlg={}",
        url_encode(SignatureAlgorithm::RsaSha256.uri())
    )));
    let sig = STANDARD
        .decode(
            signature
                .replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "="),
        )
        .unwrap();
    let cert = Certificate::parse(IDP_CRT).unwrap();
    assert_eq!(
        cert.verify(SignatureAlgorithm::RsaSha256, signed.as_bytes(), &sig),
        Ok(())
    );
    // The message itself carries no XML signature (Bindings §3.4.4.1).
    let b64 = signed
        .strip_prefix("SAMLResponse=")
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(STANDARD.decode(b64).unwrap().as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.starts_with("<samlp:LogoutResponse "));
    assert!(!xml.contains("Signature"));
}

#[test]
fn no_single_logout_url() {
    let mut sp = sp(None, None);
    sp.single_logout_url = None;
    let got = build_logout_response(
        &sp,
        &EntityId::new("https://acme.example"),
        &request(),
        SUCCESS,
        None,
        &idp(),
        now(),
        &DeterministicRng::new(1),
    );
    assert_eq!(
        got.err(),
        Some(SamlError::Configuration("no singleLogoutUrl"))
    );
}

#[test]
fn python3_saml_signed_logout_redirect() {
    let q = include_str!("../tests/data/python3_saml_logout_redirect.query").trim();
    let msg = IncomingRequest::from_redirect_query(q).unwrap();
    let sp = sp(Some(SP_CRT), None);
    let req = msg.verify_logout_request(&sp).unwrap();
    assert!(req.is_signed);
    assert_eq!(req.name_id, "ada@acme.example");
    assert_eq!(req.session_indexes, ["_session1"]);
    assert_eq!(req.validate(&sp, ENDPOINT, req.issue_instant), Ok(()));
    assert_eq!(msg.relay_state(), Some("https://sp.example/bye"));
}

/// What a LogoutRequest may carry is bounded: it travels through the login page in a ticket.
#[test]
fn names_session_indexes_and_relay_states_are_bounded() {
    let read = |xml: &str, relay: Option<&str>| {
        IncomingRequest::from_post_form(&STANDARD.encode(xml), relay)
            .and_then(|m| m.verify_logout_request(&sp_no_cert()))
    };
    let long = "a".repeat(257);
    let longer = "a".repeat(2049);
    // A federation id of 512 four-byte characters is a name the IdP itself gives out.
    let federation = "é".repeat(1024);
    assert!(read(&UNSIGNED.replace("ada@acme.example", &federation), None).is_ok());
    let cases = [
        (
            UNSIGNED.replace("ada@acme.example", &longer),
            "the NameID is longer than 2048 bytes",
        ),
        (
            UNSIGNED.replace("_session1", &long),
            "a SessionIndex is longer than 256 bytes",
        ),
        (
            UNSIGNED.replace(
                "<samlp:SessionIndex>_session1</samlp:SessionIndex>",
                &"<samlp:SessionIndex>_s</samlp:SessionIndex>".repeat(9),
            ),
            "more than 8 SessionIndex elements",
        ),
    ];
    for (xml, message) in cases {
        assert_eq!(read(&xml, None).err(), Some(SamlError::Malformed(message)));
    }
    let eight = UNSIGNED.replace(
        "<samlp:SessionIndex>_session1</samlp:SessionIndex>",
        &"<samlp:SessionIndex>_s</samlp:SessionIndex>".repeat(8),
    );
    assert_eq!(read(&eight, None).unwrap().session_indexes.len(), 8);
    let relay = "r".repeat(1025);
    assert_eq!(
        read(UNSIGNED, Some(&relay)).err(),
        Some(SamlError::Malformed(
            "the RelayState is longer than 1024 bytes"
        ))
    );
    assert!(read(UNSIGNED, Some(&relay[..1024])).is_ok());
}
