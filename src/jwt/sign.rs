//! The pool's token signer: current ID and access keys, retired keys, and the JWKS (R-JWT-1, R-JWT-5).
//!
//! Cognito signs ID and access tokens with different keys and publishes both. Rotating a key moves its
//! public half to the retired list, so tokens it signed keep verifying until the host removes it (once the
//! longest token validity has passed since the rotation).
//!
//! A key can also be staged before it is used (R-OPS-4): [`TokenSigner::add_key`] publishes it in the
//! JWKS without signing with it, so that verifiers that cache the JWKS learn it before the first token it
//! signs; [`TokenSigner::promote`] then makes it the signing key.

use std::sync::Arc;

use super::claims::{AccessTokenClaims, IdTokenClaims};
use super::keys::{Algorithm, SigningKey};
use super::verify::{check_jwk, JwtVerifier, MAX_JWKS_JSON_LEN, MAX_JWKS_KEYS};
use super::{Jwk, JwkSet};
use crate::Error;

/// Room for a typical claim set's JSON: an ID token with a handful of attributes fits without growing.
pub(crate) const JSON_CAPACITY: usize = 1024;

fn serialise_failed() -> Error {
    Error::Internal {
        detail: "claims could not be serialised",
    }
}

/// Clears `json`, has `write` put a claim set's JSON in it, and signs that with `key`.
fn sign_in_buffer(
    key: &SigningKey,
    json: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), serde_json::Error>,
) -> Result<String, Error> {
    json.clear();
    write(json).map_err(|_| serialise_failed())?;
    key.sign_json_payload(json)
}

/// Signs a pool's ID and access tokens and publishes the keys that verify them.
///
/// Cloning is cheap (keys are shared). Rotation takes `&mut self`; an issuer rotates its signer while
/// serving through its [`KeyRing`](crate::keyring::KeyRing), which swaps in a changed copy.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    id_key: Arc<SigningKey>,
    access_key: Arc<SigningKey>,
    /// Published in the JWKS, not yet signing (R-OPS-4).
    staged: Vec<Arc<SigningKey>>,
    retired: Vec<Jwk>,
    /// Keys removed from the JWKS, by their public half: their kids are never given to another key, since
    /// resource servers cache keys by kid (only [`add_retired_key`](Self::add_retired_key) may publish
    /// the same key again). Keys are removed a few times a year.
    removed: Vec<Jwk>,
}

fn kid_of(jwk: &Jwk) -> &str {
    jwk.kid().unwrap_or_default()
}

