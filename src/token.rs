//! The refresh-token format (R-FAM-1, R-FAM-3, R-FAM-4, R-FAM-6).
//!
//! A refresh token carries no user data: only what is needed to find its family and prove that this
//! issuer minted it. Its 57 bytes are
//!
//! ```text
//! version (1) | key id (4, big-endian) | family id (16) | generation (4, big-endian) | HMAC-SHA-256 (32)
//! ```
//!
//! written as unpadded base64url, so every token is exactly [`RefreshTokenKeys::TOKEN_LEN`] (76) characters over
//! `[A-Za-z0-9-_]`, inside the model's `[A-Za-z0-9-_=.]+`. 57 is a multiple of 3, so the encoding has no
//! partial final group and exactly one string encodes each token.
//!
//! The MAC covers the first 25 bytes (version, key id, family id, generation). It is keyed not with the
//! configured secret itself but with `HMAC-SHA-256(secret, "refresh-rotation/refresh-token-mac/v1")`, so a
//! secret that is (wrongly) reused for another purpose can never produce or accept a refresh-token MAC
//! there, and a future format version can derive a different key.
//!
//! The token of a generation is a pure function of (family id, generation, key) (R-FAM-3): a retry inside
//! the grace window gets the same successor without the store keeping any token.
//!
//! [`RefreshTokenKeys::decode`] is the only way to get a [`FamilyId`] out of a token, and it verifies the
//! MAC (in constant time, with [`ring::hmac::verify`]) before returning anything, so no caller can consult
//! the store for an unauthenticated family id (R-FAM-4). It works on a stack buffer and allocates nothing.

// Time, generation and counter arithmetic here is checked (R-SAFE-4): no silent wrap.
#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use ring::hmac;

use crate::random::{random_array, RandomSource};
use crate::secret::RefreshToken;
use crate::store::FamilyId;
use crate::Error;

/// The format version written into every token this build issues.
const VERSION: u8 = 1;
/// Label for deriving the MAC key from the configured secret (domain separation).
const MAC_KEY_LABEL: &[u8] = b"refresh-rotation/refresh-token-mac/v1";
/// Bytes covered by the MAC: version, key id, family id, generation.
const HEADER_LEN: usize = 1 + 4 + 16 + 4;
/// HMAC-SHA-256 tag length.
const MAC_LEN: usize = 32;
/// Decoded token length.
const RAW_LEN: usize = HEADER_LEN + MAC_LEN;

/// Encoded token length.
const TOKEN_LEN: usize = RAW_LEN / 3 * 4;
/// Shortest accepted secret: 256 bits.
const MIN_SECRET_LEN: usize = 32;

// The format must stay one exact base64 length with no partial final group (canonical encoding).
const _: () = assert!(RAW_LEN.is_multiple_of(3));

/// Unpadded base64url that refuses padding and non-zero trailing bits. With `RAW_LEN % 3 == 0` there are
/// never trailing bits, but the strict configuration keeps decoding canonical if the layout changes.
const STRICT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A refresh-token key: a key id and a secret from which the token MAC key is derived (R-FAM-1).
///
/// Only the derived HMAC key is kept, precomputed once, never the secret bytes. `Debug` prints the key id
/// and `[REDACTED]`; there is no `Display` and no `Serialize` (R-SAFE-2).
#[derive(Clone)]
pub struct RefreshTokenKey {
    key_id: u32,
    mac_key: hmac::Key,
}

impl RefreshTokenKey {
    /// The shortest secret accepted: 32 bytes (256 bits).
    pub const MIN_SECRET_LEN: usize = MIN_SECRET_LEN;

    /// A key from its id and secret. The secret must be at least [`MIN_SECRET_LEN`](Self::MIN_SECRET_LEN) (32) bytes, else
    /// [`Error::InvalidParameter`]. The key id is written into every token the key signs, so ids must be
    /// unique within a [`RefreshTokenKeys`] ring.
    pub fn new(key_id: u32, secret: &[u8]) -> Result<Self, Error> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::InvalidParameter {
                message: format!(
                    "refresh token key secret must be at least {MIN_SECRET_LEN} bytes"
                ),
            });
        }
        let outer = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&outer, MAC_KEY_LABEL);
        Ok(RefreshTokenKey {
            key_id,
            mac_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// A key with a fresh 256-bit random secret.
    pub fn generate(key_id: u32, rng: &dyn RandomSource) -> Result<Self, Error> {
        let secret: [u8; MIN_SECRET_LEN] = random_array(rng)?;
        Self::new(key_id, &secret)
    }

    /// The key id written into the tokens this key signs.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl fmt::Debug for RefreshTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RefreshTokenKey {{ key_id: {}, secret: [REDACTED] }}",
            self.key_id
        )
    }
}

