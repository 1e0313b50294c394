//! The live keys of a running issuer (R-OPS-4): its [`TokenSigner`] and its [`RefreshTokenKeys`], swapped
//! atomically so that keys rotate through `&self` without a rebuild and without failing a request.
//!
//! A sign-in or a refresh takes one snapshot ([`KeyRing::load`], one atomic load) when it starts and uses
//! it to the end: the refresh token it decodes, the key id it records at the advance (R-ROT-10), the
//! successor it encodes and the JWTs it signs all come from the same [`KeySet`]. One exception: a retry,
//! or the loser of a race, whose successor was recorded under a refresh-token key its snapshot does not
//! hold (added and promoted since it started) takes a new snapshot once, and finishes with that one.
//! RevokeToken and introspection sign nothing: they load the keys when they come to use them, once the
//! client is read (introspection once to try the token as a refresh token, and again for the verifier
//! of an ID or access token). A change copies the current set (keys are shared or cheap to copy; nothing
//! is parsed again), changes the copy and swaps it in; writers are serialised by a mutex that readers
//! never touch, so no lock is held across signing.
//!
//! A request that started before a change finishes with the keys it started with, which the change kept
//! (a promoted-away signing key is retired into the JWKS, a promoted-away refresh-token key stays
//! verify-only), so nothing it issues fails to verify. Only removal invalidates tokens, and is meant for
//! keys no live token uses (see the README's key rotation procedure).

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::error::Error;
use crate::jwt::{JwkSet, SigningKey, TokenSigner};
use crate::token::{RefreshTokenKey, RefreshTokenKeys};

/// One consistent snapshot of an issuer's keys.
#[derive(Debug, Clone)]
pub struct KeySet {
    signer: Arc<TokenSigner>,
    refresh_keys: Arc<RefreshTokenKeys>,
}

impl KeySet {
    /// The signer: ID and access keys, staged and retired keys, the JWKS.
    pub fn signer(&self) -> &Arc<TokenSigner> {
        &self.signer
    }

    /// The refresh-token key ring.
    pub fn refresh_keys(&self) -> &Arc<RefreshTokenKeys> {
        &self.refresh_keys
    }
}

/// An issuer's keys, changeable while it serves (R-OPS-4). Reach it through
/// [`TokenIssuer::keys`](crate::TokenIssuer::keys) or [`AsyncTokenIssuer::keys`](crate::AsyncTokenIssuer::keys).
///
/// Signing keys: [`add_signing_key`](Self::add_signing_key) (published, not used),
/// [`promote_signing_key`](Self::promote_signing_key) (signs new tokens; the previous key is retired),
/// [`retire_signing_key`](Self::retire_signing_key), [`remove_signing_key`](Self::remove_signing_key).
/// Refresh-token keys: [`add_refresh_key`](Self::add_refresh_key) (verify-only),
/// [`promote_refresh_key`](Self::promote_refresh_key) (signs new tokens; the previous key verifies),
/// [`remove_refresh_key`](Self::remove_refresh_key). Each change is atomic: a request sees the keys before
/// it or after it, never a mix. A refused change ([`Error::InvalidParameter`]) changes nothing.
pub struct KeyRing {
    current: ArcSwap<KeySet>,
    writer: Mutex<()>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &*self.current.load())
            .finish()
    }
}

impl KeyRing {
    pub(crate) fn new(signer: TokenSigner, refresh_keys: RefreshTokenKeys) -> Self {
        KeyRing {
            current: ArcSwap::from_pointee(KeySet {
                signer: Arc::new(signer),
                refresh_keys: Arc::new(refresh_keys),
            }),
            writer: Mutex::new(()),
        }
    }

    /// The keys now: one atomic load. A request keeps its snapshot to the end.
    pub fn load(&self) -> Arc<KeySet> {
        self.current.load_full()
    }

    /// The signer now.
    pub fn signer(&self) -> Arc<TokenSigner> {
        Arc::clone(&self.current.load().signer)
    }

