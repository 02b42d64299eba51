//! Checks of single values: URLs, IP addresses, X.509 certificates, formulas.

use std::net::IpAddr;

use crate::formula::{self, Expr};
use crate::suggest;

/// Checks that a value is an absolute URI: a scheme, then (for http and https) `//` and a host.
/// Custom schemes such as `myapp://callback` or `com.example.app:/oauth` are allowed, as
/// Salesforce allows them for mobile callbacks.
pub fn check_absolute_url(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the URL is empty".into());
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the URL contains whitespace ({c:?})"));
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        // `https://` + `/callback` would suggest `https:///callback`.
        if value.starts_with('/') {
            return Err(format!(
                "`{value}` is a path; write an absolute URL such as https://app.example.com{value}"
            ));
        }
        return Err(format!(
            "`{value}` has no scheme; write an absolute URL such as https://{value}"
        ));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("`{scheme}` is not a URL scheme"));
    }
    if rest.is_empty() {
        return Err(format!("`{value}` has nothing after the scheme"));
    }
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        let Some(after) = rest.strip_prefix("//") else {
            return Err(format!("`{value}` needs `//` and a host after `{scheme}:`"));
        };
        let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        let host = if host_port.starts_with('[') {
            host_port.split(']').next().unwrap_or_default()
        } else {
            host_port.split(':').next().unwrap_or_default()
        };
        if host.is_empty() || host == "[" {
            return Err(format!("`{value}` has no host"));
        }
        if let Some((_, port)) = host_port.rsplit_once(':')
            && !host_port.ends_with(']')
            && !port.is_empty()
            && port.parse::<u16>().is_err()
        {
            return Err(format!("`{port}` is not a port number"));
        }
    }
    Ok(())
}

/// Parses an IP address as written in an IP range.
pub fn parse_ip(value: &str) -> Result<IpAddr, String> {
    value
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("`{value}` is not an IPv4 or IPv6 address"))
}

/// What we learn from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    /// Validity end, seconds since the Unix epoch.
    pub not_after: i64,
    pub not_before: i64,
    /// The size of the public key's modulus in bits, when the key is RSA.
    pub rsa_bits: Option<usize>,
    /// The DER encoding.
    pub der: Vec<u8>,
}

/// [`parse_certificate`], refusing also a value with more than one PEM block or with a private
/// key anywhere in it: what validation (and so a deploy) accepts.
pub fn check_certificate(value: &str) -> Result<CertificateInfo, String> {
    check_pem_blocks(value.trim())?;
    parse_certificate(value)
}

/// Parses a certificate written as PEM (with BEGIN/END lines) or as the bare base64 body, as
/// Salesforce writes it on retrieve (`spec/metadata.md` §2.3); of several PEM blocks, the
/// first. Lenient, for metadata already stored: new values go through [`check_certificate`].
pub fn parse_certificate(value: &str) -> Result<CertificateInfo, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err("the certificate is empty".into());
    }
    let pem_text = if text.contains("-----BEGIN") {
        text.to_owned()
    } else {
        if let Some(c) = text.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace())
        }) {
            return Err(format!("`{c}` cannot appear in a base64 certificate body"));
        }
        let body: String = text.split_whitespace().collect();
        let mut wrapped = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in body.as_bytes().chunks(64) {
            wrapped.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            wrapped.push('\n');
        }
        wrapped.push_str("-----END CERTIFICATE-----\n");
        wrapped
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem_text.as_bytes())
        .map_err(|e| format!("not a PEM or base64 certificate: {e}"))?;
    if pem.label != "CERTIFICATE" {
        return Err(format!(
            "found a PEM `{}` block where a CERTIFICATE was expected",
            pem.label
        ));
    }
    let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let rsa_bits = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Some(bit_length(rsa.modulus)),
        _ => None,
    };
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        not_after: cert.validity().not_after.timestamp(),
        not_before: cert.validity().not_before.timestamp(),
        rsa_bits,
        der: pem.contents.clone(),
    })
}

/// The number of significant bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

/// A certificate value holds one PEM block, a CERTIFICATE. The PEM reader decodes only the
/// first block, so the others are looked for here: a private key after the certificate
/// (`cat ci.crt ci.key`) would otherwise pass and be committed and deployed. BEGIN lines are
/// found anywhere in the text, indented or not.
fn check_pem_blocks(text: &str) -> Result<(), String> {
    let labels: Vec<&str> = text
        .match_indices("-----BEGIN ")
        .map(|(i, marker)| {
            let rest = &text[i + marker.len()..];
            rest.find("-----").map_or(rest, |end| &rest[..end]).trim()
        })
        .collect();
    if let Some(key) = labels.iter().find(|l| l.contains("PRIVATE KEY")) {
        return Err(format!(
            "found a PEM `{key}` block; a private key must never be put in metadata, only its certificate"
        ));
    }
    if labels.len() > 1 {
        return Err(format!(
            "the value holds {} PEM blocks ({}); put only the app's one CERTIFICATE here",
            labels.len(),
            labels.join(", ")
        ));
    }
    Ok(())
}

