//! The keys SAML signatures are made and checked with: the IdP's RSA signing key with its
//! X.509 certificate, and a service provider's request-signing certificate. RSA over
//! aws-lc-rs, 2048 to 8192 bits, the same backend as `eca-oauth`'s JWS.

use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::SamlError;

/// RSA signature algorithms of XML-DSig and the Redirect binding's `SigAlg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha256` (RFC 6931 §2.3.2).
    RsaSha256,
    /// `http://www.w3.org/2000/09/xmldsig#rsa-sha1`: accepted from a service provider only
    /// when its policies say `SHA1`.
    RsaSha1,
}

impl SignatureAlgorithm {
    pub const fn uri(self) -> &'static str {
        match self {
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::RsaSha256, Self::RsaSha1]
            .into_iter()
            .find(|a| a.uri() == uri)
    }
}

/// An IdP signing key: an RSA private key and the certificate published for it.
pub struct IdpKey {
    pair: RsaKeyPair,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for IdpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdpKey(RSA, ***)")
    }
}

impl IdpKey {
    /// A key from PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`, unencrypted) and its certificate
    /// (PEM or bare base64). The certificate's key must be the private key's public half.
    pub fn from_pem(key_pem: &str, cert: &str) -> Result<Self, SamlError> {
        let (_, block) = x509_parser::pem::parse_x509_pem(key_pem.trim().as_bytes())
            .map_err(|_| SamlError::Key("the private key is not PEM"))?;
        let pair = match block.label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.contents),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.contents),
            _ => return Err(SamlError::Key("expected an RSA private key")),
        }
        .map_err(|_| SamlError::Key("not an unencrypted RSA private key"))?;
        Self::with_certificate(pair, certificate_der(cert)?)
    }

    /// A key from its PKCS#8 DER and its certificate's DER, as the server stores them. The
    /// certificate's key must be the private key's public half.
    pub fn from_der(pkcs8: &[u8], cert_der: &[u8]) -> Result<Self, SamlError> {
        let pair = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|_| SamlError::Key("not an unencrypted RSA private key"))?;
        Self::with_certificate(pair, cert_der.to_vec())
    }

    fn with_certificate(pair: RsaKeyPair, cert_der: Vec<u8>) -> Result<Self, SamlError> {
        let public = Certificate::from_der(&cert_der)?;
        let own = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(
            aws_lc_rs::signature::KeyPair::public_key(&pair),
        );
        if strip_zeros(&own.n) != public.n.as_slice() {
            return Err(SamlError::Key(
                "the certificate is not for this private key",
            ));
        }
        Ok(Self { pair, cert_der })
    }

    /// The certificate's DER encoding.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate as `ds:X509Certificate` and metadata carry it: base64 on one line.
    pub fn certificate_base64(&self) -> String {
        STANDARD.encode(&self.cert_der)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    ///
    /// aws-lc-rs offers no RSA-SHA1 *signing*, so the IdP always signs with SHA-256; a
    /// `SHA1` `signingAlgorithmType` is refused where responses are built.
    pub fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        // PKCS#1 v1.5 is deterministic; aws-lc ignores the random source.
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                data,
                &mut sig,
            )
            .map_err(|_| SamlError::Key("signing failed"))?;
        Ok(sig)
    }
}

/// A certificate's RSA public key (a service provider's, or an IdP's in tests).
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(RSA-{})", self.n.len() * 8)
    }
}

impl Certificate {
    /// From the metadata `certificate` field: PEM, or the bare base64 body.
    pub fn parse(text: &str) -> Result<Self, SamlError> {
        Self::from_der(&certificate_der(text)?)
    }

