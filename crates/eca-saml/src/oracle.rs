//! Test-only: Debian's `xmlsec1` command as an independent judge of our signatures. Tests
//! that use it print a visible note and pass without judging when it is not installed
//! (`apt-get install -y xmlsec1`).

use std::io::Write as _;
use std::process::Command;

/// `Some(true)` when `xmlsec1 --verify` accepts the first signature in `xml` (of the
/// element `id_node`, e.g. `urn:oasis:names:tc:SAML:2.0:assertion:Assertion`, whose `ID`
/// attribute is an XML ID) with the certificate at `cert_path`; `None` without xmlsec1.
pub fn xmlsec1_verify(xml: &str, cert_path: &str, id_node: &str) -> Option<bool> {
    let version = Command::new("xmlsec1").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        eprintln!("NOTE: xmlsec1 is not installed; skipping the xmlsec1 oracle check");
        return None;
    }
    let mut file = tempfile::NamedTempFile::new().ok()?;
    file.write_all(xml.as_bytes()).ok()?;
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--pubkey-cert-pem",
            cert_path,
            "--id-attr:ID",
            id_node,
        ])
        .arg(file.path())
        .output()
        .ok()?;
    Some(out.status.success())
}

/// A path under `tests/data/`.
pub fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}