/// Fields of the standard objects a formula may read. Custom fields (`__c`) are always allowed.
const USER_FIELDS: &[&str] = &[
    "AboutMe",
    "Alias",
    "City",
    "CommunityNickname",
    "CompanyName",
    "ContactId",
    "Country",
    "CountryCode",
    "CreatedDate",
    "Department",
    "Division",
    "Email",
    "EmployeeNumber",
    "Extension",
    "Fax",
    "FederationIdentifier",
    "FirstName",
    "Id",
    "IsActive",
    "LanguageLocaleKey",
    "LastName",
    "LocaleSidKey",
    "ManagerId",
    "MiddleName",
    "MobilePhone",
    "Name",
    "Phone",
    "PostalCode",
    "ProfileId",
    "State",
    "StateCode",
    "Street",
    "Suffix",
    "TimeZoneSidKey",
    "Title",
    "UserRoleId",
    "UserType",
    "Username",
];
const ORGANIZATION_FIELDS: &[&str] = &[
    "City",
    "Country",
    "DefaultLocaleSidKey",
    "Division",
    "Fax",
    "Id",
    "InstanceName",
    "IsSandbox",
    "LanguageLocaleKey",
    "Name",
    "NamespacePrefix",
    "OrganizationType",
    "Phone",
    "PostalCode",
    "PrimaryContact",
    "State",
    "Street",
    "TimeZoneSidKey",
];
const PROFILE_FIELDS: &[&str] = &["Id", "Name", "UserType"];
const USER_ROLE_FIELDS: &[&str] = &["DeveloperName", "Id", "Name"];

/// A problem in a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaProblem {
    pub message: String,
    pub help: String,
    /// Errors stop the formula from being evaluated; warnings do not.
    pub is_error: bool,
}

/// Checks a custom attribute formula. `require_dollar` is set for SAML attributes, which must
/// use `$Object.Field` (`spec/metadata.md` §8).
pub fn check_formula(src: &str, require_dollar: bool) -> Vec<FormulaProblem> {
    let expr = match formula::parse(src) {
        Ok(e) => e,
        Err(e) => {
            return vec![FormulaProblem {
                message: format!("formula `{}` does not parse: {e}", abbreviate(src)),
                help: "reference fields as $User.Field or $Organization.Field; quote literal text"
                    .into(),
                is_error: true,
            }];
        }
    };
    let mut problems = Vec::new();
    check_fields(&expr, require_dollar, &mut problems);
    problems
}

/// The formula as quoted in a message: a formula may run to 3,900 characters, and the
/// diagnostic already points at its line.
fn abbreviate(src: &str) -> String {
    const SHOWN: usize = 60;
    if src.chars().count() <= SHOWN {
        return src.to_owned();
    }
    let head: String = src.chars().take(SHOWN).collect();
    format!("{head}…")
}

