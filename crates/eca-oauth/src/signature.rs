//! The `signature` field of Salesforce token responses (`spec/oauth-and-connect.md` §1.8):
//! `base64(HMAC-SHA256(key = consumer secret, message = id + issued_at))`, standard base64
//! with padding (44 characters). It lets a client check that `id` and `issued_at` came from
//! the server that knows its secret.
//!
//! Public clients (`isConsumerSecretOptional`) do not send a secret, but the app still has
//! one, so the server signs with it all the same: the field is always present and always
//! means the same thing.

use base64::Engine as _;
use eca_core::crypto::hmac_sha256;
use eca_core::secret::constant_time_eq;
use eca_core::{Secret, Timestamp};

/// The signature over `id` and `issued_at` (rendered as in the response: milliseconds).
pub fn sign(consumer_secret: &Secret, id: &str, issued_at: Timestamp) -> String {
    sign_raw(consumer_secret, id, &issued_at.millis().to_string())
}

/// The signature over `id` and `issued_at` exactly as they appear in a response.
pub fn sign_raw(consumer_secret: &Secret, id: &str, issued_at: &str) -> String {
    let mut message = String::with_capacity(id.len() + issued_at.len());
    message.push_str(id);
    message.push_str(issued_at);
    let mac = hmac_sha256(consumer_secret.expose().as_bytes(), message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Checks a response's `signature`, as a client would, in constant time.
pub fn verify(consumer_secret: &Secret, id: &str, issued_at: &str, signature: &str) -> bool {
    constant_time_eq(
        sign_raw(consumer_secret, id, issued_at).as_bytes(),
        signature.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "3F4C8C2FD0B6A3E8B21F2C6A0E5D5B4A9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F";
    const ID: &str = "https://login.salesforce.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ";

    #[test]
    fn matches_an_independent_computation() {
        // python3: base64.b64encode(hmac.new(SECRET, ID + "1278448832702", sha256).digest())
        let expected = "5pz+ML4DT8mqcrEBMuVSkU51PkjFYentOwHwwCcrmjo=";
        let secret = Secret::new(SECRET);
        assert_eq!(
            sign(&secret, ID, Timestamp::from_millis(1_278_448_832_702)),
            expected
        );
        assert_eq!(sign_raw(&secret, ID, "1278448832702"), expected);
        assert_eq!(expected.len(), 44);
    }

    #[test]
    fn verification() {
        let secret = Secret::new(SECRET);
        let good = sign_raw(&secret, ID, "1278448832702");
        let table: &[(&str, &str, &str, &str, bool)] = &[
            (SECRET, ID, "1278448832702", &good, true),
            (SECRET, ID, "1278448832703", &good, false),
            (
                SECRET,
                "https://login.salesforce.com/id/x/y",
                "1278448832702",
                &good,
                false,
            ),
            ("another secret", ID, "1278448832702", &good, false),
            (SECRET, ID, "1278448832702", "", false),
            (SECRET, ID, "1278448832702", &good[..43], false),
        ];
        for (secret, id, issued_at, signature, expected) in table {
            assert_eq!(
                verify(&Secret::new(*secret), id, issued_at, signature),
                *expected,
                "{id} {issued_at}"
            );
        }
    }
}