/// The refresh-token key ring (R-FAM-6): the current key signs new tokens; older keys that are still
/// configured only verify; a token under a key that is no longer in the ring is rejected.
///
/// Key ids are unique in a ring. Lookup is a linear scan: a ring holds a handful of keys.
#[derive(Clone)]
pub struct RefreshTokenKeys {
    current: RefreshTokenKey,
    previous: Vec<RefreshTokenKey>,
}

impl RefreshTokenKeys {
    /// The length in characters of every refresh token this crate issues (76).
    pub const TOKEN_LEN: usize = TOKEN_LEN;

    /// The largest presented token a host should even read (16 KiB, R-SAFE-1). [`decode`](Self::decode)
    /// refuses anything that is not exactly [`TOKEN_LEN`](Self::TOKEN_LEN) long before any other work,
    /// which covers this bound; a host may use it to refuse a request body early.
    pub const MAX_PRESENTED_LEN: usize = 16 * 1024;

    /// A ring whose only key, `current`, signs and verifies.
    pub fn new(current: RefreshTokenKey) -> Self {
        RefreshTokenKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a verify-only key (builder form). Fails with [`Error::InvalidParameter`] if its id is
    /// already in the ring.
    pub fn with_previous(mut self, key: RefreshTokenKey) -> Result<Self, Error> {
        self.check_unused(key.key_id)?;
        self.previous.push(key);
        Ok(self)
    }

    /// Makes `new_current` the signing key and keeps the old signing key as verify-only, so tokens
    /// already handed out keep working (R-FAM-6). Fails with [`Error::InvalidParameter`], changing
    /// nothing, if `new_current`'s id is already in the ring.
    pub fn rotate(&mut self, new_current: RefreshTokenKey) -> Result<(), Error> {
        self.check_unused(new_current.key_id)?;
        let old = std::mem::replace(&mut self.current, new_current);
        self.previous.push(old);
        Ok(())
    }

    /// Adds a verify-only key (R-OPS-4): tokens under it are accepted, none is issued under it until it
    /// is [`promote`](Self::promote)d. Fails with [`Error::InvalidParameter`], changing nothing, if its
    /// id is already in the ring.
    pub fn add(&mut self, key: RefreshTokenKey) -> Result<(), Error> {
        self.check_unused(key.key_id)?;
        self.previous.push(key);
        Ok(())
    }

    /// Makes the ring's key `key_id` the signing key (R-OPS-4); the old signing key stays as verify-only.
    /// Promoting the signing key is a no-op. Fails with [`Error::InvalidParameter`], changing nothing, if
    /// the ring has no key `key_id`.
    pub fn promote(&mut self, key_id: u32) -> Result<(), Error> {
        if key_id == self.current.key_id {
            return Ok(());
        }
        let i = self
            .previous
            .iter()
            .position(|k| k.key_id == key_id)
            .ok_or_else(|| Error::InvalidParameter {
                message: format!("refresh token key id {key_id} is not configured; add it first"),
            })?;
        let new = self.previous.remove(i);
        let old = std::mem::replace(&mut self.current, new);
        self.previous.push(old);
        Ok(())
    }

    /// Removes a verify-only key: every token under it becomes invalid (R-FAM-6). Returns whether the
    /// key was in the ring. The signing key cannot be removed ([`Error::InvalidParameter`]): rotate first.
    pub fn remove(&mut self, key_id: u32) -> Result<bool, Error> {
        if key_id == self.current.key_id {
            return Err(Error::InvalidParameter {
                message: "the current refresh token key cannot be removed; rotate first".into(),
            });
        }
        let before = self.previous.len();
        self.previous.retain(|k| k.key_id != key_id);
        Ok(self.previous.len() != before)
    }

    /// The id of the signing key.
    pub fn current_key_id(&self) -> u32 {
        self.current.key_id
    }

    /// The ids of every key that verifies, signing key first.
    pub fn key_ids(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.current.key_id).chain(self.previous.iter().map(|k| k.key_id))
    }

