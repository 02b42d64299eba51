//! Prints a signed SAML Response (base64, the `SAMLResponse` form value) built with the
//! test keys, for checking with real SP libraries (`tests/interop/check_sp_libraries.py`):
//! `cargo run -p eca-saml --example interop_response -- [sign] [encrypt] [request-id]`
//! where `sign` is `both` (default), `assertion` or `response`, and `encrypt` is `none`
//! (default), `gcm` or `cbc`.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use eca_core::rng::SystemRng;
use eca_core::{Clock as _, SystemClock, UserId};
use eca_metadata::model::{NameIdFormat, SamlEncryptionType, SamlPolicies};
use eca_saml::keys::IdpKey;
use eca_saml::response::{
    PersistentIdKey, ResponseParams, SignParts, SubjectSource, build_response,
};
use eca_saml::{EntityId, RequestId, ServiceProvider};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sign = match args.first().map(String::as_str) {
        Some("assertion") => SignParts {
            assertion: true,
            response: false,
        },
        Some("response") => SignParts {
            assertion: false,
            response: true,
        },
        _ => SignParts::default(),
    };
    let cbc = match args.get(1).map(String::as_str) {
        Some("gcm") => Some(false),
        Some("cbc") => Some(true),
        _ => None,
    };
    let request = args.get(2).map(|r| RequestId::parse(r).unwrap());
    let key = IdpKey::from_pem(
        include_str!("../tests/data/idp.key"),
        include_str!("../tests/data/idp.crt"),
    )
    .unwrap();
    let sp = ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs".into()),
        name_id_format: Some(NameIdFormat::EmailAddress),
        encryption_certificate: cbc.map(|_| include_str!("../tests/data/sp.crt").to_owned()),
        encryption_type: Some(SamlEncryptionType::Aes128),
        ..SamlPolicies::default()
    })
    .unwrap();
    let encryption = sp.encryption_key(cbc.unwrap_or(false)).unwrap();
    let user = UserId::parse("005000000000001AAA").unwrap();
    let issuer = EntityId::new("https://acme.example");
    let attributes = vec![
        ("email".to_owned(), "ada@acme.example".to_owned()),
        ("groups".to_owned(), "a".to_owned()),
        ("groups".to_owned(), "b".to_owned()),
    ];
    let now = SystemClock.now();
    let params = ResponseParams {
        sp: &sp,
        idp_issuer: &issuer,
        in_response_to: request.as_ref(),
        subject: SubjectSource {
            user_id: &user,
            username: "ada@acme.example",
            federation_id: None,
            custom_attribute: None,
        },
        session_index: "_session1",
        authn_instant: now,
        attributes: &attributes,
        sign,
        encryption: encryption.as_ref().map(|(k, c)| (k, *c)),
    };
    let persistent = PersistentIdKey::new(&[1u8; 32]).unwrap();
    let r = build_response(&params, &key, &persistent, now, &SystemRng).unwrap();
    println!("{}", r.to_base64());
}
