//! Hostile-input smoke tests: mutated and truncated copies of real messages go through every
//! parser and verifier; each must answer with a value or a `SamlError`, never a panic. (A
//! fuzz harness would call the same entry points.)

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eca_core::Rng as _;
use eca_core::rng::DeterministicRng;
use eca_metadata::model::SamlPolicies;

use crate::binding::IncomingRequest;
use crate::keys::test_keys::SP_CRT;
use crate::service_provider::ServiceProvider;

const FIXTURES: &[&str] = &[
    include_str!("../tests/data/authn_request_post_signed.xml"),
    include_str!("../tests/data/authn_request_pysaml2.xml"),
    include_str!("../tests/data/logout_request_post_signed.xml"),
];

fn mutate(input: &[u8], rng: &DeterministicRng) -> Vec<u8> {
    let mut out = input.to_vec();
    let mut b = [0u8; 4];
    rng.fill(&mut b);
    match b[0] % 4 {
        0 => {
            let i = usize::from(u16::from_le_bytes([b[1], b[2]])) % out.len().max(1);
            if let Some(x) = out.get_mut(i) {
                *x = b[3];
            }
        }
        1 => out.truncate(usize::from(u16::from_le_bytes([b[1], b[2]])) % (input.len() + 1)),
        2 => {
            let i = usize::from(u16::from_le_bytes([b[1], b[2]])) % (out.len() + 1);
            let piece: &[u8] = match b[3] % 6 {
                0 => b"<",
                1 => b"&amp;",
                2 => b"<!DOCTYPE x>",
                3 => b"\"",
                4 => b"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>",
                _ => b"]]>",
            };
            out.splice(i..i, piece.iter().copied());
        }
        _ => {
            let i = usize::from(b[1]) % out.len().max(1);
            out.drain(i..(i + usize::from(b[2] % 16)).min(out.len()));
        }
    }
    out
}

#[test]
fn mutated_messages_never_panic() {
    let rng = DeterministicRng::new(42);
    let sps = [
        ServiceProvider::from_policies(&SamlPolicies {
            entity_url: Some("https://sp.example/metadata".into()),
            acs_url: Some("https://sp.example/acs".into()),
            certificate: Some(SP_CRT.into()),
            ..SamlPolicies::default()
        })
        .unwrap(),
        ServiceProvider::from_policies(&SamlPolicies {
            entity_url: Some("https://sp.example/metadata".into()),
            acs_url: Some("https://sp.example/acs".into()),
            ..SamlPolicies::default()
        })
        .unwrap(),
    ];
    for fixture in FIXTURES {
        for _ in 0..300 {
            let bytes = mutate(fixture.as_bytes(), &rng);
            let form = STANDARD.encode(&bytes);
            let query = format!(
                "SAMLRequest={}",
                String::from_utf8_lossy(&mutate(form.as_bytes(), &rng))
            );
            for msg in [
                IncomingRequest::from_post_form(&form, Some("rs")),
                IncomingRequest::from_redirect_query(&query),
            ]
            .into_iter()
            .flatten()
            {
                let _ = msg.issuer_unverified();
                for sp in &sps {
                    let _ = msg.verify_authn_request(sp);
                    let _ = msg.verify_logout_request(sp);
                }
            }
        }
    }
}
