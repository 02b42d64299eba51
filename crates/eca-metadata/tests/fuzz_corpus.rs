//! Runs the fuzz harness over the committed seed corpus, so that every input the fuzzer starts
//! from (and every crash it ever found, saved there with a descriptive name) is checked on each
//! ordinary test run, without libFuzzer or a nightly toolchain (`docs/fuzzing.md`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

// One harness, two drivers: the fuzz target and this test compile the same file.
#[path = "../../../fuzz/src/lib.rs"]
mod harness;

use eca_metadata::MetadataType;

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir();
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("readable seed directory").path();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            );
            (name, bytes)
        })
        .collect();
    seeds.sort();
    seeds
}

/// Runs the harness on `input`, turning a panic into a failure line that names the seed.
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
        // Each seed also as a file of every type, through the selector byte.
        for (index, ty) in MetadataType::ALL.iter().enumerate() {
            let selector = b'A' + u8::try_from(index).unwrap();
            let mut input = vec![selector];
            input.extend_from_slice(bytes);
            run_one(&format!("{name} read as {ty}"), &input, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} panics:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn selector_letters_name_types_in_catalogue_order() {
    for (index, ty) in MetadataType::ALL.iter().enumerate() {
        let selector = b'A' + u8::try_from(index).unwrap();
        assert_eq!(harness::pick_type(selector), *ty);
    }
    // Every byte picks some type.
    for byte in 0..=u8::MAX {
        let _ = harness::pick_type(byte);
    }
}
