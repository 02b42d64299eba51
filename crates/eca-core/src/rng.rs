//! Randomness as a value: the server builds one [`SystemRng`] in `main` and passes it in, so
//! library code never reaches for a thread RNG and tests can use a deterministic source.

use base64::Engine as _;

/// A source of random bytes.
pub trait Rng: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, buf: &mut [u8]) {
        // aws-lc's generator fails only when the OS cannot supply entropy at all; there is no
        // safe way to continue issuing secrets then.
        #[allow(clippy::expect_used)]
        aws_lc_rs::rand::fill(buf).expect("the operating system's random source failed");
    }
}

/// `n` random bytes.
pub fn bytes(rng: &dyn Rng, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    rng.fill(&mut buf);
    buf
}

/// A URL-safe token of `n` random bytes (base64url without padding).
pub fn token(rng: &dyn Rng, n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(rng, n))
}

/// `n` random characters from `alphabet`, without modulo bias.
pub fn string_from(rng: &dyn Rng, alphabet: &[u8], n: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    // One call to the generator for an access token's 94 characters instead of two: each call
    // costs aws-lc a key schedule and a hardware entropy read besides the bytes themselves.
    // Up to 64 characters the buffer stays 64 bytes, so shorter strings consume exactly the
    // bytes they always did (repeatable ids from `DeterministicRng` stay the same).
    let mut buf = [0u8; 128];
    let buf = if n > 64 { &mut buf[..] } else { &mut buf[..64] };
    // Tokens use a 64-character alphabet: a mask picks the same character as the remainder
    // would, without a division per byte (about 1.5% of a token request's CPU).
    let mask = alphabet.len().is_power_of_two().then(|| alphabet.len() - 1);
    while out.len() < n {
        rng.fill(buf);
        for &b in buf.iter() {
            if usize::from(b) < limit && out.len() < n {
                let index = match mask {
                    Some(mask) => usize::from(b) & mask,
                    None => usize::from(b) % alphabet.len(),
                };
                out.push(char::from(alphabet[index]));
            }
        }
    }
    out
}

/// A deterministic generator (splitmix64 over a counter). It is **not** secure: it exists so
/// tests and benchmarks can produce repeatable ids and tokens.
#[derive(Debug, Default)]
pub struct DeterministicRng(std::sync::atomic::AtomicU64);

impl DeterministicRng {
    pub fn new(seed: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(seed))
    }
}

impl Rng for DeterministicRng {
    fn fill(&self, buf: &mut [u8]) {
        use std::sync::atomic::Ordering;
        for chunk in buf.chunks_mut(8) {
            let mut z = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_use_only_the_alphabet() {
        let s = string_from(&SystemRng, b"ABC", 50);
        assert_eq!(s.len(), 50);
        assert!(s.bytes().all(|b| b"ABC".contains(&b)));
        assert_eq!(token(&SystemRng, 32).len(), 43);
        let a = token(&DeterministicRng::new(1), 16);
        assert_eq!(a, token(&DeterministicRng::new(1), 16));
    }

    /// The characters as picked before the mask: a remainder for every alphabet.
    fn by_remainder(rng: &dyn Rng, alphabet: &[u8], n: usize) -> String {
        let limit = 256 - (256 % alphabet.len());
        let mut buf = vec![0u8; if n > 64 { 128 } else { 64 }];
        let mut out = String::new();
        while out.len() < n {
            rng.fill(&mut buf);
            for &b in &buf {
                if usize::from(b) < limit && out.len() < n {
                    out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
                }
            }
        }
        out
    }

    #[test]
    fn power_of_two_alphabets_pick_what_the_remainder_picked() {
        let tokens: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain(*b"._")
            .collect();
        for alphabet in [
            &tokens[..],
            b"0123456789ABCDEF",
            b"AB",
            b"ABC",
            b"BCDFGHJKLMNPQRSTVWXZ",
        ] {
            for n in [8, 64, 94, 200] {
                assert_eq!(
                    string_from(&DeterministicRng::new(7), alphabet, n),
                    by_remainder(&DeterministicRng::new(7), alphabet, n),
                    "alphabet of {} characters, {n} long",
                    alphabet.len()
                );
            }
        }
    }
}
