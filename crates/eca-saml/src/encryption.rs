//! `<saml:EncryptedAssertion>` (SAML Core §2.3.4, §6): the (signed) Assertion encrypted for
//! the service provider's `encryptionCertificate` with XML Encryption: a fresh AES content
//! key (AES-GCM, XML Encryption 1.1 §5.2.4, or AES-CBC, XML Encryption §5.2.2) carried in an
//! `EncryptedKey` under RSA-OAEP with MGF1-SHA1 and SHA-1 (`rsa-oaep-mgf1p`, §5.4.2), the
//! key transport every SAML library understands.
//!
//! GCM is authenticated and the better choice; CBC exists because older service providers
//! know nothing else (and is open to padding-oracle attacks on their side, Jager and
//! Somorovsky 2011, which is why it is not the default).

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eca_core::Rng;
use eca_metadata::model::SamlEncryptionType;

use crate::error::SamlError;
use crate::xml::{NS_ASSERTION, NS_DSIG};

const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

/// The content cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCipher {
    Aes128Gcm,
    Aes256Gcm,
    Aes128Cbc,
    Aes256Cbc,
}

impl ContentCipher {
    /// From `encryptionType` (which gives only the key size) and whether the SP needs CBC.
    pub const fn from_policy(t: SamlEncryptionType, needs_cbc: bool) -> Self {
        match (t, needs_cbc) {
            (SamlEncryptionType::Aes128, false) => Self::Aes128Gcm,
            (SamlEncryptionType::Aes256, false) => Self::Aes256Gcm,
            (SamlEncryptionType::Aes128, true) => Self::Aes128Cbc,
            (SamlEncryptionType::Aes256, true) => Self::Aes256Cbc,
        }
    }

    pub const fn uri(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            Self::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Self::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Self::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        }
    }

    const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes128Cbc => 16,
            Self::Aes256Gcm | Self::Aes256Cbc => 32,
        }
    }
}

/// A service provider's encryption key, from its `encryptionCertificate`.
pub struct EncryptionKey(OaepPublicEncryptingKey);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptionKey(RSA-{})", self.0.key_size_bits())
    }
}

impl EncryptionKey {
    /// From the certificate as the metadata holds it (PEM or bare base64); RSA only.
    pub fn from_certificate(text: &str) -> Result<Self, SamlError> {
        const BAD: SamlError = SamlError::Configuration("the encryption certificate is unusable");
        let info = eca_metadata::validate::parse_certificate(text).map_err(|_| BAD)?;
        let (_, cert) = x509_parser::parse_x509_certificate(&info.der).map_err(|_| BAD)?;
        let key = PublicEncryptingKey::from_der(cert.public_key().raw).map_err(|_| BAD)?;
        if key.key_size_bits() < 2048 {
            return Err(BAD);
        }
        Ok(Self(OaepPublicEncryptingKey::new(key).map_err(|_| BAD)?))
    }
}

