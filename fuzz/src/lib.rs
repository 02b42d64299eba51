//! The fuzz harness for the metadata reader, shared by the libFuzzer target
//! (`fuzz_targets/parse_metadata.rs`) and the seed-corpus test in `eca-metadata`
//! (`crates/eca-metadata/tests/fuzz_corpus.rs`, which includes this file as a module).
//!
//! The one property checked everywhere is "no input makes the reader panic". On top of that,
//! whatever parses must survive a trip through the canonical writer: the written text parses
//! again and writing it a second time changes nothing.
//!
//! This file is compiled both as this crate's root and as a module of a test crate, so it must
//! not use crate-level attributes.

use eca_metadata::MetadataType;
use eca_metadata::diagnostic::render_human;
use eca_metadata::validate::validate_bytes;
use eca_metadata::xml::{self, MAX_DOCUMENT_BYTES};

/// The component name every fuzzed file is given.
pub const FULL_NAME: &str = "Fuzz";

/// The type a selector byte picks: `b'A'` is the first entry of [`MetadataType::ALL`], `b'B'` the
/// second and so on, so that seed files can name their type with a readable letter; every other
/// byte wraps around the list, so the fuzzer reaches every type from any byte.
pub fn pick_type(selector: u8) -> MetadataType {
    let all = MetadataType::ALL;
    let index = usize::from(selector.wrapping_sub(b'A'));
    match all.get(index) {
        Some(ty) => *ty,
        None => all[usize::from(selector) % all.len()],
    }
}

/// Runs every reader entry point on `data`; panics only on a bug.
pub fn run(data: &[u8]) {
    // (a) The XML layer on the bytes exactly as given.
    let parsed = xml::parse_bytes(data);
    if let Ok(document) = &parsed {
        check_canonical_round_trip(&document.root);
    }

    // (b) One file of a type chosen by the first byte, the rest being the file.
    if let Some((&selector, rest)) = data.split_first() {
        read_component(pick_type(selector), rest);
    }

    // (c) A well-formed document whose root names a type is also read as that type, so plain
    // XML seeds reach the per-type checks without a selector byte.
    if let Ok(document) = &parsed
        && let Some(ty) = MetadataType::from_name(&document.root.name)
    {
        read_component(ty, data);
    }
}

/// Validates one file of type `ty` in isolation (the raw layer, the schema tables and the
/// per-type rules; the cross-file checks need a project) and renders every diagnostic the way
/// `eca validate` prints it.
fn read_component(ty: MetadataType, bytes: &[u8]) {
    let diagnostics = validate_bytes(ty, FULL_NAME, bytes);
    // An empty report means the file is valid, and bytes the XML layer refuses never are.
    if diagnostics.is_empty() {
        assert!(
            xml::parse_bytes(bytes).is_ok(),
            "validate_bytes reported nothing for a file the XML layer refuses"
        );
    }
    // Positions are computed on the text without its byte-order mark, as the reader sees it,
    // with every line end (CR LF, CR or LF) read as one (XML 1.0 §2.11).
    let source = std::str::from_utf8(bytes)
        .ok()
        .map(|text| text.strip_prefix('\u{feff}').unwrap_or(text));
    let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
    let last_line = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() - crlf + 1;
    for diagnostic in &diagnostics {
        assert!(
            usize::try_from(diagnostic.line).is_ok_and(|line| line <= last_line),
            "diagnostic points past the end of a {last_line}-line file: {diagnostic:?}"
        );
        let _ = render_human(diagnostic, source);
    }
}

/// Canonical output must parse again, and canonical form must be a fixed point.
fn check_canonical_round_trip(root: &xml::Element) {
    let first = xml::write_canonical(root);
    // Escaping can grow a value sixfold (`'` becomes `&apos;`), so a document near the size limit
    // may legitimately write out larger than the reader accepts.
    if first.len() > MAX_DOCUMENT_BYTES {
        return;
    }
    let reparsed = match xml::parse_str(&first) {
        Ok(document) => document,
        Err(e) => panic!("canonical output does not parse again: {e}\n{first}"),
    };
    let second = xml::write_canonical(&reparsed.root);
    assert!(
        first == second,
        "writing canonical output again changed it\n--- first\n{first}\n--- second\n{second}"
    );
}
