//! Client secrets at rest: [`SecretSealer`] encrypts a client secret under a host-supplied key before a
//! persistent [`ClientStore`](super::ClientStore) writes it, and decrypts it when the store reads it back.
//!
//! Encryption rather than a one-way tag, because the issuer needs the secret itself: Describe returns it
//! as Cognito does (R-PER-1), and SECRET_HASH is an HMAC keyed with the secret. A dump of the database
//! alone then hands out nothing; the key stays with the host (a KMS, a secrets manager, an environment
//! variable), never in the database.
//!
//! The cipher is AES-256-GCM (ring's `aead`) with a fresh 96-bit nonce from the injected
//! [`RandomSource`] per secret. The associated data binds a sealed secret to its pool and client id, so
//! a row's sealed secret copied into another client's row does not open. Keys are named by a 32-bit id
//! written in the clear in front of the ciphertext: a sealer seals under its current key and opens under
//! any key it holds, so keys can be rotated by adding the new key, making it current, and re-sealing
//! ([`SecretSealer::needs_reseal`]) before the old one is dropped.

use std::fmt;
use std::sync::Arc;

use ring::aead;

use crate::error::StoreError;
use crate::random::{random_array, RandomSource};
use crate::secret::ClientSecret;

/// The format byte of a sealed secret: `[1][key id, 4 bytes big-endian][nonce, 12][ciphertext][tag, 16]`.
const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + aead::NONCE_LEN;
/// The domain of the associated data, so that nothing else sealed under the same key opens as a secret.
const AAD_DOMAIN: &[u8] = b"refresh-rotation/client-secret/v1";

/// Seals and opens client secrets for a persistent client store (see the module docs).
///
/// `Debug` shows the key ids only.
pub struct SecretSealer {
    current: u32,
    keys: Vec<(u32, aead::LessSafeKey)>,
    rng: Arc<dyn RandomSource>,
}

impl fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<u32> = self.keys.iter().map(|(id, _)| *id).collect();
        f.debug_struct("SecretSealer")
            .field("current_key_id", &self.current)
            .field("key_ids", &ids)
            .field("keys", &"[REDACTED]")
            .finish()
    }
}

fn aes_key(key: &[u8; 32]) -> Result<aead::LessSafeKey, StoreError> {
    // Fails only for a key of the wrong length, which the array type rules out.
    aead::UnboundKey::new(&aead::AES_256_GCM, key)
        .map(aead::LessSafeKey::new)
        .map_err(|_| StoreError::Backend("secret sealing key rejected".to_owned()))
}