fn check_fields(expr: &Expr, require_dollar: bool, out: &mut Vec<FormulaProblem>) {
    for (object, path, dollar) in expr.fields() {
        let Some(known_object) = formula::OBJECTS.iter().find(|o| **o == object) else {
            let help = match suggest::nearest(object, formula::OBJECTS.iter().copied()) {
                Some(s) => format!("did you mean ${s}?"),
                None => format!("formulas read {}", formula::OBJECTS.join(", ")),
            };
            out.push(FormulaProblem {
                message: format!("`{object}` is not an object a formula can read"),
                help,
                is_error: true,
            });
            continue;
        };
        if require_dollar && !dollar {
            out.push(FormulaProblem {
                message: format!("SAML attribute formulas must write `${object}`, not `{object}`"),
                help: format!("write ${object}.{}", path.join(".")),
                is_error: true,
            });
        }
        let fields: &[&str] = match *known_object {
            "User" => USER_FIELDS,
            "Organization" => ORGANIZATION_FIELDS,
            "Profile" => PROFILE_FIELDS,
            "UserRole" => USER_ROLE_FIELDS,
            _ => continue,
        };
        let field = &path[0];
        if path.len() == 1 && !field.ends_with("__c") && !fields.contains(&field.as_str()) {
            let help = match suggest::nearest(field, fields.iter().copied()) {
                Some(s) => format!("did you mean ${object}.{s}?"),
                None => format!("standard {object} fields include {}", fields.join(", ")),
            };
            out.push(FormulaProblem {
                message: format!("`{field}` is not a standard {object} field"),
                help,
                is_error: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://example.com/callback",
            "http://localhost:1717/OauthRedirect",
            "myapp://callback",
            "com.example.app:/oauth2redirect",
            "https://[::1]:8443/cb",
        ] {
            assert!(check_absolute_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example.com/callback",
            "/callback",
            "https://",
            "https:example.com",
            "https://exa mple.com",
            "https://example.com:99999/",
        ] {
            assert!(check_absolute_url(bad).is_err(), "{bad}");
        }
        let why = check_absolute_url("/callback").unwrap_err();
        assert!(why.contains("https://app.example.com/callback"), "{why}");
    }

    #[test]
    fn formulas() {
        assert!(check_formula("$User.Country", true).is_empty());
        assert!(check_formula("User.Country", false).is_empty());
        assert!(check_formula("$Organization.Name", true).is_empty());
        assert!(check_formula("$User.My_Field__c", true).is_empty());
        assert!(check_formula("User.Country", true)[0].is_error);
        let p = check_formula("$Usr.Country", false);
        assert!(p[0].help.contains("$User"));
        let p = check_formula("$User.Countyr", false);
        assert!(!p[0].is_error && p[0].help.contains("$User.Country"));
        assert!(check_formula("$User.", false)[0].is_error);
        let deep = format!("{}$User.Country{}", "(".repeat(1940), ")".repeat(1940));
        let p = check_formula(&deep, false);
        assert!(p[0].is_error && p[0].message.contains("nested more than 64 levels"));
        assert!(p[0].message.chars().count() < 200, "{}", p[0].message);
    }

    #[test]
    fn certificates_reject_garbage_and_keys() {
        assert!(parse_certificate("not a cert!").is_err());
        assert!(parse_certificate("TUlJ").is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nTUlJ\n-----END PRIVATE KEY-----\n";
        assert!(parse_certificate(key).unwrap_err().contains("PRIVATE KEY"));
        assert!(check_certificate(key).unwrap_err().contains("PRIVATE KEY"));
    }

    /// `CN=OpenECA test current`, the rules folders' test certificate (2024 to 2036).
    const CURRENT_CERT: &str = "-----BEGIN CERTIFICATE-----
MIICsjCCAZoCAQEwDQYJKoZIhvcNAQELBQAwHzEdMBsGA1UEAwwUT3BlbkVDQSB0
ZXN0IGN1cnJlbnQwHhcNMjQwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAwWjAfMR0w
GwYDVQQDDBRPcGVuRUNBIHRlc3QgY3VycmVudDCCASIwDQYJKoZIhvcNAQEBBQAD
ggEPADCCAQoCggEBAK3p8716XZ2dqCeruviSc3BVUMLyMVasllBuQoZBZhkQ5I1e
NM2MuDPojElalvv2VX7qcJactnX++KKkkh3zjS0Ryxn6x+MFZzXqsrsbJSTEVQg7
TeVjoyjGI05x8PWh6SBL6GSV67QVjSPTNkna68voE+aWaeORKUPQpRDoaPO5iuNT
STa6n1rrTdVeeWRzoii0e1dgyB7VNUlTwBLdjzIYVfu810SY13aEF8twyPC+JSt2
zmDCFRCl5+Hzw9NEjGXVMEdBuebTQFfXZGVA53lFUGEDJcvg4w076cG1/zwNK4ZO
b2/Xj7aK8UBNbAXpMrhl7i+0XIXGaFo3EBWGvUcCAwEAATANBgkqhkiG9w0BAQsF
AAOCAQEATSYImXl1SfTa5kf0B/ZMwRi9tFVv0MViMLpd+0r+0VT9pBx+iTXlbrda
YKFv90RgRMwQ4MF0kEAomcWaCvWR6OHZR/P+sxzcqQaZ9nFnuYMAbgPV10MSqY79
guKDyQVgHZwWICi7YBEsEFi5bflF2/uyV0C7ubk7Hjf3WnxTJi11xPVYWu2fcMSG
Dx5f+I4yb1Qi53vSPbUyDHiBvqeF6S2C4yqQPeB8kRfSXIohu49uzvuIgs4onXG9
prB9p+fXMh7cVTojoE8dcNEtO8wDRoJeWkfw+vjtsF3N3hF9XIKuL1VOzRelLuV4
J4cqiXVUYuneKDmqvG1uCScRqFu+QA==
-----END CERTIFICATE-----
";

    /// Review found that only the first PEM block was read: `cat ci.crt ci.key` passed, and
    /// the private key would have been committed and deployed.
    #[test]
    fn certificate_followed_by_a_private_key_is_refused() {
        assert!(check_certificate(CURRENT_CERT).is_ok());
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ] {
            let value =
                format!("{CURRENT_CERT}-----BEGIN {label}-----\nTUlJ\n-----END {label}-----\n");
            let why = check_certificate(&value).unwrap_err();
            assert!(why.contains("private key"), "{label}: {why}");
        }
        let chain = format!("{CURRENT_CERT}{CURRENT_CERT}");
        let why = check_certificate(&chain).unwrap_err();
        assert!(why.contains("2 PEM blocks"), "{why}");
        // What is already stored keeps working where it did: the first block is the
        // certificate (a chain deployed before these checks still verifies JWT assertions).
        let first = parse_certificate(CURRENT_CERT).unwrap();
        assert_eq!(parse_certificate(&chain).unwrap(), first);
    }
}
