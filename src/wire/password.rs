//! Salted password hashes, for hosts that authenticate users by password themselves.
//!
//! The crate does not authenticate users (SPEC 4: that is the host's job), but a host that answers
//! Cognito's password flows, such as the `cognito_server` example, has to keep passwords somewhere. This
//! module keeps only a salted PBKDF2-HMAC-SHA256 hash of each, never the password, and verifies in
//! constant time through ring's `pbkdf2::verify`. [`PasswordCheck`] and [`PasswordVerifier`] let the
//! wire-level sign-in ([`TokenIssuer::initiate_auth`](crate::TokenIssuer::initiate_auth)) ask the host
//! whether a password is right without knowing how the host stores it.
//!
//! Only the wire adapter's password flows use this module, so it sits in `wire`, at the edge; the core
//! (issuer, stores, configuration) never sees a password. The three types are also re-exported at the
//! crate root.

use std::fmt;
use std::num::NonZeroU32;

use ring::pbkdf2;

use crate::error::Error;
use crate::random::{random_array, RandomSource};

const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
static ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;

/// A salted PBKDF2-HMAC-SHA256 hash of one password.
///
/// `Debug` prints `PasswordHash([REDACTED])`; there is no `Display` and no `Serialize`, since even a hash
/// helps an offline guesser.
#[derive(Clone)]
pub struct PasswordHash {
    iterations: NonZeroU32,
    salt: [u8; SALT_LEN],
    hash: [u8; HASH_LEN],
}

impl PasswordHash {
    /// The iteration count [`new`](Self::new) uses: 600,000, OWASP's 2023 figure for
    /// PBKDF2-HMAC-SHA256.
    pub const DEFAULT_ITERATIONS: u32 = 600_000;

    /// Hashes `password` with a fresh 128-bit salt from `rng` and
    /// [`DEFAULT_ITERATIONS`](Self::DEFAULT_ITERATIONS).
    pub fn new(password: &str, rng: &dyn RandomSource) -> Result<Self, Error> {
        Self::with_iterations(password, Self::DEFAULT_ITERATIONS, rng)
    }

    /// Hashes `password` with `iterations` rounds. Fewer than the default is for tests only; 0 is an
    /// [`Error::InvalidParameter`].
    pub fn with_iterations(
        password: &str,
        iterations: u32,
        rng: &dyn RandomSource,
    ) -> Result<Self, Error> {
        let iterations = NonZeroU32::new(iterations).ok_or_else(|| Error::InvalidParameter {
            message: "PBKDF2 iteration count must be at least 1".into(),
        })?;
        let salt: [u8; SALT_LEN] = random_array(rng)?;
        let mut hash = [0u8; HASH_LEN];
        pbkdf2::derive(ALGORITHM, iterations, &salt, password.as_bytes(), &mut hash);
        Ok(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed, compared in constant time (R-SAFE-3).
    pub fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            ALGORITHM,
            self.iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

/// A host's answer to "is this the user's password?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password is right.
    Valid,
    /// The user exists and the password is wrong, or the user has no password that can sign in.
    Invalid,
    /// No user has this username.
    NoSuchUser,
}

/// Where a password sign-in asks whether a password is right.
///
/// Contract: answers without side effects visible to the issuer; `Err` is for the host's store being
/// unreachable, never for a wrong password. An implementation should take about as long for
/// [`PasswordCheck::NoSuchUser`] as for a wrong password, so that timing does not reveal which usernames
/// exist.
pub trait PasswordVerifier: Send + Sync {
    /// Checks `password` for `username`.
    fn check_password(&self, username: &str, password: &str) -> Result<PasswordCheck, Error>;
}

/// [`PasswordVerifier`], awaited (R-ENG-2): for a host whose users live in a database. The contract
/// is [`PasswordVerifier`]'s. Every synchronous verifier is also an asynchronous one.
pub trait AsyncPasswordVerifier: Send + Sync {
    /// As [`PasswordVerifier::check_password`].
    fn check_password<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> crate::future::BoxFuture<'a, Result<PasswordCheck, Error>>;
}

impl<V: PasswordVerifier + ?Sized> AsyncPasswordVerifier for V {
    fn check_password<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> crate::future::BoxFuture<'a, Result<PasswordCheck, Error>> {
        crate::future::ready(PasswordVerifier::check_password(self, username, password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    #[test]
    fn verifies_the_right_password_only() {
        let rng = SystemRandom::new();
        let h = PasswordHash::with_iterations("correct horse", 1_000, &rng).unwrap();
        assert!(h.verify("correct horse"));
        assert!(!h.verify("correct hors"));
        assert!(!h.verify("correct horse "));
        assert!(!h.verify(""));
    }

    #[test]
    fn salts_differ_so_equal_passwords_hash_differently() {
        let rng = SystemRandom::new();
        let a = PasswordHash::with_iterations("same", 1_000, &rng).unwrap();
        let b = PasswordHash::with_iterations("same", 1_000, &rng).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
        assert!(a.verify("same") && b.verify("same"));
    }

    #[test]
    fn default_iterations_are_owasp_2023() {
        let rng = SystemRandom::new();
        let h = PasswordHash::new("pw", &rng).unwrap();
        assert_eq!(h.iterations.get(), 600_000);
        assert!(h.verify("pw"));
    }

    #[test]
    fn zero_iterations_are_refused() {
        let e = PasswordHash::with_iterations("pw", 0, &SystemRandom::new()).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }

    #[test]
    fn r_safe_2_debug_is_redacted() {
        let h = PasswordHash::with_iterations("hunter2", 1, &SystemRandom::new()).unwrap();
        assert_eq!(format!("{h:?}"), "PasswordHash([REDACTED])");
    }
}