    fn from_der(der: &[u8]) -> Result<Self, SamlError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| SamlError::Configuration("not an X.509 certificate"))?;
        let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
            return Err(SamlError::Configuration("the certificate's key is not RSA"));
        };
        let n = strip_zeros(rsa.modulus).to_vec();
        let bits = n.len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(SamlError::Configuration(
                "RSA keys must have 2048 to 8192 bits",
            ));
        }
        Ok(Self {
            n,
            e: strip_zeros(rsa.exponent).to_vec(),
        })
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over `data`.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SamlError> {
        let params = match alg {
            SignatureAlgorithm::RsaSha256 => &RSA_PKCS1_2048_8192_SHA256,
            SignatureAlgorithm::RsaSha1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        };
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(params, data, signature)
        .map_err(|_| SamlError::BadSignature("the signature value does not verify"))
    }
}

/// The DER of a certificate written as PEM or as a bare base64 body (the metadata forms).
fn certificate_der(text: &str) -> Result<Vec<u8>, SamlError> {
    let info = eca_metadata::validate::parse_certificate(text)
        .map_err(|_| SamlError::Configuration("not an X.509 certificate"))?;
    Ok(info.der)
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

#[cfg(test)]
pub(crate) mod test_keys {
    //! The test-only keys under `tests/data/` (see its README).
    use super::*;

    pub const IDP_KEY: &str = include_str!("../tests/data/idp.key");
    pub const IDP_CRT: &str = include_str!("../tests/data/idp.crt");
    pub const SP_KEY: &str = include_str!("../tests/data/sp.key");
    pub const SP_CRT: &str = include_str!("../tests/data/sp.crt");
    pub const OTHER_KEY: &str = include_str!("../tests/data/other.key");
    pub const OTHER_CRT: &str = include_str!("../tests/data/other.crt");

    pub fn idp() -> IdpKey {
        IdpKey::from_pem(IDP_KEY, IDP_CRT).unwrap()
    }
    pub fn sp() -> IdpKey {
        IdpKey::from_pem(SP_KEY, SP_CRT).unwrap()
    }
    pub fn other() -> IdpKey {
        IdpKey::from_pem(OTHER_KEY, OTHER_CRT).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_keys::*;
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let key = idp();
        let sig = key.sign_sha256(b"hello").unwrap();
        let cert = Certificate::parse(IDP_CRT).unwrap();
        assert!(
            cert.verify(SignatureAlgorithm::RsaSha256, b"hello", &sig)
                .is_ok()
        );
        assert!(
            cert.verify(SignatureAlgorithm::RsaSha256, b"hellO", &sig)
                .is_err()
        );
        assert!(
            cert.verify(SignatureAlgorithm::RsaSha1, b"hello", &sig)
                .is_err()
        );
        let bare = key.certificate_base64();
        assert_eq!(Certificate::parse(&bare).unwrap(), cert);
        let other_cert = Certificate::parse(OTHER_CRT).unwrap();
        assert!(
            other_cert
                .verify(SignatureAlgorithm::RsaSha256, b"hello", &sig)
                .is_err()
        );
    }

    #[test]
    fn loads_from_der() {
        let (_, key) = x509_parser::pem::parse_x509_pem(IDP_KEY.as_bytes()).unwrap();
        let (_, cert) = x509_parser::pem::parse_x509_pem(IDP_CRT.as_bytes()).unwrap();
        let (_, other) = x509_parser::pem::parse_x509_pem(OTHER_CRT.as_bytes()).unwrap();
        assert_eq!(key.label, "PRIVATE KEY");
        let loaded = IdpKey::from_der(&key.contents, &cert.contents).unwrap();
        assert_eq!(loaded.certificate_der(), idp().certificate_der());
        assert!(matches!(
            IdpKey::from_der(&key.contents, &other.contents),
            Err(SamlError::Key(_))
        ));
        assert!(IdpKey::from_der(b"junk", &cert.contents).is_err());
    }

    #[test]
    fn refuses_mismatched_or_bad_keys() {
        assert!(matches!(
            IdpKey::from_pem(IDP_KEY, OTHER_CRT),
            Err(SamlError::Key(_))
        ));
        assert!(IdpKey::from_pem(IDP_CRT, IDP_CRT).is_err());
        assert!(Certificate::parse("not a cert").is_err());
        assert!(Certificate::parse(IDP_KEY).is_err());
    }
}
