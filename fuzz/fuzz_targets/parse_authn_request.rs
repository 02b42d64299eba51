//! libFuzzer entry point: arbitrary bytes into the SAML request decoders, by either binding
//! (see `src/authn_request.rs`).

#![no_main]

#[path = "../src/authn_request.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