    /// The refresh-token key ring now.
    pub fn refresh_keys(&self) -> Arc<RefreshTokenKeys> {
        Arc::clone(&self.current.load().refresh_keys)
    }

    /// The JWKS now (R-JWT-5): current, staged and retired signing keys. It reflects every change at once.
    pub fn jwks(&self) -> JwkSet {
        self.current.load().signer.jwks()
    }

    /// The JWKS now, as JSON (R-WIRE-3).
    pub fn jwks_json(&self) -> String {
        self.current.load().signer.jwks_json()
    }

    /// Publishes `key` in the JWKS without signing with it ([`TokenSigner::add_key`]).
    pub fn add_signing_key(&self, key: Arc<SigningKey>) -> Result<(), Error> {
        self.update_signer(|s| s.add_key(key))
    }

    /// Makes the staged key `kid` sign ID and access tokens; the keys it replaces stay published
    /// ([`TokenSigner::promote`]).
    pub fn promote_signing_key(&self, kid: &str) -> Result<(), Error> {
        self.update_signer(|s| s.promote(kid))
    }

    /// Retires a staged key unused ([`TokenSigner::retire`]); refuses the key that signs now.
    pub fn retire_signing_key(&self, kid: &str) -> Result<(), Error> {
        self.update_signer(|s| s.retire(kid))
    }

    /// Removes a staged or retired key from the JWKS ([`TokenSigner::remove_key`]); refuses the key that
    /// signs now. Tokens it signed stop verifying: remove a key only once the longest ID or access token
    /// validity has passed since it stopped signing.
    pub fn remove_signing_key(&self, kid: &str) -> Result<bool, Error> {
        self.update_signer(|s| s.remove_key(kid))
    }

    /// Adds a verify-only refresh-token key ([`RefreshTokenKeys::add`]).
    pub fn add_refresh_key(&self, key: RefreshTokenKey) -> Result<(), Error> {
        self.update_refresh_keys(|k| k.add(key))
    }

    /// Makes the refresh-token key `key_id` sign new tokens; the previous one stays verify-only
    /// ([`RefreshTokenKeys::promote`]). Retries and race losers still get their successor under the key
    /// recorded at the advance (R-ROT-10).
    pub fn promote_refresh_key(&self, key_id: u32) -> Result<(), Error> {
        self.update_refresh_keys(|k| k.promote(key_id))
    }

    /// Removes a verify-only refresh-token key ([`RefreshTokenKeys::remove`]): every token under it
    /// becomes invalid (R-FAM-6); refuses the signing key.
    pub fn remove_refresh_key(&self, key_id: u32) -> Result<bool, Error> {
        self.update_refresh_keys(|k| k.remove(key_id))
    }

    fn update_signer<R>(
        &self,
        change: impl FnOnce(&mut TokenSigner) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let _writer = self.writer.lock();
        let now = self.current.load_full();
        let mut signer = TokenSigner::clone(&now.signer);
        let out = change(&mut signer)?;
        self.current.store(Arc::new(KeySet {
            signer: Arc::new(signer),
            refresh_keys: Arc::clone(&now.refresh_keys),
        }));
        Ok(out)
    }

