//! libFuzzer entry point: arbitrary bytes into the metadata reader (see `src/lib.rs`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eca_metadata_fuzz::run(data));