impl TokenSigner {
    /// A signer that uses `key` for both ID and access tokens.
    pub fn new(key: Arc<SigningKey>) -> Self {
        TokenSigner {
            id_key: Arc::clone(&key),
            access_key: key,
            staged: Vec::new(),
            retired: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// A signer with separate ID-token and access-token keys, as Cognito has.
    ///
    /// Fails with [`Error::InvalidParameter`] if the two keys share a kid but are different keys.
    pub fn with_keys(id_key: Arc<SigningKey>, access_key: Arc<SigningKey>) -> Result<Self, Error> {
        let signer = TokenSigner {
            id_key,
            access_key,
            staged: Vec::new(),
            retired: Vec::new(),
            removed: Vec::new(),
        };
        signer.check_kid_free(signer.access_key.public_jwk(), &[&signer.id_key])?;
        Ok(signer)
    }

    /// The key that signs ID tokens.
    pub fn id_key(&self) -> &Arc<SigningKey> {
        &self.id_key
    }

    /// The key that signs access tokens.
    pub fn access_key(&self) -> &Arc<SigningKey> {
        &self.access_key
    }

    /// Public keys of retired signing keys, still published so their tokens verify (R-JWT-5).
    pub fn retired_keys(&self) -> &[Jwk] {
        &self.retired
    }

    /// Keys published in the JWKS but not signing yet (R-OPS-4).
    pub fn staged_keys(&self) -> &[Arc<SigningKey>] {
        &self.staged
    }

    /// The algorithms an ID token that verifies against [`jwks`](Self::jwks) may carry, each once: the
    /// ID-token key's first, then those of the staged keys (which sign once promoted) and of the retired
    /// keys (whose tokens verify until they are removed). Discovery lists them (R-OAUTH-6), so that a
    /// client that takes its accepted algorithms from there keeps accepting the pool's tokens while the
    /// algorithm changes.
    pub fn id_token_algorithms(&self) -> Vec<Algorithm> {
        let staged = self.staged.iter().map(|k| k.algorithm());
        // A retired key's `alg` is always set, to one of the three (`add_retired_key`, `retire_jwk`).
        let retired = self.retired.iter().filter_map(|jwk| {
            [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
                .into_iter()
                .find(|a| jwk.alg.as_deref() == Some(a.as_str()))
        });
        let mut algs = vec![self.id_key.algorithm()];
        for alg in staged.chain(retired) {
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        algs
    }

    /// Fails if `jwk`'s kid is taken by a different key among `current`, the staged and the retired keys.
    fn check_kid_free(&self, jwk: &Jwk, current: &[&Arc<SigningKey>]) -> Result<(), Error> {
        let kid = kid_of(jwk);
        let clash = current
            .iter()
            .copied()
            .chain(self.staged.iter())
            .map(|k| k.public_jwk())
            .chain(self.retired.iter())
            .chain(self.removed.iter())
            .any(|other| kid_of(other) == kid && other != jwk);
        if clash {
            Err(Error::InvalidParameter {
                message: format!("signing key id {kid} is already used by a different key"),
            })
        } else {
            Ok(())
        }
    }

    /// Fails if publishing `jwk` would make the JWKS larger than a verifier accepts: more than
    /// [`MAX_JWKS_KEYS`] keys, or more than [`MAX_JWKS_JSON_LEN`] bytes of JSON (long kids, large
    /// moduli). A signer whose JWKS no verifier (introspection included, or a resource server loading
    /// it with [`JwtVerifier::from_jwks_json`]) can load would stop its own tokens from verifying. A
    /// kid published now adds nothing; a removed one, which [`add_retired_key`](Self::add_retired_key)
    /// may publish again, adds its key.
    fn check_room_for(&self, jwk: &Jwk) -> Result<(), Error> {
        if self.publishes_kid(kid_of(jwk)) {
            return Ok(());
        }
        let mut set = self.jwks();
        if set.keys.len() >= MAX_JWKS_KEYS {
            return Err(Error::InvalidParameter {
                message: format!(
                    "the JWKS already publishes {MAX_JWKS_KEYS} keys, as many as a verifier accepts; \
                     remove retired keys first"
                ),
            });
        }
        set.keys.push(jwk.clone());
        let len = serde_json::to_string(&set).map_or(usize::MAX, |json| json.len());
        if len > MAX_JWKS_JSON_LEN {
            return Err(Error::InvalidParameter {
                message: format!(
                    "with this key the JWKS would be {len} bytes, more than the {MAX_JWKS_JSON_LEN} a \
                     verifier parses; remove retired keys first"
                ),
            });
        }
        Ok(())
    }

    /// Fails if `kid` was retired or removed: such a key signs no more, through a rotation as through
    /// [`promote`](Self::promote).
    fn check_not_retired(&self, kid: &str) -> Result<(), Error> {
        if self.signs_or_stages(kid) || !self.knows_kid(kid) {
            return Ok(());
        }
        Err(Error::InvalidParameter {
            message: format!(
                "signing key id {kid} is retired and cannot sign again; add a new key"
            ),
        })
    }

    fn retire_jwk(&mut self, jwk: Jwk) {
        if !self.retired.iter().any(|r| kid_of(r) == kid_of(&jwk)) {
            self.retired.push(jwk);
        }
    }

    /// Makes `new` the ID-token key; the previous one is retired (still in the JWKS) unless it is
    /// still the access-token key.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if `new`'s kid belongs to a different
    /// key already known to this signer, if it was retired or removed (a retired key signs no more),
    /// or if publishing it would exceed [`MAX_JWKS_KEYS`] or [`MAX_JWKS_JSON_LEN`].
    pub fn rotate_id_key(&mut self, new: Arc<SigningKey>) -> Result<(), Error> {
        self.check_kid_free(new.public_jwk(), &[&self.id_key, &self.access_key])?;
        self.check_not_retired(new.kid())?;
        self.check_room_for(new.public_jwk())?;
        // A staged key put to use this way is staged no more.
        self.staged.retain(|k| k.kid() != new.kid());
        let old = std::mem::replace(&mut self.id_key, new);
        // Still signing access tokens, it is not retired.
        if old.kid() != self.id_key.kid() && old.kid() != self.access_key.kid() {
            self.retire_jwk(old.public_jwk().clone());
        }
        Ok(())
    }

    /// Makes `new` the access-token key; the previous one is retired (still in the JWKS) unless it is
    /// still the ID-token key.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if `new`'s kid belongs to a different
    /// key already known to this signer, if it was retired or removed (a retired key signs no more),
    /// or if publishing it would exceed [`MAX_JWKS_KEYS`] or [`MAX_JWKS_JSON_LEN`].
    pub fn rotate_access_key(&mut self, new: Arc<SigningKey>) -> Result<(), Error> {
        self.check_kid_free(new.public_jwk(), &[&self.id_key, &self.access_key])?;
        self.check_not_retired(new.kid())?;
        self.check_room_for(new.public_jwk())?;
        // A staged key put to use this way is staged no more.
        self.staged.retain(|k| k.kid() != new.kid());
        let old = std::mem::replace(&mut self.access_key, new);
        // Still signing ID tokens, it is not retired.
        if old.kid() != self.access_key.kid() && old.kid() != self.id_key.kid() {
            self.retire_jwk(old.public_jwk().clone());
        }
        Ok(())
    }

    /// Publishes the public key of a signing key retired earlier (for example, listed in configuration
    /// after a restart), so that tokens it signed keep verifying.
    ///
    /// Fails with [`Error::InvalidParameter`] if `jwk` is not an RS256, ES256 or EdDSA signature key with
    /// a kid, its kid belongs (or, removed, belonged) to a different key, it is a current or
    /// staged key of this signer (which rotation retires, once it signs no more), or publishing it would
    /// exceed [`MAX_JWKS_KEYS`] or [`MAX_JWKS_JSON_LEN`].
    ///
    /// The key is published as this signer publishes its own (R-JWT-5): with `alg`, the one its type
    /// and curve pin, and `use` = `sig`, filled in when `jwk` leaves them out (as a key listed in
    /// configuration may). A `jwk` that names another algorithm or use is refused.
    pub fn add_retired_key(&mut self, mut jwk: Jwk) -> Result<(), Error> {
        let alg = check_jwk(&jwk)?;
        jwk.alg = Some(alg.as_str().to_owned());
        jwk.key_use = Some("sig".to_owned());
        self.check_kid_free(&jwk, &[&self.id_key, &self.access_key])?;
        let kid = kid_of(&jwk);

        if self.signs_or_stages(kid) {
            // Retired means it signs no more: a current or staged key is retired by rotation.
            return Err(Error::InvalidParameter {
                message: format!(
                    "signing key id {kid} signs tokens or is staged; it is not retired"
                ),
            });
        }
        self.check_room_for(&jwk)?;
        // Published again: retired, no longer removed.
        self.removed.retain(|r| kid_of(r) != kid);
        self.retire_jwk(jwk);
        Ok(())
    }

    /// Stops publishing a retired key: tokens it signed no longer verify. Returns whether it was there.
    /// Current keys are not affected.
    pub fn remove_retired_key(&mut self, kid: &str) -> bool {
        let (gone, kept) = std::mem::take(&mut self.retired)
            .into_iter()
            .partition(|r| kid_of(r) == kid);
        self.retired = kept;
        let gone: Vec<Jwk> = gone;
        let removed = !gone.is_empty();
        self.removed.extend(gone);
        removed
    }

    /// Stages `key` (R-OPS-4): it is published in the JWKS at once but signs nothing until
    /// [`promote`](Self::promote)d.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if its kid is already known to this
    /// signer (current, staged or retired), even for the same key: a kid names one key for its life;
    /// or if publishing it would exceed [`MAX_JWKS_KEYS`] or [`MAX_JWKS_JSON_LEN`] (remove retired keys first).
    pub fn add_key(&mut self, key: Arc<SigningKey>) -> Result<(), Error> {
        if self.knows_kid(key.kid()) {
            return Err(Error::InvalidParameter {
                message: format!("signing key id {} is already known", key.kid()),
            });
        }
        self.check_room_for(key.public_jwk())?;
        self.staged.push(key);
        Ok(())
    }

    fn knows_kid(&self, kid: &str) -> bool {
        self.publishes_kid(kid) || self.removed.iter().any(|r| kid_of(r) == kid)
    }

    /// Whether the JWKS publishes `kid` now: a current, staged or retired key (not a removed one).
    fn publishes_kid(&self, kid: &str) -> bool {
        self.signs_or_stages(kid) || self.retired.iter().any(|r| kid_of(r) == kid)
    }

    /// Whether `kid` is a current or a staged key: one that is not retired.
    fn signs_or_stages(&self, kid: &str) -> bool {
        self.id_key.kid() == kid
            || self.access_key.kid() == kid
            || self.staged.iter().any(|k| k.kid() == kid)
    }

    /// Makes the key `kid` sign both ID and access tokens (R-OPS-4); the keys it replaces are retired:
    /// still published, so the tokens they signed keep verifying. `kid` is a staged key (or a current
    /// one); promoting the key that already signs both is a no-op.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if no staged or current key has that kid
    /// (a retired key has only its public half and cannot sign again).
    pub fn promote(&mut self, kid: &str) -> Result<(), Error> {
        let key = if let Some(i) = self.staged.iter().position(|k| k.kid() == kid) {
            self.staged.remove(i)
        } else if self.id_key.kid() == kid {
            Arc::clone(&self.id_key)
        } else if self.access_key.kid() == kid {
            Arc::clone(&self.access_key)
        } else {
            let why = if self.retired.iter().any(|r| kid_of(r) == kid) {
                "is retired and cannot sign again; add a new key"
            } else {
                "is not a staged signing key; add it first"
            };
            return Err(Error::InvalidParameter {
                message: format!("signing key id {kid} {why}"),
            });
        };
        let old_id = std::mem::replace(&mut self.id_key, Arc::clone(&key));
        let old_access = std::mem::replace(&mut self.access_key, key);
        for old in [old_id, old_access] {
            if old.kid() != kid {
                self.retire_jwk(old.public_jwk().clone());
            }
        }
        Ok(())
    }

    /// Retires the staged key `kid` without ever signing with it: its public half stays published until
    /// removed. Retiring a retired key is a no-op.
    ///
    /// Fails with [`Error::InvalidParameter`] if `kid` signs tokens now (promote another key first) or is
    /// unknown.
    pub fn retire(&mut self, kid: &str) -> Result<(), Error> {
        if self.id_key.kid() == kid || self.access_key.kid() == kid {
            return Err(Error::InvalidParameter {
                message: format!(
                    "signing key id {kid} signs tokens now; promote another key first"
                ),
            });
        }
        if let Some(i) = self.staged.iter().position(|k| k.kid() == kid) {
            let key = self.staged.remove(i);
            self.retire_jwk(key.public_jwk().clone());
            return Ok(());
        }
        if self.retired.iter().any(|r| kid_of(r) == kid) {
            return Ok(());
        }
        Err(Error::InvalidParameter {
            message: format!("no signing key has id {kid}"),
        })
    }

    /// Removes the staged or retired key `kid` from the JWKS: tokens it signed no longer verify.
    /// Returns whether it was there. The kid is never given to a key again by this signer.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if `kid` signs tokens now.
    pub fn remove_key(&mut self, kid: &str) -> Result<bool, Error> {
        if self.id_key.kid() == kid || self.access_key.kid() == kid {
            return Err(Error::InvalidParameter {
                message: format!(
                    "signing key id {kid} signs tokens now and cannot be removed; promote another key first"
                ),
            });
        }
        let staged_gone: Vec<Jwk> = self
            .staged
            .iter()
            .filter(|k| k.kid() == kid)
            .map(|k| k.public_jwk().clone())
            .collect();
        self.staged.retain(|k| k.kid() != kid);
        let removed = !staged_gone.is_empty();
        self.removed.extend(staged_gone);
        Ok(self.remove_retired_key(kid) || removed)
    }

    /// Signs an ID token with the ID-token key.
    ///
    /// Fails with [`Error::Internal`] only if signing itself fails.
    pub fn sign_id_token(&self, claims: &IdTokenClaims<'_>) -> Result<String, Error> {
        self.sign_id_token_in(claims, &mut Vec::with_capacity(JSON_CAPACITY))
    }

    /// [`sign_id_token`](Self::sign_id_token) with `json` as scratch space for the claims (cleared
    /// first), so that one buffer serves both tokens of a token set.
    pub(crate) fn sign_id_token_in(
        &self,
        claims: &IdTokenClaims<'_>,
        json: &mut Vec<u8>,
    ) -> Result<String, Error> {
        sign_in_buffer(&self.id_key, json, |json| claims.write_json(json))
    }

    /// Signs an access token with the access-token key.
    ///
    /// Fails with [`Error::Internal`] only if signing itself fails.
    pub fn sign_access_token(&self, claims: &AccessTokenClaims<'_>) -> Result<String, Error> {
        self.sign_access_token_in(claims, &mut Vec::with_capacity(JSON_CAPACITY))
    }

    /// [`sign_access_token`](Self::sign_access_token) with `json` as scratch space for the claims
    /// (cleared first).
    pub(crate) fn sign_access_token_in(
        &self,
        claims: &AccessTokenClaims<'_>,
        json: &mut Vec<u8>,
    ) -> Result<String, Error> {
        sign_in_buffer(&self.access_key, json, |json| claims.write_json(json))
    }

    /// The lengths of the access and ID tokens these claims would make, without signing them, with
    /// `access_extra` more bytes of claims in the access token.
    pub(crate) fn token_lengths(
        &self,
        access: &AccessTokenClaims<'_>,
        id: &IdTokenClaims<'_>,
        access_extra: usize,
    ) -> Result<(usize, usize), Error> {
        let mut json = Vec::with_capacity(JSON_CAPACITY);
        access
            .write_json(&mut json)
            .map_err(|_| serialise_failed())?;
        let access_len = self
            .access_key
            .jws_len(json.len().saturating_add(access_extra));
        json.clear();
        id.write_json(&mut json).map_err(|_| serialise_failed())?;
        let id_len = self.id_key.jws_len(json.len());
        Ok((access_len, id_len))
    }

    /// An upper bound of the length of either token over a claim set of at most `json_len` bytes.
    pub(crate) fn token_len_bound(&self, json_len: usize) -> usize {
        self.access_key
            .jws_len(json_len)
            .max(self.id_key.jws_len(json_len))
    }

    /// The JWKS (R-JWT-5): the current ID key, the current access key, every staged key and every
    /// retired key, each once.
    pub fn jwks(&self) -> JwkSet {
        let mut keys: Vec<Jwk> = Vec::with_capacity(2 + self.staged.len() + self.retired.len());
        for jwk in [self.id_key.public_jwk(), self.access_key.public_jwk()]
            .into_iter()
            .chain(self.staged.iter().map(|k| k.public_jwk()))
            .chain(self.retired.iter())
        {
            if !keys.iter().any(|k| kid_of(k) == kid_of(jwk)) {
                keys.push(jwk.clone());
            }
        }
        JwkSet { keys }
    }

    /// The JWKS as the JSON document served at `/<userPoolId>/.well-known/jwks.json` (R-WIRE-3).
    pub fn jwks_json(&self) -> String {
        // A `JwkSet` holds only strings and enums; serialising it into a `String` cannot fail.
        serde_json::to_string(&self.jwks()).unwrap_or_else(|_| r#"{"keys":[]}"#.to_owned())
    }

    /// A verifier for this signer's tokens with `issuer` as the expected `iss`.
    pub fn verifier(&self, issuer: impl Into<String>) -> Result<JwtVerifier, Error> {
        JwtVerifier::of_own_keys(issuer, &self.jwks())
    }
}