    fn update_refresh_keys<R>(
        &self,
        change: impl FnOnce(&mut RefreshTokenKeys) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let _writer = self.writer.lock();
        let now = self.current.load_full();
        let mut keys = RefreshTokenKeys::clone(&now.refresh_keys);
        let out = change(&mut keys)?;
        self.current.store(Arc::new(KeySet {
            signer: Arc::clone(&now.signer),
            refresh_keys: Arc::new(keys),
        }));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Algorithm;

    fn ring() -> KeyRing {
        KeyRing::new(
            TokenSigner::new(Arc::new(
                SigningKey::generate(Algorithm::EdDSA, "k1").unwrap(),
            )),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, &[1; 32]).unwrap()),
        )
    }

    fn kids(r: &KeyRing) -> Vec<String> {
        r.jwks()
            .keys
            .iter()
            .map(|k| k.kid().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn r_ops_4_signing_key_lifecycle() {
        let r = ring();
        let k2 = Arc::new(SigningKey::generate(Algorithm::EdDSA, "k2").unwrap());
        r.add_signing_key(k2.clone()).unwrap();
        assert_eq!(kids(&r), ["k1", "k2"], "published at once");
        assert_eq!(r.signer().id_key().kid(), "k1", "not used yet");
        assert!(r.add_signing_key(k2).is_err(), "duplicate kid");
        assert!(r.remove_signing_key("k1").is_err(), "current key");
        assert!(r.retire_signing_key("k1").is_err(), "current key");
        assert!(r.promote_signing_key("nope").is_err());
        r.promote_signing_key("k2").unwrap();
        let s = r.signer();
        assert_eq!((s.id_key().kid(), s.access_key().kid()), ("k2", "k2"));
        assert_eq!(
            kids(&r),
            ["k2", "k1"],
            "the old key is retired, still published"
        );
        assert!(
            r.promote_signing_key("k1").is_err(),
            "retired keys cannot sign"
        );
        r.retire_signing_key("k1").unwrap();
        assert_eq!(r.remove_signing_key("k1"), Ok(true));
        assert_eq!(r.remove_signing_key("k1"), Ok(false));
        assert_eq!(kids(&r), ["k2"]);
        let k3 = Arc::new(SigningKey::generate(Algorithm::EdDSA, "k3").unwrap());
        r.add_signing_key(k3).unwrap();
        r.retire_signing_key("k3").unwrap();
        assert_eq!(kids(&r), ["k2", "k3"]);
        assert!(r.promote_signing_key("k3").is_err());
    }

    #[test]
    fn r_ops_4_refresh_key_lifecycle() {
        let r = ring();
        let before = r.load();
        r.add_refresh_key(RefreshTokenKey::new(2, &[2; 32]).unwrap())
            .unwrap();
        assert!(r
            .add_refresh_key(RefreshTokenKey::new(2, &[3; 32]).unwrap())
            .is_err());
        assert_eq!(r.refresh_keys().current_key_id(), 1);
        assert!(r.promote_refresh_key(9).is_err());
        r.promote_refresh_key(2).unwrap();
        assert_eq!(r.refresh_keys().current_key_id(), 2);
        assert_eq!(r.refresh_keys().key_ids().collect::<Vec<_>>(), [2, 1]);
        assert!(r.remove_refresh_key(2).is_err(), "current key");
        assert_eq!(r.remove_refresh_key(1), Ok(true));
        // A snapshot taken before keeps its keys.
        assert_eq!(before.refresh_keys().current_key_id(), 1);
    }

    /// R-OPS-4: each change is atomic, also with respect to other changes: a writer that starts while
    /// another change is in progress waits for it (writers are serialised), so neither change is lost.
    #[test]
    fn r_ops_4_concurrent_key_changes_are_serialised_and_none_is_lost() {
        let r = ring();
        std::thread::scope(|s| {
            let other = r
                .update_refresh_keys(|k| {
                    // A second writer starts while this change is in progress ...
                    let other =
                        s.spawn(|| r.add_refresh_key(RefreshTokenKey::new(3, &[3; 32]).unwrap()));
                    // ... and cannot store its change before this one is stored.
                    assert!(r.writer.is_locked(), "writers are serialised");
                    k.add(RefreshTokenKey::new(2, &[2; 32]).unwrap())
                        .map(|()| other)
                })
                .unwrap();
            other.join().unwrap().unwrap();
        });
        let mut ids: Vec<u32> = r.refresh_keys().key_ids().collect();
        ids.sort_unstable();
        assert_eq!(ids, [1, 2, 3], "neither change was lost");
    }
}
