//! Randomness, injected.
//!
//! Family ids, client ids, client secrets, jti values and device keys all come from a [`RandomSource`].
//! Production uses [`SystemRandom`] (ring's operating-system CSPRNG). ring's own `SecureRandom` trait is
//! sealed, so the crate defines this small trait to let tests plug in a deterministic source.

use crate::Error;

/// A cryptographically secure source of random bytes.
///
/// Contract: `fill` either fills all of `dest` with unpredictable bytes or returns an error; it never
/// returns predictable or partial output. Deterministic implementations are for tests only.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's CSPRNG, through ring.
#[derive(Debug)]
pub struct SystemRandom(ring::rand::SystemRandom);

impl SystemRandom {
    /// A handle on the operating system's CSPRNG.
    pub fn new() -> Self {
        SystemRandom(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        use ring::rand::SecureRandom;
        self.0.fill(dest).map_err(|_| Error::Internal {
            detail: "system random source failed",
        })
    }
}

impl<R: RandomSource + ?Sized> RandomSource for std::sync::Arc<R> {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        (**self).fill(dest)
    }
}

/// Random bytes as a fixed-size array.
pub(crate) fn random_array<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// A string of `len` characters drawn uniformly from `alphabet` (at most 256 symbols), by rejection
/// sampling so that no character is more likely than another.
pub(crate) fn random_string(
    rng: &dyn RandomSource,
    alphabet: &[u8],
    len: usize,
) -> Result<String, Error> {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    // Largest multiple of the alphabet size that fits in a byte: bytes at or above it are rejected.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf)?;
        for &b in &buf {
            if (b as usize) < limit {
                out.push(char::from(alphabet[b as usize % alphabet.len()]));
                if out.len() == len {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Formats 16 random bytes as a lowercase hyphenated version-4 UUID string (version and variant bits
/// set), as Cognito writes `jti` and `event_id`.
pub(crate) fn uuid_string(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    hyphenated_hex(&bytes)
}

/// Formats 16 bytes in the 8-4-4-4-12 hyphenated hex layout of a UUID, bits unchanged.
pub(crate) fn hyphenated_hex(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl RandomSource for Counter {
        fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
            for b in dest {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    #[test]
    fn random_string_uses_only_the_alphabet_and_is_unbiased_by_rejection() {
        let rng = Counter(Default::default());
        let s = random_string(&rng, b"abc", 300).unwrap();
        assert_eq!(s.len(), 300);
        assert!(s.bytes().all(|b| b"abc".contains(&b)));
        // 256 % 3 == 1: byte 255 must be rejected, so the counter's cycle yields exactly 85 of each.
        let a = s.bytes().filter(|&b| b == b'a').count();
        assert!((99..=101).contains(&a), "{a}");
    }

    #[test]
    fn uuid_string_has_the_canonical_shape() {
        let u = uuid_string([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let sys = SystemRandom::new();
        let a = uuid_string(random_array(&sys).unwrap());
        let b = uuid_string(random_array(&sys).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
    }
}
