//! Signed Responses per second with the test RSA-2048 key (issue 7 asks for the number):
//! `cargo run --release -p eca-saml --example sign_throughput [seconds]`.
//!
//! Each iteration builds a Response with a signed Assertion and signs the Response too (two
//! RSA-2048 signatures, two SHA-256 digests, canonicalization of both).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use eca_core::rng::DeterministicRng;
use eca_core::{Timestamp, UserId};
use eca_metadata::model::SamlPolicies;
use eca_saml::keys::IdpKey;
use eca_saml::response::{
    PersistentIdKey, ResponseParams, SignParts, SubjectSource, build_response,
};
use eca_saml::{EntityId, RequestId, ServiceProvider};

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let key = IdpKey::from_pem(
        include_str!("../tests/data/idp.key"),
        include_str!("../tests/data/idp.crt"),
    )
    .unwrap();
    let sp = ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example/metadata".into()),
        acs_url: Some("https://sp.example/acs".into()),
        ..SamlPolicies::default()
    })
    .unwrap();
    let user = UserId::parse("005000000000001AAA").unwrap();
    let issuer = EntityId::new("https://acme.example");
    let request = RequestId::parse("_req").unwrap();
    let attributes = vec![
        ("email".to_owned(), "ada@acme.example".to_owned()),
        ("country".to_owned(), "FR".to_owned()),
    ];
    let persistent = PersistentIdKey::new(&[1u8; 32]).unwrap();
    let rng = DeterministicRng::new(1);
    let params = ResponseParams {
        sp: &sp,
        idp_issuer: &issuer,
        in_response_to: Some(&request),
        subject: SubjectSource {
            user_id: &user,
            username: "ada@acme.example",
            federation_id: None,
            custom_attribute: None,
        },
        session_index: "_s",
        authn_instant: Timestamp::from_secs(1_795_651_200),
        attributes: &attributes,
        sign: SignParts::default(),
        encryption: None,
    };
    // Benchmarks may read the wall clock; library code may not.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut n = 0u64;
    #[allow(clippy::disallowed_methods)]
    while start.elapsed().as_secs() < seconds {
        build_response(
            &params,
            &key,
            &persistent,
            Timestamp::from_secs(1_795_651_200),
            &rng,
        )
        .unwrap();
        n += 1;
    }
    #[allow(clippy::disallowed_methods)]
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} Responses (each with a signed Assertion and a signed Response) in {secs:.2} s: {:.0}/s, {:.0} RSA-2048 signatures/s",
        n as f64 / secs,
        2.0 * n as f64 / secs
    );
}
