//! RSA key pairs and self-signed X.509 certificates for the OAuth 2.0 JWT bearer flow
//! (RFC 7523). Salesforce verifies the JWT signature with the certificate stored in the app's
//! global OAuth settings (`spec/metadata.md` §9.3); the private key stays with the client.
//! Used by `eca cert new` and by `eca app new --flows jwt-bearer`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// How long before `now` a new certificate starts to be valid, so that a server whose clock is
/// a little behind ours still accepts it.
const CLOCK_SKEW_SECS: i64 = 300;

/// A freshly generated key pair and certificate, both PEM.
#[derive(Debug)]
pub struct KeyAndCertificate {
    /// PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
    pub cert_pem: String,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
}

/// Where [`write`] put the two files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub key: PathBuf,
    pub certificate: PathBuf,
}

/// Generates an RSA-2048 key and a certificate for it, self-signed with SHA-256 with RSA,
/// valid from (about) `now` for `days` days.
pub fn generate(common_name: &str, days: u32, now: i64) -> anyhow::Result<KeyAndCertificate> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .context("cannot generate an RSA key")?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let start = now.saturating_sub(CLOCK_SKEW_SECS).max(0);
    let end = now.saturating_add(i64::from(days) * 86_400);
    // rcgen takes `time` dates; building them from its own epoch date keeps `time` out of our
    // dependencies.
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(u64::try_from(start).unwrap_or(0));
    params.not_after = epoch + Duration::from_secs(u64::try_from(end).unwrap_or(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    Ok(KeyAndCertificate {
        key_pem: key.serialize_pem(),
        cert_pem: cert.pem(),
        not_after: end,
    })
}

/// Writes `NAME.key` (mode 0600 on unix) and `NAME.crt` into `dir`. Refuses to replace either
/// file unless `overwrite`.
pub fn write(
    dir: &Path,
    name: &str,
    pair: &KeyAndCertificate,
    overwrite: bool,
) -> anyhow::Result<Written> {
    let written = Written {
        key: dir.join(format!("{name}.key")),
        certificate: dir.join(format!("{name}.crt")),
    };
    if !overwrite {
        let existing: Vec<String> = [&written.key, &written.certificate]
            .into_iter()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!(
                "{} already exist{}; pass another name, or --force to replace {}",
                existing.join(" and "),
                if existing.len() == 1 { "s" } else { "" },
                if existing.len() == 1 { "it" } else { "them" }
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_private(&written.key, pair.key_pem.as_bytes(), overwrite)?;
    std::fs::write(&written.certificate, &pair.cert_pem)
        .with_context(|| format!("cannot write {}", written.certificate.display()))?;
    Ok(written)
}

/// Writes a private key so that only its owner can read it, from the moment it exists.
fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        // `mode` applies only to new files; an old key being replaced keeps its mode otherwise.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    #[cfg(not(unix))]
    {
        let mut file = options
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The base64 body of the first `CERTIFICATE` block of a PEM text, without the BEGIN/END
/// lines and keeping its 64-character lines: the form Salesforce retrieves in
/// `ExtlClntAppGlobalOauthSettings.certificate` (`spec/metadata.md` §2.3).
pub fn pem_body(pem: &str) -> Option<String> {
    let mut lines = pem.lines().map(str::trim);
    lines.find(|l| *l == "-----BEGIN CERTIFICATE-----")?;
    let mut body = Vec::new();
    for line in lines {
        if line == "-----END CERTIFICATE-----" {
            return (!body.is_empty()).then(|| body.join("\n"));
        }
        if !line.is_empty() {
            body.push(line);
        }
    }
    None
}

/// A file name made from a common name: letters, digits, `-`, `_` and `.` are kept, runs of
/// anything else become one `_`.
pub fn file_name_for(common_name: &str) -> String {
    let mut out = String::new();
    for c in common_name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches(|c| c == '_' || c == '.');
    if trimmed.is_empty() {
        "certificate".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_767_225_599), "2025-12-31");
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name_for("My App (CI)"), "My_App_CI");
        assert_eq!(file_name_for("ci.example.com"), "ci.example.com");
        assert_eq!(file_name_for("../.."), "certificate");
    }

    #[test]
    fn pem_bodies() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_body(pem).as_deref(), Some("MIIB\nAAAA"));
        assert_eq!(
            pem_body("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"),
            None
        );
    }
}