    fn check_unused(&self, key_id: u32) -> Result<(), Error> {
        if self.key(key_id).is_some() {
            return Err(Error::InvalidParameter {
                message: format!("refresh token key id {key_id} is already configured"),
            });
        }
        Ok(())
    }

    fn key(&self, key_id: u32) -> Option<&RefreshTokenKey> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.key_id == key_id)
    }

    /// The token of `generation` of `family`, under the current key. A pure function of its inputs and
    /// the key (R-FAM-3): the same arguments always give the same string.
    pub fn encode(&self, family: &FamilyId, generation: u32) -> RefreshToken {
        Self::encode_under(&self.current, family, generation)
    }

    /// The token of `generation` of `family` under key `key_id`, or `None` if the ring no longer holds
    /// that key.
    ///
    /// A retry inside the grace window (R-ROT-2) and the loser of a race (R-ROT-5) answer with the
    /// successor the advance issued; the family records the key it was issued under (R-ROT-10), and
    /// encoding under that key reproduces the first answer byte for byte (R-FAM-3), also after the current
    /// key changed. There is no fallback to another key: that would be a different string, and a token
    /// under a removed key is invalid anyway (R-FAM-6).
    pub fn encode_with_key(
        &self,
        key_id: u32,
        family: &FamilyId,
        generation: u32,
    ) -> Option<RefreshToken> {
        self.key(key_id)
            .map(|key| Self::encode_under(key, family, generation))
    }

    fn encode_under(key: &RefreshTokenKey, family: &FamilyId, generation: u32) -> RefreshToken {
        let mut raw = [0u8; RAW_LEN];
        raw[0] = VERSION;
        raw[1..5].copy_from_slice(&key.key_id.to_be_bytes());
        raw[5..21].copy_from_slice(family.as_bytes());
        raw[21..HEADER_LEN].copy_from_slice(&generation.to_be_bytes());
        let tag = hmac::sign(&key.mac_key, &raw[..HEADER_LEN]);
        raw[HEADER_LEN..].copy_from_slice(tag.as_ref());
        RefreshToken::new(STRICT_URL_SAFE.encode(raw))
    }

    /// Parses and authenticates a presented token (R-FAM-4, R-SAFE-1).
    ///
    /// Anything that is not exactly [`TOKEN_LEN`](Self::TOKEN_LEN) characters of canonical unpadded base64url with
    /// a known version is [`TokenRejection::Malformed`], decided from the length alone for oversized
    /// input. A well-formed token whose key id is not in the ring or whose MAC does not verify is
    /// [`TokenRejection::Unauthenticated`]. The MAC is compared in constant time. A generation above the
    /// family's current one still decodes: only the store can tell, and the caller rejects it there.
    pub fn decode(&self, token: &str) -> Result<DecodedRefreshToken, TokenRejection> {
        if token.len() != TOKEN_LEN {
            return Err(TokenRejection::Malformed);
        }
        let mut raw = [0u8; RAW_LEN];
        match STRICT_URL_SAFE.decode_slice(token.as_bytes(), &mut raw) {
            Ok(RAW_LEN) => {}
            _ => return Err(TokenRejection::Malformed),
        }
        if raw[0] != VERSION {
            return Err(TokenRejection::Malformed);
        }
        let key_id = u32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]);
        let key = self.key(key_id).ok_or(TokenRejection::Unauthenticated)?;
        hmac::verify(&key.mac_key, &raw[..HEADER_LEN], &raw[HEADER_LEN..])
            .map_err(|_| TokenRejection::Unauthenticated)?;
        let mut family = [0u8; 16];
        family.copy_from_slice(&raw[5..21]);
        let generation = u32::from_be_bytes([raw[21], raw[22], raw[23], raw[24]]);
        Ok(DecodedRefreshToken {
            family: FamilyId::from_bytes(family),
            generation,
            key_id,
        })
    }
}

