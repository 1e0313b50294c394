//! The pool's token signer: current ID and access keys, retired keys, and the JWKS (R-JWT-1, R-JWT-5).
//!
//! Cognito signs ID and access tokens with different keys and publishes both. Rotating a key moves its
//! public half to the retired list, so tokens it signed keep verifying until the host removes it (once the
//! longest token validity has passed since the rotation).

use std::sync::Arc;

use super::claims::{AccessTokenClaims, IdTokenClaims};
use super::keys::SigningKey;
use super::verify::{check_jwk, JwtVerifier};
use super::{Jwk, JwkSet};
use crate::Error;

fn serialise_failed() -> Error {
    Error::Internal {
        detail: "claims could not be serialised",
    }
}

/// Signs a pool's ID and access tokens and publishes the keys that verify them.
///
/// Cloning is cheap (keys are shared). Rotation takes `&mut self`; a host that rotates while serving keeps
/// the signer behind its own lock or swaps a new one in.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    id_key: Arc<SigningKey>,
    access_key: Arc<SigningKey>,
    retired: Vec<Jwk>,
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
            retired: Vec::new(),
        }
    }

    /// A signer with separate ID-token and access-token keys, as Cognito has.
    ///
    /// Fails with [`Error::InvalidParameter`] if the two keys share a kid but are different keys.
    pub fn with_keys(id_key: Arc<SigningKey>, access_key: Arc<SigningKey>) -> Result<Self, Error> {
        let signer = TokenSigner {
            id_key,
            access_key,
            retired: Vec::new(),
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

    /// Fails if `jwk`'s kid is taken by a different key among `current` and the retired keys.
    fn check_kid_free(&self, jwk: &Jwk, current: &[&Arc<SigningKey>]) -> Result<(), Error> {
        let kid = kid_of(jwk);
        let clash = current
            .iter()
            .map(|k| k.public_jwk())
            .chain(self.retired.iter())
            .any(|other| kid_of(other) == kid && other != jwk);
        if clash {
            Err(Error::InvalidParameter {
                message: format!("signing key id {kid} is already used by a different key"),
            })
        } else {
            Ok(())
        }
    }

    fn retire(&mut self, jwk: Jwk) {
        if !self.retired.iter().any(|r| kid_of(r) == kid_of(&jwk)) {
            self.retired.push(jwk);
        }
    }

    /// Makes `new` the ID-token key; the previous one is retired (still in the JWKS) unless it is
    /// still the access-token key.
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if `new`'s kid belongs to a different
    /// key already known to this signer.
    pub fn rotate_id_key(&mut self, new: Arc<SigningKey>) -> Result<(), Error> {
        self.check_kid_free(new.public_jwk(), &[&self.id_key, &self.access_key])?;
        let old = std::mem::replace(&mut self.id_key, new);
        if old.kid() != self.id_key.kid() {
            self.retire(old.public_jwk().clone());
        }
        Ok(())
    }

    /// Makes `new` the access-token key; the previous one is retired (still in the JWKS).
    ///
    /// Fails with [`Error::InvalidParameter`], changing nothing, if `new`'s kid belongs to a different
    /// key already known to this signer.
    pub fn rotate_access_key(&mut self, new: Arc<SigningKey>) -> Result<(), Error> {
        self.check_kid_free(new.public_jwk(), &[&self.id_key, &self.access_key])?;
        let old = std::mem::replace(&mut self.access_key, new);
        if old.kid() != self.access_key.kid() {
            self.retire(old.public_jwk().clone());
        }
        Ok(())
    }

    /// Publishes the public key of a signing key retired earlier (for example, listed in configuration
    /// after a restart), so that tokens it signed keep verifying.
    ///
    /// Fails with [`Error::InvalidParameter`] if `jwk` is not an RS256, ES256 or EdDSA signature key with
    /// a kid, or its kid belongs to a different key.
    pub fn add_retired_key(&mut self, jwk: Jwk) -> Result<(), Error> {
        check_jwk(&jwk)?;
        self.check_kid_free(&jwk, &[&self.id_key, &self.access_key])?;
        self.retire(jwk);
        Ok(())
    }

    /// Stops publishing a retired key: tokens it signed no longer verify. Returns whether it was there.
    /// Current keys are not affected.
    pub fn remove_retired_key(&mut self, kid: &str) -> bool {
        let before = self.retired.len();
        self.retired.retain(|r| kid_of(r) != kid);
        self.retired.len() != before
    }

    /// Signs an ID token with the ID-token key.
    ///
    /// Fails with [`Error::Internal`] only if signing itself fails.
    pub fn sign_id_token(&self, claims: &IdTokenClaims<'_>) -> Result<String, Error> {
        let mut json = Vec::with_capacity(768);
        claims
            .write_json(&mut json)
            .map_err(|_| serialise_failed())?;
        self.id_key.sign_json_payload(&json)
    }

    /// Signs an access token with the access-token key.
    ///
    /// Fails with [`Error::Internal`] only if signing itself fails.
    pub fn sign_access_token(&self, claims: &AccessTokenClaims<'_>) -> Result<String, Error> {
        let mut json = Vec::with_capacity(768);
        claims
            .write_json(&mut json)
            .map_err(|_| serialise_failed())?;
        self.access_key.sign_json_payload(&json)
    }

    /// The JWKS (R-JWT-5): the current ID key, the current access key and every retired key, each once.
    pub fn jwks(&self) -> JwkSet {
        let mut keys: Vec<Jwk> = Vec::with_capacity(2 + self.retired.len());
        for jwk in [self.id_key.public_jwk(), self.access_key.public_jwk()]
            .into_iter()
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
        JwtVerifier::new(issuer, &self.jwks())
    }
}
