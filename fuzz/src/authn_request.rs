//! The fuzz harness for the SAML request decoders of `eca-saml` (issue 7, "Safe XML"): the
//! HTTP-Redirect binding (query string, base64, raw DEFLATE) and the HTTP-POST binding
//! (base64 form value), then signature checking and validation of AuthnRequests and
//! LogoutRequests. Shared by the libFuzzer target (`fuzz_targets/parse_authn_request.rs`) and
//! the seed-corpus test in `eca-saml` (`crates/eca-saml/tests/fuzz_corpus.rs`, which includes
//! this file as a module), like `lib.rs` for the metadata reader.
//!
//! The property checked is "no input makes the decoders panic", plus: a service provider with
//! a certificate never accepts a request that is not signed with its key (the fuzzer has no
//! key, so every accepted request must have come from a seed signed with the test key), and a
//! request accepted without a certificate is never reported as signed.
//!
//! The first byte picks how the rest is delivered:
//!
//! | selector (mod 4) | the rest is |
//! |---|---|
//! | 0 | a Redirect-binding query string, as received |
//! | 1 | the XML of a Redirect-binding message (DEFLATEd, base64'd and URL-encoded here) |
//! | 2 | the XML of a POST-binding message (base64'd here) |
//! | 3 | a POST-binding `SAMLRequest` form value, as received |

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eca_core::Timestamp;
use eca_metadata::model::SamlPolicies;
use eca_saml::ServiceProvider;
use eca_saml::authn_request::IncomingRequest;
use eca_saml::binding::url_encode;

/// The test SP certificate of `eca-saml` (its key signs the signed seeds).
const SP_CRT: &str = include_str!("../../crates/eca-saml/tests/data/sp.crt");
/// The endpoint the seeds are addressed to.
pub const ENDPOINT: &str = "https://idp.example.com/idp/endpoint/HttpRedirect";
/// The time the seeds are dated (2026-11-26T00:00:00Z).
pub const NOW: Timestamp = Timestamp::from_secs(1_795_651_200);

fn service_provider(certificate: Option<&str>) -> ServiceProvider {
    ServiceProvider::from_policies(&SamlPolicies {
        entity_url: Some("https://sp.example.com/metadata".to_owned()),
        acs_url: Some("https://sp.example.com/acs".to_owned()),
        certificate: certificate.map(str::to_owned),
        ..SamlPolicies::default()
    })
    .unwrap_or_else(|e| panic!("the harness's service provider: {e}"))
}

/// Runs the decoders on `data`; panics only on a bug.
pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let incoming = match selector % 4 {
        0 => IncomingRequest::from_redirect_query(&text),
        1 => {
            let mut deflate =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            if deflate.write_all(rest).is_err() {
                return;
            }
            let Ok(deflated) = deflate.finish() else {
                return;
            };
            let query = format!(
                "SAMLRequest={}&RelayState=fuzz",
                url_encode(&STANDARD.encode(deflated))
            );
            IncomingRequest::from_redirect_query(&query)
        }
        2 => IncomingRequest::from_post_form(&STANDARD.encode(rest), Some("fuzz")),
        _ => IncomingRequest::from_post_form(&text, None),
    };
    let Ok(incoming) = incoming else {
        return;
    };
    let _ = incoming.issuer_unverified();
    let _ = incoming.relay_state();

    let open = service_provider(None);
    let pinned = service_provider(Some(SP_CRT));
    for sp in [&open, &pinned] {
        if let Ok(request) = incoming.verify_authn_request(sp) {
            assert!(
                sp.request_certificate.is_some() || !request.is_signed,
                "a request accepted without a certificate is reported as signed"
            );
            assert!(
                sp.request_certificate.is_none() || request.is_signed,
                "a service provider with a certificate accepted an unsigned request"
            );
            let _ = request.validate(sp, ENDPOINT, NOW);
            let _ = request.login_action(true);
            let _ = request.login_action(false);
        }
        if let Ok(request) = incoming.verify_logout_request(sp) {
            assert!(sp.request_certificate.is_none() || request.is_signed);
            let _ = request.validate(sp, ENDPOINT, NOW);
        }
    }
}