/// Encrypts `assertion_xml` (a standalone `saml:Assertion` element, signed or not) into an
/// `EncryptedAssertion` element.
pub fn encrypt_assertion(
    assertion_xml: &str,
    key: &EncryptionKey,
    cipher: ContentCipher,
    rng: &dyn Rng,
) -> Result<String, SamlError> {
    const FAILED: SamlError = SamlError::Key("encryption failed");
    let cek = eca_core::rng::bytes(rng, cipher.key_len());
    let data = match cipher {
        ContentCipher::Aes128Gcm | ContentCipher::Aes256Gcm => {
            let alg = if cipher == ContentCipher::Aes128Gcm {
                &AES_128_GCM
            } else {
                &AES_256_GCM
            };
            let sealing = LessSafeKey::new(UnboundKey::new(alg, &cek).map_err(|_| FAILED)?);
            // XML Encryption 1.1 §5.2.4: a 96-bit IV, then the ciphertext, then the 128-bit tag.
            let mut iv = [0u8; 12];
            rng.fill(&mut iv);
            let mut in_out = assertion_xml.as_bytes().to_vec();
            sealing
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(iv),
                    Aad::empty(),
                    &mut in_out,
                )
                .map_err(|_| FAILED)?;
            [iv.as_slice(), &in_out].concat()
        }
        ContentCipher::Aes128Cbc | ContentCipher::Aes256Cbc => {
            let alg = if cipher == ContentCipher::Aes128Cbc {
                &AES_128
            } else {
                &AES_256
            };
            let enc = EncryptingKey::cbc(UnboundCipherKey::new(alg, &cek).map_err(|_| FAILED)?)
                .map_err(|_| FAILED)?;
            // XML Encryption §5.2: the last padding byte is the padding length (1 to 16); the
            // others are arbitrary, so PKCS#7 padding is a valid choice.
            let mut in_out = assertion_xml.as_bytes().to_vec();
            let pad = 16 - in_out.len() % 16;
            in_out.extend(std::iter::repeat_n(
                u8::try_from(pad).map_err(|_| FAILED)?,
                pad,
            ));
            let mut iv = [0u8; 16];
            rng.fill(&mut iv);
            enc.less_safe_encrypt(&mut in_out, EncryptionContext::Iv128(iv.into()))
                .map_err(|_| FAILED)?;
            [iv.as_slice(), &in_out].concat()
        }
    };
    let mut wrapped = vec![0u8; key.0.ciphertext_size()];
    let wrapped = key
        .0
        .encrypt(&OAEP_SHA1_MGF1SHA1, &cek, &mut wrapped, None)
        .map_err(|_| FAILED)?;
    Ok(format!(
        concat!(
            "<saml:EncryptedAssertion xmlns:saml=\"{saml}\">",
            "<xenc:EncryptedData xmlns:xenc=\"{xenc}\" Type=\"{ty}\">",
            "<xenc:EncryptionMethod Algorithm=\"{cipher}\"></xenc:EncryptionMethod>",
            "<ds:KeyInfo xmlns:ds=\"{ds}\"><xenc:EncryptedKey>",
            "<xenc:EncryptionMethod Algorithm=\"{oaep}\"><ds:DigestMethod Algorithm=\"{sha1}\"></ds:DigestMethod></xenc:EncryptionMethod>",
            "<xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData>",
            "</xenc:EncryptedKey></ds:KeyInfo>",
            "<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData>",
            "</xenc:EncryptedData></saml:EncryptedAssertion>"
        ),
        saml = NS_ASSERTION,
        xenc = NS_XENC,
        ty = TYPE_ELEMENT,
        cipher = cipher.uri(),
        ds = NS_DSIG,
        oaep = RSA_OAEP_MGF1P,
        sha1 = SHA1,
        key = STANDARD.encode(wrapped),
        data = STANDARD.encode(data),
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::process::Command;

    use eca_core::rng::DeterministicRng;

    use super::*;
    use crate::keys::test_keys::{IDP_CRT, SP_CRT, idp};
    use crate::oracle::data;

    const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="2026-11-26T18:01:00Z" Version="2.0"><saml:Issuer>https://acme.example</saml:Issuer><saml:Subject><saml:NameID>ada@acme.example</saml:NameID></saml:Subject></saml:Assertion>"#;

    /// Decrypts with `xmlsec1 --decrypt` and the SP's private key; `None` without xmlsec1.
    fn xmlsec1_decrypt(xml: &str) -> Option<Result<String, String>> {
        if !Command::new("xmlsec1")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!("NOTE: xmlsec1 is not installed; skipping the xmlsec1 decryption check");
            return None;
        }
        let mut file = tempfile::NamedTempFile::new().ok()?;
        file.write_all(xml.as_bytes()).ok()?;
        let out = Command::new("xmlsec1")
            .args(["--decrypt", "--privkey-pem", &data("sp.key")])
            .arg(file.path())
            .output()
            .ok()?;
        Some(if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }

    #[test]
    fn encrypts_for_the_sp_in_every_cipher() {
        let key = EncryptionKey::from_certificate(SP_CRT).unwrap();
        let signed = crate::dsig::sign_enveloped(ASSERTION, &idp()).unwrap();
        for cipher in [
            ContentCipher::Aes128Gcm,
            ContentCipher::Aes256Gcm,
            ContentCipher::Aes128Cbc,
            ContentCipher::Aes256Cbc,
        ] {
            let enc = encrypt_assertion(&signed, &key, cipher, &DeterministicRng::new(9)).unwrap();
            assert!(enc.contains(cipher.uri()));
            assert!(!enc.contains("ada@acme.example"));
            assert!(crate::xml::parse(&enc).is_ok());
            let Some(result) = xmlsec1_decrypt(&enc) else {
                continue;
            };
            let plain =
                result.unwrap_or_else(|e| panic!("xmlsec1 could not decrypt {cipher:?}: {e}"));
            assert!(plain.contains(">ada@acme.example<"), "{cipher:?}: {plain}");
            // The decrypted assertion still carries a signature that verifies.
            let doc = crate::xml::parse(plain.trim_start_matches("<?xml version=\"1.0\"?>").trim())
                .unwrap();
            let a = doc
                .descendants()
                .find(|n| n.has_tag_name((NS_ASSERTION, "Assertion")))
                .unwrap();
            let cert = crate::keys::Certificate::parse(IDP_CRT).unwrap();
            assert_eq!(
                crate::dsig::verify_enveloped(a, &cert, false),
                Ok(()),
                "{cipher:?}"
            );
        }
        assert_eq!(
            ContentCipher::from_policy(SamlEncryptionType::Aes256, false),
            ContentCipher::Aes256Gcm
        );
        assert_eq!(
            ContentCipher::from_policy(SamlEncryptionType::Aes128, true),
            ContentCipher::Aes128Cbc
        );
        assert!(EncryptionKey::from_certificate("junk").is_err());
    }
}
