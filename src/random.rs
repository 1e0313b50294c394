//! Randomness, injected.
//!
//! Family ids, client ids, client secrets, jti values and device keys all come from a [`RandomSource`].
//! Production uses [`SystemRandom`] (ring's operating-system CSPRNG). ring's own `SecureRandom` trait is
//! sealed, so the crate defines this small trait to let tests plug in a deterministic source.
//!
//! The issuer draws through a buffered source, which batches system calls and is fork-safe (R-SAFE-7).

use std::sync::Arc;

use parking_lot::Mutex;
use zeroize::{Zeroize as _, Zeroizing};

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

/// How many random bytes [`BufferedRandom`] draws from its source at a time: 128 refreshes' worth of jti
/// values per call into the operating system, whose cost (a system call and a 4 KiB ChaCha draw, about
/// two microseconds) then adds under 2% to a refresh's bookkeeping instead of 15% with 512-byte blocks.
const BUFFER_LEN: usize = 4096;

/// A [`RandomSource`] that draws from another in blocks of [`BUFFER_LEN`] bytes and hands them out in
/// order, so that issuing a token set costs a memory copy instead of a `getrandom` system call per value.
///
/// The bytes are the source's, unchanged and each handed out once, so the output is exactly as
/// unpredictable as the source's; unused bytes wait in process memory, where the values they become
/// (jti, family and event ids, all published in tokens) would end up anyway. A failing source is reported
/// by the `fill` that needs a new block, and the buffer then stays empty.
///
/// Fork safety (R-SAFE-7): a `fork` copies the buffer into the child, and both processes would then hand
/// out the same bytes: the same jti, event and family ids in two processes. The buffer therefore records
/// the id of the process that filled it, and a `fill` in any other process discards it unread and draws
/// afresh. `std::process::id()` is checked on every `fill`: it costs a `getpid` system call, still far
/// cheaper than the `getrandom` it saves, and the crate's `#![forbid(unsafe_code)]` rules out the
/// alternatives (`pthread_atfork`, `MADV_WIPEONFORK`). A process id is reused only after its process has
/// exited, so a fresh process inheriting a buffer stamped with its own id would need the id space to wrap
/// between a fork and the first `fill` after it.
///
/// Every byte leaves memory zeroed: handed-out bytes at once, the rest when the buffer is discarded (fork,
/// failing source) or dropped. The zeroing is `zeroize`'s, whose volatile writes the compiler cannot
/// remove as dead stores, which a plain `fill(0)` right before a drop would be.
pub(crate) struct BufferedRandom {
    source: Arc<dyn RandomSource>,
    /// Boxed, so that moving the random source (or the issuer holding it) moves a pointer and leaves no
    /// copy of unused bytes behind where `zeroize` cannot reach it.
    buffer: Mutex<Box<Buffer>>,
    /// The current process id; a seam so that a unit test can simulate a fork.
    pid: fn() -> u32,
}

struct Buffer {
    bytes: [u8; BUFFER_LEN],
    /// Bytes before `next` have been handed out (and zeroed).
    next: usize,
    /// The process that filled `bytes`; only that process may hand them out.
    owner: u32,
}