impl fmt::Debug for RefreshTokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenKeys")
            .field("current", &self.current)
            .field("previous", &self.previous)
            .finish()
    }
}

/// A refresh token whose MAC has been verified: the only source of a family id from a token.
///
/// It can be built only by [`RefreshTokenKeys::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedRefreshToken {
    family: FamilyId,
    generation: u32,
    key_id: u32,
}

impl DecodedRefreshToken {
    /// The family the token belongs to.
    pub fn family(&self) -> FamilyId {
        self.family
    }

    /// The token's generation. It may be above the family's current one (for example after the store
    /// was restored from an older backup); the caller compares it with the store and refuses it there
    /// (R-FAM-4).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The id of the key that signed it.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

/// Why [`RefreshTokenKeys::decode`] refused a token. Deliberately coarse (R-SAFE-2): both answer
/// `Invalid Refresh Token.` on the refresh path; they differ only for RevokeToken (R-REV-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TokenRejection {
    /// Not one of this crate's refresh tokens at all: wrong length, not canonical base64url, unknown
    /// format version. RevokeToken answers `UnsupportedTokenTypeException`.
    #[error("not a refresh token")]
    Malformed,
    /// The shape is right but the key id is not configured or the MAC does not verify. RevokeToken
    /// answers success and changes nothing (RFC 7009 §2.2).
    #[error("refresh token not authenticated")]
    Unauthenticated,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> RefreshTokenKeys {
        RefreshTokenKeys::new(RefreshTokenKey::new(7, &[0x42; 32]).unwrap())
    }

    #[test]
    fn token_has_the_documented_length_and_alphabet() {
        let t = keys().encode(&FamilyId::from_bytes([0xff; 16]), u32::MAX);
        let s = t.expose_secret();
        assert_eq!(s.len(), RefreshTokenKeys::TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 76);
        assert!(s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn decode_reads_back_every_field() {
        let k = keys();
        let fam = FamilyId::from_bytes(*b"0123456789abcdef");
        let d = k.decode(k.encode(&fam, 513).expose_secret()).unwrap();
        assert_eq!((d.family(), d.generation(), d.key_id()), (fam, 513, 7));
    }

    #[test]
    fn unknown_version_is_malformed() {
        let k = keys();
        let t = k.encode(&FamilyId::from_bytes([1; 16]), 0);
        let mut raw = STRICT_URL_SAFE.decode(t.expose_secret()).unwrap();
        raw[0] = 2;
        let s = STRICT_URL_SAFE.encode(&raw);
        assert_eq!(k.decode(&s), Err(TokenRejection::Malformed));
    }

    #[test]
    fn duplicate_key_ids_are_refused() {
        let k = keys();
        let dup = RefreshTokenKey::new(7, &[1; 32]).unwrap();
        assert!(k.clone().with_previous(dup.clone()).is_err());
        let mut k2 = k;
        assert!(k2.rotate(dup).is_err());
        assert_eq!(k2.current_key_id(), 7);
        assert!(k2.remove(7).is_err(), "the signing key cannot be removed");
        assert_eq!(k2.remove(99), Ok(false));
    }

    /// R-OPS-4: promoting the key that already signs is a no-op, not a refusal: the ring is unchanged and
    /// new tokens are still signed under that key.
    #[test]
    fn r_ops_4_promoting_the_signing_key_is_a_no_op() {
        let mut k = keys()
            .with_previous(RefreshTokenKey::new(8, &[0x43; 32]).unwrap())
            .unwrap();
        let fam = FamilyId::from_bytes([5; 16]);
        let before = k.encode(&fam, 3);
        assert_eq!(k.promote(7), Ok(()), "promoting the signing key succeeds");
        assert_eq!(k.current_key_id(), 7);
        assert_eq!(k.key_ids().collect::<Vec<_>>(), [7, 8], "nothing moved");
        assert!(k.encode(&fam, 3) == before, "still signs under key 7");
        // A ring with its signing key only.
        let mut single = keys();
        assert_eq!(single.promote(7), Ok(()));
        assert_eq!(single.key_ids().collect::<Vec<_>>(), [7]);
    }
}
