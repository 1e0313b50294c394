//! Randomness, injected.
//!
//! Family ids, client ids, client secrets, jti values and device keys all come from a [`RandomSource`].
//! Production uses [`SystemRandom`] (ring's operating-system CSPRNG). ring's own `SecureRandom` trait is
//! sealed, so the crate defines this small trait to let tests plug in a deterministic source.

use std::sync::Arc;

use parking_lot::Mutex;

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

/// How many random bytes [`BufferedRandom`] draws from its source at a time: 16 refreshes' worth of jti
/// values per call into the operating system.
const BUFFER_LEN: usize = 512;

/// A [`RandomSource`] that draws from another in blocks of [`BUFFER_LEN`] bytes and hands them out in
/// order, so that issuing a token set costs a memory copy instead of a `getrandom` system call per value.
///
/// The bytes are the source's, unchanged and each handed out once, so the output is exactly as
/// unpredictable as the source's; unused bytes wait in process memory, where the values they become
/// (jti, family and event ids, all published in tokens) would end up anyway. A failing source is reported
/// by the `fill` that needs a new block, and the buffer then stays empty.
pub(crate) struct BufferedRandom {
    source: Arc<dyn RandomSource>,
    buffer: Mutex<Buffer>,
}

struct Buffer {
    bytes: [u8; BUFFER_LEN],
    /// Bytes before `next` have been handed out (and zeroed).
    next: usize,
}

impl BufferedRandom {
    pub(crate) fn new(source: Arc<dyn RandomSource>) -> Self {
        BufferedRandom {
            source,
            buffer: Mutex::new(Buffer {
                bytes: [0; BUFFER_LEN],
                next: BUFFER_LEN,
            }),
        }
    }
}

impl RandomSource for BufferedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        if dest.len() > BUFFER_LEN / 4 {
            // Large requests gain nothing from the buffer.
            return self.source.fill(dest);
        }
        let mut buf = self.buffer.lock();
        if BUFFER_LEN - buf.next < dest.len() {
            self.source.fill(&mut buf.bytes)?;
            buf.next = 0;
        }
        let start = buf.next;
        let end = start + dest.len();
        dest.copy_from_slice(&buf.bytes[start..end]);
        // Handed-out bytes do not linger in the buffer.
        buf.bytes[start..end].fill(0);
        buf.next = end;
        Ok(())
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
pub(crate) fn uuid_string(bytes: [u8; 16]) -> String {
    uuid_text(bytes).as_str().to_owned()
}

/// [`uuid_string`] on the stack, for the issuer's hot path.
pub(crate) fn uuid_text(mut bytes: [u8; 16]) -> UuidText {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    hyphenated_text(&bytes)
}

/// Formats 16 bytes in the 8-4-4-4-12 hyphenated hex layout of a UUID, bits unchanged.
pub(crate) fn hyphenated_hex(bytes: &[u8; 16]) -> String {
    hyphenated_text(bytes).as_str().to_owned()
}

/// 36 characters of hyphenated hex, without an allocation.
pub(crate) struct UuidText([u8; 36]);

impl UuidText {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits and '-' are ever written, so this never fails; "" rather than a panic.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// [`hyphenated_hex`] on the stack.
pub(crate) fn hyphenated_text(bytes: &[u8; 16]) -> UuidText {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1; // keep the '-'
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0x0f)];
        at += 2;
    }
    UuidText(out)
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
    fn buffered_random_hands_out_the_source_bytes_in_order_once() {
        let buffered = BufferedRandom::new(Arc::new(Counter(Default::default())));
        let mut all = Vec::new();
        for _ in 0..100 {
            let mut b = [0u8; 16];
            buffered.fill(&mut b).unwrap();
            all.extend_from_slice(&b);
        }
        let expected: Vec<u8> = (0..all.len()).map(|i| i as u8).collect();
        assert_eq!(all, expected);
        // A large request bypasses the buffer.
        let mut big = [0u8; 300];
        buffered.fill(&mut big).unwrap();
        assert!(big.iter().enumerate().all(|(i, &b)| b == i as u8));
    }

    #[test]
    fn buffered_random_reports_a_failing_source() {
        struct Broken;
        impl RandomSource for Broken {
            fn fill(&self, _: &mut [u8]) -> Result<(), Error> {
                Err(Error::Internal { detail: "broken" })
            }
        }
        let buffered = BufferedRandom::new(Arc::new(Broken));
        assert!(buffered.fill(&mut [0u8; 16]).is_err());
        assert!(buffered.fill(&mut [0u8; 16]).is_err());
    }

    #[test]
    fn uuid_string_has_the_canonical_shape() {
        let u = uuid_string([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let bytes: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        assert_eq!(
            hyphenated_hex(&bytes),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
        let sys = SystemRandom::new();
        let a = uuid_string(random_array(&sys).unwrap());
        let b = uuid_string(random_array(&sys).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
    }
}