/// The associated data: the domain, the header, and the pool and client ids, each length-prefixed so
/// that no two (pool, client) pairs give the same bytes.
fn aad(header: &[u8], user_pool_id: &str, client_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        AAD_DOMAIN.len() + header.len() + 8 + user_pool_id.len() + client_id.len(),
    );
    out.extend_from_slice(AAD_DOMAIN);
    out.extend_from_slice(header);
    for part in [user_pool_id, client_id] {
        // Ids are at most a few hundred bytes; a longer one is still bound, by its truncated length
        // and its full bytes.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

fn unopenable() -> StoreError {
    // One message for every reason: which check failed is of no use to a reader of a stolen row.
    StoreError::Backend(
        "sealed client secret could not be opened (unknown key, other client, or altered)"
            .to_owned(),
    )
}

impl SecretSealer {
    /// A sealer whose current key is `key` (256 bits from a cryptographic source, kept by the host),
    /// named `key_id`, drawing nonces from `rng`.
    pub fn new(
        key_id: u32,
        key: &[u8; 32],
        rng: Arc<dyn RandomSource>,
    ) -> Result<SecretSealer, StoreError> {
        Ok(SecretSealer {
            current: key_id,
            keys: vec![(key_id, aes_key(key)?)],
            rng,
        })
    }

    /// Adds a key that secrets sealed earlier may be under; it opens them but seals nothing. A key id
    /// already held is refused.
    pub fn with_previous_key(
        mut self,
        key_id: u32,
        key: &[u8; 32],
    ) -> Result<SecretSealer, StoreError> {
        if self.keys.iter().any(|(id, _)| *id == key_id) {
            return Err(StoreError::Backend(format!(
                "secret sealing key id {key_id} given twice"
            )));
        }
        self.keys.push((key_id, aes_key(key)?));
        Ok(self)
    }

    /// The id of the key new secrets are sealed under.
    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// Encrypts `secret` under the current key, bound to `user_pool_id` and `client_id`.
    pub fn seal(
        &self,
        secret: &ClientSecret,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let key = self
            .keys
            .iter()
            .find(|(id, _)| *id == self.current)
            .map(|(_, k)| k)
            .ok_or_else(unopenable)?;
        let nonce: [u8; aead::NONCE_LEN] = random_array(&*self.rng)
            .map_err(|_| StoreError::Backend("random source failed".to_owned()))?;
        let mut out = Vec::with_capacity(
            HEADER_LEN + secret.expose_secret().len() + aead::AES_256_GCM.tag_len(),
        );
        out.push(VERSION);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = aad(&out[..5], user_pool_id, client_id);
        let mut in_out = secret.expose_secret().as_bytes().to_vec();
        let sealed = key.seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&aad[..]),
            &mut in_out,
        );
        if sealed.is_err() {
            // Only an input beyond GCM's limit (64 GiB) fails; wipe what may be plaintext all the same.
            zeroize::Zeroize::zeroize(in_out.as_mut_slice());
            return Err(StoreError::Backend(
                "client secret could not be sealed".to_owned(),
            ));
        }
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts a secret that [`seal`](Self::seal) produced for the same pool and client, under any
    /// key this sealer holds. Refuses (with one message for every reason) bytes sealed for another
    /// client or pool, under an unknown key, or altered in any way.
    pub fn open(
        &self,
        sealed: &[u8],
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<ClientSecret, StoreError> {
        let (header, body) = sealed.split_at_checked(HEADER_LEN).ok_or_else(unopenable)?;
        let key_id = Self::key_id_of(header).ok_or_else(unopenable)?;
        let key = self
            .keys
            .iter()
            .find(|(id, _)| *id == key_id)
            .map(|(_, k)| k)
            .ok_or_else(unopenable)?;
        let nonce =
            aead::Nonce::try_assume_unique_for_key(&header[5..]).map_err(|_| unopenable())?;
        let aad = aad(&header[..5], user_pool_id, client_id);
        let mut in_out = body.to_vec();
        let plain_len = match key.open_in_place(nonce, aead::Aad::from(&aad[..]), &mut in_out) {
            Ok(plain) => plain.len(),
            Err(_) => return Err(unopenable()),
        };
        in_out.truncate(plain_len);
        match String::from_utf8(in_out) {
            Ok(value) => Ok(ClientSecret::new(value)),
            Err(e) => {
                let mut bytes = e.into_bytes();
                zeroize::Zeroize::zeroize(bytes.as_mut_slice());
                Err(unopenable())
            }
        }
    }

    /// Whether `sealed` is under a key other than the current one (or unreadable): a store rotating
    /// keys opens such a secret and seals it again.
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        sealed
            .get(..HEADER_LEN)
            .and_then(Self::key_id_of)
            .is_none_or(|id| id != self.current)
    }

    fn key_id_of(header: &[u8]) -> Option<u32> {
        match header {
            [VERSION, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    const POOL: &str = "us-east-1_Test";
    const CLIENT: &str = "abcdefghijklmnopqrstuvwxyz";

    fn sealer(id: u32, key: u8) -> SecretSealer {
        SecretSealer::new(id, &[key; 32], Arc::new(SystemRandom::new())).unwrap()
    }

    fn secret() -> ClientSecret {
        ClientSecret::new("s3cr3tvalue0123456789abcdefghijklmnopqrstuvwxyz01234")
    }

    #[test]
    fn r_per_1_sealed_secret_round_trips_and_hides_the_value() {
        let s = sealer(7, 1);
        let sealed = s.seal(&secret(), POOL, CLIENT).unwrap();
        let value = secret().expose_secret().to_owned();
        assert!(!sealed
            .windows(8)
            .any(|w| value.as_bytes().windows(8).any(|v| v == w)));
        let opened = s.open(&sealed, POOL, CLIENT).unwrap();
        assert_eq!(opened.expose_secret(), value);
        // A fresh nonce each time: sealing twice gives different bytes.
        assert_ne!(sealed, s.seal(&secret(), POOL, CLIENT).unwrap());
    }

    #[test]
    fn r_per_1_secret_sealed_for_another_client_or_pool_does_not_open() {
        let s = sealer(7, 1);
        let sealed = s.seal(&secret(), POOL, CLIENT).unwrap();
        assert!(s.open(&sealed, POOL, "abcdefghijklmnopqrstuvwxy0").is_err());
        assert!(s.open(&sealed, "us-east-1_Other", CLIENT).is_err());
        // The length prefixes keep ("ab", "c") and ("a", "bc") apart.
        let split = s.seal(&secret(), "ab", "c").unwrap();
        assert!(s.open(&split, "a", "bc").is_err());
    }

    #[test]
    fn r_per_1_wrong_key_and_altered_bytes_are_refused() {
        let s = sealer(7, 1);
        let sealed = s.seal(&secret(), POOL, CLIENT).unwrap();
        assert!(
            sealer(7, 2).open(&sealed, POOL, CLIENT).is_err(),
            "same id, other key"
        );
        assert!(
            sealer(8, 1).open(&sealed, POOL, CLIENT).is_err(),
            "unknown key id"
        );
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open(&bad, POOL, CLIENT).is_err(), "flipped byte {i}");
        }
        assert!(s.open(&sealed[..sealed.len() - 1], POOL, CLIENT).is_err());
        assert!(s.open(&[], POOL, CLIENT).is_err());
    }

    #[test]
    fn r_per_1_keys_rotate_by_id() {
        let old = sealer(1, 1);
        let sealed_old = old.seal(&secret(), POOL, CLIENT).unwrap();
        let new = sealer(2, 2).with_previous_key(1, &[1; 32]).unwrap();
        assert!(new.needs_reseal(&sealed_old));
        let opened = new.open(&sealed_old, POOL, CLIENT).unwrap();
        let resealed = new.seal(&opened, POOL, CLIENT).unwrap();
        assert!(!new.needs_reseal(&resealed));
        assert!(
            old.open(&resealed, POOL, CLIENT).is_err(),
            "the old sealer lacks key 2"
        );
        assert!(
            sealer(2, 2).with_previous_key(2, &[3; 32]).is_err(),
            "duplicate id"
        );
        // Bytes without a readable header (empty, cut short, another format) are resealed too: a
        // rotation that asks `needs_reseal` must not skip them as current.
        let mut other_format = resealed.clone();
        other_format[0] = VERSION.wrapping_add(1);
        for unreadable in [&[][..], &resealed[..HEADER_LEN - 1], &other_format[..]] {
            assert!(new.needs_reseal(unreadable), "{unreadable:?}");
        }
    }

    #[test]
    fn r_safe_2_debug_of_sealer_shows_no_key() {
        let s = sealer(7, 0xAB).with_previous_key(3, &[0xCD; 32]).unwrap();
        let d = format!("{s:?}");
        assert!(
            d.contains("[REDACTED]") && d.contains("7") && d.contains("3"),
            "{d}"
        );
        assert!(
            !d.to_lowercase().contains("ab, ") && !d.contains("171"),
            "{d}"
        );
    }
}
