//! Password hashing (Argon2id), bearer-token hashing (SHA-256), HMAC-SHA256, and encryption
//! of consumer secrets at rest (AES-256-GCM under a master key).
//!
//! Passwords are slow-hashed because people choose them. Bearer tokens and consumer secrets
//! are 256-bit random values: a fast keyed or plain digest compared in constant time is as
//! safe and keeps the token endpoint fast (`DEPENDENCIES.md`).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac};
use base64::Engine as _;

use crate::rng::Rng;
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes, given as 64 hex characters or base64")]
    BadMasterKey,
    #[error("the encrypted value is damaged or was encrypted under another master key")]
    Decrypt,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Argon2id with the OWASP minimum (m = 19 MiB, t = 2, p = 1).
fn argon2() -> Result<argon2::Argon2<'static>, CryptoError> {
    let params =
        argon2::Params::new(19 * 1024, 2, 1, None).map_err(|e| CryptoError::Hash(e.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). Slow on
/// purpose: run it on a blocking thread.
pub fn hash_password(password: &Secret, rng: &dyn Rng) -> Result<String, CryptoError> {
    use argon2::password_hash::PasswordHasher as _;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let hash = argon2()?
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map_err(|e| CryptoError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Checks a password against a PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &Secret, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier as _;
    argon2().is_ok_and(|a| a.verify_password(password.expose().as_bytes(), phc).is_ok())
}

/// The SHA-256 of a bearer token, hex-encoded: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex(digest::digest(&digest::SHA256, token.as_bytes()).as_ref())
}

/// SHA-256 of `bytes` (certificate fingerprints, CSP script hashes).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, message).as_ref().to_vec()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The key consumer secrets are encrypted under. Never printed.
///
/// It also derives keys for other purposes ([`MasterKey::derive`]), so that no key is used
/// both for AES-GCM and for HMAC.
pub struct MasterKey {
    aead: LessSafeKey,
    derivation: hmac::Key,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadMasterKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::BadMasterKey)?;
        let derivation = hmac_sha256(bytes, b"OpenECA master key derivation");
        Ok(Self {
            aead: LessSafeKey::new(key),
            derivation: hmac::Key::new(hmac::HMAC_SHA256, &derivation),
        })
    }

    /// A key written as 64 hex characters or as base64 of 32 bytes (`ECA_MASTER_KEY`, the key
    /// file).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let t = text.trim();
        if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect();
            return Self::from_bytes(&bytes);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| CryptoError::BadMasterKey)?;
        Self::from_bytes(&bytes)
    }

    /// A new random key, returned with its text form (hex) for the key file.
    pub fn generate(rng: &dyn Rng) -> Result<(Self, String), CryptoError> {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        Ok((Self::from_bytes(&bytes)?, hex(&bytes)))
    }

    /// Encrypts: `nonce (12 bytes) || ciphertext || tag`. `context` is bound as associated
    /// data (for example the consumer id), so a ciphertext moved to another row fails to
    /// decrypt.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8], rng: &dyn Rng) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        // Sealing fails only for inputs over the GCM limit (64 GiB); secrets are tiny.
        #[allow(clippy::expect_used)]
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut buf,
            )
            .expect("AES-GCM sealing of a small value");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// A 256-bit key for `purpose` (for example `b"web csrf"`), derived from the master key
    /// with HMAC-SHA256 under a separate derivation key: the same master key always gives the
    /// same derived key, so every node of a cluster agrees on it.
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.derivation, purpose).as_ref());
        out
    }

    /// [`MasterKey::encrypt`] as text: base64url without padding, for secrets kept inside a
    /// stored document rather than a column of their own.
    pub fn seal_text(&self, plaintext: &str, context: &[u8], rng: &dyn Rng) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.encrypt(
            plaintext.as_bytes(),
            context,
            rng,
        ))
    }

    /// Opens what [`MasterKey::seal_text`] produced under the same `context`.
    pub fn open_text(&self, sealed: &str, context: &[u8]) -> Result<String, CryptoError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(self.decrypt(&bytes, context)?).map_err(|_| CryptoError::Decrypt)
    }

    /// Decrypts what [`MasterKey::encrypt`] produced under the same `context`.
    pub fn decrypt(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut buf = body.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;

    #[test]
    fn passwords() {
        let hash = hash_password(&Secret::new("correct horse"), &SystemRng).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&Secret::new("correct horse"), &hash));
        assert!(!verify_password(&Secret::new("wrong"), &hash));
        assert!(!verify_password(&Secret::new("x"), "not a hash"));
    }

    #[test]
    fn encryption_round_trips_and_binds_context() {
        let (key, text) = MasterKey::generate(&SystemRng).unwrap();
        let sealed = key.encrypt(b"s3cret", b"888A", &SystemRng);
        assert_eq!(key.decrypt(&sealed, b"888A").unwrap(), b"s3cret");
        assert_eq!(key.decrypt(&sealed, b"888B"), Err(CryptoError::Decrypt));
        let again = MasterKey::parse(&text).unwrap();
        assert_eq!(again.decrypt(&sealed, b"888A").unwrap(), b"s3cret");
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(key.decrypt(&tampered, b"888A"), Err(CryptoError::Decrypt));
        assert!(MasterKey::parse("short").is_err());
    }

    #[test]
    fn sealed_text_round_trips_and_binds_context() {
        let (key, _) = MasterKey::generate(&SystemRng).unwrap();
        let sealed = key.seal_text("p8 key", b"push:1", &SystemRng);
        assert!(!sealed.contains("p8"), "{sealed}");
        assert_eq!(key.open_text(&sealed, b"push:1").unwrap(), "p8 key");
        assert_eq!(key.open_text(&sealed, b"push:2"), Err(CryptoError::Decrypt));
        assert_eq!(
            key.open_text("not base64!", b"push:1"),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn derived_keys_are_stable_and_separate() {
        let (key, text) = MasterKey::generate(&SystemRng).unwrap();
        let again = MasterKey::parse(&text).unwrap();
        assert_eq!(key.derive(b"web csrf"), again.derive(b"web csrf"));
        assert_ne!(key.derive(b"web csrf"), key.derive(b"other"));
        let (other, _) = MasterKey::generate(&SystemRng).unwrap();
        assert_ne!(key.derive(b"web csrf"), other.derive(b"web csrf"));
    }

    #[test]
    fn digests() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hmac_sha256(b"k", b"m").len(), 32);
    }
}