impl Buffer {
    /// Zeroes every byte and marks the buffer empty, owned by `owner`.
    fn discard(&mut self, owner: u32) {
        self.bytes.zeroize();
        self.next = BUFFER_LEN;
        self.owner = owner;
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl BufferedRandom {
    pub(crate) fn new(source: Arc<dyn RandomSource>) -> Self {
        Self::with_pid(source, std::process::id)
    }

    /// [`BufferedRandom::new`] with another source of the current process id (tests).
    fn with_pid(source: Arc<dyn RandomSource>, pid: fn() -> u32) -> Self {
        BufferedRandom {
            source,
            buffer: Mutex::new(Box::new(Buffer {
                bytes: [0; BUFFER_LEN],
                next: BUFFER_LEN,
                owner: pid(),
            })),
            pid,
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
        let pid = (self.pid)();
        if buf.owner != pid {
            // Filled by the process this one was forked from, which may hand out the same bytes.
            buf.discard(pid);
        }
        if BUFFER_LEN - buf.next < dest.len() {
            if let Err(e) = self.source.fill(&mut buf.bytes) {
                // The source may have written part of the block: none of it is handed out.
                buf.discard(pid);
                return Err(e);
            }
            buf.next = 0;
        }
        let start = buf.next;
        let end = start + dest.len();
        dest.copy_from_slice(&buf.bytes[start..end]);
        // Handed-out bytes do not linger in the buffer.
        buf.bytes[start..end].zeroize();
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

/// A string of `len` characters drawn uniformly from `alphabet`, by rejection sampling so that no
/// character is more likely than another.
///
/// The alphabet is 1 to 128 ASCII bytes, so that each symbol is one character and one byte of the
/// string; any other is refused with [`Error::Internal`], before any draw.
///
/// Fails with [`Error::Internal`] rather than loop forever on a source that keeps giving rejected bytes
/// (R-SAFE-1). A working source has fewer than half of its bytes rejected, whatever the alphabet (1 in 64
/// for the 36-symbol ones used here), so `len / 32` draws of 64 bytes suffice on average; the `len / 16`
/// plus 64 allowed would need thousands of rejections in a row.
pub(crate) fn random_string(
    rng: &dyn RandomSource,
    alphabet: &[u8],
    len: usize,
) -> Result<String, Error> {
    if alphabet.is_empty() || !alphabet.is_ascii() || alphabet.len() > 128 {
        return Err(Error::Internal {
            detail: "a random string's alphabet must be 1 to 128 ASCII symbols",
        });
    }
    // Largest multiple of the alphabet size that fits in a byte: bytes at or above it are rejected.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    // The bytes become the string (a client secret, say): wiped when done.
    let mut buf = Zeroizing::new([0u8; 64]);
    let mut draws_left = (len / 16).saturating_add(64);
    while out.len() < len {
        if draws_left == 0 {
            out.zeroize();
            return Err(Error::Internal {
                detail: "the random source keeps producing bytes outside the alphabet's range",
            });
        }
        draws_left -= 1;
        rng.fill(&mut buf[..])?;
        for &b in buf.iter() {
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
    /// Where each byte's two digits go: the 8-4-4-4-12 layout, past the hyphens.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut out = [b'-'; 36];
    for (&b, at) in bytes.iter().zip(AT) {
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0x0f)];
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

    /// Each symbol is one character and one byte: the largest alphabet allowed (all of ASCII) gives
    /// exactly `len` of both; an alphabet that is empty, not ASCII or over 128 symbols is refused
    /// before any draw, never turned into a string of another length (or a division by zero).
    #[test]
    fn random_string_takes_only_ascii_alphabets_of_one_to_128_symbols() {
        let rng = Counter(Default::default());
        let ascii: Vec<u8> = (0..128).collect();
        let s = random_string(&rng, &ascii, 200).unwrap();
        assert_eq!((s.chars().count(), s.len()), (200, 200));
        let all_bytes: Vec<u8> = (0..=255).collect();
        for alphabet in [&b""[..], &[0xC0, 0xC1][..], &all_bytes[..]] {
            let rng = Counter(Default::default());
            let err = random_string(&rng, alphabet, 3).unwrap_err();
            assert!(matches!(err, Error::Internal { .. }), "{err:?}");
            assert_eq!(rng.0.into_inner(), 0, "a draw was made");
        }
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
        let mut big = [0u8; BUFFER_LEN / 4 + 1];
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

    /// Fills every block it is asked for with its call number (1, 2, ...), so a byte tells which block
    /// it came from. Call number `fail_at` writes `0xbb` into all but the first byte and fails.
    struct Blocks {
        calls: std::sync::atomic::AtomicU8,
        fail_at: u8,
    }
    impl Blocks {
        fn new(fail_at: u8) -> Arc<Self> {
            Arc::new(Blocks {
                calls: Default::default(),
                fail_at,
            })
        }
    }
    impl RandomSource for Blocks {
        fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
            let n = self
                .calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if n == self.fail_at {
                for b in dest.iter_mut().skip(1) {
                    *b = 0xbb;
                }
                return Err(Error::Internal { detail: "broken" });
            }
            dest.fill(n);
            Ok(())
        }
    }

    fn fill16(r: &BufferedRandom) -> Result<[u8; 16], Error> {
        let mut b = [0u8; 16];
        r.fill(&mut b).map(|()| b)
    }

    #[test]
    fn r_safe_7_a_forked_child_never_hands_out_the_parents_buffered_bytes() {
        // The process id as the buffer sees it; a "fork" changes it under the same memory, as a real
        // fork leaves the child with a copy of the parent's buffer.
        static PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
        fn pid() -> u32 {
            PID.load(std::sync::atomic::Ordering::Relaxed)
        }
        let r = BufferedRandom::with_pid(Blocks::new(0), pid);
        assert_eq!(fill16(&r).unwrap(), [1; 16], "the parent draws block 1");
        // The parent's buffer still holds all but 16 bytes of block 1, not handed out.
        PID.store(200, std::sync::atomic::Ordering::Relaxed);
        let mut child = Vec::new();
        for _ in 0..BUFFER_LEN / 16 {
            child.extend_from_slice(&fill16(&r).unwrap());
        }
        assert!(
            child.iter().all(|&b| b == 2),
            "the child hands out only blocks it drew itself"
        );
        {
            let buf = r.buffer.lock();
            assert_eq!(buf.owner, 200);
            assert!(buf.bytes.iter().all(|&b| b == 0), "handed out and zeroed");
        }
        // And back in a process that did not draw the current block (another fork), again.
        PID.store(300, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(fill16(&r).unwrap(), [3; 16]);
    }

    #[test]
    fn r_safe_7_a_discarded_buffer_is_zeroed() {
        static PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        fn pid() -> u32 {
            PID.load(std::sync::atomic::Ordering::Relaxed)
        }
        // Block 2 fails (writing nothing useful), so what the buffer holds after the fork is visible.
        let r = BufferedRandom::with_pid(Blocks::new(2), pid);
        assert_eq!(fill16(&r).unwrap(), [1; 16]);
        PID.store(2, std::sync::atomic::Ordering::Relaxed);
        assert!(fill16(&r).is_err());
        let buf = r.buffer.lock();
        assert!(
            buf.bytes.iter().all(|&b| b == 0),
            "no byte of the parent's block, nor of the failed one, remains"
        );
        assert_eq!(buf.next, BUFFER_LEN, "empty");
    }

    #[test]
    fn buffered_random_never_hands_out_part_of_a_failed_block() {
        let r = BufferedRandom::new(Blocks::new(2));
        // Leave 8 bytes of block 1, then ask for more than that: block 2 fails after writing 0xbb
        // over almost the whole buffer, those 8 bytes included.
        let mut first = [0u8; BUFFER_LEN - 8];
        for chunk in first.chunks_mut(64) {
            r.fill(chunk).unwrap();
        }
        assert!(fill16(&r).is_err());
        // Eight bytes would fit in what was left before the failure: they must come from block 3.
        let mut small = [0u8; 8];
        r.fill(&mut small).unwrap();
        assert_eq!(small, [3; 8]);
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
