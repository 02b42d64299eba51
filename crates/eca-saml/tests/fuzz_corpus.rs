//! Runs the SAML request fuzz harness over its committed seed corpus (`fuzz/saml-seeds/`), so
//! every input the fuzzer starts from, and every crash it ever found, is checked on each
//! ordinary test run without libFuzzer or a nightly toolchain (`docs/fuzzing.md`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

// One harness, two drivers: the fuzz target and this test compile the same file.
#[path = "../../../fuzz/src/authn_request.rs"]
mod harness;

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/saml-seeds")
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir();
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("readable seed directory").path();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (
                path.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                bytes,
            )
        })
        .collect();
    seeds.sort();
    seeds
}

fn run_one(label: &str, input: &[u8], failures: &mut Vec<String>) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| harness::run(input))) {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(non-string panic)");
        failures.push(format!("{label}: {message}"));
    }
}

#[test]
fn no_seed_panics() {
    let seeds = seeds();
    assert!(
        seeds.len() >= 10,
        "expected the seed corpus in {}",
        seeds_dir().display()
    );
    let mut failures = Vec::new();
    for (name, bytes) in &seeds {
        run_one(name, bytes, &mut failures);
        // Each seed's payload also by every other delivery.
        if let Some((_, rest)) = bytes.split_first() {
            for selector in b'0'..=b'3' {
                let mut input = vec![selector];
                input.extend_from_slice(rest);
                run_one(
                    &format!("{name} as {}", char::from(selector)),
                    &input,
                    &mut failures,
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The seeds reach past decoding: the signed POST seed is accepted by the pinned SP and the
/// wrapped copy of it is not, so the harness exercises signature checking, not only parsing.
#[test]
fn signed_seeds_verify_and_wrapped_ones_do_not() {
    use eca_saml::authn_request::IncomingRequest;
    let read = |name: &str| std::fs::read(seeds_dir().join(name)).expect("a seed");
    let sp = eca_saml::ServiceProvider::from_policies(&eca_metadata::model::SamlPolicies {
        entity_url: Some("e".into()),
        acs_url: Some("a".into()),
        certificate: Some(include_str!("data/sp.crt").into()),
        ..Default::default()
    })
    .expect("an SP");
    let decode = |bytes: &[u8]| {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes[1..]);
        IncomingRequest::from_post_form(&b64, None).expect("decodes")
    };
    let signed = decode(&read("post-xml-signed-authn.xml"));
    assert!(signed.verify_authn_request(&sp).is_ok_and(|r| r.is_signed));
    let wrapped = decode(&read("post-xml-signature-wrapping.xml"));
    assert!(wrapped.verify_authn_request(&sp).is_err());
}
